// The baseline's running sums: merging, scopes, incremental building, non-response and the
// weighted estimate of one indicator, on hand-made observations and on generated visits.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/report/baseline_rollup.h"
#include "core/synth/visit_generator.h"
#include "core/template/template_loader.h"
#include "tests/core/report/report_test_templates.h"

using namespace ck::report;

namespace {

using ck::test::kDay;
using ck::test::kFlagship;
using ck::test::loadFile;

// One indicator of every kind; the rollup never evaluates them, it only needs their kinds.
const char* kKinds = R"json({
  "id": "kinds", "version": "1", "languages": ["en"], "title": "Kinds",
  "sections": [{"id": "s", "label": "Main", "questions": [
    {"id": "a", "type": "decimal", "label": "A"}, {"id": "b", "type": "decimal", "label": "B"}
  ]}],
  "indicators": [
    {"id": "share", "label": "Share", "kind": "share", "numerator": "${a} > 0"},
    {"id": "mean", "label": "Mean", "kind": "mean", "numerator": "${a}"},
    {"id": "median", "label": "Median", "kind": "median", "numerator": "${a}"},
    {"id": "total", "label": "Total", "kind": "total", "numerator": "${a}", "unit": "INR"},
    {"id": "ratio", "label": "Ratio", "kind": "ratio", "numerator": "${a}", "denominator": "${b}"}
  ]
})json";

std::shared_ptr<const ck::Template> kindsTemplate() {
    auto r = ck::loadTemplateJson(kKinds, "kinds.json");
    if (!r.ok()) FAIL(r.errors.front().toString());
    return r.survey;
}

// A visit of the kinds template: a = y for every indicator, b = x for the ratio.
VisitObservations visit(std::string stratum, double a, double b = 1, bool responded = true, std::string officer = "o1",
                        int64_t day = 20000) {
    VisitObservations v;
    v.stratum = std::move(stratum);
    v.responded = responded;
    v.officer = std::move(officer);
    v.visitDay = day;
    v.values = {{true, 1, a > 0 ? 1.0 : 0.0}, {true, 1, a}, {true, 1, a}, {true, 1, a}, {true, b, a}};
    return v;
}

struct Visit {
    std::string cluster;
    VisitObservations obs;
};

// Generated flagship visits to every `step`-th unit of a synthetic register (so that the
// register has more units than were visited and weights are not all 1).
struct Fieldwork {
    std::shared_ptr<const ck::Template> t;
    std::vector<ck::UnitProfile> units;
    std::vector<Visit> visits;
};

const Fieldwork& fieldwork() {
    static const Fieldwork f = [] {
        Fieldwork w;
        w.t = loadFile(kFlagship);
        w.units = ck::syntheticRegister(3, 2, 30, 99);
        ck::VisitGenerator gen(w.t, 99);
        IndicatorEvaluator ev(*w.t);
        for (size_t i = 0; i < w.units.size(); i += 2) {
            const auto& u = w.units[i];
            ck::Date day{kDay.days - int32_t(i % 5)};
            w.visits.push_back({u.cluster, ev.evaluate(gen.generate(u, day).toRecord())});
        }
        return w;
    }();
    return f;
}

std::vector<ck::RegisterUnit> registerOf(const std::vector<ck::UnitProfile>& units) {
    std::vector<ck::RegisterUnit> out;
    for (const auto& u : units) out.push_back({u.unitId, u.name, u.cluster, u.district, u.state, u.stratum, u.sector});
    return out;
}

bool close(double a, double b) { return a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)); }

