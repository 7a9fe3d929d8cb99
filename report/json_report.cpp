// The whole report as JSON for machines. Figures are raw doubles (nlohmann writes the
// shortest text that reads back to the same double), so a reader gets exactly what the
// builder computed; NaN and infinities become null, and so does every part of a hidden
// figure, so a published file never carries a suppressed value.
#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>

#include "core/report/figure_text.h"
#include "report/tabular_report.h"

namespace ck::report {
namespace {

using nlohmann::json;

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// Stable machine words a script can switch on. Precision and scope use the core's names
// ("publish", "caution", "suppress"; "cluster" ... "nation"); suppression reasons get
// identifiers here, since suppressionName() is worded for people.
json suppressionCode(Suppression s) {
    switch (s) {
    case Suppression::None: return nullptr;
    case Suppression::TooFewObservations: return "too_few_observations";
    case Suppression::Imprecise: return "imprecise";
    case Suppression::TooFewUnits: return "too_few_units";
    case Suppression::Dominance: return "dominance";
    case Suppression::Secondary: return "secondary";
    }
    return "secondary";
}

const char* chartCode(ChartSpec::Kind k) {
    switch (k) {
    case ChartSpec::Kind::None: return "none";
    case ChartSpec::Kind::Bars: return "bars";
    case ChartSpec::Kind::BarsWithIntervals: return "bars_with_intervals";
    case ChartSpec::Kind::PairedBars: return "paired_bars";
    }
    return "none";
}

std::string isoUtc(int64_t unixSeconds) {
    std::time_t t = static_cast<std::time_t>(unixSeconds);
    std::tm tm{};
    if (!gmtime_r(&t, &tm)) return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// `text`: the figure as the HTML page prints it (the one formatter, in the report's language).
json cellJson(const Cell& cell, const FigureWords& words) {
    json c;
    switch (cell.kind) {
    case Cell::Kind::Empty:
        c["kind"] = "empty";
        return c;
    case Cell::Kind::Text:
        c["kind"] = "text";
        c["value"] = cell.text;
        return c;
    case Cell::Kind::Number: {
        c["kind"] = "number";
        c["unit"] = cell.unit;
        const bool shown = cell.shown();
        c["shown"] = shown;
        c["value"] = shown ? number(cell.number) : json(nullptr);
        c["suppression"] = suppressionCode(cell.suppression);
        c["flag"] = shown ? std::string() : cellText(cell);
        c["text"] = cellText(cell, words);
        return c;
    }
    case Cell::Kind::Estimate: break;
    }
    const Estimate& e = cell.estimate;
    // Hidden when the cell or its estimate says so, or the precision rule says suppress
    // without a reason (the estimator sets both; hiding is the safe reading if it did not).
    const Suppression why = cell.suppression != Suppression::None ? cell.suppression : e.suppression;
    const bool shown = why == Suppression::None && e.precision != Precision::Suppress;
    c["kind"] = "estimate";
    c["unit"] = cell.unit;
    c["shown"] = shown;
    c["value"] = shown ? number(e.value) : json(nullptr);
    c["low"] = shown ? number(e.low) : json(nullptr);
    c["high"] = shown ? number(e.high) : json(nullptr);
    c["se"] = shown ? number(e.se) : json(nullptr);
    c["cv"] = shown ? number(e.cv) : json(nullptr);
    // The observation count is kept for hidden cells: it is what explains "fewer than 10
    // firms" and reveals no figure. The weighted count of the domain is withheld with the
    // figure, because for a count-like indicator it is the figure.
    c["observations"] = e.observations;
    c["weightedUnits"] = shown ? number(e.weightedUnits) : json(nullptr);
    c["weighted"] = e.weighted;
    c["precision"] = precisionName(e.precision);
    c["suppression"] = suppressionCode(why);
    Estimate flagged = e;
    flagged.suppression = why;
    c["flag"] = flagText(flagged);
    c["text"] = shown ? cellText(cell, words) : flagText(flagged);
    return c;
}

}  // namespace

std::string renderJson(const BaselineReport& report) {
    json j;
    j["title"] = report.title;
    j["scope"] = {{"level", scopeLevelName(report.scope.level)}, {"name", report.scope.name}};
    j["scopeLabel"] = report.scopeLabel;
    j["language"] = report.words.language;
    j["template"] = {{"id", report.templateId}, {"version", report.templateVersion}};
    j["builtAt"] = {{"iso", isoUtc(report.builtAt)}, {"unix", report.builtAt}};
    j["inputsHash"] = report.inputsHash;
    j["weighted"] = report.weighted;
    j["methodNotes"] = report.methodNotes;
    j["visits"] = report.visits;
    j["responded"] = report.responded;
    json sections = json::array();
    for (const Section& s : report.sections) {
        json tables = json::array();
        for (const Table& t : s.tables) {
            json rows = json::array();
            for (const Row& r : t.rows) {
                json cells = json::array();
                for (const Cell& c : r.cells) cells.push_back(cellJson(c, report.words.figures));
                rows.push_back({{"key", r.key}, {"label", r.label}, {"isTotal", r.isTotal}, {"cells", std::move(cells)}});
            }
            json chart = nullptr;
            if (t.chart.kind != ChartSpec::Kind::None)
                chart = {{"kind", chartCode(t.chart.kind)}, {"valueColumns", t.chart.valueColumns}, {"axisLabel", t.chart.axisLabel}};
            tables.push_back({{"id", t.id},
                              {"title", t.title},
                              {"note", t.note},
                              {"columns", t.columns},
                              {"rows", std::move(rows)},
                              {"chart", std::move(chart)}});
        }
        sections.push_back({{"id", s.id}, {"title", s.title}, {"highlights", s.highlights}, {"tables", std::move(tables)}});
    }
    j["sections"] = std::move(sections);
    // Labels come from templates and may carry broken UTF-8; replace rather than throw, so a
    // bad label costs a character and not the whole report.
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace ck::report
