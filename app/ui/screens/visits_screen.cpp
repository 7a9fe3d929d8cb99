// Visits: the units assigned from sync (marked when visited, with "Start visit"), drafts,
// finished visits with their outbox state, search by unit name; start a new visit or resume
// a draft where it was left.
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


std::string stateOf(const VisitRow& row, std::string_view lang) {
    if (!row.visit.error.empty()) return uiText(Text::StateDamaged, lang);
    if (row.visit.status == VisitStatus::Draft) return uiText(Text::StateDraft, lang);
    if (!row.outbox) return uiText(Text::StateFinished, lang);
    switch (row.outbox->state) {
        case OutboxState::AwaitingKey: return uiText(Text::StateAwaitingKey, lang);
        case OutboxState::Queued: return uiText(Text::StateQueued, lang);
        case OutboxState::Sent: return uiText(Text::StateSent, lang);
        case OutboxState::Acknowledged: return uiText(Text::StateAcknowledged, lang);
        case OutboxState::Duplicate: return uiText(Text::StateDuplicate, lang);
        case OutboxState::Refused: return uiText(Text::StateRefused, lang);
    }
    return outboxStateName(row.outbox->state);
}

std::string placeOf(const AssignedUnit& u) {
    std::string place;
    for (const std::string* part : {&u.cluster, &u.district, &u.state})
        if (!part->empty()) place += (place.empty() ? "" : ", ") + *part;
    if (!u.stratum.empty()) place += " (" + u.stratum + ")";
    return place;
}

// The units the aggregator assigned, filtered by the same search as the visits. A unit with
// a visit opens it (a draft resumes; a finished one is only marked); one without starts it.
void drawAssignedUnits(AppModel& model, UiState& ui, float s) {
    const auto& units = model.assignedUnits();
    if (units.empty()) return;
    std::string_view lang = model.languageCode();
    if (!ImGui::CollapsingHeader(model.ui(Text::AssignedUnitsHeading, "assigned").c_str(), ImGuiTreeNodeFlags_DefaultOpen))
        return;
    recordItem(ui, "assigned_header");
    ImGui::TextUnformatted(uiTextCount(Text::SearchAssigned, lang, units.size()).c_str());
    const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp;
    std::string start, resume;
    size_t shown = 0;
    // Narrow (a phone in portrait, the largest text): the place goes under the unit's name,
    // so the state and the button keep their room.
    const bool narrow = narrowLayout();
    if (ImGui::BeginTable("assigned_table", narrow ? 3 : 4, tf)) {
        ImGui::TableSetupColumn(uiText(Text::ColumnUnit, lang));
        if (!narrow) ImGui::TableSetupColumn(uiText(Text::ColumnPlace, lang));
        ImGui::TableSetupColumn(uiText(Text::ColumnState, lang));
        ImGui::TableSetupColumn("##action", ImGuiTableColumnFlags_WidthFixed, 220.0f * s);
        ImGui::TableHeadersRow();
        for (const auto& u : units) {
            const std::string& title = u.name.empty() ? u.unitId : u.name;
            if (!ui.visitSearch.empty() && !containsNoCase(title, ui.visitSearch)) continue;
            ++shown;
            ImGui::PushID(u.unitId.c_str());
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::TextWrapped("%s", title.c_str());
            hintText(u.unitId);
            if (!narrow) ImGui::TableNextColumn();
            ImGui::TextWrapped("%s", placeOf(u).c_str());
            ImGui::TableNextColumn();
            if (!u.error.empty()) {
                problemText(u.error);
            } else if (u.visitId.empty()) {
                ImGui::TextUnformatted(uiText(Text::NotVisitedYet, lang));
            } else {
                ImGui::TextUnformatted(uiText(u.visitStatus == VisitStatus::Draft ? Text::StateDraft : Text::StateFinished, lang));
            }
            recordItem(ui, "assigned_state_" + u.unitId);
            ImGui::TableNextColumn();
            if (u.error.empty() && u.visitId.empty()) {
                if (bigButton(model.ui(Text::StartVisit, "start").c_str(), s)) start = u.unitId;
                recordItem(ui, "start_unit_" + u.unitId);
            } else if (u.error.empty() && u.visitStatus == VisitStatus::Draft) {
                if (bigButton(model.ui(Text::Resume, "resume").c_str(), s)) resume = u.visitId;
                recordItem(ui, "resume_unit_" + u.unitId);
            }
            ImGui::PopID();
        }
        ImGui::EndTable();
    }
    if (shown == 0) hintText(uiText(Text::NoAssignedMatch, lang));
    // After the table: a command refreshes the lists the loop was reading.
    if (!start.empty()) model.startAssignedVisit(start);
    if (!resume.empty()) model.resumeVisit(resume);
}

}  // namespace

void drawVisitsScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    std::string_view lang = model.languageCode();
    auto templates = model.templates();
    for (const auto& t : templates) {
        ImGui::PushID(t.storeId.c_str());
        std::string label = uiText(Text::StartNewVisit, lang) + t.title + " (" + t.version + ")###start";
        // As wide as the screen at most (the words are clipped before the button is).
        const float width = std::min(bigButtonWidth(label.c_str(), s), ImGui::GetContentRegionAvail().x);
        if (bigButtonEnabled(label.c_str(), t.error.empty(), s, width)) model.startVisit(t.id);
        recordItem(ui, "start_" + t.id);
        ImGui::PopID();
    }
    if (templates.empty()) problemText(uiText(Text::NoTemplate, lang));
    // A browser that has not promised to keep the store may clear it (platforms/web): the
    // officer is told here, where the visits that would go with it are listed.
    if (model.storageStatus().persistent == false) {
        problemText(uiText(Text::StorageMayBeCleared, lang));
        recordItem(ui, "storage_warning");
    }

    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##search", uiText(Text::SearchByUnitName, lang), &ui.visitSearch);
    askKeyboard(ui, Keyboard::Text);
    recordItem(ui, "search");

    const auto& rows = model.visits();
    if (ImGui::BeginChild("visits", ImVec2(0, 0), true)) {
        drawAssignedUnits(model, ui, s);
        const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp;
        // Narrow: the state and the time of the last change go under the unit's name (a card),
        // beside the buttons, which stack when they do not fit side by side.
        const bool narrow = narrowLayout();
        if (ImGui::BeginTable("visit_table", narrow ? 2 : 4, tf)) {
            ImGui::TableSetupColumn(uiText(Text::ColumnUnit, lang));
            if (!narrow) {
                ImGui::TableSetupColumn(uiText(Text::ColumnState, lang));
                ImGui::TableSetupColumn(uiText(Text::ColumnLastChange, lang));
            }
            ImGui::TableSetupColumn("##actions", ImGuiTableColumnFlags_WidthFixed, (narrow ? 200.0f : 260.0f) * s);
            ImGui::TableHeadersRow();
            // Copies of what a row needs: a button below may refresh the list mid-loop.
            std::string open, correct, discard;
            for (const auto& row : rows) {
                const std::string& title = row.visit.title.empty() ? row.visit.id : row.visit.title;
                if (!ui.visitSearch.empty() && !containsNoCase(title, ui.visitSearch)) continue;
                ImGui::PushID(row.visit.id.c_str());
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::TextWrapped("%s", row.visit.title.empty() ? uiText(Text::NoUnitNameYet, lang) : row.visit.title.c_str());
                if (!narrow) ImGui::TableNextColumn();
                ImGui::TextUnformatted(stateOf(row, lang).c_str());
                // Why the aggregator refused it, in the officer's words (its own are on the sync screen).
                if (row.outbox && row.outbox->state == OutboxState::Refused)
                    problemText(visitRefusalWords(row.outbox->refusalCode, lang));
                if (!row.visit.error.empty())
                    problemText(std::string(model.ui(Text::StoredVisitDamaged)) + "\n" + technicalDetail(row.visit.error, lang));
                if (!narrow) ImGui::TableNextColumn();
                if (narrow) hintText(localTime(row.visit.updatedAt));
                else ImGui::TextUnformatted(localTime(row.visit.updatedAt).c_str());
                ImGui::TableNextColumn();
                if (row.visit.error.empty() && row.visit.status == VisitStatus::Draft) {
                    if (bigButton(model.ui(Text::Resume, "resume").c_str(), s)) open = row.visit.id;
                    recordItem(ui, "resume_" + row.visit.id);
                    const std::string discardLabel = model.ui(Text::Discard, "discard");
                    sameLineIfFits(bigButtonWidth(discardLabel.c_str(), s));
                    if (bigButton(discardLabel.c_str(), s)) ImGui::OpenPopup("discard?");
                    if (ImGui::BeginPopup("discard?")) {
                        ImGui::TextUnformatted(uiText(Text::DiscardQuestion, lang));
                        if (bigButton(model.ui(Text::DiscardDraft, "discard_draft").c_str(), s)) {
                            discard = row.visit.id;
                            ImGui::CloseCurrentPopup();
                        }
                        ImGui::SameLine();
                        if (bigButton(model.ui(Text::Keep, "keep").c_str(), s)) ImGui::CloseCurrentPopup();
                        ImGui::EndPopup();
                    }
                } else if (row.visit.error.empty()) {
                    // A finished record never changes: a correction is a new draft naming it.
                    if (bigButton(model.ui(Text::Correct, "correct").c_str(), s)) ImGui::OpenPopup("correct?");
                    if (ImGui::BeginPopup("correct?")) {
                        ImGui::TextUnformatted(uiText(Text::CorrectionQuestion, lang));
                        if (bigButton(model.ui(Text::StartCorrection, "start_correction").c_str(), s)) {
                            correct = row.visit.id;
                            ImGui::CloseCurrentPopup();
                        }
                        ImGui::SameLine();
                        if (bigButton(model.ui(Text::Cancel, "cancel").c_str(), s)) ImGui::CloseCurrentPopup();
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
        if (rows.empty()) ImGui::TextUnformatted(uiText(Text::NoVisitsYet, lang));
        dragToScroll();
    }
    ImGui::EndChild();
}

}  // namespace ck
