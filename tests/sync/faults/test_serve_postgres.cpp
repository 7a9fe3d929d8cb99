// Several `ck-aggregator serve` processes on one PostgreSQL database, as an operator runs them
// behind a load balancer for a whole state: two real serve processes on the same data folder
// (same project keys, same database), three real officer stores (different devices, each
// enrolled with its own code) syncing at the same time in batches of 10 visits.
//  - Resends that meet the other process: each device's store is copied right after
//    enrolment, every entry of the copy marked sent (a device that sent everything and lost
//    every answer), and the copy syncs through the other process while the original syncs
//    through its own. Both send the same visits in the same order at the same moment, so the
//    two processes race to store the same record ids: one must store each visit, the other
//    must call it a duplicate.
//  - SIGKILL: one of the two processes is killed mid-sync; the devices pointed at it go on
//    through the survivor once the proxy in front of them (the load balancer) is retargeted.
// At the end: 900 visits, each stored once with the content hash its device sealed, one
// "stored" audit entry per visit, the audit chain intact, every outbox entry answered.
// PostgreSQL: CK_TEST_POSTGRES_URL's server, else one started for this process.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <latch>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/store/store.h"
#include "app/sync/field_sync.h"
#include "sync/aggregator/storage.h"
#include "tests/support/aggregator_process.h"
#include "tests/support/link_proxy.h"
#include "tests/support/postgres_cluster.h"
#include "tests/sync/faults/field_sync_fixture.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace ck::test::faults;
using ck::test::AggregatorProcess;
using ck::test::LinkProxy;
using ck::test::PostgresCluster;

