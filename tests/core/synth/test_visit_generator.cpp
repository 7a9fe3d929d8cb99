// The synthetic visit generator: valid, plausible, reproducible visits, and the ck-synth
// tool that writes them for ck-survey and ck-field.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/form/answers_json.h"
#include "core/synth/visit_generator.h"
#include "core/template/template_loader.h"
#include "tests/support/command_run.h"

namespace fs = std::filesystem;
using ck::Value;
using ck::ValueKind;

namespace {

const std::string kFlagship = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";
const std::string kMini = std::string(CK_TEST_DATA_DIR) + "/synth/bakery-mini.json";

std::shared_ptr<const ck::Template> load(const std::string& path) {
    auto r = ck::loadTemplateJsonFile(path);
    if (!r.ok()) FAIL(r.errors.front().toString());
    return r.survey;
}

const ck::Date kDay = *ck::parseIsoDate("2026-11-20");

double number(const ck::FormSession& s, const std::string& id, int instance = 0) {
    const Value& v = s.value(s.survey().indexOf(id), instance);
    return v.kind() == ValueKind::Number ? v.asNumber() : -1;
}

std::string text(const ck::FormSession& s, const std::string& id) {
    const Value& v = s.value(s.survey().indexOf(id));
    return v.kind() == ValueKind::Text ? v.asText() : std::string();
}

std::string problemsText(const std::vector<ck::Problem>& problems) {
    std::string out;
    for (const auto& p : problems) out += p.questionId + ": " + p.message + "\n";
    return out;
}

fs::path scratch(const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_synth" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

ck::test::CommandRun synth(const std::string& args) { return ck::test::runCommand(std::string(CK_SYNTH_BIN) + " " + args); }

}  // namespace

TEST_CASE("register: real states and clusters first, unique ids, sizes as configured", "[core][synth]") {
    auto units = ck::syntheticRegister(30, 4, 25, 11);
    REQUIRE(units.size() == 30u * 4 * 25);
    std::set<std::string> ids, states, clusters;
    std::map<std::string, int> bySize;
    for (const auto& u : units) {
        CHECK(ids.insert(u.unitId).second);
        states.insert(u.state);
        clusters.insert(u.cluster);
        ++bySize[u.stratum];
        CHECK(u.stratum == ck::sizeClassName(u.size));
        CHECK(std::regex_match(u.stateCode, std::regex("^[A-Z]{2}$")));
        CHECK(!u.name.empty());
    }
    CHECK(states.size() == 30);
    CHECK(clusters.size() == 120);
    CHECK(units.front().cluster == "tiruppur_knitwear");
    CHECK(units.front().state == "Tamil Nadu");
    CHECK(clusters.count("surat_textiles") == 1);
    CHECK(clusters.count("pune_auto") == 1);
    CHECK(clusters.count("firozabad_glass") == 1);
    // 3,000 units: the shares stay within a few points of the default mix (82 / 15 / 3).
    CHECK(bySize["micro"] / 3000.0 == Approx(0.82).margin(0.03));
    CHECK(bySize["small"] / 3000.0 == Approx(0.15).margin(0.03));
    CHECK(bySize["medium"] / 3000.0 == Approx(0.03).margin(0.015));

    ck::SizeMix even{0.5, 0.3, 0.2};
    std::map<std::string, int> mixed;
    for (const auto& u : ck::syntheticRegister(4, 5, 100, 11, even)) ++mixed[u.stratum];
    CHECK(mixed["micro"] / 2000.0 == Approx(0.5).margin(0.04));
    CHECK(mixed["medium"] / 2000.0 == Approx(0.2).margin(0.04));

    // Past the table: numbered states and clusters, still unique.
    auto many = ck::syntheticRegister(33, 40, 1, 5);
    std::set<std::string> manyClusters;
    for (const auto& u : many) manyClusters.insert(u.cluster);
    CHECK(manyClusters.size() == 33u * 40);
    CHECK(many.back().state == "State 33");

    CHECK(ck::syntheticRegister(0, 3, 3, 1).empty());
    CHECK(ck::syntheticRegister(3, 3, -1, 1).empty());
    // Same seed, same register; another seed, other names and sizes.
    auto again = ck::syntheticRegister(30, 4, 25, 11);
    CHECK(again.front().name == units.front().name);
    CHECK(again.back().unitId == units.back().unitId);
    auto other = ck::syntheticRegister(30, 4, 25, 12);
    int differ = 0;
    for (size_t i = 0; i < other.size(); ++i) differ += other[i].name != units[i].name;
    CHECK(differ > 1000);
}

TEST_CASE("flagship: 200 visits all validate and hang together", "[core][synth]") {
    auto t = load(kFlagship);
    ck::VisitGenerator gen(t, 42);
    auto units = ck::syntheticRegister(5, 4, 10, 42);
    REQUIRE(units.size() == 200);
    int consented = 0, retried = 0, exporters = 0, dontKnow = 0, sizeMatches = 0, sizeChecked = 0;
    const std::regex udyam("^UDYAM-[A-Z]{2}-[0-9]{2}-[0-9]{7}$");
    for (const auto& u : units) {
        ck::GeneratedVisit v = gen.generateVisit(u, kDay);
        INFO(u.unitId << " " << u.sector << "\n" << problemsText(v.problems));
        REQUIRE(v.ok());
        REQUIRE(v.session.validate().empty());
        retried += v.attempts > 1;
        const ck::FormSession& s = v.session;
        CHECK(text(s, "unit_name") == u.name);
        CHECK(text(s, "register_id") == u.unitId);
        if (text(s, "consent") != "yes") continue;
        ++consented;
        double hired = number(s, "workers_hired"), women = number(s, "women_total"), youth = number(s, "youth_total");
        if (hired >= 0) {
            CHECK(women <= hired);
            CHECK(youth <= hired);
        }
        double owners = number(s, "working_owners"), ownersWomen = number(s, "working_owners_women");
        if (ownersWomen >= 0) CHECK(ownersWomen <= owners);
        double nat = number(s, "sales_national"), ind = number(s, "sales_indirect_export"), dir = number(s, "sales_direct_export");
        if (nat >= 0 && ind >= 0 && dir >= 0) CHECK(nat + ind + dir == Approx(100));
        exporters += ind + dir >= 10;
        double a = number(s, "hired_written_contract"), b = number(s, "hired_paid_leave"), c = number(s, "hired_social_security"),
               all3 = number(s, "hired_all_three");
        if (a >= 0 && b >= 0 && c >= 0 && all3 >= 0) CHECK(all3 <= std::min({a, b, c}));
        if (!text(s, "udyam_number").empty()) CHECK(std::regex_match(text(s, "udyam_number"), udyam));
        // The Udyam class computed from investment and turnover is the register's stratum.
        if (!text(s, "size_class").empty()) {
            ++sizeChecked;
            sizeMatches += text(s, "size_class") == u.stratum;
        }
        for (const auto& a2 : s.toRecord().answers) dontKnow += a2.value.kind() == ValueKind::DontKnow;
    }
    CHECK(consented >= 180);  // consent yes ~97%
    CHECK(consented < 200);   // ...but not always: refusals are part of a real sample (seed 42 has some)
    CHECK(sizeChecked > 150);
    CHECK(sizeMatches == sizeChecked);
    CHECK(exporters > 20);
    CHECK(exporters < consented);
    CHECK(dontKnow > 50);  // some "don't know", as in the field
    CHECK(retried < 10);   // whole-visit retries are rare
}

TEST_CASE("flagship: women's share follows the sector", "[core][synth]") {
    auto t = load(kFlagship);
    ck::VisitGenerator gen(t, 9);
    auto share = [&](const std::string& sector) {
        double women = 0, hired = 0;
        for (int i = 0; i < 60; ++i) {
            ck::UnitProfile u = ck::profileFromRegisterRow("U-" + sector + std::to_string(i), "Unit", "x_" + sector, "Pune", "Maharashtra",
                                                           "micro", sector);
            auto s = gen.generate(u, kDay);
            if (number(s, "women_total") >= 0 && number(s, "workers_hired") >= 0) {
                women += number(s, "women_total");
                hired += number(s, "workers_hired");
            }
        }
        REQUIRE(hired > 0);
        return women / hired;
    };
    double knit = share("knitwear"), autoParts = share("auto_parts");
    INFO("knitwear " << knit << ", auto parts " << autoParts);
    CHECK(knit > 0.4);
    CHECK(autoParts < 0.2);
}

TEST_CASE("generator: deterministic for a seed, different for another", "[core][synth]") {
    auto t = load(kFlagship);
    auto units = ck::syntheticRegister(2, 2, 3, 3);
    ck::VisitGenerator a(t, 100), b(t, 100), c(t, 101);
    int differ = 0;
    for (const auto& u : units) {
        ck::Record ra = a.generate(u, kDay).toRecord(), rb = b.generate(u, kDay).toRecord(), rc = c.generate(u, kDay).toRecord();
        CHECK(ra.id == rb.id);
        CHECK(ra.createdAt == rb.createdAt);
        CHECK(ra.answers == rb.answers);
        CHECK(ck::answersJsonText(a.generate(u, kDay)) == ck::answersJsonText(b.generate(u, kDay)));
        differ += !(ra.answers == rc.answers);
        CHECK(ra.id != rc.id);
    }
    CHECK(differ == int(units.size()));
    // Another day, another visit to the same unit.
    CHECK(!(a.generate(units[0], kDay).toRecord().answers == a.generate(units[0], ck::Date{kDay.days - 1}).toRecord().answers));
}

TEST_CASE("generator: the rates of \"don't know\" and of empty optional answers are honoured", "[core][synth]") {
    auto t = load(kFlagship);
    auto units = ck::syntheticRegister(2, 2, 10, 21);
    auto count = [&](double dontKnow, double empty) {
        ck::VisitGenerator gen(t, 21);
        gen.setMissingRates(dontKnow, empty);
        int missing = 0, answered = 0;
        for (const auto& u : units) {
            ck::GeneratedVisit v = gen.generateVisit(u, kDay);
            REQUIRE(v.ok());
            for (const auto& a : v.session.toRecord().answers) {
                ++answered;
                missing += a.value.kind() == ValueKind::DontKnow || a.value.kind() == ValueKind::Refused;
            }
        }
        return std::pair<int, int>{missing, answered};
    };
    auto none = count(0, 0), some = count(0.02, 0.05), many = count(0.5, 0.5);
    CHECK(none.first == 0);
    CHECK(some.first > 0);
    CHECK(many.first > 5 * some.first);
    CHECK(none.second > some.second);  // nothing optional left empty
}

TEST_CASE("generator: a small template with no rules of its own still gets valid visits", "[core][synth]") {
    auto t = load(kMini);
    ck::VisitGenerator gen(t, 5);
    auto units = ck::syntheticRegister(2, 2, 25, 5);
    int agreed = 0, items = 0, oven = 0;
    for (const auto& u : units) {
        ck::GeneratedVisit v = gen.generateVisit(u, kDay);
        INFO(u.unitId << "\n" << problemsText(v.problems));
        REQUIRE(v.ok());
        const auto& s = v.session;
        if (text(s, "agree") != "y") continue;
        ++agreed;
        if (number(s, "staff_women") >= 0) CHECK(number(s, "staff_women") <= number(s, "staff"));
        if (number(s, "share_local") >= 0 && number(s, "share_rest") >= 0)
            CHECK(number(s, "share_local") + number(s, "share_rest") == Approx(100));
        int rep = t->indexOf("items");
        items += s.instanceCount(rep);
        const Value& ovens = s.value(t->indexOf("ovens"));
        if (ovens.kind() == ValueKind::Choices) {
            ++oven;
            bool none = std::find(ovens.asChoices().begin(), ovens.asChoices().end(), "none") != ovens.asChoices().end();
            if (none) CHECK(ovens.asChoices().size() == 1);
        }
    }
    CHECK(agreed > 10);
    CHECK(items > 0);
    CHECK(oven > 0);
}

TEST_CASE("generator: a visit that cannot be valid says why", "[core][synth]") {
    // A required integer whose constraint nothing satisfies and that allows no "don't know".
    auto r = ck::loadTemplateJson(R"({"id": "impossible", "version": "1", "languages": ["en"], "title": "T",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "n", "type": "integer", "label": "N", "required": true, "allow_dont_know": false,
         "constraint": ". = 123456789", "constraint_message": "Only one number fits"}]}]})",
                                  "impossible.json");
    REQUIRE(r.ok());
    ck::VisitGenerator gen(r.survey, 1);
    auto units = ck::syntheticRegister(1, 1, 1, 1);
    ck::GeneratedVisit v = gen.generateVisit(units[0], kDay);
    CHECK_FALSE(v.ok());
    CHECK(v.attempts > 1);
    REQUIRE(!v.problems.empty());
    CHECK(v.problems[0].questionId == "n");
}

