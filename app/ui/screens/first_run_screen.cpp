// First run: the officer sets the passphrase that protects everything typed on this device.
#include "app/ui/screens/screens.h"

#include <imgui_stdlib.h>

namespace ck {

void drawFirstRunScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    ImGui::TextWrapped("Welcome. Choose a passphrase: it protects every answer stored on this device. "
                       "It cannot be recovered if forgotten, so choose one you can remember.");
    ImGui::Spacing();
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##new", "Passphrase", &ui.newPassphrase, ImGuiInputTextFlags_Password);
    recordItem(ui, "new_passphrase");
    // The reason a passphrase would be refused, live while typing.
    auto problem = AppModel::passphraseProblem(ui.newPassphrase);
    if (!ui.newPassphrase.empty()) {
        if (problem)
            problemText(*problem);
        else
            ImGui::TextUnformatted("Strong enough.");
    }
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##confirm", "The same passphrase again", &ui.confirmPassphrase,
                             ImGuiInputTextFlags_Password);
    recordItem(ui, "confirm_passphrase");
    bool same = ui.newPassphrase == ui.confirmPassphrase;
    if (!ui.confirmPassphrase.empty() && !same) problemText("The two entries differ.");
    if (bigButtonEnabled(model.ui(Text::Create, "create").c_str(), !problem && same, s, -1) &&
        model.createVault(ui.newPassphrase, ui.confirmPassphrase)) {
        wipe(ui.newPassphrase);
        wipe(ui.confirmPassphrase);
    }
    recordItem(ui, "create");
}

}  // namespace ck
