// The screens, drawn headless (ImGui with no renderer, as example_null) and driven through
// ImGuiIO with real mouse clicks and typed characters.
#include <algorithm>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

namespace {

std::string questionAt(FieldApp& app) {
    const AppModel& model = app.model();
    REQUIRE(model.session());
    REQUIRE(model.position().valid());
    return model.session()->survey().questions[size_t(model.position().question)].id;
}

}  // namespace

TEST_CASE("first run by mouse and keyboard: a weak passphrase keeps Create disabled", "[ui][view]") {
    auto dir = scratchDir("view-first-run");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    gui.frames(app, 2);
    CHECK(app.model().screen() == Screen::FirstRun);

    gui.clickItem(app, "new_passphrase");
    gui.type(app, "abc");
    gui.clickItem(app, "confirm_passphrase");
    gui.type(app, "abc");
    gui.clickItem(app, "create");
    CHECK_FALSE(app.model().busy());
    CHECK_FALSE(app.model().storeExists());  // the button was disabled

    gui.clickItem(app, "new_passphrase");
    gui.type(app, "defg-hijk-lmno-42");  // appended: "abcdefg-hijk-lmno-42"
    gui.clickItem(app, "confirm_passphrase");
    gui.type(app, "defg-hijk-lmno-42");
    gui.clickItem(app, "create");
    app.model().waitForTasks();
    gui.frames(app, 2);
    CHECK(app.model().isUnlocked());
    CHECK(app.model().screen() == Screen::Visits);
    CHECK(app.itemRect(std::string("start_") + kFlagshipId));
}

TEST_CASE("end to end: unlock with Enter, start a visit, type an answer, it is saved", "[ui][view]") {
    auto dir = scratchDir("view-e2e");
    FakeClock clock;
    {
        AppModel model(makeConfig(dir, clock));
        createStore(model);
    }
    HeadlessImGui gui;
    std::string visitId;
    {
        FieldApp app(makeConfig(dir, clock));
        gui.frames(app, 2);
        REQUIRE(app.model().screen() == Screen::Unlock);
        gui.clickItem(app, "unlock_passphrase");
        gui.type(app, "wrong-passphrase-typed");
        gui.pressEnter(app);
        app.model().waitForTasks();
        gui.frames(app, 2);
        CHECK_FALSE(app.model().isUnlocked());
        CHECK_FALSE(app.model().error().empty());

        gui.clickItem(app, "unlock_passphrase");
        gui.type(app, kPassphrase);
        gui.clickItem(app, "unlock");
        app.model().waitForTasks();
        gui.frames(app, 2);
        REQUIRE(app.model().isUnlocked());

        gui.clickItem(app, std::string("start_") + kFlagshipId);
        REQUIRE(app.model().screen() == Screen::Form);
        visitId = app.model().session()->recordId();
        CHECK(questionAt(app) == "visit_date");

        // A date typed as text: half-typed it is not an answer yet, complete it is.
        gui.clickItem(app, "answer");
        gui.type(app, "2026-11");
        const Template& t = app.model().session()->survey();
        CHECK(app.model().session()->answer(t.indexOf("visit_date")).isEmpty());
        gui.type(app, "-23");
        REQUIRE(app.model().session()->answer(t.indexOf("visit_date")).kind() == ValueKind::Date);
        CHECK(formatIsoDate(app.model().session()->answer(t.indexOf("visit_date")).asDate()) == "2026-11-23");

        gui.clickItem(app, "next");
        CHECK(questionAt(app) == "officer_id");
        gui.clickItem(app, "answer");
        gui.type(app, "TUP-07");
        CHECK(app.model().session()->answer(t.indexOf("officer_id")).asText() == "TUP-07");
        CHECK(app.model().savedAt() != 0);

        gui.clickItem(app, "next");
        CHECK(questionAt(app) == "cluster");
        gui.clickItem(app, "choice_tiruppur_knitwear");
        CHECK(app.model().session()->answer(t.indexOf("cluster")).asText() == "tiruppur_knitwear");
        gui.clickItem(app, "next");
        CHECK(questionAt(app) == "unit_name");  // cluster_other is not relevant

        // Hindi at any moment: the text typed stays.
        gui.clickItem(app, "answer");
        gui.type(app, "Sri Velavan");
        gui.chooseLanguage(app, "hi");
        CHECK(app.model().languageIndex() == 1);
        CHECK(app.model().session()->answer(t.indexOf("unit_name")).asText() == "Sri Velavan");
        gui.clickItem(app, "answer");
        gui.type(app, " Knits");
        CHECK(app.model().session()->answer(t.indexOf("unit_name")).asText() == "Sri Velavan Knits");
        // The app is closed in the middle of the visit.
    }
    FieldApp app(makeConfig(dir, clock));
    gui.frames(app, 2);
    gui.clickItem(app, "unlock_passphrase");
    gui.type(app, kPassphrase);
    gui.pressEnter(app);
    app.model().waitForTasks();
    gui.frames(app, 2);
    REQUIRE(app.model().isUnlocked());
    gui.clickItem(app, "resume_" + visitId);
    REQUIRE(app.model().session());
    CHECK(questionAt(app) == "unit_name");
    const Template& t = app.model().session()->survey();
    CHECK(app.model().session()->answer(t.indexOf("unit_name")).asText() == "Sri Velavan Knits");
    CHECK(app.model().session()->answer(t.indexOf("officer_id")).asText() == "TUP-07");
    CHECK(app.model().languageCode() == "hi");
}

