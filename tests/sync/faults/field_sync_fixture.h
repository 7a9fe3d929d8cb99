#pragma once
// What the fault tests share: an aggregator data folder made with the real `ck-aggregator`,
// real officer stores full of finished visits, a retry policy that is patient but quick, and
// the final check that every finished visit reached the aggregator exactly once.
// Header-only, for the test executables in tests/sync/faults/ (Catch2 assertions inside).
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/store/store.h"
#include "app/sync/field_sync.h"
#include "core/form/answers_json.h"
#include "sync/aggregator/audit_log.h"
#include "sync/aggregator/storage.h"
#include "tests/support/command_run.h"

namespace ck::test::faults {

namespace fs = std::filesystem;

inline const std::string kAdmin = "fault test: admin 2026";
inline const std::string kOfficer = "fault test: officer 2026";

// A fresh, empty scratch folder CK_BINARY_DIR/test-scratch/<suite>/<name>.
inline fs::path scratch(const std::string& suite, const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / suite / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

inline std::string aggregatorCommand(const fs::path& data, const std::string& rest) {
    return "CK_ADMIN_PASSPHRASE=" + shellQuote(kAdmin) + " " + shellQuote(CK_AGGREGATOR_BIN) + " " + rest +
           " --data " + shellQuote(data.string());
}

// `init` (SQLite in the folder unless `initOptions` names a --storage) and the flagship
// template published.
inline void initAggregator(const fs::path& data, const std::string& initOptions = {}) {
    auto init = runCommand(aggregatorCommand(data, "init --test-kdf" + (initOptions.empty() ? "" : " " + initOptions)));
    INFO(init.all());
    REQUIRE(init.status == 0);
    auto pub = runCommand(aggregatorCommand(
        data, "templates publish " + shellQuote(std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json")));
    INFO(pub.all());
    REQUIRE(pub.status == 0);
}

struct EnrolmentSlip {
    std::string code;    // the one-time code
    std::string tlsPin;  // "sha256//..."
};

// An enrolment slip from `ck-aggregator enrol`, as the operator hands it to an officer.
inline EnrolmentSlip enrolmentSlip(const fs::path& data, const std::string& officer, const std::string& cluster) {
    auto slip = runCommand(aggregatorCommand(data, "enrol --officer " + shellQuote(officer) + " --cluster " +
                                                       shellQuote(cluster)));
    INFO(slip.all());
    REQUIRE(slip.status == 0);
    std::smatch code, pin;
    REQUIRE(std::regex_search(slip.out, code, std::regex("code: +([A-Z0-9-]+)")));
    REQUIRE(std::regex_search(slip.out, pin, std::regex("TLS pin: +(sha256//[A-Za-z0-9+/=]+)")));
    return {code[1], pin[1]};
}

// An officer's store at `file` (its folder must exist) with `count` finished visits (the same
// answers, each its own visit). `cluster`: the cluster the device is enrolled for, answered
// in each visit (a listed choice, else "other" and its name): the aggregator refuses visits
// that answer another cluster than the device's.
inline ck::Store officerStore(const fs::path& file, int count, const std::string& cluster = "tiruppur_knitwear") {
    auto created = ck::Store::create(file, kOfficer, kOfficer, ck::kFastKdf);
    REQUIRE(created.ok());
    ck::Store store = std::move(created).value();
    std::ifstream t(std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json");
    std::string text((std::istreambuf_iterator<char>(t)), {});
    REQUIRE(store.importTemplate(text, "cluster-diagnostic.json").ok());
    std::ifstream a(std::string(CK_TEST_DATA_DIR) + "/answers/knitwear-complete.json");
    auto answers = nlohmann::json::parse(a);
    for (int i = 0; i < count; ++i) {
        auto session = store.startVisit("cluster-diagnostic");
        REQUIRE(session.ok());
        REQUIRE(ck::applyAnswersJson(session.value(), answers).empty());
        if (!session.value().setAnswer("cluster", ck::Value::text(cluster)).ok()) {
            REQUIRE(session.value().setAnswer("cluster", ck::Value::text("other")).ok());
            REQUIRE(session.value().setAnswer("cluster_other", ck::Value::text(cluster)).ok());
        }
        auto done = store.finalise(session.value().recordId(), session.value());
        REQUIRE(done.ok());
    }
    return store;
}

// Outbox entries the aggregator has not answered yet (neither acknowledged nor duplicate).
inline size_t unanswered(ck::Store& store) {
    size_t n = 0;
    for (const auto& e : store.listOutbox())
        if (e.state != ck::OutboxState::Acknowledged && e.state != ck::OutboxState::Duplicate) ++n;
    return n;
}

// Retries soon and often: the tests' outages last a fraction of a second.
inline ck::sync::RetryPolicy patientButQuick() {
    using namespace std::chrono_literals;
    ck::sync::RetryPolicy r;
    r.maxAttempts = 40;
    r.initialDelay = 20ms;
    r.maxDelay = 300ms;
    r.connectTimeout = 2'000ms;
    r.requestTimeout = 20'000ms;
    return r;
}

// Every outbox entry of every store answered (acknowledged or duplicate); the storage at
// `storageUrl` holds each of their visits exactly once with the content hash the device
// sealed, and nothing else; exactly one "stored" audit entry per visit; the chain intact.
// Returns the audit entries counted by action, for checks of its own by the caller.
inline std::map<std::string, size_t> checkExactlyOnce(const std::vector<ck::Store*>& stores,
                                                      const std::string& storageUrl) {
    std::map<std::string, std::string> sealed;  // record id -> content hash, over every store
    for (ck::Store* store : stores) {
        for (const auto& e : store->listOutbox()) {
            INFO(e.recordId << " " << ck::outboxStateName(e.state) << " " << e.reason);
            CHECK((e.state == ck::OutboxState::Acknowledged || e.state == ck::OutboxState::Duplicate));
            auto [it, added] = sealed.emplace(e.recordId, e.contentHash);
            CHECK(it->second == e.contentHash);  // a record held by two stores is the same record
        }
    }
    auto storage = ck::agg::openStorage(storageUrl);
    CHECK(storage->countVisits() == uint64_t(sealed.size()));
    std::map<std::string, std::string> stored;
    storage->forEachVisit([&](const ck::agg::StoredVisit& v) {
        CHECK(stored.emplace(v.recordId, v.contentHash).second);
        return true;
    });
    size_t mismatched = 0;
    for (const auto& [id, hash] : sealed)
        if (stored.count(id) == 0 || stored[id] != hash) ++mismatched;
    CHECK(mismatched == 0);
    std::map<std::string, size_t> actions;
    std::map<std::string, int> storedEntries;
    storage->forEachAudit([&](const ck::agg::AuditEntry& a) {
        ++actions[a.action];
        if (a.action == "stored") ++storedEntries[a.subject];
        return true;
    });
    CHECK(actions["stored"] == sealed.size());
    size_t notOnce = 0;
    for (const auto& [id, hash] : sealed)
        if (storedEntries[id] != 1) ++notOnce;
    CHECK(notOnce == 0);
    auto report = ck::agg::verifyAuditChain(*storage);
    std::string problems;
    for (const auto& p : report.problems) problems += p.message + "\n";
    INFO("audit chain: " << problems);
    CHECK(report.problems.empty());
    return actions;
}

}  // namespace ck::test::faults
