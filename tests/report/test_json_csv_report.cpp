#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/tabular_report.h"
#include "tests/report/sample_report.h"

namespace ck::test {

// RFC 4180 reader, shared with test_xlsx_in_libreoffice.cpp: quoted fields may hold commas,
// doubled quotes and line breaks; records end in CRLF or LF. Returns nothing for a malformed
// file (an unterminated quote), which the callers treat as a failure.
std::vector<std::vector<std::string>> parseCsv(const std::string& text, bool* ok) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, any = false;
    *ok = true;
    for (size_t i = 0; i < text.size(); ++i) {
        char ch = text[i];
        if (quoted) {
            if (ch == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') { field += '"'; ++i; }
                else quoted = false;
            } else {
                field += ch;
            }
            continue;
        }
        any = true;
        if (ch == '"') quoted = true;
        else if (ch == ',') { row.push_back(field); field.clear(); }
        else if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        else if (ch == '\n') { row.push_back(field); field.clear(); rows.push_back(row); row.clear(); any = false; }
        else field += ch;
    }
    if (quoted) *ok = false;
    if (any || !field.empty() || !row.empty()) { row.push_back(field); rows.push_back(row); }
    return rows;
}

}  // namespace ck::test

using nlohmann::json;
using namespace ck;

namespace {

const json& findTable(const json& j, const std::string& id) {
    for (const json& s : j.at("sections"))
        for (const json& t : s.at("tables"))
            if (t.at("id") == id) return t;
    throw std::runtime_error("no table " + id);
}

const json& findRow(const json& table, const std::string& key) {
    for (const json& r : table.at("rows"))
        if (r.at("key") == key) return r;
    throw std::runtime_error("no row " + key);
}

}  // namespace

TEST_CASE("renderJson carries the whole report and reads back", "[tabular][json]") {
    const report::BaselineReport r = test::sampleReport();
    const json j = json::parse(report::renderJson(r));
    CHECK(j.at("title") == r.title);
    CHECK(j.at("scope").at("level") == "cluster");
    CHECK(j.at("scope").at("name") == "tiruppur_knitwear");
    CHECK(j.at("scopeLabel") == r.scopeLabel);
    CHECK(j.at("template").at("id") == "cluster-diagnostic");
    CHECK(j.at("template").at("version") == "2026.1");
    CHECK(j.at("builtAt").at("unix") == 1795000000);
    CHECK(j.at("builtAt").at("iso") == "2026-11-18T11:06:40Z");
    CHECK(j.at("inputsHash") == r.inputsHash);
    CHECK(j.at("weighted") == true);
    CHECK(j.at("visits") == 212);
    CHECK(j.at("responded") == 188);
    REQUIRE(j.at("methodNotes").size() == 2);
    CHECK(j.at("methodNotes")[1] == r.methodNotes[1]);  // markup-like text kept as text
    REQUIRE(j.at("sections").size() == r.sections.size());
    CHECK(j.at("sections")[0].at("highlights")[0] == r.sections[0].highlights[0]);

    const json& sizes = findTable(j, "glance_size");
    CHECK(sizes.at("columns") == json::array({"Share"}));
    CHECK(sizes.at("chart").at("kind") == "bars");
    const json& micro = findRow(sizes, "micro").at("cells")[0];
    CHECK(findRow(sizes, "micro").at("label") == "Micro (सूक्ष्म)");
    CHECK(micro.at("kind") == "estimate");
    CHECK(micro.at("unit") == "%");
    CHECK(micro.at("shown") == true);
    const report::Estimate& e = r.sections[0].tables[1].rows[0].cells[0].estimate;
    // Raw doubles, bit for bit.
    CHECK(micro.at("value").get<double>() == e.value);
    CHECK(micro.at("low").get<double>() == e.low);
    CHECK(micro.at("high").get<double>() == e.high);
    CHECK(micro.at("se").get<double>() == e.se);
    CHECK(micro.at("cv").get<double>() == e.cv);
    CHECK(micro.at("observations") == 150);
    CHECK(micro.at("weightedUnits").get<double>() == 525.0);
    CHECK(micro.at("precision") == "publish");
    CHECK(micro.at("suppression").is_null());
    CHECK(micro.at("flag") == "");

    const json& women = findRow(findTable(j, "outcomes"), "women_share_jobs").at("cells")[0];
    CHECK(women.at("precision") == "caution");
    CHECK(women.at("flag") == "use with caution");
    // The cell's text is what the HTML page prints (the one formatter).
    CHECK(women.at("text") == "41.2%");
    CHECK(findRow(findTable(j, "outcomes"), "gva_per_worker").at("cells")[0].at("text") == "\u20B9 4.1 lakh per worker");
    CHECK(women.at("value").get<double>() == 41.2);

    const json& cmp = findTable(j, "comparison");
    const json& gva = findRow(cmp, "gva_total");
    CHECK(gva.at("isTotal") == true);
    CHECK(gva.at("cells")[0].at("kind") == "number");
    CHECK(gva.at("cells")[0].at("value").get<double>() == 5.4e9);
    CHECK(gva.at("cells")[2].at("kind") == "text");
    CHECK(gva.at("cells")[2].at("value") == "n/a");
}