// Equal sums: everything counted must match exactly; the means and co-moments of floating
// point sums added in another order can differ in their last bits, so they match to 1e-9.
void requireSameSums(const BaselineRollup& a, const BaselineRollup& b) {
    REQUIRE(a.visits() == b.visits());
    REQUIRE(a.fieldwork() == b.fieldwork());
    REQUIRE(a.strata().size() == b.strata().size());
    for (auto ia = a.strata().begin(), ib = b.strata().begin(); ia != a.strata().end(); ++ia, ++ib) {
        INFO(ia->first.cluster << " / " << ia->first.stratum);
        REQUIRE(ia->first == ib->first);
        const StratumAccumulator& x = ia->second;
        const StratumAccumulator& y = ib->second;
        REQUIRE(x.visits == y.visits);
        REQUIRE(x.responded == y.responded);
        REQUIRE(x.medianValues == y.medianValues);  // kept sorted: exact in any order
        REQUIRE(x.indicators.size() == y.indicators.size());
        for (size_t i = 0; i < x.indicators.size(); ++i) {
            INFO("indicator " << i);
            const Moments& p = x.indicators[i];
            const Moments& q = y.indicators[i];
            REQUIRE(p.m == q.m);
            REQUIRE(p.top == q.top);
            REQUIRE(close(p.meanX, q.meanX));
            REQUIRE(close(p.meanY, q.meanY));
            REQUIRE(close(p.m2x, q.m2x));
            REQUIRE(close(p.m2y, q.m2y));
            REQUIRE(close(p.cxy, q.cxy));
        }
    }
}

}  // namespace

TEST_CASE("rollup: adds visits to their stratum, non-response counts only in visits", "[core][report]") {
    auto t = kindsTemplate();
    BaselineRollup r(*t);
    r.add("c1", visit("micro", 4));
    r.add("c1", visit("micro", 0, 1, true, "o2", 20001));
    r.add("c1", visit("micro", 99, 1, false, "o2", 20001));  // refused: a visit, not a sample unit
    r.add("c1", visit("", 7));                               // no stratum
    r.add("c2", visit("micro", 5, 2, false));

    CHECK(r.visits() == 5);
    REQUIRE(r.strata().size() == 3);
    const auto& micro = r.strata().at({"c1", "micro"});
    CHECK(micro.visits == 3);
    CHECK(micro.responded == 2);
    REQUIRE(micro.indicators.size() == 5);
    CHECK(micro.indicators[1].m == 2);
    CHECK(micro.indicators[1].sumY() == 4);  // 4 + 0; the refusal's 99 is nowhere
    CHECK(micro.indicators[0].sumY() == 1);
    CHECK(micro.indicators[3].top[0] == 4);
    REQUIRE(micro.medianValues.size() == 5);
    CHECK(micro.medianValues[2] == std::vector<double>{0, 4});
    CHECK(micro.medianValues[1].empty());  // only median kinds keep values
    CHECK(r.strata().at({"c1", ""}).responded == 1);
    const auto& c2 = r.strata().at({"c2", "micro"});
    CHECK(c2.visits == 1);
    CHECK(c2.responded == 0);
    CHECK(c2.indicators[4].m == 0);

    // Fieldwork counts every visit, responded or not.
    const auto& work = r.fieldwork().at("c1");
    CHECK(work.visitsByOfficer == std::map<std::string, uint64_t>{{"o1", 2}, {"o2", 2}});
    CHECK(work.visitsByDay == std::map<int64_t, uint64_t>{{20000, 2}, {20001, 2}});

    // An observation outside its domain adds to n_h (responded) but not to the moments.
    VisitObservations out = visit("micro", 3);
    out.values[1] = {};
    r.add("c1", out);
    CHECK(r.strata().at({"c1", "micro"}).responded == 3);
    CHECK(r.strata().at({"c1", "micro"}).indicators[1].m == 2);
    CHECK(r.strata().at({"c1", "micro"}).indicators[0].m == 3);
}

