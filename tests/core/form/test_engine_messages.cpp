// The engine's own messages in every language ClusterKit ships (core/messages): standard
// required / constraint messages, refused number entries, answers of the wrong kind, JSON
// answers, the money words; English when a language has no table.
#include <set>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/form/answers_json.h"
#include "core/form/form_session.h"
#include "core/form/number_entry.h"
#include "core/messages/engine_messages.h"
#include "core/messages/text_tables.h"
#include "core/template/template_loader.h"

using namespace ck;

namespace {

const char* const kLanguages[] = {"en", "hi", "ta", "gu", "mr", "bn"};

// The Unicode block each language's words are written in (the first code point of a word).
bool inScriptOf(const std::string& language, const std::string& text) {
    std::pair<unsigned, unsigned> block = language == "ta"   ? std::pair{0x0B80u, 0x0BFFu}
                                          : language == "gu" ? std::pair{0x0A80u, 0x0AFFu}
                                          : language == "bn" ? std::pair{0x0980u, 0x09FFu}
                                                             : std::pair{0x0900u, 0x097Fu};
    for (size_t i = 0; i + 2 < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        if ((c >> 4) != 14) continue;
        unsigned cp = (c & 0x0Fu) << 12 | (static_cast<unsigned char>(text[i + 1]) & 0x3Fu) << 6 |
                      (static_cast<unsigned char>(text[i + 2]) & 0x3Fu);
        if (cp >= block.first && cp <= block.second) return true;
    }
    return false;
}

std::shared_ptr<const Template> smallTemplate() {
    auto r = loadTemplateJson(R"({"id": "m", "version": "1", "languages": ["en", "ta"],
      "title": {"en": "M", "ta": "எம்"},
      "choices": {"yn": [{"name": "yes", "label": {"en": "Yes", "ta": "ஆம்"}}, {"name": "no", "label": {"en": "No", "ta": "இல்லை"}}]},
      "sections": [{"id": "s", "label": {"en": "S", "ta": "எஸ்"}, "questions": [
        {"id": "workers", "type": "integer", "label": {"en": "Workers", "ta": "தொழிலாளர்கள்"}, "required": true},
        {"id": "women", "type": "percent", "label": {"en": "Women", "ta": "பெண்கள்"}},
        {"id": "export", "type": "select_one", "choices": "yn", "label": {"en": "Exports?", "ta": "ஏற்றுமதி?"}}]}]})", "m.json");
    REQUIRE(r.ok());
    return r.survey;
}

}  // namespace

TEST_CASE("engine messages: every key has words in all six languages, in their scripts, with the same placeholders", "[form][messages]") {
    std::set<std::string> codes;
    for (const auto& l : shippedLanguages()) codes.insert(l.code);
    CHECK(codes == std::set<std::string>{"bn", "en", "gu", "hi", "mr", "ta"});
    CHECK(shippedLanguages().front().code == "en");
    for (size_t k = 0; k < size_t(EngineText::Count_); ++k) {
        EngineText key = EngineText(k);
        INFO(engineTextName(key));
        std::string en = engineText(key, "en");
        CHECK_FALSE(en.empty());
        CHECK(shippedText("engine", 0, engineTextName(key)) != nullptr);
        for (const char* lang : kLanguages) {
            if (std::string(lang) == "en") continue;
            INFO(lang);
            int index = shippedLanguageIndex(lang);
            REQUIRE(index > 0);
            const char* own = shippedText("engine", size_t(index), engineTextName(key));
            REQUIRE(own != nullptr);  // not the English fallback
            CHECK(std::string(own) != en);
            CHECK(inScriptOf(lang, own));
            for (const char* p : {"{0}", "{1}", "{2}"})
                CHECK((en.find(p) == std::string::npos) == (std::string(own).find(p) == std::string::npos));
        }
    }
    // A language without a table, or none, gives English; a bad key gives "".
    CHECK(std::string(engineText(EngineText::RequiredStandard, "xx")) == "This question needs an answer");
    CHECK(std::string(engineText(EngineText::RequiredStandard, "")) == "This question needs an answer");
    CHECK(std::string(engineText(EngineText::Count_, "ta")).empty());
    CHECK(engineText(EngineText::NoSuchQuestion, "en", {"q7"}) == "'q7': there is no such question");
    // Filled in one pass: a value holding "{1}" is not filled again.
    CHECK(fillPlaceholders("{0} and {1}", {"{1}", "b"}) == "{1} and b");
}

