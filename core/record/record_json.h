#pragma once
// Records as JSON, for people, exports and the command-line tools. Shapes are documented in
// survey-templates/FORMAT.md ("Answers and records").
#include <nlohmann/json_fwd.hpp>

#include "core/record/record.h"

namespace ck {

// Empty -> null; "don't know" -> {"dont_know": true}; "refused" -> {"refused": true};
// dates "YYYY-MM-DD"; choices an array; GPS {"lat", "lon", "accuracy"}; whole numbers as
// integers.
nlohmann::ordered_json valueToJson(const Value& value);
nlohmann::ordered_json answersToJson(const std::vector<Answer>& answers);
nlohmann::ordered_json recordToJson(const Record& record);

}  // namespace ck
