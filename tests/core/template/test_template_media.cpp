// Template images (media::image): the checks on the bytes a template carries, base64, the
// decoder, and packing a folder of images into a JSON template.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/template/template_loader.h"
#include "core/template/template_media.h"
#include "tests/support/test_images.h"

using namespace ck;
using namespace ck::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
    fs::path d = fs::path(CK_BINARY_DIR) / "test-scratch" / ("media-" + std::to_string(::getpid())) / name;
    fs::remove_all(d);
    fs::create_directories(d);
    return d;
}

// Two languages; a question with one image for both, a question with one per language, a
// choice with an image.
json pictureTemplate() {
    return json::parse(R"({"id": "pics", "version": "1", "languages": ["en", "hi"],
      "title": {"en": "Pictures", "hi": "चित्र"},
      "choices": {"kind": [{"name": "loom", "label": {"en": "Loom", "hi": "करघा"}, "image": "loom.jpg"},
                           {"name": "other", "label": {"en": "Other", "hi": "अन्य"}}]},
      "sections": [{"id": "s", "label": {"en": "S", "hi": "S"}, "questions": [
        {"id": "machine", "type": "select_one", "choices": "kind", "label": {"en": "Which machine?", "hi": "कौन सी मशीन?"},
         "image": "machine.png"},
        {"id": "sign", "type": "note", "label": {"en": "The sign", "hi": "बोर्ड"},
         "image": {"en": "sign-en.png", "hi": "sign-hi.png"}}]}]})");
}

std::string errorsOf(const std::vector<TemplateError>& list) {
    std::string all;
    for (const auto& e : list) all += e.toString() + "\n";
    return all;
}

}  // namespace

TEST_CASE("base64 round-trips every byte value and refuses what is not base64", "[core][template][media]") {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes += char(i);
    for (size_t n : {size_t(0), size_t(1), size_t(2), size_t(3), size_t(100), size_t(256)}) {
        std::string back;
        REQUIRE(base64Decode(base64Encode(bytes.substr(0, n)), back));
        CHECK(back == bytes.substr(0, n));
    }
    CHECK(base64Encode("Man") == "TWFu");
    CHECK(base64Encode("Ma") == "TWE=");
    std::string out;
    CHECK_FALSE(base64Decode("TWF", out));     // not a multiple of 4
    CHECK_FALSE(base64Decode("TW=u", out));    // a value after padding
    CHECK_FALSE(base64Decode("TWE=TWFu", out));  // padding before the end
    CHECK_FALSE(base64Decode("TW u", out));
}

TEST_CASE("PNG and JPEG are told by their bytes, decoded whole, and a broken one says why", "[core][template][media]") {
    std::string png = solidPng(7, 5, 0x12ab34);
    auto info = inspectImage(png);
    REQUIRE(std::holds_alternative<ImageInfo>(info));
    CHECK(std::get<ImageInfo>(info).format == ImageFormat::Png);
    CHECK(std::get<ImageInfo>(info).width == 7);
    CHECK(std::get<ImageInfo>(info).height == 5);
    auto decoded = decodeImage(png);
    REQUIRE(std::holds_alternative<DecodedImage>(decoded));
    const DecodedImage& image = std::get<DecodedImage>(decoded);
    REQUIRE(image.rgba.size() == size_t(7 * 5 * 4));
    CHECK(int(image.rgba[0]) == 0x12);
    CHECK(int(image.rgba[1]) == 0xab);
    CHECK(int(image.rgba[2]) == 0x34);
    CHECK(int(image.rgba[3]) == 255);

    std::string jpeg = solidJpeg(16, 8, 0xff0000);
    REQUIRE(std::holds_alternative<ImageInfo>(inspectImage(jpeg)));
    CHECK(std::get<ImageInfo>(inspectImage(jpeg)).format == ImageFormat::Jpeg);
    REQUIRE(std::holds_alternative<DecodedImage>(decodeImage(jpeg)));

    // A GIF, a text file, nothing: not PNG or JPEG, whatever a name would say.
    for (std::string other : {std::string("GIF89a\x01\x00\x01\x00", 10), std::string("hello"), std::string()}) {
        auto r = inspectImage(other);
        REQUIRE(std::holds_alternative<std::string>(r));
        CHECK_THAT(std::get<std::string>(r), Catch::Contains("not a PNG or JPEG"));
    }
    // The header whole, the pixels cut off: the header passes, decoding does not.
    std::string cut = noisePng(64, 64, 7).substr(0, 300);
    CHECK(std::holds_alternative<ImageInfo>(inspectImage(cut)));
    auto broken = decodeImage(cut);
    REQUIRE(std::holds_alternative<std::string>(broken));
    CHECK_THAT(std::get<std::string>(broken), Catch::Contains("does not decode"));
    // A header claiming more pixels than are shown.
    std::string huge = png;
    huge[16] = 0, huge[17] = 0, huge[18] = 0x20, huge[19] = 0x00;  // width 8192
    auto tooWide = inspectImage(huge);
    REQUIRE(std::holds_alternative<std::string>(tooWide));
    CHECK_THAT(std::get<std::string>(tooWide), Catch::Contains("8192 x 5 pixels"));
}

