// The storage contract on a real PostgreSQL server (a throwaway one: tests/support/
// postgres_cluster.h), and what only the PostgreSQL backend promises: clear refusals
// (unreachable server, newer or foreign schema) that never show the password, a dropped
// connection survived, and several processes sharing one database without loss or a forked
// audit chain.
#include <catch2/catch.hpp>

#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sync/aggregator/audit_log.h"
#include "sync/aggregator/storage.h"
#include "sync/aggregator/storage/postgres_storage.h"
#include "tests/support/command_run.h"
#include "tests/support/postgres_cluster.h"
#include "tests/sync/aggregator/storage/storage_contract.h"

using namespace ck::agg;
using ck::test::PostgresCluster;

namespace {

// Runs one statement on a database directly, as an intruder (or another program) would.
void runSql(const std::string& url, std::string_view sql) {
    PGconn* conn = PQconnectdb(url.c_str());
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
    PGresult* r = PQexec(conn, std::string(sql).c_str());
    ExecStatusType status = PQresultStatus(r);
    std::string message = PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
    INFO(sql << ": " << message);
    REQUIRE((status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK));
}

std::string queryText(const std::string& url, std::string_view sql) {
    PGconn* conn = PQconnectdb(url.c_str());
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
    PGresult* r = PQexec(conn, std::string(sql).c_str());
    REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    std::string value = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
    PQclear(r);
    PQfinish(conn);
    return value;
}

StoredVisit visit(const std::string& id, int contentSeed, int64_t at, size_t envelopeBytes = 64) {
    StoredVisit v;
    v.recordId = id;
    std::string seed = std::to_string(contentSeed);
    v.contentHash = std::string(64 - seed.size(), 'b') + seed;
    v.templateId = "cluster-diagnostic";
    v.templateVersion = "1.0.0";
    v.deviceId = "dev-00000001";
    v.cluster = "ludhiana-bicycle";
    v.receivedAt = at;
    v.envelope = std::vector<uint8_t>(envelopeBytes, uint8_t(contentSeed));
    v.record = {1, 2, 3, uint8_t(contentSeed)};
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

// `url` with a password added to its user ("postgres" -> "postgres:PASSWORD"); the test server
// trusts loopback, so the password is carried along but never checked.
std::string withPassword(const std::string& url, const std::string& password) {
    std::string out = url;
    size_t at = out.find('@');
    REQUIRE(at != std::string::npos);
    out.insert(at, ":" + password);
    return out;
}

}  // namespace

TEST_CASE("PostgreSQL storage meets the storage contract", "[sync][storage][postgres]") {
    std::string current;
    runStorageContract(
        [&] {
            current = PostgresCluster::shared().freshDatabase();
            return openStorage(current);
        },
        [&](std::string_view sql) { runSql(current, sql); });
}

TEST_CASE("PostgreSQL storage: data written survives closing and reopening", "[sync][storage][postgres]") {
    std::string url = PostgresCluster::shared().freshDatabase();
    {
        auto s = openStorage(url);
        REQUIRE(s->putVisits({visit("rec-1", 1, 100), visit("rec-2", 2, 101)}) ==
                std::vector<PutOutcome>{PutOutcome::Stored, PutOutcome::Stored});
        s->appendAudit({200, "import", "operator", "bundle.ckb", "2 visits"});
    }
    auto s = openStorage(url);
    CHECK(s->countVisits() == 2);
    REQUIRE(s->findVisit("rec-2"));
    CHECK(s->findVisit("rec-2")->envelope == visit("rec-2", 2, 101).envelope);
    CHECK(s->countAudit() == 3);
    // The chain goes on from where the last process left it.
    REQUIRE(s->putVisits({visit("rec-1", 1, 300)}) == std::vector<PutOutcome>{PutOutcome::Duplicate});
    AuditReport r = verifyAuditChain(*s);
    CHECK(r.problems.empty());
    CHECK(r.entries == 4);
}

TEST_CASE("PostgreSQL storage: an unreachable server is a clear StorageFailure without the password",
          "[sync][storage][postgres]") {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    std::string message = messageOf([] { openStorage("postgresql://ck:Sekrit-Pa55word@127.0.0.1:1/aggregator"); });
    INFO(message);
    CHECK(message.find("cannot connect") != std::string::npos);
    CHECK(message.find("aggregator@127.0.0.1:1") != std::string::npos);
    CHECK(message.find("Sekrit-Pa55word") == std::string::npos);

    // A database that does not exist on a server that does.
    std::string missing = PostgresCluster::withDatabase(PostgresCluster::shared().adminUrl(), "ck_no_such_database");
    std::string missingMessage = messageOf([&] { openStorage(withPassword(missing, "Sekrit-Pa55word")); });
    INFO(missingMessage);
    CHECK(missingMessage.find("ck_no_such_database") != std::string::npos);
    CHECK(missingMessage.find("does not exist") != std::string::npos);
    CHECK(missingMessage.find("Sekrit-Pa55word") == std::string::npos);

    // Not a URL at all.
    std::string garbled = messageOf([] { openStorage("postgresql://ck:Sekrit-Pa55word@[::1/x?nonsense=1"); });
    INFO(garbled);
    CHECK(garbled.find("Sekrit-Pa55word") == std::string::npos);
    CHECK(garbled != "(no StorageFailure thrown)");
}

TEST_CASE("PostgreSQL storage: describe() and failures name db@host:port, never the password",
          "[sync][storage][postgres]") {
    std::string url = withPassword(PostgresCluster::shared().freshDatabase(), "Sekrit-Pa55word");
    auto s = openStorage(url);
    std::string d = s->describe();
    INFO(d);
    CHECK(d.rfind("PostgreSQL ck_test_", 0) == 0);
    CHECK(d.find("@127.0.0.1:") != std::string::npos);
    CHECK(d.find("Sekrit") == std::string::npos);
    CHECK(redactPostgresUrl(url).find("Sekrit") == std::string::npos);
    CHECK(redactPostgresUrl("host=db password=Sekrit-Pa55word dbname=x").find("Sekrit") == std::string::npos);

    // A failure inside a transaction: rolled back, reported, the storage still usable.
    s->addEnrolmentCode({"code-1", "Asha", "A", 1, 1000, 0, ""}, {1, "enrolment-code", "operator", "Asha", ""});
    uint64_t auditBefore = s->countAudit();
    std::string message = messageOf(
        [&] { s->addEnrolmentCode({"code-1", "Asha", "A", 1, 1000, 0, ""}, {2, "enrolment-code", "operator", "Asha", ""}); });
    INFO(message);
    CHECK(message.find("duplicate key") != std::string::npos);
    CHECK(message.find(d.substr(std::string("PostgreSQL ").size())) != std::string::npos);
    CHECK(message.find("Sekrit") == std::string::npos);
    CHECK(s->countAudit() == auditBefore);
    REQUIRE(s->putVisits({visit("rec-1", 1, 100)}) == std::vector<PutOutcome>{PutOutcome::Stored});
}

TEST_CASE("PostgreSQL storage: a database from a newer ClusterKit is refused and left as it was",
          "[sync][storage][postgres]") {
    std::string url = PostgresCluster::shared().freshDatabase();
    openStorage(url)->putVisits({visit("rec-1", 1, 100)});
    runSql(url, "UPDATE ck_meta SET value = '99' WHERE key = 'schema_version'");
    std::string message = messageOf([&] { openStorage(url); });
    INFO(message);
    CHECK(message.find("newer") != std::string::npos);
    CHECK(message.find("99") != std::string::npos);
    CHECK(queryText(url, "SELECT value FROM ck_meta WHERE key = 'schema_version'") == "99");
    CHECK(queryText(url, "SELECT count(*) FROM visits") == "1");
}

// Version 1's schema as ClusterKit wrote it before visits were keyed by device.
constexpr const char* kSchemaVersion1 = R"sql(
CREATE TABLE ck_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE enrolment_codes (code_hash text PRIMARY KEY, officer text NOT NULL, cluster text NOT NULL,
  issued_at bigint NOT NULL, expires_at bigint NOT NULL, used_at bigint NOT NULL DEFAULT 0,
  used_by_device text NOT NULL DEFAULT '');
CREATE TABLE devices (device_id text PRIMARY KEY, public_key bytea NOT NULL UNIQUE, label text NOT NULL,
  officer text NOT NULL, cluster text NOT NULL, enrolled_at bigint NOT NULL, revoked_at bigint NOT NULL DEFAULT 0);
CREATE TABLE visits (record_id text PRIMARY KEY, content_hash text NOT NULL, parent_id text NOT NULL,
  template_id text NOT NULL, template_version text NOT NULL, device_id text NOT NULL, cluster text NOT NULL,
  received_at bigint NOT NULL, envelope bytea NOT NULL, record bytea NOT NULL);
CREATE INDEX visits_by_arrival ON visits (received_at, record_id COLLATE "C");
CREATE TABLE templates (template_id text NOT NULL, version text NOT NULL, json_text text NOT NULL,
  signature bytea NOT NULL, published_at bigint NOT NULL, PRIMARY KEY (template_id, version));
CREATE TABLE register_units (unit_id text PRIMARY KEY, name text NOT NULL, cluster text NOT NULL,
  district text NOT NULL, state text NOT NULL, stratum text NOT NULL, sector text NOT NULL);
CREATE TABLE comments (id bigserial PRIMARY KEY, record_id text NOT NULL, text text NOT NULL, at bigint NOT NULL);
CREATE INDEX comments_by_record ON comments (record_id, id);
CREATE TABLE feed (seq bigint PRIMARY KEY, kind bigint NOT NULL, cluster text NOT NULL, device_id text NOT NULL,
  key text NOT NULL);
CREATE TABLE chunks (hash bytea PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE attachments (attachment_id text PRIMARY KEY, record_id text NOT NULL, device_id text NOT NULL,
  media_type text NOT NULL, total_bytes bigint NOT NULL, chunk_hashes bytea[] NOT NULL, committed_at bigint NOT NULL);
CREATE INDEX attachments_by_record ON attachments (record_id, attachment_id COLLATE "C");
CREATE TABLE audit (seq bigint PRIMARY KEY, at bigint NOT NULL, action text NOT NULL, actor text NOT NULL,
  subject text NOT NULL, detail text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL);
INSERT INTO ck_meta VALUES ('application', 'clusterkit-aggregator'), ('schema_version', '1');
INSERT INTO visits VALUES ('rec-old', 'cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc', '',
  'cluster-diagnostic', '1.0.0', 'dev-rightful', 'A', 10, '\x0102', '\x0304');
INSERT INTO chunks VALUES ('\x0909', '\x010203');
INSERT INTO comments (record_id, text, at) VALUES ('rec-old', 'a comment from before', 5);
)sql";

TEST_CASE("PostgreSQL storage: a version 1 database is migrated, its visits stay and ids are then per device",
          "[sync][storage][postgres]") {
    std::string url = PostgresCluster::shared().freshDatabase();
    runSql(url, kSchemaVersion1);
    auto s = openStorage(url);
    CHECK(queryText(url, "SELECT value FROM ck_meta WHERE key = 'schema_version'") == "3");
    CHECK(s->countVisits() == 1);
    // Schema 3: a comment from before goes to the device whose visit it was on.
    REQUIRE(s->commentsFor("dev-rightful", "rec-old").size() == 1);
    CHECK(s->commentsFor("dev-rightful", "rec-old")[0].text == "a comment from before");
    auto old = s->findDeviceVisit("dev-rightful", "rec-old");
    REQUIRE(old);
    CHECK(old->envelope == std::vector<uint8_t>{1, 2});
    CHECK(old->record == std::vector<uint8_t>{3, 4});
    CHECK(s->dropUncommittedChunks(1'000'000) == 0);  // chunks from before count as committed
    CHECK(s->readChunk({9, 9}) == std::vector<uint8_t>{1, 2, 3});
    StoredVisit squat = visit("rec-old", 20, 30);
    squat.deviceId = "dev-squatter";
    CHECK(s->putVisits({squat}) == std::vector<PutOutcome>{PutOutcome::Stored});
    CHECK(s->findDeviceVisit("dev-rightful", "rec-old")->contentHash == std::string(64, 'c'));
    s.reset();
    CHECK(openStorage(url)->countVisits() == 2);  // opened again: nothing migrated twice
}

TEST_CASE("PostgreSQL storage: a database that belongs to another program is refused untouched",
          "[sync][storage][postgres]") {
    std::string url = PostgresCluster::shared().freshDatabase();
    runSql(url, "CREATE TABLE ck_meta (key text PRIMARY KEY, value text NOT NULL)");
    runSql(url, "INSERT INTO ck_meta VALUES ('application', 'some-other-tool'), ('schema_version', '1')");
    std::string message = messageOf([&] { openStorage(url); });
    INFO(message);
    CHECK(message.find("not a ClusterKit aggregator database") != std::string::npos);
    CHECK(queryText(url, "SELECT to_regclass('visits') IS NULL") == "t");  // nothing created

    // Tables of our names but no ck_meta: someone else's data, never to be written into.
    std::string other = PostgresCluster::shared().freshDatabase();
    runSql(other, "CREATE TABLE visits (id serial PRIMARY KEY, note text)");
    std::string otherMessage = messageOf([&] { openStorage(other); });
    INFO(otherMessage);
    CHECK(otherMessage.find("not a ClusterKit aggregator database") != std::string::npos);
    CHECK(otherMessage.find("visits") != std::string::npos);
    CHECK(queryText(other, "SELECT to_regclass('ck_meta') IS NULL") == "t");
}

TEST_CASE("PostgreSQL storage: a connection killed under it is made again and the batch retried",
          "[sync][storage][postgres]") {
    std::string url = PostgresCluster::shared().freshDatabase();
    auto s = openStorage(url);
    REQUIRE(s->putVisits({visit("rec-1", 1, 100)}) == std::vector<PutOutcome>{PutOutcome::Stored});
    std::string database = url.substr(url.rfind('/') + 1);
    // What a server restart or a failover does to every open connection.
    runSql(PostgresCluster::shared().adminUrl(),
           "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database +
               "' AND pid <> pg_backend_pid()");
    REQUIRE(s->putVisits({visit("rec-2", 2, 101), visit("rec-1", 1, 102)}) ==
            std::vector<PutOutcome>{PutOutcome::Stored, PutOutcome::Duplicate});
    CHECK(s->countVisits() == 2);
    AuditReport r = verifyAuditChain(*s);
    CHECK(r.problems.empty());
    CHECK(r.entries == 3);
}

TEST_CASE("PostgreSQL storage: a server that goes away is a clear StorageFailure, not a hang",
          "[sync][storage][postgres]") {
    // A server of this test's own, so that stopping it disturbs no other test.
    using ck::test::runCommand;
    using ck::test::shellQuote;
    std::string folder = (std::filesystem::temp_directory_path() / "ck-postgres-gone.XXXXXX").string();
    REQUIRE(mkdtemp(folder.data()));
    std::string script = std::string(CK_SOURCE_DIR) + "/scripts/postgres-throwaway";
    auto started = runCommand(shellQuote(script) + " start " + shellQuote(folder) + " " + std::to_string(getpid()));
    INFO(started.err);
    REQUIRE(started.status == 0);
    std::string admin = started.out.substr(0, started.out.find('\n'));
    std::string url = PostgresCluster::withDatabase(admin, "postgres");
    auto s = openStorage(withPassword(url, "Sekrit-Pa55word"));
    REQUIRE(s->putVisits({visit("rec-1", 1, 100)}) == std::vector<PutOutcome>{PutOutcome::Stored});

    REQUIRE(runCommand(shellQuote(script) + " stop " + shellQuote(folder)).status == 0);
    auto start = std::chrono::steady_clock::now();
    std::string message = messageOf([&] { s->putVisits({visit("rec-2", 2, 101)}); });
    INFO(message);
    CHECK(message.find("postgres@127.0.0.1:") != std::string::npos);
    CHECK(message.find("connection") != std::string::npos);
    CHECK(message.find("Sekrit-Pa55word") == std::string::npos);
    CHECK(messageOf([&] { s->countVisits(); }) != "(no StorageFailure thrown)");
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(15));
}

