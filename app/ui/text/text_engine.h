#pragma once
// Shaped text for every string the field app draws. Dear ImGui 1.86 draws one glyph per code
// point, which misdraws Indic scripts (सिंक as "सकि", bare halants instead of conjuncts). The
// TextEngine shapes each string with HarfBuzz, one run per script with that script's font
// (font_table.h), rasterises the glyphs by glyph id with FreeType into a region it reserves
// in ImGui's own font atlas, and draws them into ImGui's draw lists.
//
// How it reaches every widget without touching the screens: ImGui's widgets measure text
// with ImFont::CalcTextSizeA and draw it with ImDrawList::AddText, both defined in
// libimgui.a's imgui_draw.o and called from imgui.o and imgui_widgets.o. ck_ui_text links
// with `--wrap` for those symbols (see CMakeLists.txt), so those calls arrive in
// imgui_text_hook.cpp, which hands text in the engine's fonts to the installed engine and
// everything else (ImGui's built-in font, the password field's asterisks) to ImGui.
//
// Text being typed: while an input field is active, its text is drawn by ImGui as it lays
// it out (one glyph per code point, from the same fonts merged into ImGui's atlas), so the
// caret and the selection sit exactly where ImGui puts them, between code points. Once the
// field is left, its committed text is drawn shaped.
//
// Owned by the platform's frame loop (platforms/desktop) or a test; one engine installed at a
// time; all calls on the thread that runs ImGui frames.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <imgui.h>

#include "app/ui/text/font_table.h"

namespace ck::text {

// One glyph as the engine wrote it into a draw list: what the tests compare with hb-shape.
struct DrawnGlyph {
    const ImDrawList* list = nullptr;
    std::string_view line;  // the text of the line it belongs to (valid during the callback only)
    int font = 0;           // index into FontTable::fonts
    uint32_t glyph = 0;     // glyph id in that font
    uint32_t cluster = 0;   // byte offset of its cluster in `line`
    int32_t penX = 0;       // HarfBuzz position in the line: advances before it + its offset, 1/64 px
    int32_t penY = 0;       // same, vertical (up), 1/64 px
    int scale = 0;          // HarfBuzz scale the line was shaped at (1/64 px per em)
    std::string language;   // the language the run was shaped in
    int vertex = -1;        // first of its four vertices in list->VtxBuffer; -1 when it drew no quad
    ImVec2 p0, p1;          // the quad (screen pixels)
    ImVec2 uv0, uv1;        // its texture coordinates in the font atlas
    ImVec2 lineOrigin;      // where the line starts: x at the left, y at the baseline
};

struct EngineStats {
    uint64_t shapeCalls = 0;        // hb_shape() calls (one per run of one font)
    uint64_t textsShaped = 0;       // strings shaped (cache misses)
    uint64_t cacheHits = 0;         // strings found shaped already
    uint64_t glyphsRasterised = 0;  // FreeType renderings into the atlas
    uint64_t atlasResets = 0;       // times the glyph region filled up and was started afresh
    uint64_t glyphsSkipped = 0;     // glyphs not drawn because the region was full (that frame only)
    size_t cachedTexts = 0;
};

class TextEngine {
public:
    // Loads `fontsDir`/scripts.json and its fonts. nullptr with `error` set when the table or a
    // font cannot be used (the app then draws with ImGui alone).
    static std::unique_ptr<TextEngine> load(const std::filesystem::path& fontsDir, std::string& error);
    ~TextEngine();
    TextEngine(const TextEngine&) = delete;
    TextEngine& operator=(const TextEngine&) = delete;

    const FontTable& table() const;

    // Before atlas.Build(): adds the fonts to ImGui's atlas at `pixelSize` (ImGui's font size:
    // the line height) and reserves the region the shaped glyphs go into. Returns the font
    // ImGui should use; its text is then shaped. The atlas gets every font's own script, so
    // text being typed shows in ImGui's unshaped drawing too; with `otherScripts` false only
    // the main font's, which builds in about half the time (the web app's first frame, before
    // nobody can have typed anything; it builds the whole atlas right after).
    ImFont* addFonts(ImFontAtlas& atlas, float pixelSize, bool otherScripts = true);
    // After atlas.Build() (and before the next frame): finds the reserved region. Forgets
    // the glyphs drawn into the previous atlas.
    void atlasBuilt(ImFontAtlas& atlas);

    // From now on ImGui's text calls for the fonts from addFonts() come here. Installing
    // another engine replaces this one; the destructor uninstalls.
    void install();
    void uninstall();
    bool installed() const;

    // The officer's language ("en", "hi", "mr", ...): text in that language's script is
    // shaped as that language (Marathi and Hindi differ in a few letters); text in another
    // script as that script's first language in the table.
    void setLanguage(std::string_view code);

    // The part of the atlas texture changed since the last call (x, y, width, height in
    // pixels of ImGui's RGBA32 texture): the platform uploads it before drawing.
    std::optional<std::array<int, 4>> takeDirtyRect();

    EngineStats stats() const;
    // Test hook: called for every glyph drawn (nullptr: none).
    void setDrawObserver(std::function<void(const DrawnGlyph&)> observer);

    // HarfBuzz's scale (1/64 px per em) for text at ImGui font size `pixelSize`.
    int scaleFor(float pixelSize) const;

    // What ImGui's calls become (imgui_text_hook.cpp). Same meaning as ImFont::CalcTextSizeA
    // and ImFont::RenderText; false/nullopt when the engine cannot take the call (then ImGui
    // does it).
    bool handles(const ImFont* font) const;
    std::optional<ImVec2> measure(const ImFont* font, float size, float maxWidth, float wrapWidth, const char* begin,
                                  const char* end, const char** remaining);
    void draw(ImDrawList* list, const ImFont* font, float size, ImVec2 pos, ImU32 col, const ImVec4& clip,
              const char* begin, const char* end, float wrapWidth, bool fineClip);

    struct Impl;

private:
    explicit TextEngine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ck::text
