// The field app's side of sync against a REAL aggregator in this process: IngestService over
// SQLite storage in a scratch folder, project keys, a self-signed certificate and the HTTPS
// Server on 127.0.0.1 (port picked by the system). The field side is a real encrypted store
// and a real SyncClient (libcurl, pinned key). Nothing is mocked.
#include <catch2/catch.hpp>

#include <sodium.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <optional>
#include <thread>

#include "app/sync/field_sync.h"
#include "core/template/template_media.h"
#include "core/xlsform/xlsform_import.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/server.h"
#include "sync/aggregator/tls_certificate.h"
#include "tests/support/in_process_aggregator.h"
#include "tests/app/store/store_test_support.h"
#include "tests/support/test_images.h"

using namespace ck;
using namespace ck::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kAdminPassphrase = InProcessAggregator::kAdminPassphrase;
constexpr const char* kCluster = InProcessAggregator::kCluster;

// A small template the aggregator has not published unless a test does so.
std::string miniTemplate(const std::string& id, const std::string& version) {
    return R"({"id": ")" + id + R"(", "version": ")" + version + R"(", "languages": ["en"], "title": "Mini",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "unit_name", "type": "text", "label": "Unit name"}]}]})";
}

// The aggregator, set up in this process as init + serve would (tests/support).
struct Aggregator : InProcessAggregator {
    explicit Aggregator(const std::string& name) : InProcessAggregator(scratchDir("agg-" + name)) {}
};

Store newFieldStore(const std::string& name) {
    fs::path dir = scratchDir("field-" + name);
    auto store = Store::create(dir / "officer.ckstore", kPassphrase, kPassphrase, kFastKdf);
    REQUIRE(store.ok());
    return std::move(store).value();
}

EnrolmentDone enrol(Store& store, Aggregator& agg) {
    auto r = enrolDevice(store, agg.address(), agg.code(), "Tab 3 (Priya)");
    if (auto* e = std::get_if<std::string>(&r)) FAIL("enrolment failed: " << *e);
    return std::get<EnrolmentDone>(r);
}

SyncSummary syncOk(Store& store, Aggregator& agg, const sync::ProgressFn& progress = {}) {
    sync::SyncClient client(agg.address(), quickRetry());
    auto r = syncNow(store, client, progress);
    if (auto* e = std::get_if<std::string>(&r)) FAIL("sync failed: " << *e);
    return std::get<SyncSummary>(r);
}

std::string finishKnitwear(Store& store) {
    FormSession session = startKnitwear(store);
    auto fin = store.finalise(session.recordId(), session);
    INFO(fin.message());
    REQUIRE(fin.ok());
    REQUIRE(fin.value().state == OutboxState::Queued);
    return session.recordId();
}

std::optional<OutboxEntry> outboxOf(Store& store, const std::string& id) {
    for (auto& e : store.listOutbox())
        if (e.recordId == id) return e;
    return std::nullopt;
}

std::vector<uint8_t> readBytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void writeBytes(const fs::path& file, const std::vector<uint8_t>& bytes) {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

}  // namespace

// --- the store's sync additions, on their own ---

TEST_CASE("store: sync settings are kept encrypted and survive a restart", "[sync][store]") {
    fs::path dir = scratchDir("sync-settings");
    SyncSettings s;
    s.serverUrl = "https://aggregator-secret-host.example:8443";
    s.publicKeyPin = "sha256//abc";
    s.deviceId = "dev-12345678";
    s.officer = "Priya";
    s.cluster = kCluster;
    s.aggregatorName = "TN baseline";
    s.templateSigningKey = std::vector<uint8_t>(32, 7);
    s.cursor = 42;
    {
        Store store = makeStore(dir);
        CHECK_FALSE(store.syncSettings().has_value());
        store.setSyncSettings(s);
        store.setSyncCursor(77);
    }
    std::string raw = readText(dir / "officer.ckstore") + (fs::exists(dir / "officer.ckstore-wal") ? readText(dir / "officer.ckstore-wal") : "");
    CHECK(raw.find("aggregator-secret-host") == std::string::npos);
    CHECK(raw.find("Priya") == std::string::npos);

    auto reopened = Store::open(dir / "officer.ckstore");
    REQUIRE(reopened.ok());
    Store& store = reopened.value();
    REQUIRE(store.unlock(kPassphrase).ok());
    auto back = store.syncSettings();
    REQUIRE(back);
    CHECK(back->serverUrl == s.serverUrl);
    CHECK(back->publicKeyPin == s.publicKeyPin);
    CHECK(back->deviceId == s.deviceId);
    CHECK(back->cluster == s.cluster);
    CHECK(back->templateSigningKey == s.templateSigningKey);
    CHECK(back->cursor == 77);
}