TEST_CASE("engine messages: number entry refusals and money words follow the officer's language", "[form][messages]") {
    CHECK(numberEntryMessage(NumberEntryProblem::Letters, QuestionType::Integer, "ta") ==
          "ஏற்கப்படவில்லை: இங்கே எண்கள் மட்டும் எழுதவும், எ.கா. 1250 அல்லது 12.5");
    CHECK(numberEntryMessage(NumberEntryProblem::OutOfRange, QuestionType::Percent, "bn") == "নেওয়া হয়নি: শতাংশ 0 থেকে 100-এর মধ্যে হয়");
    CHECK(numberEntryMessage(NumberEntryProblem::Letters, QuestionType::Money, "gu").find("લાખ") != std::string::npos);
    CHECK(numberEntryMessage(NumberEntryProblem::NotWhole, QuestionType::Integer, "xx") ==
          numberEntryMessage(NumberEntryProblem::NotWhole, QuestionType::Integer, "en"));
    CHECK(rupeesInWords(500000, "ta") == "₹5 லட்சம்");
    CHECK(rupeesInWords(20000000, "mr") == "₹2 कोटी");
    CHECK(rupeesInWords(1234567, "bn") == "≈₹12.35 লাখ");
    CHECK(rupeesInWords(15000000, "gu") == "₹1.5 કરોડ");
    // ... and the officer may type them: "5 லட்சம்" is 500000, "2 কোটি" 20000000.
    for (auto [typed, value] : {std::pair{"5 லட்சம்", 500000.0}, {"2 কোটি", 2e7}, {"3 લાખ", 3e5}, {"1.5 कोटी", 1.5e7},
                                {"12 ஆயிரம்", 12000.0}, {"৪ লক্ষ", 4e5}}) {
        INFO(typed);
        NumberEntry e = parseNumberEntry(typed, QuestionType::Money);
        CHECK(e.ok());
        REQUIRE(e.value);
        CHECK(*e.value == value);
        CHECK(e.multiplied);
        // In a count, a multiplier word is letters: refused, never read as the bare figure.
        CHECK(parseNumberEntry(typed, QuestionType::Integer).problem == NumberEntryProblem::Letters);
    }
}

TEST_CASE("engine messages: a refused answer and the standard problems in Tamil, English kept for English", "[form][messages]") {
    FormSession session(smallTemplate());
    AnswerResult wrong = session.setAnswer("workers", Value::text("many"));
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.message == "'workers' takes a whole number, not text");  // English as before
    CHECK(wrong.messageIn("en") == wrong.message);
    CHECK(wrong.messageIn("ta") == "'workers' க்கு முழு எண் தேவை, எழுத்துப் பதில் அல்ல");
    CHECK(wrong.messageIn("hi") == "'workers' में पूर्ण संख्या चाहिए, लिखित उत्तर नहीं");

    AnswerResult range = session.setAnswer("women", Value::number(140));
    CHECK(range.message == "'women' is a percentage between 0 and 100");
    CHECK(range.messageIn("gu") == "'women' ટકાવારી છે: 0 થી 100 વચ્ચે");
    AnswerResult choice = session.setAnswer("export", Value::text("maybe"));
    CHECK(choice.message == "'maybe' is not a choice of 'export'");
    CHECK(choice.messageIn("bn") == "'maybe' প্রশ্ন 'export'-এর বিকল্প নয়");
    // A programmer's mistake stays English in every language.
    AnswerResult unknown = session.setAnswer("nope", Value::number(1));
    CHECK(unknown.messageIn("ta") == unknown.message);

    // The standard "required" message in the template's second language (Tamil).
    auto problems = session.validate(1);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].questionId == "workers");
    CHECK(problems[0].message == "இந்தக் கேள்விக்குப் பதில் தேவை");
    CHECK(session.validate(0)[0].message == "This question needs an answer");
}

TEST_CASE("engine messages: answers from a JSON file are refused in the language asked for", "[form][messages]") {
    FormSession session(smallTemplate());
    auto answers = nlohmann::json::parse(R"({"workers": "twelve", "women": 140, "nosuch": 1})");
    auto ta = applyAnswersJson(session, answers, "ta");
    REQUIRE(ta.size() == 3);
    std::set<std::string> messages;
    for (const auto& p : ta) messages.insert(p.message);
    CHECK(messages.count("'workers': இங்கே எண் தேவை"));
    CHECK(messages.count("'women' ஒரு சதவீதம்: 0 முதல் 100 வரை"));
    CHECK(messages.count("'nosuch': அப்படி ஒரு கேள்வி இல்லை"));
    FormSession again(smallTemplate());
    auto en = applyAnswersJson(again, answers);
    std::set<std::string> english;
    for (const auto& p : en) english.insert(p.message);
    CHECK(english.count("'workers': expected a number"));
    CHECK(english.count("'nosuch': there is no such question"));
}
