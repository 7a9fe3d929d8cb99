// The storage contract on SQLite data folders, and what only the SQLite backend promises:
// data survives a reopen, foreign or newer files are refused untouched, and several
// connections or processes share one folder.
#include <catch2/catch.hpp>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "sync/aggregator/audit_log.h"
#include "sync/aggregator/storage.h"
#include "sync/aggregator/storage/sqlite_storage.h"
#include "tests/sync/aggregator/storage/storage_contract.h"

namespace fs = std::filesystem;
using namespace ck::agg;

namespace {

fs::path scratch(const std::string& name) {
    fs::path p = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_agg_storage" / name;
    fs::remove_all(p);
    fs::create_directories(p.parent_path());
    return p;
}

// Runs statements on the file directly, as an intruder (or a foreign program) would.
void runSql(const fs::path& dbFile, std::string_view sql) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dbFile.c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char* err = nullptr;
    int rc = sqlite3_exec(db, std::string(sql).c_str(), nullptr, nullptr, &err);
    std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    INFO(message);
    REQUIRE(rc == SQLITE_OK);
}

std::string fileBytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

StoredVisit visit(const std::string& id, int64_t at, const std::string& hash = std::string(64, 'c')) {
    StoredVisit v;
    v.recordId = id;
    v.contentHash = hash;
    v.templateId = "cluster-diagnostic";
    v.templateVersion = "1.0.0";
    v.deviceId = "dev-00000001";
    v.cluster = "A";
    v.receivedAt = at;
    v.envelope = std::vector<uint8_t>(4000, uint8_t(at));
    v.record = {1, 2, 3};
    return v;
}

std::string messageOf(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const StorageFailure& e) {
        return e.what();
    }
    return "(no StorageFailure thrown)";
}

}  // namespace

TEST_CASE("SQLite storage meets the storage contract", "[sync][storage]") {
    static int n = 0;
    fs::path current;
    runStorageContract(
        [&] {
            current = scratch("contract-" + std::to_string(++n));
            return openSqliteStorage(current);
        },
        [&](std::string_view sql) { runSql(current / kSqliteFileName, sql); });
}

