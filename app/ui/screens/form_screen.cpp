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

#include "app/ui/form_images.h"
#include "core/form/interpolate.h"
#include "core/form/number_entry.h"

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
    NumberEntry e = parseNumberEntry(text, QuestionType::Decimal);
    return e.ok() ? e.value : std::nullopt;
}

// Text typed into a field that is not an answer: kept by the model (AppModel::keepTyped).
const std::string* pendingAt(const AppModel& model, Position at) { return model.typedAt(at); }

// Remembers why the last change to `at` was not taken (or forgets it when it was).
void noteResult(UiState& ui, Position at, const AnswerResult& r) {
    if (r.ok()) {
        if (ui.inputErrorAt == at) ui.inputError.clear();
        return;
    }
    ui.inputErrorAt = at;
    ui.inputError = r.messageIn(ui.inputErrorLanguage);  // the language of this frame
}

void noteInputError(UiState& ui, Position at, std::string message) {
    ui.inputErrorAt = at;
    ui.inputError = std::move(message);
}

std::string choiceLabel(const Choice& c, size_t lang) {
    return c.label.empty() ? c.name : c.label.in(lang);
}

// The template's picture for a question or a choice (XLSForm media::image) in the officer's
// language, when the template carries the file; recorded under `name` for the tests.
void drawImage(FormContext& f, const LocalText& image, std::string_view name, float maxHeight) {
    if (image.empty() || !f.ui.images) return;
    if (const FormImages::Image* shown = f.ui.images->find(f.survey, image.in(f.lang))) {
        drawFormImage(*shown, maxHeight);
        recordItem(f.ui, name);
    }
}

// A choice's picture under its row, at most thumbnail height, so the list stays short.
void drawChoiceImage(FormContext& f, const Choice& c) {
    if (c.image.empty()) return;
    ImGui::Indent(touchHeight(f.s));
    drawImage(f, c.image, "choice_image_" + c.name, 120.0f * f.s);
    ImGui::Unindent(touchHeight(f.s));
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
        std::string label = std::string(done ? f.t(Text::SectionDone) : "") + title + "  " +
                            std::to_string(p.answered) + "/" + std::to_string(p.total);
        if (!relevant) label = title + "  " + f.t(Text::NotAsked);
        if (!relevant) ImGui::BeginDisabled();
        if (ImGui::Selectable(label.c_str(), sec == currentSection, 0, ImVec2(0, touchHeight(f.s)))) {
            for (const auto& item : f.session.items())
                if (f.survey.questions[size_t(item.question)].section == sec &&
                    f.session.isRelevant(item.question, item.instance)) {
                    f.model.goTo(item);
                    break;
                }
        }
        recordItem(f.ui, "section_" + q.id);  // the list scrolls: tests drag it and tap a row
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
    askKeyboard(f.ui, Keyboard::Text);
    recordItem(f.ui, "answer");
    if (changed) noteResult(f.ui, at, f.model.answer(at, text.empty() ? Value() : Value::text(text)));
}

struct NumberFieldEdit {
    UiState* ui;
    QuestionType type;
};

// Regroups the digits as they are typed (12,34,567) unless the officer typed a comma: those
// commas are the officer's, and a wrong one is refused with a reason, not moved.
int numberFieldCallback(ImGuiInputTextCallbackData* data) {
    auto* edit = static_cast<NumberFieldEdit*>(data->UserData);
    if (data->EventFlag == ImGuiInputTextFlags_CallbackCharFilter) {
        if (data->EventChar == ',') edit->ui->numberOfficerComma = true;
        return 0;
    }
    if (data->EventFlag != ImGuiInputTextFlags_CallbackEdit) return 0;
    std::string_view text(data->Buf, size_t(data->BufTextLen));
    if (text.find(',') == std::string_view::npos) edit->ui->numberOfficerComma = false;
    if (edit->ui->numberOfficerComma) return 0;
    auto grouped = regroupTyped(text, edit->type);
    if (!grouped || *grouped == text) return 0;
    // The caret stays after the same digit it followed.
    int kept = 0;
    for (int i = 0; i < data->CursorPos; ++i)
        if (data->Buf[i] != ',') ++kept;
    data->DeleteChars(0, data->BufTextLen);
    data->InsertChars(0, grouped->c_str());
    int pos = 0;
    for (int seen = 0; pos < int(grouped->size()) && seen < kept; ++pos)
        if ((*grouped)[size_t(pos)] != ',') ++seen;
    data->CursorPos = data->SelectionStart = data->SelectionEnd = pos;
    return 0;
}

