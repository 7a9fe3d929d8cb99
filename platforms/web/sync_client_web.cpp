// sync::SyncClient's transport in the browser: the protocol half (sync/client/sync_client.cpp:
// frames, retries, batches, attachments, what each answer means) is the desktop's own file;
// only the bytes travel differently, as one synchronous XMLHttpRequest per request on the
// calling thread. Linked in place of sync/client/curl_transport.cpp (CMakeLists.txt here).
//
// Why a synchronous XHR written here, not emscripten's Fetch API: the app syncs and enrols on
// its task threads, which are Web Workers (-pthread), where a synchronous request is allowed
// and blocks only that worker, exactly as curl_easy_perform blocks the desktop's thread; the
// screens keep drawing on the main thread. emscripten 3.1.6's synchronous Fetch is the same
// XHR, but it never sets xhr.timeout in synchronous mode (Fetch.js: "only accessible in async
// XHRs", true of a Window, not of a worker), has no Retry-After, logs every failure to the
// console and pulls its IndexedDB cache code into the page: twenty lines of EM_JS do what is
// needed, with the request timeout honoured. Same request as libcurl's: POST, Content-Type
// application/x-clusterkit-frame, the frame as the body (the browser adds its own headers, and
// Origin when the aggregator is not the page's origin: `serve --allow-origin` answers CORS).
//
// Cancel: a synchronous XHR cannot be stopped from another thread. cancel() takes effect
// before the next request and during the waits between attempts (the shared retry loop); a
// request under way runs to its answer or its timeout (RetryPolicy::requestTimeout).
//
// The pin. A page cannot see the TLS certificate of its own connections, so the client cannot
// pin the aggregator's key as libcurl does. Instead, before its first request to an https://
// aggregator, it asks for the key (GET /v1/tls-key, the certificate's public key, DER) and
// checks its SHA-256 against the pin from the enrolment slip: a server that is not the slip's
// aggregator (a mistyped or stale address, another project's aggregator, one set up again with
// a new data folder) is refused with PinMismatch before anything is sent, at enrolment and at
// every sync. What it cannot prove is that the connection ends at the key's owner: which server
// the connection reaches is the browser's TLS check (a certificate it trusts, or one the
// officer accepted), and a man in the middle the browser accepted could relay the right key.
// What protects the visits then is the protocol: they are sealed to the data key from the
// enrolment reply, whose fingerprint the app shows to compare with the slip, and every request
// is signed by the device's key and checked by the aggregator, as on desktop.
#include <emscripten.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sync/client/transport.h"

// One synchronous request on this thread. Returns the HTTP status, or -1 (no connection: the
// reason in ck_xhr_error), -2 (no answer within timeoutMs), -3 (the browser says it is
// offline). The answer's body and Retry-After wait in this worker's global scope for the
// calls below (each thread has its own scope, so two threads never mix their answers).
// (No commas outside parentheses at the top level: EM_JS is a macro.)
EM_JS(int, ck_xhr_exchange, (const char* method, const char* url, const uint8_t* body, int bodySize, int timeoutMs), {
    var g = globalThis;
    g.ckXhrReply = new Uint8Array(0);
    g.ckXhrRetryAfter = "";
    g.ckXhrError = "";
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
        g.ckXhrError = "this device is offline";
        return -3;
    }
    var xhr = new XMLHttpRequest();
    try {
        xhr.open(UTF8ToString(method), UTF8ToString(url), false);
        xhr.responseType = "arraybuffer";
        xhr.timeout = timeoutMs;
        if (bodySize > 0) xhr.setRequestHeader("Content-Type", "application/x-clusterkit-frame");
        // A copy: the heap is a SharedArrayBuffer, which XHR does not send.
        xhr.send(bodySize > 0 ? HEAPU8.slice(body, body + bodySize) : null);
    } catch (e) {
        var timedOut = e && e.name === "TimeoutError";
        g.ckXhrError = timedOut ? "no answer within " + Math.round(timeoutMs / 1000) + " s"
                                : "the connection failed (" + ((e && e.name) || "error") + ")";
        return timedOut ? -2 : -1;
    }
    if (xhr.status === 0) {
        g.ckXhrError = "the connection failed";
        return -1;
    }
    g.ckXhrReply = new Uint8Array(xhr.response || new ArrayBuffer(0));
    g.ckXhrRetryAfter = xhr.getResponseHeader("Retry-After") || "";
    return xhr.status;
});

EM_JS(int, ck_xhr_reply_size, (), { return globalThis.ckXhrReply ? globalThis.ckXhrReply.length : 0; });
EM_JS(void, ck_xhr_reply_copy, (uint8_t* dst), { HEAPU8.set(globalThis.ckXhrReply, dst); });
EM_JS(void, ck_xhr_retry_after, (char* dst, int size), { stringToUTF8(globalThis.ckXhrRetryAfter || "", dst, size); });
EM_JS(void, ck_xhr_error, (char* dst, int size), { stringToUTF8(globalThis.ckXhrError || "", dst, size); });

