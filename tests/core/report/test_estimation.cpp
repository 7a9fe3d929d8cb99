// Survey estimators against hand-worked examples. Every number checked here is derived in the
// comment above it with figures small enough to follow on paper. Notation: N_h register
// units, n_h visited units, w_h = N_h / n_h, f_h = n_h / N_h, fpc = 1 - f_h when f_h >= 5%.
#include "core/report/estimation.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <vector>

using namespace ck::report;
using Catch::Detail::Approx;

namespace {

// A stratum whose in-domain units are the (x, y) pairs; n_h may exceed their count (the rest
// of the visited units are outside the domain).
StratumSample stratum(double N, uint64_t n, const std::vector<std::pair<double, double>>& xy)
{
    StratumSample s;
    s.populationUnits = N;
    s.sampledUnits = n;
    for (auto [x, y] : xy)
        s.moments.add(x, y);
    return s;
}

// `yes` units with the attribute and `no` without, all in the domain (a share).
StratumSample shareStratum(double N, uint64_t n, int yes, int no)
{
    std::vector<std::pair<double, double>> xy;
    for (int i = 0; i < yes; ++i)
        xy.emplace_back(1, 1);
    for (int i = 0; i < no; ++i)
        xy.emplace_back(1, 0);
    return stratum(N, n, xy);
}

// A mean or total: every value in the domain with x = 1.
StratumSample valueStratum(double N, uint64_t n, const std::vector<double>& ys)
{
    std::vector<std::pair<double, double>> xy;
    for (double y : ys)
        xy.emplace_back(1, y);
    return stratum(N, n, xy);
}

bool closeRel(double a, double b, double rel = 1e-9)
{
    return std::fabs(a - b) <= rel * std::max({std::fabs(a), std::fabs(b), 1e-300});
}

}  // namespace

TEST_CASE("Moments merge in any order and any split equals adding one by one", "[report][estimation]")
{
    // Money figures in crores with a small spread: the case where naive sums of squares
    // lose their variance to cancellation.
    std::mt19937_64 rng(20261123);
    std::uniform_real_distribution<double> workers(1, 200), noise(-5e4, 5e4);
    std::vector<std::pair<double, double>> data;
    for (int i = 0; i < 997; ++i) {
        const double x = workers(rng);
        data.emplace_back(x, 3.0e7 + 1.0e3 * x + noise(rng));
    }
    Moments serial;
    for (auto [x, y] : data)
        serial.add(x, y);

    // Two-pass reference in long double.
    long double mx = 0, my = 0;
    for (auto [x, y] : data) {
        mx += x;
        my += y;
    }
    mx /= data.size();
    my /= data.size();
    long double sxx = 0, syy = 0, sxy = 0;
    for (auto [x, y] : data) {
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
        sxy += (x - mx) * (y - my);
    }
    CHECK(serial.m == data.size());
    CHECK(closeRel(serial.meanX, double(mx)));
    CHECK(closeRel(serial.meanY, double(my)));
    CHECK(closeRel(serial.m2x, double(sxx)));
    CHECK(closeRel(serial.m2y, double(syy)));
    CHECK(closeRel(serial.cxy, double(sxy)));
    std::vector<double> ys;
    for (auto [x, y] : data)
        ys.push_back(std::fabs(y));
    std::sort(ys.rbegin(), ys.rend());
    CHECK(serial.top[0] == ys[0]);
    CHECK(serial.top[1] == ys[1]);
    CHECK(serial.top[2] == ys[2]);

    for (int trial = 0; trial < 20; ++trial) {
        // Random cut points (some chunks empty, some of one unit), merged in a random order.
        std::vector<size_t> cuts{0, data.size()};
        std::uniform_int_distribution<size_t> at(0, data.size());
        for (int c = 0; c < 1 + trial; ++c)
            cuts.push_back(at(rng));
        std::sort(cuts.begin(), cuts.end());
        std::vector<Moments> parts;
        for (size_t i = 0; i + 1 < cuts.size(); ++i) {
            Moments part;
            for (size_t k = cuts[i]; k < cuts[i + 1]; ++k)
                part.add(data[k].first, data[k].second);
            parts.push_back(part);
        }
        std::shuffle(parts.begin(), parts.end(), rng);
        // Merge as a left fold for even trials, as a pairwise tree for odd ones.
        Moments merged;
        if (trial % 2 == 0) {
            for (const Moments& p : parts)
                merged.merge(p);
        } else {
            while (parts.size() > 1) {
                std::vector<Moments> next;
                for (size_t i = 0; i < parts.size(); i += 2) {
                    Moments a = parts[i];
                    if (i + 1 < parts.size())
                        a.merge(parts[i + 1]);
                    next.push_back(a);
                }
                parts = next;
            }
            merged = parts.front();
        }
        INFO("trial " << trial);
        CHECK(merged.m == serial.m);
        CHECK(closeRel(merged.meanX, serial.meanX));
        CHECK(closeRel(merged.meanY, serial.meanY));
        CHECK(closeRel(merged.m2x, serial.m2x));
        CHECK(closeRel(merged.m2y, serial.m2y));
        CHECK(closeRel(merged.cxy, serial.cxy));
        CHECK(merged.top == serial.top);
    }
}

