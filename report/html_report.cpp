#include "report/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/report/figure_text.h"

namespace ck::report {

namespace {

// Chart colours: a sober blue and a muted amber (PairedBars' second series), both dark enough
// to stay distinct when printed in grey.
constexpr const char* kSeriesColour[2] = {"#1f5f8b", "#d08a1c"};

// Every text from the report passes through here, attributes included.
std::string esc(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 16);
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

std::string num(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

std::string utcText(int64_t unixSeconds) {
    std::time_t t = static_cast<std::time_t>(unixSeconds);
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) return "unknown";
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

constexpr const char* kStyle = R"css(
@page { size: A4; margin: 16mm 15mm 18mm 15mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Noto Sans", "Noto Sans Devanagari", sans-serif; color: #1a1a1a; background: #fff;
       font-size: 10.5pt; line-height: 1.4; margin: 0 auto; max-width: 190mm; padding: 8mm 6mm; }
h1 { font-size: 18pt; margin: 0 0 2mm 0; font-weight: 700; }
h2 { font-size: 14pt; margin: 0 0 3mm 0; padding-bottom: 1mm; border-bottom: 1.5pt solid #1f5f8b; }
h3 { font-size: 11.5pt; margin: 5mm 0 1mm 0; }
header.report-head { border-bottom: 0.75pt solid #888; padding-bottom: 3mm; margin-bottom: 5mm; }
.scope { font-size: 11pt; margin: 0 0 2mm 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.5mm 4mm; margin: 2mm 0; font-size: 9.5pt; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
.banner { margin: 3mm 0 0 0; padding: 2mm 3mm; border-left: 3pt solid; font-weight: 600; font-size: 10pt; }
.banner.weighted { border-color: #1f5f8b; background: #eef4f8; }
.banner.sample { border-color: #b34700; background: #fbefe6; }
section.section { margin-bottom: 8mm; }
ul.highlights { margin: 0 0 3mm 0; padding-left: 5mm; }
ul.highlights li { margin: 0.5mm 0; }
.note { color: #444; font-size: 9pt; margin: 0 0 1.5mm 0; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm 0; font-size: 9.5pt; }
thead { display: table-header-group; }
th, td { padding: 1.2mm 2mm; border-bottom: 0.5pt solid #ccc; vertical-align: top; }
thead th { border-bottom: 1pt solid #333; text-align: left; font-weight: 600; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody th { text-align: left; font-weight: normal; }
tr.total th, tr.total td { font-weight: 700; border-top: 1pt solid #333; }
.ci { display: block; font-size: 7.5pt; color: #555; }
.flag { display: block; font-size: 7.5pt; font-style: italic; color: #8a4b00; }
td.hidden { color: #666; font-style: italic; font-size: 8.5pt; }
tr, figure.chart, svg.chart { break-inside: avoid; page-break-inside: avoid; }
figure.chart { margin: 2mm 0 4mm 0; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font-family: "Noto Sans", "Noto Sans Devanagari", sans-serif; fill: #1a1a1a; }
svg.chart text.why { fill: #666; font-style: italic; }
.nothing { font-size: 12pt; padding: 6mm; border: 0.75pt dashed #888; }
footer.report-foot { border-top: 0.75pt solid #888; margin-top: 8mm; padding-top: 3mm; font-size: 9pt; break-inside: avoid; }
footer.report-foot h2 { font-size: 11pt; border: none; }
.hash code { font-family: "Noto Sans Mono", monospace; word-break: break-all; }
@media print {
  body { padding: 0; max-width: none; }
  section.section + section.section { break-before: page; page-break-before: always; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
)css";

// What a chart draws for one row and one series: a value and, for BarsWithIntervals, its
// interval; or nothing, with the reason in the label.
struct Mark {
    bool drawn = false;
    double value = 0, low = NAN, high = NAN;
    std::string why;  // hidden: the reason; missing: "no figure"
};

Mark markOf(const Cell& c, const FigureWords& fw) {
    Mark m;
    if (c.kind != Cell::Kind::Number && c.kind != Cell::Kind::Estimate) {
        m.why = c.kind == Cell::Kind::Text && !c.text.empty() ? c.text : "no figure";
        return m;
    }
    if (!c.shown() || (c.kind == Cell::Kind::Estimate && !c.estimate.shown())) {
        m.why = cellText(c, fw);
        return m;
    }
    double v = c.kind == Cell::Kind::Number ? c.number : c.estimate.value;
    if (!std::isfinite(v)) {
        m.why = "no figure";
        return m;
    }
    m.drawn = true;
    m.value = v;
    if (c.kind == Cell::Kind::Estimate) {
        m.low = c.estimate.low;
        m.high = c.estimate.high;
    }
    return m;
}

// A round step so that the axis reads 0, 20, 40 ... rather than 0, 17.3, 34.6.
double niceStep(double span) {
    if (!(span > 0)) return 1;
    double raw = span / 5;
    double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double f : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (raw <= f * mag) return f * mag;
    return 10 * mag;
}

// How wide a text draws, estimated generously from its characters (Noto Sans: Latin about
// 0.6 em, capitals and digits a little more; a Devanagari letter about 0.7 em, its vowel signs
// 0.3 em or nothing), so that wrapping errs on the side of room to spare.
double textWidth(std::string_view s, double fontSize) {
    double em = 0;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        uint32_t cp = c;
        size_t len = 1;
        if (c >= 0xF0 && i + 3 < s.size()) cp = (c & 0x07u) << 18 | (s[i + 1] & 0x3Fu) << 12 | (s[i + 2] & 0x3Fu) << 6 | (s[i + 3] & 0x3Fu), len = 4;
        else if (c >= 0xE0 && i + 2 < s.size()) cp = (c & 0x0Fu) << 12 | (s[i + 1] & 0x3Fu) << 6 | (s[i + 2] & 0x3Fu), len = 3;
        else if (c >= 0xC0 && i + 1 < s.size()) cp = (c & 0x1Fu) << 6 | (s[i + 1] & 0x3Fu), len = 2;
        i += len;
        if (cp >= 0x0900 && cp <= 0x097F) {
            bool nonSpacing = (cp <= 0x0902) || cp == 0x093A || cp == 0x093C || (cp >= 0x0941 && cp <= 0x0948) || cp == 0x094D ||
                              (cp >= 0x0951 && cp <= 0x0957) || cp == 0x0962 || cp == 0x0963;
            bool narrowSign = cp == 0x0903 || cp == 0x093B || cp == 0x093E || cp == 0x093F || cp == 0x0940 ||
                              (cp >= 0x0949 && cp <= 0x094C) || cp == 0x094E || cp == 0x094F;
            em += nonSpacing ? 0.0 : narrowSign ? 0.35 : 0.72;
        } else if (cp == ' ') {
            em += 0.28;
        } else if (cp == 'i' || cp == 'l' || cp == 'j' || cp == '.' || cp == ',' || cp == ':' || cp == ';' || cp == '\'' || cp == '|' || cp == '!') {
            em += 0.3;
        } else if (cp == 'W' || cp == 'M' || cp == 'm' || cp == 'w' || cp == '%' || cp == '@' || cp >= 0x2000) {
            em += 1.0;
        } else if (cp >= 'A' && cp <= 'Z') {
            em += 0.75;
        } else {
            em += 0.62;
        }
    }
    return em * fontSize;
}

// Breaks a text into lines no wider than `maxWidth`: at spaces where it can, inside a word
// that alone is too long (between UTF-8 characters, never inside one).
std::vector<std::string> wrapText(const std::string& text, double maxWidth, double fontSize) {
    std::vector<std::string> out;
    std::string line;
    auto push = [&](std::string& l) {
        if (!l.empty()) out.push_back(l);
        l.clear();
    };
    size_t i = 0;
    while (i < text.size()) {
        size_t end = text.find(' ', i);
        if (end == std::string::npos) end = text.size();
        std::string word = text.substr(i, end - i);
        i = end + 1;
        if (word.empty()) continue;
        std::string candidate = line.empty() ? word : line + " " + word;
        if (textWidth(candidate, fontSize) <= maxWidth) {
            line = candidate;
            continue;
        }
        push(line);
        // A word too long for a line on its own is cut between characters.
        while (textWidth(word, fontSize) > maxWidth) {
            size_t cut = 0, k = 0;
            while (k < word.size()) {
                size_t next = k + 1;
                while (next < word.size() && (static_cast<unsigned char>(word[next]) & 0xC0) == 0x80) ++next;
                if (textWidth(word.substr(0, next), fontSize) > maxWidth) break;
                cut = k = next;
            }
            if (cut == 0) {  // not even one character fits: take one anyway
                cut = 1;
                while (cut < word.size() && (static_cast<unsigned char>(word[cut]) & 0xC0) == 0x80) ++cut;
            }
            out.push_back(word.substr(0, cut));
            word.erase(0, cut);
        }
        line = word;
    }
    push(line);
    if (out.empty()) out.push_back("");
    return out;
}

// Horizontal bars (labels stay readable, Devanagari included), in viewBox units so the chart
// scales to the page and prints sharp.
std::string renderChart(const Table& t, const FigureWords& fw) {
    const ChartSpec& spec = t.chart;
    if (spec.kind == ChartSpec::Kind::None) return "";
    size_t series = spec.kind == ChartSpec::Kind::PairedBars ? 2 : 1;
    if (spec.valueColumns.size() < series) return "";
    for (size_t s = 0; s < series; ++s)
        if (spec.valueColumns[s] >= t.columns.size()) return "";
    bool intervals = spec.kind == ChartSpec::Kind::BarsWithIntervals;

    // Totals are left out: drawn beside their parts they would dwarf them.
    std::vector<const Row*> rows;
    for (const Row& r : t.rows)
        if (!r.isTotal) rows.push_back(&r);
    if (rows.empty()) return "";

    std::string unit;
    for (const Row* r : rows) {
        size_t c = spec.valueColumns[0];
        if (c < r->cells.size() && !r->cells[c].unit.empty()) { unit = r->cells[c].unit; break; }
    }

    std::vector<std::vector<Mark>> marks(rows.size(), std::vector<Mark>(series));
    double lo = 0, hi = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        for (size_t s = 0; s < series; ++s) {
            size_t c = spec.valueColumns[s];
            Mark m = c < rows[i]->cells.size() ? markOf(rows[i]->cells[c], fw) : Mark{false, 0, NAN, NAN, "no figure"};
            if (m.drawn) {
                lo = std::min(lo, m.value);
                hi = std::max(hi, m.value);
                if (intervals && std::isfinite(m.low) && std::isfinite(m.high)) {
                    lo = std::min(lo, m.low);
                    hi = std::max(hi, m.high);
                }
            }
            marks[i][s] = m;
        }
    }
    // Shares stay on their natural 0-100 scale when they can, so bars compare across charts.
    if (unit == "%" && lo >= 0 && hi <= 100) hi = 100;
    double step = niceStep(hi - lo);
    lo = std::floor(lo / step) * step;
    hi = std::ceil(hi / step) * step;
    if (hi <= lo) hi = lo + step;
    // Figures near the limits of a double (bad input) would give an infinite scale: no chart
    // then, the table still says everything.
    if (!std::isfinite(lo) || !std::isfinite(hi) || !std::isfinite(step) || !(hi - lo > 0)) return "";

    // Labels wrap onto as many lines as they need inside a label column sized to the longest
    // label (within limits), and the figures right of the bars get a margin as wide as the
    // widest of them, so no text is ever cut off at the edge of the chart (checked in Chromium).
    const double labelFont = 13, valueFont = 11, lineH = 15;
    double longestLabel = 0, longestValue = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        longestLabel = std::max(longestLabel, textWidth(rows[i]->label, labelFont));
        for (size_t s = 0; s < series; ++s) {
            size_t c = spec.valueColumns[s];
            if (marks[i][s].drawn && c < rows[i]->cells.size())
                longestValue = std::max(longestValue, textWidth(cellText(rows[i]->cells[c], fw), valueFont));
        }
    }
    const double labelW = std::clamp(longestLabel, 120.0, 300.0);
    const double valueRoom = std::max(40.0, longestValue + 12);
    const double plotX = labelW + 14, plotW = std::max(240.0, 720 - plotX - valueRoom);
    double width = plotX + plotW + valueRoom;
    const double barH = series == 2 ? 12 : 18, baseRowH = series == 2 ? 36 : 30;

    // Legend: the series names side by side, measured.
    double legendEnd = plotX;
    std::vector<double> legendX;
    if (series == 2)
        for (size_t s = 0; s < 2; ++s) {
            legendX.push_back(legendEnd);
            legendEnd += 20 + textWidth(t.columns[spec.valueColumns[s]], 13) + 24;
        }
    width = std::max(width, legendEnd);
    const double legendH = series == 2 ? 26 : 0, top = 10 + legendH;

    // Each row: its label lines, its "why" lines (the reason a bar is missing), its height.
    struct RowLayout {
        std::vector<std::string> label, why;
        double y = 0, h = 0;
    };
    std::vector<RowLayout> lay(rows.size());
    double plotH = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        RowLayout& L = lay[i];
        L.label = wrapText(rows[i]->label, labelW, labelFont);
        std::string why;
        for (size_t s = 0; s < series; ++s)
            if (!marks[i][s].drawn) {
                std::string reason = marks[i][s].why;
                if (series == 2) reason = t.columns[spec.valueColumns[s]] + ": " + reason;
                why += (why.empty() ? "" : "; ") + reason;
            }
        if (!why.empty()) L.why = wrapText(why, width - plotX - 8, valueFont);
        size_t lines = std::max(L.label.size(), L.why.size());
        L.y = top + plotH;
        L.h = std::max(baseRowH, double(lines) * lineH + 10);
        plotH += L.h;
    }
    const double height = top + plotH + 44;
    auto xOf = [&](double v) { return plotX + (v - lo) / (hi - lo) * plotW; };
    // Lines of text centred on a row: <text> with one <tspan> per line.
    auto lines = [&](const std::vector<std::string>& ls, double x, double rowY, double rowH, double font, const char* attrs) {
        double first = rowY + rowH / 2 - (double(ls.size()) - 1) * lineH / 2 + font * 0.35;
        std::string out = std::string("<text") + attrs + " x=\"" + num(x) + "\" y=\"" + num(first) + "\" font-size=\"" + num(font) + "\">";
        if (ls.size() == 1) return out + esc(ls[0]) + "</text>";
        for (size_t k = 0; k < ls.size(); ++k)
            out += "<tspan x=\"" + num(x) + "\"" + (k ? " dy=\"" + num(lineH) + "\"" : std::string()) + ">" + esc(ls[k]) + "</tspan>";
        return out + "</text>";
    };

    std::string svg;
    svg += "<figure class=\"chart\"><svg class=\"chart\" viewBox=\"0 0 " +
           num(width) + " " + num(height) + "\" role=\"img\" aria-label=\"" + esc(t.title) + "\">";
    svg += "<title>" + esc(t.title) + "</title>";
    for (size_t s = 0; s < legendX.size(); ++s) {
        double x = legendX[s];
        svg += "<g class=\"legend\"><rect x=\"" + num(x) + "\" y=\"8\" width=\"14\" height=\"14\" fill=\"" +
               kSeriesColour[s] + "\"/><text x=\"" + num(x + 20) + "\" y=\"20\" font-size=\"13\">" +
               esc(t.columns[spec.valueColumns[s]]) + "</text></g>";
    }
    // Grid and ticks.
    for (int tick = 0; tick <= 12; ++tick) {
        double v = lo + step * tick;
        if (v > hi + step / 2) break;
        double x = xOf(v);
        svg += "<line x1=\"" + num(x) + "\" y1=\"" + num(top) + "\" x2=\"" + num(x) + "\" y2=\"" + num(top + plotH) +
               "\" stroke=\"#dddddd\" stroke-width=\"1\"/>";
        svg += "<text x=\"" + num(x) + "\" y=\"" + num(top + plotH + 16) +
               "\" font-size=\"11\" text-anchor=\"middle\">" + esc(groupIndian(v, step < 1 ? 1 : 0)) + "</text>";
    }
    // The axis label under the plot, moved left if a long one would run past the right edge.
    double axisW = textWidth(spec.axisLabel, 12);
    double axisX = std::min(plotX + plotW / 2, width - axisW / 2 - 4);
    axisX = std::max(axisX, axisW / 2 + 4);
    svg += "<text x=\"" + num(axisX) + "\" y=\"" + num(top + plotH + 36) +
           "\" font-size=\"12\" text-anchor=\"middle\">" + esc(spec.axisLabel) + "</text>";

    for (size_t i = 0; i < rows.size(); ++i) {
        const RowLayout& L = lay[i];
        svg += lines(L.label, labelW, L.y, L.h, labelFont, " text-anchor=\"end\" class=\"label\"");
        for (size_t s = 0; s < series; ++s) {
            const Mark& m = marks[i][s];
            if (!m.drawn) continue;
            double y = L.y + (L.h - barH * double(series)) / 2 + barH * double(s);
            double x0 = xOf(std::max(lo, std::min(0.0, hi))), x1 = xOf(m.value);
            svg += "<rect class=\"bar\" x=\"" + num(std::min(x0, x1)) + "\" y=\"" + num(y) + "\" width=\"" +
                   num(std::max(std::fabs(x1 - x0), 0.5)) + "\" height=\"" + num(barH) + "\" fill=\"" +
                   kSeriesColour[s] + "\"/>";
            double textX = std::max(x0, x1) + 4;
            if (intervals && std::isfinite(m.low) && std::isfinite(m.high)) {
                double xl = xOf(m.low), xh = xOf(m.high), ym = y + barH / 2;
                svg += "<g class=\"whisker\" stroke=\"#222222\" stroke-width=\"1.5\">"
                       "<line x1=\"" + num(xl) + "\" y1=\"" + num(ym) + "\" x2=\"" + num(xh) + "\" y2=\"" + num(ym) +
                       "\"/><line x1=\"" + num(xl) + "\" y1=\"" + num(y + 2) + "\" x2=\"" + num(xl) + "\" y2=\"" +
                       num(y + barH - 2) + "\"/><line x1=\"" + num(xh) + "\" y1=\"" + num(y + 2) + "\" x2=\"" +
                       num(xh) + "\" y2=\"" + num(y + barH - 2) + "\"/></g>";
                textX = std::max(textX, xh + 4);
            }
            size_t c = spec.valueColumns[s];
            svg += "<text x=\"" + num(textX) + "\" y=\"" + num(y + barH / 2 + 4) + "\" font-size=\"11\">" +
                   esc(cellText(rows[i]->cells[c], fw)) + "</text>";
        }
        if (!L.why.empty()) svg += lines(L.why, plotX + 4, L.y, L.h, valueFont, " class=\"why\"");
    }
    // The zero line, drawn last so bars do not cover it.
    double zx = xOf(std::max(lo, std::min(0.0, hi)));
    svg += "<line x1=\"" + num(zx) + "\" y1=\"" + num(top) + "\" x2=\"" + num(zx) + "\" y2=\"" + num(top + plotH) +
           "\" stroke=\"#333333\" stroke-width=\"1\"/>";
    svg += "</svg></figure>\n";
    return svg;
}

std::string renderCell(const Cell& c, const PageWords& words) {
    switch (c.kind) {
        case Cell::Kind::Empty: return "<td class=\"num\"></td>";
        case Cell::Kind::Text: return "<td>" + esc(c.text) + "</td>";
        default: break;
    }
    bool hidden = !c.shown() || (c.kind == Cell::Kind::Estimate && !c.estimate.shown());
    if (hidden) return "<td class=\"num hidden\">" + esc(cellText(c, words.figures)) + "</td>";
    std::string out = "<td class=\"num\"><span class=\"v\">" + esc(cellText(c, words.figures)) + "</span>";
    if (c.kind == Cell::Kind::Estimate) {
        std::string ci = intervalText(c, words.figures);
        if (!ci.empty()) out += "<span class=\"ci\">" + esc(words.interval) + " " + esc(ci) + "</span>";
        std::string flag = flagText(c.estimate, words.figures);
        if (!flag.empty()) out += "<span class=\"flag\">" + esc(flag) + "</span>";
    }
    return out + "</td>";
}

std::string renderTable(const Table& t, const PageWords& words) {
    std::string h = "<div class=\"table-block\" id=\"t-" + esc(t.id) + "\">\n<h3>" + esc(t.title) + "</h3>\n";
    if (!t.note.empty()) h += "<p class=\"note\">" + esc(t.note) + "</p>\n";
    h += "<table>\n<thead><tr><th scope=\"col\"></th>";
    for (const std::string& c : t.columns) h += "<th scope=\"col\" class=\"num\">" + esc(c) + "</th>";
    h += "</tr></thead>\n<tbody>\n";
    for (const Row& r : t.rows) {
        h += r.isTotal ? "<tr class=\"total\">" : "<tr>";
        h += "<th scope=\"row\">" + esc(r.label) + "</th>";
        // One cell per column: a short row is padded, extra cells are not printed under no heading.
        for (size_t i = 0; i < t.columns.size(); ++i) h += i < r.cells.size() ? renderCell(r.cells[i], words) : "<td></td>";
        h += "</tr>\n";
    }
    h += "</tbody>\n</table>\n";
    h += renderChart(t, words.figures);
    return h + "</div>\n";
}

}  // namespace

std::string renderHtml(const BaselineReport& r) {
    std::string h;
    h.reserve(64 * 1024);
    h += "<!DOCTYPE html>\n<html lang=\"" + esc(r.words.language) + "\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    h += "<title>" + esc(r.title) + "</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";

    h += "<header class=\"report-head\">\n<h1>" + esc(r.title) + "</h1>\n";
    if (!r.scopeLabel.empty()) h += "<p class=\"scope\">" + esc(r.scopeLabel) + "</p>\n";
    h += "<dl class=\"facts\">";
    h += "<dt>" + esc(r.words.templateLabel) + "</dt><dd>" + esc(r.templateId + "@" + r.templateVersion) + "</dd>";
    h += "<dt>" + esc(r.words.built) + "</dt><dd>" + esc(utcText(r.builtAt)) + "</dd>";
    h += "<dt>" + esc(r.words.visited) + "</dt><dd>" + esc(groupIndian(double(r.visits), 0)) + "</dd>";
    std::string answered = groupIndian(double(r.responded), 0);
    if (r.visits > 0) {
        std::string rate = groupIndian(100.0 * double(r.responded) / double(r.visits), 1) + "%";
        std::string said = r.words.response;
        if (auto at = said.find("{rate}"); at != std::string::npos) said.replace(at, 6, rate);
        answered += " (" + said + ")";
    }
    h += "<dt>" + esc(r.words.interviewed) + "</dt><dd>" + esc(answered) + "</dd>";
    h += "</dl>\n";
    if (r.weighted)
        h += "<p class=\"banner weighted\">" + esc(r.words.weighted) + "</p>\n";
    else
        h += "<p class=\"banner sample\">" + esc(r.words.sample) + "</p>\n";
    h += "</header>\n<main>\n";

    if (r.sections.empty())
        h += "<p class=\"nothing\">" + esc(r.words.nothing) + "</p>\n";
    for (const Section& s : r.sections) {
        h += "<section class=\"section\" id=\"s-" + esc(s.id) + "\">\n<h2>" + esc(s.title) + "</h2>\n";
        if (!s.highlights.empty()) {
            h += "<ul class=\"highlights\">\n";
            for (const std::string& l : s.highlights) h += "<li>" + esc(l) + "</li>\n";
            h += "</ul>\n";
        }
        for (const Table& t : s.tables) h += renderTable(t, r.words);
        h += "</section>\n";
    }
    h += "</main>\n<footer class=\"report-foot\">\n";
    if (!r.methodNotes.empty()) {
        h += "<h2>" + esc(r.words.methodNotes) + "</h2>\n<ul>\n";
        for (const std::string& n : r.methodNotes) h += "<li>" + esc(n) + "</li>\n";
        h += "</ul>\n";
    }
    h += "<p class=\"hash\">" + esc(r.words.inputsHash) + ": <code>" + esc(r.inputsHash.empty() ? r.words.notRecorded : r.inputsHash) +
         "</code></p>\n</footer>\n</body>\n</html>\n";
    return h;
}

}  // namespace ck::report