namespace ck::sync::detail {

namespace {

struct Exchange {
    int status = 0;  // HTTP status, or ck_xhr_exchange's negative codes
    std::vector<uint8_t> body;
    uint32_t retryAfter = 0;
    std::string error;
    bool tooLarge = false;
};

Exchange exchange(const char* method, const std::string& url, const std::vector<uint8_t>& body,
                  std::chrono::milliseconds timeout) {
    Exchange x;
    x.status = ck_xhr_exchange(method, url.c_str(), body.data(), static_cast<int>(body.size()),
                               static_cast<int>(std::min<int64_t>(timeout.count(), INT32_MAX)));
    if (x.status <= 0) {
        char why[256] = {0};
        ck_xhr_error(why, sizeof why);
        x.error = why;
        return x;
    }
    const size_t size = static_cast<size_t>(ck_xhr_reply_size());
    if (size > kMaxReplyBytes) {
        x.tooLarge = true;
        return x;
    }
    x.body.resize(size);
    if (size) ck_xhr_reply_copy(x.body.data());
    char retryAfter[32] = {0};
    ck_xhr_retry_after(retryAfter, sizeof retryAfter);
    x.retryAfter = retryAfterSeconds(retryAfter);
    return x;
}

class XhrTransport final : public Transport {
public:
    explicit XhrTransport(ClientState& state) : m_state(state) {}

    Attempt post(const std::string& path, const std::vector<uint8_t>& frame) override {
        std::lock_guard lock(m_mutex);  // one request at a time, as on desktop
        const ServerAddress& server = m_state.server;
        if (server.url.rfind("https://", 0) == 0) {
            if (auto refused = checkKey()) return *refused;
        } else if (server.url.rfind("http://", 0) != 0) {
            return fail(makeError(SyncErrorKind::Unreachable,
                                  "The aggregator address " + server.url + " must start with https:// or http://."));
        }
        Exchange x = exchange("POST", endpointUrl(server.url, path), frame, m_state.retry.requestTimeout);
        if (x.status == -3) {
            // The browser knows it has no network: say so now rather than back off for a minute.
            Attempt a = unreachable(x.error);
            a.result = Attempt::Result::Fail;
            return a;
        }
        if (x.status <= 0 && !x.tooLarge) return unreachable(x.error);
        // An answer came back, so the whole body went out (XHR sends it before it reads).
        m_state.sent += frame.size();
        if (!frame.empty()) ++m_state.delivered;
        if (x.tooLarge) return unreachable("the aggregator's answer is far larger than any reply frame");
        m_state.received += x.body.size();
        return readAnswer(x.status, x.body.data(), x.body.size(), x.retryAfter);
    }

    SyncResult<std::string> fetchPublicKeyPin() override {
        std::lock_guard lock(m_mutex);
        const ServerAddress& server = m_state.server;
        if (server.url.rfind("https://", 0) != 0)
            return makeError(SyncErrorKind::BadReply, "The address " + server.url + " is not https://: there is no key to pin.");
        return serverPin();
    }

private:
    static Attempt fail(SyncError e) {
        Attempt a;
        a.result = Attempt::Result::Fail;
        a.error = std::move(e);
        return a;
    }

    Attempt unreachable(const std::string& why) const {
        Attempt a;
        a.result = Attempt::Result::Retry;
        a.error = makeError(SyncErrorKind::Unreachable, "Cannot reach the aggregator at " + hostOf(m_state.server.url) +
                                                            ": " + why + ". Check the network and try again later.");
        return a;
    }

    // The key the server shows, as a pin ("sha256//..."), not yet trusted.
    SyncResult<std::string> serverPin() {
        Exchange x = exchange("GET", endpointUrl(m_state.server.url, "/v1/tls-key"), {}, m_state.retry.connectTimeout);
        if (x.status <= 0 && !x.tooLarge) return unreachable(x.error).error;
        if (x.status != 200 || x.tooLarge || x.body.empty())
            return makeError(SyncErrorKind::BadReply, "The server at " + hostOf(m_state.server.url) +
                                                          " shows no aggregator key (HTTP " + std::to_string(x.status) +
                                                          "): it is not a ClusterKit aggregator, or an older one.");
        return proto::publicKeyPin(x.body);
    }

    // Once per client (a sync, an enrolment): the server's key against the slip's pin.
    // Nothing: go on. Otherwise the attempt's end (refused, or unreachable to retry).
    std::optional<Attempt> checkKey() {
        if (m_keyChecked) return std::nullopt;
        const ServerAddress& server = m_state.server;
        if (server.publicKeyPin.rfind("sha256//", 0) != 0)
            return fail(makeError(SyncErrorKind::PinMismatch, "No aggregator key is pinned for " + hostOf(server.url) +
                                                                  ": enrol this device again to learn the aggregator's key."));
        auto shown = serverPin();
        if (auto* e = std::get_if<SyncError>(&shown)) {
            Attempt a;
            a.result = e->kind == SyncErrorKind::Unreachable ? Attempt::Result::Retry : Attempt::Result::Fail;
            a.error = *e;
            return a;
        }
        if (std::get<std::string>(shown) != server.publicKeyPin)
            return fail(makeError(SyncErrorKind::PinMismatch,
                                  "The server at " + hostOf(server.url) +
                                      " is not the aggregator on the enrolment slip: its key (" +
                                      std::get<std::string>(shown) + ") does not match the slip's (" +
                                      server.publicKeyPin + "). Nothing was sent. Check the address, or ask the operator."));
        m_keyChecked = true;
        return std::nullopt;
    }

    ClientState& m_state;
    std::mutex m_mutex;
    bool m_keyChecked = false;
};

}  // namespace

std::unique_ptr<Transport> makeTransport(ClientState& state) { return std::make_unique<XhrTransport>(state); }

}  // namespace ck::sync::detail
