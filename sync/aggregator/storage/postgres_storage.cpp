#include "sync/aggregator/storage/postgres_storage.h"

#include <libpq-fe.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/crypto/secret_bytes.h"
#include "sync/aggregator/audit_log.h"

namespace ck::agg {

namespace {

// The schema this build writes and reads; a database with a newer one is refused.
constexpr int kSchemaVersion = 3;  // 2: visits and attachments keyed by (device, id); 3: register stratum, review
// Advisory lock keys (any 64-bit constants no other application is likely to pick):
// one serialises schema creation between processes starting together, the other every
// append to the audit chain (and the feed, whose sequence must commit in order too).
constexpr int64_t kSchemaLockKey = 0x636b2d736368656d;  // "ck-schem"
constexpr int64_t kAuditLockKey = 0x636b2d6175646974;   // "ck-audit"
// Connections opened at most; more threads than this wait for one to come back.
constexpr size_t kPoolSize = 8;
// Rows fetched per round trip when walking every visit or audit entry.
constexpr int kFetchRows = 500;

// Built-in type oids (pg_type.h is a server header).
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kTextOid = 25;
constexpr Oid kTextArrayOid = 1009, kByteaArrayOid = 1001;

// SQLSTATEs that mean "run the transaction again": nothing was committed.
bool isRetryable(const std::string& sqlstate) {
    return sqlstate == "40001" /* serialization_failure */ || sqlstate == "40P01" /* deadlock_detected */;
}

const char* const kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS ck_meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
CREATE TABLE IF NOT EXISTS enrolment_codes (
  code_hash text PRIMARY KEY,
  officer text NOT NULL,
  cluster text NOT NULL,
  issued_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  used_at bigint NOT NULL DEFAULT 0,
  used_by_device text NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS devices (
  device_id text PRIMARY KEY,
  public_key bytea NOT NULL UNIQUE,
  label text NOT NULL,
  officer text NOT NULL,
  cluster text NOT NULL,
  enrolled_at bigint NOT NULL,
  revoked_at bigint NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS visits (
  record_id text PRIMARY KEY,
  content_hash text NOT NULL,
  parent_id text NOT NULL,
  template_id text NOT NULL,
  template_version text NOT NULL,
  device_id text NOT NULL,
  cluster text NOT NULL,
  received_at bigint NOT NULL,
  envelope bytea NOT NULL,
  record bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS visits_by_arrival ON visits (received_at, record_id COLLATE "C");
CREATE TABLE IF NOT EXISTS templates (
  template_id text NOT NULL,
  version text NOT NULL,
  json_text text NOT NULL,
  signature bytea NOT NULL,
  published_at bigint NOT NULL,
  PRIMARY KEY (template_id, version)
);
CREATE TABLE IF NOT EXISTS register_units (
  unit_id text PRIMARY KEY,
  name text NOT NULL,
  cluster text NOT NULL,
  district text NOT NULL,
  state text NOT NULL,
  stratum text NOT NULL,
  sector text NOT NULL
);
CREATE TABLE IF NOT EXISTS comments (
  id bigserial PRIMARY KEY,
  record_id text NOT NULL,
  text text NOT NULL,
  at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS comments_by_record ON comments (record_id, id);
CREATE TABLE IF NOT EXISTS feed (
  seq bigint PRIMARY KEY,
  kind bigint NOT NULL,
  cluster text NOT NULL,
  device_id text NOT NULL,
  key text NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
  hash bytea PRIMARY KEY,
  data bytea NOT NULL
);
CREATE TABLE IF NOT EXISTS attachments (
  attachment_id text PRIMARY KEY,
  record_id text NOT NULL,
  device_id text NOT NULL,
  media_type text NOT NULL,
  total_bytes bigint NOT NULL,
  chunk_hashes bytea[] NOT NULL,
  committed_at bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_by_record ON attachments (record_id, attachment_id COLLATE "C");
CREATE TABLE IF NOT EXISTS audit (
  seq bigint PRIMARY KEY,
  at bigint NOT NULL,
  action text NOT NULL,
  actor text NOT NULL,
  subject text NOT NULL,
  detail text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
)sql";

// Version 1 -> 2 (as sqlite_storage.cpp): visits and attachments keyed by (device, id), so an
// id read off another device's bundle never touches that device's visit; chunks note their
// arrival and whether an attachment names them (those on file count as committed). A new
// database is made as version 1 and migrated, so both paths are one path.
const char* const kMigrateTo2Sql = R"sql(
ALTER TABLE visits DROP CONSTRAINT visits_pkey;
ALTER TABLE visits ADD PRIMARY KEY (device_id, record_id);
DROP INDEX IF EXISTS visits_by_arrival;
CREATE INDEX visits_by_arrival ON visits (received_at, record_id COLLATE "C", device_id COLLATE "C");
CREATE INDEX visits_by_record ON visits (record_id);
ALTER TABLE attachments DROP CONSTRAINT attachments_pkey;
ALTER TABLE attachments ADD PRIMARY KEY (device_id, attachment_id);
ALTER TABLE chunks ADD COLUMN stored_at bigint NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN committed boolean NOT NULL DEFAULT true;
CREATE INDEX chunks_uncommitted ON chunks (stored_at) WHERE NOT committed;
)sql";

// Version 2 -> 3 (as sqlite_storage.cpp): the register's size class of a visit's assigned
// unit, and why a visit is held for review; comments name the device whose visit they are on.
const char* const kMigrateTo3Sql = R"sql(
ALTER TABLE visits ADD COLUMN register_stratum text NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN review text NOT NULL DEFAULT '';
CREATE INDEX visits_for_review ON visits (received_at) WHERE review <> '';
ALTER TABLE comments ADD COLUMN device_id text NOT NULL DEFAULT '';
UPDATE comments c SET device_id = coalesce((SELECT v.device_id FROM visits v WHERE v.record_id = c.record_id
  ORDER BY v.received_at, v.device_id COLLATE "C" LIMIT 1), '');
CREATE INDEX comments_by_device ON comments (device_id, record_id, id);
)sql";

// --- wire helpers: every parameter and result travels in binary format ---

void putBe32(std::string& out, uint32_t v) {
    for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void putBe64(std::string& out, uint64_t v) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(v >> (8 * i)));
}
uint64_t getBe(const char* p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
    return v;
}

// One array value in PostgreSQL's binary array format: one dimension, no nulls.
template <class Items>
std::string binaryArray(Oid elementOid, const Items& items) {
    std::string out;
    putBe32(out, 1);  // dimensions
    putBe32(out, 0);  // has nulls
    putBe32(out, elementOid);
    putBe32(out, static_cast<uint32_t>(items.size()));
    putBe32(out, 1);  // lower bound
    for (const auto& item : items) {
        putBe32(out, static_cast<uint32_t>(item.size()));
        out.append(reinterpret_cast<const char*>(item.data()), item.size());
    }
    return out;
}

std::vector<std::vector<uint8_t>> parseByteaArray(const char* p, int len) {
    std::vector<std::vector<uint8_t>> items;
    if (len < 12) return items;
    uint32_t dims = static_cast<uint32_t>(getBe(p, 4));
    if (dims == 0) return items;
    if (dims != 1 || len < 20) throw StorageFailure("PostgreSQL returned an array this build cannot read");
    uint32_t count = static_cast<uint32_t>(getBe(p + 12, 4));
    int at = 20;
    for (uint32_t i = 0; i < count; ++i) {
        if (at + 4 > len) throw StorageFailure("PostgreSQL returned a truncated array");
        int32_t n = static_cast<int32_t>(getBe(p + at, 4));
        at += 4;
        if (n < 0 || at + n > len) throw StorageFailure("PostgreSQL returned a truncated array");
        items.emplace_back(p + at, p + at + n);
        at += n;
    }
    return items;
}

class Params {
public:
    Params& text(std::string_view s) { return add(kTextOid, std::string(s)); }
    Params& bytes(const std::vector<uint8_t>& b) { return add(kByteaOid, std::string(b.begin(), b.end())); }
    Params& int64(int64_t v) {
        std::string s;
        putBe64(s, static_cast<uint64_t>(v));
        return add(kInt8Oid, std::move(s));
    }
    template <class Items>
    Params& textArray(const Items& items) { return add(kTextArrayOid, binaryArray(kTextOid, items)); }
    template <class Items>
    Params& byteaArray(const Items& items) { return add(kByteaArrayOid, binaryArray(kByteaOid, items)); }

    int count() const { return static_cast<int>(m_values.size()); }
    const Oid* types() const { return m_types.data(); }
    // Pointers into m_values: taken only once every parameter is in.
    std::vector<const char*> values() const {
        std::vector<const char*> v;
        for (const std::string& s : m_values) v.push_back(s.data());
        return v;
    }
    std::vector<int> lengths() const {
        std::vector<int> v;
        for (const std::string& s : m_values) v.push_back(static_cast<int>(s.size()));
        return v;
    }

private:
    Params& add(Oid type, std::string value) {
        m_types.push_back(type);
        m_values.push_back(std::move(value));
        return *this;
    }
    std::vector<Oid> m_types;
    std::vector<std::string> m_values;
};

// A result, cleared by its owner. Columns are read as the binary forms of the types the
// queries select (int8, text, bytea, bool, bytea[]).
class Result {
public:
    explicit Result(PGresult* r) : m_r(r) {}
    ~Result() {
        if (m_r) PQclear(m_r);
    }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;
    Result(Result&& o) noexcept : m_r(std::exchange(o.m_r, nullptr)) {}

    int rows() const { return PQntuples(m_r); }
    bool isNull(int row, int col) const { return PQgetisnull(m_r, row, col); }
    std::string text(int row, int col) const {
        return std::string(PQgetvalue(m_r, row, col), static_cast<size_t>(PQgetlength(m_r, row, col)));
    }
    std::vector<uint8_t> bytes(int row, int col) const {
        const char* p = PQgetvalue(m_r, row, col);
        return std::vector<uint8_t>(p, p + PQgetlength(m_r, row, col));
    }
    int64_t int64(int row, int col) const {
        if (isNull(row, col)) return 0;
        if (PQgetlength(m_r, row, col) != 8) throw StorageFailure("PostgreSQL returned an unexpected column type");
        return static_cast<int64_t>(getBe(PQgetvalue(m_r, row, col), 8));
    }
    bool boolean(int row, int col) const { return !isNull(row, col) && PQgetvalue(m_r, row, col)[0] != 0; }
    std::vector<std::vector<uint8_t>> byteaArray(int row, int col) const {
        return parseByteaArray(PQgetvalue(m_r, row, col), PQgetlength(m_r, row, col));
    }

private:
    PGresult* m_r;
};

// A failed statement: what the server said, its SQLSTATE, and whether the connection died.
struct PgError : StorageFailure {
    PgError(const std::string& message, std::string state, bool lost)
        : StorageFailure(message), sqlstate(std::move(state)), connectionLost(lost) {}
    std::string sqlstate;
    bool connectionLost;
};

// What run() throws: the operator's message, and the SQLSTATE for callers that expect one.
struct PgFailure : StorageFailure {
    PgFailure(const std::string& message, std::string state) : StorageFailure(message), sqlstate(std::move(state)) {}
    std::string sqlstate;
};

// libpq's message on one line (it may span lines, with a tab-indented hint): fit for a log.
std::string firstLine(const char* message) {
    std::string s;
    for (const char* p = message ? message : ""; *p; ++p) {
        bool space = *p == '\n' || *p == '\t' || *p == '\r' || *p == ' ';
        if (!space) {
            s.push_back(*p);
        } else if (!s.empty() && s.back() != ' ') {
            s.push_back(' ');
        }
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    return s;
}

// Who we talk to, parsed once: what describe() shows and what messages must never contain.
struct Target {
    std::string database, host, port, user;
    std::string password;  // only to scrub it out of messages
};

class Connection {
public:
    explicit Connection(PGconn* conn) : m_conn(conn) {}
    ~Connection() { PQfinish(m_conn); }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    bool broken() const { return PQstatus(m_conn) != CONNECTION_OK; }
    // Reconnects with the same parameters; true when it worked.
    bool reset() {
        PQreset(m_conn);
        return !broken();
    }
    PGconn* get() { return m_conn; }

    // Runs one statement; returns its rows. Throws PgError.
    Result exec(const char* sql, const Params& params = Params()) {
        std::vector<const char*> values = params.values();
        std::vector<int> lengths = params.lengths();
        std::vector<int> formats(values.size(), 1);
        PGresult* r = PQexecParams(m_conn, sql, params.count(), params.types(), values.data(), lengths.data(),
                                   formats.data(), 1);
        return check(r, sql);
    }
    // Statements with no parameters and no rows (BEGIN, COMMIT, the schema).
    void run(const char* sql) { check(PQexec(m_conn, sql), sql); }

private:
    Result check(PGresult* r, const char* sql) {
        ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(r);
        std::string state;
        std::string message;
        if (r) {
            if (const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE)) state = s;
            // The primary message only: DETAIL lines quote row values (key hashes, ids),
            // which have no place in an operator's log.
            const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
            message = firstLine(primary ? primary : PQresultErrorMessage(r));
            if (!state.empty()) message += " (SQLSTATE " + state + ")";
            PQclear(r);
        }
        if (message.empty()) message = firstLine(PQerrorMessage(m_conn));
        std::string what(sql);
        what = what.substr(0, what.find_first_of("(\n"));
        while (!what.empty() && what.back() == ' ') what.pop_back();
        throw PgError("`" + what + "` failed: " + message, state, broken());
    }

    PGconn* m_conn;
};

std::string scrub(std::string message, const std::string& password) {
    if (password.empty()) return message;
    for (size_t at = message.find(password); at != std::string::npos; at = message.find(password, at)) {
        message.replace(at, password.size(), "***");
        at += 3;
    }
    return message;
}

class PostgresStorage final : public AggregatorStorage {
public:
    explicit PostgresStorage(std::string_view url);
    ~PostgresStorage() override = default;

    std::string describe() const override { return m_description; }

    void addEnrolmentCode(const EnrolmentCodeRow& code, const AuditEvent& audit) override;
    RedeemOutcome redeemEnrolmentCode(std::string_view codeHash, const DeviceRow& newDevice, int64_t now,
                                      DeviceRow* device) override;
    std::optional<DeviceRow> findDevice(const std::vector<uint8_t>& publicKey) override;
    std::optional<DeviceRow> findDeviceById(std::string_view deviceId) override;
    std::vector<DeviceRow> listDevices() override;
    bool revokeDevice(std::string_view deviceId, int64_t now, const AuditEvent& audit) override;

    std::vector<PutOutcome> putVisits(const std::vector<StoredVisit>& visits) override;
    std::optional<StoredVisit> findVisit(std::string_view recordId) override;
    std::optional<StoredVisit> findDeviceVisit(std::string_view deviceId, std::string_view recordId) override;
    uint64_t countVisits() override;
    std::vector<StoredVisit> visitsForReview(size_t limit) override;
    std::vector<std::string> devicesWithVisit(std::string_view recordId) override;
    uint64_t countForReview() override;
    void forEachVisit(const std::function<bool(const StoredVisit&)>& fn, VisitParts parts = VisitParts::All) override;

    bool putTemplate(const PublishedTemplate& t, const AuditEvent& audit) override;
    std::optional<PublishedTemplate> findTemplate(std::string_view id, std::string_view version) override;
    std::vector<PublishedTemplate> listTemplates() override;
    void putRegister(const std::vector<RegisterUnit>& units, const AuditEvent& audit) override;
    std::vector<RegisterUnit> listRegister() override;
    std::optional<RegisterUnit> findUnit(std::string_view unitId) override;
    std::map<std::string, RegisterUnit> findUnits(const std::vector<std::string>& unitIds) override;
    void addComment(const ReviewCommentRow& comment, std::string_view deviceId, const AuditEvent& audit) override;
    std::vector<ReviewCommentRow> commentsFor(std::string_view deviceId, std::string_view recordId) override;
    std::vector<FeedItem> feedSince(uint64_t cursor, std::string_view cluster, std::string_view deviceId,
                                    size_t limit) override;

    void putChunk(const std::vector<uint8_t>& hash, const std::vector<uint8_t>& data, int64_t storedAt) override;
    uint64_t dropUncommittedChunks(int64_t storedBefore) override;
    std::vector<bool> haveChunks(const std::vector<std::vector<uint8_t>>& hashes) override;
    std::optional<std::vector<uint8_t>> readChunk(const std::vector<uint8_t>& hash) override;
    void putAttachment(const AttachmentRow& row, const AuditEvent& audit) override;
    std::vector<AttachmentRow> attachmentsOf(std::string_view deviceId, std::string_view recordId) override;

    void appendAudit(const AuditEvent& event) override;
    void forEachAudit(const std::function<bool(const AuditEntry&)>& fn) override;
    uint64_t countAudit() override;
    std::optional<AuditEntry> auditHead() override;

private:
    // A pooled connection, handed back when the lease ends (dropped when it broke).
    class Lease {
    public:
        Lease(PostgresStorage* owner, std::unique_ptr<Connection> conn) : m_owner(owner), m_conn(std::move(conn)) {}
        ~Lease() { m_owner->giveBack(std::move(m_conn)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() { return *m_conn; }
        Connection* operator->() { return m_conn.get(); }

    private:
        PostgresStorage* m_owner;
        std::unique_ptr<Connection> m_conn;
    };

    std::unique_ptr<Connection> connect();
    Lease acquire();
    void giveBack(std::unique_ptr<Connection> conn);

    enum class Mode { Transaction, ReadOnce, Snapshot };
    // Runs `fn` on a pooled connection: Transaction wraps it in BEGIN ... COMMIT, ReadOnce
    // runs it bare (single statements), Snapshot in a read-only repeatable-read transaction.
    // A connection lost before COMMIT was sent is reconnected once and `fn` run again
    // (`fn` must have no effect outside the database until it returns); so is a deadlock or a
    // serialisation failure. Every other failure rolls back and throws StorageFailure.
    // `delivered`, when given, is set once `fn` has handed rows to a caller: no retry after that.
    template <class Fn>
    auto run(Mode mode, Fn&& fn, const bool* delivered = nullptr) -> decltype(fn(std::declval<Connection&>()));

    [[noreturn]] void fail(const std::string& what, const std::exception& e) const;

    // Appends `events` to the audit chain: takes the cross-process audit lock, reads the head
    // and inserts the new entries. Call inside a Transaction, after any row locks it needs.
    static void appendAuditLocked(Connection& c, const std::vector<AuditEvent>& events);
    static void lockAudit(Connection& c);
    // Adds feed items; the audit lock must be held (it orders the feed across processes).
    static void appendFeed(Connection& c, const std::vector<FeedItem>& items);

    void createSchema();
    // Inside createSchema's transaction: brings a database of `version` up to this build's.
    static void migrateFrom(Connection& c, int version);

    Target m_target;
    std::string m_description;
    SecretBytes m_conninfo;  // the URL as given, NUL-terminated: it may hold the password

    std::mutex m_poolMutex;
    std::condition_variable m_poolReturned;
    std::vector<std::unique_ptr<Connection>> m_idle;
    size_t m_open = 0;  // connections in use or idle
};

// --- connection pool ---

std::unique_ptr<Connection> PostgresStorage::connect() {
    // Keywords before "dbname" are defaults the URL may override (expand_dbname).
    const char* keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
    const char* values[] = {"10", "ck-aggregator", reinterpret_cast<const char*>(m_conninfo.data()), nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, 1);
    if (conn == nullptr) throw StorageFailure("cannot connect to " + m_description + ": out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string why = scrub(firstLine(PQerrorMessage(conn)), m_target.password);
        PQfinish(conn);
        throw StorageFailure("cannot connect to " + m_description + ": " + why +
                             " (check the server and the URL's host, port, database, user and password)");
    }
    // Text travels as UTF-8 whatever the client's locale says.
    PQsetClientEncoding(conn, "UTF8");
    return std::make_unique<Connection>(conn);
}

PostgresStorage::Lease PostgresStorage::acquire() {
    std::unique_lock lock(m_poolMutex);
    m_poolReturned.wait(lock, [&] { return !m_idle.empty() || m_open < kPoolSize; });
    if (!m_idle.empty()) {
        std::unique_ptr<Connection> conn = std::move(m_idle.back());
        m_idle.pop_back();
        return Lease(this, std::move(conn));
    }
    ++m_open;
    lock.unlock();
    try {
        return Lease(this, connect());
    } catch (...) {
        lock.lock();
        --m_open;
        m_poolReturned.notify_one();
        throw;
    }
}

void PostgresStorage::giveBack(std::unique_ptr<Connection> conn) {
    std::lock_guard lock(m_poolMutex);
    if (conn && !conn->broken() && PQtransactionStatus(conn->get()) == PQTRANS_IDLE) {
        m_idle.push_back(std::move(conn));
    } else {
        conn.reset();
        --m_open;
    }
    m_poolReturned.notify_one();
}

void PostgresStorage::fail(const std::string& what, const std::exception& e) const {
    const auto* pg = dynamic_cast<const PgError*>(&e);
    throw PgFailure("PostgreSQL " + m_target.database + "@" + m_target.host + ":" + m_target.port + ": " + what +
                         ": " + scrub(e.what(), m_target.password), pg ? pg->sqlstate : std::string());
}

template <class Fn>
auto PostgresStorage::run(Mode mode, Fn&& fn, const bool* delivered) -> decltype(fn(std::declval<Connection&>())) {
    bool reconnected = false;
    for (int attempt = 0;; ++attempt) {
        Lease conn = acquire();
        if (conn->broken() && !conn->reset()) {
            fail("the connection was lost and could not be made again",
                 std::runtime_error(firstLine(PQerrorMessage(conn->get()))));
        }
        bool commitSent = false;
        try {
            if (mode == Mode::Transaction) conn->run("BEGIN");
            if (mode == Mode::Snapshot) conn->run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
            auto finish = [&] {
                if (mode != Mode::ReadOnce) {
                    commitSent = true;
                    conn->run("COMMIT");
                }
            };
            if constexpr (std::is_void_v<decltype(fn(*conn))>) {
                fn(*conn);
                finish();
                return;
            } else {
                auto result = fn(*conn);
                finish();
                return result;
            }
        } catch (const PgError& e) {
            if (!conn->broken() && PQtransactionStatus(conn->get()) != PQTRANS_IDLE) {
                PGresult* r = PQexec(conn->get(), "ROLLBACK");
                PQclear(r);
            }
            bool retryable = delivered == nullptr || !*delivered;
            if (e.connectionLost && commitSent) {
                fail("the connection was lost while committing, so whether the change was saved is unknown "
                     "(sending it again is safe)",
                     e);
            }
            if (retryable && e.connectionLost && !reconnected) {
                reconnected = true;
                if (conn->reset()) continue;
                fail("the connection was lost and could not be made again",
                     std::runtime_error(firstLine(PQerrorMessage(conn->get()))));
            }
            if (retryable && isRetryable(e.sqlstate) && attempt < 5) continue;
            fail(e.connectionLost ? "the connection was lost" : "a statement failed", e);
        } catch (...) {
            if (!conn->broken() && PQtransactionStatus(conn->get()) != PQTRANS_IDLE) {
                PGresult* r = PQexec(conn->get(), "ROLLBACK");
                PQclear(r);
            }
            throw;
        }
    }
}

// --- opening ---

std::string conninfoValue(PQconninfoOption* options, const char* keyword) {
    for (PQconninfoOption* o = options; o && o->keyword; ++o) {
        if (std::strcmp(o->keyword, keyword) == 0 && o->val) return o->val;
    }
    return {};
}

PostgresStorage::PostgresStorage(std::string_view url) {
    std::string redacted = redactPostgresUrl(url);
    char* error = nullptr;
    std::string urlText(url);
    PQconninfoOption* options = PQconninfoParse(urlText.c_str(), &error);
    if (options == nullptr) {
        if (error) PQfreemem(error);  // it may quote the URL, password and all
        throw StorageFailure("not a PostgreSQL URL this build can read: " + redacted +
                             " (expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE)");
    }
    m_target.database = conninfoValue(options, "dbname");
    m_target.host = conninfoValue(options, "host");
    if (m_target.host.empty()) m_target.host = conninfoValue(options, "hostaddr");
    m_target.port = conninfoValue(options, "port");
    m_target.user = conninfoValue(options, "user");
    m_target.password = conninfoValue(options, "password");
    PQconninfoFree(options);
    if (m_target.host.empty()) m_target.host = "localhost";
    if (m_target.port.empty()) m_target.port = "5432";
    if (m_target.database.empty()) m_target.database = m_target.user.empty() ? "postgres" : m_target.user;
    m_description = "PostgreSQL " + m_target.database + "@" + m_target.host + ":" + m_target.port;

    m_conninfo = SecretBytes(urlText.size() + 1);
    std::memcpy(m_conninfo.data(), urlText.data(), urlText.size());
    std::fill(urlText.begin(), urlText.end(), '\0');

    // The first connection also tells the operator at once when the server is unreachable.
    {
        std::lock_guard lock(m_poolMutex);
        ++m_open;
    }
    try {
        giveBack(connect());
    } catch (...) {
        std::lock_guard lock(m_poolMutex);
        --m_open;
        throw;
    }
    createSchema();
}

void PostgresStorage::createSchema() {
    run(Mode::Transaction, [&](Connection& c) {
        // Two processes starting together on an empty database would otherwise both create.
        c.exec("SELECT pg_advisory_xact_lock($1)", Params().int64(kSchemaLockKey));
        Result exists = c.exec("SELECT to_regclass('ck_meta') IS NOT NULL");
        if (exists.boolean(0, 0)) {
            Result v = c.exec("SELECT value FROM ck_meta WHERE key = 'schema_version'");
            Result app = c.exec("SELECT value FROM ck_meta WHERE key = 'application'");
            if (v.rows() == 0 || app.rows() == 0 || app.text(0, 0) != "clusterkit-aggregator") {
                throw StorageFailure(m_description +
                                     " is not a ClusterKit aggregator database (its ck_meta table belongs to "
                                     "something else); give ck-aggregator a database of its own");
            }
            int version = std::atoi(v.text(0, 0).c_str());
            if (version > kSchemaVersion) {
                throw StorageFailure(m_description + " holds schema version " + std::to_string(version) +
                                     ", newer than this ck-aggregator understands (" +
                                     std::to_string(kSchemaVersion) +
                                     "): upgrade ck-aggregator before pointing it at this database");
            }
            if (version == kSchemaVersion) return;
            migrateFrom(c, version);
            return;
        } else {
            // Tables of ours without ck_meta: another program's database, or a hand-made one.
            Result taken = c.exec(
                "SELECT coalesce(string_agg(t, ', '), '') FROM unnest(ARRAY['enrolment_codes', 'devices', 'visits', "
                "'templates', 'register_units', 'comments', 'feed', 'chunks', 'attachments', 'audit']) AS t "
                "WHERE to_regclass(t) IS NOT NULL");
            if (!taken.text(0, 0).empty()) {
                throw StorageFailure(m_description + " is not a ClusterKit aggregator database: it already has " +
                                     taken.text(0, 0) +
                                     " but no ck_meta table; give ck-aggregator a database of its own");
            }
        }
        c.run(kSchemaSql);
        migrateFrom(c, 1);
    });
}

void PostgresStorage::migrateFrom(Connection& c, int version) {
    if (version < 2) c.run(kMigrateTo2Sql);
    if (version < 3) c.run(kMigrateTo3Sql);
    c.exec("INSERT INTO ck_meta (key, value) VALUES ('application', 'clusterkit-aggregator'), "
           "('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
           Params().text(std::to_string(kSchemaVersion)));
}

// --- audit and feed ---

void PostgresStorage::lockAudit(Connection& c) { c.exec("SELECT pg_advisory_xact_lock($1)", Params().int64(kAuditLockKey)); }

void PostgresStorage::appendAuditLocked(Connection& c, const std::vector<AuditEvent>& events) {
    if (events.empty()) return;
    lockAudit(c);
    // A statement of its own after the lock: its snapshot sees the last holder's commit.
    Result head = c.exec(
        "SELECT seq, at, action, actor, subject, detail, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT 1");
    std::optional<AuditEntry> previous;
    if (head.rows() == 1) {
        previous = AuditEntry{static_cast<uint64_t>(head.int64(0, 0)), head.int64(0, 1), head.text(0, 2),
                              head.text(0, 3), head.text(0, 4), head.text(0, 5), head.text(0, 6), head.text(0, 7)};
    }
    std::vector<std::string> seq, at, action, actor, subject, detail, prevHash, hash;
    for (const AuditEvent& event : events) {
        AuditEntry e = chainEntry(previous ? &*previous : nullptr, event);
        seq.push_back(std::to_string(e.seq));
        at.push_back(std::to_string(e.at));
        action.push_back(e.action);
        actor.push_back(e.actor);
        subject.push_back(e.subject);
        detail.push_back(e.detail);
        prevHash.push_back(e.prevHash);
        hash.push_back(e.hash);
        previous = std::move(e);
    }
    c.exec("INSERT INTO audit (seq, at, action, actor, subject, detail, prev_hash, hash) "
           "SELECT s::bigint, a::bigint, ac, ar, su, de, ph, h "
           "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "
           "$8::text[]) AS t(s, a, ac, ar, su, de, ph, h)",
           Params().textArray(seq).textArray(at).textArray(action).textArray(actor).textArray(subject).textArray(
               detail).textArray(prevHash).textArray(hash));
}

void PostgresStorage::appendFeed(Connection& c, const std::vector<FeedItem>& items) {
    if (items.empty()) return;
    Result last = c.exec("SELECT coalesce(max(seq), 0) FROM feed");
    int64_t next = last.int64(0, 0) + 1;
    std::vector<std::string> seq, kind, cluster, deviceId, key;
    for (const FeedItem& item : items) {
        seq.push_back(std::to_string(next++));
        kind.push_back(std::to_string(static_cast<int>(item.kind)));
        cluster.push_back(item.cluster);
        deviceId.push_back(item.deviceId);
        key.push_back(item.key);
    }
    c.exec("INSERT INTO feed (seq, kind, cluster, device_id, key) SELECT s::bigint, k::bigint, c, d, y "
           "FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS t(s, k, c, d, y)",
           Params().textArray(seq).textArray(kind).textArray(cluster).textArray(deviceId).textArray(key));
}

void PostgresStorage::appendAudit(const AuditEvent& event) {
    run(Mode::Transaction, [&](Connection& c) { appendAuditLocked(c, {event}); });
}

void PostgresStorage::forEachAudit(const std::function<bool(const AuditEntry&)>& fn) {
    bool called = false;
    run(
        Mode::Snapshot,
        [&](Connection& c) {
            c.run("DECLARE audit_walk NO SCROLL CURSOR FOR SELECT seq, at, action, actor, subject, detail, "
                  "prev_hash, hash FROM audit ORDER BY seq");
            const std::string fetch = "FETCH " + std::to_string(kFetchRows) + " FROM audit_walk";
            for (;;) {
                Result r = c.exec(fetch.c_str());
                for (int i = 0; i < r.rows(); ++i) {
                    AuditEntry e{static_cast<uint64_t>(r.int64(i, 0)), r.int64(i, 1), r.text(i, 2), r.text(i, 3),
                                 r.text(i, 4), r.text(i, 5), r.text(i, 6), r.text(i, 7)};
                    called = true;
                    if (!fn(e)) return;
                }
                if (r.rows() < kFetchRows) return;
            }
        },
        &called);
}

std::optional<AuditEntry> PostgresStorage::auditHead() {
    return run(Mode::ReadOnce, [&](Connection& c) -> std::optional<AuditEntry> {
        Result r = c.exec(
            "SELECT seq, at, action, actor, subject, detail, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT 1");
        if (r.rows() == 0) return std::nullopt;
        return AuditEntry{static_cast<uint64_t>(r.int64(0, 0)), r.int64(0, 1), r.text(0, 2), r.text(0, 3),
                          r.text(0, 4), r.text(0, 5), r.text(0, 6), r.text(0, 7)};
    });
}

uint64_t PostgresStorage::countAudit() {
    return run(Mode::ReadOnce, [&](Connection& c) {
        return static_cast<uint64_t>(c.exec("SELECT count(*) FROM audit").int64(0, 0));
    });
}

// --- enrolment and devices ---

DeviceRow deviceFrom(const Result& r, int i) {
    return DeviceRow{r.text(i, 0), r.bytes(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4), r.int64(i, 5), r.int64(i, 6)};
}
constexpr const char* kDeviceColumns = "device_id, public_key, label, officer, cluster, enrolled_at, revoked_at";

void PostgresStorage::addEnrolmentCode(const EnrolmentCodeRow& code, const AuditEvent& audit) {
    run(Mode::Transaction, [&](Connection& c) {
        c.exec("INSERT INTO enrolment_codes (code_hash, officer, cluster, issued_at, expires_at, used_at, "
               "used_by_device) VALUES ($1, $2, $3, $4, $5, $6, $7)",
               Params().text(code.codeHash).text(code.officer).text(code.cluster).int64(code.issuedAt).int64(
                   code.expiresAt).int64(code.usedAt).text(code.usedByDevice));
        appendAuditLocked(c, {audit});
    });
}

RedeemOutcome PostgresStorage::redeemEnrolmentCode(std::string_view codeHash, const DeviceRow& newDevice, int64_t now,
                                                   DeviceRow* device) {
    for (int attempt = 0;; ++attempt) {
        DeviceRow row;  // the device as enrolled: handed out only once the transaction committed
        try {
            RedeemOutcome outcome = run(Mode::Transaction, [&](Connection& c) -> RedeemOutcome {
                // FOR UPDATE: a second redemption of the same code waits here, then sees it used.
                Result code = c.exec(
                    "SELECT officer, cluster, expires_at, used_at FROM enrolment_codes WHERE code_hash = $1 FOR UPDATE",
                    Params().text(codeHash));
                if (code.rows() == 0) return RedeemOutcome::Unknown;
                if (code.int64(0, 3) != 0) return RedeemOutcome::AlreadyUsed;
                if (now >= code.int64(0, 2)) return RedeemOutcome::Expired;
                Result known = c.exec("SELECT 1 FROM devices WHERE public_key = $1 OR device_id = $2",
                                      Params().bytes(newDevice.publicKey).text(newDevice.deviceId));
                if (known.rows() > 0) return RedeemOutcome::KeyAlreadyEnrolled;
                row = newDevice;
                row.officer = code.text(0, 0);
                row.cluster = code.text(0, 1);
                row.enrolledAt = now;
                row.revokedAt = 0;
                c.exec("UPDATE enrolment_codes SET used_at = $2, used_by_device = $3 WHERE code_hash = $1",
                       Params().text(codeHash).int64(now).text(row.deviceId));
                c.exec("INSERT INTO devices (device_id, public_key, label, officer, cluster, enrolled_at, revoked_at) "
                       "VALUES ($1, $2, $3, $4, $5, $6, 0)",
                       Params().text(row.deviceId).bytes(row.publicKey).text(row.label).text(row.officer).text(
                           row.cluster).int64(row.enrolledAt));
                appendAuditLocked(c, {AuditEvent{now, "enrolled", row.deviceId, row.deviceId,
                                                 "officer " + row.officer + ", cluster " + row.cluster}});
                return RedeemOutcome::Enrolled;
            });
            if (outcome == RedeemOutcome::Enrolled && device) *device = row;
            return outcome;
        } catch (const PgFailure& e) {
            // The same key enrolled by another code at the same moment: the unique index
            // refused our insert; run again and report KeyAlreadyEnrolled.
            if (attempt == 0 && e.sqlstate == "23505" /* unique_violation */) continue;
            throw;
        }
    }
}

std::optional<DeviceRow> PostgresStorage::findDevice(const std::vector<uint8_t>& publicKey) {
    return run(Mode::ReadOnce, [&](Connection& c) -> std::optional<DeviceRow> {
        Result r = c.exec((std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE public_key = $1").c_str(),
                          Params().bytes(publicKey));
        if (r.rows() == 0) return std::nullopt;
        return deviceFrom(r, 0);
    });
}

std::optional<DeviceRow> PostgresStorage::findDeviceById(std::string_view deviceId) {
    return run(Mode::ReadOnce, [&](Connection& c) -> std::optional<DeviceRow> {
        Result r = c.exec((std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE device_id = $1").c_str(),
                          Params().text(deviceId));
        if (r.rows() == 0) return std::nullopt;
        return deviceFrom(r, 0);
    });
}

std::vector<DeviceRow> PostgresStorage::listDevices() {
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec(
            (std::string("SELECT ") + kDeviceColumns + " FROM devices ORDER BY enrolled_at, device_id COLLATE \"C\"")
                .c_str());
        std::vector<DeviceRow> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(deviceFrom(r, i));
        return out;
    });
}

bool PostgresStorage::revokeDevice(std::string_view deviceId, int64_t now, const AuditEvent& audit) {
    return run(Mode::Transaction, [&](Connection& c) {
        Result r = c.exec("UPDATE devices SET revoked_at = $2 WHERE device_id = $1 AND revoked_at = 0 RETURNING 1",
                          Params().text(deviceId).int64(now));
        if (r.rows() == 0) return false;
        appendAuditLocked(c, {audit});
        return true;
    });
}

// --- visits ---

std::vector<PutOutcome> PostgresStorage::putVisits(const std::vector<StoredVisit>& visits) {
    if (visits.empty()) return {};
    // The first occurrence of each (device, record id) is the one to insert; sorted, so that
    // two processes inserting overlapping batches lock rows in the same order (no deadlock).
    using Key = std::pair<std::string_view, std::string_view>;  // device, record id
    std::map<Key, const StoredVisit*> firstById;
    for (const StoredVisit& v : visits) firstById.emplace(Key{v.deviceId, v.recordId}, &v);
    auto keyOf = [](std::string_view device, std::string_view id) {
        std::string k(device);
        k.push_back('\n');
        k.append(id);
        return k;
    };

    return run(Mode::Transaction, [&](Connection& c) {
        std::vector<std::string_view> recordId, contentHash, parentId, templateId, templateVersion, deviceId, cluster,
            registerStratum, review;
        std::vector<std::string> receivedAt;
        std::vector<const std::vector<uint8_t>*> envelopePtrs, recordPtrs;
        for (const auto& [id, v] : firstById) {
            recordId.push_back(v->recordId);
            contentHash.push_back(v->contentHash);
            parentId.push_back(v->parentId);
            templateId.push_back(v->templateId);
            templateVersion.push_back(v->templateVersion);
            deviceId.push_back(v->deviceId);
            cluster.push_back(v->cluster);
            receivedAt.push_back(std::to_string(v->receivedAt));
            envelopePtrs.push_back(&v->envelope);
            recordPtrs.push_back(&v->record);
            registerStratum.push_back(v->registerStratum);
            review.push_back(v->review);
        }
        struct Deref {
            const std::vector<uint8_t>* p;
            size_t size() const { return p->size(); }
            const uint8_t* data() const { return p->data(); }
        };
        std::vector<Deref> envelopes, records;
        for (auto* p : envelopePtrs) envelopes.push_back({p});
        for (auto* p : recordPtrs) records.push_back({p});

        Result inserted = c.exec(
            "INSERT INTO visits (record_id, content_hash, parent_id, template_id, template_version, device_id, "
            "cluster, received_at, envelope, record, register_stratum, review) "
            "SELECT r, h, p, t, tv, d, cl, ra::bigint, e, rec, rs, rv FROM unnest($1::text[], $2::text[], $3::text[], "
            "$4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[], $10::bytea[], $11::text[], "
            "$12::text[]) AS u(r, h, p, t, tv, d, cl, ra, e, rec, rs, rv) "
            "ON CONFLICT (device_id, record_id) DO NOTHING RETURNING device_id, record_id",
            Params()
                .textArray(recordId)
                .textArray(contentHash)
                .textArray(parentId)
                .textArray(templateId)
                .textArray(templateVersion)
                .textArray(deviceId)
                .textArray(cluster)
                .textArray(receivedAt)
                .byteaArray(envelopes)
                .byteaArray(records)
                .textArray(registerStratum)
                .textArray(review));
        std::unordered_set<std::string> stored;
        for (int i = 0; i < inserted.rows(); ++i) stored.insert(keyOf(inserted.text(i, 0), inserted.text(i, 1)));

        // The content already on file for every (device, id) we did not insert just now.
        std::vector<std::string_view> knownDevice, knownId;
        for (const auto& [key, v] : firstById) {
            if (!stored.count(keyOf(key.first, key.second))) {
                knownDevice.push_back(key.first);
                knownId.push_back(key.second);
            }
        }
        std::unordered_map<std::string, std::string> hashOnFile;
        if (!knownId.empty()) {
            Result r = c.exec("SELECT v.device_id, v.record_id, v.content_hash FROM visits v "
                              "JOIN unnest($1::text[], $2::text[]) AS k(d, r) ON v.device_id = k.d AND v.record_id = k.r",
                              Params().textArray(knownDevice).textArray(knownId));
            for (int i = 0; i < r.rows(); ++i) hashOnFile[keyOf(r.text(i, 0), r.text(i, 1))] = r.text(i, 2);
        }
        for (const auto& [key, v] : firstById) {
            std::string k = keyOf(key.first, key.second);
            if (stored.count(k)) hashOnFile[k] = v->contentHash;
        }

        std::vector<PutOutcome> outcomes;
        std::vector<AuditEvent> events;
        std::unordered_set<std::string> storedNow;
        for (const StoredVisit& v : visits) {
            PutOutcome outcome;
            std::string k = keyOf(v.deviceId, v.recordId);
            if (stored.count(k) && storedNow.insert(k).second) {
                outcome = PutOutcome::Stored;
                events.push_back({v.receivedAt, "stored", v.deviceId, v.recordId,
                                  v.auditDetail.empty() ? visitAuditDetail(v) : v.auditDetail});
            } else if (hashOnFile[k] == v.contentHash) {
                outcome = PutOutcome::Duplicate;
                events.push_back({v.receivedAt, "duplicate", v.deviceId, v.recordId, v.contentHash});
            } else {
                outcome = PutOutcome::Conflict;
                events.push_back({v.receivedAt, "refused", v.deviceId, v.recordId, "conflict"});
            }
            outcomes.push_back(outcome);
        }
        appendAuditLocked(c, events);
        return outcomes;
    });
}

constexpr const char* kVisitColumns =
    "record_id, content_hash, parent_id, template_id, template_version, device_id, cluster, received_at, envelope, "
    "record, register_stratum, review";

StoredVisit visitFrom(const Result& r, int i) {
    return StoredVisit{r.text(i, 0), r.text(i, 1), r.text(i, 2),  r.text(i, 3), r.text(i, 4),  r.text(i, 5),
                       r.text(i, 6), r.int64(i, 7), r.bytes(i, 8), r.bytes(i, 9), r.text(i, 10), r.text(i, 11)};
}

std::vector<StoredVisit> PostgresStorage::visitsForReview(size_t limit) {
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("SELECT record_id, content_hash, parent_id, template_id, template_version, device_id, cluster, "
                          "received_at, register_stratum, review FROM visits WHERE review <> '' "
                          "ORDER BY received_at DESC, record_id COLLATE \"C\", device_id COLLATE \"C\" LIMIT $1",
                          Params().int64(int64_t(std::min<size_t>(limit, size_t(1) << 30))));
        std::vector<StoredVisit> out;
        for (int i = 0; i < r.rows(); ++i)
            out.push_back(StoredVisit{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4),
                                      r.text(i, 5), r.text(i, 6), r.int64(i, 7), {},           {},
                                      r.text(i, 8), r.text(i, 9)});
        return out;
    });
}

std::vector<std::string> PostgresStorage::devicesWithVisit(std::string_view recordId) {
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("SELECT device_id FROM visits WHERE record_id = $1 ORDER BY received_at, device_id COLLATE \"C\"",
                          Params().text(recordId));
        std::vector<std::string> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
        return out;
    });
}

uint64_t PostgresStorage::countForReview() {
    return run(Mode::ReadOnce, [&](Connection& c) {
        return static_cast<uint64_t>(c.exec("SELECT count(*) FROM visits WHERE review <> ''").int64(0, 0));
    });
}

std::optional<StoredVisit> PostgresStorage::findVisit(std::string_view recordId) {
    return run(Mode::ReadOnce, [&](Connection& c) -> std::optional<StoredVisit> {
        Result r = c.exec((std::string("SELECT ") + kVisitColumns +
                           " FROM visits WHERE record_id = $1 ORDER BY received_at, device_id COLLATE \"C\" LIMIT 1")
                              .c_str(),
                          Params().text(recordId));
        if (r.rows() == 0) return std::nullopt;
        return visitFrom(r, 0);
    });
}

std::optional<StoredVisit> PostgresStorage::findDeviceVisit(std::string_view deviceId, std::string_view recordId) {
    return run(Mode::ReadOnce, [&](Connection& c) -> std::optional<StoredVisit> {
        Result r = c.exec(
            (std::string("SELECT ") + kVisitColumns + " FROM visits WHERE device_id = $1 AND record_id = $2").c_str(),
            Params().text(deviceId).text(recordId));
        if (r.rows() == 0) return std::nullopt;
        return visitFrom(r, 0);
    });
}

uint64_t PostgresStorage::countVisits() {
    return run(Mode::ReadOnce,
               [&](Connection& c) { return static_cast<uint64_t>(c.exec("SELECT count(*) FROM visits").int64(0, 0)); });
}

void PostgresStorage::forEachVisit(const std::function<bool(const StoredVisit&)>& fn, VisitParts parts) {
    // A blob not asked for is selected as an empty one: the same columns for visitFrom.
    const char* columns = parts == VisitParts::All ? kVisitColumns
                          : parts == VisitParts::Record
                              ? "record_id, content_hash, parent_id, template_id, template_version, device_id, cluster, "
                                "received_at, ''::bytea, record, register_stratum, review"
                              : "record_id, content_hash, parent_id, template_id, template_version, device_id, cluster, "
                                "received_at, ''::bytea, ''::bytea, register_stratum, review";
    bool called = false;
    run(Mode::Snapshot, [&](Connection& c) {
        c.run((std::string("DECLARE visit_walk NO SCROLL CURSOR FOR SELECT ") + columns +
               " FROM visits ORDER BY received_at, record_id COLLATE \"C\", device_id COLLATE \"C\"")
                  .c_str());
        const std::string fetch = "FETCH " + std::to_string(kFetchRows) + " FROM visit_walk";
        for (;;) {
            Result r = c.exec(fetch.c_str());
            for (int i = 0; i < r.rows(); ++i) {
                called = true;
                if (!fn(visitFrom(r, i))) return;
            }
            if (r.rows() < kFetchRows) return;
        }
    }, &called);
}

// --- templates, register, comments, feed ---

bool PostgresStorage::putTemplate(const PublishedTemplate& t, const AuditEvent& audit) {
    return run(Mode::Transaction, [&](Connection& c) {
        Result r = c.exec("INSERT INTO templates (template_id, version, json_text, signature, published_at) "
                          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
                          Params().text(t.templateId).text(t.version).text(t.jsonText).bytes(t.signature).int64(
                              t.publishedAt));
        if (r.rows() == 0) return false;
        appendAuditLocked(c, {audit});
        appendFeed(c, {FeedItem{0, FeedKind::Template, "", "", t.templateId + "@" + t.version}});
        return true;
    });
}

PublishedTemplate templateFrom(const Result& r, int i) {
    return PublishedTemplate{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.bytes(i, 3), r.int64(i, 4)};
}

std::optional<PublishedTemplate> PostgresStorage::findTemplate(std::string_view id, std::string_view version) {
    return run(Mode::ReadOnce, [&](Connection& c) -> std::optional<PublishedTemplate> {
        Result r = c.exec("SELECT template_id, version, json_text, signature, published_at FROM templates "
                          "WHERE template_id = $1 AND version = $2",
                          Params().text(id).text(version));
        if (r.rows() == 0) return std::nullopt;
        return templateFrom(r, 0);
    });
}

std::vector<PublishedTemplate> PostgresStorage::listTemplates() {
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("SELECT template_id, version, json_text, signature, published_at FROM templates "
                          "ORDER BY published_at, template_id COLLATE \"C\", version COLLATE \"C\"");
        std::vector<PublishedTemplate> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(templateFrom(r, i));
        return out;
    });
}

