#include "tests/support/link_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ck::test {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kSegmentBytes = 1460;

int connectLoopback(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return -1;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool writeAll(int fd, const uint8_t* p, size_t n) {
    while (n > 0) {
        ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return false;
        p += w;
        n -= size_t(w);
    }
    return true;
}

}  // namespace

struct LinkProxy::Impl : std::enable_shared_from_this<LinkProxy::Impl> {
    // One direction of one connection: a reader that timestamps segments as the link would
    // deliver them, and a writer that hands them on when they are due.
    struct Segment {
        Clock::time_point due;
        std::vector<uint8_t> bytes;
    };
    struct Connection;
    struct Pipe {
        Connection* conn = nullptr;
        int from = -1, to = -1;
        bool up = true;
        std::mutex mutex;
        std::condition_variable cv;
        std::deque<Segment> queue;
        bool ended = false;  // reader saw EOF or an error
        Clock::time_point linkFreeAt{}, lastDue{};
    };
    struct Connection {
        int client = -1, server = -1;
        Pipe up, down;
        std::atomic<uint64_t> delivered{0};
        uint64_t cutAt = UINT64_MAX;  // bytes over both directions
        std::atomic<bool> cut{false};
        // Held while a segment is counted and written, so the cut falls at exactly cutAt bytes:
        // otherwise one direction could count bytes the other's cut then keeps from arriving.
        std::mutex deliverMutex;
        std::atomic<int> running{4};
        std::vector<std::thread> threads;
    };

    LinkOptions options;
    int listenFd = -1;
    std::atomic<int> targetPort{0};
    std::atomic<bool> stopping{false};
    std::thread acceptThread;
    mutable std::mutex mutex;  // connections, rng, stats
    std::list<std::unique_ptr<Connection>> connections;
    std::mt19937_64 rng;
    LinkStats stats;

    double uniform() {
        std::lock_guard lock(mutex);
        return std::uniform_real_distribution<double>(0, 1)(rng);
    }

    void cutConnection(Connection& c) {
        if (c.cut.exchange(true)) return;
        {
            std::lock_guard lock(mutex);
            ++stats.cuts;
        }
        ::shutdown(c.client, SHUT_RDWR);
        ::shutdown(c.server, SHUT_RDWR);
        for (Pipe* p : {&c.up, &c.down}) {
            std::lock_guard lock(p->mutex);
            p->ended = true;
            p->queue.clear();
            p->cv.notify_all();
        }
    }

