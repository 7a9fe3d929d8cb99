// The app's words on its main screens in each of its six languages, drawn for real: the field
// app runs headless with the shaping engine installed (HarfBuzz, the Noto fonts of
// assets/fonts), and the test reads back the text of every line the engine drew. In each
// language the screens draw that language's words (from assets/text) and not the English
// ones; the language switch offers the templates' languages, by their own names.
#include <filesystem>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "app/ui/text/text_engine.h"
#include "app/ui/ui_text.h"
#include "core/form/number_entry.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

namespace {

const char* const kLanguages[] = {"en", "hi", "ta", "gu", "mr", "bn"};

// A template in all six languages beside the flagship (en, hi), so the switch has them all.
constexpr const char* kSixLanguages = R"j({"id": "mini-six", "version": "1", "languages": ["en", "hi", "ta", "gu", "mr", "bn"],
  "title": {"en": "Six languages", "hi": "छह भाषाएँ", "ta": "ஆறு மொழிகள்", "gu": "છ ભાષાઓ", "mr": "सहा भाषा", "bn": "ছয় ভাষা"},
  "sections": [{"id": "s", "label": {"en": "Workers", "hi": "कामगार", "ta": "தொழிலாளர்கள்", "gu": "કામદારો", "mr": "कामगार", "bn": "শ্রমিক"},
    "questions": [{"id": "workers", "type": "integer", "required": true,
      "label": {"en": "Workers today", "hi": "आज के कामगार", "ta": "இன்றைய தொழிலாளர்கள்", "gu": "આજના કામદારો", "mr": "आजचे कामगार", "bn": "আজকের শ্রমিক"}}]}]})j";

// ImGui with the engine installed (as platforms/desktop does) and the lines it drew.
struct ShapedApp {
    std::unique_ptr<text::TextEngine> engine;
    std::set<std::string> lines;

    ShapedApp() {
        ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(1600, 1000);
        io.DeltaTime = 1.0f / 60.0f;
        std::string error;
        engine = text::TextEngine::load(std::filesystem::path(CK_SOURCE_DIR) / "assets" / "fonts", error);
        INFO(error);
        REQUIRE(engine);
        io.FontDefault = engine->addFonts(*io.Fonts, 18.0f);
        io.Fonts->Build();
        engine->atlasBuilt(*io.Fonts);
        engine->install();
        engine->setDrawObserver([this](const text::DrawnGlyph& g) { lines.emplace(g.line); });
    }
    ~ShapedApp() {
        engine.reset();
        ImGui::DestroyContext();
    }
    void frame(FieldApp& app) {
        lines.clear();
        ImGui::NewFrame();
        app.drawFrame();
        ImGui::Render();
    }
    // Two frames (the first lays out), the lines of the second.
    void show(FieldApp& app) {
        frame(app);
        frame(app);
    }
    // A click (mouse down one frame, up the next) on the widget recorded as `name`; the lines
    // are those of the frame after it.
    void click(FieldApp& app, const std::string& name) {
        auto r = app.itemRect(name);
        REQUIRE(r);
        ImGuiIO& io = ImGui::GetIO();
        io.MousePos = ImVec2(r->centerX(), r->centerY());
        frame(app);
        io.MouseDown[0] = true;
        frame(app);
        io.MouseDown[0] = false;
        frame(app);
        show(app);
    }
    bool drew(const std::string& words) const {
        for (const auto& l : lines)
            if (l.find(words) != std::string::npos) return true;
        return false;
    }
};

}  // namespace

