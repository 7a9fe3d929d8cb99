#include "app/ui/widgets.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <imgui_internal.h>
#include <sodium.h>

namespace ck {

void wipe(std::string& secret) {
    if (!secret.empty()) sodium_memzero(secret.data(), secret.size());
    secret.clear();
}

float touchHeight(float textScale) {
    // 48 px at normal text size; with the platform's content scale the font grows, and the
    // target grows with it: 48/18 font heights is 48 px at the platforms' 18 px font, so a
    // phone at devicePixelRatio 2.625 (font 47.25 px) gets 48 CSS px, not a little less.
    return std::max({48.0f * textScale, ImGui::GetFontSize() * (48.0f / 18.0f), ImGui::GetFrameHeight()});
}

namespace {
// The last big button drawn (its id and visible words): recordItem() copies the words for
// the tests that check what a button says in the chosen language.
ImGuiID g_lastButtonId = 0;
std::string g_lastButtonLabel;
}  // namespace

float bigButtonWidth(const char* label, float textScale) {
    return std::max(ImGui::CalcTextSize(label, nullptr, true).x + 2 * ImGui::GetStyle().FramePadding.x + 24 * textScale,
                    touchHeight(textScale));
}

bool bigButton(const char* label, float textScale, float width) {
    ImVec2 size(width, touchHeight(textScale));
    if (width == 0) size.x = bigButtonWidth(label, textScale);
    if (width < 0) size.x = ImGui::GetContentRegionAvail().x;
    bool pressed = ImGui::Button(label, size);
    g_lastButtonId = ImGui::GetItemID();
    const char* end = ImGui::FindRenderedTextEnd(label);
    g_lastButtonLabel.assign(label, end);
    return pressed;
}

bool bigButtonEnabled(const char* label, bool enabled, float textScale, float width) {
    if (!enabled) ImGui::BeginDisabled();
    bool pressed = bigButton(label, textScale, width);
    if (!enabled) ImGui::EndDisabled();
    return pressed && enabled;
}

bool narrowLayout() {
    // The whole window's width, so a screen and the panes inside it agree.
    return ImGui::GetMainViewport()->WorkSize.x < kNarrowLayoutEms * ImGui::GetFontSize();
}

void sameLineIfFits(float width) {
    // The right edge of the line: the window's content, or the table cell being drawn.
    const float right = ImGui::GetContentRegionMaxAbs().x;
    const float after = ImGui::GetItemRectMax().x + ImGui::GetStyle().ItemSpacing.x;
    if (after + width <= right + 0.5f) ImGui::SameLine();
}

int flowLines(const std::vector<float>& widths, float avail) {
    const float spacing = ImGui::GetStyle().ItemSpacing.x;
    int lines = 0;
    float used = 0;
    for (float w : widths) {
        if (lines == 0 || used + spacing + w > avail + 0.5f) {
            ++lines;
            used = w;
        } else {
            used += spacing + w;
        }
    }
    return lines;
}

void recordItem(UiState& ui, std::string_view name, std::string_view text) {
    ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    ItemRect rect{a.x, a.y, b.x, b.y, std::string(text)};
    if (text.empty() && ImGui::GetItemID() == g_lastButtonId && g_lastButtonId != 0) rect.label = g_lastButtonLabel;
    ui.itemRects[std::string(name)] = std::move(rect);
}

void askKeyboard(UiState& ui, Keyboard keyboard) {
    if (!ImGui::IsItemActive()) return;
    ui.keyboardField = ImGui::GetItemID();
    ui.keyboard = keyboard;
    if (ui.displayShrank) ImGui::ScrollToItem(ImGuiScrollFlags_KeepVisibleEdgeY);
}

bool choiceRow(UiState& ui, std::string_view name, const std::string& label, bool selected, bool radio, float textScale) {
    const float h = touchHeight(textScale);
    const float mark = ImGui::GetFontSize();
    const float pad = ImGui::GetStyle().FramePadding.x;
    ImVec2 start = ImGui::GetCursorPos();
    bool pressed = ImGui::Selectable("##choice", selected, ImGuiSelectableFlags_AllowItemOverlap, ImVec2(0, h));
    ImVec2 after = ImGui::GetCursorPos();
    recordItem(ui, name);
    ImVec2 min = ImGui::GetItemRectMin();
    ImDrawList* draw = ImGui::GetWindowDrawList();
    const ImU32 ink = ImGui::GetColorU32(ImGuiCol_Text);
    const float line = std::max(1.5f, mark / 9);
    ImVec2 centre(min.x + pad + mark / 2, min.y + h / 2);
    if (radio) {
        draw->AddCircle(centre, mark / 2, ink, 0, line);
        if (selected) draw->AddCircleFilled(centre, mark / 4, ink);
    } else {
        ImVec2 a(centre.x - mark / 2, centre.y - mark / 2), b(centre.x + mark / 2, centre.y + mark / 2);
        draw->AddRect(a, b, ink, 2, 0, line);
        if (selected) ImGui::RenderCheckMark(draw, ImVec2(a.x + mark * 0.15f, a.y + mark * 0.15f), ink, mark * 0.7f);
    }
    // The words through the normal text path, beside the mark and centred in the row.
    ImGui::SetCursorPos(ImVec2(start.x + mark + 2 * pad, start.y + (h - ImGui::GetTextLineHeight()) / 2));
    ImGui::TextUnformatted(label.c_str());
    ImGui::SetCursorPos(after);
    return pressed;
}

void dragToScroll() {
    const ImGuiIO& io = ImGui::GetIO();
    // ImGui 1.86 has no touch scrolling: a drag that did not start on a widget (a held
    // button, a text field, a slider) scrolls the window under the finger. A press on the
    // window's empty space makes the window's own move id active (it does not move: the
    // screens' windows are NoMove), so that is the drag we take over.
    ImGuiWindow* window = ImGui::GetCurrentWindow();
    if (ImGui::GetActiveID() != window->MoveId) return;
    if (!ImGui::IsMouseDragging(ImGuiMouseButton_Left, 6.0f)) return;
    if (io.MouseDelta.y != 0) ImGui::SetScrollY(ImGui::GetScrollY() - io.MouseDelta.y);
    if (io.MouseDelta.x != 0) ImGui::SetScrollX(ImGui::GetScrollX() - io.MouseDelta.x);
}

void spinner(float radius) {
    ImDrawList* draw = ImGui::GetWindowDrawList();
    ImVec2 pos = ImGui::GetCursorScreenPos();
    ImVec2 center(pos.x + radius, pos.y + radius);
    float start = float(ImGui::GetTime()) * 6.0f;
    draw->PathClear();
    for (int i = 0; i <= 24; ++i) {
        float a = start + float(i) / 24.0f * 4.5f;
        draw->PathLineTo(ImVec2(center.x + std::cos(a) * radius, center.y + std::sin(a) * radius));
    }
    draw->PathStroke(ImGui::GetColorU32(ImGuiCol_ButtonActive), 0, radius / 4);
    ImGui::Dummy(ImVec2(radius * 2, radius * 2));
}

void applyTheme(UiState& ui, bool highContrast, float textScale) {
    const char* wanted = highContrast ? "contrast" : "normal";
    if (ui.appliedTheme == wanted && ui.textScale == textScale) return;
    ImGuiStyle style;  // fresh metrics, so scaling twice never compounds
    if (highContrast) {
        // Sunlight: black on white, strong borders, saturated active colours.
        ImGui::StyleColorsLight(&style);
        ImVec4* c = style.Colors;
        c[ImGuiCol_Text] = ImVec4(0, 0, 0, 1);
        c[ImGuiCol_TextDisabled] = ImVec4(0.30f, 0.30f, 0.30f, 1);
        c[ImGuiCol_WindowBg] = ImVec4(1, 1, 1, 1);
        c[ImGuiCol_ChildBg] = ImVec4(1, 1, 1, 1);
        c[ImGuiCol_Border] = ImVec4(0, 0, 0, 1);
        c[ImGuiCol_FrameBg] = ImVec4(0.92f, 0.92f, 0.92f, 1);
        c[ImGuiCol_Button] = ImVec4(0.80f, 0.86f, 1.0f, 1);
        c[ImGuiCol_ButtonHovered] = ImVec4(0.55f, 0.70f, 1.0f, 1);
        c[ImGuiCol_ButtonActive] = ImVec4(0.0f, 0.25f, 0.75f, 1);
        c[ImGuiCol_CheckMark] = ImVec4(0, 0, 0, 1);
        style.FrameBorderSize = 2.0f;
        style.ChildBorderSize = 2.0f;
    } else {
        ImGui::StyleColorsDark(&style);
    }
    style.FrameRounding = 6.0f;
    style.ScrollbarSize = 24.0f;  // a finger can hit it
    style.ItemSpacing = ImVec2(12, 10);
    style.FramePadding = ImVec2(10, 8);
    style.ScaleAllSizes(textScale);
    ImGui::GetStyle() = style;
    ui.appliedTheme = wanted;
    ui.textScale = textScale;
}

void problemText(const std::string& text) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(0.85f, 0.10f, 0.10f, 1));
    ImGui::TextWrapped("%s", text.c_str());
    ImGui::PopStyleColor();
}

void hintText(const std::string& text) {
    ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::TextWrapped("%s", text.c_str());
    ImGui::PopStyleColor();
}

std::string localTime(int64_t unixSeconds, const char* format) {
    if (unixSeconds <= 0) return "-";
    std::time_t t = std::time_t(unixSeconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    char text[64];
    std::strftime(text, sizeof text, format, &tm);
    return text;
}

}  // namespace ck
