// ck-survey run as a survey author runs it: real files, real exit codes, real output.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/template/template_media.h"
#include "tests/support/command_run.h"
#include "tests/support/test_images.h"

namespace fs = std::filesystem;

namespace {

struct Run {
    int status = -1;
    std::string out;  // stdout, then stderr
};

Run run(const std::string& args) {
    auto c = ck::test::runCommand(std::string(CK_SURVEY_BIN) + " " + args);
    return {c.status, c.all()};
}

const std::string kFlagship = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";
const std::string kAnswers = std::string(CK_TEST_DATA_DIR) + "/answers/";

fs::path scratch(const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "ck-survey";
    fs::create_directories(dir);
    return dir / name;
}

}  // namespace

TEST_CASE("check: the flagship template is sound", "[tools]") {
    Run r = run("check " + kFlagship);
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("is sound") && Catch::Contains("languages: en, hi, ta, gu, mr, bn"));
}

TEST_CASE("check: a broken template prints every error and fails", "[tools]") {
    fs::path bad = scratch("broken.json");
    std::ofstream(bad) << R"({"id": "b", "version": "1", "languages": ["en"], "title": "B",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "a", "type": "integer", "label": "A", "relevant": "${nope} > 1"},
        {"id": "b", "type": "calculate", "calculation": "${a} +"}]}]})";
    Run r = run("check " + bad.string());
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK_THAT(r.out, Catch::Contains("question 'a', relevant") && Catch::Contains("nope") &&
                          Catch::Contains("question 'b', calculation") && Catch::Contains("2 errors"));
}

TEST_CASE("check: unreadable and malformed files", "[tools]") {
    Run missing = run("check /nonexistent/x.json");
    CHECK(missing.status == 2);  // an I/O error, as documented, not a faulty template
    CHECK_THAT(missing.out, Catch::Contains("/nonexistent/x.json: no such file"));
    CHECK(run("check /nonexistent/form.xlsx").status == 2);
    CHECK(run("fill /nonexistent/form.xlsx answers.json").status == 2);
    fs::path bad = scratch("not-json.json");
    std::ofstream(bad) << "{ this is not json";
    Run r = run("check " + bad.string());
    CHECK(r.status == 1);
    CHECK_THAT(r.out, Catch::Contains("line 1"));
    CHECK(run("").status == 2);
    CHECK(run("frobnicate x").status == 2);
}

TEST_CASE("fill: a complete knitwear visit prints its record", "[tools]") {
    fs::path bin = scratch("knitwear.bin");
    Run r = run("fill " + kFlagship + " " + kAnswers + "knitwear-complete.json --today 2026-11-23 --binary " + bin.string());
    INFO(r.out);
    REQUIRE(r.status == 0);
    auto start = r.out.find('{');
    auto end = r.out.rfind('}');
    REQUIRE(start != std::string::npos);
    auto record = nlohmann::json::parse(r.out.substr(start, end - start + 1));
    CHECK(record["template_id"] == "cluster-diagnostic");
    CHECK(record["answers"]["consent"] == "yes");
    CHECK(record["answers"].contains("size_class"));
    CHECK(fs::file_size(bin) > 100);
}

TEST_CASE("fill: a refused consent is a short, valid visit", "[tools]") {
    Run r = run("fill " + kFlagship + " " + kAnswers + "consent-refused.json --today 2026-11-23");
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("\"consent\": \"no\""));
}

TEST_CASE("fill: an invalid visit lists every expected problem, in Hindi too", "[tools]") {
    Run r = run("fill " + kFlagship + " " + kAnswers + "invalid.json --today 2026-11-23");
    INFO(r.out);
    CHECK(r.status == 1);
    std::ifstream expected(kAnswers + "invalid.expected.txt");
    std::string id;
    int count = 0;
    while (expected >> id) {
        CHECK_THAT(r.out, Catch::Contains(id));
        ++count;
    }
    CHECK(count >= 3);
    CHECK_THAT(r.out, Catch::Contains("cannot be finalised"));
    Run hi = run("fill " + kFlagship + " " + kAnswers + "invalid.json --today 2026-11-23 --language hi");
    CHECK(hi.status == 1);
    // The same problems, with labels and messages in Devanagari.
    CHECK(hi.out != r.out);
    CHECK_THAT(hi.out, Catch::Contains("\xE0\xA4"));
    CHECK(run("fill " + kFlagship + " " + kAnswers + "invalid.json --language xx").status == 2);
}

