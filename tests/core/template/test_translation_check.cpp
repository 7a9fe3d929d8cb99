// The translation check (core/template/translation_check.h): small broken inputs fail with a
// message naming the place, the language and the words; the shipped templates and the app's
// word tables pass for the languages each declares; the glossary only ever warns.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/template/translation_check.h"

using namespace ck;
using Kind = TranslationFinding::Kind;

namespace {

std::string readFile(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

TranslationRules rulesFor(std::vector<std::string> languages) {
    TranslationRules r;
    r.languages = std::move(languages);
    r.latinAllowed = {"GST", "MSME", "Udyam", "UDYAM", "ZED"};
    return r;
}

std::vector<TranslationFinding> errorsOf(const std::vector<TranslationFinding>& all) {
    std::vector<TranslationFinding> out;
    for (const auto& f : all)
        if (f.isError()) out.push_back(f);
    return out;
}

// The findings for one text of a one-question template declaring `languages`.
std::vector<TranslationFinding> checkLabel(const std::string& labelJson, std::vector<std::string> languages,
                                           const TranslationRules* base = nullptr) {
    std::string langs;
    for (const auto& l : languages) langs += (langs.empty() ? "\"" : ", \"") + l + "\"";
    std::string doc = R"({"id": "t", "languages": [)" + langs + R"(], "sections": [{"id": "s1", "questions": [)"
                      R"({"id": "workers", "type": "integer", "label": )" + labelJson + "}]}]}";
    TranslationSource src = templateTranslations(doc);
    REQUIRE(src.error.empty());
    REQUIRE(src.texts.size() == 1);
    TranslationRules rules = base ? *base : rulesFor(languages);
    rules.languages = languages;
    return checkTranslations(src.texts, rules);
}

}  // namespace

TEST_CASE("translation check: a language the template declares is missing, named with the place and the source text", "[core][translations]") {
    auto f = checkLabel(R"({"en": "Workers today", "hi": "आज के कामगार"})", {"en", "hi", "ta"});
    REQUIRE(f.size() == 1);
    CHECK(f[0].kind == Kind::Missing);
    CHECK(f[0].isError());
    CHECK(f[0].language == "ta");
    CHECK(f[0].where == "sections > s1: questions > workers: label");
    CHECK(f[0].toString() == "sections > s1: questions > workers: label [ta]: no text in this language (en: \"Workers today\")");
    // An empty text is as missing as none.
    auto empty = checkLabel(R"({"en": "Workers", "ta": ""})", {"en", "ta"});
    REQUIRE(empty.size() == 1);
    CHECK(empty[0].kind == Kind::Missing);
    // Only the declared languages are asked for: the same text is complete for en + hi.
    CHECK(checkLabel(R"({"en": "Workers today", "hi": "आज के कामगार"})", {"en", "hi"}).empty());
}

TEST_CASE("translation check: a placeholder dropped or added is an error naming it", "[core][translations]") {
    auto dropped = checkLabel(R"({"en": "Workers of ${unit_name}", "hi": "इकाई के कामगार"})", {"en", "hi"});
    REQUIRE(dropped.size() == 1);
    CHECK(dropped[0].kind == Kind::Placeholders);
    CHECK_THAT(dropped[0].message, Catch::Contains("missing ${unit_name}"));

    auto renamed = checkLabel(R"({"en": "{n} of {total} answered", "ta": "{total} இல் {m} பதிலளிக்கப்பட்டது"})", {"en", "ta"});
    REQUIRE(renamed.size() == 1);
    CHECK_THAT(renamed[0].message, Catch::Contains("missing {n}") && Catch::Contains("not in en: {m}"));

    auto printf = checkLabel(R"({"en": "Sent %s of %d", "gu": "%d માંથી મોકલ્યું"})", {"en", "gu"});
    REQUIRE(printf.size() == 1);
    CHECK_THAT(printf[0].message, Catch::Contains("missing %s"));

    // The same placeholders in another order are fine, and so is a report figure's interval
    // given by its two ends.
    CHECK(checkLabel(R"({"en": "{n} of {total} answered", "hi": "{total} में से {n} के उत्तर दिए"})", {"en", "hi"}).empty());
    CHECK(checkLabel(R"j({"en": "{share} ({share.interval})", "hi": "{share} ({share.low} से {share.high})"})j", {"en", "hi"}).empty());
    CHECK(placeholdersOf("${a} {b} {0} %s %.1f 100% of") == std::set<std::string>{"${a}", "%.1f", "%s", "{0}", "{b}"});
}

TEST_CASE("translation check: English left in a Tamil text is an error, codes on the allow list are not", "[core][translations]") {
    auto copied = checkLabel(R"({"en": "Workers today", "ta": "Workers today"})", {"en", "ta"});
    REQUIRE(copied.size() == 1);
    CHECK(copied[0].kind == Kind::LeftInLatin);
    CHECK(copied[0].language == "ta");
    CHECK_THAT(copied[0].message, Catch::StartsWith("Latin letters left in the text (Workers, today)"));

    auto mixed = checkLabel(R"j({"en": "Workers (GST registered)", "ta": "பணியாளர்கள் (GST registered)"})j", {"en", "ta"});
    REQUIRE(mixed.size() == 1);
    CHECK_THAT(mixed[0].message, Catch::Contains("(registered)"));

    // Allowed words, codes with digits, placeholders and web addresses stay.
    CHECK(checkLabel(R"j({"en": "GST and Udyam number of ${unit}, e.g. UDYAM-TN-32-0012345 (https://udyam.example)",
                        "ta": "${unit} இன் GST, Udyam எண், எ.கா. UDYAM-TN-32-0012345 (https://udyam.example)"})j",
                     {"en", "ta"})
              .empty());
    // Without the allow list, GST is untranslated English.
    TranslationRules bare;
    auto noList = checkLabel(R"({"en": "GST number", "ta": "GST எண்"})", {"en", "ta"}, &bare);
    REQUIRE(noList.size() == 1);
    CHECK_THAT(noList[0].message, Catch::Contains("(GST)"));
}

