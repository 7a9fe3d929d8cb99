// `ck-aggregator report`, `report-tokens` and GET /v1/report, driven as an operator and a
// report reader would: the real binary on a real data folder, a real `serve` on loopback,
// and a device that syncs a visit while it runs (the incremental path).
#include <catch2/catch.hpp>

#include <curl/curl.h>

#include <regex>
#include <set>

#include <nlohmann/json.hpp>

#include "core/template/report_layout.h"
#include "core/template/survey_template.h"
#include "sync/aggregator/report/baseline_service.h"
#include "sync/aggregator/report/report_tokens.h"
#include "tests/support/aggregator_process.h"
#include "tests/support/command_run.h"
#include "tests/sync/aggregator/report/report_test_support.h"
#include "tests/sync/aggregator/server/live_aggregator.h"

using namespace ck;
using namespace ck::agg;
using ck::test::runCommand;
using ck::test::shellQuote;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPass = "report command tests: a long passphrase 2026";

std::string bin() { return shellQuote(CK_AGGREGATOR_BIN); }

// Runs ck-aggregator without the admin passphrase in its environment (reports need none).
test::CommandRun cli(const std::string& args, const fs::path& data) {
    return runCommand("env -u CK_ADMIN_PASSPHRASE " + bin() + " " + args + " --data " + shellQuote(data.string()));
}
test::CommandRun cliAdmin(const std::string& args, const fs::path& data) {
    return runCommand("CK_ADMIN_PASSPHRASE=" + shellQuote(kPass) + " " + bin() + " " + args + " --data " +
                      shellQuote(data.string()));
}

std::string csvField(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

// A data folder with the flagship published and a register loaded, through the CLI.
fs::path preparedFolder(const std::string& name, const std::vector<UnitProfile>& units, bool publish = true) {
    fs::path root = test::reportScratch(name);
    fs::path data = root / "data";
    auto init = cliAdmin("init --test-kdf", data);
    INFO(init.all());
    REQUIRE(init.status == 0);
    if (publish) {
        auto pub = cliAdmin("templates publish " + shellQuote(test::flagshipPath().string()), data);
        INFO(pub.all());
        REQUIRE(pub.status == 0);
    }
    if (!units.empty()) {
        std::string csv = "unit_id,name,cluster,district,state,stratum,sector\n";
        for (const auto& u : units)
            csv += csvField(u.unitId) + "," + csvField(u.name) + "," + csvField(u.cluster) + "," + csvField(u.district) +
                   "," + csvField(u.state) + "," + csvField(u.stratum) + "," + csvField(u.sector) + "\n";
        std::ofstream(root / "register.csv") << csv;
        auto assign = cli("assign " + shellQuote((root / "register.csv").string()), data);
        INFO(assign.all());
        REQUIRE(assign.status == 0);
    }
    return data;
}

std::string publishedVersion(const fs::path& data) {
    auto storage = openStorage(data.string());
    for (const auto& t : storage->listTemplates())
        if (t.templateId == "cluster-diagnostic") return t.version;
    return "";
}

// Visits written straight into the folder's storage as ingest would have stored them.
void storeVisits(const fs::path& data, const std::vector<UnitProfile>& units, size_t n, uint64_t seed) {
    test::Flagship f = test::loadFlagship();
    REQUIRE(f.survey->version == publishedVersion(data));
    auto storage = openStorage(data.string());
    auto visits = test::generatedVisits(f, units, n, seed);
    auto outcomes = storage->putVisits(visits);
    REQUIRE(std::count(outcomes.begin(), outcomes.end(), PutOutcome::Stored) == long(n));
}

std::string hashIn(const std::string& out) {
    std::smatch m;
    std::regex re("inputs hash: ([0-9a-f]{64})");
    return std::regex_search(out, m, re) ? m[1].str() : "";
}

struct Got {
    long status = 0;
    std::string contentType, body, error;
};
Got httpGet(const std::string& url, const std::string& bearer) {
    Got g;
    CURL* h = curl_easy_init();
    curl_slist* headers = nullptr;
    if (!bearer.empty()) headers = curl_slist_append(headers, ("Authorization: Bearer " + bearer).c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
        static_cast<std::string*>(u)->append(d, s * n);
        return s * n;
    });
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &g.body);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &g.status);
        char* ct = nullptr;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        if (ct) g.contentType = ct;
    } else {
        g.error = curl_easy_strerror(rc);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return g;
}