void PostgresStorage::putRegister(const std::vector<RegisterUnit>& units, const AuditEvent& audit) {
    run(Mode::Transaction, [&](Connection& c) {
        std::vector<FeedItem> changed;
        for (const RegisterUnit& u : units) {
            // Only a new or different unit is a change devices need to hear about.
            Result r = c.exec(
                "INSERT INTO register_units AS old (unit_id, name, cluster, district, state, stratum, sector) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (unit_id) DO UPDATE SET name = excluded.name, "
                "cluster = excluded.cluster, district = excluded.district, state = excluded.state, "
                "stratum = excluded.stratum, sector = excluded.sector "
                "WHERE (old.name, old.cluster, old.district, old.state, old.stratum, old.sector) IS DISTINCT FROM "
                "(excluded.name, excluded.cluster, excluded.district, excluded.state, excluded.stratum, "
                "excluded.sector) RETURNING 1",
                Params().text(u.unitId).text(u.name).text(u.cluster).text(u.district).text(u.state).text(u.stratum).text(
                    u.sector));
            if (r.rows() > 0) changed.push_back(FeedItem{0, FeedKind::Assignment, u.cluster, "", u.unitId});
        }
        appendAuditLocked(c, {audit});
        appendFeed(c, changed);
    });
}

RegisterUnit unitFrom(const Result& r, int i) {
    return RegisterUnit{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3), r.text(i, 4), r.text(i, 5), r.text(i, 6)};
}

