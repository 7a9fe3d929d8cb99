// The aggregator's HTTPS front over a real socket: every refusal with its own status and
// ErrorReply, the limits, plain HTTP off loopback, and a stop() with requests in flight.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/sync/aggregator/server/live_aggregator.h"

using namespace ck;
using ck::test::LiveAggregator;
using ck::test::rawPost;
using proto::ErrorCode;

namespace {

const char* kSuite = "test_agg_server";

// Sends bytes on a plain TCP connection and returns what comes back before the server
// closes or `timeout` passes.
std::string rawExchange(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size()));
    // Up to the end of the status line and headers: the server may keep the connection open.
    std::string out;
    char buf[4096];
    ssize_t n;
    while (out.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buf, sizeof buf, 0)) > 0)
        out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
}

}  // namespace

TEST_CASE("Server: hello, enrolment and an upload over HTTPS", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg.start();
    REQUIRE(agg.port() > 0);

    test::TestDevice device = test::newTestDevice();
    const std::string code = agg.code();
    proto::EnrolRequest enrol{code, device.publicKey, "Tab 1", agg::systemClock(), {}};
    enrol.signature = device.sign()(proto::signingBytes(enrol));
    test::RawReply r = rawPost(agg.url() + "/v1/enrol", enrol);
    REQUIRE(r.status == 200);
    auto reply = r.reply<proto::EnrolReply>();
    REQUIRE(reply);
    CHECK(reply->ingestPublicKey == agg.keys.ingestPublicKey);
    CHECK(reply->aggregatorName == "Test baseline");
    device.deviceId = reply->deviceId;

    auto envelopes = agg.visits(3, device);
    r = rawPost(agg.url() + "/v1/upload", agg.batch(envelopes, device));
    REQUIRE(r.status == 200);
    auto acks = r.reply<proto::UploadReply>();
    REQUIRE(acks);
    REQUIRE(acks->acks.size() == 3);
    for (const auto& a : acks->acks) {
        INFO(a.message);
        CHECK(a.status == proto::AckStatus::Stored);
    }
    CHECK(agg.storage->countVisits() == 3);

    // One log line per request, naming device and endpoint, never the code or a key.
    CHECK(agg.logCount("/v1/upload 200") == 1);
    CHECK(agg.logCount("device=" + device.deviceId) >= 1);
    CHECK(agg.logCount("records=3") == 1);
    for (const auto& line : agg.log()) CHECK(line.find(code) == std::string::npos);

    // GET /v1/hello, and the pin the server presents is the certificate's.
    CHECK(test::pinnedGet(agg.url() + "/v1/hello", agg.cert.publicKeyPin) ==
          "clusterkit-aggregator protocol=1 name=Test baseline\n");
    std::string error;
    CHECK(test::pinnedGet(agg.url() + "/v1/hello", "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &error).empty());
    CHECK_FALSE(error.empty());
}

TEST_CASE("Server: malformed, truncated, wrong-version and misrouted bodies are refused with 400", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg.start();
    test::TestDevice device = agg.enrolledDevice();
    std::vector<uint8_t> good = proto::encodeFrame(agg.batch(agg.visits(2, device), device));

    SECTION("garbage") {
        test::RawReply r = rawPost(agg.url() + "/v1/upload", std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
        CHECK(r.status == 400);
        REQUIRE(r.error());
        CHECK(r.error()->code == ErrorCode::MalformedBody);
        CHECK_FALSE(r.error()->message.empty());
    }
    SECTION("truncated") {
        std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(good.size() / 2));
        test::RawReply r = rawPost(agg.url() + "/v1/upload", cut);
        CHECK(r.status == 400);
        REQUIRE(r.error());
        CHECK(r.error()->code == ErrorCode::MalformedBody);
    }
    SECTION("empty") {
        test::RawReply r = rawPost(agg.url() + "/v1/upload", std::vector<uint8_t>{});
        CHECK(r.status == 400);
        REQUIRE(r.error());
    }
    SECTION("another protocol version") {
        std::vector<uint8_t> v2 = good;
        v2[4] = 2;
        v2[5] = 0;
        test::RawReply r = rawPost(agg.url() + "/v1/upload", v2);
        CHECK(r.status == 400);
        REQUIRE(r.error());
        CHECK(r.error()->code == ErrorCode::WrongProtocolVersion);
        CHECK(r.error()->message.find('2') != std::string::npos);
    }
    SECTION("a frame of the wrong kind for the endpoint") {
        test::RawReply r = rawPost(agg.url() + "/v1/enrol", good);
        CHECK(r.status == 400);
        REQUIRE(r.error());
        CHECK(r.error()->code == ErrorCode::MalformedBody);
        CHECK(r.error()->message.find("EnrolRequest") != std::string::npos);
    }
    SECTION("no such endpoint") {
        test::RawReply r = rawPost(agg.url() + "/v1/nothing", good);
        CHECK(r.status == 404);
        REQUIRE(r.error());
        CHECK(r.error()->code == ErrorCode::NotFound);
    }
    // Whatever was refused, nothing was stored.
    CHECK(agg.storage->countVisits() == 0);
}

TEST_CASE("Server: a body above maxBodyBytes is refused with 413 before it is read", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg::ServerOptions o = agg.options();
    o.maxBodyBytes = 8 * 1024;
    agg.start(o);
    test::TestDevice device = agg.enrolledDevice();

    // Over HTTPS with a real body: a batch larger than the limit.
    auto big = agg.batch(agg.visits(60, device), device);
    std::vector<uint8_t> frame = proto::encodeFrame(big);
    REQUIRE(frame.size() > o.maxBodyBytes);
    test::RawReply r = rawPost(agg.url() + "/v1/upload", frame);
    CHECK(r.status == 413);
    REQUIRE(r.error());
    CHECK(r.error()->code == ErrorCode::BodyTooLarge);
    CHECK(agg.storage->countVisits() == 0);

    // The same limit lets a small batch through.
    r = rawPost(agg.url() + "/v1/upload", agg.batch(agg.visits(2, device, 100), device));
    CHECK(r.status == 200);
    CHECK(agg.storage->countVisits() == 2);
}

TEST_CASE("Server: a declared length above the limit is answered without waiting for the body", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg::ServerOptions o = agg.options();
    o.tls = false;  // raw bytes on the socket; loopback, so plain HTTP is allowed
    o.maxBodyBytes = 64 * 1024;
    agg.start(o);
    // Claims a gigabyte and sends none of it: the answer must come at once.
    auto started = std::chrono::steady_clock::now();
    std::string answer = rawExchange(agg.port(),
                                     "POST /v1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                     "application/x-clusterkit-frame\r\nContent-Length: 1073741824\r\n\r\n",
                                     std::chrono::milliseconds(2000));
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(took < std::chrono::milliseconds(1500));

    // A chunked body is read only up to the limit: one chunk larger than the limit is refused
    // with 413 as soon as the limit is passed, without waiting for the rest.
    std::string chunk(70 * 1024, 'x');
    started = std::chrono::steady_clock::now();
    answer = rawExchange(agg.port(),
                         "POST /v1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "100000\r\n" + chunk,
                         std::chrono::milliseconds(3000));
    took = std::chrono::steady_clock::now() - started;
    CHECK(answer.rfind("HTTP/1.1 413", 0) == 0);
    CHECK(took < std::chrono::milliseconds(1500));
    // A POST with no length and no chunks would be read to the end of the connection: refused.
    answer = rawExchange(agg.port(), "POST /v1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                         std::chrono::milliseconds(3000));
    CHECK(answer.rfind("HTTP/1.1 411", 0) == 0);
}

TEST_CASE("Server: unknown, revoked and badly signed devices get 401/403", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg.start();

    test::TestDevice stranger = test::newTestDevice();
    test::RawReply r = rawPost(agg.url() + "/v1/updates", agg.updatesRequest(stranger));
    CHECK(r.status == 401);
    REQUIRE(r.error());
    CHECK(r.error()->code == ErrorCode::UnknownDevice);

    test::TestDevice device = agg.enrolledDevice();
    proto::UpdatesRequest forged = agg.updatesRequest(device);
    forged.cursor = 99;  // changed after signing
    r = rawPost(agg.url() + "/v1/updates", forged);
    CHECK(r.status == 401);
    REQUIRE(r.error());
    CHECK(r.error()->code == ErrorCode::BadSignature);

    proto::UpdatesRequest stale = agg.updatesRequest(device);
    stale.sentAt -= 3600;
    stale.signature = device.sign()(proto::signingBytes(stale));
    r = rawPost(agg.url() + "/v1/updates", stale);
    CHECK(r.status == 401);
    REQUIRE(r.error());
    CHECK(r.error()->code == ErrorCode::StaleRequest);

    REQUIRE(agg.storage->revokeDevice(device.deviceId, agg::systemClock(),
                                      agg::AuditEvent{agg::systemClock(), "revoked", "operator", device.deviceId, ""}));
    r = rawPost(agg.url() + "/v1/upload", agg.batch(agg.visits(1, device), device));
    CHECK(r.status == 403);
    REQUIRE(r.error());
    CHECK(r.error()->code == ErrorCode::RevokedDevice);
    CHECK(agg.storage->countVisits() == 0);
}

TEST_CASE("Server: unknown, expired and replayed enrolment codes", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg.start();
    auto enrolWith = [&](const std::string& code, const test::TestDevice& d) {
        proto::EnrolRequest e{code, d.publicKey, "Tab", agg::systemClock() + agg.clockOffset.load(), {}};
        e.signature = d.sign()(proto::signingBytes(e));
        return rawPost(agg.url() + "/v1/enrol", e);
    };
    test::TestDevice a = test::newTestDevice(), b = test::newTestDevice(), c = test::newTestDevice();

    test::RawReply r = enrolWith("ZZZZ-ZZZZ-ZZZZ", a);
    CHECK(r.status == 404);
    REQUIRE(r.error());
    CHECK(r.error()->code == ErrorCode::EnrolmentCodeUnknown);

    std::string code = agg.code();
    REQUIRE(enrolWith(code, a).status == 200);
    r = enrolWith(code, b);  // the same code again, another device
    CHECK(r.status == 409);
    REQUIRE(r.error());
    CHECK(r.error()->code == ErrorCode::EnrolmentCodeUsed);

    std::string shortLived = agg.code(60);
    agg.clockOffset = 120;  // two minutes later
    r = enrolWith(shortLived, c);
    CHECK(r.status == 410);
    REQUIRE(r.error());
    CHECK(r.error()->code == ErrorCode::EnrolmentCodeExpired);
    CHECK(agg.storage->listDevices().size() == 1);
    for (const auto& line : agg.log()) {
        CHECK(line.find(code) == std::string::npos);
        CHECK(line.find(shortLived) == std::string::npos);
    }
}

TEST_CASE("Server: each device has a token bucket, and an empty one answers 429 with Retry-After", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg::ServerOptions o = agg.options();
    o.ratePerSecond = 0.5;
    o.rateBurst = 3;
    agg.start(o);
    test::TestDevice device = agg.enrolledDevice();
    test::TestDevice other = agg.enrolledDevice();

    int ok = 0, limited = 0;
    std::string retryAfter;
    for (int i = 0; i < 6; ++i) {
        test::RawReply r = rawPost(agg.url() + "/v1/updates", agg.updatesRequest(device));
        if (r.status == 200) ++ok;
        if (r.status == 429) {
            ++limited;
            retryAfter = r.retryAfter;
            REQUIRE(r.error());
            CHECK(r.error()->code == ErrorCode::RateLimited);
            CHECK(r.error()->retryAfterSeconds >= 1);
        }
    }
    CHECK(ok == 3);
    CHECK(limited == 3);
    REQUIRE_FALSE(retryAfter.empty());
    CHECK(std::stoi(retryAfter) >= 1);
    // Another device's bucket is its own.
    CHECK(rawPost(agg.url() + "/v1/updates", agg.updatesRequest(other)).status == 200);

    // Unsigned enrolment attempts share a bucket per address: guessing codes is slowed down.
    int enrolLimited = 0;
    for (int i = 0; i < 6; ++i) {
        test::TestDevice d = test::newTestDevice();
        proto::EnrolRequest e{"ZZZZ-ZZZZ-ZZZZ", d.publicKey, "Tab", agg::systemClock(), {}};
        e.signature = d.sign()(proto::signingBytes(e));
        test::RawReply r = rawPost(agg.url() + "/v1/enrol", e);
        CHECK((r.status == 404 || r.status == 429));
        enrolLimited += r.status == 429;
    }
    CHECK(enrolLimited >= 3);
}

TEST_CASE("Server: plain HTTP is refused off loopback unless asked for", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg::ServerOptions o = agg.options();
    o.tls = false;
    o.address = "0.0.0.0";
    try {
        agg.start(o);
        FAIL("plain HTTP on 0.0.0.0 was not refused");
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()).find("plain HTTP") != std::string::npos);
    }
    agg.server.reset();

    // A certificate that cannot be read is refused with a reason too.
    agg::ServerOptions bad = agg.options();
    bad.certificateFile = agg.folder / "missing.pem";
    CHECK_THROWS_WITH(agg.start(bad), Catch::Contains("missing.pem"));
    agg.server.reset();

    // Plain HTTP on loopback is fine; a port in use is a clear error.
    agg::ServerOptions loop = agg.options();
    loop.tls = false;
    agg.start(loop);
    agg::ServerOptions same = agg.options(agg.port());
    agg::Server second(*agg.ingest, same);
    CHECK_THROWS_WITH(second.start(), Catch::Contains("in use"));
}

TEST_CASE("Server: stop() with requests in flight finishes cleanly", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg.start();
    test::TestDevice device = agg.enrolledDevice();
    std::vector<proto::UploadBatch> batches;
    for (int t = 0; t < 4; ++t) batches.push_back(agg.batch(agg.visits(40, device, t * 1000), device));

    std::atomic<int> stored{0}, acked{0}, failed{0};
    std::vector<std::thread> senders;
    const std::string url = agg.url();
    for (int t = 0; t < 4; ++t)
        senders.emplace_back([&, t] {
            test::RawReply r = rawPost(url + "/v1/upload", batches[static_cast<size_t>(t)]);
            if (r.status == 200) {
                auto acks = r.reply<proto::UploadReply>();
                if (acks)
                    for (const auto& a : acks->acks) {
                        ++acked;
                        stored += a.status == proto::AckStatus::Stored;
                    }
            } else {
                ++failed;
            }
        });
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    auto started = std::chrono::steady_clock::now();
    agg.stop();
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(15));
    for (auto& s : senders) s.join();
    // Every acknowledged record is stored; nothing is stored half.
    CHECK(agg.storage->countVisits() == static_cast<uint64_t>(stored.load()));
    CHECK(acked + failed * 40 == 160);
    CHECK(stored == acked);
    // The port no longer answers.
    test::RawReply after = rawPost(url + "/v1/upload", batches[0]);
    CHECK(after.status == 0);
}

