// Template images (XLSForm media::image) on the form screen, headless: the image is decoded
// once per template version into a texture made by the platform's TextureMaker, drawn under
// the question's label (and under choices) at its own size or narrower, in the officer's
// language, and freed when the visit closes or the app locks.
#include <algorithm>
#include <fstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "app/ui/form_images.h"
#include "core/template/template_media.h"
#include "tests/app/ui/ui_test_support.h"
#include "tests/support/test_images.h"

using namespace ck;
using namespace ck::test;
namespace fs = std::filesystem;

namespace {

// Textures as the desktop makes them, minus the GPU: each gets a distinct id, and what was
// uploaded (size, first pixel) is kept so the test can tell the images apart.
struct RecordingTextures final : TextureMaker {
    struct Made {
        int width = 0, height = 0;
        uint32_t firstPixel = 0;  // 0xRRGGBB
        bool live = true;
    };
    std::vector<Made> made;
    ImTextureID create(int width, int height, const unsigned char* rgba) override {
        made.push_back({width, height, uint32_t(rgba[0]) << 16 | uint32_t(rgba[1]) << 8 | rgba[2], true});
        return reinterpret_cast<ImTextureID>(intptr_t(0x7000 + made.size()));
    }
    void destroy(ImTextureID texture) override {
        size_t i = size_t(reinterpret_cast<intptr_t>(texture) - 0x7000 - 1);
        REQUIRE(i < made.size());
        REQUIRE(made[i].live);  // never freed twice
        made[i].live = false;
    }
    ImTextureID idOf(size_t i) const { return reinterpret_cast<ImTextureID>(intptr_t(0x7000 + i + 1)); }
    size_t live() const { return size_t(std::count_if(made.begin(), made.end(), [](const Made& m) { return m.live; })); }
    // The texture made from an image whose first pixel is `rgb`; -1 when none.
    int indexOf(uint32_t rgb) const {
        for (size_t i = 0; i < made.size(); ++i)
            if (made[i].firstPixel == rgb) return int(i);
        return -1;
    }
    // The same by size (a JPEG's colours are not exact).
    int indexOfSize(int width, int height) const {
        for (size_t i = 0; i < made.size(); ++i)
            if (made[i].width == width && made[i].height == height) return int(i);
        return -1;
    }
};

// Where the last frame drew `texture`: the rectangle its vertices span; zero size when not drawn.
ImVec4 drawnRect(ImTextureID texture) {
    ImVec4 r(1e9f, 1e9f, -1e9f, -1e9f);
    ImDrawData* data = ImGui::GetDrawData();
    for (int l = 0; data && l < data->CmdListsCount; ++l) {
        const ImDrawList* list = data->CmdLists[l];
        for (const ImDrawCmd& cmd : list->CmdBuffer) {
            if (cmd.TextureId != texture || cmd.UserCallback) continue;
            for (unsigned i = 0; i < cmd.ElemCount; ++i) {
                const ImDrawVert& v = list->VtxBuffer[int(cmd.VtxOffset + list->IdxBuffer[int(cmd.IdxOffset + i)])];
                r.x = std::min(r.x, v.pos.x), r.y = std::min(r.y, v.pos.y);
                r.z = std::max(r.z, v.pos.x), r.w = std::max(r.w, v.pos.y);
            }
        }
    }
    return r.z < r.x ? ImVec4(0, 0, 0, 0) : r;
}

float widthOf(ImVec4 r) { return r.z - r.x; }
float heightOf(ImVec4 r) { return r.w - r.y; }

constexpr uint32_t kMagenta = 0xff00ff, kCyan = 0x00ffff, kGreen = 0x10c010, kOrange = 0xff8000;

// A template whose images are packed as publish packs them: a sign in English and in Hindi, a
// banner far wider than the screen, a choice with a picture.
fs::path writePictureTemplate(const fs::path& dir) {
    fs::path media = dir / "media";
    writeFileIn(media / "sign-en.png", solidPng(200, 100, kMagenta));
    writeFileIn(media / "sign-hi.png", solidPng(200, 100, kCyan));
    writeFileIn(media / "banner.png", solidPng(3000, 60, kOrange));
    writeFileIn(media / "loom.jpg", solidJpeg(64, 48, kGreen));
    auto doc = nlohmann::json::parse(R"({"id": "pics", "version": "1", "languages": ["en", "hi"],
      "title": {"en": "Pictures", "hi": "चित्र"},
      "choices": {"kind": [{"name": "loom", "label": {"en": "Loom", "hi": "करघा"}, "image": "loom.jpg"},
                           {"name": "other", "label": {"en": "Other", "hi": "अन्य"}}]},
      "sections": [{"id": "s", "label": {"en": "Machines", "hi": "मशीनें"}, "questions": [
        {"id": "sign", "type": "note", "label": {"en": "Read the sign", "hi": "बोर्ड पढ़ें"},
         "image": {"en": "sign-en.png", "hi": "sign-hi.png"}},
        {"id": "banner", "type": "text", "label": {"en": "Banner", "hi": "बैनर"}, "image": "banner.png"},
        {"id": "machine", "type": "select_one", "choices": "kind", "label": {"en": "Which machine?", "hi": "कौन सी मशीन?"}}]}]})");
    MediaPackResult packed = packTemplateMedia(doc, media, "pics.json");
    REQUIRE(packed.errors.empty());
    REQUIRE(packed.files == 4);
    fs::path templates = dir / "templates";
    fs::create_directories(templates);
    std::ofstream(templates / "pics.json") << doc.dump();
    return templates;
}

}  // namespace

