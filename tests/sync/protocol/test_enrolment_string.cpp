// The enrolment string: what the slip prints comes back whole, and every single typo an
// officer can make while typing it is caught and the group to fix is named: checked for
// every position of many strings, with every other character the string could hold there.
#include <catch2/catch.hpp>

#include <sodium.h>

#include <cstdio>
#include <random>
#include <string>

#include "sync/protocol/enrolment_string.h"

using namespace ck::proto;

namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
// The aggregator's code alphabet (ingest.cpp): the codes the slip really carries.
constexpr std::string_view kCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

std::string randomPin(std::mt19937& rng) {
    unsigned char hash[32];
    for (auto& b : hash) b = uint8_t(rng());
    char b64[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, hash, sizeof hash, sodium_base64_VARIANT_ORIGINAL);
    return std::string("sha256//") + b64;
}

std::string randomCode(std::mt19937& rng) {
    std::string code;
    for (int i = 0; i < 12; ++i) {
        if (i && i % 4 == 0) code.push_back('-');
        code.push_back(kCodeAlphabet[rng() % kCodeAlphabet.size()]);
    }
    return code;
}

EnrolmentDetails randomDetails(std::mt19937& rng, int kind) {
    EnrolmentDetails d;
    std::string port = std::to_string(1024 + rng() % 60000);
    switch (kind % 3) {
        case 0:
            d.url = "https://" + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + "." +
                    std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + ":" + port;
            break;
        case 1: d.url = "https://aggregator" + std::to_string(rng() % 100) + ".msme-tn.example.org:" + port; break;
        default: d.url = "https://[fd00::" + std::to_string(rng() % 1000) + "]:" + port; break;
    }
    d.publicKeyPin = randomPin(rng);
    d.code = randomCode(rng);
    return d;
}

const EnrolmentDetails* details(const EnrolmentStringResult& r) { return std::get_if<EnrolmentDetails>(&r); }
const EnrolmentStringProblem* problemOf(const EnrolmentStringResult& r) {
    return std::get_if<EnrolmentStringProblem>(&r);
}

// The group (1-based) of the character at `pos` of an encoded string ("CK1-" + groups of 5
// joined by '-'); 0 for the prefix and the dashes.
size_t groupAt(size_t pos) {
    if (pos < 4) return 0;
    size_t in = pos - 4;
    if (in % 6 == 5) return 0;
    return in / 6 + 1;
}

}  // namespace

TEST_CASE("enrolment string: address, pin and code come back as the slip gave them", "[sync][enrolment]") {
    EnrolmentDetails d{"https://10.0.0.5:8443", "sha256//" + std::string(43, 'A') + "=", "ABCD-EFGH-JKMN"};
    std::string s = encodeEnrolmentString(d);
    INFO(s);
    CHECK(s.rfind("CK1-", 0) == 0);
    // Groups of five from the alphabet, dash-separated: what a QR code's alphanumeric mode holds.
    for (size_t i = 4; i < s.size(); ++i) {
        if (groupAt(i) == 0) CHECK(s[i] == '-');
        else CHECK(kAlphabet.find(s[i]) != std::string_view::npos);
    }
    auto back = decodeEnrolmentString(s);
    REQUIRE(details(back));
    CHECK(*details(back) == d);

    // Other shapes of address; the port is always spelled out; the code is read in any case.
    CHECK(details(decodeEnrolmentString(encodeEnrolmentString({"https://agg.example.org", d.publicKeyPin, "abcd efgh"})))->url ==
          "https://agg.example.org:443");
    auto http = decodeEnrolmentString(encodeEnrolmentString({"http://127.0.0.1:8080/", "", "ZZZZ-2222"}));
    REQUIRE(details(http));
    CHECK(details(http)->url == "http://127.0.0.1:8080");
    CHECK(details(http)->publicKeyPin.empty());
    CHECK(details(http)->code == "ZZZZ-2222");
    auto v6 = decodeEnrolmentString(encodeEnrolmentString({"https://[fe80::1]:9443", d.publicKeyPin, "ABCD"}));
    REQUIRE(details(v6));
    CHECK(details(v6)->url == "https://[fe80::1]:9443");

    std::mt19937 rng(20261123);
    for (int i = 0; i < 60; ++i) {
        EnrolmentDetails r = randomDetails(rng, i);
        auto decoded = decodeEnrolmentString(encodeEnrolmentString(r));
        REQUIRE(details(decoded));
        CHECK(*details(decoded) == r);
    }
}

