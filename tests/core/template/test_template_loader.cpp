// Loading checks a template fully and never half-loads a broken one.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/template/template_loader.h"

using namespace ck;
using nlohmann::json;

namespace {

// A small sound bilingual template; tests break one thing at a time.
json soundTemplate() {
    return json::parse(R"JSON({
      "id": "mini", "version": "1", "languages": ["en", "hi"],
      "title": {"en": "Mini", "hi": "लघु"},
      "choices": {
        "yes_no": [{"name": "yes", "label": {"en": "Yes", "hi": "हाँ"}},
                   {"name": "no", "label": {"en": "No", "hi": "नहीं"}}],
        "segment": [{"name": "knitting", "label": {"en": "Knitting", "hi": "बुनाई"}, "properties": {"stage": "up"}},
                    {"name": "garmenting", "label": {"en": "Garmenting", "hi": "परिधान"}, "properties": {"stage": "down"}}],
        "obstacle": [{"name": "0", "label": {"en": "None", "hi": "कोई नहीं"}},
                     {"name": "4", "label": {"en": "Very severe", "hi": "बहुत गंभीर"}}]
      },
      "sections": [
        {"id": "consent_s", "label": {"en": "Consent", "hi": "सहमति"}, "questions": [
          {"id": "consent", "type": "select_one", "choices": "yes_no", "required": true, "allow_dont_know": false,
           "label": {"en": "Consent?", "hi": "सहमति?"}}
        ]},
        {"id": "unit", "label": {"en": "Unit", "hi": "इकाई"}, "relevant": "${consent} = 'yes'", "questions": [
          {"id": "workers", "type": "integer", "label": {"en": "Workers", "hi": "कामगार"},
           "constraint": ". >= 0", "constraint_message": {"en": "Not negative", "hi": "ऋणात्मक नहीं"}},
          {"id": "women", "type": "integer", "label": {"en": "Women", "hi": "महिलाएँ"},
           "constraint": ". <= ${workers}", "constraint_message": {"en": "At most all workers", "hi": "कुल से अधिक नहीं"}},
          {"id": "women_share", "type": "calculate", "calculation": "${women} div ${workers}"},
          {"id": "segment", "type": "select_one", "choices": "segment", "choice_filter": "stage = 'up'",
           "label": {"en": "Segment", "hi": "खंड"}},
          {"id": "power", "type": "scale", "choices": "obstacle", "label": {"en": "Power", "hi": "बिजली"}},
          {"id": "lines", "type": "repeat", "label": {"en": "Product lines", "hi": "उत्पाद"}, "questions": [
            {"id": "line_sales", "type": "money", "label": {"en": "Sales", "hi": "बिक्री"}}
          ]},
          {"id": "total_sales", "type": "calculate", "calculation": "sum(${line_sales})"}
        ]}
      ],
      "indicators": [
        {"id": "women_jobs", "kind": "ratio", "label": {"en": "Women's share", "hi": "महिला हिस्सा"},
         "numerator": "${women}", "denominator": "${workers}", "unit": "%", "topic": "outcomes"}
      ]
    })JSON");
}

TemplateLoadResult load(const json& doc, bool strict = false) {
    return loadTemplateDocument(doc, "mini.json", TemplateLoadOptions{strict});
}

// The single error a broken template must produce, as text, when loaded strictly (the
// errors that are only warnings by default are errors there too).
std::string onlyError(const json& doc) {
    auto r = load(doc, true);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.survey == nullptr);
    REQUIRE(r.errors.size() >= 1);
    return r.errors.front().toString();
}

json& question(json& doc, const std::string& id) {
    for (auto& s : doc["sections"])
        for (auto& q : s["questions"]) {
            if (q["id"] == id) return q;
            if (q.contains("questions"))
                for (auto& c : q["questions"])
                    if (c["id"] == id) return c;
        }
    FAIL("no question " << id);
    throw;
}

}  // namespace

