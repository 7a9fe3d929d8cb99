// Data entry that never silently changes an answer (issue 10, section 3), driven as an
// officer drives it: clicks and typed characters through ImGuiIO, headless.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "app/ui/widgets.h"
#include "core/form/number_entry.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

namespace {

std::string questionAt(const AppModel& model) {
    REQUIRE(model.session());
    REQUIRE(model.position().valid());
    return model.session()->survey().questions[size_t(model.position().question)].id;
}

// The text in the active input field, as the officer sees it while typing.
std::string activeFieldText() {
    const ImGuiInputTextState& st = ImGui::GetCurrentContext()->InputTextState;
    return std::string(st.TextA.Data ? st.TextA.Data : "", size_t(st.CurLenA));
}

// Opens a visit of the flagship with consent given (so every section is asked) at `id`.
Position openAt(FieldApp& app, HeadlessImGui& gui, const std::string& id, int instance = 0) {
    AppModel& model = app.model();
    if (!model.session()) {
        REQUIRE(model.startVisit(kFlagshipId));
        REQUIRE(model.answer("consent", Value::text("yes")).ok());
    }
    Position p = model.session()->find(id, instance);
    REQUIRE(p.valid());
    model.goTo(p);
    gui.frames(app, 2);
    return p;
}

void backspace(FieldApp& app, HeadlessImGui& gui, int times) {
    ImGuiIO& io = ImGui::GetIO();
    for (int i = 0; i < times; ++i) {
        io.KeysDown[8] = true;  // ImGuiKey_Backspace is mapped to 8 (ui_test_support.cpp)
        gui.frame(app);
        io.KeysDown[8] = false;
        gui.frame(app);
    }
}

// A platform hook that answers with a fixed reading (the real gpsd one is tested in
// tests/platforms/desktop against gpsd itself).
struct FixedLocation final : LocationSource {
    LocationReading reading;
    int calls = 0;
    LocationReading capture(std::chrono::milliseconds) override {
        ++calls;
        return reading;
    }
};

}  // namespace

TEST_CASE("letters typed into a number field are refused at the field, the answer kept is unchanged", "[ui][view][entry]") {
    auto dir = scratchDir("entry-letters");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    Position year = openAt(app, gui, "year_started");

    gui.clickItem(app, "answer");
    gui.type(app, "2009");
    CHECK(model.session()->answer(year.question).asNumber() == 2009);
    CHECK_FALSE(app.itemRect("input_error"));

    gui.type(app, "abc");  // "2009abc": not dropped, not taken
    gui.frame(app);
    CHECK(activeFieldText() == "2009abc");
    CHECK(model.session()->answer(year.question).asNumber() == 2009);
    REQUIRE(app.itemRect("input_error"));
    CHECK(app.itemRect("input_error")->label == numberEntryMessage(NumberEntryProblem::Letters, QuestionType::Integer, "en"));
    REQUIRE(app.itemRect("answer_kept"));
    CHECK(app.itemRect("answer_kept")->label == "Answer kept: 2009");

    // Next does not leave a field holding text that is not its answer.
    gui.clickItem(app, "next");
    CHECK(questionAt(model) == "year_started");
    REQUIRE(app.itemRect("input_error"));
    CHECK_THAT(app.itemRect("input_error")->label, Catch::Contains("Correct or clear"));
    // It is an open problem too: Review lists it with what was typed, Finalise waits.
    bool listed = false;
    for (const auto& p : model.problems())
        listed = listed || (p.questionId == "year_started" && p.message.find("\"2009abc\"") == 0);
    CHECK(listed);
    // Left and come back to: the text is still there, with why.
    model.goTo(model.session()->find("gps"));
    gui.frames(app, 2);
    model.goTo(year);
    gui.frames(app, 2);
    REQUIRE(app.itemRect("input_error"));
    CHECK(model.session()->answer(year.question).asNumber() == 2009);

    // In Hindi, the reason is in Hindi.
    gui.chooseLanguage(app, "hi");
    gui.frame(app);
    REQUIRE(app.itemRect("input_error"));
    CHECK(app.itemRect("input_error")->label == numberEntryMessage(NumberEntryProblem::Letters, QuestionType::Integer, "hi"));
    gui.chooseLanguage(app, "en");

    // "5 lakh" in a count is refused, never stored as 5.
    Position workers = openAt(app, gui, "working_owners");
    gui.clickItem(app, "answer");
    gui.type(app, "5");
    gui.type(app, " lakh");
    CHECK(model.session()->answer(workers.question).asNumber() == 5);  // the "5" typed first
    REQUIRE(app.itemRect("answer_kept"));
    CHECK(app.itemRect("answer_kept")->label == "Answer kept: 5");
    gui.clickItem(app, "next");
    CHECK(questionAt(model) == "working_owners");
    // Corrected (the letters deleted one by one), it is taken and Next moves on.
    gui.clickItem(app, "answer");  // the caret lands after the text
    backspace(app, gui, 5);
    gui.type(app, "2");
    CHECK(model.session()->answer(workers.question).asNumber() == 52);
    gui.frame(app);
    CHECK_FALSE(app.itemRect("input_error"));
    // 52 breaks the template's constraint (at most 50): Next holds, with its message.
    gui.clickItem(app, "next");
    CHECK(questionAt(model) == "working_owners");
    REQUIRE(app.itemRect("question_problem"));
    gui.clickItem(app, "answer");
    backspace(app, gui, 1);
    CHECK(model.session()->answer(workers.question).asNumber() == 5);
    gui.clickItem(app, "next");
    CHECK(questionAt(model) != "working_owners");
}

