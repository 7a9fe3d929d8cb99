// The report in long format, one line per cell, for spreadsheets and scripts (RFC 4180:
// CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled; text that
// a spreadsheet would run as a formula gets a leading apostrophe, see csv_text.h). Numbers
// are written in the shortest form that reads back to the same double; hidden figures and
// NaN are empty fields.
#include <charconv>
#include <cmath>

#include "core/report/figure_text.h"
#include "report/csv_text.h"
#include "report/tabular_report.h"

namespace ck::report {
namespace {

// Text cells: quoted as RFC 4180 says, and never a formula (csv_text.h).
void field(std::string& out, std::string_view s) { appendCsvField(out, s); }

void num(std::string& out, double v) {
    if (!std::isfinite(v)) return;
    // Plain decimals (5400000000, not 5.4e+09) for what a spreadsheet user reads; still the
    // shortest text that reads back to the same double.
    char buf[512];
    auto [end, ec] = std::fabs(v) < 1e15 ? std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed)
                                         : std::to_chars(buf, buf + sizeof buf, v);
    if (ec == std::errc()) out.append(buf, end);
}

const char* kindWord(Cell::Kind k) {
    switch (k) {
    case Cell::Kind::Empty: return "empty";
    case Cell::Kind::Text: return "text";
    case Cell::Kind::Number: return "number";
    case Cell::Kind::Estimate: return "estimate";
    }
    return "empty";
}

}  // namespace

std::string renderCsv(const BaselineReport& report) {
    std::string out = "section,table,row_key,row,column,kind,value,low,high,se,cv,observations,unit,flag\r\n";
    for (const Section& s : report.sections) {
        for (const Table& t : s.tables) {
            for (const Row& r : t.rows) {
                for (size_t i = 0; i < r.cells.size(); ++i) {
                    const Cell& c = r.cells[i];
                    field(out, s.id);
                    out += ',';
                    field(out, t.id);
                    out += ',';
                    field(out, r.key);
                    out += ',';
                    field(out, r.label);
                    out += ',';
                    // A row with more cells than headings still gets a line; its column is blank.
                    field(out, i < t.columns.size() ? std::string_view(t.columns[i]) : std::string_view());
                    out += ',';
                    out += kindWord(c.kind);
                    out += ',';
                    std::string flag;
                    if (c.kind == Cell::Kind::Text) {
                        field(out, c.text);
                        out += ",,,,,,";
                    } else if (c.kind == Cell::Kind::Number) {
                        if (c.shown()) num(out, c.number);
                        else flag = cellText(c);
                        out += ",,,,,,";
                        field(out, c.unit);
                    } else if (c.kind == Cell::Kind::Estimate) {
                        // Same hiding rule as the JSON: the cell's or the estimate's suppression,
                        // or a "suppress" precision flag without a reason.
                        Estimate e = c.estimate;
                        if (c.suppression != Suppression::None) e.suppression = c.suppression;
                        const bool shown = e.suppression == Suppression::None && e.precision != Precision::Suppress;
                        if (shown) num(out, e.value);
                        out += ',';
                        if (shown) num(out, e.low);
                        out += ',';
                        if (shown) num(out, e.high);
                        out += ',';
                        if (shown) num(out, e.se);
                        out += ',';
                        if (shown) num(out, e.cv);
                        out += ',';
                        out += std::to_string(e.observations);
                        out += ',';
                        field(out, c.unit);
                        flag = flagText(e);
                    } else {
                        out += ",,,,,,";
                    }
                    out += ',';
                    field(out, flag);
                    out += "\r\n";
                }
            }
        }
    }
    return out;
}

}  // namespace ck::report
