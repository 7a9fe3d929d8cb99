#include "app/ui/field_app.h"

#include "app/ui/app_model.h"
#include "app/ui/screens/screens.h"
#include "app/ui/widgets.h"

#include <imgui_internal.h>

// Fonts: the platform loads the fonts of assets/fonts/scripts.json at textScale() x the
// monitor's content scale, and every string ImGui draws is shaped by ck::text::TextEngine
// (app/ui/text: HarfBuzz, one font per script), so conjuncts, reph and pre-base matras are
// formed as they should be. The screens draw with ImGui's ordinary calls.

namespace ck {

struct FieldApp::State {
    explicit State(FieldAppConfig config) : model(std::move(config)) {}
    AppModel model;
    UiState ui;
};

FieldApp::FieldApp(FieldAppConfig config) : m_state(std::make_unique<State>(std::move(config))) {}

FieldApp::~FieldApp() { prepareToQuit(); }

AppModel& FieldApp::model() { return m_state->model; }

std::optional<ItemRect> FieldApp::itemRect(std::string_view name) const {
    auto it = m_state->ui.itemRects.find(name);
    if (it == m_state->ui.itemRects.end()) return std::nullopt;
    return it->second;
}

namespace {

void drawScreen(AppModel& model, UiState& ui, ImGuiWindowFlags flags);

// ImGui describes each stack it unwinds after a failure; the failure itself is what we show.
void ignoreRecoveryNote(void*, const char*, ...) {}

bool officerDidSomething(const ImGuiIO& io) {
    if (io.MouseDelta.x != 0 || io.MouseDelta.y != 0 || io.MouseWheel != 0 || io.MouseWheelH != 0) return true;
    if (io.InputQueueCharacters.Size > 0) return true;
    for (bool down : io.MouseDown)
        if (down) return true;
    for (float d : io.KeysDownDuration)
        if (d == 0.0f) return true;
    return false;
}

void drawTopBar(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    ImGui::TextUnformatted("ClusterKit");
    ImGui::SameLine();
    if (model.isUnlocked() && !model.busy()) {
        struct Tab {
            const char* label;  // the fixed id (tab_Sync for the tests); `words` is what shows
            Text words;
            Screen screen;
        };
        // The form tab only while a visit is open; the others always.
        const Tab tabs[] = {{"Visits", Text::NavVisits, Screen::Visits},
                            {"Form", Text::NavForm, Screen::Form},
                            {"Sync", Text::NavSync, Screen::Sync},
                            {"Enrolment", Text::NavEnrolment, Screen::Enrolment},
                            {"Settings", Text::NavSettings, Screen::Settings}};
        for (const auto& tab : tabs) {
            if (tab.screen == Screen::Form && !model.session()) continue;
            ImGui::PushID(int(tab.screen));
            ImGui::SameLine();
            bool current = model.screen() == tab.screen;
            if (current) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_ButtonActive));
            if (bigButton(model.ui(tab.words, tab.label).c_str(), s)) model.show(tab.screen);
            recordItem(ui, std::string("tab_") + tab.label);  // tab_Sync, tab_Enrolment, ...
            if (current) ImGui::PopStyleColor();
            ImGui::PopID();
        }
        ImGui::SameLine();
        if (bigButton(model.ui(Text::NavLock, "lock").c_str(), s)) model.lock();
        recordItem(ui, "lock");
    }
    // Language at any moment, even mid-question: answers stay in the session. The switch
    // offers the open template's languages (AppModel::offeredLanguages), each in its own script.
    // Up to six names: one that would pass the window's edge starts the next line.
    for (const std::string& code : model.offeredLanguages()) {
        const char* name = uiLanguageName(code);
        std::string label = std::string(name ? name : code.c_str()) + "###lang_" + code;
        ImGui::SameLine();
        float width = ImGui::CalcTextSize(label.c_str(), nullptr, true).x + 2 * ImGui::GetStyle().FramePadding.x + 24 * s;
        if (ImGui::GetContentRegionAvail().x < width) ImGui::NewLine();
        if (bigButtonEnabled(label.c_str(), model.languageCode() != code, s)) model.setLanguage(code);
        recordItem(ui, "lang_" + code);
    }
    ImGui::Separator();
}

}  // namespace

