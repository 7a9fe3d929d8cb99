#include "core/template/translation_check.h"

#include <algorithm>
#include <regex>

#include <nlohmann/json.hpp>

namespace ck {
namespace {

using nlohmann::json;

// ---- UTF-8 -----------------------------------------------------------------------------------

std::u32string decode(std::string_view s) {
    std::u32string out;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        if (i + len > s.size()) len = 1;
        char32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out += cp;
        i += len;
    }
    return out;
}

std::string encode(std::u32string_view s) {
    std::string out;
    for (char32_t cp : s) {
        if (cp < 0x80) {
            out += char(cp);
        } else if (cp < 0x800) {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += char(0xE0 | (cp >> 12));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        } else {
            out += char(0xF0 | (cp >> 18));
            out += char(0x80 | ((cp >> 12) & 0x3F));
            out += char(0x80 | ((cp >> 6) & 0x3F));
            out += char(0x80 | (cp & 0x3F));
        }
    }
    return out;
}

// ---- scripts ---------------------------------------------------------------------------------

struct Script {
    const char* name;
    char32_t first, last;  // its Unicode block
};
// The Indian scripts by their Unicode blocks (U+0900-U+0DFF), and Latin.
constexpr Script kScripts[] = {
    {"Devanagari", 0x0900, 0x097F}, {"Bengali", 0x0980, 0x09FF}, {"Gurmukhi", 0x0A00, 0x0A7F},
    {"Gujarati", 0x0A80, 0x0AFF},   {"Oriya", 0x0B00, 0x0B7F},   {"Tamil", 0x0B80, 0x0BFF},
    {"Telugu", 0x0C00, 0x0C7F},     {"Kannada", 0x0C80, 0x0CFF}, {"Malayalam", 0x0D00, 0x0D7F},
};

struct LanguageScript {
    const char* language;
    const char* script;
};
constexpr LanguageScript kLanguageScripts[] = {
    {"en", "Latin"},      {"hi", "Devanagari"}, {"mr", "Devanagari"}, {"ne", "Devanagari"}, {"kok", "Devanagari"},
    {"mai", "Devanagari"}, {"sa", "Devanagari"}, {"bn", "Bengali"},   {"as", "Bengali"},    {"pa", "Gurmukhi"},
    {"gu", "Gujarati"},   {"or", "Oriya"},      {"ta", "Tamil"},      {"te", "Telugu"},     {"kn", "Kannada"},
    {"ml", "Malayalam"},
};

bool isLatinLetter(char32_t c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= 0xC0 && c <= 0x24F && c != 0xD7 && c != 0xF7);
}
bool isAsciiDigit(char32_t c) { return c >= '0' && c <= '9'; }

// The script of a letter: a block name, "Latin", "other" for letters of any other script,
// or nullptr for what is not a letter (digits, punctuation, spaces, symbols, joiners).
const char* scriptOf(char32_t c) {
    if (isLatinLetter(c)) return "Latin";
    // The danda and double danda (U+0964, U+0965) serve every Indian script.
    if (c == 0x0964 || c == 0x0965) return nullptr;
    for (const auto& s : kScripts)
        if (c >= s.first && c <= s.last) return s.name;
    if (c < 0x250) return nullptr;                    // ASCII and Latin-1 punctuation, digits
    if (c >= 0x2000 && c <= 0x2BFF) return nullptr;  // punctuation, currency (₹), arrows, symbols
    if (c == 0x200C || c == 0x200D || c == 0xFEFF) return nullptr;
    if (c >= 0x0370 && c <= 0x1FFF) return "other";  // Greek, Cyrillic, ... Arabic, Thai, ...
    if (c >= 0x3000 && c <= 0xFAFF) return "other";  // CJK and the rest of the BMP's letters
    return nullptr;
}

// ---- placeholders ----------------------------------------------------------------------------

