#pragma once
// Real PNG and JPEG files for the tests of template images (media::image), written with
// stb_image_write (Debian libstb-dev; link ${CK_STB_LIBRARY}). Header-only; test code only.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <stb/stb_image_write.h>

namespace ck::test {

// Collects what stb_image_write writes.
inline void appendToString(void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
}

// A width x height PNG of one colour (0xRRGGBB), opaque.
inline std::string solidPng(int width, int height, uint32_t rgb) {
    std::vector<unsigned char> pixels(size_t(width) * size_t(height) * 4);
    for (size_t i = 0; i < pixels.size(); i += 4) {
        pixels[i] = uint8_t(rgb >> 16);
        pixels[i + 1] = uint8_t(rgb >> 8);
        pixels[i + 2] = uint8_t(rgb);
        pixels[i + 3] = 255;
    }
    std::string out;
    stbi_write_png_to_func(appendToString, &out, width, height, 4, pixels.data(), width * 4);
    return out;
}

// A PNG of noise that compresses badly: `width` x `height` x 3 bytes or a little more.
inline std::string noisePng(int width, int height, uint32_t seed) {
    std::vector<unsigned char> pixels(size_t(width) * size_t(height) * 3);
    uint32_t x = seed ? seed : 1;
    for (auto& p : pixels) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p = uint8_t(x);
    }
    std::string out;
    stbi_write_png_to_func(appendToString, &out, width, height, 3, pixels.data(), width * 3);
    return out;
}

// A width x height JPEG of one colour.
inline std::string solidJpeg(int width, int height, uint32_t rgb) {
    std::vector<unsigned char> pixels(size_t(width) * size_t(height) * 3);
    for (size_t i = 0; i < pixels.size(); i += 3) {
        pixels[i] = uint8_t(rgb >> 16);
        pixels[i + 1] = uint8_t(rgb >> 8);
        pixels[i + 2] = uint8_t(rgb);
    }
    std::string out;
    stbi_write_jpg_to_func(appendToString, &out, width, height, 3, pixels.data(), 90);
    return out;
}

// Writes `bytes` to `path`, making its folder first.
inline void writeFileIn(const std::filesystem::path& path, const std::string& bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace ck::test