TEST_CASE("a number that does not parse is not taken - GPS needs latitude and longitude", "[ui][view]") {
    auto dir = scratchDir("view-number");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    createStore(app.model());
    REQUIRE(app.model().startVisit(kFlagshipId));
    Position year = app.model().session()->find("year_started");
    REQUIRE(year.valid());
    app.model().goTo(year);
    gui.frames(app, 2);
    gui.clickItem(app, "answer");
    gui.type(app, "2009");
    CHECK(app.model().session()->answer(year.question).asNumber() == 2009);
    gui.type(app, "..");
    CHECK(app.model().session()->answer(year.question).asNumber() == 2009);  // unchanged
    CHECK(app.itemRect("answer"));

    // GPS: an answer once latitude and longitude are both there.
    Position gps = app.model().session()->find("gps");
    REQUIRE(gps.valid());
    app.model().goTo(gps);
    gui.frames(app, 2);
    gui.clickItem(app, "gps_lat");
    gui.type(app, "11.1271");
    CHECK(app.model().session()->answer(gps.question).isEmpty());
    gui.clickItem(app, "gps_lon");
    gui.type(app, "77.3398");
    const Value& v = app.model().session()->answer(gps.question);
    REQUIRE(v.kind() == ValueKind::Geo);
    CHECK(v.asGeo().latitude == Approx(11.1271));
    CHECK(v.asGeo().longitude == Approx(77.3398));

    // A scale is a row of big buttons; "Don't know" sits beside every question that allows it.
    Position scale = app.model().session()->find("obs_electricity");
    REQUIRE(scale.valid());
    app.model().goTo(scale);
    gui.frames(app, 2);
    gui.clickItem(app, "choice_3");
    CHECK(app.model().session()->answer(scale.question).asNumber() == 3);
    auto zero = app.itemRect("choice_0"), four = app.itemRect("choice_4");
    REQUIRE(zero);
    REQUIRE(four);
    CHECK(zero->y0 == four->y0);  // side by side at normal text size
}

TEST_CASE("every question of the flagship draws, in both languages and both themes", "[ui][view]") {
    auto dir = scratchDir("view-walk");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    openCompleteFlagshipVisit(model);
    for (const char* language : {"en", "hi"}) {
        model.setLanguage(language);
        model.setHighContrast(std::string(language) == "hi");
        model.goTo(model.session()->first());
        model.setTextScale(std::string(language) == "hi" ? 2.0f : 1.0f);
        int steps = 0;
        bool footerOnScreen = true;
        do {
            gui.frame(app);
            ++steps;
            auto next = app.itemRect("next");
            footerOnScreen = footerOnScreen && next && next->y1 <= 800 && next->x1 <= 1280 && next->y1 - next->y0 >= 48;
        } while (model.next() && steps < 1000);
        CHECK(footerOnScreen);
        CHECK(steps > 100);
        CHECK(model.screen() == Screen::Review);  // Next after the last question reviews
        gui.frame(app);
        CHECK(model.problems().empty());
        CHECK(app.itemRect("finalise"));
    }
    for (Screen screen : {Screen::Sync, Screen::Enrolment, Screen::Settings, Screen::ChangePassphrase, Screen::Visits}) {
        model.show(screen);
        CHECK(model.screen() == screen);
        gui.frames(app, 2);
    }
    CHECK_FALSE(app.isAnimating());
}

