// The report layout a template declares (report.layout) is checked fully at load: every
// table names indicators that exist, every chart a kind that fits its table, every
// placeholder a figure the builder can fill, every text every language; a template without
// one gets a section per topic; a new language is data (phrases), not code.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/template/report_layout.h"
#include "core/template/template_loader.h"

using namespace ck;
using nlohmann::json;

namespace {

json T(const char* en, const char* hi) { return json{{"en", en}, {"hi", hi}}; }

// A small sound bilingual template with two indicators and a layout using each table kind
// that takes indicators; tests break one thing at a time.
json soundTemplate() {
    json doc = json::parse(R"JSON({
      "id": "pottery", "version": "1", "languages": ["en", "hi"],
      "title": {"en": "Pottery", "hi": "मिट्टी के बर्तन"},
      "choices": {"yes_no": [{"name": "yes", "label": {"en": "Yes", "hi": "हाँ"}},
                             {"name": "no", "label": {"en": "No", "hi": "नहीं"}}]},
      "sections": [
        {"id": "s1", "label": {"en": "Unit", "hi": "इकाई"}, "questions": [
          {"id": "consent", "type": "select_one", "choices": "yes_no", "label": {"en": "Consent?", "hi": "सहमति?"}},
          {"id": "exports", "type": "select_one", "choices": "yes_no", "label": {"en": "Exports?", "hi": "निर्यात?"}},
          {"id": "kiln_gas", "type": "select_one", "choices": "yes_no", "label": {"en": "Gas kiln?", "hi": "गैस भट्ठी?"}},
          {"id": "output", "type": "money", "label": {"en": "Output", "hi": "उत्पादन"}}
        ]}
      ],
      "indicators": [
        {"id": "exporter_share", "kind": "share", "label": {"en": "Exporters", "hi": "निर्यातक"},
         "numerator": "${exports} = 'yes'", "unit": "% of firms", "topic": "outcomes"},
        {"id": "gas_kiln_share", "kind": "share", "label": {"en": "Gas kilns", "hi": "गैस भट्ठियाँ"},
         "numerator": "${kiln_gas} = 'yes'", "unit": "% of firms", "topic": "constraints"},
        {"id": "output_total", "kind": "total", "label": {"en": "Output", "hi": "उत्पादन"},
         "numerator": "${output}", "unit": "INR", "topic": "outcomes"}
      ]
    })JSON");
    json layout;
    layout["sections"] = json::array({
        {{"id", "main"},
         {"title", T("The {scope}", "{scope}")},
         {"otherwise", T("Nothing yet.", "अभी कुछ नहीं।")},
         {"highlights", json::array({{{"text", T("{exporter_share} of units export.", "{exporter_share} इकाइयाँ निर्यात करती हैं।")}},
                                     {{"largest", "kilns"}, {"text", T("{label}: {value}.", "{label}: {value}।")}},
                                     {{"top", "ranked"}, {"count", 2}, {"text", T("Top: {list}.", "शीर्ष: {list}।")}}})},
         {"tables", json::array({{{"id", "kilns"}, {"kind", "estimates"}, {"title", T("Kilns", "भट्ठियाँ")},
                                  {"columns", json::array({T("% of units", "इकाइयों का %")})}, {"chart", "bars"},
                                  {"indicators", json::array({"gas_kiln_share", "exporter_share"})}},
                                 {{"id", "ranked"}, {"kind", "estimates"}, {"order", "ranked"}, {"title", T("Ranked", "क्रम")},
                                  {"columns", json::array({T("%", "%")})},
                                  {"indicators", json::array({{{"id", "gas_kiln_share"}, {"short", T("Gas", "गैस")}}, "exporter_share"})}},
                                 {{"id", "compare"}, {"kind", "comparison"}, {"title", T("Compared", "तुलना")},
                                  {"indicators", json::array({"exporter_share"})}},
                                 {{"id", "money"}, {"kind", "money"}, {"title", T("Money by {parts}", "{parts} के अनुसार")},
                                  {"indicators", json::array({"output_total"})}},
                                 {{"id", "flags"}, {"kind", "precision_flags"}, {"title", T("Flags", "फ़्लैग")}}})}},
    });
    doc["report"] = {{"layout", layout}};
    return doc;
}

