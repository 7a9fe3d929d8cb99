#include "core/crypto/vault.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

#include <sodium.h>

#include "core/crypto/wire_format.h"
#include "core/messages/engine_messages.h"

namespace ck {

namespace {

constexpr uint32_t kVaultFormat = 1;
constexpr char kVaultMagic[4] = {'C', 'K', 'V', 'R'};
constexpr size_t kChecksumBytes = 16;
constexpr size_t kKeyBytes = 32;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kWrappedDataKeyBytes = kNonceBytes + kKeyBytes + kTagBytes;
constexpr size_t kWrappedSigningKeyBytes = kNonceBytes + crypto_sign_SECRETKEYBYTES + kTagBytes;

constexpr std::string_view kDataKeyContext = "clusterkit/vault/data-key";
constexpr std::string_view kSigningKeyContext = "clusterkit/vault/signing-key";

constexpr const char* kWrongPassphraseMessage = "The passphrase is not right. Nothing was changed.";
constexpr const char* kDifferMessage = "The two passphrases are not the same. Please type the new passphrase again.";

// The passwords guessers try first (from published counts of leaked passwords), lower case.
// Short ones are refused by the length rule anyway; they are here for the "common word plus
// digits" rule ("Password@123", "India@2024").
constexpr std::array<std::string_view, 56> kCommonPasswords = {
    "123456",     "password",   "123456789",  "12345678",  "12345",      "qwerty",    "1234567",
    "111111",     "1234567890", "123123",     "abc123",    "000000",     "iloveyou",  "password1",
    "1q2w3e4r",   "qwerty123",  "qwertyuiop", "654321",    "666666",     "987654321", "123321",
    "1qaz2wsx",   "7777777",    "121212",     "sunshine",  "princess",   "football",  "monkey",
    "dragon",     "letmein",    "welcome",    "admin",     "login",      "master",    "shadow",
    "baseball",   "superman",   "trustno1",   "passw0rd",  "zaq12wsx",   "asdfghjkl", "qazwsxedc",
    "1q2w3e4r5t", "11111111",   "123qwe",     "zxcvbnm",   "0987654321", "asdfgh",    "password123",
    "india",      "krishna",    "saibaba",    "omsairam",  "changeme",   "p@ssw0rd",  "clusterkit",
};

bool isCommonPassword(std::string_view lowered) {
    return std::find(kCommonPasswords.begin(), kCommonPasswords.end(), lowered) != kCommonPasswords.end();
}

// Decodes UTF-8 leniently: a byte that does not start a valid sequence counts as one character.
std::vector<uint32_t> codePoints(std::string_view text) {
    std::vector<uint32_t> out;
    size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<uint8_t>(text[i]);
        size_t len = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xe ? 3 : (b >> 3) == 0x1e ? 4 : 0;
        if (len == 0 || i + len > text.size()) {
            out.push_back(b);
            ++i;
            continue;
        }
        uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1f) : len == 3 ? (b & 0x0f) : (b & 0x07);
        bool valid = true;
        for (size_t k = 1; k < len; ++k) {
            const auto c = static_cast<uint8_t>(text[i + k]);
            if ((c >> 6) != 0x2) valid = false;
            cp = (cp << 6) | (c & 0x3f);
        }
        if (!valid) {
            out.push_back(b);
            ++i;
            continue;
        }
        out.push_back(cp);
        i += len;
    }
    return out;
}