TEST_CASE("review: a problem is a link to its question - Finalise works only when valid", "[ui][view]") {
    auto dir = scratchDir("view-review");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    model.setToday(testToday());
    REQUIRE(model.startVisit(kFlagshipId));
    gui.frame(app);
    gui.clickItem(app, "review");
    REQUIRE(model.screen() == Screen::Review);
    gui.clickItem(app, "finalise");  // disabled: nothing happens
    CHECK_FALSE(model.busy());
    CHECK(model.session());
    gui.clickItem(app, "first_problem");
    CHECK(model.screen() == Screen::Form);
    CHECK(questionAt(app) == "visit_date");

    auto answers = nlohmann::json::parse(readText(std::filesystem::path(CK_TEST_DATA_DIR) / "answers" / "knitwear-complete.json"));
    CHECK(model.applyAnswers(answers).empty());
    gui.frame(app);
    gui.clickItem(app, "review");
    gui.clickItem(app, "finalise");
    CHECK(app.isAnimating());  // finalising on the task thread (or its result not applied yet)
    model.waitForTasks();
    gui.frames(app, 2);
    CHECK_FALSE(app.isAnimating());
    CHECK(model.screen() == Screen::Visits);
    auto outbox = model.outbox();
    REQUIRE(outbox.size() == 1);
    CHECK(outbox[0].state == OutboxState::AwaitingKey);
}

TEST_CASE("the idle lock fires from drawFrame - a click counts as activity", "[ui][view]") {
    auto dir = scratchDir("view-idle");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    createStore(app.model());
    app.model().setIdleLockMinutes(1);
    gui.frame(app);
    clock.advance(50);
    gui.click(app, 5, 700);  // anywhere
    CHECK(app.secondsUntilNextTimer() == Approx(60).margin(0.01));
    clock.advance(59);
    gui.frame(app);
    CHECK(app.model().isUnlocked());
    clock.advance(2);
    gui.frame(app);
    CHECK_FALSE(app.model().isUnlocked());
    CHECK(app.model().screen() == Screen::Unlock);
}

TEST_CASE("the visits list scrolls by dragging and filters by unit name - high contrast is a setting", "[ui][view]") {
    auto dir = scratchDir("view-drag");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    for (int i = 0; i < 30; ++i) {
        REQUIRE(model.startVisit(kFlagshipId));
        REQUIRE(model.answer("unit_name", Value::text("Unit " + std::to_string(i))).ok());
        model.closeVisit();
    }
    gui.frames(app, 2);
    ImGuiWindow* list = nullptr;
    for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows)
        if (std::string(w->Name).find("visits") != std::string::npos) list = w;
    REQUIRE(list);
    CHECK(list->Scroll.y == 0);
    CHECK(list->ScrollMax.y > 100);
    // Start the drag on the "Last change" column, where no widget is.
    ImVec2 inside(list->Pos.x + list->Size.x * 0.6f, list->Pos.y + list->Size.y * 0.8f);
    gui.drag(app, inside.x, inside.y, 0, -200, 10);
    gui.frame(app);
    CHECK(list->Scroll.y > 50);

    // Search by unit name: only matching rows are drawn.
    std::string unit7, unit12;
    for (const auto& row : model.visits()) {
        if (row.visit.title == "Unit 7") unit7 = row.visit.id;
        if (row.visit.title == "Unit 12") unit12 = row.visit.id;
    }
    REQUIRE_FALSE(unit7.empty());
    gui.clickItem(app, "search");
    gui.type(app, "unit 7");
    gui.frame(app);
    CHECK(app.itemRect("resume_" + unit7));
    CHECK_FALSE(app.itemRect("resume_" + unit12));
    gui.clickItem(app, "resume_" + unit7);
    REQUIRE(model.session());
    CHECK(model.session()->recordId() == unit7);

    int generation = app.fontGeneration();
    model.show(Screen::Settings);
    gui.frame(app);
    gui.clickItem(app, "high_contrast");
    CHECK(app.highContrast());
    CHECK(app.fontGeneration() == generation);
}

