// XLSForm images: media::image names files kept beside the workbook (`form-media/`, as ODK
// does, or --media DIR); import packs the ones that are there into the template, warns at the
// row of each one that is not, and refuses a broken one at its row.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "core/template/template_media.h"
#include "core/xlsform/xlsform_import.h"
#include "tests/support/test_images.h"
#include "xlsx_fixture.h"

using namespace ck;
using namespace ck::test;
namespace fs = std::filesystem;

namespace {

std::string listed(const std::vector<TemplateError>& list) {
    std::string all;
    for (const auto& e : list) all += e.toString() + "\n";
    return all;
}

// survey rows: 2 a note with an image per language, 3 a select_one, 4 a text with one image;
// choices rows: 2 and 3 with images, 4 without.
std::vector<Sheet> pictureForm(const std::string& formId) {
    return {{"survey",
             {{"type", "name", "label::English (en)", "label::Hindi (hi)", "media::image::English (en)", "media::image::Hindi (hi)"},
              {"note", "welcome", "Welcome", "स्वागत", "welcome-en.png", "welcome-hi.png"},
              {"select_one machine", "machine", "Which machine?", "कौन सी मशीन?", "machine.png", ""},
              {"text", "owner", "Owner", "मालिक", "", ""}}},
            {"choices",
             {{"list_name", "name", "label::English (en)", "label::Hindi (hi)", "image"},
              {"machine", "loom", "Loom", "करघा", "loom.jpg"},
              {"machine", "press", "Press", "प्रेस", "press.png"},
              {"machine", "other", "Other", "अन्य", ""}}},
            {"settings", {{"form_id", "version", "form_title", "default_language"}, {formId, "3", "Machines", "English (en)"}}}};
}

struct Images {
    std::string welcomeEn = solidPng(60, 20, 0xff00ff), welcomeHi = solidPng(60, 20, 0x00ffff),
                machine = solidPng(120, 80, 0x2060c0), loom = solidJpeg(32, 32, 0x10a010), press = solidPng(16, 16, 0);
    void writeTo(const fs::path& folder, bool withPress = true) const {
        writeFileIn(folder / "welcome-en.png", welcomeEn);
        writeFileIn(folder / "welcome-hi.png", welcomeHi);
        writeFileIn(folder / "machine.png", machine);
        writeFileIn(folder / "loom.jpg", loom);
        if (withPress) writeFileIn(folder / "press.png", press);
    }
};

}  // namespace

TEST_CASE("XLSForm images in form-media/ beside the workbook are packed into the template", "[core][xlsform][media]") {
    fs::path xlsx = writeXlsx("machines.xlsx", pictureForm("machines"));
    Images images;
    fs::remove_all(scratchDir() / "machines-media");
    images.writeTo(scratchDir() / "machines-media");

    TemplateLoadResult r = loadTemplateFile(xlsx);
    INFO(listed(r.errors) << listed(r.warnings));
    REQUIRE(r.ok());
    CHECK(r.warnings.empty());
    const Template& t = *r.survey;
    REQUIRE(t.media.size() == 5);
    CHECK(t.media.at("welcome-en.png") == images.welcomeEn);
    CHECK(t.media.at("welcome-hi.png") == images.welcomeHi);
    CHECK(t.media.at("loom.jpg") == images.loom);
    // Per language: the Hindi column's file in Hindi; a Hindi cell left empty shows the English one.
    CHECK(t.find("welcome")->image.in(size_t(t.languageIndex("hi"))) == "welcome-hi.png");
    CHECK(t.find("machine")->image.in(size_t(t.languageIndex("hi"))) == "machine.png");

    // The package to publish is JSON carrying the images; loaded on its own it is the same.
    TemplatePackage package = packTemplateFile(xlsx);
    REQUIRE(package.ok());
    CHECK(package.mediaFiles == 5);
    TemplateLoadResult again = loadTemplateJson(package.jsonText, "machines.json", TemplateLoadOptions{false, true});
    INFO(listed(again.errors));
    REQUIRE(again.ok());
    CHECK(again.survey->media == t.media);
}

