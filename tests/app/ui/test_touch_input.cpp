// A finger on the field app, headless: TouchInput (app/ui/touch_input.h) between the input and
// ImGui::NewFrame(), as platforms/web runs it. A tap presses, a drag scrolls the list under the
// finger and presses nothing; and the keyboard a phone should show for each kind of field.
#include <cmath>
#include <string>

#include <catch2/catch.hpp>

#include "app/ui/touch_input.h"
#include "app/ui/widgets.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

namespace {

constexpr float kSlop = 10.0f;

// A finger as the platform reports it: where it is, whether it touches, one frame per call.
struct Finger {
    HeadlessImGui& gui;
    FieldApp& app;
    TouchInput touch{kSlop};

    void frame(float x, float y, bool down) {
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = ImVec2(x, y);
        io.MouseDown[0] = down;
        touch.beforeNewFrame(/*finger=*/true);
        gui.frame(app);
    }
    // Lands, stays `frames` frames, lifts; then the frames the tap's release needs.
    void tap(float x, float y, int frames = 1) {
        for (int i = 0; i < frames; ++i) frame(x, y, true);
        frame(x, y, false);
        frame(x, y, false);
        frame(x, y, false);
    }
    void tapItem(const std::string& name) {
        auto r = app.itemRect(name);
        if (!r) throw std::runtime_error("no widget '" + name + "' was drawn in the last frame");
        tap(r->centerX(), r->centerY());
    }
    // Lands at (x, y), moves by (dx, dy) over `steps` frames, stops there for a moment (so it
    // does not fling) and lifts; with `fling`, lifts while still moving.
    void drag(float x, float y, float dx, float dy, int steps, bool fling = false) {
        frame(x, y, true);
        for (int i = 1; i <= steps; ++i) frame(x + dx * float(i) / float(steps), y + dy * float(i) / float(steps), true);
        if (!fling)
            for (int i = 0; i < 10; ++i) frame(x + dx, y + dy, true);  // 1/6 s at 60 frames a second
        frame(x + dx, y + dy, false);
        frame(x + dx, y + dy, false);
    }
};

ImGuiWindow* windowNamed(const char* part) {
    for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows)
        if (std::string(w->Name).find(part) != std::string::npos) return w;
    return nullptr;
}

Position positionOf(const AppModel& model, const std::string& questionId) {
    const FormSession& s = *model.session();
    for (const auto& p : s.items())
        if (s.survey().questions[size_t(p.question)].id == questionId) return p;
    return {};
}

}  // namespace

