#include <catch2/catch.hpp>

// The HTML report opened by a real browser: Debian's headless Chromium, with no network (its
// proxy is a closed loopback port), renders the sample report to a screenshot, a DOM and a
// PDF. The screenshot is kept under CK_BINARY_DIR/test-artifacts/report.png for people to look at.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "report/html_report.h"
#include "tests/report/sample_report.h"
#include "tests/support/command_run.h"

namespace fs = std::filesystem;
using ck::test::runCommand;
using ck::test::shellQuote;

namespace {

std::string readFile(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

size_t count(const std::string& hay, const std::string& needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
    return n;
}

// A fresh scratch folder per test case with the report written to it; the page and its
// renderings stay for a person to look at, the browser profile goes.
struct Scratch {
    fs::path dir;
    fs::path html;
    explicit Scratch(const std::string& name, const std::string& page) {
        dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_html_report" / name;
        fs::remove_all(dir);
        fs::create_directories(dir);
        html = dir / "report.html";
        std::ofstream(html, std::ios::binary) << page;
    }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir / "profile", ec);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
};

bool haveChromium() { return runCommand("command -v chromium").status == 0; }

// Headless, no GPU, no sandbox (the test may run as root), a profile of its own, and a proxy
// on a closed port so nothing can be fetched. Bounded by `timeout` so a hung browser fails the
// test instead of hanging it.
ck::test::CommandRun chromium(const Scratch& s, const std::string& action) {
    std::string cmd = "timeout -k 5 60 chromium --headless --no-sandbox --disable-gpu --no-first-run "
                      "--disable-dev-shm-usage --disable-background-networking --disable-component-update "
                      "--disable-extensions --disable-sync --user-data-dir=" + shellQuote((s.dir / "profile").string()) +
                      " --proxy-server=127.0.0.1:9 --window-size=1240,1754 " + action + " " +
                      shellQuote("file://" + s.html.string());
    return runCommand(cmd);
}

struct Picture {
    size_t width = 0, height = 0;
    std::vector<unsigned char> rgb;
};

// ImageMagick turns the PNG into binary PPM (P6), which is simple to read here.
Picture decodePng(const fs::path& png) {
    auto run = runCommand("convert " + shellQuote(png.string()) + " -strip -depth 8 ppm:-");
    INFO(run.err);
    REQUIRE(run.status == 0);
    std::istringstream in(run.out);
    std::string magic;
    size_t maxval = 0;
    Picture p;
    in >> magic >> p.width >> p.height >> maxval;
    REQUIRE(magic == "P6");
    REQUIRE(maxval == 255);
    in.get();  // the single whitespace after the header
    size_t offset = size_t(in.tellg());
    REQUIRE(run.out.size() >= offset + p.width * p.height * 3);
    p.rgb.assign(run.out.begin() + long(offset), run.out.begin() + long(offset + p.width * p.height * 3));
    return p;
}

// Pixels within a small tolerance of a colour (anti-aliasing leaves only the edges off).
size_t pixelsNear(const Picture& p, int r, int g, int b) {
    size_t n = 0;
    for (size_t i = 0; i + 2 < p.rgb.size(); i += 3)
        if (std::abs(p.rgb[i] - r) <= 6 && std::abs(p.rgb[i + 1] - g) <= 6 && std::abs(p.rgb[i + 2] - b) <= 6) ++n;
    return n;
}

}  // namespace

TEST_CASE("Chromium renders the HTML report to a screenshot that is not blank", "[html][chromium]") {
    REQUIRE(haveChromium());
    Scratch s("screenshot", ck::report::renderHtml(ck::test::sampleReport()));
    fs::path png = s.dir / "report.png";
    auto run = chromium(s, "--screenshot=" + shellQuote(png.string()));
    INFO(run.all());
    REQUIRE(run.status == 0);
    REQUIRE(fs::exists(png));
    REQUIRE(fs::file_size(png) > 10000);

    fs::path artefact = fs::path(CK_BINARY_DIR) / "test-artifacts" / "report.png";
    fs::create_directories(artefact.parent_path());
    fs::copy_file(png, artefact, fs::copy_options::overwrite_existing);
    std::printf("HTML report screenshot: %s\n", artefact.string().c_str());

    Picture pic = decodePng(png);
    CHECK(pic.width == 1240);
    CHECK(pic.height == 1754);
    std::vector<unsigned char> seen(size_t(1) << 24);  // one byte per 24-bit colour: fast even in a debug build
    size_t colours = 0, inked = 0;
    for (size_t i = 0; i + 2 < pic.rgb.size(); i += 3) {
        size_t rgb = size_t(pic.rgb[i]) << 16 | size_t(pic.rgb[i + 1]) << 8 | pic.rgb[i + 2];
        if (!seen[rgb]) { seen[rgb] = 1; ++colours; }
        if (pic.rgb[i] < 240 || pic.rgb[i + 1] < 240 || pic.rgb[i + 2] < 240) ++inked;
    }
    double inkShare = double(inked) / double(pic.width * pic.height);
    INFO("distinct colours " << colours << ", non-white share " << inkShare);
    CHECK(colours > 100);  // text anti-aliasing alone gives hundreds; a blank page gives 1
    CHECK(inkShare > 0.02);
    CHECK(inkShare < 0.6);  // a page, not a black or error screen
    // The first section's bar chart is in view: its bars are the primary series colour.
    CHECK(pixelsNear(pic, 0x1f, 0x5f, 0x8b) > 500);
}

