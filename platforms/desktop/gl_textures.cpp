#include "platforms/desktop/gl_textures.h"

#include <cstdint>

#include <GLFW/glfw3.h>  // the system's GL header

namespace ck::desktop {

ImTextureID GlTextureMaker::create(int width, int height, const unsigned char* rgba) {
    GLint maxSide = 0;
    glGetIntegerv(GL_MAX_TEXTURE_SIZE, &maxSide);
    if (width <= 0 || height <= 0 || width > maxSide || height > maxSide) return ImTextureID{};
    GLuint name = 0;
    glGenTextures(1, &name);
    if (name == 0) return ImTextureID{};
    GLint previous = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &previous);
    glBindTexture(GL_TEXTURE_2D, name);
    // Drawn smaller than native on a narrow screen: linear filtering keeps it smooth.
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
    glBindTexture(GL_TEXTURE_2D, GLuint(previous));
    ++m_live;
    return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(name));
}

void GlTextureMaker::destroy(ImTextureID texture) {
    GLuint name = GLuint(reinterpret_cast<intptr_t>(texture));
    if (name == 0) return;
    glDeleteTextures(1, &name);
    --m_live;
}

}  // namespace ck::desktop