const std::regex& placeholderPattern() {
    // ${name} | {name} or {0} (also {share.low}) | printf conversions.
    static const std::regex re(R"(\$\{[^}]*\}|\{[A-Za-z0-9_][A-Za-z0-9_.]*\}|%(?:[0-9]+\$)?[-+#0]*[0-9]*(?:\.[0-9]+)?(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfFgGcsp])");
    return re;
}

// The text without what is not words to translate: placeholders, web addresses, and ASCII
// text in quotes (JSON field names in a message: {"lat": ..}, 'accuracy').
std::string wordsOnly(std::string_view text) {
    std::string s = std::regex_replace(std::string(text), placeholderPattern(), " ");
    static const std::regex url(R"(https?://\S*)");
    s = std::regex_replace(s, url, " ");
    static const std::regex quoted(R"re(\{"[^}]*\}|"[\x20-\x21\x23-\x7E]*"|'[A-Za-z_]+')re");
    return std::regex_replace(s, quoted, " ");
}

// ---- Latin words -----------------------------------------------------------------------------

bool allowedWord(std::string_view word, const TranslationRules& rules) {
    if (rules.latinAllowed.count(word)) return true;
    if (std::any_of(word.begin(), word.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;  // a code
    // "EPF/ESI", "OEKO-TEX", "YYYY-MM-DD": each part allowed.
    bool any = false;
    size_t from = 0;
    for (size_t i = 0; i <= word.size(); ++i) {
        if (i < word.size() && word[i] != '-' && word[i] != '/' && word[i] != '.' && word[i] != '&') continue;
        std::string_view part = word.substr(from, i - from);
        from = i + 1;
        if (part.empty()) continue;
        any = true;
        if (!rules.latinAllowed.count(part)) return false;
    }
    return any;
}

// The Latin words of a text that are not allowed (each once, in order).
std::vector<std::string> latinWordsLeft(std::string_view text, const TranslationRules& rules) {
    std::vector<std::string> out;
    std::u32string s = decode(wordsOnly(text));
    for (size_t i = 0; i < s.size();) {
        if (!isLatinLetter(s[i]) && !isAsciiDigit(s[i])) {
            ++i;
            continue;
        }
        size_t j = i;
        bool letter = false;
        while (j < s.size() && (isLatinLetter(s[j]) || isAsciiDigit(s[j]) || s[j] == '-' || s[j] == '/' || s[j] == '.' ||
                                s[j] == '&' || s[j] == '_' || s[j] == '\'')) {
            letter |= isLatinLetter(s[j]);
            ++j;
        }
        std::u32string token = s.substr(i, j - i);
        i = j;
        while (!token.empty() && (token.back() == '.' || token.back() == '-' || token.back() == '/' || token.back() == '\''))
            token.pop_back();
        if (!letter || token.empty()) continue;
        std::string word = encode(token);
        if (rules.latinAllowed.count(word + ".")) continue;  // "S.O." kept with its points
        if (!allowedWord(word, rules) && std::find(out.begin(), out.end(), word) == out.end()) out.push_back(word);
    }
    return out;
}

// ---- glossary --------------------------------------------------------------------------------

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}

// `term` as a word of `text` (both lower case): not inside a longer word, though a plural
// ending may follow ("units", "visits", "businesses").
bool containsWord(const std::string& text, const std::string& term) {
    auto isWordChar = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    for (size_t at = text.find(term); at != std::string::npos; at = text.find(term, at + 1)) {
        if (at > 0 && isWordChar(text[at - 1])) continue;
        size_t end = at + term.size();
        std::string_view rest = std::string_view(text).substr(end);
        if (rest.empty() || !isWordChar(rest[0])) return true;
        if ((rest.size() == 1 || !isWordChar(rest[1])) && rest[0] == 's') return true;
        if ((rest.size() == 2 || (rest.size() > 2 && !isWordChar(rest[2]))) && rest.substr(0, 2) == "es") return true;
    }
    return false;
}

// A word's stem for the glossary: its first three fifths of code points (at least two), so
// that inflected forms (इकाई -> इकाइयाँ, भेंट -> भेंटें, வருகை -> வருகைகள்) still match.
std::string stemOf(std::string_view word) {
    std::u32string s = decode(word);
    if (s.size() <= 2) return std::string(word);
    size_t keep = std::max<size_t>(2, (s.size() * 3 + 4) / 5);
    return encode(s.substr(0, keep));
}

bool usesTerm(std::string_view translation, std::string_view termUsed) {
    if (translation.find(termUsed) != std::string_view::npos) return true;
    // Every word of the term, by its stem.
    size_t from = 0;
    std::string t(termUsed);
    while (from < t.size()) {
        size_t space = t.find(' ', from);
        std::string word = t.substr(from, space == std::string::npos ? std::string::npos : space - from);
        from = space == std::string::npos ? t.size() : space + 1;
        if (word.empty()) continue;
        if (translation.find(stemOf(word)) == std::string_view::npos) return false;
    }
    return true;
}

// A text in a message, cut at 60 letters (never inside a letter's bytes).
std::string quote(std::string_view s) {
    std::u32string text = decode(s);
    return "\"" + (text.size() > 60 ? encode(text.substr(0, 57)) + "..." : std::string(s)) + "\"";
}

// The placeholders as the check compares them: a report figure's interval ("{share.interval}",
// "30.1% to 38.0%") counts as its two ends, since a language may need the words between them
// in another order ("{share.low} से {share.high}").
std::set<std::string> comparable(std::set<std::string> placeholders) {
    std::set<std::string> out;
    for (const auto& p : placeholders) {
        static const std::string interval = ".interval}";
        if (p.size() > interval.size() + 1 && p[0] == '{' && p.compare(p.size() - interval.size(), interval.size(), interval) == 0) {
            std::string name = p.substr(0, p.size() - interval.size());
            out.insert(name + ".low}");
            out.insert(name + ".high}");
        } else {
            out.insert(p);
        }
    }
    return out;
}

std::string joined(const std::set<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
}

// ---- reading templates -----------------------------------------------------------------------

bool isLocalText(const json& j, const std::vector<std::string>& languages) {
    // Every key a declared language, every value a string: a text, even when the default
    // language's text is the one missing.
    if (!j.is_object() || j.empty() || languages.empty()) return false;
    for (auto it = j.begin(); it != j.end(); ++it) {
        if (!it->is_string()) return false;
        if (std::find(languages.begin(), languages.end(), it.key()) == languages.end()) return false;
    }
    return true;
}

std::string idOf(const json& j) {
    if (!j.is_object()) return {};
    for (const char* key : {"id", "name", "key"})
        if (auto it = j.find(key); it != j.end() && it->is_string()) return it->get<std::string>();
    return {};
}

void collect(const json& j, const std::string& where, const std::vector<std::string>& languages,
             std::vector<TranslatedText>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            const std::string& key = it.key();
            if (key == "image" || key == "media" || key == "languages") continue;  // file names, codes
            std::string here = where.empty() ? key : where + ": " + key;
            if (isLocalText(*it, languages)) {
                TranslatedText t;
                t.where = here;
                for (auto l = it->begin(); l != it->end(); ++l) t.byLanguage[l.key()] = l->get<std::string>();
                out.push_back(std::move(t));
            } else {
                collect(*it, here, languages, out);
            }
        }
    } else if (j.is_array()) {
        for (size_t i = 0; i < j.size(); ++i) {
            std::string id = idOf(j[i]);
            std::string here = id.empty() ? where + " #" + std::to_string(i + 1) : (where.empty() ? id : where + " > " + id);
            if (isLocalText(j[i], languages)) {
                TranslatedText t;
                t.where = here;
                for (auto l = j[i].begin(); l != j[i].end(); ++l) t.byLanguage[l.key()] = l->get<std::string>();
                out.push_back(std::move(t));
            } else {
                collect(j[i], here, languages, out);
            }
        }
    }
}

}  // namespace

