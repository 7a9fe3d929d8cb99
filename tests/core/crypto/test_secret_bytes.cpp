// SecretBytes is a move-only handle on guarded memory; comparisons are by content.
#include <catch2/catch.hpp>

#include <algorithm>
#include <type_traits>
#include <utility>

#include "core/crypto/secret_bytes.h"

using namespace ck;

static_assert(!std::is_copy_constructible_v<SecretBytes>, "a key must never be copied implicitly");
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);
static_assert(std::is_nothrow_move_assignable_v<SecretBytes>);

TEST_CASE("secret bytes start zeroed and report their size", "[core][crypto]") {
    SecretBytes s(48);
    REQUIRE(s.size() == 48);
    REQUIRE(s.data() != nullptr);
    CHECK(std::all_of(s.data(), s.data() + s.size(), [](uint8_t b) { return b == 0; }));
    SecretBytes none;
    CHECK(none.empty());
    CHECK(none.data() == nullptr);
}

TEST_CASE("moving secret bytes hands over the buffer and empties the source", "[core][crypto]") {
    SecretBytes a(32);
    a.data()[0] = 0x42;
    const uint8_t* buffer = a.data();
    SecretBytes b(std::move(a));
    CHECK(b.data() == buffer);
    CHECK(b.size() == 32);
    CHECK(b.data()[0] == 0x42);
    CHECK(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the contract
    CHECK(a.data() == nullptr);

    SecretBytes c(8);
    c = std::move(b);
    CHECK(c.size() == 32);
    CHECK(c.data() == buffer);
    CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("secret bytes compare by content and clone explicitly", "[core][crypto]") {
    SecretBytes a(16), b(16), c(17);
    CHECK(a.equals(b));
    CHECK_FALSE(a.equals(c));
    b.data()[15] = 1;
    CHECK_FALSE(a.equals(b));
    SecretBytes copy = b.clone();
    CHECK(copy.equals(b));
    CHECK(copy.data() != b.data());
    CHECK(SecretBytes().equals(SecretBytes()));
    CHECK(SecretBytes().clone().empty());
}
