// Forward migrations, tested from every earlier schema version: a file is built the way the
// code of that version wrote it (its DDL, its rows), then opened with today's code.
#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "app/store/schema.h"
#include "core/crypto/sealed_box.h"
#include "store_test_support.h"

using namespace ck;
using namespace ck::test;
namespace fs = std::filesystem;

namespace {

struct RawStore {
    sqlite3* db = nullptr;
    explicit RawStore(const fs::path& file) {
        REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) == SQLITE_OK);
    }
    ~RawStore() { sqlite3_close_v2(db); }
    void exec(const std::string& sql) {
        char* err = nullptr;
        int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
        INFO((err ? err : "") << " in " << sql);
        sqlite3_free(err);
        REQUIRE(rc == SQLITE_OK);
    }
    // Binds text (std::string) or blob (std::vector<uint8_t>) or int64 in order.
    template <class... Args>
    void run(const std::string& sql, const Args&... args) {
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
        int i = 0;
        (bindOne(st, ++i, args), ...);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        INFO(sqlite3_errmsg(db) << " in " << sql);
        REQUIRE(rc == SQLITE_DONE);
    }
    static void bindOne(sqlite3_stmt* st, int i, const std::string& s) {
        sqlite3_bind_text(st, i, s.data(), int(s.size()), SQLITE_TRANSIENT);
    }
    static void bindOne(sqlite3_stmt* st, int i, const std::vector<uint8_t>& b) {
        sqlite3_bind_blob(st, i, b.data(), int(b.size()), SQLITE_TRANSIENT);
    }
    static void bindOne(sqlite3_stmt* st, int i, int64_t v) { sqlite3_bind_int64(st, i, v); }
};

struct OldFile {
    std::string draftId, finishedId, templateRef;
    int64_t acknowledgedAt = 0;
};

// A store at schema `version`, written as the code of that version wrote it: its DDL, the
// vault, the flagship template, a draft, and a finished record the aggregator acknowledged.
OldFile buildAtVersion(const fs::path& file, int version) {
    RawStore raw(file);
    raw.exec("PRAGMA journal_mode = WAL");
    raw.exec("BEGIN");
    for (const auto& step : store_schema::migrations()) {
        if (step.toVersion > version) break;
        raw.exec(std::string(step.sql));
        raw.exec("PRAGMA user_version = " + std::to_string(step.toVersion));
    }
    auto made = createVault(kPassphrase, kPassphrase, kFastKdf);
    REQUIRE(std::holds_alternative<NewVault>(made));
    NewVault& vault = std::get<NewVault>(made);
    raw.run("INSERT INTO meta (key, version, value) VALUES ('vault', 1, ?)", encodeVaultRecord(vault.record));

    OldFile f;
    const std::string json = flagshipJson();
    f.templateRef = contentHash(json);
    const std::string header = R"({"id":"cluster-diagnostic","title":"Cluster diagnostic survey","version":")";
    auto tpl = loadTemplateJson(json, "cluster-diagnostic.json");
    REQUIRE(tpl.ok());
    std::string plain = header + tpl.survey->version + "\"}\n" + json;
    raw.run("INSERT INTO templates (id, imported_at, payload) VALUES (?, 1700000000, ?)", f.templateRef,
            sealPayload(vault.keys.dataKey, plain, payloadContext("template", f.templateRef, 1)));

    auto addVisit = [&](const std::string& status, int64_t when) {
        Record r;
        r.id = newRecordId();
        r.templateId = tpl.survey->id;
        r.templateVersion = tpl.survey->version;
        r.createdAt = when;
        r.updatedAt = when;
        r.answers.push_back(Answer{"unit_name", Value::text("Old Mill Hosiery"), false, {}});
        r.answers.push_back(Answer{"turnover", Value::number(12345678), false, {}});
        raw.run("INSERT INTO visits (id, status, template_ref, parent_id, created_at, updated_at, version, payload) "
                "VALUES (?, ?, ?, NULL, ?, ?, 3, ?)",
                r.id, status, f.templateRef, when, when,
                sealPayload(vault.keys.dataKey, serializeRecord(r), payloadContext("visit", r.id, 3)));
        return r.id;
    };
    f.draftId = addVisit("draft", 1700000100);
    f.finishedId = addVisit("finished", 1700000200);
    f.acknowledgedAt = 1700000300;
    raw.run("INSERT INTO outbox (record_id, state, content_hash, version, envelope, queued_at, updated_at) "
            "VALUES (?, 'acknowledged', ?, 1, NULL, 1700000200, ?)",
            f.finishedId, std::string(64, 'a'), f.acknowledgedAt);
    if (version >= 2)
        raw.exec("UPDATE outbox SET acknowledged_at = updated_at WHERE state = 'acknowledged'");
    raw.exec("COMMIT");
    return f;
}

}  // namespace

