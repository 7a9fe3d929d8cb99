#pragma once
// A small reader of .xlsx workbooks (Office Open XML spreadsheets) into sheets of rows of
// cell text, as a person sees them in the spreadsheet. It knows nothing of XLSForm: the
// importer (xlsform_import.h) gives the text its meaning.
//
// Everything about the file is outside input: sizes are bounded, and a damaged, truncated or
// hostile file yields an error string, never a crash or an unbounded allocation.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

// One row that has at least one non-empty cell. Empty rows are left out, so `number` is the
// way back to the spreadsheet.
struct XlsxRow {
    int number = 0;                  // 1-based spreadsheet row number
    std::vector<std::string> cells;  // index = 0-based column (A = 0); ends at the last non-empty cell
    // The text in `column`, or "" past the end of the row.
    const std::string& cell(size_t column) const;
};

struct XlsxSheet {
    std::string name;  // as the workbook spells it
    std::vector<XlsxRow> rows;
};

struct XlsxLimits {
    // Largest uncompressed zip entry read; larger ones (zip bombs included) are refused.
    size_t maxEntryBytes = size_t(64) * 1024 * 1024;
    size_t maxRows = 100000;   // non-empty rows per sheet
    size_t maxColumns = 1024;  // a non-empty cell beyond this column is an error
    size_t maxCells = 4000000; // cell slots kept per sheet (rows x their width)
};

struct XlsxReadResult {
    std::vector<std::string> sheetNames;  // every sheet of the workbook, in tab order
    std::vector<XlsxSheet> sheets;        // the wanted sheets that exist, in the order asked for
    // When the workbook was last saved, as its properties say ("2026-03-31T10:15:00Z"); empty
    // when it does not say.
    std::string modified;
    // Empty on success. Otherwise what is wrong, phrased to follow the file's name:
    // "is not a valid .xlsx (zip) file: Not a zip archive".
    std::string error;
    bool ok() const { return error.empty(); }
};

// Reads the sheets named in `wanted` from `bytes` (the whole .xlsx file). Names match exactly
// or, failing that, ignoring ASCII case; a wanted sheet the workbook lacks is simply absent
// from the result (see `sheetNames`). Numbers read as typed: 12 (not 12.0), 2026.1; numbers
// styled as dates as ISO dates (2026-03-31, with "T10:15:00" when there is a time); booleans
// as TRUE/FALSE; formulas as their cached result.
[[nodiscard]] XlsxReadResult readXlsxSheets(std::string_view bytes, const std::vector<std::string>& wanted,
                                            const XlsxLimits& limits = {});

// True when `bytes` begin like a legacy .xls workbook (an OLE compound file).
bool looksLikeXls(std::string_view bytes);
// The same for a legacy .xls workbook (Excel 97-2003), read with FreeXL: dates come as
// ISO dates (FreeXL reads the cell formats), numbers as typed. FreeXL runs in a forked child
// process (it misreads some malformed files): call this from a single-threaded program, as
// the author's tools are.
[[nodiscard]] XlsxReadResult readXlsSheets(std::string_view bytes, const std::vector<std::string>& wanted,
                                           const XlsxLimits& limits = {});

// "A" for 0, "AB" for 27: how a column is named to a person.
std::string xlsxColumnName(size_t column);

}  // namespace ck
