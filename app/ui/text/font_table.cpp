#include "app/ui/text/font_table.h"

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

namespace ck::text {

std::optional<FontTable> FontTable::load(const std::filesystem::path& tablePath, std::string& error) {
    std::ifstream in(tablePath, std::ios::binary);
    if (!in) {
        error = tablePath.string() + ": cannot be read (the field app's font table)";
        return std::nullopt;
    }
    nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded() || !doc.is_object()) {
        error = tablePath.string() + ": not a JSON object";
        return std::nullopt;
    }
    const auto fonts = doc.find("fonts");
    if (fonts == doc.end() || !fonts->is_array() || fonts->empty()) {
        error = tablePath.string() + ": \"fonts\" must be a list with at least the main font";
        return std::nullopt;
    }
    FontTable table;
    std::set<std::string> scripts;
    for (size_t i = 0; i < fonts->size(); ++i) {
        const auto& entry = (*fonts)[i];
        const std::string where = tablePath.string() + ": fonts[" + std::to_string(i) + "]";
        if (!entry.is_object() || !entry.contains("script") || !entry["script"].is_string() ||
            !entry.contains("file") || !entry["file"].is_string()) {
            error = where + " needs \"script\" (e.g. \"Deva\") and \"file\"";
            return std::nullopt;
        }
        ScriptFont font;
        font.script = entry["script"].get<std::string>();
        if (font.script.size() != 4) {
            error = where + ": script \"" + font.script + "\" is not a four-letter ISO 15924 code";
            return std::nullopt;
        }
        if (!scripts.insert(font.script).second) {
            error = where + ": script " + font.script + " is listed twice";
            return std::nullopt;
        }
        font.file = tablePath.parent_path() / entry["file"].get<std::string>();
        std::error_code ec;
        if (!std::filesystem::is_regular_file(font.file, ec)) {
            error = where + ": font file " + font.file.string() + " not found";
            return std::nullopt;
        }
        if (entry.contains("languages")) {
            if (!entry["languages"].is_array()) {
                error = where + ": \"languages\" must be a list of language codes";
                return std::nullopt;
            }
            for (const auto& l : entry["languages"]) {
                if (!l.is_string() || l.get<std::string>().empty()) {
                    error = where + ": \"languages\" must be a list of language codes";
                    return std::nullopt;
                }
                font.languages.push_back(l.get<std::string>());
            }
        }
        table.fonts.push_back(std::move(font));
    }
    return table;
}

}  // namespace ck::text
