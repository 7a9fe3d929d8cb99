#pragma once
// The desktop app's fonts: the fonts of assets/fonts/scripts.json (Noto Sans and one Noto font
// per Indic script) at 18 px x the app's text-size setting x the monitor's content scale,
// with every string shaped by ck::text::TextEngine (HarfBuzz + FreeType, app/ui/text). Owned
// by the frame loop; rebuilt between frames, never inside one.
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "app/ui/text/text_engine.h"

namespace ck::desktop {

class FontAtlas {
public:
    // Loads the font table and its fonts; when that fails, says why on stderr and the app
    // draws with ImGui's built-in font (English only).
    explicit FontAtlas(std::filesystem::path fontsDir);

    // True when the fonts must be rebuilt for this text scale, content scale and the app's
    // font generation (a change of the text-size setting or of language).
    bool needsRebuild(float textScale, float contentScale, int fontGeneration) const;

    // Rebuilds ImGui's font atlas and the renderer's texture. Call outside a frame, with the
    // OpenGL 3 backend initialised. `otherScripts` false: ImGui's own glyphs (drawn only while
    // a field is typed into) of the main font only, a quicker atlas for a first frame
    // (TextEngine::addFonts).
    void rebuild(float textScale, float contentScale, int fontGeneration, bool otherScripts = true);

    // The officer's language, for shaping (Marathi and Hindi differ in a few letters).
    void setLanguage(std::string_view code);

    // After ImGui::Render() and before drawing: uploads the glyphs the frame added to the atlas.
    void uploadNewGlyphs();

    const ck::text::TextEngine* textEngine() const { return m_text.get(); }

    // Test hook (CK_TEST_GLYPH_FILE): after each rendered frame, `file` lists every line of
    // text the frame drew once, with the glyphs drawn for it, for comparison with hb-shape
    // (of a wrapped line, those of its first visual line).
    // A line: "glyph:font:cluster:penX:penY,... <TAB> scale <TAB> language <TAB> text".
    void startGlyphLog(std::string file);
    void writeGlyphLog();

    static constexpr float kBasePixelSize = 18.0f;

private:
    std::unique_ptr<ck::text::TextEngine> m_text;
    std::string m_glyphLogFile, m_glyphLogLast;
    std::map<std::string, std::string, std::less<>> m_glyphLines;  // this frame: line -> its glyphs
    const ImDrawList* m_glyphList = nullptr;
    ImVec2 m_glyphOrigin;
    std::string m_glyphLine;
    float m_textScale = 0.0f;
    float m_contentScale = 0.0f;
    int m_fontGeneration = -1;
};

}  // namespace ck::desktop
