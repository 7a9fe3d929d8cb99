// The baseline report as data: the outline's sections in order, figures equal to the
// estimators', the ranking, the comparison columns, what a report without a register says,
// a scope that names nothing, and the inputs hash. Real flagship template, synthetic register
// and visits from ck::VisitGenerator, evaluated with IndicatorEvaluator.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "core/report/baseline_report.h"
#include "core/report/indicator_evaluator.h"
#include "core/synth/visit_generator.h"
#include "core/template/template_loader.h"

using namespace ck::report;

namespace {

const std::string kFlagship = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";

struct Fixture {
    std::shared_ptr<const ck::Template> survey;
    std::vector<ck::UnitProfile> units;
    std::vector<ck::RegisterUnit> registerRows;
    std::unique_ptr<BaselineRollup> rollup;
    Geography geo;
    std::string cluster;  // the first cluster of the register (a well-known one)
};

// Built once: 2 states x 3 clusters x 36 units, every unit visited once over three weeks.
const Fixture& fixture() {
    static const Fixture f = [] {
        Fixture f;
        auto loaded = ck::loadTemplateJsonFile(kFlagship);
        if (!loaded.ok()) throw std::runtime_error(loaded.errors.front().toString());
        f.survey = loaded.survey;
        f.units = ck::syntheticRegister(2, 3, 36, 20261123);
        for (const auto& u : f.units)
            f.registerRows.push_back({u.unitId, u.name, u.cluster, u.district, u.state, u.stratum, u.sector});
        f.geo = Geography::fromRegister(f.registerRows);
        f.rollup = std::make_unique<BaselineRollup>(*f.survey);
        ck::VisitGenerator gen(f.survey, 7);
        IndicatorEvaluator eval(*f.survey);
        const ck::Date day0 = *ck::parseIsoDate("2026-10-05");
        int k = 0;
        for (const auto& u : f.units) {
            ck::Record rec = gen.generate(u, ck::Date{day0.days + (k++ % 18)}).toRecord();
            f.rollup->add(u.cluster, eval.evaluate(rec));
        }
        f.cluster = f.units.front().cluster;
        return f;
    }();
    return f;
}

ReportRequest requestFor(ScopeLevel level, std::string name) {
    ReportRequest r;
    r.scope = {level, std::move(name)};
    r.builtAt = 1795000000;
    r.inputsHash = std::string(64, 'a');
    return r;
}

const Section& section(const BaselineReport& r, const std::string& id) {
    for (const Section& s : r.sections)
        if (s.id == id) return s;
    FAIL("no section " << id);
    throw std::logic_error("unreachable");
}

const Table& table(const BaselineReport& r, const std::string& id) {
    for (const Section& s : r.sections)
        for (const Table& t : s.tables)
            if (t.id == id) return t;
    FAIL("no table " << id);
    throw std::logic_error("unreachable");
}

const Row& row(const Table& t, const std::string& key) {
    for (const Row& r : t.rows)
        if (r.key == key) return r;
    FAIL("no row " << key << " in " << t.id);
    throw std::logic_error("unreachable");
}

size_t indicatorIndex(const ck::Template& t, const std::string& id) {
    for (size_t i = 0; i < t.indicators.size(); ++i)
        if (t.indicators[i].id == id) return i;
    FAIL("no indicator " << id);
    return 0;
}

std::string allText(const BaselineReport& r) {
    std::string out = r.title + "\n";
    for (const auto& n : r.methodNotes) out += n + "\n";
    for (const Section& s : r.sections)
        for (const auto& h : s.highlights) out += h + "\n";
    return out;
}

}  // namespace