TEST_CASE("XLSForm images: a missing file is a warning at its row, --strict makes it an error", "[core][xlsform][media]") {
    fs::path xlsx = writeXlsx("machines-missing.xlsx", pictureForm("machines_missing"));
    fs::remove_all(scratchDir() / "machines-missing-media");
    Images().writeTo(scratchDir() / "machines-missing-media", /*withPress=*/false);

    TemplateLoadResult r = loadTemplateFile(xlsx);
    INFO(listed(r.errors) << listed(r.warnings));
    REQUIRE(r.ok());
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].where == "choice list 'machine', choice 'press' (choices row 3)");
    CHECK_THAT(r.warnings[0].message, Catch::Contains("'press.png' is not in the form's media folder"));
    CHECK(r.survey->media.size() == 4);
    CHECK(r.survey->media.count("press.png") == 0);

    TemplateLoadResult strict = loadTemplateFile(xlsx, TemplateLoadOptions{true});
    CHECK_FALSE(strict.ok());
    CHECK_THAT(listed(strict.errors), Catch::Contains("(choices row 3)"));

    // No folder at all: each row naming an image says so; the form loads.
    fs::path bare = writeXlsx("machines-bare.xlsx", pictureForm("machines_bare"));
    TemplateLoadResult none = loadTemplateFile(bare);
    REQUIRE(none.ok());
    CHECK(none.warnings.size() == 5);
    CHECK_THAT(listed(none.warnings), Catch::Contains("question 'welcome' (survey row 2), image (hi): 'welcome-hi.png' is not shown: "
                                                      "there is no media folder"));
    CHECK(none.survey->media.empty());
}

TEST_CASE("XLSForm images: a corrupt PNG is refused naming its row, and --media names another folder", "[core][xlsform][media]") {
    fs::path xlsx = writeXlsx("machines-broken.xlsx", pictureForm("machines_broken"));
    fs::path folder = scratchDir() / "machines-broken-media";
    fs::remove_all(folder);
    Images images;
    images.writeTo(folder);
    // The machine photo cut in half, as a failed copy leaves it; the header is intact.
    std::string cut = noisePng(80, 80, 5);
    writeFileIn(folder / "machine.png", cut.substr(0, cut.size() / 2));

    TemplateLoadResult r = loadTemplateFile(xlsx);
    CHECK_FALSE(r.ok());
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].where == "question 'machine' (survey row 3)");
    CHECK_THAT(r.errors[0].message, Catch::Contains("'machine.png' does not decode"));

    // A file that is no picture at all under a picture's name.
    writeFileIn(folder / "machine.png", "%PDF-1.4 a scanned sheet");
    TemplateLoadResult pdf = loadTemplateFile(xlsx);
    REQUIRE_FALSE(pdf.ok());
    REQUIRE(pdf.errors.size() == 1);
    CHECK(pdf.errors[0].where == "question 'machine' (survey row 3)");
    CHECK(pdf.errors[0].key == "image (en)");
    CHECK_THAT(pdf.errors[0].message, Catch::Contains("'machine.png' is not a PNG or JPEG image"));

    // --media: the author's own folder is used instead of the one beside the workbook.
    fs::path elsewhere = scratchDir() / "pictures-elsewhere";
    fs::remove_all(elsewhere);
    images.writeTo(elsewhere);
    TemplateLoadOptions options;
    options.mediaFolder = elsewhere;
    TemplateLoadResult fine = loadTemplateFile(xlsx, options);
    INFO(listed(fine.errors) << listed(fine.warnings));
    REQUIRE(fine.ok());
    CHECK(fine.warnings.empty());
    CHECK(fine.survey->media.at("machine.png") == images.machine);
}
