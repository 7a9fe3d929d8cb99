#pragma once
// The images a template carries (XLSForm `media::image`, the `image` key of FORMAT.md).
//
// A survey author keeps a form's images in a folder beside it, as ODK does (`form-media/`
// beside `form.xlsx`). Packing reads the PNG and JPEG files the questions and choices name
// from that folder into the template document itself, under "media" (file name -> base64),
// so the images are covered by the template's signature and travel wherever the template
// goes (publish, sync, the device's encrypted store) with no second channel to keep in step.
// The loader checks what it finds there (names, sizes, PNG or JPEG by their first bytes and
// their header) and keeps the bytes in Template::media; the field app decodes them to draw.
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/template/template_loader.h"

namespace ck {

// Limits that keep a template small enough to sync over a field link and to hold in memory:
// a phone photo must be resized first (the message says so).
inline constexpr size_t kMaxMediaFileBytes = 2u * 1024 * 1024;   // one image file
inline constexpr size_t kMaxMediaTotalBytes = 8u * 1024 * 1024;  // every image of one template
inline constexpr int kMaxImageSide = 4096;                       // pixels, either side

enum class ImageFormat : uint8_t { Png, Jpeg };

struct ImageInfo {
    ImageFormat format = ImageFormat::Png;
    int width = 0, height = 0;
};

// PNG or JPEG told by the first bytes (never the name), with its size from the header only
// (nothing decoded): cheap enough for every load. Why not, phrased to follow the file's name.
[[nodiscard]] std::variant<ImageInfo, std::string> inspectImage(std::string_view bytes);

struct DecodedImage {
    int width = 0, height = 0;
    std::vector<unsigned char> rgba;  // width * height * 4, rows top to bottom
};

// The whole image decoded to 8-bit RGBA (stb_image): what the app turns into a texture, and
// how packing proves a file is whole. A broken or truncated file gives why, never a crash.
[[nodiscard]] std::variant<DecodedImage, std::string> decodeImage(std::string_view bytes);

std::string base64Encode(std::string_view bytes);
// False when `text` is not standard base64 (padding required, no whitespace).
[[nodiscard]] bool base64Decode(std::string_view text, std::string& out);

// ODK's convention: the media of `form.xlsx` (or `form.json`) sit in `form-media/` beside it.
std::filesystem::path defaultMediaFolder(const std::filesystem::path& templateFile);

struct MediaPackResult {
    // A named file that is there but not a whole PNG or JPEG within the limits.
    std::vector<TemplateError> errors;
    // A named file that is not in the folder (or no folder at all): the form loads, the image
    // is not shown. `where` names the question ("question 'q'") or the choice ("choice list
    // 'l', choice 'c'"), so a workbook's loader can point at its row.
    std::vector<TemplateError> warnings;
    size_t files = 0;  // image files packed
    size_t bytes = 0;  // their total size
};

// Adds to document["media"] every image file that a question's or a choice's `image` names
// (in any language) and that `folder` holds; names already in document["media"] are kept as
// they are. `fileName` names the template in problems.
[[nodiscard]] MediaPackResult packTemplateMedia(nlohmann::json& document, const std::filesystem::path& folder,
                                                std::string_view fileName);

}  // namespace ck