namespace {

// A plain TCP connection to the server; true when the server closes it within `within`.
bool closedByServerWithin(int fd, std::chrono::milliseconds within) {
    timeval tv{static_cast<time_t>(within.count() / 1000), static_cast<suseconds_t>((within.count() % 1000) * 1000)};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n == 0) return true;  // an answer (431, ...) may come first; then the close
        if (n < 0) return errno == ECONNRESET;
    }
}

int openTcp(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    return fd;
}

}  // namespace

TEST_CASE("Server: handshake, header and idle deadlines close what does not move, an address is capped",
          "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg::ServerOptions o = agg.options();
    o.limits.handshakeTimeout = std::chrono::milliseconds(600);
    o.limits.headerTimeout = std::chrono::milliseconds(600);
    o.limits.maxConnectionsPerAddress = 3;
    agg.start(o);

    SECTION("a TCP connection that never starts its TLS handshake") {
        int fd = openTcp(agg.port());
        auto started = std::chrono::steady_clock::now();
        CHECK(closedByServerWithin(fd, std::chrono::seconds(5)));
        auto took = std::chrono::steady_clock::now() - started;
        CHECK(took >= std::chrono::milliseconds(400));
        CHECK(took < std::chrono::seconds(3));
        ::close(fd);
    }
    SECTION("the fourth connection from one address is closed at once; the others are held") {
        int a = openTcp(agg.port()), b = openTcp(agg.port()), c = openTcp(agg.port());
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        int d = openTcp(agg.port());
        auto started = std::chrono::steady_clock::now();
        CHECK(closedByServerWithin(d, std::chrono::seconds(5)));
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(300));
        for (int fd : {a, b, c, d}) ::close(fd);
        // Once they are gone, the address is served again.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        std::string error;
        CHECK(test::pinnedGet(agg.url() + "/v1/hello", agg.cert.publicKeyPin, &error).find("clusterkit-aggregator") == 0);
    }
}

TEST_CASE("Server: plain HTTP headers that drip in are cut at the header deadline", "[sync][server]") {
    LiveAggregator agg(kSuite);
    agg::ServerOptions o = agg.options();
    o.tls = false;
    o.limits.headerTimeout = std::chrono::milliseconds(800);
    agg.start(o);
    int fd = openTcp(agg.port());
    auto started = std::chrono::steady_clock::now();
    bool closed = false;
    // A byte every 100 ms: each arrives well inside any per-read timeout, the whole never does.
    for (int i = 0; i < 60 && !closed; ++i) {
        const char byte = "GET /v1/hello HTTP/1.1\r\nX: "[std::min(i, 26)];
        if (::send(fd, &byte, 1, MSG_NOSIGNAL) != 1) closed = true;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) > 0) {
            char c;
            if (::recv(fd, &c, 1, MSG_DONTWAIT) <= 0) closed = true;
        }
    }
    auto took = std::chrono::steady_clock::now() - started;
    CHECK(closed);
    CHECK(took < std::chrono::seconds(3));
    ::close(fd);
}