TEST_CASE("fill: answers to questions that are not relevant are named and left out", "[tools]") {
    // The refused-consent visit, plus a Udyam number that consent 'no' makes irrelevant.
    std::ifstream in(kAnswers + "consent-refused.json");
    auto answers = nlohmann::json::parse(in);
    answers["udyam_number"] = "UDYAM-TN-01-7654321";
    fs::path file = scratch("extra.json");
    std::ofstream(file) << answers.dump();
    Run r = run("fill " + kFlagship + " " + file.string() + " --today 2026-11-23");
    INFO(r.out);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("'udyam_number' is answered but not relevant"));
    CHECK_THAT(r.out, !Catch::Contains("UDYAM-TN-01-7654321"));
}

TEST_CASE("fill: a rejected answer is reported once, not again as missing", "[tools]") {
    fs::path answers = scratch("rejected.json");
    std::ofstream(answers) << R"({"visit_date": "2026-11-20", "consent": "maybe"})";
    Run r = run("fill " + kFlagship + " " + answers.string() + " --today 2026-11-23");
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK_THAT(r.out, Catch::Contains("'maybe' is not a choice of 'consent'"));
    CHECK_THAT(r.out, !Catch::Contains("consent ("));
}

TEST_CASE("check: an XLSForm workbook, and a broken one", "[tools]") {
    const std::string sample = std::string(CK_TEST_DATA_DIR) + "/xlsform/sample-bilingual.xlsx";
    Run r = run("check " + sample);
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("is sound") && Catch::Contains("hi"));

    // The same workbook cut in half is no longer a zip archive.
    std::ifstream in(sample, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE(bytes.size() > 1000);
    fs::path cut = scratch("cut.xlsx");
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    Run bad = run("check " + cut.string());
    INFO(bad.out);
    CHECK(bad.status == 1);
    CHECK_THAT(bad.out, Catch::Contains("cut.xlsx"));
}

TEST_CASE("check: .xls, .xlsm and upper-case names go to the workbook reader, never the JSON parser", "[tools]") {
    const std::string xls = std::string(CK_TEST_DATA_DIR) + "/xlsform/legacy-shop-visit.xls";
    Run r = run("check " + xls);
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("template 'shop_visit_xls' version 2024031501 is sound (with 5 warnings"));
    // Warnings come under their own heading, each with its sheet and row.
    CHECK_THAT(r.out, Catch::Contains("5 warnings (ignored or filled in") &&
                          Catch::Contains("warning: " + xls + ": survey row 2, type: metadata 'start' is skipped") &&
                          Catch::Contains("warning: " + xls + ": settings row 2, style: setting 'style'"));
    CHECK(r.out.find("error:") == std::string::npos);

    const std::string sample = std::string(CK_TEST_DATA_DIR) + "/xlsform/sample-bilingual.xlsx";
    for (const char* name : {"UPPER.XLSX", "macro.xlsm", "Mixed.Xls"}) {
        fs::path copy = scratch(name);
        fs::copy_file(std::string(name) == std::string("Mixed.Xls") ? xls : sample, copy, fs::copy_options::overwrite_existing);
        Run c = run("check " + copy.string());
        INFO(name << "\n" << c.out);
        CHECK(c.status == 0);
        CHECK_THAT(c.out, Catch::Contains("is sound"));
    }

    // Not a workbook at all, but named like one: the workbook reader says so.
    fs::path fake = scratch("gps.xls");
    std::ofstream(fake, std::ios::binary) << std::string("\x01\x02\xff\xfe not a workbook", 19);
    Run bad = run("check " + fake.string());
    INFO(bad.out);
    CHECK(bad.status == 1);
    CHECK(bad.out.find("JSON") == std::string::npos);
    CHECK_THAT(bad.out, Catch::Contains("gps.xls: workbook: the file is not a valid .xlsx (zip) file"));
}

