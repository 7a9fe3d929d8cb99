#include "sync/aggregator/http_front.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <vector>

namespace ck::agg {

namespace {

using SteadyClock = std::chrono::steady_clock;

thread_local RequestControl* t_control = nullptr;

// A body must keep arriving at this pace (after a grace period) or its worker is freed: an
// 8 MiB batch over a 32 kbit/s link still makes it, a drip of a byte a second does not.
constexpr size_t kMinBodyBytesPerSecond = 4096;
constexpr std::chrono::seconds kBodyGrace{15};
constexpr int kMaxRequestsPerConnection = 1000;
constexpr std::chrono::seconds kDrainTime{2};
constexpr size_t kMaxDrainBytes = 1024 * 1024;

struct Connection {
    int fd = -1;
    SSL* ssl = nullptr;
    std::string address;  // the peer's numeric address: the key of the per-address caps
    int port = 0;
    // Draining: answered and closing; what the peer still sends is read and dropped for a
    // moment, so the close does not reset the connection before the peer has read the answer
    // (a refusal sent before a body was read would otherwise often be lost).
    enum class Stage { Handshake, Headers, Draining } stage = Stage::Handshake;
    bool closing = false;  // set by a worker: drain, then close
    size_t drained = 0;
    short events = POLLIN;
    SteadyClock::time_point deadline;
    bool idle = false;    // between requests: waiting for a next request's first byte
    std::string buffer;   // bytes read and not yet handed to httplib, from `served` on
    size_t served = 0;
    int requests = 0;
    enum class Next { Wait, Ready, Close } next = Next::Wait;

    Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    ~Connection() {
        if (ssl) {
            // close_notify when the handshake got that far; never waits (the socket is non-blocking).
            if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl);
            SSL_free(ssl);
        }
        if (fd >= 0) ::close(fd);
    }
    void compact() {
        buffer.erase(0, served);
        served = 0;
    }
    bool headersComplete() const {
        return std::string_view(buffer).substr(served).find("\r\n\r\n") != std::string_view::npos;
    }
};

enum class Io { Data, WouldBlock, Closed };
struct IoResult {
    Io kind;
    size_t bytes = 0;
    short wait = 0;  // POLLIN or POLLOUT, with WouldBlock
};

IoResult readSome(Connection& c, char* buf, size_t cap) {
    if (c.ssl) {
        ERR_clear_error();
        int n = SSL_read(c.ssl, buf, static_cast<int>(std::min<size_t>(cap, INT_MAX)));
        if (n > 0) return {Io::Data, static_cast<size_t>(n)};
        int e = SSL_get_error(c.ssl, n);
        if (e == SSL_ERROR_WANT_READ) return {Io::WouldBlock, 0, POLLIN};
        if (e == SSL_ERROR_WANT_WRITE) return {Io::WouldBlock, 0, POLLOUT};
        return {Io::Closed};
    }
    for (;;) {
        ssize_t n = ::recv(c.fd, buf, cap, 0);
        if (n > 0) return {Io::Data, static_cast<size_t>(n)};
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return {Io::WouldBlock, 0, POLLIN};
        return {Io::Closed};
    }
}

IoResult writeSome(Connection& c, const char* buf, size_t size) {
    if (c.ssl) {
        ERR_clear_error();
        int n = SSL_write(c.ssl, buf, static_cast<int>(std::min<size_t>(size, INT_MAX)));
        if (n > 0) return {Io::Data, static_cast<size_t>(n)};
        int e = SSL_get_error(c.ssl, n);
        if (e == SSL_ERROR_WANT_READ) return {Io::WouldBlock, 0, POLLIN};
        if (e == SSL_ERROR_WANT_WRITE) return {Io::WouldBlock, 0, POLLOUT};
        return {Io::Closed};
    }
    for (;;) {
        ssize_t n = ::send(c.fd, buf, size, MSG_NOSIGNAL);
        if (n >= 0) return {Io::Data, static_cast<size_t>(n)};
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {Io::WouldBlock, 0, POLLOUT};
        return {Io::Closed};
    }
}

// Waits until `fd` is ready for `events` or `deadline` passes.
bool waitFor(int fd, short events, SteadyClock::time_point deadline) {
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

std::string numericAddress(const sockaddr* sa, socklen_t len, int* port) {
    char host[NI_MAXHOST] = {0}, serv[NI_MAXSERV] = {0};
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV) != 0) return "?";
    if (port) *port = std::atoi(serv);
    std::string a = host;
    // An IPv4 peer on a dual-stack socket: one address, one bucket, however it arrives.
    if (a.rfind("::ffff:", 0) == 0 && a.find('.') != std::string::npos) a = a.substr(7);
    return a;
}