TEST_CASE("a sound template loads with its model and graph", "[core][template]") {
    auto r = load(soundTemplate());
    for (const auto& e : r.errors) INFO(e.toString());
    REQUIRE(r.ok());
    const Template& t = *r.survey;
    CHECK(t.id == "mini");
    CHECK(t.languages == std::vector<std::string>{"en", "hi"});
    CHECK(t.sections.size() == 2);
    const Question* women = t.find("women");
    REQUIRE(women);
    CHECK(women->type == QuestionType::Integer);
    CHECK(women->label.in(1) == "महिलाएँ");
    CHECK(women->constraint.present());
    const Question* sales = t.find("line_sales");
    REQUIRE(sales);
    CHECK(sales->repeat == t.indexOf("lines"));
    CHECK(t.find("unit")->isSection());
    // Graph: total_sales reads line_sales; women's constraint reads workers (a check edge).
    const auto& fromSales = t.valueDependents[size_t(sales->index)];
    CHECK(std::find(fromSales.begin(), fromSales.end(), t.indexOf("total_sales")) != fromSales.end());
    const auto& checksOfWorkers = t.checkDependents[size_t(t.indexOf("workers"))];
    CHECK(std::find(checksOfWorkers.begin(), checksOfWorkers.end(), t.indexOf("women")) != checksOfWorkers.end());
    // Evaluation order puts what is read before what reads it.
    CHECK(t.rank[size_t(t.indexOf("women"))] < t.rank[size_t(t.indexOf("women_share"))]);
    CHECK(t.rank[size_t(t.indexOf("consent"))] < t.rank[size_t(t.indexOf("unit"))]);
    REQUIRE(t.indicators.size() == 1);
    CHECK(t.indicators[0].kind == IndicatorKind::Ratio);
}

TEST_CASE("malformed JSON names line and column", "[core][template]") {
    auto r = loadTemplateJson("{\n  \"id\": \"x\",\n  \"version\": 1,,\n}", "broken.json");
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.errors.size() == 1);
    CHECK_THAT(r.errors[0].toString(), Catch::Contains("broken.json") && Catch::Contains("line 3"));
}

TEST_CASE("structural errors name the file, the question and the key", "[core][template]") {
    SECTION("unknown type") {
        json doc = soundTemplate();
        question(doc, "workers")["type"] = "barcode";
        CHECK_THAT(onlyError(doc), Catch::Contains("mini.json: question 'workers', type") && Catch::Contains("unknown type 'barcode'"));
    }
    SECTION("duplicate id") {
        json doc = soundTemplate();
        question(doc, "women")["id"] = "workers";
        CHECK_THAT(onlyError(doc), Catch::Contains("question 'workers', id") && Catch::Contains("used twice"));
    }
    SECTION("choice list that does not exist") {
        json doc = soundTemplate();
        question(doc, "segment")["choices"] = "sectors";
        CHECK_THAT(onlyError(doc), Catch::Contains("question 'segment', choices") && Catch::Contains("no choice list 'sectors'"));
    }
    SECTION("label missing in a declared language") {
        json doc = soundTemplate();
        question(doc, "workers")["label"].erase("hi");
        CHECK_THAT(onlyError(doc), Catch::Contains("question 'workers', label") && Catch::Contains("missing in language 'hi'"));
    }
    SECTION("choice label missing in a language") {
        json doc = soundTemplate();
        doc["choices"]["yes_no"][1]["label"].erase("en");
        CHECK_THAT(onlyError(doc), Catch::Contains("choice list 'yes_no', choice 'no'") && Catch::Contains("missing in language 'en'"));
    }
    SECTION("unknown key") {
        json doc = soundTemplate();
        question(doc, "workers")["relevance"] = "true()";
        CHECK_THAT(onlyError(doc), Catch::Contains("unknown key 'relevance'"));
    }
    SECTION("scale with non-integer choice names") {
        json doc = soundTemplate();
        doc["choices"]["obstacle"][0]["name"] = "none";
        CHECK_THAT(onlyError(doc), Catch::Contains("question 'power', choices") && Catch::Contains("'none'"));
    }
    SECTION("constraint without a message") {
        json doc = soundTemplate();
        question(doc, "workers").erase("constraint_message");
        CHECK_THAT(onlyError(doc), Catch::Contains("question 'workers', constraint_message") && Catch::Contains("no message"));
    }
    SECTION("nested repeat") {
        json doc = soundTemplate();
        question(doc, "lines")["questions"].push_back(json::parse(
            R"({"id": "sizes", "type": "repeat", "label": {"en": "Sizes", "hi": "आकार"}, "questions": [
                 {"id": "size", "type": "text", "label": {"en": "Size", "hi": "आकार"}}]})"));
        CHECK_THAT(onlyError(doc), Catch::Contains("question 'sizes'") && Catch::Contains("repeat inside repeat 'lines'"));
    }
    SECTION("a 10 MB label") {
        json doc = soundTemplate();
        question(doc, "workers")["label"]["en"] = std::string(10 * 1024 * 1024, 'x');
        CHECK_THAT(onlyError(doc), Catch::Contains("question 'workers', label") && Catch::Contains("limit"));
    }
    SECTION("empty sections") {
        json doc = soundTemplate();
        doc["sections"] = json::array();
        CHECK_THAT(onlyError(doc), Catch::Contains("'sections' must be a non-empty list"));
    }
    SECTION("not an object") {
        CHECK_THAT(onlyError(json::array({1, 2})), Catch::Contains("must be a JSON object"));
    }
}