std::string tokenIn(const std::string& out) {
    std::smatch m;
    std::regex re("\\n([A-Za-z0-9_-]{43})\\n");
    return std::regex_search(out, m, re) ? m[1].str() : "";
}

}  // namespace

TEST_CASE("ck-aggregator report: writes the four formats for the nation and a cluster", "[report][cli]") {
    auto units = test::testRegister(2, 2, 15, 21);
    fs::path data = preparedFolder("report-cli", units);
    storeVisits(data, units, 60, 22);
    fs::path out = data.parent_path() / "out";

    auto r = cli("report --out " + shellQuote(out.string()), data);
    INFO(r.all());
    REQUIRE(r.status == 0);
    std::string hash = hashIn(r.out);
    REQUIRE(hash.size() == 64);
    for (const char* ext : {"html", "xlsx", "csv", "json"}) {
        fs::path file = out / (std::string("nation-baseline.") + ext);
        INFO(file);
        CHECK(fs::exists(file));
        CHECK(fs::file_size(file) > 200);
        CHECK_THAT(r.out, Catch::Contains(file.string()));
    }
    std::string html = test::readAll(out / "nation-baseline.html");
    CHECK_THAT(html, Catch::Contains("<html", Catch::CaseSensitive::No));
    for (const char* title : {"at a glance", "outcomes", "value chain", "constraints", "convergence", "comparison",
                              "data quality"})
        CHECK_THAT(html, Catch::Contains(title, Catch::CaseSensitive::No));
    CHECK_THAT(html, Catch::Contains(hash));
    CHECK_THAT(test::readAll(out / "nation-baseline.json"), Catch::Contains(hash));
    CHECK(test::readAll(out / "nation-baseline.xlsx").rfind("PK", 0) == 0);

    // A cluster, one format; the same inputs but another scope give another hash.
    const std::string cluster = units.front().cluster;
    auto c = cli("report --scope cluster:" + shellQuote(cluster) + " --format html --out " + shellQuote(out.string()), data);
    INFO(c.all());
    REQUIRE(c.status == 0);
    CHECK(fs::exists(out / ("cluster-" + cluster + "-baseline.html")));
    CHECK_FALSE(fs::exists(out / ("cluster-" + cluster + "-baseline.json")));
    CHECK(hashIn(c.out).size() == 64);
    CHECK(hashIn(c.out) != hash);

    // The same report again: the same inputs hash (nothing but the inputs enter it).
    auto again = cli("report --format json --out " + shellQuote(out.string()), data);
    CHECK(hashIn(again.out) == hash);
}

