#pragma once
// The aggregator's connection handling in front of cpp-httplib's request parser and router.
//
// Why not httplib's own listen loop: it gives each connection a worker thread from the moment
// it is accepted, so a handful of sockets that never finish their TLS handshake or headers
// (30 s each) starve every device, and it knows no per-address cap. Here one event thread
// accepts, refuses an address past its cap, runs TLS handshakes and collects request headers
// and reads each request whole (headers, then the body by Content-Length or by following its
// chunks) without blocking, with deadlines for each stage and caps on the bytes and on the
// memory all bodies in flight hold. Only a complete request reaches a worker, and an address
// has at most a few requests in workers at once: idle or dripping connections cost a socket
// and their bytes, never a worker.
//
// Private to the server (server.cpp): it needs httplib.h. Owns its sockets, TLS sessions and
// threads; the httplib::Server (its routes and handlers) is the caller's and must outlive it.
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include <httplib.h>

#include "sync/aggregator/server.h"

namespace ck::agg {

// httplib's request parser and router, fed by HttpFront instead of its own accept loop.
class RoutedServer : public httplib::Server {
public:
    using httplib::Server::process_request;
    // httplib streams a response from a content provider only while its own listening socket
    // is set (it reads INVALID_SOCKET as "shutting down" and sends no body). The front owns
    // the sockets, so it marks the routed server as serving with its own listening socket
    // while it runs; httplib never closes it (it closes only sockets its listen() made).
    void markServing(socket_t listening) { svr_sock_ = listening; }
};

struct FrontLimits : ConnectionLimits {
    size_t maxBodyBytes = 8 * 1024 * 1024;          // decoded body; a chunked body past it is refused
    size_t rawBodyCap = 16 * 1024 * 1024 + 65536;   // body bytes read off the wire, framing included
    size_t bodyBudget = 64 * 1024 * 1024;           // bodies held in memory at once, in all
    size_t bodyBudgetPerAddress = 16 * 1024 * 1024; // ... and from one address
    size_t workers = 8;
};

// What a handler learns about, and tells, the connection its request came on. Valid on the
// worker thread while the request is processed (currentRequest() is null elsewhere).
struct RequestControl {
    bool bodyComplete = false;  // the body was read to its end: the connection can be reused
    bool closeAfter = false;    // close the connection after the response
    // Set by the front when it stopped reading the body: 413 (a chunked body past
    // maxBodyBytes or rawBodyCap) or 400 (broken chunked framing). The handler refuses.
    int framingRefusal = 0;
};
RequestControl* currentRequest();

class HttpFront {
public:
    // `certificateFile`/`keyFile` empty: plain HTTP. Throws std::runtime_error (unreadable
    // certificate, key not matching) here, or from listen().
    HttpFront(RoutedServer& http, FrontLimits limits, const std::filesystem::path& certificateFile,
              const std::filesystem::path& keyFile, std::function<void(const std::string&)> log);
    ~HttpFront();
    HttpFront(const HttpFront&) = delete;
    HttpFront& operator=(const HttpFront&) = delete;

    // Binds (port 0: any free port) and starts the event thread and workers. Returns the port.
    // Throws std::runtime_error with a reason an operator can act on.
    int listen(const std::string& address, int port);
    // Stops accepting, closes idle connections, lets requests in workers finish, joins.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace ck::agg