TEST_CASE("rollup: two halves merged equal all visits added one by one", "[core][report]") {
    const Fieldwork& f = fieldwork();
    REQUIRE(f.visits.size() == 90);
    BaselineRollup all(*f.t), first(*f.t), second(*f.t);
    for (size_t i = 0; i < f.visits.size(); ++i) {
        all.add(f.visits[i].cluster, f.visits[i].obs);
        (i % 3 == 0 ? first : second).add(f.visits[i].cluster, f.visits[i].obs);
    }
    BaselineRollup ab = first;
    ab.merge(second);
    BaselineRollup ba = second;
    ba.merge(first);
    requireSameSums(ab, all);
    requireSameSums(ba, all);
    requireSameSums(ab, ba);
    CHECK(all.visits() == 90);
    CHECK(first.visits() + second.visits() == 90);

    // Associativity across three parts, and merging into an empty rollup copies exactly.
    BaselineRollup p1(*f.t), p2(*f.t), p3(*f.t);
    for (size_t i = 0; i < f.visits.size(); ++i) (i % 3 == 0 ? p1 : i % 3 == 1 ? p2 : p3).add(f.visits[i].cluster, f.visits[i].obs);
    BaselineRollup left = p1;
    left.merge(p2);
    left.merge(p3);
    BaselineRollup right23 = p2;
    right23.merge(p3);
    BaselineRollup right = p1;
    right.merge(right23);
    requireSameSums(left, right);
    requireSameSums(left, all);
    BaselineRollup copy(*f.t);
    copy.merge(all);
    CHECK(copy == all);
    BaselineRollup empty(*f.t);
    copy.merge(empty);
    CHECK(copy == all);

    // Counts are exactly additive, so the same estimate comes out either way.
    Geography geo = Geography::fromRegister(registerOf(f.units));
    for (size_t i = 0; i < f.t->indicators.size(); ++i) {
        Estimate e1 = estimateIndicator(ab, geo, {}, i), e2 = estimateIndicator(all, geo, {}, i);
        INFO(f.t->indicators[i].id);
        CHECK(e1.observations == e2.observations);
        CHECK(e1.suppression == e2.suppression);
        if (!std::isnan(e2.value)) CHECK(close(e1.value, e2.value));
    }
}

