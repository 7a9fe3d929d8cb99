#include "sync/aggregator/server.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <iostream>
#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>

// Debian's libcpp-httplib is built with CPPHTTPLIB_OPENSSL_SUPPORT; its pkg-config Cflags
// define it (and the zlib/brotli switches), so this header matches the compiled library.
// httplib parses and routes requests; HttpFront owns the sockets (see http_front.h for why).
#include <httplib.h>

#include "report/html_report.h"
#include "sync/aggregator/http_front.h"
#include "sync/aggregator/report/baseline_service.h"
#include "sync/aggregator/report/report_tokens.h"
#include "sync/aggregator/web_app_files.h"
#include "tools/terminal/terminal_text.h"

namespace ck::agg {

namespace {

constexpr const char* kFrameType = "application/x-clusterkit-frame";
using SteadyClock = std::chrono::steady_clock;

bool isLoopback(const std::string& address) {
    if (address == "localhost" || address == "::1") return true;
    in_addr a{};
    if (inet_pton(AF_INET, address.c_str(), &a) == 1) return (ntohl(a.s_addr) >> 24) == 127;
    return false;
}

// Token buckets keyed by device id or client address. A bucket refills at `rate` tokens a
// second up to `burst`; an empty bucket tells how long until the next token.
class RateLimiter {
public:
    RateLimiter(double rate, double burst) : m_rate(rate > 0 ? rate : 1e-9), m_burst(burst >= 1 ? burst : 1) {}

