// The report follows the template's layout: the brass-ware template gets its own sections,
// tables and sentences from the same builder; headings, notes and sentences follow the
// language; a sentence whose figure is hidden is not said; money reads one way everywhere.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/report/baseline_report.h"
#include "core/report/figure_text.h"
#include "core/report/indicator_evaluator.h"
#include "core/synth/visit_generator.h"
#include "core/template/report_layout.h"
#include "core/template/template_loader.h"

using namespace ck::report;

namespace {

struct Built {
    std::shared_ptr<const ck::Template> survey;
    std::vector<ck::UnitProfile> units;
    Geography geo;
    std::unique_ptr<BaselineRollup> rollup;
};

// One rollup per template file: 1 state x 2 clusters x `units` units, each visited once.
Built build(const std::string& file, int units, uint64_t seed) {
    Built b;
    auto loaded = ck::loadTemplateJsonFile(std::string(CK_SOURCE_DIR) + "/survey-templates/" + file);
    if (!loaded.ok()) FAIL(loaded.errors.front().toString());
    b.survey = loaded.survey;
    b.units = ck::syntheticRegister(1, 2, units, seed);
    std::vector<ck::RegisterUnit> rows;
    for (const auto& u : b.units) rows.push_back({u.unitId, u.name, u.cluster, u.district, u.state, u.stratum, u.sector});
    b.geo = Geography::fromRegister(rows);
    b.rollup = std::make_unique<BaselineRollup>(*b.survey);
    ck::VisitGenerator gen(b.survey, seed + 1);
    IndicatorEvaluator eval(*b.survey);
    const ck::Date day0 = *ck::parseIsoDate("2026-10-05");
    int k = 0;
    for (const auto& u : b.units) b.rollup->add(u.cluster, eval.evaluate(gen.generate(u, ck::Date{day0.days + (k++ % 20)}).toRecord()));
    return b;
}

const Built& brass() {
    static const Built b = build("brassware-diagnostic.json", 60, 411);
    return b;
}
const Built& flagship() {
    static const Built b = build("cluster-diagnostic.json", 60, 412);
    return b;
}

ReportRequest request(const Built& b, std::string language = "en", ScopeLevel level = ScopeLevel::Cluster) {
    ReportRequest r;
    r.scope = {level, level == ScopeLevel::Cluster ? b.units.front().cluster : level == ScopeLevel::State ? b.units.front().state : ""};
    r.builtAt = 1795000000;
    r.language = std::move(language);
    return r;
}

const Table* findTable(const BaselineReport& r, const std::string& id) {
    for (const Section& s : r.sections)
        for (const Table& t : s.tables)
            if (t.id == id) return &t;
    return nullptr;
}

std::string sentences(const BaselineReport& r) {
    std::string out;
    for (const Section& s : r.sections)
        for (const auto& h : s.highlights) out += h + "\n";
    return out;
}

}  // namespace

