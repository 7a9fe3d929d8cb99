#include "sync/aggregator/storage/sqlite_storage.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <system_error>
#include <utility>

#include "sync/aggregator/audit_log.h"

namespace ck::agg {

namespace {

// --- a small RAII layer over sqlite3 (app/store has a fuller one; sync/ must not depend on app/) ---

class Statement {
public:
    Statement(sqlite3* db, sqlite3_stmt* stmt, std::string* where) : m_db(db), m_stmt(stmt), m_where(where) {}
    ~Statement() { sqlite3_finalize(m_stmt); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int i, int64_t v) { return check(sqlite3_bind_int64(m_stmt, i, v)); }
    Statement& bind(int i, std::string_view s) {
        return check(sqlite3_bind_text64(m_stmt, i, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    Statement& bindBlob(int i, const std::vector<uint8_t>& b) {
        static const uint8_t kNothing = 0;  // an empty blob is still a blob, not NULL
        return check(sqlite3_bind_blob64(m_stmt, i, b.empty() ? &kNothing : b.data(), b.size(), SQLITE_TRANSIENT));
    }
    bool step() {
        int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        std::string msg = sqlite3_errmsg(m_db);
        sqlite3_reset(m_stmt);
        throw StorageFailure(*m_where + ": " + msg);
    }
    void run() {
        while (step()) {
        }
    }
    void reset() {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }
    int64_t int64(int c) const { return sqlite3_column_int64(m_stmt, c); }
    std::string text(int c) const {
        auto* p = sqlite3_column_text(m_stmt, c);
        return p ? std::string(reinterpret_cast<const char*>(p), size_t(sqlite3_column_bytes(m_stmt, c))) : std::string();
    }
    std::vector<uint8_t> blob(int c) const {
        auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(m_stmt, c));
        int n = sqlite3_column_bytes(m_stmt, c);
        return p && n > 0 ? std::vector<uint8_t>(p, p + n) : std::vector<uint8_t>();
    }

private:
    Statement& check(int rc) {
        if (rc != SQLITE_OK) throw StorageFailure(*m_where + ": " + sqlite3_errmsg(m_db));
        return *this;
    }
    sqlite3* m_db;
    sqlite3_stmt* m_stmt;
    std::string* m_where;  // "SQLite <file>", for messages
};

// A cached statement in use; reset on scope exit so no statement keeps a read snapshot open.
class Use {
public:
    explicit Use(Statement& s) : m_s(&s) {}
    ~Use() { m_s->reset(); }
    Use(const Use&) = delete;
    Use& operator=(const Use&) = delete;
    Statement* operator->() { return m_s; }
    Statement& operator*() { return *m_s; }

private:
    Statement* m_s;
};

class Connection {
public:
    explicit Connection(const std::filesystem::path& file) : m_where("SQLite " + file.string()) {
        int rc = sqlite3_open_v2(file.c_str(), &m_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
        if (rc != SQLITE_OK) {
            std::string msg = m_db ? sqlite3_errmsg(m_db) : sqlite3_errstr(rc);
            sqlite3_close_v2(m_db);
            m_db = nullptr;
            throw StorageFailure("cannot open " + file.string() + ": " + msg);
        }
        // Another process holding the write lock makes us wait, not fail.
        sqlite3_busy_timeout(m_db, 15000);
    }
    ~Connection() {
        m_cache.clear();  // statements before the connection
        sqlite3_close_v2(m_db);
    }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    const std::string& where() const { return m_where; }
    void exec(const char* sql) {
        char* err = nullptr;
        int rc = sqlite3_exec(m_db, sql, nullptr, nullptr, &err);
        if (rc != SQLITE_OK) {
            std::string msg = err ? err : sqlite3_errstr(rc);
            sqlite3_free(err);
            throw StorageFailure(m_where + ": " + msg);
        }
    }
    // `sql` must be a string literal: the cache keys on its address.
    Use cached(const char* sql) {
        auto it = m_cache.find(sql);
        if (it == m_cache.end()) {
            sqlite3_stmt* st = nullptr;
            if (sqlite3_prepare_v3(m_db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
                throw StorageFailure(m_where + ": " + sqlite3_errmsg(m_db));
            }
            it = m_cache.emplace(sql, std::make_unique<Statement>(m_db, st, &m_where)).first;
        }
        return Use(*it->second);
    }
    // Runs a pragma and returns the first column of its answer ("" when it has none).
    std::string pragmaText(const char* sql) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(m_db, sql, -1, &st, nullptr) != SQLITE_OK) throw StorageFailure(m_where + ": " + sqlite3_errmsg(m_db));
        std::string out;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_text(st, 0)) out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) throw StorageFailure(m_where + ": " + sqlite3_errstr(rc));
        return out;
    }
    int64_t changes() const { return sqlite3_changes64(m_db); }
    bool inTransaction() const { return sqlite3_get_autocommit(m_db) == 0; }

private:
    sqlite3* m_db = nullptr;
    std::string m_where;
    std::map<const char*, std::unique_ptr<Statement>> m_cache;
};

// A write transaction (BEGIN IMMEDIATE) takes the write lock up front, so a read-then-write
// inside cannot fail half-way on a lock, and audit appends from several processes never fork
// the chain. A read transaction (BEGIN) lets several reads see one snapshot and pay for
// opening one read (the WAL's lock and index header) once, not once per statement.
class Transaction {
public:
    enum class Access { Write, Read };
    explicit Transaction(Connection& c, Access access = Access::Write) : m_c(c) {
        m_c.exec(access == Access::Write ? "BEGIN IMMEDIATE" : "BEGIN");
    }
    ~Transaction() {
        if (!m_done && m_c.inTransaction()) {
            try {
                m_c.exec("ROLLBACK");
            } catch (...) {  // nothing better to do in a destructor
            }
        }
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        m_c.exec("COMMIT");
        m_done = true;
    }

private:
    Connection& m_c;
    bool m_done = false;
};

constexpr const char* kSchema = R"sql(
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
)sql";
constexpr const char* kApplication = "clusterkit-aggregator";

// Version 1 -> 2. Visits and attachments are keyed by (device, id): an id read off another
// device's USB bundle no longer collides with that device's visit. Chunks note when they
// arrived and whether an attachment names them, so uncommitted ones can be cleaned up
// (chunks already on file count as committed: nothing old is deleted).
// A new database is made as version 1 and then migrated, so both paths are one path.
constexpr const char* kMigrateTo2 = R"sql(
CREATE TABLE visits_v2 (
  record_id TEXT NOT NULL, content_hash TEXT NOT NULL, parent_id TEXT NOT NULL, template_id TEXT NOT NULL,
  template_version TEXT NOT NULL, device_id TEXT NOT NULL, cluster TEXT NOT NULL, received_at INTEGER NOT NULL,
  envelope BLOB NOT NULL, record BLOB NOT NULL, PRIMARY KEY (device_id, record_id));
INSERT INTO visits_v2 (record_id, content_hash, parent_id, template_id, template_version, device_id, cluster,
  received_at, envelope, record)
  SELECT record_id, content_hash, parent_id, template_id, template_version, device_id, cluster, received_at,
  envelope, record FROM visits;
DROP TABLE visits;
ALTER TABLE visits_v2 RENAME TO visits;
CREATE INDEX visits_by_arrival ON visits (received_at, record_id, device_id);
CREATE INDEX visits_by_record ON visits (record_id);
CREATE TABLE attachments_v2 (
  attachment_id TEXT NOT NULL, record_id TEXT NOT NULL, device_id TEXT NOT NULL, media_type TEXT NOT NULL,
  total_bytes INTEGER NOT NULL, chunk_hashes BLOB NOT NULL, committed_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, attachment_id));
