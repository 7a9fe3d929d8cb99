// SyncClient against a real aggregator (HTTPS on 127.0.0.1, SQLite storage, real keys):
// enrolment, batches with one acknowledgement each, duplicates and conflicts, the pin,
// retries against a server that is down or comes up late, updates, resumed attachments and
// cancel().
#include <sodium.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "sync/client/sync_client.h"
#include "tests/sync/aggregator/server/live_aggregator.h"

using namespace ck;
using ck::test::LiveAggregator;
using sync::SyncErrorKind;

namespace {

const char* kSuite = "test_sync_client";

sync::RetryPolicy quickRetry(int attempts = 3) {
    sync::RetryPolicy r;
    r.maxAttempts = attempts;
    r.initialDelay = std::chrono::milliseconds(10);
    r.maxDelay = std::chrono::milliseconds(50);
    r.connectTimeout = std::chrono::milliseconds(1000);
    r.requestTimeout = std::chrono::milliseconds(15000);
    return r;
}

// Enrols a new device through the client; returns it with its id.
test::TestDevice enrolThrough(sync::SyncClient& client, LiveAggregator& agg) {
    test::TestDevice d = test::newTestDevice();
    auto reply = client.enrol(agg.code(), d.publicKey, "Tab 3 (Priya)", d.sign());
    if (auto* e = std::get_if<sync::SyncError>(&reply)) FAIL("enrol failed: " << e->message);
    d.deviceId = std::get<proto::EnrolReply>(reply).deviceId;
    return d;
}

// A port nothing listens on: one the OS gave a server that has stopped since.
int freedPort(LiveAggregator& agg) {
    agg.start();
    int port = agg.port();
    agg.stop();
    return port;
}

}  // namespace

// A browser cannot see the certificate of its connection: the web client asks for the key
// instead and hashes it itself (platforms/web/sync_client_web.cpp). It must be the key the
// pin on the slip was made from, the one the desktop client pins.
TEST_CASE("the aggregator answers GET /v1/tls-key with the key its TLS pin hashes", "[sync][client][web]") {
    LiveAggregator agg(kSuite);
    agg.start();
    std::string error;
    std::string key = test::pinnedGet(agg.url() + "/v1/tls-key", agg.cert.publicKeyPin, &error);
    INFO(error);
    REQUIRE(!key.empty());
    CHECK(proto::publicKeyPin(std::vector<uint8_t>(key.begin(), key.end())) == agg.cert.publicKeyPin);
    sync::SyncClient client({agg.url(), agg.cert.publicKeyPin}, quickRetry());
    auto pin = client.fetchPublicKeyPin();
    REQUIRE(std::holds_alternative<std::string>(pin));
    CHECK(std::get<std::string>(pin) == proto::publicKeyPin(std::vector<uint8_t>(key.begin(), key.end())));
}

