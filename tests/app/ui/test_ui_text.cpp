// The app's own words in every language it ships (ui_text.h, assets/text): the tables are
// complete, the screens switch their labels with the language setting, and the widget ids the
// tests and ImGui use stay the same.
#include <set>

#include <catch2/catch.hpp>

#include "app/ui/ui_text.h"
#include "core/messages/text_tables.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

TEST_CASE("every text has English and its own words in hi, ta, gu, mr and bn, English the fallback", "[ui][text]") {
    std::set<std::string> codes;
    for (const auto& l : uiLanguages()) codes.insert(l.code);
    CHECK(codes == std::set<std::string>{"bn", "en", "gu", "hi", "mr", "ta"});
    CHECK(uiLanguages().front().code == "en");
    CHECK(std::string(uiLanguageName("ta")) == "தமிழ்");
    CHECK(std::string(uiLanguageName("hi")) == "हिन्दी");
    CHECK(uiLanguageName("pa") == nullptr);  // a template language without the app's words
    for (size_t i = 0; i < size_t(Text::Count_); ++i) {
        Text key = Text(i);
        std::string en = uiText(key, "en");
        INFO("key " << uiTextName(key));
        CHECK_FALSE(en.empty());
        CHECK(en.find("###") == std::string::npos);
        REQUIRE(shippedText("app", 0, uiTextName(key)) != nullptr);
        for (const char* lang : {"hi", "ta", "gu", "mr", "bn"}) {
            INFO(lang);
            int index = shippedLanguageIndex(lang);
            REQUIRE(index > 0);
            const char* own = shippedText("app", size_t(index), uiTextName(key));
            REQUIRE(own != nullptr);  // its own table has the key: not English by fallback
            CHECK(std::string(uiText(key, lang)) == own);
            if (key != Text::AppName) CHECK(std::string(own) != en);
        }
        // A language without a table, or none, shows English.
        CHECK(std::string(uiText(key, "xx")) == en);
        CHECK(std::string(uiText(key, "")) == en);
    }
    CHECK(std::string(uiText(Text::Required, "hi")) == "ज़रूरी");
    CHECK(std::string(uiText(Text::Required, "ta")) == "கட்டாயம்");
    CHECK(labelId(Text::Resume, "hi", "resume") == "जारी रखें###resume");
    CHECK(uiTextCount(Text::ProblemsBeforeFinalise, "en", 3) == "3 problem(s) to fix before finalising");
    CHECK(uiTextCount(Text::AnsweredOf, "hi", 12, 40) == "40 में से 12 के उत्तर दिए");
    CHECK(uiTextCount(Text::AnsweredOf, "bn", 12, 40) == "40টির মধ্যে 12টির উত্তর দেওয়া হয়েছে");
    // Every {n} is filled: a sentence may name its group twice.
    CHECK(uiTextCount(Text::EnrolStringGroupCheck, "gu", 7) ==
          "નોંધણી સ્ટ્રિંગના જૂથ 7 માં ટાઇપની ભૂલ છે. જૂથ 7 ને સ્લિપ સાથે સરખાવો.");
    CHECK(std::string(uiText(Text(9999), "hi")).empty());  // never crashes on a bad key
}

TEST_CASE("High contrast is high contrast in Hindi, and the app's Hindi uses the template's words", "[ui][text]") {
    // It said "dark colours" (गहरे रंग) before.
    CHECK(std::string(uiText(Text::HighContrast, "hi")) == "उच्च कंट्रास्ट (धूप में पढ़ने के लिए)");
    // The flagship's Hindi says भेंट for a visit and तस्वीर for a photo (survey-templates/glossary/hi.json).
    for (size_t i = 0; i < size_t(Text::Count_); ++i) {
        std::string hi = uiText(Text(i), "hi");
        INFO(uiTextName(Text(i)) << ": " << hi);
        CHECK(hi.find("विज़िट") == std::string::npos);
        CHECK(hi.find("फ़ोटो") == std::string::npos);
        CHECK(hi.find("गहरे रंग") == std::string::npos);
    }
    CHECK(std::string(uiText(Text::CloseVisit, "hi")) == "भेंट बंद करें");
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

    gui.chooseLanguage(app, "hi");
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
    CHECK(app.itemRect("close_visit")->label == "भेंट बंद करें");
    CHECK_FALSE(model.finalise());  // the empty visit has problems
    CHECK(model.error().find("पूरा करने से पहले") != std::string::npos);

    // Back to English: the same widgets say English again; nothing typed was lost.
    gui.chooseLanguage(app, "en");
    CHECK(model.languageCode() == "en");
    CHECK(app.itemRect("next")->label == "Next >");
    CHECK_FALSE(model.finalise());
    CHECK(model.error() == uiTextCount(Text::ProblemsBeforeFinalise, "en", model.problems().size()));
}
