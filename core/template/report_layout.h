#pragma once
// The baseline report's layout as a template declares it (FORMAT.md, "Report layout"): its
// sections, their tables (which indicators, which columns, which chart), the highlight
// sentences with their placeholders, and every heading and note in each of the template's
// languages. Read and checked once when the template loads; the report builder only follows
// it, so a new cluster diagnostic, or a new language, is data and not code.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/template/survey_template.h"

namespace ck {

// What a table shows. Estimates and Pairs show the template's indicators for the report's
// scope; the others are built from the visits and the register by the builder, the same for
// every template (their wording comes from the layout's phrases).
enum class ReportTableKind : uint8_t {
    Estimates,        // one row per indicator, one column: its estimate for the scope
    Pairs,            // one row per pair of indicators, two columns (e.g. aware, received)
    Fieldwork,        // units in the register, visited, answered, response rate; then its indicators
    Comparison,       // its indicators for the scope, its state, its sector nationally, peers, the nation
    Clusters,         // wider scopes only: the clusters in scope, visits, answers and its indicators
    Money,            // money totals (its indicators) by cluster, or by stratum inside a cluster
    PrecisionFlags,   // how many figures are published, flagged, suppressed
    SuppressedCells,  // every hidden figure of the report and why
    Officers,         // visits per officer
    Weeks,            // visits per week
    Strata,           // register strata without visits, visited strata outside the register
};
const char* reportTableKindName(ReportTableKind kind);

enum class ReportChartKind : uint8_t { None, Bars, BarsWithIntervals, PairedBars };
const char* reportChartKindName(ReportChartKind kind);

struct ReportRowSpec {
    std::string key;              // the indicator id, or a pair's key
    std::vector<int> indicators;  // indices into Template::indicators: one, or two for a pair
    LocalText label;              // empty: the indicator's label (a pair's: its first label up to the last ':')
    LocalText shortLabel;         // for highlights listing rows ("Electricity supply 41.2%"); empty: the label
};

struct ReportTableSpec {
    std::string id;  // unique in the layout, at most 31 characters (an XLSX sheet, a CSV file)
    ReportTableKind kind = ReportTableKind::Estimates;
    LocalText title, note;          // may hold placeholders ({scope}, {parts}, {against})
    std::vector<LocalText> columns; // Estimates: one heading; Pairs: two; Fieldwork: one
    std::vector<ReportRowSpec> rows;
    ReportChartKind chart = ReportChartKind::None;
    LocalText axis;                 // the chart's axis label; empty: the first column heading
    bool ranked = false;            // Estimates: largest first, hidden figures last
};

// When a highlight is said at all (besides every placeholder in it having a value).
enum class ReportCondition : uint8_t {
    Always, Visits, NoVisits, Register, NoRegister, Weighted, Unweighted, ClusterScope, WiderScope,
    StrataComplete, StrataGaps,
};

enum class ReportHighlightKind : uint8_t {
    Text,       // a sentence; said when every placeholder in it has a shown figure
    Largest,    // the row of `table` with the largest shown figure: {label}, {value}
    Top,        // the first `count` shown rows of a ranked `table`: {list} ("A 41.2%; B 38.0%")
    WidestGap,  // the row of a Pairs `table` with the widest gap first - second: {label}, {first}, {second}
    Compare,    // `indicator` in a Comparison `table`, scope against the next column:
                // {label}, {here}, {there}, {column}; `text` when the intervals do not overlap, `otherwise` when they do
};

struct ReportHighlightSpec {
    ReportHighlightKind kind = ReportHighlightKind::Text;
    ReportCondition when = ReportCondition::Always;
    LocalText text;
    LocalText otherwise;  // Compare only
    std::string table;    // Largest, Top, WidestGap, Compare: a table id of the layout
    int indicator = -1;   // Compare
    size_t count = 3;     // Top
};

struct ReportSectionSpec {
    std::string id;
    LocalText title;  // numbered by the builder ("1. ")
    std::vector<ReportHighlightSpec> highlights;
    LocalText otherwise;  // said when none of the highlights is
    std::vector<ReportTableSpec> tables;
};

// The words of the parts every report has whatever its template: the fieldwork counts, the
// comparison's columns, data quality, the method notes, the page furniture. Built-in texts in
// English and Hindi; a template can replace any and must give every one in a language the
// built-in set lacks (when it declares a layout).
enum class ReportPhrase : uint16_t {
#define CK_REPORT_PHRASE(name, en, hi) name,
#include "core/template/report_phrases.inc"
#undef CK_REPORT_PHRASE
    Count
};
const char* reportPhraseKey(ReportPhrase phrase);

struct ReportLayout {
    std::vector<ReportSectionSpec> sections;
    std::vector<LocalText> phrases;  // indexed by ReportPhrase, every template language filled
    bool declared = false;           // the template gave `report.layout` (else: one section per topic)

    const std::string& phrase(ReportPhrase p, size_t language) const { return phrases[size_t(p)].in(language); }
    const ReportTableSpec* table(std::string_view id) const;
};

// What the loader lends the layout reader: its error sink and its reader of localised text
// (so messages about a missing language read the same everywhere in a template).
struct ReportLayoutContext {
    const Template& survey;
    std::function<void(std::string where, std::string key, std::string message)> error;
    std::function<LocalText(const nlohmann::json& obj, const char* key, const std::string& where, bool required)> text;
};

// Reads and checks `report.layout`; errors go to ctx.error (the result is then not used).
ReportLayout readReportLayout(const nlohmann::json& layout, const ReportLayoutContext& ctx);
// The layout of a template that declares none: one section per indicator topic, in the
// outline's order, with the fixed parts (fieldwork, comparison, data quality) in the
// built-in words; languages without built-in words fall back to English.
ReportLayout defaultReportLayout(const Template& survey);

}  // namespace ck