TEST_CASE("the report follows the outline: seven sections in order, none empty", "[report]") {
    const Fixture& f = fixture();
    BaselineReport r = buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::Cluster, f.cluster));
    std::vector<std::string> ids;
    for (const Section& s : r.sections) ids.push_back(s.id);
    CHECK(ids == std::vector<std::string>{"glance", "outcomes", "value_chain", "constraints", "convergence", "comparison",
                                          "data_quality"});
    REQUIRE(r.sections.size() == 7);
    CHECK(r.sections[0].title == "1. The cluster at a glance");
    CHECK(r.sections[6].title == "7. Data quality");
    std::set<std::string> tableIds;
    for (const Section& s : r.sections) {
        INFO(s.id);
        CHECK(!s.highlights.empty());
        CHECK(!s.tables.empty());
        for (const Table& t : s.tables) {
            CHECK(tableIds.insert(t.id).second);  // unique: names a sheet and a CSV file
            CHECK(t.id.size() <= 31);
            for (const Row& row : t.rows) CHECK(row.cells.size() == t.columns.size());
        }
    }
    CHECK(r.weighted);
    CHECK(r.visits == 36);
    CHECK(r.templateId == "cluster-diagnostic");
    CHECK(r.inputsHash == std::string(64, 'a'));
    // The title names the cluster as people know it; the scope label gives its code.
    CHECK(r.title.find(": cluster baseline") != std::string::npos);
    CHECK(r.title.find(f.cluster) == std::string::npos);
    CHECK(r.scopeLabel.find(f.cluster) != std::string::npos);
    // The glance says how many of the visited units answered, with the rate.
    const std::string& first = r.sections[0].highlights.front();
    CHECK(first.find(" of 36 units visited answered (") != std::string::npos);
    // A state scope names the state in its titles, not "cluster".
    BaselineReport st = buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::State, f.units.front().state));
    CHECK(st.sections[0].title == "1. The state at a glance");
    CHECK(st.visits == 108);
}

TEST_CASE("an indicator's cell equals estimateIndicator for the scope, in display units", "[report]") {
    const Fixture& f = fixture();
    ReportScope scope{ScopeLevel::State, f.units.front().state};
    BaselineReport r = buildBaselineReport(*f.rollup, f.geo, requestFor(scope.level, scope.name));
    const Table& outcomes = table(r, "outcomes");
    // A share and a "%" ratio are scaled to percent; a money ratio is not.
    for (auto [id, scale] : {std::pair{"exporter_share", 100.0}, std::pair{"women_share_jobs", 100.0}, std::pair{"gva_per_worker", 1.0}}) {
        INFO(id);
        Estimate e = estimateIndicator(*f.rollup, f.geo, scope, indicatorIndex(*f.survey, id));
        const Cell& c = row(outcomes, id).cells.at(0);
        REQUIRE(c.kind == Cell::Kind::Estimate);
        CHECK(c.estimate.value == Approx(e.value * scale));
        CHECK(c.estimate.low == Approx(e.low * scale));
        CHECK(c.estimate.high == Approx(e.high * scale));
        CHECK(c.estimate.se == Approx(e.se * scale));
        if (std::isfinite(e.cv)) CHECK(c.estimate.cv == Approx(e.cv));
        CHECK(c.suppression == e.suppression);
        CHECK(c.unit == (scale == 100.0 ? "%" : "INR per worker"));
    }
}

TEST_CASE("obstacles are ranked by the share rating them major, suppressed ones last", "[report]") {
    const Fixture& f = fixture();
    for (ReportScope scope : {ReportScope{ScopeLevel::Cluster, f.cluster}, ReportScope{ScopeLevel::Nation, ""}}) {
        BaselineReport r = buildBaselineReport(*f.rollup, f.geo, requestFor(scope.level, scope.name));
        const Table& obs = table(r, "constraints_obstacles");
        CHECK(obs.chart.kind == ChartSpec::Kind::BarsWithIntervals);
        REQUIRE(obs.rows.size() >= 10);
        size_t shown = 0;
        bool seenHidden = false;
        for (size_t i = 0; i < obs.rows.size(); ++i) {
            CHECK(obs.rows[i].key.rfind("obs_", 0) == 0);
            const Cell& c = obs.rows[i].cells.at(0);
            if (!c.shown()) {
                seenHidden = true;
                continue;
            }
            CHECK_FALSE(seenHidden);  // no shown cell after a hidden one
            ++shown;
            if (i > 0) CHECK(obs.rows[i - 1].cells[0].estimate.value >= c.estimate.value);
        }
        CHECK(shown >= 2);  // the ranking has something to rank
        // The other constraint indicators sit in their own table, none of them an obstacle.
        for (const Row& row : table(r, "constraints_other").rows) CHECK(row.key.rfind("obs_", 0) != 0);
    }
}

