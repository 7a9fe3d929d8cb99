#pragma once
// Forwards GLFW's input callbacks to Dear ImGui's GLFW backend, and tells the frame loop that
// something happened so it draws a few frames before waiting again.
//
// Dear ImGui 1.86 reads keys as a "down" array sampled once per frame, so a key pressed and
// released between two frames (a quick tap, or xdotool) would be lost. A release that comes in
// the same frame as its press is held back and delivered after the next frame.
#include <bitset>
#include <vector>

struct GLFWwindow;

namespace ck::desktop {

class InputForwarder {
public:
    // Installs the callbacks on `window` (ImGui's backend must be initialised with
    // install_callbacks = false). One forwarder per window; it must outlive the window's use.
    explicit InputForwarder(GLFWwindow* window);
    InputForwarder(const InputForwarder&) = delete;
    InputForwarder& operator=(const InputForwarder&) = delete;

    // True once since the last call when input, focus, resize or expose arrived.
    bool takeActivity();
    // True when the window must be repainted even if nothing in the UI changed (exposed, resized).
    bool takeNeedsRepaint();
    // Call after each frame: delivers held-back key releases.
    void endFrame();

private:
    static InputForwarder* from(GLFWwindow* window);
    static void onKey(GLFWwindow* window, int key, int scancode, int action, int mods);
    static void onChar(GLFWwindow* window, unsigned int c);
    static void onMouseButton(GLFWwindow* window, int button, int action, int mods);
    static void onCursorPos(GLFWwindow* window, double x, double y);
    static void onScroll(GLFWwindow* window, double dx, double dy);
    static void onFocus(GLFWwindow* window, int focused);
    static void onCursorEnter(GLFWwindow* window, int entered);
    static void onResize(GLFWwindow* window, int width, int height);
    static void onRefresh(GLFWwindow* window);
    static void onContentScale(GLFWwindow* window, float xs, float ys);

    struct HeldRelease {
        int key, scancode, mods;
    };
    GLFWwindow* m_window;
    bool m_activity = true;
    bool m_needsRepaint = true;
    std::bitset<512> m_pressedThisFrame;
    std::vector<HeldRelease> m_heldReleases;
};

}  // namespace ck::desktop