TEST_CASE("SyncClient: enrol, upload 250 visits in batches, again as duplicates, a conflict", "[sync][client]") {
    LiveAggregator agg(kSuite);
    agg.start();
    sync::SyncClient client({agg.url(), agg.cert.publicKeyPin}, quickRetry());

    auto pin = client.fetchPublicKeyPin();
    REQUIRE(std::holds_alternative<std::string>(pin));
    CHECK(std::get<std::string>(pin) == agg.cert.publicKeyPin);

    test::TestDevice device = test::newTestDevice();
    auto enrolled = client.enrol(agg.code(), device.publicKey, "Tab 3 (Priya)", device.sign());
    REQUIRE(std::holds_alternative<proto::EnrolReply>(enrolled));
    const auto& reply = std::get<proto::EnrolReply>(enrolled);
    CHECK(reply.ingestPublicKey == agg.keys.ingestPublicKey);
    CHECK(reply.templateSigningPublicKey == agg.keys.signingPublicKey);
    CHECK(reply.cluster == test::kLiveCluster);

    auto envelopes = agg.visits(250, device);
    std::vector<sync::SyncProgress> seen;
    client.setProgress([&](const sync::SyncProgress& p) { seen.push_back(p); });
    auto first = client.upload(envelopes, device.publicKey, device.sign(), 100);
    REQUIRE(std::holds_alternative<std::vector<sync::UploadOutcome>>(first));
    const auto& outcomes = std::get<std::vector<sync::UploadOutcome>>(first);
    REQUIRE(outcomes.size() == 250);
    for (size_t i = 0; i < outcomes.size(); ++i) {
        CHECK(outcomes[i].recordId == envelopes[i].recordId);
        CHECK(outcomes[i].contentHash == envelopes[i].contentHash);
        INFO(outcomes[i].ack.message);
        CHECK(outcomes[i].ack.status == proto::AckStatus::Stored);
    }
    CHECK(agg.storage->countVisits() == 250);
    CHECK(agg.logCount("POST /v1/upload 200") == 3);  // 100 + 100 + 50
    // Progress after each batch, with bytes counted.
    std::vector<size_t> done;
    for (const auto& p : seen)
        if (p.stage == "uploading" || p.stage == "uploaded")
            if (done.empty() || done.back() != p.recordsDone) done.push_back(p.recordsDone);
    CHECK(done == std::vector<size_t>{0, 100, 200, 250});
    CHECK(seen.back().recordsTotal == 250);
    CHECK(seen.back().bytesSent > 250 * 200);
    CHECK(client.bytesSent() >= seen.back().bytesSent);
    CHECK(client.bytesReceived() > 0);

    auto again = client.upload(envelopes, device.publicKey, device.sign(), 100);
    REQUIRE(std::holds_alternative<std::vector<sync::UploadOutcome>>(again));
    for (const auto& o : std::get<std::vector<sync::UploadOutcome>>(again)) CHECK(o.ack.status == proto::AckStatus::Duplicate);
    CHECK(agg.storage->countVisits() == 250);

    // The same record id with other answers: refused, with a reason the officer can read.
    Record changed = test::visitRecord(7, agg.templateVersion);
    changed.id = envelopes[0].recordId;
    changed.updatedAt += 60;  // other content under the same id, still a valid visit
    auto conflict = client.upload({agg.seal(changed, device)}, device.publicKey, device.sign());
    REQUIRE(std::holds_alternative<std::vector<sync::UploadOutcome>>(conflict));
    const auto& ack = std::get<std::vector<sync::UploadOutcome>>(conflict)[0].ack;
    CHECK(ack.status == proto::AckStatus::Refused);
    CHECK(ack.reason == proto::RefusalReason::Conflict);
    CHECK(ack.message.find("different answers") != std::string::npos);
    CHECK(agg.storage->countVisits() == 250);
}

TEST_CASE("SyncClient: a wrong pin fails with PinMismatch and sends nothing", "[sync][client]") {
    LiveAggregator agg(kSuite);
    agg.start();
    test::TestDevice device = agg.enrolledDevice();
    size_t before = agg.log().size();

    // The pin of another certificate: a server that is not ours.
    auto other = test::scratchFolder(kSuite);
    std::string otherPin = agg::createSelfSignedCertificate(other, {}).publicKeyPin;
    REQUIRE(otherPin != agg.cert.publicKeyPin);
    sync::SyncClient client({agg.url(), otherPin}, quickRetry(5));
    auto started = std::chrono::steady_clock::now();
    auto result = client.upload(agg.visits(3, device), device.publicKey, device.sign());
    REQUIRE(std::holds_alternative<sync::SyncError>(result));
    CHECK(std::get<sync::SyncError>(result).kind == SyncErrorKind::PinMismatch);
    CHECK(std::get<sync::SyncError>(result).message.find("Nothing was sent") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));  // not retried
    // The server saw no request at all, and stored nothing.
    CHECK(agg.log().size() == before);
    CHECK(agg.storage->countVisits() == 0);

    // No pin at all for https is refused the same way.
    sync::SyncClient unpinned({agg.url(), ""}, quickRetry());
    auto updates = unpinned.fetchUpdates(0, device.publicKey, device.sign());
    REQUIRE(std::holds_alternative<sync::SyncError>(updates));
    CHECK(std::get<sync::SyncError>(updates).kind == SyncErrorKind::PinMismatch);
    CHECK(agg.log().size() == before);
}

