#include "platforms/desktop/font_atlas.h"

#include <cstdio>
#include <system_error>

#include <imgui.h>
#include <imgui_impl_opengl3.h>

namespace ck::desktop {
namespace {

// Latin text, punctuation and the rupee sign from Noto Sans.
constexpr ImWchar kLatinRanges[] = {
    0x0020, 0x00FF,  // Basic Latin, Latin-1 Supplement
    0x0100, 0x017F,  // Latin Extended-A (names, place names)
    0x2000, 0x206F,  // General Punctuation (dashes, quotes, ellipsis)
    0x20B9, 0x20B9,  // Indian rupee sign
    0xFFFD, 0xFFFD,  // replacement character
    0,
};

// Dear ImGui 1.86 has no Devanagari preset. These glyphs are merged into the Latin font.
// ImGui draws one glyph per code point with no shaping: vowel signs and viramas sit where the
// font puts them, but conjuncts (क्ष, त्र, ...) show as half-forms plus virama and some matras
// land slightly off. Correct shaping needs HarfBuzz in front of the atlas (separate work).
constexpr ImWchar kDevanagariRanges[] = {
    0x0900, 0x097F,  // Devanagari (includes danda U+0964 and double danda U+0965)
    0x200C, 0x200D,  // zero-width non-joiner / joiner
    0x25CC, 0x25CC,  // dotted circle, the base for a lone combining mark
    0,
};

}  // namespace

bool FontAtlas::needsRebuild(float textScale, float contentScale, int fontGeneration) const {
    return textScale != m_textScale || contentScale != m_contentScale || fontGeneration != m_fontGeneration;
}

void FontAtlas::rebuild(float textScale, float contentScale, int fontGeneration) {
    m_textScale = textScale;
    m_contentScale = contentScale;
    m_fontGeneration = fontGeneration;

    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    float size = kBasePixelSize * textScale * contentScale;
    if (size < 8.0f) size = 8.0f;
    if (size > 96.0f) size = 96.0f;

    const auto latin = m_fontsDir / "NotoSans-Regular.ttf";
    const auto devanagari = m_fontsDir / "NotoSansDevanagari-Regular.ttf";
    std::error_code ec;
    ImFont* font = nullptr;
    if (std::filesystem::is_regular_file(latin, ec)) {
        ImFontConfig config;
        config.OversampleH = 2;  // crisp enough at these sizes; a smaller atlas
        font = io.Fonts->AddFontFromFileTTF(latin.string().c_str(), size, &config, kLatinRanges);
    }
    if (font && std::filesystem::is_regular_file(devanagari, ec)) {
        ImFontConfig merge;
        merge.MergeMode = true;
        merge.OversampleH = 2;
        io.Fonts->AddFontFromFileTTF(devanagari.string().c_str(), size, &merge, kDevanagariRanges);
    } else if (font) {
        std::fprintf(stderr, "clusterkit: %s not found; Hindi text will not show\n", devanagari.string().c_str());
    }
    if (!font) {
        std::fprintf(stderr, "clusterkit: %s not found; using the built-in font (no Hindi)\n", latin.string().c_str());
        ImFontConfig fallback;
        fallback.SizePixels = size;
        io.Fonts->AddFontDefault(&fallback);
    }
    io.Fonts->Build();
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
}

}  // namespace ck::desktop
