#pragma once
// The aggregator's connection handling in front of cpp-httplib's request parser and router.
//
// Why not httplib's own listen loop: it gives each connection a worker thread from the moment
// it is accepted, so a handful of sockets that never finish their TLS handshake or headers
// (30 s each) starve every device, and it knows no per-address cap. Here one event thread
// accepts, refuses an address past its cap, runs TLS handshakes and collects request headers
// without blocking (short deadlines for each), and only a request whose whole header block has
// arrived reaches a worker. Workers read the body with a deadline and a byte cap, and an
// address has at most a few requests in workers at once, so idle or dripping connections from
// one address leave the workers to everyone else.
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
};

struct FrontLimits : ConnectionLimits {
    size_t rawBodyCap = 16 * 1024 * 1024 + 65536;  // body bytes read off the wire, framing included
    size_t workers = 8;
};

// What a handler learns about, and tells, the connection its request came on. Valid on the
// worker thread while the request is processed (currentRequest() is null elsewhere).
struct RequestControl {
    bool bodyComplete = false;  // the body was read to its end: the connection can be reused
    bool closeAfter = false;    // close the connection after the response
    bool bodyTooLarge = false;  // the stream refused to read past its raw byte cap
    size_t rawBodyCap = 0;      // bytes the stream reads for this request's body at most
    std::chrono::steady_clock::time_point bodyDeadline = std::chrono::steady_clock::time_point::max();
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
