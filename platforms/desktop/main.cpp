// clusterkit: the desktop field app. Owns the window (GLFW), the renderer (OpenGL 3), the fonts
// and the frame loop; everything the officer sees is ck::FieldApp (app/ui).
//
// The loop waits for events. While nothing animates it sleeps in glfwWaitEventsTimeout until
// input arrives, the app's next timer (the idle lock) is due, or a half-second safety cap
// passes; after input it draws a few frames so Dear ImGui settles (hover, focus and nav need
// 2-3 frames); only while the app animates does it draw at ~60 fps. A frame whose draw lists
// are identical to the last one shown is not rendered or swapped, so the safety wake-ups cost
// almost nothing on a laptop on battery.
//
// Environment, for tests and benchmarks only:
//   CK_BENCH=1              stderr: "ck-bench first-frame ..." on the first swap (with the
//                           start-up phases) and "ck-bench frame-ms X ui-ms Y" for every
//                           rendered frame (Y: building the UI, the rest: GL and swap);
//                           at exit "ck-bench text ..." (shaping counts, TextEngine::stats).
//   CK_TEST_LAYOUT_FILE=F   after each rendered frame, write to F the rects of the widgets
//   CK_TEST_LAYOUT_NAMES=a,b  named a, b, ... (FieldApp::itemRect), "name x0 y0 x1 y1" a line,
//                           after a first line "window 0 0 W H" (the window's size).
//   CK_TEST_GLYPH_FILE=F    after each rendered frame, write to F the glyphs drawn for each
//                           line of text (FontAtlas::startGlyphLog), to compare with hb-shape.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <memory>

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>

#include "app/ui/app_model.h"
#include "app/ui/app_settings.h"
#include "app/ui/field_app.h"
#include "platforms/desktop/desktop_options.h"
#include "platforms/desktop/font_atlas.h"
#include "platforms/desktop/frame_output.h"
#include "platforms/desktop/gl_textures.h"
#include "platforms/desktop/glfw_input.h"
#include "platforms/desktop/gpsd_location.h"
#include "platforms/desktop/window_placement.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSettleFrames = 3;             // frames drawn after any input
constexpr double kAnimationFrame = 1.0 / 60;  // pacing while animating
constexpr double kMinWait = 1.0 / 60;         // a timer already due still yields the CPU this long
constexpr double kMaxWait = 0.5;              // safety cap on an idle wait

std::atomic<bool> g_quitRequested{false};
extern "C" void onTerminate(int) { g_quitRequested = true; }

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class LayoutReport {
public:
    LayoutReport() {
        const char* file = std::getenv("CK_TEST_LAYOUT_FILE");
        const char* names = std::getenv("CK_TEST_LAYOUT_NAMES");
        if (!file || !*file || !names) return;
        m_file = file;
        std::stringstream ss(names);
        for (std::string name; std::getline(ss, name, ',');)
            if (!name.empty()) m_names.push_back(name);
    }
    void write(const ck::FieldApp& app) {
        if (m_file.empty()) return;
        // The window's own size first: the tests check that named widgets lie inside it.
        char line[512];
        const ImVec2 display = ImGui::GetIO().DisplaySize;
        std::snprintf(line, sizeof line, "window 0 0 %.0f %.0f\n", display.x, display.y);
        std::string text = line;
        for (const auto& name : m_names) {
            if (auto r = app.itemRect(name)) {
                std::snprintf(line, sizeof line, "%s %.0f %.0f %.0f %.0f\n", name.c_str(), r->x0, r->y0, r->x1, r->y1);
                text += line;
            }
        }
        if (text == m_last) return;
        m_last = text;
        const std::string tmp = m_file + ".tmp";
        std::ofstream(tmp, std::ios::trunc) << text;
        std::rename(tmp.c_str(), m_file.c_str());
    }

private:
    std::string m_file, m_last;
    std::vector<std::string> m_names;
};

void glfwError(int code, const char* what) { std::fprintf(stderr, "clusterkit: GLFW error %d: %s\n", code, what); }

