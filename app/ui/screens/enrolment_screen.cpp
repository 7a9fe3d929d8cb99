// Enrolment: the officer types what the coordinator's enrolment slip says (the aggregator's
// address, its server key and a one-time code) and the device enrols itself. Afterwards the
// screen shows whom the device belongs to and the two key fingerprints to compare with the
// slip: a fingerprint that differs means the device is talking to someone else.
#include "app/ui/screens/screens.h"

#include <imgui_stdlib.h>

#include "core/crypto/envelope.h"

namespace ck {

void drawEnrolmentScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    if (!ui.enrolAddressLoaded) {
        ui.enrolAddress = model.settings().aggregatorAddress;
        ui.enrolAddressLoaded = true;
    }
    auto settings = model.syncSettings();
    if (settings) {
        ImGui::TextWrapped("This device is enrolled with %s as officer %s, cluster %s.",
                           settings->aggregatorName.empty() ? "the aggregator" : settings->aggregatorName.c_str(),
                           settings->officer.c_str(), settings->cluster.c_str());
        ImGui::TextWrapped("Aggregator: %s", settings->serverUrl.c_str());
        ImGui::TextUnformatted("Key fingerprints (they must match the enrolment slip):");
        if (auto fingerprint = model.aggregatorFingerprint()) {
            ImGui::Text("  Data key:     %s", fingerprint->c_str());
            recordItem(ui, "data_key_fingerprint");
        }
        if (!settings->templateSigningKey.empty()) {
            ImGui::Text("  Template key: %s", keyFingerprint(settings->templateSigningKey).c_str());
            recordItem(ui, "template_key_fingerprint");
        }
        hintText("If a fingerprint differs from the slip, do not sync: tell your coordinator.");
        ImGui::Separator();
        ImGui::TextUnformatted("Enrol again (only with a new code from your coordinator):");
    } else {
        ImGui::TextWrapped("Not enrolled yet. The app is fully usable before enrolment: finished visits wait "
                           "here, encrypted, until the device is enrolled and synced.");
        ImGui::TextWrapped("To enrol, type the three lines of the enrolment slip your coordinator gave you, "
                           "then press Enrol. The device must reach the aggregator (Wi-Fi or mobile data).");
    }
    ImGui::Spacing();

    ImGui::TextUnformatted("Aggregator address");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##address", "https://10.0.0.5:8443", &ui.enrolAddress);
    recordItem(ui, "enrol_address");
    ImGui::TextUnformatted("Server key");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##pin", "sha256//...", &ui.enrolPin);
    recordItem(ui, "enrol_pin");
    ImGui::TextUnformatted("One-time code");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##code", "the code on the slip", &ui.enrolCode);
    recordItem(ui, "enrol_code");
    ImGui::TextUnformatted("Name of this device (so the coordinator can tell devices apart)");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##label", "e.g. Tablet 3 - Priya", &ui.enrolLabel);
    recordItem(ui, "enrol_label");

    bool https = ui.enrolAddress.rfind("https://", 0) == 0;
    bool complete = !ui.enrolAddress.empty() && !ui.enrolCode.empty() && (!https || !ui.enrolPin.empty());
    if (bigButtonEnabled(model.ui(Text::Enrol, "enrol").c_str(), complete && !model.busy(), s)) {
        if (model.enrol(ui.enrolAddress, ui.enrolPin, ui.enrolCode, ui.enrolLabel)) wipe(ui.enrolCode);  // one use only
    }
    recordItem(ui, "enrol");
    if (!complete)
        hintText(https && ui.enrolPin.empty() && !ui.enrolCode.empty()
                     ? "Type the server key too: it proves the device talks to your aggregator and nobody else."
                     : "Address and code are needed (and the server key for an https:// address).");
}

}  // namespace ck