TEST_CASE("the comparison has the state, the sector nationally and peers", "[report]") {
    const Fixture& f = fixture();
    const ck::UnitProfile& u = f.units.front();
    BaselineReport r = buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::Cluster, f.cluster));
    const Table& cmp = table(r, "comparison_key");
    REQUIRE(cmp.columns.size() >= 3);
    CHECK(cmp.columns[1] == "State: " + u.state);
    CHECK(cmp.columns[2].find(u.sector) != std::string::npos);
    const Row& exp = row(cmp, "exporter_share");
    size_t idx = indicatorIndex(*f.survey, "exporter_share");
    Estimate state = estimateIndicator(*f.rollup, f.geo, {ScopeLevel::State, u.state}, idx);
    Estimate sector = estimateIndicator(*f.rollup, f.geo, {ScopeLevel::Sector, u.sector}, idx);
    CHECK(exp.cells[1].estimate.value == Approx(state.value * 100));
    CHECK(exp.cells[2].estimate.value == Approx(sector.value * 100));
    CHECK(row(cmp, "gva_per_worker").cells.size() == cmp.columns.size());

    // No more peers than asked for.
    ReportRequest req = requestFor(ScopeLevel::Cluster, f.cluster);
    req.peerClusters = 0;
    CHECK(table(buildBaselineReport(*f.rollup, f.geo, req), "comparison_key").columns.size() == 3);

    // A state compares with the nation and lists its clusters.
    BaselineReport st = buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::State, u.state));
    CHECK(table(st, "comparison_key").columns.back() == "India (all clusters)");
    CHECK(table(st, "comparison_clusters").rows.size() == 3);
}

TEST_CASE("money totals by cluster leave no hidden cell recoverable from the total", "[report]") {
    const Fixture& f = fixture();
    for (ReportScope scope : {ReportScope{ScopeLevel::Nation, ""}, ReportScope{ScopeLevel::Cluster, f.cluster}}) {
        BaselineReport r = buildBaselineReport(*f.rollup, f.geo, requestFor(scope.level, scope.name));
        const Table& money = table(r, "comparison_money");
        REQUIRE(!money.rows.empty());
        CHECK(money.rows.back().isTotal);
        for (size_t c = 0; c < money.columns.size(); ++c) {
            size_t hidden = 0;
            for (size_t k = 0; k + 1 < money.rows.size(); ++k) hidden += money.rows[k].cells[c].shown() ? 0 : 1;
            INFO(money.columns[c]);
            CHECK(hidden != 1);
        }
        if (scope.level == ScopeLevel::Nation) {
            CHECK(money.rows.size() == 7);  // six clusters and the total
            // The parts add up to the total (they are totals of disjoint strata).
            double sum = 0;
            bool finite = true;
            for (size_t k = 0; k + 1 < money.rows.size(); ++k) {
                sum += money.rows[k].cells[0].number;
                finite = finite && std::isfinite(money.rows[k].cells[0].number);
            }
            if (finite) CHECK(sum == Approx(money.rows.back().cells[0].number).epsilon(1e-9));
        }
    }
}

TEST_CASE("without a register the report says its figures describe the sample only", "[report]") {
    const Fixture& f = fixture();
    Geography none;  // no register at all
    BaselineReport r = buildBaselineReport(*f.rollup, none, requestFor(ScopeLevel::Cluster, f.cluster));
    CHECK_FALSE(r.weighted);
    CHECK(r.visits == 36);
    std::string text = allText(r);
    CHECK(text.find("sample only") != std::string::npos);
    bool dq = false;
    for (const auto& h : section(r, "data_quality").highlights) dq = dq || h.find("not weighted") != std::string::npos;
    CHECK(dq);
    // With the register the same cluster is weighted and does not say so.
    BaselineReport w = buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::Cluster, f.cluster));
    CHECK(w.weighted);
    CHECK(allText(w).find("sample only") == std::string::npos);
}