TEST_CASE("Moments by hand, and bad numbers are ignored", "[report][estimation]")
{
    // y = 2, 4, 9 with x = 1, 1, 2: mean y 5, deviations -3, -1, 4 -> m2y = 9 + 1 + 16 = 26;
    // mean x 4/3, deviations -1/3, -1/3, 2/3 -> m2x = 6/9; cxy = 1 + 1/3 + 8/3 = 4.
    Moments m;
    m.add(1, 2);
    m.add(1, 4);
    m.add(2, 9);
    // NaN / infinite answers are not usable answers: ignored, the unit is outside the domain.
    m.add(std::nan(""), 5);
    m.add(1, std::numeric_limits<double>::infinity());
    m.add(-std::numeric_limits<double>::infinity(), 1);
    CHECK(m.m == 3);
    CHECK(m.meanY == Approx(5));
    CHECK(m.meanX == Approx(4.0 / 3));
    CHECK(m.m2y == Approx(26));
    CHECK(m.m2x == Approx(6.0 / 9));
    CHECK(m.cxy == Approx(4));
    CHECK(m.top[0] == 9);
    CHECK(m.top[1] == 4);
    CHECK(m.top[2] == 2);
    CHECK(m.sumY() == Approx(15));
    CHECK(m.sumX() == Approx(4));

    // Merging an empty Moments either way changes nothing.
    Moments copy = m;
    copy.merge(Moments{});
    CHECK(copy == m);
    Moments empty;
    empty.merge(m);
    CHECK(empty == m);
}

TEST_CASE("Unstratified share: p(1-p)/(n-1) and the TOOLKIT formula", "[report][estimation]")
{
    // 50 units, no register (weights 1, no fpc), 15 with the attribute: p = 0.3.
    // Linearisation: X = 50, z_i = (y_i - 0.3) / 50; s_z^2 = (15*0.49 + 35*0.09) / 49 / 2500
    //   = 10.5 / 49 / 2500; V = n^2 s_z^2 / n = 50 * 10.5 / 49 / 2500 = 0.21 / 49
    //   = p(1-p)/(n-1) = 0.0042857; SE = 0.0654654; CV = 21.8% -> caution.
    // 95% CI = 0.3 -+ 1.959964 * 0.0654654 = 0.3 -+ 0.128310 = [0.171690, 0.428310].
    const StratumSample s = shareStratum(0, 50, 15, 35);
    const Estimate e = estimateRatio({&s, 1});
    CHECK(e.value == Approx(0.3));
    CHECK(e.se == Approx(std::sqrt(0.3 * 0.7 / 49)));
    CHECK(e.se == Approx(0.0654654).epsilon(1e-5));
    CHECK(e.low == Approx(0.171690).epsilon(1e-5));
    CHECK(e.high == Approx(0.428310).epsilon(1e-5));
    CHECK(e.cv == Approx(0.218218).epsilon(1e-5));
    CHECK(e.observations == 50);
    CHECK(e.weightedUnits == Approx(50));
    CHECK_FALSE(e.weighted);
    CHECK(e.precision == Precision::Caution);
    CHECK(e.suppression == Suppression::None);
    CHECK(e.shown());

    // The same sample from a register of N = 1000 (f = 5%: fpc 0.95 applies):
    // TOOLKIT SE = sqrt(W^2 (1 - f) p (1 - p) / (n - 1)) = sqrt(0.95 * 0.21 / 49) = 0.0638073.
    const StratumSample r = shareStratum(1000, 50, 15, 35);
    const Estimate er = estimateRatio({&r, 1});
    CHECK(er.value == Approx(0.3));
    CHECK(er.se == Approx(std::sqrt(0.95 * 0.21 / 49)));
    CHECK(er.weighted);
    CHECK(er.weightedUnits == Approx(1000));
}

TEST_CASE("Stratified share with unequal weights", "[report][estimation]")
{
    // Stratum 1: N = 400, n = 20, 10 yes -> p1 = 0.5, f1 = 0.05 (fpc 0.95 applies), w = 20.
    // Stratum 2: N = 100, n = 20,  4 yes -> p2 = 0.2, f2 = 0.20 (fpc 0.80),         w = 5.
    // N = 500, W1 = 0.8, W2 = 0.2. p = 0.8*0.5 + 0.2*0.2 = 0.44.
    // V = W1^2 0.95 p1(1-p1)/19 + W2^2 0.80 p2(1-p2)/19
    //   = (0.64*0.95*0.25 + 0.04*0.8*0.16) / 19 = (0.152 + 0.00512) / 19 = 0.00826947
    // SE = 0.0909366; CI = 0.44 -+ 0.178233 = [0.261767, 0.618233]; CV = 20.67% -> caution.
    const StratumSample strata[] = {shareStratum(400, 20, 10, 10), shareStratum(100, 20, 4, 16)};
    const Estimate e = estimateRatio(strata);
    CHECK(e.value == Approx(0.44));
    CHECK(e.se == Approx(0.0909366).epsilon(1e-5));
    CHECK(e.low == Approx(0.261767).epsilon(1e-5));
    CHECK(e.high == Approx(0.618233).epsilon(1e-5));
    CHECK(e.cv == Approx(0.206674).epsilon(1e-5));
    CHECK(e.weightedUnits == Approx(500));
    CHECK(e.observations == 40);
    CHECK(e.precision == Precision::Caution);
    CHECK(e.shown());
}

