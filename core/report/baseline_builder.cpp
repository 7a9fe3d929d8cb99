// What the cluster baseline says: the template's report layout (core/template/report_layout.h)
// filled with figures, each with its interval and flags, for a cluster development executive
// presenting to firm owners, bankers and a state secretary. The layout decides which
// indicators go where and every word; this file only knows how to compute each kind of table
// and highlight, the same for every template. The renderers decide only how it looks.
//
// Readings of the brief a survey statistician would expect (stated here because the header
// leaves them open):
// - Shares, and ratios whose unit starts with "%", are shown as percentages (value, se and
//   interval x100; the CV is scale-free and kept). Means keep the template's unit: a mean of
//   "% of sales" answers is already in percent.
// - The response rate in the fieldwork table is unweighted (visits responded / visits): it
//   describes fieldwork, not the cluster.
// - Money totals by part (cluster, or size class inside one cluster) with their total row get
//   secondary suppression along the columns. When a column's total is itself hidden the
//   parts are still protected (a little over-suppression rather than a recoverable cell).
// - A highlight sentence is said only when every figure it names is shown: a sentence never
//   carries a suppressed figure or a gap.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "core/report/baseline_report.h"
#include "core/report/figure_text.h"
#include "core/template/report_layout.h"

namespace ck::report {

namespace {

using Phrase = ReportPhrase;

// The row whose first figure is the largest among those shown (for a highlight); null if none.
const Row* largestShown(const Table& t) {
    const Row* best = nullptr;
    for (const Row& r : t.rows)
        if (!r.cells.empty() && r.cells[0].kind == Cell::Kind::Estimate && r.cells[0].shown() &&
            (!best || r.cells[0].estimate.value > best->cells[0].estimate.value))
            best = &r;
    return best;
}

// A settable share as people write it: 0.85 -> "85%", 0.875 -> "87.5%".
std::string percentOf(double share) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g%%", 100 * share);
    return buf;
}

std::string isoDay(int64_t days) {
    using namespace std::chrono;
    year_month_day ymd{sys_days{std::chrono::days{days}}};
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
    return buf;
}

bool startsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string count(uint64_t n) { return groupIndian(double(n), 0); }

// Fills `{name}` and `{name.field}` from `look`; nullopt when a placeholder has no value here
// (the loader has already checked every name exists).
template <class Look>
std::optional<std::string> fillText(const std::string& text, Look look) {
    std::string out;
    out.reserve(text.size() + 32);
    size_t from = 0;
    for (size_t at = text.find('{'); at != std::string::npos; at = text.find('{', from)) {
        size_t end = text.find('}', at);
        if (end == std::string::npos) break;
        out.append(text, from, at - from);
        std::optional<std::string> v = look(std::string_view(text).substr(at + 1, end - at - 1));
        if (!v) return std::nullopt;
        out += *v;
        from = end + 1;
    }
    out.append(text, from, std::string::npos);
    return out;
}

using Locals = std::map<std::string, std::string, std::less<>>;

class Builder {
public:
    Builder(const BaselineRollup& rollup, const Geography& geo, const ReportRequest& request)
        : m_rollup(rollup), m_geo(geo), m_request(request), m_t(rollup.templ()) {
        int lang = m_t.languageIndex(request.language);
        m_lang = lang < 0 ? 0 : size_t(lang);
        if (m_t.report.layout) {
            m_layout = m_t.report.layout.get();
        } else {  // a Template not made by the loader (tests build some by hand)
            m_ownLayout = defaultReportLayout(m_t);
            m_layout = &m_ownLayout;
        }
        for (const ChoiceList& list : m_t.choiceLists)
            if (list.id == "cluster") m_clusterChoices = &list;
        for (const auto& [key, acc] : m_rollup.strata()) {
            m_clusterVisits[key.cluster] += acc.visits;
            m_clusterResponded[key.cluster] += acc.responded;
        }
        m_scopeCells.resize(m_t.indicators.size());
        m_fw = {phrase(Phrase::figure_lakh),         phrase(Phrase::figure_crore),     phrase(Phrase::figure_to),
                phrase(Phrase::figure_caution),      phrase(Phrase::hidden_observations), phrase(Phrase::hidden_imprecise),
                phrase(Phrase::hidden_units),        phrase(Phrase::hidden_dominance), phrase(Phrase::hidden_secondary)};
    }

    BaselineReport build();

private:
    // ---- words ----
    const std::string& phrase(Phrase p) const { return m_layout->phrase(p, m_lang); }
    std::string text(const LocalText& t) const { return t.empty() ? std::string() : t.in(m_lang); }
    // A phrase with its local placeholders filled ("State: {name}").
    std::string phrase(Phrase p, const Locals& locals) const { return fill(phrase(p), locals).value_or(phrase(p)); }
    std::optional<std::string> lookUp(std::string_view name, const Locals& locals) const;
    std::optional<std::string> fill(const std::string& text, const Locals& locals = {}) const {
        return fillText(text, [&](std::string_view name) { return lookUp(name, locals); });
    }
    // Titles and notes: a placeholder without a value reads as nothing rather than losing the title.
    std::string heading(const LocalText& t, const Locals& locals = {}) const {
        return fillText(text(t), [&](std::string_view name) { return lookUp(name, locals).value_or(""); }).value_or("");
    }
    bool holds(ReportCondition c) const;