// A number, money or percentage: what is typed becomes the answer only when it reads as
// one number (number_entry.h); otherwise it stays in the field with the reason and the
// answer kept is unchanged. Money shows its lakh / crore reading beside the field.
void drawNumberAnswer(FormContext& f, const Question& q, Position at, const Value& current) {
    const std::string* pending = pendingAt(f.model, at);
    std::string text = pending                                  ? *pending
                       : current.kind() == ValueKind::Number ? formatNumberForField(current.asNumber(), q.type)
                                                              : std::string();
    Text hint = q.type == QuestionType::Money     ? Text::HintRupees
                : q.type == QuestionType::Percent ? Text::HintPercent
                : q.type == QuestionType::Integer ? Text::HintWholeNumber
                                                  : Text::HintNumber;
    ImGui::SetNextItemWidth(std::min(ImGui::GetContentRegionAvail().x, 360.0f * f.s));
    NumberFieldEdit edit{&f.ui, q.type};
    const ImGuiInputTextFlags flags = ImGuiInputTextFlags_CallbackEdit | ImGuiInputTextFlags_CallbackCharFilter;
    if (ImGui::InputTextWithHint("##answer", f.t(hint), &text, flags, numberFieldCallback, &edit)) {
        NumberEntry entry = parseNumberEntry(text, q.type);
        if (entry.empty()) {
            f.model.forgetTyped(at);
            noteResult(f.ui, at, f.model.answer(at, Value()));
        } else if (!entry.ok()) {
            f.model.keepTyped(at, text);
            noteInputError(f.ui, at, numberEntryMessage(entry.problem, q.type, f.model.languageCode()));
        } else {
            AnswerResult r = f.model.answer(at, Value::number(*entry.value));
            if (r.ok()) f.model.forgetTyped(at);
            else f.model.keepTyped(at, text);
            noteResult(f.ui, at, r);
        }
    }
    if (ImGui::IsItemActivated() && !pending) f.ui.numberOfficerComma = false;
    askKeyboard(f.ui, q.type == QuestionType::Integer ? Keyboard::Numeric : Keyboard::Decimal);
    recordItem(f.ui, "answer");
    if (q.type == QuestionType::Percent) {
        ImGui::SameLine();
        ImGui::TextUnformatted("%");
    }
    const Value& now = f.session.answer(at.question, at.instance);
    if (q.type == QuestionType::Money && now.kind() == ValueKind::Number) {
        std::string words = rupeesInWords(now.asNumber(), f.model.languageCode());
        sameLineIfFits(ImGui::CalcTextSize(words.c_str()).x);
        ImGui::TextUnformatted(words.c_str());
        recordItem(f.ui, "money_words", words);
    }
    if (pendingAt(f.model, at)) {
        std::string kept = now.kind() == ValueKind::Number
                               ? f.model.ui(Text::AnswerKept) + formatNumberForField(now.asNumber(), q.type)
                               : (now.isAnswered() ? f.model.ui(Text::AnswerKept) + now.toString() : f.model.ui(Text::NoAnswerKept));
        hintText(kept);
        recordItem(f.ui, "answer_kept", kept);
    }
}

