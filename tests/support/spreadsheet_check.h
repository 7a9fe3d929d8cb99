#pragma once
// LibreOffice as the outside oracle for CSV files: opens a CSV the way a spreadsheet user
// would (formulas evaluated on import, numbers detected) and saves it as flat ODS XML, in
// which every cell LibreOffice took as a formula carries table:formula="...".
// Header-only, for Catch2 tests; needs soffice (libreoffice-calc-nogui).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/command_run.h"

namespace ck::test {

// The flat ODS text of `csv` as LibreOffice reads it. `scratch` holds the private profile and
// the output (a first start of LibreOffice takes a few seconds).
inline std::string csvAsFlatOds(const std::filesystem::path& csv, const std::filesystem::path& scratch) {
    if (std::system("command -v soffice >/dev/null 2>&1") != 0) FAIL("soffice (libreoffice-calc-nogui) is not installed");
    namespace fs = std::filesystem;
    fs::create_directories(scratch / "fods");
    // Filter options: comma, double quote, UTF-8, from line 1, no column types, language 0,
    // quoted fields not forced to text, special numbers detected, (export options), and the
    // 13th: evaluate formulas, as a user opening the file would have it.
    const std::string cmd =
        "timeout 110 soffice -env:UserInstallation=" + shellQuote("file://" + (scratch / "lo-profile").string()) +
        " --headless --norestore --infilter=" +
        shellQuote("Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,0,true") +
        " --convert-to fods --outdir " + shellQuote((scratch / "fods").string()) + " " + shellQuote(csv.string());
    const CommandRun run = runCommand(cmd);
    INFO(run.all());
    REQUIRE(run.status == 0);
    const fs::path out = scratch / "fods" / (csv.stem().string() + ".fods");
    REQUIRE(fs::exists(out));
    std::ifstream in(out, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The formulas LibreOffice found, as written in the flat ODS (e.g. "of:=1+1").
inline std::vector<std::string> formulaCells(const std::string& fods) {
    std::vector<std::string> found;
    static const std::regex formula("table:formula=\"([^\"]*)\"");
    for (auto it = std::sregex_iterator(fods.begin(), fods.end(), formula); it != std::sregex_iterator(); ++it)
        found.push_back((*it)[1].str());
    return found;
}

// How many cells LibreOffice took as the number `value` (office:value="...").
inline size_t numberCells(const std::string& fods, const std::string& value) {
    const std::string needle = "office:value-type=\"float\" office:value=\"" + value + "\"";
    size_t n = 0;
    for (size_t at = fods.find(needle); at != std::string::npos; at = fods.find(needle, at + 1)) ++n;
    return n;
}

}  // namespace ck::test
