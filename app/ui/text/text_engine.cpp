#include "app/ui/text/text_engine.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_OUTLINE_H
#include FT_TRUETYPE_TABLES_H
#include <hb.h>

namespace ck::text {

TextEngine* g_installedEngine = nullptr;

namespace {

// Latin, punctuation and the rupee sign: what ImGui's atlas takes from the main font (the
// other fonts give ImGui their own script, read from their character maps).
constexpr ImWchar kMainFontRanges[] = {
    0x0020, 0x00FF,  // Basic Latin, Latin-1 Supplement
    0x0100, 0x017F,  // Latin Extended-A (names, place names)
    0x2000, 0x206F,  // General Punctuation (dashes, quotes, ellipsis)
    0x20B9, 0x20B9,  // Indian rupee sign
    0xFFFD, 0xFFFD,  // replacement character
    0,
};

// The glyph region's width in ImGui's atlas (1024 wide, less its packing padding).
constexpr int kAtlasWidth = 1024;
constexpr int kRegionWidth = 1016;
constexpr size_t kMaxCachedTexts = 4096;

struct Face {
    ScriptFont spec;
    hb_script_t script = HB_SCRIPT_UNKNOWN;
    std::vector<char> bytes;  // the font file; HarfBuzz, FreeType and ImGui read this one copy
    hb_blob_t* blob = nullptr;
    hb_face_t* hbFace = nullptr;
    hb_font_t* hbFont = nullptr;
    int hbScale = 0;
    FT_Face ft = nullptr;
    unsigned upem = 1000;
    int lineUnits = 1;  // hhea ascender - descender: what stb_truetype (ImGui) sizes a font by
    std::vector<ImWchar> imguiRanges;

    bool covers(uint32_t cp) const {
        hb_codepoint_t g = 0;
        return hb_font_get_nominal_glyph(hbFont, cp, &g) != 0;
    }
    void setScale(int scale) {
        if (hbScale == scale) return;
        hb_font_set_scale(hbFont, scale, scale);
        hbScale = scale;
    }
};

struct Slot;

struct Glyph {
    uint32_t glyph = 0;
    uint32_t cluster = 0;   // byte offset in the line
    int32_t pen = 0;        // advances before this glyph in its line (1/64 px)
    int32_t penY = 0;
    int32_t xOffset = 0, yOffset = 0;
    uint16_t font = 0;
    uint16_t run = 0;
    bool blank = false;     // a space: a line may break after it
    // Where it was last found in the atlas (valid for slotGeneration and slotPhase): a frame
    // with unchanged text then does no lookup at all.
    mutable uint8_t slotPhase = 0;
    mutable uint32_t slotGeneration = 0;
    mutable const Slot* slot = nullptr;
};

struct Line {
    uint32_t begin = 0, end = 0;  // bytes of the text
    std::vector<Glyph> glyphs;
    int32_t width = 0;            // sum of advances (1/64 px)
    int32_t penAt(size_t i) const { return i < glyphs.size() ? glyphs[i].pen : width; }
};

struct Shaped {
    std::vector<Line> lines;
    std::vector<hb_language_t> runLanguages;
    int lastUsedFrame = 0;
};

// A line as laid out: glyphs [first, last) of one shaped line.
struct VisualLine {
    size_t line = 0, first = 0, last = 0;
    int32_t width = 0;
};

struct Slot {  // a glyph's place in the atlas
    bool placed = false;  // false: a glyph with no pixels (a space) or one that did not fit
    int w = 0, h = 0, left = 0, top = 0;
    ImVec2 uv0, uv1;
};

struct TextHash {
    using is_transparent = void;  // lookups by string_view: no copy of the text per call
    size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
using TextMap = std::unordered_map<std::string, Shaped, TextHash, std::equal_to<>>;

// One code point of UTF-8 at `s` (at most `n` bytes); bad bytes read as U+FFFD, one at a time.
uint32_t decodeUtf8(const unsigned char* s, size_t n, size_t& length) {
    const unsigned c = s[0];
    length = 1;
    if (c < 0x80) return c;
    int more = c >= 0xF0 && c < 0xF5 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 && c < 0xE0 ? 1 : -1;
    if (c >= 0xF5) more = -1;
    if (more < 0 || size_t(more) >= n) return 0xFFFD;
    uint32_t cp = c & (0x3F >> more);
    for (int i = 1; i <= more; ++i) {
        if ((s[i] & 0xC0) != 0x80) return 0xFFFD;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    length = size_t(more) + 1;
    return cp;
}

// Joiners, variation selectors and the like stay with the letters around them.
bool staysWithNeighbour(uint32_t cp, hb_script_t script) {
    return script == HB_SCRIPT_INHERITED || cp == 0x200C || cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) ||
           cp == 0x25CC;
}

bool isWeak(hb_script_t script) {
    return script == HB_SCRIPT_COMMON || script == HB_SCRIPT_INHERITED || script == HB_SCRIPT_UNKNOWN;
}

std::vector<char> readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

struct TextEngine::Impl {
    FontTable table;
    FT_Library ft = nullptr;
    std::vector<Face> faces;
    hb_buffer_t* buffer = nullptr;
    hb_unicode_funcs_t* unicode = nullptr;

