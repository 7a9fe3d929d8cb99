#pragma once
// The desktop app's fonts: Noto Sans with Noto Sans Devanagari merged into it, rasterised at
// 18 px x the app's text-size setting x the monitor's content scale. Owned by the frame loop;
// rebuilt between frames, never inside one.
#include <filesystem>

namespace ck::desktop {

class FontAtlas {
public:
    explicit FontAtlas(std::filesystem::path fontsDir) : m_fontsDir(std::move(fontsDir)) {}

    // True when the fonts must be rebuilt for this text scale, content scale and the app's
    // font generation (a change of the text-size setting or of language).
    bool needsRebuild(float textScale, float contentScale, int fontGeneration) const;

    // Rebuilds ImGui's font atlas and the renderer's texture. Call outside a frame, with the
    // OpenGL 3 backend initialised. A missing font file is reported on stderr and ImGui's
    // built-in font is used, so the app still starts (with no Devanagari).
    void rebuild(float textScale, float contentScale, int fontGeneration);

    static constexpr float kBasePixelSize = 18.0f;

private:
    std::filesystem::path m_fontsDir;
    float m_textScale = 0.0f;
    float m_contentScale = 0.0f;
    int m_fontGeneration = -1;
};

}  // namespace ck::desktop
