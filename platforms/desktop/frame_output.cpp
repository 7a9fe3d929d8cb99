#include "platforms/desktop/frame_output.h"

#include <cstddef>

namespace ck::desktop {

uint64_t drawFingerprint(const ImDrawData* data) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a
    auto mix = [&h](const void* p, size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
    };
    mix(&data->DisplaySize, sizeof data->DisplaySize);
    mix(&data->FramebufferScale, sizeof data->FramebufferScale);
    for (int n = 0; n < data->CmdListsCount; ++n) {
        const ImDrawList* list = data->CmdLists[n];
        mix(list->VtxBuffer.Data, static_cast<size_t>(list->VtxBuffer.Size) * sizeof(ImDrawVert));
        mix(list->IdxBuffer.Data, static_cast<size_t>(list->IdxBuffer.Size) * sizeof(ImDrawIdx));
        for (const ImDrawCmd& cmd : list->CmdBuffer) {
            mix(&cmd.ClipRect, sizeof cmd.ClipRect);
            mix(&cmd.TextureId, sizeof cmd.TextureId);
            mix(&cmd.ElemCount, sizeof cmd.ElemCount);
        }
    }
    return h;
}

namespace {

bool sameMetrics(const ImGuiStyle& a, const ImGuiStyle& b) {
    auto eq = [](ImVec2 x, ImVec2 y) { return x.x == y.x && x.y == y.y; };
    return eq(a.WindowPadding, b.WindowPadding) && eq(a.FramePadding, b.FramePadding) &&
           eq(a.ItemSpacing, b.ItemSpacing) && a.ScrollbarSize == b.ScrollbarSize && a.GrabMinSize == b.GrabMinSize &&
           a.IndentSpacing == b.IndentSpacing && a.FrameRounding == b.FrameRounding;
}

}  // namespace

void StyleScale::apply(float contentScale) {
    ImGuiStyle& style = ImGui::GetStyle();
    if (!sameMetrics(style, m_left)) m_applied = 1.0f;  // the app set fresh, unscaled metrics
    if (contentScale != m_applied) {
        style.ScaleAllSizes(contentScale / m_applied);
        m_applied = contentScale;
    }
    m_left = style;
}

}  // namespace ck::desktop
