#pragma once
// A record as reports and exports may read it: every answer the template marks personal
// (`pii`) removed, at the top level and inside every repeat instance. Ingest stores visits
// this way, and ck-synth's scale data is made the same way, so both hold the same records.
#include <vector>

#include "core/record/record.h"
#include "core/template/survey_template.h"

namespace ck {

void removePersonalAnswers(std::vector<Answer>& answers, const Template& survey);

}  // namespace ck