TEST_CASE("SyncClient: server down -> Unreachable after bounded retries", "[sync][client]") {
    LiveAggregator agg(kSuite);
    int port = freedPort(agg);
    test::TestDevice device = test::newTestDevice();
    sync::SyncClient client({"https://127.0.0.1:" + std::to_string(port), agg.cert.publicKeyPin}, quickRetry(4));
    int attempts = 0;
    client.setProgress([&](const sync::SyncProgress& p) {
        if (p.stage == "fetching updates") attempts = std::max(attempts, p.attempt);
    });
    auto started = std::chrono::steady_clock::now();
    auto result = client.fetchUpdates(0, device.publicKey, device.sign());
    REQUIRE(std::holds_alternative<sync::SyncError>(result));
    const auto& e = std::get<sync::SyncError>(result);
    CHECK(e.kind == SyncErrorKind::Unreachable);
    CHECK(e.message.find("4 attempts") != std::string::npos);
    CHECK(attempts == 4);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("SyncClient: a server that comes up late is reached by the retries", "[sync][client]") {
    LiveAggregator agg(kSuite);
    test::TestDevice device = agg.enrolledDevice();
    int port = freedPort(agg);
    sync::RetryPolicy retry = quickRetry(40);
    retry.initialDelay = std::chrono::milliseconds(50);
    retry.maxDelay = std::chrono::milliseconds(100);
    sync::SyncClient client({"https://127.0.0.1:" + std::to_string(port), agg.cert.publicKeyPin}, retry);
    auto envelopes = agg.visits(20, device);
    auto pending = std::async(std::launch::async, [&] { return client.upload(envelopes, device.publicKey, device.sign(), 10); });
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    agg.start(agg.options(port));
    REQUIRE(pending.wait_for(std::chrono::seconds(15)) == std::future_status::ready);
    auto result = pending.get();
    REQUIRE(std::holds_alternative<std::vector<sync::UploadOutcome>>(result));
    for (const auto& o : std::get<std::vector<sync::UploadOutcome>>(result)) CHECK(o.ack.status == proto::AckStatus::Stored);
    CHECK(agg.storage->countVisits() == 20);
}

TEST_CASE("SyncClient: updates bring the published template, signed, and the register", "[sync][client]") {
    LiveAggregator agg(kSuite);
    agg.start();
    sync::SyncClient client({agg.url(), agg.cert.publicKeyPin}, quickRetry());
    test::TestDevice device = enrolThrough(client, agg);
    agg.storage->putRegister({{"TPR-0042", "Sri Murugan Knits", test::kLiveCluster, "Tiruppur", "Tamil Nadu", "micro", "textiles"},
                              {"LDH-0001", "Not ours", "Ludhiana", "Ludhiana", "Punjab", "small", "textiles"}},
                             agg::AuditEvent{agg::systemClock(), "register", "operator", "register.csv", "2 units"});

    auto result = client.fetchUpdates(0, device.publicKey, device.sign());
    REQUIRE(std::holds_alternative<proto::Updates>(result));
    const auto& u = std::get<proto::Updates>(result);
    REQUIRE(u.templates.size() == 1);
    const auto& t = u.templates[0];
    CHECK(t.templateId == "cluster-diagnostic");
    CHECK(proto::verifySignature(proto::templateSigningBytes(t.templateId, t.version, t.jsonText), t.signature,
                                 agg.keys.signingPublicKey));
    REQUIRE(u.assignments.size() == 1);  // only this device's cluster
    CHECK(u.assignments[0].unitId == "TPR-0042");
    CHECK(u.cursor > 0);

    auto next = client.fetchUpdates(u.cursor, device.publicKey, device.sign());
    REQUIRE(std::holds_alternative<proto::Updates>(next));
    CHECK(std::get<proto::Updates>(next).templates.empty());
    CHECK(std::get<proto::Updates>(next).assignments.empty());

    // A refusal is returned at once with the aggregator's reason (a revoked device).
    REQUIRE(agg.storage->revokeDevice(device.deviceId, agg::systemClock(),
                                      agg::AuditEvent{agg::systemClock(), "revoked", "operator", device.deviceId, ""}));
    auto refused = client.fetchUpdates(0, device.publicKey, device.sign());
    REQUIRE(std::holds_alternative<sync::SyncError>(refused));
    const auto& e = std::get<sync::SyncError>(refused);
    CHECK(e.kind == SyncErrorKind::Refused);
    REQUIRE(e.reply);
    CHECK(e.reply->code == proto::ErrorCode::RevokedDevice);
    CHECK(agg.logCount("/v1/updates 403") == 1);  // not retried
}

TEST_CASE("SyncClient: an attachment upload resumes with only the missing chunks", "[sync][client]") {
    LiveAggregator agg(kSuite);
    agg.start();
    sync::SyncClient client({agg.url(), agg.cert.publicKeyPin}, quickRetry());
    test::TestDevice device = enrolThrough(client, agg);
    auto visit = agg.visits(1, device);
    REQUIRE(std::holds_alternative<std::vector<sync::UploadOutcome>>(client.upload(visit, device.publicKey, device.sign())));

    std::vector<uint8_t> photo(5 * proto::kChunkBytes + 1234);
    randombytes_buf(photo.data(), photo.size());
    // A first attempt that was cut after two chunks went up.
    for (size_t i = 0; i < 2; ++i) {
        proto::ChunkUpload u{device.publicKey, agg::systemClock(), {}, {}};
        u.data.assign(photo.begin() + static_cast<ptrdiff_t>(i * proto::kChunkBytes),
                      photo.begin() + static_cast<ptrdiff_t>((i + 1) * proto::kChunkBytes));
        u.signature = device.sign()(proto::signingBytes(u));
        REQUIRE(test::rawPost(agg.url() + "/v1/chunks", u).status == 200);
    }
    REQUIRE(agg.logCount("POST /v1/chunks 200") == 2);

    auto ok = client.uploadAttachment(visit[0].recordId, "photo-1", "image/jpeg", photo, device.publicKey, device.sign());
    if (auto* e = std::get_if<sync::SyncError>(&ok)) FAIL(e->message);
    CHECK(agg.logCount("POST /v1/chunks 200") == 2 + 4);  // 6 chunks, 2 were there
    CHECK(agg.logCount("POST /v1/attachments 200") == 1);
    const std::string sender = agg.storage->findVisit(visit[0].recordId)->deviceId;
    auto rows = agg.storage->attachmentsOf(sender, visit[0].recordId);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].totalBytes == photo.size());
    CHECK(rows[0].chunkHashes.size() == 6);

    // An attachment for a visit never sent is refused with the aggregator's reason.
    auto refused = client.uploadAttachment("no-such-visit", "photo-2", "image/jpeg", photo, device.publicKey, device.sign());
    REQUIRE(std::holds_alternative<sync::SyncError>(refused));
    CHECK(std::get<sync::SyncError>(refused).kind == SyncErrorKind::Refused);
    CHECK(agg.storage->attachmentsOf(sender, "no-such-visit").empty());
}

