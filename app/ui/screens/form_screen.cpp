// Form: the open visit, one question at a time, with the section list, progress, autosave
// state, repeats as tables and the widget each question type calls for. Every change goes
// to the model at once (which saves the draft); nothing typed is held here except text
// that is not an answer yet (a half-typed number or date).
#include "app/ui/screens/screens.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <ctime>

#include <imgui_stdlib.h>

#include "core/form/interpolate.h"

namespace ck {
namespace {

struct FormContext {
    AppModel& model;
    UiState& ui;
    const FormSession& session;
    const Template& survey;
    size_t lang;  // into the template's languages
    float s;
    // The app's own words in the language setting (ui_text.h).
    const char* t(Text key) const { return model.ui(key); }
    std::string label(Text key, std::string_view id) const { return model.ui(key, id); }
};

std::optional<double> parseNumber(const std::string& text) {
    if (text.empty()) return std::nullopt;
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
    return v;
}

// Remembers why the last change to `at` was not taken (or forgets it when it was).
void noteResult(UiState& ui, Position at, const AnswerResult& r) {
    if (r.ok()) {
        if (ui.inputErrorAt == at) ui.inputError.clear();
        return;
    }
    ui.inputErrorAt = at;
    ui.inputError = r.message;
}

void noteInputError(UiState& ui, Position at, std::string message) {
    ui.inputErrorAt = at;
    ui.inputError = std::move(message);
}

std::string choiceLabel(const Choice& c, size_t lang) {
    return c.label.empty() ? c.name : c.label.in(lang);
}

// The first relevant item of one repeat instance (where "Edit" and "Add" go).
Position firstItemOf(const FormSession& session, int repeat, int instance) {
    for (const auto& p : session.items())
        if (p.instance == instance && session.survey().questions[size_t(p.question)].repeat == repeat &&
            session.isRelevant(p.question, p.instance))
            return p;
    return {};
}

void drawSectionList(FormContext& f, int currentSection) {
    for (int sec : f.survey.sections) {
        const Question& q = f.survey.questions[size_t(sec)];
        bool relevant = f.session.isRelevant(sec, 0);
        Progress p = f.session.sectionProgress(sec);
        ImGui::PushID(sec);
        bool done = relevant && p.total > 0 && p.answered >= p.total;
        const std::string title = interpolate(f.session, q.label.in(f.lang), Position{sec, 0}, f.lang);
        std::string label = std::string(done ? "[done] " : "") + title + "  " +
                            std::to_string(p.answered) + "/" + std::to_string(p.total);
        if (!relevant) label = title + "  (not asked)";
        if (!relevant) ImGui::BeginDisabled();
        if (ImGui::Selectable(label.c_str(), sec == currentSection, 0, ImVec2(0, touchHeight(f.s)))) {
            for (const auto& item : f.session.items())
                if (f.survey.questions[size_t(item.question)].section == sec &&
                    f.session.isRelevant(item.question, item.instance)) {
                    f.model.goTo(item);
                    break;
                }
        }
        if (!relevant) ImGui::EndDisabled();
        ImGui::PopID();
    }
}

void drawTextAnswer(FormContext& f, const Question& q, Position at, const Value& current) {
    std::string text = current.kind() == ValueKind::Text ? current.asText() : std::string();
    bool changed = false;
    if (q.appearance == "multiline") {
        changed = ImGui::InputTextMultiline("##answer", &text, ImVec2(-1, 5 * ImGui::GetTextLineHeightWithSpacing()));
    } else {
        ImGui::SetNextItemWidth(-1);
        changed = ImGui::InputText("##answer", &text);
    }
    recordItem(f.ui, "answer");
    if (changed) noteResult(f.ui, at, f.model.answer(at, text.empty() ? Value() : Value::text(text)));
}

void drawNumberAnswer(FormContext& f, const Question& q, Position at, const Value& current) {
    std::string text = current.kind() == ValueKind::Number ? current.toString() : std::string();
    const char* hint = q.type == QuestionType::Money     ? "Rupees"
                       : q.type == QuestionType::Percent ? "0 to 100"
                       : q.type == QuestionType::Integer ? "Whole number"
                                                         : "Number";
    ImGui::SetNextItemWidth(std::min(ImGui::GetContentRegionAvail().x, 360.0f * f.s));
    if (ImGui::InputTextWithHint("##answer", hint, &text, ImGuiInputTextFlags_CharsDecimal)) {
        if (text.empty()) {
            noteResult(f.ui, at, f.model.answer(at, Value()));
        } else if (auto v = parseNumber(text)) {
            noteResult(f.ui, at, f.model.answer(at, Value::number(*v)));
        } else {
            noteInputError(f.ui, at, "Enter a number, such as 1250 or 12.5");
        }
    }
    recordItem(f.ui, "answer");
    if (q.type == QuestionType::Percent) {
        ImGui::SameLine();
        ImGui::TextUnformatted("%");
    }
}

void drawDateAnswer(FormContext& f, Position at, const Value& current) {
    std::string text = current.kind() == ValueKind::Date ? formatIsoDate(current.asDate()) : std::string();
    ImGui::SetNextItemWidth(std::min(ImGui::GetContentRegionAvail().x, 260.0f * f.s));
    if (ImGui::InputTextWithHint("##answer", "YYYY-MM-DD", &text)) {
        if (text.empty()) {
            noteResult(f.ui, at, f.model.answer(at, Value()));
        } else if (auto d = parseIsoDate(text)) {
            noteResult(f.ui, at, f.model.answer(at, Value::date(*d)));
        } else {
            noteInputError(f.ui, at, "Enter the date as YYYY-MM-DD, for example 2026-11-23");
        }
    }
    recordItem(f.ui, "answer");
    ImGui::SameLine();
    if (bigButton(f.label(Text::Today, "today").c_str(), f.s)) noteResult(f.ui, at, f.model.answer(at, Value::date(f.session.today())));
}

void drawSelectOne(FormContext& f, const Question& q, Position at, const Value& current) {
    const ChoiceList* list = f.survey.choicesOf(q);
    if (!list) return;
    auto available = f.session.availableChoices(at.question, at.instance);
    std::string chosen = current.kind() == ValueKind::Text ? current.asText() : std::string();
    if (available.size() <= 8) {
        // Few choices: each a full-width row, easy to hit with a finger.
        for (int i : available) {
            const Choice& c = list->choices[size_t(i)];
            ImGui::PushID(i);
            if (ImGui::Selectable(choiceLabel(c, f.lang).c_str(), c.name == chosen, 0, ImVec2(0, touchHeight(f.s))))
                noteResult(f.ui, at, f.model.answer(at, Value::text(c.name)));
            recordItem(f.ui, "choice_" + c.name);
            ImGui::PopID();
        }
        return;
    }
    int chosenIndex = list->indexOf(chosen);
    std::string preview = chosenIndex >= 0 ? choiceLabel(list->choices[size_t(chosenIndex)], f.lang) : f.t(Text::Choose);
    ImGui::SetNextItemWidth(-1);
    if (ImGui::BeginCombo("##answer", preview.c_str(), ImGuiComboFlags_HeightLarge)) {
        for (int i : available) {
            const Choice& c = list->choices[size_t(i)];
            ImGui::PushID(i);
            if (ImGui::Selectable(choiceLabel(c, f.lang).c_str(), c.name == chosen, 0, ImVec2(0, touchHeight(f.s))))
                noteResult(f.ui, at, f.model.answer(at, Value::text(c.name)));
            ImGui::PopID();
        }
        ImGui::EndCombo();
    }
    recordItem(f.ui, "answer");
}

void drawSelectMultiple(FormContext& f, const Question& q, Position at, const Value& current) {
    const ChoiceList* list = f.survey.choicesOf(q);
    if (!list) return;
    std::vector<std::string> chosen = current.kind() == ValueKind::Choices ? current.asChoices() : std::vector<std::string>();
    for (int i : f.session.availableChoices(at.question, at.instance)) {
        const Choice& c = list->choices[size_t(i)];
        ImGui::PushID(i);
        bool on = std::find(chosen.begin(), chosen.end(), c.name) != chosen.end();
        if (ImGui::Checkbox(choiceLabel(c, f.lang).c_str(), &on)) {
            std::vector<std::string> next = chosen;
            if (on)
                next.push_back(c.name);
            else
                next.erase(std::remove(next.begin(), next.end(), c.name), next.end());
            noteResult(f.ui, at, f.model.answer(at, next.empty() ? Value() : Value::choices(std::move(next))));
        }
        recordItem(f.ui, "choice_" + c.name);
        ImGui::PopID();
    }
}

void drawScale(FormContext& f, const Question& q, Position at, const Value& current) {
    const ChoiceList* list = f.survey.choicesOf(q);
    if (!list) return;
    std::string chosen = current.kind() == ValueKind::Number ? current.toString() : std::string();
    bool first = true;
    const float right = ImGui::GetWindowPos().x + ImGui::GetWindowContentRegionMax().x;
    for (int i : f.session.availableChoices(at.question, at.instance)) {
        const Choice& c = list->choices[size_t(i)];
        ImGui::PushID(i);
        bool selected = c.name == chosen;
        std::string label = c.name + "\n" + choiceLabel(c, f.lang);
        ImVec2 size(std::max(96.0f * f.s, ImGui::CalcTextSize(label.c_str()).x + 24 * f.s), touchHeight(f.s) * 1.5f);
        // Side by side while they fit, then on the next line (large text on a narrow tablet).
        if (!first && ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x + size.x <= right) ImGui::SameLine();
        first = false;
        if (selected) ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_ButtonActive));
        if (ImGui::Button(label.c_str(), size)) {
            if (auto v = parseNumber(c.name)) noteResult(f.ui, at, f.model.answer(at, Value::number(*v)));
        }
        recordItem(f.ui, "choice_" + c.name);
        if (selected) ImGui::PopStyleColor();
        ImGui::PopID();
    }
}

