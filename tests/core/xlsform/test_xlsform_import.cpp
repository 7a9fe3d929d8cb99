#include <catch2/catch.hpp>

#include <zip.h>

#include "bilingual_form.h"
#include "feature_workbooks.h"
#include "core/form/form_session.h"
#include "core/form/interpolate.h"
#include "core/xlsform/xlsform_import.h"
#include "core/xlsform/xlsx_reader.h"
#include "xlsx_fixture.h"

using namespace ck;
using namespace ck::test;
using nlohmann::json;

namespace {

Sheet minimalSettings() {
    return {"settings", {{"form_id", "version", "form_title"}, {"t", "1", "T"}}};
}

// A problem as printed, with the scratch folder taken off the file name.
std::string shown(const XlsFormProblem& problem) {
    std::string text = problem.toString();
    const std::string prefix = scratchDir().string() + "/";
    if (text.rfind(prefix, 0) == 0)
        text.erase(0, prefix.size());
    return text;
}

std::string allProblems(const XlsFormImport& result) {
    std::string text;
    for (const XlsFormProblem& p : result.errors)
        text += p.toString() + "\n";
    return text;
}

XlsFormImport importSheets(const std::string& fileName, const std::vector<Sheet>& sheets) {
    return importXlsForm(writeXlsx(fileName, sheets));
}

// A survey sheet with a header and the given rows under it.
std::vector<Sheet> surveyOnly(std::vector<Row> rows) {
    rows.insert(rows.begin(), Row{"type", "name", "label"});
    return {{"survey", rows}, minimalSettings()};
}

}  // namespace

TEST_CASE("A bilingual XLSForm imports as the JSON template it describes", "[core][xlsform]") {
    XlsFormImport result = importSheets("bilingual.xlsx", bilingualForm());
    INFO(allProblems(result));
    REQUIRE(result.errors.empty());
    REQUIRE(result.document);
    const json& doc = *result.document;
    const json expected = bilingualFormJson();
    // Section by section first, so a failure points at the part that differs.
    REQUIRE(doc["sections"].size() == expected["sections"].size());
    for (size_t i = 0; i < expected["sections"].size(); ++i) {
        INFO("section " << i);
        CHECK(doc["sections"][i].dump(1) == expected["sections"][i].dump(1));
    }
    CHECK(doc["choices"] == expected["choices"]);
    CHECK(doc["title"] == expected["title"]);
    CHECK(doc["languages"] == json::array({"en", "hi"}));
    CHECK(doc["version"] == "2026.1");
    CHECK(doc == expected);

    CHECK(result.surveyRows.at("consent") == 2);
    CHECK(result.surveyRows.at("product_lines") == 11);
    CHECK(result.fileName.find("bilingual.xlsx") != std::string::npos);
}

TEST_CASE("The checked-in sample XLSForm imports like the fixture it was written from", "[core][xlsform]") {
    XlsFormImport result = importXlsForm(std::filesystem::path(CK_TEST_DATA_DIR) / "xlsform" / "sample-bilingual.xlsx");
    INFO(allProblems(result));
    REQUIRE(result.document);
    CHECK(*result.document == bilingualFormJson());
}

// Run by hand to refresh the sample survey authors copy from.
TEST_CASE("Write the sample XLSForm into tests/data", "[.generate]") {
    std::filesystem::path target = std::filesystem::path(CK_TEST_DATA_DIR) / "xlsform" / "sample-bilingual.xlsx";
    std::filesystem::create_directories(target.parent_path());
    writeXlsx(target, bilingualForm());
    REQUIRE(importXlsForm(target).document);
}

TEST_CASE("Cells read as typed: numbers, booleans, rich text, inline strings, formulas", "[core][xlsform]") {
    SECTION("numbers render without a trailing .0 and keep their decimals") {
        XlsFormImport result = importSheets(
            "numbers.xlsx",
            {{"survey",
              {{"type", "name", "label", "constraint"},
               {"select_one n", "q1", 42, ". >= 0.5"},
               {"scale n", "q2", "Scale"}}},
             {"choices",
              {{"list_name", "name", "label", "weight"},
               {"n", 0, "Zero", 0.25},
               {"n", 10, "Ten", -3},
               {"n", 123456789, "Big", 1e20}}},
             {"settings", {{"form_id", "version", "form_title"}, {"numbers", 20260101, 3.0}}}});
        INFO(allProblems(result));
        REQUIRE(result.document);
        const json& doc = *result.document;
        CHECK(doc["version"] == "20260101");
        CHECK(doc["title"]["en"] == "3");
        CHECK(doc["sections"][0]["questions"][0]["label"]["en"] == "42");
        const json& n = doc["choices"]["n"];
        CHECK(n[0]["name"] == "0");
        CHECK(n[1]["name"] == "10");
        CHECK(n[2]["name"] == "123456789");
        CHECK(n[0]["properties"]["weight"] == "0.25");
        CHECK(n[1]["properties"]["weight"] == "-3");
        CHECK(n[2]["properties"]["weight"] == "1e+20");
    }

    SECTION("a boolean TRUE in 'required' means required; FALSE means optional") {
        XlsFormImport result = importSheets("booleans.xlsx", {{"survey",
                                                                {{"type", "name", "label", "required"},
                                                                 {"text", "a", "A", true},
                                                                 {"text", "b", "B", false}}},
                                                               minimalSettings()});
        REQUIRE(result.document);
        const json& qs = (*result.document)["sections"][0]["questions"];
        CHECK(qs[0]["required"] == true);
        CHECK_FALSE(qs[1].contains("required"));
    }

    SECTION("rich text runs join into one string, spaces kept") {
        XlsFormImport result =
            importSheets("rich.xlsx", {{"survey",
                                        {{"type", "name", "label"},
                                         {"text", "a", Cell::rich({"Name of the ", "owner", " (as on the licence)"})}}},
                                       minimalSettings()});
        REQUIRE(result.document);
        CHECK((*result.document)["sections"][0]["questions"][0]["label"]["en"] ==
              "Name of the owner (as on the licence)");
    }

    SECTION("inline strings (no shared string table) read the same") {
        std::vector<Sheet> sheets = bilingualForm();
        XlsFormImport result = importXlsForm(writeXlsx("inline.xlsx", sheets, /*constantMemory=*/true));
        INFO(allProblems(result));
        REQUIRE(result.document);
        CHECK(*result.document == bilingualFormJson());
    }

    SECTION("a formula reads as its cached text result") {
        XlsFormImport result = importSheets(
            "formula.xlsx", {{"survey",
                              {{"type", "name", "label"}, {"text", Cell::formulaText("=\"unit\"&\"_name\"", "unit_name"), "Name"}}},
                             minimalSettings()});
        INFO(allProblems(result));
        REQUIRE(result.document);
        CHECK((*result.document)["sections"][0]["questions"][0]["id"] == "unit_name");
    }
}

TEST_CASE("Sparse sheets: blank rows, blank columns, a header below empty rows", "[core][xlsform]") {
    XlsFormImport result =
        importSheets("sparse.xlsx", {{"survey",
                                      {{},
                                       {},
                                       {{}, "type", {}, "name", {}, {}, "label", {}, {}, {}, {}, {}, "hint"},
                                       {},
                                       {{}, "integer", {}, "workers", {}, {}, "Workers"},
                                       {},
                                       {},
                                       {{}, "text", {}, "remarks", {}, {}, "Remarks", {}, {}, {}, {}, {}, "Anything else"},
                                       {{}, "made_up_type", {}, "bad"}}},
                                     minimalSettings()});
    // The bad type on row 9 shows the row numbers survive the blank rows.
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].row == 9);
    CHECK(result.errors[0].column == "type");
    CHECK(shown(result.errors[0]).find(": survey row 9, column 'type': unknown type 'made_up_type'") !=
          std::string::npos);

    XlsFormImport good = importSheets("sparse-good.xlsx",
                                      {{"survey",
                                        {{},
                                         {{}, "type", {}, "name", {}, {}, "label", {}, {}, {}, {}, {}, "hint"},
                                         {},
                                         {{}, "integer", {}, "workers", {}, {}, "Workers"},
                                         {{}, "text", {}, "remarks", {}, {}, "Remarks", {}, {}, {}, {}, {}, "Else"}}},
                                       minimalSettings()});
    REQUIRE(good.document);
    const json& qs = (*good.document)["sections"][0]["questions"];
    REQUIRE(qs.size() == 2);
    CHECK(qs[0] == json::parse(R"({"id": "workers", "type": "integer", "label": {"en": "Workers"}})"));
    CHECK(qs[1]["hint"] == json::parse(R"({"en": "Else"})"));
    CHECK(good.surveyRows.at("remarks") == 5);
}

