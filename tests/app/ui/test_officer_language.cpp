// Issue 10: every message the field app shows is in the officer's language. In Hindi mode a
// weak passphrase, a wrong one, an answer refused from a file, a template that will not
// install and damage in the store each read as Hindi sentences from assets/text/hi.json: no
// word in Latin letters other than those latin-allowed.json lets a translation keep. What is
// not the app's own (a question id, a file name, the loader's technical words) is named or
// quoted apart, and the tests take it out before they look for English.
#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/crypto/vault.h"
#include "core/messages/engine_messages.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::test;

namespace {

std::string without(std::string text, const std::string& part) {
    for (size_t at; !part.empty() && (at = text.find(part)) != std::string::npos;) text.erase(at, part.size());
    return text;
}

// The Hindi words of `text` hold no English: every Latin word is on the allow list.
void requireNoEnglish(const std::string& text) {
    INFO(text);
    CHECK(latinWordsNotAllowed(text).empty());
}

bool hasDevanagari(const std::string& text) {
    // U+0900..U+097F is E0 A4 80 .. E0 A5 BF in UTF-8.
    for (size_t i = 0; i + 1 < text.size(); ++i)
        if (static_cast<unsigned char>(text[i]) == 0xE0 &&
            (static_cast<unsigned char>(text[i + 1]) == 0xA4 || static_cast<unsigned char>(text[i + 1]) == 0xA5))
            return true;
    return false;
}

}  // namespace

TEST_CASE("the Latin-word check itself: English is found, allowed codes and names are not", "[ui][language]") {
    CHECK(latinWordsNotAllowed("पासफ़्रेज़ बहुत छोटा है").empty());
    CHECK(latinWordsNotAllowed("ClusterKit का GPS और JSON, UDYAM-TN-32-0012345").empty());
    CHECK(latinWordsNotAllowed("Template broken.json not imported") ==
          std::vector<std::string>{"Template", "broken", "json", "not", "imported"});
    CHECK(latinWordsNotAllowed("कारण: the aggregator") == std::vector<std::string>{"the", "aggregator"});
}

TEST_CASE("Hindi mode: a weak passphrase is refused in Hindi, with the minimum length from the code", "[ui][model][language]") {
    auto dir = scratchDir("hi-weak-passphrase");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    model.setLanguage("hi");

    // Every problem the vault can name, worded in Hindi: each its own sentence, no English.
    const std::pair<const char*, PassphraseProblem> cases[] = {
        {"abc", PassphraseProblem::TooShort},
        {"zzzzzzzzzzzz", PassphraseProblem::OneCharacterRepeated},
        {"qwertyuiop", PassphraseProblem::CommonPassword},
        {"Password@123", PassphraseProblem::CommonPasswordWithSuffix},
        {"abcdefghijkl", PassphraseProblem::OneKindOfCharacter},
    };
    std::vector<std::string> seen;
    for (const auto& [typed, problem] : cases) {
        INFO(typed);
        REQUIRE(ck::passphraseProblem(typed) == problem);
        auto words = model.passphraseProblem(typed);
        REQUIRE(words);
        CHECK(*words == passphraseProblemText(problem, "hi"));
        CHECK(hasDevanagari(*words));
        requireNoEnglish(*words);
        CHECK(words->find(typed) == std::string::npos);  // never repeats the passphrase
        seen.push_back(*words);
    }
    std::sort(seen.begin(), seen.end());
    CHECK(std::unique(seen.begin(), seen.end()) == seen.end());
    // The numbers come from the code, not from the table.
    CHECK(model.passphraseProblem("abc")->find(std::to_string(kMinPassphraseCharacters)) != std::string::npos);
    CHECK(model.passphraseProblem("abcdefghijkl")->find(std::to_string(kOneKindPassphraseCharacters)) != std::string::npos);
    CHECK_FALSE(model.passphraseProblem("नीम का पेड़ 42"));

    // The refusal of the command says the same, and nothing is created.
    CHECK_FALSE(model.createVault("abc", "abc"));
    CHECK(model.error() == passphraseProblemText(PassphraseProblem::TooShort, "hi"));
    CHECK_FALSE(model.storeExists());

    // English mode still says it in English (what ck-aggregator init prints, too).
    model.setLanguage("en");
    CHECK(*model.passphraseProblem("abc") == *checkPassphraseStrength("abc"));
    CHECK_THAT(*model.passphraseProblem("abc"), Catch::Contains("at least 10 characters"));
}

