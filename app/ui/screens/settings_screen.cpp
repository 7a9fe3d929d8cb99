// Settings: language, text size, the high-contrast theme, the idle lock, the way to the
// change-passphrase screen, and in a browser what it says about keeping the store. The
// settings are kept in dataDir/settings.json (nothing secret).
#include "app/ui/screens/screens.h"

#include <algorithm>
#include <cstdio>
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
    ImGui::TextUnformatted(model.ui(Text::TextSize));
    const float sizes[] = {0.8f, 1.0f, 1.25f, 1.5f, 2.0f};
    const Text names[] = {Text::SizeSmall, Text::SizeNormal, Text::SizeLarge, Text::SizeLarger, Text::SizeLargest};
    const char* ids[] = {"small", "normal", "large", "larger", "largest"};
    for (size_t i = 0; i < std::size(sizes); ++i) {
        ImGui::PushID(int(i));
        const std::string label = model.ui(names[i], ids[i]);
        if (i > 0) sameLineIfFits(bigButtonWidth(label.c_str(), s));
        if (bigButtonEnabled(label.c_str(), settings.textScale != sizes[i], s)) model.setTextScale(sizes[i]);
        recordItem(ui, std::string("text_size_") + ids[i]);  // text_size_small, ... (the same in every language)
        ImGui::PopID();
    }

    ImGui::Spacing();
    bool contrast = settings.highContrast;
    if (ImGui::Checkbox(model.ui(Text::HighContrast, "high_contrast").c_str(), &contrast)) model.setHighContrast(contrast);
    recordItem(ui, "high_contrast");

    // The languages after the display settings: the top bar switches them on every screen, so
    // this list (six names, several lines at the largest text) never pushes those off screen.
    ImGui::Spacing();
    ImGui::TextUnformatted(model.ui(Text::Language));
    bool first = true;
    for (const std::string& code : model.offeredLanguages()) {
        const std::string label = uiLanguageLabel(code, "setting_lang_");
        if (!first) sameLineIfFits(ImGui::CalcTextSize(label.c_str(), nullptr, true).x + ImGui::GetFrameHeight() * 2);
        first = false;
        if (ImGui::RadioButton(label.c_str(), settings.language == code)) model.setLanguage(code);
        recordItem(ui, "setting_lang_" + code);
    }

    ImGui::Spacing();
    int minutes = settings.idleLockMinutes;
    ImGui::SetNextItemWidth(std::min(300 * s, ImGui::GetContentRegionAvail().x * 0.5f));
    if (ImGui::SliderInt(model.ui(Text::IdleLockMinutes, "idle_lock").c_str(), &minutes, 0, 60)) model.setIdleLockMinutes(minutes);

    ImGui::Spacing();
    if (bigButton(model.ui(Text::ChangePassphraseEllipsis, "change_passphrase").c_str(), s)) model.show(Screen::ChangePassphrase);
    recordItem(ui, "change_passphrase");

    // Where the store is kept, when the platform knows (a browser: persistence and estimate).
    const StorageStatus& storage = model.storageStatus();
    if (storage.persistent) {
        ImGui::Spacing();
        if (*storage.persistent) ImGui::TextWrapped("%s", model.ui(Text::StoragePersistent));
        else problemText(model.ui(Text::StorageMayBeCleared));
        recordItem(ui, "storage_persistence");
    }
    if (storage.usageBytes >= 0 && storage.quotaBytes > 0) {
        auto mb = [](int64_t bytes) {
            char text[32];
            std::snprintf(text, sizeof text, "%.1f", double(bytes) / (1024.0 * 1024.0));
            return std::string(text);
        };
        ImGui::TextWrapped("%s", fillPlaceholders(model.ui(Text::StorageUsage), {mb(storage.usageBytes), mb(storage.quotaBytes)}).c_str());
        recordItem(ui, "storage_usage");
    }
    dragToScroll();
    ImGui::EndChild();
}

}  // namespace ck
