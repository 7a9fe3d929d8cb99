// `ck-synth store`: decoded synthetic visits written straight into aggregator storage for the
// report's scale work. Drives the real binary into a real SQLite data folder and reads the
// result back through the storage interface, as the report does.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "core/crypto/sealed_box.h"
#include "core/record/record.h"
#include "core/template/template_loader.h"
#include "sync/aggregator/storage.h"
#include "tests/support/command_run.h"

namespace fs = std::filesystem;

namespace {

const std::string kFlagship = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";

fs::path scratch(const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_synth_store" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

ck::test::CommandRun synth(const std::string& args) {
    return ck::test::runCommand(ck::test::shellQuote(CK_SYNTH_BIN) + " " + args);
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// 3 states x 3 clusters x 12 units; 10 visits in each of the 9 clusters.
std::string smallRun(const fs::path& storage, const std::string& extra = "") {
    return "store --storage " + ck::test::shellQuote(storage.string()) + " --template " + ck::test::shellQuote(kFlagship) +
           " --states 3 --clusters-per-state 3 --units-per-cluster 12 --visits-per-cluster 10 --seed 11"
           " --date 2026-11-20 --days 20 --threads 2" + extra;
}

}  // namespace

TEST_CASE("ck-synth store: register, template and decoded visits without personal answers", "[tools][synth]") {
    fs::path dir = scratch("small");
    auto run = synth(smallRun(dir / "agg"));
    INFO(run.all());
    REQUIRE(run.status == 0);
    CHECK_THAT(run.out, Catch::Contains("90 stored, 0 duplicate, 0 conflict, 0 invalid"));
    CHECK_THAT(run.out, Catch::Contains("108 units in 9 clusters in 3 states"));

    auto loaded = ck::loadTemplateJsonFile(kFlagship);
    REQUIRE(loaded.ok());
    const ck::Template& t = *loaded.survey;
    std::set<std::string> personal;
    for (const auto& q : t.questions)
        if (q.pii) personal.insert(q.id);
    REQUIRE(personal.count("respondent_name"));  // else the check below proves nothing

    auto storage = ck::agg::openStorage((dir / "agg").string());
    auto units = storage->listRegister();
    CHECK(units.size() == 108);
    std::map<std::string, std::string> clusterOf;
    for (const auto& u : units) clusterOf[u.unitId] = u.cluster;
    CHECK(storage->countVisits() == 90);

    auto published = storage->findTemplate(t.id, t.version);
    REQUIRE(published);
    CHECK(published->jsonText == readFile(kFlagship));
    CHECK(published->signature.empty());  // scale work: no project key was used

    std::map<std::string, int> perCluster;
    int refusals = 0, dontKnow = 0, undecodable = 0, personalFound = 0, consented = 0;
    std::set<std::string> ids;
    storage->forEachVisit([&](const ck::agg::StoredVisit& v) {
        ids.insert(v.recordId);
        ++perCluster[v.cluster];
        CHECK(v.deviceId == "synthetic");
        CHECK(v.envelope.empty());
        CHECK(v.contentHash.size() == 64);
        CHECK(v.templateId == t.id);
        auto decoded = ck::deserializeRecord(std::string_view(reinterpret_cast<const char*>(v.record.data()), v.record.size()));
        if (!decoded.record) {
            ++undecodable;
            return true;
        }
        const ck::Record& r = *decoded.record;
        CHECK(r.id == v.recordId);
        std::function<void(const std::vector<ck::Answer>&)> scan = [&](const std::vector<ck::Answer>& answers) {
            for (const auto& a : answers) {
                if (personal.count(a.questionId)) ++personalFound;
                if (a.value.kind() == ck::ValueKind::DontKnow || a.value.kind() == ck::ValueKind::Refused) ++dontKnow;
                for (const auto& inst : a.instances) scan(inst);
            }
        };
        scan(r.answers);
        const ck::Answer* consent = r.find("consent");
        REQUIRE(consent);
        if (consent->value.toString() == "no") ++refusals;
        else {
            ++consented;
            // The cluster the visit is filed under is the one its answers name.
            const ck::Answer* cluster = r.find("cluster");
            const ck::Answer* other = r.find("cluster_other");
            REQUIRE(cluster);
            std::string named = cluster->value.toString() == "other" && other ? other->value.toString() : cluster->value.toString();
            CHECK(named == v.cluster);
        }
        return true;
    });
    CHECK(undecodable == 0);
    CHECK(personalFound == 0);
    CHECK(ids.size() == 90);
    CHECK(perCluster.size() == 9);
    for (const auto& [cluster, n] : perCluster) CHECK(n == 10);
    // About 8% refuse: with 90 visits, somewhere between 1 and 20 (seed 11 is fixed).
    CHECK(refusals >= 1);
    CHECK(refusals <= 20);
    CHECK_THAT(run.out, Catch::Contains("(" + std::to_string(refusals) + " refused consent)"));
    CHECK(dontKnow > 0);
    CHECK(consented > 0);
    CHECK(storage->countAudit() >= 92);  // register, publication, one per visit
}

TEST_CASE("ck-synth store: the same seed again stores nothing twice", "[tools][synth]") {
    fs::path dir = scratch("again");
    auto first = synth(smallRun(dir / "agg", " --visits-per-cluster 4"));
    INFO(first.all());
    REQUIRE(first.status == 0);
    CHECK_THAT(first.out, Catch::Contains("36 stored, 0 duplicate"));
    std::string before;
    {
        auto storage = ck::agg::openStorage((dir / "agg").string());
        storage->forEachVisit([&](const ck::agg::StoredVisit& v) {
            before += v.recordId + v.contentHash + "\n";
            return true;
        });
    }
    // One thread this time: which visits are made must not depend on the thread count.
    auto second = synth(smallRun(dir / "agg", " --visits-per-cluster 4 --threads 1"));
    INFO(second.all());
    REQUIRE(second.status == 0);
    CHECK_THAT(second.out, Catch::Contains("0 stored, 36 duplicate, 0 conflict"));
    CHECK_THAT(second.out, Catch::Contains("already there"));
    auto storage = ck::agg::openStorage((dir / "agg").string());
    CHECK(storage->countVisits() == 36);
    CHECK(storage->listRegister().size() == 108);
    std::string after;
    storage->forEachVisit([&](const ck::agg::StoredVisit& v) {
        after += v.recordId + v.contentHash + "\n";
        return true;
    });
    CHECK(before == after);
}

TEST_CASE("ck-synth store: bad template, bad storage and bad arguments are refused clearly", "[tools][synth]") {
    fs::path dir = scratch("bad");
    auto noFile = synth("store --storage " + (dir / "agg").string() + " --template " + (dir / "missing.json").string() +
                        " --states 1 --clusters-per-state 1 --units-per-cluster 2 --visits-per-cluster 1 --seed 1");
    CHECK(noFile.status == 2);
    CHECK_THAT(noFile.err, Catch::Contains("missing.json") && Catch::Contains("cannot read") && Catch::Contains("nothing was stored"));
    CHECK_FALSE(fs::exists(dir / "agg"));

    std::ofstream(dir / "broken.json") << R"({"id": "b", "version": "1", "languages": ["en"], "title": "B",
      "sections": [{"id": "s", "label": "S", "questions": [{"id": "a", "type": "integer", "label": "A", "relevant": "${nope} > 1"}]}]})";
    auto broken = synth("store --storage " + (dir / "agg").string() + " --template " + (dir / "broken.json").string() +
                        " --states 1 --clusters-per-state 1 --units-per-cluster 2 --visits-per-cluster 1 --seed 1");
    CHECK(broken.status == 1);
    CHECK_THAT(broken.err, Catch::Contains("nope") && Catch::Contains("nothing was stored"));
    CHECK_FALSE(fs::exists(dir / "agg"));

