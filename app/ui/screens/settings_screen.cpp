// Settings: language, text size, the high-contrast theme, the idle lock, and the way to the
// change-passphrase screen. All kept in dataDir/settings.json (nothing secret).
#include "app/ui/screens/screens.h"

#include <algorithm>
#include <iterator>
#include <string>

namespace ck {

void drawSettingsScreen(AppModel& model, UiState& ui) {
    const AppSettings& settings = model.settings();
    float s = settings.textScale;
    // In a child that scrolls (by finger too): at the largest text on a small screen the page
    // is taller than the window; the text sizes come first, so the way back to a smaller
    // size is always in view.
    if (!ImGui::BeginChild("settings", ImVec2(0, 0), false)) {
        ImGui::EndChild();
        return;
    }
    ImGui::TextUnformatted(model.ui(Text::Language));
    if (ImGui::RadioButton("English", settings.language == "en")) model.setLanguage("en");
    sameLineIfFits(ImGui::CalcTextSize("\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\xA8\xE0\xA5\x8D\xE0\xA4\xA6\xE0\xA5\x80 (Hindi)").x +
                   ImGui::GetFrameHeight() * 2);
    if (ImGui::RadioButton("\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\xA8\xE0\xA5\x8D\xE0\xA4\xA6\xE0\xA5\x80 (Hindi)",
                           settings.language == "hi"))
        model.setLanguage("hi");

    ImGui::Spacing();
    ImGui::TextUnformatted(model.ui(Text::TextSize));
    const float sizes[] = {0.8f, 1.0f, 1.25f, 1.5f, 2.0f};
    const char* names[] = {"Small", "Normal", "Large", "Larger", "Largest"};
    for (size_t i = 0; i < std::size(sizes); ++i) {
        ImGui::PushID(int(i));
        if (i > 0) sameLineIfFits(bigButtonWidth(names[i], s));
        if (bigButtonEnabled(names[i], settings.textScale != sizes[i], s)) model.setTextScale(sizes[i]);
        recordItem(ui, std::string("text_size_") + names[i]);  // text_size_Normal, ...
        ImGui::PopID();
    }

    ImGui::Spacing();
    bool contrast = settings.highContrast;
    if (ImGui::Checkbox(model.ui(Text::HighContrast, "high_contrast").c_str(), &contrast)) model.setHighContrast(contrast);
    recordItem(ui, "high_contrast");

    ImGui::Spacing();
    int minutes = settings.idleLockMinutes;
    ImGui::SetNextItemWidth(std::min(300 * s, ImGui::GetContentRegionAvail().x * 0.5f));
    if (ImGui::SliderInt(model.ui(Text::IdleLockMinutes, "idle_lock").c_str(), &minutes, 0, 60)) model.setIdleLockMinutes(minutes);

    ImGui::Spacing();
    if (bigButton(model.ui(Text::ChangePassphraseEllipsis, "change_passphrase").c_str(), s)) model.show(Screen::ChangePassphrase);
    recordItem(ui, "change_passphrase");
    dragToScroll();
    ImGui::EndChild();
}

}  // namespace ck
