#include "sync/aggregator/tls_certificate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "sync/protocol/messages.h"

namespace ck::agg {

namespace fs = std::filesystem;

namespace {

constexpr const char* kCertificateName = "tls-cert.pem";
constexpr const char* kKeyName = "tls-key.pem";
constexpr long kValidSeconds = 10L * 366 * 24 * 3600;  // ten years, leap days included

struct OpenSslFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
    void operator()(X509* p) const { X509_free(p); }
    void operator()(BIO* p) const { BIO_free(p); }
    void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
template <class T>
using OsslPtr = std::unique_ptr<T, OpenSslFree>;

// The OpenSSL error queue as one line, emptied; `what` says which step failed.
[[noreturn]] void fail(const std::string& what) {
    std::string reason;
    while (unsigned long e = ERR_get_error()) {
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!reason.empty()) reason += "; ";
        reason += buf;
    }
    throw std::runtime_error(what + (reason.empty() ? "" : " (" + reason + ")"));
}

bool isIpAddress(const std::string& host) {
    // An IPv4 dotted quad or anything with a colon (IPv6) goes in as IP:, the rest as DNS:.
    if (host.find(':') != std::string::npos) return true;
    return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

void addExtension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    OsslPtr<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
    if (!ext) fail("cannot build certificate extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
    if (X509_add_ext(cert, ext.get(), -1) != 1) fail("cannot add certificate extension");
}

std::string pemOf(int (*write)(BIO*, const void*), const void* object) {
    OsslPtr<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || write(bio.get(), object) != 1) fail("cannot encode PEM");
    char* data = nullptr;
    long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(n));
}

// Writes a new file (O_EXCL: never over an existing one) with `mode`.
void writeNewFile(const fs::path& path, const std::string& text, mode_t mode) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
    // The umask may have narrowed the mode; the key must be exactly 0600 whatever it was.
    ::fchmod(fd, mode);
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            throw std::runtime_error("cannot write " + path.string() + ": " + std::strerror(err));
        }
        done += static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) throw std::runtime_error("cannot write " + path.string());
}

std::vector<uint8_t> derPublicKey(EVP_PKEY* key) {
    int n = i2d_PUBKEY(key, nullptr);
    if (n <= 0) fail("cannot encode the public key");
    std::vector<uint8_t> der(static_cast<size_t>(n));
    unsigned char* p = der.data();
    i2d_PUBKEY(key, &p);
    return der;
}

std::string hexGroups(const std::vector<uint8_t>& bytes) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < bytes.size(); ++i) {
        if (i > 0 && i % 2 == 0) out += ' ';
        out += kHex[bytes[i] >> 4];
        out += kHex[bytes[i] & 15];
    }
    return out;
}

CertificateInfo infoFor(const fs::path& folder, EVP_PKEY* key) {
    std::vector<uint8_t> spki = derPublicKey(key);
    std::vector<uint8_t> hash(SHA256_DIGEST_LENGTH);
    SHA256(spki.data(), spki.size(), hash.data());
    CertificateInfo info;
    info.certificateFile = folder / kCertificateName;
    info.keyFile = folder / kKeyName;
    info.publicKeyPin = proto::publicKeyPin(spki);
    info.fingerprint = hexGroups(hash);
    info.publicKeyDer = std::move(spki);
    return info;
}

}  // namespace

CertificateInfo createSelfSignedCertificate(const fs::path& folder, const std::vector<std::string>& hosts) {
    const fs::path certPath = folder / kCertificateName, keyPath = folder / kKeyName;
    for (const fs::path& p : {certPath, keyPath})
        if (fs::exists(p)) throw std::runtime_error(p.string() + " already exists: refusing to overwrite it");

    OsslPtr<EVP_PKEY> key(EVP_EC_gen("P-256"));
    if (!key) fail("cannot generate the P-256 key");

    OsslPtr<X509> cert(X509_new());
    if (!cert) fail("cannot allocate the certificate");
    X509_set_version(cert.get(), 2);  // X509v3
    // A random positive serial: two certificates made by `init` never share one.
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) fail("no randomness for the serial number");
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()))) {
        BN_free(bn);
        fail("cannot set the serial number");
    }
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);  // an hour of slack for skewed clocks
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValidSeconds);
    if (X509_set_pubkey(cert.get(), key.get()) != 1) fail("cannot set the public key");

    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("ClusterKit"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>("ClusterKit aggregator"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);

    std::vector<std::string> all{"localhost", "127.0.0.1"};
    for (const std::string& h : hosts)
        if (!h.empty() && std::find(all.begin(), all.end(), h) == all.end()) all.push_back(h);
    std::string san;
    for (const std::string& h : all) {
        if (h.find_first_of(",\n\r") != std::string::npos) throw std::runtime_error("not a host name: " + h);
        if (!san.empty()) san += ',';
        san += (isIpAddress(h) ? "IP:" : "DNS:") + h;
    }
    addExtension(cert.get(), NID_subject_alt_name, san);
    addExtension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
    addExtension(cert.get(), NID_key_usage, "critical,digitalSignature");
    addExtension(cert.get(), NID_ext_key_usage, "serverAuth");
    addExtension(cert.get(), NID_subject_key_identifier, "hash");
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) fail("cannot sign the certificate");

    std::string certPem = pemOf([](BIO* b, const void* o) { return PEM_write_bio_X509(b, static_cast<X509*>(const_cast<void*>(o))); }, cert.get());
    std::string keyPem = pemOf(
        [](BIO* b, const void* o) {
            return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(const_cast<void*>(o)), nullptr, nullptr, 0, nullptr, nullptr);
        },
        key.get());
    fs::create_directories(folder);
    writeNewFile(keyPath, keyPem, 0600);
    try {
        writeNewFile(certPath, certPem, 0644);
    } catch (...) {
        fs::remove(keyPath);  // half a pair is worse than none: `init` can run again
        throw;
    }
    return infoFor(folder, key.get());
}

CertificateInfo readCertificate(const fs::path& folder) {
    const fs::path certPath = folder / kCertificateName, keyPath = folder / kKeyName;
    if (!fs::exists(certPath)) throw std::runtime_error(certPath.string() + " is missing: was the data folder made by `init`?");
    if (!fs::exists(keyPath)) throw std::runtime_error(keyPath.string() + " is missing: was the data folder made by `init`?");
    FILE* f = std::fopen(certPath.c_str(), "rb");
    if (!f) throw std::runtime_error("cannot read " + certPath.string() + ": " + std::strerror(errno));
    OsslPtr<X509> cert(PEM_read_X509(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    if (!cert) fail(certPath.string() + " is not a PEM certificate");
    EVP_PKEY* key = X509_get0_pubkey(cert.get());
    if (!key) fail(certPath.string() + " has no readable public key");
    return infoFor(folder, key);
}

}  // namespace ck::agg
