#include "core/report/baseline_rollup.h"

#include <algorithm>
#include <iterator>

namespace ck::report {

namespace {

// Median values are kept sorted, so that the accumulator is the same whatever order its
// visits arrived or its parts were merged in (and the estimator's sort is cheap).
void insertSorted(std::vector<double>& values, double v) {
    values.insert(std::upper_bound(values.begin(), values.end(), v), v);
}

void mergeSorted(std::vector<double>& into, const std::vector<double>& from) {
    if (from.empty()) return;
    size_t middle = into.size();
    into.insert(into.end(), from.begin(), from.end());
    std::inplace_merge(into.begin(), into.begin() + long(middle), into.end());
}

}  // namespace

void StratumAccumulator::merge(const StratumAccumulator& other) {
    if (visits == 0 && responded == 0 && indicators.empty()) {
        // A fresh accumulator takes the other's sums as they are, so that copying a rollup by
        // merging it into an empty one is exact.
        *this = other;
        return;
    }
    visits += other.visits;
    responded += other.responded;
    if (indicators.size() < other.indicators.size()) indicators.resize(other.indicators.size());
    for (size_t i = 0; i < other.indicators.size(); ++i) indicators[i].merge(other.indicators[i]);
    if (medianValues.size() < other.medianValues.size()) medianValues.resize(other.medianValues.size());
    for (size_t i = 0; i < other.medianValues.size(); ++i) mergeSorted(medianValues[i], other.medianValues[i]);
}

void ClusterFieldwork::merge(const ClusterFieldwork& other) {
    for (const auto& [officer, n] : other.visitsByOfficer) visitsByOfficer[officer] += n;
    for (const auto& [day, n] : other.visitsByDay) visitsByDay[day] += n;
}

BaselineRollup::BaselineRollup(const Template& t) : m_template(&t) {}

void BaselineRollup::add(std::string_view cluster, const VisitObservations& visit) {
    const size_t n = m_template->indicators.size();
    ++m_visits;
    ClusterFieldwork& work = m_fieldwork[std::string(cluster)];
    ++work.visitsByOfficer[visit.officer];
    ++work.visitsByDay[visit.visitDay];

    StratumAccumulator& acc = m_strata[StratumKey{std::string(cluster), visit.stratum}];
    if (acc.indicators.size() < n) acc.indicators.resize(n);
    if (acc.medianValues.size() < n) acc.medianValues.resize(n);
    ++acc.visits;
    // A unit that did not respond counts for the response rate (visits) only: it is not a
    // sampled unit of any estimate, so it is not in n_h either.
    if (!visit.responded) return;
    ++acc.responded;
    const size_t count = std::min(n, visit.values.size());
    for (size_t i = 0; i < count; ++i) {
        const Observation& o = visit.values[i];
        if (!o.inDomain) continue;
        acc.indicators[i].add(o.x, o.y);
        if (m_template->indicators[i].kind == IndicatorKind::Median) insertSorted(acc.medianValues[i], o.y);
    }
}

void BaselineRollup::merge(const BaselineRollup& other) {
    m_visits += other.m_visits;
    for (const auto& [key, acc] : other.m_strata) m_strata[key].merge(acc);
    for (const auto& [cluster, work] : other.m_fieldwork) m_fieldwork[cluster].merge(work);
}

Geography Geography::fromRegister(const std::vector<RegisterUnit>& units) {
    Geography geo;
    for (const auto& u : units) {
        // A cluster lies in one district, state and sector; the register's first row of the
        // cluster says which (the register parser does not check that rows agree).
        geo.clusters.try_emplace(u.cluster, ClusterPlace{u.district, u.state, u.sector});
        ++geo.registerUnits[StratumKey{u.cluster, u.stratum}];
    }
    return geo;
}

const char* scopeLevelName(ScopeLevel level) {
    switch (level) {
        case ScopeLevel::Cluster: return "cluster";
        case ScopeLevel::District: return "district";
        case ScopeLevel::State: return "state";
        case ScopeLevel::Sector: return "sector";
        case ScopeLevel::Nation: return "nation";
    }
    return "nation";
}

bool inScope(const Geography& geo, std::string_view cluster, const ReportScope& scope) {
    switch (scope.level) {
        case ScopeLevel::Nation: return true;
        case ScopeLevel::Cluster: return cluster == scope.name;
        default: break;
    }
    auto it = geo.clusters.find(std::string(cluster));
    if (it == geo.clusters.end()) return false;
    const ClusterPlace& place = it->second;
    switch (scope.level) {
        case ScopeLevel::District: return place.district == scope.name;
        case ScopeLevel::State: return place.state == scope.name;
        case ScopeLevel::Sector: return place.sector == scope.name;
        default: return false;
    }
}

namespace {

// One cluster's register units N_c and responding units outside the register's strata n_U.
struct ClusterCounts {
    uint64_t registerUnits = 0, unclassified = 0;
};

using StrataIt = std::map<StratumKey, StratumAccumulator>::const_iterator;

// The strata of a cluster are contiguous in both maps (keys sort by cluster first), so this
// reads only the cluster's own rows: no allocation, nothing per visit.
ClusterCounts clusterCounts(const BaselineRollup& rollup, const Geography& geo, const std::string& cluster) {
    ClusterCounts c;
    for (auto it = geo.registerUnits.lower_bound(StratumKey{cluster, ""});
         it != geo.registerUnits.end() && it->first.cluster == cluster; ++it)
        c.registerUnits += it->second;
    for (auto it = rollup.strata().lower_bound(StratumKey{cluster, ""});
         it != rollup.strata().end() && it->first.cluster == cluster; ++it)
        if (it->second.responded > 0 && !geo.registerUnits.count(it->first)) c.unclassified += it->second.responded;
    return c;
}

double populationOf(const Geography& geo, const StratumKey& key, uint64_t responded, const ClusterCounts& c) {
    const double n = double(responded);
    if (c.registerUnits == 0) return 0.0;  // no register, or a cluster it does not list
    auto listed = geo.registerUnits.find(key);
    if (listed == geo.registerUnits.end()) return n;  // no size class, or one the register lacks: taken whole
    double N = double(listed->second);
    if (c.unclassified > 0) N *= 1.0 - double(c.unclassified) / double(c.registerUnits);
    return std::max(N, n);
}

}  // namespace

std::map<StratumKey, double> stratumPopulations(const BaselineRollup& rollup, const Geography& geo) {
    std::map<StratumKey, double> out;
    const std::string* current = nullptr;
    ClusterCounts counts;
    for (const auto& [key, acc] : rollup.strata()) {
        if (acc.responded == 0) continue;
        if (!current || *current != key.cluster) {
            current = &key.cluster;
            counts = clusterCounts(rollup, geo, key.cluster);
        }
        out.emplace(key, populationOf(geo, key, acc.responded, counts));
    }
    return out;
}

Estimate estimateIndicator(const BaselineRollup& rollup, const Geography& geo, const ReportScope& scope, size_t index,
                           const EstimationRules& rules) {
    const Template& t = rollup.templ();
    if (index >= t.indicators.size()) return {};
    const Indicator& ind = t.indicators[index];

    std::vector<StratumSample> samples;
    const std::string* current = nullptr;
    ClusterCounts counts;
    for (const auto& [key, acc] : rollup.strata()) {
        // A stratum with no responding unit has no n_h to weigh by: it adds nothing.
        if (acc.responded == 0 || !inScope(geo, key.cluster, scope)) continue;
        if (!current || *current != key.cluster) {
            current = &key.cluster;
            counts = clusterCounts(rollup, geo, key.cluster);
        }
        StratumSample s;
        s.sampledUnits = acc.responded;
        if (index < acc.indicators.size()) s.moments = acc.indicators[index];
        if (index < acc.medianValues.size()) s.values = acc.medianValues[index];
        s.populationUnits = populationOf(geo, key, acc.responded, counts);
        samples.push_back(s);
    }

    switch (ind.kind) {
        case IndicatorKind::Share: return estimateShare(samples, rules.shareInterval, rules.disclosure);
        case IndicatorKind::Mean:
        case IndicatorKind::Ratio: return estimateRatio(samples, rules.disclosure);
        case IndicatorKind::Total: return estimateTotal(samples, ind.unit == "INR", rules.disclosure);
        case IndicatorKind::Median: return estimateMedian(samples, rules.disclosure);
    }
    return {};
}

}  // namespace ck::report
