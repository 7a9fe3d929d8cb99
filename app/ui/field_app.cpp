#include "app/ui/field_app.h"

#include "app/ui/app_model.h"
#include "app/ui/form_images.h"
#include "app/ui/screens/screens.h"
#include "app/ui/widgets.h"

#include <algorithm>
#include <iterator>
#include <vector>

#include <imgui_internal.h>

// Fonts: the platform loads the fonts of assets/fonts/scripts.json at textScale() x the
// monitor's content scale, and every string ImGui draws is shaped by ck::text::TextEngine
// (app/ui/text: HarfBuzz, one font per script), so conjuncts, reph and pre-base matras are
// formed as they should be. The screens draw with ImGui's ordinary calls.

namespace ck {

struct FieldApp::State {
    explicit State(FieldAppConfig config) : images(config.textures), model(std::move(config)) {
        ui.images = &images;
    }
    FormImages images;  // before the model: freed after it, once nothing draws
    AppModel model;
    UiState ui;
};

FieldApp::FieldApp(FieldAppConfig config) : m_state(std::make_unique<State>(std::move(config))) {}

FieldApp::~FieldApp() { prepareToQuit(); }

AppModel& FieldApp::model() { return m_state->model; }

const FormImages& FieldApp::formImages() const { return m_state->images; }

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

struct Tab {
    const char* label;  // the fixed id (tab_Sync for the tests); `words` is what shows
    Text words;
    Screen screen;
};
const Tab kTabs[] = {{"Visits", Text::NavVisits, Screen::Visits},
                     {"Form", Text::NavForm, Screen::Form},
                     {"Sync", Text::NavSync, Screen::Sync},
                     {"Enrolment", Text::NavEnrolment, Screen::Enrolment},
                     {"Settings", Text::NavSettings, Screen::Settings}};

// The tab a screen belongs to (review is part of the form, a passphrase change of settings).
Screen tabOf(Screen screen) {
    if (screen == Screen::Review) return Screen::Form;
    if (screen == Screen::ChangePassphrase) return Screen::Settings;
    return screen;
}

// The language switch's width: the widest offered name and the combo's arrow, so the bar does
// not move when the language changes.
float languageSwitchWidth(const std::vector<std::pair<std::string, std::string>>& languages, float s) {
    float widest = 0;
    for (const auto& [code, label] : languages) widest = std::max(widest, ImGui::CalcTextSize(label.c_str(), nullptr, true).x);
    const ImGuiStyle& style = ImGui::GetStyle();
    const float arrow = std::max(touchHeight(s), ImGui::GetFrameHeight());  // a square as tall as the combo
    return widest + 2 * style.FramePadding.x + arrow;
}

// Language at any moment, even mid-question: answers stay in the session. One drop-down
// showing the current language in its own script ("हिन्दी"); its list offers the open
// template's languages (AppModel::offeredLanguages), each in its own script. Six languages as
// a row of buttons folded the screens into a menu even at 1280 px; one control does not.
// The combo is "language" and each entry "lang_<code>" for the tests (ids fixed whatever the
// language shown).
void drawLanguageSwitch(AppModel& model, UiState& ui, const std::vector<std::pair<std::string, std::string>>& languages,
                        float width, float s) {
    const std::string& current = model.languageCode();
    const char* name = uiLanguageName(current);
    const std::string preview = name ? name : current;
    // As tall as every other control of the bar (a combo is one text line tall by itself).
    const ImVec2 pad = ImGui::GetStyle().FramePadding;
    const float h = touchHeight(s);
    ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(pad.x, std::max(pad.y, (h - ImGui::GetFontSize()) * 0.5f)));
    const ImVec2 at = ImGui::GetCursorScreenPos();
    const float frameHeight = ImGui::GetFrameHeight();
    ImGui::SetNextItemWidth(width);
    const bool open = ImGui::BeginCombo("###language", preview.c_str(), ImGuiComboFlags_HeightLargest);
    ImGui::PopStyleVar();
    // The combo's own rect (once its list is open, the last item is the list's window).
    ui.itemRects["language"] = ItemRect{at.x, at.y, at.x + width, at.y + frameHeight, preview};
    if (!open) return;
    ImGui::PushStyleVar(ImGuiStyleVar_SelectableTextAlign, ImVec2(0.0f, 0.5f));  // names mid-row
    for (const auto& [code, label] : languages) {
        if (ImGui::Selectable(label.c_str(), code == current, 0, ImVec2(0, h)) && code != current) model.setLanguage(code);
        recordItem(ui, "lang_" + code, label.substr(0, label.find("###")));
    }
    ImGui::PopStyleVar();
    ImGui::EndCombo();
}

