#include "sync/client/sync_client.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace ck::sync {

namespace {

constexpr const char* kFrameType = "application/x-clusterkit-frame";
// A reply is a frame; anything far larger is not one of ours and is cut off.
constexpr size_t kMaxReplyBytes = proto::kMaxFrameBytes + 64 * 1024;

void initCurlOnce() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

int64_t unixNow() { return static_cast<int64_t>(std::time(nullptr)); }

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

// One HTTP exchange as the retry loop sees it.
struct Attempt {
    enum class Result { Reply, Retry, Fail } result = Result::Retry;
    proto::Message reply;           // Result::Reply
    SyncError error;                // Retry: the reason if it was the last; Fail: the answer
    uint32_t retryAfterSeconds = 0; // from the Retry-After header or the ErrorReply
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
        if (lower == kName) {
            unsigned long v = std::strtoul(line.c_str() + kName.size(), nullptr, 10);
            t->retryAfter = static_cast<uint32_t>(std::min<unsigned long>(v, 24 * 3600));
        }
    }
    return n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    return t->cancelled->load() ? 1 : 0;
}

SyncError makeError(SyncErrorKind kind, std::string message, std::optional<proto::ErrorReply> reply = std::nullopt) {
    SyncError e;
    e.kind = kind;
    e.message = std::move(message);
    e.reply = std::move(reply);
    return e;
}

std::string hostOf(const std::string& url) {
    size_t start = url.find("://");
    start = start == std::string::npos ? 0 : start + 3;
    size_t end = url.find('/', start);
    return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

}  // namespace

struct SyncClient::Impl {
    ServerAddress server;
    RetryPolicy retry;
    ProgressFn progress;
    std::mutex progressMutex;
    std::atomic<bool> cancelled{false};
    std::atomic<uint64_t> sent{0}, received{0}, delivered{0};
    std::mutex curlMutex;  // one request at a time on the reused handle
    CurlHandle curl;       // kept between requests: the TLS session and connection are reused
    std::mt19937_64 rng{std::random_device{}()};

    bool isHttps() const { return server.url.rfind("https://", 0) == 0; }

    void report(SyncProgress p) {
        ProgressFn fn;
        {
            std::lock_guard lock(progressMutex);
            fn = progress;
        }
        p.bytesSent = sent.load();
        p.bytesReceived = received.load();
        if (fn) fn(p);
    }