// One request's view of its connection for httplib: the bytes already read (the header block
// and what followed it), then the socket, with a deadline on every wait and a cap on the body.
class ConnectionStream final : public httplib::Stream {
public:
    ConnectionStream(Connection& c, const FrontLimits& limits, RequestControl& control)
        : m_c(c), m_limits(limits), m_control(control) {}

    bool failed() const { return m_failed; }

    bool is_readable() const override {
        if (m_c.served < m_c.buffer.size()) return true;
        if (m_c.ssl && SSL_pending(m_c.ssl) > 0) return true;
        return waitFor(m_c.fd, POLLIN, readDeadline());
    }
    bool is_writable() const override { return waitFor(m_c.fd, POLLOUT, SteadyClock::now() + m_limits.ioTimeout); }

    ssize_t read(char* ptr, size_t size) override {
        if (m_c.served < m_c.buffer.size()) {
            size_t n = std::min(size, m_c.buffer.size() - m_c.served);
            std::memcpy(ptr, m_c.buffer.data() + m_c.served, n);
            m_c.served += n;
            return static_cast<ssize_t>(n);
        }
        if (m_failed) return -1;
        // Counted on the wire, before httplib's chunk parser or decoder sees a byte: neither a
        // chunk-size line that never ends nor any other framing can take more than this.
        if (m_raw >= m_control.rawBodyCap) {
            m_control.bodyTooLarge = true;
            return -1;
        }
        size = std::min(size, m_control.rawBodyCap - m_raw);
        for (;;) {
            IoResult r = readSome(m_c, ptr, size);
            if (r.kind == Io::Data) {
                m_raw += r.bytes;
                return static_cast<ssize_t>(r.bytes);
            }
            if (r.kind == Io::Closed) {
                m_failed = true;
                return 0;
            }
            if (!waitFor(m_c.fd, r.wait, readDeadline())) {
                m_failed = true;
                return -1;
            }
        }
    }

    ssize_t write(const char* ptr, size_t size) override {
        if (m_failed) return -1;
        for (;;) {
            IoResult r = writeSome(m_c, ptr, size);
            if (r.kind == Io::Data) return static_cast<ssize_t>(r.bytes);
            if (r.kind == Io::Closed || !waitFor(m_c.fd, r.wait, SteadyClock::now() + m_limits.ioTimeout)) {
                m_failed = true;
                return -1;
            }
        }
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip = m_c.address;
        port = m_c.port;
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        port = 0;
        ip.clear();
        if (::getsockname(m_c.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
            ip = numericAddress(reinterpret_cast<sockaddr*>(&ss), len, &port);
    }
    socket_t socket() const override { return m_c.fd; }

private:
    SteadyClock::time_point readDeadline() const { return std::min(SteadyClock::now() + m_limits.ioTimeout, m_control.bodyDeadline); }

    Connection& m_c;
    const FrontLimits& m_limits;
    RequestControl& m_control;
    size_t m_raw = 0;
    bool m_failed = false;
};

}  // namespace

RequestControl* currentRequest() { return t_control; }

struct HttpFront::Impl {
    RoutedServer& http;
    FrontLimits limits;
    std::function<void(const std::string&)> log;
    SSL_CTX* ctx = nullptr;
    int listenFd = -1;
    int wakeFd = -1;
    std::thread eventThread;
    std::vector<std::thread> workers;
    std::atomic<bool> stopping{false};

    // The event thread's own: connections in handshake or collecting headers, and ready ones
    // waiting for their address's turn in a worker.
    std::list<std::unique_ptr<Connection>> waiting;
    std::map<std::string, std::deque<std::unique_ptr<Connection>>> deferred;
    std::map<std::string, size_t> refusedSinceLog;
    SteadyClock::time_point lastRefusalLog{};

    // Shared under `mutex`.
    std::mutex mutex;
    std::condition_variable workAvailable;
    std::deque<std::unique_ptr<Connection>> work;
    std::vector<std::unique_ptr<Connection>> returned;  // kept alive by a worker, back to the event thread
    std::map<std::string, size_t> openPerAddress;
    std::map<std::string, size_t> activePerAddress;
    size_t open = 0;
    bool workersStop = false;

    Impl(RoutedServer& http, FrontLimits limits, std::function<void(const std::string&)> log)
        : http(http), limits(limits), log(std::move(log)) {}

    ~Impl() {
        if (ctx) SSL_CTX_free(ctx);
        if (listenFd >= 0) ::close(listenFd);
        if (wakeFd >= 0) ::close(wakeFd);
    }