TEST_CASE("ck-aggregator report: a second template brings its own report, in English and Hindi", "[report][cli][layout]") {
    // The brass-ware template published next to nothing else; visits made for it by the same
    // generator ck-synth uses; the report follows its layout with no code of its own.
    auto units = test::testRegister(1, 2, 40, 61);
    fs::path data = preparedFolder("report-brass", units, false);
    fs::path brassPath = fs::path(CK_SOURCE_DIR) / "survey-templates" / "brassware-diagnostic.json";
    auto pub = cliAdmin("templates publish " + shellQuote(brassPath.string()), data);
    INFO(pub.all());
    REQUIRE(pub.status == 0);
    test::Flagship brass;
    brass.json = test::readAll(brassPath);
    auto loaded = loadTemplateJson(brass.json, "brassware-diagnostic.json");
    REQUIRE(loaded.ok());
    brass.survey = loaded.survey;
    {
        auto storage = openStorage(data.string());
        auto outcomes = storage->putVisits(test::generatedVisits(brass, units, 80, 62));
        REQUIRE(std::count(outcomes.begin(), outcomes.end(), PutOutcome::Stored) == 80);
    }
    fs::path out = data.parent_path() / "out";
    const std::string cluster = units.front().cluster;
    // Without --template the flagship is asked for, and it is not published here.
    auto flagship = cli("report --format json --out " + shellQuote(out.string()), data);
    CHECK(flagship.status == 1);
    CHECK_THAT(flagship.err, Catch::Contains("cluster-diagnostic"));

    auto en = cli("report --template brassware-diagnostic --scope cluster:" + shellQuote(cluster) + " --format json,html --out " +
                      shellQuote(out.string()), data);
    INFO(en.all());
    REQUIRE(en.status == 0);
    nlohmann::json j = nlohmann::json::parse(test::readAll(out / ("cluster-" + cluster + "-baseline.json")));
    CHECK(j["template"]["id"] == "brassware-diagnostic");
    std::vector<std::string> sections;
    std::set<std::string> tables;
    std::string said;
    for (const auto& s : j["sections"]) {
        sections.push_back(s["id"]);
        for (const auto& t : s["tables"]) tables.insert(t["id"].get<std::string>());
        for (const auto& h : s["highlights"]) said += h.get<std::string>() + "\n";
    }
    CHECK(sections == std::vector<std::string>{"glance", "chain", "exports_jobs", "health", "obstacles", "schemes", "comparison",
                                               "data_quality"});
    CHECK(tables.count("brass_chain"));
    CHECK(tables.count("brass_health"));
    CHECK_FALSE(tables.count("glance_segments"));  // nothing of the flagship's layout
    CHECK_THAT(said, Catch::Contains("of workshops export at least a tenth of their sales"));
    CHECK(said.find("INR ") == std::string::npos);
    std::string html = test::readAll(out / ("cluster-" + cluster + "-baseline.html"));
    CHECK_THAT(html, Catch::Contains("From scrap to export: the brass-ware chain"));
    CHECK_THAT(html, Catch::Contains("<html lang=\"en\">"));

    auto hi = cli("report --template brassware-diagnostic --language hi --scope cluster:" + shellQuote(cluster) +
                      " --format html --out " + shellQuote((out / "hi").string()), data);
    INFO(hi.all());
    REQUIRE(hi.status == 0);
    CHECK(hashIn(hi.out) == hashIn(en.out));  // the same inputs, in another language
    std::string hiHtml = test::readAll(out / "hi" / ("cluster-" + cluster + "-baseline.html"));
    CHECK_THAT(hiHtml, Catch::Contains("<html lang=\"hi\">"));
    CHECK_THAT(hiHtml, Catch::Contains("2. स्क्रैप से निर्यात तक: पीतल उत्पाद शृंखला"));
    CHECK_THAT(hiHtml, Catch::Contains("पद्धति संबंधी टिप्पणियाँ"));
    CHECK(hiHtml.find("From scrap to export") == std::string::npos);
    // Hidden and flagged cells say why in Hindi too.
    CHECK_THAT(hiHtml, Catch::Contains("छिपाया गया: "));
    CHECK(hiHtml.find("suppressed:") == std::string::npos);
    CHECK(hiHtml.find("use with caution") == std::string::npos);

    // A language the template does not declare is refused with the ones it does.
    auto ta = cli("report --template brassware-diagnostic --language ta --format json --out " + shellQuote(out.string()), data);
    CHECK(ta.status == 2);
    CHECK_THAT(ta.err, Catch::Contains("--language ta: template brassware-diagnostic is written in en, hi"));
}

