// What the cluster baseline says: TOOLKIT.md's outline turned into sections of tables, each
// figure with its interval and flags, for a cluster development executive presenting to firm
// owners, bankers and a state secretary. The renderers decide only how it looks.
//
// Readings of the brief a survey statistician would expect (stated here because the header
// leaves them open):
// - Shares, and ratios whose unit starts with "%", are shown as percentages (value, se and
//   interval x100; the CV is scale-free and kept). Means keep the template's unit: a mean of
//   "% of sales" answers is already in percent.
// - The response rate in the glance is unweighted (visits responded / visits): it describes
//   fieldwork, not the cluster. The template's `response_rate` indicator is left out there,
//   because only responding visits enter estimates and it would read 100%.
// - Money totals by part (cluster, or size class inside one cluster) with their total row get
//   secondary suppression along the columns. When a column's total is itself hidden the
//   parts are still protected (a little over-suppression rather than a recoverable cell).
// - Static headings and sentences are in English; indicator and cluster labels follow
//   request.language from the template.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "core/report/baseline_report.h"

namespace ck::report {

namespace {

// The row whose first figure is the largest among those shown (for a highlight); null if none.
const Row* largestShown(const Table& t) {
    const Row* best = nullptr;
    for (const Row& r : t.rows)
        if (!r.cells.empty() && r.cells[0].shown() && (!best || r.cells[0].estimate.value > best->cells[0].estimate.value))
            best = &r;
    return best;
}

std::string fmt(double v, int decimals = 1) {
    if (!std::isfinite(v)) return "n/a";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

// A settable share as people write it: 0.85 -> "85", 0.875 -> "87.5".
std::string percentOf(double share) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", 100 * share);
    return buf;
}

// Indian money as people say it: lakh (1e5) and crore (1e7).
std::string inr(double v) {
    if (!std::isfinite(v)) return "n/a";
    double a = std::fabs(v);
    if (a >= 1e7) return "INR " + fmt(v / 1e7, 1) + " crore";
    if (a >= 1e5) return "INR " + fmt(v / 1e5, 1) + " lakh";
    return "INR " + fmt(v, 0);
}

std::string isoDay(int64_t days) {
    using namespace std::chrono;
    year_month_day ymd{sys_days{std::chrono::days{days}}};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
    return buf;
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool endsWith(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Everything the sections share: the rollup, where clusters sit, the scope and the language.
class Builder {
public:
    Builder(const BaselineRollup& rollup, const Geography& geo, const ReportRequest& request)
        : m_rollup(rollup), m_geo(geo), m_request(request), m_t(rollup.templ()) {
        int lang = m_t.languageIndex(request.language);
        m_lang = lang < 0 ? 0 : size_t(lang);
        for (size_t i = 0; i < m_t.indicators.size(); ++i) m_index[m_t.indicators[i].id] = i;
        for (const ChoiceList& list : m_t.choiceLists)
            if (list.id == "cluster") m_clusterChoices = &list;
        for (const auto& [key, acc] : m_rollup.strata()) {
            m_clusterVisits[key.cluster] += acc.visits;
            m_clusterResponded[key.cluster] += acc.responded;
        }
    }

    BaselineReport build();

private:
    // ---- scope ----
    void checkScope() const;
    std::string noun() const { return m_request.scope.level == ScopeLevel::Cluster ? "cluster" : scopeLevelName(m_request.scope.level); }
    std::string scopeTitle(const ReportScope& s) const;
    std::string clusterName(const std::string& code) const;
    std::vector<std::string> clustersIn(const ReportScope& s) const;

    // ---- figures ----
    const Indicator* indicator(const std::string& id) const {
        auto it = m_index.find(id);
        return it == m_index.end() ? nullptr : &m_t.indicators[it->second];
    }
    std::string label(size_t i) const { return m_t.indicators[i].label.in(m_lang); }
    bool percentScaled(size_t i) const {
        const Indicator& ind = m_t.indicators[i];
        return ind.kind == IndicatorKind::Share || (ind.kind == IndicatorKind::Ratio && startsWith(ind.unit, "%"));
    }
    Estimate display(size_t i, const ReportScope& s) const;
    Cell cell(size_t i, const ReportScope& s) const {
        return Cell::ofEstimate(display(i, s), percentScaled(i) ? "%" : m_t.indicators[i].unit);
    }
    Row indicatorRow(size_t i) const {
        Row r;
        r.key = m_t.indicators[i].id;
        r.label = label(i);
        r.cells.push_back(cell(i, m_request.scope));
        return r;
    }
    std::vector<size_t> topic(std::string_view t) const {
        std::vector<size_t> out;
        for (size_t i = 0; i < m_t.indicators.size(); ++i)
            if (m_t.indicators[i].topic == t) out.push_back(i);
        return out;
    }
    std::string figure(const Estimate& e, const std::string& unit) const;

    // ---- sections ----
    Section glance();
    Section outcomes();
    Section valueChain();
    Section constraints();
    Section convergence();
    Section comparison();
    Section dataQuality(const std::vector<Section>& before);
    Table moneyTable();
    std::vector<std::string> methodNotes() const;

    const BaselineRollup& m_rollup;
    const Geography& m_geo;
    const ReportRequest& m_request;
    const Template& m_t;
    size_t m_lang = 0;
    std::map<std::string, size_t> m_index;
    const ChoiceList* m_clusterChoices = nullptr;
    std::map<std::string, uint64_t> m_clusterVisits, m_clusterResponded;
    uint64_t m_visits = 0, m_responded = 0, m_registerUnits = 0;
    bool m_weighted = false;
};

Estimate Builder::display(size_t i, const ReportScope& s) const {
    Estimate e = estimateIndicator(m_rollup, m_geo, s, i, m_request.rules);
    if (percentScaled(i)) {
        e.value *= 100;
        e.se *= 100;
        e.low *= 100;
        e.high *= 100;
    }
    return e;
}

std::string Builder::figure(const Estimate& e, const std::string& unit) const {
    if (unit == "INR") return inr(e.value);
    if (unit == "%") return fmt(e.value) + "%";
    return fmt(e.value) + " " + unit;
}

void Builder::checkScope() const {
    const ReportScope& s = m_request.scope;
    if (s.level == ScopeLevel::Nation) return;
    std::set<std::string> known;
    if (s.level == ScopeLevel::Cluster) {
        for (const auto& [code, place] : m_geo.clusters) known.insert(code);
        for (const auto& [code, n] : m_clusterVisits) known.insert(code);
    } else {
        for (const auto& [code, place] : m_geo.clusters) {
            const std::string& name = s.level == ScopeLevel::District ? place.district
                                      : s.level == ScopeLevel::State  ? place.state
                                                                      : place.sector;
            if (!name.empty()) known.insert(name);
        }
    }
    if (known.count(s.name)) return;
    std::string level = scopeLevelName(s.level);
    std::string msg = "no " + level + " '" + s.name + "': ";
    if (known.empty()) {
        msg += s.level == ScopeLevel::Cluster ? "no cluster has visits or register rows yet"
                                              : "no " + level + " is known (load a cluster register with `assign` first)";
    } else {
        msg += "known " + (s.level == ScopeLevel::Sector ? std::string("sectors") : level + "s") + " are ";
        size_t shown = 0;
        for (const std::string& k : known) {
            if (shown == 10) break;
            msg += (shown ? ", " : "") + k;
            ++shown;
        }
        if (known.size() > shown) msg += " and " + std::to_string(known.size() - shown) + " more";
    }
    throw std::invalid_argument(msg);
}

std::string Builder::clusterName(const std::string& code) const {
    if (m_clusterChoices) {
        int k = m_clusterChoices->indexOf(code);
        if (k >= 0) return m_clusterChoices->choices[size_t(k)].label.in(m_lang);
    }
    std::string name = code;
    std::replace(name.begin(), name.end(), '_', ' ');
    if (!name.empty() && name[0] >= 'a' && name[0] <= 'z') name[0] = char(name[0] - 'a' + 'A');
    return name;
}

std::string Builder::scopeTitle(const ReportScope& s) const {
    switch (s.level) {
    case ScopeLevel::Cluster: return clusterName(s.name);
    case ScopeLevel::District: return "District " + s.name;
    case ScopeLevel::State: return "State " + s.name;
    case ScopeLevel::Sector: return "Sector " + s.name + " (national)";
    case ScopeLevel::Nation: return "India (all clusters)";
    }
    return s.name;
}

std::vector<std::string> Builder::clustersIn(const ReportScope& s) const {
    std::set<std::string> all;
    for (const auto& [code, place] : m_geo.clusters) all.insert(code);
    for (const auto& [code, n] : m_clusterVisits) all.insert(code);
    std::vector<std::string> out;
    for (const std::string& c : all)
        if (inScope(m_geo, c, s)) out.push_back(c);
    return out;
}

Section Builder::glance() {
    Section sec;
    sec.id = "glance";
    sec.title = "1. The " + noun() + " at a glance";

    Table field;
    field.id = "glance_fieldwork";
    field.title = "Units in the register, visited and responding";
    field.note = "Counts of visits, unweighted. The response rate is visits whose unit answered divided by all visits.";
    field.columns = {"Value"};
    auto countRow = [&](std::string key, std::string label, double v, std::string unit) {
        Row r;
        r.key = std::move(key);
        r.label = std::move(label);
        r.cells.push_back(Cell::ofNumber(v, std::move(unit)));
        field.rows.push_back(std::move(r));
    };
    if (m_request.scope.level != ScopeLevel::Cluster) {
        size_t withVisits = 0;
        for (const std::string& c : clustersIn(m_request.scope))
            if (m_clusterVisits.count(c) && m_clusterVisits.at(c) > 0) ++withVisits;
        countRow("clusters_visited", "Clusters with visits", double(withVisits), "clusters");
    }
    if (m_geo.hasRegister()) countRow("register_units", "Units in the register", double(m_registerUnits), "units");
    countRow("visits", "Units visited", double(m_visits), "units");
    countRow("responded", "Units that answered", double(m_responded), "units");
    double rate = m_visits ? 100.0 * double(m_responded) / double(m_visits) : kNaN;
    if (m_visits) countRow("response_rate", "Response rate", rate, "%");
    // The template's other glance figures that are not size classes (e.g. the estimated number
    // of units) sit with the counts.
    for (size_t i : topic("glance"))
        if (m_t.indicators[i].kind != IndicatorKind::Share) field.rows.push_back(indicatorRow(i));
    sec.tables.push_back(std::move(field));

    Table sizes;
    sizes.id = "glance_size_classes";
    sizes.title = "Units by size class";
    sizes.note = "Share of units in each Udyam size class, weighted, with 95% intervals.";
    sizes.columns = {"% of units"};
    sizes.chart = {ChartSpec::Kind::Bars, {0}, "% of units"};
    for (size_t i : topic("glance"))
        if (m_t.indicators[i].kind == IndicatorKind::Share && m_t.indicators[i].id != "response_rate")
            sizes.rows.push_back(indicatorRow(i));
    if (!sizes.rows.empty()) sec.tables.push_back(std::move(sizes));

    Table segments;
    segments.id = "glance_segments";
    segments.title = "Units by value-chain segment";
    segments.note = "Share of units whose main activity is in each segment, weighted.";
    segments.columns = {"% of units"};
    segments.chart = {ChartSpec::Kind::Bars, {0}, "% of units"};
    for (size_t i : topic("value_chain")) segments.rows.push_back(indicatorRow(i));
    if (!segments.rows.empty()) sec.tables.push_back(std::move(segments));

    if (m_visits)
        sec.highlights.push_back(std::to_string(m_responded) + " of " + std::to_string(m_visits) +
                                 " units visited answered (" + fmt(rate) + "%).");
    else
        sec.highlights.push_back("No visits have been received for this " + noun() + " yet.");
    if (m_geo.hasRegister() && m_registerUnits)
        sec.highlights.push_back("The register lists " + std::to_string(m_registerUnits) + " units; " +
                                 std::to_string(m_visits) + " were visited (" +
                                 fmt(100.0 * double(m_visits) / double(m_registerUnits)) + "%).");
    if (!m_weighted)
        sec.highlights.push_back("No cluster register gives weights here: the figures describe the " +
                                 std::to_string(m_responded) + " responding units of the sample only, not the whole " +
                                 noun() + ".");
    for (const Table& t : sec.tables) {
        if (t.id != "glance_size_classes") continue;
        const Row* best = largestShown(t);
        if (best) sec.highlights.push_back(best->label + ": " + fmt(best->cells[0].estimate.value) + "% of units.");
    }
    return sec;
}

Section Builder::outcomes() {
    Section sec;
    sec.id = "outcomes";
    sec.title = "2. Outcomes";
    Table t;
    t.id = "outcomes";
    t.title = "Exports, jobs and productivity";
    t.note = "Weighted estimates with 95% intervals. Shares are percent of the units (or workers) in each "
             "indicator's domain; cells flagged \"use with caution\" have a CV between 16.5% and 33.3%.";
    t.columns = {"Estimate"};
    for (size_t i : topic("outcomes")) t.rows.push_back(indicatorRow(i));
    for (const char* id : {"exporter_share", "women_share_jobs", "youth_share_jobs", "quality_job_share", "gva_per_worker"}) {
        for (const Row& r : t.rows) {
            if (r.key != id || !r.cells[0].shown()) continue;
            const Estimate& e = r.cells[0].estimate;
            std::string interval = r.cells[0].unit == "INR" || endsWith(r.cells[0].unit, "per worker")
                                       ? inr(e.low) + " to " + inr(e.high)
                                       : fmt(e.low) + " to " + fmt(e.high);
            std::string value = endsWith(r.cells[0].unit, "per worker") ? inr(e.value) + " per worker" : figure(e, r.cells[0].unit);
            sec.highlights.push_back(r.label + ": " + value + " (95% interval " + interval + ").");
        }
    }
    if (sec.highlights.empty()) sec.highlights.push_back("Too few answers to publish the outcome figures for this " + noun() + ".");
    sec.tables.push_back(std::move(t));
    return sec;
}

Section Builder::valueChain() {
    Section sec;
    sec.id = "value_chain";
    sec.title = "3. Value chain";
    Table t;
    t.id = "value_chain_segments";
    t.title = "Share of units per value-chain segment";
    t.note = "Weighted share of units by main activity, with 95% intervals. Upstream segments make yarn, fabric "
             "and finish it; design and branding is where most of the value is kept.";
    t.columns = {"% of units"};
    t.chart = {ChartSpec::Kind::Bars, {0}, "% of units"};
    for (size_t i : topic("value_chain")) t.rows.push_back(indicatorRow(i));
    const Row* best = largestShown(t);
    if (best) sec.highlights.push_back("Largest segment: " + best->label + ", " + fmt(best->cells[0].estimate.value) + "% of units.");
    for (const Row& r : t.rows)
        if (r.key.find("design") != std::string::npos && r.cells[0].shown())
            sec.highlights.push_back(r.label + ": " + fmt(r.cells[0].estimate.value) + "% of units.");
    if (sec.highlights.empty()) sec.highlights.push_back("Too few answers to publish segment shares for this " + noun() + ".");
    sec.tables.push_back(std::move(t));
    return sec;
}

Section Builder::constraints() {
    Section sec;
    sec.id = "constraints";
    sec.title = "4. Binding constraints";
    Table obs;
    obs.id = "constraints_obstacles";
    obs.title = "Obstacles ranked by the share of firms rating them major";
    obs.note = "Ranked by the weighted share of firms calling each a major or very severe obstacle, with 95% "
               "intervals; overlapping intervals mean the ranking between them is not certain. Suppressed "
               "obstacles are listed last.";
    obs.columns = {"% rating it major"};
    obs.chart = {ChartSpec::Kind::BarsWithIntervals, {0}, "% of firms rating it a major obstacle"};
    Table other;
    other.id = "constraints_other";
    other.title = "Infrastructure, environment, finance, skills and technology";
    other.note = "Weighted estimates with 95% intervals.";
    other.columns = {"Estimate"};
    for (size_t i : topic("constraints")) {
        const Indicator& ind = m_t.indicators[i];
        if (startsWith(ind.id, "obs_") && ind.kind == IndicatorKind::Share)
            obs.rows.push_back(indicatorRow(i));
        else
            other.rows.push_back(indicatorRow(i));
    }
    std::stable_sort(obs.rows.begin(), obs.rows.end(), [](const Row& a, const Row& b) {
        bool sa = a.cells[0].shown(), sb = b.cells[0].shown();
        if (sa != sb) return sa;
        if (!sa) return false;
        return a.cells[0].estimate.value > b.cells[0].estimate.value;
    });
    int listed = 0;
    std::string top;
    for (const Row& r : obs.rows) {
        if (!r.cells[0].shown() || listed == 3) break;
        std::string name = r.label;
        if (endsWith(name, " is a major obstacle")) name.resize(name.size() - std::string(" is a major obstacle").size());
        top += (listed ? "; " : "") + name + " " + fmt(r.cells[0].estimate.value) + "%";
        ++listed;
    }
    if (listed)
        sec.highlights.push_back("Top obstacles (share of firms rating them major): " + top + ".");
    else
        sec.highlights.push_back("Too few answers to rank the obstacles for this " + noun() + ".");
    if (!obs.rows.empty()) sec.tables.push_back(std::move(obs));
    if (!other.rows.empty()) sec.tables.push_back(std::move(other));
    return sec;
}

Section Builder::convergence() {
    Section sec;
    sec.id = "convergence";
    sec.title = "5. Convergence with schemes";
    Table schemes;
    schemes.id = "convergence_schemes";
    schemes.title = "Scheme awareness and receipt";
    schemes.note = "Weighted share of firms aware of each scheme and share that received it, with 95% intervals. "
                   "The gap between the two is where outreach can help.";
    schemes.columns = {"Aware", "Received"};
    schemes.chart = {ChartSpec::Kind::PairedBars, {0, 1}, "% of firms"};
    Table coinvest;
    coinvest.id = "convergence_coinvestment";
    coinvest.title = "Co-investment demand and joint facilities";
    coinvest.note = "Share of firms willing to co-invest in a common facility, the amount offered in total and "
                    "per willing firm (median), and use of common facilities.";
    coinvest.columns = {"Estimate"};

    std::set<size_t> paired;
    for (size_t i : topic("convergence")) {
        const std::string& id = m_t.indicators[i].id;
        if (!startsWith(id, "scheme_") || paired.count(i)) continue;
        std::string stem = id.substr(0, id.rfind('_'));  // scheme_X
        const Indicator* aware = indicator(stem + "_aware");
        const Indicator* reach = indicator(stem + "_reach");
        if (!aware && !reach) continue;
        Row r;
        r.key = stem.substr(7);
        size_t first = aware ? m_index.at(aware->id) : m_index.at(reach->id);
        r.label = label(first);
        // "MSE-CDP ...: aware" -> "MSE-CDP ..."; in every language the template puts the status after a colon.
        if (auto colon = r.label.rfind(':'); colon != std::string::npos && colon > 0) r.label.resize(colon);
        r.cells.push_back(aware ? cell(m_index.at(aware->id), m_request.scope) : Cell());
        r.cells.push_back(reach ? cell(m_index.at(reach->id), m_request.scope) : Cell());
        if (aware) paired.insert(m_index.at(aware->id));
        if (reach) paired.insert(m_index.at(reach->id));
        schemes.rows.push_back(std::move(r));
    }
    for (size_t i : topic("convergence"))
        if (!paired.count(i)) coinvest.rows.push_back(indicatorRow(i));

    const Row* gap = nullptr;
    double gapValue = -1;
    for (const Row& r : schemes.rows) {
        if (r.cells.size() < 2 || !r.cells[0].shown() || !r.cells[1].shown() || r.cells[0].kind != Cell::Kind::Estimate ||
            r.cells[1].kind != Cell::Kind::Estimate)
            continue;
        double g = r.cells[0].estimate.value - r.cells[1].estimate.value;
        if (g > gapValue) gapValue = g, gap = &r;
    }
    if (gap)
        sec.highlights.push_back("Widest gap between awareness and receipt: " + gap->label + " (" +
                                 fmt(gap->cells[0].estimate.value) + "% aware, " + fmt(gap->cells[1].estimate.value) +
                                 "% received).");
    for (const Row& r : coinvest.rows) {
        if (!r.cells[0].shown()) continue;
        if (r.key == "coinvest_share")
            sec.highlights.push_back(fmt(r.cells[0].estimate.value) + "% of firms would co-invest in a common facility.");
        if (r.key == "coinvest_total")
            sec.highlights.push_back("Co-investment offered in total: " + inr(r.cells[0].estimate.value) + ".");
        if (r.key == "coinvest_median")
            sec.highlights.push_back("Median offer per willing firm: " + inr(r.cells[0].estimate.value) + ".");
    }
    if (sec.highlights.empty()) sec.highlights.push_back("Too few answers to publish scheme figures for this " + noun() + ".");
    if (!schemes.rows.empty()) sec.tables.push_back(std::move(schemes));
    if (!coinvest.rows.empty()) sec.tables.push_back(std::move(coinvest));
    return sec;
}

// Money totals by part with the scope's total as the last row; the parts add up to it, so a
// hidden part would be recoverable from the total and the other parts: secondary suppression.
Table Builder::moneyTable() {
    Table t;
    std::vector<size_t> cols;
    for (const char* id : {"gva_total", "coinvest_total"})
        if (const Indicator* ind = indicator(id)) cols.push_back(m_index.at(ind->id));
    bool byCluster = m_request.scope.level != ScopeLevel::Cluster;
    t.id = "comparison_money";
    t.title = byCluster ? "Gross value added and co-investment offered, by cluster"
                        : "Gross value added and co-investment offered, by size class";
    t.note = "Weighted money totals in INR. A part is hidden when fewer than " +
             std::to_string(m_request.rules.disclosure.minUnits) + " units make it, when its " +
             std::to_string(m_request.rules.disclosure.dominanceUnits) + " largest units (weighted) make more than " +
             percentOf(m_request.rules.disclosure.dominanceShare) +
             "% of it, or when it is too imprecise; then a second part is hidden so "
             "that the first cannot be worked out from the total.";
    for (size_t i : cols) t.columns.push_back(label(i) + " (INR)");

    auto moneyCell = [](const Estimate& e) {
        Cell c = Cell::ofNumber(e.value, "INR");
        c.suppression = e.suppression;
        return c;
    };
    if (byCluster) {
        for (const std::string& c : clustersIn(m_request.scope)) {
            if (!m_clusterResponded.count(c)) continue;
            Row r;
            r.key = c;
            r.label = clusterName(c);
            for (size_t i : cols)
                r.cells.push_back(moneyCell(estimateIndicator(m_rollup, m_geo, {ScopeLevel::Cluster, c}, i, m_request.rules)));
            t.rows.push_back(std::move(r));
        }
    } else {
        // Inside one cluster the parts are its strata; each is estimated alone with the same
        // weights estimateIndicator uses (stratumPopulations).
        const std::map<StratumKey, double> populations = stratumPopulations(m_rollup, m_geo);
        for (const auto& [key, acc] : m_rollup.strata()) {
            // Visits that were refused carry no size class: they form no part of any total.
            if (key.cluster != m_request.scope.name || acc.responded == 0) continue;
            Row r;
            r.key = key.stratum;
            r.label = key.stratum.empty() ? "(no stratum)" : key.stratum;
            for (size_t i : cols) {
                StratumSample s;
                s.populationUnits = populations.at(key);
                s.sampledUnits = acc.responded;
                s.moments = acc.indicators[i];
                r.cells.push_back(moneyCell(estimateTotal(std::span<const StratumSample>(&s, 1), m_t.indicators[i].unit == "INR",
                                                          m_request.rules.disclosure)));
            }
            t.rows.push_back(std::move(r));
        }
    }
    std::vector<std::vector<bool>> hidden;
    std::vector<std::vector<double>> values;
    for (const Row& r : t.rows) {
        hidden.emplace_back();
        values.emplace_back();
        for (const Cell& c : r.cells) {
            hidden.back().push_back(!c.shown());
            values.back().push_back(std::isfinite(c.number) ? std::fabs(c.number) : 0.0);
        }
    }
    for (auto [r, c] : secondarySuppression(hidden, values, false, true)) t.rows[r].cells[c].suppression = Suppression::Secondary;
    Row total;
    total.key = "total";
    total.label = "Total (" + scopeTitle(m_request.scope) + ")";
    total.isTotal = true;
    for (size_t i : cols) total.cells.push_back(moneyCell(estimateIndicator(m_rollup, m_geo, m_request.scope, i, m_request.rules)));
    t.rows.push_back(std::move(total));
    return t;
}

Section Builder::comparison() {
    Section sec;
    sec.id = "comparison";
    sec.title = "6. Comparison";
    const ReportScope& scope = m_request.scope;

    std::vector<size_t> keys;
    for (const char* id : {"exporter_share", "women_share_jobs", "youth_share_jobs", "quality_job_share", "gva_per_worker",
                           "certified_share", "coinvest_share"})
        if (const Indicator* ind = indicator(id)) keys.push_back(m_index.at(ind->id));
    for (size_t i : topic("comparison"))
        if (std::find(keys.begin(), keys.end(), i) == keys.end()) keys.push_back(i);

    std::vector<std::pair<std::string, ReportScope>> columns{{scopeTitle(scope), scope}};
    std::string state, sector;
    if (scope.level == ScopeLevel::Cluster) {
        auto place = m_geo.clusters.find(scope.name);
        if (place != m_geo.clusters.end()) {
            state = place->second.state;
            sector = place->second.sector;
        }
        if (!state.empty()) columns.push_back({"State: " + state, {ScopeLevel::State, state}});
        if (!sector.empty()) columns.push_back({"Sector " + sector + " (national)", {ScopeLevel::Sector, sector}});
        if (state.empty() && sector.empty()) columns.push_back({scopeTitle({}), {}});
        if (!sector.empty()) {
            std::vector<std::pair<uint64_t, std::string>> peers;
            for (const auto& [code, place2] : m_geo.clusters)
                if (code != scope.name && place2.sector == sector && m_clusterResponded.count(code))
                    peers.push_back({m_clusterVisits[code], code});
            std::sort(peers.begin(), peers.end(), [](const auto& a, const auto& b) {
                return a.first != b.first ? a.first > b.first : a.second < b.second;
            });
            if (peers.size() > m_request.peerClusters) peers.resize(m_request.peerClusters);
            for (const auto& [n, code] : peers) columns.push_back({"Peer: " + clusterName(code), {ScopeLevel::Cluster, code}});
        }
    } else if (scope.level == ScopeLevel::District) {
        for (const auto& [code, place] : m_geo.clusters)
            if (place.district == scope.name && !place.state.empty()) state = place.state;
        if (!state.empty()) columns.push_back({"State: " + state, {ScopeLevel::State, state}});
        columns.push_back({scopeTitle({}), {}});
    } else if (scope.level != ScopeLevel::Nation) {
        columns.push_back({scopeTitle({}), {}});
    }

    Table cmp;
    cmp.id = "comparison_key";
    cmp.title = "Key indicators compared";
    cmp.note = scope.level == ScopeLevel::Cluster
                   ? "This cluster against its state, its sector across the country and peer clusters of the same "
                     "sector (most visits first). Differences inside overlapping intervals may be chance."
                   : "This " + noun() + " against the nation. Differences inside overlapping intervals may be chance.";
    for (const auto& c : columns) cmp.columns.push_back(c.first);
    for (size_t i : keys) {
        Row r;
        r.key = m_t.indicators[i].id;
        r.label = label(i);
        for (const auto& c : columns) r.cells.push_back(cell(i, c.second));
        cmp.rows.push_back(std::move(r));
    }
    for (const Row& r : cmp.rows) {
        if (r.cells.size() < 2 || !r.cells[0].shown() || !r.cells[1].shown()) continue;
        if (r.key != "exporter_share" && r.key != "gva_per_worker") continue;
        const Estimate &a = r.cells[0].estimate, &b = r.cells[1].estimate;
        bool apart = a.low > b.high || b.low > a.high;
        std::string av = r.key == "gva_per_worker" ? inr(a.value) : fmt(a.value) + "%";
        std::string bv = r.key == "gva_per_worker" ? inr(b.value) : fmt(b.value) + "%";
        sec.highlights.push_back(r.label + ": " + av + " here against " + bv + " (" + cmp.columns[1] + ")" +
                                 (apart ? "; the intervals do not overlap." : "; the difference is within the margin of error."));
    }
    if (sec.highlights.empty())
        sec.highlights.push_back("Compared with " + cmp.columns.back() + " on " + std::to_string(keys.size()) + " key indicators.");
    sec.tables.push_back(std::move(cmp));

    if (scope.level != ScopeLevel::Cluster) {
        Table list;
        list.id = "comparison_clusters";
        list.title = "Clusters in this " + noun();
        list.note = "Visits and responding units per cluster, with two key indicators.";
        list.columns = {"Visits", "Responded"};
        std::vector<size_t> few;
        for (size_t i : keys)
            if (few.size() < 2) few.push_back(i);
        for (size_t i : few) list.columns.push_back(label(i));
        for (const std::string& c : clustersIn(scope)) {
            Row r;
            r.key = c;
            r.label = clusterName(c);
            r.cells.push_back(Cell::ofNumber(double(m_clusterVisits.count(c) ? m_clusterVisits.at(c) : 0), "units"));
            r.cells.push_back(Cell::ofNumber(double(m_clusterResponded.count(c) ? m_clusterResponded.at(c) : 0), "units"));
            for (size_t i : few) r.cells.push_back(cell(i, {ScopeLevel::Cluster, c}));
            list.rows.push_back(std::move(r));
        }
        sec.highlights.push_back(std::to_string(list.rows.size()) + " clusters lie in this " + noun() + ".");
        sec.tables.push_back(std::move(list));
    }
    Table money = moneyTable();
    if (!money.columns.empty()) sec.tables.push_back(std::move(money));
    return sec;
}

Section Builder::dataQuality(const std::vector<Section>& before) {
    Section sec;
    sec.id = "data_quality";
    sec.title = "7. Data quality";
    const ReportScope& scope = m_request.scope;

    Table quality;
    quality.id = "dq_indicators";
    quality.title = "Interview quality";
    quality.note = "How the answers were obtained.";
    quality.columns = {"Estimate"};
    for (size_t i : topic("data_quality")) quality.rows.push_back(indicatorRow(i));

    uint64_t published = 0, caution = 0, suppressed = 0;
    Table supp;
    supp.id = "dq_suppressed";
    supp.title = "Suppressed cells";
    supp.note = "Every figure of this report that is not shown, and why.";
    supp.columns = {"Table", "Column", "Reason"};
    const size_t kMaxListed = 200;
    size_t notListed = 0;
    auto tally = [&](const Table& t) {
        for (const Row& r : t.rows)
            for (size_t c = 0; c < r.cells.size(); ++c) {
                const Cell& cell = r.cells[c];
                if (cell.kind == Cell::Kind::Estimate && cell.shown())
                    (cell.estimate.precision == Precision::Caution ? caution : published)++;
                else if (cell.kind == Cell::Kind::Number && cell.shown() && cell.unit == "INR")
                    published++;
                if (cell.shown() || cell.kind == Cell::Kind::Empty) continue;
                ++suppressed;
                if (supp.rows.size() >= kMaxListed) {
                    ++notListed;
                    continue;
                }
                Row row;
                row.key = t.id + "/" + r.key + "/" + std::to_string(c);
                row.label = r.label;
                row.cells = {Cell::ofText(t.title), Cell::ofText(c < t.columns.size() ? t.columns[c] : ""),
                             Cell::ofText(suppressionName(cell.suppression))};
                supp.rows.push_back(std::move(row));
            }
    };
    for (const Section& s : before)
        for (const Table& t : s.tables) tally(t);
    tally(quality);
    if (notListed) supp.note += " The first " + std::to_string(kMaxListed) + " are listed; " + std::to_string(notListed) + " more are not.";

    Table flags;
    flags.id = "dq_precision";
    flags.title = "Precision flags of the figures in this report";
    flags.note = "Published: CV up to 16.5%. Use with caution: CV 16.5-33.3%. Suppressed: CV above 33.3%, fewer than 10 "
                 "observations, too few units, a few dominant units, or hidden to protect another cell.";
    flags.columns = {"Cells"};
    for (auto [key, name, n] : {std::tuple{"published", "Published", published}, std::tuple{"caution", "Use with caution", caution},
                                std::tuple{"suppressed", "Suppressed", suppressed}}) {
        Row r;
        r.key = key;
        r.label = name;
        r.cells.push_back(Cell::ofNumber(double(n), "cells"));
        flags.rows.push_back(std::move(r));
    }
    sec.highlights.push_back(std::to_string(published) + " figures published, " + std::to_string(caution) +
                             " flagged \"use with caution\", " + std::to_string(suppressed) + " suppressed.");

    ClusterFieldwork work;
    for (const auto& [cluster, fw] : m_rollup.fieldwork())
        if (inScope(m_geo, cluster, scope)) work.merge(fw);

    Table officers;
    officers.id = "dq_officers";
    officers.title = "Visits per officer";
    officers.note = "An officer with far more or far fewer visits than the others, or with unusual answers, is "
                    "worth a back-check.";
    officers.columns = {"Visits"};
    officers.chart = {ChartSpec::Kind::Bars, {0}, "visits"};
    std::vector<std::pair<uint64_t, std::string>> byOfficer;
    for (const auto& [o, n] : work.visitsByOfficer) byOfficer.push_back({n, o});
    std::sort(byOfficer.begin(), byOfficer.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second < b.second;
    });
    const size_t kMaxOfficers = 40;
    uint64_t others = 0;
    size_t otherCount = 0;
    for (size_t k = 0; k < byOfficer.size(); ++k) {
        if (k >= kMaxOfficers) {
            others += byOfficer[k].first;
            ++otherCount;
            continue;
        }
        Row r;
        r.key = byOfficer[k].second.empty() ? "(none)" : byOfficer[k].second;
        r.label = byOfficer[k].second.empty() ? "(no officer recorded)" : byOfficer[k].second;
        r.cells.push_back(Cell::ofNumber(double(byOfficer[k].first), "visits"));
        officers.rows.push_back(std::move(r));
    }
    if (otherCount) {
        Row r;
        r.key = "(others)";
        r.label = std::to_string(otherCount) + " other officers";
        r.cells.push_back(Cell::ofNumber(double(others), "visits"));
        officers.rows.push_back(std::move(r));
    }
    if (!byOfficer.empty()) {
        std::vector<uint64_t> counts;
        for (const auto& p : byOfficer) counts.push_back(p.first);
        std::sort(counts.begin(), counts.end());
        sec.highlights.push_back(std::to_string(byOfficer.size()) + " officers made between " + std::to_string(counts.front()) +
                                 " and " + std::to_string(counts.back()) + " visits each (median " +
                                 std::to_string(counts[counts.size() / 2]) + ").");
    }

    Table weeks;
    weeks.id = "dq_weeks";
    weeks.title = "Visits per week";
    weeks.note = "Weeks start on Monday. Fieldwork bunched into a few days can mean rushed interviews.";
    weeks.columns = {"Visits"};
    weeks.chart = {ChartSpec::Kind::Bars, {0}, "visits"};
    std::map<int64_t, uint64_t> byWeek;
    for (const auto& [day, n] : work.visitsByDay) {
        // 1970-01-01 was a Thursday: day + 3 counts days since a Monday.
        int64_t monday = day - (((day + 3) % 7) + 7) % 7;
        byWeek[monday] += n;
    }
    for (const auto& [monday, n] : byWeek) {
        Row r;
        r.key = isoDay(monday);
        r.label = "Week of " + isoDay(monday);
        r.cells.push_back(Cell::ofNumber(double(n), "visits"));
        weeks.rows.push_back(std::move(r));
    }
    if (!work.visitsByDay.empty())
        sec.highlights.push_back("Fieldwork ran from " + isoDay(work.visitsByDay.begin()->first) + " to " +
                                 isoDay(work.visitsByDay.rbegin()->first) + " over " + std::to_string(byWeek.size()) +
                                 (byWeek.size() == 1 ? " week." : " weeks."));

    Table strata;
    strata.id = "dq_strata";
    strata.title = "Strata coverage";
    strata.note = "Strata the register lists but no officer visited are missing from the estimates (their units are "
                  "not represented); visits in strata the register does not list weigh 1.";
    strata.columns = {"Register units", "Responding visits", "Issue"};
    uint64_t emptyStrata = 0, unlisted = 0;
    for (const auto& [key, n] : m_geo.registerUnits) {
        if (!inScope(m_geo, key.cluster, scope)) continue;
        auto it = m_rollup.strata().find(key);
        if (it != m_rollup.strata().end() && it->second.responded > 0) continue;
        ++emptyStrata;
        Row r;
        r.key = key.cluster + "/" + key.stratum;
        r.label = clusterName(key.cluster) + " / " + (key.stratum.empty() ? "(no stratum)" : key.stratum);
        r.cells = {Cell::ofNumber(double(n), "units"), Cell::ofNumber(0, "visits"), Cell::ofText("no responding visits")};
        strata.rows.push_back(std::move(r));
    }
    if (m_geo.hasRegister()) {
        for (const auto& [key, acc] : m_rollup.strata()) {
            // Refusals carry no size class; only responding units in an unlisted stratum are a mismatch.
            if (!inScope(m_geo, key.cluster, scope) || m_geo.registerUnits.count(key) || acc.responded == 0) continue;
            ++unlisted;
            Row r;
            r.key = key.cluster + "/" + key.stratum;
            r.label = clusterName(key.cluster) + " / " + (key.stratum.empty() ? "(no stratum)" : key.stratum);
            r.cells = {Cell::ofNumber(0, "units"), Cell::ofNumber(double(acc.responded), "visits"),
                       Cell::ofText("not in the register")};
            strata.rows.push_back(std::move(r));
        }
        sec.highlights.push_back(emptyStrata == 0 && unlisted == 0
                                     ? std::string("Every stratum of the register was visited, and every visit lies in a register stratum.")
                                     : std::to_string(emptyStrata) + " register strata have no responding visits; " + std::to_string(unlisted) +
                                           " visited strata are not in the register.");
    }

    if (m_weighted)
        sec.highlights.push_back("The figures are weighted by the cluster register (units per stratum).");
    else
        sec.highlights.push_back("The figures are not weighted: without a cluster register they describe the sample only.");

    sec.tables.push_back(std::move(flags));
    sec.tables.push_back(std::move(supp));
    sec.tables.push_back(std::move(officers));
    sec.tables.push_back(std::move(weeks));
    if (!strata.rows.empty()) sec.tables.push_back(std::move(strata));
    if (!quality.rows.empty()) sec.tables.push_back(std::move(quality));
    return sec;
}

std::vector<std::string> Builder::methodNotes() const {
    std::vector<std::string> notes;
    if (m_weighted)
        notes.push_back("Weights: each visited unit stands for N/n units of its stratum (size class), where N is the "
                        "stratum's units in the cluster register and n the responding units visited. Units with no "
                        "size class (or one the register does not list) stand for themselves only, and their "
                        "cluster's strata give up as many register units in proportion to their size, so a "
                        "cluster's weighted units equal its register count.");
    else
        notes.push_back("No cluster register was loaded for this " + noun() + ", so every unit weighs 1: the figures "
                        "describe the sample of " + std::to_string(m_responded) + " responding units only, not the whole " +
                        noun() + ".");
    notes.push_back("Only units that agreed to the interview enter the estimates; the response rate is shown in section 1.");
    notes.push_back(std::string("Intervals are 95%. Shares: ") +
                    (m_request.rules.shareInterval == ShareInterval::Logit
                         ? "logit intervals (the interval of log(p / (1 - p)), mapped back), which stay within 0-100%"
                         : "estimate plus or minus 1.96 standard errors, clipped to 0-100%") +
                    ". Means, ratios and totals: estimate plus or minus 1.96 standard errors, with ratio estimators "
                    "and linearised variances; medians use Woodruff's interval. A finite population correction is "
                    "applied to a stratum where at least 5% of its units were visited; a stratum with one visited "
                    "unit is measured from zero (R survey's \"adjust\" rule).");
    notes.push_back("Precision: a figure with a coefficient of variation (standard error / estimate) up to 16.5% is "
                    "published; from 16.5% to 33.3% it is flagged \"use with caution\"; above 33.3%, or from fewer "
                    "than 10 observations, it is suppressed.");
    const DisclosureRules& d = m_request.rules.disclosure;
    notes.push_back("Disclosure: no figure built from fewer than " + std::to_string(d.minUnits) +
                    " units is shown; a money total is hidden when its " +
                    (d.dominanceUnits == 1 ? std::string("largest unit makes")
                                           : std::to_string(d.dominanceUnits) + " largest units make") +
                    " (weighted) more than " + percentOf(d.dominanceShare) +
                    "% of it; and where parts add up to a total, a second part is hidden so a suppressed one cannot "
                    "be worked out.");
    notes.push_back("Shares and percentage ratios are shown in percent; money in Indian rupees (INR).");
    return notes;
}

BaselineReport Builder::build() {
    checkScope();
    const ReportScope& scope = m_request.scope;
    for (const auto& [key, acc] : m_rollup.strata()) {
        if (!inScope(m_geo, key.cluster, scope)) continue;
        m_visits += acc.visits;
        m_responded += acc.responded;
    }
    for (const auto& [key, n] : m_geo.registerUnits)
        if (inScope(m_geo, key.cluster, scope)) m_registerUnits += n;
    m_weighted = m_registerUnits > 0;

    BaselineReport report;
    report.scope = scope;
    report.templateId = m_t.id;
    report.templateVersion = m_t.version;
    report.builtAt = m_request.builtAt;
    report.inputsHash = m_request.inputsHash;
    report.weighted = m_weighted;
    report.visits = m_visits;
    report.responded = m_responded;
    switch (scope.level) {
    case ScopeLevel::Cluster: {
        report.title = clusterName(scope.name) + ": cluster baseline";  // the scope label below gives the code
        report.scopeLabel = "Cluster " + scope.name;
        auto place = m_geo.clusters.find(scope.name);
        if (place != m_geo.clusters.end()) {
            if (!place->second.district.empty()) report.scopeLabel += ", " + place->second.district;
            if (!place->second.state.empty()) report.scopeLabel += ", " + place->second.state;
        }
        break;
    }
    case ScopeLevel::District: {
        report.title = scope.name + " district: baseline";
        report.scopeLabel = "District " + scope.name;
        for (const auto& [code, place] : m_geo.clusters)
            if (place.district == scope.name && !place.state.empty()) {
                report.scopeLabel += ", " + place.state;
                break;
            }
        break;
    }
    case ScopeLevel::State:
        report.title = scope.name + ": state baseline";
        report.scopeLabel = "State " + scope.name;
        break;
    case ScopeLevel::Sector:
        report.title = "Sector " + scope.name + ": national baseline";
        report.scopeLabel = "Sector " + scope.name + ", all states";
        break;
    case ScopeLevel::Nation:
        report.title = "India: national baseline";
        report.scopeLabel = "India, all clusters";
        break;
    }
    report.methodNotes = methodNotes();
    report.sections.push_back(glance());
    report.sections.push_back(outcomes());
    report.sections.push_back(valueChain());
    report.sections.push_back(constraints());
    report.sections.push_back(convergence());
    report.sections.push_back(comparison());
    report.sections.push_back(dataQuality(report.sections));
    return report;
}

}  // namespace

BaselineReport buildBaselineReport(const BaselineRollup& rollup, const Geography& geo, const ReportRequest& request) {
    return Builder(rollup, geo, request).build();
}

}  // namespace ck::report
