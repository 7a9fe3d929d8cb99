#include "core/messages/engine_messages.h"

#include <array>
#include <vector>

#include "core/messages/text_tables.h"

namespace ck {
namespace {

constexpr size_t kCount = size_t(EngineText::Count_);

constexpr const char* kNames[] = {
#define CK_ENGINE_TEXT_NAME(name) #name,
    CK_ENGINE_TEXT_KEYS(CK_ENGINE_TEXT_NAME)
#undef CK_ENGINE_TEXT_NAME
};
static_assert(std::size(kNames) == kCount);

// Per shipped language, per key: the words, English where the language has none. Built once.
struct Catalog {
    std::vector<std::array<const char*, kCount>> byLanguage;
    Catalog() {
        const auto& languages = shippedLanguages();
        byLanguage.resize(languages.size());
        for (size_t l = 0; l < languages.size(); ++l)
            for (size_t k = 0; k < kCount; ++k) {
                const char* text = shippedText("engine", l, kNames[k]);
                if (!text && l > 0) text = byLanguage[0][k];  // English is first
                byLanguage[l][k] = text ? text : "";
            }
    }
};

const Catalog& catalog() {
    static const Catalog c;
    return c;
}

template <class Args>
std::string fill(std::string_view pattern, const Args& args) {
    std::string out;
    out.reserve(pattern.size() + 32);
    for (size_t i = 0; i < pattern.size();) {
        if (pattern[i] == '{' && i + 2 < pattern.size() && pattern[i + 1] >= '0' && pattern[i + 1] <= '9' &&
            pattern[i + 2] == '}') {
            size_t n = size_t(pattern[i + 1] - '0');
            if (n < args.size()) {
                out.append(*(args.begin() + std::ptrdiff_t(n)));
                i += 3;
                continue;
            }
        }
        out += pattern[i++];
    }
    return out;
}

}  // namespace

const char* engineTextName(EngineText key) { return size_t(key) < kCount ? kNames[size_t(key)] : ""; }

const char* engineText(EngineText key, std::string_view language) {
    const Catalog& c = catalog();
    if (size_t(key) >= kCount || c.byLanguage.empty()) return "";
    int l = shippedLanguageIndex(language);
    return c.byLanguage[l < 0 ? 0 : size_t(l)][size_t(key)];
}

std::string fillPlaceholders(std::string_view pattern, std::initializer_list<std::string_view> args) { return fill(pattern, args); }

std::string fillPlaceholders(std::string_view pattern, const std::vector<std::string>& args) { return fill(pattern, args); }

std::string engineText(EngineText key, std::string_view language, std::initializer_list<std::string_view> args) {
    return fillPlaceholders(engineText(key, language), args);
}

}  // namespace ck
