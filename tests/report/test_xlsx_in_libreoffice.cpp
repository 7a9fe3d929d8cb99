#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/tabular_report.h"
#include "tests/report/sample_report.h"
#include "tests/support/command_run.h"

namespace ck::test {
// Defined in test_json_csv_report.cpp.
std::vector<std::vector<std::string>> parseCsv(const std::string& text, bool* ok);
}  // namespace ck::test

using nlohmann::json;
using namespace ck;
namespace fs = std::filesystem;

namespace {

fs::path scratchDir() {
    fs::path base = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_tabular_report";
    fs::create_directories(base);
    std::string tmpl = (base / "lo-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    return tmpl;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

bool close(double a, double b) { return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b)) + 1e-300; }

// Two awkward table ids: characters a sheet name cannot hold, more than 31 characters, and the
// same id twice (the builder never does that; the workbook must still open).
constexpr const char* kAwkwardId = "value_chain/inputs:by*size?[2026]_long";
constexpr const char* kAwkwardSheet = "value_chain_inputs_by_size__202";
constexpr const char* kAwkwardSheet2 = "value_chain_inputs_by_size__2~2";

report::BaselineReport reportWithAwkwardIds() {
    report::BaselineReport r = test::sampleReport();
    report::Table t = r.sections[0].tables[1];  // the size shares, with a chart
    t.id = kAwkwardId;
    r.sections[0].tables.push_back(t);
    r.sections[0].tables.push_back(t);
    return r;
}

}  // namespace