TEST_CASE("generator: fast enough for a million visits", "[core][synth]") {
    auto t = load(kFlagship);
    ck::VisitGenerator gen(t, 77);
    auto units = ck::syntheticRegister(10, 10, 5, 77);
    auto t0 = std::chrono::steady_clock::now();
    std::clock_t c0 = std::clock();
    size_t answers = 0;
    for (const auto& u : units) answers += gen.generate(u, kDay).toRecord().answers.size();
    double cpuMs = double(std::clock() - c0) * 1000.0 / CLOCKS_PER_SEC / double(units.size());
    double wallMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / double(units.size());
    WARN("flagship visit generation: " << cpuMs << " ms CPU, " << wallMs << " ms wall per visit (" << units.size() << " visits)");
    CHECK(answers > units.size() * 50);
    // Generous for a shared, loaded machine; the figure itself is in the report.
    CHECK(cpuMs < 5.0);
}

TEST_CASE("ck-synth: register and answers that ck-survey fill accepts", "[tools][synth]") {
    fs::path dir = scratch("cli");
    auto reg = synth("register --states 2 --clusters-per-state 2 --units-per-cluster 6 --seed 4 > " + (dir / "register.csv").string());
    INFO(reg.err);
    REQUIRE(reg.status == 0);
    std::ifstream in(dir / "register.csv");
    std::string header;
    std::getline(in, header);
    CHECK(header == "unit_id,name,cluster,district,state,stratum,sector");
    int rows = 0;
    for (std::string line; std::getline(in, line);) ++rows;
    CHECK(rows == 24);

    auto run = synth("answers " + kFlagship + " --register " + (dir / "register.csv").string() +
                     " --cluster tiruppur_knitwear --count 5 --seed 8 --date 2026-11-20 --out " + (dir / "visits").string());
    INFO(run.all());
    REQUIRE(run.status == 0);
    CHECK_THAT(run.err, Catch::Contains("wrote 5 visit(s)"));
    int files = 0;
    for (const auto& f : fs::directory_iterator(dir / "visits")) {
        ++files;
        CHECK(f.path().filename().string().rfind("TN-001-", 0) == 0);  // Tiruppur's units only
        auto fill = ck::test::runCommand(std::string(CK_SURVEY_BIN) + " fill " + kFlagship + " " + f.path().string() + " --today 2026-11-20");
        INFO(f.path() << "\n" << fill.err);
        CHECK(fill.status == 0);
        CHECK_THAT(fill.err, Catch::Contains("no problems"));
    }
    CHECK(files == 5);

    // The same command again writes the very same files.
    std::ifstream first(dir / "visits" / fs::directory_iterator(dir / "visits")->path().filename());
    std::stringstream before;
    before << first.rdbuf();
    auto again = synth("answers " + kFlagship + " --register " + (dir / "register.csv").string() +
                       " --cluster tiruppur_knitwear --count 5 --seed 8 --date 2026-11-20 --out " + (dir / "visits2").string());
    REQUIRE(again.status == 0);
    std::ifstream second(dir / "visits2" / fs::directory_iterator(dir / "visits")->path().filename());
    std::stringstream after;
    after << second.rdbuf();
    CHECK(before.str() == after.str());
}

