#include "core/form/interpolate.h"

namespace ck {

namespace {

std::string choiceLabel(const ChoiceList& list, const std::string& name, size_t language) {
    int index = list.indexOf(name);
    if (index < 0) return name;
    const Choice& choice = list.choices[size_t(index)];
    return choice.label.empty() ? choice.name : choice.label.in(language);
}

std::string shown(const FormSession& session, const Question& q, int instance, size_t language) {
    const Value& value = session.value(q.index, instance);
    const ChoiceList* list = session.survey().choicesOf(q);
    if (list && value.kind() == ValueKind::Text) return choiceLabel(*list, value.asText(), language);
    if (list && value.kind() == ValueKind::Choices) {
        std::string text;
        for (const std::string& name : value.asChoices()) text += (text.empty() ? "" : ", ") + choiceLabel(*list, name, language);
        return text;
    }
    return value.toString();
}

}  // namespace

std::string interpolate(const FormSession& session, std::string_view text, Position at, size_t language) {
    if (text.find("${") == std::string_view::npos) return std::string(text);
    const Template& t = session.survey();
    const int hereRepeat = at.valid() && size_t(at.question) < t.questions.size() ? t.questions[size_t(at.question)].repeat : -1;
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        size_t open = text.find("${", i);
        size_t close = open == std::string_view::npos ? open : text.find('}', open + 2);
        if (close == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        out.append(text.substr(i, open - i));
        std::string_view name = text.substr(open + 2, close - open - 2);
        const Question* q = t.find(name);
        int instance = 0;
        bool known = q && q->hasValue();
        if (known && q->repeat >= 0) {
            // A row of a repeat is readable only from that same repeat's row.
            known = q->repeat == hereRepeat && at.instance >= 0 && at.instance < session.instanceCount(q->repeat);
            instance = at.instance;
        }
        if (known)
            out += shown(session, *q, instance, language);
        else
            out.append(text.substr(open, close - open + 1));
        i = close + 1;
    }
    return out;
}

}  // namespace ck
