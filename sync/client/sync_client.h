#pragma once
// SyncClient: speaks the protocol to an aggregator over HTTPS (libcurl on desktop, XMLHttpRequest
// in the browser: transport.h). Used by the field app and the headless field client. It takes
// sealed envelopes and returns one acknowledgement per envelope; it knows nothing of the app's
// store.
//
// Trust: the aggregator's certificate is self-signed, so the client pins its public key
// (ServerAddress::publicKeyPin, "sha256//..."): a connection to anything else fails with
// PinMismatch before a byte of the request is sent. A browser cannot pin TLS: there the client
// fetches the aggregator's key (GET /v1/tls-key) before its first request and checks it
// against the same pin (platforms/web/sync_client_web.cpp says what that does and does not prove).
// Faults: a request that fails in transport (refused, cut, timed out, 5xx, 429) is retried
// with exponential backoff and jitter (RetryPolicy), honouring Retry-After; a refusal (4xx
// with an ErrorReply) is returned at once: retrying would not help.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/crypto/envelope.h"
#include "sync/protocol/messages.h"

namespace ck::sync {

struct ServerAddress {
    std::string url;           // "https://10.0.0.5:8443" or "http://127.0.0.1:8080"
    std::string publicKeyPin;  // required for https; ignored for http
};

struct RetryPolicy {
    int maxAttempts = 8;
    std::chrono::milliseconds initialDelay{500};
    std::chrono::milliseconds maxDelay{30'000};
    std::chrono::milliseconds connectTimeout{10'000};
    std::chrono::milliseconds requestTimeout{120'000};  // a whole request, upload included
};

enum class SyncErrorKind : uint8_t {
    Unreachable,  // every attempt failed in transport; the message says the last reason
    PinMismatch,  // the server's key is not the pinned one: do not send anything
    Refused,      // the aggregator answered with an ErrorReply (see `reply`)
    BadReply,     // the aggregator's answer is not a frame we understand
    Cancelled,
};
struct SyncError {
    SyncErrorKind kind = SyncErrorKind::Unreachable;
    std::string message;  // English, for the officer: what happened and what to do
    std::optional<proto::ErrorReply> reply;
};
template <class T>
using SyncResult = std::variant<T, SyncError>;

struct SyncProgress {
    size_t recordsDone = 0;
    size_t recordsTotal = 0;
    uint64_t bytesSent = 0;
    uint64_t bytesReceived = 0;
    int attempt = 1;    // of the current request
    std::string stage;  // "uploading", "waiting to retry (3 s)", "fetching updates", ...
};
using ProgressFn = std::function<void(const SyncProgress&)>;

struct UploadOutcome {
    std::string recordId;
    std::string contentHash;
    proto::RecordAck ack;
};

class SyncClient {
public:
    SyncClient(ServerAddress server, RetryPolicy retry = {});
    ~SyncClient();
    SyncClient(const SyncClient&) = delete;
    SyncClient& operator=(const SyncClient&) = delete;

    // Asks the server's pin without trusting it (for showing at enrolment): "sha256//...".
    SyncResult<std::string> fetchPublicKeyPin();

    SyncResult<proto::EnrolReply> enrol(const std::string& code, const std::vector<uint8_t>& devicePublicKey,
                                        const std::string& deviceLabel, const proto::Signer& sign);
    // Uploads in batches of `batchSize`; each batch is retried whole until acknowledged (the
    // aggregator is idempotent, so a batch that was stored before a cut comes back Duplicate).
    // Returns one outcome per envelope, in order. On an error after some batches went through,
    // `done` (when given) receives the outcomes so far so the caller can record them.
    SyncResult<std::vector<UploadOutcome>> upload(const std::vector<SealedEnvelope>& envelopes,
                                                  const std::vector<uint8_t>& devicePublicKey,
                                                  const proto::Signer& sign, size_t batchSize = 100,
                                                  std::vector<UploadOutcome>* done = nullptr);
    SyncResult<proto::Updates> fetchUpdates(uint64_t cursor, const std::vector<uint8_t>& devicePublicKey,
                                            const proto::Signer& sign);
    // Content-addressed chunks: asks what the server has, sends the rest, commits.
    SyncResult<proto::Ok> uploadAttachment(const std::string& recordId, const std::string& attachmentId,
                                           const std::string& mediaType, const std::vector<uint8_t>& sealedBytes,
                                           const std::vector<uint8_t>& devicePublicKey, const proto::Signer& sign);

    void setProgress(ProgressFn fn);
    void cancel();  // from any thread: the current request ends with Cancelled

    // Protocol bytes (request and reply bodies, i.e. frames) over this client's life, retries
    // included; HTTP headers and TLS are not counted (the benchmark measures those on the
    // TCP connection).
    uint64_t bytesSent() const;
    uint64_t bytesReceived() const;
    // Requests whose whole body went out on the connection (in any attempt), answered or not:
    // the field app marks visits "sent" only when their batch went out in full.
    uint64_t requestsDelivered() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ck::sync
