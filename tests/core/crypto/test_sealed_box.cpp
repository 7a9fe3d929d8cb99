// Stored payloads open only with the data key and only in the row they were written for.
#include <catch2/catch.hpp>

#include <algorithm>

#include <sodium.h>

#include "core/crypto/sealed_box.h"

using namespace ck;

namespace {

SecretBytes randomKey() {
    ensureSodium();
    SecretBytes key(32);
    randombytes_buf(key.data(), key.size());
    return key;
}

}  // namespace

TEST_CASE("the payload context names kind, id and version", "[core][crypto]") {
    CHECK(payloadContext("draft", "7f1c", 3) == "clusterkit/draft/7f1c/3");
    CHECK(payloadContext("draft", "a/b", 1) != payloadContext("draft", "a", 1));
}

TEST_CASE("a payload seals and opens with its key and context", "[core][crypto]") {
    const SecretBytes key = randomKey();
    const std::string plain = "owner: श्री मुरुगन, phone 98430 12345";
    const std::string context = payloadContext("draft", "rec-1", 4);
    const auto sealed = sealPayload(key, plain, context);
    CHECK(sealed.size() == plain.size() + 40);
    // The plaintext is nowhere in the sealed bytes.
    CHECK(std::search(sealed.begin(), sealed.end(), plain.begin(), plain.begin() + 6) == sealed.end());
    auto opened = openPayload(key, sealed, context);
    REQUIRE(opened);
    CHECK(*opened == plain);
    // A fresh nonce each time: the same payload never seals to the same bytes.
    CHECK(sealPayload(key, plain, context) != sealed);
    // The empty payload is a payload too.
    auto empty = openPayload(key, sealPayload(key, "", context), context);
    REQUIRE(empty);
    CHECK(empty->empty());
}

TEST_CASE("a payload moved to another row, kind or version does not open", "[core][crypto]") {
    const SecretBytes key = randomKey();
    const auto sealed = sealPayload(key, "42 workers", payloadContext("visit", "rec-1", 2));
    CHECK_FALSE(openPayload(key, sealed, payloadContext("visit", "rec-2", 2)));
    CHECK_FALSE(openPayload(key, sealed, payloadContext("draft", "rec-1", 2)));
    CHECK_FALSE(openPayload(key, sealed, payloadContext("visit", "rec-1", 1)));
    CHECK_FALSE(openPayload(key, sealed, payloadContext("visit", "rec-1", 3)));
    CHECK(openPayload(key, sealed, payloadContext("visit", "rec-1", 2)));
}

TEST_CASE("a payload with any byte flipped, cut short or under another key does not open", "[core][crypto]") {
    const SecretBytes key = randomKey();
    const std::string context = payloadContext("photo", "p-9", 1);
    const auto sealed = sealPayload(key, "turnover 4,00,000", context);
    for (size_t i = 0; i < sealed.size(); ++i) {
        auto damaged = sealed;
        damaged[i] ^= 0x01;
        CHECK_FALSE(openPayload(key, damaged, context));
    }
    for (size_t n = 0; n < sealed.size(); ++n) {
        CHECK_FALSE(openPayload(key, std::vector<uint8_t>(sealed.begin(), sealed.begin() + n), context));
    }
    CHECK_FALSE(openPayload(randomKey(), sealed, context));
    CHECK_FALSE(openPayload(SecretBytes(), sealed, context));
}

TEST_CASE("content hash is BLAKE2b-256 in lowercase hex", "[core][crypto]") {
    // Reference values of BLAKE2b with a 32-byte digest (RFC 7693 parameters).
    CHECK(contentHash("") == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    CHECK(contentHash("abc") == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    const uint8_t bytes[] = {0x00, 0x0f, 0xa0, 0xff};
    CHECK(toHex(bytes, sizeof bytes) == "000fa0ff");
    CHECK(toHex(bytes, 0).empty());
}