TEST_CASE("a finger dragged on the visits list scrolls it with the finger and opens nothing - a tap opens", "[ui][view][touch]") {
    auto dir = scratchDir("touch-drag");
    FakeClock clock;
    HeadlessImGui gui;
    ImGui::GetIO().DisplaySize = ImVec2(720, 1280);
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    std::vector<std::string> ids;
    for (int i = 0; i < 40; ++i) {
        REQUIRE(model.startVisit(kFlagshipId));
        REQUIRE(model.answer("unit_name", Value::text("Unit " + std::to_string(i))).ok());
        ids.push_back(model.session()->recordId());
        model.closeVisit();
    }
    Finger finger{gui, app};
    finger.frame(0, 0, false);
    gui.frames(app, 2);
    ImGuiWindow* list = windowNamed("visits");
    REQUIRE(list);
    REQUIRE(list->ScrollMax.y > 400);
    REQUIRE(list->Scroll.y == 0);

    // The drag starts on a visit's Resume button, inside the list, far enough down that the
    // second drag (which starts 200 px above it) lands in the list too: the visits' order, and
    // so which button comes first, changes from run to run.
    std::string onButton;
    for (const auto& id : ids) {
        auto r = app.itemRect("resume_" + id);
        if (r && r->y0 > list->Pos.y + 250 && r->y1 < list->Pos.y + list->Size.y - 300) {
            onButton = id;
            break;
        }
    }
    REQUIRE_FALSE(onButton.empty());
    const ItemRect before = *app.itemRect("resume_" + onButton);
    REQUIRE(before.centerY() - 200 > list->Pos.y);

    SECTION("a drag scrolls by the finger's travel and presses nothing") {
        finger.drag(before.centerX(), before.centerY(), 0, -250, 10);
        CHECK_FALSE(model.session());  // the Resume button it started on was not pressed
        CHECK(model.screen() == Screen::Visits);
        CHECK(list->Scroll.y == Approx(250).margin(1));
        const ItemRect after = *app.itemRect("resume_" + onButton);
        CHECK(after.y0 == Approx(before.y0 - 250).margin(1));  // the content followed the finger
        // Back down past the top: the list stops at its start.
        finger.drag(before.centerX(), before.centerY() - 200, 0, 400, 8);
        CHECK(list->Scroll.y == 0);
        CHECK_FALSE(model.session());
    }
    SECTION("a finger that moves less than the slop taps") {
        finger.frame(before.centerX(), before.centerY(), true);
        finger.frame(before.centerX() + 4, before.centerY() + 5, true);
        CHECK_FALSE(model.session());  // no press while the finger is down: it may still drag
        finger.frame(before.centerX() + 4, before.centerY() + 5, false);
        finger.frame(before.centerX() + 4, before.centerY() + 5, false);
        finger.frame(0, 0, false);
        REQUIRE(model.session());
        CHECK(model.session()->recordId() == onButton);
        CHECK(list->Scroll.y == 0);
    }
    SECTION("a long touch without moving is still a tap") {
        finger.tap(before.centerX(), before.centerY(), 40);
        REQUIRE(model.session());
        CHECK(model.session()->recordId() == onButton);
    }
    SECTION("after a scroll a tap opens the visit now under the finger") {
        finger.drag(before.centerX(), before.centerY(), 0, -120, 6);
        const ItemRect moved = *app.itemRect("resume_" + onButton);
        finger.tap(moved.centerX(), moved.centerY());
        REQUIRE(model.session());
        CHECK(model.session()->recordId() == onButton);
    }
    SECTION("a drag that starts on a button outside any scrolling list does nothing") {
        const ItemRect start = *app.itemRect(std::string("start_") + kFlagshipId);
        finger.drag(start.centerX(), start.centerY(), 0, 200, 8);
        CHECK_FALSE(model.session());
        CHECK(list->Scroll.y == 0);
        finger.tapItem(std::string("start_") + kFlagshipId);
        CHECK(model.session());  // the same button, tapped
    }
    SECTION("a finger that lifts while moving flings the list on, slower and slower, until it stops") {
        finger.drag(before.centerX(), before.centerY(), 0, -150, 6, /*fling=*/true);  // 900 px/s
        const float atLift = list->Scroll.y;
        CHECK(atLift >= 150);  // the drag, and the glide has begun
        CHECK(atLift < 200);
        CHECK(finger.touch.busy());  // gliding: the platform keeps drawing
        finger.frame(0, 0, false);
        const float step1 = list->Scroll.y - atLift;
        for (int i = 0; i < 20; ++i) finger.frame(0, 0, false);
        const float later = list->Scroll.y;
        finger.frame(0, 0, false);
        const float step2 = list->Scroll.y - later;
        CHECK(step1 > 5);
        CHECK(step2 > 0);
        CHECK(step2 < step1 / 2);  // slowing down
        for (int i = 0; i < 300 && finger.touch.busy(); ++i) finger.frame(0, 0, false);
        CHECK_FALSE(finger.touch.busy());
        const float stopped = list->Scroll.y;
        CHECK(stopped > atLift + 100);  // it glided on, further than a few pixels
        CHECK(stopped < list->ScrollMax.y);
        CHECK_FALSE(model.session());
        // A touch stops a fling where it is, and is not a tap on what is under it.
        finger.drag(before.centerX(), before.centerY(), 0, 150, 6, /*fling=*/true);
        finger.frame(0, 0, false);
        finger.frame(before.centerX(), before.centerY(), true);
        const float caught = list->Scroll.y;
        finger.frame(before.centerX(), before.centerY(), true);
        finger.frame(before.centerX(), before.centerY(), true);
        CHECK(list->Scroll.y == caught);
        finger.frame(before.centerX(), before.centerY(), false);  // lifted: that was a tap
        finger.frame(before.centerX(), before.centerY(), false);
        CHECK(model.session());
    }
    SECTION("a mouse is left alone: it presses at once and hovers after its release") {
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = ImVec2(before.centerX(), before.centerY());
        io.MouseDown[0] = true;
        finger.touch.beforeNewFrame(/*finger=*/false);
        CHECK(io.MouseDown[0]);
        gui.frame(app);
        io.MouseDown[0] = false;
        finger.touch.beforeNewFrame(false);
        gui.frame(app);
        REQUIRE(model.session());
        CHECK(model.session()->recordId() == onButton);
        CHECK(io.MousePos.x == before.centerX());
        CHECK_FALSE(finger.touch.busy());
    }
}

