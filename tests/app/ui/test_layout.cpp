// Every screen at phone and tablet sizes (720x1280 and 800x1280 portrait) and at the largest
// text on a 1366x768 laptop, headless: the controls an officer needs (the language switch,
// Lock, Previous, Next, Close, each screen's main action) are drawn inside the window.
// The same under Xvfb with the real fonts: tests/platforms/desktop/layout_screens.sh.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "app/ui/widgets.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

namespace {

struct WindowSize {
    float width, height, textScale;
    const char* name;
};

// ImGui's built-in font is 13 px; the app's is 18 px x the text size: scale it to match.
void useAppFontSize(float textScale) { ImGui::GetIO().FontGlobalScale = 18.0f * textScale / 13.0f; }

// Every named control drawn in the last frame, and inside the window.
void requireInside(FieldApp& app, const WindowSize& size, const std::vector<std::string>& names) {
    for (const auto& name : names) {
        INFO("window " << size.name << ", control '" << name << "'");
        auto r = app.itemRect(name);
        REQUIRE(r);
        INFO("drawn at " << r->x0 << "," << r->y0 << " - " << r->x1 << "," << r->y1);
        CHECK(r->x0 >= 0);
        CHECK(r->y0 >= 0);
        CHECK(r->x1 <= size.width);
        CHECK(r->y1 <= size.height);
        CHECK(r->x1 > r->x0);
        CHECK(r->y1 > r->y0);
    }
}

// Content of a pane that scrolls (a list, the question's table): it may lie below the window
// until scrolled to, but never off its sides (nothing needs a sideways scroll).
void requireWithinWidth(FieldApp& app, const WindowSize& size, const std::vector<std::string>& names) {
    for (const auto& name : names) {
        INFO("window " << size.name << ", control '" << name << "'");
        auto r = app.itemRect(name);
        REQUIRE(r);
        INFO("drawn at " << r->x0 << "," << r->y0 << " - " << r->x1 << "," << r->y1);
        CHECK(r->x0 >= 0);
        CHECK(r->x1 <= size.width);
        CHECK(r->x1 > r->x0);
    }
}

bool overlap(const ItemRect& a, const ItemRect& b) { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1; }

// The controls of one bar must not cover each other (a wrapped line that landed on another).
void requireApart(FieldApp& app, const std::vector<std::string>& names) {
    for (size_t i = 0; i < names.size(); ++i)
        for (size_t j = i + 1; j < names.size(); ++j) {
            auto a = app.itemRect(names[i]), b = app.itemRect(names[j]);
            REQUIRE(a);
            REQUIRE(b);
            INFO(names[i] << " and " << names[j]);
            CHECK_FALSE(overlap(*a, *b));
        }
}

Position positionOf(const AppModel& model, const std::string& questionId) {
    const FormSession& s = *model.session();
    for (const auto& p : s.items())
        if (s.survey().questions[size_t(p.question)].id == questionId) return p;
    return {};
}

}  // namespace

