#pragma once
// The images of the open visit's template (Template::media, XLSForm media::image) as
// textures the screens draw with ImGui::Image. Each image is decoded (stb_image, through
// core/template/template_media.h) and uploaded once per template version, when a screen
// first asks for it; the textures are freed when the visit closes, the app locks or quits,
// or a visit of another template version opens.
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <imgui.h>

namespace ck {

struct Template;

// Made by the platform, which owns the renderer (OpenGL 3 on the desktop): the app itself
// never calls a graphics API (field_app.h).
class TextureMaker {
public:
    virtual ~TextureMaker() = default;
    // A texture of `width` x `height` RGBA pixels, rows top to bottom; 0 when it cannot.
    virtual ImTextureID create(int width, int height, const unsigned char* rgba) = 0;
    virtual void destroy(ImTextureID texture) = 0;
};

class FormImages {
public:
    struct Image {
        ImTextureID texture{};
        int width = 0, height = 0;
    };

    // `maker` null: no image is ever drawn (a platform with no renderer).
    explicit FormImages(std::shared_ptr<TextureMaker> maker);
    ~FormImages();  // frees every texture: destroy it while the renderer is still there
    FormImages(const FormImages&) = delete;
    FormImages& operator=(const FormImages&) = delete;

    // The texture of the file `name` of `survey`'s media; null when the template does not carry
    // it, it does not decode (the loader checked only its header) or no texture can be made.
    // A failure is remembered too: nothing is decoded twice for one template version.
    const Image* find(const Template& survey, std::string_view name);

    void clear();  // frees the textures
    size_t decodes() const { return m_decodes; }  // images decoded since start (tests, benchmarks)
    size_t held() const;                          // textures held now

private:
    std::shared_ptr<TextureMaker> m_maker;
    std::string m_template;  // "id@version" the textures below belong to
    std::map<std::string, Image, std::less<>> m_images;  // texture 0: not shown
    size_t m_decodes = 0;
};

// Draws `image` at the cursor, as wide as the space left on the line but never wider than its
// own pixels, nor taller than `maxHeight`, keeping its shape.
void drawFormImage(const FormImages::Image& image, float maxHeight);

}  // namespace ck