void drawGps(FormContext& f, Position at, const Value& current) {
    UiState& ui = f.ui;
    if (!(ui.gpsAt == at) || !ImGui::IsAnyItemActive()) {
        // Show what the session holds, except while the officer is typing into a field
        // (a latitude alone is not an answer yet, and is dropped if left half done).
        ui.gpsAt = at;
        ui.gpsLat = ui.gpsLon = ui.gpsAccuracy = "";
        if (current.kind() == ValueKind::Geo) {
            ui.gpsLat = Value::number(current.asGeo().latitude).toString();
            ui.gpsLon = Value::number(current.asGeo().longitude).toString();
            ui.gpsAccuracy = Value::number(current.asGeo().accuracyMetres).toString();
        }
    }
    bool changed = false;
    ImGui::SetNextItemWidth(240 * f.s);
    changed |= ImGui::InputTextWithHint("Latitude", "11.1271", &ui.gpsLat, ImGuiInputTextFlags_CharsDecimal);
    recordItem(ui, "gps_lat");
    ImGui::SetNextItemWidth(240 * f.s);
    changed |= ImGui::InputTextWithHint("Longitude", "77.3398", &ui.gpsLon, ImGuiInputTextFlags_CharsDecimal);
    recordItem(ui, "gps_lon");
    ImGui::SetNextItemWidth(240 * f.s);
    changed |= ImGui::InputTextWithHint("Accuracy (m)", "optional", &ui.gpsAccuracy, ImGuiInputTextFlags_CharsDecimal);
    if (!changed) return;
    auto lat = parseNumber(ui.gpsLat), lon = parseNumber(ui.gpsLon);
    auto acc = ui.gpsAccuracy.empty() ? std::optional<double>(0.0) : parseNumber(ui.gpsAccuracy);
    if (ui.gpsLat.empty() && ui.gpsLon.empty()) {
        noteResult(ui, at, f.model.answer(at, Value()));
    } else if (lat && lon && acc) {
        noteResult(ui, at, f.model.answer(at, Value::geo({*lat, *lon, *acc})));
    } else {
        noteInputError(ui, at, "Enter latitude and longitude as decimal degrees");
    }
}

