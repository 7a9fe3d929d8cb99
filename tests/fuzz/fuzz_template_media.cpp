// libFuzzer target: the bytes of a template's image (media::image), as an author's folder or a
// template's "media" hands them over: inspected, decoded (stb_image) and base64 round-tripped
// give an image or a reason, never a crash, a hang or a leak; a decoded image has the size its
// header promised.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "core/template/template_media.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto info = ck::inspectImage(bytes);
    auto decoded = ck::decodeImage(bytes);
    if (auto* image = std::get_if<ck::DecodedImage>(&decoded)) {
        // Decoding passes only what the header check passes, at the size it read.
        auto* header = std::get_if<ck::ImageInfo>(&info);
        if (!header || header->width != image->width || header->height != image->height ||
            image->rgba.size() != size_t(image->width) * size_t(image->height) * 4)
            __builtin_trap();
    }
    std::string back;
    if (!ck::base64Decode(ck::base64Encode(bytes), back) || back != bytes) __builtin_trap();
    (void)ck::base64Decode(bytes, back);  // any text: decoded or refused
    return 0;
}
