// libFuzzer target: any bytes given to the template loader give a template or errors,
// never a crash, a hang or a leak. Sound templates are also driven through a form session
// start (initial evaluation of every expression).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/form/form_session.h"
#include "core/template/template_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = ck::loadTemplateJson(text, "fuzz.json");
    // A result is exactly one of: a template, or at least one error.
    if (result.ok() == !result.errors.empty()) __builtin_trap();
    for (const auto& e : result.errors) (void)e.toString();
    if (result.ok()) {
        // Evaluates every expression once, with no answers, and adds an instance to each repeat.
        ck::FormSession session(result.survey, "fuzz", 1);
        for (const auto& q : result.survey->questions)
            if (q.type == ck::QuestionType::Repeat) session.addInstance(q.index);
        (void)session.validate();
        (void)session.toRecord();
    }
    return 0;
}
