// First run: the officer sets the passphrase that protects everything typed on this device.
#include "app/ui/screens/screens.h"

#include <imgui_stdlib.h>

namespace ck {

void drawFirstRunScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    ImGui::TextWrapped("%s", model.ui(Text::Welcome));
    ImGui::Spacing();
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##new", model.ui(Text::Passphrase), &ui.newPassphrase, ImGuiInputTextFlags_Password);
    askKeyboard(ui, Keyboard::Password);
    recordItem(ui, "new_passphrase");
    // The reason a passphrase would be refused, live while typing.
    auto problem = model.passphraseProblem(ui.newPassphrase);
    if (!ui.newPassphrase.empty()) {
        if (problem) {
            problemText(*problem);
            recordItem(ui, "passphrase_problem", *problem);  // the words, for the tests
        } else
            ImGui::TextUnformatted(model.ui(Text::StrongEnough));
    }
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##confirm", model.ui(Text::SamePassphraseAgain), &ui.confirmPassphrase,
                             ImGuiInputTextFlags_Password);
    askKeyboard(ui, Keyboard::Password);
    recordItem(ui, "confirm_passphrase");
    bool same = ui.newPassphrase == ui.confirmPassphrase;
    if (!ui.confirmPassphrase.empty() && !same) problemText(model.ui(Text::EntriesDiffer));
    if (bigButtonEnabled(model.ui(Text::Create, "create").c_str(), !problem && same, s, -1) &&
        model.createVault(ui.newPassphrase, ui.confirmPassphrase)) {
        wipe(ui.newPassphrase);
        wipe(ui.confirmPassphrase);
    }
    recordItem(ui, "create");
}

}  // namespace ck