TEST_CASE("Packing a template's media folder: present images packed, missing ones warned, broken ones refused",
          "[core][template][media]") {
    fs::path dir = scratch("pack");
    fs::path media = dir / "pics-media";
    const std::string machine = solidPng(40, 30, 0x3366ff), loom = solidJpeg(24, 24, 0x00ff00),
                      signEn = solidPng(10, 10, 0xffffff);
    writeFileIn(media / "machine.png", machine);
    writeFileIn(media / "loom.jpg", loom);
    writeFileIn(media / "sign-en.png", signEn);

    SECTION("present files are packed and load, byte for byte; the missing Hindi sign is a warning") {
        json doc = pictureTemplate();
        MediaPackResult packed = packTemplateMedia(doc, media, "pics.json");
        INFO(errorsOf(packed.errors) << errorsOf(packed.warnings));
        CHECK(packed.errors.empty());
        CHECK(packed.files == 3);
        CHECK(packed.bytes == machine.size() + loom.size() + signEn.size());
        REQUIRE(packed.warnings.size() == 1);
        CHECK(packed.warnings[0].where == "question 'sign'");
        CHECK(packed.warnings[0].key == "image (hi)");
        CHECK_THAT(packed.warnings[0].message, Catch::Contains("'sign-hi.png' is not in the form's media folder"));

        TemplateLoadResult loaded = loadTemplateJson(doc.dump(), "pics.json", TemplateLoadOptions{false, true});
        INFO(errorsOf(loaded.errors));
        REQUIRE(loaded.ok());
        const Template& t = *loaded.survey;
        REQUIRE(t.media.size() == 3);
        CHECK(t.media.at("machine.png") == machine);
        CHECK(t.media.at("loom.jpg") == loom);
        CHECK(t.find("sign")->image.in(0) == "sign-en.png");
        CHECK(t.find("sign")->image.in(1) == "sign-hi.png");  // named, not carried: not shown
        CHECK(t.choicesOf(*t.find("machine"))->choices[0].image.in(1) == "loom.jpg");
    }
    SECTION("no media folder at all: every named image is a warning, the template still loads") {
        json doc = pictureTemplate();
        MediaPackResult packed = packTemplateMedia(doc, dir / "nowhere-media", "pics.json");
        CHECK(packed.errors.empty());
        CHECK(packed.files == 0);
        CHECK(packed.warnings.size() == 4);
        CHECK_FALSE(doc.contains("media"));
        CHECK_THAT(packed.warnings[0].message, Catch::Contains("there is no media folder"));
    }
    SECTION("a file that is not a whole PNG or JPEG is an error at its question or choice") {
        writeFileIn(media / "machine.png", machine.substr(0, machine.size() / 2));  // cut short
        writeFileIn(media / "loom.jpg", "GIF89a not really");
        json doc = pictureTemplate();
        MediaPackResult packed = packTemplateMedia(doc, media, "pics.json");
        REQUIRE(packed.errors.size() == 2);
        std::string all = errorsOf(packed.errors);
        CHECK_THAT(all, Catch::Contains("question 'machine', image: 'machine.png' does not decode"));
        CHECK_THAT(all, Catch::Contains("choice list 'kind', choice 'loom', image: 'loom.jpg' is not a PNG or JPEG"));
    }
    SECTION("an image over the size limit is refused with the limit") {
        writeFileIn(media / "machine.png", noisePng(900, 900, 3));  // about 2.3 MiB of noise
        json doc = pictureTemplate();
        MediaPackResult packed = packTemplateMedia(doc, media, "pics.json");
        REQUIRE(packed.errors.size() == 1);
        CHECK_THAT(packed.errors[0].message, Catch::Contains("an image may be at most 2048 KiB"));
    }
}

TEST_CASE("The loader checks the images a template carries", "[core][template][media]") {
    json doc = pictureTemplate();
    doc["media"]["machine.png"] = base64Encode(solidPng(4, 4, 0));
    REQUIRE(loadTemplateJson(doc.dump(), "pics.json").ok());

    auto refused = [](const json& d, TemplateLoadOptions options = {}) {
        TemplateLoadResult r = loadTemplateJson(d.dump(), "pics.json", options);
        CHECK_FALSE(r.ok());
        return errorsOf(r.errors);
    };
    json bad = doc;
    bad["media"]["machine.png"] = "not base64!";
    CHECK_THAT(refused(bad), Catch::Contains("media 'machine.png': the bytes must be one base64 string"));
    bad = doc;
    bad["media"]["../x.png"] = base64Encode(solidPng(4, 4, 0));
    CHECK_THAT(refused(bad), Catch::Contains("not a file name"));
    bad = doc;
    bad["media"]["machine.png"] = base64Encode("<svg/>");
    CHECK_THAT(refused(bad), Catch::Contains("is not a PNG or JPEG image"));
    // The header is sound, the pixels cut off: found when decoding (publish), not by the
    // header check of every load.
    bad = doc;
    bad["media"]["machine.png"] = base64Encode(noisePng(64, 64, 9).substr(0, 300));
    CHECK(loadTemplateJson(bad.dump(), "pics.json").ok());
    CHECK_THAT(refused(bad, TemplateLoadOptions{false, true}), Catch::Contains("does not decode"));
    // More than the total a template may carry.
    bad = doc;
    std::string big = base64Encode(std::string("\x89PNG\r\n\x1a\n", 8) + std::string(kMaxMediaFileBytes - 8, 'x'));
    for (int i = 0; i < 5; ++i) bad["media"]["big" + std::to_string(i) + ".png"] = big;
    CHECK_THAT(refused(bad), Catch::Contains("a template may carry at most"));
}
