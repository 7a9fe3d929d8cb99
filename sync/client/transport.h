#pragma once
// Inside SyncClient: the line between the protocol (sync_client.cpp: frames, retries,
// batches, attachments, what an answer means) and the way bytes travel, which is all that
// differs per platform: libcurl with a pinned TLS key on desktop (curl_transport.cpp), a
// synchronous XMLHttpRequest on the sync thread's Web Worker in the browser
// (platforms/web/sync_client_web.cpp). Both send the same request (POST, the same headers,
// the same frame) and hand the answer to readAnswer(), so a phone and a laptop speak the
// same bytes and fail the same way. Not part of the public interface (sync_client.h).
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sync/client/sync_client.h"

namespace ck::sync::detail {

inline constexpr const char* kFrameType = "application/x-clusterkit-frame";
// A reply is a frame; anything far larger is not one of ours and is cut off.
inline constexpr size_t kMaxReplyBytes = proto::kMaxFrameBytes + 64 * 1024;

// What a client shares with its transport: where to go, how long to wait, whether to stop,
// and the byte counters the app and the benchmark read.
struct ClientState {
    ServerAddress server;
    RetryPolicy retry;
    std::atomic<bool> cancelled{false};
    std::atomic<uint64_t> sent{0}, received{0}, delivered{0};
};

// One HTTP exchange as the retry loop sees it.
struct Attempt {
    enum class Result { Reply, Retry, Fail } result = Result::Retry;
    proto::Message reply;            // Result::Reply
    SyncError error;                 // Retry: the reason if it was the last; Fail: the answer
    uint32_t retryAfterSeconds = 0;  // from the Retry-After header or the ErrorReply
};

SyncError makeError(SyncErrorKind kind, std::string message, std::optional<proto::ErrorReply> reply = std::nullopt);
// "10.0.0.5:8443" of "https://10.0.0.5:8443/...": how the officer is told which server.
std::string hostOf(const std::string& url);
// The server's address with `path` ("/v1/upload") after it, whatever slashes it ended with.
std::string endpointUrl(const std::string& serverUrl, const std::string& path);
// A Retry-After header's value in seconds (capped at a day); 0 when it is not a number.
uint32_t retryAfterSeconds(std::string_view value);
// What an answer that arrived means: a reply frame, a refusal (ErrorReply), a transient
// failure to retry (429, 5xx), or an answer that is not ours.
Attempt readAnswer(long status, const uint8_t* body, size_t size, uint32_t retryAfter);

class Transport {
public:
    virtual ~Transport() = default;
    // POSTs `frame` to `path` once and counts the bytes (state.sent/received/delivered).
    virtual Attempt post(const std::string& path, const std::vector<uint8_t>& frame) = 0;
    // The aggregator's key pin as the server shows it, not yet trusted (shown at enrolment).
    virtual SyncResult<std::string> fetchPublicKeyPin() = 0;
};

// The platform's transport, defined in its file (curl_transport.cpp, or the web build's).
std::unique_ptr<Transport> makeTransport(ClientState& state);

}  // namespace ck::sync::detail
