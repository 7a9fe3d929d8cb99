#pragma once
// One function per screen, one screen per file. Each reads the model, draws, and calls the
// model's commands; none holds business rules or a copy of the model's state.
#include "app/ui/app_model.h"
#include "core/messages/engine_messages.h"  // fillPlaceholders: {0}, {1} in the app's words
#include "app/ui/widgets.h"

namespace ck {

void drawFirstRunScreen(AppModel& model, UiState& ui);
void drawUnlockScreen(AppModel& model, UiState& ui);
void drawChangePassphraseScreen(AppModel& model, UiState& ui);
void drawVisitsScreen(AppModel& model, UiState& ui);
void drawFormScreen(AppModel& model, UiState& ui);
void drawReviewScreen(AppModel& model, UiState& ui);
void drawSyncScreen(AppModel& model, UiState& ui);
// While a sync runs (in place of the screen): the progress bar, counts, bytes and Cancel.
void drawSyncProgress(AppModel& model, UiState& ui);
void drawEnrolmentScreen(AppModel& model, UiState& ui);
void drawSettingsScreen(AppModel& model, UiState& ui);

}  // namespace ck
