#include "report/csv_text.h"

#include <charconv>
#include <cmath>

namespace ck::report {

namespace {

bool isPlainNumber(std::string_view s) {
    double v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && end == s.data() + s.size() && std::isfinite(v);
}

}  // namespace

std::string spreadsheetSafe(std::string_view text) {
    if (text.empty()) return {};
    const char first = text.front();
    const bool formulaStart =
        first == '=' || first == '+' || first == '-' || first == '@' || first == '\t' || first == '\r';
    if (!formulaStart || (first == '-' && isPlainNumber(text))) return std::string(text);
    return "'" + std::string(text);
}

void appendCsvField(std::string& out, std::string_view text) {
    const std::string safe = spreadsheetSafe(text);
    if (safe.find_first_of(",\"\r\n") == std::string::npos) {
        out += safe;
        return;
    }
    out += '"';
    for (char ch : safe) {
        if (ch == '"') out += '"';
        out += ch;
    }
    out += '"';
}

}  // namespace ck::report
