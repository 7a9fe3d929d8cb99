#include "core/messages/text_tables.h"

#include <algorithm>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

namespace ck {
namespace {

struct Tables {
    std::vector<ShippedLanguage> languages;
    // Per language: "section\nkey" -> text. std::map keeps every string where it is.
    std::vector<std::map<std::string, std::string, std::less<>>> texts;

    Tables() {
        struct Parsed {
            ShippedLanguage language;
            std::map<std::string, std::string, std::less<>> texts;
        };
        std::vector<Parsed> parsed;
        for (const auto& file : embeddedTextFiles()) {
            auto j = nlohmann::json::parse(file.content, nullptr, /*allow_exceptions=*/false);
            if (!j.is_object() || !j.contains("language") || !j["language"].is_string()) continue;
            Parsed p;
            p.language.code = j["language"].get<std::string>();
            p.language.name = j.value("name", p.language.code);
            p.language.englishName = j.value("english_name", p.language.code);
            for (const char* section : {"app", "engine"}) {
                auto s = j.find(section);
                if (s == j.end() || !s->is_object()) continue;
                for (auto it = s->begin(); it != s->end(); ++it)
                    if (it->is_string()) p.texts[std::string(section) + "\n" + it.key()] = it->get<std::string>();
            }
            parsed.push_back(std::move(p));
        }
        std::stable_sort(parsed.begin(), parsed.end(), [](const Parsed& a, const Parsed& b) {
            return (a.language.code == "en") > (b.language.code == "en");
        });
        for (auto& p : parsed) {
            languages.push_back(std::move(p.language));
            texts.push_back(std::move(p.texts));
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

}  // namespace

const std::vector<ShippedLanguage>& shippedLanguages() { return tables().languages; }

int shippedLanguageIndex(std::string_view code) {
    const auto& langs = tables().languages;
    for (size_t i = 0; i < langs.size(); ++i)
        if (langs[i].code == code) return int(i);
    return -1;
}

const char* shippedText(std::string_view section, size_t languageIndex, std::string_view key) {
    const Tables& t = tables();
    if (languageIndex >= t.texts.size()) return nullptr;
    std::string name;
    name.reserve(section.size() + 1 + key.size());
    name.append(section).append("\n").append(key);
    auto it = t.texts[languageIndex].find(name);
    return it == t.texts[languageIndex].end() ? nullptr : it->second.c_str();
}

}  // namespace ck
