// clusterkit (web): the field app in a browser tab. Owns the canvas (emscripten's GLFW on
// WebGL 2), the fonts and the frame loop; everything the officer sees is ck::FieldApp (app/ui),
// the same library the desktop links.
//
// The loop is the browser's: emscripten_set_main_loop_arg calls frame() once per animation
// frame. As on desktop, the UI is built only after input (a few settle frames), while the app
// animates, when its next timer is due, or every half second; a frame whose draw lists equal the
// last one shown is not rendered. The canvas backing store follows its CSS size times
// devicePixelRatio, which is the content scale for fonts and style (as the monitor's is on
// desktop).
//
// Storage: the officer's folder is /data in memory, loaded from IndexedDB before main() and
// copied back after every change (web_storage_pre.js, web_storage.h); the app shows "saved"
// only once the copy holding the change has completed. Leaving the page copies what is left
// and, when the page is unloaded, locks the store (ck_store_leaving below).
//
// Test hooks, read by tests/platforms/web/first_frame.py: after the first rendered frame,
// window.ckFirstFrame = { msSinceStart, msSinceNavigation } and a console line
// "ck-web first-frame ..."; window.ckItemRect(name) returns the rect of a named widget
// (FieldApp::itemRect) as "x0 y0 x1 y1" in CSS pixels, or "" when it was not drawn;
// window.ckItemText(name) the words it showed (the "error" and "notice" lines included);
// window.ckTouchState() what the touch tests check (ck_touch_state below);
// window.ckAppState(questionId) (web_storage_pre.js) returns ck_app_state's JSON (below), and
// window.ckStore the storage's state and figures (tests/platforms/web/web_storage.py).
//
// Touch and the on-screen keyboard (site/touch.js): a finger reaches GLFW as mouse events and
// ck::TouchInput (app/ui/touch_input.h) turns it into taps and drag-scrolls; the page's hidden
// <input> is focused while ImGui edits a field (FieldApp::keyboard() says which keyboard) and
// what the phone's keyboard types reaches ImGui through ck_keyboard_text / ck_keyboard_key.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <string>

#include <emscripten.h>
#include <emscripten/html5.h>
#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>
#include <imgui_impl_opengl3.h>
#include <imgui_internal.h>
#include <nlohmann/json.hpp>

