#pragma once
// Read-only report tokens: what lets a state secretary's office or a bank open the baseline
// report (GET /v1/report) without any device key or the admin passphrase. A token is 32
// random bytes shown once as base64url; the data folder keeps only its BLAKE2b-256 hash, its
// label and when it was issued or revoked, in DIR/report-tokens.json (replaced atomically).
// The server reads the file on every check, so `report-tokens revoke` takes effect at once
// on a running `serve`.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace ck::agg {

struct ReportTokenRow {
    std::string label;
    std::string hash;  // BLAKE2b-256 of the token text, lowercase hex
    int64_t issuedAt = 0;
    int64_t revokedAt = 0;  // 0: valid
};

enum class TokenCheck : uint8_t { Good, Missing, Unknown, Revoked };
// One line for a 401 answer: "no report token: send Authorization: Bearer TOKEN", ...
const char* tokenCheckReason(TokenCheck check);

struct IssuedToken {
    std::string token;  // shown once; empty when refused
    std::string error;  // why not; empty on success
};

class ReportTokens {
public:
    explicit ReportTokens(const std::filesystem::path& dataDir);
    const std::filesystem::path& file() const { return m_file; }

    // A new token for `label` (not empty, at most 200 bytes, no valid token with the same label).
    IssuedToken issue(std::string_view label, int64_t now) const;
    // Every token ever issued, valid or revoked. Throws std::runtime_error for a damaged file.
    std::vector<ReportTokenRow> list() const;
    // Revokes every valid token labelled `label`; "" on success, else why not.
    std::string revoke(std::string_view label, int64_t now) const;
    // Whether `token` (the Bearer text) is a valid token. Every stored hash is compared in
    // constant time (sodium_memcmp) and none is skipped, so timing tells nothing. A damaged or
    // unreadable file reads as no tokens.
    TokenCheck check(std::string_view token) const;

    // The stored form of a token (BLAKE2b-256 hex).
    static std::string hashToken(std::string_view token);

private:
    std::string save(const std::vector<ReportTokenRow>& rows) const;  // "" or an error
    std::filesystem::path m_file;
};

}  // namespace ck::agg
