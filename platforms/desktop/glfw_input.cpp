#include "platforms/desktop/glfw_input.h"

#include <GLFW/glfw3.h>
#include <imgui.h>
#include <imgui_impl_glfw.h>

namespace ck::desktop {

InputForwarder::InputForwarder(GLFWwindow* window) : m_window(window) {
    glfwSetWindowUserPointer(window, this);
    glfwSetKeyCallback(window, onKey);
    glfwSetCharCallback(window, onChar);
    glfwSetMouseButtonCallback(window, onMouseButton);
    glfwSetCursorPosCallback(window, onCursorPos);
    glfwSetScrollCallback(window, onScroll);
    glfwSetWindowFocusCallback(window, onFocus);
    glfwSetCursorEnterCallback(window, onCursorEnter);
    glfwSetFramebufferSizeCallback(window, onResize);
    glfwSetWindowRefreshCallback(window, onRefresh);
    glfwSetWindowContentScaleCallback(window, onContentScale);
}

InputForwarder* InputForwarder::from(GLFWwindow* window) {
    auto* self = static_cast<InputForwarder*>(glfwGetWindowUserPointer(window));
    IM_ASSERT(self && "GLFW callback on a window without an InputForwarder");
    return self;
}

bool InputForwarder::takeActivity() {
    const bool a = m_activity;
    m_activity = false;
    return a;
}

bool InputForwarder::takeNeedsRepaint() {
    const bool r = m_needsRepaint;
    m_needsRepaint = false;
    return r;
}

void InputForwarder::endFrame() {
    m_pressedThisFrame.reset();
    if (m_heldReleases.empty()) return;
    auto held = std::move(m_heldReleases);
    m_heldReleases.clear();
    for (const auto& r : held) ImGui_ImplGlfw_KeyCallback(m_window, r.key, r.scancode, GLFW_RELEASE, r.mods);
    m_activity = true;  // the releases need a frame of their own
}

void InputForwarder::onKey(GLFWwindow* window, int key, int scancode, int action, int mods) {
    auto* self = from(window);
    self->m_activity = true;
    // Ctrl+Q closes the window like its close button: the frame loop then flushes and locks.
    if (key == GLFW_KEY_Q && action == GLFW_PRESS && (mods & GLFW_MOD_CONTROL)) {
        glfwSetWindowShouldClose(window, GLFW_TRUE);
        return;
    }
    const bool tracked = key >= 0 && key < static_cast<int>(self->m_pressedThisFrame.size());
    if (tracked && action == GLFW_PRESS) self->m_pressedThisFrame.set(static_cast<size_t>(key));
    if (tracked && action == GLFW_RELEASE && self->m_pressedThisFrame.test(static_cast<size_t>(key))) {
        self->m_heldReleases.push_back({key, scancode, mods});
        return;
    }
    ImGui_ImplGlfw_KeyCallback(window, key, scancode, action, mods);
}

void InputForwarder::onChar(GLFWwindow* window, unsigned int c) {
    from(window)->m_activity = true;
    ImGui_ImplGlfw_CharCallback(window, c);
}

void InputForwarder::onMouseButton(GLFWwindow* window, int button, int action, int mods) {
    from(window)->m_activity = true;
    ImGui_ImplGlfw_MouseButtonCallback(window, button, action, mods);
}

void InputForwarder::onCursorPos(GLFWwindow* window, double, double) {
    // ImGui 1.86 reads the cursor position itself in NewFrame; a move only needs a frame.
    from(window)->m_activity = true;
}

void InputForwarder::onScroll(GLFWwindow* window, double dx, double dy) {
    from(window)->m_activity = true;
    ImGui_ImplGlfw_ScrollCallback(window, dx, dy);
}

void InputForwarder::onFocus(GLFWwindow* window, int focused) {
    from(window)->m_activity = true;
    ImGui_ImplGlfw_WindowFocusCallback(window, focused);
}

void InputForwarder::onCursorEnter(GLFWwindow* window, int entered) {
    from(window)->m_activity = true;
    ImGui_ImplGlfw_CursorEnterCallback(window, entered);
}

void InputForwarder::onResize(GLFWwindow* window, int, int) {
    auto* self = from(window);
    self->m_activity = true;
    self->m_needsRepaint = true;
}

void InputForwarder::onRefresh(GLFWwindow* window) {
    auto* self = from(window);
    self->m_activity = true;
    self->m_needsRepaint = true;
}

void InputForwarder::onContentScale(GLFWwindow* window, float, float) {
    auto* self = from(window);
    self->m_activity = true;
    self->m_needsRepaint = true;
}

}  // namespace ck::desktop
