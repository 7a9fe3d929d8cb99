#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "core/report/figure_text.h"
#include "report/html_report.h"
#include "tests/report/sample_report.h"

using namespace ck::report;

namespace {

size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
    return n;
}

// The text between the first `open` after `from` and the next `close`.
std::string between(const std::string& s, const std::string& from, const std::string& close) {
    size_t a = s.find(from);
    if (a == std::string::npos) return "";
    size_t b = s.find(close, a);
    return s.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

}  // namespace

TEST_CASE("Indian grouping by hand examples", "[figure_text]") {
    CHECK(groupIndian(0, 0) == "0");
    CHECK(groupIndian(999, 0) == "999");
    CHECK(groupIndian(1000, 0) == "1,000");
    CHECK(groupIndian(123456, 0) == "1,23,456");
    CHECK(groupIndian(1234567, 0) == "12,34,567");
    CHECK(groupIndian(123456789, 0) == "12,34,56,789");
    CHECK(groupIndian(99999.5, 0) == "1,00,000");  // rounds half away from zero, regroups
    CHECK(groupIndian(99999.5, 1) == "99,999.5");
    CHECK(groupIndian(1234.5, 1) == "1,234.5");
    CHECK(groupIndian(-1234567, 0) == "-12,34,567");
    CHECK(groupIndian(-0.04, 1) == "0.0");  // no "-0.0"
    CHECK(groupIndian(1e20, 1) == "10,00,00,00,00,00,00,00,00,000.0");  // no overflow to "inf" when scaling
    CHECK(groupIndian(std::nan(""), 0) == "n/a");
    CHECK(groupIndian(INFINITY, 1) == "n/a");
}

TEST_CASE("Rupees in thousands, lakh and crore", "[figure_text]") {
    CHECK(rupees(0) == "\u20B9 0");
    CHECK(rupees(45000) == "\u20B9 45,000");
    CHECK(rupees(99999) == "\u20B9 99,999");
    CHECK(rupees(99999.6) == "\u20B9 1.0 lakh");  // rounded figure decides the word
    CHECK(rupees(450000) == "\u20B9 4.5 lakh");
    CHECK(rupees(412345) == "\u20B9 4.1 lakh");
    CHECK(rupees(9996000) == "\u20B9 1.0 crore");  // 99.96 lakh would print as 100.0 lakh
    CHECK(rupees(123000000) == "\u20B9 12.3 crore");
    CHECK(rupees(5.4e9) == "\u20B9 540.0 crore");
    CHECK(rupees(1.2345e12) == "\u20B9 1,23,450.0 crore");
    CHECK(rupees(-450000) == "\u20B9 -4.5 lakh");
    CHECK(rupees(std::nan("")) == "n/a");
}

TEST_CASE("Figures in their units, cells, intervals and flags", "[figure_text]") {
    CHECK(figureText(34.5, "%") == "34.5%");
    CHECK(figureText(-2.5, "% per year") == "-2.5% per year");
    CHECK(figureText(412345, "INR per worker") == "\u20B9 4.1 lakh per worker");
    CHECK(figureText(1240, "units") == "1,240");
    CHECK(figureText(12.5, "days") == "12.5 days");
    CHECK(figureText(std::nan(""), "%") == "n/a");

    auto shown = ck::test::sampleEstimate(36.2, 3.4, 188);
    Cell c = Cell::ofEstimate(shown, "%");
    CHECK(cellText(c) == "36.2%");
    CHECK(intervalText(c) == "29.5% to 42.9%");
    CHECK(flagText(shown) == "");

    auto caution = ck::test::sampleEstimate(41.2, 5.1, 180, Precision::Caution);
    CHECK(flagText(caution) == "use with caution");

    auto few = ck::test::sampleEstimate(3.5, 1.3, 7, Precision::Suppress, Suppression::TooFewObservations);
    Cell hidden = Cell::ofEstimate(few, "%");
    CHECK(cellText(hidden) == "suppressed: fewer than 10 firms");
    CHECK(intervalText(hidden) == "");
    CHECK(flagText(few) == "suppressed: fewer than 10 firms");
    CHECK(flagText(ck::test::sampleEstimate(0, 0, 12, Precision::Publish, Suppression::Dominance)).find("dominate") !=
          std::string::npos);
    // Fewer than the project's unit minimum: said as such, with no count that a setting could make wrong.
    CHECK(flagText(ck::test::sampleEstimate(5, 1, 2, Precision::Suppress, Suppression::TooFewUnits)) ==
          "suppressed: too few firms to show without revealing one");

    Cell secondary = Cell::ofNumber(5.4e9, "INR");
    secondary.suppression = Suppression::Secondary;
    CHECK(cellText(secondary).find("suppressed") == 0);
    CHECK(cellText(secondary).find("540") == std::string::npos);  // the figure itself never leaks
    CHECK(cellText(Cell::ofText("n/a")) == "n/a");
    CHECK(cellText(Cell{}) == "");

    // A negative money interval keeps the rupee symbol and drops the "per ..." tail.
    Cell gva = Cell::ofEstimate(ck::test::sampleEstimate(412345.0, 30000.0, 170), "INR per worker");
    CHECK(intervalText(gva) == "\u20B9 3.5 lakh to \u20B9 4.7 lakh");
}