TEST_CASE("enrolment string: the slip refuses details it cannot carry", "[sync][enrolment]") {
    const std::string pin = "sha256//" + std::string(43, 'A') + "=";
    CHECK_THROWS_WITH(encodeEnrolmentString({"10.0.0.5:8443", pin, "ABCD"}), Catch::Contains("https://"));
    CHECK_THROWS_WITH(encodeEnrolmentString({"https://10.0.0.5:8443/v1", pin, "ABCD"}), Catch::Contains("no path"));
    CHECK_THROWS_WITH(encodeEnrolmentString({"https://10.0.0.5:99999", pin, "ABCD"}), Catch::Contains("port"));
    CHECK_THROWS_WITH(encodeEnrolmentString({"https://:8443", pin, "ABCD"}), Catch::Contains("host"));
    CHECK_THROWS_WITH(encodeEnrolmentString({"https://10.0.0.5:8443", "", "ABCD"}), Catch::Contains("pin"));
    CHECK_THROWS_WITH(encodeEnrolmentString({"https://10.0.0.5:8443", "sha256//AAAA", "ABCD"}), Catch::Contains("32-byte"));
    CHECK_THROWS_WITH(encodeEnrolmentString({"https://10.0.0.5:8443", pin, ""}), Catch::Contains("code"));
    CHECK_THROWS_WITH(encodeEnrolmentString({"https://10.0.0.5:8443", pin, "AB$D"}), Catch::Contains("code"));
}