#include "app/ui/app_model.h"
#include "app/ui/field_app.h"
#include "app/ui/touch_input.h"
#include "core/crypto/vault.h"
#include "platforms/desktop/font_atlas.h"
#include "platforms/desktop/frame_output.h"
#include "platforms/web/web_storage.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSettleFrames = 3;    // frames built after any input
constexpr double kMaxIdle = 0.5;    // an idle UI is still rebuilt this often
// While the app works on its task thread (a spinner) and the officer does nothing, a frame
// is built this often, not at every animation frame: the task thread's file calls (SQLite's
// reads, writes and syncs of the store) are run on this thread between frames, because
// emscripten's in-memory file system lives here, so every frame drawn meanwhile delays each
// of them. At 60 frames a second a first run took 45-57 s in headless Chromium.
constexpr double kBusyFrameInterval = 0.1;
constexpr const char* kCanvas = "#canvas";
constexpr const char* kDataDir = "/data";          // the officer's folder (web_storage_pre.js)
constexpr const char* kAppFiles = "/app";          // packaged with --preload-file
constexpr float kTapSlopCss = 10.0f;  // a finger that moves further (CSS px) drags, else taps

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A start-up phase done: performance.mark(name), read by tests/bench/web_start.py (site/shell.js
// marks the phases before main()).
void mark(const char* name) {
    EM_ASM({ performance.mark(UTF8ToString($0)); }, name);
}

// What the phone's keyboard typed (site/touch.js), handed to ImGui between frames in order. A
// key is held down for one whole frame and released the next (ImGui reads keys once a frame);
// text typed after a key waits until that key has acted, so "backspace, then letters" (an
// IME replacing what it composed) edits the field in the order the keyboard meant.
class KeyboardFeed {
public:
    void text(std::string utf8) { m_items.push_back({std::move(utf8), -1}); }
    void key(int imguiKey) { m_items.push_back({{}, imguiKey}); }
    bool pending() const { return !m_items.empty() || m_held >= 0; }

    // Before ImGui::NewFrame().
    void apply(ImGuiIO& io) {
        int released = -1;
        if (m_held >= 0) {
            io.KeysDown[m_held] = false;
            released = m_held;
            m_held = -1;
        }
        bool typed = false;
        while (!m_items.empty()) {
            Item& item = m_items.front();
            if (item.key < 0) {
                io.AddInputCharactersUTF8(item.text.c_str());
                typed = true;
                m_items.pop_front();
                continue;
            }
            const int index = io.KeyMap[item.key];
            if (typed || index < 0 || index == released) break;  // next frame
            io.KeysDown[index] = true;
            m_held = index;
            m_items.pop_front();
            break;  // text after the key waits until the key has acted
        }
    }

private:
    struct Item {
        std::string text;
        int key;  // ImGuiKey_..., or -1 for text
    };
    std::deque<Item> m_items;
    int m_held = -1;  // io.KeysDown index held since the last frame
};

struct Shell {
    Clock::time_point started = Clock::now();
    GLFWwindow* window = nullptr;
    std::unique_ptr<ck::FieldApp> app;
    std::unique_ptr<ck::desktop::FontAtlas> fonts;
    std::shared_ptr<ck::web::WebStorage> storage = std::make_shared<ck::web::WebStorage>();
    bool firstRun = false;            // no store when the page opened: ask to be kept once made
    bool persistenceChecked = false;  // asked or looked once the store was open
    uint64_t durableSeen = 0;         // a copy completing redraws the "saved" line
    ck::Screen screenSeen = ck::Screen::FirstRun;
    ck::desktop::StyleScale styleScale;
    ck::TouchInput touch;
    bool finger = false;  // the pointer is a finger (site/touch.js says so)
    KeyboardFeed keyboardFeed;
    int keyboardAsked = -1;  // the ck::Keyboard last handed to the page (-1: ask again)
    float contentScale = 1.0f;
    int settle = kSettleFrames;
    bool activity = true;
    bool firstFrameShown = false;
    bool firstBuildMarked = false;
    bool wholeAtlas = false;  // ImGui's atlas has every script's glyphs (not only the main font's)
    uint64_t shown = 0;
    Clock::time_point lastBuilt = Clock::now();
};

Shell* g_shell = nullptr;  // the one shell; the browser's callbacks reach it through here

// Input callbacks run before ImGui's backend sees the event (it chains to them): they only
// note that something happened, so the next frames are built.
void noteActivity() {
    if (g_shell) g_shell->activity = true;
}
void onKey(GLFWwindow*, int, int, int, int) { noteActivity(); }
void onChar(GLFWwindow*, unsigned int) { noteActivity(); }
void onMouseButton(GLFWwindow*, int, int, int) { noteActivity(); }
void onCursorPos(GLFWwindow*, double, double) { noteActivity(); }
void onScroll(GLFWwindow*, double, double) { noteActivity(); }
void onFocus(GLFWwindow*, int) { noteActivity(); }
void onCursorEnter(GLFWwindow*, int) { noteActivity(); }

// Keeps the canvas's backing store at its CSS size x devicePixelRatio: sharp text on a phone.
void followCanvasSize(Shell& s) {
    double cssW = 0, cssH = 0;
    if (emscripten_get_element_css_size(kCanvas, &cssW, &cssH) != EMSCRIPTEN_RESULT_SUCCESS || cssW < 1 || cssH < 1)
        return;
    const double ratio = emscripten_get_device_pixel_ratio();
    s.contentScale = ratio > 0.25 && ratio < 8 ? static_cast<float>(ratio) : 1.0f;
    const int w = static_cast<int>(std::lround(cssW * s.contentScale));
    const int h = static_cast<int>(std::lround(cssH * s.contentScale));
    int curW = 0, curH = 0;
    glfwGetWindowSize(s.window, &curW, &curH);
    if (w != curW || h != curH) {
        glfwSetWindowSize(s.window, w, h);
        s.activity = true;
        s.shown = 0;  // a resized canvas is cleared by the browser: draw again
    }
}

// After each frame the app built: what it changed goes to IndexedDB; the browser is asked to
// keep the data once the first run made the store, or looked at on a later start, and the
// screens get its
// answer and estimate (again whenever Settings is opened).
void storageAfterFrame(Shell& s) {
    s.storage->flushIfChanged();
    ck::AppModel& model = s.app->model();
    // A later start looks at once, so the visits screen has its answer before it first shows
    // (a warning appearing above the list after it is drawn would move rows under a finger).
    if (!s.persistenceChecked && (model.isUnlocked() || !s.firstRun)) {
        s.persistenceChecked = true;
        s.storage->checkPersistence(s.firstRun);
    }
    if (model.screen() != s.screenSeen) {
        s.screenSeen = model.screen();
        if (s.screenSeen == ck::Screen::Settings) s.storage->estimate();
    }
    model.setStorageStatus(s.storage->status());
}

void frame(void* arg) {
    Shell& s = *static_cast<Shell*>(arg);
    try {
        followCanvasSize(s);
        if (const uint64_t durable = s.storage->durableTicket(); durable != s.durableSeen) {
            s.durableSeen = durable;
            s.activity = true;
        }
        if (s.activity) {
            s.activity = false;
            s.settle = kSettleFrames;
        }
        // A finger on the glass (a drag, a fling) or keys to feed: every animation frame.
        const bool touching = s.touch.busy() || s.keyboardFeed.pending();
        const bool animating = s.app->isAnimating() || touching;
        if (!animating && s.settle == 0 && s.app->secondsUntilNextTimer() > 0 && secondsSince(s.lastBuilt) < kMaxIdle)
            return;
        if (animating && !touching && s.settle == 0 && secondsSince(s.lastBuilt) < kBusyFrameInterval) return;
        s.lastBuilt = Clock::now();
        const bool marking = !s.firstBuildMarked;  // the first frame's phases, once
        s.firstBuildMarked = true;
        if (marking) mark("ck-frame-start");

        s.styleScale.apply(s.contentScale);
        // The first frame's atlas has ImGui's glyphs of the main font only (about half the
        // build and texture upload); the whole atlas, for typing in any script, is built on
        // the next frame, once the first is on screen.
        const bool whole = s.firstFrameShown;
        if (s.fonts->needsRebuild(s.app->textScale(), s.contentScale, s.app->fontGeneration()) ||
            (whole && !s.wholeAtlas)) {
            s.fonts->rebuild(s.app->textScale(), s.contentScale, s.app->fontGeneration(), whole);
            s.wholeAtlas = whole;
        }
        s.fonts->setLanguage(s.app->languageCode());
        if (marking) mark("ck-atlas");
        ImGui_ImplOpenGL3_NewFrame();  // the first one compiles the shaders
        ImGui_ImplGlfw_NewFrame();
        if (marking) mark("ck-shaders");
        ImGuiIO& io = ImGui::GetIO();
        if (io.DeltaTime <= 0.0f) io.DeltaTime = 1e-4f;  // a frame run from a touch handler, right after one
        s.touch.setSlop(kTapSlopCss * s.contentScale);
        s.touch.beforeNewFrame(s.finger);
        s.keyboardFeed.apply(io);
        ImGui::NewFrame();
        s.app->drawFrame();
        storageAfterFrame(s);
        s.styleScale.apply(s.contentScale);
        ImGui::Render();
        s.fonts->uploadNewGlyphs();
        if (marking) mark("ck-ui");
        if (s.settle > 0) --s.settle;
        // The phone's keyboard follows the field being edited: shown for it, hidden after it.
        const int keyboard = static_cast<int>(s.app->keyboard());
        if (keyboard != s.keyboardAsked) {
            s.keyboardAsked = keyboard;
            EM_ASM({ if (window.ckKeyboard) window.ckKeyboard.want($0); }, keyboard);
        }

        ImDrawData* data = ImGui::GetDrawData();
        const uint64_t print = ck::desktop::drawFingerprint(data);
        if (print == s.shown) return;
        s.shown = print;
        int w = 0, h = 0;
        glfwGetFramebufferSize(s.window, &w, &h);
        glViewport(0, 0, w, h);
        if (s.app->highContrast()) glClearColor(1.0f, 1.0f, 1.0f, 1.0f);
        else glClearColor(0.08f, 0.08f, 0.09f, 1.0f);
        glClear(GL_COLOR_BUFFER_BIT);
        ImGui_ImplOpenGL3_RenderDrawData(data);

        if (!s.firstFrameShown) {
            s.firstFrameShown = true;
            mark("ck-first-frame");
            const double ms = secondsSince(s.started) * 1000.0;
            // (No commas outside parentheses: EM_ASM is a macro.)
            EM_ASM(
                {
                    var f = {};
                    f.msSinceStart = $0;
                    f.msSinceNavigation = performance.now();
                    window.ckFirstFrame = f;
                    console.log("ck-web first-frame ms-since-main " + $0.toFixed(1) + " ms-since-navigation " +
                                f.msSinceNavigation.toFixed(1));
                },
                ms);
        }
    } catch (const std::exception& e) {
        // The whole run ends here (corrupt store, storage failure): say why, as the desktop does.
        std::fprintf(stderr, "clusterkit: stopped: %s\n", e.what());
        emscripten_cancel_main_loop();
    }
}

}  // namespace

