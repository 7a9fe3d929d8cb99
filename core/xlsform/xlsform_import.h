#pragma once
// The XLSForm importer: turns an .xlsx authored in the XLSForm convention (sheets `survey`,
// `choices`, `settings`) into the JSON template document of survey-templates/FORMAT.md, which
// the template loader then checks and builds like any .json template.
//
// The importer checks what only the spreadsheet knows (sheets, columns, rows, types and
// begin/end pairs) and reports it by sheet, row and column. Everything a JSON template could
// also get wrong (ids, expressions, missing translations) is left to the loader.
//
// It is as forgiving as XLSForm itself (pyxform): .xlsx, .xlsm and legacy .xls workbooks; no
// settings sheet; old type spellings; single-colon language columns. It is strict only where
// the data would be wrong: a question type ClusterKit cannot record is an error. Nothing is
// dropped in silence: what is ignored (a column, a setting, a metadata row) is a warning.
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
    // What was ignored or filled in (an unused column, a default form_id): the form still imports.
    std::vector<XlsFormProblem> warnings;
    std::string fileName;
    // Spreadsheet row of each survey entry (question, group, repeat) by id, so that what the
    // loader finds later can be pointed back at a row.
    std::map<std::string, int, std::less<>> surveyRows;
    // Choices-sheet row of each choice by (list, name), and of each list's first choice by (list, "").
    std::map<std::pair<std::string, std::string>, int> choiceRows;
    // The settings row of instance_name when it became the calculation 'instance_name'; 0 when not.
    int instanceNameRow = 0;
    bool ok() const { return document.has_value(); }
};

// Largest workbook file read.
inline constexpr size_t kMaxXlsxBytes = 64 * 1024 * 1024;

// True for a file name a workbook goes by: .xlsx, .xlsm or .xls, in any case.
bool isWorkbookFileName(std::string_view fileName);

// Imports the workbook at `xlsx` (.xlsx, .xlsm or .xls, told apart by content); problems name
// it as the path was given. Without a settings sheet, form_id is the file name and version the
// workbook's last-saved time (else the file's), as YYYYMMDDHHMM.
[[nodiscard]] XlsFormImport importXlsForm(const std::filesystem::path& xlsx);
// Imports a workbook held in memory; `fileName` names it in messages and gives the default
// form_id; `savedAt` (seconds since 1970) is the fallback for the default version.
[[nodiscard]] XlsFormImport importXlsFormBytes(std::string_view bytes, std::string_view fileName,
                                               int64_t savedAt = 0);

// Import and load in one call. Import problems become TemplateErrors (where = "survey row 12",
// key = the column), import warnings join the loader's warnings; loader errors and warnings
// about a question or a choice get its row added to `where`. With options.strict every
// warning is an error.
[[nodiscard]] TemplateLoadResult loadTemplateXlsx(const std::filesystem::path& xlsx,
                                                  const TemplateLoadOptions& options = {});
// Loads a template from .json or from a workbook (by content, whatever the extension), with
// the images its questions and choices name packed from its media folder (options.mediaFolder,
// else `NAME-media` beside it; core/template/template_media.h): a named image that is not
// there is a warning at its row, one that is not a whole PNG or JPEG within the limits an error.
[[nodiscard]] TemplateLoadResult loadTemplateFile(const std::filesystem::path& path,
                                                  const TemplateLoadOptions& options = {});

// A template file made ready to publish or to put on a device: loaded as loadTemplateFile
// does, and the JSON document to sign and send, with its images packed in.
struct TemplatePackage {
    TemplateLoadResult loaded;
    std::string jsonText;    // set when loaded.ok(); a .json with no image packed is its own text, unchanged
    size_t mediaFiles = 0;   // images packed from the folder
    size_t mediaBytes = 0;
    bool ok() const { return loaded.ok(); }
};
[[nodiscard]] TemplatePackage packTemplateFile(const std::filesystem::path& path, const TemplateLoadOptions& options = {});

}  // namespace ck
