#include "store_test_support.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "core/form/answers_json.h"

namespace fs = std::filesystem;

namespace ck::test {

fs::path scratchDir(const std::string& name) {
    static int counter = 0;
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "store" /
                   (name + "-" + std::to_string(getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string readText(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string flagshipJson() { return readText(fs::path(CK_SOURCE_DIR) / "survey-templates/cluster-diagnostic.json"); }
std::string knitwearAnswersJson() { return readText(fs::path(CK_TEST_DATA_DIR) / "answers/knitwear-complete.json"); }

Store makeStore(const fs::path& dir) {
    auto store = Store::create(dir / "officer.ckstore", kPassphrase, kPassphrase, kFastKdf);
    INFO(store.message());
    REQUIRE(store.ok());
    auto imported = store.value().importTemplate(flagshipJson(), "cluster-diagnostic.json");
    INFO(imported.message());
    REQUIRE(imported.ok());
    return std::move(store).value();
}

FormSession startKnitwear(Store& store) {
    auto visit = store.startVisit(kFlagshipId);
    INFO(visit.message());
    REQUIRE(visit.ok());
    FormSession session = std::move(visit).value();
    session.setToday(*parseIsoDate("2026-11-23"));
    auto problems = applyAnswersJson(session, nlohmann::json::parse(knitwearAnswersJson()));
    REQUIRE(problems.empty());
    auto saved = store.saveDraft(session);
    INFO(saved.message());
    REQUIRE(saved.ok());
    return session;
}

namespace {

struct RawDb {
    sqlite3* db = nullptr;
    explicit RawDb(const fs::path& file) { REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) == SQLITE_OK); }
    ~RawDb() { sqlite3_close_v2(db); }
};

}  // namespace

void rawExec(const fs::path& file, const std::string& sql) {
    RawDb raw(file);
    char* err = nullptr;
    int rc = sqlite3_exec(raw.db, sql.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : "") << " in " << sql);
    sqlite3_free(err);
    REQUIRE(rc == SQLITE_OK);
}

std::vector<uint8_t> rawBlob(const fs::path& file, const std::string& sql) {
    RawDb raw(file);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw.db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::vector<uint8_t> out;
    if (sqlite3_step(st) == SQLITE_ROW) {
        auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(st, 0));
        out.assign(p, p + sqlite3_column_bytes(st, 0));
    }
    sqlite3_finalize(st);
    return out;
}

void rawSetBlob(const fs::path& file, const std::string& sql, const std::vector<uint8_t>& blob) {
    RawDb raw(file);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw.db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    sqlite3_bind_blob(st, 1, blob.data(), int(blob.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    REQUIRE(rc == SQLITE_DONE);
    REQUIRE(sqlite3_changes(raw.db) == 1);
}

}  // namespace ck::test