namespace {

constexpr int kDevices = 3;
constexpr int kVisitsPerDevice = 300;
constexpr size_t kBatch = 10;
const std::array<const char*, kDevices> kOfficers = {"Priya", "Arjun", "Meena"};
const std::array<const char*, kDevices> kClusters = {"Tiruppur knitwear", "Moradabad brassware", "Morbi ceramics"};

// One data folder on a fresh PostgreSQL database, served by two processes.
struct TwoServers {
    fs::path dir, data;
    std::string storageUrl;
    std::vector<EnrolmentSlip> slips;  // one per device
    std::array<std::unique_ptr<AggregatorProcess>, 2> servers;
};

// Where server 0 or 1 writes its request log.
fs::path serverLog(const TwoServers& s, int server) { return s.dir / ("serve-" + std::to_string(server) + ".log"); }

std::unique_ptr<TwoServers> twoServers(const std::string& name) {
    auto s = std::make_unique<TwoServers>();
    s->dir = scratch("serve_postgres", name);
    s->data = s->dir / "aggregator";
    s->storageUrl = PostgresCluster::shared().freshDatabase();
    initAggregator(s->data, "--storage " + ck::test::shellQuote(s->storageUrl));
    for (int k = 0; k < kDevices; ++k) s->slips.push_back(enrolmentSlip(s->data, kOfficers[k], kClusters[k]));
    for (int i = 0; i < 2; ++i) {
        s->servers[i] = std::make_unique<AggregatorProcess>(
            CK_AGGREGATOR_BIN, std::vector<std::string>{"--data", s->data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
        s->servers[i]->setLogFile(serverLog(*s, i).string());
        if (!s->servers[i]->start()) FAIL("serve process " << i << " did not start: " << s->servers[i]->output());
    }
    return s;
}

// A device: its store, enrolled through `url` with its own slip.
struct Device {
    ck::Store store;
    std::string deviceId;
};

Device enrolledDevice(const TwoServers& s, int k, const std::string& url) {
    fs::path folder = s.dir / ("device-" + std::to_string(k));
    fs::create_directories(folder);
    Device d{officerStore(folder / "officer.ckstore", kVisitsPerDevice, kClusters[size_t(k)]), {}};
    auto enrolled = ck::enrolDevice(d.store, {url, s.slips[k].tlsPin}, s.slips[k].code, "tablet " + std::to_string(k));
    if (auto* e = std::get_if<std::string>(&enrolled)) FAIL("enrolment of device " << k << ": " << *e);
    d.deviceId = std::get<ck::EnrolmentDone>(enrolled).deviceId;
    return d;
}

// The same device a moment later, as a second store state: a copy of its store file in which
// every outbox entry has been sent and no answer has come back (a timed-out request the
// device sends again, here through the other process, while the first may still be in flight).
ck::Store resendingCopy(ck::Store& store, const fs::path& file) {
    store.checkpoint();  // everything in the main file, so that copying it copies the store
    fs::copy_file(store.file(), file);
    std::error_code ec;
    fs::path wal = store.file().string() + "-wal";
    if (fs::exists(wal, ec) && fs::file_size(wal, ec) > 0) fs::copy_file(wal, file.string() + "-wal");
    auto opened = ck::Store::open(file);
    REQUIRE(opened.ok());
    ck::Store copy = std::move(opened).value();
    REQUIRE(copy.unlock(kOfficer).ok());
    for (const auto& e : copy.listOutbox()) REQUIRE(copy.markSent(e.recordId).ok());
    return copy;
}

// What one syncing device did (written by its thread, read after join or through atomics).
struct DeviceRun {
    int rounds = 0;
    std::string lastError;
    std::atomic<size_t> recordsDone{0};  // in its current sync
    std::atomic<int> retries{0};         // requests that failed and were tried again
    std::atomic<bool> finished{false};
};

// What an officer's app does: sync, and when a sync gives up, sync again a little later,
// until every visit is answered (or the time runs out: the test then fails on its checks).
// No Catch2 assertions here: it runs on its own thread.
void syncUntilAnswered(ck::Store& store, const ck::sync::ServerAddress& address, DeviceRun& run) {
    auto deadline = std::chrono::steady_clock::now() + 90s;
    while (std::chrono::steady_clock::now() < deadline) {
        ck::sync::SyncClient client(address, patientButQuick());
        auto progress = [&](const ck::sync::SyncProgress& p) {
            run.recordsDone = p.recordsDone;
            if (p.stage.rfind("waiting to retry", 0) == 0) ++run.retries;
        };
        auto r = ck::syncNow(store, client, progress, kBatch);
        ++run.rounds;
        if (auto* e = std::get_if<std::string>(&r)) run.lastError = *e;
        if (unanswered(store) == 0) break;
        std::this_thread::sleep_for(50ms);
    }
    run.finished = true;
}

// Uploads by `deviceId` that the server answered, from its request log.
size_t uploadsLogged(const fs::path& log, const std::string& deviceId) {
    std::ifstream in(log);
    size_t n = 0;
    for (std::string line; std::getline(in, line);)
        if (line.find("/v1/upload 200 ") != std::string::npos && line.find("device=" + deviceId + " ") != std::string::npos)
            ++n;
    return n;
}

std::string describe(const std::array<DeviceRun, 2 * kDevices>& runs, size_t n) {
    std::string text;
    for (size_t i = 0; i < n; ++i)
        text += "sync " + std::to_string(i) + ": " + std::to_string(runs[i].rounds) + " rounds, last error: " +
                (runs[i].lastError.empty() ? "none" : runs[i].lastError) + "\n";
    return text;
}

}  // namespace

TEST_CASE("two serve processes on one PostgreSQL database: three devices, their resends meeting the other process, "
          "every visit stored once",
          "[faults][postgres]") {
    auto s = twoServers("resends");
    auto address = [&](int server) {
        return ck::sync::ServerAddress{s->servers[server]->url(), s->slips[0].tlsPin};
    };

    // Device k is enrolled through, and syncs with, server k % 2; its resending copy syncs
    // with the other one. Enrolment through one process and upload through the other also
    // shows that the device register is the database's, not a process's.
    std::vector<Device> devices;
    std::vector<ck::Store> copies;
    for (int k = 0; k < kDevices; ++k) {
        devices.push_back(enrolledDevice(*s, k, s->servers[k % 2]->url()));
        copies.push_back(resendingCopy(devices[k].store, s->dir / ("device-" + std::to_string(k)) / "resend.ckstore"));
    }
    REQUIRE(std::set<std::string>{devices[0].deviceId, devices[1].deviceId, devices[2].deviceId}.size() == 3);

    std::array<DeviceRun, 2 * kDevices> runs;
    std::latch start(2 * kDevices);
    std::vector<std::thread> threads;
    for (int k = 0; k < kDevices; ++k) {
        threads.emplace_back([&, k] {
            start.arrive_and_wait();
            syncUntilAnswered(devices[k].store, address(k % 2), runs[k]);
        });
        threads.emplace_back([&, k] {
            start.arrive_and_wait();
            syncUntilAnswered(copies[k], address((k + 1) % 2), runs[kDevices + k]);
        });
    }
    for (auto& t : threads) t.join();
    INFO(describe(runs, runs.size()));

    // Each visit was sent twice, once through each process, and no answer was lost: exactly
    // one of the two sends stored it and the other heard "duplicate". Both stored: the
    // processes stored it twice; neither: it was lost.
    std::map<std::string, std::string> deviceOf;  // record id -> device id
    size_t bothStored = 0, neitherStored = 0;
    std::array<size_t, 2> storedThrough{0, 0};  // acknowledgements heard from server 0 and 1
    for (int k = 0; k < kDevices; ++k) {
        CHECK(unanswered(devices[k].store) == 0);
        CHECK(unanswered(copies[k]) == 0);
        std::map<std::string, ck::OutboxState> copyState;
        for (const auto& e : copies[k].listOutbox()) copyState[e.recordId] = e.state;
        auto outbox = devices[k].store.listOutbox();
        CHECK(outbox.size() == size_t(kVisitsPerDevice));
        CHECK(copyState.size() == size_t(kVisitsPerDevice));
        for (const auto& e : outbox) {
            deviceOf[e.recordId] = devices[k].deviceId;
            bool original = e.state == ck::OutboxState::Acknowledged;
            bool copy = copyState[e.recordId] == ck::OutboxState::Acknowledged;
            if (original && copy) ++bothStored;
            if (!original && !copy) ++neitherStored;
            if (original) ++storedThrough[k % 2];
            if (copy) ++storedThrough[(k + 1) % 2];
        }
    }
    INFO("visits stored through server 0: " << storedThrough[0] << ", through server 1: " << storedThrough[1]);
    CHECK(bothStored == 0);
    CHECK(neitherStored == 0);

    std::vector<ck::Store*> all;
    for (auto& d : devices) all.push_back(&d.store);
    for (auto& c : copies) all.push_back(&c);
    auto actions = checkExactlyOnce(all, s->storageUrl);
    CHECK(actions["duplicate"] == size_t(kDevices * kVisitsPerDevice));  // every resend recognised, once
    CHECK(actions["refused"] == 0);

    // Each visit is on file under the device that sealed it.
    auto storage = ck::agg::openStorage(s->storageUrl);
    size_t misattributed = 0;
    storage->forEachVisit([&](const ck::agg::StoredVisit& v) {
        if (deviceOf[v.recordId] != v.deviceId) ++misattributed;
        return true;
    });
    CHECK(misattributed == 0);

    CHECK(s->servers[0]->terminate() == 0);
    CHECK(s->servers[1]->terminate() == 0);
    // Both processes took part: each answered all 30 batches of one copy of every device.
    for (int server = 0; server < 2; ++server)
        for (int k = 0; k < kDevices; ++k) {
            INFO("server " << server << ", device " << k);
            CHECK(uploadsLogged(serverLog(*s, server), devices[k].deviceId) >= size_t(kVisitsPerDevice) / kBatch);
        }
}

TEST_CASE("two serve processes on one PostgreSQL database: one killed with SIGKILL mid-sync, its devices go on through "
          "the other, every visit stored once",
          "[faults][postgres]") {
    auto s = twoServers("sigkill");
    // A proxy in front of each process stands for the load balancer: the devices keep their
    // one address while it moves them to the survivor. The link is slowed to 250 KB/s a
    // connection so that a sync lasts a few seconds (a batch of 10 visits is about 20 KB) and
    // the kill lands in the middle of it, most likely in the middle of a batch.
    std::array<std::unique_ptr<LinkProxy>, 2> proxies;
    for (int i = 0; i < 2; ++i)
        proxies[i] = std::make_unique<LinkProxy>(
            ck::test::LinkOptions{.targetPort = s->servers[i]->port(), .bytesPerSecond = 250'000});
    auto address = [&](int proxy) {
        return ck::sync::ServerAddress{"https://127.0.0.1:" + std::to_string(proxies[proxy]->port()), s->slips[0].tlsPin};
    };

    // Devices 0 and 2 go through server 0 (the one to be killed), device 1 through server 1.
    std::vector<Device> devices;
    for (int k = 0; k < kDevices; ++k) devices.push_back(enrolledDevice(*s, k, address(k % 2).url));

    std::array<DeviceRun, 2 * kDevices> runs;
    std::latch start(kDevices);
    std::vector<std::thread> threads;
    for (int k = 0; k < kDevices; ++k)
        threads.emplace_back([&, k] {
            start.arrive_and_wait();
            syncUntilAnswered(devices[k].store, address(k % 2), runs[k]);
        });

    // Kill server 0 once both of its devices are well into their sync (90 of 300 visits).
    auto waitUntil = std::chrono::steady_clock::now() + 30s;
    while ((runs[0].recordsDone < 90 || runs[2].recordsDone < 90) && std::chrono::steady_clock::now() < waitUntil)
        std::this_thread::sleep_for(5ms);
    size_t doneAtKill0 = runs[0].recordsDone, doneAtKill2 = runs[2].recordsDone;
    // Into the next batch's upload (about 80 ms on this link), so the kill most likely cuts it.
    std::this_thread::sleep_for(40ms);
    bool midSync = !runs[0].finished && !runs[2].finished;
    bool killed = s->servers[0]->kill();
    // The load balancer notices a moment later; meanwhile those devices fail and retry.
    std::this_thread::sleep_for(500ms);
    proxies[0]->setTargetPort(s->servers[1]->port());
    for (auto& t : threads) t.join();

    INFO(describe(runs, kDevices));
    INFO("visits answered when server 0 was killed: device 0 " << doneAtKill0 << ", device 2 " << doneAtKill2);
    REQUIRE(killed);
    CHECK(midSync);
    CHECK(doneAtKill0 >= 90);
    CHECK(doneAtKill0 < size_t(kVisitsPerDevice));
    CHECK(doneAtKill2 >= 90);
    CHECK(doneAtKill2 < size_t(kVisitsPerDevice));
    // Its devices noticed (a request failed and was tried again) and then went on through the
    // survivor: its log has their uploads, at least the batches left when the kill came (less
    // the one that may still have finished in the 40 ms before it).
    for (int k : {0, 2}) {
        const size_t doneAtKill = k == 0 ? doneAtKill0 : doneAtKill2;
        const size_t batchesLeft = (size_t(kVisitsPerDevice) - std::min(doneAtKill, size_t(kVisitsPerDevice))) / kBatch;
        INFO("device " << k << ": " << runs[k].retries << " retries, " << batchesLeft << " batches left at the kill");
        CHECK(runs[k].retries + runs[k].rounds > 1);
        CHECK(uploadsLogged(serverLog(*s, 1), devices[k].deviceId) + 1 >= batchesLeft);
    }

    std::vector<ck::Store*> all;
    for (auto& d : devices) {
        CHECK(unanswered(d.store) == 0);
        CHECK(d.store.listOutbox().size() == size_t(kVisitsPerDevice));
        all.push_back(&d.store);
    }
    auto actions = checkExactlyOnce(all, s->storageUrl);
    INFO("resends recognised as duplicates: " << actions["duplicate"]);
    CHECK(actions["refused"] == 0);
    CHECK(s->servers[1]->terminate() == 0);
}
