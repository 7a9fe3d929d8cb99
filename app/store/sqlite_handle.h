#pragma once
// Move-only owners of SQLite's handles, and the one exception type the store throws.
//
// sqlite3_open_v2 is the CONSTRUCTOR of a sqlite3* and sqlite3_close_v2 its destructor;
// sqlite3_prepare_v3 / sqlite3_finalize likewise for a sqlite3_stmt*. Each is owned by exactly
// one object here, so no path can leak a handle or finalise one twice.
//
// Failure tiers: SQLite errors that end the whole operation (disk full, I/O error, corrupt
// pages, a lock held too long) become StorageError. Everything a caller is expected to handle
// (wrong passphrase, unknown visit, ...) is a value returned by Store, never an exception.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace ck {

enum class StorageFault : uint8_t {
    DiskFull,  // SQLITE_FULL: the device (or the file's size limit) has no room; nothing was written
    Corrupt,   // SQLITE_CORRUPT / SQLITE_NOTADB: the file is damaged
    Io,        // SQLITE_IOERR, SQLITE_CANTOPEN: the storage failed under us
    Busy,      // another process held the store locked for longer than the busy timeout
    ReadOnly,  // the file or its folder cannot be written
    Other,
};

class StorageError : public std::runtime_error {
public:
    StorageError(StorageFault fault, int sqliteCode, const std::string& message)
        : std::runtime_error(message), m_fault(fault), m_sqliteCode(sqliteCode) {}
    StorageFault fault() const { return m_fault; }
    int sqliteCode() const { return m_sqliteCode; }  // extended result code

private:
    StorageFault m_fault;
    int m_sqliteCode;
};

namespace sql {

class Statement {
public:
    Statement() = default;
    Statement(sqlite3* db, sqlite3_stmt* stmt) : m_db(db), m_stmt(stmt) {}
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;

    // Parameters are 1-based, as in SQLite. Text and blobs are copied by SQLite
    // (SQLITE_TRANSIENT), so the arguments need not outlive the call.
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, std::string_view text);
    Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
    Statement& bindBlob(int index, const std::vector<uint8_t>& bytes);
    Statement& bindNull(int index);

    // true: a row is ready; false: done. Throws StorageError.
    bool step();
    // Runs a statement that returns no rows.
    void run();
    // Back to the start with no bindings: releases the statement's read snapshot.
    void reset() noexcept;

    // Columns are 0-based.
    bool isNull(int column) const;
    int64_t int64(int column) const;
    std::string text(int column) const;
    std::vector<uint8_t> blob(int column) const;

private:
    sqlite3* m_db = nullptr;  // not owned: for error messages
    sqlite3_stmt* m_stmt = nullptr;
};

// Uses a cached statement and resets it when it goes out of scope, so no cached statement
// keeps a read transaction open after its caller is done with it.
class StatementUse {
public:
    explicit StatementUse(Statement& stmt) : m_stmt(&stmt) {}
    ~StatementUse() { m_stmt->reset(); }
    StatementUse(const StatementUse&) = delete;
    StatementUse& operator=(const StatementUse&) = delete;
    Statement* operator->() { return m_stmt; }
    Statement& operator*() { return *m_stmt; }

private:
    Statement* m_stmt;
};

class Database {
public:
    Database() = default;
    // Opens (and with `create`, creates) the file. Throws StorageError.
    static Database open(const std::filesystem::path& file, bool create);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;
    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;

    bool isOpen() const { return m_db != nullptr; }
    sqlite3* get() const { return m_db; }

    // Runs one or more statements that return no rows. Throws StorageError.
    void exec(std::string_view sql);
    // A new statement, finalised by its owner.
    Statement prepare(std::string_view sql);
    // A statement prepared once and kept for the life of the connection: the hot paths
    // (autosave) pay for parsing once. `sql` must be a string literal (the cache keys on it).
    StatementUse cached(const char* sql);
    // Single-value queries.
    int64_t queryInt(std::string_view sql);
    std::string queryText(std::string_view sql);

    int64_t changes() const;
    bool inTransaction() const;
    // Throws the StorageError that `rc` means, naming `what` was being done.
    [[noreturn]] void fail(int rc, std::string_view what) const;

private:
    void close() noexcept;
    sqlite3* m_db = nullptr;
    // Finalised before the connection closes (close() clears it first).
    std::map<const char*, std::unique_ptr<Statement>> m_cache;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() was reached. IMMEDIATE takes the
// write lock up front, so a read-then-write inside it cannot fail half-way on a lock.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Database* m_db;
    bool m_done = false;
};

// Maps an SQLite result code to the store's fault kinds.
StorageFault faultOf(int rc);
// Throws when rc is not SQLITE_OK.
void check(sqlite3* db, int rc, std::string_view what);

}  // namespace sql
}  // namespace ck
