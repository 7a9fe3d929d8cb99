#pragma once
// LinkProxy: a TCP proxy on 127.0.0.1 that stands for a bad link between a field device and
// the aggregator. Tests and benchmarks put it between a real client and a real server.
//  - Cuts: each connection is cut (both sides closed, mid-stream) after a random number of
//    bytes in [cutMinBytes, cutMaxBytes], counted over both directions, with probability
//    cutProbability. Shows what a dropped mobile connection does to a sync.
//  - Shaping: bytes cross each direction at `bytesPerSecond`, arrive `oneWayDelay` later,
//    and a `lossRate` share of 1460-byte segments is "lost": it is sent again after
//    `retransmitDelay` and everything behind it waits (TCP's in-order delivery), which is
//    what a lost packet costs a TCP stream. netem would do this in the kernel, but the module
//    is not available on every machine, so the proxy does it in user space.
// Bounded: at most maxConnections at once (more are refused); stop() closes everything.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace ck::test {

struct LinkOptions {
    int targetPort = 0;  // on 127.0.0.1
    double cutProbability = 0;
    uint64_t cutMinBytes = 0, cutMaxBytes = 0;
    double bytesPerSecond = 0;  // 0: unlimited
    std::chrono::milliseconds oneWayDelay{0};
    double lossRate = 0;
    std::chrono::milliseconds retransmitDelay{1000};
    uint32_t seed = 1;
    int maxConnections = 64;
};

struct LinkStats {
    uint64_t connections = 0;
    uint64_t cuts = 0;
    uint64_t bytesUp = 0;    // client -> server
    uint64_t bytesDown = 0;  // server -> client
    uint64_t segmentsLost = 0;
};

class LinkProxy {
public:
    explicit LinkProxy(LinkOptions options);
    ~LinkProxy();
    LinkProxy(const LinkProxy&) = delete;
    LinkProxy& operator=(const LinkProxy&) = delete;

    int port() const;  // where clients connect
    LinkStats stats() const;
    void setTargetPort(int port);  // the server restarted elsewhere
    void stop();

private:
    struct Impl;
    std::shared_ptr<Impl> m_impl;
};

}  // namespace ck::test
