#include "platforms/desktop/font_atlas.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include <GLFW/glfw3.h>  // the system's GL header: texture upload
#include <imgui.h>
#include <imgui_impl_opengl3.h>

namespace ck::desktop {

FontAtlas::FontAtlas(std::filesystem::path fontsDir) {
    std::string error;
    m_text = ck::text::TextEngine::load(fontsDir, error);
    if (!m_text) {
        std::fprintf(stderr, "clusterkit: %s; using the built-in font (English only, no Indic scripts)\n", error.c_str());
        return;
    }
    m_text->install();
}

bool FontAtlas::needsRebuild(float textScale, float contentScale, int fontGeneration) const {
    return textScale != m_textScale || contentScale != m_contentScale || fontGeneration != m_fontGeneration;
}

void FontAtlas::rebuild(float textScale, float contentScale, int fontGeneration, bool otherScripts) {
    m_textScale = textScale;
    m_contentScale = contentScale;
    m_fontGeneration = fontGeneration;

    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    float size = kBasePixelSize * textScale * contentScale;
    if (size < 8.0f) size = 8.0f;
    if (size > 96.0f) size = 96.0f;

    if (m_text) {
        m_text->addFonts(*io.Fonts, size, otherScripts);
    } else {
        ImFontConfig fallback;
        fallback.SizePixels = size;
        io.Fonts->AddFontDefault(&fallback);
    }
    io.Fonts->Build();
    if (m_text) m_text->atlasBuilt(*io.Fonts);
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
    if (m_text) (void)m_text->takeDirtyRect();  // the whole texture was just uploaded
}

void FontAtlas::setLanguage(std::string_view code) {
    if (m_text) m_text->setLanguage(code);
}

void FontAtlas::uploadNewGlyphs() {
    if (!m_text) return;
    const auto rect = m_text->takeDirtyRect();
    if (!rect) return;
    ImGuiIO& io = ImGui::GetIO();
    unsigned char* pixels = nullptr;
    int width = 0, height = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &width, &height);
    if (!pixels) return;
    const auto [x, y, w, h] = *rect;
    GLint last = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &last);
    glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(reinterpret_cast<intptr_t>(io.Fonts->TexID)));
    glPixelStorei(GL_UNPACK_ROW_LENGTH, width);
    glPixelStorei(GL_UNPACK_SKIP_PIXELS, x);
    glPixelStorei(GL_UNPACK_SKIP_ROWS, y);
    glTexSubImage2D(GL_TEXTURE_2D, 0, x, y, w, h, GL_RGBA, GL_UNSIGNED_BYTE, pixels);
    glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
    glPixelStorei(GL_UNPACK_SKIP_PIXELS, 0);
    glPixelStorei(GL_UNPACK_SKIP_ROWS, 0);
    glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(last));
}

void FontAtlas::startGlyphLog(std::string file) {
    if (!m_text || file.empty()) return;
    m_glyphLogFile = std::move(file);
    m_text->setDrawObserver([this](const ck::text::DrawnGlyph& g) {
        // One draw is the glyphs of one line at one origin; the first draw of a line is kept.
        const bool sameDraw = g.list == m_glyphList && g.lineOrigin.x == m_glyphOrigin.x &&
                              g.lineOrigin.y == m_glyphOrigin.y && g.line == m_glyphLine;
        if (!sameDraw) {
            m_glyphList = g.list;
            m_glyphOrigin = g.lineOrigin;
            m_glyphLine.assign(g.line);
            if (m_glyphLines.count(m_glyphLine)) m_glyphList = nullptr;  // drawn before: not again
            else m_glyphLines[m_glyphLine] = "\t" + std::to_string(g.scale) + "\t" + g.language + "\t";
        }
        if (!m_glyphList) return;
        std::string& record = m_glyphLines[m_glyphLine];
        record.insert(record.find('\t'), (record[0] == '\t' ? "" : ",") + std::to_string(g.glyph) + ":" +
                                              std::to_string(g.font) + ":" + std::to_string(g.cluster) + ":" +
                                              std::to_string(g.penX) + ":" + std::to_string(g.penY));
    });
}

void FontAtlas::writeGlyphLog() {
    if (m_glyphLogFile.empty()) return;
    std::string text;
    for (const auto& [line, record] : m_glyphLines) text += record + line + "\n";
    m_glyphLines.clear();
    m_glyphList = nullptr;
    if (text == m_glyphLogLast) return;
    m_glyphLogLast = text;
    const std::string tmp = m_glyphLogFile + ".tmp";
    std::ofstream(tmp, std::ios::trunc) << text;
    std::rename(tmp.c_str(), m_glyphLogFile.c_str());
}

}  // namespace ck::desktop