TEST_CASE("HTML report of the sample: self-contained, escaped, every part present", "[html]") {
    const BaselineReport r = ck::test::sampleReport();
    const std::string html = renderHtml(r);

    SECTION("one self-contained page with print CSS") {
        CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
        CHECK(html.find("<meta charset=\"utf-8\">") != std::string::npos);
        CHECK(count(html, "<style>") == 1);
        CHECK(html.find("<script") == std::string::npos);
        CHECK(html.find("http:") == std::string::npos);
        CHECK(html.find("https:") == std::string::npos);
        CHECK(html.find("url(") == std::string::npos);
        CHECK(html.find("@import") == std::string::npos);
        CHECK(html.find("<link") == std::string::npos);
        CHECK(html.find("<img") == std::string::npos);
        CHECK(html.find("@page { size: A4") != std::string::npos);
        CHECK(html.find("break-inside: avoid") != std::string::npos);
        CHECK(html.find("table-header-group") != std::string::npos);
        CHECK(html.find("\"Noto Sans\"") != std::string::npos);
        CHECK(count(html, "<html") == 1);
        CHECK(count(html, "</html>") == 1);
    }
    SECTION("header: title, scope, template, date, banner, counts") {
        CHECK(html.find("<h1>Tiruppur knitwear (tiruppur_knitwear): cluster baseline</h1>") != std::string::npos);
        CHECK(html.find("Cluster tiruppur_knitwear, Tiruppur district, Tamil Nadu") != std::string::npos);
        CHECK(html.find("cluster-diagnostic@2026.1") != std::string::npos);
        CHECK(html.find("2026-11-18 11:06 UTC") != std::string::npos);  // 1795000000
        CHECK(html.find("banner weighted") != std::string::npos);
        CHECK(html.find("Sample only") == std::string::npos);
        CHECK(html.find("<dd>212</dd>") != std::string::npos);
        CHECK(html.find("<dd>188 (88.7% response)</dd>") != std::string::npos);
    }
    SECTION("sections, highlights, tables") {
        for (const Section& s : r.sections) CHECK(html.find("<h2>" + s.title + "</h2>") != std::string::npos);
        CHECK(count(html, "<section class=\"section\"") == r.sections.size());
        CHECK(count(html, "<table>") == 7);
        CHECK(html.find("<li>Women hold 41.2% of full-time jobs.</li>") != std::string::npos);
        CHECK(html.find("Micro (\u0938\u0942\u0915\u094D\u0937\u094D\u092E)") != std::string::npos);  // Devanagari kept as UTF-8
        CHECK(html.find("<th scope=\"col\" class=\"num\">Received</th>") != std::string::npos);
        CHECK(html.find("<tr class=\"total\"><th scope=\"row\">Units interviewed</th><td class=\"num\"><span class=\"v\">188</span></td></tr>") !=
              std::string::npos);
    }
    SECTION("estimate cells: value, interval, caution; hidden cells show their reason only") {
        CHECK(html.find("<span class=\"v\">36.2%</span><span class=\"ci\">95% CI 29.5% to 42.9%</span>") != std::string::npos);
        std::string women = between(html, "Women&#39;s share of full-time jobs", "</tr>");
        CHECK(women.find("41.2%") != std::string::npos);
        CHECK(women.find("<span class=\"flag\">use with caution</span>") != std::string::npos);
        std::string medium = between(html, "<th scope=\"row\">Medium</th>", "</tr>");
        CHECK(medium.find("suppressed: fewer than 10 firms") != std::string::npos);
        CHECK(medium.find("3.5") == std::string::npos);
        std::string gva = between(html, "Gross value added &lt;total&gt;", "</tr>");
        CHECK(gva.find("\u20B9 540.0 crore") != std::string::npos);
        CHECK(gva.find("would reveal a hidden figure") != std::string::npos);
        CHECK(gva.find("<td>n/a</td>") != std::string::npos);
        CHECK(html.find("<span class=\"v\">-2.5% per year</span>") != std::string::npos);
        // No NaN or infinity printed as such ("finance" contains "nan", so look for the forms printf makes).
        for (const char* bad : {">nan", " nan", "-nan", "nan%", ">inf", " inf", "inf%"}) CHECK(html.find(bad) == std::string::npos);
    }
    SECTION("charts as inline SVG: bars, whiskers, paired bars with a legend") {
        CHECK(count(html, "<svg class=\"chart\"") == 3);
        CHECK(html.find("viewBox=\"0 0 720.0 ") != std::string::npos);
        std::string sizes = between(html, "id=\"t-glance_size\"", "</svg>");
        CHECK(count(sizes, "class=\"bar\"") == 2);  // Medium is hidden: no bar
        CHECK(sizes.find("<text class=\"why\"") != std::string::npos);
        CHECK(sizes.find("suppressed: fewer than 10 firms</text>") != std::string::npos);
        CHECK(count(sizes, "class=\"whisker\"") == 0);
        std::string obs = between(html, "id=\"t-constraints_ranked\"", "</svg>");
        CHECK(count(obs, "class=\"bar\"") == 2);
        CHECK(count(obs, "class=\"whisker\"") == 2);  // tax rates is suppressed: no whisker
        CHECK(obs.find("suppressed: too imprecise") != std::string::npos);
        std::string schemes = between(html, "id=\"t-schemes\"", "</svg>");
        CHECK(count(schemes, "class=\"bar\"") == 4);
        CHECK(count(schemes, "class=\"legend\"") == 2);
        CHECK(schemes.find(">Aware</text>") != std::string::npos);
        CHECK(schemes.find(">Received</text>") != std::string::npos);
        CHECK(schemes.find("#1f5f8b") != std::string::npos);
        CHECK(schemes.find("#d08a1c") != std::string::npos);
        CHECK(schemes.find(">% of firms</text>") != std::string::npos);
        // Tables without a chart spec get none.
        CHECK(between(html, "id=\"t-officers\"", "</div>").find("<svg") == std::string::npos);
    }
    SECTION("footer: method notes escaped and the inputs hash") {
        CHECK(html.find("Inputs hash: <code>" + r.inputsHash + "</code>") != std::string::npos);
        CHECK(html.find("&lt;b&gt;ratios&lt;/b&gt; by linearisation &amp; medians by Woodruff&#39;s method") != std::string::npos);
        CHECK(html.find("<b>") == std::string::npos);
        CHECK(html.find("<total>") == std::string::npos);
    }
}