TEST_CASE("ck-synth store and ck-aggregator report: both templates end to end, nation and cluster", "[report][cli][layout]") {
    // The real tools only: ck-synth writes a register and visits for the template into a data
    // folder, ck-aggregator reports them following the template's layout.
    for (const char* id : {"cluster-diagnostic", "brassware-diagnostic"}) {
        INFO(id);
        fs::path root = test::reportScratch(std::string("synth-") + id);
        fs::path data = root / "data";
        auto init = cliAdmin("init --test-kdf", data);
        REQUIRE(init.status == 0);
        fs::path templ = fs::path(CK_SOURCE_DIR) / "survey-templates" / (std::string(id) + ".json");
        auto synth = runCommand(shellQuote(CK_SYNTH_BIN) + " store --storage " + shellQuote(data.string()) + " --template " +
                                shellQuote(templ.string()) +
                                " --states 2 --clusters-per-state 2 --units-per-cluster 80 --visits-per-cluster 50 --seed 71 --date 2026-11-20");
        INFO(synth.all());
        REQUIRE(synth.status == 0);
        fs::path out = root / "out";
        auto nation = cli(std::string("report --template ") + id + " --format json,html --out " + shellQuote(out.string()), data);
        INFO(nation.all());
        REQUIRE(nation.status == 0);
        CHECK_THAT(nation.out, Catch::Contains("visits counted: 200"));
        nlohmann::json j = nlohmann::json::parse(test::readAll(out / "nation-baseline.json"));
        auto templ2 = loadTemplateJsonFile(templ);
        REQUIRE(templ2.ok());
        const ReportLayout& layout = *templ2.survey->report.layout;
        REQUIRE(j["sections"].size() == layout.sections.size());
        for (size_t i = 0; i < layout.sections.size(); ++i) {
            CHECK(j["sections"][i]["id"] == layout.sections[i].id);
            CHECK(j["sections"][i]["title"].get<std::string>().rfind(std::to_string(i + 1) + ". ", 0) == 0);
        }
        std::string html = test::readAll(out / "nation-baseline.html");
        CHECK(html.find("INR ") == std::string::npos);
        std::string body = html.substr(html.find("</style>"));  // the CSS before it has braces of its own
        CHECK(body.find('{') == std::string::npos);
    }
}

TEST_CASE("ck-aggregator report: unknown scope, no visits, no template, unwritable --out", "[report][cli]") {
    auto units = test::testRegister(1, 2, 12, 31);
    fs::path data = preparedFolder("report-errors", units);

    // Published, register loaded, but nothing visited yet.
    auto none = cli("report", data);
    CHECK(none.status == 1);
    CHECK_THAT(none.err, Catch::Contains("no visits"));

    storeVisits(data, units, 20, 32);
    auto unknown = cli("report --scope cluster:atlantis_pottery", data);
    INFO(unknown.all());
    CHECK(unknown.status == 1);
    CHECK_THAT(unknown.err, Catch::Contains("atlantis_pottery"));
    CHECK_THAT(unknown.err, Catch::Contains("cluster:" + units.front().cluster));

    auto badSyntax = cli("report --scope village:x", data);
    CHECK(badSyntax.status == 2);
    CHECK_THAT(badSyntax.err, Catch::Contains("cluster:CODE"));
    CHECK(cli("report --format pdf", data).status == 2);

    fs::path file = data.parent_path() / "a-file";
    std::ofstream(file) << "not a folder";
    auto unwritable = cli("report --out " + shellQuote((file / "reports").string()), data);
    CHECK(unwritable.status == 2);
    CHECK_THAT(unwritable.err, Catch::Contains("a-file"));
    CHECK(test::readAll(file) == "not a folder");

    fs::path bare = preparedFolder("report-no-template", {}, false);
    auto noTemplate = cli("report", bare);
    CHECK(noTemplate.status == 1);
    CHECK_THAT(noTemplate.err, Catch::Contains("templates publish"));
    CHECK(cli("report", data.parent_path() / "nowhere").status == 2);
}