TEST_CASE("Types ClusterKit cannot record are refused by name, metadata rows are skipped with a warning", "[core][xlsform]") {
    const std::vector<std::string> metadata = {"start", "end", "deviceid", "username",
                                               "phonenumber", "audit", "simserial", "subscriberid"};
    const std::vector<std::string> refused = {"range", "rank", "time", "dateTime", "geotrace", "geoshape", "audio",
                                              "video", "file", "acknowledge", "hidden", "xml-external", "trigger",
                                              "select_one_from_file"};
    std::vector<Row> rows = {{"text", "ok", "Fine"}};
    for (const std::string& type : metadata)
        rows.push_back({type, type + "_q"});
    rows.push_back({"today", "visit_day"});
    for (const std::string& type : refused)
        rows.push_back({type, "q_" + std::to_string(rows.size()), "L"});
    rows.push_back({"select_one", "no_list", "L"});
    rows.push_back({"frobnicate", "unknown_q", "L"});

    XlsFormImport result = importSheets("types.xlsx", surveyOnly(rows));
    CHECK_FALSE(result.document);
    INFO(allProblems(result));
    REQUIRE(result.errors.size() == refused.size() + 2);
    size_t i = 0;
    const int firstRefused = int(metadata.size()) + 4;  // header, "ok", the metadata rows, today
    for (const std::string& type : refused) {
        const XlsFormProblem& p = result.errors[i];
        CHECK(p.sheet == "survey");
        CHECK(p.row == firstRefused + int(i));
        CHECK(p.column == "type");
        CHECK(p.message.find("type '" + type + "' is not supported: ") == 0);
        ++i;
    }
    CHECK(shown(result.errors[refused.size() - 1]) ==
          "types.xlsx: survey row " + std::to_string(firstRefused + int(refused.size()) - 1) +
              ", column 'type': type 'select_one_from_file' is not supported: ClusterKit reads choices only from the "
              "choices sheet; copy the file's rows there and use 'select_one LIST'");
    CHECK(result.errors[i++].message.find("needs the name of a choice list") != std::string::npos);
    CHECK(result.errors[i].message == "unknown type 'frobnicate'");
    CHECK(result.errors[i].row == int(rows.size()) + 1);

    // Every metadata row but `today` is a warning at its row, never an error.
    REQUIRE(result.warnings.size() >= metadata.size());
    for (size_t m = 0; m < metadata.size(); ++m) {
        INFO(metadata[m]);
        CHECK(result.warnings[m].row == int(m) + 3);
        CHECK(result.warnings[m].message.find("metadata '" + metadata[m] + "' is skipped: ") == 0);
    }
    CHECK(shown(result.warnings[0]) ==
          "types.xlsx: survey row 3, column 'type': metadata 'start' is skipped: each record keeps the time it was "
          "created and last changed");
}

TEST_CASE("Metadata: today becomes a calculation, the rest are skipped and the form loads", "[core][xlsform]") {
    TemplateLoadResult loaded = loadTemplateXlsx(writeXlsx(
        "metadata.xlsx", surveyOnly({{"start", "start"},
                                     {"end", "end"},
                                     {"today", "today"},
                                     {"deviceid", "deviceid"},
                                     {"audit", "audit"},
                                     {"date", "opened", "Opened on"},
                                     {"note", "n", "Today is ${today}"}})));
    std::string all;
    for (const auto& e : loaded.errors) all += e.toString() + "\n";
    INFO(all);
    REQUIRE(loaded.ok());
    const Question* today = loaded.survey->find("today");
    REQUIRE(today);
    CHECK(today->type == QuestionType::Calculate);
    CHECK(today->calculation.present());
    CHECK_FALSE(loaded.survey->find("start"));
    CHECK_FALSE(loaded.survey->find("deviceid"));
    CHECK(loaded.warnings.size() == 4);
}

TEST_CASE("Type spellings pyxform accepts: aliases, legacy selects, or_other", "[core][xlsform]") {
    XlsFormImport result = importSheets(
        "aliases.xlsx",
        {{"survey",
          {{"type", "name", "label"},
           {"string", "a", "A"},
           {"photo", "b", "B"},
           {"gps", "c", "C"},
           {"phone number", "d", "D"},
           {"select one from yn", "e", "E"},
           {"select all that apply from yn", "f", "F"},
           {"select all that apply yn", "g", "G"},
           {"Select_One yn or_other", "h", "H"},
           {"barcode", "i", "I"},
           {"add integer prompt", "j", "J"},
           {"begin_group", "grp", "Group"},
           {"int", "k", "K"},
           {"end_group"}}},
         {"choices", {{"list name", "name", "label"}, {"yn", "yes", "Yes"}, {"yn", "no", "No"}}},
         minimalSettings()});
    INFO(allProblems(result));
    REQUIRE(result.document);
    const json& doc = *result.document;
    const json& main = doc["sections"][0]["questions"];
    auto typeOf = [&](const std::string& id) {
        for (const json& q : main)
            if (q["id"] == id)
                return q["type"].get<std::string>();
        return std::string("(absent)");
    };
    CHECK(typeOf("a") == "text");
    CHECK(typeOf("b") == "photo");
    CHECK(typeOf("c") == "gps");
    CHECK(typeOf("d") == "text");
    CHECK(typeOf("e") == "select_one");
    CHECK(typeOf("f") == "select_multiple");
    CHECK(typeOf("g") == "select_multiple");
    CHECK(typeOf("h") == "select_one");
    CHECK(typeOf("i") == "text");
    CHECK(typeOf("j") == "integer");
    CHECK(doc["sections"][1]["questions"][0]["type"] == "integer");
    // or_other: an 'other' choice and a text question asked when it is chosen.
    CHECK(typeOf("h_other") == "text");
    for (const json& q : main)
        if (q["id"] == "h_other")
            CHECK(q["relevant"] == "selected(${h}, 'other')");
    CHECK(doc["choices"]["yn"].back()["name"] == "other");
    CHECK(doc["choices"]["yn"].size() == 3);
    // Changes of meaning are said: phone number and barcode become typed text.
    std::string warnings;
    for (const XlsFormProblem& w : result.warnings)
        warnings += w.toString() + "\n";
    CHECK_THAT(warnings, Catch::Contains("row 5, column 'type': 'phone number' is read as a text question"));
    CHECK_THAT(warnings, Catch::Contains("row 10, column 'type': 'barcode' is read as a text question"));

    TemplateLoadResult loaded = loadTemplateXlsx(writeXlsx("aliases-load.xlsx", {{"survey", {{"type", "name", "label"}, {"select_one yn or_other", "h", "H"}}},
         {"choices", {{"list_name", "name", "label"}, {"yn", "yes", "Yes"}, {"yn", "no", "No"}}}, minimalSettings()}));
    REQUIRE(loaded.ok());
    FormSession session(loaded.survey);
    const int other = loaded.survey->indexOf("h_other");
    REQUIRE(other >= 0);
    CHECK_FALSE(session.isRelevant(other));
    REQUIRE(session.setAnswer("h", Value::text("other")).ok());
    CHECK(session.isRelevant(other));

    SECTION("a misspelt or_other is still an error") {
        XlsFormImport bad = importSheets("aliases-bad.xlsx", {{"survey", {{"type", "name", "label"}, {"select_one yn or_others", "h", "H"}}},
             {"choices", {{"list_name", "name", "label"}, {"yn", "yes", "Yes"}}}, minimalSettings()});
        REQUIRE(bad.errors.size() == 1);
        CHECK(bad.errors[0].message == "unexpected 'or_others' after the list name in 'select_one yn'");
    }
}

TEST_CASE("Columns ClusterKit does not read are ignored with a warning when they hold a value", "[core][xlsform]") {
    XlsFormImport result = importSheets(
        "columns.xlsx",
        {{"survey",
          {{"type", "name", "label", "repeat_count", "read_only", "default", "media::image", "bind::oc:itemgroup",
            "guidance_hint", "Colour", "parameters", "relevant::hi", "body::accuracyThreshold"},
           {"text", "a", "A"},  // none of the extra columns used: fine
           {"begin repeat", "r", "R", "3"},
           {"integer", "b", "B", {}, "yes", "5", "b.png", "x", "ask twice", "red", "start=1", "1", "9"},
           {"end repeat"},
           {"text", "c", "C", {}, "yes"}}},
         minimalSettings()});
    INFO(allProblems(result));
    REQUIRE(result.document);
    REQUIRE(result.errors.empty());
    CHECK(result.warnings.size() == 8);
    auto expect = [&](const std::string& column, int row, const std::string& start) {
        const XlsFormProblem* p = nullptr;
        for (const XlsFormProblem& e : result.warnings)
            if (e.column == column)
                p = &e;
        INFO(column);
        REQUIRE(p);
        CHECK(p->sheet == "survey");
        CHECK(p->row == row);
        CHECK(p->message.find(start) == 0);
    };
    expect("read_only", 4, "column 'read_only' is not supported by ClusterKit; its values are ignored (values in rows 4, 6)");
    expect("default", 4, "column 'default' is not supported");
    expect("bind::oc:itemgroup", 4, "column 'bind::oc:itemgroup' is not supported");
    expect("guidance_hint", 4, "column 'guidance_hint' is not supported");
    expect("parameters", 4, "column 'parameters' is not supported");
    expect("body::accuracyThreshold", 4, "column 'body::accuracyThreshold' is not supported");
    expect("Colour", 4, "unknown column 'Colour' is ignored; the survey sheet reads type, name, label");
    expect("relevant::hi", 4, "unknown column 'relevant::hi'");
    // repeat_count and media::image are read.
    const json& repeat = (*result.document)["sections"][0]["questions"][1];
    CHECK(repeat["repeat_count"] == "3");
    CHECK(repeat["questions"][0]["image"] == json::parse(R"({"en": "b.png"})"));
}