TEST_CASE("the brass-ware template gets its own report from the same builder", "[report][layout]") {
    const Built& b = brass();
    BaselineReport r = buildBaselineReport(*b.rollup, b.geo, request(b));
    const ck::ReportLayout& layout = *b.survey->report.layout;
    // Its sections, in its order, each titled from its layout and numbered.
    REQUIRE(r.sections.size() == layout.sections.size());
    for (size_t i = 0; i < r.sections.size(); ++i) {
        INFO(layout.sections[i].id);
        CHECK(r.sections[i].id == layout.sections[i].id);
        CHECK(!r.sections[i].highlights.empty());
    }
    CHECK(r.sections[1].title == "2. From scrap to export: the brass-ware chain");
    CHECK(r.sections[0].title == "1. The brass-ware cluster at a glance");
    // Its tables and nothing of the flagship's.
    const Table* chain = findTable(r, "brass_chain");
    REQUIRE(chain);
    CHECK(chain->rows.size() == 7);
    CHECK(chain->rows.front().key == "seg_scrap_casting_share");
    CHECK(chain->chart.kind == ChartSpec::Kind::Bars);
    CHECK(findTable(r, "glance_segments") == nullptr);
    CHECK(findTable(r, "brass_clusters") == nullptr);  // a cluster has no list of clusters
    const Table* schemes = findTable(r, "brass_schemes");
    REQUIRE(schemes);
    CHECK(schemes->columns == std::vector<std::string>{"Know it", "Received"});
    CHECK(schemes->rows.front().label == "One District One Product (ODOP) support");
    // A sentence with an indicator placeholder carries exactly the table's figure.
    const Table* outcomes = findTable(r, "brass_outcomes");
    REQUIRE(outcomes);
    const Cell& exporters = outcomes->rows.front().cells.at(0);
    REQUIRE(exporters.shown());
    CHECK_THAT(sentences(r), Catch::Contains(figureText(exporters.estimate.value, "%") + " of workshops export at least a tenth"));
    // Nothing of the knitwear wording.
    std::string all = sentences(r);
    for (const Section& s : r.sections)
        for (const Table& t : s.tables) all += t.title + "\n" + t.note + "\n";
    CHECK(all.find("yarn") == std::string::npos);
    CHECK(all.find("knitwear") == std::string::npos);
    // The ranked obstacles speak with their short labels.
    const Table* obs = findTable(r, "brass_obstacles");
    REQUIRE(obs);
    CHECK_THAT(all, Catch::Contains("The two biggest obstacles: " + obs->rows[0].label + " " + cellText(obs->rows[0].cells[0])));
}

TEST_CASE("headings, notes, sentences and page words follow the language", "[report][layout]") {
    for (const Built* b : {&flagship(), &brass()}) {
        const ck::ReportLayout& layout = *b->survey->report.layout;
        BaselineReport en = buildBaselineReport(*b->rollup, b->geo, request(*b, "en"));
        BaselineReport hi = buildBaselineReport(*b->rollup, b->geo, request(*b, "hi"));
        INFO(b->survey->id);
        REQUIRE(hi.sections.size() == en.sections.size());
        for (size_t i = 0; i < hi.sections.size(); ++i) {
            INFO(hi.sections[i].id);
            CHECK(hi.sections[i].title != en.sections[i].title);
            REQUIRE(hi.sections[i].tables.size() == en.sections[i].tables.size());
            for (size_t t = 0; t < hi.sections[i].tables.size(); ++t) {
                const Table& ht = hi.sections[i].tables[t];
                const ck::ReportTableSpec* spec = layout.table(ht.id);
                REQUIRE(spec);
                // Titles without placeholders are the layout's text in that language.
                if (spec->title.in(1).find('{') == std::string::npos) CHECK(ht.title == spec->title.in(1));
                // Same figures in both languages (text cells are words, and follow the language).
                REQUIRE(ht.rows.size() == en.sections[i].tables[t].rows.size());
                for (size_t k = 0; k < ht.rows.size(); ++k)
                    for (size_t c = 0; c < ht.rows[k].cells.size(); ++c)
                        if (ht.rows[k].cells[c].kind != Cell::Kind::Text)
                            CHECK(cellText(ht.rows[k].cells[c]) == cellText(en.sections[i].tables[t].rows[k].cells[c]));
            }
            CHECK(hi.sections[i].highlights.size() == en.sections[i].highlights.size());
        }
        // Every placeholder of every heading, note and method note was filled, in both languages.
        for (const BaselineReport* r : {&en, &hi}) {
            std::string words = r->title + r->scopeLabel;
            for (const auto& n : r->methodNotes) words += n;
            for (const Section& s : r->sections) {
                words += s.title;
                for (const Table& t : s.tables) {
                    words += t.title + t.note;
                    for (const auto& c : t.columns) words += c;
                }
            }
            CHECK(words.find('{') == std::string::npos);
            CHECK(words.find('}') == std::string::npos);
        }
        CHECK_THAT(en.methodNotes, Catch::VectorContains(std::string(
            "Precision: a figure with a coefficient of variation (standard error / estimate) up to 16.5% is published; from "
            "16.5% to 33.3% it is flagged \"use with caution\"; above 33.3%, or from fewer than 10 observations, it is suppressed.")));
        CHECK(hi.title.find("बेसलाइन") != std::string::npos);
        CHECK(hi.methodNotes.front() == layout.phrase(ck::ReportPhrase::method_weighted, 1));
        CHECK(hi.words.language == "hi");
        CHECK(hi.words.methodNotes == "पद्धति संबंधी टिप्पणियाँ");
        CHECK(en.words.methodNotes == "Method notes");
        // An unknown language falls back to the template's first.
        BaselineReport xx = buildBaselineReport(*b->rollup, b->geo, request(*b, "xx"));
        CHECK(xx.sections[0].title == en.sections[0].title);
        CHECK(xx.words.language == "en");
    }
}

