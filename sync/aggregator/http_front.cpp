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

// A body must arrive within a grace period plus its size at this pace: an 8 MiB batch over a
// 32 kbit/s link still makes it. Until then a slow body costs a socket and its bytes, no worker.
constexpr size_t kMinBodyBytesPerSecond = 4096;
constexpr std::chrono::seconds kBodyGrace{15};
constexpr size_t kMaxChunkLine = 1024;     // a chunk-size line, extensions included
constexpr size_t kMaxTrailerBytes = 8192;
// As httplib had it (CPPHTTPLIB_KEEPALIVE_MAX_COUNT): a connection is renewed every few requests.
constexpr int kMaxRequestsPerConnection = 5;
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
    enum class Stage { Handshake, Headers, Body, Draining } stage = Stage::Handshake;
    bool closing = false;  // set by a worker: drain, then close
    size_t drained = 0;
    // Body stage: where the body starts in `buffer`, how it is framed, how far it is read.
    enum class Framing { Length, Chunked } framing = Framing::Length;
    size_t bodyStart = 0;
    size_t bodyLength = 0;  // Length: bytes expected
    enum class ChunkState { Size, Data, DataEnd, Trailer, Done } chunkState = ChunkState::Size;
    size_t scan = 0;        // Chunked: how far in `buffer` the chunks are followed
    size_t chunkLeft = 0;
    size_t decoded = 0;
    size_t trailerBytes = 0;
    int framingRefusal = 0;  // 413 or 400, for the handler to answer
    size_t charged = 0;      // body bytes counted against the memory budgets
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
    // Offset in `buffer` just past the blank line ending the headers, or 0.
    size_t headersEnd() const {
        size_t at = std::string_view(buffer).substr(served).find("\r\n\r\n");
        return at == std::string_view::npos ? 0 : served + at + 4;
    }
    bool headersComplete() const { return headersEnd() != 0; }
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

std::string_view trimmed(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
}

