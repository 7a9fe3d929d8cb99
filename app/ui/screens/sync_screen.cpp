// Sync: sends the outbox to the aggregator (or to a bundle file for a USB stick when there
// is no network), brings back the receipt, and shows each record's state: a refused record
// with the aggregator's reason and the reviewer's comments, so the officer knows what to fix.
#include "app/ui/screens/screens.h"

#include <cinttypes>
#include <map>

#include <imgui_stdlib.h>

namespace ck {
namespace {

std::string bytesText(uint64_t bytes) {
    char text[32];
    if (bytes < 1024) std::snprintf(text, sizeof text, "%" PRIu64 " B", bytes);
    else if (bytes < 1024 * 1024) std::snprintf(text, sizeof text, "%.1f KB", double(bytes) / 1024);
    else std::snprintf(text, sizeof text, "%.1f MB", double(bytes) / (1024 * 1024));
    return text;
}

// "Sent" only for what went out: field sync marks a visit sent once its batch left whole.
const char* stateText(const OutboxEntry& e, std::string_view lang) {
    switch (e.state) {
        case OutboxState::AwaitingKey: return uiText(Text::OutboxAwaitingEnrolment, lang);
        case OutboxState::Queued: return uiText(Text::OutboxWaiting, lang);
        case OutboxState::Sent: return uiText(Text::OutboxSentNoAnswer, lang);
        case OutboxState::Acknowledged: return uiText(Text::OutboxStored, lang);
        case OutboxState::Duplicate: return uiText(Text::OutboxHadIt, lang);
        case OutboxState::Refused: return uiText(Text::OutboxRefused, lang);
    }
    return outboxStateName(e.state);
}

// A text the tests read back: recorded with its words as the item's label.
void recordText(UiState& ui, const std::string& name, const std::string& text) {
    recordItem(ui, name);
    ui.itemRects[name].label = text;
}

}  // namespace

void drawSyncProgress(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    spinner(10.0f * s);
    ImGui::SameLine();
    ImGui::TextUnformatted(model.syncStatus().c_str());
    recordItem(ui, "sync_status");
    sync::SyncProgress p = model.syncProgress();
    float fraction = p.recordsTotal ? float(p.recordsDone) / float(p.recordsTotal) : 0.0f;
    std::string overlay = p.recordsTotal ? fillPlaceholders(model.ui(Text::SyncProgressVisits),
                                                            {std::to_string(p.recordsDone), std::to_string(p.recordsTotal)})
                                         : std::string(model.ui(Text::NoVisitsToSend));
    ImGui::ProgressBar(fraction, ImVec2(-1, touchHeight(s) * 0.6f), overlay.c_str());
    recordItem(ui, "sync_progress");
    ImGui::TextUnformatted(fillPlaceholders(model.ui(Text::SentReceived), {bytesText(p.bytesSent), bytesText(p.bytesReceived)}).c_str());
    if (bigButton(model.ui(Text::Cancel, "cancel").c_str(), s)) model.cancelSync();
    recordItem(ui, "cancel_sync");
    hintText(model.ui(Text::CancelIsSafe));
    hintText(model.ui(Text::SyncInBackground));
}

void drawSyncScreen(AppModel& model, UiState& ui) {
    float s = model.settings().textScale;
    std::string_view lang = model.languageCode();
    if (ui.bundlePath.empty()) ui.bundlePath = model.defaultBundlePath();
    auto settings = model.syncSettings();
    // The outbox by visit: the visits list (read again when the sync records answers) holds
    // each finished visit's unit name with its outbox entry.
    std::vector<const VisitRow*> outbox;
    for (const auto& row : model.visits())
        if (row.outbox) outbox.push_back(&row);
    size_t waiting = 0, refused = 0, awaitingKey = 0, done = 0;
    for (const VisitRow* row : outbox) {
        const OutboxEntry& e = *row->outbox;
        if (e.state == OutboxState::Queued || e.state == OutboxState::Sent) ++waiting;
        else if (e.state == OutboxState::Refused) ++refused;
        else if (e.state == OutboxState::AwaitingKey) ++awaitingKey;
        else ++done;
    }

    // The whole page scrolls as one (by finger too), the outbox with it: at the largest text
    // on a small screen the bundle and receipt parts are below the window; Sync now stays
    // near the top.
    ImGui::BeginChild("sync_page", ImVec2(0, 0), false);
    if (settings) {
        ImGui::TextWrapped("%s", fillPlaceholders(model.ui(Text::AggregatorOfficer),
                                                  {settings->serverUrl, settings->officer, settings->cluster}).c_str());
    } else {
        ImGui::TextWrapped("%s", model.ui(Text::NotEnrolledSync));
        if (bigButton(model.ui(Text::EnrolDevice, "enrol_device").c_str(), s)) model.show(Screen::Enrolment);
        recordItem(ui, "go_enrol");
    }
    std::string counts = fillPlaceholders(model.ui(Text::OutboxCounts), {std::to_string(waiting), std::to_string(done), std::to_string(refused)});
    if (awaitingKey) counts += fillPlaceholders(model.ui(Text::OutboxCountsWaiting), {std::to_string(awaitingKey)});
    ImGui::TextUnformatted(counts.c_str());

    if (model.syncing()) {
        drawSyncProgress(model, ui);
    } else {
        if (bigButtonEnabled(model.ui(Text::SyncNow, "sync_now").c_str(), settings.has_value() && !model.busy(), s))
            model.syncNow();
        recordItem(ui, "sync_now");
        hintText(model.ui(Text::SyncExplains));
    }

    ImGui::Separator();
    ImGui::TextUnformatted(model.ui(Text::NoNetwork));
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##bundle", model.ui(Text::BundlePathHint), &ui.bundlePath);
    recordItem(ui, "bundle_path");
    if (bigButtonEnabled(model.ui(Text::ExportBundle, "export_bundle").c_str(),
                         settings.has_value() && waiting > 0 && !ui.bundlePath.empty() && !model.syncing(), s))
        model.exportBundle(ui.bundlePath);
    recordItem(ui, "export_bundle");
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##receipt", model.ui(Text::ReceiptPathHint), &ui.receiptPath);
    recordItem(ui, "receipt_path");
    if (bigButtonEnabled(model.ui(Text::ImportReceipt, "import_receipt").c_str(),
                         settings.has_value() && !ui.receiptPath.empty() && !model.syncing(), s))
        model.importReceipt(ui.receiptPath);
    recordItem(ui, "import_receipt");
    ImGui::Separator();

    std::map<std::string, std::vector<ReviewCommentEntry>, std::less<>> comments;
    for (auto& c : model.reviewComments()) comments[c.recordId].push_back(std::move(c));

    ImGui::TextUnformatted(uiTextCount(Text::OutboxHeading, lang, outbox.size()).c_str());
    {
        const ImGuiTableFlags tf = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerH | ImGuiTableFlags_SizingStretchProp;
        // Narrow (a phone in portrait, the largest text): the unit and its state only; the
        // times are secondary.
        const bool narrow = narrowLayout();
        if (ImGui::BeginTable("outbox_table", narrow ? 2 : 4, tf)) {
            ImGui::TableSetupColumn(uiText(Text::ColumnUnit, lang), ImGuiTableColumnFlags_WidthStretch, 2.0f);
            ImGui::TableSetupColumn(uiText(Text::ColumnState, lang), ImGuiTableColumnFlags_WidthStretch, 2.0f);
            if (!narrow) {
                ImGui::TableSetupColumn(uiText(Text::ColumnFinished, lang));
                ImGui::TableSetupColumn(uiText(Text::ColumnLastChange, lang));
            }
            ImGui::TableHeadersRow();
            for (const VisitRow* row : outbox) {
                const OutboxEntry& e = *row->outbox;
                ImGui::PushID(e.recordId.c_str());
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                // The unit the officer visited, as on the visits list; the record id is for
                // machines (a damaged visit has no name to show: its error says which).
                std::string unit = row->visit.title.empty() ? uiText(Text::NoUnitNameYet, lang) : row->visit.title;
                ImGui::TextWrapped("%s", unit.c_str());
                recordText(ui, "outbox_unit_" + e.recordId, unit);
                if (!row->visit.error.empty())
                    problemText(std::string(model.ui(Text::StoredVisitDamaged)) + "\n" + technicalDetail(row->visit.error, lang));
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(stateText(e, lang));
                recordText(ui, "outbox_state_" + e.recordId, stateText(e, lang));
                if (e.state == OutboxState::Refused) recordItem(ui, "refused_" + e.recordId);
                if (e.state == OutboxState::Refused) {
                    // The reason in the officer's words, per the aggregator's refusal code; its
                    // own (English) words after it, quoted and said to be its.
                    const std::string why = model.ui(Text::ReasonPrefix) + std::string(visitRefusalWords(e.refusalCode, lang));
                    problemText(why);
                    recordText(ui, "outbox_reason_" + e.recordId, why);
                    if (!e.reason.empty()) {
                        const std::string wrote = fillPlaceholders(model.ui(Text::AggregatorWrote), {e.reason});
                        hintText(wrote);
                        recordText(ui, "outbox_aggregator_wrote_" + e.recordId, wrote);
                    }
                }
                if (!e.error.empty()) problemText(std::string(model.ui(Text::OutboxEntryDamaged)) + "\n" + technicalDetail(e.error, lang));
                if (auto it = comments.find(e.recordId); it != comments.end()) {
                    // A reviewer's comment is their text, in whatever language they wrote it:
                    // quoted and attributed, never dressed as a sentence of the app's own.
                    for (size_t i = 0; i < it->second.size(); ++i) {
                        const auto& c = it->second[i];
                        if (!c.error.empty()) {
                            problemText(std::string(model.ui(Text::CommentDamaged)) + "\n" + technicalDetail(c.error, lang));
                            continue;
                        }
                        const std::string said = fillPlaceholders(model.ui(Text::ReviewerSays), {localTime(c.at), c.text});
                        ImGui::TextWrapped("%s", said.c_str());
                        recordText(ui, "comment_" + e.recordId + "_" + std::to_string(i), said);
                    }
                    recordItem(ui, "comments_" + e.recordId);
                }
                if (!narrow) {
                    ImGui::TableNextColumn();
                    ImGui::TextUnformatted(localTime(e.queuedAt).c_str());
                    ImGui::TableNextColumn();
                    ImGui::TextUnformatted(localTime(e.updatedAt).c_str());
                }
                ImGui::PopID();
            }
            ImGui::EndTable();
        }
    }
    dragToScroll();
    ImGui::EndChild();
}

}  // namespace ck