TemplateLoadResult load(const json& doc) { return loadTemplateDocument(doc, "pottery.json"); }

// Every error of a broken template, one per line, for matching.
std::string errorsOf(const json& doc) {
    auto r = load(doc);
    REQUIRE_FALSE(r.ok());
    std::string all;
    for (const auto& e : r.errors) all += e.toString() + "\n";
    return all;
}

json& firstTable(json& doc) { return doc["report"]["layout"]["sections"][0]["tables"][0]; }
json& highlights(json& doc) { return doc["report"]["layout"]["sections"][0]["highlights"]; }

}  // namespace

TEST_CASE("a sound layout loads once, with its tables, rows, charts and every phrase", "[template][report_layout]") {
    auto r = load(soundTemplate());
    for (const auto& e : r.errors) INFO(e.toString());
    REQUIRE(r.ok());
    REQUIRE(r.survey->report.layout);
    const ReportLayout& layout = *r.survey->report.layout;
    CHECK(layout.declared);
    REQUIRE(layout.sections.size() == 1);
    const ReportSectionSpec& s = layout.sections[0];
    CHECK(s.title.in(1) == "{scope}");
    REQUIRE(s.tables.size() == 5);
    CHECK(s.tables[0].chart == ReportChartKind::Bars);
    CHECK(s.tables[0].rows.size() == 2);
    CHECK(s.tables[0].rows[0].key == "gas_kiln_share");
    CHECK(s.tables[0].rows[0].indicators == std::vector<int>{1});
    CHECK(s.tables[1].ranked);
    CHECK(s.tables[1].rows[0].shortLabel.in(0) == "Gas");
    CHECK(s.tables[3].kind == ReportTableKind::Money);
    REQUIRE(s.highlights.size() == 3);
    CHECK(s.highlights[1].kind == ReportHighlightKind::Largest);
    CHECK(s.highlights[2].count == 2);
    // Built-in words for both languages of the template.
    REQUIRE(layout.phrases.size() == size_t(ReportPhrase::Count));
    CHECK(layout.phrase(ReportPhrase::page_method_notes, 0) == "Method notes");
    CHECK(layout.phrase(ReportPhrase::page_method_notes, 1) == "पद्धति संबंधी टिप्पणियाँ");
    CHECK(layout.table("money") == &s.tables[3]);
    CHECK(layout.table("nowhere") == nullptr);
}