TEST_CASE("Settings: form_id and version default as in pyxform, other keys are warnings", "[core][xlsform]") {
    std::vector<Row> rows = {{"type", "name", "label"}, {"text", "a", "A"}};
    SECTION("no settings sheet: the file name and the last-saved time") {
        XlsFormImport result = importSheets("My Form (v2).xlsx", {{"survey", rows}});
        INFO(allProblems(result));
        REQUIRE(result.document);
        CHECK((*result.document)["id"] == "My_Form__v2_");
        const std::string version = (*result.document)["version"];
        CHECK(version.size() == 12);
        CHECK(version.find_first_not_of("0123456789") == std::string::npos);
        CHECK(version.substr(0, 2) == "20");
        REQUIRE(result.warnings.size() == 1);
        CHECK(result.warnings[0].message.find("has no settings sheet: form_id 'My_Form__v2_'") == 0);
    }
    SECTION("missing form_id and version in a settings sheet") {
        XlsFormImport result =
            importSheets("settings1.xlsx", {{"survey", rows}, {"settings", {{"form_title"}, {"Title"}}}});
        INFO(allProblems(result));
        REQUIRE(result.document);
        CHECK((*result.document)["id"] == "settings1");
        REQUIRE(result.warnings.size() == 2);
        CHECK(shown(result.warnings[0]) ==
              "settings1.xlsx: settings row 2, column 'form_id': no form_id; the file name gives it: 'settings1'");
        CHECK(result.warnings[1].column == "version");
    }
    SECTION("the version comes from the workbook's own last-saved time when it has one") {
        // libxlsxwriter writes docProps/core.xml with the time the workbook was written.
        XlsFormImport a = importXlsFormBytes(readBytes(writeXlsx("v.xlsx", {{"survey", rows}})), "v.xlsx", 1);
        REQUIRE(a.document);
        CHECK((*a.document)["version"].get<std::string>().substr(0, 4) != "1970");
    }
    SECTION("unknown keys and extra rows are warnings; instance_name names the visit") {
        XlsFormImport result = importSheets(
            "settings2.xlsx",
            {{"survey", rows},
             {"settings",
              {{"form_id", "version", "instance_name", "style", "submission_url", "public_key"},
               {"f", "1", "concat('Unit ', ${a})", "pages", "https://example.org/submit", "MIIB"},
               {"x"}}}});
        INFO(allProblems(result));
        REQUIRE(result.document);
        REQUIRE(result.warnings.size() == 4);
        // In row order, as the author reads the sheet.
        CHECK(result.warnings[0].column == "style");
        CHECK(result.warnings[0].row == 2);
        CHECK(result.warnings[0].message.find("setting 'style' is not used by ClusterKit and is ignored") == 0);
        CHECK(result.warnings[1].column == "submission_url");
        CHECK(result.warnings[2].column == "public_key");
        CHECK(result.warnings[3].row == 3);
        CHECK(result.warnings[3].message.find("only the first row") == 0);
        const json& first = (*result.document)["sections"][0]["questions"][0];
        CHECK(first["id"] == "instance_name");
        CHECK(first["type"] == "calculate");
        CHECK(first["calculation"] == "concat('Unit ', ${a})");
    }
    SECTION("an instance_name that does not compile is pointed at in the settings") {
        TemplateLoadResult loaded = loadTemplateXlsx(writeXlsx(
            "settings4.xlsx", {{"survey", rows}, {"settings", {{"form_id", "version", "instance_name"}, {"f", "1", "concat(${b})"}}}}));
        REQUIRE_FALSE(loaded.ok());
        REQUIRE(loaded.errors.size() == 1);
        CHECK(loaded.errors[0].where == "question 'instance_name' (settings row 2, instance_name)");
        CHECK(loaded.errors[0].key == "calculation");
    }
    SECTION("no form_title: the form_id serves as the title") {
        XlsFormImport result =
            importSheets("settings3.xlsx", {{"survey", rows}, {"settings", {{"form_id", "version"}, {"f", "1"}}}});
        REQUIRE(result.document);
        CHECK((*result.document)["title"] == json::parse(R"({"en": "f"})"));
    }
}

TEST_CASE("Languages: plain columns, default_language and conflicts", "[core][xlsform]") {
    SECTION("plain columns only: English") {
        XlsFormImport result = importSheets("lang1.xlsx", surveyOnly({{"text", "a", "A"}}));
        REQUIRE(result.document);
        CHECK((*result.document)["languages"] == json::array({"en"}));
        CHECK((*result.document)["sections"][0]["label"] == json::parse(R"({"en": "T"})"));
    }
    SECTION("default_language names the plain columns' language and comes first") {
        XlsFormImport result = importSheets(
            "lang2.xlsx", {{"survey", {{"type", "name", "label::Tamil (ta)", "label"}, {"text", "a", "ஏ", "ए"}}},
                           {"settings",
                            {{"form_id", "version", "form_title", "form_title::Tamil (ta)", "default_language"},
                             {"f", "1", "शीर्षक", "தலைப்பு", "Hindi (hi)"}}}});
        INFO(allProblems(result));
        REQUIRE(result.document);
        const json& doc = *result.document;
        CHECK(doc["languages"] == json::array({"hi", "ta"}));
        CHECK(doc["title"] == json::parse(R"({"hi": "शीर्षक", "ta": "தலைப்பு"})"));
        CHECK(doc["sections"][0]["questions"][0]["label"] == json::parse(R"({"hi": "ए", "ta": "ஏ"})"));
    }
    SECTION("language columns only, no default declared: English when present, else the first") {
        XlsFormImport hiMr = importSheets(
            "lang3.xlsx", {{"survey", {{"type", "name", "label::Hindi (hi)", "label::mr"}, {"text", "a", "ए", "अ"}}},
                           minimalSettings()});
        REQUIRE(hiMr.document);
        CHECK((*hiMr.document)["languages"] == json::array({"hi", "mr"}));
        // One plain form_title serves every language.
        CHECK((*hiMr.document)["title"] == json::parse(R"({"hi": "T", "mr": "T"})"));

        XlsFormImport hiEn = importSheets(
            "lang4.xlsx",
            {{"survey", {{"type", "name", "label::Hindi (hi)", "label::English (en)"}, {"text", "a", "ए", "A"}}},
             minimalSettings()});
        REQUIRE(hiEn.document);
        CHECK((*hiEn.document)["languages"] == json::array({"en", "hi"}));
    }
    SECTION("an empty language column adds no language") {
        XlsFormImport result = importSheets(
            "lang5.xlsx", {{"survey", {{"type", "name", "label", "label::French (fr)"}, {"text", "a", "A"}}},
                           minimalSettings()});
        REQUIRE(result.document);
        CHECK((*result.document)["languages"] == json::array({"en"}));
    }
    SECTION("plain label and label::English (en) agreeing is fine; differing is a conflict") {
        XlsFormImport result = importSheets("lang6.xlsx", {{"survey",
                                              {{"type", "name", "label", "label::English (en)"},
                                               {"text", "a", "Same", "Same"},
                                               {"text", "b", "One", "Other"}}},
                                             minimalSettings()});
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(result.errors[0].row == 3);
        CHECK(result.errors[0].column == "label::English (en)");
        CHECK(result.errors[0].message.find("gives the 'en' text a second time") == 0);
    }
    SECTION("the same language column twice") {
        XlsFormImport result = importSheets(
            "lang7.xlsx", {{"survey", {{"type", "name", "label::hi", "Label::Hindi (hi)"}, {"text", "a", "ए"}}},
                           minimalSettings()});
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(result.errors[0].row == 1);
        CHECK(result.errors[0].message == "the column appears twice (columns C and D)");
    }
}

TEST_CASE("Survey values: required, yes/no columns, aliases", "[core][xlsform]") {
    XlsFormImport result = importSheets("values.xlsx", {{"survey",
                                                         {{"Type", "NAME", "Label", "Required", "PII",
                                                           "allow_dont_know", "relevance", "jr:constraintMsg"},
                                                          {"text", "a", "A", "YES", "Yes", "No"},
                                                          {"text", "b", "B", "no", "no", "yes", "${a} != ''"},
                                                          {"text", "c", "C", "1"},
                                                          {"text", "d", "D", "0"},
                                                          {"text", "e", "E", "${a} = 'x'", "maybe"},
                                                          {"select one yn", "f", "F"},
                                                          {"text", "g", "G", {}, {}, {}, {}, "Bad"}}},
                                                        {"choices", {{"list name", "name", "label"}, {"yn", "y", "Y"}}},
                                                        minimalSettings()});
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].row == 6);
    CHECK(result.errors[0].column == "PII");
    CHECK(result.errors[0].message == "'maybe' is not yes or no");

    XlsFormImport ok = importSheets("values2.xlsx", {{"survey",
                                                      {{"Type", "NAME", "Label", "Required", "PII", "allow_dont_know",
                                                        "relevance", "jr:constraintMsg", "constraint"},
                                                       {"text", "a", "A", "YES", "Yes", "No"},
                                                       {"text", "b", "B", "no", "no", "yes", "${a} != ''"},
                                                       {"text", "c", "C", "1"},
                                                       {"text", "d", "D", "0"},
                                                       {"text", "e", "E", "${a} = 'x'"},
                                                       {"select one yn", "f", "F"},
                                                       {"text", "g", "G", {}, {}, {}, {}, "Bad", ". != 'x'"}}},
                                                     {"choices", {{"list name", "name", "label"}, {"yn", "y", "Y"}}},
                                                     minimalSettings()});
    INFO(allProblems(ok));
    REQUIRE(ok.document);
    const json& qs = (*ok.document)["sections"][0]["questions"];
    CHECK(qs[0] == json::parse(R"({"id": "a", "type": "text", "label": {"en": "A"}, "required": true,
                                   "pii": true, "allow_dont_know": false})"));
    CHECK(qs[1] == json::parse(R"({"id": "b", "type": "text", "label": {"en": "B"}, "pii": false,
                                   "allow_dont_know": true, "relevant": "${a} != ''"})"));
    CHECK(qs[2]["required"] == true);
    CHECK_FALSE(qs[3].contains("required"));
    CHECK(qs[4]["required"] == "${a} = 'x'");
    CHECK(qs[5] == json::parse(R"({"id": "f", "type": "select_one", "choices": "yn", "label": {"en": "F"}})"));
    CHECK(qs[6]["constraint_message"] == json::parse(R"({"en": "Bad"})"));
}