void drawDateAnswer(FormContext& f, Position at, const Value& current) {
    const std::string* pending = pendingAt(f.model, at);
    std::string text = pending ? *pending : current.kind() == ValueKind::Date ? formatIsoDate(current.asDate()) : std::string();
    ImGui::SetNextItemWidth(std::min(ImGui::GetContentRegionAvail().x, 260.0f * f.s));
    if (ImGui::InputTextWithHint("##answer", "YYYY-MM-DD", &text)) {
        if (text.empty()) {
            f.model.forgetTyped(at);
            noteResult(f.ui, at, f.model.answer(at, Value()));
        } else if (auto d = parseIsoDate(text)) {
            f.model.forgetTyped(at);
            noteResult(f.ui, at, f.model.answer(at, Value::date(*d)));
        } else {
            // Half typed, or not a date: kept in the field with why; the answer stays.
            f.model.keepTyped(at, text);
            noteInputError(f.ui, at, f.t(Text::DateFormatProblem));
        }
    }
    askKeyboard(f.ui, Keyboard::Numeric);  // YYYY-MM-DD: digits and the dash
    recordItem(f.ui, "answer");
    const std::string today = f.label(Text::Today, "today");
    sameLineIfFits(bigButtonWidth(today.c_str(), f.s));
    if (bigButton(today.c_str(), f.s)) noteResult(f.ui, at, f.model.answer(at, Value::date(f.session.today())));
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
            if (choiceRow(f.ui, "choice_" + c.name, choiceLabel(c, f.lang), c.name == chosen, true, f.s))
                noteResult(f.ui, at, f.model.answer(at, Value::text(c.name)));
            drawChoiceImage(f, c);
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
            if (choiceRow(f.ui, "choice_" + c.name, choiceLabel(c, f.lang), c.name == chosen, true, f.s)) {
                noteResult(f.ui, at, f.model.answer(at, Value::text(c.name)));
                ImGui::CloseCurrentPopup();
            }
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
        if (choiceRow(f.ui, "choice_" + c.name, choiceLabel(c, f.lang), on, false, f.s)) {
            std::vector<std::string> next = chosen;
            if (!on)
                next.push_back(c.name);
            else
                next.erase(std::remove(next.begin(), next.end(), c.name), next.end());
            noteResult(f.ui, at, f.model.answer(at, next.empty() ? Value() : Value::choices(std::move(next))));
        }
        drawChoiceImage(f, c);
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
            const GeoPoint& p = current.asGeo();
            ui.gpsLat = Value::number(p.latitude).toString();
            ui.gpsLon = Value::number(p.longitude).toString();
            ui.gpsAccuracy = p.accuracyMetres ? Value::number(*p.accuracyMetres).toString() : std::string();
        }
    }
    // From the device, when the platform has a receiver; typing is always possible.
    if (f.model.canCaptureLocation()) {
        if (bigButton(f.label(Text::CaptureLocation, "capture_location").c_str(), f.s)) f.model.captureLocation(at);
        recordItem(ui, "capture_location");
    } else {
        hintText(f.t(Text::NoLocationSource));
    }
    bool changed = false;
    ImGui::SetNextItemWidth(std::min(240 * f.s, ImGui::GetContentRegionAvail().x * 0.5f));
    changed |= ImGui::InputTextWithHint(f.label(Text::Latitude, "lat").c_str(), "11.1271", &ui.gpsLat);
    askKeyboard(ui, Keyboard::Decimal);
    recordItem(ui, "gps_lat");
    ImGui::SetNextItemWidth(std::min(240 * f.s, ImGui::GetContentRegionAvail().x * 0.5f));
    changed |= ImGui::InputTextWithHint(f.label(Text::Longitude, "lon").c_str(), "77.3398", &ui.gpsLon);
    askKeyboard(ui, Keyboard::Decimal);
    recordItem(ui, "gps_lon");
    ImGui::SetNextItemWidth(std::min(240 * f.s, ImGui::GetContentRegionAvail().x * 0.5f));
    changed |= ImGui::InputTextWithHint(f.label(Text::AccuracyMetres, "accuracy").c_str(), f.t(Text::AccuracyOptional),
                                        &ui.gpsAccuracy);
    askKeyboard(ui, Keyboard::Decimal);
    recordItem(ui, "gps_accuracy");
    if (current.kind() == ValueKind::Geo) {
        // What is kept: the accuracy or "unknown", and the time of a captured fix.
        const GeoPoint& p = current.asGeo();
        std::string kept = p.accuracyMetres ? "\xC2\xB1" + Value::number(*p.accuracyMetres).toString() + " m"
                                            : std::string(f.t(Text::AccuracyUnknown));
        const auto& fix = f.model.lastFix();
        if (fix && fix->at == at && fix->fix.unixTime > 0)
            kept += ", " + std::string(f.t(Text::FixAt)) + " " + localTime(fix->fix.unixTime, "%H:%M:%S");
        hintText(kept);
        recordItem(ui, "gps_kept", kept);
    }
    if (!changed) return;
    auto lat = parseNumber(ui.gpsLat), lon = parseNumber(ui.gpsLon);
    // A blank accuracy is unknown, never 0 m; one typed must be a number.
    std::optional<double> accuracy;
    bool accuracyOk = true;
    if (!ui.gpsAccuracy.empty()) {
        accuracy = parseNumber(ui.gpsAccuracy);
        accuracyOk = accuracy.has_value();
    }
    if (ui.gpsLat.empty() && ui.gpsLon.empty() && ui.gpsAccuracy.empty()) {
        noteResult(ui, at, f.model.answer(at, Value()));
    } else if (lat && lon && accuracyOk) {
        noteResult(ui, at, f.model.answer(at, Value::geo({*lat, *lon, accuracy})));
    } else {
        noteInputError(ui, at, f.t(Text::GpsTypedProblem));
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
        ImGui::TextUnformatted(fillPlaceholders(f.t(Text::RowOf), {interpolate(f.session, r.label.in(f.lang), Position{r.index, 0}, f.lang),
                                                                  std::to_string(at.instance + 1),
                                                                  std::to_string(f.session.instanceCount(q.repeat))})
                                   .c_str());
    }
    // ${field} references in the texts show the visit's current answers (core/form/interpolate.h).
    ImGui::PushTextWrapPos(0);
    ImGui::TextUnformatted(interpolate(f.session, q.label.in(f.lang), at, f.lang).c_str());
    ImGui::PopTextWrapPos();
    // Under the label, at most half the question pane tall: the answer stays in view.
    drawImage(f, q.image, "question_image", ImGui::GetWindowHeight() * 0.5f);
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
            // Each replaces the answer and whatever text was kept in the field.
            if (bigButtonEnabled(f.label(Text::DontKnow, "dont_know").c_str(), current.kind() != ValueKind::DontKnow, f.s)) {
                f.model.forgetTyped(at);
                noteResult(f.ui, at, f.model.answer(at, Value::dontKnow()));
            }
            recordItem(f.ui, "dont_know");
            const std::string refused = f.label(Text::RefusedAnswer, "refused");
            sameLineIfFits(bigButtonWidth(refused.c_str(), f.s));
            if (bigButtonEnabled(refused.c_str(), current.kind() != ValueKind::Refused, f.s)) {
                f.model.forgetTyped(at);
                noteResult(f.ui, at, f.model.answer(at, Value::refused()));
            }
            recordItem(f.ui, "refused");
        }
        bool somethingToClear = current.isAnswered() || pendingAt(f.model, at);
        const std::string clear = f.label(Text::ClearAnswer, "clear_answer");
        if (q.allowDontKnow) sameLineIfFits(bigButtonWidth(clear.c_str(), f.s));
        if (bigButtonEnabled(clear.c_str(), somethingToClear, f.s)) {
            f.model.forgetTyped(at);
            noteResult(f.ui, at, f.model.answer(at, Value()));
        }
        recordItem(f.ui, "clear_answer");
    }
    ImGui::PopID();

    // Text kept in the field that is not the answer: say why, also on coming back to it.
    if (const std::string* pending = pendingAt(f.model, at); pending && !(f.ui.inputErrorAt == at && !f.ui.inputError.empty()))
        noteInputError(f.ui, at, f.model.typedReason(at));
    if (f.ui.inputErrorAt == at && !f.ui.inputError.empty()) {
        problemText(f.ui.inputError);
        recordItem(f.ui, "input_error", f.ui.inputError);
    }
    // The question's own problems, worded by the template: a failed constraint as soon as it
    // fails; an empty required question once Next was pressed on it (as ODK Collect does).
    for (const Problem& p : f.session.problemsAt(at, f.lang)) {
        if (p.kind == ProblemKind::Required && !(f.model.nextRefusedAt() == at)) continue;
        problemText(p.message);
        recordItem(f.ui, "question_problem", p.message);
        if (p.kind == ProblemKind::Required && q.allowDontKnow) hintText(f.t(Text::OrDontKnow));
    }
}

