// The link proxy stands for a bad network in the sync fault tests and the benchmark; these
// check it does what those rely on: passes bytes unchanged, cuts where told, and takes the
// time a slow link would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "tests/support/link_proxy.h"

using namespace ck::test;
using namespace std::chrono_literals;

namespace {

// An echo server on 127.0.0.1 serving one connection at a time until stopped.
struct EchoServer {
    int fd = -1;
    std::atomic<bool> stop{false};
    std::thread thread;
    EchoServer() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd, 8) == 0);
        thread = std::thread([this] {
            while (!stop) {
                pollfd p{fd, POLLIN, 0};
                if (::poll(&p, 1, 50) <= 0) continue;
                int c = ::accept(fd, nullptr, nullptr);
                if (c < 0) continue;
                char buf[8192];
                for (;;) {
                    pollfd q{c, POLLIN, 0};
                    if (::poll(&q, 1, 50) <= 0) {
                        if (stop) break;
                        continue;
                    }
                    ssize_t n = ::recv(c, buf, sizeof buf, 0);
                    if (n <= 0 || ::send(c, buf, size_t(n), MSG_NOSIGNAL) != n) break;
                }
                ::close(c);
            }
        });
    }
    ~EchoServer() {
        stop = true;
        thread.join();
        ::close(fd);
    }
    int port() const {
        sockaddr_in a{};
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        return ntohs(a.sin_port);
    }
};

int connectTo(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    return fd;
}

// Sends `out` and reads until that many bytes came back, the peer closed, or `limit` passed.
std::vector<uint8_t> roundTrip(int fd, const std::vector<uint8_t>& out, std::chrono::milliseconds limit) {
    std::thread writer([&] { ::send(fd, out.data(), out.size(), MSG_NOSIGNAL); });
    std::vector<uint8_t> in;
    auto deadline = std::chrono::steady_clock::now() + limit;
    uint8_t buf[8192];
    while (in.size() < out.size() && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        in.insert(in.end(), buf, buf + n);
    }
    writer.join();
    return in;
}

std::vector<uint8_t> pattern(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = uint8_t(i * 7 + i / 251);
    return v;
}

}  // namespace

TEST_CASE("an unshaped link passes every byte unchanged") {
    EchoServer echo;
    LinkProxy proxy({.targetPort = echo.port()});
    int fd = connectTo(proxy.port());
    auto out = pattern(200'000);
    auto in = roundTrip(fd, out, 10s);
    ::close(fd);
    CHECK(in == out);
    auto s = proxy.stats();
    CHECK(s.connections == 1);
    CHECK(s.bytesUp == out.size());
    CHECK(s.cuts == 0);
}

TEST_CASE("a cut connection stops at the chosen byte and both sides see the end") {
    EchoServer echo;
    LinkProxy proxy({.targetPort = echo.port(), .cutProbability = 1, .cutMinBytes = 3000, .cutMaxBytes = 3000});
    int fd = connectTo(proxy.port());
    auto out = pattern(50'000);
    auto in = roundTrip(fd, out, 5s);
    ::close(fd);
    // 3,000 bytes cross in all, up and down together: the echo can return fewer than that.
    CHECK(in.size() < 3000);
    CHECK(std::equal(in.begin(), in.end(), out.begin()));
    auto s = proxy.stats();
    CHECK(s.cuts == 1);
    CHECK(s.bytesUp + s.bytesDown == 3000);
}

TEST_CASE("a shaped link takes the time its rate and delay say") {
    EchoServer echo;
    // 10,000 bytes/s each way, 200 ms each way: 5,000 bytes echoed need 0.5 s up, 0.5 s down
    // (pipelined, so about 0.5 s) plus 0.4 s of delay.
    LinkProxy proxy({.targetPort = echo.port(), .bytesPerSecond = 10'000, .oneWayDelay = 200ms});
    int fd = connectTo(proxy.port());
    auto out = pattern(5'000);
    auto t0 = std::chrono::steady_clock::now();
    auto in = roundTrip(fd, out, 10s);
    auto took = std::chrono::steady_clock::now() - t0;
    ::close(fd);
    CHECK(in == out);
    CHECK(took >= 850ms);
    CHECK(took < 5s);
}

TEST_CASE("lost segments are resent late but nothing is lost for real") {
    EchoServer echo;
    LinkProxy proxy({.targetPort = echo.port(), .lossRate = 0.3, .retransmitDelay = 50ms, .seed = 7});
    int fd = connectTo(proxy.port());
    auto out = pattern(100'000);
    auto in = roundTrip(fd, out, 20s);
    ::close(fd);
    CHECK(in == out);
    CHECK(proxy.stats().segmentsLost > 0);
}

TEST_CASE("a server that is down means a refused connection, not a hang") {
    int port;
    {
        EchoServer gone;
        port = gone.port();
    }
    LinkProxy proxy({.targetPort = port});
    int fd = connectTo(proxy.port());
    auto in = roundTrip(fd, pattern(100), 3s);
    ::close(fd);
    CHECK(in.empty());
}
