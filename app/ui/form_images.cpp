#include "app/ui/form_images.h"

#include <algorithm>
#include <variant>

#include "core/template/survey_template.h"
#include "core/template/template_media.h"

namespace ck {

FormImages::FormImages(std::shared_ptr<TextureMaker> maker) : m_maker(std::move(maker)) {}

FormImages::~FormImages() { clear(); }

const FormImages::Image* FormImages::find(const Template& survey, std::string_view name) {
    if (!m_maker || name.empty()) return nullptr;
    auto bytes = survey.media.find(name);
    if (bytes == survey.media.end()) return nullptr;
    std::string key = survey.id + "@" + survey.version;
    if (key != m_template) {
        clear();
        m_template = std::move(key);
    }
    auto it = m_images.find(name);
    if (it == m_images.end()) {
        Image image;
        ++m_decodes;
        auto decoded = decodeImage(bytes->second);
        if (auto* pixels = std::get_if<DecodedImage>(&decoded)) {
            image.texture = m_maker->create(pixels->width, pixels->height, pixels->rgba.data());
            image.width = pixels->width;
            image.height = pixels->height;
        }
        it = m_images.emplace(std::string(name), image).first;
    }
    return it->second.texture ? &it->second : nullptr;
}

void FormImages::clear() {
    for (auto& [name, image] : m_images)
        if (image.texture && m_maker) m_maker->destroy(image.texture);
    m_images.clear();
    m_template.clear();
}

size_t FormImages::held() const {
    return size_t(std::count_if(m_images.begin(), m_images.end(), [](const auto& e) { return e.second.texture != ImTextureID{}; }));
}

void drawFormImage(const FormImages::Image& image, float maxHeight) {
    float w = std::min(float(image.width), std::max(1.0f, ImGui::GetContentRegionAvail().x));
    float h = w * float(image.height) / float(image.width);
    if (maxHeight > 0 && h > maxHeight) {
        h = maxHeight;
        w = h * float(image.width) / float(image.height);
    }
    ImGui::Image(image.texture, ImVec2(w, h));
}

}  // namespace ck