    // Nothing listens on port 1: the connection is refused at once.
    auto badUrl = synth("store --storage postgresql://ck@127.0.0.1:1/none --template " + ck::test::shellQuote(kFlagship) +
                        " --states 1 --clusters-per-state 1 --units-per-cluster 2 --visits-per-cluster 1 --seed 1");
    CHECK(badUrl.status == 2);
    CHECK_THAT(badUrl.err, Catch::Contains("cannot open the storage 'postgresql://ck@127.0.0.1:1/none'"));

    std::ofstream(dir / "plain-file") << "not a folder";
    auto underFile = synth("store --storage " + (dir / "plain-file" / "agg").string() + " --template " +
                           ck::test::shellQuote(kFlagship) +
                           " --states 1 --clusters-per-state 1 --units-per-cluster 2 --visits-per-cluster 1 --seed 1");
    CHECK(underFile.status == 2);
    CHECK_THAT(underFile.err, Catch::Contains("cannot open the storage"));
    CHECK(readFile((dir / "plain-file").string()) == "not a folder");

    auto tooMany = synth("store --storage " + (dir / "agg").string() + " --template " + ck::test::shellQuote(kFlagship) +
                         " --states 1 --clusters-per-state 1 --units-per-cluster 2 --visits-per-cluster 3 --seed 1");
    CHECK(tooMany.status == 2);
    CHECK_THAT(tooMany.err, Catch::Contains("--visits-per-cluster 3 is more than --units-per-cluster 2"));
    auto noStorage = synth("store --template " + ck::test::shellQuote(kFlagship) +
                           " --states 1 --clusters-per-state 1 --units-per-cluster 2 --visits-per-cluster 1 --seed 1");
    CHECK(noStorage.status == 2);
    CHECK_THAT(noStorage.err, Catch::Contains("--storage is required"));
    auto badRate = synth(smallRun(dir / "agg", " --refusals 1.5"));
    CHECK(badRate.status == 2);
    CHECK_THAT(badRate.err, Catch::Contains("--refusals"));
    CHECK_FALSE(fs::exists(dir / "agg"));
}

