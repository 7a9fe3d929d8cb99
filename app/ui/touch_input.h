#pragma once
// A finger on a touch screen, as Dear ImGui 1.86 should see it. ImGui knows only a mouse: a
// finger that lands on a button presses it at once, and a finger dragged across a list does
// not scroll it. TouchInput sits between the platform's ImGui backend and ImGui::NewFrame()
// and turns the finger's presses into the two gestures a phone has:
//
//   - a tap: the finger lifts within `slop` pixels of where it landed. ImGui sees a press and a
//     release there (one frame each), as a mouse click: buttons, fields and choices work.
//   - a drag: the finger moves further. ImGui sees no press at all (so the button or choice it
//     started on is never pressed); the nearest scrollable window under the finger scrolls
//     with it, the content following the finger pixel for pixel. A finger that lifts while
//     still moving flings the list on: it glides and slows down (a new touch stops it).
//
// While the finger is down ImGui sees it hover (the row under it lights up); once it lifts,
// nothing is hovered (a finger leaves no pointer behind). A mouse is left alone: the platform
// says which presses are fingers. Owned by the platform, one per ImGui context; no state of
// the app is kept here.
#include <imgui.h>

namespace ck {

class TouchInput {
public:
    // `slop`: how far, in ImGui's pixels, a finger may move and still tap (the platform
    // passes its CSS threshold times the content scale).
    explicit TouchInput(float slop = 10.0f) : m_slop(slop) {}

    void setSlop(float slop) { m_slop = slop; }

    // Call after the backend's NewFrame (io.MousePos and io.MouseDown[0] hold the pointer)
    // and before ImGui::NewFrame(). `finger`: the pointer is a finger (touch events), not a
    // mouse; a press that began as a finger stays one until it lifts.
    void beforeNewFrame(bool finger);

    // True while a gesture is not over (a finger is down, or a tap's release is still due):
    // the platform keeps building frames until it is false.
    bool busy() const { return m_phase != Phase::Idle || m_fling.x != 0 || m_fling.y != 0; }

    // True while a finger is down and has not moved past the slop: it may still tap or drag.
    bool pending() const { return m_phase == Phase::Pending; }

    // True from the frame a drag passed the slop until the finger lifts.
    bool scrolling() const { return m_phase == Phase::Scrolling; }

private:
    enum class Phase { Idle, Pending, Scrolling, Releasing };
    void scrollWithFinger(const ImVec2& finger);
    void noteFinger(const ImVec2& finger, double now);
    ImVec2 fingerVelocity(double now) const;
    void glide(float dt);

    float m_slop;
    Phase m_phase = Phase::Idle;
    bool m_fingerLifted = false;  // the last press was a finger's: no hover until the next one
    ImVec2 m_start;               // where the finger landed
    ImGuiID m_window = 0;         // the window being scrolled (0: none under the finger)
    ImVec2 m_scrollStart;         // its scroll when the drag began
    // Where the finger was over the last frames (time, place): its speed when it lifts.
    struct Sample {
        double time = -1;
        ImVec2 at;
    };
    Sample m_samples[8];
    int m_nextSample = 0;
    double m_time = 0;  // seconds, summed from io.DeltaTime
    ImVec2 m_fling;     // the speed a fling glides on (pixels per second; 0: none)
};

}  // namespace ck