TEST_CASE("rollup: incremental adds in any order equal a rebuild", "[core][report]") {
    const Fieldwork& f = fieldwork();
    BaselineRollup rebuild(*f.t);
    for (const auto& v : f.visits) rebuild.add(v.cluster, v.obs);
    BaselineRollup again(*f.t);
    for (const auto& v : f.visits) again.add(v.cluster, v.obs);
    CHECK(again == rebuild);  // the same order: the very same sums

    std::mt19937 rng(7);
    for (int round = 0; round < 3; ++round) {
        std::vector<size_t> order(f.visits.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::shuffle(order.begin(), order.end(), rng);
        BaselineRollup incremental(*f.t);
        for (size_t i : order) incremental.add(f.visits[i].cluster, f.visits[i].obs);
        requireSameSums(incremental, rebuild);
    }
}

TEST_CASE("geography: scopes pick the right clusters", "[core][report]") {
    const Fieldwork& f = fieldwork();
    Geography geo = Geography::fromRegister(registerOf(f.units));
    CHECK(geo.hasRegister());
    REQUIRE(geo.clusters.size() == 6);
    uint64_t unitsCounted = 0;
    for (const auto& [key, n] : geo.registerUnits) unitsCounted += n;
    CHECK(unitsCounted == f.units.size());

    const ck::UnitProfile& u0 = f.units.front();
    std::set<std::string> inDistrict, inState, inSector, all;
    for (const auto& u : f.units) {
        all.insert(u.cluster);
        if (inScope(geo, u.cluster, {ScopeLevel::District, u0.district})) inDistrict.insert(u.cluster);
        if (inScope(geo, u.cluster, {ScopeLevel::State, u0.state})) inState.insert(u.cluster);
        if (inScope(geo, u.cluster, {ScopeLevel::Sector, u0.sector})) inSector.insert(u.cluster);
        CHECK(inScope(geo, u.cluster, {ScopeLevel::Nation, ""}));
        CHECK(inScope(geo, u.cluster, {ScopeLevel::Cluster, u.cluster}));
        CHECK(inScope(geo, u.cluster, {ScopeLevel::District, u.district}));
        CHECK(inScope(geo, u.cluster, {ScopeLevel::State, u.state}));
        CHECK(inScope(geo, u.cluster, {ScopeLevel::Sector, u.sector}));
        CHECK_FALSE(inScope(geo, u.cluster, {ScopeLevel::State, "Atlantis"}));
        if (u.cluster != u0.cluster) CHECK_FALSE(inScope(geo, u.cluster, {ScopeLevel::Cluster, u0.cluster}));
        if (u.state != u0.state) CHECK_FALSE(inScope(geo, u.cluster, {ScopeLevel::State, u0.state}));
        if (u.district != u0.district) CHECK_FALSE(inScope(geo, u.cluster, {ScopeLevel::District, u0.district}));
        if (u.sector != u0.sector) CHECK_FALSE(inScope(geo, u.cluster, {ScopeLevel::Sector, u0.sector}));
    }
    CHECK(all.size() == 6);
    CHECK(inState.size() == 2);  // two clusters per state
    CHECK(inDistrict.count(u0.cluster) == 1);
    CHECK(inSector.count(u0.cluster) == 1);
    CHECK(inSector.size() < all.size());

    // A cluster the register does not know lies only in the nation and in itself.
    CHECK(inScope(geo, "ghost", {ScopeLevel::Nation, ""}));
    CHECK(inScope(geo, "ghost", {ScopeLevel::Cluster, "ghost"}));
    CHECK_FALSE(inScope(geo, "ghost", {ScopeLevel::State, u0.state}));
    CHECK_FALSE(inScope(geo, "ghost", {ScopeLevel::District, ""}));
    CHECK_FALSE(inScope(Geography{}, u0.cluster, {ScopeLevel::Sector, u0.sector}));

    CHECK(std::string(scopeLevelName(ScopeLevel::Cluster)) == "cluster");
    CHECK(std::string(scopeLevelName(ScopeLevel::District)) == "district");
    CHECK(std::string(scopeLevelName(ScopeLevel::State)) == "state");
    CHECK(std::string(scopeLevelName(ScopeLevel::Sector)) == "sector");
    CHECK(std::string(scopeLevelName(ScopeLevel::Nation)) == "nation");

    // A state's estimate is the estimate of a rollup holding only that state's visits.
    BaselineRollup everything(*f.t), stateOnly(*f.t);
    for (const auto& v : f.visits) {
        everything.add(v.cluster, v.obs);
        if (inState.count(v.cluster)) stateOnly.add(v.cluster, v.obs);
    }
    ReportScope state{ScopeLevel::State, u0.state};
    bool someDiffer = false;
    for (size_t i = 0; i < f.t->indicators.size(); ++i) {
        INFO(f.t->indicators[i].id);
        Estimate scoped = estimateIndicator(everything, geo, state, i);
        Estimate alone = estimateIndicator(stateOnly, geo, {}, i);
        CHECK(scoped.observations == alone.observations);
        if (!std::isnan(alone.value)) CHECK(scoped.value == alone.value);
        Estimate nation = estimateIndicator(everything, geo, {}, i);
        someDiffer = someDiffer || nation.observations != scoped.observations;
    }
    CHECK(someDiffer);
}

TEST_CASE("estimateIndicator: weights from the register, or 1 without one", "[core][report]") {
    auto t = kindsTemplate();
    BaselineRollup r(*t);
    // Stratum c1/micro: 4 visits of a register of 40; c1/small: 2 visits of 4.
    for (double a : {10.0, 20.0, 30.0, 0.0}) r.add("c1", visit("micro", a, 2));
    for (double a : {100.0, 300.0}) r.add("c1", visit("small", a, 4));
    r.add("c1", visit("small", 1000, 4, false));  // did not respond: in no estimate

    std::vector<ck::RegisterUnit> reg;
    for (int i = 0; i < 40; ++i) reg.push_back({"m" + std::to_string(i), "M", "c1", "D", "S", "micro", "knitwear"});
    for (int i = 0; i < 4; ++i) reg.push_back({"s" + std::to_string(i), "S", "c1", "D", "S", "small", "knitwear"});
    Geography geo = Geography::fromRegister(reg);
    REQUIRE(geo.registerUnits.at({"c1", "micro"}) == 40);

    // Without a register every unit weighs 1: the plain sample figures.
    Geography none;
    Estimate mean = estimateIndicator(r, none, {}, 1);
    CHECK_FALSE(mean.weighted);
    CHECK(mean.observations == 6);
    CHECK(mean.value == Approx(460.0 / 6));
    Estimate share = estimateIndicator(r, none, {}, 0);
    CHECK(share.value == Approx(5.0 / 6));
    Estimate total = estimateIndicator(r, none, {}, 3);
    CHECK(total.value == Approx(460));
    Estimate ratio = estimateIndicator(r, none, {}, 4);
    CHECK(ratio.value == Approx(460.0 / (4 * 2 + 2 * 4)));
    Estimate median = estimateIndicator(r, none, {}, 2);
    CHECK(median.value == 20);  // 0 10 20 30 100 300: the smallest reaching half the weight

    // With the register: micro units weigh 10, small ones 2.
    Estimate wmean = estimateIndicator(r, geo, {}, 1);
    CHECK(wmean.weighted);
    CHECK(wmean.value == Approx((10 * 60.0 + 2 * 400.0) / (10 * 4 + 2 * 2)));
    Estimate wtotal = estimateIndicator(r, geo, {}, 3);
    CHECK(wtotal.value == Approx(10 * 60.0 + 2 * 400.0));
    Estimate wratio = estimateIndicator(r, geo, {}, 4);
    CHECK(wratio.value == Approx((10 * 60.0 + 2 * 400.0) / (10 * 8.0 + 2 * 8.0)));
    Estimate wmedian = estimateIndicator(r, geo, {}, 2);
    CHECK(wmedian.value == 20);  // weights 10,10,10,10,2,2 over 0,10,20,30,100,300

    // Units in a stratum the register does not list (here "medium"; likewise no size class)
    // are a stratum of their own taken whole (weight 1, no variance), and the cluster's
    // register strata give up those n_U = 2 units in proportion to their size, so c1 still
    // weighs up to its N_c = 44 register units rather than 46:
    //   micro N' = 40 (1 - 2/44) = 38.1818, w = 9.545455; small N' = 4 (42/44) = 3.8182, w = 1.909091
    //   total = 9.545455*60 + 1.909091*400 + 120 = 572.7273 + 763.6364 + 120 = 1456.3636.
    BaselineRollup extra = r;
    for (double a : {50.0, 70.0}) extra.add("c1", visit("medium", a));
    Estimate withExtra = estimateIndicator(extra, geo, {}, 3);
    CHECK(withExtra.value == Approx(40.0 * 42 / 44 / 4 * 60 + 4.0 * 42 / 44 / 2 * 400 + 120.0));
    CHECK(estimateIndicator(extra, geo, {}, 0).weightedUnits == Approx(44));  // a share: sum of w x
    const std::map<StratumKey, double> pops = stratumPopulations(extra, geo);
    CHECK(pops.at({"c1", "medium"}) == 2);
    CHECK(pops.at({"c1", "micro"}) == Approx(40.0 * 42 / 44));
    // Without such units the register counts stay exact integers.
    CHECK(stratumPopulations(r, geo).at({"c1", "micro"}) == 40);
    // A cluster the register does not list: no register for it (0), weight 1 with variance.
    BaselineRollup stray = r;
    stray.add("c7", visit("micro", 1));
    CHECK(stratumPopulations(stray, geo).at({"c7", "micro"}) == 0);
    // Without any register, every stratum is 0.
    CHECK(stratumPopulations(r, Geography{}).at({"c1", "small"}) == 0);
    std::vector<ck::RegisterUnit> small = reg;
    small.resize(41);  // 40 micro and a single small unit, but two small ones were visited
    Estimate capped = estimateIndicator(r, Geography::fromRegister(small), {}, 3);
    CHECK(capped.value == Approx(10 * 60.0 + 400.0));

    // Scope: another cluster's visits stay out of c1's figure.
    BaselineRollup two = r;
    two.add("c9", visit("micro", 5000));
    CHECK(estimateIndicator(two, geo, {ScopeLevel::Cluster, "c1"}, 3).value == Approx(wtotal.value));
    CHECK(estimateIndicator(two, geo, {ScopeLevel::District, "D"}, 3).value == Approx(wtotal.value));
    CHECK(estimateIndicator(two, geo, {ScopeLevel::Nation, ""}, 3).value > wtotal.value);
    // No visits in scope, or no such indicator: nothing to show, no crash.
    Estimate nothing = estimateIndicator(r, geo, {ScopeLevel::State, "Atlantis"}, 1);
    CHECK(nothing.observations == 0);
    CHECK_FALSE(nothing.shown());
    Estimate bad = estimateIndicator(r, geo, {}, 99);
    CHECK(std::isnan(bad.value));
    CHECK_FALSE(bad.shown());
}

TEST_CASE("estimateIndicator: flagship visits with and without the register", "[core][report]") {
    const Fieldwork& f = fieldwork();
    BaselineRollup r(*f.t);
    for (const auto& v : f.visits) r.add(v.cluster, v.obs);
    Geography geo = Geography::fromRegister(registerOf(f.units));
    size_t women = 0;
    for (size_t i = 0; i < f.t->indicators.size(); ++i)
        if (f.t->indicators[i].id == "women_share_jobs") women = i;
    REQUIRE(f.t->indicators[women].kind == ck::IndicatorKind::Ratio);

    // By hand: sum y / sum x over in-domain responding visits (weights 1) ...
    double sy = 0, sx = 0;
    uint64_t m = 0;
    for (const auto& v : f.visits) {
        if (!v.obs.responded || !v.obs.values[women].inDomain) continue;
        sy += v.obs.values[women].y;
        sx += v.obs.values[women].x;
        ++m;
    }
    REQUIRE(m > 20);
    Estimate plain = estimateIndicator(r, Geography{}, {}, women);
    CHECK_FALSE(plain.weighted);
    CHECK(plain.observations == m);
    CHECK(plain.value == Approx(sy / sx));
    CHECK(plain.value > 0.05);
    CHECK(plain.value < 0.95);

    // ... and weighted by N_h / n_h, half the units having been visited. Responding units with
    // no size class (or one the register lacks) weigh 1 and take their number n_U off their
    // cluster's register strata in proportion: N_h' = N_h (1 - n_U / N_c).
    std::map<StratumKey, uint64_t> responded;
    std::map<std::string, double> clusterUnits, unclassified;
    for (const auto& [key, acc] : r.strata()) {
        responded[key] = acc.responded;
        if (!geo.registerUnits.count(key)) unclassified[key.cluster] += double(acc.responded);
    }
    for (const auto& [key, n] : geo.registerUnits) clusterUnits[key.cluster] += double(n);
    double wy = 0, wx = 0;
    for (const auto& v : f.visits) {
        if (!v.obs.responded || !v.obs.values[women].inDomain) continue;
        StratumKey key{v.cluster, v.obs.stratum};
        auto it = geo.registerUnits.find(key);
        double N = it == geo.registerUnits.end() ? 0 : double(it->second) * (1 - unclassified[key.cluster] / clusterUnits[key.cluster]);
        double w = it == geo.registerUnits.end() ? 1.0 : std::max(N, double(responded[key])) / double(responded[key]);
        wy += w * v.obs.values[women].y;
        wx += w * v.obs.values[women].x;
    }
    Estimate weighted = estimateIndicator(r, geo, {}, women);
    CHECK(weighted.weighted);
    CHECK(weighted.observations == m);
    CHECK(weighted.value == Approx(wy / wx));
    CHECK(std::isfinite(weighted.se));
}
