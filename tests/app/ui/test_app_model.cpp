// The field app's state and commands (app_model.h), driven as the screens drive them.
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/crypto/envelope.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

namespace {

std::string questionAt(const AppModel& model) {
    REQUIRE(model.session());
    REQUIRE(model.position().valid());
    return model.session()->survey().questions[size_t(model.position().question)].id;
}

void goToQuestion(AppModel& model, const std::string& id, int instance = 0) {
    Position p = model.session()->find(id, instance);
    REQUIRE(p.valid());
    model.goTo(p);
}

nlohmann::json knitwear() {
    return nlohmann::json::parse(readText(std::filesystem::path(CK_TEST_DATA_DIR) / "answers" / "knitwear-complete.json"));
}

}  // namespace

TEST_CASE("first run refuses a weak passphrase with its reason, then creates the store", "[ui][model]") {
    auto dir = scratchDir("first-run");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    CHECK(model.screen() == Screen::FirstRun);
    CHECK_FALSE(model.storeExists());

    auto reason = model.passphraseProblem("abc");
    REQUIRE(reason);
    CHECK_FALSE(model.createVault("abc", "abc"));
    CHECK(model.error() == *reason);
    CHECK_FALSE(model.busy());
    CHECK(model.screen() == Screen::FirstRun);

    CHECK_FALSE(model.createVault(kPassphrase, "tiruppur-knits-2025"));
    CHECK_FALSE(model.error().empty());
    CHECK_FALSE(model.storeExists());

    REQUIRE(model.createVault(kPassphrase, kPassphrase));
    model.waitForTasks();
    CHECK(model.error().empty());
    CHECK(model.isUnlocked());
    CHECK(model.screen() == Screen::Visits);
    CHECK(model.storeExists());
    // Every template of the folder the app ships with (survey-templates/), the flagship among them.
    auto templates = model.templates();
    size_t shipped = 0;
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(CK_SOURCE_DIR) / "survey-templates"))
        shipped += e.path().extension() == ".json";
    CHECK(templates.size() == shipped);
    bool flagship = false;
    for (const auto& t : templates) flagship |= t.id == kFlagshipId;
    CHECK(flagship);
}

TEST_CASE("unlock: a wrong passphrase is refused, the right one opens the store", "[ui][model]") {
    auto dir = scratchDir("unlock");
    FakeClock clock;
    { AppModel first(makeConfig(dir, clock)); createStore(first); }

    AppModel model(makeConfig(dir, clock));
    CHECK(model.screen() == Screen::Unlock);
    CHECK_FALSE(model.isUnlocked());
    REQUIRE(model.unlock("not-the-passphrase-at-all"));
    model.waitForTasks();
    CHECK_FALSE(model.isUnlocked());
    CHECK(model.screen() == Screen::Unlock);
    CHECK_THAT(model.error(), Catch::Contains("passphrase", Catch::CaseSensitive::No));

    unlockStore(model);
    CHECK(model.isUnlocked());
    CHECK(model.error().empty());
    CHECK(model.screen() == Screen::Visits);
}

TEST_CASE("answers survive a language switch - labels follow the language", "[ui][model]") {
    auto dir = scratchDir("language");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    CHECK(model.screen() == Screen::Form);
    REQUIRE(model.answer("unit_name", Value::text("Sri Velavan Knit Fashions")).ok());
    goToQuestion(model, "unit_name");

    const Question* q = model.session()->survey().find("unit_name");
    std::string english = q->label.in(model.languageIndex());
    model.setLanguage("hi");
    CHECK(model.languageIndex() == 1);
    CHECK(q->label.in(model.languageIndex()) != english);
    CHECK(model.session()->answer(q->index).asText() == "Sri Velavan Knit Fashions");
    CHECK(questionAt(model) == "unit_name");
    model.setLanguage("en");
    CHECK(model.languageIndex() == 0);
    CHECK(model.session()->answer(q->index).asText() == "Sri Velavan Knit Fashions");
}

TEST_CASE("next and previous skip questions that are not relevant", "[ui][model]") {
    auto dir = scratchDir("navigation");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    CHECK(questionAt(model) == "visit_date");

    goToQuestion(model, "cluster");
    REQUIRE(model.answer("cluster", Value::text("tiruppur_knitwear")).ok());
    REQUIRE(model.next());
    CHECK(questionAt(model) == "unit_name");  // cluster_other is skipped
    REQUIRE(model.previous());
    CHECK(questionAt(model) == "cluster");

    REQUIRE(model.answer("cluster", Value::text("other")).ok());
    REQUIRE(model.next());
    CHECK(questionAt(model) == "cluster_other");
    // Next waits for a required answer (see "Next stops at ..."); given, it moves on.
    REQUIRE(model.answer("cluster_other", Value::text("Bhadohi carpets")).ok());
    REQUIRE(model.next());
    CHECK(questionAt(model) == "unit_name");

    goToQuestion(model, "visit_date");
    CHECK_FALSE(model.previous());  // nothing before the first question
    CHECK(questionAt(model) == "visit_date");
}

