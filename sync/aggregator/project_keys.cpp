// keys.ck: the project's keys, encrypted under the admin passphrase.
//
// Format 1:
//   "CKPK", u32 format (1),
//   bytes  encodeVaultRecord(vault)       -- the data key and the Ed25519 template signing key
//   bytes  ingest public key (X25519, 32)
//   bytes  ingest secret key, sealPayload(dataKey, secret, kIngestContext)
//   16 bytes BLAKE2b checksum of everything before it
// (bytes = u32 little-endian length + the bytes.) The checksum lets a damaged file be told
// from a wrong passphrase; the public halves are readable without the passphrase.
#include "sync/aggregator/project_keys.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/crypto/envelope.h"
#include "core/crypto/sealed_box.h"
#include "core/crypto/wire_format.h"

namespace fs = std::filesystem;

namespace ck::agg {

namespace {

constexpr char kMagic[4] = {'C', 'K', 'P', 'K'};
constexpr uint32_t kFormat = 1;
constexpr size_t kChecksumBytes = 16;
constexpr size_t kMaxFileBytes = 64 * 1024;
constexpr const char* kKeysFileName = "keys.ck";
// Binds the sealed ingest secret to what it is: it cannot be swapped for another payload
// sealed under the same data key.
constexpr const char* kIngestContext = "clusterkit/project-keys/ingest-secret/v1";

struct KeysFile {
    VaultRecord vault;
    std::vector<uint8_t> ingestPublicKey;
    std::vector<uint8_t> sealedIngestSecret;
};

fs::path keysPath(const fs::path& folder) { return folder / kKeysFileName; }

std::vector<uint8_t> checksum(const uint8_t* data, size_t size) {
    std::vector<uint8_t> out(kChecksumBytes);
    crypto_generichash(out.data(), out.size(), data, size, nullptr, 0);
    return out;
}

std::vector<uint8_t> encodeKeysFile(const KeysFile& f) {
    wire::Writer w;
    w.raw(kMagic, 4);
    w.u32(kFormat);
    w.bytes(encodeVaultRecord(f.vault));
    w.bytes(f.ingestPublicKey);
    w.bytes(f.sealedIngestSecret);
    std::vector<uint8_t> sum = checksum(w.out().data(), w.out().size());
    w.raw(sum.data(), sum.size());
    return std::move(w.out());
}

// nullopt with `why` set for anything but a well-formed format-1 file.
std::optional<KeysFile> decodeKeysFile(const std::vector<uint8_t>& bytes, std::string& why) {
    if (bytes.size() < 8 + kChecksumBytes || std::memcmp(bytes.data(), kMagic, 4) != 0) {
        why = "it is not a ClusterKit keys file";
        return std::nullopt;
    }
    size_t body = bytes.size() - kChecksumBytes;
    if (sodium_memcmp(checksum(bytes.data(), body).data(), bytes.data() + body, kChecksumBytes) != 0) {
        why = "its checksum does not match (the file is damaged)";
        return std::nullopt;
    }
    wire::Reader r(bytes.data(), body);
    char magic[4];
    uint32_t format = 0;
    r.raw(magic, 4);
    r.u32(format);
    if (r.ok() && format != kFormat) {
        why = "it has format " + std::to_string(format) + ", this aggregator reads format 1 (a newer version made it?)";
        return std::nullopt;
    }
    std::vector<uint8_t> vaultBytes;
    KeysFile f;
    r.bytes(vaultBytes, kMaxFileBytes);
    r.bytes(f.ingestPublicKey, 32);
    r.bytes(f.sealedIngestSecret, 32 + 40);
    auto vault = decodeVaultRecord(vaultBytes);
    if (!r.ok() || r.remaining() != 0 || !vault || f.ingestPublicKey.size() != 32 ||
        f.sealedIngestSecret.size() != 32 + 40) {
        why = "its contents are malformed (the file is damaged)";
        return std::nullopt;
    }
    f.vault = std::move(*vault);
    return f;
}

std::variant<KeysFile, KeysFailure> readKeysFile(const fs::path& folder) {
    fs::path path = keysPath(folder);
    std::error_code ec;
    if (!fs::exists(path, ec))
        return KeysFailure{path.string() + " does not exist: is this an aggregator data folder? (`ck-aggregator init` makes one)"};
    auto size = fs::file_size(path, ec);
    if (ec) return KeysFailure{path.string() + ": cannot read: " + ec.message()};
    if (size > kMaxFileBytes) return KeysFailure{path.string() + " is damaged: it is far larger than a keys file"};
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) return KeysFailure{path.string() + ": cannot read the file"};
    std::string why;
    auto f = decodeKeysFile(bytes, why);
    if (!f) return KeysFailure{path.string() + " is damaged: " + why + ". Restore it from the backup made at init."};
    return std::move(*f);
}

// Writes `bytes` to `path` (mode 0600) only if nothing is there: the keys of a running
// project must never be replaced by accident.
std::optional<std::string> writeNewFile(const fs::path& path, const std::vector<uint8_t>& bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return path.string() + " already exists: refusing to overwrite the project's keys";
        return path.string() + ": cannot create: " + std::strerror(errno);
    }
    size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            std::string err = std::strerror(errno);
            ::close(fd);
            ::unlink(path.c_str());
            return path.string() + ": cannot write: " + err;
        }
        done += size_t(n);
    }
    bool synced = ::fsync(fd) == 0;
    bool closed = ::close(fd) == 0;
    if (!synced || !closed) {
        ::unlink(path.c_str());
        return path.string() + ": cannot write the keys to disk";
    }
    return std::nullopt;
}

}  // namespace