TEST_CASE("Finite population correction below and above 5%", "[report][estimation]")
{
    // n = 20, 10 yes (p = 0.5). Unstratified, so SE = sqrt(fpc * 0.25 / 19).
    // N = 500: f = 4%  -> no fpc: SE = sqrt(0.25/19)        = 0.114708.
    // N = 400: f = 5%  -> fpc 0.95: SE = sqrt(0.95*0.25/19) = 0.111803.
    // N = 40:  f = 50% -> fpc 0.5:  SE = sqrt(0.5*0.25/19)  = 0.081111.
    const StratumSample below = shareStratum(500, 20, 10, 10);
    const StratumSample at = shareStratum(400, 20, 10, 10);
    const StratumSample half = shareStratum(40, 20, 10, 10);
    CHECK(estimateRatio({&below, 1}).se == Approx(0.114708).epsilon(1e-5));
    CHECK(estimateRatio({&at, 1}).se == Approx(0.111803).epsilon(1e-5));
    CHECK(estimateRatio({&half, 1}).se == Approx(0.081111).epsilon(1e-5));
}

TEST_CASE("A take-all stratum adds to the estimate but not to the variance", "[report][estimation]")
{
    // A: N = 5, n = 5 (take-all), 2 yes. B: N = 100, n = 10, 3 yes, f = 10% (fpc 0.9).
    // p = (5*0.4 + 100*0.3) / 105 = 32/105 = 0.304762.
    // Only B varies: V = (100/105)^2 * 0.9 * 0.3*0.7/9 = 0.0190476; SE = 0.138013.
    // (z in B is (y - R)/105; its within-stratum variance is that of y over 105^2.)
    const StratumSample strata[] = {shareStratum(5, 5, 2, 3), shareStratum(100, 10, 3, 7)};
    const Estimate e = estimateRatio(strata);
    CHECK(e.value == Approx(32.0 / 105));
    CHECK(e.se == Approx(0.138013).epsilon(1e-5));
    CHECK(e.observations == 15);

    // Every stratum take-all: a census, SE 0, CV 0 -> publish with 15 observations.
    const StratumSample census[] = {shareStratum(5, 5, 2, 3), shareStratum(10, 10, 3, 7)};
    const Estimate c = estimateRatio(census);
    CHECK(c.value == Approx(5.0 / 15));
    CHECK(c.se == 0);
    CHECK(c.cv == 0);
    CHECK(c.precision == Precision::Publish);
    CHECK(c.shown());

    // A register older than the sample (N < n) is read as take-all rather than a negative variance.
    const StratumSample stale = shareStratum(8, 10, 3, 7);
    CHECK(estimateRatio({&stale, 1}).se == 0);
}

TEST_CASE("A single-unit stratum contributes by the adjust rule", "[report][estimation]")
{
    // R's survey 4.1-1 (Debian bookworm), options(survey.lonely.psu = "adjust"): onestrat()
    // does not centre a stratum with one PSU, so it adds (N_h z_h)^2 (1 - f_h), its weighted
    // value measured from zero. (The rule used before centred z_h on the unweighted mean of z
    // over every sampled unit, 3.2 for the total below: A then added only 57.6.)
    // A: N = 10, n = 1, y = 4 (f = 10%, fpc 0.9).  B: N = 40, n = 4, y = 1, 2, 3, 6 (fpc 0.9).
    // Total: Y = 10*4 + 10*12 = 160.
    //   A: 4^2 * 10^2 * 0.9 = 1440
    //   B: mean 3, s^2 = (4 + 1 + 0 + 9) / 3 = 14/3; 40^2 * 0.9 * (14/3) / 4 = 1680
    //   V = 3120, SE = 55.856960.
    const StratumSample strata[] = {valueStratum(10, 1, {4}), valueStratum(40, 4, {1, 2, 3, 6})};
    const Estimate t = estimateTotal(strata, false);
    CHECK(t.value == Approx(160));
    CHECK(t.se == Approx(55.856960).epsilon(1e-6));
    CHECK(t.observations == 5);
    CHECK(t.suppression == Suppression::TooFewObservations);
    CHECK(t.precision == Precision::Suppress);

    // Mean: X = 10 + 40 = 50, R = 160/50 = 3.2, z = (y - 3.2)/50 (the weighted z sum to 0,
    // so from zero is from their average).
    //   z_A = 0.8/50 = 0.016; z_B = -0.044, -0.024, -0.004, 0.056.
    //   A: 0.016^2 * 100 * 0.9 = 0.000256 * 90 = 0.02304
    //   B: s_z^2 = (14/3) / 2500; 1600 * 0.9 * s_z^2 / 4 = 0.672
    //   V = 0.69504, SE = 0.833691.
    const Estimate m = estimateRatio(strata);
    CHECK(m.value == Approx(3.2));
    CHECK(m.se == Approx(0.833691).epsilon(1e-5));

    // A single-unit stratum whose unit is outside the domain (z_A = 0).
    // A: N = 10, n = 1, nobody in the domain; B as above. X = 40, R = 12/4 = 3,
    //   z_B = (y - 3)/40 = -0.05, -0.025, 0, 0.075; A adds 0^2 = 0,
    //   B: (14/3)/1600 * 1600 * 0.9 / 4 = 1.05 -> SE = 1.024695.
    const StratumSample outside[] = {valueStratum(10, 1, {}), valueStratum(40, 4, {1, 2, 3, 6})};
    const Estimate o = estimateRatio(outside);
    CHECK(o.value == Approx(3));
    CHECK(o.se == Approx(1.024695).epsilon(1e-5));
}

