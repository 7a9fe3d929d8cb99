#include "sync/protocol/enrolment_string.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <vector>

#include "core/crypto/secret_bytes.h"  // ensureSodium

namespace ck::proto {
namespace {

// Crockford's base32: no I, L, O or U, so a string copied from paper or read aloud stays right.
constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kDataChars = kEnrolmentGroupChars - 1;
constexpr std::string_view kPrefix = "CK1-";
constexpr size_t kPinBytes = 32;
constexpr size_t kMaxHostChars = 253;
constexpr size_t kMaxCodeChars = 64;
constexpr size_t kChecksumBytes = 2;
// Payload flags (the first byte).
constexpr uint8_t kHttps = 0x01;
constexpr uint8_t kIpv4 = 0x02;

// The value of a character as typed: any case, O read as 0, I and L as 1; -1 when no
// enrolment string uses it.
int symbolValue(char c) {
    char u = char(std::toupper(static_cast<unsigned char>(c)));
    if (u == 'O') u = '0';
    if (u == 'I' || u == 'L') u = '1';
    size_t at = kAlphabet.find(u);
    return at == std::string_view::npos ? -1 : int(at);
}

// Multiplication by x in GF(32) = GF(2)[x] / (x^5 + x^2 + 1). Damm's quasigroup over a field
// is a*b = 2a + b (a != 0, 1 makes it totally anti-symmetric): every single substitution and
// every swap of neighbours changes the result.
uint8_t times2(uint8_t v) {
    v = uint8_t(v << 1);
    if (v & 0x20) v ^= 0x25;
    return uint8_t(v & 0x1F);
}

// The Damm interim after `values`, started from the group's place (1-based) so that a group
// moved elsewhere fails too (two places below 32 apart never share a start).
uint8_t dammInterim(const uint8_t* values, size_t n, size_t place) {
    uint8_t interim = uint8_t(place & 0x1F);
    for (size_t i = 0; i < n; ++i) interim = uint8_t(times2(interim) ^ values[i]);
    return interim;
}

std::array<uint8_t, 2> checksum(const std::vector<uint8_t>& payload) {
    ensureSodium();
    unsigned char hash[crypto_generichash_BYTES_MIN];
    crypto_generichash(hash, sizeof hash, payload.data(), payload.size(), nullptr, 0);
    return {hash[0], hash[1]};
}

struct Address {
    bool https = false;
    std::string host;  // "10.0.0.5", "agg.example.org" or "[fe80::1]"
    uint16_t port = 0;
};

std::optional<std::array<uint8_t, 4>> ipv4(std::string_view host) {
    std::array<uint8_t, 4> out{};
    size_t part = 0, from = 0;
    for (size_t i = 0; i <= host.size(); ++i) {
        if (i < host.size() && host[i] != '.') {
            if (!std::isdigit(static_cast<unsigned char>(host[i]))) return std::nullopt;
            continue;
        }
        size_t len = i - from;
        if (part == 4 || len == 0 || len > 3) return std::nullopt;
        int v = std::stoi(std::string(host.substr(from, len)));
        if (v > 255) return std::nullopt;
        out[part++] = uint8_t(v);
        from = i + 1;
    }
    if (part != 4) return std::nullopt;
    return out;
}

Address parseAddress(std::string_view url) {
    Address a;
    std::string_view rest;
    if (url.rfind("https://", 0) == 0) {
        a.https = true;
        rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
        rest = url.substr(7);
    } else {
        throw std::invalid_argument("the address " + std::string(url) + " must start with https:// or http://");
    }
    while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
    if (rest.find('/') != std::string_view::npos)
        throw std::invalid_argument("the address " + std::string(url) + " must be only scheme, host and port (no path)");
    std::string_view portText;
    if (!rest.empty() && rest.front() == '[') {
        size_t close = rest.find(']');
        if (close == std::string_view::npos) throw std::invalid_argument("the address " + std::string(url) + " has no closing ]");
        a.host = std::string(rest.substr(0, close + 1));
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') throw std::invalid_argument("the address " + std::string(url) + " is not [IPv6]:PORT");
            portText = after.substr(1);
        }
    } else {
        size_t colon = rest.rfind(':');
        a.host = std::string(rest.substr(0, colon));
        if (colon != std::string_view::npos) portText = rest.substr(colon + 1);
    }
    if (a.host.empty() || a.host.size() > kMaxHostChars)
        throw std::invalid_argument("the address " + std::string(url) + " has no usable host name");
    for (char c : a.host)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '[' || c == ']' || c == ':'))
            throw std::invalid_argument("the host name in " + std::string(url) + " has a character hosts do not use");
    if (portText.empty()) {
        a.port = a.https ? 443 : 80;
    } else {
        if (portText.size() > 5 || !std::all_of(portText.begin(), portText.end(),
                                                [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            throw std::invalid_argument("the port in " + std::string(url) + " is not a number");
        int port = std::stoi(std::string(portText));
        if (port < 1 || port > 65535) throw std::invalid_argument("the port in " + std::string(url) + " is not 1 to 65535");
        a.port = uint16_t(port);
    }
    return a;
}

std::vector<uint8_t> pinBytes(std::string_view pin) {
    constexpr std::string_view kPinPrefix = "sha256//";
    if (pin.rfind(kPinPrefix, 0) != 0)
        throw std::invalid_argument("the TLS pin must be sha256//BASE64 (as `ck-aggregator init` prints it)");
    std::string_view b64 = pin.substr(kPinPrefix.size());
    std::vector<uint8_t> out(kPinBytes + 8);
    size_t len = 0;
    ensureSodium();
    if (sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &len, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        len != kPinBytes)
        throw std::invalid_argument("the TLS pin is not the base64 of a 32-byte SHA-256 hash");
    out.resize(len);
    return out;
}

std::string pinText(const uint8_t* hash) {
    char b64[sodium_base64_ENCODED_LEN(kPinBytes, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(b64, sizeof b64, hash, kPinBytes, sodium_base64_VARIANT_ORIGINAL);
    return std::string("sha256//") + b64;
}

std::string normalisedCode(std::string_view code) {
    std::string out;
    for (char c : code) {
        if (c == '-' || c == ' ') continue;
        if (!std::isalnum(static_cast<unsigned char>(c)))
            throw std::invalid_argument("the enrolment code may hold only letters, digits and dashes");
        out.push_back(char(std::toupper(static_cast<unsigned char>(c))));
    }
    if (out.empty() || out.size() > kMaxCodeChars) throw std::invalid_argument("the enrolment code is empty or too long");
    return out;
}

std::string groupedCode(const std::string& code) {
    std::string out;
    for (size_t i = 0; i < code.size(); ++i) {
        if (i && i % 4 == 0) out.push_back('-');
        out.push_back(code[i]);
    }
    return out;
}

// --- decoding ---

EnrolmentStringProblem problem(EnrolmentStringError error, std::string message, size_t group = 0,
                               std::string groupText = {}) {
    return EnrolmentStringProblem{error, group, std::move(groupText), std::move(message)};
}

std::string groupName(size_t group, const std::string& text) {
    return "group " + std::to_string(group) + " (\"" + text + "\")";
}

// Where the string starts in `text`: at "CK<digit>" followed by a dash or a space, not in the
// middle of a word. npos when there is none.
size_t findPrefix(std::string_view text) {
    for (size_t i = 0; i + 3 < text.size(); ++i) {
        if (i && std::isalnum(static_cast<unsigned char>(text[i - 1]))) continue;
        if (std::toupper(static_cast<unsigned char>(text[i])) != 'C' ||
            std::toupper(static_cast<unsigned char>(text[i + 1])) != 'K' ||
            !std::isdigit(static_cast<unsigned char>(text[i + 2])) || (text[i + 3] != '-' && text[i + 3] != ' '))
            continue;
        return i;
    }
    return std::string_view::npos;
}

// Characters that end a string inside a larger text (a line of the slip, an HTML element).
bool endsString(char c) {
    return c == '\n' || c == '\r' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '`' || c == '(' || c == ')' ||
           c == '[' || c == ']' || c == ',' || c == ';';
}

std::vector<std::string> splitGroups(std::string_view body) {
    std::vector<std::string> groups;
    std::string current;
    for (char c : body) {
        if (c == '-' || c == ' ' || c == '\t') {
            if (!current.empty()) groups.push_back(std::move(current));
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    if (!current.empty()) groups.push_back(std::move(current));
    // Typed with no separators at all: read it in fives.
    if (groups.size() == 1 && groups[0].size() > kEnrolmentGroupChars) {
        std::string whole = std::move(groups[0]);
        groups.clear();
        for (size_t i = 0; i < whole.size(); i += kEnrolmentGroupChars) groups.push_back(whole.substr(i, kEnrolmentGroupChars));
    }
    return groups;
}

bool checksAt(const std::vector<uint8_t>& values, size_t place) {
    return values.size() == kEnrolmentGroupChars && dammInterim(values.data(), values.size(), place) == 0;
}

struct Reader {
    const std::vector<uint8_t>& bytes;
    size_t at = 0;
    bool take(size_t n, const uint8_t*& out) {
        if (bytes.size() - at < n) return false;
        out = bytes.data() + at;
        at += n;
        return true;
    }
};

}  // namespace

std::string encodeEnrolmentString(const EnrolmentDetails& details) {
    Address address = parseAddress(details.url);
    std::vector<uint8_t> payload;
    auto v4 = ipv4(address.host);
    payload.push_back(uint8_t((address.https ? kHttps : 0) | (v4 ? kIpv4 : 0)));
    if (v4) {
        payload.insert(payload.end(), v4->begin(), v4->end());
    } else {
        payload.push_back(uint8_t(address.host.size()));
        payload.insert(payload.end(), address.host.begin(), address.host.end());
    }
    payload.push_back(uint8_t(address.port >> 8));
    payload.push_back(uint8_t(address.port & 0xFF));
    if (address.https) {
        auto pin = pinBytes(details.publicKeyPin);
        payload.insert(payload.end(), pin.begin(), pin.end());
    }
    std::string code = normalisedCode(details.code);
    payload.push_back(uint8_t(code.size()));
    payload.insert(payload.end(), code.begin(), code.end());
    auto sum = checksum(payload);
    payload.insert(payload.end(), sum.begin(), sum.end());

    // Bytes to 5-bit values, most significant bit first, zero-padded to whole groups.
    std::vector<uint8_t> values;
    uint32_t buffer = 0;
    int bits = 0;
    for (uint8_t b : payload) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            values.push_back(uint8_t((buffer >> (bits - 5)) & 0x1F));
            bits -= 5;
        }
    }
    if (bits > 0) values.push_back(uint8_t((buffer << (5 - bits)) & 0x1F));
    while (values.size() % kDataChars) values.push_back(0);

    std::string out(kPrefix);
    for (size_t g = 0; g * kDataChars < values.size(); ++g) {
        if (g) out.push_back('-');
        const uint8_t* data = values.data() + g * kDataChars;
        for (size_t i = 0; i < kDataChars; ++i) out.push_back(kAlphabet[data[i]]);
        out.push_back(kAlphabet[times2(dammInterim(data, kDataChars, g + 1))]);
    }
    return out;
}

EnrolmentStringResult decodeEnrolmentString(std::string_view text) {
    using E = EnrolmentStringError;
    size_t start = findPrefix(text);
    std::string_view body;
    if (start != std::string_view::npos) {
        if (text[start + 2] != '1')
            return problem(E::NewerVersion, std::string("this enrolment string (CK") + text[start + 2] +
                                                "-...) was made by a newer ClusterKit: update this app, or enter the "
                                                "address, server key and code one by one");
        body = text.substr(start + kPrefix.size());
        size_t end = 0;
        while (end < body.size() && !endsString(body[end])) ++end;
        body = body.substr(0, end);
    } else {
        // Typed without its "CK1-": taken when it is nothing but groups.
        std::string_view t = text;
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.remove_prefix(1);
        while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
        bool onlyGroups = !t.empty() && std::all_of(t.begin(), t.end(), [](char c) {
            return c == '-' || c == ' ' || symbolValue(c) >= 0;
        });
        auto groups = onlyGroups ? splitGroups(t) : std::vector<std::string>{};
        if (groups.size() < 2 || groups[0].size() < kEnrolmentGroupChars)
            return problem(E::NotFound, "no enrolment string here: it starts with CK1- (copy it whole from the enrolment slip)");
        body = t;
    }

    std::vector<std::string> groups = splitGroups(body);
    if (groups.empty()) return problem(E::TooShort, "the enrolment string has nothing after CK1-");
    std::vector<std::vector<uint8_t>> values(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) {
        const std::string& typed = groups[g];
        for (char c : typed) {
            int v = symbolValue(c);
            if (v < 0) {
                std::string shown = std::isprint(static_cast<unsigned char>(c)) ? std::string(1, c) : std::string("?");
                return problem(E::BadCharacter,
                               groupName(g + 1, typed) + " has '" + shown +
                                   "', which enrolment strings never use: compare group " + std::to_string(g + 1) +
                                   " with the slip",
                               g + 1, typed);
            }
            values[g].push_back(uint8_t(v));
        }
    }
    for (size_t g = 0; g < groups.size(); ++g) {
        const std::string& typed = groups[g];
        if (typed.size() != kEnrolmentGroupChars)
            return problem(E::GroupLength,
                           groupName(g + 1, typed) + " has " + std::to_string(typed.size()) +
                               " characters where every group has 5: a character is missing or extra in group " +
                               std::to_string(g + 1),
                           g + 1, typed);
        if (checksAt(values[g], g + 1)) continue;
        // A whole group left out shifts the rest by one place: this group and the next then
        // check at the following places. (One typo can never make that happen: a group
        // checks at one place only.)
        bool shifted = checksAt(values[g], g + 2) && (g + 1 == groups.size() || checksAt(values[g + 1], g + 3));
        if (shifted && g + 1 < groups.size())
            return problem(E::GroupCheck,
                           "a whole group is missing before " + groupName(g + 1, typed) +
                               ": compare the string with the slip from group " + std::to_string(g) + " on",
                           g + 1, typed);
        return problem(E::GroupCheck,
                       groupName(g + 1, typed) + " does not match its check character: a character in group " +
                           std::to_string(g + 1) + " is mistyped (or two are swapped)",
                       g + 1, typed);
    }

    // 5-bit values back to bytes.
    std::vector<uint8_t> bytes;
    uint32_t buffer = 0;
    int bits = 0;
    for (const auto& group : values) {
        for (size_t i = 0; i < kDataChars; ++i) {
            buffer = (buffer << 5) | group[i];
            bits += 5;
            if (bits >= 8) {
                bytes.push_back(uint8_t((buffer >> (bits - 8)) & 0xFF));
                bits -= 8;
            }
        }
    }

    const std::string tooShort = "the enrolment string ends too early: it has " + std::to_string(groups.size()) +
                                 " groups and some are missing at its end";
    const std::string inconsistent =
        "every group of the enrolment string checks, but the whole does not: several characters may be mistyped "
        "in one group, or groups swapped; compare it with the slip again";
    Reader r{bytes};
    const uint8_t* p = nullptr;
    if (!r.take(1, p)) return problem(E::TooShort, tooShort);
    const uint8_t flags = *p;
    if (flags & ~(kHttps | kIpv4)) return problem(E::Inconsistent, inconsistent);
    EnrolmentDetails details;
    std::string host;
    if (flags & kIpv4) {
        if (!r.take(4, p)) return problem(E::TooShort, tooShort);
        host = std::to_string(p[0]) + "." + std::to_string(p[1]) + "." + std::to_string(p[2]) + "." + std::to_string(p[3]);
    } else {
        if (!r.take(1, p)) return problem(E::TooShort, tooShort);
        size_t len = *p;
        if (!r.take(len, p)) return problem(E::TooShort, tooShort);
        host.assign(reinterpret_cast<const char*>(p), len);
    }
    if (!r.take(2, p)) return problem(E::TooShort, tooShort);
    const int port = (p[0] << 8) | p[1];
    details.url = std::string((flags & kHttps) ? "https://" : "http://") + host + ":" + std::to_string(port);
    if (flags & kHttps) {
        if (!r.take(kPinBytes, p)) return problem(E::TooShort, tooShort);
        details.publicKeyPin = pinText(p);
    }
    if (!r.take(1, p)) return problem(E::TooShort, tooShort);
    size_t codeLen = *p;
    if (!r.take(codeLen, p)) return problem(E::TooShort, tooShort);
    std::string code(reinterpret_cast<const char*>(p), codeLen);
    const size_t payloadEnd = r.at;
    if (!r.take(kChecksumBytes, p)) return problem(E::TooShort, tooShort);
    auto expected = checksum(std::vector<uint8_t>(bytes.begin(), bytes.begin() + std::ptrdiff_t(payloadEnd)));
    if (p[0] != expected[0] || p[1] != expected[1]) return problem(E::Inconsistent, inconsistent);
    // What is left is the padding of the last group: fewer bytes than a group holds, all zero.
    size_t left = bytes.size() - r.at;
    if (left * 8 >= kDataChars * 5 || std::any_of(bytes.begin() + std::ptrdiff_t(r.at), bytes.end(), [](uint8_t b) { return b != 0; }))
        return problem(E::Inconsistent, inconsistent);
    // What the checksum covers was made by encodeEnrolmentString: still, never hand on a host
    // or code with characters they cannot have.
    try {
        parseAddress(details.url);
        details.code = groupedCode(normalisedCode(code));
    } catch (const std::invalid_argument&) {
        return problem(E::Inconsistent, inconsistent);
    }
    return details;
}

}  // namespace ck::proto