TEST_CASE("HTML report failure paths: nothing to report, sample only, hostile text", "[html]") {
    SECTION("zero sections still make a valid page that says so") {
        BaselineReport r = ck::test::sampleReport();
        r.sections.clear();
        std::string html = renderHtml(r);
        CHECK(html.find("Nothing to report") != std::string::npos);
        CHECK(html.find("<table") == std::string::npos);
        CHECK(html.find("Inputs hash:") != std::string::npos);
        CHECK(count(html, "</html>") == 1);
    }
    SECTION("an empty report (no counts, no hash) renders without dividing by zero") {
        BaselineReport r;
        std::string html = renderHtml(r);
        CHECK(html.find("Nothing to report") != std::string::npos);
        CHECK(html.find("Sample only") != std::string::npos);
        CHECK(html.find("response") == std::string::npos);
        CHECK(html.find("not recorded") != std::string::npos);
        CHECK(html.find("-nan") == std::string::npos);
        CHECK(html.find(" nan") == std::string::npos);
    }
    SECTION("hostile text is escaped everywhere, attributes included") {
        BaselineReport r = ck::test::sampleReport();
        r.weighted = false;
        const std::string evil = "\"><script>alert('x')</script>&";
        r.title = evil;
        r.scopeLabel = evil;
        r.inputsHash = evil;
        r.sections[0].id = evil;
        r.sections[0].highlights.push_back(evil);
        r.sections[0].tables[1].id = evil;
        r.sections[0].tables[1].title = evil;
        r.sections[0].tables[1].columns[0] = evil;
        r.sections[0].tables[1].rows[0].label = evil;
        r.sections[0].tables[1].chart.axisLabel = evil;
        r.sections[3].tables[0].columns[1] = evil;  // a legend entry
        r.sections[4].tables[0].rows[1].cells[2] = Cell::ofText(evil);
        std::string html = renderHtml(r);
        CHECK(html.find("<script") == std::string::npos);
        CHECK(html.find("alert('x')") == std::string::npos);
        CHECK(count(html, "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;") >= 11);
        CHECK(html.find("Sample only") != std::string::npos);
    }
    SECTION("absurd figures (bad input) neither crash nor print NaN into the chart") {
        BaselineReport r = ck::test::sampleReport();
        auto& cells = r.sections[0].tables[1].rows;
        cells[0].cells[0] = Cell::ofNumber(1.7e308, "%");
        cells[1].cells[0] = Cell::ofNumber(-1.7e308, "%");
        Cell nanEstimate = Cell::ofEstimate(ck::test::sampleEstimate(std::nan(""), 1, 50), "%");
        r.sections[2].tables[0].rows[0].cells[0] = nanEstimate;
        std::string html = renderHtml(r);
        for (const char* bad : {"\"nan", "\"-nan", "\"inf", ">nan", "-nan<", ">inf"}) CHECK(html.find(bad) == std::string::npos);
        CHECK(between(html, "id=\"t-constraints_ranked\"", "</div>").find("n/a") != std::string::npos);
        CHECK(count(html, "<table>") == 7);
    }
    SECTION("a chart spec naming a missing column draws no chart and does not crash") {
        BaselineReport r = ck::test::sampleReport();
        r.sections[0].tables[1].chart.valueColumns = {7};
        r.sections[3].tables[0].chart.valueColumns = {0};  // PairedBars needs two
        r.sections[0].tables[1].rows[0].cells.clear();     // a short row is padded
        std::string html = renderHtml(r);
        CHECK(count(html, "<svg class=\"chart\"") == 1);
        CHECK(between(html, "<th scope=\"row\">Micro", "</tr>").find("<td></td>") != std::string::npos);
    }
}