    std::string language = "en";
    hb_script_t languageScript = HB_SCRIPT_LATIN;

    std::unordered_map<int, TextMap> cache;  // by HarfBuzz scale; emptied when the language changes
    std::vector<VisualLine> layoutLines;
    std::string lineCopy;

    // ImGui's fonts from addFonts(), and the glyph region in their atlas.
    std::vector<const ImFont*> fonts;
    ImFontAtlas* atlas = nullptr;
    int rectId = -1;
    int regionX = 0, regionY = 0, regionW = 0, regionH = 0;
    bool regionReady = false;  // between addFonts() and atlasBuilt() the region has no place yet
    int shelfX = 0, shelfY = 0, shelfH = 0;
    std::unordered_map<uint64_t, Slot> slots;
    uint32_t slotGeneration = 1;  // changes whenever `slots` is emptied
    bool resetPending = false;
    int dirtyX0 = INT32_MAX, dirtyY0 = INT32_MAX, dirtyX1 = 0, dirtyY1 = 0;

    int frame = -1;
    EngineStats stats;
    std::function<void(const DrawnGlyph&)> observer;

    ~Impl() {
        for (Face& f : faces) {
            if (f.hbFont) hb_font_destroy(f.hbFont);
            if (f.hbFace) hb_face_destroy(f.hbFace);
            if (f.blob) hb_blob_destroy(f.blob);
            if (f.ft) FT_Done_Face(f.ft);
        }
        if (buffer) hb_buffer_destroy(buffer);
        if (ft) FT_Done_FreeType(ft);
    }

    int scaleFor(float pixelSize) const {
        const Face& main = faces[0];
        return int(std::lround(double(pixelSize) * main.upem / main.lineUnits * 64.0));
    }

    int fontForScript(hb_script_t script) const {
        for (size_t i = 0; i < faces.size(); ++i)
            if (faces[i].script == script) return int(i);
        return -1;
    }
    int firstCovering(uint32_t cp) const {
        for (size_t i = 0; i < faces.size(); ++i)
            if (faces[i].covers(cp)) return int(i);
        return -1;
    }

    hb_language_t languageFor(hb_script_t script, int font) const {
        if (script == languageScript) return hb_language_from_string(language.c_str(), -1);
        int entry = fontForScript(script);
        if (entry < 0) entry = font;
        const auto& langs = faces[size_t(entry)].spec.languages;
        return hb_language_from_string(langs.empty() ? "en" : langs[0].c_str(), -1);
    }

    // A new frame: start the glyph region afresh if it filled up last frame; drop texts not
    // drawn lately when the cache has grown large.
    void tick() {
        const int now = ImGui::GetCurrentContext() ? ImGui::GetFrameCount() : frame;
        if (now == frame) return;
        frame = now;
        if (resetPending) resetRegion();
        if (cachedTexts() > kMaxCachedTexts) {
            for (auto& [scale, texts] : cache)
                for (auto it = texts.begin(); it != texts.end();)
                    it = it->second.lastUsedFrame < frame - 1 ? texts.erase(it) : std::next(it);
        }
    }

    size_t cachedTexts() const {
        size_t n = 0;
        for (const auto& [scale, texts] : cache) n += texts.size();
        return n;
    }

    void markDirty(int x, int y, int w, int h) {
        dirtyX0 = std::min(dirtyX0, x);
        dirtyY0 = std::min(dirtyY0, y);
        dirtyX1 = std::max(dirtyX1, x + w);
        dirtyY1 = std::max(dirtyY1, y + h);
    }

    void resetRegion() {
        resetPending = false;
        slots.clear();
        ++slotGeneration;
        shelfX = shelfY = shelfH = 0;
        if (!atlas || regionW == 0) return;
        unsigned int* rgba = atlas->TexPixelsRGBA32;
        for (int y = 0; y < regionH; ++y)
            std::fill_n(rgba + size_t(regionY + y) * size_t(atlas->TexWidth) + size_t(regionX), size_t(regionW), 0u);
        if (atlas->TexPixelsAlpha8)
            for (int y = 0; y < regionH; ++y)
                std::fill_n(atlas->TexPixelsAlpha8 + size_t(regionY + y) * size_t(atlas->TexWidth) + size_t(regionX),
                            size_t(regionW), static_cast<unsigned char>(0));
        markDirty(regionX, regionY, regionW, regionH);
        ++stats.atlasResets;
    }