TEST_CASE("the workbook read back by LibreOffice carries the JSON report's figures", "[tabular][xlsx][libreoffice]") {
    if (std::system("command -v soffice >/dev/null 2>&1") != 0) FAIL("soffice (libreoffice-calc-nogui) is not installed");
    const report::BaselineReport r = reportWithAwkwardIds();
    const json j = json::parse(report::renderJson(r));

    const fs::path artefacts = fs::path(CK_BINARY_DIR) / "test-artifacts";
    fs::create_directories(artefacts);
    const fs::path book = artefacts / "baseline-sample.xlsx";
    fs::remove(book);
    report::writeXlsx(r, book);
    REQUIRE(fs::file_size(book) > 1000);
    REQUIRE(slurp(book).substr(0, 2) == "PK");  // a zip, as every .xlsx is

    // One conversion for every sheet (LibreOffice's first start is the expensive part), with
    // a private profile so no user's settings or a running instance interfere. Filter
    // options: comma, double quote, UTF-8, raw values (not as shown), all sheets (-1, 7.4+).
    const fs::path scratch = scratchDir();
    const fs::path out = scratch / "csv";
    fs::create_directories(out);
    const std::string cmd = "timeout 110 soffice -env:UserInstallation=" + test::shellQuote("file://" + (scratch / "lo-profile").string()) +
                            " --headless --norestore --convert-to " +
                            test::shellQuote("csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1") +
                            " --outdir " + test::shellQuote(out.string()) + " " + test::shellQuote(book.string());
    const test::CommandRun run = test::runCommand(cmd);
    INFO(run.all());
    REQUIRE(run.status == 0);

    auto sheetCsv = [&](const std::string& sheet) {
        const fs::path p = out / ("baseline-sample-" + sheet + ".csv");
        INFO("sheet " << sheet << " at " << p);
        REQUIRE(fs::exists(p));
        bool ok = false;
        auto rows = test::parseCsv(slurp(p), &ok);
        REQUIRE(ok);
        return rows;
    };

    // The Report sheet comes first and carries the inputs hash.
    {
        const auto rows = sheetCsv("Report");
        bool found = false;
        for (const auto& row : rows)
            if (row.size() >= 2 && row[0] == "Inputs hash" && row[1] == r.inputsHash) found = true;
        CHECK(found);
    }

    size_t shownChecked = 0, hiddenChecked = 0;
    int awkward = 0;
    for (const json& s : j.at("sections")) {
        for (const json& t : s.at("tables")) {
            std::string sheet = t.at("id");
            if (sheet == kAwkwardId) sheet = awkward++ == 0 ? kAwkwardSheet : kAwkwardSheet2;
            INFO("table " << t.at("id").get<std::string>() << " on sheet " << sheet);
            const auto rows = sheetCsv(sheet);
            // Find the sub-heading row, then each table column's first sheet column.
            size_t head = 0;
            while (head < rows.size() && (rows[head].empty() || rows[head][0] != "Row key")) ++head;
            REQUIRE(head < rows.size());
            REQUIRE(head >= 1);
            const auto& sub = rows[head];
            const auto& group = rows[head - 1];
            std::vector<size_t> starts;
            for (size_t c = 2; c < sub.size(); ++c)
                if (sub[c] == "Estimate" || sub[c] == "Value") starts.push_back(c);
            REQUIRE(starts.size() == t.at("columns").size());
            for (size_t i = 0; i < starts.size(); ++i) CHECK(group.at(starts[i]) == t.at("columns")[i].get<std::string>());

            for (const json& row : t.at("rows")) {
                const std::string key = row.at("key");
                const std::vector<std::string>* line = nullptr;
                for (size_t k = head + 1; k < rows.size(); ++k)
                    if (!rows[k].empty() && rows[k][0] == key) line = &rows[k];
                INFO("row " << key);
                REQUIRE(line != nullptr);
                CHECK(line->at(1) == row.at("label").get<std::string>());
                for (size_t i = 0; i < row.at("cells").size(); ++i) {
                    const json& cell = row.at("cells")[i];
                    const size_t c0 = starts[i];
                    auto at = [&](size_t k) { return c0 + k < line->size() ? line->at(c0 + k) : std::string(); };
                    const std::string kind = cell.at("kind");
                    INFO("column " << i << " kind " << kind);
                    if (kind == "estimate" && cell.at("shown") == true) {
                        CHECK(close(std::stod(at(0)), cell.at("value").get<double>()));
                        CHECK(close(std::stod(at(1)), cell.at("low").get<double>()));
                        CHECK(close(std::stod(at(2)), cell.at("high").get<double>()));
                        CHECK(at(5) == std::to_string(cell.at("observations").get<uint64_t>()));
                        CHECK(at(6) == cell.at("flag").get<std::string>());
                        ++shownChecked;
                    } else if (kind == "estimate") {
                        for (size_t k = 0; k <= 4; ++k) CHECK(at(k).empty());
                        CHECK_FALSE(at(6).empty());
                        CHECK(at(6) == cell.at("flag").get<std::string>());
                        ++hiddenChecked;
                    } else if (kind == "number" && cell.at("shown") == true) {
                        CHECK(close(std::stod(at(0)), cell.at("value").get<double>()));
                    } else if (kind == "number") {
                        CHECK(at(0).empty());
                        ++hiddenChecked;
                    } else if (kind == "text") {
                        CHECK(at(0) == cell.at("value").get<std::string>());
                    }
                }
            }
        }
    }
    // The sample has 15 shown estimates and 4 hidden figures; the two copies add 2 + 1 each.
    CHECK(shownChecked == 19);
    CHECK(hiddenChecked == 6);
    // The profile and CSVs are large and of no use once checked; the workbook stays as the artefact.
    fs::remove_all(scratch);
}

TEST_CASE("writeXlsx names the file and the reason when it cannot write", "[tabular][xlsx]") {
    const report::BaselineReport r = test::sampleReport();
    const fs::path scratch = scratchDir();

    const fs::path missing = scratch / "no-such-folder" / "book.xlsx";
    try {
        report::writeXlsx(r, missing);
        FAIL("wrote into a missing folder");
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        CHECK(what.find(missing.string()) != std::string::npos);
        CHECK(what.find("does not exist") != std::string::npos);
    }
    CHECK_FALSE(fs::exists(missing));

    // A folder where the file should be: the library fails at close.
    const fs::path dir = scratch / "book.xlsx";
    fs::create_directories(dir);
    try {
        report::writeXlsx(r, dir);
        FAIL("wrote over a folder");
    } catch (const std::runtime_error& e) {
        const std::string what = e.what();
        CHECK(what.find(dir.string()) != std::string::npos);
        CHECK(what.size() > dir.string().size() + 30);  // a reason, not just the name
    }
    CHECK(fs::is_directory(dir));
    fs::remove_all(scratch);
}