bool isAsciiLetter(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(uint32_t c) { return c >= '0' && c <= '9'; }
// Non-ASCII text is overwhelmingly letters (and their combining signs) in our languages.
bool isLetter(uint32_t c) { return isAsciiLetter(c) || c >= 0x80; }

// A lowered copy of the passphrase, wiped when it goes.
class LoweredPassphrase {
public:
    explicit LoweredPassphrase(std::string_view text) : m_text(text) {
        for (char& c : m_text)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    ~LoweredPassphrase() { sodium_memzero(m_text.data(), m_text.size()); }
    LoweredPassphrase(const LoweredPassphrase&) = delete;
    LoweredPassphrase& operator=(const LoweredPassphrase&) = delete;
    std::string_view view() const { return m_text; }

private:
    std::string m_text;
};

bool kdfInBounds(const KdfParams& kdf) {
    return kdf.opsLimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN && kdf.opsLimit <= kMaxKdfOpsLimit &&
           kdf.memLimitBytes >= crypto_pwhash_argon2id_MEMLIMIT_MIN && kdf.memLimitBytes <= kMaxKdfMemLimitBytes;
}

// Why a record cannot be a vault of this version, or nullptr.
const char* shapeProblem(const VaultRecord& r) {
    if (r.format != kVaultFormat) return "it was written in a vault format this version does not know";
    if (r.salt.size() != crypto_pwhash_SALTBYTES) return "its salt has the wrong length";
    if (!kdfInBounds(r.kdf)) return "its key-derivation cost is out of range";
    if (r.wrappedDataKey.size() != kWrappedDataKeyBytes) return "its wrapped data key has the wrong length";
    if (r.wrappedSigningKey.size() != kWrappedSigningKeyBytes) return "its wrapped signing key has the wrong length";
    if (r.signingPublicKey.size() != crypto_sign_PUBLICKEYBYTES) return "its device public key has the wrong length";
    return nullptr;
}

VaultFailure corrupt(const char* why) {
    return {VaultError::Corrupt,
            std::string("The device vault is damaged and cannot be opened: ") + why + ". Nothing was changed."};
}

VaultFailure outOfMemory(const KdfParams& kdf) {
    return {VaultError::OutOfMemory, "The device did not have the " + std::to_string(kdf.memLimitBytes >> 20) +
                                         " MiB of free memory needed to check the passphrase. Close other apps and "
                                         "try again. Nothing was changed."};
}

// Argon2id -> 32-byte key-encryption key. nullopt only when the memory cannot be had
// (the parameters were checked before).
std::optional<SecretBytes> deriveKek(std::string_view passphrase, const std::vector<uint8_t>& salt,
                                     const KdfParams& kdf) {
    SecretBytes kek(kKeyBytes);
    if (crypto_pwhash(kek.data(), kek.size(), passphrase.data(), passphrase.size(), salt.data(), kdf.opsLimit,
                      static_cast<size_t>(kdf.memLimitBytes), crypto_pwhash_ALG_ARGON2ID13) != 0) {
        return std::nullopt;
    }
    return kek;
}

std::vector<uint8_t> wrapKey(const SecretBytes& kek, const SecretBytes& key, std::string_view context) {
    std::vector<uint8_t> out(kNonceBytes + key.size() + kTagBytes);
    randombytes_buf(out.data(), kNonceBytes);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kNonceBytes, &written, key.data(), key.size(),
                                               reinterpret_cast<const uint8_t*>(context.data()), context.size(),
                                               nullptr, out.data(), kek.data());
    return out;
}

// Opens a wrapped key straight into guarded memory. The sizes were checked by shapeProblem.
bool unwrapKey(const SecretBytes& kek, const std::vector<uint8_t>& wrapped, std::string_view context,
               SecretBytes& out) {
    return crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), nullptr, nullptr, wrapped.data() + kNonceBytes,
                                                      wrapped.size() - kNonceBytes,
                                                      reinterpret_cast<const uint8_t*>(context.data()),
                                                      context.size(), wrapped.data(), kek.data()) == 0;
}

// Wraps both keys under a fresh salt and a KEK derived from `passphrase`.
std::variant<VaultRecord, VaultFailure> wrapUnder(std::string_view passphrase, const KdfParams& kdf,
                                                  const UnlockedVault& keys) {
    VaultRecord record;
    record.format = kVaultFormat;
    record.kdf = kdf;
    record.salt.resize(crypto_pwhash_SALTBYTES);
    randombytes_buf(record.salt.data(), record.salt.size());
    auto kek = deriveKek(passphrase, record.salt, kdf);
    if (!kek) return outOfMemory(kdf);
    record.wrappedDataKey = wrapKey(*kek, keys.dataKey, kDataKeyContext);
    record.wrappedSigningKey = wrapKey(*kek, keys.signingSecretKey, kSigningKeyContext);
    record.signingPublicKey = keys.signingPublicKey;
    return record;
}