TEST_CASE("expression errors carry the text and the position", "[core][template]") {
    SECTION("unknown reference") {
        json doc = soundTemplate();
        question(doc, "women")["constraint"] = ". <= ${workerz}";
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        const auto& e = r.errors.at(0);
        CHECK(e.where == "question 'women'");
        CHECK(e.key == "constraint");
        CHECK(e.expression == ". <= ${workerz}");
        CHECK(e.position == 5);
        CHECK_THAT(e.toString(), Catch::Contains("workerz"));
    }
    SECTION("unknown function") {
        json doc = soundTemplate();
        question(doc, "women_share")["calculation"] = "frobnicate(${women})";
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        CHECK(r.errors.at(0).key == "calculation");
        CHECK(r.errors.at(0).position == 0);
        CHECK_THAT(r.errors.at(0).message, Catch::Contains("frobnicate"));
    }
    SECTION("type mismatch: a choice literal that is not in the list") {
        json doc = soundTemplate();
        doc["sections"][1]["relevant"] = "${consent} = 'maybe'";
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        CHECK(r.errors.at(0).where == "question 'unit'");
        CHECK(r.errors.at(0).key == "relevant");
        CHECK_THAT(r.errors.at(0).message, Catch::Contains("maybe"));
    }
    SECTION("type mismatch: arithmetic on a choice") {
        json doc = soundTemplate();
        question(doc, "women_share")["calculation"] = "${segment} + 1";
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        CHECK(r.errors.at(0).key == "calculation");
    }
    SECTION("a repeat's values outside an aggregate") {
        json doc = soundTemplate();
        question(doc, "total_sales")["calculation"] = "${line_sales} * 2";
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.errors.at(0).message, Catch::Contains("line_sales"));
    }
    SECTION("bad regular expression") {
        json doc = soundTemplate();
        question(doc, "workers")["constraint"] = "regex(string(.), '[0-9')";
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        CHECK(r.errors.at(0).key == "constraint");
        CHECK(r.errors.at(0).position == 17);  // the pattern literal
    }
    SECTION("deeply nested expression") {
        json doc = soundTemplate();
        question(doc, "women_share")["calculation"] = std::string(5000, '(') + "1" + std::string(5000, ')');
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        CHECK(r.errors.at(0).key == "calculation");
    }
    SECTION("an indicator of kind mean over text") {
        json doc = soundTemplate();
        doc["indicators"][0]["kind"] = "mean";
        doc["indicators"][0].erase("denominator");
        doc["indicators"][0]["numerator"] = "${segment}";
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        CHECK(r.errors.at(0).where == "indicator 'women_jobs'");
        CHECK_THAT(r.errors.at(0).message, Catch::Contains("needs a number"));
    }
}

TEST_CASE("calculation cycles are found and printed", "[core][template]") {
    json doc = soundTemplate();
    auto& qs = doc["sections"][1]["questions"];
    qs.push_back(json::parse(R"({"id": "a", "type": "calculate", "calculation": "${b} + 1"})"));
    qs.push_back(json::parse(R"({"id": "b", "type": "calculate", "calculation": "${c} + 1"})"));
    qs.push_back(json::parse(R"({"id": "c", "type": "calculate", "calculation": "${a} + 1"})"));
    auto r = load(doc);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.errors.size() == 1);
    CHECK_THAT(r.errors[0].message, Catch::Contains("cycle") && Catch::Contains("a -> ") && Catch::Contains("b -> ") &&
                                        Catch::Contains("c -> "));
}

TEST_CASE("a relevance reading its own answer is a cycle", "[core][template]") {
    json doc = soundTemplate();
    question(doc, "workers")["relevant"] = "${workers} > 0";
    auto r = load(doc);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.errors.at(0).message, Catch::Contains("workers -> workers"));
}

TEST_CASE("checks that read each other are not a cycle", "[core][template]") {
    // A's required reads B and B's relevance reads A: values flow one way only.
    json doc = soundTemplate();
    question(doc, "workers")["required"] = "${women} > 0";
    question(doc, "women")["relevant"] = "${workers} > 0";
    auto r = load(doc);
    for (const auto& e : r.errors) INFO(e.toString());
    CHECK(r.ok());
}