INSERT INTO attachments_v2 SELECT attachment_id, record_id, device_id, media_type, total_bytes, chunk_hashes,
  committed_at FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_v2 RENAME TO attachments;
CREATE INDEX attachments_by_record ON attachments (record_id);
ALTER TABLE chunks ADD COLUMN stored_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN committed INTEGER NOT NULL DEFAULT 1;
CREATE INDEX chunks_uncommitted ON chunks (committed, stored_at);
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// Version 2 -> 3. A visit keeps the register's size class of its assigned unit (the report
// weights by it) and why it is held for review; visits stored before have neither. Comments
// name the device whose visit they are on (those on file: the first received, as they were sent).
constexpr const char* kMigrateTo3 = R"sql(
ALTER TABLE visits ADD COLUMN register_stratum TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN review TEXT NOT NULL DEFAULT '';
CREATE INDEX visits_for_review ON visits (received_at) WHERE review <> '';
ALTER TABLE comments ADD COLUMN device_id TEXT NOT NULL DEFAULT '';
UPDATE comments SET device_id = coalesce((SELECT device_id FROM visits WHERE visits.record_id = comments.record_id
  ORDER BY received_at, device_id LIMIT 1), '');
CREATE INDEX comments_by_device ON comments (device_id, record_id);
UPDATE meta SET value = '3' WHERE key = 'schema_version';
)sql";

// Chunk hash lists: each hash as u32 LE length + bytes (hashes need not all be one size).
std::vector<uint8_t> packHashes(const std::vector<std::vector<uint8_t>>& hashes) {
    std::vector<uint8_t> out;
    for (const auto& h : hashes) {
        auto n = static_cast<uint32_t>(h.size());
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
        out.insert(out.end(), h.begin(), h.end());
    }
    return out;
}
std::vector<std::vector<uint8_t>> unpackHashes(const std::vector<uint8_t>& packed, const std::string& where) {
    std::vector<std::vector<uint8_t>> out;
    size_t at = 0;
    while (at < packed.size()) {
        if (packed.size() - at < 4) throw StorageFailure(where + ": a stored chunk list is damaged");
        uint32_t n = 0;
        for (int i = 0; i < 4; ++i) n |= uint32_t(packed[at + size_t(i)]) << (8 * i);
        at += 4;
        if (packed.size() - at < n) throw StorageFailure(where + ": a stored chunk list is damaged");
        out.emplace_back(packed.begin() + long(at), packed.begin() + long(at + n));
        at += n;
    }
    return out;
}

// Name of the file, beside the database, that processes lock while one of them sets it up.
constexpr const char* kSetupLockName = "aggregator.setup-lock";

