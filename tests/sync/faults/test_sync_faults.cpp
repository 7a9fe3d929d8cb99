// Faults on the way from a field device to the aggregator. A real officer's store with 1,000
// finished visits syncs to a real `ck-aggregator serve` process through a real TCP proxy,
// while the test
//  - kills the aggregator with SIGKILL at random moments, at least 50 times, restarting it
//    each time (a power cut in the server room, an OOM kill), or
//  - cuts connections at random byte offsets (a mobile link dropping mid-request).
// At the end every finished visit must be stored exactly once, every outbox entry answered
// (acknowledged, or duplicate when an answer was lost with a cut), and the audit chain intact.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/store/store.h"
#include "app/sync/field_sync.h"
#include "core/form/answers_json.h"
#include "sync/aggregator/audit_log.h"
#include "sync/aggregator/storage.h"
#include "tests/support/aggregator_process.h"
#include "tests/support/command_run.h"
#include "tests/support/link_proxy.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ck::test::runCommand;
using ck::test::shellQuote;

namespace {

const std::string kAdmin = "fault test: admin 2026";
const std::string kOfficer = "fault test: officer 2026";
constexpr int kVisits = 1000;

fs::path scratch(const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "sync_faults" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string aggregatorCommand(const fs::path& data, const std::string& rest) {
    return "CK_ADMIN_PASSPHRASE=" + shellQuote(kAdmin) + " " + shellQuote(CK_AGGREGATOR_BIN) + " " + rest +
           " --data " + shellQuote(data.string());
}

// An aggregator data folder with the flagship template published; returns an enrolment code.
std::string prepareAggregator(const fs::path& data) {
    auto init = runCommand(aggregatorCommand(data, "init --test-kdf"));
    REQUIRE(init.status == 0);
    auto pub = runCommand(aggregatorCommand(
        data, "templates publish " + shellQuote(std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json")));
    REQUIRE(pub.status == 0);
    auto slip = runCommand(aggregatorCommand(data, "enrol --officer Priya --cluster 'Tiruppur knitwear'"));
    REQUIRE(slip.status == 0);
    std::smatch m;
    REQUIRE(std::regex_search(slip.out, m, std::regex("code: +([A-Z0-9-]+)")));
    return m[1];
}

std::string tlsPin(const std::string& slipOrInit) {
    std::smatch m;
    REQUIRE(std::regex_search(slipOrInit, m, std::regex("TLS pin: +(sha256//[A-Za-z0-9+/=]+)")));
    return m[1];
}

// The officer's store with `count` finished visits (the same answers, each its own visit).
ck::Store officerStore(const fs::path& dir, int count) {
    auto created = ck::Store::create(dir / "officer.ckstore", kOfficer, kOfficer, ck::kFastKdf);
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
        auto done = store.finalise(session.value().recordId(), session.value());
        REQUIRE(done.ok());
    }
    return store;
}

size_t unanswered(ck::Store& store) {
    size_t n = 0;
    for (const auto& e : store.listOutbox())
        if (e.state != ck::OutboxState::Acknowledged && e.state != ck::OutboxState::Duplicate) ++n;
    return n;
}

// Every finished visit stored once with the content the device sealed; the chain intact;
// exactly one "stored" audit entry per visit.
void checkExactlyOnce(ck::Store& store, const fs::path& data) {
    auto outbox = store.listOutbox();
    REQUIRE(outbox.size() == size_t(kVisits));
    for (const auto& e : outbox) {
        INFO(e.recordId << " " << ck::outboxStateName(e.state) << " " << e.reason);
        CHECK((e.state == ck::OutboxState::Acknowledged || e.state == ck::OutboxState::Duplicate));
    }
    auto storage = ck::agg::openStorage(data.string());
    CHECK(storage->countVisits() == uint64_t(kVisits));
    std::map<std::string, std::string> stored;
    storage->forEachVisit([&](const ck::agg::StoredVisit& v) {
        CHECK(stored.emplace(v.recordId, v.contentHash).second);
        return true;
    });
    for (const auto& e : outbox) CHECK(stored[e.recordId] == e.contentHash);
    size_t storedEntries = 0;
    storage->forEachAudit([&](const ck::agg::AuditEntry& a) {
        if (a.action == "stored") ++storedEntries;
        return true;
    });
    CHECK(storedEntries == size_t(kVisits));
    auto report = ck::agg::verifyAuditChain(*storage);
    CHECK(report.problems.empty());
}

ck::sync::RetryPolicy patientButQuick() {
    ck::sync::RetryPolicy r;
    r.maxAttempts = 40;
    r.initialDelay = 20ms;
    r.maxDelay = 300ms;
    r.connectTimeout = 2'000ms;
    r.requestTimeout = 20'000ms;
    return r;
}

}  // namespace

TEST_CASE("the aggregator killed with SIGKILL 50+ times mid-sync loses and doubles nothing", "[faults]") {
    fs::path dir = scratch("sigkill");
    fs::path data = dir / "aggregator";
    std::string code = prepareAggregator(data);
    std::string pin = tlsPin(runCommand(aggregatorCommand(data, "enrol --officer X --cluster Y")).out);

    ck::test::AggregatorProcess server(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
    server.setLogFile((dir / "serve.log").string());
    REQUIRE(server.start());
    // The proxy keeps one address for the device while the server comes back on new ports.
    // It also slows the link to 200 KB/s and the device sends batches of 10 visits (about
    // 20 KB, a tenth of a second each): a kill every 50-400 ms then lands in the middle of
    // batches, and the sync of 1,000 visits lasts through 50 kills and more.
    ck::test::LinkProxy proxy({.targetPort = server.port(), .bytesPerSecond = 200'000});
    ck::sync::ServerAddress address{"https://127.0.0.1:" + std::to_string(proxy.port()), pin};

    ck::Store store = officerStore(dir, kVisits);
    auto enrolled = ck::enrolDevice(store, address, code, "fault test tablet");
    REQUIRE(std::holds_alternative<ck::EnrolmentDone>(enrolled));

    std::atomic<bool> synced{false};
    std::string lastError;
    int rounds = 0;
    std::thread device([&] {
        // What an officer's app does: sync, and when it gives up, sync again later.
        auto deadline = std::chrono::steady_clock::now() + 150s;
        while (std::chrono::steady_clock::now() < deadline) {
            ck::sync::SyncClient client(address, patientButQuick());
            auto r = ck::syncNow(store, client, {}, 10);
            ++rounds;
            if (auto* e = std::get_if<std::string>(&r)) lastError = *e;
            if (unanswered(store) == 0) break;
            std::this_thread::sleep_for(50ms);
        }
        synced = true;
    });

    std::mt19937 rng(2026);
    int kills = 0;
    while (!synced) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 400)(rng)));
        if (synced) break;
        REQUIRE(server.kill());
        ++kills;
        REQUIRE(server.start());
        proxy.setTargetPort(server.port());
    }
    device.join();
    INFO("kills: " << kills << ", sync rounds: " << rounds << ", last error: " << lastError);
    CHECK(kills >= 50);
    CHECK(unanswered(store) == 0);
    CHECK(server.terminate() == 0);
    checkExactlyOnce(store, data);
}

TEST_CASE("connections cut at random byte offsets lose and double nothing", "[faults]") {
    fs::path dir = scratch("cuts");
    fs::path data = dir / "aggregator";
    std::string code = prepareAggregator(data);
    std::string pin = tlsPin(runCommand(aggregatorCommand(data, "enrol --officer X --cluster Y")).out);
    ck::test::AggregatorProcess server(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
    server.setLogFile((dir / "serve.log").string());
    REQUIRE(server.start());

    // Enrol over a clean link, then sync through one that cuts 90% of connections anywhere in
    // their first 250 KB. A batch of 100 flagship visits is about 200 KB, so most cuts land in
    // a request, some in a reply (the batch stored, its answer lost) or between requests.
    ck::Store store = officerStore(dir, kVisits);
    auto enrolled = ck::enrolDevice(store, {"https://127.0.0.1:" + std::to_string(server.port()), pin}, code, "cut tablet");
    REQUIRE(std::holds_alternative<ck::EnrolmentDone>(enrolled));
    ck::test::LinkProxy proxy(
        {.targetPort = server.port(), .cutProbability = 0.9, .cutMinBytes = 0, .cutMaxBytes = 250 * 1024, .seed = 11});
    ck::sync::ServerAddress address{"https://127.0.0.1:" + std::to_string(proxy.port()), pin};

    int rounds = 0;
    std::string lastError;
    auto deadline = std::chrono::steady_clock::now() + 120s;
    while (unanswered(store) > 0 && std::chrono::steady_clock::now() < deadline) {
        ck::sync::SyncClient client(address, patientButQuick());
        auto r = ck::syncNow(store, client);
        ++rounds;
        if (auto* e = std::get_if<std::string>(&r)) lastError = *e;
    }
    auto stats = proxy.stats();
    INFO("rounds: " << rounds << ", connections: " << stats.connections << ", cuts: " << stats.cuts
                    << ", last error: " << lastError);
    CHECK(stats.cuts >= 20);
    CHECK(unanswered(store) == 0);
    CHECK(server.terminate() == 0);
    checkExactlyOnce(store, data);
}
