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
#include <random>
#include <thread>

#include "app/store/store.h"
#include "app/sync/field_sync.h"
#include "tests/support/aggregator_process.h"
#include "tests/support/link_proxy.h"
#include "tests/sync/faults/field_sync_fixture.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace ck::test::faults;

namespace {

constexpr int kVisits = 1000;

fs::path scratchFor(const std::string& name) { return scratch("sync_faults", name); }

// An aggregator data folder with the flagship template published; returns an enrolment code.
std::string prepareAggregator(const fs::path& data) {
    initAggregator(data);
    return enrolmentSlip(data, "Priya", "tiruppur_knitwear").code;
}

std::string tlsPin(const fs::path& data) { return enrolmentSlip(data, "X", "Y").tlsPin; }


// Every finished visit stored once with the content the device sealed; the chain intact;
// exactly one "stored" audit entry per visit.
void checkAllOnce(ck::Store& store, const fs::path& data) {
    REQUIRE(store.listOutbox().size() == size_t(kVisits));
    checkExactlyOnce({&store}, data.string());
}

}  // namespace

TEST_CASE("the aggregator killed with SIGKILL 50+ times mid-sync loses and doubles nothing", "[faults]") {
    fs::path dir = scratchFor("sigkill");
    fs::path data = dir / "aggregator";
    std::string code = prepareAggregator(data);
    std::string pin = tlsPin(data);

    ck::test::AggregatorProcess server(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
    server.setLogFile((dir / "serve.log").string());
    REQUIRE(server.start());
    // The proxy keeps one address for the device while the server comes back on new ports.
    // It also slows the link to 200 KB/s and the device sends batches of 10 visits (about
    // 20 KB, a tenth of a second each): a kill every 50-400 ms then lands in the middle of
    // batches, and the sync of 1,000 visits lasts through 50 kills and more.
    ck::test::LinkProxy proxy({.targetPort = server.port(), .bytesPerSecond = 200'000});
    ck::sync::ServerAddress address{"https://127.0.0.1:" + std::to_string(proxy.port()), pin};

    ck::Store store = officerStore(dir / "officer.ckstore", kVisits);
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
    checkAllOnce(store, data);
}

TEST_CASE("connections cut at random byte offsets lose and double nothing", "[faults]") {
    fs::path dir = scratchFor("cuts");
    fs::path data = dir / "aggregator";
    std::string code = prepareAggregator(data);
    std::string pin = tlsPin(data);
    ck::test::AggregatorProcess server(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
    server.setLogFile((dir / "serve.log").string());
    REQUIRE(server.start());

    // Enrol over a clean link, then sync through one that cuts 95% of connections anywhere in
    // their first 160 KB. A batch of 100 flagship visits is about 130 KB on the wire, so most
    // cuts land in a request, some in a reply (the batch stored, its answer lost) or between
    // requests.
    ck::Store store = officerStore(dir / "officer.ckstore", kVisits);
    auto enrolled = ck::enrolDevice(store, {"https://127.0.0.1:" + std::to_string(server.port()), pin}, code, "cut tablet");
    REQUIRE(std::holds_alternative<ck::EnrolmentDone>(enrolled));
    ck::test::LinkProxy proxy(
        {.targetPort = server.port(), .cutProbability = 0.95, .cutMinBytes = 0, .cutMaxBytes = 160 * 1024, .seed = 11});
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
    checkAllOnce(store, data);
}
