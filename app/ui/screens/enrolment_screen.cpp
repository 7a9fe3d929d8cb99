// Enrolment: the officer pastes the slip's enrolment string (or reads it from the slip file on
// a USB stick, or types it; a typo names its group), or types what the slip says line by line
// (the aggregator's address, its server key and a one-time code), and the device enrols itself. Afterwards the
// screen shows whom the device belongs to and the two key fingerprints to compare with the
// slip: a fingerprint that differs means the device is talking to someone else.
#include "app/ui/screens/screens.h"

#include <imgui_stdlib.h>

#include <algorithm>

#include "core/crypto/envelope.h"
#include "sync/protocol/enrolment_string.h"

namespace ck {

void drawEnrolmentScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    if (!ui.enrolAddressLoaded) {
        ui.enrolAddress = model.settings().aggregatorAddress;
        if (ui.enrolAddress.empty()) ui.enrolAddress = model.defaultAggregatorAddress();
        ui.enrolAddressLoaded = true;
    }
    auto settings = model.syncSettings();
    // Everything above Enrol scrolls (by finger too); Enrol stays pinned at the bottom, on
    // screen on a phone and at the largest text.
    const float footer = touchHeight(s) + ImGui::GetStyle().ItemSpacing.y;
    // (A child clipped away still takes its items, so they are drawn whatever BeginChild says.)
    ImGui::BeginChild("enrolment", ImVec2(0, -footer), false);
    if (settings) {
        std::string_view name = settings->aggregatorName.empty() ? std::string_view(model.ui(Text::TheAggregator))
                                                                 : std::string_view(settings->aggregatorName);
        ImGui::TextWrapped("%s", fillPlaceholders(model.ui(Text::EnrolledAs), {name, settings->officer, settings->cluster}).c_str());
        ImGui::TextWrapped("%s", fillPlaceholders(model.ui(Text::AggregatorIs), {settings->serverUrl}).c_str());
        // Why the fingerprints matter, in the officer's words: the data key is what the visits
        // are sealed to. (In a browser the app cannot pin TLS: the server key was checked
        // against the slip's pin before enrolling, platforms/web/sync_client_web.cpp.)
        ImGui::TextWrapped("%s", model.ui(Text::SealedToDataKey));
        recordItem(ui, "sealed_to_data_key");
        if (!settings->publicKeyPin.empty()) {
            ImGui::TextWrapped("%s%s", model.ui(Text::ServerKeyChecked), settings->publicKeyPin.c_str());
            recordItem(ui, "server_key_checked");
        }
        ImGui::TextUnformatted(model.ui(Text::KeyFingerprints));
        if (auto fingerprint = model.aggregatorFingerprint()) {
            ImGui::Text("  %s%s", model.ui(Text::DataKey), fingerprint->c_str());
            recordItem(ui, "data_key_fingerprint");
        }
        if (!settings->templateSigningKey.empty()) {
            ImGui::Text("  %s%s", model.ui(Text::TemplateKey), keyFingerprint(settings->templateSigningKey).c_str());
            recordItem(ui, "template_key_fingerprint");
        }
        hintText(model.ui(Text::FingerprintDiffers));
        ImGui::Separator();
        ImGui::TextUnformatted(model.ui(Text::EnrolAgain));
    } else {
        ImGui::TextWrapped("%s", model.ui(Text::NotEnrolledYetIntro));
        ImGui::TextWrapped("%s", model.ui(Text::EnrolIntro));
        hintText(model.ui(Text::EnrolChecksKey));
    }
    ImGui::Spacing();

    // The code is wiped once an enrolment succeeded, never after a failed attempt: a typo is
    // fixed in place, not typed again.
    if (ui.enrolmentsSeen != model.enrolments()) {
        if (ui.enrolmentsSeen >= 0) {
            wipe(ui.enrolCode);
            wipe(ui.enrolString);
        }
        ui.enrolmentsSeen = model.enrolments();
    }

    // One step: the slip's enrolment string, pasted, typed or read from a file on a stick.
    ImGui::TextWrapped("%s", model.ui(Text::EnrolStringLabel));
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##enrol_string", model.ui(Text::EnrolStringHint), &ui.enrolString);
    recordItem(ui, "enrol_string");
    float readWidth = ImGui::CalcTextSize(model.ui(Text::ReadFromFile)).x + ImGui::GetStyle().FramePadding.x * 4;
    ImGui::SetNextItemWidth(std::max(120.0f * s, ImGui::GetContentRegionAvail().x - readWidth - ImGui::GetStyle().ItemSpacing.x));
    ImGui::InputTextWithHint("##enrol_file", model.ui(Text::EnrolFileHint), &ui.enrolFile);
    recordItem(ui, "enrol_file");
    ImGui::SameLine();
    if (bigButtonEnabled(model.ui(Text::ReadFromFile, "read_enrol_file").c_str(), !ui.enrolFile.empty(), s)) {
        if (auto read = model.readEnrolmentFile(ui.enrolFile)) ui.enrolString = *read;
    }
    recordItem(ui, "read_enrol_file");
    if (!ui.enrolString.empty()) {
        // Where it will enrol, before anything is sent (decoding is a few microseconds).
        auto decoded = proto::decodeEnrolmentString(ui.enrolString);
        if (auto* d = std::get_if<proto::EnrolmentDetails>(&decoded)) {
            hintText(model.ui(Text::EnrolStringGoesTo) + d->url);
            recordItem(ui, "enrol_string_target");
        }
    }

    ImGui::TextUnformatted(model.ui(Text::DeviceName));
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##label", model.ui(Text::DeviceNameHint), &ui.enrolLabel);
    recordItem(ui, "enrol_label");

    if (ImGui::CollapsingHeader(model.ui(Text::EnrolTypeApart, "type_apart").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) {
        ImGui::TextUnformatted(model.ui(Text::AggregatorAddress));
        ImGui::SetNextItemWidth(-1);
        ImGui::InputTextWithHint("##address", "https://10.0.0.5:8443", &ui.enrolAddress);
        recordItem(ui, "enrol_address");
        ImGui::TextUnformatted(model.ui(Text::ServerKey));
        ImGui::SetNextItemWidth(-1);
        ImGui::InputTextWithHint("##pin", "sha256//...", &ui.enrolPin);
        recordItem(ui, "enrol_pin");
        ImGui::TextUnformatted(model.ui(Text::OneTimeCode));
        ImGui::SetNextItemWidth(-1);
        ImGui::InputTextWithHint("##code", model.ui(Text::OneTimeCodeHint), &ui.enrolCode);
        recordItem(ui, "enrol_code");
    }

    bool https = ui.enrolAddress.rfind("https://", 0) == 0;
    bool complete = !ui.enrolAddress.empty() && !ui.enrolCode.empty() && (!https || !ui.enrolPin.empty());
    bool withString = !ui.enrolString.empty();
    if (!withString && !complete)
        hintText(https && ui.enrolPin.empty() && !ui.enrolCode.empty()
                     ? model.ui(Text::ServerKeyToo)
                     : model.ui(Text::PasteOrType));
    dragToScroll();
    ImGui::EndChild();
    if (bigButtonEnabled(model.ui(Text::Enrol, "enrol").c_str(), (withString || complete) && !model.busy() && !model.syncing(), s)) {
        // The string when there is one; a typo in it is refused with the group to fix, and
        // the text stays as typed.
        if (withString) model.enrolWithString(ui.enrolString, ui.enrolLabel);
        else model.enrol(ui.enrolAddress, ui.enrolPin, ui.enrolCode, ui.enrolLabel);
    }
    recordItem(ui, "enrol");
}

}  // namespace ck
