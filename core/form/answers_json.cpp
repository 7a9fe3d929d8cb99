#include "core/form/answers_json.h"

#include <nlohmann/json.hpp>

#include "core/messages/engine_messages.h"

namespace ck {

using nlohmann::json;

std::optional<Value> valueFromJson(const json& a, QuestionType type, std::string& error, std::string_view language) {
    if (a.is_null()) return Value();
    if (a.is_object()) {
        if (a.size() == 1 && a.contains("dont_know") && a["dont_know"] == true) return Value::dontKnow();
        if (a.size() == 1 && a.contains("refused") && a["refused"] == true) return Value::refused();
        if (type == QuestionType::Gps && a.contains("lat") && a.contains("lon") && a["lat"].is_number() && a["lon"].is_number()) {
            GeoPoint p;
            p.latitude = a["lat"].get<double>();
            p.longitude = a["lon"].get<double>();
            // No "accuracy", or null: unknown (never 0 m).
            if (auto acc = a.find("accuracy"); acc != a.end() && !acc->is_null()) {
                if (!acc->is_number()) {
                    error = engineText(EngineText::AccuracyNotNumber, language);
                    return std::nullopt;
                }
                p.accuracyMetres = acc->get<double>();
            }
            return Value::geo(p);
        }
        error = engineText(type == QuestionType::Gps ? EngineText::GpsAnswerShape : EngineText::ObjectAnswerShape, language);
        return std::nullopt;
    }
    switch (type) {
        case QuestionType::Integer:
        case QuestionType::Decimal:
        case QuestionType::Money:
        case QuestionType::Percent:
        case QuestionType::Scale:
            if (a.is_number()) return Value::number(a.get<double>());
            error = engineText(EngineText::ExpectedNumber, language);
            return std::nullopt;
        case QuestionType::Date:
            if (a.is_string())
                if (auto d = parseIsoDate(a.get<std::string>())) return Value::date(*d);
            error = engineText(EngineText::ExpectedDate, language);
            return std::nullopt;
        case QuestionType::SelectMultiple: {
            if (!a.is_array()) {
                error = engineText(EngineText::ExpectedChoiceList, language);
                return std::nullopt;
            }
            std::vector<std::string> names;
            for (const auto& n : a) {
                if (!n.is_string()) {
                    error = engineText(EngineText::ExpectedChoiceList, language);
                    return std::nullopt;
                }
                names.push_back(n.get<std::string>());
            }
            return Value::choices(std::move(names));
        }
        default:
            if (a.is_string()) return Value::text(a.get<std::string>());
            error = engineText(EngineText::ExpectedText, language);
            return std::nullopt;
    }
}

std::vector<AnswerProblem> applyAnswersJson(FormSession& session, const json& answers, std::string_view language) {
    std::vector<AnswerProblem> problems;
    const Template& t = session.survey();
    if (!answers.is_object()) {
        problems.push_back({"", engineText(EngineText::AnswersNotObject, language)});
        return problems;
    }
    // Top-level answers first, then repeats, so that relevance inside a repeat already sees
    // the answers it reads from outside.
    auto setOne = [&](const std::string& id, const json& a, int instance) {
        const Question* q = t.find(id);
        if (!q) {
            problems.push_back({id, engineText(EngineText::NoSuchQuestion, language, {id})});
            return;
        }
        if (q->type == QuestionType::Repeat) {
            problems.push_back({id, engineText(EngineText::AnswerRepeatInRepeat, language, {id})});
            return;
        }
        std::string error;
        auto v = valueFromJson(a, q->type, error, language);
        if (!v) {
            problems.push_back({id, "'" + id + "': " + error});
            return;
        }
        if (auto r = session.setAnswer(q->index, instance, std::move(*v)); !r.ok()) problems.push_back({id, r.messageIn(language)});
    };
    for (auto it = answers.begin(); it != answers.end(); ++it) {
        const Question* q = t.find(it.key());
        if (q && q->type == QuestionType::Repeat) continue;
        if (q && q->repeat >= 0) {
            problems.push_back({it.key(), engineText(EngineText::AnswerBelongsToRepeat, language,
                                                     {it.key(), t.questions[size_t(q->repeat)].id})});
            continue;
        }
        setOne(it.key(), *it, 0);
    }
    for (auto it = answers.begin(); it != answers.end(); ++it) {
        const Question* q = t.find(it.key());
        if (!q || q->type != QuestionType::Repeat) continue;
        if (!it->is_array()) {
            problems.push_back({it.key(), engineText(EngineText::AnswerRepeatNeedsList, language, {it.key()})});
            continue;
        }
        for (const auto& inst : *it) {
            if (!inst.is_object()) {
                problems.push_back({it.key(), engineText(EngineText::AnswerInstanceNotObject, language, {it.key()})});
                continue;
            }
            int i = session.addInstance(q->index);
            for (auto c = inst.begin(); c != inst.end(); ++c) {
                const Question* child = t.find(c.key());
                if (child && child->repeat != q->index) {
                    problems.push_back({c.key(), engineText(EngineText::AnswerNotInRepeat, language, {c.key(), it.key()})});
                    continue;
                }
                setOne(c.key(), *c, i);
            }
        }
    }
    return problems;
}

}  // namespace ck
