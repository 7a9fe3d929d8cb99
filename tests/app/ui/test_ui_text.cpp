// The app's own words in English and Hindi (ui_text.h): the table is complete, the screens
// switch their labels with the language setting, and the widget ids the tests and ImGui use
// stay the same.
#include <set>

#include <catch2/catch.hpp>

#include "app/ui/ui_text.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

TEST_CASE("every text has English, Hindi where given, and English as the fallback", "[ui][text]") {
    std::set<std::string> english;
    size_t hindi = 0;
    for (size_t i = 0; i < size_t(Text::Count_); ++i) {
        Text key = Text(i);
        std::string en = uiText(key, "en");
        INFO("key " << i);
        CHECK_FALSE(en.empty());
        CHECK(en.find("###") == std::string::npos);
        std::string hi = uiText(key, "hi");
        CHECK_FALSE(hi.empty());
        if (hi != en) ++hindi;
        // Any other language, or none, shows English.
        CHECK(std::string(uiText(key, "ta")) == en);
        CHECK(std::string(uiText(key, "")) == en);
    }
    CHECK(hindi + 1 >= size_t(Text::Count_));  // all but the app's name are translated
    CHECK(std::string(uiText(Text::Required, "hi")) == "ज़रूरी");
    CHECK(labelId(Text::Resume, "hi", "resume") == "जारी रखें###resume");
    CHECK(uiTextCount(Text::ProblemsBeforeFinalise, "en", 3) == "3 problem(s) to fix before finalising");
    CHECK(uiTextCount(Text::AnsweredOf, "hi", 12, 40) == "40 में से 12 के उत्तर दिए");
    CHECK(std::string(uiText(Text(9999), "hi")).empty());  // never crashes on a bad key
}

TEST_CASE("switching to Hindi switches the screens' labels and keeps their ids", "[ui][text][view]") {
    auto dir = scratchDir("view-hindi");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    REQUIRE(model.startVisit(kFlagshipId));
    REQUIRE(model.answer("officer_id", Value::text("TUP-07")).ok());  // stored with its first answer
    std::string id = model.session()->recordId();
    model.closeVisit();
    gui.frames(app, 2);

    REQUIRE(app.itemRect("resume_" + id));
    CHECK(app.itemRect("resume_" + id)->label == "Resume");
    REQUIRE(app.itemRect("tab_Sync"));
    CHECK(app.itemRect("tab_Sync")->label == "Sync");
    CHECK(app.itemRect("lock")->label == "Lock");

    gui.clickItem(app, "lang_hi");
    CHECK(model.languageCode() == "hi");
    REQUIRE(app.itemRect("resume_" + id));  // same id, new words
    CHECK(app.itemRect("resume_" + id)->label == "जारी रखें");
    CHECK(app.itemRect("tab_Sync")->label == "सिंक");
    CHECK(app.itemRect("lock")->label == "लॉक करें");

    // The form and the review in Hindi: buttons and the model's own messages.
    gui.clickItem(app, "resume_" + id);
    REQUIRE(model.screen() == Screen::Form);
    REQUIRE(app.itemRect("next"));
    CHECK(app.itemRect("next")->label == "आगे >");
    CHECK(app.itemRect("close_visit")->label == "विज़िट बंद करें");
    CHECK_FALSE(model.finalise());  // the empty visit has problems
    CHECK(model.error().find("पूरा करने से पहले") != std::string::npos);

    // Back to English: the same widgets say English again; nothing typed was lost.
    gui.clickItem(app, "lang_en");
    CHECK(model.languageCode() == "en");
    CHECK(app.itemRect("next")->label == "Next >");
    CHECK_FALSE(model.finalise());
    CHECK(model.error() == uiTextCount(Text::ProblemsBeforeFinalise, "en", model.problems().size()));
}