    // ---- scope ----
    void checkScope() const;
    std::string noun() const;
    std::string scopeTitle(const ReportScope& s) const;
    std::string clusterName(const std::string& code) const;
    std::vector<std::string> clustersIn(const ReportScope& s) const;

    // ---- figures ----
    bool percentScaled(size_t i) const {
        const Indicator& ind = m_t.indicators[i];
        return ind.kind == IndicatorKind::Share || (ind.kind == IndicatorKind::Ratio && startsWith(ind.unit, "%"));
    }
    Estimate display(size_t i, const ReportScope& s) const;
    Cell cell(size_t i, const ReportScope& s) const {
        return Cell::ofEstimate(display(i, s), percentScaled(i) ? "%" : m_t.indicators[i].unit);
    }
    const Cell& scopeCell(size_t i) const {
        if (!m_scopeCells[i]) m_scopeCells[i] = cell(i, m_request.scope);
        return *m_scopeCells[i];
    }
    std::string rowLabel(const ReportRowSpec& r) const;

    // ---- tables ----
    std::optional<Table> buildTable(const ReportTableSpec& spec);
    Table tableHead(const ReportTableSpec& spec) const;
    Table estimatesTable(const ReportTableSpec& spec);
    Table pairsTable(const ReportTableSpec& spec);
    Table fieldworkTable(const ReportTableSpec& spec);
    Table comparisonTable(const ReportTableSpec& spec);
    Table clustersTable(const ReportTableSpec& spec);
    Table moneyTable(const ReportTableSpec& spec);
    Table officersTable(const ReportTableSpec& spec) const;
    Table weeksTable(const ReportTableSpec& spec) const;
    Table strataTable(const ReportTableSpec& spec) const;
    void tallyFlags(std::vector<Section>& sections);
    std::vector<std::string> highlights(const ReportSectionSpec& spec);
    std::vector<std::string> methodNotes() const;
    void fieldworkFigures();

