// `ck-aggregator report`, `report-tokens` and GET /v1/report, driven as an operator and a
// report reader would: the real binary on a real data folder, a real `serve` on loopback,
// and a device that syncs a visit while it runs (the incremental path).
#include <catch2/catch.hpp>

#include <curl/curl.h>

#include <regex>

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