std::vector<RegisterUnit> PostgresStorage::listRegister() {
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("SELECT unit_id, name, cluster, district, state, stratum, sector FROM register_units "
                          "ORDER BY unit_id COLLATE \"C\"");
        std::vector<RegisterUnit> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(unitFrom(r, i));
        return out;
    });
}

std::optional<RegisterUnit> PostgresStorage::findUnit(std::string_view unitId) {
    return run(Mode::ReadOnce, [&](Connection& c) -> std::optional<RegisterUnit> {
        Result r = c.exec("SELECT unit_id, name, cluster, district, state, stratum, sector FROM register_units "
                          "WHERE unit_id = $1",
                          Params().text(unitId));
        if (r.rows() == 0) return std::nullopt;
        return unitFrom(r, 0);
    });
}

std::map<std::string, RegisterUnit> PostgresStorage::findUnits(const std::vector<std::string>& unitIds) {
    if (unitIds.empty()) return {};
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("SELECT unit_id, name, cluster, district, state, stratum, sector FROM register_units "
                          "WHERE unit_id = ANY($1)",
                          Params().textArray(unitIds));
        std::map<std::string, RegisterUnit> out;
        for (int i = 0; i < r.rows(); ++i) {
            RegisterUnit unit = unitFrom(r, i);
            std::string id = unit.unitId;
            out.emplace(std::move(id), std::move(unit));
        }
        return out;
    });
}