std::set<std::string> placeholdersOf(std::string_view text) {
    std::set<std::string> out;
    std::string s(text);
    for (std::sregex_iterator it(s.begin(), s.end(), placeholderPattern()), end; it != end; ++it) out.insert(it->str());
    return out;
}

std::string scriptOfLanguage(std::string_view code) {
    for (const auto& l : kLanguageScripts)
        if (code == l.language) return l.script;
    return {};
}

std::vector<TranslationFinding> checkTranslations(const std::vector<TranslatedText>& texts, const TranslationRules& rules) {
    using Kind = TranslationFinding::Kind;
    std::vector<TranslationFinding> out;
    for (const auto& t : texts) {
        auto srcIt = t.byLanguage.find(rules.source);
        const std::string source = srcIt == t.byLanguage.end() ? std::string() : srcIt->second;
        const std::set<std::string> sourcePlaceholders = comparable(placeholdersOf(source));
        const std::string sourceLower = lower(wordsOnly(source));  // "{women_share}" names no term
        for (const auto& lang : rules.languages) {
            auto it = t.byLanguage.find(lang);
            if (it == t.byLanguage.end() || it->second.empty()) {
                out.push_back({Kind::Missing, t.where, lang,
                               "no text in this language" + (source.empty() ? std::string() : " (" + rules.source + ": " + quote(source) + ")")});
                continue;
            }
            if (lang == rules.source || source.empty()) continue;
            const std::string& text = it->second;
            std::set<std::string> here = comparable(placeholdersOf(text));
            if (here != sourcePlaceholders) {
                std::set<std::string> dropped, added;
                std::set_difference(sourcePlaceholders.begin(), sourcePlaceholders.end(), here.begin(), here.end(),
                                    std::inserter(dropped, dropped.end()));
                std::set_difference(here.begin(), here.end(), sourcePlaceholders.begin(), sourcePlaceholders.end(),
                                    std::inserter(added, added.end()));
                std::string message = "placeholders differ from " + rules.source + ":";
                if (!dropped.empty()) message += " missing " + joined(dropped) + ";";
                if (!added.empty()) message += " not in " + rules.source + ": " + joined(added) + ";";
                message += " text " + quote(text);
                out.push_back({Kind::Placeholders, t.where, lang, message});
            }
            if (lang == "en") continue;
            auto latin = latinWordsLeft(text, rules);
            if (!latin.empty()) {
                std::string words;
                for (const auto& w : latin) words += (words.empty() ? "" : ", ") + w;
                out.push_back({Kind::LeftInLatin, t.where, lang,
                               "Latin letters left in the text (" + words + "): translate them, or add a code or name to "
                               "the allow list; text " + quote(text)});
            }
            const std::string script = scriptOfLanguage(lang);
            if (!script.empty() && script != "Latin") {
                std::map<std::string, std::string> foreign;  // script -> its letters found
                std::u32string letters = decode(wordsOnly(text));
                for (char32_t c : letters) {
                    const char* s = scriptOf(c);
                    if (!s || s == std::string_view("Latin") || script == s) continue;
                    std::string& found = foreign[s];
                    if (decode(found).size() < 12) found += encode(std::u32string(1, c));
                }
                for (const auto& [other, found] : foreign)
                    out.push_back({Kind::WrongScript, t.where, lang,
                                   "letters of the " + other + " script (" + found + ") in a text that should be in " + script +
                                       " letters; text " + quote(text)});
            }
            if (auto g = rules.glossaries.find(lang); g != rules.glossaries.end()) {
                for (const auto& [term, used] : g->second) {
                    if (used.empty() || !containsWord(sourceLower, term)) continue;
                    if (!usesTerm(text, used))
                        out.push_back({Kind::Glossary, t.where, lang,
                                       "\"" + term + "\" is \"" + used + "\" in the glossary; the text has neither it nor its stem: " +
                                           quote(text)});
                }
            }
        }
    }
    return out;
}