    void wake() {
        uint64_t one = 1;
        ssize_t ignored = ::write(wakeFd, &one, sizeof one);
        (void)ignored;
    }

    void closeConnection(std::unique_ptr<Connection> c) {
        {
            std::lock_guard lock(mutex);
            --open;
            if (auto it = openPerAddress.find(c->address); it != openPerAddress.end() && --it->second == 0)
                openPerAddress.erase(it);
        }
        c.reset();
    }

    void acceptAll() {
        for (;;) {
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            int fd = ::accept4(listenFd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                return;  // EAGAIN, or out of descriptors: the next round tries again
            }
            int port = 0;
            std::string address = numericAddress(reinterpret_cast<sockaddr*>(&ss), len, &port);
            bool refused = false;
            {
                std::lock_guard lock(mutex);
                if (open >= limits.maxConnections || openPerAddress[address] >= limits.maxConnectionsPerAddress) {
                    refused = true;
                    if (openPerAddress[address] == 0) openPerAddress.erase(address);
                } else {
                    ++open;
                    ++openPerAddress[address];
                }
            }
            if (refused) {
                ::close(fd);
                ++refusedSinceLog[address];
                continue;
            }
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            auto c = std::make_unique<Connection>();
            c->fd = fd;
            c->address = std::move(address);
            c->port = port;
            if (ctx) {
                c->ssl = SSL_new(ctx);
                if (!c->ssl) {
                    closeConnection(std::move(c));
                    continue;
                }
                SSL_set_fd(c->ssl, fd);
                SSL_set_accept_state(c->ssl);
                c->stage = Connection::Stage::Handshake;
                c->deadline = SteadyClock::now() + limits.handshakeTimeout;
            } else {
                c->stage = Connection::Stage::Headers;
                c->deadline = SteadyClock::now() + limits.headerTimeout;
            }
            c->events = POLLIN;
            waiting.push_back(std::move(c));
        }
    }

    void startDraining(Connection& c) {
        if (c.ssl && SSL_is_init_finished(c.ssl)) {
            ERR_clear_error();
            SSL_shutdown(c.ssl);
        }
        ::shutdown(c.fd, SHUT_WR);
        c.stage = Connection::Stage::Draining;
        c.events = POLLIN;
        c.deadline = SteadyClock::now() + kDrainTime;
    }

    // Moves a connection on as far as it goes without blocking.
    Connection::Next advance(Connection& c) {
        if (c.stage == Connection::Stage::Draining) {
            char sink[16 * 1024];
            for (;;) {
                ssize_t n = ::recv(c.fd, sink, sizeof sink, 0);
                if (n > 0) {
                    c.drained += static_cast<size_t>(n);
                    if (c.drained > kMaxDrainBytes) return Connection::Next::Close;
                    continue;
                }
                if (n < 0 && errno == EINTR) continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return Connection::Next::Wait;
                return Connection::Next::Close;
            }
        }
        if (c.stage == Connection::Stage::Handshake) {
            ERR_clear_error();
            int r = SSL_do_handshake(c.ssl);
            if (r != 1) {
                int e = SSL_get_error(c.ssl, r);
                if (e == SSL_ERROR_WANT_READ) c.events = POLLIN;
                else if (e == SSL_ERROR_WANT_WRITE) c.events = POLLOUT;
                else return Connection::Next::Close;
                return Connection::Next::Wait;
            }
            c.stage = Connection::Stage::Headers;
            c.idle = false;
            c.deadline = SteadyClock::now() + limits.headerTimeout;
        }
        char buf[16 * 1024];
        for (;;) {
            if (c.headersComplete()) return Connection::Next::Ready;
            if (c.buffer.size() - c.served > limits.maxHeaderBytes) {
                static const char kTooLarge[] =
                    "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
                writeSome(c, kTooLarge, sizeof kTooLarge - 1);  // best effort; the socket is closed anyway
                startDraining(c);
                return Connection::Next::Wait;
            }
            IoResult r = readSome(c, buf, sizeof buf);
            if (r.kind == Io::Closed) return Connection::Next::Close;
            if (r.kind == Io::WouldBlock) {
                c.events = r.wait;
                return Connection::Next::Wait;
            }
            if (c.idle) {
                c.idle = false;
                c.deadline = SteadyClock::now() + limits.headerTimeout;
            }
            c.buffer.append(buf, r.bytes);
        }
    }

