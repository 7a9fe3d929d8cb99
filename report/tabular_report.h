#pragma once
// The baseline for analysts and machines: JSON (the whole report), CSV (one row per cell,
// long format) and an XLSX workbook (one sheet per table, with native charts).
#include <filesystem>
#include <string>

#include "core/report/baseline_report.h"

namespace ck::report {

// Every field of the report. Numbers are raw (not rounded, not grouped); NaN is null.
// Suppressed estimates keep their flags but their value, interval, se and cv are null, so a
// published file never carries a hidden figure.
std::string renderJson(const BaselineReport& report);

// RFC 4180, header:
// section,table,row_key,row,column,kind,value,low,high,se,cv,observations,unit,flag
// one line per cell (text cells: value holds the text). Suppressed figures are empty.
std::string renderCsv(const BaselineReport& report);

// An .xlsx workbook: a "Report" sheet (title, scope, inputs hash, method notes), then one
// sheet per table (named from Table::id, at most 31 characters) with the columns Estimate,
// Low, High, SE, CV, Observations, Flag for estimate cells, numbers as numbers, and a native
// chart beside any table with a ChartSpec. Suppressed figures are blank cells with the flag.
// Throws std::runtime_error naming the file when it cannot be written.
void writeXlsx(const BaselineReport& report, const std::filesystem::path& file);

}  // namespace ck::report
