#include "app/ui/touch_input.h"

#include <cfloat>

#include <imgui_internal.h>

namespace ck {

namespace {

// The window a drag at the finger scrolls: the one under it (ImGui's hovered window, found by
// the last NewFrame at the finger's place) or the nearest enclosing child that can scroll. A
// popup is never left for the screen beneath it.
ImGuiWindow* scrollableUnderFinger() {
    ImGuiWindow* w = ImGui::GetCurrentContext()->HoveredWindow;
    while (w && w->ScrollMax.x <= 0 && w->ScrollMax.y <= 0) {
        const bool child = (w->Flags & ImGuiWindowFlags_ChildWindow) && !(w->Flags & ImGuiWindowFlags_Popup);
        w = child ? w->ParentWindow : nullptr;
    }
    return w;
}

}  // namespace

void TouchInput::beforeNewFrame(bool finger) {
    ImGuiIO& io = ImGui::GetIO();
    const bool down = io.MouseDown[0];
    switch (m_phase) {
        case Phase::Idle:
            if (down && finger) {
                // Landed: not a press yet. ImGui sees the finger hover until it lifts or moves.
                m_phase = Phase::Pending;
                m_start = io.MousePos;
                m_window = 0;
                io.MouseDown[0] = false;
            } else if (!finger) {
                m_fingerLifted = false;  // a mouse: it hovers where it is
            } else if (m_fingerLifted && !down) {
                io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
            }
            break;
        case Phase::Pending:
            if (!down) {
                // A tap: the press and, next frame, the release where the finger landed.
                io.MousePos = m_start;
                io.MouseDown[0] = true;
                m_phase = Phase::Releasing;
            } else if (ImLengthSqr(ImVec2(io.MousePos.x - m_start.x, io.MousePos.y - m_start.y)) > m_slop * m_slop) {
                m_phase = Phase::Scrolling;
                if (ImGuiWindow* w = scrollableUnderFinger()) {
                    m_window = w->ID;
                    m_scrollStart = w->Scroll;
                }
                scrollWithFinger(io.MousePos);
                io.MouseDown[0] = false;
            } else {
                io.MouseDown[0] = false;
            }
            break;
        case Phase::Scrolling:
            if (down) {
                scrollWithFinger(io.MousePos);
                io.MouseDown[0] = false;
            } else {
                m_phase = Phase::Idle;
                m_fingerLifted = true;
                io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
            }
            break;
        case Phase::Releasing:
            io.MousePos = m_start;
            io.MouseDown[0] = false;
            m_phase = Phase::Idle;
            m_fingerLifted = true;
            break;
    }
}

void TouchInput::scrollWithFinger(const ImVec2& finger) {
    if (m_window == 0) return;  // nothing under the finger scrolls: the drag does nothing
    ImGuiWindow* w = ImGui::FindWindowByID(m_window);
    if (!w) return;
    // Applied (and clamped to the content) when the window is next drawn.
    if (w->ScrollMax.y > 0) ImGui::SetScrollY(w, m_scrollStart.y - (finger.y - m_start.y));
    if (w->ScrollMax.x > 0) ImGui::SetScrollX(w, m_scrollStart.x - (finger.x - m_start.x));
}

}  // namespace ck
