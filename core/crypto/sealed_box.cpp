#include "core/crypto/sealed_box.h"

#include <cassert>

#include <sodium.h>

namespace ck {

namespace {
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
}  // namespace

std::string payloadContext(std::string_view kind, std::string_view id, int64_t version) {
    // With no '/' in the kind and none in the decimal version, the id is everything in between,
    // so two different (kind, id, version) never give the same context.
    assert(kind.find('/') == std::string_view::npos && "payloadContext: a kind is a fixed word without '/'");
    std::string out = "clusterkit/";
    out.append(kind);
    out.push_back('/');
    out.append(id);
    out.push_back('/');
    out.append(std::to_string(version));
    return out;
}

std::vector<uint8_t> sealPayload(const SecretBytes& key, std::string_view plaintext, std::string_view context) {
    assert(key.size() == crypto_aead_xchacha20poly1305_ietf_KEYBYTES && "sealPayload: the key must be the 32-byte data key");
    ensureSodium();
    std::vector<uint8_t> out(kNonceBytes + plaintext.size() + kTagBytes);
    // A random 192-bit nonce: safe to draw at random for as many payloads as a device will ever write.
    randombytes_buf(out.data(), kNonceBytes);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + kNonceBytes, &written,
                                               reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size(),
                                               reinterpret_cast<const uint8_t*>(context.data()), context.size(),
                                               nullptr, out.data(), key.data());
    out.resize(kNonceBytes + written);
    return out;
}

std::optional<std::string> openPayload(const SecretBytes& key, const std::vector<uint8_t>& sealed,
                                       std::string_view context) {
    if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) return std::nullopt;
    if (sealed.size() < kNonceBytes + kTagBytes) return std::nullopt;
    ensureSodium();
    std::string plain(sealed.size() - kNonceBytes - kTagBytes, '\0');
    unsigned long long written = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<uint8_t*>(plain.data()), &written, nullptr,
                                                   sealed.data() + kNonceBytes, sealed.size() - kNonceBytes,
                                                   reinterpret_cast<const uint8_t*>(context.data()), context.size(),
                                                   sealed.data(), key.data()) != 0) {
        return std::nullopt;
    }
    plain.resize(written);
    return plain;
}

std::string contentHash(std::string_view bytes) {
    ensureSodium();
    uint8_t hash[32];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), nullptr, 0);
    return toHex(hash, sizeof hash);
}

std::string toHex(const uint8_t* data, size_t size) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (size_t i = 0; i < size; ++i) {
        out.push_back(kDigits[data[i] >> 4]);
        out.push_back(kDigits[data[i] & 0x0f]);
    }
    return out;
}

}  // namespace ck