    const BaselineRollup& m_rollup;
    const Geography& m_geo;
    const ReportRequest& m_request;
    const Template& m_t;
    const ReportLayout* m_layout = nullptr;
    ReportLayout m_ownLayout;
    size_t m_lang = 0;
    const ChoiceList* m_clusterChoices = nullptr;
    std::map<std::string, uint64_t> m_clusterVisits, m_clusterResponded;
    uint64_t m_visits = 0, m_responded = 0, m_registerUnits = 0;
    bool m_weighted = false;
    bool m_strataGaps = false;
    mutable std::vector<std::optional<Cell>> m_scopeCells;                // per indicator, for the report's scope
    std::map<std::string, std::string, std::less<>> m_figures;    // the report figures placeholders name
    std::map<std::string, const Table*> m_built;                   // by table id, once every table is built
    std::map<std::string, std::map<std::string, std::string>> m_short;  // table id -> row key -> short label
    ClusterFieldwork m_work;                                       // fieldwork of the clusters in scope
    FigureWords m_fw;                                              // lakh, crore, "to" in the language
};

std::optional<std::string> Builder::lookUp(std::string_view name, const Locals& locals) const {
    if (auto it = locals.find(name); it != locals.end()) return it->second;
    if (auto it = m_figures.find(name); it != m_figures.end()) return it->second;
    std::string_view field;
    if (auto dot = name.find('.'); dot != std::string_view::npos) {
        field = name.substr(dot + 1);
        name = name.substr(0, dot);
    }
    int i = -1;
    for (size_t k = 0; k < m_t.indicators.size(); ++k)
        if (m_t.indicators[k].id == name) i = int(k);
    if (i < 0) return std::nullopt;
    if (field == "label") return m_t.indicators[size_t(i)].label.in(m_lang);
    const Cell& c = scopeCell(size_t(i));
    if (!c.shown() || !c.estimate.shown()) return std::nullopt;
    const Estimate& e = c.estimate;
    if (field.empty()) return figureText(e.value, c.unit, m_fw);
    if (!std::isfinite(e.low) || !std::isfinite(e.high)) return std::nullopt;
    if (field == "low") return intervalEndText(e.low, c.unit, m_fw);
    if (field == "high") return intervalEndText(e.high, c.unit, m_fw);
    return intervalText(c, m_fw);  // "interval"
}

bool Builder::holds(ReportCondition c) const {
    bool cluster = m_request.scope.level == ScopeLevel::Cluster;
    switch (c) {
        case ReportCondition::Always: return true;
        case ReportCondition::Visits: return m_visits > 0;
        case ReportCondition::NoVisits: return m_visits == 0;
        case ReportCondition::Register: return m_geo.hasRegister() && m_registerUnits > 0;
        case ReportCondition::NoRegister: return !(m_geo.hasRegister() && m_registerUnits > 0);
        case ReportCondition::Weighted: return m_weighted;
        case ReportCondition::Unweighted: return !m_weighted;
        case ReportCondition::ClusterScope: return cluster;
        case ReportCondition::WiderScope: return !cluster;
        case ReportCondition::StrataComplete: return m_geo.hasRegister() && !m_strataGaps;
        case ReportCondition::StrataGaps: return m_geo.hasRegister() && m_strataGaps;
    }
    return false;
}

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

std::string Builder::rowLabel(const ReportRowSpec& r) const {
    if (!r.label.empty()) return text(r.label);
    std::string label = m_t.indicators[size_t(r.indicators.at(0))].label.in(m_lang);
    // A pair takes its first indicator's label up to the last colon: "MSE-CDP ...: aware" -> "MSE-CDP ...".
    if (r.indicators.size() == 2)
        if (auto colon = label.rfind(':'); colon != std::string::npos && colon > 0) label.resize(colon);
    return label;
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

std::string Builder::noun() const {
    switch (m_request.scope.level) {
        case ScopeLevel::Cluster: return phrase(Phrase::scope_cluster);
        case ScopeLevel::District: return phrase(Phrase::scope_district);
        case ScopeLevel::State: return phrase(Phrase::scope_state);
        case ScopeLevel::Sector: return phrase(Phrase::scope_sector);
        case ScopeLevel::Nation: return phrase(Phrase::scope_nation);
    }
    return phrase(Phrase::scope_nation);
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
        case ScopeLevel::District: return phrase(Phrase::name_district, {{"name", s.name}});
        case ScopeLevel::State: return phrase(Phrase::name_state, {{"name", s.name}});
        case ScopeLevel::Sector: return phrase(Phrase::name_sector, {{"name", s.name}});
        case ScopeLevel::Nation: return phrase(Phrase::name_nation);
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

// The figures every template's sentences may name, known before any table is built (the
// flag counts and the comparison's are added once their tables exist).
void Builder::fieldworkFigures() {
    const ReportScope& scope = m_request.scope;
    bool cluster = scope.level == ScopeLevel::Cluster;
    m_figures["scope"] = noun();
    // The rules the estimator applies, so a note or method note says what the code does.
    m_figures["cv_publish"] = figureText(100 * kCvPublish, "%");
    m_figures["cv_caution"] = figureText(100 * kCvCaution, "%");
    m_figures["min_observations"] = count(kMinObservations);
    // The disclosure rules and the interval method are the project's settings (ReportRules).
    const DisclosureRules& rules = m_request.rules.disclosure;
    m_figures["min_units"] = count(rules.minUnits);
    m_figures["dominant_units"] = rules.dominanceUnits == 1
                                      ? phrase(Phrase::dominant_one)
                                      : phrase(Phrase::dominant_many, {{"n", count(uint64_t(rules.dominanceUnits))}});
    m_figures["dominance_share"] = percentOf(rules.dominanceShare);
    m_figures["share_interval"] =
        phrase(m_request.rules.shareInterval == ShareInterval::Logit ? Phrase::interval_logit : Phrase::interval_wald);
    m_figures["fpc_threshold"] = groupIndian(100 * kFpcThreshold, 0) + "%";
    m_figures["visits"] = count(m_visits);
    m_figures["responded"] = count(m_responded);
    if (m_visits) m_figures["response_rate"] = figureText(100.0 * double(m_responded) / double(m_visits), "%");
    if (m_geo.hasRegister() && m_registerUnits) {
        m_figures["register_units"] = count(m_registerUnits);
        m_figures["visited_share"] = figureText(100.0 * double(m_visits) / double(m_registerUnits), "%");
    }
    if (!cluster) m_figures["clusters_in_scope"] = count(clustersIn(scope).size());
    m_figures["parts"] = phrase(cluster ? Phrase::parts_stratum : Phrase::parts_cluster);
    m_figures["against"] = phrase(cluster ? Phrase::against_cluster : Phrase::against_wider);

    for (const auto& [c, fw] : m_rollup.fieldwork())
        if (inScope(m_geo, c, scope)) m_work.merge(fw);
    if (!m_work.visitsByOfficer.empty()) {
        std::vector<uint64_t> counts;
        for (const auto& [o, n] : m_work.visitsByOfficer) counts.push_back(n);
        std::sort(counts.begin(), counts.end());
        m_figures["officers"] = count(counts.size());
        m_figures["officer_min"] = count(counts.front());
        m_figures["officer_max"] = count(counts.back());
        m_figures["officer_median"] = count(counts[counts.size() / 2]);
    }
    if (!m_work.visitsByDay.empty()) {
        std::set<int64_t> weeks;
        for (const auto& [day, n] : m_work.visitsByDay) weeks.insert(day - (((day + 3) % 7) + 7) % 7);
        m_figures["first_day"] = isoDay(m_work.visitsByDay.begin()->first);
        m_figures["last_day"] = isoDay(m_work.visitsByDay.rbegin()->first);
        m_figures["weeks"] = phrase(weeks.size() == 1 ? Phrase::weeks_one : Phrase::weeks_many, {{"count", count(weeks.size())}});
    }
    if (m_geo.hasRegister()) {
        uint64_t empty = 0, unlisted = 0;
        for (const auto& [key, n] : m_geo.registerUnits) {
            if (!inScope(m_geo, key.cluster, scope)) continue;
            auto it = m_rollup.strata().find(key);
            if (it == m_rollup.strata().end() || it->second.responded == 0) ++empty;
        }
        for (const auto& [key, acc] : m_rollup.strata())
            if (inScope(m_geo, key.cluster, scope) && !m_geo.registerUnits.count(key) && acc.responded > 0) ++unlisted;
        m_figures["empty_strata"] = count(empty);
        m_figures["unlisted_strata"] = count(unlisted);
        m_strataGaps = empty > 0 || unlisted > 0;
    }
}

Table Builder::tableHead(const ReportTableSpec& spec) const {
    Table t;
    t.id = spec.id;
    t.title = heading(spec.title);
    t.note = heading(spec.note);
    for (const LocalText& c : spec.columns) t.columns.push_back(text(c));
    switch (spec.chart) {
        case ReportChartKind::None: break;
        case ReportChartKind::Bars: t.chart.kind = ChartSpec::Kind::Bars; break;
        case ReportChartKind::BarsWithIntervals: t.chart.kind = ChartSpec::Kind::BarsWithIntervals; break;
        case ReportChartKind::PairedBars: t.chart.kind = ChartSpec::Kind::PairedBars; break;
    }
    if (spec.chart != ReportChartKind::None) {
        t.chart.valueColumns = spec.chart == ReportChartKind::PairedBars ? std::vector<size_t>{0, 1} : std::vector<size_t>{0};
        t.chart.axisLabel = spec.axis.empty() ? (t.columns.empty() ? std::string() : t.columns[0]) : text(spec.axis);
    }
    return t;
}

Table Builder::estimatesTable(const ReportTableSpec& spec) {
    Table t = tableHead(spec);
    for (const ReportRowSpec& rs : spec.rows) {
        Row r;
        r.key = rs.key;
        r.label = rowLabel(rs);
        r.cells.push_back(scopeCell(size_t(rs.indicators[0])));
        if (!rs.shortLabel.empty()) m_short[spec.id][rs.key] = text(rs.shortLabel);
        t.rows.push_back(std::move(r));
    }
    if (spec.ranked)
        std::stable_sort(t.rows.begin(), t.rows.end(), [](const Row& a, const Row& b) {
            bool sa = a.cells[0].shown(), sb = b.cells[0].shown();
            if (sa != sb) return sa;
            if (!sa) return false;
            return a.cells[0].estimate.value > b.cells[0].estimate.value;
        });
    return t;
}

Table Builder::pairsTable(const ReportTableSpec& spec) {
    Table t = tableHead(spec);
    for (const ReportRowSpec& rs : spec.rows) {
        Row r;
        r.key = rs.key;
        r.label = rowLabel(rs);
        for (int i : rs.indicators) r.cells.push_back(scopeCell(size_t(i)));
        if (!rs.shortLabel.empty()) m_short[spec.id][rs.key] = text(rs.shortLabel);
        t.rows.push_back(std::move(r));
    }
    return t;
}

Table Builder::fieldworkTable(const ReportTableSpec& spec) {
    Table t = tableHead(spec);
    if (t.columns.empty()) t.columns = {phrase(Phrase::column_value)};
    auto countRow = [&](std::string key, Phrase label, double v, std::string unit) {
        Row r;
        r.key = std::move(key);
        r.label = phrase(label);
        r.cells.push_back(Cell::ofNumber(v, std::move(unit)));
        t.rows.push_back(std::move(r));
    };
    if (m_request.scope.level != ScopeLevel::Cluster) {
        size_t withVisits = 0;
        for (const std::string& c : clustersIn(m_request.scope))
            if (m_clusterVisits.count(c) && m_clusterVisits.at(c) > 0) ++withVisits;
        countRow("clusters_visited", Phrase::fieldwork_clusters, double(withVisits), "clusters");
    }
    if (m_geo.hasRegister()) countRow("register_units", Phrase::fieldwork_register, double(m_registerUnits), "units");
    countRow("visits", Phrase::fieldwork_visited, double(m_visits), "units");
    countRow("responded", Phrase::fieldwork_answered, double(m_responded), "units");
    if (m_visits) countRow("response_rate", Phrase::fieldwork_rate, 100.0 * double(m_responded) / double(m_visits), "%");
    for (const ReportRowSpec& rs : spec.rows) {
        Row r;
        r.key = rs.key;
        r.label = rowLabel(rs);
        r.cells.push_back(scopeCell(size_t(rs.indicators[0])));
        t.rows.push_back(std::move(r));
    }
    return t;
}

Table Builder::comparisonTable(const ReportTableSpec& spec) {
    const ReportScope& scope = m_request.scope;
    std::vector<std::pair<std::string, ReportScope>> columns{{scopeTitle(scope), scope}};
    std::string state, sector;
    if (scope.level == ScopeLevel::Cluster) {
        auto place = m_geo.clusters.find(scope.name);
        if (place != m_geo.clusters.end()) {
            state = place->second.state;
            sector = place->second.sector;
        }
        if (!state.empty()) columns.push_back({phrase(Phrase::column_state, {{"name", state}}), {ScopeLevel::State, state}});
        if (!sector.empty()) columns.push_back({scopeTitle({ScopeLevel::Sector, sector}), {ScopeLevel::Sector, sector}});
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
            for (const auto& [n, code] : peers)
                columns.push_back({phrase(Phrase::column_peer, {{"name", clusterName(code)}}), {ScopeLevel::Cluster, code}});
        }
    } else if (scope.level == ScopeLevel::District) {
        for (const auto& [code, place] : m_geo.clusters)
            if (place.district == scope.name && !place.state.empty()) state = place.state;
        if (!state.empty()) columns.push_back({phrase(Phrase::column_state, {{"name", state}}), {ScopeLevel::State, state}});
        columns.push_back({scopeTitle({}), {}});
    } else if (scope.level != ScopeLevel::Nation) {
        columns.push_back({scopeTitle({}), {}});
    }

    Table t = tableHead(spec);
    for (const auto& c : columns) t.columns.push_back(c.first);
    for (const ReportRowSpec& rs : spec.rows) {
        size_t i = size_t(rs.indicators[0]);
        Row r;
        r.key = rs.key;
        r.label = rowLabel(rs);
        r.cells.push_back(scopeCell(i));
        for (size_t c = 1; c < columns.size(); ++c) r.cells.push_back(cell(i, columns[c].second));
        t.rows.push_back(std::move(r));
    }
    if (!m_figures.count("compared_with")) {
        m_figures["compared_with"] = t.columns.back();
        m_figures["key_indicators"] = count(t.rows.size());
    }
    return t;
}

Table Builder::clustersTable(const ReportTableSpec& spec) {
    Table t = tableHead(spec);
    t.columns = {phrase(Phrase::column_visits), phrase(Phrase::column_responded)};
    for (const ReportRowSpec& rs : spec.rows) t.columns.push_back(rowLabel(rs));
    for (const std::string& c : clustersIn(m_request.scope)) {
        Row r;
        r.key = c;
        r.label = clusterName(c);
        r.cells.push_back(Cell::ofNumber(double(m_clusterVisits.count(c) ? m_clusterVisits.at(c) : 0), "units"));
        r.cells.push_back(Cell::ofNumber(double(m_clusterResponded.count(c) ? m_clusterResponded.at(c) : 0), "units"));
        for (const ReportRowSpec& rs : spec.rows) r.cells.push_back(cell(size_t(rs.indicators[0]), {ScopeLevel::Cluster, c}));
        t.rows.push_back(std::move(r));
    }
    return t;
}

// Money totals by part with the scope's total as the last row; the parts add up to it, so a
// hidden part would be recoverable from the total and the other parts: secondary suppression.
Table Builder::moneyTable(const ReportTableSpec& spec) {
    Table t = tableHead(spec);
    std::vector<size_t> cols;
    for (const ReportRowSpec& rs : spec.rows) {
        cols.push_back(size_t(rs.indicators[0]));
        t.columns.push_back(phrase(Phrase::money_column, {{"label", rowLabel(rs)}}));
    }
    bool byCluster = m_request.scope.level != ScopeLevel::Cluster;
    auto moneyCell = [&](const Estimate& e, size_t i) {
        Cell c = Cell::ofNumber(e.value, m_t.indicators[i].unit);
        c.suppression = e.suppression;
        return c;
    };
    if (byCluster) {
        for (const std::string& c : clustersIn(m_request.scope)) {
            if (!m_clusterResponded.count(c)) continue;
            Row r;
            r.key = c;
            r.label = clusterName(c);
            for (size_t i : cols) r.cells.push_back(moneyCell(estimateIndicator(m_rollup, m_geo, {ScopeLevel::Cluster, c}, i, m_request.rules), i));
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
            r.label = key.stratum.empty() ? phrase(Phrase::no_stratum) : key.stratum;
            for (size_t i : cols) {
                StratumSample s;
                s.populationUnits = populations.at(key);
                s.sampledUnits = acc.responded;
                s.moments = acc.indicators[i];
                r.cells.push_back(moneyCell(estimateTotal(std::span<const StratumSample>(&s, 1), startsWith(m_t.indicators[i].unit, "INR"),
                                                          m_request.rules.disclosure), i));
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
    total.label = phrase(Phrase::money_total, {{"name", scopeTitle(m_request.scope)}});
    total.isTotal = true;
    for (size_t i : cols) total.cells.push_back(moneyCell(estimateIndicator(m_rollup, m_geo, m_request.scope, i, m_request.rules), i));
    t.rows.push_back(std::move(total));
    return t;
}

Table Builder::officersTable(const ReportTableSpec& spec) const {
    Table t = tableHead(spec);
    t.columns = {phrase(Phrase::column_visits)};
    if (t.chart.kind != ChartSpec::Kind::None && spec.axis.empty()) t.chart.axisLabel = t.columns[0];
    std::vector<std::pair<uint64_t, std::string>> byOfficer;
    for (const auto& [o, n] : m_work.visitsByOfficer) byOfficer.push_back({n, o});
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
        r.label = byOfficer[k].second.empty() ? phrase(Phrase::no_officer) : byOfficer[k].second;
        r.cells.push_back(Cell::ofNumber(double(byOfficer[k].first), "visits"));
        t.rows.push_back(std::move(r));
    }
    if (otherCount) {
        Row r;
        r.key = "(others)";
        r.label = phrase(Phrase::other_officers, {{"count", count(otherCount)}});
        r.cells.push_back(Cell::ofNumber(double(others), "visits"));
        t.rows.push_back(std::move(r));
    }
    return t;
}

Table Builder::weeksTable(const ReportTableSpec& spec) const {
    Table t = tableHead(spec);
    t.columns = {phrase(Phrase::column_visits)};
    if (t.chart.kind != ChartSpec::Kind::None && spec.axis.empty()) t.chart.axisLabel = t.columns[0];
    std::map<int64_t, uint64_t> byWeek;
    for (const auto& [day, n] : m_work.visitsByDay) {
        // 1970-01-01 was a Thursday: day + 3 counts days since a Monday.
        int64_t monday = day - (((day + 3) % 7) + 7) % 7;
        byWeek[monday] += n;
    }
    for (const auto& [monday, n] : byWeek) {
        Row r;
        r.key = isoDay(monday);
        r.label = phrase(Phrase::week_of, {{"day", isoDay(monday)}});
        r.cells.push_back(Cell::ofNumber(double(n), "visits"));
        t.rows.push_back(std::move(r));
    }
    return t;
}

Table Builder::strataTable(const ReportTableSpec& spec) const {
    const ReportScope& scope = m_request.scope;
    Table t = tableHead(spec);
    t.columns = {phrase(Phrase::column_register_units), phrase(Phrase::column_responding_visits), phrase(Phrase::column_issue)};
    auto label = [&](const StratumKey& key) {
        return clusterName(key.cluster) + " / " + (key.stratum.empty() ? phrase(Phrase::no_stratum) : key.stratum);
    };
    for (const auto& [key, n] : m_geo.registerUnits) {
        if (!inScope(m_geo, key.cluster, scope)) continue;
        auto it = m_rollup.strata().find(key);
        if (it != m_rollup.strata().end() && it->second.responded > 0) continue;
        Row r;
        r.key = key.cluster + "/" + key.stratum;
        r.label = label(key);
        r.cells = {Cell::ofNumber(double(n), "units"), Cell::ofNumber(0, "visits"), Cell::ofText(phrase(Phrase::strata_no_visits))};
        t.rows.push_back(std::move(r));
    }
    if (m_geo.hasRegister()) {
        for (const auto& [key, acc] : m_rollup.strata()) {
            // Refusals carry no size class; only responding units in an unlisted stratum are a mismatch.
            if (!inScope(m_geo, key.cluster, scope) || m_geo.registerUnits.count(key) || acc.responded == 0) continue;
            Row r;
            r.key = key.cluster + "/" + key.stratum;
            r.label = label(key);
            r.cells = {Cell::ofNumber(0, "units"), Cell::ofNumber(double(acc.responded), "visits"),
                       Cell::ofText(phrase(Phrase::strata_not_listed))};
            t.rows.push_back(std::move(r));
        }
    }
    return t;
}

// A table with nothing to show is left out (a cluster has no list of clusters; a complete
// register leaves no strata to flag).
std::optional<Table> Builder::buildTable(const ReportTableSpec& spec) {
    Table t;
    switch (spec.kind) {
        case ReportTableKind::Estimates: t = estimatesTable(spec); break;
        case ReportTableKind::Pairs: t = pairsTable(spec); break;
        case ReportTableKind::Fieldwork: return fieldworkTable(spec);
        case ReportTableKind::Comparison: t = comparisonTable(spec); break;
        case ReportTableKind::Clusters:
            if (m_request.scope.level == ScopeLevel::Cluster) return std::nullopt;
            t = clustersTable(spec);
            break;
        case ReportTableKind::Money: return moneyTable(spec);
        // Filled by tallyFlags once every other table exists; the head is kept in place.
        case ReportTableKind::PrecisionFlags:
        case ReportTableKind::SuppressedCells: return tableHead(spec);
        case ReportTableKind::Officers: t = officersTable(spec); break;
        case ReportTableKind::Weeks: t = weeksTable(spec); break;
        case ReportTableKind::Strata: t = strataTable(spec); break;
    }
    if (t.rows.empty()) return std::nullopt;
    return t;
}

// Counts the precision flags of every figure of the report and lists every hidden one, then
// fills the layout's precision-flag and suppressed-cell tables.
void Builder::tallyFlags(std::vector<Section>& sections) {
    std::set<std::string> flagTables;
    for (const ReportSectionSpec& s : m_layout->sections)
        for (const ReportTableSpec& t : s.tables)
            if (t.kind == ReportTableKind::PrecisionFlags || t.kind == ReportTableKind::SuppressedCells) flagTables.insert(t.id);

    uint64_t published = 0, caution = 0, suppressed = 0;
    std::vector<Row> listed;
    const size_t kMaxListed = 200;
    size_t notListed = 0;
    for (const Section& s : sections)
        for (const Table& t : s.tables) {
            if (flagTables.count(t.id)) continue;
            for (const Row& r : t.rows)
                for (size_t c = 0; c < r.cells.size(); ++c) {
                    const Cell& cell = r.cells[c];
                    if (cell.kind == Cell::Kind::Estimate && cell.shown())
                        (cell.estimate.precision == Precision::Caution ? caution : published)++;
                    else if (cell.kind == Cell::Kind::Number && cell.shown() && startsWith(cell.unit, "INR"))
                        published++;
                    if (cell.shown() || cell.kind == Cell::Kind::Empty) continue;
                    ++suppressed;
                    if (listed.size() >= kMaxListed) {
                        ++notListed;
                        continue;
                    }
                    Row row;
                    row.key = t.id + "/" + r.key + "/" + std::to_string(c);
                    row.label = r.label;
                    row.cells = {Cell::ofText(t.title), Cell::ofText(c < t.columns.size() ? t.columns[c] : ""),
                                 Cell::ofText(suppressionName(cell.suppression))};
                    listed.push_back(std::move(row));
                }
        }
    m_figures["published"] = count(published);
    m_figures["caution"] = count(caution);
    m_figures["suppressed"] = count(suppressed);

    for (const ReportSectionSpec& ss : m_layout->sections)
        for (const ReportTableSpec& spec : ss.tables) {
            if (!flagTables.count(spec.id)) continue;
            Table* t = nullptr;
            for (Section& s : sections)
                for (Table& candidate : s.tables)
                    if (candidate.id == spec.id) t = &candidate;
            if (!t) continue;
            if (spec.kind == ReportTableKind::PrecisionFlags) {
                t->columns = {phrase(Phrase::column_cells)};
                for (auto [key, name, n] : {std::tuple{"published", Phrase::flag_published, published},
                                            std::tuple{"caution", Phrase::flag_caution, caution},
                                            std::tuple{"suppressed", Phrase::flag_suppressed, suppressed}}) {
                    Row r;
                    r.key = key;
                    r.label = phrase(name);
                    r.cells.push_back(Cell::ofNumber(double(n), "cells"));
                    t->rows.push_back(std::move(r));
                }
            } else {
                t->columns = {phrase(Phrase::column_table), phrase(Phrase::column_column), phrase(Phrase::column_reason)};
                t->rows = listed;
                if (notListed)
                    t->note += (t->note.empty() ? "" : " ") +
                               phrase(Phrase::suppressed_more, {{"listed", count(kMaxListed)}, {"more", count(notListed)}});
            }
        }
}

std::vector<std::string> Builder::highlights(const ReportSectionSpec& spec) {
    std::vector<std::string> said;
    auto say = [&](const LocalText& t, const Locals& locals) {
        if (auto s = fill(text(t), locals)) said.push_back(std::move(*s));
    };
    for (const ReportHighlightSpec& h : spec.highlights) {
        if (!holds(h.when)) continue;
        const Table* table = nullptr;
        if (!h.table.empty()) {
            auto it = m_built.find(h.table);
            if (it == m_built.end()) continue;  // left out for this scope: nothing to say about it
            table = it->second;
        }
        switch (h.kind) {
            case ReportHighlightKind::Text: say(h.text, {}); break;
            case ReportHighlightKind::Largest:
                if (const Row* best = largestShown(*table)) say(h.text, {{"label", best->label}, {"value", cellText(best->cells[0], m_fw)}});
                break;
            case ReportHighlightKind::Top: {
                std::string list;
                size_t n = 0;
                const auto& shorts = m_short[table->id];
                for (const Row& r : table->rows) {
                    if (n == h.count || r.cells.empty() || !r.cells[0].shown()) break;
                    auto s = shorts.find(r.key);
                    list += (n ? "; " : "") + (s == shorts.end() ? r.label : s->second) + " " + cellText(r.cells[0], m_fw);
                    ++n;
                }
                if (n) say(h.text, {{"list", list}});
                break;
            }
            case ReportHighlightKind::WidestGap: {
                const Row* gap = nullptr;
                double widest = -1;
                for (const Row& r : table->rows) {
                    if (r.cells.size() < 2 || !r.cells[0].shown() || !r.cells[1].shown() ||
                        r.cells[0].kind != Cell::Kind::Estimate || r.cells[1].kind != Cell::Kind::Estimate)
                        continue;
                    double g = r.cells[0].estimate.value - r.cells[1].estimate.value;
                    if (g > widest) widest = g, gap = &r;
                }
                if (gap) say(h.text, {{"label", gap->label}, {"first", cellText(gap->cells[0], m_fw)}, {"second", cellText(gap->cells[1], m_fw)}});
                break;
            }
            case ReportHighlightKind::Compare: {
                const std::string& id = m_t.indicators[size_t(h.indicator)].id;
                for (const Row& r : table->rows) {
                    if (r.key != id || r.cells.size() < 2 || !r.cells[0].shown() || !r.cells[1].shown()) continue;
                    const Estimate &a = r.cells[0].estimate, &b = r.cells[1].estimate;
                    bool apart = a.low > b.high || b.low > a.high;
                    say(apart ? h.text : h.otherwise,
                        {{"label", r.label}, {"here", cellText(r.cells[0], m_fw)}, {"there", cellText(r.cells[1], m_fw)}, {"column", table->columns[1]}});
                }
                break;
            }
        }
    }
    if (said.empty() && !spec.otherwise.empty()) say(spec.otherwise, {});
    return said;
}

std::vector<std::string> Builder::methodNotes() const {
    std::vector<std::string> notes;
    // Method notes name the report figures (the rules' thresholds, the scope) like any text.
    auto note = [&](Phrase p) { return fill(phrase(p)).value_or(phrase(p)); };
    notes.push_back(note(m_weighted ? Phrase::method_weighted : Phrase::method_unweighted));
    for (Phrase p : {Phrase::method_responded, Phrase::method_intervals, Phrase::method_precision, Phrase::method_disclosure,
                     Phrase::method_units})
        notes.push_back(note(p));
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
    fieldworkFigures();

    BaselineReport report;
    report.scope = scope;
    report.templateId = m_t.id;
    report.templateVersion = m_t.version;
    report.builtAt = m_request.builtAt;
    report.inputsHash = m_request.inputsHash;
    report.weighted = m_weighted;
    report.visits = m_visits;
    report.responded = m_responded;
    Locals name{{"name", scope.name}};
    switch (scope.level) {
        case ScopeLevel::Cluster: {
            report.title = phrase(Phrase::title_cluster, {{"name", clusterName(scope.name)}});  // the scope label gives the code
            report.scopeLabel = phrase(Phrase::label_cluster, name);
            auto place = m_geo.clusters.find(scope.name);
            if (place != m_geo.clusters.end()) {
                if (!place->second.district.empty()) report.scopeLabel += ", " + place->second.district;
                if (!place->second.state.empty()) report.scopeLabel += ", " + place->second.state;
            }
            break;
        }
        case ScopeLevel::District: {
            report.title = phrase(Phrase::title_district, name);
            report.scopeLabel = phrase(Phrase::label_district, name);
            for (const auto& [code, place] : m_geo.clusters)
                if (place.district == scope.name && !place.state.empty()) {
                    report.scopeLabel += ", " + place.state;
                    break;
                }
            break;
        }
        case ScopeLevel::State:
            report.title = phrase(Phrase::title_state, name);
            report.scopeLabel = phrase(Phrase::label_state, name);
            break;
        case ScopeLevel::Sector:
            report.title = phrase(Phrase::title_sector, name);
            report.scopeLabel = phrase(Phrase::label_sector, name);
            break;
        case ScopeLevel::Nation:
            report.title = phrase(Phrase::title_nation);
            report.scopeLabel = phrase(Phrase::label_nation);
            break;
    }
    report.methodNotes = methodNotes();

    // Tables first (highlights may name a table of a later section), then the flag counts
    // over all of them, then the sentences.
    std::vector<const ReportSectionSpec*> specs;
    for (const ReportSectionSpec& ss : m_layout->sections) {
        Section s;
        s.id = ss.id;
        for (const ReportTableSpec& ts : ss.tables)
            if (std::optional<Table> t = buildTable(ts)) s.tables.push_back(std::move(*t));
        report.sections.push_back(std::move(s));
        specs.push_back(&ss);
    }
    tallyFlags(report.sections);
    for (const Section& s : report.sections)
        for (const Table& t : s.tables) m_built[t.id] = &t;
    size_t number = 0;
    for (size_t k = 0; k < report.sections.size(); ++k) {
        Section& s = report.sections[k];
        s.highlights = highlights(*specs[k]);
        if (s.tables.empty() && s.highlights.empty()) continue;
        s.title = std::to_string(++number) + ". " + heading(specs[k]->title);
    }
    std::erase_if(report.sections, [](const Section& s) { return s.tables.empty() && s.highlights.empty(); });

    PageWords& w = report.words;
    w.language = m_t.languages.empty() ? "en" : m_t.languages[m_lang];
    w.templateLabel = phrase(Phrase::page_template);
    w.built = phrase(Phrase::page_built);
    w.visited = phrase(Phrase::page_visited);
    w.interviewed = phrase(Phrase::page_interviewed);
    w.response = phrase(Phrase::page_response);
    w.weighted = phrase(Phrase::page_weighted);
    w.sample = phrase(Phrase::page_sample);
    w.methodNotes = phrase(Phrase::page_method_notes);
    w.inputsHash = phrase(Phrase::page_inputs_hash);
    w.notRecorded = phrase(Phrase::page_not_recorded);
    w.interval = phrase(Phrase::page_interval);
    w.nothing = phrase(Phrase::page_nothing);
    w.figures = m_fw;
    return report;
}

}  // namespace

BaselineReport buildBaselineReport(const BaselineRollup& rollup, const Geography& geo, const ReportRequest& request) {
    return Builder(rollup, geo, request).build();
}

}  // namespace ck::report
