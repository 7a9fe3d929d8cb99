// Sync: the outbox with each record's state and, when refused, the reason. Sending and the
// bundle export come with the sync work; their buttons are shown disabled, saying so.
#include "app/ui/screens/screens.h"

namespace ck {

void drawSyncScreen(AppModel& model, UiState&) {
    float s = model.settings().textScale;
    bool enrolled = model.aggregatorFingerprint().has_value();
    if (!enrolled)
        ImGui::TextWrapped("Not enrolled: finished visits wait here, encrypted, and are sealed for the aggregator "
                           "once this device is enrolled.");
    bigButtonEnabled("Sync now", false, s);
    ImGui::SameLine();
    bigButtonEnabled("Export bundle file", false, s);
    hintText("Sending to the aggregator and exporting a bundle file for offline transfer arrive with the "
             "sync feature; until then finished visits stay safely in the outbox below.");

    auto outbox = model.outbox();
    ImGui::Text("Outbox: %zu record(s)", outbox.size());
    if (ImGui::BeginChild("outbox", ImVec2(0, 0), true)) {
        const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp;
        if (ImGui::BeginTable("outbox_table", 4, tf)) {
            ImGui::TableSetupColumn("Record");
            ImGui::TableSetupColumn("State");
            ImGui::TableSetupColumn("Queued");
            ImGui::TableSetupColumn("Last change");
            ImGui::TableHeadersRow();
            for (const auto& e : outbox) {
                ImGui::PushID(e.recordId.c_str());
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(e.recordId.c_str());
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(e.state == OutboxState::AwaitingKey ? "waiting for enrolment"
                                                                           : outboxStateName(e.state));
                if (!e.reason.empty()) problemText("Refused: " + e.reason);
                if (!e.error.empty()) problemText(e.error);
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(localTime(e.queuedAt).c_str());
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(localTime(e.updatedAt).c_str());
                ImGui::PopID();
            }
            ImGui::EndTable();
        }
        dragToScroll();
    }
    ImGui::EndChild();
}

}  // namespace ck
