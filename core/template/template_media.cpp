#include "core/template/template_media.h"

#include <array>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include <stb/stb_image.h>

namespace ck {
namespace {

using json = nlohmann::json;

constexpr std::string_view kPngMagic("\x89PNG\r\n\x1a\n", 8);
constexpr std::string_view kJpegMagic("\xff\xd8\xff", 3);

std::string kib(size_t bytes) { return std::to_string((bytes + 1023) / 1024) + " KiB"; }

bool plainFileName(const std::string& name) {
    return !name.empty() && name.size() <= 255 && name.find('/') == std::string::npos &&
           name.find('\\') == std::string::npos && name.find('\0') == std::string::npos && name != "." && name != "..";
}

// Where a name was met first: what a problem about its file points at.
struct Place {
    std::string where;     // "question 'q'" or "choice list 'l', choice 'c'"
    std::string language;  // "" when one name serves every language
};

void namesIn(const json& node, const std::string& where, std::vector<std::pair<std::string, Place>>& out) {
    auto it = node.find("image");
    if (it == node.end()) return;
    if (it->is_string()) {
        out.push_back({it->get<std::string>(), {where, ""}});
    } else if (it->is_object()) {
        for (auto l = it->begin(); l != it->end(); ++l)
            if (l->is_string()) out.push_back({l->get<std::string>(), {where, l.key()}});
    }
}

void questionNames(const json& list, std::vector<std::pair<std::string, Place>>& out) {
    if (!list.is_array()) return;
    for (const json& q : list) {
        if (!q.is_object()) continue;
        auto id = q.find("id");
        std::string name = id != q.end() && id->is_string() ? id->get<std::string>() : std::string("?");
        namesIn(q, "question '" + name + "'", out);
        if (auto children = q.find("questions"); children != q.end()) questionNames(*children, out);
    }
}

}  // namespace

std::variant<ImageInfo, std::string> inspectImage(std::string_view bytes) {
    ImageInfo info;
    if (bytes.substr(0, kPngMagic.size()) == kPngMagic)
        info.format = ImageFormat::Png;
    else if (bytes.substr(0, kJpegMagic.size()) == kJpegMagic)
        info.format = ImageFormat::Jpeg;
    else
        return std::string("is not a PNG or JPEG image (only those are shown)");
    if (bytes.size() > kMaxMediaFileBytes)
        return "is " + kib(bytes.size()) + "; an image may be at most " + kib(kMaxMediaFileBytes) + " (make it smaller)";
    int w = 0, h = 0, channels = 0;
    if (!stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), &w, &h, &channels))
        return std::string("is not a readable ") + (info.format == ImageFormat::Png ? "PNG" : "JPEG") + " image (" +
               (stbi_failure_reason() ? stbi_failure_reason() : "damaged header") + ")";
    if (w <= 0 || h <= 0 || w > kMaxImageSide || h > kMaxImageSide)
        return "is " + std::to_string(w) + " x " + std::to_string(h) + " pixels; at most " + std::to_string(kMaxImageSide) +
               " a side are shown (make it smaller)";
    info.width = w;
    info.height = h;
    return info;
}

std::variant<DecodedImage, std::string> decodeImage(std::string_view bytes) {
    auto info = inspectImage(bytes);
    if (auto* why = std::get_if<std::string>(&info)) return *why;
    int w = 0, h = 0, channels = 0;
    stbi_uc* pixels = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), &w, &h,
                                            &channels, 4);
    if (!pixels)
        return std::string("does not decode: ") + (stbi_failure_reason() ? stbi_failure_reason() : "damaged data") +
               " (is the file whole?)";
    DecodedImage image;
    image.width = w;
    image.height = h;
    image.rgba.assign(pixels, pixels + size_t(w) * size_t(h) * 4);
    stbi_image_free(pixels);
    return image;
}

std::string base64Encode(std::string_view bytes) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 | uint8_t(bytes[i + 2]);
        out += kAlphabet[v >> 18 & 63];
        out += kAlphabet[v >> 12 & 63];
        out += kAlphabet[v >> 6 & 63];
        out += kAlphabet[v & 63];
    }
    if (size_t rest = bytes.size() - i; rest > 0) {
        uint32_t v = uint32_t(uint8_t(bytes[i])) << 16 | (rest == 2 ? uint32_t(uint8_t(bytes[i + 1])) << 8 : 0);
        out += kAlphabet[v >> 18 & 63];
        out += kAlphabet[v >> 12 & 63];
        out += rest == 2 ? kAlphabet[v >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

bool base64Decode(std::string_view text, std::string& out) {
    static const std::array<int8_t, 256> kValue = [] {
        std::array<int8_t, 256> t{};
        t.fill(-1);
        const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; ++i) t[uint8_t(a[i])] = int8_t(i);
        return t;
    }();
    out.clear();
    if (text.size() % 4 != 0) return false;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            char c = text[i + size_t(k)];
            if (c == '=' && last && k >= 2) {
                v[k] = 0;
                ++pad;
                continue;
            }
            if (pad > 0) return false;  // a value after '='
            v[k] = kValue[uint8_t(c)];
            if (v[k] < 0) return false;
        }
        uint32_t n = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | uint32_t(v[3]);
        out += char(n >> 16 & 0xff);
        if (pad < 2) out += char(n >> 8 & 0xff);
        if (pad < 1) out += char(n & 0xff);
    }
    return true;
}

