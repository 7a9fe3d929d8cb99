#include "app/store/sqlite_handle.h"

#include <sqlite3.h>

#include <cassert>
#include <utility>

namespace ck::sql {

StorageFault faultOf(int rc) {
    switch (rc & 0xff) {
        case SQLITE_FULL: return StorageFault::DiskFull;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB: return StorageFault::Corrupt;
        case SQLITE_IOERR:
        case SQLITE_CANTOPEN: return StorageFault::Io;
        case SQLITE_BUSY:
        case SQLITE_LOCKED: return StorageFault::Busy;
        case SQLITE_READONLY:
        case SQLITE_PERM: return StorageFault::ReadOnly;
        default: return StorageFault::Other;
    }
}

namespace {

// The officer reads these; SQLite's own text follows for whoever fixes the device.
std::string explain(StorageFault fault) {
    switch (fault) {
        case StorageFault::DiskFull:
            return "the device storage is full: this change was not saved (earlier saves are intact); "
                   "free some space and try again";
        case StorageFault::Corrupt: return "the store file is damaged";
        case StorageFault::Io: return "the storage failed while reading or writing the store";
        case StorageFault::Busy: return "the store is in use by another program";
        case StorageFault::ReadOnly: return "the store cannot be written (read-only file or folder)";
        case StorageFault::Other: break;
    }
    return "the store could not complete the operation";
}

}  // namespace

void check(sqlite3* db, int rc, std::string_view what) {
    if (rc == SQLITE_OK) return;
    StorageFault fault = faultOf(rc);
    std::string detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    // SQLite's messages never contain bound values, so nothing typed by the officer can
    // reach an exception message through here.
    throw StorageError(fault, rc, explain(fault) + " (" + std::string(what) + ": " + detail + ")");
}

// --- Statement ---

Statement::~Statement() {
    if (m_stmt) sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_stmt(std::exchange(other.m_stmt, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        if (m_stmt) sqlite3_finalize(m_stmt);
        m_db = std::exchange(other.m_db, nullptr);
        m_stmt = std::exchange(other.m_stmt, nullptr);
    }
    return *this;
}

Statement& Statement::bind(int index, int64_t value) {
    check(m_db, sqlite3_bind_int64(m_stmt, index, value), "bind");
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    check(m_db, sqlite3_bind_text64(m_stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), "bind");
    return *this;
}

Statement& Statement::bindBlob(int index, const std::vector<uint8_t>& bytes) {
    // A zero-length blob must still be a blob, not NULL: give SQLite a valid pointer.
    static const uint8_t kNothing = 0;
    const void* data = bytes.empty() ? &kNothing : bytes.data();
    check(m_db, sqlite3_bind_blob64(m_stmt, index, data, bytes.size(), SQLITE_TRANSIENT), "bind");
    return *this;
}

Statement& Statement::bindNull(int index) {
    check(m_db, sqlite3_bind_null(m_stmt, index), "bind");
    return *this;
}

bool Statement::step() {
    assert(m_stmt && "step() on an empty Statement");
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // sqlite3_reset returns the same error; read the message before resetting.
    try {
        check(m_db, rc, "step");
    } catch (...) {
        sqlite3_reset(m_stmt);
        throw;
    }
    return false;
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() noexcept {
    if (!m_stmt) return;
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool Statement::isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }

int64_t Statement::int64(int column) const { return sqlite3_column_int64(m_stmt, column); }

std::string Statement::text(int column) const {
    const unsigned char* p = sqlite3_column_text(m_stmt, column);
    int n = sqlite3_column_bytes(m_stmt, column);
    return p ? std::string(reinterpret_cast<const char*>(p), size_t(n)) : std::string();
}

std::vector<uint8_t> Statement::blob(int column) const {
    const void* p = sqlite3_column_blob(m_stmt, column);
    int n = sqlite3_column_bytes(m_stmt, column);
    if (!p || n <= 0) return {};
    const auto* b = static_cast<const uint8_t*>(p);
    return std::vector<uint8_t>(b, b + n);
}

// --- Database ---

Database Database::open(const std::filesystem::path& file, bool create) {
    Database db;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(file.c_str(), &raw, flags, nullptr);
    db.m_db = raw;  // owned even on failure: sqlite3_open_v2 may hand back a handle to close
    if (rc != SQLITE_OK) check(raw, rc, "open");
    sqlite3_extended_result_codes(raw, 1);
    return db;
}

Database::~Database() { close(); }

Database::Database(Database&& other) noexcept
    : m_db(std::exchange(other.m_db, nullptr)), m_cache(std::move(other.m_cache)) {
    other.m_cache.clear();
}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        close();
        m_db = std::exchange(other.m_db, nullptr);
        m_cache = std::move(other.m_cache);
        other.m_cache.clear();
    }
    return *this;
}

void Database::close() noexcept {
    m_cache.clear();  // statements first: a connection with live statements does not close
    if (m_db) sqlite3_close_v2(m_db);
    m_db = nullptr;
}

void Database::exec(std::string_view sqlText) {
    std::string s(sqlText);
    char* err = nullptr;
    int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err);
    sqlite3_free(err);
    check(m_db, rc, "exec");
}

Statement Database::prepare(std::string_view sqlText) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(m_db, sqlText.data(), int(sqlText.size()), 0, &stmt, nullptr);
    Statement s(m_db, stmt);
    check(m_db, rc, "prepare");
    return s;
}

StatementUse Database::cached(const char* sqlText) {
    auto it = m_cache.find(sqlText);
    if (it == m_cache.end()) {
        sqlite3_stmt* stmt = nullptr;
        int rc = sqlite3_prepare_v3(m_db, sqlText, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
        auto owned = std::make_unique<Statement>(m_db, stmt);
        check(m_db, rc, "prepare");
        it = m_cache.emplace(sqlText, std::move(owned)).first;
    }
    return StatementUse(*it->second);
}

int64_t Database::queryInt(std::string_view sqlText) {
    Statement s = prepare(sqlText);
    return s.step() ? s.int64(0) : 0;
}

std::string Database::queryText(std::string_view sqlText) {
    Statement s = prepare(sqlText);
    return s.step() ? s.text(0) : std::string();
}

int64_t Database::changes() const { return sqlite3_changes64(m_db); }

bool Database::inTransaction() const { return sqlite3_get_autocommit(m_db) == 0; }

void Database::fail(int rc, std::string_view what) const {
    check(m_db, rc, what);
    throw StorageError(StorageFault::Other, rc, std::string(what));
}

// --- Transaction ---

Transaction::Transaction(Database& db) : m_db(&db) {
    db.cached("BEGIN IMMEDIATE")->run();
}

Transaction::~Transaction() {
    // SQLite may already have rolled back (SQLITE_FULL, SQLITE_IOERR); only roll back what
    // is still open. A failing ROLLBACK leaves nothing better to do in a destructor.
    if (!m_done && m_db->inTransaction()) sqlite3_exec(m_db->get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    m_db->cached("COMMIT")->run();
    m_done = true;
}

}  // namespace ck::sql
