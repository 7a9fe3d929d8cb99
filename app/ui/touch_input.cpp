#include "app/ui/touch_input.h"

#include <cfloat>
#include <cmath>

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

// A fling: the speed the finger had over its last this many seconds (a finger that stopped
// before it lifted flings nothing), slowing by this time constant (Android's feel), and gone
// below this speed (fractions of the slop per second: the same feel at any pixel density).
constexpr double kFlingWindow = 0.08;
constexpr float kFlingTimeConstant = 0.325f;
constexpr float kFlingMinSlopsPerSecond = 4.0f;

}  // namespace

void TouchInput::beforeNewFrame(bool finger) {
    ImGuiIO& io = ImGui::GetIO();
    const bool down = io.MouseDown[0];
    m_time += io.DeltaTime;
    switch (m_phase) {
        case Phase::Idle:
            if (down && finger) {
                // Landed: not a press yet. ImGui sees the finger hover until it lifts or moves.
                m_phase = Phase::Pending;
                m_start = io.MousePos;
                m_window = 0;
                m_fling = ImVec2(0, 0);  // a touch stops a fling
                for (Sample& sample : m_samples) sample.time = -1;
                noteFinger(io.MousePos, m_time);
                io.MouseDown[0] = false;
            } else if (!finger) {
                m_fingerLifted = false;  // a mouse: it hovers where it is
                m_fling = ImVec2(0, 0);
            } else if (m_fingerLifted && !down) {
                io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
            }
            if (m_phase == Phase::Idle) glide(io.DeltaTime);
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
                noteFinger(io.MousePos, m_time);
                io.MouseDown[0] = false;
            } else {
                noteFinger(io.MousePos, m_time);
                io.MouseDown[0] = false;
            }
            break;
        case Phase::Scrolling:
            if (down) {
                scrollWithFinger(io.MousePos);
                noteFinger(io.MousePos, m_time);
                io.MouseDown[0] = false;
            } else {
                m_phase = Phase::Idle;
                m_fingerLifted = true;
                io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
                if (m_window != 0) m_fling = fingerVelocity(m_time);
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

void TouchInput::noteFinger(const ImVec2& finger, double now) {
    m_samples[m_nextSample] = {now, finger};
    m_nextSample = (m_nextSample + 1) % int(IM_ARRAYSIZE(m_samples));
}

ImVec2 TouchInput::fingerVelocity(double now) const {
    // From the oldest place within the window to the newest: zero when the finger had stopped.
    const Sample* oldest = nullptr;
    const Sample* newest = nullptr;
    for (const Sample& s : m_samples) {
        if (s.time < 0 || now - s.time > kFlingWindow) continue;
        if (!oldest || s.time < oldest->time) oldest = &s;
        if (!newest || s.time > newest->time) newest = &s;
    }
    if (!oldest || newest->time - oldest->time <= 0) return ImVec2(0, 0);
    const float dt = float(newest->time - oldest->time);
    return ImVec2((newest->at.x - oldest->at.x) / dt, (newest->at.y - oldest->at.y) / dt);
}

void TouchInput::glide(float dt) {
    if (m_fling.x == 0 && m_fling.y == 0) return;
    ImGuiWindow* w = ImGui::FindWindowByID(m_window);
    const float slowest = kFlingMinSlopsPerSecond * m_slop;
    if (!w || dt <= 0 || ImLengthSqr(m_fling) < slowest * slowest) {
        m_fling = ImVec2(0, 0);
        return;
    }
    // The content moves on as the finger did; at an end of the list the glide stops.
    const ImVec2 step(m_fling.x * dt, m_fling.y * dt);
    bool moved = false;
    if (w->ScrollMax.y > 0 && step.y != 0) {
        const float to = ImClamp(w->Scroll.y - step.y, 0.0f, w->ScrollMax.y);
        moved |= to != w->Scroll.y;
        ImGui::SetScrollY(w, to);
    }
    if (w->ScrollMax.x > 0 && step.x != 0) {
        const float to = ImClamp(w->Scroll.x - step.x, 0.0f, w->ScrollMax.x);
        moved |= to != w->Scroll.x;
        ImGui::SetScrollX(w, to);
    }
    const float slow = std::exp(-dt / kFlingTimeConstant);
    m_fling = moved ? ImVec2(m_fling.x * slow, m_fling.y * slow) : ImVec2(0, 0);
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