TEST_CASE("renderJson never carries a suppressed figure", "[tabular][json]") {
    report::BaselineReport r = test::sampleReport();
    // Give the suppressed estimates real numbers, as a builder might leave them, to prove
    // the renderer hides them rather than relying on NaN.
    report::Cell& medium = r.sections[0].tables[1].rows[2].cells[0];
    medium.estimate.value = 3.5123;
    medium.estimate.low = 0.9;
    medium.estimate.high = 6.1;
    medium.estimate.se = 1.3;
    medium.estimate.cv = 0.37;
    report::Cell& secondary = r.sections[4].tables[0].rows[1].cells[1];
    secondary.number = 987654321.0;
    const std::string text = report::renderJson(r);
    CHECK(text.find("3.5123") == std::string::npos);
    CHECK(text.find("987654321") == std::string::npos);

    const json j = json::parse(text);
    const json& m = findRow(findTable(j, "glance_size"), "medium").at("cells")[0];
    CHECK(m.at("shown") == false);
    for (const char* k : {"value", "low", "high", "se", "cv", "weightedUnits"}) {
        INFO(k);
        CHECK(m.at(k).is_null());
    }
    CHECK(m.at("precision") == "suppress");
    CHECK(m.at("suppression") == "too_few_observations");
    CHECK_FALSE(m.at("flag").get<std::string>().empty());
    CHECK(m.at("observations") == 7);

    const json& dom = findRow(findTable(j, "outcomes"), "coinvest_total").at("cells")[0];
    CHECK(dom.at("suppression") == "dominance");
    CHECK(dom.at("value").is_null());

    const json& sec = findRow(findTable(j, "comparison"), "gva_total").at("cells")[1];
    CHECK(sec.at("kind") == "number");
    CHECK(sec.at("shown") == false);
    CHECK(sec.at("value").is_null());
    CHECK(sec.at("suppression") == "secondary");
}

TEST_CASE("renderJson writes NaN as null, not nan", "[tabular][json]") {
    report::BaselineReport r = test::sampleReport();
    report::Estimate& e = r.sections[1].tables[0].rows[0].cells[0].estimate;  // exporter_share, shown
    e.value = 0;
    e.cv = report::kNaN;  // value 0: no CV
    e.se = std::numeric_limits<double>::infinity();
    r.sections[5].tables[0].rows[0].cells[0].number = report::kNaN;
    const std::string text = report::renderJson(r);
    // As values, not inside words ("finance").
    for (const char* bad : {": nan", ": -nan", ": NaN", ": inf", ": Infinity"}) {
        INFO(bad);
        CHECK(text.find(bad) == std::string::npos);
    }
    const json j = json::parse(text);  // would throw on a bare nan
    const json& c = findRow(findTable(j, "outcomes"), "exporter_share").at("cells")[0];
    CHECK(c.at("shown") == true);
    CHECK(c.at("value").get<double>() == 0.0);
    CHECK(c.at("cv").is_null());
    CHECK(c.at("se").is_null());
    CHECK(findRow(findTable(j, "officers"), "OFF-07").at("cells")[0].at("value").is_null());
}

