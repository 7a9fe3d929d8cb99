// The vault's key derivation, built twice: natively (Debian's libsodium, what ck-field and the
// desktop app use) and by the web build (libsodium compiled to WebAssembly by
// platforms/web/build-deps), run under node. A vault made on one must open on
// the other, so Argon2id must give the same bytes on both (tests/platforms/web/same_argon2id.sh).
//
//   argon2id_cases                      one line per case: cost, passphrase, salt -> key (hex)
//   argon2id_cases --time OPS MIB [N]   N Argon2id runs at that cost, then "median-ms <ms>"
//   argon2id_cases make-vault PASS      a new vault at the app's default cost: its record (hex)
//                                       and a digest of its data key
//   argon2id_cases open-vault HEX PASS  unlocks that record: the digest of its data key
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <variant>
#include <vector>

#include <sodium.h>
#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

#include "core/crypto/secret_bytes.h"
#include "core/crypto/vault.h"

namespace {

std::string hex(const uint8_t* p, size_t n) {
    std::string out(n * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), p, n);
    out.pop_back();
    return out;
}

std::vector<uint8_t> unhex(const std::string& text) {
    std::vector<uint8_t> out(text.size() / 2);
    size_t len = 0;
    if (sodium_hex2bin(out.data(), out.size(), text.data(), text.size(), nullptr, &len, nullptr) != 0) out.clear();
    out.resize(len);
    return out;
}

std::vector<uint8_t> argon2id(const std::string& pass, const std::vector<uint8_t>& salt, uint64_t ops, size_t mem,
                              size_t outLen = 32) {
    std::vector<uint8_t> key(outLen);
    if (crypto_pwhash(key.data(), key.size(), pass.data(), pass.size(), salt.data(), ops, mem,
                      crypto_pwhash_ALG_ARGON2ID13) != 0) {
        std::fprintf(stderr, "argon2id: out of memory at %zu bytes\n", mem);
        std::exit(1);
    }
    return key;
}

std::vector<uint8_t> saltOf(int seed) {
    std::vector<uint8_t> salt(crypto_pwhash_SALTBYTES);
    for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(seed * 37 + i * 11);
    return salt;
}

int cases() {
    struct Case {
        uint64_t ops;
        uint64_t mem;
        const char* pass;
        int salt;
        size_t outLen;
    };
    const ck::KdfParams app{}, earlier = ck::kEarlierDefaultKdf, fast = ck::kFastKdf;
    const Case all[] = {
        {fast.opsLimit, fast.memLimitBytes, "correct horse battery staple", 1, 32},
        {app.opsLimit, app.memLimitBytes, "correct horse battery staple", 2, 32},
        {earlier.opsLimit, earlier.memLimitBytes, "correct horse battery staple", 3, 32},
        // A Devanagari passphrase (UTF-8 bytes), an odd memory size (libsodium rounds to KiB).
        {2, 9 * 1024 * 1024 + 1536, "\xe0\xa4\xae\xe0\xa5\x87\xe0\xa4\xb0\xe0\xa4\xbe \xe0\xa4\x97\xe0\xa4\xbe\xe0\xa4\x81\xe0\xa4\xb5 2026", 4, 32},
        {1, 8 * 1024 * 1024, "", 5, 64},
        {4, 16 * 1024 * 1024, "Field officer passphrase!", 6, 16},
    };
    for (const Case& c : all) {
        const auto salt = saltOf(c.salt);
        const auto key = argon2id(c.pass, salt, c.ops, static_cast<size_t>(c.mem), c.outLen);
        std::printf("argon2id ops=%llu mem=%llu pass=%s salt=%s -> %s\n", static_cast<unsigned long long>(c.ops),
                    static_cast<unsigned long long>(c.mem), hex(reinterpret_cast<const uint8_t*>(c.pass), std::strlen(c.pass)).c_str(),
                    hex(salt.data(), salt.size()).c_str(), hex(key.data(), key.size()).c_str());
    }
    return 0;
}

// The process's CPU time in ms: on a shared machine the wall time mostly says how busy it is.
// In WebAssembly clock() is wall time, so under node its process.cpuUsage() (all its threads);
// in a browser there is none (-1).
double cpuMs() {
#ifdef __EMSCRIPTEN__
    return EM_ASM_DOUBLE({
        if (typeof process === "undefined" || !process.cpuUsage) return -1;
        var u = process.cpuUsage();
        return (u.user + u.system) / 1000;
    });
#else
    return 1000.0 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
#endif
}

int timeRuns(uint64_t ops, size_t mib, int n) {
    std::vector<double> ms, cpu;
    const auto salt = saltOf(7);
    for (int i = 0; i < n; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = cpuMs();
        argon2id("timing passphrase 2026", salt, ops, mib * 1024 * 1024);
        cpu.push_back(c0 < 0 ? -1 : cpuMs() - c0);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        std::printf("run %d: %.0f ms\n", i + 1, ms.back());
    }
    std::sort(ms.begin(), ms.end());
    std::sort(cpu.begin(), cpu.end());
    std::printf("median-ms %.0f", ms[ms.size() / 2]);
    if (cpu[0] >= 0) std::printf(" cpu-ms %.0f", cpu[cpu.size() / 2]);
    std::printf(" (argon2id %llu passes x %zu MiB, %d runs)\n", static_cast<unsigned long long>(ops), mib, n);
    return 0;
}

std::string dataKeyDigest(const ck::UnlockedVault& keys) {
    uint8_t d[16];
    crypto_generichash(d, sizeof d, keys.dataKey.data(), keys.dataKey.size(), nullptr, 0);
    return hex(d, sizeof d) + " signer " + hex(keys.signingPublicKey.data(), keys.signingPublicKey.size());
}

}  // namespace

int main(int argc, char** argv) {
    ck::ensureSodium();
    const std::string mode = argc > 1 ? argv[1] : "";
    if (argc == 1) return cases();
    if (mode == "--time" && (argc == 4 || argc == 5))
        return timeRuns(std::strtoull(argv[2], nullptr, 10), std::strtoull(argv[3], nullptr, 10),
                        argc == 5 ? std::atoi(argv[4]) : 3);
    if (mode == "make-vault" && argc == 3) {
        auto made = ck::createVault(argv[2], argv[2]);
        if (auto* f = std::get_if<ck::VaultFailure>(&made)) {
            std::fprintf(stderr, "make-vault: %s\n", f->message.c_str());
            return 1;
        }
        auto& v = std::get<ck::NewVault>(made);
        const auto bytes = ck::encodeVaultRecord(v.record);
        std::printf("%s\n%s\n", hex(bytes.data(), bytes.size()).c_str(), dataKeyDigest(v.keys).c_str());
        return 0;
    }
    if (mode == "open-vault" && argc == 4) {
        auto record = ck::decodeVaultRecord(unhex(argv[2]));
        if (!record) {
            std::fprintf(stderr, "open-vault: not a vault record\n");
            return 1;
        }
        auto opened = ck::unlockVault(*record, argv[3]);
        if (auto* f = std::get_if<ck::VaultFailure>(&opened)) {
            std::printf("refused: %s\n", f->message.c_str());
            return 2;
        }
        std::printf("%s\n", dataKeyDigest(std::get<ck::UnlockedVault>(opened)).c_str());
        return 0;
    }
    std::fprintf(stderr, "usage: argon2id_cases [--time OPS MIB [N] | make-vault PASS | open-vault HEX PASS]\n");
    return 2;
}
