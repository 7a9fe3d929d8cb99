#pragma once
// Authenticated encryption of stored payloads (XChaCha20-Poly1305 IETF) with associated data
// that binds a ciphertext to where it belongs (record id, kind, version): a ciphertext moved
// to another row fails to open.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/secret_bytes.h"

namespace ck {

// The associated data for a stored payload: "clusterkit/<kind>/<id>/<version>". `kind` is a
// fixed word of the store's ("draft", "visit", "photo"...) and must not contain '/' (asserts);
// `id` may be any text. Each distinct (kind, id, version) gives a distinct context.
std::string payloadContext(std::string_view kind, std::string_view id, int64_t version);

// nonce (24 bytes, random) || ciphertext || tag (16 bytes): 40 bytes more than the plaintext.
// `key` must be the 32-byte data key (asserts).
std::vector<uint8_t> sealPayload(const SecretBytes& key, std::string_view plaintext, std::string_view context);
// nullopt when the key, the context or any byte is wrong, or `sealed` is too short (never a
// partial result, never an exception).
std::optional<std::string> openPayload(const SecretBytes& key, const std::vector<uint8_t>& sealed, std::string_view context);

// BLAKE2b-256 of `bytes`, as lowercase hex: the content hash of a finished record.
std::string contentHash(std::string_view bytes);
std::string toHex(const uint8_t* data, size_t size);

}  // namespace ck