TEST_CASE("SQLite storage: data written survives closing and reopening the folder", "[sync][storage]") {
    fs::path folder = scratch("reopen");
    std::string head;
    {
        auto s = openStorage("sqlite:" + folder.string());
        CHECK(s->describe().find(folder.string()) != std::string::npos);
        s->addEnrolmentCode({"code", "Asha", "A", 1, 10'000, 0, ""}, {1, "enrolment-code", "operator", "Asha", ""});
        DeviceRow d;
        d.deviceId = "dev-00000001";
        d.publicKey = std::vector<uint8_t>(32, 7);
        REQUIRE(s->redeemEnrolmentCode("code", d, 5, nullptr) == RedeemOutcome::Enrolled);
        REQUIRE(s->putVisits({visit("rec-1", 10), visit("rec-2", 11)}).size() == 2);
        REQUIRE(s->putTemplate({"t", "1", "{}", {1}, 3}, {3, "published", "operator", "t@1", ""}));
        s->putChunk({9}, {1, 2, 3}, 4);
        head = verifyAuditChain(*s).headHash;
    }
    auto s = openStorage(folder.string());  // a plain path means SQLite too
    CHECK(s->countVisits() == 2);
    REQUIRE(s->findVisit("rec-2"));
    CHECK(s->findVisit("rec-2")->envelope == visit("rec-2", 11).envelope);
    CHECK(s->findDeviceById("dev-00000001"));
    CHECK(s->findTemplate("t", "1"));
    CHECK(s->readChunk({9}) == std::vector<uint8_t>{1, 2, 3});
    CHECK(s->feedSince(0, "A", "", 10).size() == 1);
    // The chain goes on from where it was, and the head noted before is still in it.
    REQUIRE(s->putVisits({visit("rec-3", 12)}) == std::vector<PutOutcome>{PutOutcome::Stored});
    AuditReport r = verifyAuditChain(*s, head);
    CHECK(r.problems.empty());
    CHECK(r.entries == 6);
}

TEST_CASE("SQLite storage: a database from a newer ClusterKit is refused and left as it was", "[sync][storage]") {
    fs::path folder = scratch("newer");
    { openSqliteStorage(folder)->putVisits({visit("rec-1", 1)}); }
    runSql(folder / kSqliteFileName, "UPDATE meta SET value = '99' WHERE key = 'schema_version'");
    std::string msg = messageOf([&] { openSqliteStorage(folder); });
    CHECK(msg.find("newer ClusterKit") != std::string::npos);
    CHECK(msg.find("schema version 99") != std::string::npos);
    CHECK(msg.find(folder.string()) != std::string::npos);
    runSql(folder / kSqliteFileName, "UPDATE meta SET value = '" + std::to_string(kSqliteSchemaVersion) +
                                         "' WHERE key = 'schema_version'");
    CHECK(openSqliteStorage(folder)->countVisits() == 1);  // nothing was lost by the refusal
}

// Version 1's schema exactly as ClusterKit wrote it before visits were keyed by device.
constexpr const char* kSchemaVersion1 = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE devices (
  device_id TEXT PRIMARY KEY, public_key BLOB NOT NULL UNIQUE, label TEXT NOT NULL, officer TEXT NOT NULL,
  cluster TEXT NOT NULL, enrolled_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE enrolment_codes (
  code_hash TEXT PRIMARY KEY, officer TEXT NOT NULL, cluster TEXT NOT NULL, issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, used_at INTEGER NOT NULL DEFAULT 0, used_by_device TEXT NOT NULL DEFAULT '');
CREATE TABLE visits (
  record_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, parent_id TEXT NOT NULL, template_id TEXT NOT NULL,
  template_version TEXT NOT NULL, device_id TEXT NOT NULL, cluster TEXT NOT NULL, received_at INTEGER NOT NULL,
  envelope BLOB NOT NULL, record BLOB NOT NULL);
CREATE INDEX visits_by_arrival ON visits (received_at, record_id);
CREATE TABLE templates (
  template_id TEXT NOT NULL, version TEXT NOT NULL, json_text TEXT NOT NULL, signature BLOB NOT NULL,
  published_at INTEGER NOT NULL, PRIMARY KEY (template_id, version));
CREATE TABLE register_units (
  unit_id TEXT PRIMARY KEY, name TEXT NOT NULL, cluster TEXT NOT NULL, district TEXT NOT NULL,
  state TEXT NOT NULL, stratum TEXT NOT NULL, sector TEXT NOT NULL);
CREATE TABLE comments (
  id INTEGER PRIMARY KEY, record_id TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX comments_by_record ON comments (record_id);
CREATE TABLE feed (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL, cluster TEXT NOT NULL,
  device_id TEXT NOT NULL, key TEXT NOT NULL);
CREATE TABLE chunks (hash BLOB PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE attachments (
  attachment_id TEXT PRIMARY KEY, record_id TEXT NOT NULL, device_id TEXT NOT NULL, media_type TEXT NOT NULL,
  total_bytes INTEGER NOT NULL, chunk_hashes BLOB NOT NULL, committed_at INTEGER NOT NULL);
CREATE INDEX attachments_by_record ON attachments (record_id);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, action TEXT NOT NULL, actor TEXT NOT NULL,
  subject TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
PRAGMA application_id = 1128483143;
INSERT INTO meta (key, value) VALUES ('application', 'clusterkit-aggregator'), ('schema_version', '1');
INSERT INTO visits VALUES ('rec-old', 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', '',
  'cluster-diagnostic', '1.0.0', 'dev-rightful', 'A', 10, X'0102', X'0304');
INSERT INTO chunks VALUES (X'0909', X'010203');
)sql";

TEST_CASE("SQLite storage: a version 1 data folder is migrated, its visits stay and ids are then per device",
          "[sync][storage]") {
    fs::path folder = scratch("migrate-v1");
    fs::create_directories(folder);
    runSql(folder / kSqliteFileName, kSchemaVersion1);
    auto s = openSqliteStorage(folder);
    CHECK(s->countVisits() == 1);
    auto old = s->findDeviceVisit("dev-rightful", "rec-old");
    REQUIRE(old);
    CHECK(old->envelope == std::vector<uint8_t>{1, 2});
    CHECK(old->record == std::vector<uint8_t>{3, 4});
    // A chunk from before counts as committed: the cleanup never deletes old data.
    CHECK(s->dropUncommittedChunks(1'000'000) == 0);
    CHECK(s->readChunk({9, 9}) == std::vector<uint8_t>{1, 2, 3});
    // The id from another device is now its own visit, not a conflict with the old one.
    StoredVisit squat = visit("rec-old", 20, std::string(64, 'd'));
    squat.deviceId = "dev-squatter";
    CHECK(s->putVisits({squat}) == std::vector<PutOutcome>{PutOutcome::Stored});
    CHECK(s->findDeviceVisit("dev-rightful", "rec-old")->contentHash == std::string(64, 'c'));
    s.reset();
    // Opened again: already version 2, nothing migrated twice.
    auto again = openSqliteStorage(folder);
    CHECK(again->countVisits() == 2);
}

TEST_CASE("SQLite storage: a file that is not a ClusterKit aggregator database is refused untouched",
          "[sync][storage]") {
    SECTION("another program's SQLite database") {
        fs::path folder = scratch("foreign-sqlite");
        fs::create_directories(folder);
        runSql(folder / kSqliteFileName, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);"
                                         "INSERT INTO notes (text) VALUES ('mine')");
        std::string before = fileBytes(folder / kSqliteFileName);
        std::string msg = messageOf([&] { openStorage(folder.string()); });
        CHECK(msg.find("is not a ClusterKit aggregator database") != std::string::npos);
        CHECK(msg.find("notes") != std::string::npos);
        CHECK(fileBytes(folder / kSqliteFileName) == before);
        CHECK_FALSE(fs::exists(folder / (std::string(kSqliteFileName) + "-wal")));
    }
    SECTION("an SQLite database with someone else's meta table") {
        fs::path folder = scratch("foreign-meta");
        fs::create_directories(folder);
        runSql(folder / kSqliteFileName, "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
                                         "INSERT INTO meta VALUES ('application', 'kobo')");
        std::string msg = messageOf([&] { openStorage(folder.string()); });
        CHECK(msg.find("is not a ClusterKit aggregator database") != std::string::npos);
        CHECK(msg.find("kobo") != std::string::npos);
    }
    SECTION("a file that is not SQLite at all") {
        fs::path folder = scratch("foreign-text");
        fs::create_directories(folder);
        std::string text(8192, 'x');
        std::ofstream(folder / kSqliteFileName, std::ios::binary) << text;
        std::string msg = messageOf([&] { openStorage(folder.string()); });
        CHECK(msg.find("is not a ClusterKit aggregator database") != std::string::npos);
        CHECK(fileBytes(folder / kSqliteFileName) == text);
    }
    SECTION("a file where the folder should be, and no storage named at all") {
        fs::path file = scratch("a-file");
        std::ofstream(file) << "x";
        CHECK(messageOf([&] { openStorage(file.string()); }).find("is a file, not a folder") != std::string::npos);
        CHECK(messageOf([&] { openStorage(""); }).find("no storage given") != std::string::npos);
        CHECK(messageOf([&] { openStorage("sqlite:"); }).find("no storage given") != std::string::npos);
    }
}

TEST_CASE("SQLite storage: two connections on one folder share it without loss or a forked chain",
          "[sync][storage]") {
    fs::path folder = scratch("two-connections");
    auto first = openSqliteStorage(folder);
    auto second = openSqliteStorage(folder);
    auto work = [](AggregatorStorage& s, int offset) {
        for (int b = 0; b < 10; ++b) {
            std::vector<StoredVisit> batch;
            for (int i = 0; i < 20; ++i) batch.push_back(visit("rec-" + std::to_string((offset + b * 20 + i) % 300), 1));
            s.putVisits(batch);
        }
    };
    std::thread a([&] { work(*first, 0); });
    std::thread b([&] { work(*second, 100); });
    a.join();
    b.join();
    CHECK(first->countVisits() == 300);
    CHECK(second->countAudit() == 400);
    AuditReport r = verifyAuditChain(*second);
    for (const auto& p : r.problems) UNSCOPED_INFO(p.message);
    CHECK(r.problems.empty());
}

TEST_CASE("SQLite storage: two processes on one folder, created at once, share it", "[sync][storage]") {
    fs::path folder = scratch("two-processes");
    auto work = [&](int offset) {
        auto s = openSqliteStorage(folder);  // both may create the schema at the same moment
        for (int b = 0; b < 10; ++b) {
            std::vector<StoredVisit> batch;
            for (int i = 0; i < 20; ++i) batch.push_back(visit("rec-" + std::to_string((offset + b * 20 + i) % 300), 1));
            s->putVisits(batch);
        }
    };
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int status = 0;
        try {
            work(100);
        } catch (const std::exception& e) {
            std::ofstream(folder.parent_path() / "two-processes-child-error.txt") << e.what();
            status = 3;
        }
        _exit(status);
    }
    std::string parentError;
    try {
        work(0);
    } catch (const std::exception& e) {
        parentError = e.what();
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(parentError == "");
    REQUIRE(WIFEXITED(status));
    std::string childError;
    if (std::ifstream in{folder.parent_path() / "two-processes-child-error.txt"}) std::getline(in, childError);
    CHECK(childError == "");
    CHECK(WEXITSTATUS(status) == 0);
    auto s = openSqliteStorage(folder);
    CHECK(s->countVisits() == 300);
    CHECK(s->countAudit() == 400);
    CHECK(verifyAuditChain(*s).problems.empty());
}

TEST_CASE("SQLite storage: a failing batch is rolled back whole, and batches committed with it are kept",
          "[sync][storage]") {
    fs::path folder = scratch("failing-batch");
    auto s = openSqliteStorage(folder);
    // A trigger stands in for the disk failing under one particular insert.
    runSql(folder / kSqliteFileName,
           "CREATE TRIGGER poison BEFORE INSERT ON visits WHEN NEW.record_id LIKE 'poison%'"
           " BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END");
    int failures = 0;
    for (int round = 0; round < 20; ++round) {
        // Another connection holds the write lock, so the first batch waits inside its commit
        // and the next two queue behind it: they then go in as one group commit.
        sqlite3* holder = nullptr;
        REQUIRE(sqlite3_open((folder / kSqliteFileName).c_str(), &holder) == SQLITE_OK);
        REQUIRE(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
        std::string error;
        std::vector<PutOutcome> first, good;
        std::thread leader([&] { first = s->putVisits({visit("first-" + std::to_string(round), 1)}); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        std::thread bad([&] {
            try {
                s->putVisits({visit("lost-" + std::to_string(round), 1), visit("poison-" + std::to_string(round), 1)});
            } catch (const StorageFailure& e) {
                error = e.what();
            }
        });
        std::thread fine([&] { good = s->putVisits({visit("kept-" + std::to_string(round), 1)}); });
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
        sqlite3_close(holder);
        leader.join();
        bad.join();
        fine.join();
        failures += error.find("simulated write failure") != std::string::npos;
        CHECK(first == std::vector<PutOutcome>{PutOutcome::Stored});
        CHECK(good == std::vector<PutOutcome>{PutOutcome::Stored});
        CHECK_FALSE(s->findVisit("lost-" + std::to_string(round)));
    }
    CHECK(failures == 20);
    CHECK(s->countVisits() == 40);
    CHECK(s->countAudit() == 40);
    CHECK(verifyAuditChain(*s).problems.empty());
}
