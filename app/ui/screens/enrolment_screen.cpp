// Enrolment: the aggregator's address and the one-time code. The exchange itself comes with
// the sync work: this screen keeps the address, shows the key's fingerprint once a key is
// set, and says plainly that enrolling is not possible yet.
#include "app/ui/screens/screens.h"

#include <imgui_stdlib.h>

namespace ck {

void drawEnrolmentScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    if (!ui.enrolAddressLoaded) {
        ui.enrolAddress = model.settings().aggregatorAddress;
        ui.enrolAddressLoaded = true;
    }
    auto fingerprint = model.aggregatorFingerprint();
    if (fingerprint) {
        ImGui::TextUnformatted("Enrolled. Aggregator key fingerprint (compare it with the one your coordinator gives):");
        ImGui::TextUnformatted(fingerprint->c_str());
    } else {
        ImGui::TextWrapped("Not enrolled: finished visits wait encrypted on this device. The app is fully usable "
                           "before enrolment.");
    }
    ImGui::Spacing();
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##address", "Aggregator address (https://...)", &ui.enrolAddress);
    recordItem(ui, "enrol_address");
    if (bigButtonEnabled("Save address", ui.enrolAddress != model.settings().aggregatorAddress, s))
        model.setAggregatorAddress(ui.enrolAddress);
    ImGui::BeginDisabled();
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##code", "One-time enrolment code", &ui.enrolCode);
    bigButton("Enrol", s);
    ImGui::EndDisabled();
    hintText("Enrolling with the one-time code arrives with the sync feature. Until then the address is kept "
             "and finished visits stay in the outbox, encrypted.");
}

}  // namespace ck
