#pragma once
// The project's keys, kept in the data folder as keys.ck, encrypted under the admin passphrase:
//  - the X25519 ingest key pair: devices seal finished visits to its public half;
//  - the Ed25519 template signing key pair: devices accept only templates signed by it.
// Built on the device vault (core/crypto/vault.h): the passphrase -> Argon2id -> KEK wraps
// a data key and an Ed25519 key (the template signing key); the ingest secret key is sealed
// under the data key. Secrets live in SecretBytes (sodium_malloc) and never reach a log.
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/crypto/secret_bytes.h"
#include "core/crypto/vault.h"

namespace ck::agg {

struct ProjectKeys {
    std::vector<uint8_t> ingestPublicKey;  // X25519, 32
    SecretBytes ingestSecretKey;           // 32
    std::vector<uint8_t> signingPublicKey; // Ed25519, 32
    SecretBytes signingSecretKey;          // 64
};

struct KeysFailure {
    std::string message;  // "wrong admin passphrase", "keys.ck is damaged ...", ...
};

// Creates keys.ck in `folder` (refuses to overwrite one). Checks passphrase strength and
// that the confirmation matches.
std::variant<ProjectKeys, KeysFailure> createProjectKeys(const std::filesystem::path& folder,
                                                         std::string_view passphrase, std::string_view confirmation,
                                                         KdfParams kdf = {});
std::variant<ProjectKeys, KeysFailure> unlockProjectKeys(const std::filesystem::path& folder,
                                                         std::string_view passphrase);
// The public halves, readable without the passphrase (for `init`, `status`, enrolment slips).
struct PublicKeys {
    std::vector<uint8_t> ingestPublicKey;
    std::vector<uint8_t> signingPublicKey;
};
std::variant<PublicKeys, KeysFailure> readPublicKeys(const std::filesystem::path& folder);

}  // namespace ck::agg