TEST_CASE("check --strict: every warning is an error", "[tools]") {
    const std::string xls = std::string(CK_TEST_DATA_DIR) + "/xlsform/legacy-shop-visit.xls";
    Run r = run("check --strict " + xls);
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK_THAT(r.out, Catch::Contains("5 errors:") && Catch::Contains("error: " + xls + ": survey row 2, type: metadata 'start'") &&
                          Catch::Contains("hint: missing in language 'hi'") && Catch::Contains("the template was not loaded"));
    // A template complete by ClusterKit's standard passes strict checking too.
    Run flagship = run("check " + kFlagship + " --strict");
    INFO(flagship.out);
    CHECK(flagship.status == 0);
}

TEST_CASE("check and pack: the images a template names, from NAME-media/ or --media DIR", "[tools][media]") {
    fs::path dir = scratch("media-json");
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::path form = dir / "signs.json";
    std::ofstream(form) << R"({"id": "signs", "version": "1", "languages": ["en"], "title": "Signs",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "front", "type": "note", "label": "Front", "image": "front.png"},
        {"id": "back", "type": "note", "label": "Back", "image": "back.jpg"}]}]})";
    const std::string front = ck::test::solidPng(30, 20, 0xff00ff), back = ck::test::solidJpeg(20, 20, 0x00ff00);

    // No folder: the form is sound, each image a warning naming its question.
    Run none = run("check " + form.string());
    INFO(none.out);
    CHECK(none.status == 0);
    CHECK_THAT(none.out, Catch::Contains("2 warnings") && Catch::Contains("question 'front', image: 'front.png' is not shown"));
    CHECK(run("check --strict " + form.string()).status == 1);

    ck::test::writeFileIn(dir / "signs-media" / "front.png", front);
    ck::test::writeFileIn(dir / "signs-media" / "back.jpg", back);
    Run ok = run("check " + form.string());
    INFO(ok.out);
    CHECK(ok.status == 0);
    CHECK_THAT(ok.out, Catch::Contains("is sound") && Catch::Contains("images: 2"));
    CHECK(ok.out.find("warning") == std::string::npos);

    // pack writes the JSON to publish, carrying the images byte for byte.
    fs::path packed = dir / "out" / "signs.json";
    fs::create_directories(packed.parent_path());
    Run p = run("pack " + form.string() + " --out " + packed.string());
    INFO(p.out);
    REQUIRE(p.status == 0);
    CHECK_THAT(p.out, Catch::Contains("2 images packed"));
    std::ifstream in(packed);
    auto doc = nlohmann::json::parse(in);
    std::string bytes;
    REQUIRE(ck::base64Decode(doc["media"]["front.png"].get<std::string>(), bytes));
    CHECK(bytes == front);
    REQUIRE(ck::base64Decode(doc["media"]["back.jpg"].get<std::string>(), bytes));
    CHECK(bytes == back);
    // The packed file checks on its own, with no folder beside it.
    Run again = run("check " + packed.string());
    INFO(again.out);
    CHECK(again.status == 0);
    CHECK_THAT(again.out, Catch::Contains("images: 2"));

    // A broken file is an error at its question, and nothing is written.
    ck::test::writeFileIn(dir / "signs-media" / "front.png", front.substr(0, 45));
    Run broken = run("pack " + form.string() + " --out " + (dir / "never.json").string());
    INFO(broken.out);
    CHECK(broken.status == 1);
    CHECK_THAT(broken.out, Catch::Contains("question 'front', image: 'front.png'"));
    CHECK_FALSE(fs::exists(dir / "never.json"));

    // --media names another folder; one that is not there is a usage error.
    ck::test::writeFileIn(dir / "elsewhere" / "front.png", front);
    ck::test::writeFileIn(dir / "elsewhere" / "back.jpg", back);
    Run other = run("check --media " + (dir / "elsewhere").string() + " " + form.string());
    INFO(other.out);
    CHECK(other.status == 0);
    CHECK_THAT(other.out, Catch::Contains("images: 2"));
    Run missing = run("check " + form.string() + " --media " + (dir / "nowhere").string());
    CHECK(missing.status == 2);
    CHECK_THAT(missing.out, Catch::Contains("no such folder"));
}