    const Shaped& shape(const char* begin, const char* end, int scale);
    void shapeLine(Shaped& out, const char* text, uint32_t begin, uint32_t end, int scale);
    void layout(const Shaped& shaped, float wrapWidth);
    const Slot* slotFor(int font, uint32_t glyph, int scale, int phase);
};

// ---------------------------------------------------------------------------------------------
// Shaping

const Shaped& TextEngine::Impl::shape(const char* begin, const char* end, int scale) {
    TextMap& texts = cache[scale];
    auto it = texts.find(std::string_view(begin, size_t(end - begin)));
    if (it != texts.end()) {
        ++stats.cacheHits;
        it->second.lastUsedFrame = frame;
        return it->second;
    }
    ++stats.textsShaped;
    Shaped shaped;
    shaped.lastUsedFrame = frame;
    const auto length = uint32_t(end - begin);
    uint32_t lineStart = 0;
    for (uint32_t i = 0; i <= length; ++i) {
        if (i == length || begin[i] == '\n') {
            shapeLine(shaped, begin, lineStart, i, scale);
            lineStart = i + 1;
        }
    }
    return texts.emplace(std::string(begin, end), std::move(shaped)).first->second;
}

void TextEngine::Impl::shapeLine(Shaped& out, const char* text, uint32_t begin, uint32_t end, int scale) {
    Line line;
    line.begin = begin;
    line.end = end;
    // The line with control characters (tab, CR) read as spaces, so every byte keeps its place.
    lineCopy.assign(text + begin, text + end);
    for (char& c : lineCopy)
        if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    const auto* s = reinterpret_cast<const unsigned char*>(lineCopy.data());
    const size_t n = lineCopy.size();

    // Itemise: runs of one font and one script. A letter goes to its script's font (or the
    // first font that has it); punctuation, digits and spaces stay in the run they are in
    // while its font has them; marks and joiners always stay with their letter.
    struct Item {
        uint32_t begin, end;
        int font;
        hb_script_t script;
    };
    std::vector<Item> items;
    for (size_t i = 0; i < n;) {
        size_t len = 1;
        const uint32_t cp = decodeUtf8(s + i, n - i, len);
        const hb_script_t script = hb_unicode_script(unicode, cp);
        Item* cur = items.empty() ? nullptr : &items.back();
        int font = -1;
        bool sameRun = false;
        if (cur && staysWithNeighbour(cp, script)) {
            sameRun = true;
        } else if (!isWeak(script)) {
            font = fontForScript(script);
            if (font < 0 || !faces[size_t(font)].covers(cp)) font = firstCovering(cp);
            if (font < 0) font = cur ? cur->font : 0;
            sameRun = cur && cur->font == font && (isWeak(cur->script) || cur->script == script);
            if (sameRun && isWeak(cur->script)) cur->script = script;
        } else if (cur && faces[size_t(cur->font)].covers(cp)) {
            sameRun = true;
        } else {
            font = firstCovering(cp);
            if (font < 0) font = cur ? cur->font : 0;
            sameRun = cur && cur->font == font;
        }
        if (sameRun) {
            cur->end = uint32_t(i + len);
        } else {
            items.push_back({uint32_t(i), uint32_t(i + len), font, isWeak(script) ? HB_SCRIPT_COMMON : script});
        }
        i += len;
    }

    int32_t pen = 0, penY = 0;
    for (const Item& item : items) {
        Face& face = faces[size_t(item.font)];
        face.setScale(scale);
        const hb_script_t script = item.script == HB_SCRIPT_COMMON ? (face.script == HB_SCRIPT_UNKNOWN ? HB_SCRIPT_LATIN : face.script)
                                                                   : item.script;
        const hb_language_t lang = languageFor(script, item.font);
        hb_buffer_clear_contents(buffer);
        hb_buffer_add_utf8(buffer, lineCopy.data(), int(n), item.begin, int(item.end - item.begin));
        hb_buffer_set_direction(buffer, HB_DIRECTION_LTR);
        hb_buffer_set_script(buffer, script);
        hb_buffer_set_language(buffer, lang);
        hb_shape(face.hbFont, buffer, nullptr, 0);
        ++stats.shapeCalls;
        unsigned count = 0;
        const hb_glyph_info_t* info = hb_buffer_get_glyph_infos(buffer, &count);
        const hb_glyph_position_t* pos = hb_buffer_get_glyph_positions(buffer, &count);
        const auto run = uint16_t(out.runLanguages.size());
        out.runLanguages.push_back(lang);
        for (unsigned g = 0; g < count; ++g) {
            Glyph glyph;
            glyph.glyph = info[g].codepoint;
            glyph.cluster = info[g].cluster;
            glyph.pen = pen;
            glyph.penY = penY;
            glyph.xOffset = pos[g].x_offset;
            glyph.yOffset = pos[g].y_offset;
            glyph.font = uint16_t(item.font);
            glyph.run = run;
            glyph.blank = info[g].cluster < n && lineCopy[info[g].cluster] == ' ';
            line.glyphs.push_back(glyph);
            pen += pos[g].x_advance;
            penY += pos[g].y_advance;
        }
    }
    line.width = pen;
    out.lines.push_back(std::move(line));
}

// Lays the shaped lines out at `wrapWidth` (<= 0: no wrapping) into layoutLines. Breaks after
// spaces, as ImGui does; a word wider than the line breaks between its clusters.
void TextEngine::Impl::layout(const Shaped& shaped, float wrapWidth) {
    layoutLines.clear();
    const int32_t wrap = wrapWidth > 0 ? int32_t(wrapWidth * 64.0f) : INT32_MAX;
    for (size_t li = 0; li < shaped.lines.size(); ++li) {
        const Line& line = shaped.lines[li];
        const size_t n = line.glyphs.size();
        if (line.width <= wrap) {
            layoutLines.push_back({li, 0, n, line.width});
            continue;
        }
        size_t a = 0;
        bool firstLine = true;
        while (a < n || firstLine) {
            if (!firstLine)
                while (a < n && line.glyphs[a].blank) ++a;  // a wrapped line starts at its first word
            firstLine = false;
            if (a >= n) break;
            if (line.penAt(n) - line.penAt(a) <= wrap) {
                layoutLines.push_back({li, a, n, line.penAt(n) - line.penAt(a)});
                break;
            }
            size_t best = a;  // end of the last word that fits
            for (size_t j = a; j < n;) {
                size_t wordEnd = j;
                while (wordEnd < n && !line.glyphs[wordEnd].blank) ++wordEnd;
                if (wordEnd > j && line.penAt(wordEnd) - line.penAt(a) > wrap) break;
                if (wordEnd > j) best = wordEnd;
                j = wordEnd;
                while (j < n && line.glyphs[j].blank) ++j;
            }
            if (best == a) {
                // A word longer than the line: as many whole clusters as fit, at least one.
                size_t e = a + 1;
                while (e < n && line.glyphs[e].cluster == line.glyphs[a].cluster) ++e;
                for (size_t k = e; k < n;) {
                    size_t next = k + 1;
                    while (next < n && line.glyphs[next].cluster == line.glyphs[k].cluster) ++next;
                    if (line.penAt(next) - line.penAt(a) > wrap) break;
                    e = k = next;
                }
                best = e;
            }
            layoutLines.push_back({li, a, best, line.penAt(best) - line.penAt(a)});
            a = best;
        }
    }
    if (layoutLines.empty()) layoutLines.push_back({0, 0, 0, 0});
}

// ---------------------------------------------------------------------------------------------
// Glyphs in the atlas

const Slot* TextEngine::Impl::slotFor(int font, uint32_t glyph, int scale, int phase) {
    const uint64_t k = (uint64_t(font) << 56) | (uint64_t(phase) << 55) | (uint64_t(scale & 0x7FFFFF) << 32) | glyph;
    auto it = slots.find(k);
    if (it != slots.end()) return &it->second;
    Slot slot;
    Face& face = faces[size_t(font)];
    // Unscaled outline, scaled here by exactly HarfBuzz's scale: FreeType's own sizing rounds
    // the size to whole pixels for fonts that ask for it, which would not match the advances.
    if (FT_Load_Glyph(face.ft, glyph, FT_LOAD_NO_SCALE | FT_LOAD_NO_BITMAP | FT_LOAD_NO_HINTING) == 0 &&
        face.ft->glyph->format == FT_GLYPH_FORMAT_OUTLINE && face.ft->glyph->outline.n_points > 0) {
        FT_Outline& outline = face.ft->glyph->outline;
        const auto factor = FT_Fixed(std::lround(double(scale) / face.upem * 65536.0));
        FT_Matrix m{factor, 0, 0, factor};
        FT_Outline_Transform(&outline, &m);
        if (phase) FT_Outline_Translate(&outline, 32, 0);
        if (FT_Render_Glyph(face.ft->glyph, FT_RENDER_MODE_NORMAL) == 0) {
            const FT_Bitmap& bm = face.ft->glyph->bitmap;
            const int w = int(bm.width), h = int(bm.rows);
            if (w > 0 && h > 0 && w + 1 <= regionW && h + 1 <= regionH) {
                if (shelfX + w + 1 > regionW) {
                    shelfX = 0;
                    shelfY += shelfH;
                    shelfH = 0;
                }
                if (shelfY + h + 1 > regionH) {
                    // Full: this glyph is left out of this frame; the next frame starts afresh.
                    resetPending = true;
                    ++stats.glyphsSkipped;
                    return nullptr;
                }
                const int x = regionX + shelfX, y = regionY + shelfY;
                for (int row = 0; row < h; ++row) {
                    const unsigned char* src = bm.buffer + row * bm.pitch;
                    unsigned int* dst = atlas->TexPixelsRGBA32 + size_t(y + row) * size_t(atlas->TexWidth) + size_t(x);
                    for (int col = 0; col < w; ++col) dst[col] = IM_COL32(255, 255, 255, src[col]);
                    if (atlas->TexPixelsAlpha8)
                        std::copy_n(src, w, atlas->TexPixelsAlpha8 + size_t(y + row) * size_t(atlas->TexWidth) + size_t(x));
                }
                markDirty(x, y, w, h);
                slot.placed = true;
                slot.w = w;
                slot.h = h;
                slot.left = face.ft->glyph->bitmap_left;
                slot.top = face.ft->glyph->bitmap_top;
                slot.uv0 = ImVec2(float(x) * atlas->TexUvScale.x, float(y) * atlas->TexUvScale.y);
                slot.uv1 = ImVec2(float(x + w) * atlas->TexUvScale.x, float(y + h) * atlas->TexUvScale.y);
                shelfX += w + 1;
                shelfH = std::max(shelfH, h + 1);
                ++stats.glyphsRasterised;
            }
        }
    }
    return &slots.emplace(k, slot).first->second;
}

// ---------------------------------------------------------------------------------------------
// TextEngine

TextEngine::TextEngine(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

TextEngine::~TextEngine() { uninstall(); }

std::unique_ptr<TextEngine> TextEngine::load(const std::filesystem::path& fontsDir, std::string& error) {
    auto table = FontTable::load(fontsDir / "scripts.json", error);
    if (!table) return nullptr;
    auto impl = std::make_unique<Impl>();
    impl->table = std::move(*table);
    if (FT_Init_FreeType(&impl->ft) != 0) {
        error = "FreeType could not start";
        return nullptr;
    }
    impl->unicode = hb_unicode_funcs_get_default();
    impl->buffer = hb_buffer_create();
    for (const ScriptFont& spec : impl->table.fonts) {
        Face face;
        face.spec = spec;
        face.script = hb_script_from_string(spec.script.c_str(), -1);
        if (face.script == HB_SCRIPT_INVALID || face.script == HB_SCRIPT_UNKNOWN) {
            error = spec.file.string() + ": \"" + spec.script + "\" is not a script HarfBuzz knows";
            return nullptr;
        }
        face.bytes = readFile(spec.file);
        if (face.bytes.empty() ||
            FT_New_Memory_Face(impl->ft, reinterpret_cast<const FT_Byte*>(face.bytes.data()), FT_Long(face.bytes.size()), 0,
                               &face.ft) != 0 ||
            !FT_IS_SCALABLE(face.ft)) {
            if (face.ft) FT_Done_Face(face.ft);
            error = spec.file.string() + ": not a font FreeType can read";
            return nullptr;
        }
        const auto* hhea = static_cast<const TT_HoriHeader*>(FT_Get_Sfnt_Table(face.ft, FT_SFNT_HHEA));
        face.upem = face.ft->units_per_EM;
        face.lineUnits = hhea ? hhea->Ascender - hhea->Descender : face.ft->ascender - face.ft->descender;
        if (face.upem == 0 || face.lineUnits <= 0) {
            FT_Done_Face(face.ft);
            error = spec.file.string() + ": the font has no usable vertical metrics";
            return nullptr;
        }
        face.blob = hb_blob_create(face.bytes.data(), unsigned(face.bytes.size()), HB_MEMORY_MODE_READONLY, nullptr, nullptr);
        face.hbFace = hb_face_create(face.blob, 0);
        face.hbFont = hb_font_create(face.hbFace);  // HarfBuzz's own OpenType functions, as hb-shape uses
        impl->faces.push_back(std::move(face));
    }
    // The other fonts give ImGui's atlas their script (and shared marks the main font lacks),
    // read from their character maps, so that adding a script needs no list of ranges here.
    for (size_t i = 0; i < impl->faces.size(); ++i) {
        Face& face = impl->faces[i];
        std::vector<uint32_t> cps;
        size_t letters = 0;
        FT_UInt index = 0;
        for (FT_ULong cp = FT_Get_First_Char(face.ft, &index); index != 0; cp = FT_Get_Next_Char(face.ft, cp, &index)) {
            const hb_script_t script = hb_unicode_script(impl->unicode, hb_codepoint_t(cp));
            if (script == face.script) ++letters;
            if (i == 0 || cp < 0x80 || cp > 0xFFFF) continue;
            if (script == face.script || (isWeak(script) && !impl->faces[0].covers(uint32_t(cp)))) cps.push_back(uint32_t(cp));
        }
        if (letters == 0) {
            error = face.spec.file.string() + ": has no letters of script " + face.spec.script +
                    " (is the script code right, and the font the one meant?)";
            return nullptr;
        }
        if (i == 0) continue;
        std::sort(cps.begin(), cps.end());
        for (size_t k = 0; k < cps.size();) {
            size_t e = k;
            while (e + 1 < cps.size() && cps[e + 1] == cps[e] + 1) ++e;
            face.imguiRanges.push_back(ImWchar(cps[k]));
            face.imguiRanges.push_back(ImWchar(cps[e]));
            k = e + 1;
        }
        face.imguiRanges.push_back(0);
    }
    return std::unique_ptr<TextEngine>(new TextEngine(std::move(impl)));
}

const FontTable& TextEngine::table() const { return m_impl->table; }

int TextEngine::scaleFor(float pixelSize) const { return m_impl->scaleFor(pixelSize); }

ImFont* TextEngine::addFonts(ImFontAtlas& atlas, float pixelSize, bool otherScripts) {
    Impl& d = *m_impl;
    atlas.TexDesiredWidth = kAtlasWidth;
    const Face& main = d.faces[0];
    ImFontConfig config;
    config.FontDataOwnedByAtlas = false;  // the engine keeps the bytes
    // ImGui's own glyphs are drawn only while a field is being typed into (and for "..."):
    // no oversampling, a smaller texture.
    config.OversampleH = 1;
    ImFont* font = atlas.AddFontFromMemoryTTF(const_cast<char*>(main.bytes.data()), int(main.bytes.size()), pixelSize,
                                              &config, kMainFontRanges);
    for (size_t i = 1; otherScripts && i < d.faces.size(); ++i) {
        const Face& face = d.faces[i];
        ImFontConfig merge;
        merge.FontDataOwnedByAtlas = false;
        merge.MergeMode = true;
        merge.OversampleH = 1;
        // The same em as the main font (ImGui sizes each font by its own line height).
        const float size = pixelSize * float(face.lineUnits) / float(face.upem) * float(main.upem) / float(main.lineUnits);
        atlas.AddFontFromMemoryTTF(const_cast<char*>(face.bytes.data()), int(face.bytes.size()), size, &merge,
                                   face.imguiRanges.data());
    }
    // Room for about 900 glyph renderings at this size (a glyph's box is about 0.9 of the line
    // height squared; a Hindi form screen uses about 220); when they do not fit, the region is
    // started afresh. Kept small: ImGui's texture, and its copy in a software GL, cost memory.
    d.regionW = kRegionWidth;
    d.regionH = std::clamp(int(pixelSize * pixelSize * 0.9f * 900.0f / kRegionWidth), 256, 2048);
    d.rectId = atlas.AddCustomRectRegular(d.regionW, d.regionH);
    d.regionReady = false;
    d.fonts.assign(1, font);
    d.atlas = &atlas;
    return font;
}

void TextEngine::atlasBuilt(ImFontAtlas& atlas) {
    Impl& d = *m_impl;
    d.atlas = &atlas;
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    atlas.GetTexDataAsRGBA32(&pixels, &w, &h);  // the texture the platform uploads
    // The 8-bit copy it was made from is not needed again: a megabyte or more saved.
    if (atlas.TexPixelsAlpha8) {
        IM_FREE(atlas.TexPixelsAlpha8);
        atlas.TexPixelsAlpha8 = nullptr;
    }
    const ImFontAtlasCustomRect* rect = d.rectId >= 0 && d.rectId < atlas.CustomRects.Size ? atlas.GetCustomRectByIndex(d.rectId) : nullptr;
    if (!rect || !rect->IsPacked() || !pixels) {
        d.regionW = d.regionH = 0;  // no room: ImGui draws the text itself
        d.regionReady = false;
        d.fonts.clear();
        return;
    }
    d.regionReady = true;
    d.regionX = rect->X;
    d.regionY = rect->Y;
    d.regionW = rect->Width;
    d.regionH = rect->Height;
    d.resetPending = false;
    d.slots.clear();
    ++d.slotGeneration;
    d.shelfX = d.shelfY = d.shelfH = 0;
    d.dirtyX0 = d.dirtyY0 = INT32_MAX;
    d.dirtyX1 = d.dirtyY1 = 0;  // the whole texture is uploaded after a build anyway
}

void TextEngine::install() { g_installedEngine = this; }

void TextEngine::uninstall() {
    if (g_installedEngine == this) g_installedEngine = nullptr;
}

bool TextEngine::installed() const { return g_installedEngine == this; }

void TextEngine::setLanguage(std::string_view code) {
    Impl& d = *m_impl;
    if (d.language == code) return;
    d.language = std::string(code);
    d.cache.clear();
    d.languageScript = HB_SCRIPT_INVALID;
    for (const Face& face : d.faces)
        for (const auto& l : face.spec.languages)
            if (l == code) d.languageScript = face.script;
}

std::optional<std::array<int, 4>> TextEngine::takeDirtyRect() {
    Impl& d = *m_impl;
    if (d.dirtyX1 <= d.dirtyX0 || d.dirtyY1 <= d.dirtyY0) return std::nullopt;
    std::array<int, 4> r{d.dirtyX0, d.dirtyY0, d.dirtyX1 - d.dirtyX0, d.dirtyY1 - d.dirtyY0};
    d.dirtyX0 = d.dirtyY0 = INT32_MAX;
    d.dirtyX1 = d.dirtyY1 = 0;
    return r;
}

EngineStats TextEngine::stats() const {
    EngineStats s = m_impl->stats;
    s.cachedTexts = m_impl->cachedTexts();
    return s;
}

void TextEngine::setDrawObserver(std::function<void(const DrawnGlyph&)> observer) { m_impl->observer = std::move(observer); }

bool TextEngine::handles(const ImFont* font) const {
    const Impl& d = *m_impl;
    return d.regionReady && d.regionW > 0 && std::find(d.fonts.begin(), d.fonts.end(), font) != d.fonts.end();
}

std::optional<ImVec2> TextEngine::measure(const ImFont* font, float size, float maxWidth, float wrapWidth,
                                          const char* begin, const char* end, const char** remaining) {
    Impl& d = *m_impl;
    if (!handles(font) || (maxWidth < FLT_MAX && wrapWidth > 0.0f)) return std::nullopt;  // ImGui never asks both
    d.tick();
    const Shaped& shaped = d.shape(begin, end, d.scaleFor(size));
    if (maxWidth >= FLT_MAX) {
        d.layout(shaped, wrapWidth);
        int32_t widest = 0;
        for (const auto& vl : d.layoutLines) widest = std::max(widest, vl.width);
        size_t lines = d.layoutLines.size();
        // As ImGui counts: a last line with nothing on it (after a final newline) adds no height.
        if (lines > 1 && d.layoutLines.back().width == 0) --lines;
        if (remaining) *remaining = end;
        return ImVec2(float(widest) / 64.0f, float(lines) * size);
    }
    // Up to `maxWidth`: whole clusters, line by line (ImGui's ellipsis and clipping use this).
    const auto limit = int64_t(double(maxWidth) * 64.0);
    int32_t widest = 0;
    float height = 0;
    for (const Line& line : shaped.lines) {
        const size_t n = line.glyphs.size();
        for (size_t i = 0; i < n;) {
            size_t next = i + 1;
            while (next < n && line.glyphs[next].cluster == line.glyphs[i].cluster) ++next;
            if (line.penAt(next) >= limit) {
                widest = std::max(widest, line.penAt(i));
                if (remaining) *remaining = begin + line.begin + line.glyphs[i].cluster;
                return ImVec2(float(widest) / 64.0f, height + size);
            }
            i = next;
        }
        widest = std::max(widest, line.width);
        height += size;
    }
    if (remaining) *remaining = end;
    return ImVec2(float(widest) / 64.0f, height);
}

void TextEngine::draw(ImDrawList* list, const ImFont* font, float size, ImVec2 pos, ImU32 col, const ImVec4& clip,
                      const char* begin, const char* end, float wrapWidth, bool fineClip) {
    Impl& d = *m_impl;
    d.tick();
    pos.x = std::floor(pos.x);
    pos.y = std::floor(pos.y);
    if (pos.y > clip.w) return;
    const int scale = d.scaleFor(size);
    const Shaped& shaped = d.shape(begin, end, scale);
    d.layout(shaped, wrapWidth);
    // ImGui's baseline for this font, so shaped text sits where ImGui's own text would.
    const float ascent = std::round(font->Ascent * size / font->FontSize);
    for (size_t k = 0; k < d.layoutLines.size(); ++k) {
        const VisualLine& vl = d.layoutLines[k];
        const float top = pos.y + float(k) * size;
        if (top > clip.w) break;
        if (top + size < clip.y) continue;
        const Line& line = shaped.lines[vl.line];
        const float baseline = top + ascent;
        const float originX = pos.x - float(line.penAt(vl.first)) / 64.0f;
        // One reservation for the line; what clipping and spaces leave unused is given back.
        const int reserved = int(vl.last - vl.first);
        list->PrimReserve(reserved * 6, reserved * 4);
        int used = 0;
        for (size_t i = vl.first; i < vl.last; ++i) {
            const Glyph& g = line.glyphs[i];
            // Half-pixel steps across, whole pixels down: two renderings of a glyph at most.
            const float x = originX + float(g.pen + g.xOffset) / 64.0f;
            if (x - 2.0f * size > clip.z) break;  // the rest of the line is right of the clip rect
            if (x + 2.0f * size < clip.x) continue;
            const float half = std::round(x * 2.0f) / 2.0f;
            const float ix = std::floor(half);
            const int phase = half > ix ? 1 : 0;
            const float iy = std::round(baseline - float(g.penY + g.yOffset) / 64.0f);
            DrawnGlyph drawn;
            const bool observe = static_cast<bool>(d.observer);
            if (g.blank && !observe) continue;
            const Slot* slot = nullptr;
            if (!g.blank) {
                if (g.slotGeneration == d.slotGeneration && g.slotPhase == phase) {
                    slot = g.slot;
                } else if ((slot = d.slotFor(g.font, g.glyph, scale, phase))) {
                    g.slot = slot;
                    g.slotGeneration = d.slotGeneration;
                    g.slotPhase = uint8_t(phase);
                }
            }
            if (slot && slot->placed) {
                ImVec2 p0(ix + float(slot->left), iy - float(slot->top));
                ImVec2 p1(p0.x + float(slot->w), p0.y + float(slot->h));
                ImVec2 uv0 = slot->uv0, uv1 = slot->uv1;
                bool visible = p0.x <= clip.z && p1.x >= clip.x;
                if (visible && fineClip) {
                    // As ImGui clips its own glyphs to a frame too small for the text.
                    if (p0.x < clip.x) { uv0.x += (clip.x - p0.x) / (p1.x - p0.x) * (uv1.x - uv0.x); p0.x = clip.x; }
                    if (p0.y < clip.y) { uv0.y += (clip.y - p0.y) / (p1.y - p0.y) * (uv1.y - uv0.y); p0.y = clip.y; }
                    if (p1.x > clip.z) { uv1.x = uv0.x + (clip.z - p0.x) / (p1.x - p0.x) * (uv1.x - uv0.x); p1.x = clip.z; }
                    if (p1.y > clip.w) { uv1.y = uv0.y + (clip.w - p0.y) / (p1.y - p0.y) * (uv1.y - uv0.y); p1.y = clip.w; }
                    visible = p0.x < p1.x && p0.y < p1.y;
                }
                if (visible) {
                    ++used;
                    drawn.vertex = int(list->_VtxWritePtr - list->VtxBuffer.Data);
                    list->PrimRectUV(p0, p1, uv0, uv1, col);
                    drawn.p0 = p0;
                    drawn.p1 = p1;
                    drawn.uv0 = uv0;
                    drawn.uv1 = uv1;
                }
            }
            if (observe) {
                drawn.list = list;
                drawn.line = std::string_view(begin + line.begin, line.end - line.begin);
                drawn.font = g.font;
                drawn.glyph = g.glyph;
                drawn.cluster = g.cluster;
                drawn.penX = g.pen + g.xOffset;
                drawn.penY = g.penY + g.yOffset;
                drawn.scale = scale;
                drawn.language = hb_language_to_string(shaped.runLanguages[g.run]);
                drawn.lineOrigin = ImVec2(originX, baseline);
                d.observer(drawn);
            }
        }
        list->PrimUnreserve((reserved - used) * 6, (reserved - used) * 4);
    }
}

}  // namespace ck::text