TEST_CASE("Hindi mode: the first-run screen shows the passphrase's problem in Hindi as it is typed", "[ui][view][language]") {
    auto dir = scratchDir("hi-first-run-screen");
    FakeClock clock;
    HeadlessImGui gui;
    FieldApp app(makeConfig(dir, clock));
    gui.frames(app, 2);
    gui.chooseLanguage(app, "hi");  // by the top bar's drop-down, as the officer would
    REQUIRE(app.model().languageCode() == "hi");
    gui.clickItem(app, "new_passphrase");
    gui.type(app, "qwertyuiop");
    gui.frames(app, 1);
    auto shown = app.itemRect("passphrase_problem");
    REQUIRE(shown);
    CHECK(shown->label == passphraseProblemText(PassphraseProblem::CommonPassword, "hi"));
    requireNoEnglish(shown->label);
}

TEST_CASE("Hindi mode: a wrong passphrase and a refused change of passphrase are said in Hindi", "[ui][model][language]") {
    auto dir = scratchDir("hi-wrong-passphrase");
    FakeClock clock;
    {
        AppModel model(makeConfig(dir, clock));
        createStore(model);
    }
    AppModel model(makeConfig(dir, clock));
    model.setLanguage("hi");
    REQUIRE(model.unlock("not the passphrase at all"));
    model.waitForTasks();
    CHECK_FALSE(model.isUnlocked());
    CHECK(model.error() == uiText(Text::WrongPassphrase, "hi"));
    requireNoEnglish(model.error());
    unlockStore(model);
    REQUIRE(model.changePassphrase("wrong old one 123", "नीम का पेड़ 42", "नीम का पेड़ 42"));
    model.waitForTasks();
    CHECK(model.error() == uiText(Text::WrongPassphrase, "hi"));
}

TEST_CASE("Hindi mode: answers refused from a file are Hindi sentences naming the question", "[ui][model][language]") {
    auto dir = scratchDir("hi-apply-answers");
    FakeClock clock;
    AppModel model(makeConfig(dir, clock));
    createStore(model);
    model.setLanguage("hi");
    REQUIRE(model.startVisit(kFlagshipId));
    auto answers = nlohmann::json::parse(R"({
        "no_such_question": 1,
        "shifts": "two",
        "segment": "no_such_segment",
        "product": "cotton",
        "product_lines": {"product": "x"},
        "working_days": 300
    })");
    auto problems = model.applyAnswers(answers);
    // Five refused, by question; the valid answer is taken.
    std::map<std::string, std::string> byQuestion;
    for (const auto& p : problems) byQuestion[p.questionId] = p.message;
    INFO(Catch::Detail::stringify(byQuestion));
    REQUIRE(byQuestion.size() == 5);
    CHECK(byQuestion["no_such_question"] == engineText(EngineText::NoSuchQuestion, "hi", {"no_such_question"}));
    CHECK(byQuestion["product"] == engineText(EngineText::AnswerBelongsToRepeat, "hi", {"product", "product_lines"}));
    CHECK(byQuestion["product_lines"] == engineText(EngineText::AnswerRepeatNeedsList, "hi", {"product_lines"}));
    for (const auto& [id, message] : byQuestion) {
        // Only the ids and the value given are in Latin letters; the words around them are Hindi.
        std::string words = message;
        for (const char* given : {"no_such_question", "no_such_segment", "product_lines", "product", "segment", "shifts", "'"})
            words = without(words, given);
        INFO(id << ": " << message);
        CHECK(hasDevanagari(message));
        requireNoEnglish(words);
    }
    REQUIRE(model.session());
    const Question* days = model.session()->survey().find("working_days");
    REQUIRE(days);
    CHECK(model.session()->answer(days->index).asNumber() == 300);
    // The shape of the whole document, too.
    auto notObject = model.applyAnswers(nlohmann::json::array({1, 2}));
    REQUIRE(notObject.size() == 1);
    CHECK(notObject[0].message == engineText(EngineText::AnswersNotObject, "hi"));
    requireNoEnglish(notObject[0].message);
}

