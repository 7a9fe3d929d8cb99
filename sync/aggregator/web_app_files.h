#pragma once
// The field app's web build, served by `ck-aggregator serve --web-app DIR` so that one server
// hands out the app and takes its visits (same origin: no CORS needed for the app it serves).
//
// Every file is read once, when serve starts, into memory with its gzip and brotli forms made
// there too. A request only ever looks a name up in that table: nothing on disk is opened
// for a request, so no path a client sends (../, %2e%2e, a symlink, a NUL) can reach a file
// outside the folder, and no request costs a compression.
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace ck::agg {

struct WebAppFile {
    std::string contentType;
    std::string body;    // as on disk
    std::string gzip;    // empty when compressing does not pay (images, tiny files)
    std::string brotli;  // likewise
    std::string etag;    // quoted BLAKE2b-128 of body
};

// What a client accepts, from its Accept-Encoding header (q=0 means refused).
struct AcceptedEncodings {
    bool gzip = false;
    bool brotli = false;
};
AcceptedEncodings parseAcceptEncoding(std::string_view header);

class WebAppFiles {
public:
    static constexpr size_t kMaxFiles = 512;
    static constexpr size_t kMaxTotalBytes = 64u * 1024 * 1024;

    // Reads the folder. Throws std::runtime_error naming the problem (no such folder, no
    // index.html, too many or too large files). Hidden files and symlinks are left out and
    // counted in skipped().
    static WebAppFiles load(const std::filesystem::path& folder);

    // `name` is the path below the app's prefix ("" and "x/" mean their index.html).
    const WebAppFile* find(std::string_view name) const;

    size_t count() const { return m_files.size(); }
    size_t skipped() const { return m_skipped; }
    size_t bytes() const { return m_bytes; }
    size_t brotliBytes() const;  // what a browser accepting br downloads for all files

private:
    std::map<std::string, WebAppFile, std::less<>> m_files;
    size_t m_skipped = 0;
    size_t m_bytes = 0;
};

}  // namespace ck::agg