TEST_CASE("money: digits grouped as typed, lakh and crore read and shown beside the field", "[ui][view][entry]") {
    auto dir = scratchDir("entry-money");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    Position turnover = openAt(app, gui, "turnover");

    gui.clickItem(app, "answer");
    gui.type(app, "1234567");
    gui.frame(app);
    CHECK(activeFieldText() == "12,34,567");
    CHECK(model.session()->answer(turnover.question).asNumber() == 1234567);
    REQUIRE(app.itemRect("money_words"));
    CHECK(app.itemRect("money_words")->label == "≈₹12.35 lakh");

    // Cleared and typed with a word: 5 lakh is 500000, shown.
    gui.clickItem(app, "clear_answer");
    CHECK(model.session()->answer(turnover.question).isEmpty());
    gui.clickItem(app, "answer");
    gui.type(app, "5 lakh");
    gui.frame(app);
    CHECK(activeFieldText() == "5 lakh");  // as typed
    CHECK(model.session()->answer(turnover.question).asNumber() == 500000);
    CHECK(app.itemRect("money_words")->label == "₹5 lakh");
    CHECK_FALSE(app.itemRect("input_error"));

    // A comma the officer types is the officer's: "12,5" is refused (a decimal comma?), not regrouped.
    Position output = openAt(app, gui, "gross_output");
    gui.clickItem(app, "answer");
    gui.type(app, "12");
    gui.type(app, ",5");
    gui.frame(app);
    CHECK(activeFieldText() == "12,5");
    CHECK(model.session()->answer(output.question).asNumber() == 12);
    REQUIRE(app.itemRect("input_error"));
    CHECK(app.itemRect("input_error")->label == numberEntryMessage(NumberEntryProblem::Grouping, QuestionType::Money, "en"));
}

TEST_CASE("Next stops at a failed constraint or an empty required question and says why there", "[ui][view][entry]") {
    auto dir = scratchDir("entry-next");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    model.setToday(testToday());
    REQUIRE(model.startVisit(kFlagshipId));
    gui.frames(app, 2);
    REQUIRE(questionAt(model) == "visit_date");

    // Required and empty: no message before Next is pressed, the template's after.
    CHECK_FALSE(app.itemRect("question_problem"));
    gui.clickItem(app, "next");
    CHECK(questionAt(model) == "visit_date");
    CHECK(model.nextRefusedAt() == model.position());
    auto problems = model.session()->problemsAt(model.position(), 0);
    REQUIRE(problems.size() == 1);
    REQUIRE(app.itemRect("question_problem"));
    CHECK(app.itemRect("question_problem")->label == problems[0].message);

    // A failed constraint: a date after today. The message stays while it fails.
    gui.clickItem(app, "answer");
    gui.type(app, "2031-01-01");
    REQUIRE(model.session()->answer(model.position().question).kind() == ValueKind::Date);
    CHECK_FALSE(model.session()->constraintHolds(model.position().question));
    gui.clickItem(app, "next");
    CHECK(questionAt(model) == "visit_date");
    REQUIRE(app.itemRect("question_problem"));
    CHECK(app.itemRect("question_problem")->label == model.session()->problemsAt(model.position(), 0)[0].message);

    // Fixed: Next goes on. Previous and the section list are never held.
    gui.clickItem(app, "clear_answer");
    gui.clickItem(app, "answer");
    gui.type(app, "2026-11-20");
    gui.frame(app);
    CHECK_FALSE(app.itemRect("question_problem"));
    gui.clickItem(app, "next");
    CHECK(questionAt(model) == "officer_id");
    gui.clickItem(app, "next");  // required, empty
    CHECK(questionAt(model) == "officer_id");
    gui.clickItem(app, "previous");
    CHECK(questionAt(model) == "visit_date");

    // In Hindi, the engine's standard message is Hindi (the template has none of its own here).
    Position officer = model.session()->find("officer_id");
    model.goTo(officer);
    model.setLanguage("hi");
    gui.clickItem(app, "next");
    CHECK(questionAt(model) == "officer_id");
    REQUIRE(app.itemRect("question_problem"));
    CHECK(app.itemRect("question_problem")->label == model.session()->problemsAt(officer, 1)[0].message);
}

