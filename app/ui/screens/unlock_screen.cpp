// Unlock: the passphrase opens the store; key derivation runs on the task thread.
#include "app/ui/screens/screens.h"

#include <imgui_stdlib.h>

namespace ck {

void drawUnlockScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    ImGui::TextWrapped("%s", model.ui(Text::LockedPrompt));
    ImGui::SetNextItemWidth(-1);
    bool enter = ImGui::InputTextWithHint("##unlock", model.ui(Text::Passphrase), &ui.unlockPassphrase,
                                          ImGuiInputTextFlags_Password | ImGuiInputTextFlags_EnterReturnsTrue);
    askKeyboard(ui, Keyboard::Password);
    recordItem(ui, "unlock_passphrase");
    bool press = bigButtonEnabled(model.ui(Text::Unlock, "unlock").c_str(), !ui.unlockPassphrase.empty(), s, -1);
    recordItem(ui, "unlock");
    if ((enter || press) && !ui.unlockPassphrase.empty() && model.unlock(ui.unlockPassphrase))
        wipe(ui.unlockPassphrase);
}

}  // namespace ck
