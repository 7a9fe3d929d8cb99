// SyncClient's transport on desktop: libcurl over HTTPS with the aggregator's public key
// pinned (or plain HTTP on loopback), one reused handle so the TLS session and the
// connection carry over between requests. What the bytes mean is sync_client.cpp's.
#include <algorithm>
#include <cctype>
#include <mutex>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sync/client/transport.h"

namespace ck::sync::detail {

namespace {

void initCurlOnce() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlHandle {
    CURL* h = nullptr;
    CurlHandle() : h(curl_easy_init()) {}
    ~CurlHandle() {
        if (h) curl_easy_cleanup(h);
    }
    CurlHandle(const CurlHandle&) = delete;
    CurlHandle& operator=(const CurlHandle&) = delete;
};
struct CurlHeaders {
    curl_slist* list = nullptr;
    ~CurlHeaders() { curl_slist_free_all(list); }
    void add(const char* h) { list = curl_slist_append(list, h); }
};

struct Transfer {
    std::string body;
    bool tooLarge = false;
    uint32_t retryAfter = 0;
    const std::atomic<bool>* cancelled = nullptr;
};

size_t onBody(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t n = size * count;
    if (t->body.size() + n > kMaxReplyBytes) {
        t->tooLarge = true;
        return 0;  // ends the transfer with CURLE_WRITE_ERROR
    }
    t->body.append(data, n);
    return n;
}

size_t onHeader(char* data, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    size_t n = size * count;
    std::string line(data, n);
    constexpr std::string_view kName = "retry-after:";
    if (line.size() > kName.size()) {
        std::string lower = line.substr(0, kName.size());
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower == kName) t->retryAfter = retryAfterSeconds(std::string_view(line).substr(kName.size()));
    }
    return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    return t->cancelled->load() ? 1 : 0;
}

class CurlTransport final : public Transport {
public:
    explicit CurlTransport(ClientState& state) : m_state(state) {}

    Attempt post(const std::string& path, const std::vector<uint8_t>& frame) override {
        std::lock_guard lock(m_curlMutex);
        Transfer t;
        CURL* h = m_curl.h;
        if (!h) return transportFailure(CURLE_FAILED_INIT, "libcurl could not start");
        if (auto bad = configure(h, t)) {
            Attempt a;
            a.result = Attempt::Result::Fail;
            a.error = *bad;
            return a;
        }
        std::string url = endpointUrl(m_state.server.url, path);
        CurlHeaders headers;
        headers.add((std::string("Content-Type: ") + kFrameType).c_str());
        headers.add("Expect:");  // no 100-continue round trip on slow links
        char errorText[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errorText);
        curl_easy_setopt(h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(frame.data()));
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(frame.size()));

        CURLcode rc = curl_easy_perform(h);
        countBytes(h);
        curl_off_t bodySent = 0;
        curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &bodySent);
        if (!frame.empty() && bodySent >= static_cast<curl_off_t>(frame.size())) ++m_state.delivered;
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
        if (rc != CURLE_OK) {
            if (t.tooLarge)
                return transportFailure(rc, "the aggregator's answer is far larger than any reply frame");
            return transportFailure(rc, errorText);
        }
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        return readAnswer(status, reinterpret_cast<const uint8_t*>(t.body.data()), t.body.size(), t.retryAfter);
    }

    SyncResult<std::string> fetchPublicKeyPin() override {
        const ServerAddress& server = m_state.server;
        if (!isHttps())
            return makeError(SyncErrorKind::BadReply, "The address " + server.url + " is not https://: there is no key to pin.");
        std::lock_guard lock(m_curlMutex);
        // A handle of its own: certificate details are read from a fresh handshake, never a reused one.
        CurlHandle c;
        if (!c.h) return makeError(SyncErrorKind::Unreachable, "libcurl could not start");
        Transfer t;
        t.cancelled = &m_state.cancelled;
        std::string url = endpointUrl(server.url, "/v1/hello");
        curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYPEER, 0L);  // not trusted yet: this is how we learn the key
        curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(c.h, CURLOPT_CERTINFO, 1L);
        curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_state.retry.connectTimeout.count()));
        curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, static_cast<long>(m_state.retry.connectTimeout.count()));
        curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, onBody);
        curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, onProgress);
        curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, &t);
        CURLcode rc = curl_easy_perform(c.h);
        countBytes(c.h);
        if (rc != CURLE_OK) return transportFailure(rc, nullptr).error;

        curl_certinfo* info = nullptr;
        if (curl_easy_getinfo(c.h, CURLINFO_CERTINFO, &info) != CURLE_OK || !info || info->num_of_certs < 1)
            return makeError(SyncErrorKind::BadReply, "The server at " + hostOf(server.url) + " showed no certificate.");
        // The first certificate is the server's own; libcurl lists its PEM as "Cert:...".
        for (curl_slist* s = info->certinfo[0]; s; s = s->next) {
            std::string_view entry = s->data;
            if (entry.rfind("Cert:", 0) != 0) continue;
            std::string pem(entry.substr(5));
            BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
            X509* cert = bio ? PEM_read_bio_X509(bio, nullptr, nullptr, nullptr) : nullptr;
            BIO_free(bio);
            if (!cert) break;
            std::vector<uint8_t> spki;
            int n = i2d_PUBKEY(X509_get0_pubkey(cert), nullptr);
            if (n > 0) {
                spki.resize(static_cast<size_t>(n));
                unsigned char* p = spki.data();
                i2d_PUBKEY(X509_get0_pubkey(cert), &p);
            }
            X509_free(cert);
            if (spki.empty()) break;
            return proto::publicKeyPin(spki);
        }
        return makeError(SyncErrorKind::BadReply, "The server's certificate could not be read.");
    }

