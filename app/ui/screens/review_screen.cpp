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

    // Back and Finalise pinned at the bottom, on one line when they fit (else one each).
    const std::string backLabel = model.ui(Text::BackToForm, "back_to_form"), finaliseLabel = model.ui(Text::Finalise, "finalise");
    const float barScale = narrowLayout() ? s : s * 1.3f;
    const float backWidth = bigButtonWidth(backLabel.c_str(), barScale), finaliseWidth = bigButtonWidth(finaliseLabel.c_str(), barScale);
    const int lines = flowLines({backWidth, finaliseWidth}, ImGui::GetContentRegionAvail().x);
    const float footer = lines * (touchHeight(barScale) + ImGui::GetStyle().ItemSpacing.y);
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

    if (bigButton(backLabel.c_str(), barScale)) model.show(Screen::Form);
    recordItem(ui, "back_to_form");
    sameLineIfFits(finaliseWidth);
    if (bigButtonEnabled(finaliseLabel.c_str(), problems.empty(), barScale)) model.finalise();
    recordItem(ui, "finalise");
}

}  // namespace ck