void PostgresStorage::addComment(const ReviewCommentRow& comment, std::string_view deviceId, const AuditEvent& audit) {
    run(Mode::Transaction, [&](Connection& c) {
        c.exec("INSERT INTO comments (record_id, device_id, text, at) VALUES ($1, $2, $3, $4)",
               Params().text(comment.recordId).text(deviceId).text(comment.text).int64(comment.at));
        appendAuditLocked(c, {audit});
        appendFeed(c, {FeedItem{0, FeedKind::Comment, "", std::string(deviceId), comment.recordId}});
    });
}

std::vector<ReviewCommentRow> PostgresStorage::commentsFor(std::string_view deviceId, std::string_view recordId) {
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("SELECT record_id, text, at FROM comments WHERE device_id = $1 AND record_id = $2 ORDER BY id",
                          Params().text(deviceId).text(recordId));
        std::vector<ReviewCommentRow> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back({r.text(i, 0), r.text(i, 1), r.int64(i, 2)});
        return out;
    });
}

std::vector<FeedItem> PostgresStorage::feedSince(uint64_t cursor, std::string_view cluster, std::string_view deviceId,
                                                 size_t limit) {
    if (limit == 0) return {};
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec(
            "SELECT seq, kind, cluster, device_id, key FROM feed WHERE seq > $1 AND "
            "((kind <> $4 AND (cluster = '' OR cluster = $2)) OR (kind = $4 AND device_id = $3)) "
            "ORDER BY seq LIMIT $5",
            Params()
                .int64(static_cast<int64_t>(std::min<uint64_t>(cursor, INT64_MAX)))
                .text(cluster)
                .text(deviceId)
                .int64(static_cast<int64_t>(FeedKind::Comment))
                .int64(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX))));
        std::vector<FeedItem> out;
        for (int i = 0; i < r.rows(); ++i) {
            out.push_back(FeedItem{static_cast<uint64_t>(r.int64(i, 0)), static_cast<FeedKind>(r.int64(i, 1)),
                                   r.text(i, 2), r.text(i, 3), r.text(i, 4)});
        }
        return out;
    });
}