std::optional<VaultFailure> checkNewPassphrase(std::string_view passphrase, std::string_view confirmation) {
    if (auto why = passphraseProblem(passphrase))
        return VaultFailure{VaultError::WeakPassphrase, passphraseProblemText(*why, "en"), why};
    if (passphrase.size() != confirmation.size() ||
        sodium_memcmp(passphrase.data(), confirmation.data(), passphrase.size()) != 0) {
        return VaultFailure{VaultError::PassphrasesDiffer, kDifferMessage};
    }
    return std::nullopt;
}

}  // namespace

std::vector<uint8_t> encodeVaultRecord(const VaultRecord& record) {
    wire::Writer w;
    w.raw(kVaultMagic, sizeof kVaultMagic);
    w.u32(record.format);
    w.bytes(record.salt);
    w.u64(record.kdf.opsLimit);
    w.u64(record.kdf.memLimitBytes);
    w.bytes(record.wrappedDataKey);
    w.bytes(record.wrappedSigningKey);
    w.bytes(record.signingPublicKey);
    ensureSodium();
    uint8_t checksum[kChecksumBytes];
    crypto_generichash(checksum, sizeof checksum, w.out().data(), w.out().size(), nullptr, 0);
    w.raw(checksum, sizeof checksum);
    return std::move(w.out());
}

std::optional<VaultRecord> decodeVaultRecord(const std::vector<uint8_t>& bytes) {
    if (bytes.size() < sizeof kVaultMagic + kChecksumBytes) return std::nullopt;
    if (std::memcmp(bytes.data(), kVaultMagic, sizeof kVaultMagic) != 0) return std::nullopt;
    const size_t bodySize = bytes.size() - kChecksumBytes;
    ensureSodium();
    uint8_t checksum[kChecksumBytes];
    crypto_generichash(checksum, sizeof checksum, bytes.data(), bodySize, nullptr, 0);
    if (std::memcmp(checksum, bytes.data() + bodySize, kChecksumBytes) != 0) return std::nullopt;

    wire::Reader r(bytes.data() + sizeof kVaultMagic, bodySize - sizeof kVaultMagic);
    VaultRecord record;
    r.u32(record.format);
    r.bytes(record.salt, crypto_pwhash_SALTBYTES);
    r.u64(record.kdf.opsLimit);
    r.u64(record.kdf.memLimitBytes);
    r.bytes(record.wrappedDataKey, kWrappedDataKeyBytes);
    r.bytes(record.wrappedSigningKey, kWrappedSigningKeyBytes);
    r.bytes(record.signingPublicKey, crypto_sign_PUBLICKEYBYTES);
    if (!r.ok() || r.remaining() != 0) return std::nullopt;
    if (shapeProblem(record) != nullptr) return std::nullopt;
    return record;
}

std::optional<PassphraseProblem> passphraseProblem(std::string_view passphrase) {
    const std::vector<uint32_t> chars = codePoints(passphrase);
    if (chars.size() < kMinPassphraseCharacters) return PassphraseProblem::TooShort;
    if (std::all_of(chars.begin(), chars.end(), [&](uint32_t c) { return c == chars.front(); }))
        return PassphraseProblem::OneCharacterRepeated;
    const LoweredPassphrase lowered(passphrase);
    if (isCommonPassword(lowered.view())) return PassphraseProblem::CommonPassword;
    std::string_view stem = lowered.view();
    while (!stem.empty() && !isAsciiLetter(static_cast<uint8_t>(stem.back())) &&
           static_cast<uint8_t>(stem.back()) < 0x80) {
        stem.remove_suffix(1);
    }
    if (stem.size() != lowered.view().size() && !stem.empty() && isCommonPassword(stem))
        return PassphraseProblem::CommonPasswordWithSuffix;
    const bool letters = std::any_of(chars.begin(), chars.end(), isLetter);
    const bool digits = std::any_of(chars.begin(), chars.end(), isDigit);
    const bool others = std::any_of(chars.begin(), chars.end(), [](uint32_t c) { return !isLetter(c) && !isDigit(c); });
    if (int(letters) + int(digits) + int(others) < 2 && chars.size() < kOneKindPassphraseCharacters)
        return PassphraseProblem::OneKindOfCharacter;
    return std::nullopt;
}