TEST_CASE("the flagship's report speaks every language the template declares", "[report][layout]") {
    // Marathi and Bengali have no built-in report words: the template gives them all, and every
    // heading, note, sentence, method note and figure word of the report comes out in that language.
    const Built& b = flagship();
    const ck::ReportLayout& layout = *b.survey->report.layout;
    const auto& langs = b.survey->languages;
    for (const char* want : {"mr", "bn"}) CHECK(std::find(langs.begin(), langs.end(), want) != langs.end());
    BaselineReport en = buildBaselineReport(*b.rollup, b.geo, request(b, "en"));
    for (size_t l = 1; l < langs.size(); ++l) {
        INFO(langs[l]);
        BaselineReport r = buildBaselineReport(*b.rollup, b.geo, request(b, langs[l]));
        CHECK(r.words.language == langs[l]);
        CHECK(r.title != en.title);
        CHECK(r.words.methodNotes == layout.phrase(ck::ReportPhrase::page_method_notes, l));
        CHECK(r.words.methodNotes != en.words.methodNotes);
        CHECK(r.words.figures.lakh == layout.phrase(ck::ReportPhrase::figure_lakh, l));
        REQUIRE(r.methodNotes.size() == en.methodNotes.size());
        for (size_t k = 0; k < r.methodNotes.size(); ++k) CHECK(r.methodNotes[k] != en.methodNotes[k]);
        REQUIRE(r.sections.size() == en.sections.size());
        std::string words = r.title + r.scopeLabel;
        for (const auto& n : r.methodNotes) words += n;
        for (size_t i = 0; i < r.sections.size(); ++i) {
            INFO(r.sections[i].id);
            CHECK(r.sections[i].title != en.sections[i].title);
            // The same sentences are said (each figure shown in one language is shown in all).
            REQUIRE(r.sections[i].highlights.size() == en.sections[i].highlights.size());
            for (size_t h = 0; h < r.sections[i].highlights.size(); ++h) CHECK(r.sections[i].highlights[h] != en.sections[i].highlights[h]);
            REQUIRE(r.sections[i].tables.size() == en.sections[i].tables.size());
            words += r.sections[i].title;
            for (const auto& h : r.sections[i].highlights) words += h;
            for (size_t t = 0; t < r.sections[i].tables.size(); ++t) {
                const Table& tt = r.sections[i].tables[t];
                CHECK(tt.title != en.sections[i].tables[t].title);
                words += tt.title + tt.note;
                for (const auto& c : tt.columns) words += c;
            }
        }
        // Every placeholder was filled.
        CHECK(words.find('{') == std::string::npos);
        CHECK(words.find('}') == std::string::npos);
    }
}

