// Prints how <charconv> formats and parses a fixed set of doubles, one result a line. Built
// twice: natively (libstdc++'s own floating-point <charconv>, what the desktop app uses) and by
// the web build (emscripten's libc++ 13 with platforms/web/compat/charconv). The CTest
// "web: <charconv> ..." runs both and requires the same lines: numbers core/ writes into
// records and shows on screen must not depend on the platform.
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <system_error>
#include <vector>

namespace {

const char* errName(std::errc e) {
    if (e == std::errc()) return "ok";
    if (e == std::errc::invalid_argument) return "invalid_argument";
    if (e == std::errc::result_out_of_range) return "out_of_range";
    if (e == std::errc::value_too_large) return "too_large";
    return "other";
}

std::string show(double v) {
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);  // exact, and printed the same by every C library
    char b[32];
    std::snprintf(b, sizeof b, "%016" PRIx64, bits);
    return b;
}

void format(double v) {
    char buf[1400];
    auto put = [&](const char* what, std::to_chars_result r) {
        std::printf("to_chars %s %s -> %s %.*s\n", what, show(v).c_str(), errName(r.ec),
                    r.ec == std::errc() ? int(r.ptr - buf) : 0, buf);
    };
    put("shortest", std::to_chars(buf, buf + sizeof buf, v));
    put("fixed", std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed));
    put("scientific", std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific));
    put("general", std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general));
    put("general15", std::to_chars(buf, buf + sizeof buf, v, std::chars_format::general, 15));
    put("fixed2", std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 2));
    // Too small a buffer is refused, never overrun.
    char tiny[3];
    auto r = std::to_chars(tiny, tiny + sizeof tiny, v, std::chars_format::fixed);
    std::printf("to_chars tiny %s -> %s\n", show(v).c_str(), errName(r.ec));
}

void parse(const std::string& text, std::chars_format fmt, const char* fmtName) {
    double v = -12345.0;  // must stay when nothing is read
    auto r = std::from_chars(text.data(), text.data() + text.size(), v, fmt);
    std::printf("from_chars %s \"%s\" -> %s consumed %d value %s\n", fmtName, text.c_str(), errName(r.ec),
                int(r.ptr - text.data()), show(v).c_str());
}

}  // namespace

int main() {
    std::vector<double> values = {0.0, -0.0, 1.0, -1.0, 0.1, 0.2, 0.1 + 0.2, 0.3, 2.5, 1234.5, -1234.5, 123456.0,
                                  1e15, 1e16, 1e21, 1e22, 1e23, 1e-7, 1.5e-7, 5e-324, 2.2250738585072014e-308,
                                  1.7976931348623157e308, 3.141592653589793, 2.0 / 3.0, 100.0 / 3.0, 0.005, 0.015,
                                  0.125, 1e-5, 123e-20, 9007199254740993.0, 4.35, 1.005, 99.995, 250000000.0,
                                  std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    // And a deterministic spread over magnitudes (an LCG: the same numbers on every platform).
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 400; ++i) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        const double mantissa = double(x >> 11) / double(1ull << 53);
        const int exponent = int((x >> 3) % 40) - 20;
        values.push_back((i % 2 ? -1 : 1) * mantissa * std::pow(10.0, exponent));
        values.push_back(std::round(mantissa * 1e6) / 100.0);  // money-like: two decimals
    }
    for (double v : values) format(v);

    const std::vector<std::string> texts = {"0", "-0", "12.5", "12.5abc", "-.5", ".5", "5.", ".", "-", "", "+1",
                                            " 1", "1e5", "1E-3", "1e", "1e+", "1e-x", "0x10", "inf", "-Infinity",
                                            "nan", "1e999", "-1e999", "1e-999", "4.9e-324", "2.5e-324",
                                            "007.250", "1234567890123456789012345", "0.30000000000000004",
                                            "9007199254740993", "1.7976931348623158e308", "12,5", "१२"};
    for (const auto& t : texts) {
        parse(t, std::chars_format::general, "general");
        parse(t, std::chars_format::fixed, "fixed");
    }
    return 0;
}