TEST_CASE("Domain mean: units outside the domain count in n_h", "[report][estimation]")
{
    // A: N = 100, n = 5 (f = 5%, fpc 0.95), w = 20; in the domain y = 10, 20; 3 outside.
    // B: N = 50, n = 10 (f = 20%, fpc 0.8), w = 5; in the domain y = 2, 4, 6, 8; 6 outside.
    // Y = 20*30 + 5*20 = 700; X = 20*2 + 5*4 = 60; R = 35/3 = 11.6667.
    // u = y - R x (outside: 0), z = u / 60.
    //   A: u = -5/3, 25/3, 0, 0, 0; mean 4/3; SS = 9 + 49 + 3*16/9 = 190/3; s^2 = 190/12
    //      V_A = 100^2 * 0.95 * (190/12) / 5 / 3600 = 8.356481
    //   B: u = -29/3, -23/3, -17/3, -11/3, 0 x6; sum -80/3, mean -8/3;
    //      SS = (841+529+289+121)/9 - 10*64/9 = 1140/9; s^2 = 1140/81
    //      V_B = 50^2 * 0.8 * (1140/81) / 10 / 3600 = 0.781893
    // V = 9.138374, SE = 3.022974; CI = 11.6667 -+ 1.959964 * 3.022974 = 11.6667 -+ 5.924921.
    const StratumSample strata[] = {valueStratum(100, 5, {10, 20}), valueStratum(50, 10, {2, 4, 6, 8})};
    const Estimate e = estimateRatio(strata);
    CHECK(e.value == Approx(35.0 / 3));
    CHECK(e.se == Approx(3.022974).epsilon(1e-6));
    CHECK(e.low == Approx(35.0 / 3 - 5.924921).epsilon(1e-6));
    CHECK(e.weightedUnits == Approx(60));
    CHECK(e.observations == 6);

    // Ignoring the units outside the domain (n_h = m_h) gives a different, wrong, variance.
    const StratumSample inDomainOnly[] = {valueStratum(100, 2, {10, 20}), valueStratum(50, 4, {2, 4, 6, 8})};
    CHECK(estimateRatio(inDomainOnly).se != Approx(3.022974).epsilon(1e-3));
}

TEST_CASE("Ratio of totals by linearisation", "[report][estimation]")
{
    // Women workers (y) over all workers (x).
    // A: N = 40, n = 4 (fpc 0.9), w = 10: (10,2) (20,8) (5,1) (15,3).
    // B: N = 20, n = 2 (fpc 0.9), w = 10: (30,15) (10,3).
    // Y = 10*14 + 10*18 = 320; X = 10*50 + 10*40 = 900; R = 16/45 = 0.355556.
    // u = y - R x:  A: -14/9, 8/9, -7/9, -21/9 (mean -17/18); SS = 750/81 - 4*289/324 = 461/81
    //               s^2 = 461/243; V_A = 40^2 * 0.9 * (461/243) / 4 / 900^2 = 0.000843164
    //               B: 13/3, -5/9 (mean 17/9); SS = 2 * (22/9)^2 = 968/81 = s^2 (n - 1 = 1)
    //               V_B = 20^2 * 0.9 * (968/81) / 2 / 900^2 = 0.00265569
    // V = 0.00349886, SE = 0.0591511, CV = 16.64%, CI = [0.239621, 0.471490].
    const StratumSample strata[] = {stratum(40, 4, {{10, 2}, {20, 8}, {5, 1}, {15, 3}}),
                                    stratum(20, 2, {{30, 15}, {10, 3}})};
    const Estimate e = estimateRatio(strata);
    CHECK(e.value == Approx(16.0 / 45));
    CHECK(e.se == Approx(0.0591511).epsilon(1e-5));
    CHECK(e.cv == Approx(0.166363).epsilon(1e-5));
    CHECK(e.low == Approx(0.239621).epsilon(1e-5));
    CHECK(e.high == Approx(0.471490).epsilon(1e-5));
    CHECK(e.weightedUnits == Approx(900));
    CHECK(e.suppression == Suppression::TooFewObservations);  // 6 observations
}