    // Settings every connection shares: the pin (https) and the timeouts.
    std::optional<SyncError> configure(CURL* h, Transfer& t) {
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
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(retry.connectTimeout.count()));
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(retry.requestTimeout.count()));
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
        t.cancelled = &cancelled;
        return std::nullopt;
    }

    // Protocol bytes: the frames in request and reply bodies. (CURLINFO_REQUEST_SIZE would add
    // the headers, but it also counts a body sent along with them, so it is left out.)
    void countBytes(CURL* h) {
        curl_off_t up = 0, down = 0;
        curl_easy_getinfo(h, CURLINFO_SIZE_UPLOAD_T, &up);
        curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &down);
        sent += static_cast<uint64_t>(up);
        received += static_cast<uint64_t>(down);
    }

    // A transport failure as the officer should read it; PinMismatch and Cancelled are final.
    Attempt transportFailure(CURLcode code, const char* detail) {
        Attempt a;
        if (code == CURLE_SSL_PINNEDPUBKEYNOTMATCH) {
            a.result = Attempt::Result::Fail;
            a.error = makeError(SyncErrorKind::PinMismatch,
                                "The server at " + hostOf(server.url) +
                                    " is not the aggregator this device enrolled with (its key does not match "
                                    "the pinned one). Nothing was sent. Check the address, or ask the operator.");
        } else if (code == CURLE_ABORTED_BY_CALLBACK && cancelled) {
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

    Attempt postOnce(const std::string& path, const std::vector<uint8_t>& frame) {
        std::lock_guard lock(curlMutex);
        Transfer t;
        CURL* h = curl.h;
        if (!h) return transportFailure(CURLE_FAILED_INIT, "libcurl could not start");
        if (auto bad = configure(h, t)) {
            Attempt a;
            a.result = Attempt::Result::Fail;
            a.error = *bad;
            return a;
        }
        std::string url = server.url;
        while (!url.empty() && url.back() == '/') url.pop_back();
        url += path;
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
        if (!frame.empty() && bodySent >= static_cast<curl_off_t>(frame.size())) ++delivered;
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
        if (rc != CURLE_OK) {
            if (t.tooLarge)
                return transportFailure(rc, "the aggregator's answer is far larger than any reply frame");
            return transportFailure(rc, errorText);
        }
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);

        Attempt a;
        a.retryAfterSeconds = t.retryAfter;
        auto decoded = proto::decodeFrame(reinterpret_cast<const uint8_t*>(t.body.data()), t.body.size());
        proto::Message* message = std::get_if<proto::Message>(&decoded);
        const proto::ErrorReply* error = message ? std::get_if<proto::ErrorReply>(message) : nullptr;
        if (error) a.retryAfterSeconds = std::max(a.retryAfterSeconds, error->retryAfterSeconds);

        bool transient = status == 429 || status >= 500;
        if (transient) {
            a.result = Attempt::Result::Retry;
            std::string why = error ? error->message : "the aggregator answered HTTP " + std::to_string(status);
            a.error = makeError(status == 429 ? SyncErrorKind::Refused : SyncErrorKind::Unreachable, why,
                                error ? std::optional<proto::ErrorReply>(*error) : std::nullopt);
            return a;
        }
        if (!message) {
            a.result = Attempt::Result::Fail;
            a.error = makeError(SyncErrorKind::BadReply,
                                "The aggregator's answer (HTTP " + std::to_string(status) +
                                    ") is not one this app understands: " + std::get<proto::FrameFailure>(decoded).message);
            return a;
        }
        if (error || status != 200) {
            a.result = Attempt::Result::Fail;
            if (error)
                a.error = makeError(SyncErrorKind::Refused, error->message, *error);
            else
                a.error = makeError(SyncErrorKind::BadReply, "The aggregator answered HTTP " + std::to_string(status) +
                                                                 " with no explanation.");
            return a;
        }
        a.result = Attempt::Result::Reply;
        a.reply = std::move(*message);
        return a;
    }

    // Sleeps `d`, waking early when cancelled. False when cancelled.
    bool pause(std::chrono::milliseconds d) {
        auto until = std::chrono::steady_clock::now() + d;
        while (std::chrono::steady_clock::now() < until) {
            if (cancelled) return false;
            auto left = until - std::chrono::steady_clock::now();
            std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(20)));
        }
        return !cancelled;
    }

    std::chrono::milliseconds backoff(int attempt, uint32_t retryAfterSeconds) {
        // Exponential, capped, with jitter over the upper half so that many devices coming
        // back after an outage do not arrive in step.
        double base = static_cast<double>(retry.initialDelay.count()) * std::pow(2.0, attempt - 1);
        base = std::min(base, static_cast<double>(retry.maxDelay.count()));
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        auto delay = std::chrono::milliseconds(static_cast<int64_t>(base * jitter(rng)));
        // The server knows best when it can take us again; honour it, within maxDelay's reason.
        auto asked = std::chrono::milliseconds(int64_t{retryAfterSeconds} * 1000);
        return std::max(delay, std::min(asked, std::max(retry.maxDelay, retry.initialDelay)));
    }

    // Sends what `build` makes (built anew for each attempt, so sentAt and the signature are
    // fresh) until a reply of type Reply, a refusal, or the attempts run out.
    template <class Reply>
    SyncResult<Reply> request(const std::string& path, const std::function<proto::Message()>& build, SyncProgress p) {
        SyncError last = makeError(SyncErrorKind::Unreachable, "No attempt was made.");
        int attempts = std::max(1, retry.maxAttempts);
        for (int attempt = 1; attempt <= attempts; ++attempt) {
            if (cancelled) return makeError(SyncErrorKind::Cancelled, "Sync was cancelled.");
            p.attempt = attempt;
            report(p);
            Attempt a = postOnce(path, proto::encodeFrame(build()));
            if (a.result == Attempt::Result::Reply) {
                if (auto* reply = std::get_if<Reply>(&a.reply)) return std::move(*reply);
                return makeError(SyncErrorKind::BadReply, std::string("The aggregator answered with a ") +
                                                               proto::messageTypeName(proto::messageType(a.reply)) +
                                                               " where a " +
                                                               proto::messageTypeName(proto::messageType(proto::Message(Reply{}))) +
                                                               " was expected.");
            }
            if (a.result == Attempt::Result::Fail) return a.error;
            last = a.error;
            if (attempt == attempts) break;
            auto delay = backoff(attempt, a.retryAfterSeconds);
            SyncProgress waiting = p;
            waiting.stage = "waiting to retry (" + std::to_string((delay.count() + 999) / 1000) + " s)";
            report(waiting);
            if (!pause(delay)) return makeError(SyncErrorKind::Cancelled, "Sync was cancelled.");
        }
        if (last.kind == SyncErrorKind::Refused) return last;  // still rate limited: the server said so
        last.kind = SyncErrorKind::Unreachable;
        last.message += " (gave up after " + std::to_string(attempts) + " attempts)";
        return last;
    }
};