TEST_CASE("every screen keeps its controls inside the window at 720x1280, 800x1280 and the largest text on 1366x768",
          "[ui][view][layout]") {
    const WindowSize size = GENERATE(WindowSize{720, 1280, 1.0f, "720x1280"}, WindowSize{800, 1280, 1.0f, "800x1280"},
                                     WindowSize{1366, 768, kMaxTextScale, "1366x768 largest text"},
                                     WindowSize{1280, 800, 1.0f, "1280x800"});
    const std::string language = GENERATE("en", "hi");
    INFO(size.name << ", language " << language);
    auto dir = scratchDir("layout");
    FakeClock clock;
    HeadlessImGui gui;
    ImGui::GetIO().DisplaySize = ImVec2(size.width, size.height);
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();

    // A finished visit (in the outbox, "Correct" on the list) and an open draft holding every
    // answer, on the section with the 3-row product table.
    openCompleteFlagshipVisit(model);
    REQUIRE(model.finalise());
    model.waitForTasks();
    REQUIRE(model.startVisit(kFlagshipId));
    auto answers = nlohmann::json::parse(readText(std::filesystem::path(CK_TEST_DATA_DIR) / "answers" / "knitwear-complete.json"));
    REQUIRE(model.applyAnswers(answers).empty());
    model.setLanguage(language);
    model.setTextScale(size.textScale);
    useAppFontSize(size.textScale);
    const std::string draft = model.session()->recordId();
    const std::vector<std::string> bar = {"language", "lock"};

    Position production = positionOf(model, "production_mode");
    REQUIRE(production.valid());
    model.goTo(production);
    gui.frames(app, 3);
    REQUIRE(model.screen() == Screen::Form);
    requireInside(app, size, bar);
    requireInside(app, size, {"previous", "next", "review", "close_visit"});
    requireApart(app, {"previous", "next", "review", "close_visit"});
    requireApart(app, {"language", "lock"});
    // Narrow: the sections are a menu above the question and the screens one in the bar.
    const bool narrow = size.width / (18.0f * size.textScale) < kNarrowLayoutEms;
    CHECK(bool(app.itemRect("sections_menu")) == narrow);
    // The screens fold into a menu when narrow, and only then: with the language switch one
    // drop-down, the flagship's six languages no longer push the tabs into a menu at 1280 px.
    CHECK(bool(app.itemRect("screens_menu")) == narrow);
    if (!narrow) requireInside(app, size, {"tab_Visits", "tab_Form", "tab_Sync", "tab_Enrolment", "tab_Settings"});
    if (app.itemRect("screens_menu")) requireInside(app, size, {"screens_menu"});
    if (narrow) requireInside(app, size, {"sections_menu", "screens_menu"});
    // The product table's first row with its buttons: below the question, in the pane that
    // scrolls, never off the sides.
    requireWithinWidth(app, size, {"cell_product_lines_0", "edit_row_product_lines_0"});

    // Next, by a click on it, moves on: the pinned bar works at this size.
    gui.clickItem(app, "next");
    CHECK_FALSE(model.position() == production);

    model.show(Screen::Review);
    gui.frames(app, 3);
    requireInside(app, size, bar);
    requireInside(app, size, {"back_to_form", "finalise"});

    model.show(Screen::Visits);
    gui.frames(app, 3);
    requireInside(app, size, bar);
    requireInside(app, size, {std::string("start_") + kFlagshipId, "search"});
    requireWithinWidth(app, size, {"resume_" + draft});  // in the list, which scrolls

    model.show(Screen::Sync);
    gui.frames(app, 3);
    requireInside(app, size, bar);
    requireInside(app, size, {"go_enrol", "sync_now"});
    requireWithinWidth(app, size, {"export_bundle", "import_receipt"});  // the page scrolls to them

    model.show(Screen::Enrolment);
    gui.frames(app, 3);
    requireInside(app, size, bar);
    requireInside(app, size, {"enrol"});

    model.show(Screen::Settings);
    gui.frames(app, 3);
    requireInside(app, size, bar);
    requireInside(app, size, {"text_size_small", "text_size_normal", "text_size_largest", "high_contrast"});

    // Through the screens menu, where there is one: it opens, and Sync is reached by clicks.
    if (narrow) {
        gui.clickItem(app, "screens_menu");
        requireInside(app, size, {"tab_Sync", "tab_Visits", "tab_Settings"});
        gui.clickItem(app, "tab_Sync");
        CHECK(model.screen() == Screen::Sync);
    }

    gui.clickItem(app, "lock");
    gui.frames(app, 2);
    REQUIRE(model.screen() == Screen::Unlock);
    requireInside(app, size, {"language", "unlock_passphrase", "unlock"});

    // The drop-down's list at this size: every one of the six languages inside the window,
    // at least a touch target tall, and a click on one switches the app to it.
    gui.clickItem(app, "language");
    const std::vector<std::string> entries = {"lang_en", "lang_hi", "lang_ta", "lang_gu", "lang_mr", "lang_bn"};
    requireInside(app, size, entries);
    requireApart(app, entries);
    for (const auto& e : entries) CHECK(app.itemRect(e)->y1 - app.itemRect(e)->y0 >= touchHeight(size.textScale) - 0.5f);
    const std::string other = language == "en" ? "ta" : "en";
    gui.clickItem(app, "lang_" + other);
    CHECK(model.languageCode() == other);
    CHECK_FALSE(app.itemRect("lang_en"));  // the list closed with the choice
    CHECK(app.itemRect("language")->label == uiLanguageName(other));
}

TEST_CASE("narrow layout: the sections menu goes to the chosen section and closes", "[ui][view][layout]") {
    auto dir = scratchDir("layout-sections");
    FakeClock clock;
    HeadlessImGui gui;
    ImGui::GetIO().DisplaySize = ImVec2(720, 1280);
    useAppFontSize(1.0f);
    FieldApp app(makeConfig(dir, clock));
    openCompleteFlagshipVisit(app.model());
    gui.frames(app, 3);
    const int firstSection = app.model().session()->survey().questions[size_t(app.model().position().question)].section;
    gui.clickItem(app, "sections_menu");
    // The popup lists the sections as rows, one touch target tall each: the third is clicked.
    ImGuiContext& g = *ImGui::GetCurrentContext();
    REQUIRE(g.OpenPopupStack.Size == 1);
    ImGuiWindow* window = g.OpenPopupStack[0].Window;
    REQUIRE(window);
    const float row = touchHeight(1.0f) + ImGui::GetStyle().ItemSpacing.y;
    gui.click(app, window->Pos.x + window->Size.x / 2, window->Pos.y + ImGui::GetStyle().WindowPadding.y + row * 2.5f);
    const int now = app.model().session()->survey().questions[size_t(app.model().position().question)].section;
    CHECK(now != firstSection);
    CHECK(g.OpenPopupStack.Size == 0);
}