// An answer as a table cell shows it: choices by their labels in the officer's language
// (not their codes), numbers grouped, "don't know" / "refused" in words.
std::string shownValue(FormContext& f, const Question& q, const Value& v) {
    if (v.kind() == ValueKind::DontKnow) return f.t(Text::DontKnow);
    if (v.kind() == ValueKind::Refused) return f.t(Text::RefusedAnswer);
    const ChoiceList* list = f.survey.choicesOf(q);
    auto label = [&](const std::string& name) {
        int i = list ? list->indexOf(name) : -1;
        return i >= 0 ? choiceLabel(list->choices[size_t(i)], f.lang) : name;
    };
    if (list && (v.kind() == ValueKind::Text || (q.type == QuestionType::Scale && v.kind() == ValueKind::Number)))
        return label(v.toString());
    if (list && v.kind() == ValueKind::Choices) {
        std::string out;
        for (const auto& name : v.asChoices()) out += (out.empty() ? "" : ", ") + label(name);
        return out;
    }
    if (v.kind() == ValueKind::Number) return formatNumberForField(v.asNumber(), q.type);
    return v.toString();
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
        // Up to four answer columns; a narrow screen keeps those that fit (at least the first),
        // so each row stays one line beside its buttons.
        const float fixedColumns = (40 + 220) * f.s;
        const float room = (ImGui::GetContentRegionAvail().x - fixedColumns) / (10 * ImGui::GetFontSize());
        const size_t maxColumns = narrowLayout() ? size_t(std::clamp(room, 1.0f, 4.0f)) : 4;
        std::vector<int> columns;
        for (int c : q.children)
            if (f.survey.questions[size_t(c)].isAnswerable() && columns.size() < maxColumns) columns.push_back(c);
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
                        std::string shown = shownValue(f, f.survey.questions[size_t(c)], f.session.value(c, i));
                        ImGui::TextUnformatted(shown.c_str());
                        if (c == columns.front()) recordItem(f.ui, "cell_" + q.id + "_" + std::to_string(i), shown);
                    }
                    ImGui::TableNextColumn();
                    if (bigButton(editLabel.c_str(), f.s)) edit = i;
                    recordItem(f.ui, "edit_row_" + q.id + "_" + std::to_string(i));  // drawn rows only
                    sameLineIfFits(bigButtonWidth(removeLabel.c_str(), f.s));
                    // Removing deletes the row's answers: it is asked first (below).
                    if (bigButtonEnabled(removeLabel.c_str(), !counted, f.s)) {
                        f.ui.removeRepeat = q.index;
                        f.ui.removeRow = i;
                    }
                    recordItem(f.ui, "remove_row_" + q.id + "_" + std::to_string(i));
                    ImGui::PopID();
                }
            }
            ImGui::EndTable();
        }
        if (bigButtonEnabled(f.label(Text::AddRow, "add_row").c_str(), !counted, f.s)) edit = f.model.addInstance(q.index);
        recordItem(f.ui, "add_row_" + q.id);
        if (f.ui.removeRepeat == q.index) {
            if (!ImGui::IsPopupOpen("remove_row")) ImGui::OpenPopup("remove_row");
            if (ImGui::BeginPopupModal("remove_row", nullptr, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoTitleBar)) {
                std::string question = uiTextCount(Text::RemoveRowQuestion, f.model.languageCode(), size_t(f.ui.removeRow + 1));
                ImGui::TextUnformatted(question.c_str());
                recordItem(f.ui, "remove_row_question", question);
                if (bigButton(f.label(Text::RemoveRow, "confirm_remove").c_str(), f.s)) {
                    remove = f.ui.removeRow;
                    f.ui.removeRepeat = f.ui.removeRow = -1;
                    ImGui::CloseCurrentPopup();
                }
                recordItem(f.ui, "confirm_remove");
                const std::string keep = f.label(Text::Keep, "keep_row");
                sameLineIfFits(bigButtonWidth(keep.c_str(), f.s));
                if (bigButton(keep.c_str(), f.s)) {
                    f.ui.removeRepeat = f.ui.removeRow = -1;
                    ImGui::CloseCurrentPopup();
                }
                recordItem(f.ui, "keep_row");
                ImGui::EndPopup();
            }
        }
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
    // In a browser: committed, but its copy to the browser's storage has not completed yet.
    if (model.saving()) return model.ui(Text::Saving);
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
    if (ui.inputErrorLanguage != model.languageCode()) {
        ui.inputError.clear();  // reworded below, in the language now chosen
        ui.inputErrorLanguage = model.languageCode();
    }
    if (ui.pendingVisit != session->recordId()) {
        ui.pendingVisit = session->recordId();  // another visit: no removal is waiting
        ui.removeRepeat = ui.removeRow = -1;
    }
    int section = at.valid() ? f.survey.questions[size_t(at.question)].section : -1;

    Progress p = session->progress();
    float fraction = p.total > 0 ? float(p.answered) / float(p.total) : 0.0f;
    std::string overlay = uiTextCount(Text::AnsweredOf, model.languageCode(), size_t(p.answered), size_t(p.total));
    const bool narrow = narrowLayout();
    ImGui::ProgressBar(fraction, ImVec2(ImGui::GetContentRegionAvail().x * (narrow ? 0.45f : 0.6f), 0), overlay.c_str());
    std::string saved = savedState(model);
    sameLineIfFits(std::min(ImGui::CalcTextSize(saved.c_str()).x, ImGui::GetContentRegionAvail().x * 0.5f));
    if (model.saveError().empty())
        ImGui::TextWrapped("%s", saved.c_str());
    else
        problemText(saved);

    // The bar pinned at the bottom: Previous and Next first, always on screen. All four on
    // one line when they fit (a wide screen, or the largest text on a laptop, where the
    // height is short); else Previous and Next share the first line, Review and Close the
    // second, each half the width.
    const float barScale = narrow ? f.s : f.s * 1.3f;
    const std::string previousLabel = f.label(Text::Previous, "previous"), nextLabel = f.label(Text::Next, "next");
    const std::string reviewLabel = f.label(Text::ReviewAndFinalise, "review"), closeLabel = f.label(Text::CloseVisit, "close_visit");
    const float avail = ImGui::GetContentRegionAvail().x, gap = ImGui::GetStyle().ItemSpacing.x;
    float stepWidth = std::max({narrow ? 0.0f : 220.0f * f.s, bigButtonWidth(previousLabel.c_str(), barScale),
                                bigButtonWidth(nextLabel.c_str(), barScale)});
    float reviewWidth = bigButtonWidth(reviewLabel.c_str(), barScale);
    float closeWidth = bigButtonWidth(closeLabel.c_str(), barScale);
    int barLines = flowLines({stepWidth, stepWidth, reviewWidth, closeWidth}, avail);
    if (barLines > 1) {
        stepWidth = reviewWidth = closeWidth = (avail - gap) / 2;
        barLines = 2;
    }
    const float footer = barLines * (touchHeight(barScale) + ImGui::GetStyle().ItemSpacing.y);

    if (!narrow) {
        float listWidth = ImGui::GetContentRegionAvail().x * 0.28f;
        if (ImGui::BeginChild("sections", ImVec2(listWidth, -footer), true)) {
            drawSectionList(f, section);
            dragToScroll();
        }
        ImGui::EndChild();
        ImGui::SameLine();
    } else if (at.valid()) {
        // The section list stacks above the question as a menu under the section's name.
        const Question& sec = f.survey.questions[size_t(section)];
        Progress sp = session->sectionProgress(section);
        std::string label = interpolate(f.session, sec.label.in(f.lang), Position{section, 0}, f.lang) + "  " +
                            std::to_string(sp.answered) + "/" + std::to_string(sp.total) + "###sections_menu";
        if (bigButton(label.c_str(), f.s, -1)) ImGui::OpenPopup("sections");
        recordItem(ui, "sections_menu");
        const ImVec2 display = ImGui::GetIO().DisplaySize;
        ImGui::SetNextWindowSizeConstraints(ImVec2(display.x * 0.8f, 0), ImVec2(display.x, display.y * 0.75f));
        if (ImGui::BeginPopup("sections")) {
            const int before = section;
            drawSectionList(f, section);
            if (model.position().valid() && f.survey.questions[size_t(model.position().question)].section != before)
                ImGui::CloseCurrentPopup();
            ImGui::EndPopup();
        }
    }
    if (ImGui::BeginChild("question", ImVec2(0, -footer), true)) {
        if (at.valid()) {
            const Question& sec = f.survey.questions[size_t(section)];
            if (!narrow) hintText(interpolate(f.session, sec.label.in(f.lang), Position{section, 0}, f.lang));
            // Text fields and the choice list as tall as a touch target (48 px at normal size).
            ImVec2 padding = ImGui::GetStyle().FramePadding;
            padding.y = std::max(padding.y, (touchHeight(f.s) - ImGui::GetFontSize()) / 2);
            ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, padding);
            drawQuestion(f, at);
            drawRepeats(f, section);
            ImGui::PopStyleVar();
        } else {
            ImGui::TextWrapped("%s", f.t(Text::NothingToAsk));
        }
        dragToScroll();
    }
    ImGui::EndChild();

    if (bigButtonEnabled(previousLabel.c_str(), at.valid() && session->previous(at).valid(), barScale, stepWidth)) model.previous();
    recordItem(ui, "previous");
    sameLineIfFits(stepWidth);
    if (bigButtonEnabled(nextLabel.c_str(), at.valid(), barScale, stepWidth)) {
        // Text in the field that is not the answer holds Next, as a failed constraint does
        // (model.next()): the officer corrects or clears it while the respondent is there.
        if (pendingAt(model, at)) {
            noteInputError(ui, at, model.typedReason(at) + "\n" + model.ui(Text::FixTypedToGoOn));
        } else {
            model.next();
        }
    }
    recordItem(ui, "next");
    sameLineIfFits(reviewWidth);
    if (bigButton(reviewLabel.c_str(), barScale, reviewWidth)) model.show(Screen::Review);
    recordItem(ui, "review");
    sameLineIfFits(closeWidth);
    if (bigButton(closeLabel.c_str(), barScale, closeWidth)) model.closeVisit();
    recordItem(ui, "close_visit");
}

}  // namespace ck