std::variant<ProjectKeys, KeysFailure> createProjectKeys(const fs::path& folder, std::string_view passphrase,
                                                         std::string_view confirmation, KdfParams kdf) {
    ensureSodium();
    std::error_code ec;
    if (fs::exists(keysPath(folder), ec))
        return KeysFailure{keysPath(folder).string() + " already exists: refusing to overwrite the project's keys"};
    auto vault = createVault(passphrase, confirmation, kdf);
    if (auto* f = std::get_if<VaultFailure>(&vault)) return KeysFailure{f->message};
    NewVault& nv = std::get<NewVault>(vault);

    BoxKeyPair ingest = newBoxKeyPair();
    KeysFile file;
    file.vault = nv.record;
    file.ingestPublicKey = ingest.publicKey;
    file.sealedIngestSecret =
        sealPayload(nv.keys.dataKey,
                    std::string_view(reinterpret_cast<const char*>(ingest.secretKey.data()), ingest.secretKey.size()),
                    kIngestContext);
    if (auto err = writeNewFile(keysPath(folder), encodeKeysFile(file))) return KeysFailure{*err};

    ProjectKeys keys;
    keys.ingestPublicKey = std::move(ingest.publicKey);
    keys.ingestSecretKey = std::move(ingest.secretKey);
    keys.signingPublicKey = std::move(nv.keys.signingPublicKey);
    keys.signingSecretKey = std::move(nv.keys.signingSecretKey);
    return keys;
}

std::variant<ProjectKeys, KeysFailure> unlockProjectKeys(const fs::path& folder, std::string_view passphrase) {
    ensureSodium();
    auto read = readKeysFile(folder);
    if (auto* f = std::get_if<KeysFailure>(&read)) return std::move(*f);
    KeysFile& file = std::get<KeysFile>(read);

    auto unlocked = unlockVault(file.vault, passphrase);
    if (auto* f = std::get_if<VaultFailure>(&unlocked)) {
        if (f->error == VaultError::WrongPassphrase)
            return KeysFailure{"wrong admin passphrase for " + keysPath(folder).string()};
        return KeysFailure{keysPath(folder).string() + ": " + f->message};
    }
    UnlockedVault& vault = std::get<UnlockedVault>(unlocked);

    auto secret = openPayload(vault.dataKey, file.sealedIngestSecret, kIngestContext);
    if (!secret || secret->size() != crypto_box_SECRETKEYBYTES) {
        if (secret) sodium_memzero(secret->data(), secret->size());
        // The passphrase opened the vault, so the sealed ingest key itself is at fault.
        return KeysFailure{keysPath(folder).string() + " is damaged: the ingest key does not open. Restore it from the backup made at init."};
    }
    ProjectKeys keys;
    keys.ingestSecretKey = SecretBytes(crypto_box_SECRETKEYBYTES);
    std::memcpy(keys.ingestSecretKey.data(), secret->data(), secret->size());
    sodium_memzero(secret->data(), secret->size());

    std::vector<uint8_t> derived(crypto_box_PUBLICKEYBYTES);
    if (crypto_scalarmult_base(derived.data(), keys.ingestSecretKey.data()) != 0 ||
        sodium_memcmp(derived.data(), file.ingestPublicKey.data(), derived.size()) != 0)
        return KeysFailure{keysPath(folder).string() + " is damaged: the ingest public key does not match its secret key"};

    keys.ingestPublicKey = std::move(file.ingestPublicKey);
    keys.signingPublicKey = std::move(vault.signingPublicKey);
    keys.signingSecretKey = std::move(vault.signingSecretKey);
    return keys;
}

std::variant<PublicKeys, KeysFailure> readPublicKeys(const fs::path& folder) {
    auto read = readKeysFile(folder);
    if (auto* f = std::get_if<KeysFailure>(&read)) return std::move(*f);
    KeysFile& file = std::get<KeysFile>(read);
    return PublicKeys{std::move(file.ingestPublicKey), std::move(file.vault.signingPublicKey)};
}

}  // namespace ck::agg
