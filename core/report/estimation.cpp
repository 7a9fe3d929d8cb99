// Survey estimators (see estimation.h for the formulas). Decisions taken here where the
// header leaves room, as a survey statistician would read it:
//
// * Bad numbers. Moments::add ignores a pair whose x or y is NaN or infinite: such an answer
//   is "no usable answer", so the unit stays outside the domain (it still counts in n_h
//   through StratumSample::sampledUnits). Medians likewise skip non-finite values.
// * Inconsistent strata. A stratum with n_h = 0 and nothing in its domain is skipped. If a
//   stratum reports more units in the domain (m_h, or values for a median) than visited
//   (n_h), n_h is taken as m_h. A register count that is negative or not finite counts as
//   "no register" (weight 1, no fpc). A register smaller than the sample (N_h < n_h: an out
//   of date register) is treated as take-all: the correction factor is clamped at 0.
// * Weights and fpc. w_h = N_h / n_h and the population size in the variance is N_h; with
//   no register w_h = 1 and the "population" is n_h with no fpc. The factor (1 - n_h/N_h)
//   applies only when n_h/N_h >= 5%.
// * Units outside the domain. They have x = y = 0, hence z = 0; their effect on the
//   stratum's sum of squares is added analytically (Chan's merge of a group of n_h - m_h
//   zeros): SS = SS_domain + m (n - m) / n * ubar^2, u = y - R x.
// * Single-unit strata. The header's "adjust" rule, as R's survey 4.1-1 onestrat() does it:
//   the stratum's weighted value is not centred, so it adds (N_h z_h)^2 (1 - f_h). Totals use
//   the same rule with z = y.
// * Value 0. The CV is undefined (NaN). A zero estimate with se 0 (e.g. a 0% share: no
//   sampled unit has the attribute) is published as it is, when there are enough
//   observations: suppressing "0%" among 200 observations as imprecise would hide a real
//   finding. A zero estimate with se > 0 (a mean or total whose units cancel out) is
//   published flagged "use with caution", so its interval is read rather than its CV.
//   A non-zero estimate whose CV cannot be estimated is suppressed as imprecise.
// * CV boundaries are inclusive (CV = 16.5% publishes, CV = 33.3% is "caution"), with a
//   relative tolerance of 1e-12 so that rounding in se / value does not move a flag.
// * Order of the rules: 1 to minUnits - 1 units (disclosure) first, so a cell of 1 or 2
//   units says so rather than "too few observations"; then precision (observations, CV);
//   then for money totals dominance: the n largest weighted contributions w_h |y_i| above k
//   of the published total |Y| (default n = 2, k = 85%). A figure suppressed for dominance
//   keeps its precision flag.
// * Medians: the quantile at q is the smallest value whose cumulative weight reaches q W
//   (within 1e-12 W for rounding); q is clamped to [0, 1]. Woodruff's SE(p) is the
//   linearised SE of the weighted share of in-domain units at or below the median, over all
//   n_h units (same fpc and single-unit rules). `observations` counts finite values.
#include "core/report/estimation.h"

#include <algorithm>
#include <utility>