private:
    bool isHttps() const { return m_state.server.url.rfind("https://", 0) == 0; }

    // Settings every connection shares: the pin (https) and the timeouts.
    std::optional<SyncError> configure(CURL* h, Transfer& t) {
        const ServerAddress& server = m_state.server;
        curl_easy_reset(h);
        if (isHttps()) {
            if (server.publicKeyPin.rfind("sha256//", 0) != 0)
                return makeError(SyncErrorKind::PinMismatch,
                                 "No aggregator key is pinned for " + hostOf(server.url) +
                                     ": enrol this device again to learn the aggregator's key.");
            // The certificate is self-signed: the pinned key is the whole of the trust, so the
            // CA chain and host name checks are off and the pin is checked on every handshake.
            curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, server.publicKeyPin.c_str());
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        } else if (server.url.rfind("http://", 0) != 0) {
            return makeError(SyncErrorKind::Unreachable, "The aggregator address " + server.url +
                                                             " must start with https:// or http://.");
        }
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_state.retry.connectTimeout.count()));
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(m_state.retry.requestTimeout.count()));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
        t.cancelled = &m_state.cancelled;
        return std::nullopt;
    }

    // Protocol bytes: the frames in request and reply bodies. (CURLINFO_REQUEST_SIZE would add
    // the headers, but it also counts a body sent along with them, so it is left out.)
    void countBytes(CURL* h) {
        curl_off_t up = 0, down = 0;
        curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
        curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
        m_state.sent += static_cast<uint64_t>(up);
        m_state.received += static_cast<uint64_t>(down);
    }

    // A transport failure as the officer should read it; PinMismatch and Cancelled are final.
    Attempt transportFailure(CURLcode code, const char* detail) {
        const ServerAddress& server = m_state.server;
        Attempt a;
        if (code == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
            a.result = Attempt::Result::Fail;
            a.error = makeError(SyncErrorKind::PinMismatch,
                                "The server at " + hostOf(server.url) +
                                    " is not the aggregator this device enrolled with (its key does not match "
                                    "the pinned one). Nothing was sent. Check the address, or ask the operator.");
        } else if (code == CURLE_ABORTED_BY_CALLBACK && m_state.cancelled) {
            a.result = Attempt::Result::Fail;
            a.error = makeError(SyncErrorKind::Cancelled, "Sync was cancelled.");
        } else {
            a.result = Attempt::Result::Retry;
            a.error = makeError(SyncErrorKind::Unreachable,
                                "Cannot reach the aggregator at " + hostOf(server.url) + ": " +
                                    (detail && *detail ? detail : curl_easy_strerror(code)) +
                                    ". Check the network and try again later.");
        }
        return a;
    }

    ClientState& m_state;
    std::mutex m_curlMutex;  // one request at a time on the reused handle
    CurlHandle m_curl;       // kept between requests: the TLS session and connection are reused
};

}  // namespace

std::unique_ptr<Transport> makeTransport(ClientState& state) {
    initCurlOnce();
    return std::make_unique<CurlTransport>(state);
}

}  // namespace ck::sync::detail
