#include "core/record/record_json.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace ck {

using json = nlohmann::ordered_json;

json valueToJson(const Value& v) {
    switch (v.kind()) {
        case ValueKind::Empty: return nullptr;
        case ValueKind::DontKnow: return json{{"dont_know", true}};
        case ValueKind::Refused: return json{{"refused", true}};
        case ValueKind::Bool: return v.asBool();
        case ValueKind::Number: {
            double n = v.asNumber();
            // Whole numbers print as integers: counts and rupees read naturally in exports.
            if (std::isfinite(n) && std::trunc(n) == n && std::fabs(n) < 9.0e15) return static_cast<int64_t>(n);
            return n;
        }
        case ValueKind::Text: return v.asText();
        case ValueKind::Date: return formatIsoDate(v.asDate());
        case ValueKind::Choices: return v.asChoices();
        case ValueKind::Geo:
            // "accuracy": null when unknown, so an export never shows a made-up 0 m.
            return json{{"lat", v.asGeo().latitude},
                        {"lon", v.asGeo().longitude},
                        {"accuracy", v.asGeo().accuracyMetres ? json(*v.asGeo().accuracyMetres) : json(nullptr)}};
    }
    return nullptr;
}

json answersToJson(const std::vector<Answer>& answers) {
    json out = json::object();
    for (const auto& a : answers) {
        if (!a.isRepeat) {
            out[a.questionId] = valueToJson(a.value);
            continue;
        }
        json instances = json::array();
        for (const auto& inst : a.instances) instances.push_back(answersToJson(inst));
        out[a.questionId] = std::move(instances);
    }
    return out;
}

json recordToJson(const Record& r) {
    // ordered_json: header fields first, answers in template order, as people read them.
    json out;
    out["id"] = r.id;
    out["template_id"] = r.templateId;
    out["template_version"] = r.templateVersion;
    out["created_at"] = formatUtc(r.createdAt);
    out["updated_at"] = formatUtc(r.updatedAt);
    if (!r.parentId.empty()) out["parent_id"] = r.parentId;
    out["answers"] = answersToJson(r.answers);
    return out;
}

}  // namespace ck
