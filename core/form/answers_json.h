#pragma once
// Reads answers written as JSON (survey-templates/FORMAT.md, "Answers and records") into a
// form session: what the command-line tools and scripted bulk work use.
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/form/form_session.h"

namespace ck {

// The value a JSON answer means for a question of type `type`; nullopt with `error` set when
// it cannot mean anything for that type.
// `error` is worded in `language` ("en", "hi", "ta", ...).
std::optional<Value> valueFromJson(const nlohmann::json& answer, QuestionType type, std::string& error,
                                   std::string_view language = "en");

struct AnswerProblem {
    std::string questionId;  // the question the answer was for; empty for the document itself
    std::string message;     // for people, naming the question
};

// Sets every answer in `answers` (an object keyed by question id; a repeat takes an array of
// such objects, one per instance). Returns one message per answer that was not taken,
// naming the question; all other answers are set. Every message is worded in `language`
// (refusals of an answer and mistakes in the file's structure alike).
[[nodiscard]] std::vector<AnswerProblem> applyAnswersJson(FormSession& session, const nlohmann::json& answers,
                                                          std::string_view language = "en");

}  // namespace ck
