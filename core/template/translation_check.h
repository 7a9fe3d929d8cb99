#pragma once
// The translation check: every localised text of a template (or of the app's word tables)
// present in every language it must have, with the same placeholders as the source, in the
// letters of its own script, and using the survey's agreed terms.
//
// Errors (what `ck-survey check --strict` and the CTest fail on):
//   - Missing:     no text, or an empty one, in a language the template declares;
//   - Placeholders: `${name}`, `{name}` / `{0}` and printf-style (`%s`, `%.1f`) placeholders
//                  differ from the source text's (compared as sets; a report figure's
//                  "{x.interval}" counts as "{x.low}" and "{x.high}", its two ends);
//   - LeftInLatin: Latin letters in a text that is not the source language's, unless each
//                  such word is on the allow list (codes and names: GST, MSME, Udyam...) or
//                  holds a digit (a code such as UDYAM-TN-32-0012345);
//   - WrongScript: letters of another script than the language's (Devanagari in a Tamil text).
// Warnings (printed, never a failure, because inflection varies):
//   - Glossary:    the source text holds a glossary term and the translation holds neither
//                  the term used nor its stem.
//
// Only the languages given are checked: a template is checked against the languages it
// declares. Pure functions over text; reading files is the caller's (tools/ck-survey).
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

// One text with its translations.
struct TranslatedText {
    std::string where;                              // for people: "question 'workers' label"
    std::map<std::string, std::string> byLanguage;  // language code -> text
};

struct TranslationRules {
    std::string source = "en";             // the language the others are translated from
    std::vector<std::string> languages;    // every language each text must have (source included)
    std::set<std::string, std::less<>> latinAllowed;  // words that may stay in Latin letters
    // Per language: English term (lower case) -> the term used in that language.
    std::map<std::string, std::map<std::string, std::string>> glossaries;
};

struct TranslationFinding {
    enum class Kind { Missing, Placeholders, LeftInLatin, WrongScript, Glossary };
    Kind kind;
    std::string where;
    std::string language;
    std::string message;  // what is wrong and what to do, naming the words
    bool isError() const { return kind != Kind::Glossary; }
    std::string toString() const { return where + " [" + language + "]: " + message; }
};

std::vector<TranslationFinding> checkTranslations(const std::vector<TranslatedText>& texts, const TranslationRules& rules);

// The placeholders of a text, as the check compares them ("${workers}", "{n}", "%s").
std::set<std::string> placeholdersOf(std::string_view text);

// The script a language is written in ("Tamil", "Devanagari", "Latin"), or "" when the check
// does not know it (then its letters are not checked, only Latin words left in it).
std::string scriptOfLanguage(std::string_view code);

// Texts read from a file: what they are, and what stopped the reading.
struct TranslationSource {
    std::vector<std::string> languages;  // declared (a template) or found (word tables)
    std::vector<TranslatedText> texts;
    std::string error;                   // non-empty: the file could not be read as expected
};

// Every localised text of a template's JSON: any object whose keys are among the template's
// declared languages and whose values are strings (labels, hints, messages, choices, the
// report layout's headings, notes, sentences and phrases). Per-language image file names are
// not text and are skipped. `where` names the ids on the way ("sec_consent > visit_date: hint").
TranslationSource templateTranslations(std::string_view jsonText);

// The app's word tables: one JSON document per language (assets/text/<code>.json, with its
// "language" and the sections "app" and "engine"), each key a text. The source language's
// file gives the keys every other file must have.
TranslationSource wordTableTranslations(const std::vector<std::string>& jsonTexts, const std::string& source = "en");

// A glossary file ({"english term": "term used"}) into `rules` for `language`; false with
// `error` set when it is not such an object.
bool addGlossary(TranslationRules& rules, const std::string& language, std::string_view jsonText, std::string& error);
// An allow list file (a JSON array of words, or {"words": [...]}) into `rules`.
bool addLatinAllowList(TranslationRules& rules, std::string_view jsonText, std::string& error);

}  // namespace ck