TEST_CASE("every change is saved at once - a new app resumes the visit where it was left", "[ui][model]") {
    auto dir = scratchDir("resume");
    FakeClock clock;
    std::string visitId;
    {
        AppModel model(makeConfig(dir, clock));
        createStore(model);
        REQUIRE(model.startVisit(kFlagshipId));
        visitId = model.session()->recordId();
        CHECK(model.savedAt() == 0);
        REQUIRE(model.answer("unit_name", Value::text("Sri Velavan Knit Fashions")).ok());
        CHECK(model.savedAt() != 0);
        CHECK(model.saveError().empty());
        REQUIRE(model.answer("officer_id", Value::text("TUP-07")).ok());
        goToQuestion(model, "register_id");
        // The app ends without any explicit save: the draft is already in the store.
    }
    AppModel model(makeConfig(dir, clock));
    unlockStore(model);
    const auto& visits = model.visits();
    REQUIRE(visits.size() == 1);
    CHECK(visits[0].visit.id == visitId);
    CHECK(visits[0].visit.title == "Sri Velavan Knit Fashions");
    CHECK(visits[0].visit.status == VisitStatus::Draft);

    REQUIRE(model.resumeVisit(visitId));
    CHECK(model.screen() == Screen::Form);
    const FormSession& s = *model.session();
    CHECK(s.answer(s.survey().indexOf("unit_name")).asText() == "Sri Velavan Knit Fashions");
    CHECK(s.answer(s.survey().indexOf("officer_id")).asText() == "TUP-07");
    CHECK(questionAt(model) == "register_id");
}

// A platform that copies the store after each commit (a browser: the page's memory to
// IndexedDB, platforms/web/web_storage.cpp), played by the test: copies complete when it says.
struct HeldCopies : StoreDurability {
    uint64_t requested = 0, completed = 0;
    std::string why;
    uint64_t requestDurable() override { return ++requested; }
    uint64_t durableTicket() const override { return completed; }
    std::string failure() const override { return why; }
};

TEST_CASE("with a platform copy, saved is shown only once the copy holding the change completes", "[ui][model]") {
    auto dir = scratchDir("durable");
    FakeClock clock;
    auto copies = std::make_shared<HeldCopies>();
    FieldAppConfig config = makeConfig(dir, clock);
    config.durability = copies;
    AppModel model(config);
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    REQUIRE(model.answer("unit_name", Value::text("Sri Velavan Knit Fashions")).ok());
    CHECK(copies->requested == 1);
    CHECK(model.saving());
    CHECK(model.savedAt() == 0);  // committed, not yet copied: not "saved"
    model.beginFrame();
    CHECK(model.savedAt() == 0);

    // A second change before the first copy completes: the first copy does not cover it.
    REQUIRE(model.answer("officer_id", Value::text("TUP-07")).ok());
    CHECK(copies->requested == 2);
    copies->completed = 1;
    model.beginFrame();
    CHECK(model.saving());
    CHECK(model.savedAt() == 0);

    // Failure path: the browser refuses the copy (quota): the form says so, still not saved.
    copies->why = "QuotaExceededError";
    model.beginFrame();
    CHECK(model.savedAt() == 0);
    CHECK_THAT(model.saveError(), Catch::Contains("QuotaExceededError"));

    // The copy that holds the second change completes: saved, the error gone.
    copies->why.clear();
    copies->completed = 2;
    model.beginFrame();
    CHECK_FALSE(model.saving());
    CHECK(model.savedAt() != 0);
    CHECK(model.saveError().empty());
}

TEST_CASE("locking closes the visit - unlocking reopens it at the same question", "[ui][model]") {
    auto dir = scratchDir("lock-reopen");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    REQUIRE(model.answer("officer_id", Value::text("TUP-07")).ok());
    goToQuestion(model, "officer_id");
    model.lock();
    CHECK_FALSE(model.isUnlocked());
    CHECK(model.session() == nullptr);
    CHECK(model.screen() == Screen::Unlock);
    CHECK(model.visits().empty());  // nothing readable while locked

    unlockStore(model);
    REQUIRE(model.session());
    CHECK(model.screen() == Screen::Form);
    CHECK(questionAt(model) == "officer_id");
}