// Test hook (see the top of this file): a named widget's rect in CSS pixels.
extern "C" EMSCRIPTEN_KEEPALIVE const char* ck_item_rect(const char* name) {
    static std::string text;  // returned to JS, which copies it at once
    text.clear();
    if (!g_shell || !g_shell->app) return text.c_str();
    if (auto r = g_shell->app->itemRect(name)) {
        const float k = g_shell->contentScale;
        char line[160];
        std::snprintf(line, sizeof line, "%.1f %.1f %.1f %.1f", r->x0 / k, r->y0 / k, r->x1 / k, r->y1 / k);
        text = line;
    }
    return text.c_str();
}

// The page's touch and keyboard code (site/touch.js) calls these.
// A touch began (1) or a mouse moved or pressed (0): TouchInput handles only fingers.
extern "C" EMSCRIPTEN_KEEPALIVE void ck_pointer_is_finger(int finger) {
    if (g_shell) g_shell->finger = finger != 0;
}

// A finger lifted (its mouseup already given to GLFW). Builds the frame that takes the tap at
// once, inside the page's touchend handler, so a field it activates gets the phone's keyboard:
// a browser shows one only for a focus() made while handling the officer's touch. Returns the
// ck::Keyboard now wanted, plus 256 when the touch was a tap (not a drag).
extern "C" EMSCRIPTEN_KEEPALIVE int ck_touch_end() {
    if (!g_shell || !g_shell->app) return 0;
    Shell& s = *g_shell;
    s.activity = true;
    // A touch shorter than a frame: TouchInput has not seen it land yet; this frame lets it.
    if (!s.touch.pending()) frame(&s);
    const bool tap = s.touch.pending();
    frame(&s);  // the tap's press (its release comes next frame), or the end of a drag
    return static_cast<int>(s.app->keyboard()) | (tap ? 256 : 0);
}