void drawPhoto(FormContext& f, Position at, const Value& current) {
    if (current.kind() == ValueKind::Text) ImGui::Text("%s (%s)", f.t(Text::PhotoAttachedAs), current.asText().c_str());
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##photo", f.t(Text::PhotoPathHint), &f.ui.photoPath);
    recordItem(f.ui, "photo_path");
    // Read and encrypted on the task thread; the answer (or why not) comes with its result.
    if (bigButtonEnabled(f.label(Text::AttachPhoto, "attach_photo").c_str(), !f.ui.photoPath.empty(), f.s)) {
        if (f.model.attachPhoto(at, f.ui.photoPath)) f.ui.photoPath.clear();
    }
    recordItem(f.ui, "attach_photo");
}

void drawQuestion(FormContext& f, Position at) {
    const Question& q = f.survey.questions[size_t(at.question)];
    const Value& current = f.session.answer(at.question, at.instance);
    if (q.repeat >= 0) {
        const Question& r = f.survey.questions[size_t(q.repeat)];
        ImGui::Text("%s: row %d of %d", interpolate(f.session, r.label.in(f.lang), Position{r.index, 0}, f.lang).c_str(),
                    at.instance + 1, f.session.instanceCount(q.repeat));
    }
    // ${field} references in the texts show the visit's current answers (core/form/interpolate.h).
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(interpolate(f.session, q.label.in(f.lang), at, f.lang).c_str());
    ImGui::PopTextWrapPos();
    if (f.session.isRequired(at.question, at.instance)) hintText(f.t(Text::Required));
    if (!q.hint.empty()) hintText(interpolate(f.session, q.hint.in(f.lang), at, f.lang));
    ImGui::Spacing();

    ImGui::PushID(at.question * 4096 + at.instance);
    switch (q.type) {
        case QuestionType::Text: drawTextAnswer(f, q, at, current); break;
        case QuestionType::Integer:
        case QuestionType::Decimal:
        case QuestionType::Money:
        case QuestionType::Percent: drawNumberAnswer(f, q, at, current); break;
        case QuestionType::Date: drawDateAnswer(f, at, current); break;
        case QuestionType::SelectOne: drawSelectOne(f, q, at, current); break;
        case QuestionType::SelectMultiple: drawSelectMultiple(f, q, at, current); break;
        case QuestionType::Scale: drawScale(f, q, at, current); break;
        case QuestionType::Gps: drawGps(f, at, current); break;
        case QuestionType::Photo: drawPhoto(f, at, current); break;
        default: break;  // a note: its label is all there is
    }

    if (q.isAnswerable()) {
        if (current.kind() == ValueKind::DontKnow) ImGui::TextUnformatted(f.t(Text::AnswerDontKnow));
        if (current.kind() == ValueKind::Refused) ImGui::TextUnformatted(f.t(Text::AnswerRefused));
        if (q.allowDontKnow) {
            if (bigButtonEnabled(f.label(Text::DontKnow, "dont_know").c_str(), current.kind() != ValueKind::DontKnow, f.s))
                noteResult(f.ui, at, f.model.answer(at, Value::dontKnow()));
            ImGui::SameLine();
            if (bigButtonEnabled(f.label(Text::RefusedAnswer, "refused").c_str(), current.kind() != ValueKind::Refused, f.s))
                noteResult(f.ui, at, f.model.answer(at, Value::refused()));
            ImGui::SameLine();
        }
        if (bigButtonEnabled(f.label(Text::ClearAnswer, "clear_answer").c_str(), current.isAnswered(), f.s)) noteResult(f.ui, at, f.model.answer(at, Value()));
    }
    ImGui::PopID();

    if (f.ui.inputErrorAt == at && !f.ui.inputError.empty()) problemText(f.ui.inputError);
    if (current.isAnswered() && !f.session.constraintHolds(at.question, at.instance)) {
        std::string message = q.constraintMessage.empty() ? "This answer is not allowed here"
                                                          : interpolate(f.session, q.constraintMessage.in(f.lang), at, f.lang);
        problemText(message);
    }
}