std::string passphraseProblemText(PassphraseProblem problem, std::string_view language) {
    switch (problem) {
        case PassphraseProblem::TooShort:
            return engineText(EngineText::PassphraseTooShort, language, {std::to_string(kMinPassphraseCharacters)});
        case PassphraseProblem::OneCharacterRepeated: return engineText(EngineText::PassphraseRepeated, language);
        case PassphraseProblem::CommonPassword: return engineText(EngineText::PassphraseCommon, language);
        case PassphraseProblem::CommonPasswordWithSuffix: return engineText(EngineText::PassphraseCommonWithSuffix, language);
        case PassphraseProblem::OneKindOfCharacter:
            return engineText(EngineText::PassphraseOneKind, language, {std::to_string(kOneKindPassphraseCharacters)});
    }
    assert(false && "passphraseProblemText: a PassphraseProblem without words");
    return {};
}

std::optional<std::string> checkPassphraseStrength(std::string_view passphrase) {
    if (auto problem = passphraseProblem(passphrase)) return passphraseProblemText(*problem, "en");
    return std::nullopt;
}

std::variant<NewVault, VaultFailure> createVault(std::string_view passphrase, std::string_view confirmation,
                                                 KdfParams kdf) {
    assert(kdfInBounds(kdf) && "createVault: KdfParams outside [libsodium minimum, kMaxKdf*]");
    if (auto failure = checkNewPassphrase(passphrase, confirmation)) return *failure;
    ensureSodium();

    UnlockedVault keys;
    keys.dataKey = SecretBytes(kKeyBytes);
    randombytes_buf(keys.dataKey.data(), keys.dataKey.size());
    keys.signingSecretKey = SecretBytes(crypto_sign_SECRETKEYBYTES);
    keys.signingPublicKey.resize(crypto_sign_PUBLICKEYBYTES);
    crypto_sign_keypair(keys.signingPublicKey.data(), keys.signingSecretKey.data());

    auto wrapped = wrapUnder(passphrase, kdf, keys);
    if (auto* failure = std::get_if<VaultFailure>(&wrapped)) return std::move(*failure);
    return NewVault{std::move(std::get<VaultRecord>(wrapped)), std::move(keys)};
}

std::variant<UnlockedVault, VaultFailure> unlockVault(const VaultRecord& record, std::string_view passphrase) {
    if (const char* why = shapeProblem(record)) return corrupt(why);
    ensureSodium();
    auto kek = deriveKek(passphrase, record.salt, record.kdf);
    if (!kek) return outOfMemory(record.kdf);

    UnlockedVault keys;
    keys.dataKey = SecretBytes(kKeyBytes);
    // An authentication failure here cannot tell a wrong passphrase from a damaged wrapped key;
    // the checksum of the stored encoding is what catches damage before we get here.
    if (!unwrapKey(*kek, record.wrappedDataKey, kDataKeyContext, keys.dataKey)) {
        return VaultFailure{VaultError::WrongPassphrase, kWrongPassphraseMessage};
    }
    // The passphrase is right (the data key opened), so a failure from here on is damage.
    keys.signingSecretKey = SecretBytes(crypto_sign_SECRETKEYBYTES);
    if (!unwrapKey(*kek, record.wrappedSigningKey, kSigningKeyContext, keys.signingSecretKey)) {
        return corrupt("its signing key does not open although the passphrase is right");
    }
    keys.signingPublicKey.resize(crypto_sign_PUBLICKEYBYTES);
    crypto_sign_ed25519_sk_to_pk(keys.signingPublicKey.data(), keys.signingSecretKey.data());
    if (keys.signingPublicKey != record.signingPublicKey) {
        return corrupt("its signing key does not belong to its device public key");
    }
    return keys;
}

std::variant<VaultRecord, VaultFailure> changePassphrase(const VaultRecord& record, std::string_view oldPassphrase,
                                                         std::string_view newPassphrase,
                                                         std::string_view confirmation) {
    // The cheap checks first, so a refused new passphrase costs no Argon2id run.
    if (auto failure = checkNewPassphrase(newPassphrase, confirmation)) return *failure;
    auto unlocked = unlockVault(record, oldPassphrase);
    if (auto* failure = std::get_if<VaultFailure>(&unlocked)) return std::move(*failure);
    return wrapUnder(newPassphrase, record.kdf, std::get<UnlockedVault>(unlocked));
}

}  // namespace ck