// Text the phone's keyboard typed (UTF-8: a letter, a word an IME committed, a paste).
extern "C" EMSCRIPTEN_KEEPALIVE void ck_keyboard_text(const char* utf8) {
    if (!g_shell || !utf8 || !*utf8) return;
    g_shell->keyboardFeed.text(utf8);
    g_shell->activity = true;
}

// A key the phone's keyboard pressed without a key event GLFW could read ("Backspace",
// "Delete", "Enter"): Android keyboards send most of them as input events only.
extern "C" EMSCRIPTEN_KEEPALIVE void ck_keyboard_key(const char* name) {
    if (!g_shell || !name) return;
    int key = -1;
    if (std::strcmp(name, "Backspace") == 0) key = ImGuiKey_Backspace;
    else if (std::strcmp(name, "Delete") == 0) key = ImGuiKey_Delete;
    else if (std::strcmp(name, "Enter") == 0) key = ImGuiKey_Enter;
    if (key < 0) return;
    g_shell->keyboardFeed.key(key);
    g_shell->activity = true;
}

// Test hook: {"keyboard":K,"font":F,"question":"id","answer":"text","editing":"text"} as JSON:
// the ck::Keyboard wanted, the text's height in CSS px, the open visit's current question and
// its answer, and the text of the field being edited ("" for a passphrase: never handed out).
extern "C" EMSCRIPTEN_KEEPALIVE const char* ck_touch_state() {
    static std::string text;
    text = "{}";
    if (!g_shell || !g_shell->app) return text.c_str();
    auto quoted = [](const std::string& v) {
        std::string out = "\"";
        for (unsigned char c : v) {
            if (c == '"' || c == '\\') out += '\\';
            if (c < 0x20) continue;
            out += static_cast<char>(c);
        }
        return out + "\"";
    };
    const ck::Keyboard keyboard = g_shell->app->keyboard();
    std::string editing;
    const ImGuiContext* g = ImGui::GetCurrentContext();
    if (keyboard != ck::Keyboard::None && keyboard != ck::Keyboard::Password) {
        const ImVector<ImWchar>& w = g->InputTextState.TextW;
        std::string utf8(static_cast<size_t>(g->InputTextState.CurLenW) * 4 + 1, '\0');
        const int n = ImTextStrToUtf8(utf8.data(), static_cast<int>(utf8.size()), w.Data, w.Data + g->InputTextState.CurLenW);
        utf8.resize(static_cast<size_t>(n));
        editing = utf8;
    }
    std::string question, answer;
    const ck::AppModel& model = g_shell->app->model();
    if (const ck::FormSession* session = model.session(); session && model.position().valid()) {
        const ck::Position at = model.position();
        question = session->survey().questions[static_cast<size_t>(at.question)].id;
        const ck::Value& v = session->answer(at.question, at.instance);
        if (v.isAnswered()) answer = v.toString();
    }
    char font[32];  // the text's height in CSS px, as last drawn
    std::snprintf(font, sizeof font, "%.1f", g->FontSize / g_shell->contentScale);
    text = "{\"keyboard\":" + std::to_string(static_cast<int>(keyboard)) + ",\"font\":" + font + ",\"question\":" + quoted(question) +
           ",\"answer\":" + quoted(answer) + ",\"editing\":" + quoted(editing) + "}";
    return text.c_str();
}

