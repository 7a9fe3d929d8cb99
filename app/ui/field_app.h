#pragma once
// The field app as a library: every screen, the app's state and its background tasks, drawn
// with Dear ImGui but with no window, no GL and no event loop (platforms/desktop owns those,
// as a future platforms/android will). One FieldApp per process.
//
// Frame contract, called by the platform on its thread:
//   platform: poll/wait events -> ImGui_ImplXXX_NewFrame(); ImGui::NewFrame();
//   app.drawFrame();                 // applies finished background work, then draws
//   platform: ImGui::Render(); draw; swap
// Long work (key derivation, finalise, bundle export) runs on the app's task thread, a sync on
// a thread of its own (the screens stay usable meanwhile); results are applied at the start
// of the next drawFrame() (never mid-frame).
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "app/ui/location.h"
#include "app/ui/store_durability.h"
#include "core/crypto/vault.h"
#include "sync/client/sync_client.h"

namespace ck {

class TextureMaker;  // form_images.h
class FormImages;

struct FieldAppConfig {
    std::filesystem::path dataDir;       // the officer's folder: store file, app settings
    // Templates bundled with the app (*.json): imported at first run and again at each unlock
    // (the same text again is a no-op), so an app update's new template versions arrive.
    std::filesystem::path templatesDir;
    KdfParams kdf;                       // Argon2id cost for a new vault (tests pass kFastKdf)
    // Monotonic seconds for the idle lock; empty = std::chrono::steady_clock. Tests inject one.
    std::function<double()> clock;
    // How sync retries a failed request. The default suits a field link; tests shorten it.
    sync::RetryPolicy syncRetry;
    // The device's position for "Capture location" (location.h); null: typed entry only.
    std::shared_ptr<LocationSource> location;
    // How long "Capture location" waits for a fix before saying there is none.
    std::chrono::milliseconds locationTimeout{15'000};
    // Makes the textures of a template's images (form_images.h); null: images are not drawn.
    std::shared_ptr<TextureMaker> textures;
    // The aggregator address the enrolment screen offers until the officer types one: in a
    // browser, the origin that served the page (the aggregator's own `serve --web-app`).
    std::string defaultAggregatorAddress;
    // Makes commits durable after they return (a browser's storage, store_durability.h); null:
    // a commit is durable when SQLite returns (desktop), and "saved" is shown at once.
    std::shared_ptr<StoreDurability> durability;
};

class AppModel;

// Where a named widget was drawn in the last frame (screen pixels), for tests that click it.
struct ItemRect {
    float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    std::string label;  // a button's visible words (without its "###id"); "" for other widgets
    float centerX() const { return (x0 + x1) / 2; }
    float centerY() const { return (y0 + y1) / 2; }
};

// The on-screen keyboard a phone should show for the text field being edited (the platform
// asks after each frame, FieldApp::keyboard()): None when no field is being edited.
enum class Keyboard { None, Text, Decimal, Numeric, Password };

// What the platform needs to know to pick fonts: the text-size setting (1.0 = normal).
// The platform multiplies it by the monitor's content scale and rebuilds the font atlas when
// fontGeneration() changes.
class FieldApp {
public:
    explicit FieldApp(FieldAppConfig config);
    ~FieldApp();  // waits for background work, saves, locks
    FieldApp(const FieldApp&) = delete;
    FieldApp& operator=(const FieldApp&) = delete;

    // Draws the current screen into the current ImGui frame.
    void drawFrame();

    // True while the UI changes without input (a task with a progress bar running, a
    // message fading): the platform then redraws continuously; otherwise it waits for input.
    bool isAnimating() const;
    // Seconds until the app needs a frame without input (the idle lock), or a large number.
    double secondsUntilNextTimer() const;

    float textScale() const;
    int fontGeneration() const;
    bool highContrast() const;
    // The officer's language ("en", "hi", ...): the platform shapes text for it.
    std::string languageCode() const;

    // The keyboard for the text field being edited in the last frame (None: no field is).
    Keyboard keyboard() const;

    // The window is being closed: flush the autosave, lock. Returns when it is safe to exit.
    void prepareToQuit();

    // The state and command layer every screen uses (app_model.h): tests drive it directly.
    AppModel& model();
    // The open template's images as textures (tests count decodes and find textures).
    const FormImages& formImages() const;
    // Test hook: the rect of a widget the screens name ("answer", "next", ...) as drawn in
    // the last frame; nullopt when it was not drawn.
    std::optional<ItemRect> itemRect(std::string_view name) const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

}  // namespace ck