TEST_CASE("a scope naming nothing is refused with the names that exist", "[report]") {
    const Fixture& f = fixture();
    try {
        buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::Cluster, "atlantis_pottery"));
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        std::string msg = e.what();
        CHECK(msg.find("no cluster 'atlantis_pottery'") != std::string::npos);
        CHECK(msg.find(f.cluster) != std::string::npos);
    }
    try {
        buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::State, "Atlantis"));
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        std::string msg = e.what();
        CHECK(msg.find("no state 'Atlantis'") != std::string::npos);
        CHECK(msg.find(f.units.front().state) != std::string::npos);
    }
    // Without a register a district cannot be known at all; the message says what to do.
    CHECK_THROWS_WITH(buildBaselineReport(*f.rollup, Geography{}, requestFor(ScopeLevel::District, "Tiruppur")),
                      Catch::Contains("cluster register"));
}

TEST_CASE("labels follow the requested language, falling back to the default", "[report]") {
    const Fixture& f = fixture();
    size_t idx = indicatorIndex(*f.survey, "exporter_share");
    ReportRequest req = requestFor(ScopeLevel::Cluster, f.cluster);
    req.language = "hi";
    CHECK(row(table(buildBaselineReport(*f.rollup, f.geo, req), "outcomes"), "exporter_share").label ==
          f.survey->indicators[idx].label.in(1));
    req.language = "xx";
    CHECK(row(table(buildBaselineReport(*f.rollup, f.geo, req), "outcomes"), "exporter_share").label == "Exporter share");
}

// Tamil and Gujarati are data (the template's texts and its layout phrases, FORMAT.md): every
// word the report prints around its figures comes out in that script, none falls back to English.
TEST_CASE("the flagship's report reads in Tamil and Gujarati: headings, sentences, notes and page words", "[report]") {
    const Fixture& f = fixture();
    const BaselineReport english = buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::Cluster, f.cluster));
    // True when the UTF-8 text has a code point in [first, last] (the script's Unicode block).
    auto inScript = [](const std::string& s, char32_t first, char32_t last) {
        for (size_t i = 0; i < s.size();) {
            unsigned char c = static_cast<unsigned char>(s[i]);
            size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
            char32_t cp = n == 1 ? c : c & (0x7F >> n);
            for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
            if (cp >= first && cp <= last) return true;
            i += n;
        }
        return false;
    };
    std::set<std::string> indicatorIds;
    for (const auto& ind : f.survey->indicators) indicatorIds.insert(ind.id);
    for (const auto& [language, first, last] : {std::tuple{"ta", U'\u0B80', U'\u0BFF'}, std::tuple{"gu", U'\u0A80', U'\u0AFF'}}) {
        ReportRequest req = requestFor(ScopeLevel::Cluster, f.cluster);
        req.language = language;
        BaselineReport r = buildBaselineReport(*f.rollup, f.geo, req);
        REQUIRE(r.sections.size() == english.sections.size());
        const PageWords& w = r.words;
        std::vector<std::string> texts{r.title, w.templateLabel, w.built, w.visited, w.interviewed, w.response, w.weighted,
                                       w.sample, w.methodNotes, w.inputsHash, w.notRecorded, w.interval, w.nothing,
                                       w.figures.lakh, w.figures.crore, w.figures.to, w.figures.caution};
        texts.insert(texts.end(), r.methodNotes.begin(), r.methodNotes.end());
        size_t highlights = 0;
        for (size_t i = 0; i < r.sections.size(); ++i) {
            const Section& s = r.sections[i];
            CHECK(s.title != english.sections[i].title);
            texts.push_back(s.title);
            texts.insert(texts.end(), s.highlights.begin(), s.highlights.end());
            highlights += s.highlights.size();
            for (const Table& t : s.tables) {
                texts.push_back(t.title);
                if (!t.note.empty()) texts.push_back(t.note);
                texts.insert(texts.end(), t.columns.begin(), t.columns.end());
                for (const Row& row : t.rows)
                    if (indicatorIds.count(row.key)) texts.push_back(row.label);
            }
        }
        CHECK(highlights > 0);
        CHECK(texts.size() > 100);
        for (const std::string& text : texts) {
            INFO(language << ": " << text);
            CHECK(inScript(text, first, last));
        }
    }
}