    // A connection whose request headers are all in: to a worker, or behind its address's others.
    void ready(std::unique_ptr<Connection> c) {
        std::unique_lock lock(mutex);
        size_t& active = activePerAddress[c->address];
        if (active < limits.maxActivePerAddress) {
            ++active;
            work.push_back(std::move(c));
            lock.unlock();
            workAvailable.notify_one();
        } else {
            c->deadline = SteadyClock::now() + limits.headerTimeout;
            deferred[c->address].push_back(std::move(c));
        }
    }

    void dispatchDeferred() {
        auto now = SteadyClock::now();
        for (auto it = deferred.begin(); it != deferred.end();) {
            auto& queue = it->second;
            while (!queue.empty() && queue.front()->deadline <= now) {
                closeConnection(std::move(queue.front()));
                queue.pop_front();
            }
            {
                std::unique_lock lock(mutex);
                size_t& active = activePerAddress[it->first];
                while (!queue.empty() && active < limits.maxActivePerAddress) {
                    ++active;
                    work.push_back(std::move(queue.front()));
                    queue.pop_front();
                    workAvailable.notify_one();
                }
                if (active == 0) activePerAddress.erase(it->first);
            }
            it = queue.empty() ? deferred.erase(it) : std::next(it);
        }
    }

    void takeBack(std::unique_ptr<Connection> c) {
        if (c->closing) {
            startDraining(*c);
            waiting.push_back(std::move(c));
            return;
        }
        c->compact();
        c->stage = Connection::Stage::Headers;
        c->events = POLLIN;
        c->idle = c->buffer.empty();
        c->deadline = SteadyClock::now() + (c->idle ? limits.idleTimeout : limits.headerTimeout);
        if (c->headersComplete()) ready(std::move(c));
        else waiting.push_back(std::move(c));
    }

    void logRefusals(SteadyClock::time_point now) {
        if (refusedSinceLog.empty() || now - lastRefusalLog < std::chrono::seconds(10)) return;
        for (const auto& [address, count] : refusedSinceLog)
            log("refused " + std::to_string(count) + " connection(s) from " + address + ": it holds " +
                std::to_string(limits.maxConnectionsPerAddress) + " already, or the server is full");
        refusedSinceLog.clear();
        lastRefusalLog = now;
    }

    void eventLoop() {
        std::vector<pollfd> fds;
        std::vector<Connection*> polled;
        while (!stopping) {
            std::vector<std::unique_ptr<Connection>> back;
            {
                std::lock_guard lock(mutex);
                back.swap(returned);
            }
            for (auto& c : back) takeBack(std::move(c));
            dispatchDeferred();

            auto now = SteadyClock::now();
            auto next = now + std::chrono::seconds(1);
            bool full;
            {
                std::lock_guard lock(mutex);
                full = open >= limits.maxConnections;
            }
            fds.clear();
            polled.clear();
            fds.push_back({wakeFd, POLLIN, 0});
            fds.push_back({full ? -1 : listenFd, POLLIN, 0});
            for (auto& c : waiting) {
                fds.push_back({c->fd, c->events, 0});
                polled.push_back(c.get());
                next = std::min(next, c->deadline);
            }
            for (auto& [address, queue] : deferred)
                for (auto& c : queue) next = std::min(next, c->deadline);
            long long timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
            int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::clamp<long long>(timeout + 1, 0, 1000)));
            if (n < 0 && errno != EINTR) {
                log("connection loop: poll failed: " + std::string(std::strerror(errno)));
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
                continue;
            }
            if (n > 0) {
                if (fds[0].revents) {
                    uint64_t count;
                    ssize_t ignored = ::read(wakeFd, &count, sizeof count);
                    (void)ignored;
                }
                if (fds[1].revents & POLLIN) acceptAll();
                for (size_t i = 0; i < polled.size(); ++i)
                    if (fds[i + 2].revents) polled[i]->next = advance(*polled[i]);
            }
            now = SteadyClock::now();
            for (auto it = waiting.begin(); it != waiting.end();) {
                Connection::Next next = (*it)->next;
                (*it)->next = Connection::Next::Wait;
                if (next == Connection::Next::Ready) {
                    ready(std::move(*it));
                } else if (next == Connection::Next::Close || (*it)->deadline <= now) {
                    closeConnection(std::move(*it));
                } else {
                    ++it;
                    continue;
                }
                it = waiting.erase(it);
            }
            logRefusals(now);
        }
        for (auto& c : waiting) closeConnection(std::move(c));
        waiting.clear();
        for (auto& [address, queue] : deferred)
            for (auto& c : queue) closeConnection(std::move(c));
        deferred.clear();
    }

    // One request on a connection whose header block has arrived. True: the connection can
    // carry another request.
    bool serveOne(Connection& c) {
        RequestControl control;
        control.rawBodyCap = limits.rawBodyCap;
        control.bodyDeadline = SteadyClock::now() + kBodyGrace +
                               std::chrono::seconds(limits.rawBodyCap / kMinBodyBytesPerSecond);
        ConnectionStream stream(c, limits, control);
        bool closed = false, ok = false;
        t_control = &control;
        try {
            ok = http.process_request(stream, false, closed, nullptr);
        } catch (...) {
            ok = false;  // httplib answers handler exceptions itself; anything else ends the connection
        }
        t_control = nullptr;
        ++c.requests;
        return ok && !closed && control.bodyComplete && !control.closeAfter && !stream.failed() &&
               c.requests < kMaxRequestsPerConnection;
    }

    void workerLoop() {
        for (;;) {
            std::unique_ptr<Connection> c;
            {
                std::unique_lock lock(mutex);
                workAvailable.wait(lock, [&] { return workersStop || !work.empty(); });
                if (work.empty()) return;
                c = std::move(work.front());
                work.pop_front();
            }
            bool keep = serveOne(*c);
            std::string address = c->address;
            {
                std::lock_guard lock(mutex);
                if (auto it = activePerAddress.find(address); it != activePerAddress.end() && --it->second == 0)
                    activePerAddress.erase(it);
                if (!stopping) {
                    c->closing = !keep;
                    returned.push_back(std::move(c));
                }
            }
            if (c) closeConnection(std::move(c));
            wake();
        }
    }
};