TEST_CASE("GPS: blank accuracy is stored as unknown, Capture answers through the platform hook", "[ui][view][entry]") {
    auto dir = scratchDir("entry-gps");
    FakeClock clock;
    HeadlessImGui gui;
    auto gps = std::make_shared<FixedLocation>();
    FieldAppConfig config = makeConfig(dir, clock);
    config.location = gps;
    FieldApp app(config);
    AppModel& model = app.model();
    createStore(model);
    Position at = openAt(app, gui, "gps");

    gui.clickItem(app, "gps_lat");
    gui.type(app, "11.1271");
    gui.clickItem(app, "gps_lon");
    gui.type(app, "77.3398");
    const Value& typed = model.session()->answer(at.question);
    REQUIRE(typed.kind() == ValueKind::Geo);
    CHECK_FALSE(typed.asGeo().accuracyMetres.has_value());  // not 0 m
    // And so it is stored.
    auto stored = model.store()->loadVisit(model.session()->recordId());
    REQUIRE(stored.ok());
    REQUIRE(stored.value().find("gps"));
    CHECK_FALSE(stored.value().find("gps")->value.asGeo().accuracyMetres.has_value());
    gui.frame(app);
    REQUIRE(app.itemRect("gps_kept"));
    CHECK(app.itemRect("gps_kept")->label == "accuracy unknown");
    // A typed accuracy is kept; letters in it are refused.
    gui.clickItem(app, "gps_accuracy");
    gui.type(app, "12");
    CHECK(*model.session()->answer(at.question).asGeo().accuracyMetres == 12);
    gui.type(app, "m");
    CHECK(*model.session()->answer(at.question).asGeo().accuracyMetres == 12);
    REQUIRE(app.itemRect("input_error"));

    // Capture: no fix yet -> said so, the typed answer stays.
    gps->reading.problem = LocationProblem::NoFix;
    model.goTo(at);
    gui.frame(app);
    gui.clickItem(app, "capture_location");
    model.waitForTasks();
    gui.frame(app);
    CHECK(gps->calls == 1);
    CHECK(model.error() == model.ui(Text::GpsNoFix));
    CHECK(model.session()->answer(at.question).asGeo().latitude == Approx(11.1271));

    // A fix with accuracy and time becomes the answer.
    gps->reading = {};
    gps->reading.fix = LocationFix{11.1085, 77.3411, 4.5, 1795000000};
    gui.clickItem(app, "capture_location");
    model.waitForTasks();
    gui.frames(app, 2);
    const Value& captured = model.session()->answer(at.question);
    REQUIRE(captured.kind() == ValueKind::Geo);
    CHECK(captured.asGeo().latitude == Approx(11.1085));
    CHECK(*captured.asGeo().accuracyMetres == 4.5);
    REQUIRE(app.itemRect("gps_kept"));
    CHECK_THAT(app.itemRect("gps_kept")->label, Catch::StartsWith("±4.5 m, fix at ") &&
                                                     Catch::EndsWith(localTime(1795000000, "%H:%M:%S")));
    // A fix without accuracy stays unknown.
    gps->reading.fix = LocationFix{11.2, 77.4, std::nullopt, 0};
    gui.clickItem(app, "capture_location");
    model.waitForTasks();
    gui.frame(app);
    CHECK_FALSE(model.session()->answer(at.question).asGeo().accuracyMetres.has_value());
}

