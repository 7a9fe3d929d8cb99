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
    ImGui::Text("%d of %d questions answered.", p.answered, p.total);
    if (problems.empty())
        ImGui::TextWrapped("No open problems: the visit can be finalised. A finalised visit can no longer be "
                           "edited (a correction starts a new draft).");
    else
        ImGui::Text("%zu open problem(s). Tap one to go to its question.", problems.size());

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

    if (bigButton("Back to the form", s * 1.3f)) model.show(Screen::Form);
    ImGui::SameLine();
    if (bigButtonEnabled("Finalise", problems.empty(), s * 1.3f)) model.finalise();
    recordItem(ui, "finalise");
}

}  // namespace ck