// --- attachments ---

void PostgresStorage::putChunk(const std::vector<uint8_t>& hash, const std::vector<uint8_t>& data, int64_t storedAt) {
    run(Mode::ReadOnce, [&](Connection& c) {
        c.exec("INSERT INTO chunks (hash, data, stored_at, committed) VALUES ($1, $2, $3, false) "
               "ON CONFLICT (hash) DO NOTHING",
               Params().bytes(hash).bytes(data).int64(storedAt));
    });
}

uint64_t PostgresStorage::dropUncommittedChunks(int64_t storedBefore) {
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("WITH gone AS (DELETE FROM chunks WHERE NOT committed AND stored_at < $1 RETURNING 1) "
                          "SELECT count(*) FROM gone",
                          Params().int64(storedBefore));
        return static_cast<uint64_t>(r.int64(0, 0));
    });
}

std::vector<bool> PostgresStorage::haveChunks(const std::vector<std::vector<uint8_t>>& hashes) {
    if (hashes.empty()) return {};
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("SELECT hash FROM chunks WHERE hash = ANY($1::bytea[])", Params().byteaArray(hashes));
        std::set<std::vector<uint8_t>> present;
        for (int i = 0; i < r.rows(); ++i) present.insert(r.bytes(i, 0));
        std::vector<bool> out;
        for (const auto& h : hashes) out.push_back(present.count(h) > 0);
        return out;
    });
}