TEST_CASE("GPS without a platform hook: typed entry, and Capture is not offered", "[ui][view][entry]") {
    auto dir = scratchDir("entry-gps-none");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    createStore(app.model());
    Position at = openAt(app, gui, "gps");
    CHECK_FALSE(app.itemRect("capture_location"));
    CHECK_FALSE(app.model().captureLocation(at));
    CHECK(app.model().error() == app.model().ui(Text::NoLocationSource));
}

TEST_CASE("repeat rows: Remove asks first and keeps the place, the table shows choice labels", "[ui][view][entry]") {
    auto dir = scratchDir("entry-repeat");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    REQUIRE(model.answer("consent", Value::text("yes")).ok());
    const Template& t = model.session()->survey();
    int repeat = t.indexOf("product_lines");
    for (int i = 0; i < 3; ++i) REQUIRE(model.addInstance(repeat) == i);
    REQUIRE(model.answer("product", Value::text("t_shirts"), 0).ok());
    REQUIRE(model.answer("product", Value::text("innerwear"), 1).ok());
    REQUIRE(model.answer("product", Value::text("t_shirts"), 2).ok());
    Position third = model.session()->find("product", 2);
    model.goTo(third);
    gui.frames(app, 2);

    // Labels, not codes.
    const ChoiceList* products = t.choicesOf(t.questions[size_t(t.indexOf("product"))]);
    std::string innerwear = products->choices[size_t(products->indexOf("innerwear"))].label.in(0);
    REQUIRE(app.itemRect("cell_product_lines_1"));
    CHECK(app.itemRect("cell_product_lines_1")->label == innerwear);
    CHECK(innerwear != "innerwear");

    // Remove asks; Keep keeps.
    gui.clickItem(app, "remove_row_product_lines_0");
    gui.frame(app);
    REQUIRE(app.itemRect("remove_row_question"));
    CHECK(app.itemRect("remove_row_question")->label == "Remove row 1? Its answers are deleted.");
    CHECK(model.session()->instanceCount(repeat) == 3);
    gui.clickItem(app, "keep_row");
    gui.frame(app);
    CHECK(model.session()->instanceCount(repeat) == 3);
    CHECK_FALSE(app.itemRect("remove_row_question"));

    // Confirmed: the row goes, and the officer stays on the row being edited (now the 2nd).
    gui.clickItem(app, "remove_row_product_lines_0");
    gui.frame(app);
    gui.clickItem(app, "confirm_remove");
    gui.frame(app);
    CHECK(model.session()->instanceCount(repeat) == 2);
    CHECK(model.position() == Position{third.question, 1});
    CHECK(model.session()->answer(third.question, 0).asText() == "innerwear");

    // Removing the row being edited, the last one: the place moves to the row before it.
    gui.clickItem(app, "remove_row_product_lines_1");
    gui.frame(app);
    gui.clickItem(app, "confirm_remove");
    gui.frame(app);
    CHECK(model.session()->instanceCount(repeat) == 1);
    CHECK(model.position() == Position{third.question, 0});
}

TEST_CASE("a visit started by an accidental tap leaves no draft until the first answer", "[ui][view][entry]") {
    auto dir = scratchDir("entry-accidental");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    gui.frames(app, 2);
    gui.clickItem(app, std::string("start_") + kFlagshipId);
    REQUIRE(model.screen() == Screen::Form);
    std::string id = model.session()->recordId();
    CHECK_FALSE(model.draftStored());
    gui.clickItem(app, "next");  // moving about is not an answer
    gui.clickItem(app, "close_visit");
    CHECK(model.visits().empty());
    CHECK_FALSE(model.store()->loadVisit(id).ok());
    CHECK(model.settings().positions.count(id) == 0);

    // Locking with such a visit open reopens nothing.
    gui.clickItem(app, std::string("start_") + kFlagshipId);
    model.lock();
    unlockStore(model);
    CHECK(model.session() == nullptr);
    CHECK(model.visits().empty());

    // The first answer stores it, with the place.
    gui.frames(app, 2);
    gui.clickItem(app, std::string("start_") + kFlagshipId);
    id = model.session()->recordId();
    Position officer = model.session()->find("officer_id");
    model.goTo(officer);
    gui.frame(app);
    gui.clickItem(app, "answer");
    gui.type(app, "T");
    CHECK(model.draftStored());
    auto stored = model.store()->loadVisit(id);
    REQUIRE(stored.ok());
    CHECK(stored.value().find("officer_id")->value.asText() == "T");
    CHECK(model.settings().positions.at(id).questionId == "officer_id");
    model.closeVisit();
    CHECK(model.visits().size() == 1);
}