void FieldApp::drawFrame() {
    AppModel& model = m_state->model;
    UiState& ui = m_state->ui;
    IM_ASSERT(ImGui::GetCurrentContext() && "FieldApp::drawFrame() outside a frame: call ImGui::NewFrame() first");
    const ImGuiIO& io = ImGui::GetIO();
    if (officerDidSomething(io)) model.noteActivity();
    model.beginFrame();
    applyTheme(ui, model.settings().highContrast, model.settings().textScale);
    ui.itemRects.clear();

    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(io.DisplaySize);
    const ImGuiWindowFlags flags = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                                   ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
    try {
        drawScreen(model, ui, flags);
    } catch (const std::exception& e) {
        // A failure of the storage itself (disk full, I/O error) in a command a screen sent:
        // close what the screen had open (windows, tables, ID and style stacks), show why,
        // and carry on; every earlier save is intact.
        ImGui::ErrorCheckEndFrameRecover(ignoreRecoveryNote);
        model.reportFailure(model.ui(Text::StorageFailed) + std::string(e.what()));
    }
}

namespace {

void drawScreen(AppModel& model, UiState& ui, ImGuiWindowFlags flags) {
    if (ImGui::Begin("ClusterKit", nullptr, flags)) {
        drawTopBar(model, ui);
        if (!model.error().empty()) problemText(model.error());
        if (!model.notice().empty()) ImGui::TextWrapped("%s", model.notice().c_str());
        if (model.syncing() && model.screen() != Screen::Sync) {
            // The sync runs in the background: one line on every screen says how it goes
            // (the Sync screen has the progress bar and Cancel).
            spinner(8.0f * model.settings().textScale);
            ImGui::SameLine();
            ImGui::TextUnformatted(model.syncStatus().c_str());
            recordItem(ui, "sync_status");
        }
        if (model.busy()) {
            // The store and the session belong to the task thread now: show only progress.
            float r = 24.0f * model.settings().textScale;
            spinner(r);
            ImGui::SameLine();
            ImGui::TextUnformatted(model.busyLabel().c_str());
        } else {
            switch (model.screen()) {
                case Screen::FirstRun: drawFirstRunScreen(model, ui); break;
                case Screen::Unlock: drawUnlockScreen(model, ui); break;
                case Screen::ChangePassphrase: drawChangePassphraseScreen(model, ui); break;
                case Screen::Visits: drawVisitsScreen(model, ui); break;
                case Screen::Form: drawFormScreen(model, ui); break;
                case Screen::Review: drawReviewScreen(model, ui); break;
                case Screen::Sync: drawSyncScreen(model, ui); break;
                case Screen::Enrolment: drawEnrolmentScreen(model, ui); break;
                case Screen::Settings: drawSettingsScreen(model, ui); break;
            }
        }
    }
    ImGui::End();
}

}  // namespace

bool FieldApp::isAnimating() const { return m_state->model.busy() || m_state->model.syncing(); }

double FieldApp::secondsUntilNextTimer() const { return m_state->model.secondsUntilIdleLock(); }

float FieldApp::textScale() const { return m_state->model.settings().textScale; }

int FieldApp::fontGeneration() const { return m_state->model.fontGeneration(); }

bool FieldApp::highContrast() const { return m_state->model.settings().highContrast; }

std::string FieldApp::languageCode() const { return m_state->model.languageCode(); }

void FieldApp::prepareToQuit() {
    m_state->model.waitForTasks();
    m_state->model.lock();
}

}  // namespace ck