// An exclusive flock(2) on a file, held for the object's lifetime.
class SetupLock {
public:
    explicit SetupLock(const std::filesystem::path& path) {
        m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (m_fd < 0) throw StorageFailure("cannot create " + path.string() + ": " + std::strerror(errno));
        while (::flock(m_fd, LOCK_EX) != 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(m_fd);
            throw StorageFailure("cannot lock " + path.string() + ": " + std::strerror(e));
        }
    }
    ~SetupLock() { ::close(m_fd); }  // closing releases the lock
    SetupLock(const SetupLock&) = delete;
    SetupLock& operator=(const SetupLock&) = delete;

private:
    int m_fd = -1;
};

class SqliteStorage final : public AggregatorStorage {
public:
    SqliteStorage(std::filesystem::path folder, std::filesystem::path file) : m_folder(std::move(folder)), m_c(file) {
        prepareSchema();
    }

    std::string describe() const override { return m_c.where(); }

    // --- enrolment and devices ---
    void addEnrolmentCode(const EnrolmentCodeRow& code, const AuditEvent& audit) override {
        std::lock_guard lock(m_mutex);
        Transaction tx(m_c);
        auto st = m_c.cached(
            "INSERT INTO enrolment_codes (code_hash, officer, cluster, issued_at, expires_at, used_at, used_by_device)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)");
        st->bind(1, code.codeHash).bind(2, code.officer).bind(3, code.cluster).bind(4, code.issuedAt);
        st->bind(5, code.expiresAt).bind(6, code.usedAt).bind(7, code.usedByDevice).run();
        Chain chain(m_c);
        chain.append(audit);
        tx.commit();
    }

    RedeemOutcome redeemEnrolmentCode(std::string_view codeHash, const DeviceRow& newDevice, int64_t now,
                                      DeviceRow* device) override {
        std::lock_guard lock(m_mutex);
        Transaction tx(m_c);
        std::string officer, cluster;
        {
            auto st = m_c.cached("SELECT officer, cluster, expires_at, used_at FROM enrolment_codes WHERE code_hash = ?");
            st->bind(1, codeHash);
            if (!st->step()) return RedeemOutcome::Unknown;
            if (st->int64(3) != 0) return RedeemOutcome::AlreadyUsed;
            if (now >= st->int64(2)) return RedeemOutcome::Expired;
            officer = st->text(0);
            cluster = st->text(1);
        }
        {
            auto st = m_c.cached("SELECT 1 FROM devices WHERE public_key = ? OR device_id = ?");
            st->bindBlob(1, newDevice.publicKey).bind(2, newDevice.deviceId);
            if (st->step()) return RedeemOutcome::KeyAlreadyEnrolled;
        }
        // The code decides who and where: the device cannot choose its officer or cluster.
        DeviceRow row = newDevice;
        row.officer = officer;
        row.cluster = cluster;
        row.enrolledAt = now;
        row.revokedAt = 0;
        {
            auto st = m_c.cached("UPDATE enrolment_codes SET used_at = ?, used_by_device = ? WHERE code_hash = ?");
            st->bind(1, now).bind(2, row.deviceId).bind(3, codeHash).run();
        }
        {
            auto st = m_c.cached(
                "INSERT INTO devices (device_id, public_key, label, officer, cluster, enrolled_at, revoked_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 0)");
            st->bind(1, row.deviceId).bindBlob(2, row.publicKey).bind(3, row.label).bind(4, row.officer);
            st->bind(5, row.cluster).bind(6, row.enrolledAt).run();
        }
        Chain chain(m_c);
        chain.append({now, "enrolled", row.deviceId, row.deviceId,
                      "officer " + row.officer + ", cluster " + row.cluster + ", label " + row.label});
        tx.commit();
        if (device) *device = row;
        return RedeemOutcome::Enrolled;
    }

