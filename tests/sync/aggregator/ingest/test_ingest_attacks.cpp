// Issue 11, attacks on ingest, storage and the audit log, made for real: a data folder made by
// `ck-aggregator init`, the flagship published and devices enrolled through the CLI, a real
// `ck-aggregator serve` on loopback, enrolled devices (real Ed25519 keys) sending real sealed
// envelopes over HTTPS, and the database tampered with directly through SQLite, then
// `ck-aggregator audit verify` run as the operator would.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <regex>

#include <nlohmann/json.hpp>

#include "core/report/indicator_evaluator.h"
#include "core/template/template_loader.h"
#include "sync/aggregator/audit_log.h"
#include "sync/aggregator/report/baseline_service.h"
#include "sync/aggregator/storage/sqlite_storage.h"
#include "tests/support/aggregator_process.h"
#include "tests/support/command_run.h"
#include "tests/sync/aggregator/server/live_aggregator.h"

using namespace ck;
using ck::test::runCommand;
using ck::test::shellQuote;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPass = "ingest attack tests: a long passphrase 2026";

// CK_TEST_AGGREGATOR_BIN runs the same attacks against another build of ck-aggregator (the
// one before the fix, to see them succeed there); by default the one built with these tests.
std::string aggregatorBin() {
    const char* other = std::getenv("CK_TEST_AGGREGATOR_BIN");
    return other && *other ? other : CK_AGGREGATOR_BIN;
}

test::CommandRun cliAdmin(const std::string& args, const fs::path& data) {
    return runCommand("CK_ADMIN_PASSPHRASE=" + shellQuote(kPass) + " " + shellQuote(aggregatorBin()) + " " + args +
                      " --data " + shellQuote(data.string()));
}
test::CommandRun cli(const std::string& args, const fs::path& data) {
    return runCommand("env -u CK_ADMIN_PASSPHRASE " + shellQuote(aggregatorBin()) + " " + args + " --data " +
                      shellQuote(data.string()));
}