TEST_CASE("SyncClient: cancel() from another thread ends the upload or the retry wait", "[sync][client]") {
    LiveAggregator agg(kSuite);
    agg.start();
    sync::SyncClient client({agg.url(), agg.cert.publicKeyPin}, quickRetry());
    test::TestDevice device = enrolThrough(client, agg);
    auto envelopes = agg.visits(60, device);

    std::promise<void> firstBatch;
    std::atomic<bool> signalled{false};
    client.setProgress([&](const sync::SyncProgress& p) {
        if (p.recordsDone >= 10 && !signalled.exchange(true)) {
            firstBatch.set_value();
            std::this_thread::sleep_for(std::chrono::milliseconds(100));  // lets cancel() land mid-upload
        }
    });
    std::vector<sync::UploadOutcome> done;
    auto pending = std::async(std::launch::async,
                              [&] { return client.upload(envelopes, device.publicKey, device.sign(), 10, &done); });
    REQUIRE(firstBatch.get_future().wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    client.cancel();
    auto result = pending.get();
    REQUIRE(std::holds_alternative<sync::SyncError>(result));
    CHECK(std::get<sync::SyncError>(result).kind == SyncErrorKind::Cancelled);
    CHECK(done.size() >= 10);
    CHECK(done.size() < 60);
    CHECK(agg.storage->countVisits() >= done.size());

    // Cancelling a long wait between retries returns at once.
    int port = agg.port();
    agg.stop();
    sync::RetryPolicy slow = quickRetry(5);
    slow.initialDelay = std::chrono::seconds(5);
    slow.maxDelay = std::chrono::seconds(5);
    sync::SyncClient waiting({"https://127.0.0.1:" + std::to_string(port), agg.cert.publicKeyPin}, slow);
    auto started = std::chrono::steady_clock::now();
    auto wait = std::async(std::launch::async, [&] { return waiting.fetchUpdates(0, device.publicKey, device.sign()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    waiting.cancel();
    auto cancelled = wait.get();
    REQUIRE(std::holds_alternative<sync::SyncError>(cancelled));
    CHECK(std::get<sync::SyncError>(cancelled).kind == SyncErrorKind::Cancelled);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
}

TEST_CASE("SyncClient: a rate-limited server is waited for as Retry-After says", "[sync][client]") {
    LiveAggregator agg(kSuite);
    agg::ServerOptions o = agg.options();
    o.ratePerSecond = 2;
    o.rateBurst = 1;
    agg.start(o);
    test::TestDevice device = agg.enrolledDevice();
    sync::RetryPolicy retry = quickRetry(6);
    retry.maxDelay = std::chrono::milliseconds(1500);
    sync::SyncClient client({agg.url(), agg.cert.publicKeyPin}, retry);
    auto result = client.upload(agg.visits(6, device), device.publicKey, device.sign(), 2);
    REQUIRE(std::holds_alternative<std::vector<sync::UploadOutcome>>(result));
    CHECK(std::get<std::vector<sync::UploadOutcome>>(result).size() == 6);
    CHECK(agg.logCount("429") >= 1);
    CHECK(agg.storage->countVisits() == 6);
}