TEST_CASE("store: signAsDevice signs with the device key, comments are kept once and bound to their record", "[sync][store]") {
    fs::path dir = scratchDir("sign-comments");
    Store store = makeStore(dir);
    std::vector<uint8_t> bytes{1, 2, 3, 4};
    auto sig = store.signAsDevice(bytes);
    REQUIRE(sig.size() == crypto_sign_BYTES);
    CHECK(crypto_sign_verify_detached(sig.data(), bytes.data(), bytes.size(), store.devicePublicKey().data()) == 0);
    bytes[0] = 9;
    CHECK(crypto_sign_verify_detached(sig.data(), bytes.data(), bytes.size(), store.devicePublicKey().data()) != 0);

    CHECK(store.putReviewComment("rec-a", "turnover looks ten times too high", 100));
    CHECK_FALSE(store.putReviewComment("rec-a", "turnover looks ten times too high", 100));  // heard twice: kept once
    CHECK(store.putReviewComment("rec-a", "and the worker count", 200));
    CHECK(store.putReviewComment("rec-b", "please revisit", 150));
    auto a = store.reviewComments("rec-a");
    REQUIRE(a.size() == 2);
    CHECK(a[0].text == "turnover looks ten times too high");
    CHECK(a[1].text == "and the worker count");
    CHECK(store.reviewComments().size() == 3);
    CHECK(readText(dir / "officer.ckstore").find("please revisit") == std::string::npos);

    // A comment moved under another record (an attacker with the file) fails its check, alone.
    rawExec(dir / "officer.ckstore", "UPDATE review_comments SET record_id = 'rec-a' WHERE record_id = 'rec-b'");
    auto moved = store.reviewComments("rec-a");
    REQUIRE(moved.size() == 3);
    CHECK(std::count_if(moved.begin(), moved.end(), [](const auto& c) { return !c.error.empty(); }) == 1);
    CHECK(std::count_if(moved.begin(), moved.end(), [](const auto& c) { return c.text == "and the worker count"; }) == 1);
}