TEST_CASE("ck-aggregator report: the project's disclosure and interval settings", "[report][cli]") {
    auto units = test::testRegister(2, 2, 15, 41);
    fs::path data = preparedFolder("report-rules", units);
    storeVisits(data, units, 44, 42);  // not a census: shares have a sampling error
    fs::path out = data.parent_path() / "out";
    auto reportJson = [&](const std::string& flags) {
        auto r = cli("report --format json --out " + shellQuote(out.string()) + flags, data);
        INFO(r.all());
        REQUIRE(r.status == 0);
        return std::make_pair(hashIn(r.out), nlohmann::json::parse(test::readAll(out / "nation-baseline.json")));
    };
    auto notes = [](const nlohmann::json& j) { return j.at("methodNotes").dump(); };
    // The first share row with a sampling error and an interval inside (0, 100).
    auto firstShare = [](const nlohmann::json& j) {
        for (const auto& sec : j.at("sections"))
            for (const auto& t : sec.at("tables"))
                for (const auto& r : t.at("rows")) {
                    if (r.at("cells").empty()) continue;
                    const auto& c = r.at("cells")[0];
                    if (c.value("kind", std::string()) == "estimate" && c.value("unit", std::string()) == "%" &&
                        c.at("value").is_number() && c.at("value").get<double>() > 5 && c.at("value").get<double>() < 95 &&
                        c.at("se").is_number() && c.at("se").get<double>() > 0.5)
                        return std::make_pair(r.at("key").get<std::string>(), c);
                }
        return std::make_pair(std::string(), nlohmann::json());
    };

    auto [defaultHash, defaults] = reportJson("");
    CHECK_THAT(notes(defaults), Catch::Contains("more than 85% of it comes from its 2 largest units (weighted)"));
    CHECK_THAT(notes(defaults), Catch::Contains("fewer than 3 units"));
    CHECK_THAT(notes(defaults), Catch::Contains("logit intervals"));
    auto [shareKey, logitCell] = firstShare(defaults);
    REQUIRE(!shareKey.empty());
    // Flags that restate the defaults change nothing, not even the inputs hash.
    CHECK(reportJson(" --dominance 2,85 --min-units 3 --share-interval logit").first == defaultHash);

    // The project's settings in config.json.
    nlohmann::json config = nlohmann::json::parse(test::readAll(data / "config.json"));
    config["report"] = {{"min_units", 4}, {"dominance", {{"units", 1}, {"share", 0.5}}}, {"share_interval", "wald"}};
    std::ofstream(data / "config.json") << config.dump(2);
    auto [projectHash, project] = reportJson("");
    CHECK(projectHash != defaultHash);  // other rules, other figures: another inputs hash
    CHECK_THAT(notes(project), Catch::Contains("more than 50% of it comes from its largest unit (weighted)"));
    CHECK_THAT(notes(project), Catch::Contains("fewer than 4 units"));
    CHECK_THAT(notes(project), Catch::Contains("clipped to 0-100%"));
    auto [sameKey, waldCell] = firstShare(project);
    REQUIRE(sameKey == shareKey);
    // Same estimate and standard error; the Wald interval is symmetric, the logit one is not.
    CHECK(waldCell.at("value") == logitCell.at("value"));
    CHECK(waldCell.at("se") == logitCell.at("se"));
    const double v = waldCell.at("value"), wl = waldCell.at("low"), wh = waldCell.at("high");
    const double ll = logitCell.at("low"), lh = logitCell.at("high");
    CHECK(std::fabs((v - wl) - (wh - v)) < 1e-9 * v);
    CHECK(std::fabs((v - ll) - (lh - v)) > 1e-6);
    // A flag overrides the project for one run.
    CHECK(reportJson(" --share-interval logit --dominance 2,85 --min-units 3").first == defaultHash);

    // Bad settings: a clear refusal naming what to fix.
    for (const auto& [bad, says] : std::vector<std::pair<nlohmann::json, std::string>>{
             {{{"dominance", {{"units", 7}}}}, "dominance units"},
             {{{"dominance", {{"share", 85}}}}, "fraction"},
             {{{"min_units", 0}}, "min_units"},
             {{{"share_interval", "exact"}}, "share_interval"},
             {{{"dominant", 2}}, "unknown setting \"dominant\""},
             {nlohmann::json("2,85"), "expected an object"}}) {
        config["report"] = bad;
        std::ofstream(data / "config.json") << config.dump(2);
        auto r = cli("report --format json --out " + shellQuote(out.string()), data);
        INFO(bad.dump() << ": " << r.all());
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains("config.json") && Catch::Contains(says));
    }
    config.erase("report");
    std::ofstream(data / "config.json") << config.dump(2);
    for (const char* flags : {"--dominance 2", "--dominance 0,85", "--dominance 2,150", "--dominance x,85",
                              "--min-units 0", "--share-interval exact"}) {
        auto r = cli(std::string("report --format json --out ") + shellQuote(out.string()) + " " + flags, data);
        INFO(flags << ": " << r.all());
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains(std::string(flags).substr(0, std::string(flags).find(' '))));
    }
    // export: --template belongs to --design.
    auto stray = cliAdmin("export --out " + shellQuote((data.parent_path() / "x").string()) + " --template cluster-diagnostic", data);
    CHECK(stray.status == 2);
    CHECK_THAT(stray.err, Catch::Contains("--design"));
    auto unknown = cliAdmin("export --design --template nosuch --out " + shellQuote((data.parent_path() / "x").string()), data);
    CHECK(unknown.status == 1);
    CHECK_THAT(unknown.err, Catch::Contains("nosuch"));
}