// The monitors' work areas, the primary first (a display without monitor information: one
// laptop-sized area, so the window opens at its default size).
std::vector<ck::desktop::WorkArea> workAreas() {
    std::vector<ck::desktop::WorkArea> areas;
    int count = 0;
    GLFWmonitor** monitors = glfwGetMonitors(&count);
    GLFWmonitor* primary = glfwGetPrimaryMonitor();
    for (int i = 0; i < count; ++i) {
        ck::desktop::WorkArea a;
        glfwGetMonitorWorkarea(monitors[i], &a.x, &a.y, &a.width, &a.height);
        float xs = 1.0f, ys = 1.0f;
        glfwGetMonitorContentScale(monitors[i], &xs, &ys);
        a.contentScale = std::max(xs, ys);
        if (a.width <= 0 || a.height <= 0) continue;
        if (monitors[i] == primary) areas.insert(areas.begin(), a);
        else areas.push_back(a);
    }
    if (areas.empty())
        areas.push_back({0, 0, ck::desktop::kDefaultWindowWidth, ck::desktop::kDefaultWindowHeight, 1.0f});
    return areas;
}

float contentScaleOf(GLFWwindow* window) {
    float xs = 1.0f, ys = 1.0f;
    glfwGetWindowContentScale(window, &xs, &ys);
    const float s = std::max(xs, ys);
    return s > 0.25f && s < 8.0f ? s : 1.0f;
}

