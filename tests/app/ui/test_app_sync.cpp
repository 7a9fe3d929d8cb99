// The field app's enrolment and sync, driven through AppModel and through the drawn screens,
// against a REAL aggregator in this process: IngestService over SQLite storage in a scratch
// folder, project keys, a self-signed certificate and the HTTPS Server on 127.0.0.1 (port
// picked by the system). The app side is the real encrypted store and a real SyncClient.
#include <chrono>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/crypto/envelope.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/server.h"
#include "sync/aggregator/tls_certificate.h"
#include "tests/support/in_process_aggregator.h"
#include "sync/protocol/messages.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;
namespace fs = std::filesystem;

namespace {

constexpr const char* kAdminPassphrase = InProcessAggregator::kAdminPassphrase;
constexpr const char* kCluster = InProcessAggregator::kCluster;

// The aggregator, set up in this process as init + serve would (tests/support).
struct Aggregator : InProcessAggregator {
    explicit Aggregator(const std::string& name) : InProcessAggregator(scratchDir("agg-" + name)) {}
};

FieldAppConfig syncConfig(const fs::path& dir, const FakeClock& clock) {
    FieldAppConfig config = makeConfig(dir, clock);
    config.syncRetry = quickRetry();
    return config;
}

nlohmann::json knitwear() {
    return nlohmann::json::parse(readText(fs::path(CK_TEST_DATA_DIR) / "answers" / "knitwear-complete.json"));
}

void enrolOk(AppModel& model, Aggregator& agg) {
    REQUIRE(model.enrol(agg.url, agg.cert.publicKeyPin, agg.code(), "Tablet 3 (Priya)"));
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.error().empty());
    REQUIRE(model.syncSettings());
}

std::string finishVisit(AppModel& model) {
    REQUIRE(model.startVisit(kFlagshipId));
    REQUIRE(model.applyAnswers(knitwear()).empty());
    std::string id = model.session()->recordId();
    REQUIRE(model.finalise());
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.error().empty());
    return id;
}

std::optional<OutboxEntry> outboxOf(AppModel& model, const std::string& id) {
    for (auto& e : model.outbox())
        if (e.recordId == id) return e;
    return std::nullopt;
}

std::string miniTemplate(const std::string& id) {
    return R"({"id": ")" + id + R"(", "version": "1", "languages": ["en"], "title": "Mini",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "unit_name", "type": "text", "label": "Unit name"}]}]})";
}

std::vector<uint8_t> readBytes(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("app sync: enrolment with a wrong key or an unknown code is refused and stores nothing", "[ui][sync]") {
    Aggregator agg("enrol");
    auto dir = scratchDir("sync-enrol");
    FakeClock clock;
    AppModel model(syncConfig(dir, clock));
    createStore(model);

    // Incomplete: refused at once, nothing posted.
    CHECK_FALSE(model.enrol(agg.url, agg.cert.publicKeyPin, "  ", "Tablet"));
    CHECK_THAT(model.error(), Catch::Contains("code"));
    CHECK_FALSE(model.busy());

    // The slip's key does not match the server: nothing is sent, nothing stored.
    std::string code = agg.code();
    std::string otherPin = "sha256//" + std::string(43, 'A') + "=";
    REQUIRE(model.enrol(agg.url, otherPin, code, "Tablet"));
    model.waitForTasks();
    CHECK_THAT(model.error(), Catch::Contains("key"));
    CHECK(model.notice().empty());
    CHECK_FALSE(model.syncSettings());
    CHECK_FALSE(model.aggregatorFingerprint());
    CHECK(model.settings().aggregatorAddress == agg.url);  // kept for the next attempt

    // The right key: enrolled; the officer hears who and both fingerprints.
    REQUIRE(model.enrol(agg.url, agg.cert.publicKeyPin, code, "Tablet 3 (Priya)"));
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.error().empty());
    CHECK_THAT(model.notice(), Catch::Contains("Priya") && Catch::Contains(kCluster));
    CHECK_THAT(model.notice(), Catch::Contains(keyFingerprint(agg.keys.ingestPublicKey)));
    CHECK_THAT(model.notice(), Catch::Contains(keyFingerprint(agg.keys.signingPublicKey)));
    auto settings = model.syncSettings();
    REQUIRE(settings);
    CHECK(settings->officer == "Priya");
    CHECK(settings->serverUrl == agg.url);
    CHECK(model.aggregatorFingerprint() == keyFingerprint(agg.keys.ingestPublicKey));

    // A code the aggregator never issued: refused, the enrolment in place is unchanged.
    std::string deviceId = settings->deviceId;
    REQUIRE(model.enrol(agg.url, agg.cert.publicKeyPin, "NOT-A-CODE-1234", "Tablet 3 (Priya)"));
    model.waitForTasks();
    CHECK_FALSE(model.error().empty());
    CHECK(model.syncSettings()->deviceId == deviceId);
}