TEST_CASE("report tokens: issue, list, revoke, and GET /v1/report on a real serve, kept current", "[report][cli][server]") {
    auto units = test::testRegister(1, 2, 15, 41);
    fs::path data = preparedFolder("report-serve", units);
    storeVisits(data, units, 30, 42);

    // --- tokens through the CLI, no passphrase needed ---
    auto issued = cli("report-tokens issue --label 'State secretary office'", data);
    INFO(issued.all());
    REQUIRE(issued.status == 0);
    std::string token = tokenIn(issued.out);
    REQUIRE(token.size() == 43);
    auto bank = cli("report-tokens issue --label 'Bank'", data);
    std::string bankToken = tokenIn(bank.out);
    REQUIRE(bankToken.size() == 43);
    CHECK(cli("report-tokens issue --label 'Bank'", data).status == 1);  // a valid one has that label
    CHECK(cli("report-tokens issue", data).status == 2);
    std::string stored = test::readAll(data / "report-tokens.json");
    CHECK_THAT(stored, !Catch::Contains(token) && !Catch::Contains(bankToken));
    CHECK_THAT(stored, Catch::Contains(ReportTokens::hashToken(token)));
    auto list = cli("report-tokens list", data);
    CHECK_THAT(list.out, Catch::Contains("State secretary office") && Catch::Contains("valid") &&
                             Catch::Contains("2 report token(s)"));
    CHECK_THAT(list.out, !Catch::Contains(token));

    // --- a real serve on loopback ---
    test::AggregatorProcess serve(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0", "--http"}, kPass);
    REQUIRE(serve.start());
    const std::string url = "http://127.0.0.1:" + std::to_string(serve.port());
    const std::string cluster = units.front().cluster;

    Got good = httpGet(url + "/v1/report?scope=nation", token);
    INFO(good.error << good.body.substr(0, 300));
    REQUIRE(good.status == 200);
    CHECK_THAT(good.contentType, Catch::Contains("text/html") && Catch::Contains("utf-8"));
    CHECK_THAT(good.body, Catch::Contains("<html", Catch::CaseSensitive::No));
    auto before = cli("report --format json --out " + shellQuote((data.parent_path() / "out").string()), data);
    std::string hashBefore = hashIn(before.out);
    REQUIRE(hashBefore.size() == 64);
    CHECK_THAT(good.body, Catch::Contains(hashBefore));

    Got clusterPage = httpGet(url + "/v1/report?scope=cluster:" + cluster, token);
    CHECK(clusterPage.status == 200);

    Got noToken = httpGet(url + "/v1/report?scope=nation", "");
    CHECK(noToken.status == 401);
    CHECK_THAT(noToken.body, Catch::Contains("no report token"));
    CHECK(std::count(noToken.body.begin(), noToken.body.end(), '\n') == 1);
    CHECK_THAT(noToken.body, !Catch::Contains("<html", Catch::CaseSensitive::No));
    Got wrong = httpGet(url + "/v1/report?scope=nation", token.substr(0, 42) + (token[42] == 'A' ? "B" : "A"));
    CHECK(wrong.status == 401);
    CHECK_THAT(wrong.body, Catch::Contains("unknown report token"));

    Got badScope = httpGet(url + "/v1/report?scope=village:x", token);
    CHECK(badScope.status == 400);
    CHECK_THAT(badScope.body, Catch::Contains("cluster:" + cluster));
    Got unknownCluster = httpGet(url + "/v1/report?scope=cluster:atlantis_pottery", token);
    CHECK(unknownCluster.status == 400);
    CHECK_THAT(unknownCluster.body, Catch::Contains("atlantis_pottery"));

    // --- a device enrols and syncs one visit while serve runs ---
    auto enrol = cliAdmin("enrol --officer 'Priya S' --cluster " + shellQuote(cluster), data);
    INFO(enrol.all());
    REQUIRE(enrol.status == 0);
    std::smatch m;
    REQUIRE(std::regex_search(enrol.out, m, std::regex("code: +(\\S+)")));
    std::string code = m[1].str();
    test::TestDevice device = test::newTestDevice();
    proto::EnrolRequest er{code, device.publicKey, "Tab 1", systemClock(), {}};
    er.signature = device.sign()(proto::signingBytes(er));
    auto enrolled = test::rawPost(url + "/v1/enrol", proto::Message(er));
    INFO(enrolled.curlError);
    REQUIRE(enrolled.status == 200);
    REQUIRE(enrolled.reply<proto::EnrolReply>());

    test::Flagship f = test::loadFlagship();
    auto keys = readPublicKeys(data);
    REQUIRE(std::holds_alternative<PublicKeys>(keys));
    VisitGenerator gen(f.survey, 4242);
    // A unit of the cluster the device is enrolled for: a visit elsewhere is refused.
    Record record = gen.generate(units.front(), Date{20400}).toRecord();
    if (record.id.empty()) record.id = newRecordId();
    std::vector<std::string> personal;
    for (const auto& q : f.survey->questions)
        if (q.pii) personal.push_back(q.id);
    std::string dictionary = recordDictionary(*f.survey);
    SealInput in;
    in.record = &record;
    in.personalFields = personal;
    in.aggregatorPublicKey = std::get<PublicKeys>(keys).ingestPublicKey;
    in.signingSecretKey = &device.secretKey;
    in.signingPublicKey = device.publicKey;
    in.dictionary = dictionary;
    SealedEnvelope sealed = sealEnvelope(in);
    proto::UploadBatch batch;
    batch.devicePublicKey = device.publicKey;
    batch.sentAt = systemClock();
    batch.envelopes.push_back(proto::toWire(sealed));
    batch.signature = device.sign()(proto::signingBytes(batch));
    auto uploaded = test::rawPost(url + "/v1/upload", proto::Message(batch));
    REQUIRE(uploaded.status == 200);
    auto reply = uploaded.reply<proto::UploadReply>();
    REQUIRE(reply);
    REQUIRE(reply->acks.size() == 1);
    INFO(reply->acks[0].message);
    REQUIRE(reply->acks[0].status == proto::AckStatus::Stored);

    // The served report now counts it (incremental path: serve did not rebuild), and agrees
    // with a full rebuild from storage.
    Got after = httpGet(url + "/v1/report?scope=nation", token);
    REQUIRE(after.status == 200);
    CHECK_THAT(after.body, !Catch::Contains(hashBefore));
    auto rebuilt = cli("report --format json --out " + shellQuote((data.parent_path() / "out").string()), data);
    std::string hashAfter = hashIn(rebuilt.out);
    REQUIRE(hashAfter.size() == 64);
    CHECK(hashAfter != hashBefore);
    CHECK_THAT(after.body, Catch::Contains(hashAfter));
    CHECK_THAT(rebuilt.out, Catch::Contains("visits counted: 31"));

    // The same visit again is a Duplicate: the hook is not called, nothing is counted twice.
    batch.sentAt = systemClock();
    batch.signature = device.sign()(proto::signingBytes(batch));
    auto resent = test::rawPost(url + "/v1/upload", proto::Message(batch));
    REQUIRE(resent.status == 200);
    REQUIRE(resent.reply<proto::UploadReply>());
    CHECK(resent.reply<proto::UploadReply>()->acks.at(0).status == proto::AckStatus::Duplicate);
    Got afterDuplicate = httpGet(url + "/v1/report?scope=nation", token);
    CHECK_THAT(afterDuplicate.body, Catch::Contains(hashAfter));

    // A device signature is no substitute for the token.
    Got signedOnly = httpGet(url + "/v1/report?scope=nation", "");
    CHECK(signedOnly.status == 401);

    // --- revocation takes effect on the running serve ---
    auto revoke = cli("report-tokens revoke 'State secretary office'", data);
    INFO(revoke.all());
    REQUIRE(revoke.status == 0);
    Got revoked = httpGet(url + "/v1/report?scope=nation", token);
    CHECK(revoked.status == 401);
    CHECK_THAT(revoked.body, Catch::Contains("revoked"));
    CHECK(httpGet(url + "/v1/report", bankToken).status == 200);
    CHECK(cli("report-tokens revoke 'State secretary office'", data).status == 1);
    CHECK_THAT(cli("report-tokens list", data).out, Catch::Contains("revoked"));
    CHECK(serve.terminate() == 0);

    // Issuing and revoking are in the audit log (by label, never the token).
    auto storage = openStorage(data.string());
    int issuedEntries = 0, revokedEntries = 0;
    storage->forEachAudit([&](const AuditEntry& e) {
        if (e.action == "report-token-issued") ++issuedEntries;
        if (e.action == "report-token-revoked" && e.subject == "State secretary office") ++revokedEntries;
        CHECK(e.detail.find(token) == std::string::npos);
        return true;
    });
    CHECK(issuedEntries == 2);
    CHECK(revokedEntries == 1);
    CHECK(cliAdmin("audit verify", data).status == 0);
}

TEST_CASE("GET /v1/report is charged to the per-address bucket", "[report][server]") {
    auto units = test::testRegister(1, 1, 12, 51);
    fs::path data = preparedFolder("report-rate", units);
    storeVisits(data, units, 12, 52);
    auto issued = cli("report-tokens issue --label Reader", data);
    std::string token = tokenIn(issued.out);
    REQUIRE(token.size() == 43);
    test::AggregatorProcess serve(CK_AGGREGATOR_BIN,
                                  {"--data", data.string(), "--listen", "127.0.0.1:0", "--http", "--rate", "0.2", "--burst", "2"},
                                  kPass);
    REQUIRE(serve.start());
    const std::string url = "http://127.0.0.1:" + std::to_string(serve.port()) + "/v1/report";
    CHECK(httpGet(url, token).status == 200);
    CHECK(httpGet(url, "").status == 401);  // a refused request costs a token too
    Got limited = httpGet(url, token);
    CHECK(limited.status == 429);
    CHECK_THAT(limited.body, Catch::Contains("Too many requests"));
    CHECK(serve.terminate() == 0);
}