TEST_CASE("Choices: properties per list, missing names, media columns", "[core][xlsform]") {
    SECTION("a property column appears only in lists that use it") {
        XlsFormImport result = importSheets(
            "choices1.xlsx",
            {{"survey", {{"type", "name", "label"}, {"select_one a", "qa", "A"}, {"select_one b", "qb", "B"}}},
             {"choices",
              {{"list_name", "name", "label", "district", "stage"},
               {"a", "x", "X", "Tiruppur"},
               {"a", "y", "Y"},
               {"b", "z", "Z", {}, "upstream"}}},
             minimalSettings()});
        INFO(allProblems(result));
        REQUIRE(result.document);
        CHECK((*result.document)["choices"] == json::parse(R"({
            "a": [{"name": "x", "label": {"en": "X"}, "properties": {"district": "Tiruppur"}},
                  {"name": "y", "label": {"en": "Y"}, "properties": {"district": ""}}],
            "b": [{"name": "z", "label": {"en": "Z"}, "properties": {"stage": "upstream"}}]})"));
    }
    SECTION("rows without list_name or name are errors; media::image is kept, audio ignored") {
        XlsFormImport result = importSheets(
            "choices2.xlsx",
            {{"survey", {{"type", "name", "label"}, {"select_one a", "qa", "A"}}},
             {"choices",
              {{"list_name", "name", "label", "media::image", "media::audio"},
               {"a", "x", "X", "x.png", "x.mp3"},
               {{}, "y", "Y"},
               {"a", {}, "Z"}}},
             minimalSettings()});
        CHECK_FALSE(result.document);
        INFO(allProblems(result));
        REQUIRE(result.errors.size() == 2);
        CHECK(shown(result.errors[0]) == "choices2.xlsx: choices row 3, column 'list_name': the choice has no list_name");
        CHECK(shown(result.errors[1]) == "choices2.xlsx: choices row 4, column 'name': the choice in list 'a' has no name");
        REQUIRE(result.warnings.size() == 1);
        CHECK(shown(result.warnings[0]) ==
              "choices2.xlsx: choices row 2, column 'media::audio': column 'media::audio' is not supported by "
              "ClusterKit; its values are ignored");
    }
    SECTION("media::image on choices and questions reaches the template") {
        TemplateLoadResult loaded = loadTemplateXlsx(writeXlsx(
            "choices3.xlsx",
            {{"survey", {{"type", "name", "label", "media::image::English (en)"}, {"select_one a", "qa", "A", "qa.png"}}},
             {"choices", {{"list_name", "name", "label", "image"}, {"a", "x", "X", "x.png"}, {"a", "y", "Y"}}},
             minimalSettings()}));
        REQUIRE(loaded.ok());
        const Question* q = loaded.survey->find("qa");
        REQUIRE(q);
        CHECK(q->image.in(0) == "qa.png");
        CHECK(loaded.survey->choicesOf(*q)->choices[0].image.in(0) == "x.png");
        CHECK(loaded.survey->choicesOf(*q)->choices[1].image.empty());
    }
}

TEST_CASE("Groups and repeats must be balanced", "[core][xlsform]") {
    SECTION("end group without begin") {
        XlsFormImport result = importSheets("unbalanced1.xlsx", surveyOnly({{"text", "a", "A"}, {"end group"}}));
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(shown(result.errors[0]) ==
              "unbalanced1.xlsx: survey row 3, column 'type': 'end group' without a 'begin group' before it");
    }
    SECTION("begin without end") {
        XlsFormImport result = importSheets(
            "unbalanced2.xlsx",
            surveyOnly({{"begin group", "g", "G"}, {"begin_repeat", "r", "R"}, {"text", "a", "A"}, {"end_repeat"}}));
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(result.errors[0].row == 2);
        CHECK(result.errors[0].message == "'begin group' 'g' has no matching 'end group'");
    }
    SECTION("end repeat closing a group") {
        XlsFormImport result = importSheets(
            "unbalanced3.xlsx", surveyOnly({{"begin group", "g", "G"}, {"text", "a", "A"}, {"end repeat"}}));
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(result.errors[0].row == 4);
        CHECK(result.errors[0].message == "'end repeat' closes the 'begin group' of row 2");
    }
    SECTION("values on an end row, columns that do not apply to a group") {
        XlsFormImport result = importSheets(
            "unbalanced4.xlsx",
            {{"survey",
              {{"type", "name", "label", "relevant", "required"},
               {"begin group", "g", "G", {}, "yes"},
               {"text", "a", "A"},
               {"end group", "g", "G", "${a} = ''"}}},
             minimalSettings()});
        // Ignored, as pyxform ignores them, but said at their row.
        INFO(allProblems(result));
        CHECK(result.document);
        REQUIRE(result.warnings.size() == 2);
        CHECK(result.warnings[0].row == 2);
        CHECK(result.warnings[0].column == "required");
        CHECK(result.warnings[0].message.find("is ignored: it does not apply to a group") == 0);
        CHECK(result.warnings[1].row == 4);
        CHECK(result.warnings[1].column == "relevant");
        CHECK(result.warnings[1].message == "is ignored on an 'end group' row; put it on the 'begin group' row");
    }
    SECTION("very deep nesting is refused without building it") {
        std::vector<Row> rows;
        for (int i = 0; i < 5000; ++i)
            rows.push_back({"begin group", "g" + std::to_string(i), "G"});
        rows.push_back({"text", "a", "A"});
        for (int i = 0; i < 5000; ++i)
            rows.push_back({"end group"});
        XlsFormImport result = importSheets("deep.xlsx", surveyOnly(rows));
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(result.errors[0].row == 102);
        CHECK(result.errors[0].message == "groups and repeats nest deeper than 100 levels");
    }
}

TEST_CASE("Top-level questions outside groups are gathered into sections", "[core][xlsform]") {
    XlsFormImport result = importSheets("sections.xlsx", surveyOnly({{"text", "main", "Named main"},
                                                                      {"begin repeat", "r", "R"},
                                                                      {"text", "x", "X"},
                                                                      {"end repeat"},
                                                                      {"begin group", "g", "G"},
                                                                      {"text", "y", "Y"},
                                                                      {"end group"},
                                                                      {"note", "n", "N"}}));
    INFO(allProblems(result));
    REQUIRE(result.document);
    const json& sections = (*result.document)["sections"];
    REQUIRE(sections.size() == 3);
    // "main" is taken by a question, so the runs are main_2 and main_3.
    CHECK(sections[0]["id"] == "main_2");
    CHECK(sections[0]["questions"].size() == 2);
    CHECK(sections[0]["questions"][1]["type"] == "repeat");
    CHECK(sections[1]["id"] == "g");
    CHECK_FALSE(sections[1].contains("type"));
    CHECK(sections[2]["id"] == "main_3");
    CHECK(sections[2]["label"] == json::parse(R"({"en": "T"})"));
}

TEST_CASE("Missing sheets are named", "[core][xlsform]") {
    SECTION("no survey") {
        XlsFormImport result = importSheets("nosurvey.xlsx", {{"Sheet1", {{"a"}}}, minimalSettings()});
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(shown(result.errors[0]) == "nosurvey.xlsx has no sheet named 'survey' (its sheets: 'Sheet1', 'settings')");
    }
    SECTION("no settings: imports, with the defaults said") {
        XlsFormImport result = importSheets("nosettings.xlsx", {{"survey", {{"type", "name", "label"}, {"text", "a", "A"}}}});
        CHECK(result.document);
        REQUIRE(result.errors.empty());
        REQUIRE(result.warnings.size() == 1);
        CHECK(shown(result.warnings[0]).find("nosettings.xlsx has no settings sheet: form_id 'nosettings'") == 0);
    }
    SECTION("no choices while a question uses a list") {
        XlsFormImport result = importSheets("nochoices.xlsx", surveyOnly({{"select_one yn", "a", "A"}}));
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(shown(result.errors[0]) == "nochoices.xlsx has no sheet named 'choices' (survey row 2 uses list 'yn')");
    }
    SECTION("no choices and no lists: fine") {
        XlsFormImport result = importSheets("nochoices2.xlsx", surveyOnly({{"text", "a", "A"}}));
        CHECK(result.document);
    }
    SECTION("sheet names match ignoring case") {
        XlsFormImport result = importSheets("case.xlsx", {{"Survey", {{"type", "name", "label"}, {"text", "a", "A"}}},
                                                          {"SETTINGS", {{"form_id", "version"}, {"f", "1"}}}});
        CHECK(result.document);
    }
    SECTION("an empty survey sheet") {
        XlsFormImport result = importSheets("empty-survey.xlsx", {{"survey", {}}, minimalSettings()});
        CHECK_FALSE(result.document);
        REQUIRE_FALSE(result.errors.empty());
        CHECK(shown(result.errors[0]) == "empty-survey.xlsx: survey: the sheet has no questions");
    }
}