TEST_CASE("many errors are all reported at once", "[core][template]") {
    json doc = soundTemplate();
    question(doc, "workers")["type"] = "number";
    question(doc, "segment")["choices"] = "nothing";
    question(doc, "power")["label"].erase("hi");
    question(doc, "women_share")["calculation"] = "${women} +";
    auto r = load(doc, true);
    REQUIRE_FALSE(r.ok());
    std::string all;
    for (const auto& e : r.errors) all += e.toString() + "\n";
    INFO(all);
    // Structural and expression errors together; nothing repeated for the unread 'workers'
    // that women's constraint and the indicator read.
    CHECK(r.errors.size() == 4);
    CHECK_THAT(all, Catch::Contains("question 'women_share', calculation"));
}

TEST_CASE("a missing file is a clear error", "[core][template]") {
    auto r = loadTemplateJsonFile("/nonexistent/form.json");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.errors.at(0).toString(), Catch::Contains("/nonexistent/form.json") && Catch::Contains("cannot read"));
}

TEST_CASE("deeply nested JSON is an error, not a stack overflow", "[core][template]") {
    const size_t depth = 200000;
    std::string nested = std::string(depth, '[') + std::string(depth, ']');
    auto r = loadTemplateJson(nested, "deep.json");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.errors.at(0).toString(), Catch::Contains("must be a JSON object"));
    std::string inSections = R"({"id": "d", "version": "1", "languages": ["en"], "title": "D", "sections": )" +
                             std::string(depth, '[') + std::string(depth, ']') + "}";
    r = loadTemplateJson(inSections, "deep.json");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.errors.at(0).toString(), Catch::Contains("section"));
}

TEST_CASE("a number too large for JSON's doubles is an error (found by fuzzing)", "[core][template]") {
    auto r = loadTemplateJson(R"({"id": "mini", "version": 1e7777, "languages": ["en"]})", "huge.json");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.errors.at(0).toString(), Catch::Contains("huge.json") && Catch::Contains("not usable JSON"));
}

TEST_CASE("the report design names the stratum, the response and the officer", "[core][template]") {
    json doc = soundTemplate();
    doc["report"] = {{"stratum", "${segment}"}, {"responded", "${consent} = 'yes'"}, {"officer", "segment"}};
    auto r = load(doc);
    REQUIRE(r.ok());
    const Template& t = *r.survey;
    CHECK(t.report.stratum.present());
    CHECK(t.report.stratum.program.text() == "${segment}");
    CHECK(t.report.responded.present());
    REQUIRE(t.report.officerQuestion >= 0);
    CHECK(t.questions[size_t(t.report.officerQuestion)].id == "segment");
    CHECK(t.report.dateQuestion == -1);

    SECTION("absent: one stratum, everyone responded") {
        auto plain = load(soundTemplate());
        REQUIRE(plain.ok());
        CHECK_FALSE(plain.survey->report.stratum.present());
        CHECK_FALSE(plain.survey->report.responded.present());
        CHECK(plain.survey->report.officerQuestion == -1);
    }
}

TEST_CASE("a broken report design is refused with the key at fault", "[core][template]") {
    json doc = soundTemplate();
    SECTION("an officer question that does not exist") {
        doc["report"] = {{"officer", "officer_id"}};
        CHECK_THAT(onlyError(doc), Catch::Contains("report, officer") && Catch::Contains("no question 'officer_id'"));
    }
    SECTION("a visit date that is not a date") {
        doc["report"] = {{"visit_date", "workers"}};
        CHECK_THAT(onlyError(doc), Catch::Contains("report, visit_date") && Catch::Contains("must be a date question"));
    }
    SECTION("a question inside a repeat") {
        doc["report"] = {{"officer", "line_sales"}};
        CHECK_THAT(onlyError(doc), Catch::Contains("report, officer") && Catch::Contains("outside any repeat"));
    }
    SECTION("a stratum expression that does not compile") {
        doc["report"] = {{"stratum", "${segment} and"}};
        CHECK_THAT(onlyError(doc), Catch::Contains("report, stratum"));
    }
    SECTION("an unknown key") {
        doc["report"] = {{"strata", "${segment}"}};
        CHECK_THAT(onlyError(doc), Catch::Contains("unknown key 'strata'"));
    }
    SECTION("not an object") {
        doc["report"] = "size";
        CHECK_THAT(onlyError(doc), Catch::Contains("'report' must be an object"));
    }
}

