#pragma once
// Shared by the field app's tests: scratch folders, a clock the test moves, an ImGui context
// with no renderer (as ImGui's example_null) and real input fed through ImGuiIO.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <imgui.h>
#include <imgui_internal.h>

#include "app/ui/app_model.h"
#include "app/ui/field_app.h"

namespace ck::test {

inline constexpr const char* kPassphrase = "tiruppur-knits-2026";
inline constexpr const char* kFlagshipId = "cluster-diagnostic";

// A fresh, empty folder under CK_BINARY_DIR/test-scratch/ui-<pid>/.
std::filesystem::path scratchDir(const std::string& name);
std::string readText(const std::filesystem::path& path);
Date testToday();  // 2026-11-23

// Monotonic seconds the test advances by hand.
struct FakeClock {
    std::shared_ptr<double> now = std::make_shared<double>(1000.0);
    void advance(double seconds) { *now += seconds; }
    std::function<double()> fn() const {
        return [now = now] { return *now; };
    }
};

// kFastKdf, the bundled templates, the fake clock.
FieldAppConfig makeConfig(const std::filesystem::path& dir, const FakeClock& clock);

// Creates the store through the model and waits for it.
void createStore(AppModel& model);
void unlockStore(AppModel& model, const std::string& passphrase = kPassphrase);
// Creates the store, sets the test day, and opens a flagship visit holding every answer of
// tests/data/answers/knitwear-complete.json (a complete, valid visit).
void openCompleteFlagshipVisit(AppModel& model);

// The words written in Latin letters in `text` that a translation may not keep: a run of
// ASCII letters (with digits or hyphens) is allowed when it holds a digit (a code) or is on
// survey-templates/glossary/latin-allowed.json (ClusterKit, GPS, JSON, ...), as in the
// translation check. Empty: `text` holds no English.
std::vector<std::string> latinWordsNotAllowed(std::string_view text);

// One ImGui context with a built default font atlas and no renderer.
class HeadlessImGui {
public:
    HeadlessImGui();
    ~HeadlessImGui();
    HeadlessImGui(const HeadlessImGui&) = delete;
    HeadlessImGui& operator=(const HeadlessImGui&) = delete;

    void frame(FieldApp& app);            // NewFrame, drawFrame, Render
    void frames(FieldApp& app, int count);
    // A click: the mouse moves onto the point, goes down for a frame, up for a frame.
    void click(FieldApp& app, float x, float y);
    // Clicks the widget the app recorded under `name` in the last frame (fails the test if absent).
    void clickItem(FieldApp& app, const std::string& name);
    // Switches the language as the officer does: a click on the top bar's drop-down
    // ("language"), then on the language's entry in its list ("lang_<code>").
    void chooseLanguage(FieldApp& app, const std::string& code);
    void type(FieldApp& app, const std::string& utf8);
    void pressEnter(FieldApp& app);
    // Drags with the left button from (x, y) by (dx, dy) in `steps` frames.
    void drag(FieldApp& app, float x, float y, float dx, float dy, int steps);
};

}  // namespace ck::test