TEST_CASE("app sync: a visit finalised before enrolment is sent and acknowledged, progress is counted", "[ui][sync]") {
    Aggregator agg("send");
    auto dir = scratchDir("sync-send");
    FakeClock clock;
    AppModel model(syncConfig(dir, clock));
    createStore(model);
    model.setToday(testToday());
    CHECK_FALSE(model.syncNow());  // not enrolled: told so, nothing tried
    CHECK_THAT(model.error(), Catch::Contains("not enrolled"));
    CHECK_FALSE(model.busy());

    std::string early = finishVisit(model);
    CHECK(outboxOf(model, early)->state == OutboxState::AwaitingKey);
    enrolOk(model, agg);
    CHECK_THAT(model.notice(), Catch::Contains("1 finished visit is now sealed"));
    std::string later = finishVisit(model);

    REQUIRE(model.syncNow());
    CHECK(model.syncing());
    model.waitForTasks();
    CHECK_FALSE(model.syncing());
    INFO(model.error());
    REQUIRE(model.error().empty());
    CHECK_THAT(model.notice(), Catch::Contains("2 visits stored"));
    CHECK(outboxOf(model, early)->state == OutboxState::Acknowledged);
    CHECK(outboxOf(model, later)->state == OutboxState::Acknowledged);
    CHECK(agg.storage->countVisits() == 2);
    auto progress = model.syncProgress();
    CHECK(progress.recordsTotal == 2);
    CHECK(progress.recordsDone == 2);
    CHECK(progress.bytesSent > 0);

    // Again: nothing to send, nothing stored twice.
    REQUIRE(model.syncNow());
    model.waitForTasks();
    CHECK(model.error().empty());
    CHECK_THAT(model.notice(), Catch::Contains("0 visits stored"));
    CHECK(agg.storage->countVisits() == 2);
}