SyncClient::SyncClient(ServerAddress server, RetryPolicy retry) : m_impl(std::make_unique<Impl>()) {
    initCurlOnce();
    m_impl->server = std::move(server);
    m_impl->retry = retry;
}

SyncClient::~SyncClient() = default;

void SyncClient::setProgress(ProgressFn fn) {
    std::lock_guard lock(m_impl->progressMutex);
    m_impl->progress = std::move(fn);
}

void SyncClient::cancel() { m_impl->cancelled = true; }

uint64_t SyncClient::bytesSent() const { return m_impl->sent.load(); }
uint64_t SyncClient::bytesReceived() const { return m_impl->received.load(); }
uint64_t SyncClient::requestsDelivered() const { return m_impl->delivered.load(); }

SyncResult<std::string> SyncClient::fetchPublicKeyPin() {
    Impl& d = *m_impl;
    d.cancelled = false;
    if (!d.isHttps()) return makeError(SyncErrorKind::BadReply, "The address " + d.server.url + " is not https://: there is no key to pin.");
    std::lock_guard lock(d.curlMutex);
    // A handle of its own: certificate details are read from a fresh handshake, never a reused one.
    CurlHandle c;
    if (!c.h) return makeError(SyncErrorKind::Unreachable, "libcurl could not start");
    Transfer t;
    t.cancelled = &d.cancelled;
    std::string url = d.server.url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/v1/hello";
    curl_easy_setopt(c.h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c.h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYPEER, 0L);  // not trusted yet: this is how we learn the key
    curl_easy_setopt(c.h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(c.h, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(c.h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(d.retry.connectTimeout.count()));
    curl_easy_setopt(c.h, CURLOPT_TIMEOUT_MS, static_cast<long>(d.retry.connectTimeout.count()));
    curl_easy_setopt(c.h, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(c.h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c.h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c.h, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(c.h, CURLOPT_XFERINFODATA, &t);
    CURLcode rc = curl_easy_perform(c.h);
    d.countBytes(c.h);
    if (rc != CURLE_OK) return d.transportFailure(rc, nullptr).error;

    curl_certinfo* info = nullptr;
    if (curl_easy_getinfo(c.h, CURLINFO_CERTINFO, &info) != CURLE_OK || !info || info->num_of_certs < 1)
        return makeError(SyncErrorKind::BadReply, "The server at " + hostOf(d.server.url) + " showed no certificate.");
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

SyncResult<proto::EnrolReply> SyncClient::enrol(const std::string& code, const std::vector<uint8_t>& devicePublicKey,
                                                const std::string& deviceLabel, const proto::Signer& sign) {
    m_impl->cancelled = false;
    SyncProgress p;
    p.stage = "enrolling";
    return m_impl->request<proto::EnrolReply>(
        "/v1/enrol",
        [&] {
            proto::EnrolRequest r;
            r.code = code;
            r.devicePublicKey = devicePublicKey;
            r.deviceLabel = deviceLabel;
            r.sentAt = unixNow();
            r.signature = sign(proto::signingBytes(r));
            return proto::Message(std::move(r));
        },
        p);
}

SyncResult<std::vector<UploadOutcome>> SyncClient::upload(const std::vector<SealedEnvelope>& envelopes,
                                                          const std::vector<uint8_t>& devicePublicKey,
                                                          const proto::Signer& sign, size_t batchSize,
                                                          std::vector<UploadOutcome>* done) {
    Impl& d = *m_impl;
    d.cancelled = false;
    batchSize = std::clamp<size_t>(batchSize, 1, proto::kMaxBatchRecords);
    std::vector<UploadOutcome> outcomes;
    outcomes.reserve(envelopes.size());
    auto giveUp = [&](SyncError e) -> SyncResult<std::vector<UploadOutcome>> {
        if (done) *done = outcomes;
        return e;
    };
    for (size_t start = 0; start < envelopes.size(); start += batchSize) {
        size_t end = std::min(envelopes.size(), start + batchSize);
        std::vector<proto::WireEnvelope> wire;
        wire.reserve(end - start);
        for (size_t i = start; i < end; ++i) wire.push_back(proto::toWire(envelopes[i]));
        SyncProgress p;
        p.recordsDone = start;
        p.recordsTotal = envelopes.size();
        p.stage = "uploading";
        auto result = d.request<proto::UploadReply>(
            "/v1/upload",
            [&] {
                proto::UploadBatch b;
                b.devicePublicKey = devicePublicKey;
                b.sentAt = unixNow();
                b.envelopes = wire;
                b.signature = sign(proto::signingBytes(b));
                return proto::Message(std::move(b));
            },
            p);
        if (auto* e = std::get_if<SyncError>(&result)) return giveUp(*e);
        auto& reply = std::get<proto::UploadReply>(result);
        if (reply.acks.size() != end - start)
            return giveUp(makeError(SyncErrorKind::BadReply,
                                    "The aggregator acknowledged " + std::to_string(reply.acks.size()) + " of " +
                                        std::to_string(end - start) + " records in a batch; nothing was marked sent."));
        for (size_t i = start; i < end; ++i)
            outcomes.push_back(UploadOutcome{envelopes[i].recordId, envelopes[i].contentHash, std::move(reply.acks[i - start])});
        p.recordsDone = end;
        p.attempt = 1;
        p.stage = end == envelopes.size() ? "uploaded" : "uploading";
        d.report(p);
    }
    if (done) *done = outcomes;
    return outcomes;
}

SyncResult<proto::Updates> SyncClient::fetchUpdates(uint64_t cursor, const std::vector<uint8_t>& devicePublicKey,
                                                    const proto::Signer& sign) {
    m_impl->cancelled = false;
    SyncProgress p;
    p.stage = "fetching updates";
    return m_impl->request<proto::Updates>(
        "/v1/updates",
        [&] {
            proto::UpdatesRequest r;
            r.devicePublicKey = devicePublicKey;
            r.cursor = cursor;
            r.sentAt = unixNow();
            r.signature = sign(proto::signingBytes(r));
            return proto::Message(std::move(r));
        },
        p);
}

SyncResult<proto::Ok> SyncClient::uploadAttachment(const std::string& recordId, const std::string& attachmentId,
                                                   const std::string& mediaType, const std::vector<uint8_t>& sealedBytes,
                                                   const std::vector<uint8_t>& devicePublicKey,
                                                   const proto::Signer& sign) {
    Impl& d = *m_impl;
    d.cancelled = false;
    std::vector<std::vector<uint8_t>> hashes;
    for (size_t at = 0; at < sealedBytes.size(); at += proto::kChunkBytes) {
        size_t n = std::min(proto::kChunkBytes, sealedBytes.size() - at);
        hashes.push_back(proto::chunkHash(sealedBytes.data() + at, n));
    }
    SyncProgress p;
    p.recordsTotal = hashes.size();
    p.stage = "checking attachment";
    auto have = d.request<proto::ChunkQueryReply>(
        "/v1/chunks/query",
        [&] {
            proto::ChunkQuery q;
            q.devicePublicKey = devicePublicKey;
            q.sentAt = unixNow();
            q.hashes = hashes;
            q.signature = sign(proto::signingBytes(q));
            return proto::Message(std::move(q));
        },
        p);
    if (auto* e = std::get_if<SyncError>(&have)) return *e;
    const std::vector<bool>& present = std::get<proto::ChunkQueryReply>(have).have;
    if (present.size() != hashes.size())
        return makeError(SyncErrorKind::BadReply, "The aggregator's chunk list does not match the attachment's.");
    // Resume: only the chunks the aggregator lacks go up (a cut upload left the rest there).
    for (size_t i = 0; i < hashes.size(); ++i) {
        p.recordsDone = i;
        if (present[i]) continue;
        size_t at = i * proto::kChunkBytes;
        size_t n = std::min(proto::kChunkBytes, sealedBytes.size() - at);
        p.stage = "uploading attachment";
        auto put = d.request<proto::Ok>(
            "/v1/chunks",
            [&] {
                proto::ChunkUpload u;
                u.devicePublicKey = devicePublicKey;
                u.sentAt = unixNow();
                u.data.assign(sealedBytes.begin() + static_cast<ptrdiff_t>(at),
                              sealedBytes.begin() + static_cast<ptrdiff_t>(at + n));
                u.signature = sign(proto::signingBytes(u));
                return proto::Message(std::move(u));
            },
            p);
        if (auto* e = std::get_if<SyncError>(&put)) return *e;
    }
    p.recordsDone = hashes.size();
    p.stage = "committing attachment";
    return d.request<proto::Ok>(
        "/v1/attachments",
        [&] {
            proto::AttachmentCommit c;
            c.devicePublicKey = devicePublicKey;
            c.sentAt = unixNow();
            c.recordId = recordId;
            c.attachmentId = attachmentId;
            c.mediaType = mediaType;
            c.totalBytes = sealedBytes.size();
            c.chunkHashes = hashes;
            c.signature = sign(proto::signingBytes(c));
            return proto::Message(std::move(c));
        },
        p);
}

}  // namespace ck::sync