TEST_CASE("languages: the main screens draw the app's words in en, hi, ta, gu, mr and bn, and not the English ones", "[ui][text][languages]") {
    auto dir = scratchDir("languages");
    auto templates = dir / "templates";
    std::filesystem::create_directories(templates);
    std::filesystem::copy_file(std::filesystem::path(CK_SOURCE_DIR) / "survey-templates" / "cluster-diagnostic.json",
                               templates / "cluster-diagnostic.json");
    std::ofstream(templates / "mini-six.json") << kSixLanguages;
    FakeClock clock;
    ShapedApp gui;
    FieldAppConfig config = makeConfig(dir / "data", clock);
    config.templatesDir = templates;
    FieldApp app(config);
    AppModel& model = app.model();
    createStore(model);

    // With no visit open the switch offers every installed template's languages.
    CHECK(model.offeredLanguages() == std::vector<std::string>{"en", "hi", "ta", "gu", "mr", "bn"});

    struct ScreenWords {
        const char* screen;
        std::vector<Text> words;
    };
    for (const char* lang : kLanguages) {
        INFO("language " << lang);
        model.setLanguage(lang);
        gui.engine->setLanguage(lang);
        const bool english = std::string(lang) == "en";
        auto check = [&](const char* screen, std::initializer_list<Text> keys) {
            INFO("screen " << screen);
            for (Text key : keys) {
                INFO(uiTextName(key));
                CHECK(gui.drew(uiText(key, lang)));
                // The English words of that key are not on the screen (unless they are the same).
                if (!english && std::string(uiText(key, "en")) != uiText(key, lang)) CHECK_FALSE(gui.drew(uiText(key, "en")));
            }
        };

        model.show(Screen::Visits);
        gui.show(app);
        check("visits", {Text::NavVisits, Text::NavSync, Text::NavEnrolment, Text::NavSettings, Text::NavLock,
                         Text::SearchByUnitName, Text::NoVisitsYet});
        // The top bar's drop-down shows the language chosen by its own name; opened (a click on
        // it), its list offers every language the templates declare, each by its own name.
        CHECK(gui.drew(uiLanguageName(lang)));
        gui.click(app, "language");
        for (const char* name : {"English", "हिन्दी", "தமிழ்", "ગુજરાતી", "मराठी", "বাংলা"}) {
            INFO(name);
            CHECK(gui.drew(name));
        }
        gui.click(app, "language");  // closes the list again

        model.show(Screen::Sync);
        gui.show(app);
        check("sync", {Text::SyncNow, Text::ExportBundle, Text::ImportReceipt, Text::EnrolDevice, Text::NoNetwork});

        model.show(Screen::Enrolment);
        gui.show(app);
        check("enrolment", {Text::Enrol, Text::ReadFromFile, Text::EnrolTypeApart, Text::AggregatorAddress, Text::ServerKey,
                            Text::OneTimeCode});

        model.show(Screen::Settings);
        gui.show(app);
        check("settings", {Text::Language, Text::TextSize, Text::HighContrast, Text::SizeSmall, Text::SizeLargest,
                           Text::ChangePassphraseEllipsis});

        // The form of the six-language template: the app's words and the template's, both in `lang`.
        REQUIRE(model.startVisit("mini-six"));
        gui.show(app);
        check("form", {Text::Next, Text::CloseVisit, Text::ReviewAndFinalise, Text::Required, Text::NavForm});
        CHECK(model.offeredLanguages() == std::vector<std::string>{"en", "hi", "ta", "gu", "mr", "bn"});
        // A number refused at the field is refused in the officer's language.
        model.keepTyped(model.position(), "12 lakh");
        CHECK(model.typedReason(model.position()) == numberEntryMessage(NumberEntryProblem::Letters, QuestionType::Integer, lang));
        gui.show(app);
        CHECK(gui.drew(numberEntryMessage(NumberEntryProblem::Letters, QuestionType::Integer, lang)));
        // ... and the standard "required" message of the engine, in review, in the template's language.
        auto problems = model.problems();
        REQUIRE_FALSE(problems.empty());
        model.forgetTyped(model.position());
        model.closeVisit();
    }

    // A flagship visit offers its own languages (all six), the one chosen now (Tamil) among them.
    model.setLanguage("ta");
    REQUIRE(model.startVisit(kFlagshipId));
    CHECK(model.offeredLanguages() == std::vector<std::string>{"en", "hi", "ta", "gu", "mr", "bn"});
    gui.show(app);
    CHECK(gui.drew(uiText(Text::CloseVisit, "ta")));  // the app's words in Tamil, and the questions too
    model.closeVisit();
}