TranslationSource templateTranslations(std::string_view jsonText) {
    TranslationSource out;
    json doc = json::parse(jsonText, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        out.error = "not a JSON object";
        return out;
    }
    auto langs = doc.find("languages");
    if (langs == doc.end() || !langs->is_array() || langs->empty()) {
        out.error = "no 'languages' list";
        return out;
    }
    for (const auto& l : *langs)
        if (l.is_string()) out.languages.push_back(l.get<std::string>());
    collect(doc, "", out.languages, out.texts);
    return out;
}

TranslationSource wordTableTranslations(const std::vector<std::string>& jsonTexts, const std::string& source) {
    TranslationSource out;
    std::map<std::string, json> byLanguage;
    for (const auto& text : jsonTexts) {
        json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
        if (doc.is_discarded() || !doc.is_object() || !doc.contains("language") || !doc["language"].is_string()) {
            out.error = "a word table is not a JSON object with a \"language\"";
            return out;
        }
        std::string code = doc["language"].get<std::string>();
        if (byLanguage.count(code)) {
            out.error = "two word tables for language '" + code + "'";
            return out;
        }
        byLanguage[code] = std::move(doc);
    }
    auto src = byLanguage.find(source);
    if (src == byLanguage.end()) {
        out.error = "no word table for the source language '" + source + "'";
        return out;
    }
    out.languages.push_back(source);
    for (const auto& [code, doc] : byLanguage)
        if (code != source) out.languages.push_back(code);
    for (const char* section : {"app", "engine"}) {
        auto keys = src->second.find(section);
        if (keys == src->second.end() || !keys->is_object()) continue;
        for (auto k = keys->begin(); k != keys->end(); ++k) {
            TranslatedText t;
            t.where = std::string(section) + ": " + k.key();
            for (const auto& [code, doc] : byLanguage) {
                auto s = doc.find(section);
                if (s == doc.end() || !s->is_object()) continue;
                auto v = s->find(k.key());
                if (v != s->end() && v->is_string()) t.byLanguage[code] = v->get<std::string>();
            }
            out.texts.push_back(std::move(t));
        }
        // A key the source lacks is never shown: say so as a missing source text.
        for (const auto& [code, doc] : byLanguage) {
            auto s = doc.find(section);
            if (code == source || s == doc.end() || !s->is_object()) continue;
            for (auto k = s->begin(); k != s->end(); ++k)
                if (!keys->contains(k.key())) {
                    TranslatedText t;
                    t.where = std::string(section) + ": " + k.key() + " (not in " + source + ", so never shown)";
                    t.byLanguage[code] = k->is_string() ? k->get<std::string>() : std::string();
                    out.texts.push_back(std::move(t));
                }
        }
    }
    return out;
}

bool addGlossary(TranslationRules& rules, const std::string& language, std::string_view jsonText, std::string& error) {
    json doc = json::parse(jsonText, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        error = "a glossary is a JSON object {\"english term\": \"term used\"}";
        return false;
    }
    auto& g = rules.glossaries[language];
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        if (!it->is_string()) {
            error = "glossary term '" + it.key() + "' is not a string";
            return false;
        }
        g[lower(it.key())] = it->get<std::string>();
    }
    return true;
}

bool addLatinAllowList(TranslationRules& rules, std::string_view jsonText, std::string& error) {
    json doc = json::parse(jsonText, nullptr, /*allow_exceptions=*/false);
    if (doc.is_object() && doc.contains("words")) doc = doc["words"];
    if (doc.is_discarded() || !doc.is_array()) {
        error = "an allow list is a JSON array of words (or {\"words\": [...]})";
        return false;
    }
    for (const auto& w : doc) {
        if (!w.is_string()) {
            error = "an allow list holds words (strings) only";
            return false;
        }
        rules.latinAllowed.insert(w.get<std::string>());
    }
    return true;
}

}  // namespace ck
