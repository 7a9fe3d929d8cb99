// Where Dear ImGui's text calls meet the TextEngine (text_engine.h explains why this is done
// at link time). The linker (`--wrap=SYMBOL`, set by app/ui/text/CMakeLists.txt for every
// program linking ck_ui_text) sends imgui.o's and imgui_widgets.o's calls of the three
// functions below to __wrap_SYMBOL here; __real_SYMBOL is ImGui's own function.
//
// The mangled names and the semantics copied from ImGui (colour with zero alpha draws
// nothing, a null font means the draw list's font, the clip rect is narrowed by the fine
// clip rect) are those of Dear ImGui 1.86, Debian's libimgui-dev: another version must be
// checked against its imgui_draw.cpp before this builds.
#include <cfloat>
#include <cstring>

#include <imgui.h>
#include <imgui_internal.h>

#include "app/ui/text/text_engine.h"

#if IMGUI_VERSION_NUM != 18600
#error "imgui_text_hook.cpp wraps Dear ImGui 1.86's ImFont::CalcTextSizeA and ImDrawList::AddText: check them against this version"
#endif

namespace ck::text {
// Set by TextEngine::install() (text_engine.cpp).
extern TextEngine* g_installedEngine;
}  // namespace ck::text

// ImGui's own functions, reached through the linker's __real_ names.
ImVec2 imguiCalcTextSizeA(const ImFont* self, float size, float maxWidth, float wrapWidth, const char* begin,
                          const char* end, const char** remaining)
    __asm__("__real__ZNK6ImFont13CalcTextSizeAEfffPKcS1_PS1_");
void imguiAddText(ImDrawList* self, const ImFont* font, float size, const ImVec2& pos, ImU32 col, const char* begin,
                  const char* end, float wrapWidth, const ImVec4* fineClip)
    __asm__("__real__ZN10ImDrawList7AddTextEPK6ImFontfRK6ImVec2jPKcS7_fPK6ImVec4");

namespace {

// The text of the input field being edited is ImGui's to draw: its caret and selection are
// placed by ImGui's per-code-point advances. ImGui 1.86 draws an active field from
// InputTextState::TextA (imgui_widgets.cpp, InputTextEx).
bool isTextBeingEdited(const char* text) {
    const ImGuiContext* g = ImGui::GetCurrentContext();
    if (!g || g->ActiveId == 0 || g->InputTextState.ID != g->ActiveId) return false;
    const ImVector<char>& buffer = g->InputTextState.TextA;
    return buffer.Data && text >= buffer.Data && text < buffer.Data + buffer.Size;
}

}  // namespace

ImVec2 shapedCalcTextSizeA(const ImFont* self, float size, float maxWidth, float wrapWidth, const char* begin,
                           const char* end, const char** remaining)
    __asm__("__wrap__ZNK6ImFont13CalcTextSizeAEfffPKcS1_PS1_");
ImVec2 shapedCalcTextSizeA(const ImFont* self, float size, float maxWidth, float wrapWidth, const char* begin,
                           const char* end, const char** remaining) {
    ck::text::TextEngine* engine = ck::text::g_installedEngine;
    if (engine && engine->handles(self) && !isTextBeingEdited(begin)) {
        if (!end) end = begin + std::strlen(begin);
        if (auto size2 = engine->measure(self, size, maxWidth, wrapWidth, begin, end, remaining)) return *size2;
    }
    return imguiCalcTextSizeA(self, size, maxWidth, wrapWidth, begin, end, remaining);
}

void shapedAddText(ImDrawList* self, const ImFont* font, float size, const ImVec2& pos, ImU32 col, const char* begin,
                   const char* end, float wrapWidth, const ImVec4* fineClip)
    __asm__("__wrap__ZN10ImDrawList7AddTextEPK6ImFontfRK6ImVec2jPKcS7_fPK6ImVec4");
void shapedAddText(ImDrawList* self, const ImFont* font, float size, const ImVec2& pos, ImU32 col, const char* begin,
                   const char* end, float wrapWidth, const ImVec4* fineClip) {
    ck::text::TextEngine* engine = ck::text::g_installedEngine;
    const ImFont* drawn = font ? font : self->_Data->Font;
    if (!engine || !engine->handles(drawn) || isTextBeingEdited(begin)) {
        imguiAddText(self, font, size, pos, col, begin, end, wrapWidth, fineClip);
        return;
    }
    // As ImDrawList::AddText does before it hands the text to its font.
    if ((col & IM_COL32_A_MASK) == 0) return;
    if (!end) end = begin + std::strlen(begin);
    if (begin == end) return;
    if (size == 0.0f) size = self->_Data->FontSize;
    IM_ASSERT(drawn->ContainerAtlas->TexID == self->_CmdHeader.TextureId &&
              "Shaped text goes into the font atlas' texture: push the font, not another texture");
    ImVec4 clip = self->_CmdHeader.ClipRect;
    if (fineClip) {
        clip.x = ImMax(clip.x, fineClip->x);
        clip.y = ImMax(clip.y, fineClip->y);
        clip.z = ImMin(clip.z, fineClip->z);
        clip.w = ImMin(clip.w, fineClip->w);
    }
    engine->draw(self, drawn, size, pos, col, clip, begin, end, wrapWidth, fineClip != nullptr);
}

// The short form (default font and size), for calls from outside imgui_draw.o.
void shapedAddTextDefault(ImDrawList* self, const ImVec2& pos, ImU32 col, const char* begin, const char* end)
    __asm__("__wrap__ZN10ImDrawList7AddTextERK6ImVec2jPKcS4_");
void shapedAddTextDefault(ImDrawList* self, const ImVec2& pos, ImU32 col, const char* begin, const char* end) {
    shapedAddText(self, nullptr, 0.0f, pos, col, begin, end, 0.0f, nullptr);
}
