#pragma once
// What the frame loop needs between ImGui and the screen, for the desktop and the web build
// alike (ImGui only, no window system): a fingerprint of a frame's draw data, so an unchanged
// frame is not rendered again, and the content scale applied to the app's style metrics.
#include <cstdint>

#include <imgui.h>

namespace ck::desktop {

// A cheap fingerprint of what ImGui asked to draw: unchanged output need not be rendered again.
uint64_t drawFingerprint(const ImDrawData* data);

// The app owns the style (theme, text size) and replaces it with fresh metrics when the officer
// changes either; the platform multiplies those metrics by the screen's content scale. A
// change of metrics by the app is seen by comparing a few of them with what was last left.
class StyleScale {
public:
    void apply(float contentScale);

private:
    ImGuiStyle m_left;
    float m_applied = 1.0f;
};

}  // namespace ck::desktop