TEST_CASE("Damaged files give a clear error, never a crash", "[core][xlsform]") {
    const std::string good = readBytes(writeXlsx("good.xlsx", bilingualForm()));
    REQUIRE(importXlsFormBytes(good, "good.xlsx").document);

    SECTION("empty file") {
        XlsFormImport result = importXlsFormBytes("", "form.xlsx");
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(shown(result.errors[0]) == "form.xlsx is empty (0 bytes), not an .xlsx file");
    }
    SECTION("not a zip") {
        XlsFormImport result = importXlsFormBytes("type,name,label\ntext,a,A\n", "form.xlsx");
        CHECK_FALSE(result.document);
        REQUIRE(result.errors.size() == 1);
        CHECK(shown(result.errors[0]).find("form.xlsx is not a valid .xlsx (zip) file: ") == 0);
    }
    SECTION("truncated at every length") {
        // Every cut loses the zip's central directory; many lengths, one error each.
        for (size_t length = 1; length < good.size(); length += 37) {
            XlsFormImport result = importXlsFormBytes(std::string_view(good).substr(0, length), "form.xlsx");
            INFO(length);
            CHECK_FALSE(result.document);
            REQUIRE(result.errors.size() == 1);
            CHECK(shown(result.errors[0]).find("form.xlsx is not a valid .xlsx (zip) file: ") == 0);
        }
    }
    SECTION("damaged bytes inside") {
        // Flipping bytes hits compressed data (CRC or inflate errors), headers or nothing that
        // matters; whichever, the import ends with a document or with errors.
        for (size_t at = 0; at < good.size(); at += 13) {
            std::string bad = good;
            bad[at] = char(bad[at] ^ 0x5A);
            XlsFormImport result = importXlsFormBytes(bad, "form.xlsx");
            CHECK(result.document.has_value() == result.errors.empty());
        }
    }
    SECTION("a file that does not exist") {
        XlsFormImport result = importXlsForm(scratchDir() / "missing.xlsx");
        REQUIRE(result.errors.size() == 1);
        CHECK(shown(result.errors[0]).find("missing.xlsx cannot be read: ") != std::string::npos);
    }
    SECTION("a zip that is not a workbook") {
        zip_error_t error;
        zip_error_init(&error);
        const std::filesystem::path path = scratchDir() / "notworkbook.xlsx";
        std::filesystem::remove(path);
        int code = 0;
        zip_t* archive = zip_open(path.string().c_str(), ZIP_CREATE, &code);
        REQUIRE(archive);
        static const char kText[] = "hello";
        zip_source_t* source = zip_source_buffer(archive, kText, sizeof kText - 1, 0);
        REQUIRE(zip_file_add(archive, "readme.txt", source, 0) >= 0);
        REQUIRE(zip_close(archive) == 0);
        XlsFormImport result = importXlsForm(path);
        REQUIRE(result.errors.size() == 1);
        CHECK(shown(result.errors[0]).find("notworkbook.xlsx has no xl/workbook.xml") != std::string::npos);
    }
}

namespace {

// A zip holding `entries` (name, content), written in memory with libzip.
std::string makeZip(const std::vector<std::pair<std::string, std::string>>& entries) {
    const std::filesystem::path path = scratchDir() / "made.zip";
    std::filesystem::remove(path);
    int code = 0;
    zip_t* archive = zip_open(path.string().c_str(), ZIP_CREATE, &code);
    REQUIRE(archive);
    for (const auto& [name, content] : entries) {
        zip_source_t* source = zip_source_buffer(archive, content.data(), content.size(), 0);
        REQUIRE(zip_file_add(archive, name.c_str(), source, 0) >= 0);
    }
    REQUIRE(zip_close(archive) == 0);
    return readBytes(path);
}

const char* const kContentTypes = R"(<?xml version="1.0"?><Types/>)";
const char* const kRootRels =
    R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>)";
const char* const kWorkbookRels =
    R"(<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">)"
    R"(<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>)"
    R"(<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="/xl/sharedStrings.xml"/></Relationships>)";
const char* const kWorkbook =
    R"(<?xml version="1.0"?><x:workbook xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">)"
    R"(<x:sheets><x:sheet name="data" sheetId="1" r:id="rId1"/></x:sheets></x:workbook>)";

// A hand-made workbook of one sheet "data": for cell forms libxlsxwriter never writes.
XlsxReadResult readHandMade(const std::string& sheetXml, const std::string& sharedStrings, XlsxLimits limits = {}) {
    std::string bytes = makeZip({{"[Content_Types].xml", kContentTypes},
                                 {"_rels/.rels", kRootRels},
                                 {"xl/_rels/workbook.xml.rels", kWorkbookRels},
                                 {"xl/workbook.xml", kWorkbook},
                                 {"xl/worksheets/sheet1.xml", sheetXml},
                                 {"xl/sharedStrings.xml", sharedStrings}});
    return readXlsxSheets(bytes, {"data"}, limits);
}

}  // namespace

TEST_CASE("The xlsx reader: references, prefixes, escapes and limits", "[core][xlsform]") {
    const std::string sst =
        R"(<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>plain</t></si>)"
        R"(<si><r><t>rich </t></r><r><rPr><b/></rPr><t>text</t></r><rPh><t>PHONETIC</t></rPh></si>)"
        R"(<si><t>line_x000D_break _x005F_x0041_</t></si></sst>)";
    SECTION("sparse references, prefixed elements, every cell type") {
        XlsxReadResult read = readHandMade(
            R"(<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>)"
            R"(<x:row r="2"><x:c r="B2" t="s"><x:v>0</x:v></x:c><x:c r="AB2" t="s"><x:v>1</x:v></x:c></x:row>)"
            R"(<x:row r="7"><x:c r="A7"><x:v>2026.0999999999999</x:v></x:c><x:c t="b"><x:v>1</x:v></x:c>)"
            R"(<x:c t="inlineStr"><x:is><x:t>inline</x:t></x:is></x:c><x:c t="str"><x:f>A1</x:f><x:v>formula</x:v></x:c>)"
            R"(<x:c t="s"><x:v>2</x:v></x:c><x:c s="3"/><x:c><x:v>1.0E+3</x:v></x:c></x:row>)"
            R"(<x:row r="9"><x:c r="C9" s="1"/></x:row></x:sheetData></x:worksheet>)",
            sst);
        INFO(read.error);
        REQUIRE(read.ok());
        REQUIRE(read.sheetNames == std::vector<std::string>{"data"});
        REQUIRE(read.sheets.size() == 1);
        const auto& rows = read.sheets[0].rows;
        REQUIRE(rows.size() == 2);  // row 9 has only an empty styled cell
        CHECK(rows[0].number == 2);
        CHECK(rows[0].cells.size() == 28);
        CHECK(rows[0].cell(1) == "plain");
        CHECK(rows[0].cell(27) == "rich text");
        CHECK(rows[0].cell(500).empty());
        CHECK(rows[1].number == 7);
        CHECK(rows[1].cells == std::vector<std::string>{"2026.1", "TRUE", "inline", "formula",
                                                         "line\rbreak _x0041_", "", "1000"});
    }
    SECTION("errors in the sheet") {
        auto error = [&](const std::string& sheetData) {
            return readHandMade(R"(<worksheet><sheetData>)" + sheetData + "</sheetData></worksheet>", sst).error;
        };
        CHECK(error(R"(<row r="1"><c r="A1" t="s"><v>7</v></c></row>)") ==
              "has cell A1 in sheet 'data' that refers to a shared string that does not exist");
        CHECK(error(R"(<row r="1"><c r="1A"><v>1</v></c></row>)") == "has an invalid cell reference '1A' in sheet 'data'");
        CHECK(error(R"(<row r="1"><c r="XFE1"><v>1</v></c></row>)") ==
              "has an invalid cell reference 'XFE1' in sheet 'data'");
        CHECK(error(R"(<row r="2"><c r="A3"><v>1</v></c></row>)") == "has cell A3 inside row 2 in sheet 'data'");
        CHECK(error(R"(<row r="3"><c><v>1</v></c></row><row r="2"><c><v>1</v></c></row>)") ==
              "has rows out of order in sheet 'data' (row 2 after row 3)");
        CHECK(error(R"(<row r="1"><c r="AMJ1"><v>1</v></c><c r="AMK1"><v>1</v></c></row>)") ==
              "has a value in column AMK in sheet 'data', beyond the 1024 columns read");
        CHECK(error("<row r=\"1\"><c r=\"B1\" t=\"inlineStr\"><is><t>caf\xC3</t></is></c></row>") ==
              "has text that is not valid UTF-8 in cell B1 in sheet 'data'");
        CHECK(error(R"(<row r="1"><c r="A1"><v>1</v></c>)").find("has malformed XML in xl/worksheets/sheet1.xml: ") == 0);
    }
    SECTION("limits") {
        std::string many = "<worksheet><sheetData>";
        for (int r = 1; r <= 200; ++r)
            many += "<row><c><v>" + std::to_string(r) + "</v></c><c><v>1</v></c></row>";
        many += "</sheetData></worksheet>";
        XlsxLimits rows;
        rows.maxRows = 10;
        CHECK(readHandMade(many, sst, rows).error == "has more than 10 rows in sheet 'data'");
        XlsxLimits cells;
        cells.maxCells = 30;
        CHECK(readHandMade(many, sst, cells).error == "has more than 30 cells in sheet 'data'");
        XlsxLimits bytes;
        bytes.maxEntryBytes = 5000;
        CHECK(readHandMade(many, sst, bytes).error ==
              "has a part larger than 0 MiB uncompressed (xl/worksheets/sheet1.xml); refusing to read it");
    }
    SECTION("a zip bomb: one entry inflating past 64 MiB") {
        std::string zeros(size_t(65) * 1024 * 1024, '0');
        std::string bytes = makeZip({{"_rels/.rels", kRootRels},
                                     {"xl/_rels/workbook.xml.rels", kWorkbookRels},
                                     {"xl/workbook.xml", kWorkbook},
                                     {"xl/sharedStrings.xml", sst},
                                     {"xl/worksheets/sheet1.xml", zeros}});
        zeros = std::string();
        CHECK(bytes.size() < 1024 * 1024);
        XlsxReadResult read = readXlsxSheets(bytes, {"data"});
        CHECK(read.error ==
              "has a part larger than 64 MiB uncompressed (xl/worksheets/sheet1.xml); refusing to read it");
    }
    SECTION("column names") {
        CHECK(xlsxColumnName(0) == "A");
        CHECK(xlsxColumnName(25) == "Z");
        CHECK(xlsxColumnName(26) == "AA");
        CHECK(xlsxColumnName(27) == "AB");
        CHECK(xlsxColumnName(16383) == "XFD");
    }
}

