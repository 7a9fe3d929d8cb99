// The workbook for analysts (libxlsxwriter). Layout of a table sheet:
//   row 0  the table's title, row 1 its note,
//   row 3  the column headings, each spanning its sub-columns (merged),
//   row 4  the sub-column names: "Row key", "Row", then per heading either
//          Estimate, Low, High, SE, CV, Observations, Flag (a column holding any estimate) or
//          Value [, Flag] (a column of counts, figures or text),
//   row 5+ one row per table row; panes frozen below row 4 and right of the labels.
// Figures are numbers with number formats (never text), so a formula or a pivot sees the
// value the builder computed; a hidden figure is a blank cell with the reason in its Flag.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <stdexcept>
#include <system_error>

#include <xlsxwriter.h>

#include "core/report/figure_text.h"
#include "report/tabular_report.h"

namespace ck::report {
namespace {

constexpr lxw_row_t kTitleRow = 0, kNoteRow = 1, kGroupRow = 3, kHeadRow = 4, kFirstDataRow = 5;
constexpr lxw_col_t kKeyCol = 0, kLabelCol = 1, kFirstValueCol = 2;
// Excel's limit on a cell's text.
constexpr size_t kMaxCellText = 32767;

struct Formats {
    lxw_format* title = nullptr;
    lxw_format* bold = nullptr;
    lxw_format* head = nullptr;
    lxw_format* wrap = nullptr;
    lxw_format* percent = nullptr;   // display-unit percent: 34.5 -> "34.5%"
    lxw_format* rupees = nullptr;    // Indian grouping: 12,34,567
    lxw_format* count = nullptr;
    lxw_format* plain = nullptr;     // other figures: two decimals at most
    lxw_format* cv = nullptr;        // a fraction shown as a percent
    lxw_format* totalBold = nullptr;
};

Formats makeFormats(lxw_workbook* wb) {
    Formats f;
    f.title = workbook_add_format(wb);
    format_set_bold(f.title);
    format_set_font_size(f.title, 13);
    f.bold = workbook_add_format(wb);
    format_set_bold(f.bold);
    f.head = workbook_add_format(wb);
    format_set_bold(f.head);
    format_set_bottom(f.head, LXW_BORDER_THIN);
    format_set_text_wrap(f.head);
    format_set_align(f.head, LXW_ALIGN_CENTER);
    f.wrap = workbook_add_format(wb);
    format_set_text_wrap(f.wrap);
    format_set_align(f.wrap, LXW_ALIGN_VERTICAL_TOP);
    // Shares are already in display units (0-100), so the '%' is a literal, not Excel's x100.
    f.percent = workbook_add_format(wb);
    format_set_num_format(f.percent, "0.0\"%\"");
    // Lakh and crore grouping by conditional sections; negatives (rare for money) fall to the
    // last section and keep Western grouping.
    f.rupees = workbook_add_format(wb);
    format_set_num_format(f.rupees, "[>=10000000]##\\,##\\,##\\,##0;[>=100000]##\\,##\\,##0;##,##0");
    f.count = workbook_add_format(wb);
    format_set_num_format(f.count, "#,##0");
    f.plain = workbook_add_format(wb);
    format_set_num_format(f.plain, "#,##0.0#");
    f.cv = workbook_add_format(wb);
    format_set_num_format(f.cv, "0.0%");
    f.totalBold = workbook_add_format(wb);
    format_set_bold(f.totalBold);
    format_set_top(f.totalBold, LXW_BORDER_THIN);
    return f;
}

lxw_format* formatFor(const Formats& f, const std::string& unit) {
    if (unit.rfind('%', 0) == 0) return f.percent;  // "%", "% per year"
    if (unit.rfind("INR", 0) == 0) return f.rupees;  // "INR", "INR per worker"
    if (unit == "units" || unit == "visits" || unit == "firms" || unit == "workers") return f.count;
    return f.plain;
}

std::string clip(std::string s) {
    if (s.size() <= kMaxCellText) return s;
    size_t n = kMaxCellText;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // keep UTF-8 whole
    s.resize(n);
    return s;
}

void text(lxw_worksheet* ws, lxw_row_t r, lxw_col_t c, const std::string& s, lxw_format* fmt = nullptr) {
    if (s.empty()) return;
    worksheet_write_string(ws, r, c, clip(s).c_str(), fmt);
}

void figure(lxw_worksheet* ws, lxw_row_t r, lxw_col_t c, double v, lxw_format* fmt) {
    if (std::isfinite(v)) worksheet_write_number(ws, r, c, v, fmt);
}

std::string isoUtc(int64_t unixSeconds) {
    std::time_t t = static_cast<std::time_t>(unixSeconds);
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

// Sheet names: at most 31 characters (counted as characters, not bytes), none of []:*?/\,
// not starting or ending with an apostrophe, unique ignoring case ("Report" is taken).
std::string sheetName(const std::string& id, std::set<std::string>& taken) {
    std::string base;
    for (char ch : id) base += std::strchr("[]:*?/\\", ch) && ch ? '_' : ch;
    while (!base.empty() && base.front() == '\'') base.erase(base.begin());
    while (!base.empty() && base.back() == '\'') base.pop_back();
    if (base.empty()) base = "Table";
    auto clipChars = [](const std::string& s, size_t maxChars) {
        size_t chars = 0, i = 0;
        for (; i < s.size(); ++i) {
            if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
                if (chars == maxChars) break;
                ++chars;
            }
        }
        return s.substr(0, i);
    };
    auto lower = [](std::string s) {
        for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return s;
    };
    std::string name = clipChars(base, 31);
    for (int n = 2; taken.count(lower(name)); ++n) {
        std::string suffix = "~" + std::to_string(n);
        name = clipChars(base, 31 - suffix.size()) + suffix;
    }
    taken.insert(lower(name));
    return name;
}

// One table column as laid out on the sheet.
struct ColumnLayout {
    lxw_col_t first = 0;
    bool estimates = false;  // Estimate, Low, High, SE, CV, Observations, Flag
    bool flag = false;       // Value, Flag (non-estimate columns with a hidden cell)
    lxw_col_t width() const { return estimates ? 7 : (flag ? 2 : 1); }
};

bool hiddenEstimate(const Cell& c, Estimate& e) {
    e = c.estimate;
    if (c.suppression != Suppression::None) e.suppression = c.suppression;
    return !(e.suppression == Suppression::None && e.precision != Precision::Suppress);
}

void writeReportSheet(lxw_workbook* wb, const BaselineReport& report, const Formats& f,
                      const std::vector<std::pair<std::string, const Table*>>& sheets) {
    lxw_worksheet* ws = workbook_add_worksheet(wb, "Report");
    worksheet_set_column(ws, 0, 0, 22, f.bold);
    worksheet_set_column(ws, 1, 1, 100, f.wrap);
    lxw_row_t r = 0;
    text(ws, r++, 0, report.title, f.title);
    ++r;
    auto pair = [&](const std::string& label, const std::string& value) {
        text(ws, r, 0, label, f.bold);
        text(ws, r, 1, value);
        ++r;
    };
    pair("Scope", report.scopeLabel);
    pair("Scope name", report.scope.name);
    pair(report.words.templateLabel, report.templateId + " " + report.templateVersion);
    pair("Built at", isoUtc(report.builtAt));
    pair(report.words.inputsHash, report.inputsHash);
    pair("Weighted", report.weighted ? "yes: register counts give the weights" : "no: sample only, every unit weighs 1");
    text(ws, r, 0, report.words.visited, f.bold);
    worksheet_write_number(ws, r++, 1, double(report.visits), nullptr);
    text(ws, r, 0, report.words.interviewed, f.bold);
    worksheet_write_number(ws, r++, 1, double(report.responded), nullptr);
    ++r;
    text(ws, r++, 0, report.words.methodNotes, f.bold);
    for (const std::string& note : report.methodNotes) text(ws, r++, 1, note);
    ++r;
    text(ws, r++, 0, "Highlights", f.bold);
    for (const Section& s : report.sections) {
        if (s.highlights.empty()) continue;
        text(ws, r, 0, s.title);
        for (const std::string& h : s.highlights) text(ws, r++, 1, h);
    }
    ++r;
    text(ws, r, 0, "Sheet", f.bold);
    text(ws, r++, 1, "Table", f.bold);
    for (const auto& [name, table] : sheets) {
        text(ws, r, 0, name);
        text(ws, r++, 1, table->title);
    }
}

void addChart(lxw_workbook* wb, lxw_worksheet* ws, const std::string& sheet, const Table& t,
              const std::vector<ColumnLayout>& layout, lxw_col_t chartCol) {
    const ChartSpec& spec = t.chart;
    if (spec.kind == ChartSpec::Kind::None || t.rows.empty()) return;
    std::vector<size_t> cols;
    for (size_t c : spec.valueColumns)
        if (c < layout.size()) cols.push_back(c);
    if (cols.empty()) return;
    if (spec.kind != ChartSpec::Kind::PairedBars) cols.resize(1);
    const lxw_row_t last = kFirstDataRow + lxw_row_t(t.rows.size()) - 1;
    const char* sh = sheet.c_str();
    lxw_chart* chart = nullptr;
    if (spec.kind == ChartSpec::Kind::BarsWithIntervals && layout[cols[0]].estimates) {
        // libxlsxwriter 1.1 has no custom error bars (only fixed, percentage, SD and SE of
        // the series), so the interval is drawn as a line chart without lines: Low and High
        // as dashes, the estimate as a diamond, joined by high-low lines, one per row.
        chart = workbook_add_chart(wb, LXW_CHART_LINE);
        const lxw_col_t first = layout[cols[0]].first;
        const struct { lxw_col_t col; uint8_t marker; } parts[] = {
            {lxw_col_t(first + 1), LXW_CHART_MARKER_LONG_DASH},
            {first, LXW_CHART_MARKER_DIAMOND},
            {lxw_col_t(first + 2), LXW_CHART_MARKER_LONG_DASH}};
        lxw_chart_line none{};
        none.none = LXW_TRUE;
        for (const auto& p : parts) {
            lxw_chart_series* s = chart_add_series(chart, nullptr, nullptr);
            chart_series_set_categories(s, sh, kFirstDataRow, kLabelCol, last, kLabelCol);
            chart_series_set_values(s, sh, kFirstDataRow, p.col, last, p.col);
            chart_series_set_name_range(s, sh, kHeadRow, p.col);
            chart_series_set_line(s, &none);
            chart_series_set_marker_type(s, p.marker);
            chart_series_set_marker_size(s, 8);
        }
        lxw_chart_line hl{};
        hl.color = 0x404040;
        hl.width = 1.5f;
        chart_set_high_low_lines(chart, &hl);
    } else {
        chart = workbook_add_chart(wb, LXW_CHART_COLUMN);
        for (size_t c : cols) {
            lxw_chart_series* s = chart_add_series(chart, nullptr, nullptr);
            chart_series_set_categories(s, sh, kFirstDataRow, kLabelCol, last, kLabelCol);
            chart_series_set_values(s, sh, kFirstDataRow, layout[c].first, last, layout[c].first);
            if (c < t.columns.size()) chart_series_set_name(s, clip(t.columns[c]).c_str());
        }
        if (cols.size() < 2) chart_legend_set_position(chart, LXW_CHART_LEGEND_NONE);
    }
    chart_title_set_name(chart, clip(t.title).c_str());
    if (!spec.axisLabel.empty()) chart_axis_set_name(chart->y_axis, clip(spec.axisLabel).c_str());
    worksheet_insert_chart(ws, kHeadRow, chartCol + 1, chart);
}

void writeTableSheet(lxw_workbook* wb, const std::string& name, const Table& t, const Formats& f) {
    lxw_worksheet* ws = workbook_add_worksheet(wb, name.c_str());
    text(ws, kTitleRow, 0, t.title, f.title);
    text(ws, kNoteRow, 0, t.note);

    size_t ncols = t.columns.size();
    for (const Row& r : t.rows) ncols = std::max(ncols, r.cells.size());
    std::vector<ColumnLayout> layout(ncols);
    lxw_col_t col = kFirstValueCol;
    for (size_t i = 0; i < ncols; ++i) {
        for (const Row& r : t.rows) {
            if (i >= r.cells.size()) continue;
            if (r.cells[i].kind == Cell::Kind::Estimate) layout[i].estimates = true;
            if (!r.cells[i].shown()) layout[i].flag = true;
        }
        layout[i].first = col;
        col = lxw_col_t(col + layout[i].width());
    }
    const lxw_col_t lastCol = col == kFirstValueCol ? kLabelCol : lxw_col_t(col - 1);

    text(ws, kHeadRow, kKeyCol, "Row key", f.head);
    text(ws, kHeadRow, kLabelCol, "Row", f.head);
    worksheet_set_column(ws, kKeyCol, kKeyCol, 18, nullptr);
    size_t labelWidth = 12;
    for (const Row& r : t.rows) labelWidth = std::max(labelWidth, r.label.size() + 2);
    worksheet_set_column(ws, kLabelCol, kLabelCol, double(std::min<size_t>(labelWidth, 48)), nullptr);
    for (size_t i = 0; i < ncols; ++i) {
        const ColumnLayout& L = layout[i];
        const std::string heading = i < t.columns.size() ? clip(t.columns[i]) : std::string();
        if (L.width() > 1)
            worksheet_merge_range(ws, kGroupRow, L.first, kGroupRow, lxw_col_t(L.first + L.width() - 1), heading.c_str(), f.head);
        else
            text(ws, kGroupRow, L.first, heading, f.head);
        if (L.estimates) {
            static const char* names[] = {"Estimate", "Low", "High", "SE", "CV", "Observations", "Flag"};
            for (lxw_col_t k = 0; k < 7; ++k) text(ws, kHeadRow, lxw_col_t(L.first + k), names[k], f.head);
            worksheet_set_column(ws, L.first, lxw_col_t(L.first + 5), 13, nullptr);
            worksheet_set_column(ws, lxw_col_t(L.first + 6), lxw_col_t(L.first + 6), 30, nullptr);
        } else {
            text(ws, kHeadRow, L.first, "Value", f.head);
            worksheet_set_column(ws, L.first, L.first, 16, nullptr);
            if (L.flag) {
                text(ws, kHeadRow, lxw_col_t(L.first + 1), "Flag", f.head);
                worksheet_set_column(ws, lxw_col_t(L.first + 1), lxw_col_t(L.first + 1), 30, nullptr);
            }
        }
    }

    lxw_row_t r = kFirstDataRow;
    for (const Row& row : t.rows) {
        text(ws, r, kKeyCol, row.key, row.isTotal ? f.bold : nullptr);
        text(ws, r, kLabelCol, row.label, row.isTotal ? f.bold : nullptr);
        for (size_t i = 0; i < row.cells.size() && i < ncols; ++i) {
            const Cell& c = row.cells[i];
            const ColumnLayout& L = layout[i];
            lxw_format* fmt = formatFor(f, c.unit);
            if (c.kind == Cell::Kind::Text) {
                text(ws, r, L.first, c.text);
            } else if (c.kind == Cell::Kind::Number) {
                if (c.shown()) figure(ws, r, L.first, c.number, fmt);
                else if (L.estimates) text(ws, r, lxw_col_t(L.first + 6), cellText(c));
                else if (L.flag) text(ws, r, lxw_col_t(L.first + 1), cellText(c));
            } else if (c.kind == Cell::Kind::Estimate) {
                Estimate e;
                const bool hidden = hiddenEstimate(c, e);
                if (!hidden) {
                    figure(ws, r, L.first, e.value, fmt);
                    figure(ws, r, lxw_col_t(L.first + 1), e.low, fmt);
                    figure(ws, r, lxw_col_t(L.first + 2), e.high, fmt);
                    figure(ws, r, lxw_col_t(L.first + 3), e.se, fmt);
                    figure(ws, r, lxw_col_t(L.first + 4), e.cv, f.cv);
                }
                worksheet_write_number(ws, r, lxw_col_t(L.first + 5), double(e.observations), f.count);
                text(ws, r, lxw_col_t(L.first + 6), flagText(e));
            }
        }
        ++r;
    }
    worksheet_freeze_panes(ws, kFirstDataRow, kFirstValueCol);
    addChart(wb, ws, name, t, layout, lastCol);
}

}  // namespace

void writeXlsx(const BaselineReport& report, const std::filesystem::path& file) {
    const std::string path = file.string();
    // libxlsxwriter only finds out at close that it cannot write, and then says little; a
    // missing folder is the common case, so name it.
    const std::filesystem::path parent = file.parent_path().empty() ? std::filesystem::path(".") : file.parent_path();
    std::error_code ec;
    if (!std::filesystem::is_directory(parent, ec))
        throw std::runtime_error("cannot write the workbook " + path + ": the folder " + parent.string() + " does not exist");

    lxw_workbook_options options{};
    options.constant_memory = LXW_FALSE;
    lxw_workbook* wb = workbook_new_opt(path.c_str(), &options);
    if (!wb) throw std::runtime_error("cannot write the workbook " + path + ": libxlsxwriter could not start it (out of memory?)");
    lxw_doc_properties props{};
    props.title = const_cast<char*>(report.title.c_str());  // read only; copied by the library
    props.comments = const_cast<char*>(report.inputsHash.c_str());
    workbook_set_properties(wb, &props);
    const Formats f = makeFormats(wb);

    std::set<std::string> taken{"report"};
    std::vector<std::pair<std::string, const Table*>> sheets;
    for (const Section& s : report.sections)
        for (const Table& t : s.tables) sheets.emplace_back(sheetName(t.id, taken), &t);

    writeReportSheet(wb, report, f, sheets);
    for (const auto& [name, table] : sheets) writeTableSheet(wb, name, *table, f);

    errno = 0;
    const lxw_error err = workbook_close(wb);  // frees wb whatever the outcome
    if (err != LXW_NO_ERROR) {
        std::string why = lxw_strerror(err);
        if (errno != 0) why += " (" + std::string(std::strerror(errno)) + ")";
        throw std::runtime_error("cannot write the workbook " + path + ": " + why);
    }
}

}  // namespace ck::report
