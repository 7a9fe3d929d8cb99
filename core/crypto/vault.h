#pragma once
// The device vault: the officer's passphrase -> Argon2id -> key-encryption key (KEK), which
// wraps a random data key and the device's Ed25519 signing key. Only the wrapped forms are
// ever stored; the unlocked keys live in SecretBytes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/crypto/secret_bytes.h"

namespace ck {

// Argon2id cost. The defaults are meant for a low-end laptop or tablet: 24 MiB and 8 passes.
// The field app's whole peak memory, unlock included, must stay under 150 MB, and with
// software GL it holds about 118 MB before unlocking: 64 MiB (the default until 2026-12) took
// it to 181 MB. So the memory is cut and the passes raised: 24 MiB x 8 passes is the same work
// as 64 MiB x 3 (192 MiB-passes, about 0.12 s on the 2-core development machine; an estimated
// 0.5-1 s on a slow tablet, not measured), above OWASP's Argon2id minimums (19 MiB with 2
// passes, or 46 MiB with 1). What it gives up: a guessing attacker needs 24 MiB of fast memory
// per guess in flight rather than 64. Tests use kFastKdf. Stored with the salt, so a vault
// opens with the cost it was made with (vaults made with 64 MiB x 3 still open as they are).
struct KdfParams {
    uint64_t opsLimit = 8;
    uint64_t memLimitBytes = 24ull * 1024 * 1024;
    bool operator==(const KdfParams&) const = default;
};
// The default until 2026-12: existing officers' vaults carry it (and keep it through a change
// of passphrase).
inline constexpr KdfParams kEarlierDefaultKdf{3, 64ull * 1024 * 1024};
inline constexpr KdfParams kFastKdf{1, 8ull * 1024 * 1024};  // tests only
// The largest cost a stored vault record may ask for: a damaged or hostile record must not
// make unlocking run for an hour or ask for more memory than a tablet has. A record beyond
// these (or below libsodium's minimum) is Corrupt; createVault asserts on them.
inline constexpr uint64_t kMaxKdfOpsLimit = 16;
inline constexpr uint64_t kMaxKdfMemLimitBytes = 1024ull * 1024 * 1024;

// What is stored (in clear) about a vault: salt, KDF cost, and the keys wrapped under the KEK
// with XChaCha20-Poly1305 (nonce || ciphertext || tag). Contains no secret in clear. The
// associated data of each wrapped key names what it is ("clusterkit/vault/data-key",
// "clusterkit/vault/signing-key"), so the two blobs cannot stand in for each other.
struct VaultRecord {
    uint32_t format = 1;
    std::vector<uint8_t> salt;
    KdfParams kdf;
    std::vector<uint8_t> wrappedDataKey;
    std::vector<uint8_t> wrappedSigningKey;
    std::vector<uint8_t> signingPublicKey;  // Ed25519, 32 bytes: the device identity
    bool operator==(const VaultRecord&) const = default;
};
// Format 1: "CKVR", u32 format, then salt, KDF cost and the three byte fields (each with a
// u32 length), then a 16-byte BLAKE2b checksum of all that. The checksum lets a damaged
// record be told from a wrong passphrase. decode returns nullopt for anything that is not a
// well-formed format-1 record of the exact sizes (never throws, never trusts a length).
std::vector<uint8_t> encodeVaultRecord(const VaultRecord& record);
std::optional<VaultRecord> decodeVaultRecord(const std::vector<uint8_t>& bytes);

// The keys of an unlocked vault.
struct UnlockedVault {
    SecretBytes dataKey;             // 32 bytes, XChaCha20-Poly1305 key for every stored payload
    SecretBytes signingSecretKey;    // 64 bytes, Ed25519
    std::vector<uint8_t> signingPublicKey;
};

enum class VaultError : uint8_t {
    PassphrasesDiffer,  // the two entries of a new passphrase do not match
    WeakPassphrase,     // refused by checkPassphraseStrength (the message says why)
    WrongPassphrase,    // the KEK does not open the wrapped key
    Corrupt,            // the vault record is damaged (not a wrong passphrase)
    OutOfMemory,        // Argon2id could not get its memory
};
// Why a passphrase is too weak, as a code: the app words it in the officer's language
// (passphraseProblemText), so no English sentence travels from here to a screen.
enum class PassphraseProblem : uint8_t {
    TooShort,                  // fewer than kMinPassphraseCharacters
    OneCharacterRepeated,      // "zzzzzzzzzzzz"
    CommonPassword,            // on the embedded list of the most common passwords
    CommonPasswordWithSuffix,  // one of them with digits or symbols added ("Password@123")
    OneKindOfCharacter,        // only letters, or only digits, under kOneKindPassphraseCharacters
};
inline constexpr size_t kMinPassphraseCharacters = 10;
inline constexpr size_t kOneKindPassphraseCharacters = 16;

struct VaultFailure {
    VaultError error;
    std::string message;  // in English, for logs and the command-line tools; never contains the passphrase
    std::optional<PassphraseProblem> weakness;  // WeakPassphrase: why, for wording in any language
};

// Why a passphrase is too weak, or nullopt when it is acceptable: at least 10 characters,
// not one repeated character, not a well-known password, at least two kinds of character
// (letters, digits, others) or 16+ characters. Characters are counted as UTF-8 code points,
// and every non-ASCII character counts as a letter (Devanagari, Tamil... passphrases are
// welcome). "Well-known" is a short embedded list of the most common passwords (and
// "clusterkit"), compared case-insensitively, also with digits or symbols added at the end
// ("Password@123").
std::optional<PassphraseProblem> passphraseProblem(std::string_view passphrase);

// The problem as a sentence for the officer in `language` ("en", "hi", ...; English when the
// app has no words in it), from the engine's word tables (core/messages): the limits above
// are its placeholders, so a table can never state another minimum than the one enforced.
std::string passphraseProblemText(PassphraseProblem problem, std::string_view language = "en");

// passphraseProblem worded in English: what the command-line tools print.
std::optional<std::string> checkPassphraseStrength(std::string_view passphrase);

struct NewVault {
    VaultRecord record;
    UnlockedVault keys;
};
// First run: checks the passphrase (WeakPassphrase), then that the confirmation matches it
// (PassphrasesDiffer), makes a data key and a device signing key, wraps both. Runs Argon2id
// once (about a second with the defaults): call it off the frame.
std::variant<NewVault, VaultFailure> createVault(std::string_view passphrase, std::string_view confirmation,
                                                 KdfParams kdf = {});
// WrongPassphrase when the data key does not open; Corrupt when the record is malformed, or
// when the data key opens but the signing key does not (or does not match signingPublicKey).
// Runs Argon2id once.
std::variant<UnlockedVault, VaultFailure> unlockVault(const VaultRecord& record, std::string_view passphrase);
// Re-wraps the same keys under a new passphrase (new salt, the record's KDF cost); stored data
// stays as it is. Checks the new passphrase first (WeakPassphrase, PassphrasesDiffer), then the
// old one (WrongPassphrase). The caller stores the returned record in place of the old one.
std::variant<VaultRecord, VaultFailure> changePassphrase(const VaultRecord& record, std::string_view oldPassphrase,
                                                         std::string_view newPassphrase, std::string_view confirmation);

}  // namespace ck