    // 0: allowed (a token taken); otherwise the whole seconds to wait.
    uint32_t take(const std::string& key) {
        std::lock_guard lock(m_mutex);
        auto now = SteadyClock::now();
        if (m_buckets.size() > kMaxBuckets) prune(now);
        auto [it, fresh] = m_buckets.try_emplace(key, Bucket{m_burst, now});
        Bucket& b = it->second;
        if (!fresh) {
            double elapsed = std::chrono::duration<double>(now - b.last).count();
            b.tokens = std::min(m_burst, b.tokens + elapsed * m_rate);
            b.last = now;
        }
        if (b.tokens >= 1) {
            b.tokens -= 1;
            return 0;
        }
        return static_cast<uint32_t>(std::max(1.0, std::ceil((1 - b.tokens) / m_rate)));
    }

private:
    struct Bucket {
        double tokens;
        SteadyClock::time_point last;
    };
    static constexpr size_t kMaxBuckets = 100'000;  // bounds memory against address churn
    // A bucket that has refilled is the same as no bucket: forget those.
    void prune(SteadyClock::time_point now) {
        for (auto it = m_buckets.begin(); it != m_buckets.end();) {
            double elapsed = std::chrono::duration<double>(now - it->second.last).count();
            if (it->second.tokens + elapsed * m_rate >= m_burst) it = m_buckets.erase(it);
            else ++it;
        }
    }
    double m_rate, m_burst;
    std::mutex m_mutex;
    std::unordered_map<std::string, Bucket> m_buckets;
};

// What a handler learned about its request, for the one log line the logger writes after
// the response (httplib runs handler and logger on the same worker thread).
struct RequestNote {
    std::string deviceId;
    size_t records = 0;
    size_t bodyBytes = 0;
    std::string errorCode;
};
thread_local RequestNote t_note;

std::string utcNow() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

void sendFrame(httplib::Response& res, int status, const proto::Message& message) {
    std::vector<uint8_t> bytes = proto::encodeFrame(message);
    res.status = status;
    res.set_content(std::string(bytes.begin(), bytes.end()), kFrameType);
}

void sendError(httplib::Response& res, const proto::ErrorReply& error) {
    t_note.errorCode = proto::errorCodeName(error.code);
    if (error.retryAfterSeconds > 0) res.set_header("Retry-After", std::to_string(error.retryAfterSeconds));
    sendFrame(res, proto::httpStatus(error.code), error);
}

proto::ErrorReply makeError(proto::ErrorCode code, std::string message, uint32_t retryAfter = 0) {
    proto::ErrorReply e;
    e.code = code;
    e.message = std::move(message);
    e.retryAfterSeconds = retryAfter;
    return e;
}

// The device key and signature of a signed request, to check before rate limiting by device.
struct Signed {
    const std::vector<uint8_t>* publicKey = nullptr;
    const std::vector<uint8_t>* signature = nullptr;
    std::vector<uint8_t> bytes;
    int64_t sentAt = 0;
};
template <class M>
Signed signedPart(const M& m) {
    return Signed{&m.devicePublicKey, &m.signature, proto::signingBytes(m), m.sentAt};
}

// A header's value without surrounding blanks, in lower case (HTTP tokens are case-blind).
std::string token(std::string v) {
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.pop_back();
    size_t start = 0;
    while (start < v.size() && (v[start] == ' ' || v[start] == '\t')) ++start;
    v.erase(0, start);
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v;
}

// Printable ASCII only, for a header value quoted back in a refusal.
std::string shown(const std::string& v) {
    std::string out;
    for (char c : v.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

size_t recordsIn(const proto::Message& m) {
    if (auto* b = std::get_if<proto::UploadBatch>(&m)) return b->envelopes.size();
    return 0;
}

}  // namespace

struct Server::Impl {
    Impl(IngestService& ingest, ServerOptions options)
        : ingest(ingest),
          options(std::move(options)),
          deviceLimiter(this->options.ratePerSecond, this->options.rateBurst),
          addressLimiter(this->options.ratePerSecond, this->options.rateBurst) {
        if (!this->options.log) this->options.log = [](const std::string& line) { std::cerr << line << std::endl; };
    }

    IngestService& ingest;
    ServerOptions options;
    RateLimiter deviceLimiter;
    RateLimiter addressLimiter;  // requests no device key vouches for: enrolment, bad signatures
    std::unique_ptr<RoutedServer> http;
    std::unique_ptr<HttpFront> front;
    int boundPort = 0;
    std::mutex logMutex;

    void log(const std::string& line) {
        std::lock_guard lock(logMutex);
        try {
            options.log(line);
        } catch (...) {
            // A failing log sink must not take the request down with it.
        }
    }

    // Rate limit: by device when the request carries a good, fresh signature of an enrolled,
    // unrevoked device; by client address otherwise. A stale request (an old signed batch
    // copied off a stick and replayed) is charged to whoever sends it, never to the device
    // that signed it, so a replay cannot lock the real device out. Returns the refusal, if any.
    std::optional<proto::ErrorReply> admit(const httplib::Request& req, const Signed* sig) {
        const int64_t now = options.clock ? options.clock() : systemClock();
        const bool fresh = sig && sig->sentAt >= now - proto::kMaxClockSkewSeconds &&
                           sig->sentAt <= now + proto::kMaxClockSkewSeconds;
        if (fresh && proto::verifySignature(sig->bytes, *sig->signature, *sig->publicKey)) {
            if (std::optional<DeviceRow> device = ingest.deviceFor(*sig->publicKey)) {
                t_note.deviceId = device->deviceId;
                if (uint32_t wait = deviceLimiter.take(device->deviceId))
                    return makeError(proto::ErrorCode::RateLimited,
                                     "This device is sending too many requests; it will try again in " +
                                         std::to_string(wait) + " s.",
                                     wait);
                return std::nullopt;
            }
        }
        if (uint32_t wait = addressLimiter.take(req.remote_addr))
            return makeError(proto::ErrorCode::RateLimited,
                             "Too many requests from this address; try again in " + std::to_string(wait) + " s.", wait);
        return std::nullopt;
    }

    template <class Request, class Call>
    void serve(const httplib::Request& req, const std::string& body, httplib::Response& res,
               proto::MessageType expected, Call call) {
        auto decoded = proto::decodeFrame(reinterpret_cast<const uint8_t*>(body.data()), body.size());
        if (auto* failure = std::get_if<proto::FrameFailure>(&decoded)) {
            if (std::optional<proto::ErrorReply> refused = admit(req, nullptr)) return sendError(res, *refused);
            return sendError(res, proto::errorFor(*failure));
        }
        proto::Message& message = std::get<proto::Message>(decoded);
        auto* request = std::get_if<Request>(&message);
        if (!request) {
            if (std::optional<proto::ErrorReply> refused = admit(req, nullptr)) return sendError(res, *refused);
            return sendError(res, makeError(proto::ErrorCode::MalformedBody,
                                            std::string("Expected a ") + proto::messageTypeName(expected) + " at " +
                                                req.path + ", got a " +
                                                proto::messageTypeName(proto::messageType(message)) + "."));
        }
        t_note.records = recordsIn(message);
        try {
            std::optional<proto::ErrorReply> refused;
            if constexpr (std::is_same_v<Request, proto::EnrolRequest>) {
                refused = admit(req, nullptr);
            } else {
                Signed sig = signedPart(*request);
                refused = admit(req, &sig);
            }
            if (refused) return sendError(res, *refused);
            auto answer = call(*request);
            if (auto* error = std::get_if<proto::ErrorReply>(&answer)) return sendError(res, *error);
            std::visit(
                [&](auto& reply) {
                    if constexpr (!std::is_same_v<std::decay_t<decltype(reply)>, proto::ErrorReply>)
                        sendFrame(res, 200, proto::Message(std::move(reply)));
                },
                answer);
        } catch (const StorageFailure& e) {
            // The operator reads why in the log; the device only needs to know to come back.
            log(utcNow() + " storage failure: " + e.what());
            sendError(res, makeError(proto::ErrorCode::ServerBusy,
                                     "The aggregator cannot reach its storage just now; try again later.", 30));
        } catch (const std::exception& e) {
            log(utcNow() + " internal error: " + e.what());
            sendError(res, makeError(proto::ErrorCode::ServerError,
                                     "The aggregator failed on this request; tell its operator.", 0));
        }
    }

    static void sendText(httplib::Response& res, int status, const std::string& line) {
        res.status = status;
        res.set_content(line + "\n", "text/plain; charset=utf-8");
    }

    // GET /v1/report: only a report token opens it. A device signature is never looked at
    // here, and the request is charged to its address's bucket like any unsigned request.
    void serveReport(const httplib::Request& req, httplib::Response& res) {
        if (std::optional<proto::ErrorReply> refused = admit(req, nullptr)) {
            res.set_header("Retry-After", std::to_string(refused->retryAfterSeconds));
            return sendText(res, 429, refused->message);
        }
        if (!options.reportTokens) return sendText(res, 404, "this aggregator does not serve the baseline report");
        std::string token;
        const std::string auth = req.get_header_value("Authorization");
        if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
            token = auth.substr(7);
            while (!token.empty() && token.back() == ' ') token.pop_back();
        }
        TokenCheck check = options.reportTokens->check(token);
        if (check != TokenCheck::Good) {
            res.set_header("WWW-Authenticate", "Bearer realm=\"clusterkit-report\"");
            t_note.errorCode = "unauthorized";
            return sendText(res, 401, tokenCheckReason(check));
        }
        if (!options.baseline)
            return sendText(res, 503,
                            "no baseline report yet: publish the survey template, then restart `ck-aggregator serve`");
        try {
            std::string scopeText = req.has_param("scope") ? req.get_param_value("scope") : "nation";
            std::string error;
            std::optional<report::ReportScope> scope = parseReportScope(scopeText, &error);
            if (!scope) {
                std::string known;
                for (const auto& k : options.baseline->knownScopes()) known += (known.empty() ? "" : ", ") + k;
                t_note.errorCode = "bad_scope";
                return sendText(res, 400, error + "; known scopes: " + known);
            }
            report::ReportRequest request;
            request.scope = *scope;
            if (req.has_param("language")) request.language = req.get_param_value("language");
            report::BaselineReport built;
            try {
                built = options.baseline->report(request);
            } catch (const std::invalid_argument& e) {
                t_note.errorCode = "bad_scope";
                return sendText(res, 400, e.what());
            }
            res.status = 200;
            res.set_header("Cache-Control", "no-store");
            res.set_content(report::renderHtml(built), "text/html; charset=utf-8");
        } catch (const BaselineUnavailable& e) {
            t_note.errorCode = "unavailable";
            sendText(res, 503, e.what());
        } catch (const StorageFailure& e) {
            log(utcNow() + " storage failure: " + e.what());
            res.set_header("Retry-After", "30");
            sendText(res, 503, "The aggregator cannot reach its storage just now; try again later.");
        } catch (const std::exception& e) {
            log(utcNow() + " internal error building the report: " + e.what());
            sendText(res, 500, "The aggregator failed to build the report; tell its operator.");
        }
    }

    // A protocol endpoint: the body read through a receiver that counts bytes as they arrive
    // (after any decoding httplib would do), so no request holds more than maxBodyBytes
    // whatever its framing; then decoded and answered by serve().
    template <class Request, class Call>
    void postFrame(const std::string& path, proto::MessageType expected, Call call) {
        http->Post(path, [this, expected, call](const httplib::Request& req, httplib::Response& res,
                                                const httplib::ContentReader& reader) {
            RequestControl* control = currentRequest();
            std::string body;
            bool tooLarge = false;
            bool read = reader([&](const char* data, size_t n) {
                if (body.size() + n > options.maxBodyBytes) {
                    tooLarge = true;
                    return false;
                }
                body.append(data, n);
                return true;
            });
            if (!read || tooLarge) {
                res.set_header("Connection", "close");
                if (control) control->closeAfter = true;
                if (tooLarge)
                    return sendError(res, makeError(proto::ErrorCode::BodyTooLarge,
                                                    "The request is larger than this aggregator accepts (" +
                                                        std::to_string(options.maxBodyBytes) +
                                                        " bytes); send smaller batches."));
                return sendError(res, makeError(proto::ErrorCode::MalformedBody,
                                                "The request body did not arrive whole (cut off, or too slow)."));
            }
            if (control) control->bodyComplete = true;
            t_note.bodyBytes = body.size();
            serve<Request>(req, body, res, expected, call);
        });
    }

    // The field app's web build: looked up in the table read at start (web_app_files.h), sent
    // in the form the browser accepts, revalidated by ETag (the app's service worker keeps it
    // offline; the server never lets a stale copy be used without asking).
    void serveWebApp(const httplib::Request& req, httplib::Response& res) {
        const WebAppFile* file = options.webApp->find(req.matches[1].str());
        if (!file) {
            t_note.errorCode = "no_such_file";
            return sendText(res, 404, "No such file in the field app.");
        }
        res.set_header("ETag", file->etag);
        res.set_header("Cache-Control", "no-cache");
        res.set_header("Vary", "Accept-Encoding");
        res.set_header("X-Content-Type-Options", "nosniff");
        res.set_header("Referrer-Policy", "no-referrer");
        // Cross-origin isolation: the app's threads need SharedArrayBuffer, which a browser
        // gives only to a page served with both of the first two.
        res.set_header("Cross-Origin-Opener-Policy", "same-origin");
        res.set_header("Cross-Origin-Embedder-Policy", "require-corp");
        res.set_header("Cross-Origin-Resource-Policy", "same-origin");
        // The app runs its own code only: no inline script, no eval; WebAssembly compiles.
        res.set_header("Content-Security-Policy",
                       "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
                       "img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
                       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
        for (size_t i = 0, n = req.get_header_value_count("If-None-Match"); i < n; ++i) {
            const std::string& tags = req.get_header_value("If-None-Match", i);
            if (tags.find(file->etag) != std::string::npos || tags == "*") {
                res.status = 304;
                return;
            }
        }
        AcceptedEncodings accepted = parseAcceptEncoding(req.get_header_value("Accept-Encoding"));
        const std::string* body = &file->body;
        if (accepted.brotli && !file->brotli.empty()) {
            body = &file->brotli;
            res.set_header("Content-Encoding", "br");
        } else if (accepted.gzip && !file->gzip.empty()) {
            body = &file->gzip;
            res.set_header("Content-Encoding", "gzip");
        }
        res.status = 200;
        // A provider with a known length: httplib sends it as it is (it compresses only
        // bodies set whole or chunked providers), so no request costs a compression here.
        res.set_content_provider(body->size(), file->contentType,
                                 [body](size_t offset, size_t length, httplib::DataSink& sink) {
                                     return sink.write(body->data() + offset, length);
                                 });
    }

    // CORS for the protocol, for pages of the origins the operator named. Returns true when
    // the request was a preflight and has been answered.
    bool answerCrossOrigin(const httplib::Request& req, httplib::Response& res) {
        if (options.allowedOrigins.empty() || req.path.rfind("/v1/", 0) != 0 || !req.has_header("Origin"))
            return false;
        const std::string& origin = req.get_header_value("Origin");
        const bool allowed = std::find(options.allowedOrigins.begin(), options.allowedOrigins.end(), origin) !=
                             options.allowedOrigins.end();
        res.set_header("Vary", "Origin");
        if (allowed) {
            res.set_header("Access-Control-Allow-Origin", origin);
            res.set_header("Access-Control-Expose-Headers", "Retry-After");
        }
        if (req.method != "OPTIONS") return false;
        if (!allowed) {
            t_note.errorCode = "origin_not_allowed";
            sendText(res, 403, "Pages from " + terminalSafe(origin) +
                                   " may not call this aggregator; its operator can allow them with --allow-origin.");
            return true;
        }
        res.status = 204;
        res.set_header("Access-Control-Allow-Methods", "GET, POST");
        res.set_header("Access-Control-Allow-Headers", "Content-Type");
        res.set_header("Access-Control-Max-Age", "600");
        return true;
    }

    void routes() {
        using proto::MessageType;
        httplib::Server& s = *http;
        if (options.webApp) {
            auto toApp = [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/app/", 302); };
            s.Get("/", toApp);
            s.Get("/app", toApp);
            s.Get(R"(/app/(.*))", [this](const httplib::Request& req, httplib::Response& res) { serveWebApp(req, res); });
        }
        s.Get("/v1/hello", [this](const httplib::Request&, httplib::Response& res) {
            res.set_content("clusterkit-aggregator protocol=" + std::to_string(proto::kProtocolVersion) +
                                " name=" + ingest.options().aggregatorName + "\n",
                            "text/plain");
        });
        s.Get("/v1/tls-key", [this](const httplib::Request&, httplib::Response& res) {
            if (options.tlsPublicKey.empty()) {
                t_note.errorCode = "no_tls_key";
                return sendText(res, 404, "This aggregator serves plain HTTP: it has no TLS key to show.");
            }
            // The same bytes the pin hashes; anyone may ask, as anyone may open a TLS connection.
            res.set_header("Cache-Control", "no-store");
            res.set_content(std::string(options.tlsPublicKey.begin(), options.tlsPublicKey.end()), "application/octet-stream");
        });
        s.Get("/v1/report", [this](const httplib::Request& req, httplib::Response& res) { serveReport(req, res); });
        postFrame<proto::EnrolRequest>("/v1/enrol", MessageType::EnrolRequest,
                                       [this](const proto::EnrolRequest& r) { return ingest.enrol(r); });
        postFrame<proto::UploadBatch>("/v1/upload", MessageType::UploadBatch,
                                      [this](const proto::UploadBatch& r) { return ingest.upload(r); });
        postFrame<proto::UpdatesRequest>("/v1/updates", MessageType::UpdatesRequest,
                                         [this](const proto::UpdatesRequest& r) { return ingest.updates(r); });
        postFrame<proto::ChunkQuery>("/v1/chunks/query", MessageType::ChunkQuery,
                                     [this](const proto::ChunkQuery& r) { return ingest.queryChunks(r); });
        postFrame<proto::ChunkUpload>("/v1/chunks", MessageType::ChunkUpload,
                                      [this](const proto::ChunkUpload& r) { return ingest.putChunk(r); });
        postFrame<proto::AttachmentCommit>("/v1/attachments", MessageType::AttachmentCommit,
                                           [this](const proto::AttachmentCommit& r) { return ingest.commitAttachment(r); });

        // Before the body is read. What the protocol never sends is refused here, with the
        // connection closed so the body is never taken in: a content-coding (frames are
        // compressed inside; a gzip or brotli body is how a few hundred bytes become a
        // gigabyte), a transfer-coding other than chunked, both chunked and a length (the
        // request smuggling shape), and a declared length above the limit. Chunked bodies are
        // capped while read (postFrame and the front's raw byte cap).
        s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            t_note = RequestNote{};
            RequestControl* control = currentRequest();
            if (answerCrossOrigin(req, res)) return httplib::Server::HandlerResponse::Handled;
            auto refuse = [&](int status, proto::ErrorCode code, std::string message) {
                res.set_header("Connection", "close");
                if (control) control->closeAfter = true;
                sendError(res, makeError(code, std::move(message)));
                res.status = status;
                return httplib::Server::HandlerResponse::Handled;
            };
            for (size_t i = 0, n = req.get_header_value_count("Content-Encoding"); i < n; ++i) {
                std::string coding = token(req.get_header_value("Content-Encoding", i));
                if (!coding.empty() && coding != "identity")
                    return refuse(415, proto::ErrorCode::MalformedBody,
                                  "This aggregator takes no Content-Encoding (got '" + shown(coding) +
                                      "'): send the frame as it is; it is compressed inside.");
            }
            const bool hasLength = req.has_header("Content-Length");
            const size_t codings = req.get_header_value_count("Transfer-Encoding");
            bool chunked = false;
            for (size_t i = 0; i < codings; ++i) {
                std::string coding = token(req.get_header_value("Transfer-Encoding", i));
                if (coding != "chunked" || chunked)
                    return refuse(501, proto::ErrorCode::MalformedBody,
                                  "This aggregator takes no Transfer-Encoding but chunked (got '" + shown(coding) +
                                      "'); send the frame with its Content-Length.");
                chunked = true;
            }
            if (chunked && hasLength)
                return refuse(400, proto::ErrorCode::MalformedBody,
                              "The request has both Content-Length and chunked Transfer-Encoding; send one.");
            unsigned long long length = 0;
            if (hasLength) {
                const std::string& declared = req.get_header_value("Content-Length");
                char* end = nullptr;
                length = std::strtoull(declared.c_str(), &end, 10);
                if (declared.empty() || *end != '\0' || declared[0] == '-' || req.get_header_value_count("Content-Length") > 1)
                    return refuse(400, proto::ErrorCode::MalformedBody, "The request's Content-Length is not one number.");
                if (length > options.maxBodyBytes)
                    return refuse(413, proto::ErrorCode::BodyTooLarge,
                                  "The request is larger than this aggregator accepts (" +
                                      std::to_string(options.maxBodyBytes) + " bytes); send smaller batches.");
            }
            const bool hasBody = chunked || length > 0;
            if (control && control->framingRefusal == 413)
                return refuse(413, proto::ErrorCode::BodyTooLarge,
                              "The request is larger than this aggregator accepts (" +
                                  std::to_string(options.maxBodyBytes) + " bytes); send smaller batches.");
            if (control && control->framingRefusal != 0)
                return refuse(400, proto::ErrorCode::MalformedBody,
                              "The request's chunked body is broken; send the frame with its Content-Length.");
            if (control && !hasBody) control->bodyComplete = true;
            if (req.method == "POST" && !chunked && !hasLength)
                return refuse(411, proto::ErrorCode::MalformedBody,
                              "The request has no Content-Length; send the frame with its length.");
            if (req.method != "POST" && hasBody)
                return refuse(400, proto::ErrorCode::MalformedBody, "Only POST requests carry a body here.");
            return httplib::Server::HandlerResponse::Unhandled;
        });
        // Anything that ends in an error status without a frame of ours (no such endpoint,
        // a body httplib refused) still answers with an ErrorReply frame.
        s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
            if (!res.body.empty()) return httplib::Server::HandlerResponse::Handled;
            proto::ErrorCode code = res.status == 404   ? proto::ErrorCode::NotFound
                                    : res.status == 413 ? proto::ErrorCode::BodyTooLarge
                                    : res.status < 500  ? proto::ErrorCode::MalformedBody
                                                        : proto::ErrorCode::ServerError;
            int status = res.status;
            sendError(res, makeError(code, res.status == 404 ? "No such endpoint on this aggregator."
                                                             : "The request could not be read (HTTP " +
                                                                   std::to_string(res.status) + ")."));
            res.status = status;
            return httplib::Server::HandlerResponse::Handled;
        }));
        s.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
            sendError(res, makeError(proto::ErrorCode::ServerError, "The aggregator failed on this request; tell its operator."));
        });
        // One line per request: no key, code or record content ever reaches it. Written by the
        // post-routing hook, which httplib runs just before it sends the response (its logger
        // runs after), so the line is there by the time the client has its answer.
        s.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
            // The method and path are the sender's text: escaped, so a log read on a terminal obeys none of it.
            std::string line = utcNow() + " " + req.remote_addr + " " + terminalSafe(req.method) + " " +
                               terminalSafe(req.path) + " " +
                               std::to_string(res.status) + (t_note.errorCode.empty() ? "" : " " + t_note.errorCode) +
                               " device=" + (t_note.deviceId.empty() ? "-" : t_note.deviceId) +
                               " records=" + std::to_string(t_note.records) + " in=" + std::to_string(std::max(req.body.size(), t_note.bodyBytes)) +
                               " out=" + std::to_string(res.body.size());
            log(line);
            t_note = RequestNote{};  // a request that fails before routing must not inherit this one's
        });
    }
};