TEST_CASE("template versions are names, never paths", "[core][template]") {
    auto withVersion = [](const std::string& v) {
        return loadTemplateJson(R"({"id": "mini", "version": ")" + v + R"(", "languages": ["en"], "title": "M",
          "sections": [{"id": "s", "label": "S", "questions": [{"id": "a", "type": "integer", "label": "A"}]}]})",
                                "mini.json");
    };
    for (const std::string v : {"2026.1", "1", "v1-rc_2", "20260101"}) {
        INFO(v);
        CHECK(withVersion(v).survey);
    }
    for (const std::string& v : std::vector<std::string>{"../../etc", "a/b", "a\\\\b", ".hidden", "1..2", "1 beta", "-1", std::string(65, '1')}) {
        INFO(v);
        auto r = withVersion(v);
        CHECK_FALSE(r.survey);
        bool named = false;
        for (const auto& e : r.errors) named |= e.message.find("not a valid version") != std::string::npos;
        CHECK(named);
    }
}

TEST_CASE("ClusterKit's own strictness is a warning by default and an error when strict", "[core][template]") {
    auto warningsOf = [](const TemplateLoadResult& r) {
        std::string text;
        for (const auto& w : r.warnings) text += w.toString() + "\n";
        return text;
    };
    SECTION("a label missing in one language shows the other language's text") {
        json doc = soundTemplate();
        question(doc, "workers")["label"].erase("hi");
        auto r = load(doc);
        REQUIRE(r.ok());
        CHECK(r.errors.empty());
        REQUIRE(r.warnings.size() == 1);
        CHECK_THAT(warningsOf(r), Catch::Contains("question 'workers', label") && Catch::Contains("missing in language 'hi'"));
        CHECK(r.survey->find("workers")->label.in(1) == "Workers");
        CHECK_FALSE(load(doc, true).ok());
    }
    SECTION("one plain text for a bilingual form is shown in both languages") {
        json doc = soundTemplate();
        question(doc, "workers")["hint"] = "Count today";
        auto r = load(doc);
        REQUIRE(r.ok());
        CHECK_THAT(warningsOf(r), Catch::Contains("question 'workers', hint") && Catch::Contains("every language"));
        CHECK(r.survey->find("workers")->hint.in(1) == "Count today");
        CHECK_FALSE(load(doc, true).ok());
    }
    SECTION("an id used twice renames the later one after its group") {
        json doc = soundTemplate();
        doc["sections"][1]["questions"].push_back(
            json::parse(R"({"id": "workers", "type": "text", "label": {"en": "Workers' union", "hi": "संघ"}})"));
        auto r = load(doc);
        INFO(warningsOf(r));
        for (const auto& e : r.errors) INFO(e.toString());
        REQUIRE(r.ok());
        CHECK_THAT(warningsOf(r), Catch::Contains("used twice") && Catch::Contains("'unit_workers'"));
        REQUIRE(r.survey->find("unit_workers"));
        CHECK(r.survey->find("unit_workers")->label.in(0) == "Workers' union");
        CHECK(r.survey->find("workers")->label.in(0) == "Workers");
        CHECK_FALSE(load(doc, true).ok());
    }
    SECTION("a constraint without a message gets the standard one") {
        json doc = soundTemplate();
        question(doc, "workers").erase("constraint_message");
        auto r = load(doc);
        REQUIRE(r.ok());
        CHECK_THAT(warningsOf(r), Catch::Contains("question 'workers', constraint_message") && Catch::Contains("standard"));
        CHECK(r.survey->find("workers")->constraintMessage.empty());
        CHECK(r.survey->find("workers")->constraint.present());
        CHECK_FALSE(load(doc, true).ok());
    }
    SECTION("a group without a label loads; a section without one takes the title") {
        json doc = soundTemplate();
        question(doc, "lines").erase("label");
        doc["sections"][1].erase("label");
        auto r = load(doc);
        INFO(warningsOf(r));
        REQUIRE(r.ok());
        CHECK(r.warnings.empty());
        CHECK(r.survey->find("lines")->label.empty());
        CHECK(r.survey->find("unit")->label.in(0) == r.survey->title.in(0));
    }
    SECTION("a label empty in every language is still an error") {
        json doc = soundTemplate();
        question(doc, "workers")["label"] = json::object({{"en", ""}, {"hi", ""}});
        auto r = load(doc);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.errors.front().toString(), Catch::Contains("question 'workers', label") && Catch::Contains("empty"));
    }
}

TEST_CASE("a ${name} in a label must name a question", "[core][template]") {
    json doc = soundTemplate();
    question(doc, "women")["label"]["en"] = "Women among the ${workers} workers";
    REQUIRE(load(doc).ok());
    question(doc, "women")["hint"] = json::object({{"en", "Of ${workerz}"}, {"hi", "${workerz} में से"}});
    auto r = load(doc);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.errors.size() == 1);
    CHECK_THAT(r.errors[0].toString(), Catch::Contains("question 'women', hint") && Catch::Contains("${workerz}, which is not a question"));
}