namespace ck::report {

// ---------------------------------------------------------------------------------------
// Moments

void Moments::add(double x, double y)
{
    if (!std::isfinite(x) || !std::isfinite(y))
        return;  // not a usable answer: see the file comment
    ++m;
    const double n = double(m);
    const double dx = x - meanX;
    const double dy = y - meanY;
    meanX += dx / n;
    meanY += dy / n;
    // Welford / Chan: the deviation before the update times the one after.
    m2x += dx * (x - meanX);
    m2y += dy * (y - meanY);
    cxy += dx * (y - meanY);
    // Keep the largest |y|, largest first: an insertion into a few slots.
    double a = std::fabs(y);
    for (double& t : top)
        if (a > t)
            std::swap(a, t);
}

void Moments::merge(const Moments& other)
{
    if (other.m == 0)
        return;
    if (m == 0) {
        *this = other;
        return;
    }
    const double na = double(m), nb = double(other.m), n = na + nb;
    const double dx = other.meanX - meanX;
    const double dy = other.meanY - meanY;
    const double k = na * nb / n;
    m2x += other.m2x + dx * dx * k;
    m2y += other.m2y + dy * dy * k;
    cxy += other.cxy + dx * dy * k;
    meanX += dx * nb / n;
    meanY += dy * nb / n;
    m += other.m;
    for (double t : other.top) {
        double a = t;
        for (double& mine : top)
            if (a > mine)
                std::swap(a, mine);
    }
}

// ---------------------------------------------------------------------------------------
// Names

const char* precisionName(Precision p)
{
    switch (p) {
    case Precision::Publish: return "publish";
    case Precision::Caution: return "caution";
    case Precision::Suppress: return "suppress";
    }
    return "suppress";
}

const char* suppressionName(Suppression s)
{
    switch (s) {
    case Suppression::None: return "";
    case Suppression::TooFewObservations: return "too few observations";
    case Suppression::Imprecise: return "imprecise";
    case Suppression::TooFewUnits: return "too few units";
    case Suppression::Dominance: return "dominance";
    case Suppression::Secondary: return "secondary";
    }
    return "";
}

const char* shareIntervalName(ShareInterval m)
{
    return m == ShareInterval::Wald ? "wald" : "logit";
}

namespace {

// One stratum's design as the variance formulas use it.
struct Design {
    double weight = 1;     // w_h = N_h / n_h, or 1 without a register
    double population = 0; // N_h, or n_h without a register
    double fpc = 1;        // (1 - n_h / N_h) when the fraction reaches 5%, else 1
    uint64_t n = 0;        // n_h (at least the units in the domain)
    bool registered = false;
};

Design designOf(const StratumSample& s, uint64_t inDomain)
{
    Design d;
    d.n = std::max(s.sampledUnits, inDomain);
    const double N = s.populationUnits;
    const double n = double(d.n);
    if (std::isfinite(N) && N > 0 && d.n > 0) {
        d.registered = true;
        d.weight = N / n;
        d.population = N;
        const double f = n / N;
        d.fpc = f >= kFpcThreshold ? std::max(0.0, 1.0 - f) : 1.0;
    } else {
        d.weight = 1;
        d.population = n;
        d.fpc = 1;
    }
    return d;
}

struct Stratum {
    Design design;
    Moments moments;
};

// Linearised variance of R = Y / X (see estimation.h); a total is R = 0, X = 1 (z = y).
double linearisedVariance(const std::vector<Stratum>& strata, double R, double X)
{
    double variance = 0;
    for (const Stratum& s : strata) {
        const Design& d = s.design;
        if (d.n == 0 || d.fpc == 0)
            continue;  // nothing sampled, or take-all: no sampling variance
        const Moments& mo = s.moments;
        const double n = double(d.n), m = double(mo.m);
        const double uMean = mo.meanY - R * mo.meanX;  // mean of u = y - R x in the domain
        if (d.n == 1) {
            // survey 4.1's "adjust": the lone unit's weighted value N_h z_h, not centred.
            const double zh = mo.m == 1 ? uMean / X : 0.0;
            variance += zh * zh * d.population * d.population * d.fpc;
            continue;
        }
        const double ssDomain = std::max(0.0, mo.m2y - 2 * R * mo.cxy + R * R * mo.m2x);
        const double ss = ssDomain + m * (n - m) / n * uMean * uMean;  // with the n - m zeros
        const double s2z = ss / (n - 1) / (X * X);
        variance += d.population * d.population * d.fpc * s2z / n;
    }
    return variance;
}

bool atMost(double cv, double bound) { return cv <= bound * (1 + 1e-12); }

// Disclosure by unit count, then precision flags, then dominance (see the file comment).
// `dominant`: the n largest weighted contributions (money totals only, else 0).
void applyRules(Estimate& e, const DisclosureRules& rules, bool money, double dominant)
{
    e.cv = (std::isfinite(e.se) && std::isfinite(e.value) && e.value != 0) ? e.se / std::fabs(e.value) : kNaN;
    e.precision = Precision::Suppress;
    if (e.observations > 0 && e.observations < rules.minUnits) {
        // Would reveal a unit whatever its precision: this, not the observation count, is why.
        e.suppression = Suppression::TooFewUnits;
        return;
    }
    if (e.observations < kMinObservations) {
        e.suppression = Suppression::TooFewObservations;
        return;
    }
    if (e.value == 0 && std::isfinite(e.se)) {
        e.precision = e.se == 0 ? Precision::Publish : Precision::Caution;
    } else if (!std::isfinite(e.cv) || !atMost(e.cv, kCvCaution)) {
        e.suppression = Suppression::Imprecise;
        return;
    } else {
        e.precision = atMost(e.cv, kCvPublish) ? Precision::Publish : Precision::Caution;
    }
    e.suppression = Suppression::None;
    if (money && dominant > rules.dominanceShare * std::fabs(e.value))
        e.suppression = Suppression::Dominance;
}

void setInterval(Estimate& e)
{
    e.low = e.value - kZ95 * e.se;
    e.high = e.value + kZ95 * e.se;
}

std::vector<Stratum> collect(std::span<const StratumSample> samples, Estimate& e)
{
    std::vector<Stratum> strata;
    for (const StratumSample& s : samples) {
        if (s.sampledUnits == 0 && s.moments.m == 0)
            continue;
        Stratum st{designOf(s, s.moments.m), s.moments};
        e.weighted = e.weighted || st.design.registered;
        e.observations += st.moments.m;
        e.weightedUnits += st.design.weight * st.moments.sumX();
        strata.push_back(st);
    }
    return strata;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Ratio and total

Estimate estimateRatio(std::span<const StratumSample> samples, const DisclosureRules& rules)
{
    Estimate e;
    const std::vector<Stratum> strata = collect(samples, e);
    double Y = 0, X = 0;
    for (const Stratum& s : strata) {
        Y += s.design.weight * s.moments.sumY();
        X += s.design.weight * s.moments.sumX();
    }
    if (X != 0 && std::isfinite(X) && std::isfinite(Y)) {
        e.value = Y / X;
        e.se = std::sqrt(linearisedVariance(strata, e.value, X));
        setInterval(e);
    }
    applyRules(e, rules, false, 0);
    return e;
}

Estimate estimateShare(std::span<const StratumSample> samples, ShareInterval method, const DisclosureRules& rules)
{
    Estimate e = estimateRatio(samples, rules);
    if (!std::isfinite(e.value) || !std::isfinite(e.se))
        return e;
    const double p = e.value;
    if (method == ShareInterval::Wald || p <= 0 || p >= 1 || e.se == 0) {
        // Wald, clipped to 0-1; a share at an edge has se 0 when every unit agrees.
        e.low = std::clamp(e.low, 0.0, 1.0);
        e.high = std::clamp(e.high, 0.0, 1.0);
        return e;
    }
    const double logit = std::log(p / (1 - p));
    const double seLogit = e.se / (p * (1 - p));
    auto expit = [](double t) { return 1 / (1 + std::exp(-t)); };
    e.low = expit(logit - kZ95 * seLogit);
    e.high = expit(logit + kZ95 * seLogit);
    return e;
}

Estimate estimateTotal(std::span<const StratumSample> samples, bool money, const DisclosureRules& rules)
{
    Estimate e;
    const std::vector<Stratum> strata = collect(samples, e);
    double Y = 0;
    // The largest weighted contributions w_h |y_i| over all strata (each stratum's own largest
    // |y| times its weight are its largest contributions).
    std::vector<double> contributions;
    for (const Stratum& s : strata) {
        Y += s.design.weight * s.moments.sumY();
        for (size_t k = 0; k < s.moments.top.size() && k < s.moments.m; ++k)
            contributions.push_back(s.design.weight * s.moments.top[k]);
    }
    const size_t n = size_t(std::clamp(rules.dominanceUnits, 1, kMaxDominanceUnits));
    std::sort(contributions.begin(), contributions.end(), [](double a, double b) { return a > b; });
    double dominant = 0;
    for (size_t k = 0; k < n && k < contributions.size(); ++k)
        dominant += contributions[k];
    if (e.observations > 0 && std::isfinite(Y)) {
        e.value = Y;
        e.se = std::sqrt(linearisedVariance(strata, 0.0, 1.0));
        setInterval(e);
    }
    applyRules(e, rules, money, dominant);
    return e;
}

// ---------------------------------------------------------------------------------------
// Median

Estimate estimateMedian(std::span<const StratumSample> samples, const DisclosureRules& rules)
{
    Estimate e;
    struct Weighted {
        double value, weight;
    };
    std::vector<Weighted> all;
    std::vector<std::pair<Design, std::vector<double>>> perStratum;
    for (const StratumSample& s : samples) {
        std::vector<double> finite;
        for (double v : s.values)
            if (std::isfinite(v))
                finite.push_back(v);
        if (s.sampledUnits == 0 && finite.empty())
            continue;
        const Design d = designOf(s, finite.size());
        e.weighted = e.weighted || d.registered;
        e.observations += finite.size();
        for (double v : finite)
            all.push_back({v, d.weight});
        perStratum.emplace_back(d, std::move(finite));
    }
    std::sort(all.begin(), all.end(), [](const Weighted& a, const Weighted& b) { return a.value < b.value; });
    double W = 0;
    for (const Weighted& w : all)
        W += w.weight;
    e.weightedUnits = W;

    if (!all.empty() && W > 0) {
        // R's qrule "math": the smallest value whose cumulative weight reaches q W.
        auto quantile = [&](double q) {
            const double target = std::clamp(q, 0.0, 1.0) * W - 1e-12 * W;
            double cumulative = 0;
            for (const Weighted& w : all) {
                cumulative += w.weight;
                if (cumulative >= target)
                    return w.value;
            }
            return all.back().value;
        };
        e.value = quantile(0.5);

        // Woodruff: SE of the share of units at or below the median, y = [v <= median], x = 1.
        std::vector<Stratum> strata;
        double below = 0;
        for (const auto& [d, values] : perStratum) {
            Stratum st{d, {}};
            for (double v : values)
                st.moments.add(1.0, v <= e.value ? 1.0 : 0.0);
            below += d.weight * st.moments.sumY();
            strata.push_back(st);
        }
        const double p = below / W;
        const double seP = std::sqrt(linearisedVariance(strata, p, W));
        // Centred on p, the estimated share at or below the median, as R's woodruffCI does
        // (not on 0.5: with few distinct values the two differ).
        e.low = quantile(p - kZ95 * seP);
        e.high = quantile(p + kZ95 * seP);
        e.se = (e.high - e.low) / (2 * kZ95);
    }
    applyRules(e, rules, false, 0);
    return e;
}

// ---------------------------------------------------------------------------------------
// Secondary suppression

std::vector<std::pair<size_t, size_t>> secondarySuppression(const std::vector<std::vector<bool>>& suppressed,
                                                            const std::vector<std::vector<double>>& values,
                                                            bool rowTotals, bool colTotals)
{
    std::vector<std::vector<bool>> hidden = suppressed;
    size_t columns = 0;
    for (const auto& row : hidden)
        columns = std::max(columns, row.size());
    // A cell with no magnitude given (ragged `values`) is the last choice.
    auto magnitude = [&](size_t r, size_t c) {
        if (r < values.size() && c < values[r].size() && std::isfinite(values[r][c]))
            return std::fabs(values[r][c]);
        return std::numeric_limits<double>::infinity();
    };
    std::vector<std::pair<size_t, size_t>> added;
    // Hide the smallest visible cell among `cells` when exactly one of them is hidden. A line
    // with no visible cell left cannot be protected here (its total must go): nothing to add.
    auto protect = [&](const std::vector<std::pair<size_t, size_t>>& cells) {
        size_t hiddenCount = 0;
        for (auto [r, c] : cells)
            hiddenCount += hidden[r][c] ? 1 : 0;
        if (hiddenCount != 1)
            return false;
        std::pair<size_t, size_t> best{};
        double bestMagnitude = 0;
        bool found = false;
        for (auto [r, c] : cells) {
            if (hidden[r][c])
                continue;
            const double mag = magnitude(r, c);
            if (!found || mag < bestMagnitude) {
                best = {r, c};
                bestMagnitude = mag;
                found = true;
            }
        }
        if (!found)
            return false;
        hidden[best.first][best.second] = true;
        added.push_back(best);
        return true;
    };

    bool changed = true;
    while (changed) {
        changed = false;
        if (rowTotals) {
            for (size_t r = 0; r < hidden.size(); ++r) {
                std::vector<std::pair<size_t, size_t>> cells;
                for (size_t c = 0; c < hidden[r].size(); ++c)
                    cells.emplace_back(r, c);
                changed = protect(cells) || changed;
            }
        }
        if (colTotals) {
            for (size_t c = 0; c < columns; ++c) {
                std::vector<std::pair<size_t, size_t>> cells;
                for (size_t r = 0; r < hidden.size(); ++r)
                    if (c < hidden[r].size())
                        cells.emplace_back(r, c);
                changed = protect(cells) || changed;
            }
        }
    }
    return added;
}

}  // namespace ck::report