TEST_CASE("data quality counts the report's flags and lists every suppressed cell", "[report]") {
    const Fixture& f = fixture();
    BaselineReport r = buildBaselineReport(*f.rollup, f.geo, requestFor(ScopeLevel::Cluster, f.cluster));
    size_t hidden = 0;
    for (const Section& s : r.sections)
        if (s.id != "data_quality")
            for (const Table& t : s.tables)
                for (const Row& row : t.rows)
                    for (const Cell& c : row.cells) hidden += (c.kind != Cell::Kind::Empty && !c.shown()) ? 1 : 0;
    for (const Table& t : section(r, "data_quality").tables)
        if (t.id == "dq_indicators")
            for (const Row& row : t.rows) hidden += row.cells[0].shown() ? 0 : 1;
    const Table& flags = table(r, "dq_precision");
    CHECK(row(flags, "suppressed").cells[0].number == double(hidden));
    CHECK(table(r, "dq_suppressed").rows.size() == hidden);
    CHECK(hidden > 0);  // 36 units over three size classes: some cells must go
    double officerVisits = 0;
    for (const Row& row : table(r, "dq_officers").rows) officerVisits += row.cells[0].number;
    CHECK(officerVisits == 36);
    double weekVisits = 0;
    for (const Row& row : table(r, "dq_weeks").rows) weekVisits += row.cells[0].number;
    CHECK(weekVisits == 36);
    CHECK(table(r, "dq_weeks").rows.size() >= 3);
}

TEST_CASE("the inputs hash ignores visit order and changes with any content", "[report]") {
    const Fixture& f = fixture();
    auto hash = [&](const std::vector<std::pair<std::string, std::string>>& visits, std::vector<ck::RegisterUnit> reg,
                    ReportScope scope) {
        InputsHasher h;
        h.templateText("cluster-diagnostic", "1", "{\"id\":\"cluster-diagnostic\"}");
        h.registerUnits(reg);
        h.scope(scope);
        for (const auto& [id, content] : visits) h.visit(id, content);
        return h.hexDigest();
    };
    std::vector<std::pair<std::string, std::string>> visits{{"r1", "c1"}, {"r2", "c2"}, {"r3", "c3"}};
    std::vector<ck::RegisterUnit> reg(f.registerRows.begin(), f.registerRows.begin() + 5);
    ReportScope scope{ScopeLevel::Cluster, f.cluster};
    std::string base = hash(visits, reg, scope);
    CHECK(base.size() == 64);
    CHECK(base.find_first_not_of("0123456789abcdef") == std::string::npos);

    auto shuffled = visits;
    std::reverse(shuffled.begin(), shuffled.end());
    CHECK(hash(shuffled, reg, scope) == base);

    auto changed = visits;
    changed[1].second = "c2x";
    CHECK(hash(changed, reg, scope) != base);
    // The length prefix keeps field boundaries: moving a byte from id to content is a change.
    auto moved = visits;
    moved[0] = {"r1c", "1"};
    CHECK(hash(moved, reg, scope) != base);
    auto fewer = visits;
    fewer.pop_back();
    CHECK(hash(fewer, reg, scope) != base);

    auto reg2 = reg;
    reg2[0].stratum = reg2[0].stratum == "micro" ? "small" : "micro";
    CHECK(hash(visits, reg2, scope) != base);
    CHECK(hash(visits, reg, {ScopeLevel::Nation, ""}) != base);
    InputsHasher other;
    other.templateText("cluster-diagnostic", "2", "{\"id\":\"cluster-diagnostic\"}");
    other.registerUnits(reg);
    other.scope(scope);
    for (const auto& [id, content] : visits) other.visit(id, content);
    CHECK(other.hexDigest() != base);
}


