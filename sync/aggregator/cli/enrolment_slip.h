#pragma once
// The enrolment slip `ck-aggregator enrol` hands to an officer, beyond its text lines: the
// enrolment string's QR code (libqrencode) drawn as text blocks for a terminal and as SVG,
// and the slip as a self-contained HTML page to print.
#include <string>
#include <vector>

namespace ck::agg {

// A QR code's modules, row by row (true = dark), without the quiet zone around it.
struct QrMatrix {
    int size = 0;
    std::vector<bool> dark;
    bool at(int x, int y) const { return dark[size_t(y) * size_t(size) + size_t(x)]; }
};

// Error correction level M (15% of the code may be smudged or torn). Throws
// std::runtime_error when libqrencode cannot encode the text.
QrMatrix encodeQr(const std::string& text);

// The code with its 4-module quiet zone: an SVG of `pixelsPerModule` pixels per module.
std::string qrSvg(const QrMatrix& qr, int pixelsPerModule = 4);
// Two module rows per line with half blocks, black on white (ANSI colours), so a phone can
// read it off a terminal whatever the terminal's own colours are.
std::string qrTerminal(const QrMatrix& qr);

struct SlipFields {
    std::string aggregatorName, officer, cluster, validUntil, code;
    std::vector<std::string> servers;  // https://HOST:PORT
    std::string tlsPin, ingestKey, templateKey;
    std::string enrolmentString;  // "" when the slip has none (no address or pin known)
};

// A printable page: who it is for, the QR code, the string in groups, and the same details
// line by line for typing them apart. Every field is HTML-escaped.
std::string slipHtml(const SlipFields& slip);

}  // namespace ck::agg