TEST_CASE("Hindi mode: a template that will not install is said in Hindi, the loader's words quoted apart", "[ui][model][language]") {
    auto dir = scratchDir("hi-broken-template");
    auto templates = dir / "templates";
    std::filesystem::create_directories(templates);
    std::ofstream(templates / "broken.json") << R"({"id": "broken", "version": "1", "languages": ["en"], "sections": [)";
    FakeClock clock;
    FieldAppConfig config = makeConfig(dir / "data", clock);
    config.templatesDir = templates;
    AppModel model(config);
    model.setLanguage("hi");
    createStore(model);

    const std::string notice = model.notice();
    INFO(notice);
    const std::string sentence = notice.substr(0, notice.find('\n'));
    CHECK(sentence == fillPlaceholders(uiText(Text::TemplateNotInstalled, "hi"), {"broken.json"}));
    requireNoEnglish(without(sentence, "broken.json"));
    // The loader's own words follow on their own line, quoted and said to be for the coordinator.
    const std::string detail = notice.substr(notice.find('\n') + 1);
    const std::string intro = uiText(Text::TechnicalDetail, "hi");
    CHECK(detail.rfind(intro.substr(0, intro.find("{0}")), 0) == 0);
    CHECK(detail.find("“") != std::string::npos);
    CHECK(model.templates().empty());

    // In English the same, in English.
    model.lock();
    model.setLanguage("en");
    unlockStore(model);
    CHECK_THAT(model.notice(), Catch::StartsWith("The survey template “broken.json” could not be installed"));
}

TEST_CASE("every refusal code and store problem has its own words in the five other languages, no English left", "[ui][model][language]") {
    // The words themselves, in every language: translated (not the English copied) and
    // carrying their placeholder. The sync test shows them on the screen (test_app_sync).
    for (const char* lang : {"hi", "ta", "gu", "mr", "bn"}) {
        INFO(lang);
        for (Text key : {Text::VisitRefusedConflict, Text::VisitRefusedUnknownTemplate, Text::VisitRefusedBadSignature,
                         Text::VisitRefusedCannotOpen, Text::VisitRefusedBadContent, Text::VisitRefusedOther,
                         Text::StoreDamaged, Text::StoreRefused, Text::WrongPassphrase, Text::OutboxEntryDamaged,
                         Text::CommentDamaged, Text::StoredVisitDamaged}) {
            INFO(uiTextName(key));
            CHECK(std::string(uiText(key, lang)) != uiText(key, "en"));
            requireNoEnglish(uiText(key, lang));
        }
        for (Text key : {Text::TemplateNotInstalled, Text::TemplateSignatureBad, Text::TemplateNotThatOne,
                         Text::AggregatorWrote, Text::TechnicalDetail}) {
            INFO(uiTextName(key));
            CHECK(std::string(uiText(key, lang)).find("{0}") != std::string::npos);
            requireNoEnglish(without(uiText(key, lang), "{0}"));
        }
    }
    // Each refusal code has its own sentence; an unknown code or none gets the general one.
    CHECK(std::string(visitRefusalWords("conflict", "hi")) == uiText(Text::VisitRefusedConflict, "hi"));
    CHECK(std::string(visitRefusalWords("unknown_template", "hi")) == uiText(Text::VisitRefusedUnknownTemplate, "hi"));
    CHECK(std::string(visitRefusalWords("bad_content", "hi")) == uiText(Text::VisitRefusedBadContent, "hi"));
    CHECK(std::string(visitRefusalWords("", "hi")) == uiText(Text::VisitRefusedOther, "hi"));
    CHECK(std::string(visitRefusalWords("a_code_from_a_newer_aggregator", "hi")) == uiText(Text::VisitRefusedOther, "hi"));
}