// Every relevant repeat of the section as a table: rows are instances, with add and remove.
// The form's navigation walks existing rows; a repeat with no rows is reached from here.
void drawRepeats(FormContext& f, int section) {
    for (const auto& q : f.survey.questions) {
        if (q.type != QuestionType::Repeat || q.section != section || q.repeat >= 0 || !f.session.isRelevant(q.index, 0))
            continue;
        ImGui::PushID(q.index);
        ImGui::Separator();
        ImGui::TextUnformatted(interpolate(f.session, q.label.in(f.lang), Position{q.index, 0}, f.lang).c_str());
        std::vector<int> columns;
        for (int c : q.children)
            if (f.survey.questions[size_t(c)].isAnswerable() && columns.size() < 4) columns.push_back(c);
        int rows = f.session.instanceCount(q.index);
        int edit = -1, remove = -1;
        // A repeat_count decides the rows: the officer answers the count, not Add and Remove.
        const bool counted = q.repeatCount.present();
        const ImGuiTableFlags tf = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
        if (rows > 0 && ImGui::BeginTable("rows", int(columns.size()) + 2, tf)) {
            ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed, 40 * f.s);
            for (int c : columns) ImGui::TableSetupColumn(f.survey.questions[size_t(c)].label.in(f.lang).c_str());
            ImGui::TableSetupColumn("##actions", ImGuiTableColumnFlags_WidthFixed, 220 * f.s);
            ImGui::TableHeadersRow();
            // Every row is one line of text beside two buttons, so all rows are equally tall:
            // the clipper builds only the rows in view (a 200-row table stays cheap to scroll).
            std::string editLabel = f.label(Text::Edit, "edit"), removeLabel = f.label(Text::Remove, "remove");
            ImGuiListClipper clipper;
            clipper.Begin(rows);
            while (clipper.Step()) {
                for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
                    ImGui::PushID(i);
                    ImGui::TableNextRow();
                    ImGui::TableNextColumn();
                    ImGui::Text("%d", i + 1);
                    for (int c : columns) {
                        ImGui::TableNextColumn();
                        const Value& v = f.session.value(c, i);
                        std::string shown = v.kind() == ValueKind::DontKnow ? f.t(Text::DontKnow)
                                            : v.kind() == ValueKind::Refused ? f.t(Text::RefusedAnswer)
                                                                             : v.toString();
                        ImGui::TextUnformatted(shown.c_str());
                    }
                    ImGui::TableNextColumn();
                    if (bigButton(editLabel.c_str(), f.s)) edit = i;
                    recordItem(f.ui, "edit_row_" + q.id + "_" + std::to_string(i));  // drawn rows only
                    ImGui::SameLine();
                    if (bigButtonEnabled(removeLabel.c_str(), !counted, f.s)) remove = i;
                    ImGui::PopID();
                }
            }
            ImGui::EndTable();
        }
        if (bigButtonEnabled(f.label(Text::AddRow, "add_row").c_str(), !counted, f.s)) edit = f.model.addInstance(q.index);
        recordItem(f.ui, "add_row_" + q.id);
        ImGui::PopID();
        // After the table: these change the session the loop reads.
        if (remove >= 0) {
            f.model.removeInstance(q.index, remove);
        } else if (edit >= 0) {
            Position p = firstItemOf(f.session, q.index, edit);
            if (p.valid()) f.model.goTo(p);
        }
        if (remove >= 0 || edit >= 0) return;
    }
}

