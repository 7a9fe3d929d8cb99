#pragma once
// The XLSForm importer: turns an .xlsx authored in the XLSForm convention (sheets `survey`,
// `choices`, `settings`) into the JSON template document of survey-templates/FORMAT.md, which
// the template loader then checks and builds like any .json template.
//
// The importer checks what only the spreadsheet knows (sheets, columns, rows, types and
// begin/end pairs) and reports it by sheet, row and column. Everything a JSON template could
// also get wrong (ids, expressions, missing translations) is left to the loader.
// Nothing is dropped in silence: an unsupported type or column with a value is an error.
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/template/template_loader.h"

namespace ck {

struct XlsFormProblem {
    std::string file;    // the workbook as the author named it
    std::string sheet;   // "survey", "choices", "settings"; empty when the whole file is at fault
    int row = 0;         // 1-based spreadsheet row; 0 = the whole sheet or file
    std::string column;  // the column's header as typed ("label::Hindi (hi)"), or its letter when it has none
    std::string message;
    // "form.xlsx: survey row 12, column 'repeat_count': ..."; for the whole file the message
    // follows the name: "form.xlsx is not a valid .xlsx (zip) file: ...".
    std::string toString() const;
};

struct XlsFormImport {
    std::optional<nlohmann::json> document;  // set only when `errors` is empty: never half-imported
    std::vector<XlsFormProblem> errors;
    std::string fileName;
    // Spreadsheet row of each survey entry (question, group, repeat) by id, so that what the
    // loader finds later can be pointed back at a row.
    std::map<std::string, int, std::less<>> surveyRows;
    // Choices-sheet row of each choice by (list, name), and of each list's first choice by (list, "").
    std::map<std::pair<std::string, std::string>, int> choiceRows;
    bool ok() const { return document.has_value(); }
};

// Largest .xlsx file read.
inline constexpr size_t kMaxXlsxBytes = 64 * 1024 * 1024;

// Imports the workbook at `xlsx`; problems name it as the path was given.
[[nodiscard]] XlsFormImport importXlsForm(const std::filesystem::path& xlsx);
// Imports an .xlsx held in memory; `fileName` is only used in messages.
[[nodiscard]] XlsFormImport importXlsFormBytes(std::string_view bytes, std::string_view fileName);

// Import and load in one call. Import problems become TemplateErrors (where = "survey row 12",
// key = the column); loader errors about a question or a choice get its row added to `where`.
[[nodiscard]] TemplateLoadResult loadTemplateXlsx(const std::filesystem::path& xlsx);

}  // namespace ck