TEST_CASE("a full disk when the first answer stores the visit: shown, the answer kept, saved once there is room", "[ui][view]") {
    // Starting a visit writes nothing (see "no draft on an accidental start"); the first
    // answer stores it, and that is where a full disk shows.
    auto dir = scratchDir("view-disk-full");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    gui.frames(app, 2);
    model.store()->setMaxFileBytes(0);  // no room beyond what the file holds now
    gui.clickItem(app, std::string("start_") + kFlagshipId);
    REQUIRE(model.session());
    std::string id = model.session()->recordId();
    Position officer = model.session()->find("officer_id");
    model.goTo(officer);
    gui.frame(app);
    gui.clickItem(app, "answer");
    gui.type(app, "TUP-07 " + std::string(60'000, 'a'));  // more than the file has room for
    CHECK_FALSE(model.saveError().empty());
    CHECK_FALSE(model.draftStored());
    CHECK_THAT(model.session()->answer(officer.question).asText(), Catch::StartsWith("TUP-07"));  // kept in the visit
    // Frames go on, and the officer can still work; with room again the next change stores it.
    gui.frames(app, 3);
    model.store()->setMaxFileBytes(1ull << 30);
    gui.clickItem(app, "answer");
    gui.type(app, "x");
    CHECK(model.saveError().empty());
    CHECK(model.draftStored());
    auto stored = model.store()->loadVisit(id);
    REQUIRE(stored.ok());
    REQUIRE(stored.value().find("officer_id"));
    CHECK_THAT(stored.value().find("officer_id")->value.asText(), Catch::StartsWith("TUP-07") && Catch::Contains("x"));
}

TEST_CASE("a 200-row repeat table builds only the rows in view, and all of them by scrolling", "[ui][view]") {
    auto dir = scratchDir("view-200-rows");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    const Template& t = model.session()->survey();
    int repeat = t.indexOf("product_lines");
    REQUIRE(repeat >= 0);
    REQUIRE(model.answer("consent", Value::text("yes")).ok());  // the section is asked only then
    while (model.session()->instanceCount(repeat) < 200) REQUIRE(model.addInstance(repeat) >= 0);
    Position first = model.session()->find("product", 0);
    REQUIRE(first.valid());
    model.goTo(first);
    gui.frames(app, 3);

    auto drawnRows = [&] {
        int n = 0;
        for (int i = 0; i < 200; ++i)
            if (app.itemRect("edit_row_product_lines_" + std::to_string(i))) ++n;
        return n;
    };
    REQUIRE(model.screen() == Screen::Form);
    REQUIRE(app.itemRect("add_row_product_lines"));
    CHECK(app.itemRect("edit_row_product_lines_0"));
    CHECK_FALSE(app.itemRect("edit_row_product_lines_199"));
    int visible = drawnRows();
    CHECK(visible > 0);
    CHECK(visible < 40);  // a screenful, not 200

    ImGuiWindow* pane = nullptr;
    for (ImGuiWindow* w : ImGui::GetCurrentContext()->Windows)
        if (std::string(w->Name).find("question") != std::string::npos) pane = w;
    REQUIRE(pane);
    CHECK(pane->ScrollMax.y > 200 * 40.0f);  // the full table is as tall as 200 touch-sized rows
    ImGui::SetScrollY(pane, pane->ScrollMax.y);
    gui.frames(app, 2);
    CHECK(app.itemRect("edit_row_product_lines_199"));
    CHECK_FALSE(app.itemRect("edit_row_product_lines_100"));  // (row 0 may be built: the clipper measures it)
    CHECK(drawnRows() < 40);

    // A row drawn by the clipper still works: Edit goes to that row.
    gui.clickItem(app, "edit_row_product_lines_199");
    REQUIRE(model.position().valid());
    CHECK(model.position().instance == 199);
}

namespace {

// The text one frame draws, read back from its draw lists: every glyph is a quad whose
// texture corners are that glyph's in the font atlas. Spaces draw nothing, so they are left
// out; compare with noSpaces(). (Dear ImGui's own text log stops at the first window's End.)
std::string drawnText(HeadlessImGui& gui, FieldApp& app) {
    gui.frame(app);
    struct GlyphUv {
        float u1, v1;
        unsigned codepoint;
    };
    std::map<std::pair<float, float>, GlyphUv> glyphs;
    for (ImFont* font : ImGui::GetIO().Fonts->Fonts)
        for (const ImFontGlyph& g : font->Glyphs)
            if (g.Visible) glyphs[{g.U0, g.V0}] = {g.U1, g.V1, g.Codepoint};
    std::string out;
    ImDrawData* data = ImGui::GetDrawData();
    for (int l = 0; data && l < data->CmdListsCount; ++l) {
        const ImVector<ImDrawVert>& v = data->CmdLists[l]->VtxBuffer;
        for (int i = 0; i + 3 < v.Size; ++i) {
            auto it = glyphs.find({v[i].uv.x, v[i].uv.y});
            if (it == glyphs.end() || v[i + 2].uv.x != it->second.u1 || v[i + 2].uv.y != it->second.v1) continue;
            unsigned cp = it->second.codepoint;
            if (cp < 0x80) {
                out += char(cp);
            } else if (cp < 0x800) {
                out += char(0xC0 | (cp >> 6));
                out += char(0x80 | (cp & 0x3F));
            } else {
                out += char(0xE0 | (cp >> 12));
                out += char(0x80 | ((cp >> 6) & 0x3F));
                out += char(0x80 | (cp & 0x3F));
            }
            i += 3;
        }
        out += "\n";
    }
    return out;
}

std::string noSpaces(std::string text) {
    text.erase(std::remove(text.begin(), text.end(), ' '), text.end());
    return text;
}

}  // namespace

TEST_CASE("${field} in labels and hints shows the answers on the form and in review, with repeat_count rows", "[ui][view]") {
    auto dir = scratchDir("view-interpolation");
    const auto templates = dir / "templates";
    std::filesystem::create_directories(templates);
    std::ofstream(templates / "shop.json") << R"({"id": "shop", "version": "1", "languages": ["en"], "title": "Shop",
      "sections": [{"id": "s", "label": "Shop ${shop_name}", "questions": [
        {"id": "shop_name", "type": "text", "label": "Shop name"},
        {"id": "workers", "type": "integer", "label": "Workers at ${shop_name}", "hint": "Everyone at ${shop_name} today",
         "required": true, "constraint": ". <= 5", "constraint_message": "At most 5 at ${shop_name}"},
        {"id": "staff", "type": "repeat", "label": "Staff of ${shop_name}", "repeat_count": "${workers}", "questions": [
          {"id": "person", "type": "text", "label": "Name"}]}]}]})";
    FakeClock clock;
    FieldAppConfig config = makeConfig(dir / "data", clock);
    config.templatesDir = templates;
    {
        AppModel setup(config);
        createStore(setup);
    }
    FieldApp app(config);
    HeadlessImGui gui;
    gui.frames(app, 2);
    unlockStore(app.model());
    gui.frames(app, 2);
    gui.clickItem(app, "start_shop");
    REQUIRE(app.model().screen() == Screen::Form);
    CHECK(questionAt(app) == "shop_name");
    gui.clickItem(app, "answer");
    gui.type(app, "Velavan");
    gui.clickItem(app, "next");
    REQUIRE(questionAt(app) == "workers");
    std::string text = drawnText(gui, app);
    INFO(text);
    CHECK_THAT(text, Catch::Contains(noSpaces("Workers at Velavan")) && Catch::Contains(noSpaces("Everyone at Velavan today")) &&
                         Catch::Contains(noSpaces("Shop Velavan")));
    CHECK(text.find("${shop_name}") == std::string::npos);

    gui.clickItem(app, "answer");
    gui.type(app, "7");
    text = drawnText(gui, app);
    CHECK_THAT(text, Catch::Contains(noSpaces("At most 5 at Velavan")));
    // The count makes the rows: 7, and the officer cannot add one.
    const Template& t = app.model().session()->survey();
    CHECK(app.model().session()->instanceCount(t.indexOf("staff")) == 7);
    CHECK_THAT(text, Catch::Contains(noSpaces("Staff of Velavan")));

    // Review lists the problem with the same texts.
    app.model().show(Screen::Review);
    text = drawnText(gui, app);
    CHECK_THAT(text, Catch::Contains(noSpaces("Workers at Velavan: At most 5 at Velavan")));
}

TEST_CASE("a browser that may clear the store: the visits screen and settings say so, with its estimate", "[ui][view]") {
    auto dir = scratchDir("view-storage");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    gui.frames(app, 2);
    // Desktop: the platform says nothing, the screens say nothing.
    CHECK_FALSE(app.itemRect("storage_warning"));

    StorageStatus refused;
    refused.persistent = false;
    refused.usageBytes = 3 * 1024 * 1024;
    refused.quotaBytes = 300 * 1024 * 1024;
    model.setStorageStatus(refused);
    gui.frames(app, 2);
    CHECK(app.itemRect("storage_warning"));
    model.show(Screen::Settings);
    gui.frames(app, 2);
    CHECK(app.itemRect("storage_persistence"));
    CHECK(app.itemRect("storage_usage"));

    StorageStatus kept = refused;
    kept.persistent = true;
    model.setStorageStatus(kept);
    model.show(Screen::Visits);
    gui.frames(app, 2);
    CHECK_FALSE(app.itemRect("storage_warning"));
}
