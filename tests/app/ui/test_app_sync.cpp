// The field app's enrolment and sync, driven through AppModel and through the drawn screens,
// against a REAL aggregator in this process: IngestService over SQLite storage in a scratch
// folder, project keys, a self-signed certificate and the HTTPS Server on 127.0.0.1 (port
// picked by the system). The app side is the real encrypted store and a real SyncClient.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/crypto/envelope.h"
#include "core/messages/engine_messages.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/server.h"
#include "sync/aggregator/tls_certificate.h"
#include "tests/support/in_process_aggregator.h"
#include "tests/support/link_proxy.h"
#include "sync/protocol/enrolment_string.h"
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

// A visit of a template this device has but the aggregator never published, finalised and
// synced (the aggregator refuses it); its record id.
std::string syncUnpublishedVisit(AppModel& model, const std::string& unitName) {
    REQUIRE(model.store()->importTemplate(miniTemplate("unpublished"), "unpublished.json").ok());
    REQUIRE(model.startVisit("unpublished"));
    REQUIRE(model.answer("unit_name", Value::text(unitName)).ok());
    std::string id = model.session()->recordId();
    REQUIRE(model.finalise());
    model.waitForTasks();

    REQUIRE(model.syncNow());
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.error().empty());
    return id;
}

// A reviewer's comment on the device's visit `id`, then a sync that brings it.
void syncReviewComment(AppModel& model, Aggregator& agg, const std::string& id) {
    agg.storage->addComment(agg::ReviewCommentRow{id, "Use the published diagnostic, please", 1'800'000'000},
                            model.syncSettings()->deviceId,
                            agg::AuditEvent{1'800'000'000, "comment", "operator", id, ""});
    REQUIRE(model.syncNow());
    model.waitForTasks();
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
    std::string id = syncUnpublishedVisit(model, "Kumar Dyeing");
    CHECK_THAT(model.notice(), Catch::Contains("1 refused") && Catch::Contains("Refused: “Kumar Dyeing”: "));
    auto entry = outboxOf(model, id);
    REQUIRE(entry);
    CHECK(entry->state == OutboxState::Refused);
    CHECK_FALSE(entry->reason.empty());
    CHECK(agg.storage->countVisits() == 0);

    syncReviewComment(model, agg, id);
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

TEST_CASE("app sync in Hindi: a refused visit's reason is a Hindi sentence, the aggregator's and reviewer's words quoted apart",
          "[ui][sync][view][language]") {
    Aggregator agg("refused-hi");
    auto dir = scratchDir("sync-refused-hi");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(syncConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    enrolOk(model, agg);
    gui.frames(app, 2);
    gui.chooseLanguage(app, "hi");
    REQUIRE(model.languageCode() == "hi");
    std::string id = syncUnpublishedVisit(model, "कुमार डाइंग");
    // The outbox keeps the aggregator's code beside its words.
    auto entry = outboxOf(model, id);
    REQUIRE(entry);
    CHECK(entry->state == OutboxState::Refused);
    CHECK(entry->refusalCode == "unknown_template");
    CHECK_FALSE(entry->reason.empty());
    // The summary: the Hindi sentence for the code, then the aggregator's words quoted.
    const std::string sentence = uiText(Text::VisitRefusedUnknownTemplate, "hi");
    CHECK_THAT(model.notice(), Catch::Contains(sentence) &&
                                   Catch::Contains(fillPlaceholders(uiText(Text::AggregatorWrote, "hi"), {entry->reason})));
    // The refusal's line names the unit, not the record id, and holds no English.
    const std::string line = std::string(uiText(Text::SummaryRefusedLine, "hi")) + "“कुमार डाइंग”: " + sentence;
    CHECK_THAT(model.notice(), Catch::Contains(line));
    CHECK(latinWordsNotAllowed(line).empty());

    syncReviewComment(model, agg, id);

    model.show(Screen::Sync);
    gui.frames(app, 2);
    // The reason on the screen: Hindi words only.
    auto reason = app.itemRect("outbox_reason_" + id);
    REQUIRE(reason);
    CHECK(reason->label == std::string(uiText(Text::ReasonPrefix, "hi")) + sentence);
    INFO(reason->label);
    CHECK(latinWordsNotAllowed(reason->label).empty());
    // The aggregator's own (English) words: apart, quoted, and said to be its.
    auto wrote = app.itemRect("outbox_aggregator_wrote_" + id);
    REQUIRE(wrote);
    CHECK(wrote->label == "एग्रीगेटर ने लिखा: “" + entry->reason + "”");
    // The reviewer's comment: their text as they wrote it, quoted and attributed to them.
    auto comment = app.itemRect("comment_" + id + "_0");
    REQUIRE(comment);
    CHECK_THAT(comment->label, Catch::StartsWith("समीक्षक ने लिखा (") && Catch::EndsWith("“Use the published diagnostic, please”"));
    // The visits list says why too, in Hindi, without the aggregator's English.
    model.show(Screen::Visits);
    gui.frames(app, 2);
    CHECK(latinWordsNotAllowed(visitRefusalWords(entry->refusalCode, "hi")).empty());
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

// --- one-step enrolment and background sync ---

namespace {

void pressBackspace(FieldApp& app, HeadlessImGui& gui) {
    ImGuiIO& io = ImGui::GetIO();
    io.KeysDown[8] = true;
    gui.frame(app);
    io.KeysDown[8] = false;
    gui.frame(app);
}

// A TCP port on 127.0.0.1 where nothing listens (bound, then closed).
int deadPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("app screens: enrol with the slip's enrolment string, a typo names its group and keeps the text", "[ui][sync][view][enrolment]") {
    Aggregator agg("enrol-string");
    auto dir = scratchDir("sync-enrol-string");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(syncConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    const std::string string = proto::encodeEnrolmentString({agg.url, agg.cert.publicKeyPin, agg.code()});
    const size_t groups = (string.size() - 4 + 1) / 6;
    // The officer mistypes the third character of the last group.
    std::string typo = string;
    const size_t at = string.size() - 3;
    typo[at] = typo[at] == 'Z' ? 'Y' : 'Z';

    model.show(Screen::Enrolment);
    gui.frames(app, 2);
    gui.clickItem(app, "enrol_string");
    gui.type(app, typo);
    gui.clickItem(app, "enrol_label");
    gui.type(app, "Tablet 3");
    gui.clickItem(app, "enrol");
    CHECK_FALSE(model.busy());  // refused at once: nothing was sent
    CHECK_THAT(model.error(), Catch::Contains("Group " + std::to_string(groups)) && Catch::Contains("typing mistake"));
    CHECK_FALSE(model.syncSettings());
    CHECK_FALSE(app.itemRect("enrol_string_target"));  // no address is offered from a wrong string

    // In Hindi the same refusal, in Hindi, and the text is still there to press Enrol again.
    gui.chooseLanguage(app, "hi");
    gui.clickItem(app, "enrol");
    CHECK_THAT(model.error(), Catch::Contains("समूह " + std::to_string(groups)));
    gui.chooseLanguage(app, "en");

    // Fixed in place: the caret to the end of the field, three characters back, the right three.
    auto field = app.itemRect("enrol_string");
    REQUIRE(field);
    gui.click(app, field->x1 - 4, field->centerY());
    for (int i = 0; i < 3; ++i) pressBackspace(app, gui);
    gui.type(app, string.substr(string.size() - 3));
    gui.frames(app, 2);
    CHECK(app.itemRect("enrol_string_target"));  // it decodes: the screen says where it enrols
    gui.clickItem(app, "enrol");
    model.waitForTasks();
    gui.frames(app, 2);
    INFO(model.error());
    REQUIRE(model.syncSettings());
    CHECK(model.syncSettings()->serverUrl == agg.url);
    CHECK(model.enrolments() == 1);
    CHECK(app.itemRect("data_key_fingerprint"));
}

TEST_CASE("app: the enrolment string read from the slip file on a stick, a file without one is said so", "[ui][sync][enrolment]") {
    Aggregator agg("enrol-file");
    auto dir = scratchDir("sync-enrol-file");
    FakeClock clock;
    AppModel model(syncConfig(dir, clock));
    createStore(model);
    const std::string string = proto::encodeEnrolmentString({agg.url, agg.cert.publicKeyPin, agg.code()});
    fs::path stick = scratchDir("sync-enrol-stick");
    std::ofstream(stick / "slip.html") << "<html><body><p>Enrolment slip</p><code>" << string << "</code></body></html>\n";
    std::ofstream(stick / "notes.txt") << "Priya: Tiruppur, week 2\n";

    CHECK_FALSE(model.readEnrolmentFile((stick / "missing.html").string()));
    CHECK_THAT(model.error(), Catch::StartsWith("Cannot read the file"));
    CHECK_FALSE(model.readEnrolmentFile((stick / "notes.txt").string()));
    CHECK_THAT(model.error(), Catch::Contains("not an enrolment string"));
    auto read = model.readEnrolmentFile((stick / "slip.html").string());
    REQUIRE(read);
    CHECK(*read == string);
    REQUIRE(model.enrolWithString(*read, "Tablet 4"));
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.syncSettings());
}

TEST_CASE("app: a sync retrying over a cut link runs in the background while the officer works and frames keep coming", "[ui][sync][view]") {
    Aggregator agg("background");
    LinkOptions link;
    link.targetPort = agg.server->port();
    link.bytesPerSecond = 200'000;  // a slow mobile link
    link.oneWayDelay = std::chrono::milliseconds(30);
    LinkProxy proxy(link);
    auto dir = scratchDir("sync-background");
    FakeClock clock;
    FieldAppConfig config = syncConfig(dir, clock);
    config.syncRetry.maxAttempts = 8;
    config.syncRetry.initialDelay = std::chrono::milliseconds(400);
    config.syncRetry.maxDelay = std::chrono::milliseconds(800);
    HeadlessImGui gui;
    FieldApp app(config);
    AppModel& model = app.model();
    createStore(model);
    model.setToday(testToday());
    const std::string viaLink = "https://127.0.0.1:" + std::to_string(proxy.port());
    REQUIRE(model.enrol(viaLink, agg.cert.publicKeyPin, agg.code(), "Tablet 5"));
    model.waitForTasks();
    INFO(model.error());
    REQUIRE(model.syncSettings());
    std::vector<std::string> ids{finishVisit(model), finishVisit(model)};

    // The link goes dead: every attempt fails and the sync waits to retry.
    proxy.setTargetPort(deadPort());
    model.show(Screen::Sync);
    gui.frames(app, 2);
    gui.clickItem(app, "sync_now");
    REQUIRE(model.syncing());
    CHECK_FALSE(model.busy());

    size_t frames = 0, framesWhileWaiting = 0;
    double slowestFrame = 0;
    bool sawRetry = false, worked = false, linkBack = false;
    std::string draft;
    auto start = std::chrono::steady_clock::now();
    while (model.syncing() && std::chrono::steady_clock::now() - start < std::chrono::seconds(40)) {
        auto t0 = std::chrono::steady_clock::now();
        gui.frame(app);
        slowestFrame = std::max(slowestFrame, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        ++frames;
        const std::string stage = model.syncProgress().stage;
        if (stage.rfind("waiting to retry", 0) == 0) {
            sawRetry = true;
            ++framesWhileWaiting;
        }
        // Meanwhile the officer starts the next visit and answers it: accepted, saved.
        if (frames == 10) {
            model.show(Screen::Visits);
            REQUIRE(model.startVisit(kFlagshipId));
            CHECK(model.applyAnswers(knitwear()).empty());
            draft = model.session()->recordId();
            gui.frames(app, 2);
            CHECK(app.itemRect("sync_status"));  // the form screen says the sync goes on
            model.closeVisit();
            worked = true;
        }
        // After the officer has seen a few retries the link comes back; a later attempt goes through.
        if (!linkBack && model.syncProgress().attempt >= 3) {
            proxy.setTargetPort(agg.server->port());
            linkBack = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    model.waitForTasks();
    gui.frames(app, 2);
    INFO("frames " << frames << ", while waiting to retry " << framesWhileWaiting << ", slowest " << slowestFrame << " s");
    std::printf("background sync: %zu frames during the sync, %zu while it waited to retry, slowest frame %.1f ms\n",
                frames, framesWhileWaiting, slowestFrame * 1000);
    INFO(model.error());
    CHECK(sawRetry);
    CHECK(worked);
    CHECK(linkBack);
    CHECK(framesWhileWaiting >= 10);  // the screen kept drawing while the sync waited
    CHECK(slowestFrame < 0.5);        // and no frame waited for the network
    CHECK_FALSE(model.syncing());
    CHECK(model.error().empty());
    CHECK_THAT(model.notice(), Catch::Contains("2 visits stored"));
    for (const auto& id : ids) CHECK(outboxOf(model, id)->state == OutboxState::Acknowledged);
    CHECK(agg.storage->countVisits() == 2);
    // The draft made during the sync is there, whole.
    REQUIRE(model.resumeVisit(draft));
    CHECK(model.session()->answer(model.session()->survey().find("unit_name")->index, 0).asText() ==
          "Sri Velavan Knit Fashions");
}

TEST_CASE("app screens: the outbox lists visits by unit name, 'sent' only for what went out, errors in the officer's words", "[ui][sync][view]") {
    Aggregator agg("outbox-names");
    auto dir = scratchDir("sync-outbox-names");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(syncConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    model.setToday(testToday());
    enrolOk(model, agg);
    std::string id = finishVisit(model);

    model.show(Screen::Sync);
    gui.frames(app, 2);
    auto unit = app.itemRect("outbox_unit_" + id);
    REQUIRE(unit);
    CHECK(unit->label == "Sri Velavan Knit Fashions");
    CHECK(app.itemRect("outbox_state_" + id)->label == "waiting to go");

    // The aggregator is down, and the officer reads Hindi: a sentence in Hindi, no network
    // library words, and the visit is still waiting, not "sent".
    agg.server->stop();
    gui.chooseLanguage(app, "hi");
    REQUIRE(model.syncNow());
    model.waitForTasks();
    gui.frames(app, 2);
    const std::string error = model.error();
    INFO(error);
    CHECK_THAT(error, Catch::StartsWith(uiText(Text::SyncStopped, "hi")));
    CHECK_THAT(error, Catch::Contains(uiText(Text::SyncWhyUnreachable, "hi")));
    CHECK_THAT(error, Catch::Contains("1 में से 0 भेंट का उत्तर मिला"));
    for (const char* raw : {"Failed", "onnect", "curl", "127.0.0.1", "errno", "Couldn't"})
        CHECK(error.find(raw) == std::string::npos);
    CHECK(app.itemRect("outbox_state_" + id)->label == uiText(Text::OutboxWaiting, "hi"));
    CHECK(outboxOf(model, id)->state == OutboxState::Queued);
    CHECK(app.itemRect("outbox_unit_" + id)->label == "Sri Velavan Knit Fashions");
}

TEST_CASE("app: the idle lock waits for a running sync, Lock cancels it first and loses nothing", "[ui][sync]") {
    Aggregator agg("lock-during-sync");
    auto dir = scratchDir("sync-lock");
    FakeClock clock;
    FieldAppConfig config = syncConfig(dir, clock);
    config.syncRetry.maxAttempts = 5;
    config.syncRetry.initialDelay = std::chrono::milliseconds(20'000);
    config.syncRetry.maxDelay = std::chrono::milliseconds(20'000);
    AppModel model(config);
    createStore(model);
    model.setToday(testToday());
    enrolOk(model, agg);
    std::string id = finishVisit(model);
    model.setIdleLockMinutes(2);
    agg.server->stop();

    REQUIRE(model.syncNow());
    auto start = std::chrono::steady_clock::now();
    while (model.syncProgress().stage.rfind("waiting to retry", 0) != 0 &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(model.syncProgress().stage.rfind("waiting to retry", 0) == 0);

    // Idle past the limit while the sync waits: the lock waits for the sync.
    clock.advance(3 * 60);
    model.beginFrame();
    CHECK(model.isUnlocked());
    CHECK(model.syncing());

    // The officer presses Lock: the sync is cancelled at once, then the store locks.
    auto pressed = std::chrono::steady_clock::now();
    model.lock();
    CHECK(std::chrono::steady_clock::now() - pressed < std::chrono::seconds(5));
    CHECK_FALSE(model.syncing());
    CHECK_FALSE(model.isUnlocked());
    CHECK(model.screen() == Screen::Unlock);
    CHECK_THAT(model.error(), Catch::StartsWith("Sync cancelled"));

    unlockStore(model);
    auto entry = outboxOf(model, id);
    REQUIRE(entry);
    CHECK(entry->state == OutboxState::Queued);
    CHECK(model.store()->envelope(id).ok());
}
