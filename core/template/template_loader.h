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
    bool ok() const { return survey != nullptr; }
};

// From JSON text (syntax errors carry line and column).
TemplateLoadResult loadTemplateJson(std::string_view jsonText, std::string_view fileName);
// From an already parsed document (the XLSForm importer's output).
TemplateLoadResult loadTemplateDocument(const nlohmann::json& document, std::string_view fileName);
// From a file: .json, or .xlsx through the XLSForm importer (ck_xlsform provides that
// overload; see core/xlsform/xlsform_import.h).
TemplateLoadResult loadTemplateJsonFile(const std::filesystem::path& path);

// Largest template file the loader reads; larger ones are refused before parsing.
inline constexpr size_t kMaxTemplateBytes = 32 * 1024 * 1024;
// Longest label, hint or message text accepted.
inline constexpr size_t kMaxTextBytes = 64 * 1024;

}  // namespace ck
