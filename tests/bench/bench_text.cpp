// Shaped text: what it costs the field app to build a frame (NewFrame..Render, headless, no
// GPU: the part of a frame the app controls) with the flagship visit open on its 200-row
// product table, in English and in Hindi, against ImGui drawing the same fonts unshaped.
// Prints medians; no pass/fail (the target: Hindi within 10% of English).
//
// usage: bench_text [FRAMES]   (default 400 frames per case, interleaved)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <string>
#include <vector>

#include <imgui.h>

#include "app/ui/app_model.h"
#include "app/ui/field_app.h"
#include "app/ui/text/text_engine.h"

using namespace ck;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double msSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

int main(int argc, char** argv) {
    const int frames = argc > 1 ? std::max(10, std::atoi(argv[1])) : 400;
    const auto dir = std::filesystem::path(CK_BINARY_DIR) / "bench-text";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);

    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(1280, 800);
    io.DeltaTime = 1.0f / 60.0f;
    std::string error;
    auto engine = text::TextEngine::load(std::filesystem::path(CK_SOURCE_DIR) / "assets" / "fonts", error);
    if (!engine) {
        std::fprintf(stderr, "bench_text: %s\n", error.c_str());
        return 1;
    }
    auto t0 = Clock::now();
    engine->addFonts(*io.Fonts, 18.0f);
    io.Fonts->Build();
    engine->atlasBuilt(*io.Fonts);
    const double atlasMs = msSince(t0);
    engine->install();

    FieldAppConfig config;
    config.dataDir = dir;
    config.templatesDir = std::filesystem::path(CK_SOURCE_DIR) / "survey-templates";
    config.kdf = kFastKdf;
    double now = 1000;
    config.clock = [&now] { return now; };
    FieldApp app(std::move(config));
    AppModel& model = app.model();
    if (!model.createVault("tiruppur-knits-2026", "tiruppur-knits-2026")) {
        std::fprintf(stderr, "bench_text: %s\n", model.error().c_str());
        return 1;
    }
    model.waitForTasks();
    ImGui::NewFrame();
    app.drawFrame();  // applies the finished task: the vault is open
    ImGui::Render();
    if (!model.startVisit("cluster-diagnostic")) {
        std::fprintf(stderr, "bench_text: could not start the flagship visit\n");
        return 1;
    }
    const int repeat = model.session()->survey().indexOf("product_lines");
    (void)model.answer("consent", Value::text("yes"));
    while (model.session()->instanceCount(repeat) < 200) (void)model.addInstance(repeat);
    model.goTo(model.session()->find("product", 0));

    for (int i = 0; i < 3; ++i) {
        ImGui::NewFrame();
        app.drawFrame();
        ImGui::Render();
    }
    if (model.screen() != Screen::Form || !app.itemRect("add_row_product_lines") || !app.itemRect("edit_row_product_lines_0")) {
        std::fprintf(stderr, "bench_text: the form with the product table is not on screen (%s)\n", model.error().c_str());
        return 1;
    }
    auto frame = [&] {
        const auto t = Clock::now();
        ImGui::NewFrame();
        app.drawFrame();
        ImGui::Render();
        return msSince(t);
    };
    struct Case {
        const char* name;
        const char* language;
        bool shaped;
        std::vector<double> steady, cold;
    };
    std::vector<Case> cases = {{"English, shaped", "en", true, {}, {}},
                               {"Hindi, shaped", "hi", true, {}, {}},
                               {"English, ImGui unshaped", "en", false, {}, {}},
                               {"Hindi, ImGui unshaped", "hi", false, {}, {}},
                               // The app's own words in the other four languages (the flagship's
                               // questions stay in its default language there).
                               {"Tamil app words, shaped", "ta", true, {}, {}},
                               {"Gujarati app words, shaped", "gu", true, {}, {}},
                               {"Marathi app words, shaped", "mr", true, {}, {}},
                               {"Bengali app words, shaped", "bn", true, {}, {}}};
    // Interleaved rounds, so a busy moment on the machine falls on every case alike.
    const int rounds = 20;
    for (int r = 0; r < rounds; ++r) {
        for (Case& c : cases) {
            if (c.shaped) engine->install(); else engine->uninstall();
            model.setLanguage(c.language);
            engine->setLanguage(c.language);  // also empties the shaping cache: a cold first frame
            c.cold.push_back(frame());
            frame();  // ImGui settles (table column sizes)
            for (int i = 0; i < frames / rounds; ++i) c.steady.push_back(frame());
        }
    }
    engine->install();
    const auto stats = engine->stats();

    std::printf("shaped text (HarfBuzz + FreeType into ImGui's atlas), headless, flagship visit on the 200-row table\n");
    std::printf("  atlas build (7 fonts for ImGui + glyph region): %.1f ms, texture %d x %d RGBA\n", atlasMs,
                io.Fonts->TexWidth, io.Fonts->TexHeight);
    std::printf("  %-26s %14s %14s\n", "frame build, median ms", "steady", "first (cold)");
    for (const Case& c : cases) std::printf("  %-26s %14.3f %14.3f\n", c.name, median(c.steady), median(c.cold));
    const double en = median(cases[0].steady), hi = median(cases[1].steady);
    const double enCold = median(cases[0].cold), hiCold = median(cases[1].cold);
    std::printf("  Hindi vs English, shaped: steady %+.1f %%, first frame %+.1f %%   target: within 10 %%\n",
                100 * (hi - en) / en, 100 * (hiCold - enCold) / enCold);
    std::printf("  shaped vs ImGui unshaped, Hindi: steady %+.1f %%\n", 100 * (hi - median(cases[3].steady)) / median(cases[3].steady));
    for (size_t i = 4; i < cases.size(); ++i)
        std::printf("  %s vs English: steady %+.1f %%, first frame %+.1f %%\n", cases[i].language,
                    100 * (median(cases[i].steady) - en) / en, 100 * (median(cases[i].cold) - enCold) / enCold);
    // The app's words are an array index after the first call (ui_text.h): time the lookups.
    {
        const int lookups = 2'000'000;
        const char* languages[] = {"en", "hi", "ta", "gu", "mr", "bn"};
        size_t sum = 0;
        const auto t = Clock::now();
        for (int i = 0; i < lookups; ++i) sum += std::strlen(uiText(Text(size_t(i) % size_t(Text::Count_)), languages[i % 6])) & 1;
        std::printf("  uiText lookup: %.1f ns (mean of %d, six languages; checksum %zu)\n", msSince(t) * 1e6 / lookups, lookups, sum);
    }
    std::printf("  engine: %llu strings shaped, %llu hb_shape calls, %llu cache hits, %llu glyphs rasterised, %zu cached\n",
                static_cast<unsigned long long>(stats.textsShaped), static_cast<unsigned long long>(stats.shapeCalls),
                static_cast<unsigned long long>(stats.cacheHits), static_cast<unsigned long long>(stats.glyphsRasterised),
                stats.cachedTexts);
    model.waitForTasks();
    return 0;
}
