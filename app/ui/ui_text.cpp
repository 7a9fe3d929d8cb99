#include "app/ui/ui_text.h"

#include <array>

#include "core/messages/text_tables.h"

namespace ck {
namespace {

constexpr size_t kCount = size_t(Text::Count_);

constexpr const char* kNames[] = {
#define CK_UI_TEXT_NAME(name) #name,
    CK_UI_TEXT_KEYS(CK_UI_TEXT_NAME)
#undef CK_UI_TEXT_NAME
};
static_assert(std::size(kNames) == kCount);

// Per shipped language (core/messages/text_tables.h, English first), per key: the words,
// English where that language's table has none. Built once; the pointers live as long as
// the process.
struct Tables {
    std::vector<std::array<const char*, kCount>> byLanguage;
    std::vector<UiLanguage> languages;
    Tables() {
        const auto& shipped = shippedLanguages();
        byLanguage.resize(shipped.size());
        for (size_t l = 0; l < shipped.size(); ++l) {
            languages.push_back({shipped[l].code, shipped[l].name});
            for (size_t k = 0; k < kCount; ++k) {
                const char* text = shippedText("app", l, kNames[k]);
                if (!text && l > 0) text = byLanguage[0][k];
                byLanguage[l][k] = text ? text : "";
            }
        }
    }
};

const Tables& tables() {
    static const Tables t;
    return t;
}

void replaceAll(std::string& text, std::string_view placeholder, const std::string& value) {
    for (size_t at = 0; (at = text.find(placeholder, at)) != std::string::npos; at += value.size())
        text.replace(at, placeholder.size(), value);
}

}  // namespace

const char* uiText(Text key, std::string_view language) {
    const Tables& t = tables();
    if (size_t(key) >= kCount || t.byLanguage.empty()) return "";
    int l = shippedLanguageIndex(language);
    return t.byLanguage[l < 0 ? 0 : size_t(l)][size_t(key)];
}

const char* uiTextName(Text key) { return size_t(key) < kCount ? kNames[size_t(key)] : ""; }

std::string labelId(Text key, std::string_view language, std::string_view id) {
    std::string label = uiText(key, language);
    label += "###";
    label += id;
    return label;
}

std::string uiTextCount(Text key, std::string_view language, size_t n) {
    std::string text = uiText(key, language);
    replaceAll(text, "{n}", std::to_string(n));
    return text;
}

std::string uiTextCount(Text key, std::string_view language, size_t n, size_t total) {
    std::string text = uiTextCount(key, language, n);
    replaceAll(text, "{total}", std::to_string(total));
    return text;
}

std::string technicalDetail(std::string_view detail, std::string_view language) {
    std::string text = uiText(Text::TechnicalDetail, language);
    const size_t at = text.find("{0}");
    if (at != std::string::npos) text.replace(at, 3, detail);
    return text;
}

const std::vector<UiLanguage>& uiLanguages() { return tables().languages; }

const char* uiLanguageName(std::string_view code) {
    for (const auto& l : tables().languages)
        if (l.code == code) return l.name.c_str();
    return nullptr;
}

std::string uiLanguageLabel(const std::string& code, std::string_view idPrefix) {
    const char* name = uiLanguageName(code);
    return std::string(name ? name : code.c_str()) + "###" + std::string(idPrefix) + code;
}

}  // namespace ck