TEST_CASE("every control of the form is at least 48 px high at the default text size", "[ui][view][entry]") {
    auto dir = scratchDir("entry-48px");
    FakeClock clock;
    HeadlessImGui gui;
    auto gps = std::make_shared<FixedLocation>();
    FieldAppConfig config = makeConfig(dir, clock);
    config.location = gps;
    FieldApp app(config);
    AppModel& model = app.model();
    createStore(model);
    REQUIRE(model.settings().textScale == 1.0f);
    auto tall = [&](const std::string& name) {
        auto r = app.itemRect(name);
        INFO(name);
        REQUIRE(r);
        CHECK(r->y1 - r->y0 >= 48.0f);
    };
    openAt(app, gui, "officer_id");  // text
    for (const char* name : {"answer", "next", "previous", "review", "close_visit", "clear_answer", "language", "lock"}) tall(name);
    openAt(app, gui, "visit_date");  // date
    tall("answer");
    openAt(app, gui, "turnover");  // money
    tall("answer");
    tall("dont_know");
    openAt(app, gui, "consent");  // select one: radio rows
    tall("choice_yes");
    tall("choice_no");
    openAt(app, gui, "buyer_types");  // select multiple: check rows
    const Template& t = model.session()->survey();
    const ChoiceList* buyers = t.choicesOf(t.questions[size_t(t.indexOf("buyer_types"))]);
    tall("choice_" + buyers->names[0]);
    openAt(app, gui, "biggest_obstacle");  // more than 8 choices: a combo, its rows with radio marks
    tall("answer");
    gui.clickItem(app, "answer");
    const ChoiceList* obstacles = t.choicesOf(t.questions[size_t(t.indexOf("biggest_obstacle"))]);
    REQUIRE(obstacles->names.size() > 8);
    tall("choice_" + obstacles->names[0]);
    gui.clickItem(app, "choice_" + obstacles->names[0]);
    CHECK(model.session()->answer(t.indexOf("biggest_obstacle")).asText() == obstacles->names[0]);
    openAt(app, gui, "gps");
    for (const char* name : {"gps_lat", "gps_lon", "gps_accuracy", "capture_location"}) tall(name);
    REQUIRE(model.addInstance(t.indexOf("product_lines")) == 0);
    openAt(app, gui, "product");
    for (const char* name : {"edit_row_product_lines_0", "remove_row_product_lines_0", "add_row_product_lines"}) tall(name);
}

TEST_CASE("text kept in a field that is not its answer holds Finalise until corrected or cleared", "[ui][view][entry]") {
    auto dir = scratchDir("entry-finalise");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    openCompleteFlagshipVisit(model);
    REQUIRE(model.problems().empty());
    Position year = model.session()->find("year_started");
    double before = model.session()->answer(year.question).asNumber();
    model.goTo(year);
    gui.frames(app, 2);
    gui.clickItem(app, "answer");
    gui.type(app, " approx");
    CHECK(model.session()->answer(year.question).asNumber() == before);
    REQUIRE(model.problems().size() == 1);
    CHECK(model.problems()[0].questionId == "year_started");
    CHECK_FALSE(model.finalise());
    CHECK_FALSE(model.busy());
    // Review shows it and leads back to it.
    gui.clickItem(app, "review");
    REQUIRE(model.screen() == Screen::Review);
    gui.clickItem(app, "first_problem");
    CHECK(model.position() == year);
    // Cleared: the field is empty, the answer too (the officer chose so), nothing is held.
    gui.clickItem(app, "clear_answer");
    CHECK(model.session()->answer(year.question).isEmpty());
    CHECK(model.typedAt(year) == nullptr);
    CHECK(model.problems().empty());  // year_started is not required
    CHECK(model.finalise());
    model.waitForTasks();
    CHECK(model.error().empty());
}