std::filesystem::path defaultMediaFolder(const std::filesystem::path& templateFile) {
    return templateFile.parent_path() / (templateFile.stem().string() + "-media");
}

MediaPackResult packTemplateMedia(json& document, const std::filesystem::path& folder, std::string_view fileName) {
    MediaPackResult result;
    if (!document.is_object()) return result;
    std::vector<std::pair<std::string, Place>> named;
    if (auto sections = document.find("sections"); sections != document.end()) questionNames(*sections, named);
    if (auto choices = document.find("choices"); choices != document.end() && choices->is_object())
        for (auto list = choices->begin(); list != choices->end(); ++list) {
            if (!list->is_array()) continue;
            for (const json& c : *list) {
                if (!c.is_object()) continue;
                auto name = c.find("name");
                namesIn(c, "choice list '" + list.key() + "', choice '" +
                               (name != c.end() && name->is_string() ? name->get<std::string>() : std::string("?")) + "'",
                        named);
            }
        }
    if (named.empty()) return result;

    if (auto given = document.find("media"); given != document.end() && !given->is_object())
        return result;  // the loader says what is wrong with it
    json& media = document["media"];
    if (!media.is_object()) media = json::object();
    size_t total = 0;
    for (auto m = media.begin(); m != media.end(); ++m)
        if (m->is_string()) total += m->get_ref<const std::string&>().size() / 4 * 3;

    std::error_code ec;
    const bool folderThere = std::filesystem::is_directory(folder, ec);
    auto problem = [&](const Place& place, const std::string& file, std::string message) {
        return TemplateError{std::string(fileName), place.where,
                             place.language.empty() ? "image" : "image (" + place.language + ")", "", 0,
                             "'" + file + "' " + std::move(message)};
    };
    auto missing = [&](const Place& place, const std::string& file) {
        result.warnings.push_back(
            folderThere ? problem(place, file, "is not in the form's media folder " + folder.string() + ": the image is not shown")
                        : problem(place, file, "is not shown: there is no media folder " + folder.string()));
    };
    std::map<std::string, bool> seen;  // file name -> packed (or already there)
    for (const auto& [file, place] : named) {
        if (!plainFileName(file)) continue;  // the loader says why
        if (auto s = seen.find(file); s != seen.end()) {
            if (!s->second) missing(place, file);  // every row that names it: each shows nothing
            continue;
        }
        if (media.contains(file)) {
            seen[file] = true;
            continue;
        }
        const std::filesystem::path path = folder / file;
        if (!folderThere || !std::filesystem::is_regular_file(path, ec)) {
            seen[file] = false;
            missing(place, file);
            continue;
        }
        seen[file] = true;  // there: a fault in it is an error once, not a warning per row
        auto size = std::filesystem::file_size(path, ec);
        if (ec || size > kMaxMediaFileBytes) {
            result.errors.push_back(problem(place, file, ec ? "cannot be read: " + ec.message()
                                                            : "is " + kib(size) + "; an image may be at most " +
                                                                  kib(kMaxMediaFileBytes) + " (make it smaller)"));
            continue;
        }
        std::ifstream in(path, std::ios::binary);
        std::ostringstream buf;
        buf << in.rdbuf();
        std::string bytes = buf.str();
        if (!in && !in.eof()) {
            result.errors.push_back(problem(place, file, "cannot be read"));
            continue;
        }
        auto decoded = decodeImage(bytes);
        if (auto* why = std::get_if<std::string>(&decoded)) {
            result.errors.push_back(problem(place, file, *why));
            continue;
        }
        if (total + bytes.size() > kMaxMediaTotalBytes) {
            result.errors.push_back(problem(place, file, "would make the form's images " + kib(total + bytes.size()) +
                                                             "; a template may carry at most " + kib(kMaxMediaTotalBytes) +
                                                             " of images (make them smaller)"));
            continue;
        }
        total += bytes.size();
        media[file] = base64Encode(bytes);
        ++result.files;
        result.bytes += bytes.size();
    }
    if (media.empty()) document.erase("media");
    return result;
}

}  // namespace ck
