#include "platforms/desktop/window_placement.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace ck::desktop {
namespace {

bool holds(const WorkArea& a, int x, int y) { return x >= a.x && x < a.x + a.width && y >= a.y && y < a.y + a.height; }

// Within [lo, hi], and lo when the range is empty (a window as large as the area sits at its origin).
int clampTo(int v, int lo, int hi) { return std::max(lo, std::min(v, hi)); }

}  // namespace

WindowPlacement placeWindow(const WindowPlacement& saved, const std::vector<WorkArea>& monitors) {
    assert(!monitors.empty() && "placeWindow: no monitor work area (glfwGetMonitors returned none?)");
    WindowPlacement out;
    if (saved.width > 0 && saved.height > 0) {
        const int cx = saved.x + saved.width / 2, cy = saved.y + saved.height / 2;
        const auto it = std::find_if(monitors.begin(), monitors.end(), [&](const WorkArea& a) { return holds(a, cx, cy); });
        const WorkArea& area = it != monitors.end() ? *it : monitors.front();
        out.width = std::min(std::max(saved.width, std::min(kMinWindowSide, area.width)), area.width);
        out.height = std::min(std::max(saved.height, std::min(kMinWindowSide, area.height)), area.height);
        out.x = clampTo(saved.x, area.x, area.x + area.width - out.width);
        out.y = clampTo(saved.y, area.y, area.y + area.height - out.height);
        return out;
    }
    const WorkArea& area = monitors.front();
    const float scale = area.contentScale > 0.25f && area.contentScale < 8.0f ? area.contentScale : 1.0f;
    const int w = int(std::lround(kDefaultWindowWidth * scale)), h = int(std::lround(kDefaultWindowHeight * scale));
    if (w > area.width || h > area.height) {
        // A phone or a small tablet: the app takes the whole work area, as apps do there.
        return {area.x, area.y, area.width, area.height};
    }
    out.width = w;
    out.height = h;
    out.x = area.x + (area.width - w) / 2;
    out.y = area.y + (area.height - h) / 2;
    return out;
}

}  // namespace ck::desktop