std::string lowered(std::string_view v) {
    std::string out(v);
    for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

// What the front needs from a request's headers to know where its body ends. The handler
// (server.cpp) reads the same headers again and is the one that refuses; the front only
// decides how many bytes to wait for, and waits for none when in doubt.
struct HeaderFacts {
    bool lengthGiven = false, lengthBad = false;
    unsigned long long length = 0;
    bool chunked = false, otherCoding = false, contentCoding = false;
    size_t expectBegin = 0, expectEnd = 0;  // an "Expect: 100-continue" line, [begin, end) in the buffer
};

HeaderFacts headerFacts(const std::string& buffer, size_t from, size_t end) {
    HeaderFacts f;
    size_t pos = buffer.find("\r\n", from);  // past the request line
    if (pos == std::string::npos || pos >= end) return f;
    pos += 2;
    while (pos < end) {
        size_t eol = buffer.find("\r\n", pos);
        if (eol == std::string::npos || eol >= end || eol == pos) break;
        std::string_view line(buffer.data() + pos, eol - pos);
        if (size_t colon = line.find(':'); colon != std::string_view::npos) {
            std::string name = lowered(trimmed(line.substr(0, colon)));
            std::string value = lowered(trimmed(line.substr(colon + 1)));
            if (name == "content-length") {
                bool digits = !value.empty() && value.size() <= 18 &&
                              std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
                if (f.lengthGiven || !digits) f.lengthBad = true;
                else f.length = std::stoull(value);
                f.lengthGiven = true;
            } else if (name == "transfer-encoding") {
                if (value == "chunked" && !f.chunked) f.chunked = true;
                else f.otherCoding = true;
            } else if (name == "content-encoding") {
                if (!value.empty() && value != "identity") f.contentCoding = true;
            } else if (name == "expect" && value == "100-continue") {
                f.expectBegin = pos;
                f.expectEnd = eol + 2;
            }
        }
        pos = eol + 2;
    }
    return f;
}

int hexDigit(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

// One request's view of its connection for httplib: the bytes already read (the header block
// and what followed it), then the socket, with a deadline on every wait and a cap on the body.
class ConnectionStream final : public httplib::Stream {
public:
    ConnectionStream(Connection& c, const FrontLimits& limits) : m_c(c), m_limits(limits) {}

    bool failed() const { return m_failed; }

    bool is_readable() const override { return m_c.served < m_c.buffer.size(); }
    bool is_writable() const override { return waitFor(m_c.fd, POLLOUT, SteadyClock::now() + m_limits.ioTimeout); }

    // The event thread read the request whole before a worker got it: there is nothing to
    // wait for. A read past it (a body httplib expects that was refused unread) fails.
    ssize_t read(char* ptr, size_t size) override {
        if (m_c.served >= m_c.buffer.size()) return -1;
        size_t n = std::min(size, m_c.buffer.size() - m_c.served);
        std::memcpy(ptr, m_c.buffer.data() + m_c.served, n);
        m_c.served += n;
        return static_cast<ssize_t>(n);
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
    Connection& m_c;
    const FrontLimits& m_limits;
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
    size_t bodyBytes = 0;  // body bytes held by connections, in all and per address
    std::map<std::string, size_t> bodyBytesPerAddress;
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

    size_t budgetLeft(const Connection& c) {
        std::lock_guard lock(mutex);
        size_t global = limits.bodyBudget > bodyBytes ? limits.bodyBudget - bodyBytes : 0;
        auto it = bodyBytesPerAddress.find(c.address);
        size_t held = it == bodyBytesPerAddress.end() ? 0 : it->second;
        size_t own = limits.bodyBudgetPerAddress > held ? limits.bodyBudgetPerAddress - held : 0;
        return std::min(global, own);
    }
    void charge(Connection& c, size_t n) {
        std::lock_guard lock(mutex);
        bodyBytes += n;
        bodyBytesPerAddress[c.address] += n;
        c.charged += n;
    }
    void releaseLocked(Connection& c) {
        if (c.charged == 0) return;
        bodyBytes -= c.charged;
        if (auto it = bodyBytesPerAddress.find(c.address); it != bodyBytesPerAddress.end()) {
            it->second -= std::min(it->second, c.charged);
            if (it->second == 0) bodyBytesPerAddress.erase(it);
        }
        c.charged = 0;
    }

    void closeConnection(std::unique_ptr<Connection> c) {
        {
            std::lock_guard lock(mutex);
            releaseLocked(*c);
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
                // Out of descriptors: the listening socket stays readable, so wait a little
                // rather than spin; the next round tries again.
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                    std::this_thread::sleep_for(std::chrono::milliseconds(20));
                return;
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
            size_t cap = sizeof buf;
            if (c.stage == Connection::Stage::Headers) {
                if (size_t end = c.headersEnd()) {
                    Connection::Next next = startBody(c, end);
                    if (next != Connection::Next::Wait) return next;
                    continue;  // now reading the body
                }
                if (c.buffer.size() - c.served > limits.maxHeaderBytes) {
                    static const char kTooLarge[] =
                        "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
                    writeSome(c, kTooLarge, sizeof kTooLarge - 1);  // best effort; the socket is closed anyway
                    startDraining(c);
                    return Connection::Next::Wait;
                }
            } else {
                if (bodyDone(c)) return Connection::Next::Ready;
                cap = std::min(cap, budgetLeft(c));
                if (cap == 0) {
                    c.events = 0;  // held back until bodies in flight are answered (the loop looks again)
                    return Connection::Next::Wait;
                }
            }
            IoResult r = readSome(c, buf, cap);
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
            if (c.stage == Connection::Stage::Body) charge(c, r.bytes);
        }
    }

    // Headers in: how much body to read. None when the headers alone get the request refused
    // (a content-coding, an odd transfer-coding, a bad or too large length): the handler says why.
    Connection::Next startBody(Connection& c, size_t end) {
        HeaderFacts f = headerFacts(c.buffer, c.served, end);
        if (f.contentCoding || f.otherCoding || f.lengthBad || (f.chunked && f.lengthGiven) ||
            (f.lengthGiven && f.length > limits.maxBodyBytes))
            return Connection::Next::Ready;
        if (!f.chunked && f.length == 0) return Connection::Next::Ready;
        if (f.expectEnd) {
            // The body is read here, so "go on" is said here; the line goes, or httplib would say it again.
            c.buffer.erase(f.expectBegin, f.expectEnd - f.expectBegin);
            end -= f.expectEnd - f.expectBegin;
            static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
            writeSome(c, kContinue, sizeof kContinue - 1);
        }
        c.stage = Connection::Stage::Body;
        c.framing = f.chunked ? Connection::Framing::Chunked : Connection::Framing::Length;
        c.bodyStart = c.scan = end;
        c.bodyLength = static_cast<size_t>(f.length);
        c.chunkState = Connection::ChunkState::Size;
        c.chunkLeft = c.decoded = c.trailerBytes = 0;
        c.framingRefusal = 0;
        c.events = POLLIN;
        size_t expected = f.chunked ? limits.maxBodyBytes : c.bodyLength;
        c.deadline = SteadyClock::now() + kBodyGrace + std::chrono::seconds(expected / kMinBodyBytesPerSecond);
        return bodyDone(c) ? Connection::Next::Ready : Connection::Next::Wait;
    }

    // Has the body arrived whole (or been refused: framingRefusal)? Follows chunks as they come.
    bool bodyDone(Connection& c) {
        if (c.framing == Connection::Framing::Length) return c.buffer.size() - c.bodyStart >= c.bodyLength;
        auto refuse = [&](int status) {
            c.framingRefusal = status;
            return true;
        };
        if (c.buffer.size() - c.bodyStart > limits.rawBodyCap) return refuse(413);
        using S = Connection::ChunkState;
        for (;;) {
            switch (c.chunkState) {
                case S::Size: {
                    size_t eol = c.buffer.find("\r\n", c.scan);
                    if (eol == std::string::npos) return c.buffer.size() - c.scan > kMaxChunkLine ? refuse(400) : false;
                    if (eol - c.scan > kMaxChunkLine) return refuse(400);
                    size_t i = c.scan, size = 0, digits = 0;
                    for (int v; i < eol && (v = hexDigit(c.buffer[i])) >= 0; ++i) {
                        if (++digits > 15) return refuse(413);
                        size = size * 16 + static_cast<size_t>(v);
                    }
                    if (digits == 0 || (i < eol && c.buffer[i] != ';' && c.buffer[i] != ' ' && c.buffer[i] != '\t'))
                        return refuse(400);
                    c.scan = eol + 2;
                    if (size == 0) {
                        c.chunkState = S::Trailer;
                        break;
                    }
                    if (c.decoded + size > limits.maxBodyBytes) return refuse(413);
                    c.chunkLeft = size;
                    c.chunkState = S::Data;
                    break;
                }
                case S::Data: {
                    size_t take = std::min(c.buffer.size() - c.scan, c.chunkLeft);
                    c.scan += take;
                    c.chunkLeft -= take;
                    c.decoded += take;
                    if (c.chunkLeft > 0) return false;
                    c.chunkState = S::DataEnd;
                    break;
                }
                case S::DataEnd:
                    if (c.buffer.size() - c.scan < 2) return false;
                    if (c.buffer.compare(c.scan, 2, "\r\n") != 0) return refuse(400);
                    c.scan += 2;
                    c.chunkState = S::Size;
                    break;
                case S::Trailer: {
                    size_t eol = c.buffer.find("\r\n", c.scan);
                    if (eol == std::string::npos) return c.buffer.size() - c.scan > kMaxTrailerBytes ? refuse(400) : false;
                    if (eol == c.scan) {
                        c.scan += 2;
                        c.chunkState = S::Done;
                        return true;
                    }
                    c.trailerBytes += eol + 2 - c.scan;
                    if (c.trailerBytes > kMaxTrailerBytes) return refuse(400);
                    c.scan = eol + 2;
                    break;
                }
                case S::Done:
                    return true;
            }
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
        // A next request may already be here (pipelined, or in OpenSSL's buffer): its body is
        // read like any other before it goes to a worker.
        switch (advance(*c)) {
            case Connection::Next::Ready: ready(std::move(c)); break;
            case Connection::Next::Close: closeConnection(std::move(c)); break;
            case Connection::Next::Wait: waiting.push_back(std::move(c)); break;
        }
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
        std::vector<Connection*> polled, nudged;
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
            nudged.clear();
            for (auto& c : waiting) {
                // Bytes OpenSSL already holds never show on the socket; a body held back for
                // memory may go on once others are answered: both are looked at without waiting.
                bool pending = c->ssl && c->events == POLLIN && c->stage != Connection::Stage::Draining &&
                               c->stage != Connection::Stage::Handshake && SSL_pending(c->ssl) > 0;
                bool heldBack = c->stage == Connection::Stage::Body && c->events == 0 && budgetLeft(*c) > 0;
                if (pending || heldBack) {
                    nudged.push_back(c.get());
                    next = now;
                }
                fds.push_back({c->fd, c->events, 0});
                polled.push_back(c.get());
                next = std::min(next, c->deadline);
            }
            for (auto& [address, queue] : deferred)
                for (auto& c : queue) next = std::min(next, c->deadline);
            long long timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
            int n = ::poll(fds.data(), fds.size(),
                           nudged.empty() ? static_cast<int>(std::clamp<long long>(timeout + 1, 0, 1000)) : 0);
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
                for (size_t i = 0; i < polled.size(); ++i) {
                    short revents = fds[i + 2].revents;
                    if (!revents) continue;
                    if (polled[i]->events == 0 && (revents & (POLLERR | POLLHUP | POLLNVAL)))
                        polled[i]->next = Connection::Next::Close;  // gone while held back
                    else
                        polled[i]->next = advance(*polled[i]);
                }
            }
            for (Connection* c : nudged)
                if (c->next == Connection::Next::Wait) c->next = advance(*c);
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
        control.framingRefusal = c.framingRefusal;
        c.framingRefusal = 0;
        ConnectionStream stream(c, limits);
        bool closed = false, ok = false;
        t_control = &control;
        try {
            // The last request a connection may carry is answered with "Connection: close".
            ok = http.process_request(stream, c.requests + 1 >= kMaxRequestsPerConnection, closed, nullptr);
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
            c->compact();
            std::string address = c->address;
            {
                std::lock_guard lock(mutex);
                releaseLocked(*c);
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
    d.http.markServing(fd);
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
    d.http.markServing(INVALID_SOCKET);
    if (d.listenFd >= 0) {
        ::close(d.listenFd);
        d.listenFd = -1;
    }
}

}  // namespace ck::agg
