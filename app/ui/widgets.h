#pragma once
// What every screen shares: the officer's input buffers (text being typed is UI state, not
// engine state), large touch targets, drag-to-scroll, the theme and the test hook that
// records where named widgets were drawn.
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <imgui.h>

#include "app/ui/field_app.h"
#include "core/form/form_session.h"

namespace ck {

class FormImages;  // form_images.h

// Text the officer is typing before it becomes a command (passphrases are wiped after use).
// Answers are not kept here: they live in the FormSession.
struct UiState {
    std::string newPassphrase, confirmPassphrase;  // first run and change passphrase
    std::string oldPassphrase;
    std::string unlockPassphrase;
    std::string visitSearch;
    std::string photoPath;
    std::string enrolAddress, enrolPin, enrolCode, enrolLabel;
    bool enrolAddressLoaded = false;
    // The slip's enrolment string and the file it may be read from. Kept through a failed
    // attempt (a typo is fixed in place); wiped, like the code, once an enrolment succeeds.
    std::string enrolString, enrolFile;
    int enrolmentsSeen = -1;  // AppModel::enrolments() when last drawn
    std::string bundlePath, receiptPath;  // the sync screen's files (bundlePath: a default once)
    // A value the officer typed that is not an answer yet (a half-typed date, a number that
    // does not parse), with why, for the question it belongs to.
    Position inputErrorAt;
    std::string inputError;
    std::string inputErrorLanguage;  // the language it is worded in
    // (Text typed that is not an answer is kept by the model: AppModel::keepTyped.)
    std::string pendingVisit;  // the visit the removal below belongs to
    bool numberOfficerComma = false;  // the officer typed a comma: the field is not regrouped
    // A repeat row whose "Remove" waits for the officer's confirmation (-1: none).
    int removeRepeat = -1, removeRow = -1;
    // GPS typed field by field; becomes an answer once latitude and longitude parse.
    Position gpsAt;
    std::string gpsLat, gpsLon, gpsAccuracy;
    std::string appliedTheme;  // "", "normal" or "contrast": the theme ImGui's style holds now
    float textScale = 1.0f;
    std::map<std::string, ItemRect, std::less<>> itemRects;  // test hook, last frame
    // The text field being edited in this frame that asked for a keyboard (askKeyboard).
    ImGuiID keyboardField = 0;
    Keyboard keyboard = Keyboard::Text;
    float displayHeight = 0;     // the window's height in the last frame
    bool displayShrank = false;  // it is shorter this frame (a phone's keyboard opened)
    FormImages* images = nullptr;  // the open template's images (FieldApp owns them)
};

void wipe(std::string& secret);

// A Unix time in the device's local time zone, as strftime `format` writes it ("-" for 0).
std::string localTime(int64_t unixSeconds, const char* format = "%Y-%m-%d %H:%M");

// Minimum height of a touch target, in pixels: 48 x the text size, or more with a larger font.
float touchHeight(float textScale);
// A button at least touchHeight() tall; `width` 0 = fit the label, -1 = fill the line.
bool bigButton(const char* label, float textScale, float width = 0);
// The width bigButton() gives `label` when `width` is 0.
float bigButtonWidth(const char* label, float textScale);
// Same, drawn greyed out and never pressed when `enabled` is false.
bool bigButtonEnabled(const char* label, bool enabled, float textScale, float width = 0);
// Layout for every window size (a 720 px wide phone in portrait, a laptop, the largest text):
// below this width, in font heights (about 940 px at normal text, 1870 px at the largest), a
// screen uses its narrow layout: panes stack, tables keep their main columns, the top bar
// folds its screens into a menu.
inline constexpr float kNarrowLayoutEms = 52.0f;
// True when the app's window is narrower than kNarrowLayoutEms font heights.
bool narrowLayout();
// Call in place of ImGui::SameLine() before an item `width` wide: it stays on the line when it
// fits in what is left of the line (of the table cell), else it starts the next line.
void sameLineIfFits(float width);
// The lines that items of these widths take when laid out with sameLineIfFits() in `avail`
// pixels: a pinned footer reserves its height from it before its items are drawn.
int flowLines(const std::vector<float>& widths, float avail);

// Records the last item's rect under `name` for tests (itemRect()); `text`, when given, is
// kept as its label (a message's words, for the tests that check them).
void recordItem(UiState& ui, std::string_view name, std::string_view text = {});
// Call right after a text field: while it is being edited, a phone shows `keyboard` for it
// (digits for numbers and dates, Password for a passphrase), and when that keyboard makes the
// window shorter the field is scrolled back into view. A field that asks nothing gets letters
// (Text) and is not scrolled.
void askKeyboard(UiState& ui, Keyboard keyboard);
// A full-width choice row at least touchHeight() tall, with a radio mark (select one) or a
// check box (select multiple) drawn before it is chosen, so it looks selectable.
// The row's rect is recorded under `name`.
bool choiceRow(UiState& ui, std::string_view name, const std::string& label, bool selected, bool radio, float textScale);
// Inside a child window: scrolls it by dragging with a finger or the mouse, unless the drag
// began on a widget (a slider, a text field) that owns the drag. Call before EndChild().
void dragToScroll();
// Draws a turning arc at the cursor: work is going on.
void spinner(float radius);
// Applies the normal or high-contrast (sunlight) theme when the setting changed.
void applyTheme(UiState& ui, bool highContrast, float textScale);
// Red text for problems, dimmed text for hints.
void problemText(const std::string& text);
void hintText(const std::string& text);

}  // namespace ck
