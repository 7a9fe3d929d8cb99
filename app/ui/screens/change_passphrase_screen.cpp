// Change passphrase: re-wraps the store's key under a new passphrase (on the task thread).
#include "app/ui/screens/screens.h"

#include <imgui_stdlib.h>

namespace ck {

void drawChangePassphraseScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    ImGui::TextUnformatted(model.ui(Text::ChangePassphrase));
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##old", model.ui(Text::CurrentPassphrase), &ui.oldPassphrase, ImGuiInputTextFlags_Password);
    askKeyboard(ui, Keyboard::Password);
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##new", model.ui(Text::NewPassphrase), &ui.newPassphrase, ImGuiInputTextFlags_Password);
    askKeyboard(ui, Keyboard::Password);
    auto problem = model.passphraseProblem(ui.newPassphrase);
    if (!ui.newPassphrase.empty() && problem) {
        problemText(*problem);
        recordItem(ui, "passphrase_problem", *problem);
    }
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##confirm", model.ui(Text::NewPassphraseAgain), &ui.confirmPassphrase, ImGuiInputTextFlags_Password);
    askKeyboard(ui, Keyboard::Password);
    bool same = ui.newPassphrase == ui.confirmPassphrase;
    if (!ui.confirmPassphrase.empty() && !same) problemText(model.ui(Text::NewEntriesDiffer));
    bool ready = !ui.oldPassphrase.empty() && !problem && same;
    if (bigButtonEnabled(model.ui(Text::ChangePassphrase, "change").c_str(), ready, s) &&
        model.changePassphrase(ui.oldPassphrase, ui.newPassphrase, ui.confirmPassphrase)) {
        wipe(ui.oldPassphrase);
        wipe(ui.newPassphrase);
        wipe(ui.confirmPassphrase);
    }
    const std::string back = model.ui(Text::BackToSettings, "back");
    sameLineIfFits(bigButtonWidth(back.c_str(), s));
    if (bigButton(back.c_str(), s)) model.show(Screen::Settings);
}

}  // namespace ck