// Test hook: the words a named widget showed (a button's label, the error or notice line),
// or "" when it was not drawn.
extern "C" EMSCRIPTEN_KEEPALIVE const char* ck_item_text(const char* name) {
    static std::string text;  // returned to JS, which copies it at once
    text.clear();
    if (!g_shell || !g_shell->app) return text.c_str();
    if (auto r = g_shell->app->itemRect(name)) text = r->label;
    return text.c_str();
}

// Test hook (tests/platforms/web/web_storage.py): what the app holds, as JSON: the screen, the
// save line's state ("saving": committed, copy pending; "saved": durable; "error"), the open
// visit and the question shown, the answer to `questionId` in it as text, the visits listed.
extern "C" EMSCRIPTEN_KEEPALIVE const char* ck_app_state(const char* questionId) {
    static std::string text;  // returned to JS, which copies it at once
    nlohmann::json j;
    if (g_shell && g_shell->app) {
        ck::AppModel& m = g_shell->app->model();
        j["screen"] = int(m.screen());
        j["unlocked"] = m.isUnlocked();
        j["saving"] = m.saving();
        j["saved"] = m.savedAt() != 0 && !m.saving() && m.saveError().empty();
        j["saveError"] = m.saveError();
        j["error"] = m.error();
        if (const ck::FormSession* s = m.session()) {
            j["visit"] = s->recordId();
            if (m.position().valid()) j["question"] = s->survey().questions[size_t(m.position().question)].id;
            int q = s->survey().indexOf(questionId ? questionId : "");
            if (q >= 0 && s->answer(q).isAnswered()) j["answer"] = s->answer(q).toString();
        }
        if (m.isUnlocked() && !m.busy()) {
            auto& visits = j["visits"] = nlohmann::json::array();
            for (const auto& row : m.visits()) visits.push_back({{"id", row.visit.id}, {"title", row.visit.title}});
        }
    }
    text = j.dump();
    return text.c_str();
}