    std::optional<DeviceRow> findDevice(const std::vector<uint8_t>& publicKey) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT device_id, public_key, label, officer, cluster, enrolled_at, revoked_at FROM devices"
            " WHERE public_key = ?");
        st->bindBlob(1, publicKey);
        if (!st->step()) return std::nullopt;
        return readDevice(*st);
    }

    std::optional<DeviceRow> findDeviceById(std::string_view deviceId) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT device_id, public_key, label, officer, cluster, enrolled_at, revoked_at FROM devices"
            " WHERE device_id = ?");
        st->bind(1, deviceId);
        if (!st->step()) return std::nullopt;
        return readDevice(*st);
    }

    std::vector<DeviceRow> listDevices() override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT device_id, public_key, label, officer, cluster, enrolled_at, revoked_at FROM devices"
            " ORDER BY enrolled_at, device_id");
        std::vector<DeviceRow> out;
        while (st->step()) out.push_back(readDevice(*st));
        return out;
    }

    bool revokeDevice(std::string_view deviceId, int64_t now, const AuditEvent& audit) override {
        std::lock_guard lock(m_mutex);
        Transaction tx(m_c);
        auto st = m_c.cached("UPDATE devices SET revoked_at = ? WHERE device_id = ? AND revoked_at = 0");
        st->bind(1, now).bind(2, deviceId).run();
        if (m_c.changes() == 0) return false;  // unknown, or revoked already
        Chain chain(m_c);
        chain.append(audit);
        tx.commit();
        return true;
    }

    // --- visits ---
    // Group commit: the fsync of a commit (about 10 ms on a virtual disk) costs more than
    // writing a whole batch, so batches that arrive from other threads while one commits wait
    // and then go in together, in one transaction and one fsync. Each caller still gets its
    // own outcomes, and returns only once its batch is on disk.
    std::vector<PutOutcome> putVisits(const std::vector<StoredVisit>& visits) override {
        if (visits.empty()) return {};
        PendingBatch mine{&visits, {}, nullptr, false};
        std::unique_lock queue(m_queueMutex);
        m_queue.push_back(&mine);
        while (!mine.done) {
            if (m_committing) {
                m_queueDone.wait(queue);
                continue;
            }
            m_committing = true;
            std::vector<PendingBatch*> group;
            group.swap(m_queue);
            queue.unlock();
            commitGroup(group);
            queue.lock();
            for (PendingBatch* b : group) b->done = true;
            m_committing = false;
            m_queueDone.notify_all();
        }
        if (mine.error) std::rethrow_exception(mine.error);
        return std::move(mine.outcomes);
    }

    std::optional<StoredVisit> findVisit(std::string_view recordId) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT record_id, content_hash, parent_id, template_id, template_version, device_id, cluster,"
            " received_at, envelope, record, register_stratum, review FROM visits WHERE record_id = ? ORDER BY received_at, device_id LIMIT 1");
        st->bind(1, recordId);
        if (!st->step()) return std::nullopt;
        return readVisit(*st);
    }

    std::optional<StoredVisit> findDeviceVisit(std::string_view deviceId, std::string_view recordId) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT record_id, content_hash, parent_id, template_id, template_version, device_id, cluster,"
            " received_at, envelope, record, register_stratum, review FROM visits WHERE device_id = ? AND record_id = ?");
        st->bind(1, deviceId).bind(2, recordId);
        if (!st->step()) return std::nullopt;
        return readVisit(*st);
    }

    std::vector<std::string> devicesWithVisit(std::string_view recordId) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached("SELECT device_id FROM visits WHERE record_id = ? ORDER BY received_at, device_id");
        st->bind(1, recordId);
        std::vector<std::string> out;
        while (st->step()) out.push_back(st->text(0));
        return out;
    }

    std::vector<StoredVisit> visitsForReview(size_t limit) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT record_id, content_hash, parent_id, template_id, template_version, device_id, cluster,"
            " received_at, register_stratum, review FROM visits WHERE review <> ''"
            " ORDER BY received_at DESC, record_id, device_id LIMIT ?");
        st->bind(1, int64_t(std::min<size_t>(limit, size_t(1) << 30)));
        std::vector<StoredVisit> out;
        while (st->step()) {
            StoredVisit v{st->text(0), st->text(1), st->text(2), st->text(3), st->text(4), st->text(5),
                          st->text(6), st->int64(7), {},           {},           st->text(8), st->text(9)};
            out.push_back(std::move(v));
        }
        return out;
    }

    uint64_t countForReview() override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached("SELECT count(*) FROM visits WHERE review <> ''");
        st->step();
        return uint64_t(st->int64(0));
    }

    uint64_t countVisits() override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached("SELECT count(*) FROM visits");
        st->step();
        return uint64_t(st->int64(0));
    }

    void forEachVisit(const std::function<bool(const StoredVisit&)>& fn, VisitParts parts = VisitParts::All) override {
        // Pages read under the lock, callbacks run outside it: fn may call back into the
        // storage, and a long export holds neither the mutex nor a read snapshot. A blob not
        // asked for is selected as an empty one, so every statement has the same columns.
        // Two statements per kind of walk, so each page starts from the index, not from the
        // first row (the cache keys on each literal's address).
#define CK_VISIT_WALK(BLOBS)                                                                                   \
    {"SELECT record_id, content_hash, parent_id, template_id, template_version, device_id, cluster,"          \
     " received_at, " BLOBS ", register_stratum, review FROM visits"                                         \
     " ORDER BY received_at, record_id, device_id LIMIT 128",                                                 \
     "SELECT record_id, content_hash, parent_id, template_id, template_version, device_id, cluster,"          \
     " received_at, " BLOBS ", register_stratum, review FROM visits"                                         \
     " WHERE (received_at, record_id, device_id) > (?1, ?2, ?3)"                                             \
     " ORDER BY received_at, record_id, device_id LIMIT 128"}
        static constexpr const char* kWalks[3][2] = {CK_VISIT_WALK("envelope, record"), CK_VISIT_WALK("X'', record"),
                                                     CK_VISIT_WALK("X'', X''")};
#undef CK_VISIT_WALK
        const auto& walk = kWalks[parts == VisitParts::All ? 0 : parts == VisitParts::Record ? 1 : 2];
        bool first = true;
        int64_t lastAt = 0;
        std::string lastId, lastDevice;
        for (;;) {
            std::vector<StoredVisit> page;
            {
                std::lock_guard lock(m_mutex);
                auto st = m_c.cached(walk[first ? 0 : 1]);
                if (!first) st->bind(1, lastAt).bind(2, lastId).bind(3, lastDevice);
                while (st->step()) page.push_back(readVisit(*st));
            }
            if (page.empty()) return;
            first = false;
            lastAt = page.back().receivedAt;
            lastId = page.back().recordId;
            lastDevice = page.back().deviceId;
            for (const auto& v : page) {
                if (!fn(v)) return;
            }
        }
    }

    // --- templates, register, comments, feed ---
    bool putTemplate(const PublishedTemplate& t, const AuditEvent& audit) override {
        std::lock_guard lock(m_mutex);
        Transaction tx(m_c);
        auto st = m_c.cached(
            "INSERT OR IGNORE INTO templates (template_id, version, json_text, signature, published_at)"
            " VALUES (?, ?, ?, ?, ?)");
        st->bind(1, t.templateId).bind(2, t.version).bind(3, t.jsonText).bindBlob(4, t.signature);
        st->bind(5, t.publishedAt).run();
        if (m_c.changes() == 0) return false;
        addFeed(FeedKind::Template, "", "", t.templateId + "@" + t.version);
        Chain chain(m_c);
        chain.append(audit);
        tx.commit();
        return true;
    }

    std::optional<PublishedTemplate> findTemplate(std::string_view id, std::string_view version) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT template_id, version, json_text, signature, published_at FROM templates"
            " WHERE template_id = ? AND version = ?");
        st->bind(1, id).bind(2, version);
        if (!st->step()) return std::nullopt;
        return readTemplate(*st);
    }

    std::vector<PublishedTemplate> listTemplates() override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT template_id, version, json_text, signature, published_at FROM templates"
            " ORDER BY template_id, published_at, version");
        std::vector<PublishedTemplate> out;
        while (st->step()) out.push_back(readTemplate(*st));
        return out;
    }

    void putRegister(const std::vector<RegisterUnit>& units, const AuditEvent& audit) override {
        std::lock_guard lock(m_mutex);
        Transaction tx(m_c);
        for (const auto& u : units) {
            std::optional<RegisterUnit> old = findUnitLocked(u.unitId);
            if (old && old->name == u.name && old->cluster == u.cluster && old->district == u.district &&
                old->state == u.state && old->stratum == u.stratum && old->sector == u.sector) {
                continue;  // unchanged: devices need not hear of it again
            }
            auto st = m_c.cached(
                "INSERT INTO register_units (unit_id, name, cluster, district, state, stratum, sector)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (unit_id) DO UPDATE SET name = excluded.name,"
                " cluster = excluded.cluster, district = excluded.district, state = excluded.state,"
                " stratum = excluded.stratum, sector = excluded.sector");
            st->bind(1, u.unitId).bind(2, u.name).bind(3, u.cluster).bind(4, u.district).bind(5, u.state);
            st->bind(6, u.stratum).bind(7, u.sector).run();
            addFeed(FeedKind::Assignment, u.cluster, "", u.unitId);
        }
        Chain chain(m_c);
        chain.append(audit);
        tx.commit();
    }

    std::vector<RegisterUnit> listRegister() override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT unit_id, name, cluster, district, state, stratum, sector FROM register_units ORDER BY unit_id");
        std::vector<RegisterUnit> out;
        while (st->step()) out.push_back(readUnit(*st));
        return out;
    }

    std::optional<RegisterUnit> findUnit(std::string_view unitId) override {
        std::lock_guard lock(m_mutex);
        return findUnitLocked(unitId);
    }

    std::map<std::string, RegisterUnit> findUnits(const std::vector<std::string>& unitIds) override {
        std::lock_guard lock(m_mutex);
        std::map<std::string, RegisterUnit> out;
        if (unitIds.empty()) return out;
        Transaction read(m_c, Transaction::Access::Read);
        for (const auto& id : unitIds)
            if (auto unit = findUnitLocked(id)) out.emplace(id, std::move(*unit));
        read.commit();
        return out;
    }

    void addComment(const ReviewCommentRow& comment, std::string_view deviceId, const AuditEvent& audit) override {
        std::lock_guard lock(m_mutex);
        Transaction tx(m_c);
        {
            auto st = m_c.cached("INSERT INTO comments (record_id, device_id, text, at) VALUES (?, ?, ?, ?)");
            st->bind(1, comment.recordId).bind(2, deviceId).bind(3, comment.text).bind(4, comment.at).run();
        }
        std::string cluster;
        {
            auto st = m_c.cached("SELECT cluster FROM devices WHERE device_id = ?");
            st->bind(1, deviceId);
            if (st->step()) cluster = st->text(0);
        }
        addFeed(FeedKind::Comment, cluster, deviceId, comment.recordId);
        Chain chain(m_c);
        chain.append(audit);
        tx.commit();
    }

    std::vector<ReviewCommentRow> commentsFor(std::string_view deviceId, std::string_view recordId) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached("SELECT record_id, text, at FROM comments WHERE device_id = ? AND record_id = ? ORDER BY id");
        st->bind(1, deviceId).bind(2, recordId);
        std::vector<ReviewCommentRow> out;
        while (st->step()) out.push_back({st->text(0), st->text(1), st->int64(2)});
        return out;
    }

    std::vector<FeedItem> feedSince(uint64_t cursor, std::string_view cluster, std::string_view deviceId,
                                    size_t limit) override {
        std::lock_guard lock(m_mutex);
        // Comments go to the device whose record it is, never to its whole cluster.
        auto st = m_c.cached(
            "SELECT seq, kind, cluster, device_id, key FROM feed WHERE seq > ?1 AND"
            " ((kind <> 3 AND (cluster = '' OR cluster = ?2)) OR (kind = 3 AND device_id = ?3))"
            " ORDER BY seq LIMIT ?4");
        st->bind(1, int64_t(std::min<uint64_t>(cursor, uint64_t(INT64_MAX)))).bind(2, cluster).bind(3, deviceId);
        st->bind(4, int64_t(std::min<size_t>(limit, size_t(INT64_MAX))));
        std::vector<FeedItem> out;
        while (st->step()) {
            out.push_back({uint64_t(st->int64(0)), FeedKind(st->int64(1)), st->text(2), st->text(3), st->text(4)});
        }
        return out;
    }

    // --- attachments ---
    void putChunk(const std::vector<uint8_t>& hash, const std::vector<uint8_t>& data, int64_t storedAt) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached("INSERT OR IGNORE INTO chunks (hash, data, stored_at, committed) VALUES (?, ?, ?, 0)");
        st->bindBlob(1, hash).bindBlob(2, data).bind(3, storedAt).run();
    }

    uint64_t dropUncommittedChunks(int64_t storedBefore) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached("DELETE FROM chunks WHERE committed = 0 AND stored_at < ?");
        st->bind(1, storedBefore).run();
        return uint64_t(m_c.changes());
    }

    std::vector<bool> haveChunks(const std::vector<std::vector<uint8_t>>& hashes) override {
        std::lock_guard lock(m_mutex);
        std::vector<bool> out;
        out.reserve(hashes.size());
        for (const auto& h : hashes) {
            auto st = m_c.cached("SELECT 1 FROM chunks WHERE hash = ?");
            st->bindBlob(1, h);
            out.push_back(st->step());
        }
        return out;
    }

    std::optional<std::vector<uint8_t>> readChunk(const std::vector<uint8_t>& hash) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached("SELECT data FROM chunks WHERE hash = ?");
        st->bindBlob(1, hash);
        if (!st->step()) return std::nullopt;
        return st->blob(0);
    }

    void putAttachment(const AttachmentRow& row, const AuditEvent& audit) override {
        std::lock_guard lock(m_mutex);
        Transaction tx(m_c);
        auto st = m_c.cached(
            "INSERT OR IGNORE INTO attachments (attachment_id, record_id, device_id, media_type, total_bytes,"
            " chunk_hashes, committed_at) VALUES (?, ?, ?, ?, ?, ?, ?)");
        st->bind(1, row.attachmentId).bind(2, row.recordId).bind(3, row.deviceId).bind(4, row.mediaType);
        st->bind(5, int64_t(row.totalBytes)).bindBlob(6, packHashes(row.chunkHashes)).bind(7, row.committedAt).run();
        if (m_c.changes() == 0) return;  // committed before: a resend
        for (const auto& h : row.chunkHashes) {
            auto mark = m_c.cached("UPDATE chunks SET committed = 1 WHERE hash = ? AND committed = 0");
            mark->bindBlob(1, h).run();
        }
        Chain chain(m_c);
        chain.append(audit);
        tx.commit();
    }

    std::vector<AttachmentRow> attachmentsOf(std::string_view deviceId, std::string_view recordId) override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT record_id, attachment_id, device_id, media_type, total_bytes, chunk_hashes, committed_at"
            " FROM attachments WHERE device_id = ? AND record_id = ? ORDER BY committed_at, attachment_id");
        st->bind(1, deviceId).bind(2, recordId);
        std::vector<AttachmentRow> out;
        while (st->step()) {
            AttachmentRow a;
            a.recordId = st->text(0);
            a.attachmentId = st->text(1);
            a.deviceId = st->text(2);
            a.mediaType = st->text(3);
            a.totalBytes = uint64_t(st->int64(4));
            a.chunkHashes = unpackHashes(st->blob(5), m_c.where());
            a.committedAt = st->int64(6);
            out.push_back(std::move(a));
        }
        return out;
    }

    // --- audit log ---
    void appendAudit(const AuditEvent& event) override {
        std::lock_guard lock(m_mutex);
        Transaction tx(m_c);
        Chain chain(m_c);
        chain.append(event);
        tx.commit();
    }

    void forEachAudit(const std::function<bool(const AuditEntry&)>& fn) override {
        int64_t after = 0;
        for (;;) {
            std::vector<AuditEntry> page;
            {
                std::lock_guard lock(m_mutex);
                auto st = m_c.cached(
                    "SELECT seq, at, action, actor, subject, detail, prev_hash, hash FROM audit WHERE seq > ?"
                    " ORDER BY seq LIMIT 1024");
                st->bind(1, after);
                while (st->step()) {
                    page.push_back({uint64_t(st->int64(0)), st->int64(1), st->text(2), st->text(3), st->text(4),
                                    st->text(5), st->text(6), st->text(7)});
                }
            }
            if (page.empty()) return;
            after = int64_t(page.back().seq);
            for (const auto& e : page) {
                if (!fn(e)) return;
            }
        }
    }

    std::optional<AuditEntry> auditHead() override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached(
            "SELECT seq, at, action, actor, subject, detail, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT 1");
        if (!st->step()) return std::nullopt;
        return AuditEntry{uint64_t(st->int64(0)), st->int64(1), st->text(2), st->text(3), st->text(4),
                          st->text(5), st->text(6), st->text(7)};
    }

    uint64_t countAudit() override {
        std::lock_guard lock(m_mutex);
        auto st = m_c.cached("SELECT count(*) FROM audit");
        st->step();
        return uint64_t(st->int64(0));
    }