namespace {

std::vector<std::string> texts(const LocalText& text) { return text.byLanguage; }

void requireSameContent(const Template& a, const Template& b) {
    CHECK(a.id == b.id);
    CHECK(a.version == b.version);
    CHECK(a.languages == b.languages);
    CHECK(texts(a.title) == texts(b.title));
    CHECK(a.sections == b.sections);
    REQUIRE(a.questions.size() == b.questions.size());
    for (size_t i = 0; i < a.questions.size(); ++i) {
        const Question& x = a.questions[i];
        const Question& y = b.questions[i];
        INFO("question " << x.id);
        CHECK(x.id == y.id);
        CHECK(x.type == y.type);
        CHECK(texts(x.label) == texts(y.label));
        CHECK(texts(x.hint) == texts(y.hint));
        CHECK(texts(x.constraintMessage) == texts(y.constraintMessage));
        CHECK(texts(x.requiredMessage) == texts(y.requiredMessage));
        CHECK(x.appearance == y.appearance);
        CHECK(x.parent == y.parent);
        CHECK(x.repeat == y.repeat);
        CHECK(x.section == y.section);
        CHECK(x.children == y.children);
        CHECK(x.choiceList == y.choiceList);
        CHECK(x.pii == y.pii);
        CHECK(x.allowDontKnow == y.allowDontKnow);
        CHECK(x.requiredAlways == y.requiredAlways);
        CHECK(x.relevant.program.text() == y.relevant.program.text());
        CHECK(x.constraint.program.text() == y.constraint.program.text());
        CHECK(x.required.program.text() == y.required.program.text());
        CHECK(x.calculation.program.text() == y.calculation.program.text());
        CHECK(x.choiceFilter.program.text() == y.choiceFilter.program.text());
    }
    REQUIRE(a.choiceLists.size() == b.choiceLists.size());
    for (size_t i = 0; i < a.choiceLists.size(); ++i) {
        const ChoiceList& x = a.choiceLists[i];
        const ChoiceList& y = b.choiceLists[i];
        CHECK(x.id == y.id);
        CHECK(x.names == y.names);
        REQUIRE(x.choices.size() == y.choices.size());
        for (size_t c = 0; c < x.choices.size(); ++c) {
            CHECK(texts(x.choices[c].label) == texts(y.choices[c].label));
            CHECK(x.choices[c].properties == y.choices[c].properties);
        }
    }
}

std::string allErrors(const TemplateLoadResult& result) {
    std::string text;
    for (const TemplateError& e : result.errors)
        text += e.toString() + "\n";
    return text;
}

}  // namespace

TEST_CASE("loadTemplateXlsx builds the same template as the equivalent JSON", "[core][xlsform]") {
    TemplateLoadResult fromJson = loadTemplateDocument(bilingualFormJson(), "bilingual.json");
    INFO(allErrors(fromJson));
    REQUIRE(fromJson.ok());
    TemplateLoadResult fromXlsx = loadTemplateXlsx(writeXlsx("bilingual-load.xlsx", bilingualForm()));
    INFO(allErrors(fromXlsx));
    REQUIRE(fromXlsx.ok());
    requireSameContent(*fromXlsx.survey, *fromJson.survey);
    // Spot checks that the comparison compares something.
    const Question* women = fromXlsx.survey->find("women");
    REQUIRE(women);
    CHECK(women->constraint.program.text() == ". <= ${workers}");
    CHECK(women->required.program.text() == "${workers} > 0");
    CHECK(women->constraintMessage.byLanguage == std::vector<std::string>{"Cannot exceed the workers", "कामगारों से अधिक नहीं हो सकता"});
    REQUIRE(fromXlsx.survey->find("product"));
    CHECK(fromXlsx.survey->find("product")->repeat == fromXlsx.survey->indexOf("product_lines"));
}

TEST_CASE("loadTemplateXlsx reports import problems and loader errors by row", "[core][xlsform]") {
    SECTION("an import problem becomes a TemplateError at its row and column") {
        TemplateLoadResult result =
            loadTemplateXlsx(writeXlsx("load-bad.xlsx", surveyOnly({{"text", "a", "A"}, {"geotrace", "b", "B"}})));
        CHECK_FALSE(result.ok());
        REQUIRE(result.errors.size() == 1);
        CHECK(result.errors[0].where == "survey row 3");
        CHECK(result.errors[0].key == "type");
        CHECK(result.errors[0].message ==
              "type 'geotrace' is not supported: ClusterKit records single GPS points only; use 'geopoint'");
        CHECK(result.errors[0].file.find("load-bad.xlsx") != std::string::npos);
    }
    SECTION("a whole-file problem") {
        const std::filesystem::path path = scratchDir() / "load-empty.xlsx";
        writeBytes(path, "");
        TemplateLoadResult result = loadTemplateXlsx(path);
        REQUIRE(result.errors.size() == 1);
        CHECK(result.errors[0].where == "workbook");
        CHECK(result.errors[0].message == "the file is empty (0 bytes), not an .xlsx file");
    }
    SECTION("a loader error about a question names its survey row") {
        TemplateLoadResult result = loadTemplateXlsx(writeXlsx(
            "load-ref.xlsx", {{"survey",
                               {{"type", "name", "label", "relevant"},
                                {"text", "a", "A"},
                                {"integer", "b", "B", "${nope} > 1"}}},
                              minimalSettings()}));
        CHECK_FALSE(result.ok());
        INFO(allErrors(result));
        REQUIRE_FALSE(result.errors.empty());
        CHECK(result.errors[0].where == "question 'b' (survey row 3)");
        CHECK(result.errors[0].key == "relevant");
    }
    SECTION("a loader error about a choice names its choices row") {
        TemplateLoadResult result = loadTemplateXlsx(writeXlsx(
            "load-choice.xlsx", {{"survey", {{"type", "name", "label"}, {"select_one s", "a", "A"}}},
                                 {"choices", {{"list_name", "name", "label"}, {"s", 0, "Zero"}, {"s", "so high", "High"}}},
                                 minimalSettings()}));
        CHECK_FALSE(result.ok());
        INFO(allErrors(result));
        REQUIRE_FALSE(result.errors.empty());
        bool pointed = false;
        for (const TemplateError& e : result.errors)
            pointed = pointed || e.where.find("(choices row 3)") != std::string::npos;
        CHECK(pointed);
    }
}

TEST_CASE("Date-formatted cells read as dates, not day counts", "[core][xlsform]") {
    // 45382 is 2024-03-31 in Excel's 1900 system; 45382.5 is noon that day.
    XlsxReadResult read = readXlsxSheets(
        readBytes(writeXlsx("dates.xlsx", {{"Sheet1",
                                            {{Cell::formatted(45382, "yyyy-mm-dd"), Cell::formatted(45382, "d/m/yy"),
                                              Cell::formatted(45382.5, "yyyy-mm-dd hh:mm"), Cell::formatted(45382, "0.00"),
                                              Cell::formatted(45382, "[$-409]d mmmm yyyy;@"), 45382,
                                              Cell::formatted(0.5, "hh:mm"), Cell::formatted(59, "yyyy-mm-dd"),
                                              Cell::formatted(61, "yyyy-mm-dd"), Cell::formatted(45382, "\"day\" 0")}}}})),
        {"Sheet1"});
    REQUIRE(read.ok());
    REQUIRE(read.sheets.size() == 1);
    const XlsxRow& row = read.sheets[0].rows[0];
    CHECK(row.cell(0) == "2024-03-31");
    CHECK(row.cell(1) == "2024-03-31");
    CHECK(row.cell(2) == "2024-03-31T12:00:00");
    CHECK(row.cell(3) == "45382");  // a number format, not a date
    CHECK(row.cell(4) == "2024-03-31");
    CHECK(row.cell(5) == "45382");  // no format: a number
    CHECK(row.cell(6) == "0.5");    // a time alone stays a number
    CHECK(row.cell(7) == "1900-02-28");
    CHECK(row.cell(8) == "1900-03-01");  // past Excel's phantom 29 February 1900
    CHECK(row.cell(9) == "45382");       // the 'd' is quoted text, not a day

    SECTION("a date in a choices property column reaches the template as a date") {
        XlsFormImport result = importSheets(
            "dates-form.xlsx",
            {{"survey", {{"type", "name", "label", "choice_filter"}, {"select_one round", "r", "Round", "cutoff >= '2024-01-01'"}}},
             {"choices", {{"list_name", "name", "label", "cutoff"}, {"round", "r1", "First", Cell::formatted(45382, "dd.mm.yyyy")}}},
             minimalSettings()});
        INFO(allProblems(result));
        REQUIRE(result.document);
        CHECK((*result.document)["choices"]["round"][0]["properties"]["cutoff"] == "2024-03-31");
    }
}

TEST_CASE("Names and headers lose non-breaking and invisible spaces at their ends", "[core][xlsform]") {
    const std::string nbsp = "\xC2\xA0", zwsp = "\xE2\x80\x8B";
    XlsFormImport result = importSheets(
        "nbsp.xlsx",
        {{"survey", {{"type" + nbsp, "name", "label"}, {"text", "shop_name" + nbsp, "Shop"}, {nbsp + "integer", zwsp + "workers" + nbsp + " ", "Workers"}}},
         minimalSettings()});
    INFO(allProblems(result));
    REQUIRE(result.document);
    const json& questions = (*result.document)["sections"][0]["questions"];
    CHECK(questions[0]["id"] == "shop_name");
    CHECK(questions[1]["id"] == "workers");
    CHECK(questions[1]["type"] == "integer");

    SECTION("a space inside a name is still an error") {
        TemplateLoadResult loaded =
            loadTemplateXlsx(writeXlsx("nbsp-inner.xlsx", surveyOnly({{"text", "shop" + nbsp + "name", "Shop"}})));
        CHECK_FALSE(loaded.ok());
    }
}

