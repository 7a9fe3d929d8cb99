#pragma once
// The aggregator's HTTPS front: POST /v1/<endpoint> with a protocol frame as the body,
// answered with a frame (the reply, or an ErrorReply with the status httpStatus(code)).
//   /v1/enrol  /v1/upload  /v1/updates  /v1/chunks/query  /v1/chunks  /v1/attachments
//   GET /v1/hello: plain text "clusterkit-aggregator protocol=1 name=..."
//   GET /v1/report?scope=nation|cluster:CODE|...: the baseline report as HTML, for holders of
//     a read-only report token (Authorization: Bearer TOKEN); 401 without a valid one, 400
//     for a scope nothing is known about. Never a device signature instead of the token, and
//     charged to the per-address bucket like every request no device vouches for.
// cpp-httplib with OpenSSL. Plain HTTP only when the address is loopback or allowPlainHttp.
// Limits: a body above maxBodyBytes is refused (413): declared lengths before the body is
// read, chunked bodies as they are read; no Content-Encoding is taken (415). Connections go
// through HttpFront (http_front.h): deadlines for the TLS handshake and headers, a cap per
// address. Each device has a token bucket of requests (429 with Retry-After when empty),
// charged once the request's signature is known good and fresh; requests no device key
// vouches for (enrolment, undecodable, stale or badly signed bodies) share a bucket per
// client address with the same numbers; each request is logged as one line (time, device id,
// endpoint, status, records, bytes) with no key, code or record content.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sync/aggregator/ingest.h"

namespace ck::agg {

class BaselineService;
class ReportTokens;
class WebAppFiles;

// How connections are let in (see http_front.h): deadlines for each stage a connection goes
// through before a worker takes its request, and caps on what one address can hold.
struct ConnectionLimits {
    std::chrono::milliseconds handshakeTimeout{10'000};  // accept to TLS handshake done
    std::chrono::milliseconds headerTimeout{10'000};     // first byte of a request to its blank line
    std::chrono::milliseconds idleTimeout{5'000};        // between requests on one connection
    std::chrono::milliseconds ioTimeout{10'000};         // one read or write stalling in a worker
    size_t maxHeaderBytes = 32 * 1024;                   // request line and headers
    size_t maxConnections = 768;                         // in all (descriptors stay below 1024)
    size_t maxConnectionsPerAddress = 16;
    size_t maxActivePerAddress = 2;  // requests from one address in workers at once
};

struct ServerOptions {
    std::string address = "127.0.0.1";
    int port = 8443;  // 0: pick a free port (see Server::port())
    bool tls = true;
    bool allowPlainHttp = false;  // needed for plain HTTP on a non-loopback address
    std::filesystem::path certificateFile, keyFile;
    size_t maxBodyBytes = 8u * 1024 * 1024;
    double ratePerSecond = 20;  // per device: sustained requests per second
    double rateBurst = 40;      // per device: bucket size
    int threads = 8;  // workers: they only ever hold a request whose headers have all arrived
    ConnectionLimits limits;
    Clock clock = systemClock;  // for the freshness of signed requests, before rate limiting
    std::function<void(const std::string& line)> log;  // request log; default stderr
    // GET /v1/report is served when both are set (they must outlive the server).
    BaselineService* baseline = nullptr;
    const ReportTokens* reportTokens = nullptr;
    // GET /app/... serves the field app's web build from these files (they must outlive the
    // server); GET / leads there. Null: no web app, those paths answer 404.
    const WebAppFiles* webApp = nullptr;
    // Pages of these origins (scheme://host[:port], exactly) may call the protocol from a
    // browser: CORS headers and preflight answers for /v1/. The app served from /app/ is the
    // server's own origin and needs none of this.
    std::vector<std::string> allowedOrigins;
    // The TLS certificate's public key (DER SubjectPublicKeyInfo), answered at GET /v1/tls-key:
    // the field app in a browser cannot see the certificate, so it fetches the key and checks
    // it against the pin on the enrolment slip. Empty (plain HTTP): that route answers 404.
    std::vector<uint8_t> tlsPublicKey;
};

class Server {
public:
    Server(IngestService& ingest, ServerOptions options);
    ~Server();
    // Binds (throws std::runtime_error with a clear reason: address in use, refusing plain
    // HTTP off loopback, unreadable certificate) and serves on background threads.
    void start();
    int port() const;  // the bound port
    void stop();       // finishes requests in flight, then returns

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ck::agg
