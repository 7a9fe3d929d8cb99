// Every text of every chart lies inside its SVG, as Debian's headless Chromium lays it out with
// the real fonts: the flagship's and the brass-ware template's reports in English and Hindi
// (long obstacle and segment names), and a page of hostile labels (a 300-character word,
// long Hindi names, long reasons for missing bars). A small script appended to the page only
// here measures each <text> with getBBox() and writes what it finds into the DOM, which
// --dump-dom prints.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/report/baseline_report.h"
#include "core/report/indicator_evaluator.h"
#include "core/synth/visit_generator.h"
#include "core/template/template_loader.h"
#include "report/html_report.h"
#include "tests/report/sample_report.h"
#include "tests/support/command_run.h"

namespace fs = std::filesystem;
using namespace ck::report;
using ck::test::runCommand;
using ck::test::shellQuote;

namespace {

constexpr const char* kMeasure = R"JS(<script>
(function () {
  var outside = [], texts = 0;
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var vb = svg.viewBox.baseVal;
    svg.querySelectorAll('text').forEach(function (t) {
      var b = t.getBBox();
      texts++;
      if (b.width <= 0) return;
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5)
        outside.push(t.textContent + ' @ ' + b.x.toFixed(1) + ',' + b.y.toFixed(1) + ' ' + b.width.toFixed(1) + 'x' +
                     b.height.toFixed(1) + ' in ' + vb.width + 'x' + vb.height);
    });
  });
  var pre = document.createElement('pre');
  pre.id = 'bbox-check';
  pre.textContent = 'CHARTS ' + document.querySelectorAll('svg.chart').length + ' TEXTS ' + texts + ' OUTSIDE ' + outside.length +
                    '\n' + outside.join('\n') + '\nEND';
  document.body.appendChild(pre);
})();
</script>)JS";

struct Measured {
    size_t charts = 0, texts = 0, outside = 0;
    std::string detail;
};

// Renders `page` with the measuring script in Chromium and reads back what it found.
Measured measure(const std::string& name, std::string page) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_html_report" / ("labels-" + name);
    fs::remove_all(dir);
    fs::create_directories(dir);
    size_t body = page.rfind("</body>");
    REQUIRE(body != std::string::npos);
    page.insert(body, kMeasure);
    fs::path html = dir / "report.html";
    std::ofstream(html, std::ios::binary) << page;
    std::string cmd = "timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage "
                      "--disable-background-networking --disable-component-update --disable-extensions --disable-sync "
                      "--user-data-dir=" + shellQuote((dir / "profile").string()) +
                      " --proxy-server=127.0.0.1:9 --window-size=1240,1754 --dump-dom " + shellQuote("file://" + html.string());
    auto run = runCommand(cmd);
    std::error_code ec;
    fs::remove_all(dir / "profile", ec);
    INFO(run.err);
    REQUIRE(run.status == 0);
    std::smatch m;
    std::regex re("CHARTS (\\d+) TEXTS (\\d+) OUTSIDE (\\d+)\\n([\\s\\S]*?)END");
    REQUIRE(std::regex_search(run.out, m, re));
    return {std::stoul(m[1].str()), std::stoul(m[2].str()), std::stoul(m[3].str()), m[4].str()};
}

BaselineReport realReport(const std::string& file, const std::string& language) {
    auto loaded = ck::loadTemplateJsonFile(std::string(CK_SOURCE_DIR) + "/survey-templates/" + file);
    if (!loaded.ok()) FAIL(loaded.errors.front().toString());
    auto units = ck::syntheticRegister(1, 2, 50, 77);
    std::vector<ck::RegisterUnit> rows;
    for (const auto& u : units) rows.push_back({u.unitId, u.name, u.cluster, u.district, u.state, u.stratum, u.sector});
    Geography geo = Geography::fromRegister(rows);
    BaselineRollup rollup(*loaded.survey);
    ck::VisitGenerator gen(loaded.survey, 78);
    IndicatorEvaluator eval(*loaded.survey);
    int k = 0;
    for (const auto& u : units) rollup.add(u.cluster, eval.evaluate(gen.generate(u, ck::Date{20380 + (k++ % 20)}).toRecord()));
    ReportRequest req;
    req.scope = {ScopeLevel::Cluster, units.front().cluster};
    req.language = language;
    return buildBaselineReport(rollup, geo, req);
}

}  // namespace

TEST_CASE("Chromium: every chart label of the real reports lies inside its SVG, in English and Hindi", "[html][chromium][labels]") {
    REQUIRE(runCommand("command -v chromium").status == 0);
    for (const char* file : {"cluster-diagnostic.json", "brassware-diagnostic.json"})
        for (const char* lang : {"en", "hi"}) {
            BaselineReport r = realReport(file, lang);
            Measured m = measure(std::string(file).substr(0, 5) + "-" + lang, renderHtml(r));
            INFO(file << " " << lang << "\n" << m.detail);
            CHECK(m.charts >= 5);
            CHECK(m.texts > 100);
            CHECK(m.outside == 0);
        }
}

TEST_CASE("Chromium: hostile chart labels wrap instead of running off the chart", "[html][chromium][labels]") {
    REQUIRE(runCommand("command -v chromium").status == 0);
    BaselineReport r = ck::test::sampleReport();
    Estimate e;
    e.value = 42;
    e.se = 2;
    e.low = 38;
    e.high = 46;
    e.cv = 0.05;
    e.observations = 200;
    e.suppression = Suppression::None;
    Estimate hidden = e;
    hidden.suppression = Suppression::TooFewObservations;
    Table bars{"long_labels", "Long labels", "", {"% of units"}, {}, {}};
    bars.rows.push_back({"word", std::string(300, 'W'), {Cell::ofEstimate(e, "%")}, false});
    bars.rows.push_back({"hindi", "वित्त तक पहुँच (उपलब्धता और लागत) एक बड़ी बाधा और कामगारों की कमी और बार-बार काम छोड़ना एक बड़ी बाधा",
                         {Cell::ofEstimate(e, "%")}, false});
    bars.rows.push_back({"money", "Gross value added per worker, estimated for every unit of the cluster in the last year",
                         {Cell::ofEstimate(Estimate{e}, "INR per worker")}, false});
    bars.rows.back().cells[0].estimate.value = 123456789012.0;
    bars.rows.back().cells[0].estimate.high = 123456789012.0 * 1.1;
    bars.rows.back().cells[0].estimate.low = 123456789012.0 * 0.9;
    bars.chart = {ChartSpec::Kind::BarsWithIntervals, {0}, "A long axis label that says what the bars measure, in percent of all units"};
    Table paired{"long_pairs", "Long pairs", "", {"Aware of the scheme and its rules", "Received the benefit in the last three years"}, {}, {}};
    paired.rows.push_back({"p", "प्रधानमंत्री रोज़गार सृजन कार्यक्रम (PMEGP) और सूक्ष्म एवं लघु उद्यम क्लस्टर विकास कार्यक्रम",
                           {Cell::ofEstimate(hidden, "%"), Cell::ofEstimate(hidden, "%")}, false});
    paired.rows.push_back({"q", "Short", {Cell::ofEstimate(e, "%"), Cell::ofEstimate(e, "%")}, false});
    paired.chart = {ChartSpec::Kind::PairedBars, {0, 1}, "% of firms"};
    r.sections[0].tables = {bars, paired};
    Measured m = measure("hostile", renderHtml(r));
    INFO(m.detail);
    CHECK(m.charts >= 2);
    CHECK(m.outside == 0);
}