TEST_CASE("translations: the shipped templates and the app's word tables pass, glossary notes only warn", "[tools][translations]") {
    const std::string src = CK_SOURCE_DIR;
    Run r = run("translations --glossary " + src + "/survey-templates/glossary " + kFlagship + " " + src +
                "/survey-templates/brassware-diagnostic.json " + src + "/assets/text");
    INFO(r.out);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("cluster-diagnostic.json: ") && Catch::Contains("texts in en, hi: translations complete"));
    CHECK_THAT(r.out, Catch::Contains("/assets/text: ") && Catch::Contains("in en, bn, gu, hi, mr, ta: translations complete"));
    // The Hindi glossary is applied: notes are printed as warnings and fail nothing.
    CHECK_THAT(r.out, Catch::Contains("glossary note") && Catch::Contains("warning: "));
    CHECK_THAT(r.out, !Catch::Contains("error: "));
}

TEST_CASE("translations: a missing language, a dropped placeholder and Latin in Tamil fail with clear messages", "[tools][translations]") {
    fs::path dir = scratch("translations-broken");
    fs::remove_all(dir);
    fs::create_directories(dir / "glossary");
    std::ofstream(dir / "glossary" / "latin-allowed.json") << R"(["GST"])";
    std::ofstream(dir / "glossary" / "ta.json") << R"({"worker": "தொழிலாளர்"})";
    fs::path bad = dir / "broken.json";
    std::ofstream(bad) << R"j({"id": "b", "version": "1", "languages": ["en", "hi", "ta"],
      "title": {"en": "B", "hi": "बी", "ta": "பி"},
      "sections": [{"id": "s", "label": {"en": "Workers", "hi": "कामगार", "ta": "பணியாளர்கள்"}, "questions": [
        {"id": "workers", "type": "integer", "label": {"en": "Workers in ${unit_name}", "hi": "इकाई के कामगार", "ta": "${unit_name} இல் தொழிலாளர்கள்"}},
        {"id": "unit_name", "type": "text", "label": {"en": "Unit name", "hi": "इकाई का नाम"}},
        {"id": "gst", "type": "text", "label": {"en": "GST number", "hi": "GST नंबर", "ta": "GST number"}}]}]})j";
    Run r = run("translations " + bad.string());
    INFO(r.out);
    CHECK(r.status == 1);
    CHECK_THAT(r.out, Catch::Contains("3 translation problems:"));
    CHECK_THAT(r.out, Catch::Contains("error: sections > s: questions > unit_name: label [ta]: no text in this language (en: \"Unit name\")"));
    CHECK_THAT(r.out, Catch::Contains("error: sections > s: questions > workers: label [hi]: placeholders differ from en: missing ${unit_name}"));
    CHECK_THAT(r.out, Catch::Contains("error: sections > s: questions > gst: label [ta]: Latin letters left in the text (number)"));
    CHECK_THAT(r.out, Catch::Contains("3 translation errors"));
    // The Tamil glossary is found beside the template; its note is a warning, not an error.
    CHECK_THAT(r.out, Catch::Contains("1 glossary note") && Catch::Contains("\"worker\" is \"தொழிலாளர்\" in the glossary"));

    // check: the same problems are warnings, and errors with --strict.
    Run check = run("check " + bad.string());
    INFO(check.out);
    CHECK(check.status == 0);
    CHECK_THAT(check.out, Catch::Contains("(warnings; `check --strict` makes them errors)") &&
                              Catch::Contains("warning: sections > s: questions > gst: label [ta]"));
    Run strict = run("check --strict " + bad.string());
    CHECK(strict.status == 1);
    CHECK_THAT(strict.out, Catch::Contains("error: sections > s: questions > gst: label [ta]"));

    // A word-table folder: a key missing in one language.
    fs::path tables = dir / "text";
    fs::create_directories(tables);
    std::ofstream(tables / "en.json") << R"({"language": "en", "app": {"Next": "Next >", "Sent": "{n} sent"}})";
    std::ofstream(tables / "ta.json") << R"({"language": "ta", "app": {"Next": "அடுத்து >"}})";
    Run t = run("translations --glossary " + (dir / "glossary").string() + " " + tables.string());
    INFO(t.out);
    CHECK(t.status == 1);
    CHECK_THAT(t.out, Catch::Contains("error: app: Sent [ta]: no text in this language (en: \"{n} sent\")"));
    CHECK(run("translations").status == 2);
    CHECK(run("translations " + (dir / "nosuch.json").string()).status == 2);
}
