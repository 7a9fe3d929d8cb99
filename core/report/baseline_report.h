#pragma once
// The cluster baseline report as data: sections of tables, each cell a text, a number or an
// estimate with its interval and flags. The template's report layout decides what the report
// says (the flagship's follows TOOLKIT.md, "Report outline") and the builder fills it; the
// renderers in report/ (HTML, XLSX, CSV, JSON) only decide how it looks, so every format
// carries the same figures.
#include <cstdint>
#include <string>
#include <vector>

#include "core/register/cluster_register.h"
#include "core/report/baseline_rollup.h"
#include "core/report/estimation.h"
#include "core/report/figure_text_words.h"

namespace ck::report {

struct Cell {
    enum class Kind : uint8_t { Empty, Text, Number, Estimate };
    Kind kind = Kind::Empty;
    std::string text;      // Text
    double number = 0;     // Number (a count, or a plain figure)
    report::Estimate estimate;  // Estimate, already in display units (a share as 0-100 percent)
    std::string unit;      // "%", "INR", "INR per worker", "units", "days", ...
    // Set by disclosure control on Number cells too (e.g. a money total by cluster).
    Suppression suppression = Suppression::None;

    static Cell ofText(std::string t) { Cell c; c.kind = Kind::Text; c.text = std::move(t); return c; }
    static Cell ofNumber(double v, std::string unit = {}) { Cell c; c.kind = Kind::Number; c.number = v; c.unit = std::move(unit); return c; }
    static Cell ofEstimate(const report::Estimate& e, std::string unit) {
        Cell c; c.kind = Kind::Estimate; c.estimate = e; c.unit = std::move(unit); c.suppression = e.suppression; return c;
    }
    bool shown() const { return suppression == Suppression::None; }
};

struct Row {
    std::string key;    // stable id: an indicator id, a cluster code, a segment name
    std::string label;  // for people
    std::vector<Cell> cells;  // one per Table::columns
    bool isTotal = false;
};

// How a table is drawn as a chart (HTML: inline SVG; XLSX: a native chart).
struct ChartSpec {
    enum class Kind : uint8_t { None, Bars, BarsWithIntervals, PairedBars };
    Kind kind = Kind::None;
    std::vector<size_t> valueColumns;  // Bars / BarsWithIntervals: one; PairedBars: two (e.g. aware, received)
    std::string axisLabel;             // "% of firms"
};

struct Table {
    std::string id;     // unique in the report; names the XLSX sheet (<= 31 chars) and the CSV file
    std::string title;
    std::string note;   // how to read it: the rule it follows, what is left out and why
    std::vector<std::string> columns;  // column headings
    std::vector<Row> rows;
    ChartSpec chart;
};

struct Section {
    std::string id;     // the layout's section id ("glance", "outcomes", ... in the flagship)
    std::string title;  // numbered: "1. The cluster at a glance"
    std::vector<std::string> highlights;  // short sentences an executive reads aloud, figures included
    std::vector<Table> tables;
};

// The words around the figures a renderer prints (page header, banner, footer), in the
// report's language; the builder takes them from the template's layout phrases.
struct PageWords {
    std::string language = "en";  // the HTML lang attribute
    std::string templateLabel = "Template", built = "Built", visited = "Units visited", interviewed = "Units interviewed";
    std::string response = "{rate} response";  // {rate}: "97.2%"
    std::string weighted = "Weighted: figures estimate all units in scope, using the cluster register.";
    std::string sample = "Sample only: no register gave weights, so figures describe the units interviewed, not all units in scope.";
    std::string methodNotes = "Method notes", inputsHash = "Inputs hash", notRecorded = "not recorded", interval = "95% CI";
    std::string nothing = "Nothing to report: no section has figures for this scope yet.";
    FigureWords figures;  // lakh, crore and "to" inside the figures the page prints
};

struct BaselineReport {
    std::string title;     // "Tiruppur knitwear (tiruppur_knitwear): cluster baseline"
    ReportScope scope;
    std::string scopeLabel;  // "Cluster tiruppur_knitwear, Tiruppur, Tamil Nadu"
    std::string templateId, templateVersion;
    int64_t builtAt = 0;     // Unix seconds
    std::string inputsHash;  // hex BLAKE2b-256 of the exact inputs (see inputsHash())
    bool weighted = false;   // a register gave the weights
    std::vector<std::string> methodNotes;  // weights, intervals, flags, disclosure, what "sample only" means
    uint64_t visits = 0, responded = 0;
    std::vector<Section> sections;
    PageWords words;
};

struct ReportRequest {
    ReportScope scope;
    int64_t builtAt = 0;
    // Headings, notes, sentences and labels in this language of the template (an unknown code
    // falls back to the template's default language).
    std::string language = "en";
    std::string inputsHash;       // computed by the caller from what it read (see InputsHasher)
    size_t peerClusters = 5;      // peers shown in the comparison: same sector, most visits first
    EstimationRules rules;        // disclosure (n, k) and share intervals: the project's settings
};

// Builds the report for `request.scope` following the template's report layout (its
// `report.layout`, or one section per indicator topic; see FORMAT.md). Throws
// std::invalid_argument with a sentence a person can act on when the scope names nothing
// the rollup or register knows ("no cluster 'x': known clusters are a, b, c").
BaselineReport buildBaselineReport(const BaselineRollup& rollup, const Geography& geo, const ReportRequest& request);

// The hash of the exact inputs of a report: template id, version and JSON text, the register
// rows, the scope, and every visit's record id and content hash, in any order (the hasher sorts).
class InputsHasher {
public:
    void templateText(std::string_view id, std::string_view version, std::string_view jsonText);
    void registerUnits(const std::vector<RegisterUnit>& units);
    void scope(const ReportScope& scope);
    void visit(std::string_view recordId, std::string_view contentHash);
    // A digest made by another InputsHasher over part of the inputs (one cluster's visits, the
    // register alone), named; parts are hashed in the order given. This is how the aggregator
    // keeps a report from hashing every visit again: one digest per cluster, redone only for
    // the clusters that got new visits.
    void part(std::string_view name, std::string_view hexDigest);
    std::string hexDigest();  // BLAKE2b-256, lowercase hex

private:
    std::string m_head;
    std::vector<std::string> m_visits;
};

}  // namespace ck::report