TEST_CASE("form images: drawn under the label from a texture made once, per language, freed on close and lock",
          "[ui][view][media]") {
    auto dir = scratchDir("view-images");
    FakeClock clock;
    FieldAppConfig config = makeConfig(dir / "data", clock);
    config.templatesDir = writePictureTemplate(dir);
    auto textures = std::make_shared<RecordingTextures>();
    config.textures = textures;
    {
        AppModel setup(config);
        createStore(setup);
    }
    FieldApp app(config);
    HeadlessImGui gui;
    gui.frames(app, 2);
    unlockStore(app.model());
    gui.frames(app, 2);
    CHECK(textures->made.empty());  // nothing decoded before a visit shows an image
    gui.clickItem(app, "start_pics");
    REQUIRE(app.model().screen() == Screen::Form);
    gui.frames(app, 3);

    // The English sign: one texture of its own size, drawn at its native size under the label.
    int en = textures->indexOf(kMagenta);
    REQUIRE(en >= 0);
    CHECK(textures->made[size_t(en)].width == 200);
    CHECK(textures->made[size_t(en)].height == 100);
    ImVec4 r = drawnRect(textures->idOf(size_t(en)));
    CHECK(widthOf(r) == Approx(200));
    CHECK(heightOf(r) == Approx(100));
    auto image = app.itemRect("question_image");
    REQUIRE(image);
    CHECK(image->x0 == Approx(r.x));
    CHECK(image->y0 == Approx(r.y));
    // Under the label: below the question's text, above the answer buttons.
    auto clear = app.itemRect("clear_answer");
    CHECK_FALSE(clear);  // a note takes no answer
    auto next = app.itemRect("next");
    REQUIRE(next);
    CHECK(r.w < next->y0);

    // Many frames later: still one decode, one texture.
    gui.frames(app, 20);
    CHECK(app.formImages().decodes() == 1);
    CHECK(textures->made.size() == 1);

    // In Hindi the Hindi sign is drawn, made once too; the English one stays cached.
    app.model().setLanguage("hi");
    gui.frames(app, 3);
    int hi = textures->indexOf(kCyan);
    REQUIRE(hi >= 0);
    CHECK(widthOf(drawnRect(textures->idOf(size_t(hi))) ) == Approx(200));
    CHECK(widthOf(drawnRect(textures->idOf(size_t(en)))) == 0);
    app.model().setLanguage("en");
    gui.frames(app, 3);
    CHECK(widthOf(drawnRect(textures->idOf(size_t(en)))) == Approx(200));
    CHECK(app.formImages().decodes() == 2);

    // A banner 3000 px wide: as wide as the pane allows, not wider, the same shape.
    gui.clickItem(app, "next");
    gui.frames(app, 2);
    int banner = textures->indexOf(kOrange);
    REQUIRE(banner >= 0);
    ImVec4 b = drawnRect(textures->idOf(size_t(banner)));
    CHECK(widthOf(b) > 100);
    CHECK(widthOf(b) < 1280);  // the window of the headless context
    CHECK(heightOf(b) == Approx(widthOf(b) * 60 / 3000).epsilon(0.02));
    auto answer = app.itemRect("answer");
    REQUIRE(answer);
    CHECK(widthOf(b) <= answer->x1 - answer->x0 + 1);  // within the question pane, as the field is

    // A choice's picture under its row.
    gui.clickItem(app, "next");
    gui.frames(app, 2);
    int loom = textures->indexOfSize(64, 48);
    REQUIRE(loom >= 0);
    ImVec4 l = drawnRect(textures->idOf(size_t(loom)));
    CHECK(widthOf(l) == Approx(64));
    auto row = app.itemRect("choice_loom");
    REQUIRE(row);
    CHECK(l.y >= row->y1 - 1);
    REQUIRE(app.itemRect("choice_image_loom"));

    // Closing the visit frees every texture; the next visit decodes again, lock frees them.
    CHECK(textures->live() == 4);
    app.model().closeVisit();
    gui.frames(app, 2);
    CHECK(textures->live() == 0);
    CHECK(app.formImages().held() == 0);
    gui.clickItem(app, "start_pics");
    gui.frames(app, 2);
    CHECK(textures->live() == 1);
    app.model().lock();
    app.model().waitForTasks();
    gui.frames(app, 2);
    CHECK(textures->live() == 0);
}

TEST_CASE("form images: a packed image that does not decode is not drawn, and not tried again", "[ui][view][media]") {
    auto dir = scratchDir("view-images-broken");
    // Packed by hand past the importer: its header is sound, its pixels cut off, so only the
    // decoder finds out (the device loads templates with the header check only).
    std::string cut = noisePng(64, 64, 11).substr(0, 300);
    nlohmann::json doc = nlohmann::json::parse(R"({"id": "broken", "version": "1", "languages": ["en"], "title": "Broken",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "q", "type": "text", "label": "A question with a broken picture", "image": "cut.png"}]}]})");
    doc["media"]["cut.png"] = base64Encode(cut);
    fs::create_directories(dir / "templates");
    std::ofstream(dir / "templates" / "broken.json") << doc.dump();
    FakeClock clock;
    FieldAppConfig config = makeConfig(dir / "data", clock);
    config.templatesDir = dir / "templates";
    auto textures = std::make_shared<RecordingTextures>();
    config.textures = textures;
    {
        AppModel setup(config);
        createStore(setup);
    }
    FieldApp app(config);
    HeadlessImGui gui;
    gui.frames(app, 2);
    unlockStore(app.model());
    gui.frames(app, 2);
    gui.clickItem(app, "start_broken");
    gui.frames(app, 10);
    CHECK(textures->made.empty());
    CHECK(app.formImages().decodes() == 1);
    CHECK_FALSE(app.itemRect("question_image"));
    REQUIRE(app.itemRect("answer"));  // the question itself is there
}
