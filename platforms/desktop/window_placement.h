#pragma once
// Where the desktop window opens: where it was last closed (app settings), clamped to the work
// area of the monitor it was on, or, on a first start, a size that fits the screen. Pure
// arithmetic, so it is tested without a display (tests/platforms/desktop).
#include <vector>

#include "app/ui/app_settings.h"

namespace ck::desktop {

// A monitor's work area (the screen less panels and docks), in screen coordinates.
struct WorkArea {
    int x = 0, y = 0, width = 0, height = 0;
    float contentScale = 1.0f;  // the monitor's content scale (HiDPI)
};

// The laptop-sized window of a first start, in pixels at content scale 1.
inline constexpr int kDefaultWindowWidth = 1280;
inline constexpr int kDefaultWindowHeight = 800;
// Never smaller than this (a saved size that small is a mistake, not a wish).
inline constexpr int kMinWindowSide = 320;

// `saved`: the placement kept in settings (width 0: none). `monitors`: the work areas, the
// primary first; must not be empty. A saved window opens on the monitor holding its centre
// (else the primary), no larger than its work area and moved inside it. Without one, the
// default size scaled by the primary's content scale, centred; a screen smaller than that
// (a phone or tablet, portrait or landscape) is filled.
WindowPlacement placeWindow(const WindowPlacement& saved, const std::vector<WorkArea>& monitors);

}  // namespace ck::desktop