TEST_CASE("enrolment string: every single mistyped character is caught and its group named", "[sync][enrolment]") {
    std::mt19937 rng(7);
    size_t typos = 0;
    for (int n = 0; n < 12; ++n) {
        const std::string s = encodeEnrolmentString(randomDetails(rng, n));
        for (size_t pos = 4; pos < s.size(); ++pos) {
            const size_t group = groupAt(pos);
            if (group == 0) continue;
            // Every other character of the alphabet, and characters no string holds.
            std::string others(kAlphabet);
            others += "U*.";
            for (char c : others) {
                if (c == s[pos]) continue;
                std::string typed = s;
                typed[pos] = c;
                auto r = decodeEnrolmentString(typed);
                const EnrolmentStringProblem* p = problemOf(r);
                INFO(s << " -> " << typed);
                REQUIRE(p);
                CHECK((p->error == EnrolmentStringError::GroupCheck || p->error == EnrolmentStringError::BadCharacter));
                CHECK(p->group == group);
                CHECK(p->groupText == typed.substr(4 + (group - 1) * 6, 5));
                CHECK_THAT(p->message, Catch::Contains("group " + std::to_string(group)));
                ++typos;
            }
        }
    }
    std::printf("enrolment string: %zu single-character typos tried, each refused with its group named\n", typos);
    CHECK(typos > 10'000);
}

TEST_CASE("enrolment string: neighbours swapped, a character dropped or doubled, a group left out", "[sync][enrolment]") {
    std::mt19937 rng(11);
    for (int n = 0; n < 12; ++n) {
        const std::string s = encodeEnrolmentString(randomDetails(rng, n));
        INFO(s);
        for (size_t pos = 4; pos < s.size(); ++pos) {
            const size_t group = groupAt(pos);
            if (group == 0) continue;
            // Dropped and doubled: the group has the wrong length.
            std::string dropped = s;
            dropped.erase(pos, 1);
            auto d = decodeEnrolmentString(dropped);
            REQUIRE(problemOf(d));
            CHECK(problemOf(d)->error == EnrolmentStringError::GroupLength);
            CHECK(problemOf(d)->group == group);
            std::string doubled = s;
            doubled.insert(pos, 1, s[pos]);
            auto x = decodeEnrolmentString(doubled);
            REQUIRE(problemOf(x));
            CHECK(problemOf(x)->group == group);
            // Swapped with the neighbour in the same group.
            if (pos + 1 == s.size() || groupAt(pos + 1) != group || s[pos] == s[pos + 1]) continue;
            std::string swapped = s;
            std::swap(swapped[pos], swapped[pos + 1]);
            auto w = decodeEnrolmentString(swapped);
            REQUIRE(problemOf(w));
            CHECK(problemOf(w)->error == EnrolmentStringError::GroupCheck);
            CHECK(problemOf(w)->group == group);
        }
        // A whole group left out (not one of the last two, where one group alone cannot tell a
        // shift from a typo): named at the group where the string shifts.
        size_t groups = (s.size() - 4 + 1) / 6;
        for (size_t g = 1; g + 1 < groups; ++g) {
            std::string missing = s;
            missing.erase(4 + (g - 1) * 6, 6);
            auto m = decodeEnrolmentString(missing);
            REQUIRE(problemOf(m));
            CHECK(problemOf(m)->group == g);
            CHECK_THAT(problemOf(m)->message, Catch::Contains("missing before group " + std::to_string(g)));
        }
        // Two groups swapped: the first of them is named.
        std::string swappedGroups = s;
        std::swap_ranges(swappedGroups.begin() + 4 + 6, swappedGroups.begin() + 4 + 11, swappedGroups.begin() + 4 + 18);
        auto sg = decodeEnrolmentString(swappedGroups);
        REQUIRE(problemOf(sg));
        CHECK(problemOf(sg)->group == 2);
        // The last group gone: every group checks, the string is too short.
        auto cut = decodeEnrolmentString(s.substr(0, s.size() - 6));
        REQUIRE(problemOf(cut));
        CHECK(problemOf(cut)->error == EnrolmentStringError::TooShort);
    }
}

TEST_CASE("enrolment string: two typos one group's check misses are caught by the whole string's checksum", "[sync][enrolment]") {
    const std::string s = encodeEnrolmentString({"https://10.0.0.5:8443", "sha256//" + std::string(42, 'B') + "A=", "WXYZ-2345-6789"});
    // Group 3 with its first two characters changed so that the group still checks.
    const size_t at = 4 + 2 * 6;
    size_t found = 0;
    for (char a : kAlphabet) {
        for (char b : kAlphabet) {
            if (a == s[at] && b == s[at + 1]) continue;
            std::string typed = s;
            typed[at] = a;
            typed[at + 1] = b;
            auto r = decodeEnrolmentString(typed);
            REQUIRE(problemOf(r));
            if (problemOf(r)->error == EnrolmentStringError::GroupCheck) continue;
            ++found;
            CHECK(problemOf(r)->error == EnrolmentStringError::Inconsistent);
        }
    }
    CHECK(found > 0);  // such pairs exist (1 in 32), and every one is refused
}

TEST_CASE("enrolment string: found where officers keep it, in any case, with or without dashes", "[sync][enrolment]") {
    const EnrolmentDetails d{"https://192.168.1.20:8443", "sha256//" + std::string(42, 'C') + "A=", "QRST-VWXY-Z234"};
    const std::string s = encodeEnrolmentString(d);
    auto same = [&](const std::string& text) {
        auto r = decodeEnrolmentString(text);
        INFO(text);
        if (auto* p = problemOf(r)) FAIL(p->message);
        return details(r) && *details(r) == d;
    };
    std::string lower = s;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    CHECK(same(lower));
    std::string spaces = s;
    for (char& c : spaces) if (c == '-') c = ' ';
    CHECK(same(spaces));
    std::string joined;
    for (char c : s.substr(4)) if (c != '-') joined.push_back(c);
    CHECK(same("CK1-" + joined));
    CHECK(same(s.substr(4)));  // typed without its prefix
    // O for 0, I and L for 1: the same string.
    std::string lookalikes = s;
    for (size_t i = 4; i < lookalikes.size(); ++i) {
        if (lookalikes[i] == '0') lookalikes[i] = 'O';
        if (lookalikes[i] == '1') lookalikes[i] = (i % 2 ? 'I' : 'l');
    }
    CHECK(same(lookalikes));
    // In a file from a stick: the slip saved as text (CRLF) or HTML, a line with more words.
    CHECK(same("Enrolment slip -- Tiruppur\r\n  code:   QRST-VWXY-Z234\r\n  enrolment string: " + s + "\r\n  officer: Priya\r\n"));
    CHECK(same("<p>Enrolment string</p><code class=\"string\">" + s + "</code>\n"));
    CHECK(same("  " + s + "  \n"));

    auto notFound = decodeEnrolmentString("https://10.0.0.5:8443 and the code ABCD-EFGH");
    REQUIRE(problemOf(notFound));
    CHECK(problemOf(notFound)->error == EnrolmentStringError::NotFound);
    CHECK(problemOf(decodeEnrolmentString(""))->error == EnrolmentStringError::NotFound);
    CHECK(problemOf(decodeEnrolmentString("CX1-" + s.substr(4)))->error == EnrolmentStringError::NotFound);
    auto newer = decodeEnrolmentString("CK2-" + s.substr(4));
    REQUIRE(problemOf(newer));
    CHECK(problemOf(newer)->error == EnrolmentStringError::NewerVersion);
    CHECK(problemOf(decodeEnrolmentString("CK1-"))->error == EnrolmentStringError::TooShort);
    // Another character where the string ends in a file (a quote, a bracket) ends it early.
    auto quoted = decodeEnrolmentString(s.substr(0, 20) + "\"" + s.substr(20));
    REQUIRE(problemOf(quoted));
}