int run(const ck::desktop::DesktopOptions& options) {
    const auto started = Clock::now();
    const bool bench = [] {
        const char* b = std::getenv("CK_BENCH");
        return b && *b && std::string(b) != "0";
    }();

    glfwSetErrorCallback(glfwError);
    if (!glfwInit()) {
        std::fprintf(stderr, "clusterkit: no display (GLFW could not start)\n");
        return 1;
    }
    const double glfwMs = secondsSince(started) * 1000.0;
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    // The size it last had (the content scale is in it already), else one that fits the screen;
    // placed before it is shown, so it never appears at another size first.
    const ck::WindowPlacement place = ck::desktop::placeWindow(
        ck::loadAppSettings(ck::appSettingsFile(options.app.dataDir)).window, workAreas());
    glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_FALSE);
    glfwWindowHint(GLFW_VISIBLE, GLFW_FALSE);
    GLFWwindow* window = glfwCreateWindow(place.width, place.height, "ClusterKit", nullptr, nullptr);
    if (!window) {
        std::fprintf(stderr, "clusterkit: could not open an OpenGL 3 window\n");
        glfwTerminate();
        return 1;
    }
    glfwSetWindowPos(window, place.x, place.y);
    glfwShowWindow(window);
    glfwMakeContextCurrent(window);
    glfwSwapInterval(1);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    io.IniFilename = nullptr;                // layout is the app's; nothing to remember
    io.ConfigInputTextCursorBlink = false;   // a blinking caret would need a frame every 0.4 s
    ImGui::StyleColorsDark();
    ImGui_ImplGlfw_InitForOpenGL(window, /*install_callbacks=*/false);
    ImGui_ImplOpenGL3_Init("#version 130");
    ck::desktop::InputForwarder input(window);
    const double windowMs = secondsSince(started) * 1000.0;

    {
        // "Capture location" asks gpsd (CLUSTERKIT_GPSD=host:port, else localhost:2947).
        ck::FieldAppConfig config = options.app;
        config.location = std::make_shared<ck::GpsdLocation>(ck::GpsdLocation::fromEnvironment());
        // The template's images (media::image) become GL textures, made and freed on this thread.
        config.textures = std::make_shared<ck::desktop::GlTextureMaker>();
        ck::FieldApp app(config);
        const double appMs = secondsSince(started) * 1000.0;
        double fontsMs = 0;
        ck::desktop::FontAtlas fonts(ck::desktop::assetsDir() / "fonts");
        if (const char* glyphLog = std::getenv("CK_TEST_GLYPH_FILE")) fonts.startGlyphLog(glyphLog);
        LayoutReport layout;
        ck::desktop::StyleScale styleScale;
        int settle = kSettleFrames;
        uint64_t shown = 0;
        bool firstSwap = true;
        auto lastFrame = Clock::now() - std::chrono::seconds(1);
        auto lastDrawn = Clock::now();

        while (!glfwWindowShouldClose(window) && !g_quitRequested) {
            const bool animating = app.isAnimating();
            if (animating || settle > 0) {
                const double rest = kAnimationFrame - secondsSince(lastFrame);
                if (rest > 0) glfwWaitEventsTimeout(rest);
                else glfwPollEvents();
            } else {
                const double wait = std::clamp(app.secondsUntilNextTimer(), kMinWait, kMaxWait);
                glfwWaitEventsTimeout(wait);
            }
            if (input.takeActivity()) settle = kSettleFrames;
            // Idle wake-up with nothing due: skip the frame entirely unless the safety cap passed.
            if (!animating && settle == 0 && app.secondsUntilNextTimer() > 0 && secondsSince(lastDrawn) < kMaxWait)
                continue;
            const auto frameStart = Clock::now();
            lastFrame = frameStart;
            lastDrawn = frameStart;

            const float contentScale = contentScaleOf(window);
            styleScale.apply(contentScale);
            if (fonts.needsRebuild(app.textScale(), contentScale, app.fontGeneration())) {
                const auto t = Clock::now();
                fonts.rebuild(app.textScale(), contentScale, app.fontGeneration());
                fontsMs = secondsSince(t) * 1000.0;
            }

            fonts.setLanguage(app.languageCode());
            ImGui_ImplOpenGL3_NewFrame();
            ImGui_ImplGlfw_NewFrame();
            ImGui::NewFrame();
            app.drawFrame();
            styleScale.apply(contentScale);  // the app may have set a new theme in this frame
            ImGui::Render();
            fonts.uploadNewGlyphs();  // before the frame may be skipped: the texture must stay current
            const double uiMs = secondsSince(frameStart) * 1000.0;
            input.endFrame();
            if (settle > 0) --settle;

            ImDrawData* data = ImGui::GetDrawData();
            const uint64_t print = ck::desktop::drawFingerprint(data);
            const bool exposed = input.takeNeedsRepaint();
            if (print == shown && !exposed) continue;
            shown = print;
            int w = 0, h = 0;
            glfwGetFramebufferSize(window, &w, &h);
            glViewport(0, 0, w, h);
            // Behind the app's full-window panel; only seen for a moment while resizing.
            if (app.highContrast()) glClearColor(1.0f, 1.0f, 1.0f, 1.0f);
            else glClearColor(0.08f, 0.08f, 0.09f, 1.0f);
            glClear(GL_COLOR_BUFFER_BIT);
            ImGui_ImplOpenGL3_RenderDrawData(data);
            glfwSwapBuffers(window);
            layout.write(app);
            fonts.writeGlyphLog();
            if (bench) {
                glFinish();
                if (firstSwap) {
                    const auto epochMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count();
                    std::fprintf(stderr,
                                 "ck-bench first-frame ms-since-main %.1f (glfwInit %.1f, window+GL %.1f, app %.1f, fonts %.1f) "
                                 "epoch-ms %lld\n",
                                 secondsSince(started) * 1000.0, glfwMs, windowMs - glfwMs, appMs - windowMs, fontsMs,
                                 static_cast<long long>(epochMs));
                }
                std::fprintf(stderr, "ck-bench frame-ms %.3f ui-ms %.3f\n", secondsSince(frameStart) * 1000.0, uiMs);
            }
            firstSwap = false;
        }
        {
            // Kept for the next start (a minimised window keeps the size it had before).
            ck::WindowPlacement closed;
            glfwGetWindowPos(window, &closed.x, &closed.y);
            glfwGetWindowSize(window, &closed.width, &closed.height);
            if (!glfwGetWindowAttrib(window, GLFW_ICONIFIED)) app.model().setWindowPlacement(closed);
        }
        app.prepareToQuit();
        if (bench && fonts.textEngine()) {
            const auto st = fonts.textEngine()->stats();
            std::fprintf(stderr,
                         "ck-bench text strings-shaped %llu hb_shape-calls %llu cache-hits %llu glyphs-rasterised %llu "
                         "atlas-resets %llu\n",
                         static_cast<unsigned long long>(st.textsShaped), static_cast<unsigned long long>(st.shapeCalls),
                         static_cast<unsigned long long>(st.cacheHits), static_cast<unsigned long long>(st.glyphsRasterised),
                         static_cast<unsigned long long>(st.atlasResets));
        }
    }  // the app is gone (saved, locked) before the window and the GL context

    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string error;
    auto options = ck::desktop::parseCommandLine(argc, argv, error);
    if (!options) {
        std::fprintf(stderr, "clusterkit: %s\n%s", error.c_str(), ck::desktop::usageText());
        return 2;
    }
    if (options->showHelp) {
        std::fputs(ck::desktop::usageText(), stdout);
        return 0;
    }
    // SIGTERM (session logout, the test harness) closes the app the same way the window's
    // close button does: flush, lock, exit.
    std::signal(SIGTERM, onTerminate);
    std::signal(SIGINT, onTerminate);
    try {
        return run(*options);
    } catch (const std::exception& e) {
        // The whole run ends here (corrupt store, disk I/O): say why, as the officer sees it.
        std::fprintf(stderr, "clusterkit: stopped: %s\n", e.what());
        return 1;
    }
}
