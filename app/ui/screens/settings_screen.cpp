// Settings: language, text size, the high-contrast theme, the idle lock, and the way to the
// change-passphrase screen. All kept in dataDir/settings.json (nothing secret).
#include "app/ui/screens/screens.h"

namespace ck {

void drawSettingsScreen(AppModel& model, UiState& ui) {
    const AppSettings& settings = model.settings();
    float s = settings.textScale;
    ImGui::TextUnformatted(model.ui(Text::Language));
    bool first = true;
    for (const std::string& code : model.offeredLanguages()) {
        if (!first) ImGui::SameLine();
        first = false;
        const char* name = uiLanguageName(code);
        std::string label = std::string(name ? name : code.c_str()) + "###setting_lang_" + code;
        if (ImGui::RadioButton(label.c_str(), settings.language == code)) model.setLanguage(code);
        recordItem(ui, "setting_lang_" + code);
    }

    ImGui::Spacing();
    ImGui::TextUnformatted(model.ui(Text::TextSize));
    const float sizes[] = {0.8f, 1.0f, 1.25f, 1.5f, 2.0f};
    const Text names[] = {Text::SizeSmall, Text::SizeNormal, Text::SizeLarge, Text::SizeLarger, Text::SizeLargest};
    const char* ids[] = {"small", "normal", "large", "larger", "largest"};
    for (size_t i = 0; i < std::size(sizes); ++i) {
        ImGui::PushID(int(i));
        if (i > 0) ImGui::SameLine();
        if (bigButtonEnabled(model.ui(names[i], ids[i]).c_str(), settings.textScale != sizes[i], s)) model.setTextScale(sizes[i]);
        recordItem(ui, std::string("text_size_") + ids[i]);
        ImGui::PopID();
    }

    ImGui::Spacing();
    bool contrast = settings.highContrast;
    if (ImGui::Checkbox(model.ui(Text::HighContrast, "high_contrast").c_str(), &contrast)) model.setHighContrast(contrast);
    recordItem(ui, "high_contrast");

    ImGui::Spacing();
    int minutes = settings.idleLockMinutes;
    ImGui::SetNextItemWidth(300 * s);
    if (ImGui::SliderInt(model.ui(Text::IdleLockMinutes, "idle_lock").c_str(), &minutes, 0, 60)) model.setIdleLockMinutes(minutes);

    ImGui::Spacing();
    if (bigButton(model.ui(Text::ChangePassphraseEllipsis, "change_passphrase").c_str(), s)) model.show(Screen::ChangePassphrase);
    recordItem(ui, "change_passphrase");
}

}  // namespace ck