TEST_CASE("layout errors name the section, table or highlight and what to do", "[template][report_layout]") {
    SECTION("an indicator that does not exist") {
        json doc = soundTemplate();
        firstTable(doc)["indicators"].push_back("exporter_shares");
        CHECK_THAT(errorsOf(doc), Catch::Contains("report table 'kilns', indicators: there is no indicator 'exporter_shares'"));
    }
    SECTION("an unknown chart kind") {
        json doc = soundTemplate();
        firstTable(doc)["chart"] = "pie";
        CHECK_THAT(errorsOf(doc), Catch::Contains("unknown chart kind \"pie\" (none, bars, bars_with_intervals, paired_bars)"));
    }
    SECTION("a chart that does not fit the table") {
        json doc = soundTemplate();
        firstTable(doc)["chart"] = "paired_bars";
        CHECK_THAT(errorsOf(doc), Catch::Contains("a 'estimates' table cannot be drawn as 'paired_bars'"));
    }
    SECTION("an unknown table kind") {
        json doc = soundTemplate();
        firstTable(doc)["kind"] = "heatmap";
        CHECK_THAT(errorsOf(doc), Catch::Contains("unknown table kind \"heatmap\""));
    }
    SECTION("a placeholder naming no indicator and no figure") {
        json doc = soundTemplate();
        highlights(doc)[0]["text"] = T("{exporters} of units export.", "{exporters} इकाइयाँ।");
        std::string e = errorsOf(doc);
        CHECK_THAT(e, Catch::Contains("placeholder '{exporters}' in the 'en' text names no indicator and no report figure"));
        CHECK_THAT(e, Catch::Contains("in the 'hi' text"));
    }
    SECTION("a placeholder asking an indicator for something it does not give") {
        json doc = soundTemplate();
        highlights(doc)[0]["text"] = T("{exporter_share.median}", "{exporter_share}");
        CHECK_THAT(errorsOf(doc), Catch::Contains("an indicator gives label, low, high or interval"));
    }
    SECTION("a placeholder of another highlight kind, and an unclosed brace") {
        json doc = soundTemplate();
        highlights(doc)[0]["text"] = T("{list}", "{exporter_share");
        std::string e = errorsOf(doc);
        CHECK_THAT(e, Catch::Contains("placeholder '{list}'"));
        CHECK_THAT(e, Catch::Contains("'{' without '}' in the 'hi' text"));
    }
    SECTION("a text missing a language: a warning (the other language is shown), an error when strict") {
        json doc = soundTemplate();
        firstTable(doc)["title"] = json{{"en", "Kilns"}};
        auto lenient = load(doc);
        REQUIRE(lenient.ok());
        std::string warnings;
        for (const auto& w : lenient.warnings) warnings += w.toString() + "\n";
        CHECK_THAT(warnings, Catch::Contains("report table 'kilns', title: missing in language 'hi'"));
        auto strict = loadTemplateDocument(doc, "pottery.json", TemplateLoadOptions{.strict = true});
        REQUIRE_FALSE(strict.ok());
        std::string errors;
        for (const auto& e : strict.errors) errors += e.toString() + "\n";
        CHECK_THAT(errors, Catch::Contains("report table 'kilns', title: missing in language 'hi'"));
    }
    SECTION("a highlight naming a table that is not there, or of the wrong kind") {
        json doc = soundTemplate();
        highlights(doc)[1]["largest"] = "kiln";
        highlights(doc)[2]["top"] = "kilns";  // not ranked
        std::string e = errorsOf(doc);
        CHECK_THAT(e, Catch::Contains("there is no table 'kiln' in the layout"));
        CHECK_THAT(e, Catch::Contains("table 'kilns' is a 'estimates' table; this highlight needs an 'estimates' table with \"order\": \"ranked\""));
    }
    SECTION("a comparison highlight for an indicator the comparison does not show") {
        json doc = soundTemplate();
        highlights(doc).push_back({{"compare", "gas_kiln_share"}, {"table", "compare"}, {"text", T("{here}", "{here}")},
                                   {"otherwise", T("{there}", "{there}")}});
        CHECK_THAT(errorsOf(doc), Catch::Contains("indicator 'gas_kiln_share' is not a row of the comparison table 'compare'"));
    }
    SECTION("a money table adds up totals only") {
        json doc = soundTemplate();
        doc["report"]["layout"]["sections"][0]["tables"][3]["indicators"] = json::array({"exporter_share"});
        CHECK_THAT(errorsOf(doc), Catch::Contains("'exporter_share' is not a 'total' indicator"));
    }
    SECTION("a table id used twice, too long for a sheet, and an unknown key") {
        json doc = soundTemplate();
        doc["report"]["layout"]["sections"][0]["tables"][1]["id"] = "kilns";
        doc["report"]["layout"]["sections"][0]["tables"][2]["id"] = std::string(32, 'x');
        firstTable(doc)["colour"] = "blue";
        std::string e = errorsOf(doc);
        CHECK_THAT(e, Catch::Contains("the table id is used twice"));
        CHECK_THAT(e, Catch::Contains("at most 31 characters"));
        CHECK_THAT(e, Catch::Contains("unknown key 'colour'"));
    }
    SECTION("columns: one for estimates, none for the built-in kinds") {
        json doc = soundTemplate();
        firstTable(doc)["columns"].push_back(T("More", "और"));
        doc["report"]["layout"]["sections"][0]["tables"][4]["columns"] = json::array({T("x", "x")});
        std::string e = errorsOf(doc);
        CHECK_THAT(e, Catch::Contains("a 'estimates' table has 1 column"));
        CHECK_THAT(e, Catch::Contains("the report names the columns of a 'precision_flags' table"));
    }
    SECTION("a phrase with a placeholder its built-in text does not have") {
        json doc = soundTemplate();
        doc["report"]["layout"]["phrases"] = {{"column_state", T("State: {name}", "राज्य: {state}")}};
        CHECK_THAT(errorsOf(doc), Catch::Contains("report layout phrases, column_state: placeholder '{state}' in the 'hi' text names no"));
    }
    SECTION("an unknown condition and an unknown phrase") {
        json doc = soundTemplate();
        highlights(doc)[0]["when"] = "sometimes";
        doc["report"]["layout"]["phrases"] = {{"scope_galaxy", T("galaxy", "आकाशगंगा")}};
        std::string e = errorsOf(doc);
        CHECK_THAT(e, Catch::Contains("unknown condition \"sometimes\""));
        CHECK_THAT(e, Catch::Contains("unknown phrase 'scope_galaxy'"));
    }
}