TEST_CASE("Money total: dominance, too few units and the order of suppression", "[report][estimation]")
{
    // 10 firms, take-all (N = n = 10): SE = 0, CV = 0, so precision passes.
    // Turnover 1000, 900 and eight of 10: sum 1980, top two 1900 = 96% > 85% -> dominance.
    const StratumSample dominated = valueStratum(10, 10, {1000, 900, 10, 10, 10, 10, 10, 10, 10, 10});
    const Estimate d = estimateTotal({&dominated, 1}, true);
    CHECK(d.value == Approx(1980));
    CHECK(d.se == 0);
    CHECK(d.precision == Precision::Publish);
    CHECK(d.suppression == Suppression::Dominance);
    CHECK_FALSE(d.shown());
    // Not a money figure: no dominance rule.
    CHECK(estimateTotal({&dominated, 1}, false).suppression == Suppression::None);

    // Ten equal firms: the top two make 20% -> shown.
    const StratumSample even = valueStratum(10, 10, std::vector<double>(10, 100));
    CHECK(estimateTotal({&even, 1}, true).shown());

    // Dominance across strata: the two largest sit in different strata.
    // A: take-all, five units of 1; B: take-all, 900 and four units of 1. Sum 909, the two
    // largest 900 + 1 = 901 = 99% -> dominance.  With B = 5 units of 100: top 200 of 505 = 40% -> shown.
    const StratumSample split[] = {valueStratum(5, 5, {1, 1, 1, 1, 1}), valueStratum(5, 5, {900, 1, 1, 1, 1})};
    CHECK(estimateTotal(split, true).suppression == Suppression::Dominance);
    const StratumSample spread[] = {valueStratum(5, 5, {1, 1, 1, 1, 1}), valueStratum(5, 5, {100, 100, 100, 100, 100})};
    CHECK(estimateTotal(spread, true).shown());

    // Weighted contributions, not sample values. A: N = 100, n = 10 (w = 10), ten firms of 10,
    // each contributing 100: Y_A = 1000. B: take-all (w = 1), 500, 400 and eight of 1: Y_B = 908.
    // Y = 1908 with SE 0 (no spread within A, B take-all). The two largest contributions,
    // 500 + 400 = 900, make 47% of Y -> shown. On unweighted values the pair would make
    // 900 / (100 + 908) = 89% and hide a total that no firm dominates.
    const StratumSample weighted[] = {valueStratum(100, 10, std::vector<double>(10, 10)),
                                      valueStratum(10, 10, {500, 400, 1, 1, 1, 1, 1, 1, 1, 1})};
    const Estimate w = estimateTotal(weighted, true);
    CHECK(w.value == Approx(1908));
    CHECK(w.se == 0);
    CHECK(w.shown());

    // The (n, k) parameters. The dominated 10 firms: the largest alone, 1000 / 1980 = 50.5%.
    DisclosureRules one;
    one.dominanceUnits = 1;
    CHECK(estimateTotal({&dominated, 1}, true, one).shown());  // 50.5% <= 85%
    one.dominanceShare = 0.5;
    CHECK(estimateTotal({&dominated, 1}, true, one).suppression == Suppression::Dominance);  // 50.5% > 50%
    DisclosureRules three;
    three.dominanceUnits = 3;
    three.dominanceShare = 0.97;  // 1000 + 900 + 10 = 1910 = 96.5% <= 97%
    CHECK(estimateTotal({&dominated, 1}, true, three).shown());
    three.dominanceShare = 0.96;  // 96.5% > 96%
    CHECK(estimateTotal({&dominated, 1}, true, three).suppression == Suppression::Dominance);
    // n beyond what Moments keeps is read as kMaxDominanceUnits; n < 1 as 1.
    DisclosureRules many;
    many.dominanceUnits = 99;
    many.dominanceShare = 0.965;  // read as n = 3: 1910 / 1980 = 96.46% <= 96.5% -> shown
    CHECK(estimateTotal({&dominated, 1}, true, many).shown());
    DisclosureRules zero;
    zero.dominanceUnits = 0;
    zero.dominanceShare = 0.5;
    CHECK(estimateTotal({&dominated, 1}, true, zero).suppression == Suppression::Dominance);

    // The order: precision comes before dominance, 9 observations dominated -> too few observations.
    const StratumSample nine = valueStratum(9, 9, {1000, 900, 10, 10, 10, 10, 10, 10, 10});
    CHECK(estimateTotal({&nine, 1}, true).suppression == Suppression::TooFewObservations);
    // But fewer than 3 units is disclosure and comes first: its own label, not "too few
    // observations" (which would otherwise always win, 2 < 3 < 10).
    const StratumSample two = valueStratum(2, 2, {1000, 900});
    CHECK(estimateTotal({&two, 1}, true).suppression == Suppression::TooFewUnits);
    const StratumSample twoShare = shareStratum(0, 2, 1, 1);
    CHECK(estimateRatio({&twoShare, 1}).suppression == Suppression::TooFewUnits);
    const StratumSample threeShare = shareStratum(0, 3, 1, 2);
    CHECK(estimateRatio({&threeShare, 1}).suppression == Suppression::TooFewObservations);
    // The unit minimum is a project setting too.
    DisclosureRules five;
    five.minUnits = 5;
    CHECK(estimateRatio({&threeShare, 1}, five).suppression == Suppression::TooFewUnits);
}

TEST_CASE("Share intervals: logit by default, Wald clipped to 0-1 on request", "[report][estimation]")
{
    // p = 0.3 from 50 units, se = sqrt(0.21 / 49) = 0.0654654 (the unstratified case above).
    // logit p = ln(0.3 / 0.7) = -0.8472979; se(logit) = se / (p (1 - p)) = 0.3117400;
    // interval expit(-0.8472979 -+ 1.959964 * 0.3117400) = expit(-1.4583 / -0.2363)
    //   = [0.1887280, 0.4411986]: not symmetric about 0.3, as a share near an edge should be.
    const StratumSample s = shareStratum(0, 50, 15, 35);
    const Estimate logit = estimateShare({&s, 1});
    CHECK(logit.value == Approx(0.3));
    CHECK(logit.se == Approx(std::sqrt(0.21 / 49)));
    CHECK(logit.low == Approx(0.1887279748).epsilon(1e-9));
    CHECK(logit.high == Approx(0.4411986058).epsilon(1e-9));
    // Same figure, same SE and flags as the ratio estimator; only the interval differs.
    const Estimate wald = estimateShare({&s, 1}, ShareInterval::Wald);
    CHECK(wald == estimateRatio({&s, 1}));

    // 1 of 20 (p = 0.05): se = sqrt(0.05 * 0.95 / 19) = 0.05; Wald 0.05 -+ 0.098 goes below 0
    // and is clipped: [0, 0.148]. The logit interval stays inside (0, 1) by construction:
    // logit 0.05 = -2.944439, se(logit) = 0.05 / 0.0475 = 1.052632 -> [expit(-5.007560),
    // expit(-0.881318)] = [0.0066428, 0.2929045].
    const StratumSample rare = shareStratum(0, 20, 1, 19);
    const Estimate rw = estimateShare({&rare, 1}, ShareInterval::Wald);
    CHECK(rw.low == 0);
    CHECK(rw.high == Approx(0.05 + 1.959963984540054 * 0.05));
    const Estimate rl = estimateShare({&rare, 1}, ShareInterval::Logit);
    CHECK(rl.low == Approx(0.0066427854).epsilon(1e-8));
    CHECK(rl.high == Approx(0.2929045252).epsilon(1e-8));
    CHECK(rl.low > 0);

    // At the edges (0% or 100%, se 0) both give [p, p].
    const StratumSample none = shareStratum(0, 20, 0, 20), all = shareStratum(0, 20, 20, 0);
    for (ShareInterval m : {ShareInterval::Logit, ShareInterval::Wald}) {
        CHECK(estimateShare({&none, 1}, m).low == 0);
        CHECK(estimateShare({&none, 1}, m).high == 0);
        CHECK(estimateShare({&all, 1}, m).low == 1);
        CHECK(estimateShare({&all, 1}, m).high == 1);
    }
    // Nothing in the domain: NaN, no crash.
    const StratumSample empty = shareStratum(0, 20, 0, 0);
    CHECK(std::isnan(estimateShare({&empty, 1}).low));
    CHECK(std::string(shareIntervalName(ShareInterval::Logit)) == "logit");
    CHECK(std::string(shareIntervalName(ShareInterval::Wald)) == "wald");
}

