#include "sync/aggregator/report/report_tokens.h"

#include <sodium.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/crypto/sealed_box.h"

namespace ck::agg {

namespace {

constexpr size_t kTokenBytes = 32;
constexpr size_t kMaxLabelBytes = 200;

std::vector<ReportTokenRow> readRows(const std::filesystem::path& file) {
    std::vector<ReportTokenRow> rows;
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) return rows;
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(file.string() + ": cannot read the report tokens file");
    std::stringstream s;
    s << in.rdbuf();
    try {
        nlohmann::json doc = nlohmann::json::parse(s.str());
        for (const auto& t : doc.at("tokens")) {
            ReportTokenRow r;
            r.label = t.at("label").get<std::string>();
            r.hash = t.at("hash").get<std::string>();
            r.issuedAt = t.at("issued_at").get<int64_t>();
            r.revokedAt = t.value("revoked_at", int64_t(0));
            rows.push_back(std::move(r));
        }
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(file.string() + " is damaged (" + e.what() +
                                 "): restore it from a backup, or move it away and issue new tokens");
    }
    return rows;
}

}  // namespace

const char* tokenCheckReason(TokenCheck check) {
    switch (check) {
        case TokenCheck::Good: return "";
        case TokenCheck::Missing: return "no report token: send Authorization: Bearer TOKEN (ck-aggregator report-tokens issue)";
        case TokenCheck::Unknown: return "unknown report token: ask the aggregator's operator for one";
        case TokenCheck::Revoked: return "this report token was revoked: ask the aggregator's operator for a new one";
    }
    return "refused";
}

ReportTokens::ReportTokens(const std::filesystem::path& dataDir) : m_file(dataDir / "report-tokens.json") {}

std::string ReportTokens::hashToken(std::string_view token) {
    uint8_t h[32];
    crypto_generichash(h, sizeof h, reinterpret_cast<const uint8_t*>(token.data()), token.size(), nullptr, 0);
    return toHex(h, sizeof h);
}

std::string ReportTokens::save(const std::vector<ReportTokenRow>& rows) const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : rows) {
        nlohmann::json t = {{"label", r.label}, {"hash", r.hash}, {"issued_at", r.issuedAt}};
        if (r.revokedAt) t["revoked_at"] = r.revokedAt;
        list.push_back(std::move(t));
    }
    std::string text = nlohmann::json{{"format", 1}, {"tokens", list}}.dump(2) + "\n";
    // Written beside the file and renamed over it: a reader (a running serve) sees the old
    // file or the new one, never half of one.
    std::filesystem::path tmp = m_file;
    tmp += ".tmp-" + std::to_string(::getpid());
    {
        // 0600 from the start: the file names who may read the report (the tokens are hashed,
        // the labels are not), so it is the operator's only, whatever the umask.
        int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        bool ok = fd >= 0 && ::fchmod(fd, 0600) == 0;
        for (size_t done = 0; ok && done < text.size();) {
            ssize_t n = ::write(fd, text.data() + done, text.size() - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) ok = false;
            else done += static_cast<size_t>(n);
        }
        if (fd >= 0 && ::close(fd) != 0) ok = false;
        if (!ok) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            return tmp.string() + ": cannot write the report tokens file";
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, m_file, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        return m_file.string() + ": cannot replace the report tokens file (" + ec.message() + ")";
    }
    return "";
}

IssuedToken ReportTokens::issue(std::string_view label, int64_t now) const {
    if (label.empty()) return {"", "a report token needs a --label saying who holds it"};
    if (label.size() > kMaxLabelBytes) return {"", "the label is longer than 200 bytes"};
    std::vector<ReportTokenRow> rows;
    try {
        rows = readRows(m_file);
    } catch (const std::exception& e) {
        return {"", e.what()};
    }
    for (const auto& r : rows)
        if (r.label == label && r.revokedAt == 0)
            return {"", "a valid token labelled '" + std::string(label) +
                            "' exists already: revoke it first or choose another label"};
    uint8_t raw[kTokenBytes];
    randombytes_buf(raw, sizeof raw);
    char text[sodium_base64_ENCODED_LEN(kTokenBytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    std::string token(text);
    sodium_memzero(text, sizeof text);
    rows.push_back(ReportTokenRow{std::string(label), hashToken(token), now, 0});
    if (std::string err = save(rows); !err.empty()) return {"", err};
    return {token, ""};
}

std::vector<ReportTokenRow> ReportTokens::list() const { return readRows(m_file); }

std::string ReportTokens::revoke(std::string_view label, int64_t now) const {
    std::vector<ReportTokenRow> rows;
    try {
        rows = readRows(m_file);
    } catch (const std::exception& e) {
        return e.what();
    }
    size_t revoked = 0;
    for (auto& r : rows)
        if (r.label == label && r.revokedAt == 0) {
            r.revokedAt = now;
            ++revoked;
        }
    if (revoked == 0) return "no valid report token is labelled '" + std::string(label) + "' (see report-tokens list)";
    return save(rows);
}

TokenCheck ReportTokens::check(std::string_view token) const {
    if (token.empty()) return TokenCheck::Missing;
    std::vector<ReportTokenRow> rows;
    try {
        rows = readRows(m_file);
    } catch (const std::exception&) {
        return TokenCheck::Unknown;
    }
    std::string presented = hashToken(token);
    TokenCheck result = TokenCheck::Unknown;
    for (const auto& r : rows) {
        bool same = r.hash.size() == presented.size() &&
                    sodium_memcmp(r.hash.data(), presented.data(), presented.size()) == 0;
        if (same) result = r.revokedAt ? TokenCheck::Revoked : TokenCheck::Good;
    }
    return result;
}

}  // namespace ck::agg
