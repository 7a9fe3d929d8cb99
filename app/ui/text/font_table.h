#pragma once
// The fonts the field app shapes its text with, read from a data file (assets/fonts/scripts.json):
// one font per writing system, named by its ISO 15924 script code, with the languages written
// in it. Adding a script is a font file and an entry in that file; no code.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ck::text {

struct ScriptFont {
    std::string script;                  // ISO 15924 code: "Latn", "Deva", "Taml", ...
    std::filesystem::path file;          // the font file, absolute (resolved against the table's folder)
    std::vector<std::string> languages;  // "hi", "mr", ...; the first is the script's usual language
};

struct FontTable {
    // fonts[0] is the main font: its metrics set the line height; it draws what no other font has.
    std::vector<ScriptFont> fonts;

    // Reads `tablePath`. On a problem (missing file, bad JSON, an entry without a script or a
    // file, a font file that does not exist, the same script twice) returns nullopt and says
    // what and where in `error`.
    static std::optional<FontTable> load(const std::filesystem::path& tablePath, std::string& error);
};

}  // namespace ck::text