HttpFront::HttpFront(RoutedServer& http, FrontLimits limits, const std::filesystem::path& certificateFile,
                     const std::filesystem::path& keyFile, std::function<void(const std::string&)> log)
    : m_impl(std::make_unique<Impl>(http, limits, std::move(log))) {
    if (certificateFile.empty()) return;
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) throw std::runtime_error("cannot start TLS: OpenSSL failed to make a context");
    m_impl->ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    // Writes may stop half way on a full socket; the retry passes the same bytes from wherever
    // httplib keeps them.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, certificateFile.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, keyFile.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1)
        throw std::runtime_error("cannot load the TLS certificate " + certificateFile.string() + " with key " +
                                 keyFile.string() + ": unreadable, or the key does not match");
}

HttpFront::~HttpFront() { stop(); }

int HttpFront::listen(const std::string& address, int port) {
    Impl& d = *m_impl;
    if (d.eventThread.joinable()) throw std::logic_error("HttpFront::listen called twice");
    // A peer that hangs up mid-reply makes a write on its socket raise SIGPIPE, which would end
    // the process; OpenSSL writes with plain write(), so MSG_NOSIGNAL cannot help there.
    ::signal(SIGPIPE, SIG_IGN);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string where = address + ":" + std::to_string(port);
    if (getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found)
        throw std::runtime_error("cannot listen on " + address + ": no such local address");
    int fd = -1;
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
        fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        // SO_REUSEADDR for a quick restart after a stop; never SO_REUSEPORT, which would let a
        // second server share the port silently.
        int yes = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 1024) == 0) break;
        ::close(fd);
        fd = -1;
    }
    freeaddrinfo(found);
    if (fd < 0)
        throw std::runtime_error(port == 0 ? "cannot listen on " + address + ": no such local address"
                                           : "cannot listen on " + where +
                                                 ": the port is in use or the address is not this machine's");
    d.listenFd = fd;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int bound = port;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) numericAddress(reinterpret_cast<sockaddr*>(&ss), len, &bound);
    d.wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d.wakeFd < 0) throw std::runtime_error("cannot listen: eventfd failed: " + std::string(std::strerror(errno)));
    for (size_t i = 0; i < std::max<size_t>(1, d.limits.workers); ++i) d.workers.emplace_back([&d] { d.workerLoop(); });
    d.eventThread = std::thread([&d] { d.eventLoop(); });
    return bound;
}

void HttpFront::stop() {
    Impl& d = *m_impl;
    if (!d.eventThread.joinable() && d.workers.empty()) return;
    d.stopping = true;
    d.wake();
    if (d.eventThread.joinable()) d.eventThread.join();
    {
        std::lock_guard lock(d.mutex);
        d.workersStop = true;
    }
    d.workAvailable.notify_all();
    for (auto& t : d.workers) t.join();
    d.workers.clear();
    std::vector<std::unique_ptr<Connection>> left;
    {
        std::lock_guard lock(d.mutex);
        left.swap(d.returned);
    }
    for (auto& c : left) d.closeConnection(std::move(c));
    if (d.listenFd >= 0) {
        ::close(d.listenFd);
        d.listenFd = -1;
    }
}

}  // namespace ck::agg