// Runs SQL on aggregator.db directly, as someone with access to the server's disk would.
void tamper(const fs::path& data, const std::string& sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((data / agg::kSqliteFileName).c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    INFO(sql << ": " << message);
    REQUIRE(rc == SQLITE_OK);
}

uintmax_t databaseBytes(const fs::path& data) {
    uintmax_t n = 0;
    for (const char* suffix : {"", "-wal"}) {
        std::error_code ec;
        auto size = fs::file_size(data / (std::string(agg::kSqliteFileName) + suffix), ec);
        if (!ec) n += size;
    }
    return n;
}

// A data folder with the flagship published, and a real serve on it.
struct Served {
    fs::path root;
    fs::path data;
    std::string templateVersion;
    std::vector<uint8_t> ingestKey;
    std::unique_ptr<test::AggregatorProcess> serve;

    explicit Served(const std::string& name) {
        root = test::scratchFolder("test_ingest_attacks");
        data = root / "data";
        auto init = cliAdmin("init --test-kdf --name " + shellQuote(name), data);
        INFO(init.all());
        REQUIRE(init.status == 0);
        auto pub = cliAdmin(
            "templates publish " + shellQuote(std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json"),
            data);
        INFO(pub.all());
        REQUIRE(pub.status == 0);
        auto keys = agg::readPublicKeys(data);
        REQUIRE(std::holds_alternative<agg::PublicKeys>(keys));
        ingestKey = std::get<agg::PublicKeys>(keys).ingestPublicKey;
        auto survey = loadTemplateJson(test::readText(fs::path(CK_SOURCE_DIR) / "survey-templates/cluster-diagnostic.json"),
                                       "cluster-diagnostic.json")
                          .survey;
        REQUIRE(survey);
        templateVersion = survey->version;
        start();
    }
    void start() {
        serve = std::make_unique<test::AggregatorProcess>(
            aggregatorBin(), std::vector<std::string>{"--data", data.string(), "--listen", "127.0.0.1:0"}, kPass);
        REQUIRE(serve->start());
    }
    void stop() {
        if (serve) REQUIRE(serve->terminate() == 0);
        serve.reset();
    }
    std::string url() const { return serve->url(); }

    // A device enrolled for `cluster` through a code the CLI issued, over the network.
    test::TestDevice device(const std::string& cluster = test::kLiveCluster) {
        auto enrol = cliAdmin("enrol --officer 'Priya S' --cluster " + shellQuote(cluster), data);
        INFO(enrol.all());
        REQUIRE(enrol.status == 0);
        std::smatch m;
        REQUIRE(std::regex_search(enrol.out, m, std::regex("code: +(\\S+)")));
        test::TestDevice d = test::newTestDevice();
        proto::EnrolRequest r{m[1].str(), d.publicKey, "Tab", agg::systemClock(), {}};
        r.signature = d.sign()(proto::signingBytes(r));
        auto reply = test::rawPost(url() + "/v1/enrol", proto::Message(r));
        REQUIRE(reply.status == 200);
        REQUIRE(reply.reply<proto::EnrolReply>());
        d.deviceId = reply.reply<proto::EnrolReply>()->deviceId;
        return d;
    }
    SealedEnvelope seal(const Record& record, const test::TestDevice& device) const {
        SealInput in;
        in.record = &record;
        in.aggregatorPublicKey = ingestKey;
        in.signingSecretKey = &device.secretKey;
        in.signingPublicKey = device.publicKey;
        return sealEnvelope(in);
    }
    proto::UploadBatch batch(const std::vector<SealedEnvelope>& envelopes, const test::TestDevice& device) const {
        proto::UploadBatch b;
        b.devicePublicKey = device.publicKey;
        b.sentAt = agg::systemClock();
        for (const auto& e : envelopes) b.envelopes.push_back(proto::toWire(e));
        b.signature = device.sign()(proto::signingBytes(b));
        return b;
    }
    std::vector<proto::RecordAck> upload(const std::vector<Record>& records, const test::TestDevice& device) {
        std::vector<SealedEnvelope> envelopes;
        for (const auto& r : records) envelopes.push_back(seal(r, device));
        auto reply = test::rawPost(url() + "/v1/upload", proto::Message(batch(envelopes, device)));
        INFO(reply.curlError);
        REQUIRE(reply.status == 200);
        REQUIRE(reply.reply<proto::UploadReply>());
        return reply.reply<proto::UploadReply>()->acks;
    }
    Record visit(int n) const { return test::visitRecord(n, templateVersion); }
};

}  // namespace

TEST_CASE("attack: a device cannot retire another device's visit with a correction", "[sync][agg][attack]") {
    Served s("corrections");
    test::TestDevice honest = s.device(), other = s.device();
    Record original = s.visit(1);
    REQUIRE(s.upload({original}, honest).at(0).status == proto::AckStatus::Stored);

    // The other device names the honest device's visit as the parent of a visit of its own.
    Record hostile = s.visit(2);
    hostile.parentId = original.id;
    auto acks = s.upload({hostile}, other);
    INFO(acks.at(0).message);
    CHECK(acks.at(0).status == proto::AckStatus::Refused);
    CHECK_THAT(acks.at(0).message, Catch::Contains(original.id) && Catch::Contains("only its own visits"));

    // The device's own correction of its own visit is taken, in the same batch as its parent too.
    Record own = s.visit(3);
    own.parentId = original.id;
    CHECK(s.upload({own}, honest).at(0).status == proto::AckStatus::Stored);
    Record fresh = s.visit(4), fix = s.visit(5);
    fix.parentId = fresh.id;
    auto both = s.upload({fresh, fix}, other);
    CHECK(both.at(0).status == proto::AckStatus::Stored);
    CHECK(both.at(1).status == proto::AckStatus::Stored);
    s.stop();

    auto storage = agg::openStorage(s.data.string());
    CHECK_FALSE(storage->findDeviceVisit(other.deviceId, hostile.id));
    CHECK(storage->countVisits() == 4);
    // The report counts the honest device's correction and the other device's correction,
    // each replacing its own device's visit: 2 visits.
    agg::BaselineService report(*storage);
    CHECK(report.visitsCounted() == 2);
}

TEST_CASE("attack: a record id read off another device's bundle cannot be squatted", "[sync][agg][attack]") {
    Served s("squatting");
    test::TestDevice rightful = s.device(), squatter = s.device();
    Record mine = s.visit(1);
    // The squatter read the id off the rightful device's USB stick and sends first, under its own key.
    Record squat = s.visit(2);
    squat.id = mine.id;
    CHECK(s.upload({squat}, squatter).at(0).status == proto::AckStatus::Stored);  // its own visit, kept apart

    // The rightful device's visit is stored, not refused as a conflict with the squatter's.
    auto acks = s.upload({mine}, rightful);
    INFO(acks.at(0).message);
    CHECK(acks.at(0).status == proto::AckStatus::Stored);
    CHECK(s.upload({mine}, rightful).at(0).status == proto::AckStatus::Duplicate);

    // By USB: the rightful device's bundle of another visit the squatter copied the id of first.
    Record second = s.visit(3);
    Record squat2 = s.visit(4);
    squat2.id = second.id;
    CHECK(s.upload({squat2}, squatter).at(0).status == proto::AckStatus::Stored);
    proto::Bundle bundle;
    bundle.createdBy = "Tab 7";
    bundle.createdAt = agg::systemClock();
    bundle.batches.push_back(s.batch({s.seal(second, rightful)}, rightful));
    auto frame = proto::encodeFrame(bundle);
    std::ofstream(s.root / "tab7.ckbundle", std::ios::binary).write(reinterpret_cast<const char*>(frame.data()),
                                                                     std::streamsize(frame.size()));
    auto import = cliAdmin("import " + shellQuote((s.root / "tab7.ckbundle").string()) + " --receipt " +
                               shellQuote((s.root / "receipt.ck").string()),
                           s.data);
    INFO(import.all());
    REQUIRE(import.status == 0);
    CHECK_THAT(import.out, Catch::Contains("1 stored, 0 duplicate, 0 refused"));
    s.stop();

    auto storage = agg::openStorage(s.data.string());
    CHECK(storage->countVisits() == 4);
    CHECK(storage->findDeviceVisit(rightful.deviceId, mine.id)->contentHash != storage->findDeviceVisit(squatter.deviceId, mine.id)->contentHash);
    CHECK(storage->findDeviceVisit(rightful.deviceId, second.id));
}

TEST_CASE("attack: a visit cannot choose the cluster it counts for", "[sync][agg][attack]") {
    Served s("cluster");
    test::TestDevice tiruppur = s.device("tiruppur_knitwear");
    Record elsewhere = s.visit(1);
    for (auto& a : elsewhere.answers)
        if (a.questionId == "cluster") a.value = Value::text("surat_textiles");
    Record honest = s.visit(2);
    auto acks = s.upload({elsewhere, honest}, tiruppur);
    INFO(acks.at(0).message);
    CHECK(acks.at(0).status == proto::AckStatus::Refused);
    CHECK_THAT(acks.at(0).message, Catch::Contains("surat_textiles") && Catch::Contains("tiruppur_knitwear"));
    CHECK(acks.at(1).status == proto::AckStatus::Stored);
    s.stop();
    auto storage = agg::openStorage(s.data.string());
    CHECK(storage->countVisits() == 1);
    agg::BaselineService report(*storage);
    auto scopes = report.knownScopes();
    CHECK(std::find(scopes.begin(), scopes.end(), "cluster:surat_textiles") == scopes.end());
}

TEST_CASE("attack: records that break their template are refused with a reason the officer can read",
          "[sync][agg][attack]") {
    Served s("validation");
    test::TestDevice tab = s.device();
    auto with = [&](int n, const std::string& question, Value value) {
        Record r = s.visit(n);
        bool found = false;
        for (auto& a : r.answers)
            if (a.questionId == question) a.value = value, found = true;
        if (!found) r.answers.push_back({question, std::move(value), false, {}});
        return r;
    };
    auto without = [&](int n, const std::string& question) {
        Record r = s.visit(n);
        std::erase_if(r.answers, [&](const Answer& a) { return a.questionId == question; });
        return r;
    };
    std::vector<std::pair<Record, std::string>> bad = {
        {with(1, "turnover", Value::number(std::numeric_limits<double>::quiet_NaN())), "turnover"},
        {with(2, "turnover", Value::number(std::numeric_limits<double>::infinity())), "turnover"},
        {with(3, "turnover", Value::number(1e300)), "too large"},
        {with(4, "turnover", Value::text("lots")), "turnover"},
        {with(5, "consent", Value::text("maybe")), "maybe"},
        {without(6, "unit_name"), "unit_name"},
        {with(7, "no_such_question", Value::text("x")), "no_such_question"},
    };
    std::vector<Record> records;
    for (const auto& [r, why] : bad) records.push_back(r);
    Record good = s.visit(8);
    records.push_back(good);
    auto acks = s.upload(records, tab);
    REQUIRE(acks.size() == bad.size() + 1);
    for (size_t i = 0; i < bad.size(); ++i) {
        INFO("record " << i << ": " << acks[i].message);
        CHECK(acks[i].status == proto::AckStatus::Refused);
        CHECK(acks[i].reason == proto::RefusalReason::BadContent);
        CHECK_THAT(acks[i].message, Catch::Contains(bad[i].second) && Catch::Contains("does not meet template"));
    }
    CHECK(acks.back().status == proto::AckStatus::Stored);
    s.stop();
    CHECK(agg::openStorage(s.data.string())->countVisits() == 1);
}

TEST_CASE("attack: one request of refused envelopes with huge ids cannot grow the database", "[sync][agg][attack]") {
    Served s("refusal-flood");
    test::TestDevice tab = s.device();
    Record r = s.visit(1);
    SealedEnvelope e = s.seal(r, tab);
    // A batch of envelopes whose wire ids do not match what they seal: each is refused.
    auto batchOf = [&](int count, auto idOf) {
        proto::UploadBatch b;
        b.devicePublicKey = tab.publicKey;
        b.sentAt = agg::systemClock();
        for (int i = 0; i < count; ++i) {
            proto::WireEnvelope w = proto::toWire(e);
            w.recordId = idOf(i);
            b.envelopes.push_back(std::move(w));
        }
        b.signature = tab.sign()(proto::signingBytes(b));
        return b;
    };
    auto auditCount = [&] { return agg::openStorage(s.data.string())->countAudit(); };
    // Sizes compared with serve stopped, so the write-ahead log is folded into the file both times.
    s.stop();
    const uint64_t auditBefore = auditCount();
    const uintmax_t before = databaseBytes(s.data);
    s.start();

    // 120 ids of 60 KB (7 MB, under the body limit): before the fix each refusal wrote its whole
    // id into the audit log (98 MB from one request). Ids are at most 128 bytes on the wire now,
    // so the frame is refused whole, before anything is written.
    auto huge = test::rawPost(s.url() + "/v1/upload",
                              proto::Message(batchOf(120, [](int i) { return std::string(60 * 1024, char('a' + i % 26)); })));
    INFO(huge.curlError);
    CHECK(huge.status == 400);

    // 1,000 distinct ids of the largest size allowed (128 bytes), each refused: the refusals are
    // logged one by one up to a cap, the rest in one summary entry.
    auto many = test::rawPost(s.url() + "/v1/upload", proto::Message(batchOf(1000, [](int i) {
                                  std::string id = "squat-" + std::to_string(i) + "-";
                                  return id + std::string(128 - id.size(), 'x');
                              })));
    INFO(many.curlError);
    REQUIRE(many.status == 200);
    auto acks = many.reply<proto::UploadReply>();
    REQUIRE(acks);
    REQUIRE(acks->acks.size() == 1000);
    for (const auto& a : acks->acks) CHECK(a.status == proto::AckStatus::Refused);
    s.stop();
    uintmax_t after = databaseBytes(s.data);
    std::printf("refusal flood: 120 envelopes with 60 KB ids, then 1,000 refused: database grew by %ju bytes\n", after - before);
    CHECK(after - before < 256 * 1024);
    auto storage = agg::openStorage(s.data.string());
    CHECK(storage->countAudit() - auditBefore <= 21 + 1);  // 20 entries, one summary (and the head's own)
    bool longSubject = false;
    storage->forEachAudit([&](const agg::AuditEntry& entry) {
        longSubject = longSubject || entry.subject.size() > 160;
        return true;
    });
    CHECK_FALSE(longSubject);
}

TEST_CASE("attack: an attachment naming one chunk many times is refused", "[sync][agg][attack]") {
    Served s("chunk-list");
    test::TestDevice tab = s.device();
    Record r = s.visit(1);
    REQUIRE(s.upload({r}, tab).at(0).status == proto::AckStatus::Stored);
    std::vector<uint8_t> data(1000, 0x5a);
    proto::ChunkUpload chunk{tab.publicKey, agg::systemClock(), data, {}};
    chunk.signature = tab.sign()(proto::signingBytes(chunk));
    REQUIRE(test::rawPost(s.url() + "/v1/chunks", proto::Message(chunk)).status == 200);
    auto hash = proto::chunkHash(data.data(), data.size());
    proto::AttachmentCommit commit{tab.publicKey, agg::systemClock(), r.id, "photo-1", "image/jpeg", 1000 * 5000,
                                   std::vector<std::vector<uint8_t>>(5000, hash), {}};
    commit.signature = tab.sign()(proto::signingBytes(commit));
    auto reply = test::rawPost(s.url() + "/v1/attachments", proto::Message(commit));
    CHECK(reply.status != 200);
    REQUIRE(reply.error());
    CHECK_THAT(reply.error()->message, Catch::Contains("same chunk more than once"));
    // Named once, the same chunk makes a good attachment.
    proto::AttachmentCommit once{tab.publicKey, agg::systemClock(), r.id, "photo-1", "image/jpeg", 1000, {hash}, {}};
    once.signature = tab.sign()(proto::signingBytes(once));
    CHECK(test::rawPost(s.url() + "/v1/attachments", proto::Message(once)).status == 200);
}

TEST_CASE("attack: stored visits deleted or rewritten on disk, and a recomputed chain, are caught by audit verify",
          "[sync][agg][attack][audit]") {
    Served s("audit");
    test::TestDevice tab = s.device();
    std::vector<Record> records;
    for (int i = 0; i < 5; ++i) records.push_back(s.visit(i));
    for (const auto& a : s.upload(records, tab)) REQUIRE(a.status == proto::AckStatus::Stored);
    s.stop();
    auto verify = [&](const fs::path& data) {
        auto run = cli("audit verify", data);
        INFO(run.all());
        return run;
    };
    auto clean = verify(s.data);
    REQUIRE(clean.status == 0);
    REQUIRE_THAT(clean.out, Catch::Contains("audit log intact"));
    REQUIRE(fs::exists(s.data / agg::kAuditHeadFileName));

    // Each tamper on its own copy of the data folder.
    auto copy = [&](const std::string& name) {
        fs::path to = s.root / name;
        fs::copy(s.data, to, fs::copy_options::recursive);
        return to;
    };
    const std::string victim = records[2].id;

    SECTION("a stored visit deleted") {
        fs::path d = copy("deleted");
        tamper(d, "DELETE FROM visits WHERE record_id = '" + victim + "'");
        auto run = verify(d);
        CHECK(run.status != 0);
        CHECK_THAT(run.out, Catch::Contains("BROKEN") && Catch::Contains(victim) && Catch::Contains("deleted"));
    }
    SECTION("a stored visit's record rewritten, its content hash kept") {
        fs::path d = copy("rewritten");
        tamper(d, "UPDATE visits SET record = X'00' WHERE record_id = '" + victim + "'");
        auto run = verify(d);
        CHECK(run.status != 0);
        CHECK_THAT(run.out, Catch::Contains("BROKEN") && Catch::Contains(victim) && Catch::Contains("rewritten"));
    }
    SECTION("a visit and its log entry deleted, the chain recomputed without the key") {
        fs::path d = copy("recomputed");
        tamper(d, "DELETE FROM visits WHERE record_id = '" + victim + "';"
                  "DELETE FROM audit WHERE subject = '" + victim + "'");
        // Renumber and rehash every entry, as an intruder who read audit_log.cpp would.
        {
            auto storage = agg::openStorage(d.string());
            std::vector<agg::AuditEntry> entries;
            storage->forEachAudit([&](const agg::AuditEntry& e) {
                entries.push_back(e);
                return true;
            });
            std::string sql = "DELETE FROM audit;";
            const agg::AuditEntry* prev = nullptr;
            std::vector<agg::AuditEntry> rebuilt;
            rebuilt.reserve(entries.size());  // `prev` points into it
            for (const auto& e : entries) {
                rebuilt.push_back(agg::chainEntry(prev, {e.at, e.action, e.actor, e.subject, e.detail}));
                prev = &rebuilt.back();
            }
            for (const auto& e : rebuilt) {
                auto q = [](const std::string& t) {
                    std::string o = "'";
                    for (char c : t) o += c == '\'' ? std::string("''") : std::string(1, c);
                    return o + "'";
                };
                sql += "INSERT INTO audit VALUES (" + std::to_string(e.seq) + ", " + std::to_string(e.at) + ", " +
                       q(e.action) + ", " + q(e.actor) + ", " + q(e.subject) + ", " + q(e.detail) + ", " + q(e.prevHash) +
                       ", " + q(e.hash) + ");";
            }
            storage.reset();
            tamper(d, sql);
            auto reopened = agg::openStorage(d.string());
            agg::AuditReport alone = agg::verifyAuditChain(*reopened);
            for (const auto& p : alone.problems) UNSCOPED_INFO(p.message);
            REQUIRE(alone.problems.empty());  // the chain alone looks intact
        }
        auto run = verify(d);
        CHECK(run.status != 0);
        CHECK_THAT(run.out, Catch::Contains("BROKEN") && Catch::Contains("does not hold the head signed"));
    }
    SECTION("the signed head file deleted, or signed by another key") {
        fs::path d = copy("headless");
        fs::remove(d / agg::kAuditHeadFileName);
        auto run = verify(d);
        CHECK(run.status != 0);
        CHECK_THAT(run.out, Catch::Contains("BROKEN") && Catch::Contains("missing"));

        std::string text = test::readText(s.data / agg::kAuditHeadFileName);
        auto at = text.find("signature ");
        REQUIRE(at != std::string::npos);
        text[at + 10] = text[at + 10] == '0' ? '1' : '0';
        std::ofstream(d / agg::kAuditHeadFileName) << text;
        run = verify(d);
        CHECK(run.status != 0);
        CHECK_THAT(run.out, Catch::Contains("not signed by this project's key"));
    }
}

namespace {

// A device's assignments as serve sends them (/v1/updates), by unit id: the JSON of each.
std::map<std::string, nlohmann::json> assignmentsOf(const Served& s, const test::TestDevice& device) {
    proto::UpdatesRequest r{device.publicKey, 0, agg::systemClock(), {}};
    r.signature = device.sign()(proto::signingBytes(r));
    auto reply = test::rawPost(s.url() + "/v1/updates", proto::Message(r));
    INFO(reply.curlError);
    REQUIRE(reply.status == 200);
    REQUIRE(reply.reply<proto::Updates>());
    const proto::Updates updates = *reply.reply<proto::Updates>();  // a temporary: keep it whole
    std::map<std::string, nlohmann::json> out;
    for (const auto& a : updates.assignments) out[a.unitId] = nlohmann::json::parse(a.json);
    return out;
}

}  // namespace

TEST_CASE("attack: a visit cannot choose the size class it is weighted in", "[sync][agg][attack]") {
    Served s("stratum");
    // What the flagship's answers make of the test visit's size class (its stratum expression).
    const std::string answered = [&] {
        auto survey = loadTemplateJsonFile(fs::path(CK_SOURCE_DIR) / "survey-templates/cluster-diagnostic.json").survey;
        REQUIRE(survey);
        return report::IndicatorEvaluator(*survey).evaluate(s.visit(0)).stratum;
    }();
    REQUIRE(answered == "small");
    // The register: one unit in the class the answers give, one in another.
    {
        std::ofstream csv(s.root / "register.csv");
        csv << "unit_id,name,cluster,district,state,stratum,sector\n"
               "TPR-SAME-0001,Sri Murugan Knits,tiruppur_knitwear,Tiruppur,Tamil Nadu,small,textiles\n"
               "TPR-BIGGER-0002,Kaveri Garments,tiruppur_knitwear,Tiruppur,Tamil Nadu,medium,textiles\n";
    }
    auto assign = cli("assign " + shellQuote((s.root / "register.csv").string()), s.data);
    INFO(assign.all());
    REQUIRE(assign.status == 0);
    test::TestDevice tab = s.device(), other = s.device();

    auto mine = assignmentsOf(s, tab), theirs = assignmentsOf(s, other);
    REQUIRE(mine.count("TPR-SAME-0001"));
    REQUIRE(mine.count("TPR-BIGGER-0002"));
    const std::string same = mine["TPR-SAME-0001"]["assignment_token"], bigger = mine["TPR-BIGGER-0002"]["assignment_token"];
    const std::string othersToken = theirs["TPR-SAME-0001"]["assignment_token"];
    // Opaque: the unit and the device are not in it; one per device.
    CHECK(same.find("TPR-SAME") == std::string::npos);
    CHECK(same.find(tab.deviceId) == std::string::npos);
    CHECK(same != othersToken);
    CHECK(assignmentsOf(s, tab)["TPR-SAME-0001"]["assignment_token"] == same);  // the same unit, the same token

    auto withToken = [&](int n, const std::string& token) {
        Record r = s.visit(n);
        r.assignment = token;
        return r;
    };
    std::string altered = same;
    altered[10] = altered[10] == 'A' ? 'B' : 'A';
    Record agrees = withToken(1, same), disagrees = withToken(2, bigger), stolen = withToken(3, othersToken),
           forged = withToken(4, altered), made = withToken(5, "A1.bm90LWEtdG9rZW4tb2YtdGhpcy1hZ2dyZWdhdG9y"),
           found = s.visit(6);
    auto acks = s.upload({agrees, disagrees, stolen, forged, made, found}, tab);
    for (const auto& a : acks) UNSCOPED_INFO(int(a.status) << " " << a.message);
    CHECK(acks.at(0).status == proto::AckStatus::Stored);
    CHECK(acks.at(1).status == proto::AckStatus::Stored);
    CHECK(acks.at(2).status == proto::AckStatus::Refused);
    CHECK_THAT(acks.at(2).message, Catch::Contains("assigned to another device"));
    CHECK(acks.at(3).status == proto::AckStatus::Refused);
    CHECK_THAT(acks.at(3).message, Catch::Contains("did not make"));
    CHECK(acks.at(4).status == proto::AckStatus::Refused);
    CHECK_THAT(acks.at(4).message, Catch::Contains("did not make"));
    CHECK(acks.at(5).status == proto::AckStatus::Stored);
    // The token the other device got is good for that device.
    CHECK(s.upload({withToken(7, othersToken)}, other).at(0).status == proto::AckStatus::Stored);
    s.stop();

    {
        auto storage = agg::openStorage(s.data.string());
        auto a = storage->findDeviceVisit(tab.deviceId, agrees.id), d = storage->findDeviceVisit(tab.deviceId, disagrees.id),
             f = storage->findDeviceVisit(tab.deviceId, found.id);
        REQUIRE(a);
        REQUIRE(d);
        REQUIRE(f);
        CHECK(a->registerStratum == "small");
        CHECK(a->review.empty());
        CHECK(d->registerStratum == "medium");
        CHECK_THAT(d->review, Catch::Contains("'small'") && Catch::Contains("'medium'"));
        CHECK(f->registerStratum.empty());
        CHECK_THAT(f->review, Catch::Contains("no assigned unit"));
        CHECK(storage->countForReview() == 2);
        // The stored record keeps the token (what the device signed), never the unit id.
        auto back = deserializeRecord(std::string_view(reinterpret_cast<const char*>(d->record.data()), d->record.size()));
        REQUIRE(back.record);
        CHECK(back.record->assignment == bigger);

        // The report weights the disagreeing visit in the register's class, and says what is held.
        agg::BaselineService service(*storage);
        auto strata = service.rollupSnapshot().strata();
        CHECK(strata.count({"tiruppur_knitwear", "medium"}));
        CHECK(strata.at({"tiruppur_knitwear", "small"}).visits == 3);  // agrees, found, the other device's
        report::ReportRequest request;
        request.scope = {report::ScopeLevel::Cluster, "tiruppur_knitwear"};
        auto r = service.report(request);
        bool noted = false;
        for (const auto& n : r.methodNotes)
            noted = noted || (n.find("2 visits are held for review") != std::string::npos &&
                              n.find("1 answered another size class") != std::string::npos &&
                              n.find("1 named no assigned unit") != std::string::npos);
        CHECK(noted);
    }
    auto review = cli("review", s.data);
    INFO(review.all());
    CHECK(review.status == 0);
    CHECK_THAT(review.out, Catch::Contains(disagrees.id) && Catch::Contains(found.id) &&
                               Catch::Contains("2 visits held for review"));
    CHECK_THAT(review.out, !Catch::Contains(agrees.id));
    auto status = cli("status", s.data);
    CHECK_THAT(status.out, Catch::Contains("for review:     2"));

    // The register's class as stored is covered by the audit log like the rest of the row.
    auto clean = cli("audit verify", s.data);
    INFO(clean.all());
    CHECK(clean.status == 0);
    tamper(s.data, "UPDATE visits SET register_stratum = 'small', review = '' WHERE record_id = '" + disagrees.id + "'");
    auto broken = cli("audit verify", s.data);
    INFO(broken.all());
    CHECK(broken.status != 0);
    CHECK_THAT(broken.out, Catch::Contains(disagrees.id) && Catch::Contains("rewritten"));
}

TEST_CASE("attack: a comment on a record id two devices used goes to the device named, never to both",
          "[sync][agg][attack]") {
    Served s("comments");
    test::TestDevice rightful = s.device(), squatter = s.device();
    Record mine = s.visit(1);
    Record squat = s.visit(2);
    squat.id = mine.id;  // read off the rightful device's stick
    REQUIRE(s.upload({squat}, squatter).at(0).status == proto::AckStatus::Stored);
    REQUIRE(s.upload({mine}, rightful).at(0).status == proto::AckStatus::Stored);

    // The bare id is ambiguous: refused, naming both devices' visits.
    auto ambiguous = cli("comment " + mine.id + " 'Turnover looks high: please recheck'", s.data);
    INFO(ambiguous.all());
    CHECK(ambiguous.status == 1);
    CHECK_THAT(ambiguous.err, Catch::Contains("2 devices sent a visit " + mine.id) &&
                                  Catch::Contains(rightful.deviceId + "/" + mine.id) &&
                                  Catch::Contains(squatter.deviceId + "/" + mine.id));
    auto wrongDevice = cli("comment dev-00000000/" + mine.id + " 'x'", s.data);
    CHECK(wrongDevice.status == 1);
    CHECK_THAT(wrongDevice.err, Catch::Contains("sent no visit"));
    auto named = cli("comment " + rightful.deviceId + "/" + mine.id + " 'Turnover looks high: please recheck'", s.data);
    INFO(named.all());
    REQUIRE(named.status == 0);
    CHECK_THAT(named.out, Catch::Contains("queued for " + rightful.deviceId));
    // A record id one device used is still enough alone.
    Record only = s.visit(3);
    REQUIRE(s.upload({only}, rightful).at(0).status == proto::AckStatus::Stored);
    CHECK(cli("comment " + only.id + " 'Please add the photo'", s.data).status == 0);

    auto commentsOf = [&](const test::TestDevice& device) {
        proto::UpdatesRequest r{device.publicKey, 0, agg::systemClock(), {}};
        r.signature = device.sign()(proto::signingBytes(r));
        auto reply = test::rawPost(s.url() + "/v1/updates", proto::Message(r));
        REQUIRE(reply.status == 200);
        REQUIRE(reply.reply<proto::Updates>());
        return reply.reply<proto::Updates>()->comments;
    };
    auto toRightful = commentsOf(rightful), toSquatter = commentsOf(squatter);
    REQUIRE(toRightful.size() == 2);
    CHECK(toRightful[0].recordId == mine.id);
    CHECK(toRightful[0].text == "Turnover looks high: please recheck");
    CHECK(toSquatter.empty());  // the same record id, another device's visit: nothing of it
    s.stop();
    auto storage = agg::openStorage(s.data.string());
    CHECK(storage->commentsFor(squatter.deviceId, mine.id).empty());
    CHECK(storage->commentsFor(rightful.deviceId, mine.id).size() == 1);
}
