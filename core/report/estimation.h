#pragma once
// Survey estimators for the cluster baseline (TOOLKIT.md, "Statistical reporting rules"):
// stratified estimates with standard errors, 95% intervals, coefficients of variation and
// their flags, and disclosure control. Pure arithmetic: no template, no storage.
//
// The sample design: strata h (a cluster's size class, say) with N_h units in the register
// and n_h units visited; every visited unit of h weighs N_h / n_h. Everything an estimate
// needs from the units of one stratum is kept in a `Moments` (for medians also the values),
// and Moments merge, so a cluster's strata roll up into district, state and nation without
// going back to the visits.
//
// Every estimate is a ratio of weighted totals R = Y / X (y_i, x_i per unit):
//   share    y = 1 if the unit has the attribute, x = 1 (units in the domain)
//   mean     y = the unit's value, x = 1
//   ratio    y = numerator, x = denominator (ratio of totals, e.g. women / all workers)
// A unit outside the domain (or with no usable answer) has y = x = 0 but still counts in
// n_h: that is what makes domain estimates right. Totals are Y alone. Variances of ratios
// by linearisation: z_i = (y_i - R x_i) / X.
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace ck::report {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The dominance rule looks at the n largest units of a total; n may be set up to this.
inline constexpr int kMaxDominanceUnits = 3;

// One indicator's sums over the units of one stratum that are in its domain with a usable
// answer, kept as means and centred co-moments (Chan et al.'s parallel update) so that
// money figures in crores do not lose their variance to cancellation.
struct Moments {
    uint64_t m = 0;            // units in the domain
    double meanX = 0, meanY = 0;
    double m2x = 0, m2y = 0, cxy = 0;  // sums of squared / cross deviations from the means
    // The largest |y| among them, largest first, for the dominance rule on money totals.
    // Every unit of a stratum has the same weight, so these are also its largest weighted
    // contributions.
    std::array<double, kMaxDominanceUnits> top{};

    void add(double x, double y);
    void merge(const Moments& other);
    double sumX() const { return meanX * double(m); }
    double sumY() const { return meanY * double(m); }
    bool operator==(const Moments&) const = default;
};

// One stratum as an estimator sees it.
struct StratumSample {
    // N_h: units of the stratum in the register. 0 means "no register": the stratum then
    // weighs n_h (every unit weight 1) and no finite population correction is applied.
    double populationUnits = 0;
    uint64_t sampledUnits = 0;  // n_h: all visited (responding) units of the stratum, in the domain or not
    Moments moments;            // this indicator's units in the domain
    // Medians only: the in-domain values (any order; the estimator sorts a copy).
    std::span<const double> values;
};

// Finite population correction is applied to a stratum whose sampling fraction n_h / N_h
// reaches 5% (TOOLKIT.md); below it the factor is 1.
inline constexpr double kFpcThreshold = 0.05;
inline constexpr double kZ95 = 1.959963984540054;

// Precision flags (TOOLKIT.md): CV <= 16.5% publish; up to 33.3% publish flagged "use with
// caution"; above, or fewer than 10 observations, suppress.
enum class Precision : uint8_t { Publish, Caution, Suppress };
const char* precisionName(Precision p);  // "publish", "caution", "suppress"
inline constexpr double kCvPublish = 0.165;
inline constexpr double kCvCaution = 0.333;
inline constexpr uint64_t kMinObservations = 10;

// Why a figure is not shown. The rules are tried in this order and the first that holds names
// the reason: 1 to kMinUnits - 1 units (disclosure; no unit at all is too few observations; such a cell also has too few
// observations, but what forbids it is that it would reveal a unit), then precision
// (observations, CV), then dominance.
enum class Suppression : uint8_t {
    None,
    TooFewObservations,  // fewer than kMinObservations units in the domain
    Imprecise,           // CV above kCvCaution (or no CV could be estimated)
    TooFewUnits,         // disclosure: fewer than kMinUnits units
    Dominance,           // disclosure: the n largest weighted units make more than k of a money total
    Secondary,           // disclosure: hidden so that a suppressed neighbour cannot be recovered from totals
};
const char* suppressionName(Suppression s);  // "", "too few observations", "imprecise", ...
inline constexpr uint64_t kMinUnits = 3;
inline constexpr int kDominanceUnits = 2;
inline constexpr double kDominanceShare = 0.85;

// Disclosure control, settable per project (ck-aggregator report --dominance N,K
// --min-units N). The (n, k) dominance rule: a money total is hidden when its n largest
// weighted contributions w_i |y_i| make more than k of the published total |Y|.
struct DisclosureRules {
    uint64_t minUnits = kMinUnits;
    int dominanceUnits = kDominanceUnits;  // n, 1 .. kMaxDominanceUnits
    double dominanceShare = kDominanceShare;  // k, a fraction in (0, 1]
    bool operator==(const DisclosureRules&) const = default;
};

// How a share's 95% interval is made. Logit (the default): the interval of logit(p) by the
// delta method, se(logit p) = se(p) / (p (1 - p)), mapped back; it stays inside 0-100% and is
// not symmetric near the edges (R's svyciprop(method = "xlogit"), which equals
// method = "logit" up to svyglm's iteration tolerance). Wald: p -+ 1.96 se, clipped to 0-100%.
// A share of exactly 0 or 1 has se 0 and the interval [p, p] either way.
enum class ShareInterval : uint8_t { Logit, Wald };
const char* shareIntervalName(ShareInterval m);  // "logit", "wald"

struct EstimationRules {
    DisclosureRules disclosure;
    ShareInterval shareInterval = ShareInterval::Logit;
    bool operator==(const EstimationRules&) const = default;
};

struct Estimate {
    double value = kNaN;  // R for ratios, Y for totals, the weighted median for medians
    double se = kNaN;     // standard error
    double low = kNaN, high = kNaN;  // 95% interval (for a median: Woodruff's interval)
    double cv = kNaN;     // se / |value|; NaN when value is 0 or se unknown
    uint64_t observations = 0;  // units in the domain (sum of Moments::m)
    double weightedUnits = 0;   // estimated units in the domain (sum of w_i x_i for shares and means)
    bool weighted = false;      // some stratum had a register count
    Precision precision = Precision::Suppress;
    Suppression suppression = Suppression::TooFewObservations;
    bool shown() const { return suppression == Suppression::None; }
    bool operator==(const Estimate&) const = default;
};

// R = sum_h (N_h/n_h) sum_i y_i / sum_h (N_h/n_h) sum_i x_i with its linearised variance
//   V = sum_h N_h^2 (1 - f_h) s_zh^2 / n_h,  z_i = (y_i - R x_i) / X,
// s_zh^2 over all n_h units of the stratum (units outside the domain contribute z = 0).
// A stratum with a single visited unit has no within-stratum variance; it contributes as R's
// survey package (version 4.1-1, Debian bookworm's r-cran-survey) does under
// options(survey.lonely.psu = "adjust"): its weighted value is not centred on a stratum mean
// but taken from zero, (N_h z_h)^2 (1 - f_h). For a share, mean or ratio the weighted z sum
// to zero over all units, so zero is their average; for a total (z = y) this is survey 4.1's
// rule (4.4 and later are said to recentre a total on Y / number of strata; not checked).
// A take-all stratum (n_h = N_h) contributes nothing.
// Flags and the observation rule applied; disclosure (minUnits) applied too.
Estimate estimateRatio(std::span<const StratumSample> strata, const DisclosureRules& rules = {});
// A share: estimateRatio with the interval made by `method` (see ShareInterval).
Estimate estimateShare(std::span<const StratumSample> strata, ShareInterval method = ShareInterval::Logit,
                       const DisclosureRules& rules = {});
// Y = sum_h N_h ybar_h over all n_h units; V = sum_h N_h^2 (1 - f_h) s_yh^2 / n_h.
// `money`: also apply the dominance rule on the weighted contributions (see DisclosureRules).
Estimate estimateTotal(std::span<const StratumSample> strata, bool money, const DisclosureRules& rules = {});
// Weighted median by R's qrule "math" (svyquantile, survey 4.x): the smallest value whose
// cumulative weight reaches half the total weight. Interval by Woodruff's method as R's
// svyquantile(interval.type = "mean", df = Inf) makes it: p = the weighted share of units at
// or below the median, SE(p) its stratified standard error, and the interval the quantiles at
// p -+ 1.96 SE(p) (clamped to 0-1, where R gives NaN); se = (high - low) / (2 * 1.96).
// (When the smallest value alone reaches the quantile's share, R 4.1-1's qrule_math returns
// the second smallest; this returns the smallest, as the rule says.)
Estimate estimateMedian(std::span<const StratumSample> strata, const DisclosureRules& rules = {});

// Secondary suppression for a table whose cells add up along rows and columns (a "parts and
// total" table is one row or one column plus its total). `suppressed[r][c]` is true for cells
// already hidden (primary); `values` their magnitudes (used to pick the cheapest extra cell).
// `rowTotal` / `colTotal`: whether the table prints a total of each row / column. Returns the
// cells to hide in addition: repeatedly, every row or column that is totalled and has exactly
// one hidden cell hides its smallest visible cell, until none is left with exactly one.
std::vector<std::pair<size_t, size_t>> secondarySuppression(const std::vector<std::vector<bool>>& suppressed,
                                                            const std::vector<std::vector<double>>& values,
                                                            bool rowTotals, bool colTotals);

}  // namespace ck::report
