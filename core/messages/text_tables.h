#pragma once
// The words of every language ClusterKit ships, as data: assets/text/<code>.json holds a
// language's code, its name in its own script and in English, and two sections, "app" (the
// field app's own words, app/ui/ui_text.h) and "engine" (the engine's messages,
// engine_messages.h), each an object from key to text. The files are built in
// (CMakeLists.txt), so adding a language is adding a file: no code, no path to find.
//
// Parsed once, on first use, and kept for the life of the process: the pointers returned
// stay valid. A file that does not parse is left out (the translation check and the tests
// name it), so a bad table never stops the app; its words show in English.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

struct ShippedLanguage {
    std::string code;         // "ta"
    std::string name;         // in its own script, for the language switch: "தமிழ்"
    std::string englishName;  // "Tamil"
};

// Every language with a table: English first, then by file name.
const std::vector<ShippedLanguage>& shippedLanguages();

// The index of `code` in shippedLanguages(), or -1 when there is no table for it.
int shippedLanguageIndex(std::string_view code);

// The text of `key` in `section` ("app", "engine") of shippedLanguages()[languageIndex];
// nullptr when that table has no such text (the caller falls back to English).
const char* shippedText(std::string_view section, size_t languageIndex, std::string_view key);

// The built-in files themselves (name, JSON text), for checks and tests.
struct EmbeddedTextFile {
    const char* name;  // "ta.json"
    std::string_view content;
};
std::span<const EmbeddedTextFile> embeddedTextFiles();

}  // namespace ck
