// Review and finalise: every open problem, each a link back to its question; Finalise only
// when there is none (the store checks again, on the task thread).
#include "app/ui/screens/screens.h"

namespace ck {

void drawReviewScreen(AppModel& model, UiState& ui) {
    const FormSession* session = model.session();
    if (!session) return;
    float s = model.settings().textScale;
    auto problems = model.problems();
    Progress p = session->progress();
    ImGui::TextUnformatted(uiTextCount(Text::AnsweredOf, model.languageCode(), size_t(p.answered), size_t(p.total)).c_str());
    if (problems.empty())
        ImGui::TextWrapped("%s", model.ui(Text::NoOpenProblems));
    else
        ImGui::TextWrapped("%s", model.ui(Text::OpenProblems));

    float footer = touchHeight(s) * 1.3f + ImGui::GetStyle().ItemSpacing.y;
    Position jump;
    if (ImGui::BeginChild("problems", ImVec2(0, -footer), true)) {
        for (size_t i = 0; i < problems.size(); ++i) {
            const Problem& problem = problems[i];
            ImGui::PushID(int(i));
            std::string label = problem.label + ": " + problem.message;
            if (ImGui::Selectable(label.c_str(), false, 0, ImVec2(0, touchHeight(s)))) jump = problem.at;
            if (i == 0) recordItem(ui, "first_problem");
            ImGui::PopID();
        }
        dragToScroll();
    }
    ImGui::EndChild();
    if (jump.valid()) model.goTo(jump);

    if (bigButton(model.ui(Text::BackToForm, "back_to_form").c_str(), s * 1.3f)) model.show(Screen::Form);
    recordItem(ui, "back_to_form");
    ImGui::SameLine();
    if (bigButtonEnabled(model.ui(Text::Finalise, "finalise").c_str(), problems.empty(), s * 1.3f)) model.finalise();
    recordItem(ui, "finalise");
}

}  // namespace ck