TEST_CASE("the keyboard a phone shows: letters, digits for numbers and dates, a password's, none after the field",
          "[ui][view][touch]") {
    auto dir = scratchDir("touch-keyboard");
    FakeClock clock;
    HeadlessImGui gui;
    ImGui::GetIO().DisplaySize = ImVec2(720, 1280);
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    Finger finger{gui, app};
    finger.frame(0, 0, false);
    gui.frames(app, 2);
    CHECK(app.keyboard() == Keyboard::None);
    finger.tapItem("new_passphrase");
    CHECK(app.keyboard() == Keyboard::Password);

    createStore(model);
    model.setToday(testToday());
    gui.frames(app, 2);
    finger.tapItem("search");
    CHECK(app.keyboard() == Keyboard::Text);
    finger.tap(5, 1275);  // the empty bottom corner: the field is left
    CHECK(app.keyboard() == Keyboard::None);

    REQUIRE(model.startVisit(kFlagshipId));
    struct Case {
        const char* question;
        Keyboard keyboard;
    };
    for (const Case& c : {Case{"visit_date", Keyboard::Numeric}, Case{"unit_name", Keyboard::Text},
                          Case{"gross_output", Keyboard::Decimal}, Case{"year_started", Keyboard::Numeric},
                          Case{"capacity_util", Keyboard::Decimal}}) {
        INFO(c.question);
        Position at = positionOf(model, c.question);
        REQUIRE(at.valid());
        model.goTo(at);
        gui.frames(app, 2);
        CHECK(app.keyboard() == Keyboard::None);  // a new question: nothing is being edited
        finger.tapItem("answer");
        CHECK(app.keyboard() == c.keyboard);
    }
    // Latitude and longitude take digits, a point and a sign.
    model.goTo(positionOf(model, "gps"));
    gui.frames(app, 2);
    finger.tapItem("gps_lat");
    CHECK(app.keyboard() == Keyboard::Decimal);
    finger.tapItem("next");
    CHECK(app.keyboard() == Keyboard::None);
}

TEST_CASE("when the phone's keyboard makes the window shorter, the field being edited is scrolled into view",
          "[ui][view][touch]") {
    auto dir = scratchDir("touch-keyboard-opens");
    FakeClock clock;
    HeadlessImGui gui;
    ImGui::GetIO().DisplaySize = ImVec2(720, 1280);
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    model.setToday(testToday());
    REQUIRE(model.startVisit(kFlagshipId));
    model.goTo(positionOf(model, "unit_name"));
    Finger finger{gui, app};
    finger.frame(0, 0, false);
    gui.frames(app, 2);
    finger.tapItem("answer");
    REQUIRE(app.keyboard() == Keyboard::Text);
    ImGuiWindow* pane = windowNamed("question");
    REQUIRE(pane);
    CHECK(pane->Scroll.y == 0);
    const auto before = app.itemRect("answer");
    REQUIRE(before);
    const float below = 1280.0f - (pane->Pos.y + pane->Size.y);  // what the screen keeps under the pane

    // The keyboard takes the lower part of the screen: the page, and the app, get shorter, so
    // much that the pane's new bottom cuts the field (by `cut` px) where it stood. Chosen from
    // the field's place, not fixed, so the case holds whatever the layout above the field.
    const float cut = GENERATE(30.0f, 60.0f);
    const float shorter = std::floor(before->y1 + below - cut);
    ImGui::GetIO().DisplaySize = ImVec2(720, shorter);
    gui.frames(app, 3);
    INFO("window 720x" << shorter << ", question pane " << pane->Pos.y << " + " << pane->Size.y << ", field was at "
                       << before->y0 << ".." << before->y1);
    REQUIRE(before->y1 > pane->Pos.y + pane->Size.y + 0.5f);  // unscrolled, the field would be cut
    auto field = app.itemRect("answer");
    REQUIRE(field);
    CHECK(pane->Scroll.y > 0);  // the field was below the pane's new bottom: it scrolled
    CHECK(field->y0 >= pane->Pos.y - 0.5f);
    CHECK(field->y1 <= pane->Pos.y + pane->Size.y + 0.5f);
    CHECK(app.keyboard() == Keyboard::Text);  // still being edited
}