TEST_CASE("Language columns: single colon, and a default_language that names no column", "[core][xlsform]") {
    SECTION("label:English and label:Hindi are two languages") {
        XlsFormImport result = importSheets(
            "colon.xlsx",
            {{"survey", {{"type", "name", "label:English", "label:Hindi", "hint:English", "jr:constraintMsg"},
                         {"integer", "a", "Workers", "कामगार", "Count them", "Not negative"}}},
             minimalSettings()});
        INFO(allProblems(result));
        REQUIRE(result.document);
        // Well-known language names get their ISO codes, so a plain (English) label elsewhere joins "en".
        CHECK((*result.document)["languages"] == json::array({"en", "hi"}));
        const json& a = (*result.document)["sections"][0]["questions"][0];
        CHECK(a["label"] == json::parse(R"({"en": "Workers", "hi": "कामगार"})"));
        CHECK(a["constraint_message"] == json::parse(R"({"en": "Not negative"})"));
    }
    SECTION("default_language by the column's name picks that language first") {
        XlsFormImport result = importSheets(
            "colon2.xlsx",
            {{"survey", {{"type", "name", "label::English (en)", "label::Hindi (hi)"}, {"text", "a", "A", "अ"}}},
             {"settings", {{"form_id", "version", "default_language"}, {"f", "1", "Hindi (hi)"}}}});
        INFO(allProblems(result));
        REQUIRE(result.document);
        CHECK((*result.document)["languages"] == json::array({"hi", "en"}));
        CHECK(result.warnings.empty());
    }
    SECTION("a default_language that matches no column adds no phantom language") {
        TemplateLoadResult loaded = loadTemplateXlsx(writeXlsx(
            "phantom.xlsx",
            {{"survey", {{"type", "name", "label::English (en)", "label::Hindi (hi)"}, {"text", "a", "A", "अ"}}},
             {"settings", {{"form_id", "version", "default_language"}, {"f", "1", "French"}}}}));
        std::string all;
        for (const auto& w : loaded.warnings) all += w.toString() + "\n";
        for (const auto& e : loaded.errors) all += e.toString() + "\n";
        INFO(all);
        REQUIRE(loaded.ok());
        CHECK(loaded.survey->languages == std::vector<std::string>{"en", "hi"});
        REQUIRE(loaded.warnings.size() == 1);
        CHECK(loaded.warnings[0].where == "settings row 2");
        CHECK_THAT(loaded.warnings[0].message, Catch::Contains("'French' matches no language column ('English (en)', 'Hindi (hi)')"));
    }
    SECTION("with plain label columns, default_language names their language") {
        XlsFormImport result = importSheets(
            "plain-default.xlsx",
            {{"survey", {{"type", "name", "label", "label::hi"}, {"text", "a", "A", "अ"}}},
             {"settings", {{"form_id", "version", "default_language"}, {"f", "1", "English (en)"}}}});
        REQUIRE(result.document);
        CHECK((*result.document)["languages"] == json::array({"en", "hi"}));
    }
}

TEST_CASE("Groups without labels, and constraints without messages, load with warnings only where due", "[core][xlsform]") {
    TemplateLoadResult loaded = loadTemplateXlsx(writeXlsx(
        "nolabels.xlsx", surveyOnly({{"begin group", "outer"},
                                     {"begin group", "inner"},
                                     {"integer", "a", "A"},
                                     {"end group"},
                                     {"end group"},
                                     {"integer", "b", "B"}})));
    std::string all;
    for (const auto& e : loaded.errors) all += e.toString() + "\n";
    INFO(all);
    REQUIRE(loaded.ok());
    CHECK(loaded.warnings.empty());
    CHECK(loaded.survey->find("inner")->label.empty());
    CHECK(loaded.survey->find("outer")->label.in(0) == loaded.survey->title.in(0));

    TemplateLoadResult constrained = loadTemplateXlsx(writeXlsx(
        "nomessage.xlsx", {{"survey", {{"type", "name", "label", "constraint"}, {"integer", "a", "A", ". >= 0"}}}, minimalSettings()}));
    REQUIRE(constrained.ok());
    REQUIRE(constrained.warnings.size() == 1);
    CHECK(constrained.warnings[0].where == "question 'a' (survey row 2)");
    CHECK(constrained.warnings[0].key == "constraint_message");
    TemplateLoadResult strict = loadTemplateXlsx(scratchDir() / "nomessage.xlsx", TemplateLoadOptions{true});
    CHECK_FALSE(strict.ok());
    REQUIRE(strict.errors.size() == 1);
    CHECK(strict.errors[0].key == "constraint_message");
}

TEST_CASE("repeat_count makes as many rows as the count says", "[core][xlsform]") {
    TemplateLoadResult loaded = loadTemplateXlsx(writeXlsx(
        "repeat-count.xlsx", surveyOnly({{"integer", "members", "Members"},
                                         {"begin repeat", "member", "Member", "${members}"},
                                         {"text", "member_name", "Name"},
                                         {"end repeat"}})));
    // surveyOnly's header has no repeat_count column: add it.
    loaded = loadTemplateXlsx(writeXlsx(
        "repeat-count.xlsx", {{"survey", {{"type", "name", "label", "repeat_count"},
                                          {"integer", "members", "Members"},
                                          {"begin repeat", "member", "Member", "${members}"},
                                          {"text", "member_name", "Name"},
                                          {"end repeat"}}},
                              minimalSettings()}));
    std::string all;
    for (const auto& e : loaded.errors) all += e.toString() + "\n";
    INFO(all);
    REQUIRE(loaded.ok());
    const int repeat = loaded.survey->indexOf("member");
    REQUIRE(loaded.survey->questions[size_t(repeat)].repeatCount.present());
    FormSession session(loaded.survey);
    CHECK(session.instanceCount(repeat) == 0);
    REQUIRE(session.setAnswer("members", Value::number(3)).ok());
    CHECK(session.instanceCount(repeat) == 3);
    REQUIRE(session.setAnswer("member_name", Value::text("Asha"), 0).ok());
    REQUIRE(session.setAnswer("members", Value::number(1)).ok());
    CHECK(session.instanceCount(repeat) == 1);
    CHECK(session.answer(loaded.survey->indexOf("member_name"), 0).asText() == "Asha");
    REQUIRE(session.setAnswer("members", Value::number(1e9)).ok());
    CHECK(session.instanceCount(repeat) == kMaxRepeatCount);
    REQUIRE(session.setAnswer("members", Value()).ok());
    CHECK(session.instanceCount(repeat) == 0);

    // A stored visit comes back with its rows and their answers.
    REQUIRE(session.setAnswer("members", Value::number(2)).ok());
    REQUIRE(session.setAnswer("member_name", Value::text("Ravi"), 1).ok());
    FormSession resumed(loaded.survey);
    REQUIRE(resumed.restore(session.toDraftRecord()).empty());
    CHECK(resumed.instanceCount(repeat) == 2);
    CHECK(resumed.answer(loaded.survey->indexOf("member_name"), 1).asText() == "Ravi");

    SECTION("a count that is not a number is refused") {
        TemplateLoadResult bad = loadTemplateXlsx(writeXlsx(
            "repeat-count-bad.xlsx", {{"survey", {{"type", "name", "label", "repeat_count"},
                                                  {"text", "members", "Members"},
                                                  {"begin repeat", "member", "Member", "${members} = 'x'"},
                                                  {"text", "member_name", "Name"},
                                                  {"end repeat"}}},
                                      minimalSettings()}));
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.errors[0].key == "repeat_count");
    }
}

TEST_CASE("Legacy .xls workbooks import like .xlsx (FreeXL)", "[core][xlsform]") {
    // Made by LibreOffice from legacy-shop-visit.fods: soffice --headless --convert-to xls.
    const std::filesystem::path xls = std::filesystem::path(CK_TEST_DATA_DIR) / "xlsform" / "legacy-shop-visit.xls";
    XlsFormImport result = importXlsForm(xls);
    INFO(allProblems(result));
    REQUIRE(result.document);
    const json& doc = *result.document;
    CHECK(doc["id"] == "shop_visit_xls");
    CHECK(doc["version"] == "2024031501");
    CHECK(doc["languages"] == json::array({"en", "hi"}));
    TemplateLoadResult loaded = loadTemplateFile(xls);
    REQUIRE(loaded.ok());
    CHECK(loaded.survey->find("owner_present")->type == QuestionType::SelectOne);
    CHECK(loaded.survey->find("instance_name"));

    SECTION("the same form written by LibreOffice as .xls and as .xlsx imports the same") {
        if (std::system("command -v soffice >/dev/null 2>&1") != 0) {
            WARN("soffice not installed (scripts/install-deps installs it); the checked-in .xls was read above");
            return;
        }
        const std::filesystem::path dir = scratchDir() / "soffice";
        std::filesystem::create_directories(dir);
        const std::string fods = (std::filesystem::path(CK_TEST_DATA_DIR) / "xlsform" / "legacy-shop-visit.fods").string();
        const std::string command = "soffice -env:UserInstallation=file://" + (dir / "profile").string() +
                                    " --headless --convert-to xlsx --outdir " + dir.string() + " " + fods +
                                    " >/dev/null 2>&1";
        REQUIRE(std::system(command.c_str()) == 0);
        XlsFormImport fromXlsx = importXlsForm(dir / "legacy-shop-visit.xlsx");
        INFO(allProblems(fromXlsx));
        REQUIRE(fromXlsx.document);
        CHECK(*fromXlsx.document == doc);
    }
    SECTION("a file that makes FreeXL read out of bounds (found by fuzz_xlsform) is a clear error") {
        // FreeXL runs in a child process: the parent survives and names the file.
        XlsFormImport hostile =
            importXlsForm(std::filesystem::path(CK_TEST_DATA_DIR) / "xlsform" / "freexl-overread.xls");
        CHECK_FALSE(hostile.document);
        REQUIRE(hostile.errors.size() == 1);
        CHECK_THAT(hostile.errors[0].toString(), Catch::Contains("freexl-overread.xls is") && Catch::Contains(".xls"));
        // And the reader still works afterwards.
        CHECK(importXlsForm(xls).document);
    }
    SECTION("a damaged .xls is a clear error") {
        std::string bytes = readBytes(xls);
        const std::filesystem::path cut = scratchDir() / "cut.xls";
        writeBytes(cut, bytes.substr(0, 1500));
        XlsFormImport damaged = importXlsForm(cut);
        CHECK_FALSE(damaged.document);
        REQUIRE(damaged.errors.size() == 1);
        CHECK_THAT(damaged.errors[0].toString(), Catch::Contains("cut.xls is") && Catch::Contains(".xls"));
    }
}