TEST_CASE("translation check: letters of another script are an error naming both scripts", "[core][translations]") {
    auto f = checkLabel(R"({"en": "Workers", "ta": "பணியாளர்கள் कामगार"})", {"en", "ta"});
    REQUIRE(f.size() == 1);
    CHECK(f[0].kind == Kind::WrongScript);
    CHECK_THAT(f[0].message, Catch::StartsWith("letters of the Devanagari script (") && Catch::Contains("should be in Tamil letters"));
    // Gujarati text in a Marathi slot.
    auto g = checkLabel(R"({"en": "Unit", "mr": "એકમ"})", {"en", "mr"});
    REQUIRE(g.size() == 1);
    CHECK_THAT(g[0].message, Catch::Contains("Gujarati script") && Catch::Contains("Devanagari letters"));
    // The danda serves Bengali too; digits, ₹ and punctuation are no letters.
    CHECK(checkLabel(R"({"en": "Done. ₹ 5 lakh", "bn": "সম্পূর্ণ। ₹ 5 লাখ"})", {"en", "bn"}).empty());
    CHECK(scriptOfLanguage("mr") == "Devanagari");
    CHECK(scriptOfLanguage("gu") == "Gujarati");
    CHECK(scriptOfLanguage("xx").empty());
}

TEST_CASE("translation check: a glossary term missing is a warning, never an error, and stems match inflections", "[core][translations]") {
    TranslationRules rules = rulesFor({"en", "hi"});
    std::string error;
    REQUIRE(addGlossary(rules, "hi", R"({"Unit": "इकाई", "visit": "भेंट", "raw material": "कच्चा माल"})", error));
    // Plural in both languages: "units" -> इकाइयाँ (stem इका).
    CHECK(checkLabel(R"({"en": "Units visited", "hi": "इकाइयाँ जिनकी भेंटें हुईं"})", {"en", "hi"}, &rules).empty());
    CHECK(checkLabel(R"({"en": "Raw material costs", "hi": "कच्चे माल की लागत"})", {"en", "hi"}, &rules).empty());
    auto f = checkLabel(R"({"en": "Date of the visit", "hi": "दौरे की तारीख़"})", {"en", "hi"}, &rules);
    REQUIRE(f.size() == 1);
    CHECK(f[0].kind == Kind::Glossary);
    CHECK_FALSE(f[0].isError());
    CHECK_THAT(f[0].message, Catch::StartsWith("\"visit\" is \"भेंट\" in the glossary"));
    CHECK(errorsOf(f).empty());
    // A term inside another word ("revisited") or a placeholder's name is not the term.
    CHECK(checkLabel(R"({"en": "Revisited ${visit_date}", "hi": "फिर से ${visit_date}"})", {"en", "hi"}, &rules).empty());
    CHECK_FALSE(addGlossary(rules, "hi", "[\"unit\"]", error));
    CHECK_THAT(error, Catch::Contains("{\"english term\": \"term used\"}"));
}

TEST_CASE("translation check: word tables need every source key in every language, and no stray key", "[core][translations]") {
    std::string en = R"({"language": "en", "app": {"Next": "Next >", "Count": "{n} visits"}, "engine": {"Required": "Needs an answer"}})";
    std::string ta = R"({"language": "ta", "app": {"Next": "அடுத்து >", "Count": "வருகைகள்", "Typo": "x"}, "engine": {}})";
    TranslationSource src = wordTableTranslations({ta, en});
    REQUIRE(src.error.empty());
    CHECK(src.languages == std::vector<std::string>{"en", "ta"});
    TranslationRules rules = rulesFor(src.languages);
    auto f = checkTranslations(src.texts, rules);
    std::vector<std::string> seen;
    for (const auto& x : f) seen.push_back(x.toString());
    std::sort(seen.begin(), seen.end());
    REQUIRE(seen.size() == 3);
    CHECK_THAT(seen[0], Catch::StartsWith("app: Count [ta]: placeholders differ from en: missing {n};"));
    CHECK(seen[1] == "app: Typo (not in en, so never shown) [en]: no text in this language");
    CHECK(seen[2] == "engine: Required [ta]: no text in this language (en: \"Needs an answer\")");
    CHECK_THAT(wordTableTranslations({ta}).error, Catch::Contains("no word table for the source language 'en'"));
    CHECK_THAT(wordTableTranslations({en, en}).error, Catch::Contains("two word tables for language 'en'"));
}