TEST_CASE("review lists the open problems - finalise only when there are none", "[ui][model]") {
    auto dir = scratchDir("finalise");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    model.setToday(testToday());
    REQUIRE(model.startVisit(kFlagshipId));
    std::string visitId = model.session()->recordId();

    auto problems = model.problems();
    REQUIRE_FALSE(problems.empty());
    CHECK(problems[0].questionId == "visit_date");
    CHECK_FALSE(model.finalise());
    CHECK_FALSE(model.busy());
    CHECK_FALSE(model.error().empty());

    // Each problem leads back to its question.
    model.show(Screen::Review);
    CHECK(model.screen() == Screen::Review);
    model.goTo(problems[0].at);
    CHECK(model.screen() == Screen::Form);
    CHECK(questionAt(model) == "visit_date");

    auto notTaken = model.applyAnswers(knitwear());
    CHECK(notTaken.empty());
    CHECK(model.problems().empty());
    REQUIRE(model.finalise());
    model.waitForTasks();
    CHECK(model.error().empty());
    CHECK(model.session() == nullptr);
    CHECK(model.screen() == Screen::Visits);
    CHECK_THAT(model.notice(), Catch::Contains("enrolled"));

    const auto& visits = model.visits();
    REQUIRE(visits.size() == 1);
    CHECK(visits[0].visit.status == VisitStatus::Finished);
    REQUIRE(visits[0].outbox);
    CHECK(visits[0].outbox->state == OutboxState::AwaitingKey);
    CHECK_FALSE(model.resumeVisit("no-such-visit"));
    CHECK_FALSE(model.error().empty());
}

TEST_CASE("a finished visit is sealed once an aggregator key is set - the fingerprint shows", "[ui][model]") {
    auto dir = scratchDir("enrol");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    model.setToday(testToday());
    CHECK_FALSE(model.aggregatorFingerprint());
    REQUIRE(model.startVisit(kFlagshipId));
    CHECK(model.applyAnswers(knitwear()).empty());
    REQUIRE(model.finalise());
    model.waitForTasks();

    model.setAggregatorAddress("https://aggregator.example.in");
    auto keys = newBoxKeyPair();
    auto sealed = model.store()->setAggregatorKey(keys.publicKey);
    REQUIRE(sealed.ok());
    CHECK(sealed.value() == 1);
    auto fingerprint = model.aggregatorFingerprint();
    REQUIRE(fingerprint);
    CHECK(*fingerprint == keyFingerprint(keys.publicKey));
    auto outbox = model.outbox();
    REQUIRE(outbox.size() == 1);
    CHECK(outbox[0].state == OutboxState::Queued);

    AppModel again(makeConfig(dir, clock));
    CHECK(again.settings().aggregatorAddress == "https://aggregator.example.in");
}

TEST_CASE("the app locks itself after the idle time - activity restarts the timer", "[ui][model]") {
    auto dir = scratchDir("idle");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    model.setIdleLockMinutes(2);
    REQUIRE(model.startVisit(kFlagshipId));
    model.noteActivity();
    CHECK(model.secondsUntilIdleLock() == Approx(120));

    clock.advance(100);
    model.beginFrame();
    CHECK(model.isUnlocked());
    model.noteActivity();  // a tap
    clock.advance(100);
    model.beginFrame();
    CHECK(model.isUnlocked());
    CHECK(model.secondsUntilIdleLock() == Approx(20));
    clock.advance(21);
    model.beginFrame();
    CHECK_FALSE(model.isUnlocked());
    CHECK(model.screen() == Screen::Unlock);
    CHECK(model.secondsUntilIdleLock() > 1e6);

    model.setIdleLockMinutes(0);  // never
    unlockStore(model);
    clock.advance(86400);
    model.beginFrame();
    CHECK(model.isUnlocked());
}

TEST_CASE("settings are kept in settings.json across restarts", "[ui][model]") {
    auto dir = scratchDir("settings");
    FakeClock clock;
    {
        AppModel model(makeConfig(dir, clock));
        int generation = model.fontGeneration();
        model.setTextScale(1.5f);
        CHECK(model.fontGeneration() == generation + 1);
        model.setTextScale(9.0f);  // clamped
        CHECK(model.settings().textScale == kMaxTextScale);
        model.setHighContrast(true);
        model.setIdleLockMinutes(15);
        model.setLanguage("hi");
    }
    AppModel model(makeConfig(dir, clock));
    CHECK(model.settings().textScale == kMaxTextScale);
    CHECK(model.settings().highContrast);
    CHECK(model.settings().idleLockMinutes == 15);
    CHECK(model.languageCode() == "hi");
    CHECK_THAT(readText(dir / "settings.json"), !Catch::Contains(kPassphrase));
}