TEST_CASE("a new language is data: the template gives the built-in words in it", "[template][report_layout]") {
    // Tamil added to every text of the layout, but no built-in words exist in Tamil.
    json doc = soundTemplate();
    doc["languages"] = {"en", "hi", "ta"};
    std::function<void(json&)> addTamil = [&](json& j) {
        if (j.is_object()) {
            if (j.contains("en") && j.contains("hi") && j.size() == 2) {
                j["ta"] = "த: " + j["en"].get<std::string>();
                return;
            }
            for (auto& [k, v] : j.items()) addTamil(v);
        } else if (j.is_array()) {
            for (auto& v : j) addTamil(v);
        }
    };
    addTamil(doc);
    std::string e = errorsOf(doc);
    CHECK_THAT(e, Catch::Contains("report layout phrases, ta: the report's built-in words exist in en and hi only"));
    CHECK_THAT(e, Catch::Contains("missing: scope_cluster"));

    // Given every phrase in Tamil (English ones replaced by the template too), it loads.
    json phrases = json::object();
    for (size_t i = 0; i < size_t(ReportPhrase::Count); ++i) {
        std::string key = reportPhraseKey(ReportPhrase(i));
        phrases[key] = {{"en", "EN " + key}, {"hi", "HI " + key}, {"ta", "TA " + key}};
    }
    doc["report"]["layout"]["phrases"] = phrases;
    auto r = load(doc);
    for (const auto& err : r.errors) INFO(err.toString());
    REQUIRE(r.ok());
    const ReportLayout& layout = *r.survey->report.layout;
    CHECK(layout.phrase(ReportPhrase::page_method_notes, 2) == "TA page_method_notes");
    CHECK(layout.phrase(ReportPhrase::page_method_notes, 0) == "EN page_method_notes");
}

TEST_CASE("a template without a layout gets one section per topic, in the outline's order", "[template][report_layout]") {
    json doc = soundTemplate();
    doc.erase("report");
    auto r = load(doc);
    REQUIRE(r.ok());
    const ReportLayout& layout = *r.survey->report.layout;
    CHECK_FALSE(layout.declared);
    std::vector<std::string> ids;
    for (const auto& s : layout.sections) ids.push_back(s.id);
    CHECK(ids == std::vector<std::string>{"glance", "outcomes", "constraints", "comparison", "data_quality"});
    // The money totals of the template go to the comparison's money table.
    const ReportTableSpec* money = layout.table("comparison_money");
    REQUIRE(money);
    REQUIRE(money->rows.size() == 1);
    CHECK(money->rows[0].key == "output_total");
    CHECK(layout.sections[0].title.in(1) == "{scope} एक नज़र में");
}

TEST_CASE("the shipped templates declare sound layouts", "[template][report_layout]") {
    for (const char* file : {"cluster-diagnostic.json", "brassware-diagnostic.json"}) {
        INFO(file);
        auto r = loadTemplateJsonFile(std::string(CK_SOURCE_DIR) + "/survey-templates/" + file);
        for (const auto& e : r.errors) INFO(e.toString());
        REQUIRE(r.ok());
        REQUIRE(r.survey->report.layout);
        CHECK(r.survey->report.layout->declared);
        CHECK(r.survey->report.layout->sections.size() >= 7);
    }
}
