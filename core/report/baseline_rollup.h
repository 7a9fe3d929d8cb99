#pragma once
// The baseline's running sums: per (cluster, stratum), one `Moments` per indicator plus what
// the data-quality section counts. A visit adds to its stratum in O(indicators); strata merge,
// so any district, state, sector or the nation is the union of its clusters' strata and no
// figure needs the visits again. Built incrementally as visits arrive, or all at once from
// stored visits: both give the same sums (tested).
#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/register/cluster_register.h"
#include "core/report/estimation.h"
#include "core/report/indicator_evaluator.h"
#include "core/template/survey_template.h"

namespace ck::report {

struct StratumKey {
    std::string cluster;
    std::string stratum;  // "" when the template's stratum expression gave nothing
    auto operator<=>(const StratumKey&) const = default;
};

struct StratumAccumulator {
    uint64_t visits = 0;     // every visit, responded or not
    uint64_t responded = 0;  // n_h: visits whose unit responded (only these enter estimates)
    std::vector<Moments> indicators;               // one per template indicator
    std::vector<std::vector<double>> medianValues;  // per indicator; filled for median kinds only
    void merge(const StratumAccumulator& other);
    bool operator==(const StratumAccumulator&) const = default;
};

// What the data-quality section says about a cluster's fieldwork.
struct ClusterFieldwork {
    std::map<std::string, uint64_t> visitsByOfficer;  // "" for visits that name no officer
    std::map<int64_t, uint64_t> visitsByDay;          // days since 1970-01-01
    void merge(const ClusterFieldwork& other);
    bool operator==(const ClusterFieldwork&) const = default;
};

class BaselineRollup {
public:
    explicit BaselineRollup(const Template& t);

    // One visit of this template in `cluster`. Only responding visits add to the indicators.
    void add(std::string_view cluster, const VisitObservations& visit);
    // Adds every stratum and cluster of `other` (same template) to this one.
    void merge(const BaselineRollup& other);

    const Template& templ() const { return *m_template; }
    const std::map<StratumKey, StratumAccumulator>& strata() const { return m_strata; }
    const std::map<std::string, ClusterFieldwork>& fieldwork() const { return m_fieldwork; }
    uint64_t visits() const { return m_visits; }
    bool operator==(const BaselineRollup& other) const {
        return m_strata == other.m_strata && m_fieldwork == other.m_fieldwork && m_visits == other.m_visits;
    }

private:
    const Template* m_template;
    std::map<StratumKey, StratumAccumulator> m_strata;
    std::map<std::string, ClusterFieldwork> m_fieldwork;
    uint64_t m_visits = 0;
};

// Where each cluster sits, and how many units each stratum has, from the cluster register.
// An empty register means "no register": weights 1, and the report says the figures describe
// the sample only.
struct ClusterPlace {
    std::string district, state, sector;
};
struct Geography {
    std::map<std::string, ClusterPlace> clusters;   // by cluster code
    std::map<StratumKey, uint64_t> registerUnits;   // N_h
    bool hasRegister() const { return !registerUnits.empty(); }
    static Geography fromRegister(const std::vector<RegisterUnit>& units);
};

// What a report covers.
enum class ScopeLevel : uint8_t { Cluster, District, State, Sector, Nation };
const char* scopeLevelName(ScopeLevel level);  // "cluster", "district", "state", "sector", "nation"
struct ReportScope {
    ScopeLevel level = ScopeLevel::Nation;
    std::string name;  // cluster code, district, state or sector name; "" for the nation
    bool operator==(const ReportScope&) const = default;
};
// Whether `cluster` lies in `scope`. A cluster missing from the register lies only in the
// nation and in itself.
bool inScope(const Geography& geo, std::string_view cluster, const ReportScope& scope);

// N_h as the estimates use it, for every stratum of `rollup` with a responding unit
// (StratumSample::populationUnits: 0 means "no register", weight 1 with sampling variance):
// * a stratum the register lists: its register units, at least n_h (an out-of-date register
//   with fewer units than visits is taken as enumerated whole, N_h = n_h);
// * units with no size class (the template's stratum expression gave nothing) or with a
//   class the register does not list, in a cluster the register lists: a stratum of their
//   own, taken whole (N = n: each stands for itself, no sampling variance), and the cluster's
//   register strata give up as many units in proportion to their size,
//   N_h' = N_h (1 - n_U / N_c) (n_U such units, N_c the cluster's register units), so the
//   cluster's weighted units still add up to its register count instead of overstating it by
//   n_U. A cluster with no such units keeps its register counts exactly;
// * a cluster the register does not list at all: 0 (the figures describe the sample).
std::map<StratumKey, double> stratumPopulations(const BaselineRollup& rollup, const Geography& geo);

// Indicator `index` estimated over the strata of `rollup` inside `scope`, weighted by
// stratumPopulations() (see estimation.h for the rules). The kind decides the estimator:
// share -> estimateShare (interval by rules.shareInterval), mean and ratio -> estimateRatio,
// total -> estimateTotal (money, hence the dominance rule, when the unit is "INR"),
// median -> estimateMedian.
Estimate estimateIndicator(const BaselineRollup& rollup, const Geography& geo, const ReportScope& scope, size_t index,
                           const EstimationRules& rules = {});

}  // namespace ck::report