TEST_CASE("Chromium's DOM of the HTML report has its tables, charts and sections", "[html][chromium]") {
    REQUIRE(haveChromium());
    auto report = ck::test::sampleReport();
    Scratch s("dom", ck::report::renderHtml(report));
    auto run = chromium(s, "--dump-dom");
    INFO(run.err);
    REQUIRE(run.status == 0);
    const std::string& dom = run.out;
    CHECK(count(dom, "<table") == 7);
    CHECK(count(dom, "<svg") == 3);
    CHECK(count(dom, "class=\"bar\"") == 8);
    CHECK(count(dom, "<section") == report.sections.size());
    for (const auto& section : report.sections) CHECK(dom.find(section.title) != std::string::npos);
    CHECK(dom.find("Inputs hash:") != std::string::npos);
    // The fixture's "<b>" and "<total>" stayed text: the browser made no element of them.
    CHECK(dom.find("<b>") == std::string::npos);
    CHECK(dom.find("&lt;b&gt;ratios&lt;/b&gt;") != std::string::npos);
    CHECK(dom.find("Gross value added &lt;total&gt;") != std::string::npos);
}

TEST_CASE("Chromium prints the HTML report to a PDF of several A4 pages", "[html][chromium]") {
    REQUIRE(haveChromium());
    Scratch s("pdf", ck::report::renderHtml(ck::test::sampleReport()));
    fs::path pdf = s.dir / "report.pdf";
    auto run = chromium(s, "--no-pdf-header-footer --print-to-pdf=" + shellQuote(pdf.string()));
    INFO(run.all());
    REQUIRE(run.status == 0);
    REQUIRE(fs::exists(pdf));
    std::string bytes = readFile(pdf);
    REQUIRE(bytes.rfind("%PDF-", 0) == 0);
    // "/Type /Page" also prefixes "/Type /Pages" (the page tree): count only leaf pages.
    size_t pages = count(bytes, "/Type /Page") - count(bytes, "/Type /Pages");
    INFO("pages: " << pages);
    CHECK(pages > 1);
    CHECK(pages >= 6);  // one section per page at least (page breaks between sections)
    // A4 is 595 x 842 points.
    CHECK((bytes.find("/MediaBox [0 0 595") != std::string::npos || bytes.find("/MediaBox [0 0 594") != std::string::npos));
}

TEST_CASE("Chromium draws the paired bars in both colours", "[html][chromium]") {
    REQUIRE(haveChromium());
    // Only the convergence section, so its PairedBars chart is in the first screenful.
    auto report = ck::test::sampleReport();
    report.sections = {report.sections[3]};
    REQUIRE(report.sections[0].tables[0].chart.kind == ck::report::ChartSpec::Kind::PairedBars);
    Scratch s("paired", ck::report::renderHtml(report));
    fs::path png = s.dir / "paired.png";
    auto run = chromium(s, "--screenshot=" + shellQuote(png.string()));
    INFO(run.all());
    REQUIRE(run.status == 0);
    Picture pic = decodePng(png);
    CHECK(pixelsNear(pic, 0x1f, 0x5f, 0x8b) > 500);  // "Aware"
    CHECK(pixelsNear(pic, 0xd0, 0x8a, 0x1c) > 300);  // "Received"
}

TEST_CASE("Chromium renders hostile text as text", "[html][chromium]") {
    REQUIRE(haveChromium());
    auto report = ck::test::sampleReport();
    report.sections.resize(1);
    report.sections[0].tables.clear();
    report.sections[0].title = "<img src=x onerror=alert(1)>";
    report.title = "</title><script>document.title='owned'</script>";
    Scratch hostile("hostile", ck::report::renderHtml(report));
    auto run = chromium(hostile, "--dump-dom");
    INFO(run.err);
    REQUIRE(run.status == 0);
    CHECK(run.out.find("<script") == std::string::npos);
    CHECK(run.out.find("<img") == std::string::npos);
    CHECK(run.out.find("owned") != std::string::npos);           // shown as text ...
    CHECK(run.out.find("&lt;script&gt;") != std::string::npos);  // ... escaped
    CHECK(run.out.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
}

TEST_CASE("Chromium renders a report with no sections as a page saying so", "[html][chromium]") {
    REQUIRE(haveChromium());
    auto empty = ck::test::sampleReport();
    empty.sections.clear();
    Scratch nothing("empty", ck::report::renderHtml(empty));
    auto run = chromium(nothing, "--dump-dom");
    INFO(run.err);
    REQUIRE(run.status == 0);
    CHECK(run.out.find("Nothing to report") != std::string::npos);
    CHECK(run.out.find("<table") == std::string::npos);
    CHECK(run.out.find("Inputs hash:") != std::string::npos);
}