// The page is being left (web_storage_pre.js's listeners): `unloading` 0 when it is only
// hidden (another app, the phone's lock), 1 on pagehide. Hidden: what is not yet in IndexedDB
// is copied now (a hidden tab may be discarded without another event). Pagehide: the store is
// locked first, as FieldApp::prepareToQuit does, without waiting for a running task (the
// browser would not wait for it). Not locked when only hidden: the idle lock still applies on
// return, and unlocking costs Argon2id again (README.md, Figures).
extern "C" EMSCRIPTEN_KEEPALIVE void ck_store_leaving(int unloading) {
    if (!g_shell || !g_shell->app) return;
    ck::AppModel& model = g_shell->app->model();
    if (unloading && !model.busy()) model.lock();
    g_shell->storage->requestDurable();
}

int main() {
    mark("ck-main");
    auto* shell = new Shell;  // lives as long as the page: the browser's loop calls frame()
    g_shell = shell;
    if (!glfwInit()) {
        std::fprintf(stderr, "clusterkit: GLFW could not start\n");
        return 1;
    }
    // WebGL 2 (OpenGL ES 3.0): emscripten's GLFW makes the context for the canvas.
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    shell->window = glfwCreateWindow(412, 915, "ClusterKit", nullptr, nullptr);
    if (!shell->window) {
        std::fprintf(stderr, "clusterkit: this browser could not give the page a WebGL 2 canvas\n");
        return 1;
    }
    glfwMakeContextCurrent(shell->window);
    glfwSetKeyCallback(shell->window, onKey);
    glfwSetCharCallback(shell->window, onChar);
    glfwSetMouseButtonCallback(shell->window, onMouseButton);
    glfwSetCursorPosCallback(shell->window, onCursorPos);
    glfwSetScrollCallback(shell->window, onScroll);
    glfwSetWindowFocusCallback(shell->window, onFocus);
    glfwSetCursorEnterCallback(shell->window, onCursorEnter);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
    io.IniFilename = nullptr;
    io.ConfigInputTextCursorBlink = false;
    ImGui::StyleColorsDark();
    ImGui_ImplGlfw_InitForOpenGL(shell->window, /*install_callbacks=*/true);  // chains to ours
    ImGui_ImplOpenGL3_Init("#version 300 es");
    mark("ck-gl");

    try {
        ck::FieldAppConfig config;
        config.dataDir = kDataDir;
        config.templatesDir = std::string(kAppFiles) + "/survey-templates";
        // Sync goes to the aggregator that served the page unless the slip says otherwise.
        // (EM_ASM, not emscripten_run_script_string: that is eval, which serve's CSP forbids.)
        char origin[512] = {0};
        EM_ASM({ stringToUTF8(location.origin, $0, $1); }, origin, sizeof origin);
        config.defaultAggregatorAddress = origin;
        config.durability = shell->storage;
        if (ck::web::testKdfRequested()) {
            // Automated tests on a loopback server only (web_storage.h); the default is untouched.
            config.kdf = ck::kFastKdf;
            std::fprintf(stderr, "clusterkit: TEST key derivation (?ck-test-kdf on a loopback host): not for real data\n");
        }
        shell->app = std::make_unique<ck::FieldApp>(config);
        mark("ck-app");
        shell->firstRun = !shell->app->model().storeExists();
        if (std::string why = shell->storage->loadError(); !why.empty())
            shell->app->model().reportFailure("IndexedDB: " + why);
        shell->fonts = std::make_unique<ck::desktop::FontAtlas>(std::string(kAppFiles) + "/assets/fonts");
        mark("ck-fonts");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "clusterkit: stopped: %s\n", e.what());
        return 1;
    }
    EM_ASM({
        document.addEventListener("visibilitychange", function() {
            if (document.visibilityState === "hidden") Module["_ck_store_leaving"](0);
        });
        document.addEventListener("freeze", function() { Module["_ck_store_leaving"](0); });
        window.addEventListener("pagehide", function() { Module["_ck_store_leaving"](1); });
    });
    emscripten_set_main_loop_arg(frame, shell, 0, false);
    return 0;
}
