#pragma once
// The aggregator's self-signed TLS certificate (OpenSSL): made once by `init`, pinned by
// every device at enrolment. Devices pin the certificate's public key, not a CA: the field
// has no CA to ask, and the pin survives a certificate renewed with the same key.
#include <filesystem>
#include <string>
#include <vector>

namespace ck::agg {

struct CertificateInfo {
    std::filesystem::path certificateFile;  // tls-cert.pem
    std::filesystem::path keyFile;          // tls-key.pem (mode 0600)
    // "sha256//<base64 of SHA-256 of the DER SubjectPublicKeyInfo>": the pin a client checks
    // (libcurl's CURLOPT_PINNEDPUBLICKEY format).
    std::string publicKeyPin;
    std::string fingerprint;  // the same SHA-256 as hex groups, for people to compare
    // The DER SubjectPublicKeyInfo itself: served at GET /v1/tls-key for browsers, which cannot
    // see the certificate of the connection they make (platforms/web/sync_client_web.cpp).
    std::vector<uint8_t> publicKeyDer;
};

// An ECDSA P-256 key and a self-signed certificate valid for 10 years, with subjectAltName
// entries for `hosts` (DNS names or IP addresses; "localhost" and "127.0.0.1" always added).
// Refuses to overwrite existing files. Throws std::runtime_error with the OpenSSL reason.
CertificateInfo createSelfSignedCertificate(const std::filesystem::path& folder, const std::vector<std::string>& hosts);
// Reads the files `init` made and computes the pin. Throws std::runtime_error when missing or unreadable.
CertificateInfo readCertificate(const std::filesystem::path& folder);

}  // namespace ck::agg