TEST_CASE("Weighted median with unequal weights and Woodruff's interval", "[report][estimation]")
{
    {
        // A: N = 30, n = 3, w = 10: 1, 5, 9.   B: N = 20, n = 4, w = 5: 2, 3, 4, 10.
        // Sorted with weights: 1(10) 2(5) 3(5) 4(5) 5(10) 9(10) 10(5); W = 50, half 25;
        // cumulative 10, 15, 20, 25 -> median 4.
        const std::vector<double> a{9, 1, 5}, b{10, 2, 4, 3};
        StratumSample s[2];
        s[0].populationUnits = 30, s[0].sampledUnits = 3, s[0].values = a;
        s[1].populationUnits = 20, s[1].sampledUnits = 4, s[1].values = b;
        CHECK(estimateMedian(s).value == 4);
        // The weights matter: with B's weight 1 (N = 4), W = 30 + 4 = 34, half 17:
        // 1(10) 2(1) 3(1) 4(1) 5(10) -> cumulative 10, 11, 12, 13, 23 -> median 5
        // (the unweighted median of the 7 values would still be 4).
        s[1].populationUnits = 4;
        CHECK(estimateMedian(s).value == 5);
    }
    {
        // A: N = 20, n = 10, w = 2 (f = 50%, fpc 0.5): 1..10.
        // B: N = 30, n = 10, w = 3 (f = 1/3, fpc 2/3): 3..12.  W = 50, half 25.
        // Cumulative: 1:2 2:4 3:9 4:14 5:19 6:24 7:29 8:34 9:39 ... -> median 7.
        // Share at or below 7: p = (2*7 + 3*5) / 50 = 29/50 = 0.58.
        // SE(p): z = (y - 0.58)/50, within-stratum variance is that of y (0/1):
        //   A: 7 of 10 -> s^2 = 10*0.21/9; V_A = 20^2 * 0.5 * (2.1/9) / 10 / 2500 = 0.00186667
        //   B: 5 of 10 -> s^2 = 10*0.25/9; V_B = 30^2 * (2/3) * (2.5/9) / 10 / 2500 = 0.00666667
        //   V = 0.00853333, SE(p) = 0.0923760, 1.96 SE = 0.181053.
        // The interval is centred on p = 0.58 (R's woodruffCI), not on 0.5:
        // Quantile 0.398947: target 19.95 -> cumulative 24 at 6 -> low = 6.
        // Quantile 0.761053: target 38.05 -> cumulative 39 at 9 -> high = 9.
        // se = (9 - 6) / (2 * 1.959964) = 0.765320; CV = 0.765320 / 7 = 10.93% -> publish.
        // (Centred on 0.5 it was [5, 9], se 1.020427.)
        const std::vector<double> a{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, b{3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        StratumSample s[2];
        s[0].populationUnits = 20, s[0].sampledUnits = 10, s[0].values = a;
        s[1].populationUnits = 30, s[1].sampledUnits = 10, s[1].values = b;
        const Estimate e = estimateMedian(s);
        CHECK(e.value == 7);
        CHECK(e.low == 6);
        CHECK(e.high == 9);
        CHECK(e.se == Approx(0.765320185).epsilon(1e-8));
        CHECK(e.cv == Approx(0.109331455).epsilon(1e-8));
        CHECK(e.observations == 20);
        CHECK(e.weightedUnits == Approx(50));
        CHECK(e.precision == Precision::Publish);
        CHECK(e.shown());
    }
}

TEST_CASE("Median when one value holds more than half the weight", "[report][estimation]")
{
    // Values 1, 2, 3 with weights 10, 1, 1 (strata N = 10, 1, 1 of one unit each): W = 12,
    // half 6; the cumulative weight 10 at value 1 already reaches it -> median 1. (R survey
    // 4.1-1's qrule_math gives 2 here: its qs() finds no cumulative share <= 0.5, falls back
    // to index 1 and steps to the next value. The rule as written gives 1.)
    const std::vector<double> a{1}, b{2}, c{3};
    StratumSample s[3];
    s[0].populationUnits = 10, s[0].sampledUnits = 1, s[0].values = a;
    s[1].populationUnits = 1, s[1].sampledUnits = 1, s[1].values = b;
    s[2].populationUnits = 1, s[2].sampledUnits = 1, s[2].values = c;
    CHECK(estimateMedian(s).value == 1);
}

TEST_CASE("No units in the domain: NaN, too few observations, no crash", "[report][estimation]")
{
    // 30 firms visited in two strata, none answered.
    const StratumSample strata[] = {valueStratum(100, 20, {}), valueStratum(50, 10, {})};
    for (const Estimate& e : {estimateRatio(strata), estimateTotal(strata, true), estimateMedian(strata)}) {
        CHECK(std::isnan(e.value));
        CHECK(std::isnan(e.se));
        CHECK(std::isnan(e.cv));
        CHECK(e.observations == 0);
        CHECK(e.precision == Precision::Suppress);
        CHECK(e.suppression == Suppression::TooFewObservations);
    }
}

TEST_CASE("Failure paths: empty input, empty strata, bad numbers, zero denominators", "[report][estimation]")
{
    // Empty span.
    std::span<const StratumSample> none;
    for (const Estimate& e : {estimateRatio(none), estimateTotal(none, false), estimateMedian(none)}) {
        CHECK(std::isnan(e.value));
        CHECK(e.suppression == Suppression::TooFewObservations);
        CHECK_FALSE(e.weighted);
    }

    // A stratum with n_h = 0 (nobody visited) is skipped: same result as without it.
    const StratumSample with[] = {shareStratum(400, 20, 10, 10), shareStratum(300, 0, 0, 0)};
    const StratumSample without = shareStratum(400, 20, 10, 10);
    CHECK(estimateRatio(with) == estimateRatio({&without, 1}));

    // NaN and infinite answers are ignored by Moments::add: the estimate equals the clean one.
    StratumSample dirty = shareStratum(400, 20, 10, 10);
    dirty.moments.add(std::nan(""), 1);
    dirty.moments.add(1, std::numeric_limits<double>::infinity());
    CHECK(estimateRatio({&dirty, 1}) == estimateRatio({&without, 1}));

    // NaN values in a median are skipped; NaN register counts mean "no register".
    const std::vector<double> vals{1, std::nan(""), 2, 3, 4, 5, 6, 7, 8, 9, 10, std::numeric_limits<double>::infinity()};
    StratumSample med;
    med.populationUnits = std::nan("");
    med.sampledUnits = 12;
    med.values = vals;
    const Estimate m = estimateMedian({&med, 1});
    CHECK(m.value == 5);  // 10 equal weights: cumulative 5 of 10 at value 5
    CHECK(m.observations == 10);
    CHECK_FALSE(m.weighted);

    // More units in the domain than visited: n_h is taken as m_h (20), not 5.
    const StratumSample over = shareStratum(400, 5, 10, 10);
    CHECK(estimateRatio({&over, 1}) == estimateRatio({&without, 1}));

    // A ratio whose denominator is 0 for every unit: not estimable, suppressed as imprecise.
    const StratumSample zeroX = stratum(0, 12, std::vector<std::pair<double, double>>(12, {0, 3}));
    const Estimate z = estimateRatio({&zeroX, 1});
    CHECK(std::isnan(z.value));
    CHECK(z.suppression == Suppression::Imprecise);
}

TEST_CASE("Flags at the CV boundaries, and zero estimates", "[report][estimation]")
{
    // One stratum, no register, n = m units of mean 1: total n, V = n^2 s^2 / n
    // = n * m2y / (n - 1); se = cv * n  <=>  m2y = cv^2 * n * (n - 1) (90 cv^2 for n = 10).
    auto totalWithCv = [](double cv, uint64_t n = 10) {
        StratumSample s;
        s.sampledUnits = n;
        s.moments.m = n;
        s.moments.meanX = 1;
        s.moments.meanY = 1;
        s.moments.m2y = cv * cv * double(n) * double(n - 1);
        return estimateTotal({&s, 1}, false);
    };
    CHECK(totalWithCv(0.10).precision == Precision::Publish);
    CHECK(totalWithCv(0.165).cv == Approx(0.165));
    CHECK(totalWithCv(0.165).precision == Precision::Publish);  // 16.5% publishes
    CHECK(totalWithCv(0.1651).precision == Precision::Caution);
    CHECK(totalWithCv(0.333).precision == Precision::Caution);  // 33.3% still caution
    CHECK(totalWithCv(0.333).shown());
    CHECK(totalWithCv(0.3331).precision == Precision::Suppress);
    CHECK(totalWithCv(0.3331).suppression == Suppression::Imprecise);
    // Observations: 9 -> suppressed whatever the CV; 10 -> shown.
    CHECK(totalWithCv(0.05, 9).suppression == Suppression::TooFewObservations);
    CHECK(totalWithCv(0.05, 10).suppression == Suppression::None);

    // A 0% share among 200 observations: value 0, SE 0, CV undefined -> published (see the
    // rule in estimation.cpp); with 9 observations -> too few observations.
    const StratumSample none200 = shareStratum(0, 200, 0, 200);
    const Estimate z = estimateRatio({&none200, 1});
    CHECK(z.value == 0);
    CHECK(z.se == 0);
    CHECK(std::isnan(z.cv));
    CHECK(z.precision == Precision::Publish);
    CHECK(z.shown());
    const StratumSample none9 = shareStratum(0, 9, 0, 9);
    CHECK(estimateRatio({&none9, 1}).suppression == Suppression::TooFewObservations);
    // A 100% share: SE 0, CV 0 -> publish.
    const StratumSample all200 = shareStratum(0, 200, 200, 0);
    CHECK(estimateRatio({&all200, 1}).precision == Precision::Publish);

    // A mean of exactly 0 whose units cancel out (-5 and +5): SE > 0, CV undefined -> caution.
    const StratumSample cancel = valueStratum(0, 10, {-5, 5, -5, 5, -5, 5, -5, 5, -5, 5});
    const Estimate c = estimateRatio({&cancel, 1});
    // (Chan's running mean of alternating -5, +5 is exactly 0 after an even count.)
    REQUIRE(c.value == 0);
    CHECK(c.se == Approx(std::sqrt(10 * 250.0 / 9 / 100)));  // s^2 = 250/9, z = y/10, V = 10 s^2 / 100
    CHECK(std::isnan(c.cv));
    CHECK(c.precision == Precision::Caution);
    CHECK(c.shown());
}

TEST_CASE("Names of flags and suppressions", "[report][estimation]")
{
    CHECK(std::string(precisionName(Precision::Publish)) == "publish");
    CHECK(std::string(precisionName(Precision::Caution)) == "caution");
    CHECK(std::string(precisionName(Precision::Suppress)) == "suppress");
    CHECK(std::string(suppressionName(Suppression::None)).empty());
    CHECK(std::string(suppressionName(Suppression::TooFewObservations)) == "too few observations");
    CHECK(std::string(suppressionName(Suppression::Imprecise)) == "imprecise");
    CHECK(std::string(suppressionName(Suppression::TooFewUnits)) == "too few units");
    CHECK(std::string(suppressionName(Suppression::Dominance)) == "dominance");
    CHECK(std::string(suppressionName(Suppression::Secondary)) == "secondary");
}

namespace {

// After secondary suppression, no totalled row or column may have exactly one hidden cell.
bool protectedTable(std::vector<std::vector<bool>> hidden, const std::vector<std::pair<size_t, size_t>>& added,
                    bool rows, bool cols)
{
    for (auto [r, c] : added)
        hidden[r][c] = true;
    for (size_t r = 0; rows && r < hidden.size(); ++r)
        if (std::count(hidden[r].begin(), hidden[r].end(), true) == 1)
            return false;
    for (size_t c = 0; cols && !hidden.empty() && c < hidden[0].size(); ++c) {
        int n = 0;
        for (const auto& row : hidden)
            n += row[c] ? 1 : 0;
        if (n == 1)
            return false;
    }
    return true;
}

}  // namespace

TEST_CASE("Secondary suppression in a 3x3 table with row and column totals", "[report][estimation]")
{
    //        c0   c1   c2 | total
    //  r0   [5]   10   20 |  35
    //  r1    8    50   40 |  98
    //  r2   12    30   60 | 102
    // Primary: (0,0). Pass 1, rows: r0 has one hidden -> its smallest visible (0,1)=10.
    //   columns: c0 has one hidden -> smallest visible (1,0)=8; c1 has (0,1) only ->
    //   smallest visible (2,1)=30; c2 has none.
    // Pass 2, rows: r1 has (1,0) only -> smallest visible (1,2)=40; r2 has (2,1) only ->
    //   (2,0)=12 (12 < 60). columns: c0 has 3, c1 has 2, c2 has (1,2) only -> (0,2)=20.
    // Pass 3: every row and column has 0 or >= 2 hidden cells. Done.
    const std::vector<std::vector<bool>> primary{{true, false, false}, {false, false, false}, {false, false, false}};
    const std::vector<std::vector<double>> values{{5, 10, 20}, {8, 50, 40}, {12, 30, 60}};
    const auto added = secondarySuppression(primary, values, true, true);
    const std::vector<std::pair<size_t, size_t>> expected{{0, 1}, {1, 0}, {2, 1}, {1, 2}, {2, 0}, {0, 2}};
    CHECK(added == expected);
    CHECK(protectedTable(primary, added, true, true));

    // Rows totalled only: r0's partner (0,1) is enough.
    const auto rowsOnly = secondarySuppression(primary, values, true, false);
    CHECK(rowsOnly == std::vector<std::pair<size_t, size_t>>{{0, 1}});
    // No totals printed: nothing can be recovered, nothing added.
    CHECK(secondarySuppression(primary, values, false, false).empty());

    // Two primaries already protecting each other in a row and a column: a rectangle.
    const std::vector<std::vector<bool>> rectangle{{true, true, false}, {true, true, false}, {false, false, false}};
    CHECK(secondarySuppression(rectangle, values, true, true).empty());
}

TEST_CASE("Secondary suppression in a parts-and-total table", "[report][estimation]")
{
    // One row: 40, [3], 25, 10 | total 78. The hidden 3 = 78 - 75 unless one more part goes:
    // the smallest visible part, 10 at (0,3).
    const std::vector<std::vector<bool>> row{{false, true, false, false}};
    const std::vector<std::vector<double>> rowValues{{40, 3, 25, 10}};
    CHECK(secondarySuppression(row, rowValues, true, false) == std::vector<std::pair<size_t, size_t>>{{0, 3}});

    // The same as one column with its total.
    const std::vector<std::vector<bool>> column{{false}, {true}, {false}, {false}};
    const std::vector<std::vector<double>> columnValues{{40}, {3}, {25}, {10}};
    CHECK(secondarySuppression(column, columnValues, false, true) == std::vector<std::pair<size_t, size_t>>{{3, 0}});

    // Failure paths: an empty table, values missing for some cells (they become the last
    // choice), a single-cell line (nothing left to hide: nothing added, no crash).
    CHECK(secondarySuppression({}, {}, true, true).empty());
    const auto ragged = secondarySuppression(row, {{40, 3}}, true, false);
    CHECK(ragged == std::vector<std::pair<size_t, size_t>>{{0, 0}});
    CHECK(secondarySuppression({{true}}, {{1}}, true, true).empty());
}
