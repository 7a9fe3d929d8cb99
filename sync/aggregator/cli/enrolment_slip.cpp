#include "sync/aggregator/cli/enrolment_slip.h"

#include <qrencode.h>

#include <memory>
#include <stdexcept>

namespace ck::agg {
namespace {

constexpr int kQuietZone = 4;  // modules of white around the code, as the QR standard asks

std::string escapeHtml(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out.push_back(c);
        }
    }
    return out;
}

}  // namespace

QrMatrix encodeQr(const std::string& text) {
    // QR_MODE_8 as the hint lets libqrencode pick alphanumeric mode for the string's upper
    // case, digits and dashes, which is what keeps the code small.
    std::unique_ptr<QRcode, decltype(&QRcode_free)> code(QRcode_encodeString(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1),
                                                         &QRcode_free);
    if (!code) throw std::runtime_error("libqrencode could not encode the enrolment string");
    QrMatrix qr;
    qr.size = code->width;
    qr.dark.resize(size_t(qr.size) * size_t(qr.size));
    for (size_t i = 0; i < qr.dark.size(); ++i) qr.dark[i] = (code->data[i] & 1) != 0;
    return qr;
}

std::string qrSvg(const QrMatrix& qr, int pixelsPerModule) {
    const int full = qr.size + 2 * kQuietZone;
    std::string path;
    // One horizontal run of dark modules per subpath: a few hundred, not thousands of rects.
    for (int y = 0; y < qr.size; ++y) {
        for (int x = 0; x < qr.size;) {
            if (!qr.at(x, y)) {
                ++x;
                continue;
            }
            int run = 1;
            while (x + run < qr.size && qr.at(x + run, y)) ++run;
            path += "M" + std::to_string(x + kQuietZone) + "," + std::to_string(y + kQuietZone) + "h" +
                    std::to_string(run) + "v1h-" + std::to_string(run) + "z";
            x += run;
        }
    }
    const std::string px = std::to_string(full * pixelsPerModule);
    return "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qr\" width=\"" + px + "\" height=\"" + px +
           "\" viewBox=\"0 0 " + std::to_string(full) + " " + std::to_string(full) +
           "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code of the enrolment string\">"
           "<rect width=\"" + std::to_string(full) + "\" height=\"" + std::to_string(full) + "\" fill=\"#fff\"/>"
           "<path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

std::string qrTerminal(const QrMatrix& qr) {
    const int full = qr.size + 2 * kQuietZone;
    auto dark = [&](int x, int y) {
        x -= kQuietZone;
        y -= kQuietZone;
        return x >= 0 && y >= 0 && x < qr.size && y < qr.size && qr.at(x, y);
    };
    std::string out;
    for (int y = 0; y < full; y += 2) {
        out += "\x1b[30;47m";  // black on white, whatever the terminal's colours
        for (int x = 0; x < full; ++x) {
            bool top = dark(x, y), bottom = y + 1 < full && dark(x, y + 1);
            if (top && bottom) out += "\xE2\x96\x88";  // full block
            else if (top) out += "\xE2\x96\x80";       // upper half
            else if (bottom) out += "\xE2\x96\x84";    // lower half
            else out += " ";
        }
        out += "\x1b[0m\n";
    }
    return out;
}

std::string slipHtml(const SlipFields& slip) {
    std::string html =
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<title>Enrolment slip: " + escapeHtml(slip.officer) + "</title>\n"
        "<style>\n"
        "body{font-family:'Noto Sans',Arial,sans-serif;margin:2em;max-width:44em;color:#000;background:#fff}\n"
        "h1{font-size:1.4em;margin:0 0 .3em}\n"
        ".qr{display:block;margin:1em 0}\n"
        ".string{font-family:'Noto Sans Mono','DejaVu Sans Mono',monospace;font-size:1.15em;letter-spacing:.05em;"
        "word-spacing:.4em;line-height:1.7;border:1px solid #000;padding:.5em .7em;display:block;overflow-wrap:anywhere}\n"
        "table{border-collapse:collapse;margin-top:1em}td{padding:.2em .8em .2em 0;vertical-align:top}\n"
        "td.v{font-family:'Noto Sans Mono','DejaVu Sans Mono',monospace;overflow-wrap:anywhere}\n"
        ".note{margin-top:1.2em;font-size:.95em}\n"
        "@media print{body{margin:1cm}}\n"
        "</style></head><body>\n"
        "<h1>ClusterKit enrolment slip</h1>\n"
        "<p>" + escapeHtml(slip.aggregatorName) + "</p>\n"
        "<table>\n"
        "<tr><td>Officer</td><td>" + escapeHtml(slip.officer) + "</td></tr>\n"
        "<tr><td>Cluster</td><td>" + escapeHtml(slip.cluster) + "</td></tr>\n"
        "<tr><td>Valid until</td><td>" + escapeHtml(slip.validUntil) + "</td></tr>\n"
        "</table>\n";
    if (!slip.enrolmentString.empty()) {
        // Spaces for the dashes between groups: the browser may break the line there, and the
        // app reads spaces as dashes.
        std::string spaced;
        for (char c : slip.enrolmentString) spaced.push_back(c == '-' ? ' ' : c);
        html += "<h2>Enrol in one step</h2>\n"
                "<p>Scan the code, or paste or type the enrolment string into the app's Enrolment screen. "
                "A typing mistake is caught and its group named.</p>\n" +
                qrSvg(encodeQr(slip.enrolmentString), 5) + "\n<code class=\"string\" id=\"enrolment-string\">" +
                escapeHtml(spaced) + "</code>\n";
    }
    html += "<h2>The same, line by line</h2>\n<table>\n";
    for (const auto& server : slip.servers)
        html += "<tr><td>Server</td><td class=\"v\">" + escapeHtml(server) + "</td></tr>\n";
    if (!slip.tlsPin.empty()) html += "<tr><td>Server key (TLS pin)</td><td class=\"v\">" + escapeHtml(slip.tlsPin) + "</td></tr>\n";
    html += "<tr><td>One-time code</td><td class=\"v\">" + escapeHtml(slip.code) + "</td></tr>\n"
            "<tr><td>Data key fingerprint</td><td class=\"v\">" + escapeHtml(slip.ingestKey) + "</td></tr>\n"
            "<tr><td>Template key fingerprint</td><td class=\"v\">" + escapeHtml(slip.templateKey) + "</td></tr>\n"
            "</table>\n"
            "<p class=\"note\">The code enrols one device, once. Keep this slip private until it is used. After "
            "enrolling, the app shows two key fingerprints: they must match the ones above; if one differs, do not "
            "sync and tell your coordinator.</p>\n"
            "</body></html>\n";
    return html;
}

}  // namespace ck::agg
