#include "tools/terminal/terminal_text.h"

#include <cstdint>
#include <cstdio>

namespace ck {

namespace {

void hexByte(std::string& out, unsigned char b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", b);
    out += buf;
}

// Length of the UTF-8 sequence at `s[i]` and its code point; 0 when it is not well formed.
size_t decodeUtf8(std::string_view s, size_t i, uint32_t& cp) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t n = b0 < 0xC2 ? 0 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : b0 < 0xF5 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    cp = b0 & (0xFF >> (n + 1));
    for (size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        return 0;
    return n;
}

bool hidesOrMoves(uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9F) ||      // C1 controls (CSI is U+009B)
           (cp >= 0x202A && cp <= 0x202E) ||  // bidi embeddings and overrides
           (cp >= 0x2066 && cp <= 0x2069) ||  // bidi isolates
           cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

}  // namespace

std::string terminalSafe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            if (b < 0x20 || b == 0x7F) hexByte(out, b);
            else if (b == '\\') out += "\\\\";  // so an escape shown is never mistaken for one sent
            else out += static_cast<char>(b);
            ++i;
            continue;
        }
        uint32_t cp = 0;
        size_t n = decodeUtf8(text, i, cp);
        if (n == 0) {
            hexByte(out, b);
            ++i;
            continue;
        }
        if (hidesOrMoves(cp)) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "\\u{%x}", static_cast<unsigned>(cp));
            out += buf;
        } else {
            out.append(text.substr(i, n));
        }
        i += n;
    }
    return out;
}

}  // namespace ck
