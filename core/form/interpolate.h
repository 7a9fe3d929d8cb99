#pragma once
// ${field} references inside labels, hints and messages (XLSForm's "Workers at ${shop_name}"),
// filled in from the visit being made. One function, so that the form screen, the review
// list and the command-line tools show the same text.
#include <string>
#include <string_view>

#include "core/form/form_session.h"

namespace ck {

// `text` with each ${name} replaced by that question's current value as a person reads it:
// a choice's label in `language` (several joined with ", "), numbers without trailing zeros,
// dates as YYYY-MM-DD, and nothing for an unanswered or not relevant question. `at` is where
// the text is shown: inside a repeat, a reference to a question of the same repeat reads the
// same row. A name that is no question, or a row that cannot be told, stays as written.
std::string interpolate(const FormSession& session, std::string_view text, Position at, size_t language);

}  // namespace ck
