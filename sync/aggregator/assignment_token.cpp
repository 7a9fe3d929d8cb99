#include "sync/aggregator/assignment_token.h"

#include <sodium.h>

#include <cstring>
#include <stdexcept>
#include <vector>

namespace ck::agg {

namespace {

constexpr std::string_view kPrefix = "A1.";
constexpr char kKeyDomain[] = "clusterkit/assignment-token/key/v1";
constexpr char kNonceDomain[] = "clusterkit/assignment-token/nonce/v1";
constexpr char kAad[] = "clusterkit/assignment-token/v1";
constexpr size_t kMaxTokenChars = 1024;  // ids are at most a few hundred bytes

// What the token holds: the unit id, a NUL, the device id (ids hold no NUL).
std::string plainOf(std::string_view unitId, std::string_view deviceId) {
    std::string plain(unitId);
    plain.push_back('\0');
    plain.append(deviceId);
    return plain;
}

void nonceFor(const SecretBytes& key, const std::string& plain, unsigned char* nonce) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, key.data(), key.size(), crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kNonceDomain), sizeof kNonceDomain);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(plain.data()), plain.size());
    crypto_generichash_final(&st, nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
}

}  // namespace

SecretBytes assignmentTokenKey(const ProjectKeys& keys) {
    // Keys without a signing half (a test's ingest-only keys) make no tokens and open none.
    if (keys.signingSecretKey.size() != crypto_sign_SECRETKEYBYTES) return {};
    SecretBytes key(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    crypto_generichash(key.data(), key.size(), reinterpret_cast<const unsigned char*>(kKeyDomain), sizeof kKeyDomain,
                       keys.signingSecretKey.data(), keys.signingSecretKey.size());
    return key;
}

std::string makeAssignmentToken(const SecretBytes& key, std::string_view unitId, std::string_view deviceId) {
    if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) return {};
    const std::string plain = plainOf(unitId, deviceId);
    std::vector<unsigned char> box(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plain.size() +
                                   crypto_aead_xchacha20poly1305_ietf_ABYTES);
    unsigned char* nonce = box.data();
    nonceFor(key, plain, nonce);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(box.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &written,
                                               reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
                                               reinterpret_cast<const unsigned char*>(kAad), sizeof kAad, nullptr,
                                               nonce, key.data());
    std::string text(sodium_base64_encoded_len(box.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(text.data(), text.size(), box.data(), box.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    text.resize(std::strlen(text.c_str()));
    return std::string(kPrefix) + text;
}

std::optional<AssignmentClaim> openAssignmentToken(const SecretBytes& key, std::string_view token) {
    if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES) return std::nullopt;
    if (token.size() > kMaxTokenChars || token.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
    token.remove_prefix(kPrefix.size());
    // On the stack: ingest opens one token a visit, and the token is short (bounded above).
    unsigned char box[kMaxTokenChars * 3 / 4 + 1];
    size_t size = 0;
    if (sodium_base642bin(box, sizeof box, token.data(), token.size(), nullptr, &size, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return std::nullopt;
    constexpr size_t kOverhead = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
    if (size < kOverhead) return std::nullopt;
    char plain[sizeof box];
    unsigned long long got = 0;
    const unsigned char* nonce = box;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(plain), &got, nullptr,
                                                   box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                   size - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                   reinterpret_cast<const unsigned char*>(kAad), sizeof kAad, nonce,
                                                   key.data()) != 0)
        return std::nullopt;
    const std::string_view opened(plain, size_t(got));
    auto nul = opened.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    return AssignmentClaim{std::string(opened.substr(0, nul)), std::string(opened.substr(nul + 1))};
}

}  // namespace ck::agg