    void readLoop(Pipe& p) {
        std::vector<uint8_t> buf(16 * 1024);
        while (!stopping && !p.conn->cut) {
            pollfd pfd{p.from, POLLIN, 0};
            int r = ::poll(&pfd, 1, 100);
            if (r == 0) continue;
            if (r < 0) break;
            ssize_t n = ::recv(p.from, buf.data(), buf.size(), 0);
            if (n <= 0) break;
            auto now = Clock::now();
            std::lock_guard lock(p.mutex);
            for (size_t off = 0; off < size_t(n); off += kSegmentBytes) {
                size_t len = std::min(kSegmentBytes, size_t(n) - off);
                Segment s;
                s.bytes.assign(buf.begin() + off, buf.begin() + off + len);
                auto start = std::max(now, p.linkFreeAt);
                auto onWire = options.bytesPerSecond > 0
                                  ? std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(double(len) / options.bytesPerSecond))
                                  : Clock::duration::zero();
                p.linkFreeAt = start + onWire;
                s.due = p.linkFreeAt + options.oneWayDelay;
                if (options.lossRate > 0 && uniform() < options.lossRate) {
                    // Lost: the sender notices after its retransmission timeout and sends it
                    // again, taking the link a second time.
                    p.linkFreeAt += onWire;
                    s.due = p.linkFreeAt + options.retransmitDelay + options.oneWayDelay;
                    std::lock_guard slock(mutex);
                    ++stats.segmentsLost;
                }
                s.due = std::max(s.due, p.lastDue);  // in order, as TCP delivers
                p.lastDue = s.due;
                p.queue.push_back(std::move(s));
            }
            p.cv.notify_all();
        }
        std::lock_guard lock(p.mutex);
        p.ended = true;
        p.cv.notify_all();
    }

    void writeLoop(Pipe& p) {
        Connection& c = *p.conn;
        for (;;) {
            Segment s;
            {
                std::unique_lock lock(p.mutex);
                p.cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return !p.queue.empty() || p.ended; });
                if (stopping || c.cut) break;
                if (p.queue.empty()) {
                    if (p.ended) break;
                    continue;
                }
                if (p.queue.front().due > Clock::now()) {
                    p.cv.wait_until(lock, std::min(p.queue.front().due, Clock::now() + std::chrono::milliseconds(100)));
                    continue;
                }
                s = std::move(p.queue.front());
                p.queue.pop_front();
            }
            std::lock_guard deliver(c.deliverMutex);
            if (c.cut) break;
            uint64_t before = c.delivered.fetch_add(s.bytes.size());
            size_t len = s.bytes.size();
            bool cutHere = before + len >= c.cutAt;
            if (cutHere) len = size_t(c.cutAt > before ? c.cutAt - before : 0);
            if (len > 0 && !writeAll(p.to, s.bytes.data(), len)) break;
            {
                std::lock_guard lock(mutex);
                (p.up ? stats.bytesUp : stats.bytesDown) += len;
            }
            if (cutHere) {
                cutConnection(c);
                break;
            }
        }
        // The source ended: pass the end on (half-close) so the peer sees a clean EOF.
        if (!c.cut) ::shutdown(p.to, SHUT_WR);
    }

    void startConnection(int clientFd) {
        int serverFd = connectLoopback(targetPort);
        if (serverFd < 0) {
            ::close(clientFd);  // the server is down: the client sees a reset, as it would
            return;
        }
        auto conn = std::make_unique<Connection>();
        conn->client = clientFd;
        conn->server = serverFd;
        if (options.cutProbability > 0 && uniform() < options.cutProbability) {
            std::lock_guard lock(mutex);
            conn->cutAt = std::uniform_int_distribution<uint64_t>(options.cutMinBytes,
                                                                  std::max(options.cutMinBytes, options.cutMaxBytes))(rng);
        }
        for (auto [pipe, from, to, up] : {std::tuple{&conn->up, clientFd, serverFd, true},
                                          std::tuple{&conn->down, serverFd, clientFd, false}}) {
            pipe->conn = conn.get();
            pipe->from = from;
            pipe->to = to;
            pipe->up = up;
        }
        Connection* c = conn.get();
        auto self = shared_from_this();
        auto finish = [self, c] { c->running.fetch_sub(1); };
        c->threads.emplace_back([self, c, finish] { self->readLoop(c->up); finish(); });
        c->threads.emplace_back([self, c, finish] { self->readLoop(c->down); finish(); });
        c->threads.emplace_back([self, c, finish] { self->writeLoop(c->up); finish(); });
        c->threads.emplace_back([self, c, finish] { self->writeLoop(c->down); finish(); });
        std::lock_guard lock(mutex);
        ++stats.connections;
        connections.push_back(std::move(conn));
    }

    void reap(bool all) {
        std::list<std::unique_ptr<Connection>> done;
        {
            std::lock_guard lock(mutex);
            for (auto it = connections.begin(); it != connections.end();) {
                if (all || (*it)->running == 0) {
                    done.push_back(std::move(*it));
                    it = connections.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (auto& c : done) {
            if (all) cutQuietly(*c);
            for (auto& t : c->threads) t.join();
            ::close(c->client);
            ::close(c->server);
        }
    }

    void cutQuietly(Connection& c) {
        c.cut = true;
        ::shutdown(c.client, SHUT_RDWR);
        ::shutdown(c.server, SHUT_RDWR);
        for (Pipe* p : {&c.up, &c.down}) {
            std::lock_guard lock(p->mutex);
            p->ended = true;
            p->cv.notify_all();
        }
    }

    void acceptLoop() {
        while (!stopping) {
            pollfd pfd{listenFd, POLLIN, 0};
            int r = ::poll(&pfd, 1, 100);
            reap(false);
            if (r <= 0) continue;
            int fd = ::accept4(listenFd, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            size_t open;
            {
                std::lock_guard lock(mutex);
                open = connections.size();
            }
            if (open >= size_t(options.maxConnections)) {
                ::close(fd);
                continue;
            }
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            startConnection(fd);
        }
    }
};

LinkProxy::LinkProxy(LinkOptions options) : m_impl(std::make_shared<Impl>()) {
    m_impl->options = options;
    m_impl->targetPort = options.targetPort;
    m_impl->rng.seed(options.seed);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("link proxy: socket() failed");
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 64) != 0) {
        ::close(fd);
        throw std::runtime_error(std::string("link proxy: cannot listen on 127.0.0.1: ") + std::strerror(errno));
    }
    m_impl->listenFd = fd;
    m_impl->acceptThread = std::thread([impl = m_impl] { impl->acceptLoop(); });
}

LinkProxy::~LinkProxy() { stop(); }

int LinkProxy::port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(m_impl->listenFd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
}

LinkStats LinkProxy::stats() const {
    std::lock_guard lock(m_impl->mutex);
    return m_impl->stats;
}

void LinkProxy::setTargetPort(int port) { m_impl->targetPort = port; }

void LinkProxy::stop() {
    if (m_impl->stopping.exchange(true)) return;
    if (m_impl->acceptThread.joinable()) m_impl->acceptThread.join();
    m_impl->reap(true);
    ::close(m_impl->listenFd);
}

}  // namespace ck::test
