#include <sodium.h>

#include "sync/protocol/messages.h"

namespace ck::proto {

std::string publicKeyPin(const std::vector<uint8_t>& derSpki) {
    ensureSodium();
    unsigned char hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, derSpki.data(), derSpki.size());
    constexpr size_t kB64 = sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, sodium_base64_VARIANT_ORIGINAL);
    char b64[kB64];
    sodium_bin2base64(b64, sizeof b64, hash, sizeof hash, sodium_base64_VARIANT_ORIGINAL);
    return std::string("sha256//") + b64;
}

}  // namespace ck::proto