TEST_CASE("app sync: a refused visit shows its reason and the reviewer's comment, on the screen too", "[ui][sync][view]") {
    Aggregator agg("refused");
    auto dir = scratchDir("sync-refused");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(syncConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    enrolOk(model, agg);
    // A template this device has but the aggregator never published.
    REQUIRE(model.store()->importTemplate(miniTemplate("unpublished"), "unpublished.json").ok());
    REQUIRE(model.startVisit("unpublished"));
    REQUIRE(model.answer("unit_name", Value::text("Kumar Dyeing")).ok());
    std::string id = model.session()->recordId();
    REQUIRE(model.finalise());
    model.waitForTasks();

    REQUIRE(model.syncNow());
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.error().empty());
    CHECK_THAT(model.notice(), Catch::Contains("1 refused") && Catch::Contains("Refused: ") && Catch::Contains(id));
    auto entry = outboxOf(model, id);
    REQUIRE(entry);
    CHECK(entry->state == OutboxState::Refused);
    CHECK_FALSE(entry->reason.empty());
    CHECK(agg.storage->countVisits() == 0);

    agg.storage->addComment(agg::ReviewCommentRow{id, "Use the published diagnostic, please", 1'800'000'000},
                            model.syncSettings()->deviceId,
                            agg::AuditEvent{1'800'000'000, "comment", "operator", id, ""});
    REQUIRE(model.syncNow());
    model.waitForTasks();
    CHECK_THAT(model.notice(), Catch::Contains("1 review comment"));
    auto comments = model.reviewComments(id);
    REQUIRE(comments.size() == 1);
    CHECK(comments[0].text == "Use the published diagnostic, please");

    model.show(Screen::Sync);
    gui.frames(app, 2);
    CHECK(app.itemRect("refused_" + id));
    CHECK(app.itemRect("comments_" + id));
    CHECK(app.itemRect("sync_now"));
}

TEST_CASE("app sync: with the aggregator down the officer reads why, and the outbox keeps the visit", "[ui][sync]") {
    Aggregator agg("down");
    auto dir = scratchDir("sync-down");
    FakeClock clock;
    AppModel model(syncConfig(dir, clock));
    createStore(model);
    model.setToday(testToday());
    enrolOk(model, agg);
    std::string id = finishVisit(model);
    agg.server->stop();

    REQUIRE(model.syncNow());
    model.waitForTasks();
    CHECK(model.notice().empty());
    CHECK_THAT(model.error(), Catch::StartsWith("Sync stopped: "));
    CHECK_THAT(model.error(), Catch::Contains("0 of 1 visits were answered"));
    auto entry = outboxOf(model, id);
    REQUIRE(entry);
    CHECK((entry->state == OutboxState::Sent || entry->state == OutboxState::Queued));
    CHECK(entry->acknowledgedAt == 0);
    CHECK(model.store()->envelope(id).ok());
    CHECK(agg.storage->countVisits() == 0);
}

TEST_CASE("app sync: a bundle file exported by the app is stored by the aggregator, its receipt acknowledges", "[ui][sync]") {
    Aggregator agg("bundle");
    auto dir = scratchDir("sync-bundle");
    FakeClock clock;
    AppModel model(syncConfig(dir, clock));
    createStore(model);
    model.setToday(testToday());
    enrolOk(model, agg);
    CHECK_THAT(model.defaultBundlePath(), Catch::Contains("clusterkit-bundle-") && Catch::EndsWith(".ckb"));

    fs::path usb = scratchDir("sync-bundle-usb");
    // Nothing waiting: nothing written, and the officer is told.
    REQUIRE(model.exportBundle((usb / "empty.ckb").string()));
    model.waitForTasks();
    CHECK_THAT(model.error(), Catch::StartsWith("No bundle written"));
    CHECK_FALSE(fs::exists(usb / "empty.ckb"));

    std::vector<std::string> ids{finishVisit(model), finishVisit(model)};
    REQUIRE(model.exportBundle((usb / "visits.ckb").string()));
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.error().empty());
    CHECK_THAT(model.notice(), Catch::Contains("2 visits written"));
    REQUIRE(fs::exists(usb / "visits.ckb"));
    for (const auto& id : ids) CHECK(outboxOf(model, id)->state == OutboxState::Sent);

    auto decoded = proto::decodeFrame(readBytes(usb / "visits.ckb"));
    REQUIRE(std::holds_alternative<proto::Message>(decoded));
    auto* bundle = std::get_if<proto::Bundle>(&std::get<proto::Message>(decoded));
    REQUIRE(bundle);
    auto receipt = agg.ingest->importBundle(*bundle);
    REQUIRE(std::holds_alternative<proto::Receipt>(receipt));
    CHECK(agg.storage->countVisits() == 2);

    // A damaged receipt is refused and changes nothing.
    auto receiptBytes = proto::encodeFrame(std::get<proto::Receipt>(receipt));
    {
        std::ofstream out(usb / "damaged.ckr", std::ios::binary);
        out.write(reinterpret_cast<const char*>(receiptBytes.data()), std::streamsize(receiptBytes.size() / 2));
    }
    REQUIRE(model.importReceipt((usb / "damaged.ckr").string()));
    model.waitForTasks();
    CHECK_THAT(model.error(), Catch::StartsWith("Receipt not applied"));
    for (const auto& id : ids) CHECK(outboxOf(model, id)->state == OutboxState::Sent);

    {
        std::ofstream out(usb / "receipt.ckr", std::ios::binary);
        out.write(reinterpret_cast<const char*>(receiptBytes.data()), std::streamsize(receiptBytes.size()));
    }
    REQUIRE(model.importReceipt((usb / "receipt.ckr").string()));
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.error().empty());
    CHECK_THAT(model.notice(), Catch::Contains("2 visits stored"));
    for (const auto& id : ids) CHECK(outboxOf(model, id)->state == OutboxState::Acknowledged);
}

TEST_CASE("app screens: enrol by typing the slip, Sync now, and Cancel a sync waiting on a dead link", "[ui][sync][view]") {
    Aggregator agg("screens");
    auto dir = scratchDir("sync-screens");
    FakeClock clock;
    FieldAppConfig config = syncConfig(dir, clock);
    // A long wait between attempts: the sync is still waiting when Cancel is pressed.
    config.syncRetry.maxAttempts = 5;
    config.syncRetry.initialDelay = std::chrono::milliseconds(20'000);
    config.syncRetry.maxDelay = std::chrono::milliseconds(20'000);
    HeadlessImGui gui;
    FieldApp app(config);
    AppModel& model = app.model();
    createStore(model);
    model.setToday(testToday());
    std::string id = finishVisit(model);

    model.show(Screen::Enrolment);
    gui.frames(app, 2);
    gui.clickItem(app, "enrol");  // disabled while the slip is not typed
    CHECK_FALSE(model.busy());
    gui.clickItem(app, "enrol_address");
    gui.type(app, agg.url);
    gui.clickItem(app, "enrol_pin");
    gui.type(app, agg.cert.publicKeyPin);
    gui.clickItem(app, "enrol_code");
    gui.type(app, agg.code());
    gui.clickItem(app, "enrol_label");
    gui.type(app, "Tablet 3");
    gui.clickItem(app, "enrol");
    model.waitForTasks();
    gui.frames(app, 2);
    INFO(model.error());
    REQUIRE(model.syncSettings());
    CHECK(app.itemRect("data_key_fingerprint"));
    CHECK(app.itemRect("template_key_fingerprint"));

    model.show(Screen::Sync);
    gui.frames(app, 2);
    gui.clickItem(app, "sync_now");
    model.waitForTasks();
    gui.frames(app, 2);
    INFO(model.error());
    CHECK(model.error().empty());
    CHECK(outboxOf(model, id)->state == OutboxState::Acknowledged);

    // The aggregator goes away; the next sync waits 20 s before retrying. Cancel ends it now.
    std::string second = finishVisit(model);
    agg.server->stop();
    model.show(Screen::Sync);
    gui.frames(app, 2);
    gui.clickItem(app, "sync_now");
    auto start = std::chrono::steady_clock::now();
    while (model.syncProgress().stage.rfind("waiting to retry", 0) != 0 &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(10)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(model.syncProgress().stage.rfind("waiting to retry", 0) == 0);
    gui.frame(app);
    CHECK(model.syncing());
    CHECK_THAT(model.syncStatus(), Catch::Contains("trying again"));
    REQUIRE(app.itemRect("sync_progress"));
    gui.clickItem(app, "cancel_sync");
    model.waitForTasks();
    gui.frames(app, 2);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
    CHECK_FALSE(model.syncing());
    CHECK_THAT(model.error(), Catch::Contains("cancel"));
    CHECK(outboxOf(model, second)->acknowledgedAt == 0);
    CHECK(model.store()->envelope(second).ok());
}

TEST_CASE("app sync: closing the app during a sync waiting on a dead link does not wait for it", "[ui][sync]") {
    Aggregator agg("close");
    auto dir = scratchDir("sync-close");
    FakeClock clock;
    FieldAppConfig config = syncConfig(dir, clock);
    config.syncRetry.maxAttempts = 5;
    config.syncRetry.initialDelay = std::chrono::milliseconds(20'000);
    config.syncRetry.maxDelay = std::chrono::milliseconds(20'000);
    std::string id;
    auto start = std::chrono::steady_clock::now();
    {
        AppModel model(config);
        createStore(model);
        model.setToday(testToday());
        enrolOk(model, agg);
        id = finishVisit(model);
        agg.server->stop();
        REQUIRE(model.syncNow());
        while (model.syncProgress().stage.rfind("waiting to retry", 0) != 0 &&
               std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        REQUIRE(model.syncProgress().stage.rfind("waiting to retry", 0) == 0);
    }  // the app closes here
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(12));
    AppModel again(config);
    unlockStore(again);
    auto entry = outboxOf(again, id);
    REQUIRE(entry);
    CHECK(entry->acknowledgedAt == 0);
    CHECK(again.store()->envelope(id).ok());
}