private:
    // The tail of the chain inside one write transaction: read once, then extended in memory,
    // so a batch of 100 visits reads the head once.
    class Chain {
    public:
        explicit Chain(Connection& c) : m_c(c) {}
        void append(const AuditEvent& event) {
            if (!m_loaded) {
                auto st = m_c.cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1");
                if (st->step()) {
                    m_last.seq = uint64_t(st->int64(0));
                    m_last.hash = st->text(1);
                    m_haveLast = true;
                }
                m_loaded = true;
            }
            AuditEntry e = chainEntry(m_haveLast ? &m_last : nullptr, event);
            auto st = m_c.cached(
                "INSERT INTO audit (seq, at, action, actor, subject, detail, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
            st->bind(1, int64_t(e.seq)).bind(2, e.at).bind(3, e.action).bind(4, e.actor).bind(5, e.subject);
            st->bind(6, e.detail).bind(7, e.prevHash).bind(8, e.hash).run();
            m_last = std::move(e);
            m_haveLast = true;
        }

    private:
        Connection& m_c;
        AuditEntry m_last;
        bool m_loaded = false;
        bool m_haveLast = false;
    };

    struct PendingBatch {
        const std::vector<StoredVisit>* visits;
        std::vector<PutOutcome> outcomes;
        std::exception_ptr error;
        bool done;
    };

    void commitGroup(const std::vector<PendingBatch*>& group) {
        try {
            std::lock_guard lock(m_mutex);
            Transaction tx(m_c);
            Chain chain(m_c);
            for (PendingBatch* b : group) b->outcomes = putVisitsLocked(*b->visits, chain);
            tx.commit();
            return;
        } catch (...) {
            if (group.size() == 1) {
                group[0]->error = std::current_exception();
                return;
            }
        }
        // The group failed: try each batch on its own, so one batch's failure is not another's.
        for (PendingBatch* b : group) {
            try {
                std::lock_guard lock(m_mutex);
                Transaction tx(m_c);
                Chain chain(m_c);
                b->outcomes = putVisitsLocked(*b->visits, chain);
                tx.commit();
            } catch (...) {
                b->outcomes.clear();
                b->error = std::current_exception();
            }
        }
    }

    std::vector<PutOutcome> putVisitsLocked(const std::vector<StoredVisit>& visits, Chain& chain) {
        std::vector<PutOutcome> out;
        out.reserve(visits.size());
        for (const auto& v : visits) {
            // Inserted unless the device already sent this id (its key): one statement for a
            // new visit, the usual case; the one on file is read only when the insert did nothing.
            auto insert = m_c.cached(
                "INSERT INTO visits (record_id, content_hash, parent_id, template_id, template_version, device_id,"
                " cluster, received_at, envelope, record, register_stratum, review)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device_id, record_id) DO NOTHING");
            insert->bind(1, v.recordId).bind(2, v.contentHash).bind(3, v.parentId).bind(4, v.templateId);
            insert->bind(5, v.templateVersion).bind(6, v.deviceId).bind(7, v.cluster).bind(8, v.receivedAt);
            insert->bindBlob(9, v.envelope).bindBlob(10, v.record).bind(11, v.registerStratum).bind(12, v.review).run();
            if (m_c.changes() == 1) {
                chain.append({v.receivedAt, "stored", v.deviceId, v.recordId,
                              v.auditDetail.empty() ? visitAuditDetail(v) : v.auditDetail});
                out.push_back(PutOutcome::Stored);
                continue;
            }
            std::optional<std::string> known;
            {
                auto st = m_c.cached("SELECT content_hash FROM visits WHERE device_id = ? AND record_id = ?");
                st->bind(1, v.deviceId).bind(2, v.recordId);
                if (st->step()) known = st->text(0);
            }
            if (!known) {
                throw StorageFailure("visit " + v.recordId + " of " + v.deviceId + " was neither stored nor found");
            } else if (*known == v.contentHash) {
                chain.append({v.receivedAt, "duplicate", v.deviceId, v.recordId, v.contentHash});
                out.push_back(PutOutcome::Duplicate);
            } else {
                chain.append({v.receivedAt, "refused", v.deviceId, v.recordId, "conflict"});
                out.push_back(PutOutcome::Conflict);
            }
        }
        return out;
    }

    void addFeed(FeedKind kind, std::string_view cluster, std::string_view deviceId, std::string_view key) {
        auto st = m_c.cached("INSERT INTO feed (kind, cluster, device_id, key) VALUES (?, ?, ?, ?)");
        st->bind(1, int64_t(kind)).bind(2, cluster).bind(3, deviceId).bind(4, key).run();
    }

    std::optional<RegisterUnit> findUnitLocked(std::string_view unitId) {
        auto st = m_c.cached(
            "SELECT unit_id, name, cluster, district, state, stratum, sector FROM register_units WHERE unit_id = ?");
        st->bind(1, unitId);
        if (!st->step()) return std::nullopt;
        return readUnit(*st);
    }

    static DeviceRow readDevice(Statement& st) {
        return {st.text(0), st.blob(1), st.text(2), st.text(3), st.text(4), st.int64(5), st.int64(6)};
    }
    static StoredVisit readVisit(Statement& st) {
        return {st.text(0), st.text(1), st.text(2), st.text(3), st.text(4),  st.text(5),
                st.text(6), st.int64(7), st.blob(8), st.blob(9), st.text(10), st.text(11)};
    }
    static PublishedTemplate readTemplate(Statement& st) {
        return {st.text(0), st.text(1), st.text(2), st.blob(3), st.int64(4)};
    }
    static RegisterUnit readUnit(Statement& st) {
        return {st.text(0), st.text(1), st.text(2), st.text(3), st.text(4), st.text(5), st.text(6)};
    }

    // Refuses what is not ours before writing anything to it; creates the schema in an empty
    // file under the write lock, so two processes opening a new folder at once agree.
    void prepareSchema() {
        const std::string file = (m_folder / kSqliteFileName).string();
        // Switching a new file to WAL takes an exclusive lock that SQLite does not wait for
        // (the pragma just answers with the old mode), and a reader racing the switch can be
        // told "locked" without the busy handler. Processes opening one folder therefore take
        // turns here; the lock is held only while the file is set up.
        SetupLock setupLock(m_folder / kSetupLockName);
        auto tables = [&] {
            std::vector<std::string> names;
            try {
                auto st = m_c.cached("SELECT name FROM sqlite_master WHERE type = 'table'");
                while (st->step()) names.push_back(st->text(0));
            } catch (const StorageFailure& e) {
                throw StorageFailure(file + " is not a ClusterKit aggregator database (" + e.what() +
                                     "); give an empty folder, or the data folder `ck-aggregator init` created");
            }
            return names;
        };
        auto checkMeta = [&]() -> int {
            std::string application, version;
            {
                auto st = m_c.cached("SELECT key, value FROM meta WHERE key IN ('application', 'schema_version')");
                while (st->step()) (st->text(0) == "application" ? application : version) = st->text(1);
            }
            if (application != kApplication) {
                throw StorageFailure(file + " is not a ClusterKit aggregator database (its meta table names \"" +
                                     application + "\"); give the data folder `ck-aggregator init` created");
            }
            int v = 0;
            auto [p, ec] = std::from_chars(version.data(), version.data() + version.size(), v);
            if (ec != std::errc() || p != version.data() + version.size() || v < 1) {
                throw StorageFailure(file + ": the schema version \"" + version +
                                     "\" is not one ClusterKit writes; the database is damaged");
            }
            if (v > kSqliteSchemaVersion) {
                throw StorageFailure(file + " was written by a newer ClusterKit (schema version " +
                                     std::to_string(v) + "; this build knows version " +
                                     std::to_string(kSqliteSchemaVersion) +
                                     "): run the newer ck-aggregator, or restore a backup made for this version");
            }
            return v;
        };
        int version = 0;
        auto classify = [&](const std::vector<std::string>& names) {
            bool hasMeta = false;
            for (const auto& n : names) hasMeta = hasMeta || n == "meta";
            if (hasMeta) {
                version = checkMeta();
                return true;
            }
            if (!names.empty()) {
                throw StorageFailure(file + " is not a ClusterKit aggregator database (it holds other tables, e.g. \"" +
                                     names.front() + "\"); give an empty folder, or the data folder "
                                     "`ck-aggregator init` created");
            }
            return false;
        };
        bool ready = classify(tables());
        // Before the first write fixes it: a 4 KB visit spills into overflow pages at the
        // default 4 KB page, and every page is a separate WAL write.
        if (!ready) m_c.exec("PRAGMA page_size = 16384");
        if (std::string mode = m_c.pragmaText("PRAGMA journal_mode = WAL"); mode != "wal") {
            throw StorageFailure(file + " could not be switched to write-ahead logging (it stays in \"" + mode +
                                 "\" mode); is it on a network file system? Keep the data folder on a local disk");
        }
        m_c.exec("PRAGMA synchronous = FULL");
        // Each checkpoint costs fsyncs of its own: with 4 KB visits the default (1000 pages)
        // checkpointed every few batches. 8192 pages (32 MB) amortises them.
        m_c.exec("PRAGMA wal_autocheckpoint = 8192");
        if (ready && version == kSqliteSchemaVersion) return;
        Transaction tx(m_c);
        // Read again under the write lock: another process may have created or migrated it.
        if (!classify(tables())) {
            m_c.exec(kSchema);
            auto st = m_c.cached("INSERT INTO meta (key, value) VALUES ('application', ?), ('schema_version', '1')");
            st->bind(1, kApplication).run();
            version = 1;
        }
        if (version < 2) m_c.exec(kMigrateTo2);
        if (version < 3) m_c.exec(kMigrateTo3);
        tx.commit();
    }

    std::filesystem::path m_folder;
    std::mutex m_mutex;  // one connection, one caller at a time
    Connection m_c;
    // putVisits' group commit: batches waiting for the next transaction, and whether a
    // thread is committing one now (it takes the whole queue when it starts).
    std::mutex m_queueMutex;
    std::condition_variable m_queueDone;
    std::vector<PendingBatch*> m_queue;
    bool m_committing = false;
};

}  // namespace

std::unique_ptr<AggregatorStorage> openSqliteStorage(const std::filesystem::path& folder) {
    std::error_code ec;
    if (std::filesystem::exists(folder, ec) && !std::filesystem::is_directory(folder, ec)) {
        throw StorageFailure(folder.string() + " is a file, not a folder: give the data folder that holds " +
                             kSqliteFileName);
    }
    std::filesystem::create_directories(folder, ec);
    if (ec) throw StorageFailure("cannot create the data folder " + folder.string() + ": " + ec.message());
    return std::make_unique<SqliteStorage>(folder, folder / kSqliteFileName);
}

}  // namespace ck::agg