TEST_CASE("migrations: a store from every earlier schema version opens with today's code", "[store]") {
    REQUIRE(store_schema::migrations().size() == size_t(store_schema::kCurrentVersion));
    for (int version = 1; version <= store_schema::kCurrentVersion; ++version) {
        DYNAMIC_SECTION("from version " << version) {
            fs::path dir = scratchDir("migrate-v" + std::to_string(version));
            fs::path file = dir / "officer.ckstore";
            OldFile old = buildAtVersion(file, version);

            auto opened = Store::open(file);
            INFO(opened.message());
            REQUIRE(opened.ok());
            Store& store = opened.value();
            CHECK(store.schemaVersion() == store_schema::kCurrentVersion);
            REQUIRE(store.unlock(kPassphrase).ok());

            auto draft = store.loadVisit(old.draftId);
            INFO(draft.message());
            REQUIRE(draft.ok());
            CHECK(draft.value().find("unit_name")->value.asText() == "Old Mill Hosiery");
            auto resumed = store.resumeVisit(old.draftId);
            REQUIRE(resumed.ok());
            REQUIRE(resumed.value().session.setAnswer("turnover", Value::number(2)).ok());
            CHECK(store.saveDraft(resumed.value().session).ok());

            auto visits = store.listVisits();
            REQUIRE(visits.size() == 2);
            for (const auto& v : visits) CHECK(v.error.empty());

            // v2's purge clock: a v1 acknowledgement counts from its last update.
            auto outbox = store.listOutbox();
            REQUIRE(outbox.size() == 1);
            CHECK(outbox[0].acknowledgedAt == old.acknowledgedAt);
            // v2's tables work on a migrated file.
            CHECK(store.addAttachment(old.draftId, "photo", "image/jpeg").ok());
            store.putAssignment("unit-1", "{}");
            CHECK(store.listAssignments().size() == 1);
            // v3's tables and settings work on a migrated file.
            CHECK_FALSE(store.syncSettings().has_value());
            CHECK(store.putReviewComment(old.finishedId, "turnover looks off", 1700000400));
            REQUIRE(store.reviewComments(old.finishedId).size() == 1);
            CHECK(store.reviewComments(old.finishedId)[0].text == "turnover looks off");
            CHECK(store.attachmentsToUpload().empty());  // the draft's photo is not finished
            CHECK(store.purge(old.acknowledgedAt + 91 * 86400) == 1);
            CHECK(store.loadVisit(old.draftId).ok());
        }
    }
}

TEST_CASE("migrations: a store from a newer ClusterKit is refused, untouched", "[store]") {
    fs::path dir = scratchDir("newer");
    fs::path file = dir / "officer.ckstore";
    (void)buildAtVersion(file, store_schema::kCurrentVersion);
    rawExec(file, "PRAGMA user_version = " + std::to_string(store_schema::kCurrentVersion + 1));
    auto opened = Store::open(file);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.failure().error == StoreError::NewerSchema);
    CHECK_THAT(opened.failure().message, Catch::Contains("newer ClusterKit"));
    RawStore raw(file);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw.db, "PRAGMA user_version", -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    CHECK(sqlite3_column_int(st, 0) == store_schema::kCurrentVersion + 1);
    sqlite3_finalize(st);
}
