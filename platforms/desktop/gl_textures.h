#pragma once
// The desktop's textures for the app's images (app/ui/form_images.h): OpenGL textures that
// Dear ImGui's OpenGL 3 backend draws by their names. Used on the frame loop's thread, with
// the window's GL context current.
#include "app/ui/form_images.h"

namespace ck::desktop {

class GlTextureMaker final : public TextureMaker {
public:
    ImTextureID create(int width, int height, const unsigned char* rgba) override;
    void destroy(ImTextureID texture) override;
    int live() const { return m_live; }  // textures made and not yet destroyed

private:
    int m_live = 0;
};

}  // namespace ck::desktop
