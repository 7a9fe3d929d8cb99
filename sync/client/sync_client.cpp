// SyncClient's protocol half, the same on every platform: frames built and signed afresh for
// each attempt, the retry loop with backoff, batches, attachments in chunks, and what each
// answer means (readAnswer). How the bytes travel is the platform's Transport (transport.h):
// libcurl on desktop (curl_transport.cpp), XMLHttpRequest in the browser
// (platforms/web/sync_client_web.cpp).
#include "sync/client/sync_client.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <random>
#include <thread>

#include "sync/client/transport.h"

namespace ck::sync {

namespace detail {

SyncError makeError(SyncErrorKind kind, std::string message, std::optional<proto::ErrorReply> reply) {
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

std::string endpointUrl(const std::string& serverUrl, const std::string& path) {
    std::string url = serverUrl;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url + path;
}

uint32_t retryAfterSeconds(std::string_view value) {
    std::string text(value);
    unsigned long v = std::strtoul(text.c_str(), nullptr, 10);
    return static_cast<uint32_t>(std::min<unsigned long>(v, 24 * 3600));
}

Attempt readAnswer(long status, const uint8_t* body, size_t size, uint32_t retryAfter) {
    Attempt a;
    a.retryAfterSeconds = retryAfter;
    auto decoded = proto::decodeFrame(body, size);
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

}  // namespace detail

namespace {

using detail::Attempt;
using detail::makeError;

int64_t unixNow() { return static_cast<int64_t>(std::time(nullptr)); }

}  // namespace

struct SyncClient::Impl {
    detail::ClientState state;
    std::unique_ptr<detail::Transport> transport;
    ProgressFn progress;
    std::mutex progressMutex;
    std::mt19937_64 rng{std::random_device{}()};
    RetryPolicy& retry = state.retry;
    std::atomic<bool>& cancelled = state.cancelled;

    void report(SyncProgress p) {
        ProgressFn fn;
        {
            std::lock_guard lock(progressMutex);
            fn = progress;
        }
        p.bytesSent = state.sent.load();
        p.bytesReceived = state.received.load();
        if (fn) fn(p);
    }

    Attempt postOnce(const std::string& path, const std::vector<uint8_t>& frame) { return transport->post(path, frame); }

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
    m_impl->state.server = std::move(server);
    m_impl->state.retry = retry;
    m_impl->transport = detail::makeTransport(m_impl->state);
}

SyncClient::~SyncClient() = default;

void SyncClient::setProgress(ProgressFn fn) {
    std::lock_guard lock(m_impl->progressMutex);
    m_impl->progress = std::move(fn);
}

void SyncClient::cancel() { m_impl->cancelled = true; }

uint64_t SyncClient::bytesSent() const { return m_impl->state.sent.load(); }
uint64_t SyncClient::bytesReceived() const { return m_impl->state.received.load(); }
uint64_t SyncClient::requestsDelivered() const { return m_impl->state.delivered.load(); }

SyncResult<std::string> SyncClient::fetchPublicKeyPin() {
    m_impl->cancelled = false;
    return m_impl->transport->fetchPublicKeyPin();
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