std::optional<std::vector<uint8_t>> PostgresStorage::readChunk(const std::vector<uint8_t>& hash) {
    return run(Mode::ReadOnce, [&](Connection& c) -> std::optional<std::vector<uint8_t>> {
        Result r = c.exec("SELECT data FROM chunks WHERE hash = $1", Params().bytes(hash));
        if (r.rows() == 0) return std::nullopt;
        return r.bytes(0, 0);
    });
}

void PostgresStorage::putAttachment(const AttachmentRow& row, const AuditEvent& audit) {
    run(Mode::Transaction, [&](Connection& c) {
        Result r = c.exec("INSERT INTO attachments (attachment_id, record_id, device_id, media_type, total_bytes, "
                          "chunk_hashes, committed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                          "ON CONFLICT (device_id, attachment_id) DO NOTHING RETURNING 1",
                          Params()
                              .text(row.attachmentId)
                              .text(row.recordId)
                              .text(row.deviceId)
                              .text(row.mediaType)
                              .int64(static_cast<int64_t>(row.totalBytes))
                              .byteaArray(row.chunkHashes)
                              .int64(row.committedAt));
        if (r.rows() == 0) return;  // committed before: a resend
        c.exec("UPDATE chunks SET committed = true WHERE hash = ANY($1::bytea[]) AND NOT committed",
               Params().byteaArray(row.chunkHashes));
        appendAuditLocked(c, {audit});
    });
}