// The bar on every screen: the screens, Lock, and the language switch. When it does not fit
// on one line (a phone in portrait, the largest text) the screens fold into a menu under the
// current screen's name, so Lock and the language switch always stay on screen.
void drawTopBar(AppModel& model, UiState& ui) {
    const float s = model.settings().textScale;
    const float spacing = ImGui::GetStyle().ItemSpacing.x;
    const bool withTabs = model.isUnlocked() && !model.busy();
    std::vector<const Tab*> tabs;
    std::vector<std::string> words;
    if (withTabs) {
        for (const auto& tab : kTabs) {
            if (tab.screen == Screen::Form && !model.session()) continue;  // the form only while a visit is open
            tabs.push_back(&tab);
            words.push_back(model.ui(tab.words, tab.label));
        }
    }
    const std::string lockLabel = model.ui(Text::NavLock, "lock");
    float tail = 0;  // Lock and the language switch
    if (withTabs) tail += bigButtonWidth(lockLabel.c_str(), s) + spacing;
    // Each language by its own name ("###lang_<code>" keeps its id whatever the name).
    std::vector<std::pair<std::string, std::string>> languages;  // code, label
    for (const std::string& code : model.offeredLanguages()) languages.emplace_back(code, uiLanguageLabel(code, "lang_"));
    const float switchWidth = languageSwitchWidth(languages, s);
    tail += switchWidth + spacing;
    float full = ImGui::CalcTextSize("ClusterKit").x + tail;
    for (const auto& w : words) full += bigButtonWidth(w.c_str(), s) + spacing;
    const bool fold = withTabs && full > ImGui::GetContentRegionAvail().x;

    if (!fold) {
        ImGui::TextUnformatted("ClusterKit");
        for (size_t i = 0; i < tabs.size(); ++i) {
            const Tab& tab = *tabs[i];
            ImGui::PushID(int(tab.screen));
            sameLineIfFits(bigButtonWidth(words[i].c_str(), s));
            bool current = tabOf(model.screen()) == tab.screen;
            if (current) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_ButtonActive));
            if (bigButton(words[i].c_str(), s)) model.show(tab.screen);
            recordItem(ui, std::string("tab_") + tab.label);  // tab_Sync, tab_Enrolment, ...
            if (current) ImGui::PopStyleColor();
            ImGui::PopID();
        }
    } else {
        // The current screen's name with a down arrow; the menu lists every screen.
        std::string current = words.front();
        for (size_t i = 0; i < tabs.size(); ++i)
            if (tabs[i]->screen == tabOf(model.screen())) current = words[i];
        const float arrow = ImGui::GetFontSize();
        const std::string menuLabel = current + "###screens_menu";
        if (bigButton(menuLabel.c_str(), s, bigButtonWidth(menuLabel.c_str(), s) + 2 * arrow)) ImGui::OpenPopup("screens");
        recordItem(ui, "screens_menu");
        const ImVec2 max = ImGui::GetItemRectMax(), min = ImGui::GetItemRectMin();
        ImGui::RenderArrow(ImGui::GetWindowDrawList(), ImVec2(max.x - arrow * 1.5f, (min.y + max.y - arrow) / 2),
                           ImGui::GetColorU32(ImGuiCol_Text), ImGuiDir_Down);
        if (ImGui::BeginPopup("screens")) {
            float width = 0;
            for (const auto& w : words) width = std::max(width, bigButtonWidth(w.c_str(), s));
            for (size_t i = 0; i < tabs.size(); ++i) {
                ImGui::PushID(int(tabs[i]->screen));
                if (bigButton(words[i].c_str(), s, width)) {
                    model.show(tabs[i]->screen);
                    ImGui::CloseCurrentPopup();
                }
                recordItem(ui, std::string("tab_") + tabs[i]->label);
                ImGui::PopID();
            }
            ImGui::EndPopup();
        }
    }
    if (withTabs) {
        sameLineIfFits(bigButtonWidth(lockLabel.c_str(), s));
        if (bigButton(lockLabel.c_str(), s)) model.lock();
        recordItem(ui, "lock");
    }
    // On the same line when it fits, else it starts the next one.
    sameLineIfFits(switchWidth);
    drawLanguageSwitch(model, ui, languages, switchWidth, s);
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
    // A template's images are held only while one of its visits is open (unlocked).
    if (!model.isUnlocked() || !model.session()) m_state->images.clear();
    applyTheme(ui, model.settings().highContrast, model.settings().textScale);
    ui.itemRects.clear();
    ui.keyboardField = 0;
    ui.displayShrank = ui.displayHeight > 0 && io.DisplaySize.y < ui.displayHeight - 0.5f;
    ui.displayHeight = io.DisplaySize.y;

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
        model.reportFailure(model.ui(Text::StorageFailed) + technicalDetail(e.what(), model.languageCode()));
    }
}

namespace {

void drawScreen(AppModel& model, UiState& ui, ImGuiWindowFlags flags) {
    if (ImGui::Begin("ClusterKit", nullptr, flags)) {
        drawTopBar(model, ui);
        if (!model.error().empty()) {
            problemText(model.error());
            recordItem(ui, "error", model.error());  // for tests that read what the officer read
        }
        if (!model.notice().empty()) {
            ImGui::TextWrapped("%s", model.notice().c_str());
            recordItem(ui, "notice", model.notice());
        }
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

Keyboard FieldApp::keyboard() const {
    // ImGui 1.86 keeps the state of the one field being edited; its id is the active id.
    const ImGuiContext* g = ImGui::GetCurrentContext();
    if (!g || g->ActiveId == 0 || g->InputTextState.ID != g->ActiveId) return Keyboard::None;
    // (Its flags are cleared after each frame: a passphrase field says so with askKeyboard.)
    if (m_state->ui.keyboardField == g->ActiveId) return m_state->ui.keyboard;
    return Keyboard::Text;
}

float FieldApp::textScale() const { return m_state->model.settings().textScale; }

int FieldApp::fontGeneration() const { return m_state->model.fontGeneration(); }

bool FieldApp::highContrast() const { return m_state->model.settings().highContrast; }

std::string FieldApp::languageCode() const { return m_state->model.languageCode(); }

void FieldApp::prepareToQuit() {
    m_state->model.waitForTasks();
    m_state->model.lock();
    m_state->images.clear();  // while the platform's renderer is still there
}

}  // namespace ck
