#pragma once
// Loads and fully checks a survey template (format: survey-templates/FORMAT.md). A template
// with any error is never half-loaded: the result holds either a template or errors.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/template/survey_template.h"

namespace ck {

struct TemplateError {
    std::string file;        // the template file as the author named it
    std::string where;       // "question 'turnover'", "choice list 'segment'", "indicator 'x'", "template"
    std::string key;         // "constraint", "label", ... (empty when the whole entry is at fault)
    std::string expression;  // the offending expression text, when there is one
    size_t position = 0;     // 0-based offset of the fault in `expression`
    std::string message;
    // "file: question 'turnover', constraint `. >= 0 and`: at 10: expected a value after 'and'"
    std::string toString() const;
};

struct TemplateLoadResult {
    std::shared_ptr<const Template> survey;  // null when errors is non-empty
    std::vector<TemplateError> errors;
    // What the template lacks only by ClusterKit's own standards (see TemplateLoadOptions);
    // the template loads regardless, with the gap filled as the warning says.
    std::vector<TemplateError> warnings;
    bool ok() const { return survey != nullptr; }
};

// Strictness that is ClusterKit's own rather than needed for sound data: a text missing in
// some language (the default language's text is shown instead), an id used twice (the later
// one is renamed after its group) and a constraint without a message (the standard message
// is shown). By default these are warnings; `strict` makes them errors, as `ck-survey check
// --strict` does for authors who want a form complete in every language.
struct TemplateLoadOptions {
    bool strict = false;
    // Decode every packed image whole (template_media.h) rather than read its header only:
    // what publish does once, so that no device is sent an image that does not decode.
    bool decodeMedia = false;
    // Where the images a template file names are read from (core/xlsform's loadTemplateFile
    // and packTemplateFile); empty: ODK's `NAME-media` folder beside the file.
    std::filesystem::path mediaFolder;
};

// From JSON text (syntax errors carry line and column).
TemplateLoadResult loadTemplateJson(std::string_view jsonText, std::string_view fileName,
                                    const TemplateLoadOptions& options = {});
// From an already parsed document (the XLSForm importer's output).
TemplateLoadResult loadTemplateDocument(const nlohmann::json& document, std::string_view fileName,
                                        const TemplateLoadOptions& options = {});
// From a .json file (.xlsx goes through core/xlsform/xlsform_import.h, loadTemplateXlsx).
TemplateLoadResult loadTemplateJsonFile(const std::filesystem::path& path, const TemplateLoadOptions& options = {});

// Largest template file the loader reads; larger ones are refused before parsing.
inline constexpr size_t kMaxTemplateBytes = 32 * 1024 * 1024;
// Longest label, hint or message text accepted.
inline constexpr size_t kMaxTextBytes = 64 * 1024;

}  // namespace ck