std::vector<AttachmentRow> PostgresStorage::attachmentsOf(std::string_view deviceId, std::string_view recordId) {
    return run(Mode::ReadOnce, [&](Connection& c) {
        Result r = c.exec("SELECT record_id, attachment_id, device_id, media_type, total_bytes, chunk_hashes, "
                          "committed_at FROM attachments WHERE device_id = $1 AND record_id = $2 "
                          "ORDER BY attachment_id COLLATE \"C\"",
                          Params().text(deviceId).text(recordId));
        std::vector<AttachmentRow> out;
        for (int i = 0; i < r.rows(); ++i) {
            out.push_back(AttachmentRow{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3),
                                        static_cast<uint64_t>(r.int64(i, 4)), r.byteaArray(i, 5), r.int64(i, 6)});
        }
        return out;
    });
}

}  // namespace

std::string redactPostgresUrl(std::string_view url) {
    std::string out(url);
    // URI form: postgresql://user:password@host/...: keep the user, drop the password.
    size_t scheme = out.find("://");
    if (scheme != std::string::npos) {
        size_t start = scheme + 3;
        size_t end = out.find_first_of("/?", start);
        if (end == std::string::npos) end = out.size();
        size_t at = out.rfind('@', end);
        if (at != std::string::npos && at >= start) {
            size_t colon = out.find(':', start);
            if (colon != std::string::npos && colon < at) out.erase(colon, at - colon);
        }
    }
    // password=... in a query string or a key=value connection string.
    for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
        size_t value = p + 9;
        size_t end = out.find_first_of("& ", value);
        if (end == std::string::npos) end = out.size();
        out.replace(value, end - value, "***");
    }
    return out;
}

std::unique_ptr<AggregatorStorage> openPostgresStorage(std::string_view url) {
    return std::make_unique<PostgresStorage>(url);
}

}  // namespace ck::agg