TEST_CASE("renderJson survives broken UTF-8 in a label", "[tabular][json]") {
    report::BaselineReport r = test::sampleReport();
    r.sections[0].tables[0].rows[0].label = std::string("Units \xff\xfe in the register");
    std::string text;
    REQUIRE_NOTHROW(text = report::renderJson(r));
    const json j = json::parse(text);
    CHECK(findRow(findTable(j, "glance_units"), "register").at("label").get<std::string>().find("in the register") != std::string::npos);
}

TEST_CASE("renderCsv: one RFC 4180 line per cell, hidden figures empty", "[tabular][csv]") {
    report::BaselineReport r = test::sampleReport();
    r.sections[0].tables[0].rows[1].label = "Units visited, \"in person\"\nand by phone";
    report::Cell& medium = r.sections[0].tables[1].rows[2].cells[0];
    medium.estimate.value = 3.5123;  // must not leak
    const std::string text = report::renderCsv(r);
    CHECK(text.rfind("section,table,row_key,row,column,kind,value,low,high,se,cv,observations,unit,flag\r\n", 0) == 0);
    CHECK(text.find("3.5123") == std::string::npos);

    bool ok = false;
    const auto rows = test::parseCsv(text, &ok);
    REQUIRE(ok);
    size_t cells = 0;
    for (const auto& s : r.sections)
        for (const auto& t : s.tables)
            for (const auto& row : t.rows) cells += row.cells.size();
    REQUIRE(rows.size() == cells + 1);
    for (const auto& row : rows) REQUIRE(row.size() == 14);

    auto find = [&](const std::string& table, const std::string& key, const std::string& column) -> const std::vector<std::string>& {
        for (const auto& row : rows)
            if (row[1] == table && row[2] == key && row[4] == column) return row;
        throw std::runtime_error("no csv line " + table + "/" + key + "/" + column);
    };
    // The awkward label comes back exactly.
    CHECK(find("glance_units", "visited", "Units")[3] == "Units visited, \"in person\"\nand by phone");
    CHECK(find("glance_units", "visited", "Units")[6] == "212");
    CHECK(find("glance_units", "visited", "Units")[12] == "units");

    const auto& micro = find("glance_size", "micro", "Share");
    const report::Estimate& e = r.sections[0].tables[1].rows[0].cells[0].estimate;
    CHECK(micro[0] == "glance");
    CHECK(micro[5] == "estimate");
    CHECK(std::stod(micro[6]) == e.value);
    CHECK(std::stod(micro[7]) == e.low);
    CHECK(std::stod(micro[8]) == e.high);
    CHECK(std::stod(micro[9]) == e.se);
    CHECK(std::stod(micro[10]) == e.cv);
    CHECK(micro[11] == "150");
    CHECK(micro[12] == "%");
    CHECK(micro[13] == "");

    const auto& med = find("glance_size", "medium", "Share");
    for (int i = 6; i <= 10; ++i) CHECK(med[i] == "");
    CHECK(med[11] == "7");
    CHECK_FALSE(med[13].empty());

    CHECK(find("outcomes", "women_share_jobs", "Estimate")[13] == "use with caution");
    const auto& sec = find("comparison", "gva_total", "Tamil Nadu");
    CHECK(sec[5] == "number");
    CHECK(sec[6] == "");
    CHECK_FALSE(sec[13].empty());
    CHECK(find("comparison", "gva_total", "This cluster")[6] == "5400000000");
    CHECK(find("comparison", "gva_total", "Knitwear (India)")[5] == "text");
    CHECK(find("comparison", "gva_total", "Knitwear (India)")[6] == "n/a");
}

TEST_CASE("renderCsv of an empty report is the header alone", "[tabular][csv]") {
    report::BaselineReport r;
    CHECK(report::renderCsv(r) == "section,table,row_key,row,column,kind,value,low,high,se,cv,observations,unit,flag\r\n");
    report::Estimate nan;  // a shown estimate whose value could not be computed
    nan.precision = report::Precision::Publish;
    nan.suppression = report::Suppression::None;
    r.sections.push_back({"s", "S", {}, {report::Table{"t", "T", "", {"c"}, {{"k", "K", {report::Cell::ofEstimate(nan, "%")}, false}}, {}}}});
    const std::string text = report::renderCsv(r);
    CHECK(text.find("nan") == std::string::npos);
    CHECK(text.find("s,t,k,K,c,estimate,,,,,,0,%,\r\n") != std::string::npos);
}