Server::Server(IngestService& ingest, ServerOptions options)
    : m_impl(std::make_unique<Impl>(ingest, std::move(options))) {}

Server::~Server() { stop(); }

void Server::start() {
    Impl& d = *m_impl;
    if (d.http) throw std::logic_error("Server::start() called twice");
    const ServerOptions& o = d.options;
    if (!o.tls && !o.allowPlainHttp && !isLoopback(o.address))
        throw std::runtime_error("refusing plain HTTP on " + o.address +
                                 ": devices' records would cross the network unencrypted at the transport; "
                                 "serve HTTPS, listen on 127.0.0.1, or pass --allow-plain-http");
    if (o.tls) {
        for (const auto& p : {o.certificateFile, o.keyFile})
            if (p.empty() || !std::filesystem::exists(p))
                throw std::runtime_error("cannot read the TLS certificate or key " + p.string() +
                                         ": run `ck-aggregator init` or check the data folder");
    }
    d.http = std::make_unique<RoutedServer>();
    d.http->set_payload_max_length(o.maxBodyBytes);
    d.http->set_keep_alive_timeout(std::max<time_t>(1, static_cast<time_t>(o.limits.idleTimeout.count() / 1000)));
    d.http->set_keep_alive_max_count(5);  // as the front renews them (http_front.cpp)
    d.routes();
    FrontLimits limits;
    static_cast<ConnectionLimits&>(limits) = o.limits;
    limits.workers = static_cast<size_t>(std::max(1, o.threads));
    // Chunk-size lines and their CRLFs cost bytes too; twice the body leaves room for any
    // sane chunking and still bounds what one request can make the server read.
    limits.maxBodyBytes = o.maxBodyBytes;
    limits.rawBodyCap = 2 * o.maxBodyBytes + 64 * 1024;
    // Bodies are read whole before a worker takes them; these bound the memory that costs.
    limits.bodyBudgetPerAddress = limits.rawBodyCap;
    limits.bodyBudget = std::max<size_t>(64u * 1024 * 1024, 4 * limits.rawBodyCap);
    try {
        d.front = std::make_unique<HttpFront>(*d.http, limits, o.tls ? o.certificateFile : std::filesystem::path(),
                                              o.tls ? o.keyFile : std::filesystem::path(),
                                              [&d](const std::string& line) { d.log(utcNow() + " " + line); });
        d.boundPort = d.front->listen(o.address, o.port);
    } catch (...) {
        d.front.reset();
        d.http.reset();
        throw;
    }
    d.log(utcNow() + " listening on " + std::string(o.tls ? "https://" : "http://") + o.address + ":" +
          std::to_string(d.boundPort));
}

int Server::port() const { return m_impl->boundPort; }

void Server::stop() {
    Impl& d = *m_impl;
    if (!d.http) return;
    // Stops accepting and closes idle connections; requests in workers finish first.
    if (d.front) d.front->stop();
    d.front.reset();
    d.http.reset();
}

}  // namespace ck::agg