TEST_CASE("ck-synth: bad templates, registers and arguments are refused clearly", "[tools][synth]") {
    fs::path dir = scratch("bad");
    std::ofstream(dir / "broken.json") << R"({"id": "b", "version": "1", "languages": ["en"], "title": "B",
      "sections": [{"id": "s", "label": "S", "questions": [{"id": "a", "type": "integer", "label": "A", "relevant": "${nope} > 1"}]}]})";
    auto reg = synth("register --states 1 --clusters-per-state 1 --units-per-cluster 3 --seed 1 > " + (dir / "r.csv").string());
    REQUIRE(reg.status == 0);

    auto broken = synth("answers " + (dir / "broken.json").string() + " --register " + (dir / "r.csv").string() +
                        " --seed 1 --out " + (dir / "out").string());
    CHECK(broken.status == 1);
    CHECK_THAT(broken.err, Catch::Contains("question 'a'") && Catch::Contains("nope") && Catch::Contains("no visits were written"));
    CHECK((!fs::exists(dir / "out") || fs::is_empty(dir / "out")));

    auto missing = synth("answers /nonexistent/t.json --register " + (dir / "r.csv").string() + " --seed 1 --out " + (dir / "out").string());
    CHECK(missing.status == 1);

    std::ofstream(dir / "noheader.csv") << "id,name\nA,B\n";
    auto badReg = synth("answers " + kMini + " --register " + (dir / "noheader.csv").string() + " --seed 1 --out " + (dir / "out").string());
    CHECK(badReg.status == 1);
    CHECK_THAT(badReg.err, Catch::Contains("noheader.csv:1") && Catch::Contains("unit_id"));

    std::ofstream(dir / "evil.csv") << "unit_id,name,cluster,district,state,stratum\n../escape,N,c,d,s,micro\n";
    auto evil = synth("answers " + kMini + " --register " + (dir / "evil.csv").string() + " --seed 1 --out " + (dir / "out").string());
    CHECK(evil.status == 1);
    CHECK_THAT(evil.err, Catch::Contains("evil.csv:2") && Catch::Contains("../escape"));
    CHECK_FALSE(fs::exists(dir / "escape.json"));

    auto tooMany = synth("answers " + kMini + " --register " + (dir / "r.csv").string() + " --count 4 --seed 1 --out " + (dir / "out").string());
    CHECK(tooMany.status == 1);
    CHECK_THAT(tooMany.err, Catch::Contains("has 3 units"));
    auto noCluster = synth("answers " + kMini + " --register " + (dir / "r.csv").string() + " --cluster nowhere --seed 1 --out " + (dir / "out").string());
    CHECK(noCluster.status == 1);
    CHECK_THAT(noCluster.err, Catch::Contains("'nowhere'"));

    CHECK(synth("").status == 2);
    CHECK(synth("frobnicate").status == 2);
    auto noSeed = synth("register --states 1 --clusters-per-state 1 --units-per-cluster 1");
    CHECK(noSeed.status == 2);
    CHECK_THAT(noSeed.err, Catch::Contains("--seed"));
    auto badNumber = synth("register --states two --clusters-per-state 1 --units-per-cluster 1 --seed 1");
    CHECK(badNumber.status == 2);
    CHECK_THAT(badNumber.err, Catch::Contains("--states") && Catch::Contains("'two'"));
    CHECK(synth("register --states 1 --clusters-per-state 1 --units-per-cluster 1 --seed 1 --colour red").status == 2);
    CHECK(synth("answers " + kMini + " --register " + (dir / "r.csv").string() + " --seed 1 --out " + (dir / "o").string() +
                " --date 2026-13-40").status == 2);
    auto help = synth("--help");
    CHECK(help.status == 0);
    CHECK_THAT(help.out, Catch::Contains("ck-synth register") && Catch::Contains("ck-synth answers"));
    CHECK(synth("answers --help").status == 0);
}
