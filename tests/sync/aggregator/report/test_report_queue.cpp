// Issue 11: uploads never wait on a report. A real HTTPS aggregator in this process (the
// IngestService with the BaselineService hooked as `serve` hooks it), SQLite storage holding
// tens of thousands of visits, and a device syncing 1,000 visits in batches of 100 over
// HTTPS: once with no report work, once while the report is rebuilt again and again. Before
// the fix every stored visit waited for the rebuild's lock.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "sync/aggregator/report/baseline_service.h"
#include "tests/sync/aggregator/report/report_test_support.h"
#include "tests/sync/aggregator/server/live_aggregator.h"

using namespace ck;
using namespace ck::agg;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

TEST_CASE("report queue: a device's sync of 1,000 visits is not slowed by a report rebuilt meanwhile",
          "[report][service][queue]") {
    test::LiveAggregator agg("test_report_queue");
    test::Flagship f = test::loadFlagship();

    // Visits already on file, so that one rebuild takes a while (about 36 us a visit on a
    // quiet machine): generated ones, repeated under new ids.
    constexpr size_t kOnFile = 30000;
    {
        auto units = test::testRegister(1, 1, 40, 31);
        auto seeds = test::generatedVisits(f, units, 200, 32);
        std::vector<StoredVisit> batch;
        for (size_t i = 0; i < kOnFile; ++i) {
            StoredVisit v = seeds[i % seeds.size()];
            v.recordId = "on-file-" + std::to_string(i);
            v.contentHash = test::blake2Hex(v.recordId);
            v.cluster = test::kLiveCluster;
            v.receivedAt = 1795100000 + int64_t(i);
            batch.push_back(std::move(v));
            if (batch.size() == 2000) {
                agg.storage->putVisits(batch);
                batch.clear();
            }
        }
    }
    BaselineOptions options;
    options.threads = 1;
    BaselineService service(*agg.storage, options);
    REQUIRE(service.visitsCounted() == kOnFile);
    agg.ingest->onStored([&](const StoredVisit& v) { service.visitStored(v); });
    agg.start();
    test::TestDevice device = agg.enrolledDevice();

    // Sealed beforehand: what is timed is the sync alone.
    constexpr int kRuns = 3, kBatches = 10, kPerBatch = 100;
    Record base = test::visitRecord(0, agg.templateVersion);
    auto sealedRun = [&] {
        std::vector<std::vector<SealedEnvelope>> batches(kBatches);
        for (auto& b : batches)
            for (int i = 0; i < kPerBatch; ++i) {
                Record r = base;
                r.id = newRecordId();
                b.push_back(agg.seal(r, device));
            }
        return batches;
    };
    auto sync = [&](const std::vector<std::vector<SealedEnvelope>>& batches) {
        auto t0 = std::chrono::steady_clock::now();
        size_t stored = 0;
        for (const auto& b : batches) {
            auto reply = test::rawPost(agg.url() + "/v1/upload", agg.batch(b, device));
            REQUIRE(reply.status == 200);
            auto acks = reply.reply<proto::UploadReply>();
            REQUIRE(acks);
            for (const auto& a : acks->acks) stored += a.status == proto::AckStatus::Stored;
        }
        REQUIRE(stored == size_t(kBatches * kPerBatch));
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };

    std::vector<double> quiet, busy;
    size_t rebuildsDuringSyncs = 0;
    for (int run = 0; run < kRuns; ++run) {
        auto a = sealedRun(), b = sealedRun();
        quiet.push_back(sync(a));

        std::atomic<bool> done{false};
        std::atomic<size_t> rebuilds{0};
        std::thread reports([&] {
            while (!done.load()) {
                service.rebuild();
                ++rebuilds;
            }
        });
        struct Stop {  // joined even when a REQUIRE in sync() ends the test
            std::atomic<bool>& done;
            std::thread& t;
            ~Stop() {
                done = true;
                if (t.joinable()) t.join();
            }
        } stop{done, reports};
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the first rebuild is under way
        busy.push_back(sync(b));
        done = true;
        reports.join();
        rebuildsDuringSyncs += rebuilds.load();
    }
    double q = median(quiet), r = median(busy);
    std::printf("sync of %d visits over HTTPS: %.3f s with no report, %.3f s while the report is rebuilt "
                "(%zu rebuilds of %zu visits meanwhile; medians of %d runs)\n",
                kBatches * kPerBatch, q, r, rebuildsDuringSyncs, kOnFile, kRuns);
    CHECK(rebuildsDuringSyncs >= size_t(kRuns));
    // Within 20%, or 0.25 s on a machine shared with other work (timings there jitter that much).
    CHECK(r <= std::max(q * 1.2, q + 0.25));

    // Nothing queued was lost: every visit synced is counted, none twice.
    CHECK(service.visitsCounted() == kOnFile + size_t(2 * kRuns * kBatches * kPerBatch));
    BaselineService fresh(*agg.storage, options);
    CHECK(fresh.visitsCounted() == service.visitsCounted());
}