TEST_CASE("PostgreSQL storage: two processes, started together on an empty database, store every record once",
          "[sync][storage][postgres]") {
    std::string url = PostgresCluster::shared().freshDatabase();
    constexpr int kRecords = 400, kBatch = 50, kProcesses = 2;
    std::vector<pid_t> children;
    for (int p = 0; p < kProcesses; ++p) {
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // The child opens its own storage (no connection crosses the fork) and leaves with
            // _exit, so nothing of the parent's (its test server above all) is torn down here.
            int status = 0;
            try {
                auto s = openStorage(url);
                for (int b = 0; b < kRecords / kBatch; ++b) {
                    std::vector<StoredVisit> batch;
                    for (int i = 0; i < kBatch; ++i) {
                        int k = (p * kRecords / 2 + b * kBatch + i) % kRecords;
                        batch.push_back(visit("rec-" + std::to_string(k), k, 1000 + k, 1000));
                    }
                    for (PutOutcome o : s->putVisits(batch)) {
                        if (o == PutOutcome::Conflict) status = 3;
                    }
                }
            } catch (const std::exception& e) {
                fprintf(stderr, "child %d: %s\n", p, e.what());
                status = 2;
            }
            _exit(status);
        }
        children.push_back(child);
    }
    for (pid_t child : children) {
        int status = -1;
        REQUIRE(waitpid(child, &status, 0) == child);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }

    auto s = openStorage(url);
    CHECK(s->countVisits() == uint64_t(kRecords));
    CHECK(s->countAudit() == uint64_t(kRecords * kProcesses));
    std::map<std::string, int> storedEntries;
    int duplicates = 0;
    s->forEachAudit([&](const AuditEntry& e) {
        if (e.action == "stored") ++storedEntries[e.subject];
        if (e.action == "duplicate") ++duplicates;
        return true;
    });
    CHECK(storedEntries.size() == size_t(kRecords));
    CHECK(std::all_of(storedEntries.begin(), storedEntries.end(), [](const auto& kv) { return kv.second == 1; }));
    CHECK(duplicates == kRecords * (kProcesses - 1));
    AuditReport r = verifyAuditChain(*s);
    for (const auto& problem : r.problems) UNSCOPED_INFO(problem.message);
    CHECK(r.problems.empty());
}

TEST_CASE("PostgreSQL storage: batches of 100 visits of about 4 KB go in at a useful rate",
          "[sync][storage][postgres]") {
    auto s = openStorage(PostgresCluster::shared().freshDatabase());
    constexpr int kBatches = 20, kBatch = 100;
    auto start = std::chrono::steady_clock::now();
    for (int b = 0; b < kBatches; ++b) {
        std::vector<StoredVisit> batch;
        for (int i = 0; i < kBatch; ++i) {
            int k = b * kBatch + i;
            batch.push_back(visit("rec-" + std::to_string(k), k, 1000 + k, 4096));
        }
        auto outcomes = s->putVisits(batch);
        REQUIRE(std::count(outcomes.begin(), outcomes.end(), PutOutcome::Stored) == kBatch);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double perSecond = kBatches * kBatch / seconds;
    WARN("PostgreSQL putVisits: " << int(perSecond) << " records/s in batches of " << kBatch);
    CHECK(s->countVisits() == uint64_t(kBatches * kBatch));
    // A floor far below the aim (2,000/s), so a loaded machine passes but a per-row round-trip
    // regression does not.
    CHECK(perSecond > 400);
}