TEST_CASE("store: attachments are offered for upload only once their visit is acknowledged, and once", "[sync][store]") {
    fs::path dir = scratchDir("attachments");
    Store store = makeStore(dir);
    BoxKeyPair aggregator = newBoxKeyPair();
    REQUIRE(store.setAggregatorKey(aggregator.publicKey).ok());
    FormSession session = startKnitwear(store);
    auto photo = store.addAttachment(session.recordId(), "jpeg bytes", "image/jpeg");
    REQUIRE(photo.ok());
    CHECK(store.attachmentsToUpload().empty());  // a draft
    REQUIRE(store.finalise(session.recordId(), session).ok());
    CHECK(store.attachmentsToUpload().empty());  // not acknowledged yet
    REQUIRE(store.markSent(session.recordId()).ok());
    REQUIRE(store.markAcknowledged(session.recordId()).ok());
    auto pending = store.attachmentsToUpload();
    REQUIRE(pending.size() == 1);
    CHECK(pending[0].id == photo.value());
    CHECK(pending[0].visitId == session.recordId());
    REQUIRE(store.markAttachmentUploaded(photo.value()).ok());
    CHECK(store.attachmentsToUpload().empty());
    CHECK(store.markAttachmentUploaded("no-such-attachment").failure().error == StoreError::UnknownAttachment);

    // Purging an acknowledged visit takes its review comments along.
    CHECK(store.putReviewComment(session.recordId(), "fine", 1'800'000'000));
    CHECK(store.purge(unixNow() + 91 * 86400) == 1);
    CHECK(store.reviewComments(session.recordId()).empty());
}

// --- against a real aggregator ---

TEST_CASE("field sync: enrolment with a wrong pin or a wrong code is refused and nothing is stored", "[sync]") {
    Aggregator agg("wrong-pin");
    Store store = newFieldStore("wrong-pin");
    // Another aggregator's key: the slip does not match the server we reached.
    fs::path other = scratchDir("other-cert");
    agg::CertificateInfo otherCert = agg::createSelfSignedCertificate(other, {});
    auto r = enrolDevice(store, {agg.url, otherCert.publicKeyPin}, agg.code(), "Tab 3", quickRetry());
    REQUIRE(std::holds_alternative<std::string>(r));
    CHECK_THAT(std::get<std::string>(r), Catch::Contains("enrolment failed"));
    CHECK_FALSE(store.syncSettings().has_value());
    CHECK_FALSE(store.aggregatorKey().has_value());
    CHECK(agg.storage->listDevices().empty());

    auto wrongCode = enrolDevice(store, agg.address(), "AAAA-BBBB-CCCC", "Tab 3", quickRetry());
    REQUIRE(std::holds_alternative<std::string>(wrongCode));
    CHECK_FALSE(store.syncSettings().has_value());
    CHECK(agg.storage->listDevices().empty());

    auto noPin = enrolDevice(store, {agg.url, ""}, agg.code(), "Tab 3", quickRetry());
    REQUIRE(std::holds_alternative<std::string>(noPin));
    CHECK_THAT(std::get<std::string>(noPin), Catch::Contains("enrolment slip"));
}

TEST_CASE("field sync: enrol, templates arrive, finished visits are acknowledged, a resend is a duplicate", "[sync]") {
    Aggregator agg("happy");
    Store store = newFieldStore("happy");
    EnrolmentDone done = enrol(store, agg);
    CHECK(done.cluster == kCluster);
    CHECK(done.aggregatorName == "Tiruppur test aggregator");
    CHECK(done.ingestKeyFingerprint == keyFingerprint(agg.keys.ingestPublicKey));
    CHECK(done.templateKeyFingerprint == keyFingerprint(agg.keys.signingPublicKey));
    REQUIRE(store.syncSettings());
    CHECK(store.syncSettings()->deviceId == done.deviceId);
    CHECK(store.aggregatorKey() == agg.keys.ingestPublicKey);

    // First sync: nothing to send; the published template arrives, verified.
    std::vector<std::string> stages;
    SyncSummary first = syncOk(store, agg, [&](const sync::SyncProgress& p) { stages.push_back(p.stage); });
    CHECK(first.templatesAdded == 1);
    CHECK(first.templatesRejected == 0);
    CHECK(store.findTemplate(kFlagshipId).ok());
    CHECK(std::find(stages.begin(), stages.end(), "fetching updates") != stages.end());
    uint64_t cursor = store.syncSettings()->cursor;
    CHECK(cursor > 0);

    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(finishKnitwear(store));
    // A photo with the first visit: it goes up once the visit is acknowledged.
    {
        FormSession s = startKnitwear(store);
        REQUIRE(store.addAttachment(s.recordId(), std::string(150'000, 'p'), "image/jpeg").ok());
        REQUIRE(store.finalise(s.recordId(), s).ok());
        ids.push_back(s.recordId());
    }
    SyncSummary sent = syncOk(store, agg);
    INFO(Catch::Detail::stringify(sent.problems));
    CHECK(sent.stored == 4);
    CHECK(sent.refused == 0);
    CHECK(sent.attachmentsSent == 1);
    CHECK(sent.bytesSent > 0);
    CHECK(sent.problems.empty());
    for (const auto& id : ids) CHECK(outboxOf(store, id)->state == OutboxState::Acknowledged);
    CHECK(agg.storage->countVisits() == 4);
    CHECK(agg.storage->attachmentsOf(agg.storage->findVisit(ids.back())->deviceId, ids.back()).size() == 1);
    CHECK(store.attachmentsToUpload().empty());

    // The answer to the first visit was lost (the outbox says sent): it goes again and the
    // aggregator recognises it.
    rawExec(store.file(), "UPDATE outbox SET state = 'sent' WHERE record_id = '" + ids[0] + "'");
    SyncSummary again = syncOk(store, agg);
    CHECK(again.duplicates == 1);
    CHECK(again.stored == 0);
    CHECK(outboxOf(store, ids[0])->state == OutboxState::Duplicate);
    CHECK(agg.storage->countVisits() == 4);

    // A template published later arrives with the next sync; nothing older comes twice.
    REQUIRE(std::holds_alternative<agg::PublishedTemplate>(agg.ingest->publishTemplate(miniTemplate("mini", "1"), "mini.json")));
    SyncSummary later = syncOk(store, agg);
    CHECK(later.templatesAdded == 1);
    CHECK(store.findTemplate("mini", "1").ok());
    CHECK(store.syncSettings()->cursor > cursor);
    CHECK(syncOk(store, agg).templatesAdded == 0);
}

TEST_CASE("field sync: a refused visit shows its reason, and the reviewer's comment arrives", "[sync]") {
    Aggregator agg("refused");
    Store store = newFieldStore("refused");
    EnrolmentDone done = enrol(store, agg);
    // A template this device has but the aggregator never published.
    REQUIRE(store.importTemplate(miniTemplate("unpublished", "1"), "unpublished.json").ok());
    auto visit = store.startVisit("unpublished");
    REQUIRE(visit.ok());
    FormSession session = std::move(visit).value();
    REQUIRE(session.setAnswer("unit_name", Value::text("Kumar Dyeing")).ok());
    REQUIRE(store.saveDraft(session).ok());
    REQUIRE(store.finalise(session.recordId(), session).ok());

    SyncSummary s = syncOk(store, agg);
    CHECK(s.refused == 1);
    CHECK(s.stored == 0);
    REQUIRE(s.refusals.size() == 1);
    CHECK_THAT(s.refusals[0], Catch::Contains(session.recordId()));
    auto entry = outboxOf(store, session.recordId());
    REQUIRE(entry);
    CHECK(entry->state == OutboxState::Refused);
    CHECK_FALSE(entry->reason.empty());
    CHECK_THAT(entry->reason, Catch::Contains("template") || Catch::Contains("unpublished"));
    CHECK(agg.storage->countVisits() == 0);

    agg.storage->addComment(agg::ReviewCommentRow{session.recordId(), "Use the published diagnostic, please", 1'800'000'000},
                            done.deviceId, agg::AuditEvent{1'800'000'000, "comment", "operator", session.recordId(), ""});
    SyncSummary c = syncOk(store, agg);
    CHECK(c.comments == 1);
    auto comments = store.reviewComments(session.recordId());
    REQUIRE(comments.size() == 1);
    CHECK(comments[0].text == "Use the published diagnostic, please");
    CHECK(comments[0].at == 1'800'000'000);
    // A refused visit is not sent again.
    CHECK(syncOk(store, agg).refused == 0);
}

TEST_CASE("field sync: a template whose signature fails is rejected, not imported", "[sync]") {
    Aggregator agg("bad-template");
    Store store = newFieldStore("bad-template");
    enrol(store, agg);
    // The operator's database was tampered with: the signature no longer matches the text.
    agg::PublishedTemplate bad;
    bad.templateId = "mini";
    bad.version = "1";
    bad.jsonText = miniTemplate("mini", "1");
    bad.signature = std::vector<uint8_t>(64, 0x5a);
    bad.publishedAt = 1'800'000'000;
    REQUIRE(agg.storage->putTemplate(bad, agg::AuditEvent{1'800'000'000, "published", "operator", "mini@1", ""}));
    // And one signed by the right key over other text: also refused.
    agg::PublishedTemplate swapped;
    swapped.templateId = "mini2";
    swapped.version = "1";
    swapped.jsonText = miniTemplate("mini2", "1");
    auto good = proto::templateSigningBytes("mini2", "1", miniTemplate("mini2", "0"));
    swapped.signature.resize(crypto_sign_BYTES);
    crypto_sign_detached(swapped.signature.data(), nullptr, good.data(), good.size(), agg.keys.signingSecretKey.data());
    REQUIRE(agg.storage->putTemplate(swapped, agg::AuditEvent{1'800'000'000, "published", "operator", "mini2@1", ""}));

    SyncSummary s = syncOk(store, agg);
    CHECK(s.templatesAdded == 1);  // the flagship, properly signed
    CHECK(s.templatesRejected == 2);
    REQUIRE(s.templateProblems.size() == 2);
    CHECK_THAT(s.templateProblems[0], Catch::Contains("signature"));
    CHECK_FALSE(store.findTemplate("mini").ok());
    CHECK_FALSE(store.findTemplate("mini2").ok());
    CHECK(store.findTemplate(kFlagshipId).ok());
}

TEST_CASE("field sync: assignments from the cluster register arrive, another cluster's do not", "[sync]") {
    Aggregator agg("assign");
    Store store = newFieldStore("assign");
    enrol(store, agg);
    agg::RegisterUnit ours{"TPR-0001", "Sri Velavan Knit Fashions", kCluster, "Tiruppur", "Tamil Nadu", "small", "knitwear"};
    agg::RegisterUnit theirs{"MRB-0001", "Morbi Tiles", "morbi-ceramics", "Morbi", "Gujarat", "medium", "ceramics"};
    agg.storage->putRegister({ours, theirs}, agg::AuditEvent{1'800'000'000, "register", "operator", "register.csv", "2 units"});
    SyncSummary s = syncOk(store, agg);
    CHECK(s.assignments == 1);
    auto list = store.listAssignments();
    REQUIRE(list.size() == 1);
    CHECK(list[0].id == "TPR-0001");
    CHECK_THAT(list[0].json, Catch::Contains("Sri Velavan Knit Fashions"));
}

TEST_CASE("field sync: an unreachable aggregator gives a clear message and the visits stay to go", "[sync]") {
    Aggregator agg("unreachable");
    Store store = newFieldStore("unreachable");
    enrol(store, agg);
    syncOk(store, agg);  // the template
    std::string id = finishKnitwear(store);
    agg.server->stop();

    sync::SyncClient client(agg.address(), quickRetry());
    auto r = syncNow(store, client);
    REQUIRE(std::holds_alternative<std::string>(r));
    CHECK_THAT(std::get<std::string>(r), Catch::Contains("0 of 1 visits were answered"));
    auto entry = outboxOf(store, id);
    REQUIRE(entry);
    // Still waiting, and not called sent: the link never carried it.
    CHECK(entry->state == OutboxState::Queued);
    CHECK(entry->acknowledgedAt == 0);
    CHECK(store.envelope(id).ok());
    CHECK(agg.storage->countVisits() == 0);

    // Not enrolled at all: told so, nothing tried.
    Store fresh = newFieldStore("not-enrolled");
    auto notEnrolled = syncNow(fresh, client);
    REQUIRE(std::holds_alternative<std::string>(notEnrolled));
    CHECK_THAT(std::get<std::string>(notEnrolled), Catch::Contains("not enrolled"));
}

TEST_CASE("field sync: a bundle file is imported by the aggregator and its receipt acknowledges the outbox", "[sync]") {
    Aggregator agg("bundle");
    Store store = newFieldStore("bundle");
    enrol(store, agg);
    syncOk(store, agg);
    fs::path folder = scratchDir("bundle-files");
    CHECK(std::holds_alternative<std::string>(writeBundle(store, folder / "empty.ckbundle")));  // nothing waiting
    CHECK_FALSE(fs::exists(folder / "empty.ckbundle"));

    std::vector<std::string> ids{finishKnitwear(store), finishKnitwear(store)};
    auto written = writeBundle(store, folder / "visits.ckbundle");
    REQUIRE(std::holds_alternative<size_t>(written));
    CHECK(std::get<size_t>(written) == 2);
    for (const auto& id : ids) CHECK(outboxOf(store, id)->state == OutboxState::Sent);
    CHECK(std::distance(fs::directory_iterator(folder), fs::directory_iterator()) == 1);  // no temporary left

    auto decoded = proto::decodeFrame(readBytes(folder / "visits.ckbundle"));
    REQUIRE(std::holds_alternative<proto::Message>(decoded));
    auto* bundle = std::get_if<proto::Bundle>(&std::get<proto::Message>(decoded));
    REQUIRE(bundle);
    auto receipt = agg.ingest->importBundle(*bundle);
    REQUIRE(std::holds_alternative<proto::Receipt>(receipt));
    writeBytes(folder / "receipt.ckreceipt", proto::encodeFrame(std::get<proto::Receipt>(receipt)));
    CHECK(agg.storage->countVisits() == 2);

    auto applied = applyReceipt(store, folder / "receipt.ckreceipt");
    if (auto* e = std::get_if<std::string>(&applied)) FAIL(*e);
    CHECK(std::get<SyncSummary>(applied).stored == 2);
    CHECK(std::get<SyncSummary>(applied).problems.empty());
    for (const auto& id : ids) CHECK(outboxOf(store, id)->state == OutboxState::Acknowledged);

    // The same bundle imported twice stores nothing twice.
    auto twice = agg.ingest->importBundle(*bundle);
    REQUIRE(std::holds_alternative<proto::Receipt>(twice));
    for (const auto& e : std::get<proto::Receipt>(twice).entries) CHECK(e.ack.status == proto::AckStatus::Duplicate);
    CHECK(agg.storage->countVisits() == 2);
}

TEST_CASE("field sync: a receipt for another device, altered or damaged is refused and changes nothing", "[sync]") {
    Aggregator agg("receipts");
    Store store = newFieldStore("receipts");
    enrol(store, agg);
    syncOk(store, agg);
    std::string id = finishKnitwear(store);
    fs::path folder = scratchDir("receipt-files");
    REQUIRE(std::holds_alternative<size_t>(writeBundle(store, folder / "b.ckbundle")));
    auto before = outboxOf(store, id);

    auto tryReceipt = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
        writeBytes(folder / name, bytes);
        auto r = applyReceipt(store, folder / name);
        auto after = outboxOf(store, id);
        CHECK(after->state == before->state);
        return r;
    };
    auto signedByAggregator = [&](proto::Receipt r) {
        r.signature = proto::signerFor(agg.keys.signingSecretKey)(proto::signingBytes(r));
        return r;
    };
    // Signed by this aggregator, but for a record this device never sent.
    proto::Receipt other;
    other.aggregatorName = "Tiruppur test aggregator";
    other.entries.push_back({"5b0c4e0e-0000-4000-8000-000000000001", std::string(64, 'a'), {proto::AckStatus::Stored, {}, {}}});
    auto r1 = tryReceipt("other.ckreceipt", proto::encodeFrame(signedByAggregator(other)));
    REQUIRE(std::holds_alternative<std::string>(r1));
    CHECK_THAT(std::get<std::string>(r1), Catch::Contains("another device"));

    // Signed by this aggregator, naming this visit with other content.
    proto::Receipt altered;
    altered.entries.push_back({id, std::string(64, 'b'), {proto::AckStatus::Stored, {}, {}}});
    auto r2 = tryReceipt("altered.ckreceipt", proto::encodeFrame(signedByAggregator(altered)));
    CHECK(std::holds_alternative<std::string>(r2));

    // The right record and content, but not signed by the aggregator this device enrolled
    // with (anyone can write a receipt): refused before anything is marked.
    proto::Receipt forged;
    forged.entries.push_back({id, before->contentHash, {proto::AckStatus::Stored, {}, {}}});
    forged.signature = std::vector<uint8_t>(64, 3);
    auto r4 = tryReceipt("forged.ckreceipt", proto::encodeFrame(forged));
    REQUIRE(std::holds_alternative<std::string>(r4));
    CHECK_THAT(std::get<std::string>(r4), Catch::Contains("not signed by the aggregator"));
    agg::ProjectKeys strangerKeys;
    {
        auto made = agg::createProjectKeys(scratchDir("stranger-keys"), kAdminPassphrase, kAdminPassphrase, kFastKdf);
        REQUIRE(std::holds_alternative<agg::ProjectKeys>(made));
        strangerKeys = std::move(std::get<agg::ProjectKeys>(made));
    }
    forged.signature = proto::signerFor(strangerKeys.signingSecretKey)(proto::signingBytes(forged));
    auto r5 = tryReceipt("stranger.ckreceipt", proto::encodeFrame(forged));
    REQUIRE(std::holds_alternative<std::string>(r5));
    CHECK_THAT(std::get<std::string>(r5), Catch::Contains("not signed by the aggregator"));

    std::vector<uint8_t> bundleBytes = readBytes(folder / "b.ckbundle");
    auto r3 = tryReceipt("bundle-not-receipt.ckreceipt", bundleBytes);
    REQUIRE(std::holds_alternative<std::string>(r3));
    CHECK_THAT(std::get<std::string>(r3), Catch::Contains("not a receipt"));

    std::vector<uint8_t> truncated = proto::encodeFrame(altered);
    truncated.resize(truncated.size() / 2);
    CHECK(std::holds_alternative<std::string>(tryReceipt("truncated.ckreceipt", truncated)));
    CHECK(std::holds_alternative<std::string>(tryReceipt("garbage.ckreceipt", {'h', 'e', 'l', 'l', 'o'})));
    CHECK(std::holds_alternative<std::string>(applyReceipt(store, folder / "missing.ckreceipt")));
}

namespace {

// An HTTP server that takes each request whole and then hangs up without a word: the answer
// lost on the way back. Serves on 127.0.0.1 (a port the system picks) until destroyed.
struct SilentServer {
    int listener = -1;
    int port = 0;
    std::atomic<bool> stopping{false};
    std::atomic<int> requestsRead{0};
    std::thread thread;

    SilentServer() {
        listener = socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(listener >= 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(listen(listener, 8) == 0);
        socklen_t len = sizeof addr;
        getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
        port = ntohs(addr.sin_port);
        thread = std::thread([this] { serve(); });
    }
    ~SilentServer() {
        stopping = true;
        thread.join();
        close(listener);
    }
    void serve() {
        while (!stopping) {
            pollfd p{listener, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            int c = accept(listener, nullptr, nullptr);
            if (c < 0) continue;
            std::string got;
            size_t need = std::string::npos;
            auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
            while (std::chrono::steady_clock::now() < until && got.size() < need) {
                pollfd q{c, POLLIN, 0};
                if (poll(&q, 1, 50) <= 0) continue;
                char buf[65536];
                ssize_t n = read(c, buf, sizeof buf);
                if (n <= 0) break;
                got.append(buf, size_t(n));
                size_t head = got.find("\r\n\r\n");
                if (need == std::string::npos && head != std::string::npos) {
                    size_t at = got.find("Content-Length: ");
                    size_t body = at == std::string::npos ? 0 : std::stoul(got.substr(at + 16));
                    need = head + 4 + body;
                }
            }
            if (got.size() >= need) ++requestsRead;
            close(c);  // no answer
        }
    }
};

}  // namespace

TEST_CASE("field sync: a visit is called sent only when its batch went out whole", "[sync]") {
    Aggregator agg("sent-only");
    Store store = newFieldStore("sent-only");
    enrol(store, agg);
    syncOk(store, agg);
    std::string id = finishKnitwear(store);

    // The request goes out whole, the answer never comes: sent, no answer yet.
    SilentServer silent;
    sync::RetryPolicy once = quickRetry();
    once.maxAttempts = 1;
    sync::SyncClient client({"http://127.0.0.1:" + std::to_string(silent.port), ""}, once);
    SyncStop stop;
    SyncRun run;
    run.stop = &stop;
    auto r = syncNow(store, client, run);
    REQUIRE(std::holds_alternative<std::string>(r));
    CHECK(silent.requestsRead == 1);
    CHECK(stop.why == SyncStop::Why::Unreachable);
    CHECK(stop.answered == 0);
    CHECK(stop.waiting == 1);
    CHECK(outboxOf(store, id)->state == OutboxState::Sent);

    // A second visit, and a port where nothing listens: the first stays Sent, the new one
    // stays Queued (nothing left the device), and both go with the next sync.
    std::string second = finishKnitwear(store);
    sync::SyncClient nowhere({"http://127.0.0.1:1", ""}, once);
    auto cut = syncNow(store, nowhere, run);
    REQUIRE(std::holds_alternative<std::string>(cut));
    CHECK(outboxOf(store, id)->state == OutboxState::Sent);
    CHECK(outboxOf(store, second)->state == OutboxState::Queued);
    SyncSummary s = syncOk(store, agg);
    CHECK(s.stored + s.duplicates == 2);
    CHECK(outboxOf(store, id)->state == OutboxState::Acknowledged);
    CHECK(outboxOf(store, second)->state == OutboxState::Acknowledged);
}

namespace {

std::string blake2b(std::string_view bytes) {
    unsigned char h[32];
    crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), nullptr, 0);
    return std::string(reinterpret_cast<const char*>(h), sizeof h);
}

// A template naming images, written beside its `NAME-media/` folder; packed as `templates
// publish` packs it (packTemplateFile), then published.
std::string publishWithImages(Aggregator& agg, const fs::path& dir, const std::string& id,
                              const std::vector<std::pair<std::string, std::string>>& images) {
    nlohmann::json doc = nlohmann::json::parse(miniTemplate(id, "1"));
    nlohmann::json& questions = doc["sections"][0]["questions"];
    for (size_t i = 0; i < images.size(); ++i)
        questions.push_back({{"id", "look_" + std::to_string(i)}, {"type", "note"}, {"label", "Look"}, {"image", images[i].first}});
    fs::path file = dir / (id + ".json");
    std::ofstream(file) << doc.dump(1);
    for (const auto& [name, bytes] : images) writeFileIn(dir / (id + "-media") / name, bytes);
    TemplatePackage package = packTemplateFile(file);
    std::string problems;
    for (const auto& e : package.loaded.errors) problems += e.toString() + "\n";
    for (const auto& e : package.loaded.warnings) problems += e.toString() + "\n";
    INFO(problems);
    REQUIRE(package.ok());
    REQUIRE(package.loaded.warnings.empty());
    REQUIRE(package.mediaFiles == images.size());
    auto published = agg.ingest->publishTemplate(package.jsonText, id + ".json");
    if (auto* e = std::get_if<std::string>(&published)) FAIL(*e);
    return package.jsonText;
}

}  // namespace

TEST_CASE("field sync: a template's images travel signed with it and reach the device's store intact", "[sync][media]") {
    Aggregator agg("images");
    fs::path dir = scratchDir("images-authoring");
    const std::string sign = solidPng(300, 120, 0xff00ff), loom = solidJpeg(64, 64, 0x10c010);
    publishWithImages(agg, dir, "pics", {{"sign.png", sign}, {"loom.jpg", loom}});

    Store store = newFieldStore("images");
    enrol(store, agg);
    SyncSummary s = syncOk(store, agg);
    INFO(Catch::Detail::stringify(s.templateProblems));
    CHECK(s.templatesAdded == 2);  // the flagship and this one
    CHECK(s.templatesRejected == 0);

    // Write, restart, read back: the images come out of the encrypted store byte for byte.
    fs::path file = store.file();
    store.lock();
    auto reopened = Store::open(file);
    REQUIRE(reopened.ok());
    Store again = std::move(reopened).value();
    REQUIRE(again.unlock(kPassphrase).ok());
    auto t = again.findTemplate("pics");
    REQUIRE(t.ok());
    const Template& survey = *t.value();
    REQUIRE(survey.media.size() == 2);
    CHECK(blake2b(survey.media.at("sign.png")) == blake2b(sign));
    CHECK(blake2b(survey.media.at("loom.jpg")) == blake2b(loom));
    CHECK(survey.find("look_0")->image.in(0) == "sign.png");
    // And they decode on the device as they did on the author's machine.
    auto decoded = decodeImage(survey.media.at("sign.png"));
    REQUIRE(std::holds_alternative<DecodedImage>(decoded));
    CHECK(std::get<DecodedImage>(decoded).width == 300);
    // Nothing of them is readable in the officer's file.
    std::ifstream raw(file, std::ios::binary);
    std::string disk((std::istreambuf_iterator<char>(raw)), {});
    CHECK(disk.find(base64Encode(sign).substr(40, 60)) == std::string::npos);
}

TEST_CASE("field sync: templates carrying 8 MiB of images each arrive over several pages", "[sync][media]") {
    Aggregator agg("images-pages");
    fs::path dir = scratchDir("images-pages-authoring");
    // Noise compresses badly: four images of about 1.9 MiB, just under each limit.
    std::vector<std::pair<std::string, std::string>> heavy;
    for (uint32_t i = 0; i < 4; ++i) heavy.push_back({"noise" + std::to_string(i) + ".png", noisePng(790, 790, 17 + i)});
    size_t total = 0;
    for (const auto& [n, b] : heavy) {
        REQUIRE(b.size() <= kMaxMediaFileBytes);
        total += b.size();
    }
    REQUIRE(total <= kMaxMediaTotalBytes);
    REQUIRE(total > 7u * 1024 * 1024);
    std::string textA = publishWithImages(agg, dir, "heavy_a", heavy);
    std::string textB = publishWithImages(agg, dir, "heavy_b", heavy);
    REQUIRE(textA.size() > 9u * 1024 * 1024);  // base64: two of them exceed one reply's share

    Store store = newFieldStore("images-pages");
    enrol(store, agg);
    SyncSummary s = syncOk(store, agg);
    INFO(Catch::Detail::stringify(s.templateProblems));
    CHECK(s.templatesAdded == 3);
    for (const char* id : {"heavy_a", "heavy_b"}) {
        auto t = store.findTemplate(id);
        REQUIRE(t.ok());
        REQUIRE(t.value()->media.size() == 4);
        for (const auto& [name, bytes] : heavy) CHECK(blake2b(t.value()->media.at(name)) == blake2b(bytes));
    }
}
