#include "core/form/personal_answers.h"

namespace ck {

void removePersonalAnswers(std::vector<Answer>& answers, const Template& survey) {
    std::erase_if(answers, [&](const Answer& a) {
        const Question* q = survey.find(a.questionId);
        return q && q->pii;
    });
    for (Answer& a : answers)
        for (auto& instance : a.instances) removePersonalAnswers(instance, survey);
}

}  // namespace ck