TEST_CASE("a money part hidden alone takes a second part with it", "[report]") {
    // Hand-made visits: clusters a and b have 12 responding units each, c only 2 (fewer than
    // 3 units: primary suppression for disclosure, named as such). c's gross value added could then be worked out as
    // total - a - b, so the smaller of a and b (a: 100..111 against b: 1000..1011) is hidden too.
    const Fixture& f = fixture();
    BaselineRollup rollup(*f.survey);
    size_t gva = indicatorIndex(*f.survey, "gva_total");
    auto add = [&](const std::string& cluster, double value) {
        VisitObservations v;
        v.stratum = "micro";
        v.officer = "OFF-1";
        v.visitDay = 20700;
        v.values.resize(f.survey->indicators.size());
        v.values[gva] = {true, 1, value};
        rollup.add(cluster, v);
    };
    for (int k = 0; k < 12; ++k) add("a_pottery", 100 + k);
    for (int k = 0; k < 12; ++k) add("b_pottery", 1000 + k);
    for (int k = 0; k < 2; ++k) add("c_pottery", 500 + k);
    BaselineReport r = buildBaselineReport(rollup, Geography{}, requestFor(ScopeLevel::Nation, ""));
    const Table& money = table(r, "comparison_money");
    REQUIRE(money.rows.size() == 4);
    REQUIRE(money.columns.size() >= 1);
    CHECK(row(money, "c_pottery").cells[0].suppression == Suppression::TooFewUnits);
    CHECK(row(money, "a_pottery").cells[0].suppression == Suppression::Secondary);
    CHECK(row(money, "b_pottery").cells[0].shown());
    CHECK(row(money, "total").cells[0].shown());
    CHECK(row(money, "total").cells[0].number == Approx(12 * 105.5 + 12 * 1005.5 + 1001));
    // The data-quality section lists the secondary cell with its reason.
    bool listed = false;
    for (const Row& row : table(r, "dq_suppressed").rows)
        listed = listed || (row.label == money.rows[0].label && row.cells[2].text == suppressionName(Suppression::Secondary));
    CHECK(listed);
    CHECK_FALSE(r.weighted);
}

TEST_CASE("peers are clusters of the same sector, most visits first", "[report]") {
    const Fixture& f = fixture();
    BaselineRollup rollup(*f.survey);
    size_t exp = indicatorIndex(*f.survey, "exporter_share");
    auto add = [&](const std::string& cluster, int n) {
        for (int k = 0; k < n; ++k) {
            VisitObservations v;
            v.stratum = "micro";
            v.values.resize(f.survey->indicators.size());
            v.values[exp] = {true, 1, double(k % 2)};
            rollup.add(cluster, v);
        }
    };
    Geography geo;
    for (auto [code, sector, n] : {std::tuple{"home", "pottery", 12}, std::tuple{"p_few", "pottery", 11},
                                   std::tuple{"p_most", "pottery", 30}, std::tuple{"p_mid", "pottery", 20},
                                   std::tuple{"other_sector", "brass", 40}}) {
        geo.clusters[code] = {"District " + std::string(code), "Kerala", sector};
        geo.registerUnits[{code, "micro"}] = uint64_t(n) * 2;
        add(code, n);
    }
    ReportRequest req = requestFor(ScopeLevel::Cluster, "home");
    req.peerClusters = 2;
    BaselineReport r = buildBaselineReport(rollup, geo, req);
    const Table& cmp = table(r, "comparison_key");
    REQUIRE(cmp.columns.size() == 5);
    CHECK(cmp.columns[1] == "State: Kerala");
    CHECK(cmp.columns[2] == "Sector pottery (national)");
    CHECK(cmp.columns[3] == "Peer: P most");
    CHECK(cmp.columns[4] == "Peer: P mid");
    Estimate peer = estimateIndicator(rollup, geo, {ScopeLevel::Cluster, "p_most"}, exp);
    CHECK(row(cmp, "exporter_share").cells[3].estimate.value == Approx(peer.value * 100));
}