TEST_CASE("translation check: the shipped templates and the app's word tables pass for their declared languages", "[core][translations]") {
    const std::filesystem::path root(CK_SOURCE_DIR);
    TranslationRules base;
    std::string error;
    const auto glossary = root / "survey-templates" / "glossary";
    for (const auto& e : std::filesystem::directory_iterator(glossary)) {
        INFO(e.path());
        if (e.path().stem() == "latin-allowed") REQUIRE(addLatinAllowList(base, readFile(e.path()), error));
        else REQUIRE(addGlossary(base, e.path().stem().string(), readFile(e.path()), error));
    }
    REQUIRE(base.glossaries.count("hi"));
    size_t templates = 0;
    for (const auto& e : std::filesystem::directory_iterator(root / "survey-templates")) {
        if (e.path().extension() != ".json") continue;
        ++templates;
        TranslationSource src = templateTranslations(readFile(e.path()));
        INFO(e.path() << ": " << src.error);
        REQUIRE(src.error.empty());
        REQUIRE(src.languages.size() >= 2);
        CHECK(src.texts.size() > 100);
        TranslationRules rules = base;
        rules.languages = src.languages;
        for (const auto& f : errorsOf(checkTranslations(src.texts, rules))) FAIL_CHECK(f.toString());
    }
    CHECK(templates >= 2);

    std::vector<std::string> tables;
    for (const auto& e : std::filesystem::directory_iterator(root / "assets" / "text")) tables.push_back(readFile(e.path()));
    TranslationSource app = wordTableTranslations(tables);
    REQUIRE(app.error.empty());
    std::vector<std::string> langs = app.languages;
    std::sort(langs.begin(), langs.end());
    CHECK(langs == std::vector<std::string>{"bn", "en", "gu", "hi", "mr", "ta"});
    TranslationRules rules = base;
    rules.languages = app.languages;
    for (const auto& f : errorsOf(checkTranslations(app.texts, rules))) FAIL_CHECK(f.toString());
}

TEST_CASE("translation check: a key taken out of one shipped table, or its placeholder dropped, fails the check", "[core][translations]") {
    // The real tables, with one new word removed from a copy of the Hindi one: the check must
    // name it (so no code can be added whose words some language lacks).
    const std::filesystem::path root(CK_SOURCE_DIR);
    std::vector<std::string> tables;
    std::string hindi;
    for (const auto& e : std::filesystem::directory_iterator(root / "assets" / "text")) {
        if (e.path().filename() == "hi.json") hindi = readFile(e.path());
        else tables.push_back(readFile(e.path()));
    }
    REQUIRE_FALSE(hindi.empty());
    TranslationRules rules = rulesFor({"bn", "en", "gu", "hi", "mr", "ta"});
    auto errorsWith = [&](const std::string& hi) {
        std::vector<std::string> all = tables;
        all.push_back(hi);
        TranslationSource src = wordTableTranslations(all);
        REQUIRE(src.error.empty());
        std::vector<std::string> out;
        for (const auto& f : errorsOf(checkTranslations(src.texts, rules))) out.push_back(f.toString());
        return out;
    };
    // As shipped: no error in Hindi for the new keys.
    for (const auto& e : errorsWith(hindi)) CHECK(e.find("PassphraseTooShort") == std::string::npos);

    auto j = nlohmann::json::parse(hindi);
    REQUIRE(j["engine"].contains("PassphraseTooShort"));
    REQUIRE(j["app"].contains("VisitRefusedConflict"));
    auto missing = j;
    missing["engine"].erase("PassphraseTooShort");
    missing["app"].erase("VisitRefusedConflict");
    auto errors = errorsWith(missing.dump());
    INFO(Catch::Detail::stringify(errors));
    auto named = [&](const std::string& start) {
        return std::any_of(errors.begin(), errors.end(), [&](const std::string& e) { return e.rfind(start, 0) == 0; });
    };
    CHECK(named("engine: PassphraseTooShort [hi]: no text in this language"));
    CHECK(named("app: VisitRefusedConflict [hi]: no text in this language"));

    // The minimum length's placeholder dropped from the Hindi words: an error too.
    auto dropped = j;
    dropped["engine"]["PassphraseTooShort"] = "पासफ़्रेज़ बहुत छोटा है।";
    errors = errorsWith(dropped.dump());
    CHECK(named("engine: PassphraseTooShort [hi]: placeholders differ from en: missing {0}"));
    // And English left in place of a translation.
    auto english = j;
    english["app"]["VisitRefusedOther"] = "The aggregator refused the visit.";
    errors = errorsWith(english.dump());
    CHECK(named("app: VisitRefusedOther [hi]"));
}