TEST_CASE("ck-synth store --sample: a stratified sample by size class, designs by cluster in turn", "[tools][synth]") {
    fs::path dir = scratch("sample");
    // 1 state x 3 clusters x 60 units. Cluster 1: 2 micro units and every small one; cluster 2:
    // 1 medium unit; cluster 3 the first design again. A class the design does not name is not
    // visited; N larger than the class takes the whole class.
    auto run = synth("store --storage " + ck::test::shellQuote((dir / "agg").string()) + " --template " +
                     ck::test::shellQuote(kFlagship) +
                     " --states 1 --clusters-per-state 3 --units-per-cluster 60 --seed 5 --date 2026-11-20 --days 10"
                     " --threads 1 --sample 'micro:2,small:all;medium:1,large:5'");
    INFO(run.all());
    REQUIRE(run.status == 0);
    auto storage = ck::agg::openStorage((dir / "agg").string());
    std::map<std::string, std::map<std::string, size_t>> registerCount;  // cluster -> class -> N
    std::vector<std::string> clusterOrder;
    for (const auto& u : storage->listRegister()) {
        if (registerCount.find(u.cluster) == registerCount.end()) clusterOrder.push_back(u.cluster);
        ++registerCount[u.cluster][u.stratum];
    }
    REQUIRE(clusterOrder.size() == 3);
    size_t expected = 0;
    for (size_t c = 0; c < 3; ++c) {
        const auto& n = registerCount[clusterOrder[c]];
        auto count = [&](const char* cls) { return n.count(cls) ? n.at(cls) : size_t(0); };
        expected += c % 2 == 0 ? std::min<size_t>(2, count("micro")) + count("small") : std::min<size_t>(1, count("medium"));
    }
    REQUIRE(expected > 0);
    CHECK(storage->countVisits() == expected);
    CHECK_THAT(run.out, Catch::Contains("visits: " + std::to_string(expected) + " stored"));

    // Bad designs are refused before anything is stored.
    for (const char* bad : {"micro", "micro:x", ":3", "micro:2;;small:1", "micro:-1"}) {
        auto r = synth(smallRun(dir / ("bad" + std::to_string(std::hash<std::string>{}(bad) % 1000)),
                                std::string(" --sample '") + bad + "'"));
        INFO(bad << ": " << r.all());
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains("--sample"));
    }
}
