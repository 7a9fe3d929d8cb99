#include "sync/aggregator/web_app_files.h"

#include <brotli/encode.h>
#include <sodium.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace ck::agg {

namespace fs = std::filesystem;

namespace {

// The types a browser needs to run the app; anything else is served as bytes to save.
std::string contentTypeFor(const fs::path& file) {
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".wasm") return "application/wasm";
    if (ext == ".json") return "application/json; charset=utf-8";
    if (ext == ".webmanifest") return "application/manifest+json; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".svg") return "image/svg+xml; charset=utf-8";
    if (ext == ".png") return "image/png";
    if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
    if (ext == ".ico") return "image/x-icon";
    if (ext == ".txt") return "text/plain; charset=utf-8";
    if (ext == ".ttf") return "font/ttf";
    if (ext == ".otf") return "font/otf";
    if (ext == ".woff2") return "font/woff2";
    return "application/octet-stream";  // .data (emscripten's preloaded files) and anything else
}

// Already-compressed formats gain nothing from another pass.
bool worthCompressing(const WebAppFile& f) {
    if (f.body.size() < 512) return false;
    const std::string& t = f.contentType;
    return t.rfind("image/png", 0) != 0 && t.rfind("image/jpeg", 0) != 0 && t.rfind("font/woff2", 0) != 0;
}

std::string gzipOf(const std::string& in) {
    z_stream z{};
    // 15 + 16: a gzip wrapper, as Content-Encoding: gzip means.
    if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("zlib could not start");
    std::string out(deflateBound(&z, in.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    int rc = deflate(&z, Z_FINISH);
    out.resize(z.total_out);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) throw std::runtime_error("zlib could not compress");
    return out;
}

std::string brotliOf(const std::string& in) {
    size_t size = BrotliEncoderMaxCompressedSize(in.size());
    std::string out(size, '\0');
    // Quality 9: within a few per cent of 11 on code, and several times faster, so a
    // multi-megabyte .wasm does not hold up serve's start for long.
    if (!BrotliEncoderCompress(9, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC, in.size(),
                               reinterpret_cast<const uint8_t*>(in.data()), &size,
                               reinterpret_cast<uint8_t*>(out.data())))
        throw std::runtime_error("brotli could not compress");
    out.resize(size);
    return out;
}

std::string etagOf(const std::string& body) {
    unsigned char hash[16];
    crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(body.data()), body.size(), nullptr, 0);
    char hex[sizeof hash * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
    return "\"" + std::string(hex) + "\"";
}

bool hidden(const fs::path& relative) {
    for (const auto& part : relative)
        if (!part.empty() && part.string()[0] == '.') return true;
    return false;
}

std::string trimmed(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

}  // namespace

AcceptedEncodings parseAcceptEncoding(std::string_view header) {
    AcceptedEncodings accepted;
    bool star = false, starSet = false;
    bool gzipSet = false, brSet = false;
    while (!header.empty()) {
        size_t comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        size_t semi = item.find(';');
        std::string coding = trimmed(item.substr(0, semi));
        bool ok = true;
        if (semi != std::string_view::npos) {
            std::string param = trimmed(item.substr(semi + 1));
            if (param.rfind("q=", 0) == 0) ok = std::strtod(param.c_str() + 2, nullptr) > 0;
        }
        if (coding == "gzip" || coding == "x-gzip") accepted.gzip = ok, gzipSet = true;
        else if (coding == "br") accepted.brotli = ok, brSet = true;
        else if (coding == "*") star = ok, starSet = true;
    }
    if (starSet) {
        if (!gzipSet) accepted.gzip = star;
        if (!brSet) accepted.brotli = star;
    }
    return accepted;
}

WebAppFiles WebAppFiles::load(const fs::path& folder) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec))
        throw std::runtime_error("the web app folder " + folder.string() + " is not a folder (build the web app: see platforms/web)");
    WebAppFiles files;
    fs::recursive_directory_iterator it(folder, fs::directory_options::none, ec), end;
    if (ec) throw std::runtime_error("cannot read the web app folder " + folder.string() + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
        if (ec) throw std::runtime_error("cannot read the web app folder " + folder.string() + ": " + ec.message());
        const fs::path relative = it->path().lexically_relative(folder);
        // A symlink could lead out of the folder; hidden files are editor and VCS leftovers.
        if (it->is_symlink(ec) || hidden(relative)) {
            ++files.m_skipped;
            if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec)) continue;
        if (files.m_files.size() >= kMaxFiles)
            throw std::runtime_error("the web app folder holds more than " + std::to_string(kMaxFiles) + " files");
        std::ifstream in(it->path(), std::ios::binary);
        std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) throw std::runtime_error("cannot read " + it->path().string());
        files.m_bytes += body.size();
        if (files.m_bytes > kMaxTotalBytes)
            throw std::runtime_error("the web app folder holds more than " + std::to_string(kMaxTotalBytes >> 20) +
                                     " MiB; it should be the built app only");
        WebAppFile f;
        f.contentType = contentTypeFor(it->path());
        f.etag = etagOf(body);
        f.body = std::move(body);
        if (worthCompressing(f)) {
            f.gzip = gzipOf(f.body);
            f.brotli = brotliOf(f.body);
            if (f.gzip.size() >= f.body.size()) f.gzip.clear();
            if (f.brotli.size() >= f.body.size()) f.brotli.clear();
        }
        files.m_files.emplace(relative.generic_string(), std::move(f));
    }
    if (!files.m_files.count("index.html"))
        throw std::runtime_error("the web app folder " + folder.string() + " has no index.html (build the web app: see platforms/web)");
    return files;
}

const WebAppFile* WebAppFiles::find(std::string_view name) const {
    std::string key(name);
    if (key.empty() || key.back() == '/') key += "index.html";
    auto found = m_files.find(key);
    return found == m_files.end() ? nullptr : &found->second;
}

size_t WebAppFiles::brotliBytes() const {
    size_t n = 0;
    for (const auto& [name, f] : m_files) n += f.brotli.empty() ? f.body.size() : f.brotli.size();
    return n;
}

}  // namespace ck::agg