TEST_CASE("money reads one way: the rupee sign in every sentence, Indian grouping kept", "[report][layout]") {
    for (const Built* b : {&flagship(), &brass()}) {
        for (const char* lang : {"en", "hi"}) {
            BaselineReport r = buildBaselineReport(*b->rollup, b->geo, request(*b, lang, ScopeLevel::Nation));
            std::string s = sentences(r);
            INFO(b->survey->id << " " << lang << "\n" << s);
            CHECK(s.find("INR ") == std::string::npos);
            CHECK(s.find("\u20B9 ") != std::string::npos);
            // lakh and crore are words of the language.
            bool hindi = std::string(lang) == "hi";
            CHECK((s.find(" lakh") != std::string::npos || s.find(" crore") != std::string::npos) == !hindi);
            CHECK((s.find(" लाख") != std::string::npos || s.find(" करोड़") != std::string::npos) == hindi);
            CHECK(r.words.figures.lakh == (hindi ? "लाख" : "lakh"));
        }
    }
    FigureWords hi{"लाख", "करोड़", "से"};
    CHECK(figureText(450000, "INR per worker", hi) == "\u20B9 4.5 लाख per worker");
    Cell c = Cell::ofEstimate(Estimate{}, "%");
    c.estimate.value = 34.5;
    c.estimate.low = 30.1;
    c.estimate.high = 38.0;
    c.estimate.suppression = c.suppression = Suppression::None;
    CHECK(intervalText(c, hi) == "30.1% से 38.0%");
    CHECK(intervalText(c) == "30.1% to 38.0%");
    // The formatter the sentences use is the renderers' one.
    CHECK(figureText(12345678, "INR") == "\u20B9 1.2 crore");
    CHECK(figureText(1234567, "workers") == "12,34,567");
}

TEST_CASE("a sentence whose figure is hidden is not said, the section says why instead", "[report][layout]") {
    // Four visits to one cluster: every estimate is suppressed (fewer than 10 observations).
    const Built& b = brass();
    BaselineRollup few(*b.survey);
    ck::VisitGenerator gen(b.survey, 5);
    IndicatorEvaluator eval(*b.survey);
    for (int k = 0; k < 4; ++k) few.add(b.units[size_t(k)].cluster, eval.evaluate(gen.generate(b.units[size_t(k)], ck::Date{20400}).toRecord()));
    BaselineReport r = buildBaselineReport(few, b.geo, request(b));
    bool seen = false;
    for (const Section& s : r.sections) {
        if (s.id != "exports_jobs") continue;
        seen = true;
        REQUIRE(s.highlights.size() == 1);
        CHECK(s.highlights[0] == "Too few answers to publish export and job figures for this cluster.");
    }
    CHECK(seen);
    std::string all = sentences(r);
    CHECK(all.find('{') == std::string::npos);  // no placeholder is ever left unfilled
    CHECK(all.find("n/a") == std::string::npos);
}

TEST_CASE("a template without a layout still gets a full report", "[report][layout]") {
    // The flagship's layout removed: one section per indicator topic, built-in words.
    std::string text;
    {
        std::ifstream in(std::string(CK_SOURCE_DIR) + "/survey-templates/brassware-diagnostic.json");
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    auto doc = nlohmann::json::parse(text);
    doc["report"].erase("layout");
    auto loaded = ck::loadTemplateDocument(doc, "no-layout.json");
    REQUIRE(loaded.ok());
    BaselineRollup rollup(*loaded.survey);
    ck::VisitGenerator gen(loaded.survey, 9);
    IndicatorEvaluator eval(*loaded.survey);
    for (const auto& u : brass().units) rollup.add(u.cluster, eval.evaluate(gen.generate(u, ck::Date{20400}).toRecord()));
    BaselineReport r = buildBaselineReport(rollup, brass().geo, request(brass()));
    std::vector<std::string> ids;
    for (const Section& s : r.sections) ids.push_back(s.id);
    CHECK(ids == std::vector<std::string>{"glance", "outcomes", "value_chain", "constraints", "convergence", "comparison", "data_quality"});
    CHECK(r.sections[2].title == "3. Value chain");
    REQUIRE(findTable(r, "value_chain_estimates"));
    CHECK(findTable(r, "value_chain_estimates")->rows.size() == 7);
    REQUIRE(findTable(r, "dq_precision"));
    CHECK(findTable(r, "dq_precision")->rows.size() == 3);
}