std::string savedState(const AppModel& model) {
    if (!model.saveError().empty()) return model.ui(Text::NotSaved) + model.saveError();
    if (model.savedAt() == 0) return model.ui(Text::NoChangesYet);
    return model.ui(Text::Saved) + localTime(model.savedAt(), " %H:%M:%S");
}

}  // namespace

void drawFormScreen(AppModel& model, UiState& ui) {
    const FormSession* session = model.session();
    if (!session) return;
    FormContext f{model, ui, *session, session->survey(), model.languageIndex(), model.settings().textScale};
    Position at = model.position();
    if (!(ui.inputErrorAt == at)) ui.inputError.clear();  // it was about another question
    int section = at.valid() ? f.survey.questions[size_t(at.question)].section : -1;

    Progress p = session->progress();
    float fraction = p.total > 0 ? float(p.answered) / float(p.total) : 0.0f;
    std::string overlay = uiTextCount(Text::AnsweredOf, model.languageCode(), size_t(p.answered), size_t(p.total));
    ImGui::ProgressBar(fraction, ImVec2(ImGui::GetContentRegionAvail().x * 0.6f, 0), overlay.c_str());
    ImGui::SameLine();
    std::string saved = savedState(model);
    if (model.saveError().empty())
        ImGui::TextUnformatted(saved.c_str());
    else
        problemText(saved);

    float footer = touchHeight(f.s) * 1.3f + ImGui::GetStyle().ItemSpacing.y;
    float listWidth = ImGui::GetContentRegionAvail().x * 0.28f;
    if (ImGui::BeginChild("sections", ImVec2(listWidth, -footer), true)) {
        drawSectionList(f, section);
        dragToScroll();
    }
    ImGui::EndChild();
    ImGui::SameLine();
    if (ImGui::BeginChild("question", ImVec2(0, -footer), true)) {
        if (at.valid()) {
            const Question& sec = f.survey.questions[size_t(section)];
            hintText(interpolate(f.session, sec.label.in(f.lang), Position{section, 0}, f.lang));
            drawQuestion(f, at);
            drawRepeats(f, section);
        } else {
            ImGui::TextWrapped("%s", f.t(Text::NothingToAsk));
        }
        dragToScroll();
    }
    ImGui::EndChild();

    float wide = 220.0f * f.s;
    if (bigButtonEnabled(f.label(Text::Previous, "previous").c_str(), at.valid() && session->previous(at).valid(), f.s * 1.3f, wide)) model.previous();
    recordItem(ui, "previous");
    ImGui::SameLine();
    if (bigButtonEnabled(f.label(Text::Next, "next").c_str(), at.valid(), f.s * 1.3f, wide)) model.next();
    recordItem(ui, "next");
    ImGui::SameLine();
    if (bigButton(f.label(Text::ReviewAndFinalise, "review").c_str(), f.s * 1.3f)) model.show(Screen::Review);
    recordItem(ui, "review");
    ImGui::SameLine();
    if (bigButton(f.label(Text::CloseVisit, "close_visit").c_str(), f.s * 1.3f)) model.closeVisit();
    recordItem(ui, "close_visit");
}

}  // namespace ck