TEST_CASE("Every feature of the README's XLSForm table loads, warns or is refused as the table says", "[core][xlsform]") {
    size_t loaded = 0, total = 0;
    for (const FeatureWorkbook& w : featureWorkbooks()) {
        TemplateLoadResult r = loadTemplateFile(writeFeatureWorkbook(w));
        std::string all;
        for (const auto& e : r.errors) all += "error: " + e.toString() + "\n";
        for (const auto& e : r.warnings) all += "warning: " + e.toString() + "\n";
        INFO(w.file << " (" << w.feature << ")\n" << all);
        ++total;
        switch (w.expect) {
        case Expect::Loads:
            CHECK(r.ok());
            CHECK(r.warnings.empty());
            break;
        case Expect::LoadsWithWarning:
            CHECK(r.ok());
            CHECK_FALSE(r.warnings.empty());
            break;
        case Expect::Refused:
            CHECK_FALSE(r.ok());
            REQUIRE_FALSE(r.errors.empty());
            // Refused by name, never as an unknown type.
            CHECK(r.errors[0].message.find("unknown type") == std::string::npos);
            break;
        }
        loaded += r.ok() ? 1 : 0;
    }
    CHECK(total >= 60);
    // Printed so the share is seen with every run (bench_xlsform prints it with timings).
    WARN("feature workbooks that load: " << loaded << " of " << total);
}

TEST_CASE("Names with '-' or '.' become ids with '_', and their references follow", "[core][xlsform]") {
    TemplateLoadResult loaded = loadTemplateXlsx(writeXlsx(
        "dash.xlsx", {{"survey", {{"type", "name", "label", "relevant", "constraint", "constraint_message"},
                                  {"integer", "hh-size", "Household size", "", "", ""},
                                  {"integer", "q1.2", "Children of the ${hh-size}", "${hh-size} > 1", ". < ${hh-size}", "Fewer than ${hh-size}"}}},
                      minimalSettings()}));
    std::string all;
    for (const auto& e : loaded.errors) all += e.toString() + "\n";
    INFO(all);
    REQUIRE(loaded.ok());
    REQUIRE(loaded.survey->find("hh_size"));
    const Question* q = loaded.survey->find("q1_2");
    REQUIRE(q);
    CHECK(q->label.in(0) == "Children of the ${hh_size}");
    CHECK(q->relevant.present());
    CHECK(q->constraintMessage.in(0) == "Fewer than ${hh_size}");
    REQUIRE(loaded.warnings.size() == 2);
    CHECK(loaded.warnings[0].where == "survey row 2");
    CHECK(loaded.warnings[0].message.find("name 'hh-size' is used as 'hh_size'") == 0);
}

TEST_CASE("A form as KoboToolbox exports it loads, fills and names its visit", "[core][xlsform]") {
    const Row header = {"type", "name", "label::English (en)", "label::Hindi (hi)", "hint::English (en)", "required",
                        "relevant", "constraint", "constraint_message::English (en)", "calculation", "appearance",
                        "repeat_count", "$kuid", "$autoname"};
    std::vector<Row> survey = {
        header,
        {"start", "start", "", "", "", "", "", "", "", "", "", "", "k1", "start"},
        {"end", "end", "", "", "", "", "", "", "", "", "", "", "k2", "end"},
        {"today", "today", "", "", "", "", "", "", "", "", "", "", "k3", "today"},
        {"deviceid", "deviceid", "", "", "", "", "", "", "", "", "", "", "k4", "deviceid"},
        {"audit", "audit", "", "", "", "", "", "", "", "", "", "", "k5", "audit"},
        {"begin_group", "shop", "Shop", "दुकान", "", "", "", "", "", "", "field-list", "", "k6", "shop"},
        {"text", "shop_name", "Shop name", "दुकान का नाम", "", "true", "", "", "", "", "", "", "k7", "shop_name"},
        {"select_one yes_no", "owner_here", "Is the owner of ${shop_name} here?", "क्या ${shop_name} का मालिक यहाँ है?",
         "", "true", "", "", "", "", "minimal", "", "k8", "owner_here"},
        {"end_group", "", "", "", "", "", "", "", "", "", "", "", "k9", ""},
        {"integer", "workers", "Workers", "कामगार", "Count today", "true", "${owner_here} = 'yes'", ". >= 0 and . <= 50",
         "0 to 50 at ${shop_name}", "", "", "", "k10", "workers"},
        {"begin_repeat", "worker", "Worker", "कामगार", "", "", "", "", "", "", "", "${workers}", "k11", "worker"},
        {"text", "worker_name", "Name of worker", "नाम", "", "", "", "", "", "", "", "", "k12", "worker_name"},
        {"end_repeat", "", "", "", "", "", "", "", "", "", "", "", "k13", ""},
        {"select_multiple crops or_other", "crops", "Crops", "फसलें", "", "", "", "", "", "", "", "", "k14", "crops"},
        {"calculate", "crop_count", "", "", "", "", "", "", "", "count-selected(${crops})", "", "", "k15", "crop_count"},
        {"note", "thanks", "Thank you, ${shop_name}", "धन्यवाद", "", "", "", "", "", "", "", "", "k16", "thanks"},
    };
    std::vector<Row> choices = {{"list_name", "name", "label::English (en)", "label::Hindi (hi)", "$kuid", "$autovalue"},
                                {"yes_no", "yes", "Yes", "हाँ", "c1", "yes"},
                                {"yes_no", "no", "No", "नहीं", "c2", "no"},
                                {"crops", "cotton", "Cotton", "कपास", "c3", "cotton"},
                                {"crops", "jute", "Jute", "जूट", "c4", "jute"}};
    std::vector<Row> settings = {{"form_title", "version", "default_language", "style", "instance_name"},
                                 {"Shop visit", "vQ3zzkQ2oWB9dJj4Tz6nmZ", "English (en)", "theme-grid",
                                  "concat(${shop_name}, ' - ', ${today})"}};
    const auto path = writeXlsx("kobo-export.xlsx", {{"survey", survey}, {"choices", choices}, {"settings", settings}});
    TemplateLoadResult loaded = loadTemplateFile(path);
    std::string all;
    for (const auto& e : loaded.errors) all += "error: " + e.toString() + "\n";
    for (const auto& w : loaded.warnings) all += "warning: " + w.toString() + "\n";
    INFO(all);
    REQUIRE(loaded.ok());
    const Template& t = *loaded.survey;
    CHECK(t.id == "kobo-export");  // no form_id: the file name
    CHECK(t.version == "vQ3zzkQ2oWB9dJj4Tz6nmZ");
    CHECK(t.languages == std::vector<std::string>{"en", "hi"});
    // Warnings: 4 metadata rows, the $kuid, $autoname and style columns, the missing Hindi
    // hint and constraint message, the missing 'hi' label of the or_other question.
    CHECK_THAT(all, Catch::Contains("metadata 'audit' is skipped") && Catch::Contains("'$kuid' is ignored") &&
                        Catch::Contains("setting 'style'"));

    FormSession session(loaded.survey);
    session.setToday(*parseIsoDate("2026-03-31"));
    REQUIRE(session.setAnswer("shop_name", Value::text("Velavan Knits")).ok());
    REQUIRE(session.setAnswer("owner_here", Value::text("yes")).ok());
    REQUIRE(session.setAnswer("workers", Value::number(2)).ok());
    const int repeat = t.indexOf("worker");
    CHECK(session.instanceCount(repeat) == 2);
    REQUIRE(session.setAnswer("worker_name", Value::text("Asha"), 0).ok());
    REQUIRE(session.setAnswer("worker_name", Value::text("Ravi"), 1).ok());
    REQUIRE(session.setAnswer("crops", Value::choices({"cotton", "other"})).ok());
    REQUIRE(session.setAnswer("crops_other", Value::text("Silk")).ok());
    const Question& owner = *t.find("owner_here");
    CHECK(interpolate(session, owner.label.in(1), Position{owner.index, 0}, 1) == "क्या Velavan Knits का मालिक यहाँ है?");
    CHECK(session.validate(0).empty());
    Record record = session.toRecord();
    const Answer* name = record.find("instance_name");
    REQUIRE(name);
    CHECK(name->value.asText() == "Velavan Knits - 2026-03-31");
    CHECK(record.find("crop_count")->value.asNumber() == 2);
    CHECK_FALSE(record.find("start"));
}