TEST_CASE("a damaged settings file falls back to the defaults", "[ui][model]") {
    auto dir = scratchDir("settings-damaged");
    {
        std::ofstream out(dir / "settings.json");
        out << "{\"text_scale\": \"huge\", \"idle_lock_minutes\": -5, \"positions\": [1,2";
    }
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    CHECK(model.settings().textScale == 1.0f);
    CHECK(model.settings().idleLockMinutes == 5);
}

TEST_CASE("change passphrase: the old one must be right - the new one opens the store", "[ui][model]") {
    auto dir = scratchDir("change-passphrase");
    FakeClock clock;
    const std::string next = "noyyal-river-looms-42";
    {
        AppModel model(makeConfig(dir, clock));
        createStore(model);
        CHECK_FALSE(model.changePassphrase(kPassphrase, "weak", "weak"));
        CHECK_FALSE(model.error().empty());
        REQUIRE(model.changePassphrase("wrong-old-passphrase-x", next, next));
        model.waitForTasks();
        CHECK_FALSE(model.error().empty());
        REQUIRE(model.changePassphrase(kPassphrase, next, next));
        model.waitForTasks();
        CHECK(model.error().empty());
        CHECK_FALSE(model.notice().empty());
    }
    AppModel model(makeConfig(dir, clock));
    unlockStore(model, kPassphrase);
    CHECK_FALSE(model.isUnlocked());
    unlockStore(model, next);
    CHECK(model.isUnlocked());
}

TEST_CASE("repeats: rows are added and removed, each saved", "[ui][model]") {
    auto dir = scratchDir("repeats");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    int repeat = model.session()->survey().indexOf("product_lines");
    REQUIRE(repeat >= 0);
    CHECK(model.addInstance(repeat) == 0);
    CHECK(model.addInstance(repeat) == 1);
    REQUIRE(model.answer("product", Value::text("t_shirts"), 1).ok());
    goToQuestion(model, "product", 1);
    REQUIRE(model.removeInstance(repeat, 0));
    CHECK(model.session()->instanceCount(repeat) == 1);
    CHECK(model.session()->answer(model.session()->survey().indexOf("product"), 0).asText() == "t_shirts");
    CHECK_FALSE(model.removeInstance(repeat, 5));

    std::string id = model.session()->recordId();
    model.closeVisit();
    REQUIRE(model.resumeVisit(id));
    CHECK(model.session()->instanceCount(repeat) == 1);
}

TEST_CASE("a photo file becomes an encrypted attachment answering the question, read off the frame", "[ui][model]") {
    auto dir = scratchDir("photo");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    const Template& t = model.session()->survey();
    int photo = -1;
    for (const auto& q : t.questions)
        if (q.type == QuestionType::Photo && q.repeat < 0) photo = q.index;
    REQUIRE(photo >= 0);
    {
        std::ofstream out(dir / "works.jpg", std::ios::binary);
        out << "\xFF\xD8\xFF\xE0 not really a jpeg";
    }
    // A missing file: accepted as a task, then refused with the path; nothing answered.
    REQUIRE(model.attachPhoto({photo, 0}, (dir / "missing.jpg").string()));
    model.waitForTasks();
    CHECK_THAT(model.error(), Catch::Contains("missing.jpg"));
    CHECK(model.session()->answer(photo).isEmpty());
    CHECK_FALSE(model.attachPhoto({photo, 0}, "  "));  // no path: refused at once
    CHECK_FALSE(model.busy());

    // The read and the encryption run on the task thread: until the result is applied (the
    // next frame) the app is busy and the session unchanged, and commands wait.
    REQUIRE(model.attachPhoto({photo, 0}, (dir / "works.jpg").string()));
    CHECK(model.busy());
    CHECK(model.session()->answer(photo).isEmpty());
    CHECK_FALSE(model.next());  // refused while the task owns the store
    model.waitForTasks();
    CHECK(model.error().empty());
    CHECK_FALSE(model.busy());
    const Value& v = model.session()->answer(photo);
    REQUIRE(v.kind() == ValueKind::Text);
    auto stored = model.store()->readAttachment(v.asText());
    REQUIRE(stored.ok());
    CHECK(stored.value().mediaType == "image/jpeg");
    CHECK(stored.value().bytes == "\xFF\xD8\xFF\xE0 not really a jpeg");
    // And it was saved with the draft.
    auto saved = model.store()->loadVisit(model.session()->recordId());
    REQUIRE(saved.ok());
    REQUIRE(saved.value().find(t.questions[size_t(photo)].id));
    CHECK(saved.value().find(t.questions[size_t(photo)].id)->value.asText() == v.asText());
}
