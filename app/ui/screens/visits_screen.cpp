// Visits: drafts, finished visits with their outbox state, search by unit name; start a new
// visit or resume a draft where it was left.
#include "app/ui/screens/screens.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include <imgui_stdlib.h>

namespace ck {
namespace {

bool containsNoCase(const std::string& haystack, const std::string& needle) {
    auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
    });
    return it != haystack.end();
}


std::string stateOf(const VisitRow& row) {
    if (!row.visit.error.empty()) return "damaged";
    if (row.visit.status == VisitStatus::Draft) return "draft";
    if (!row.outbox) return "finished";
    std::string state = outboxStateName(row.outbox->state);
    if (row.outbox->state == OutboxState::AwaitingKey) state = "finished, waiting for enrolment";
    return state;
}

}  // namespace

void drawVisitsScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    auto templates = model.templates();
    for (const auto& t : templates) {
        ImGui::PushID(t.storeId.c_str());
        std::string label = "Start a new visit: " + t.title + " (" + t.version + ")";
        if (bigButtonEnabled(label.c_str(), t.error.empty(), s)) model.startVisit(t.id);
        recordItem(ui, "start_" + t.id);
        ImGui::PopID();
    }
    if (templates.empty()) problemText("No survey template is installed.");
    auto assigned = model.assignments();
    if (!assigned.empty()) ImGui::Text("%zu units assigned by the aggregator.", assigned.size());

    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##search", "Search by unit name", &ui.visitSearch);
    recordItem(ui, "search");

    const auto& rows = model.visits();
    if (ImGui::BeginChild("visits", ImVec2(0, 0), true)) {
        const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp;
        if (ImGui::BeginTable("visit_table", 4, tf)) {
            ImGui::TableSetupColumn("Unit");
            ImGui::TableSetupColumn("State");
            ImGui::TableSetupColumn("Last change");
            ImGui::TableSetupColumn("", ImGuiTableColumnFlags_WidthFixed, 260.0f * s);
            ImGui::TableHeadersRow();
            // Copies of what a row needs: a button below may refresh the list mid-loop.
            std::string open, correct, discard;
            for (const auto& row : rows) {
                const std::string& title = row.visit.title.empty() ? row.visit.id : row.visit.title;
                if (!ui.visitSearch.empty() && !containsNoCase(title, ui.visitSearch)) continue;
                ImGui::PushID(row.visit.id.c_str());
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::TextWrapped("%s", row.visit.title.empty() ? "(no unit name yet)" : row.visit.title.c_str());
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(stateOf(row).c_str());
                if (row.outbox && !row.outbox->reason.empty()) problemText(row.outbox->reason);
                if (!row.visit.error.empty()) problemText(row.visit.error);
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(localTime(row.visit.updatedAt).c_str());
                ImGui::TableNextColumn();
                if (row.visit.error.empty() && row.visit.status == VisitStatus::Draft) {
                    if (bigButton("Resume", s)) open = row.visit.id;
                    recordItem(ui, "resume_" + row.visit.id);
                    ImGui::SameLine();
                    if (bigButton("Discard", s)) ImGui::OpenPopup("discard?");
                    if (ImGui::BeginPopup("discard?")) {
                        ImGui::TextUnformatted("Throw this draft away? It cannot be undone.");
                        if (bigButton("Discard draft", s)) {
                            discard = row.visit.id;
                            ImGui::CloseCurrentPopup();
                        }
                        ImGui::SameLine();
                        if (bigButton("Keep", s)) ImGui::CloseCurrentPopup();
                        ImGui::EndPopup();
                    }
                } else if (row.visit.error.empty()) {
                    // A finished record never changes: a correction is a new draft naming it.
                    if (bigButton("Correct", s)) ImGui::OpenPopup("correct?");
                    if (ImGui::BeginPopup("correct?")) {
                        ImGui::TextUnformatted("Start a correction? It opens a new draft with these answers.");
                        if (bigButton("Start correction", s)) {
                            correct = row.visit.id;
                            ImGui::CloseCurrentPopup();
                        }
                        ImGui::SameLine();
                        if (bigButton("Cancel", s)) ImGui::CloseCurrentPopup();
                        ImGui::EndPopup();
                    }
                }
                ImGui::PopID();
            }
            ImGui::EndTable();
            if (!open.empty()) model.resumeVisit(open);
            if (!correct.empty()) model.startCorrection(correct);
            if (!discard.empty()) model.discardDraft(discard);
        }
        if (rows.empty()) ImGui::TextUnformatted("No visits yet.");
        dragToScroll();
    }
    ImGui::EndChild();
}

}  // namespace ck
