// Attacks on a real `ck-aggregator serve` process from outside, with no login: compressed
// bombs and endless chunked bodies (serve's peak memory read from /proc/PID/status), hundreds
// of idle and dripping connections held open while a real device syncs, and an old signed
// request copied off a stick and replayed to lock its device out. Each of these broke the
// aggregator before its connection front (sync/aggregator/http_front.h) and the checks in
// server.cpp; see README "Hardening against attack".
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <brotli/encode.h>
#include <openssl/ssl.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "app/store/store.h"
#include "app/sync/field_sync.h"
#include "tests/support/aggregator_process.h"
#include "tests/sync/aggregator/server/live_aggregator.h"
#include "tests/sync/faults/field_sync_fixture.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace ck::test::faults;
using ck::test::runCommand;
using ck::test::shellQuote;
using SteadyClock = std::chrono::steady_clock;

namespace {

fs::path scratchFor(const std::string& name) { return scratch("edge_attacks", name); }

// A kB figure from /proc/PID/status: VmHWM is the peak resident set since the process began.
long procStatusKb(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    return -1;
}

size_t openDescriptors(pid_t pid) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) ++n;
    return n;
}

// A TCP connection to 127.0.0.1:port from `source` (any 127.x.y.z: all of 127/8 is this host,
// so a test can be several client addresses). -1 when it cannot connect.
int connectFrom(const char* source, int port, bool nonBlocking = false) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in src{};
    src.sin_family = AF_INET;
    inet_pton(AF_INET, source, &src.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
        ::close(fd);
        return -1;
    }
    sockaddr_in dst{};
    dst.sin_family = AF_INET;
    dst.sin_port = htons(static_cast<uint16_t>(port));
    dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
        ::close(fd);
        return -1;
    }
    if (nonBlocking) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

struct Exchange {
    std::string answer;  // status line and headers (and whatever body came with them)
    size_t sent = 0;     // bytes of the request the server took before answering or closing
};

// Sends `head`, then `body` and then `more()` again and again (up to `maxBytes` in all),
// while reading: stops when the answer's headers are in, the server closes, or `limit` passes.
Exchange sendWhileReading(int port, const std::string& head, const std::string& body,
                          const std::function<std::string()>& more, size_t maxBytes, std::chrono::seconds limit) {
    Exchange x;
    int fd = connectFrom("127.0.0.1", port, true);
    REQUIRE(fd >= 0);
    std::string pending = head + body;
    size_t offset = 0;
    bool sending = true;
    auto deadline = SteadyClock::now() + limit;
    char buf[4096];
    while (SteadyClock::now() < deadline && x.answer.find("\r\n\r\n") == std::string::npos) {
        pollfd p{fd, static_cast<short>(POLLIN | (sending ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        if (p.revents & POLLIN) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            x.answer.append(buf, static_cast<size_t>(n));
        }
        if (sending && (p.revents & POLLOUT)) {
            if (offset == pending.size()) {
                if (!more || x.sent >= maxBytes) {
                    sending = false;
                    continue;
                }
                pending = more();
                offset = 0;
            }
            ssize_t n = ::send(fd, pending.data() + offset, pending.size() - offset, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN) sending = false;  // the server closed: keep reading what it said
            if (n > 0) {
                offset += static_cast<size_t>(n);
                x.sent += static_cast<size_t>(n);
            }
        }
        if (p.revents & (POLLERR | POLLHUP) && !(p.revents & POLLIN)) break;
    }
    ::close(fd);
    return x;
}

std::string gzipOfZeros(size_t decodedBytes) {
    z_stream z{};
    REQUIRE(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    std::vector<unsigned char> zeros(1 << 20, 0), out(1 << 16);
    std::string result;
    for (size_t done = 0; done < decodedBytes; done += zeros.size()) {
        bool last = done + zeros.size() >= decodedBytes;
        z.next_in = zeros.data();
        z.avail_in = static_cast<uInt>(zeros.size());
        do {
            z.next_out = out.data();
            z.avail_out = static_cast<uInt>(out.size());
            deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
            result.append(reinterpret_cast<char*>(out.data()), out.size() - z.avail_out);
        } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    return result;
}

std::string brotliOfZeros(size_t decodedBytes) {
    BrotliEncoderState* s = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    BrotliEncoderSetParameter(s, BROTLI_PARAM_QUALITY, 5);
    std::vector<uint8_t> zeros(1 << 20, 0), out(1 << 16);
    std::string result;
    for (size_t done = 0; done < decodedBytes; done += zeros.size()) {
        bool last = done + zeros.size() >= decodedBytes;
        size_t availIn = zeros.size();
        const uint8_t* in = zeros.data();
        do {
            size_t availOut = out.size();
            uint8_t* o = out.data();
            REQUIRE(BrotliEncoderCompressStream(s, last ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS, &availIn,
                                                &in, &availOut, &o, nullptr));
            result.append(reinterpret_cast<char*>(out.data()), out.size() - availOut);
        } while (availIn > 0 || BrotliEncoderHasMoreOutput(s) || (last && !BrotliEncoderIsFinished(s)));
    }
    BrotliEncoderDestroyInstance(s);
    return result;
}

std::string requestHead(const std::string& extraHeaders) {
    return "POST /v1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-clusterkit-frame\r\n" +
           extraHeaders + "\r\n";
}

// A real serve on plain HTTP (loopback), its data folder initialised by the real CLI.
struct PlainServe {
    fs::path dir;
    std::unique_ptr<ck::test::AggregatorProcess> process;
    explicit PlainServe(const std::string& name, std::vector<std::string> extra = {}) : dir(scratchFor(name)) {
        initAggregator(dir / "aggregator");
        std::vector<std::string> args{"--data", (dir / "aggregator").string(), "--listen", "127.0.0.1:0", "--http"};
        args.insert(args.end(), extra.begin(), extra.end());
        process = std::make_unique<ck::test::AggregatorProcess>(CK_AGGREGATOR_BIN, args, kAdmin);
        process->setLogFile((dir / "serve.log").string());
        REQUIRE(process->start());
    }
    int port() const { return process->port(); }
    pid_t pid() const { return process->pid(); }
    // Still answering a plain GET?
    bool alive() const {
        Exchange x = sendWhileReading(port(), "GET /v1/hello HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "", {}, 0, 5s);
        return x.answer.rfind("HTTP/1.1 200", 0) == 0;
    }
};

constexpr long kMemoryAllowanceKb = 96 * 1024;  // the 8 MiB body cap, twice, and plenty to spare

}  // namespace

TEST_CASE("edge: gzip, deflate and brotli bodies are refused with 415 before any decoding", "[faults][edge]") {
    PlainServe serve("bombs");
    long before = procStatusKb(serve.pid(), "VmHWM");
    REQUIRE(before > 0);
    // 512 MiB of zeros each: a few hundred bytes (brotli) to half a megabyte (gzip) on the wire.
    const size_t decoded = 512u << 20;
    std::string gzip = gzipOfZeros(decoded), brotli = brotliOfZeros(decoded);
    INFO("gzip bomb " << gzip.size() << " bytes, brotli bomb " << brotli.size() << " bytes");
    REQUIRE(brotli.size() < 4096);
    struct Case {
        std::string coding, body;
    };
    for (const Case& c : {Case{"gzip", gzip}, Case{"deflate", gzip}, Case{"br", brotli}, Case{"BR", brotli},
                          Case{"identity, br", brotli}}) {
        INFO("Content-Encoding: " << c.coding);
        Exchange x = sendWhileReading(serve.port(),
                                      requestHead("Content-Encoding: " + c.coding + "\r\nContent-Length: " +
                                                  std::to_string(c.body.size()) + "\r\n"),
                                      c.body, {}, 0, 20s);
        CHECK(x.answer.rfind("HTTP/1.1 415", 0) == 0);
    }
    // The same bomb chunked instead of with a length: still refused before decoding.
    Exchange x = sendWhileReading(serve.port(), requestHead("Content-Encoding: br\r\nTransfer-Encoding: chunked\r\n"),
                                  [&] {
                                      char size[32];
                                      std::snprintf(size, sizeof size, "%zx\r\n", brotli.size());
                                      return size + brotli + "\r\n0\r\n\r\n";
                                  }(),
                                  {}, 0, 20s);
    CHECK(x.answer.rfind("HTTP/1.1 415", 0) == 0);
    long after = procStatusKb(serve.pid(), "VmHWM");
    INFO("serve's peak resident memory: " << before << " kB before, " << after << " kB after");
    std::cout << Catch::getResultCapture().getCurrentTestName() << ": serve's peak resident memory " << before
              << " kB before, " << after << " kB after" << std::endl;
    CHECK(after - before < kMemoryAllowanceKb);
    CHECK(serve.alive());
}

TEST_CASE("edge: endless chunked bodies are cut at the body limit with 413, memory bounded", "[faults][edge]") {
    PlainServe serve("chunked");
    long before = procStatusKb(serve.pid(), "VmHWM");
    const std::string chunk(64 * 1024, 'A');
    auto nextChunk = [&] { return "10000\r\n" + chunk + "\r\n"; };
    const size_t attempt = 256u << 20;  // what the attacker would send if the server kept reading

    SECTION("chunks forever") {
        auto started = SteadyClock::now();
        Exchange x = sendWhileReading(serve.port(), requestHead("Transfer-Encoding: chunked\r\n"), "", nextChunk,
                                      attempt, 60s);
        INFO("the server took " << x.sent << " bytes before answering " << x.answer.substr(0, 40));
        CHECK(x.answer.rfind("HTTP/1.1 413", 0) == 0);
        CHECK(x.sent < 64u << 20);  // 8 MiB read, a short drain, socket buffers
        CHECK(SteadyClock::now() - started < 30s);
    }
    SECTION("chunked with a small Content-Length beside it (the shape that was read unbounded)") {
        Exchange x = sendWhileReading(serve.port(), requestHead("Content-Length: 10\r\nTransfer-Encoding: chunked\r\n"),
                                      "", nextChunk, attempt, 60s);
        CHECK(x.answer.rfind("HTTP/1.1 400", 0) == 0);
        CHECK(x.sent < 64u << 20);
    }
    SECTION("a chunk-size line that never ends") {
        Exchange x = sendWhileReading(serve.port(), requestHead("Transfer-Encoding: chunked\r\n"), "",
                                      [] { return std::string(64 * 1024, 'f'); }, attempt, 60s);
        CHECK((x.answer.rfind("HTTP/1.1 413", 0) == 0 || x.answer.rfind("HTTP/1.1 400", 0) == 0));
        CHECK(x.sent < 64u << 20);
    }
    SECTION("a header block that never ends") {
        Exchange x = sendWhileReading(serve.port(), "POST /v1/upload HTTP/1.1\r\n", "",
                                      [] { return "X-Pad: " + std::string(1000, 'p') + "\r\n"; }, attempt, 60s);
        CHECK(x.answer.rfind("HTTP/1.1 431", 0) == 0);
        CHECK(x.sent < 16u << 20);
    }
    long after = procStatusKb(serve.pid(), "VmHWM");
    INFO("serve's peak resident memory: " << before << " kB before, " << after << " kB after");
    std::cout << Catch::getResultCapture().getCurrentTestName() << ": serve's peak resident memory " << before
              << " kB before, " << after << " kB after" << std::endl;
    CHECK(after - before < kMemoryAllowanceKb);
    CHECK(serve.alive());
}

namespace {

// Connections an attacker holds open against a TLS serve, re-opened as soon as the server
// drops them, until stopped. Each kind is a third of `count`:
//   idle:       TCP connected, not a byte sent (stuck before the TLS handshake)
//   headers:    TLS handshake done, then a request's headers a byte every 300 ms
//   body:       TLS, whole headers promising 1 MB, then the body a byte every 300 ms
class Siege {
public:
    Siege(int port, std::vector<std::string> sources, size_t count) : m_port(port), m_sources(std::move(sources)) {
        // OpenSSL writes with write(): a socket the server closed must not end the test.
        ::signal(SIGPIPE, SIG_IGN);
        m_ctx = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(m_ctx, SSL_VERIFY_NONE, nullptr);
        m_slots.resize(count);
        for (size_t i = 0; i < count; ++i) m_slots[i].kind = static_cast<Kind>(i % 3);
        m_thread = std::thread([this] { run(); });
    }
    ~Siege() {
        m_stop = true;
        m_thread.join();
        for (auto& s : m_slots) closeSlot(s);
        SSL_CTX_free(m_ctx);
    }
    size_t opened() const { return m_opened; }
    size_t heldNow() const { return m_held; }

private:
    enum class Kind { Idle, Headers, Body };
    struct Slot {
        Kind kind = Kind::Idle;
        int fd = -1;
        SSL* ssl = nullptr;
        size_t dripped = 0;
    };
    void closeSlot(Slot& s) {
        if (s.ssl) SSL_free(s.ssl);
        if (s.fd >= 0) ::close(s.fd);
        s.ssl = nullptr;
        s.fd = -1;
        s.dripped = 0;
    }
    bool open(Slot& s, size_t index) {
        s.fd = connectFrom(m_sources[index % m_sources.size()].c_str(), m_port);
        if (s.fd < 0) return false;
        ++m_opened;
        if (s.kind == Kind::Idle) return true;
        s.ssl = SSL_new(m_ctx);
        SSL_set_fd(s.ssl, s.fd);
        if (SSL_connect(s.ssl) != 1) return false;
        std::string head = "POST /v1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        if (s.kind == Kind::Body) head += "Content-Type: application/x-clusterkit-frame\r\nContent-Length: 1000000\r\n\r\n";
        return SSL_write(s.ssl, head.data(), static_cast<int>(head.size())) > 0;
    }
    // Still open from the server's side? (a close shows as readable with nothing to read)
    bool alive(Slot& s) {
        if (s.fd < 0) return false;
        pollfd p{s.fd, POLLIN, 0};
        if (::poll(&p, 1, 0) == 0) return true;
        char c;
        ssize_t n = ::recv(s.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        return n > 0;  // bytes to read (a TLS record) but not closed
    }
    void drip(Slot& s) {
        if (!s.ssl) return;
        const char byte = s.kind == Kind::Headers ? (s.dripped % 2 ? '\n' : 'X') : 'B';
        if (SSL_write(s.ssl, &byte, 1) <= 0) closeSlot(s);
        ++s.dripped;
    }
    void run() {
        auto end = SteadyClock::now() + 150s;  // a test that forgets to stop still ends
        while (!m_stop && SteadyClock::now() < end) {
            size_t held = 0;
            for (size_t i = 0; i < m_slots.size() && !m_stop; ++i) {
                Slot& s = m_slots[i];
                if (!alive(s)) {
                    closeSlot(s);
                    if (!open(s, i)) closeSlot(s);
                } else {
                    drip(s);
                }
                held += s.fd >= 0;
            }
            m_held = held;
            std::this_thread::sleep_for(300ms);
        }
    }

    int m_port;
    std::vector<std::string> m_sources;
    SSL_CTX* m_ctx = nullptr;
    std::vector<Slot> m_slots;
    std::atomic<bool> m_stop{false};
    std::atomic<size_t> m_opened{0}, m_held{0};
    std::thread m_thread;
};

}  // namespace

TEST_CASE("edge: 200 idle and dripping connections leave a real device's sync working", "[faults][edge]") {
    fs::path dir = scratchFor("siege");
    fs::path data = dir / "aggregator";
    initAggregator(data);
    EnrolmentSlip slip = enrolmentSlip(data, "Priya", "tiruppur_knitwear");
    ck::test::AggregatorProcess server(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
    server.setLogFile((dir / "serve.log").string());
    REQUIRE(server.start());
    ck::sync::ServerAddress address{"https://127.0.0.1:" + std::to_string(server.port()), slip.tlsPin};
    ck::Store store = officerStore(dir / "officer.ckstore", 60);
    auto enrolled = ck::enrolDevice(store, address, slip.code, "siege tablet");
    REQUIRE(std::holds_alternative<ck::EnrolmentDone>(enrolled));
    const size_t descriptorsBefore = openDescriptors(server.pid());

    // The device's own policy, not a patient one: a sync that waits in line behind the
    // attackers fails exactly as an officer's would.
    ck::sync::RetryPolicy policy;
    policy.maxAttempts = 3;
    policy.connectTimeout = 10s;
    policy.requestTimeout = 20s;

    auto syncWhileBesieged = [&](std::vector<std::string> sources, bool checkCap) {
        Siege siege(server.port(), std::move(sources), 200);
        // Let the attackers reach their full number (and the server its cap) first.
        auto until = SteadyClock::now() + 20s;
        while (siege.opened() < 200 && SteadyClock::now() < until) std::this_thread::sleep_for(100ms);
        std::this_thread::sleep_for(2s);
        INFO("attacker connections opened so far: " << siege.opened() << ", held: " << siege.heldNow());
        CHECK(siege.opened() >= 200);  // (before the front, the attackers' own handshakes stalled here)
        if (checkCap) {
            // One address holds at most its cap (16) of the server's descriptors, whatever it opens.
            size_t held = openDescriptors(server.pid()) - descriptorsBefore;
            INFO("descriptors serve holds for the attacker: " << held);
            CHECK(held <= 16 + 2);
        }
        auto started = SteadyClock::now();
        ck::sync::SyncClient client(address, policy);
        auto result = ck::syncNow(store, client, {}, 10);
        auto took = SteadyClock::now() - started;
        std::string error = std::holds_alternative<std::string>(result) ? std::get<std::string>(result) : "";
        INFO("sync took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms; " << error);
        std::cout << "sync of a batch of visits under siege: "
                  << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms, attacker connections opened "
                  << siege.opened() << ", held " << siege.heldNow() << std::endl;
        CHECK(error.empty());
        CHECK(took < 30s);
    };

    SECTION("all from one address") { syncWhileBesieged({"127.0.0.2"}, true); }
    SECTION("spread over 20 addresses, 10 each (under the per-address cap)") {
        std::vector<std::string> sources;
        for (int i = 2; i < 22; ++i) sources.push_back("127.0.0." + std::to_string(i));
        syncWhileBesieged(sources, false);
    }
    CHECK(unanswered(store) == 0);
    CHECK(server.terminate() == 0);
}

TEST_CASE("edge: an old signed request replayed many times does not lock its device out", "[faults][edge]") {
    fs::path dir = scratchFor("replay");
    fs::path data = dir / "aggregator";
    initAggregator(data);
    EnrolmentSlip slip = enrolmentSlip(data, "Priya", "tiruppur_knitwear");
    // One request every 20 s per device, bursts of 3: a handful of replays would empty it.
    ck::test::AggregatorProcess server(
        CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0", "--rate", "0.05", "--burst", "3"}, kAdmin);
    server.setLogFile((dir / "serve.log").string());
    REQUIRE(server.start());
    std::string url = "https://127.0.0.1:" + std::to_string(server.port());

    ck::test::TestDevice device = ck::test::newTestDevice();
    ck::proto::EnrolRequest enrol{slip.code, device.publicKey, "Tab", ck::agg::systemClock(), {}};
    enrol.signature = device.sign()(ck::proto::signingBytes(enrol));
    ck::test::RawReply r = ck::test::rawPost(url + "/v1/enrol", enrol);
    REQUIRE(r.status == 200);

    // A request the device really signed two days ago, as copied off a USB stick.
    ck::proto::UpdatesRequest old{device.publicKey, 0, ck::agg::systemClock() - 2 * 86400, {}};
    old.signature = device.sign()(ck::proto::signingBytes(old));
    int refused = 0;
    for (int i = 0; i < 20; ++i) {
        r = ck::test::rawPost(url + "/v1/updates", old);
        refused += r.status == 401 || r.status == 429;
    }
    CHECK(refused == 20);  // stale (401), then the sender's address bucket (429): never served

    // The real device, signing now, is served at once.
    ck::proto::UpdatesRequest fresh{device.publicKey, 0, ck::agg::systemClock(), {}};
    fresh.signature = device.sign()(ck::proto::signingBytes(fresh));
    r = ck::test::rawPost(url + "/v1/updates", fresh);
    INFO((r.error() ? r.error()->message : std::string()));
    CHECK(r.status == 200);
    CHECK(server.terminate() == 0);
}

namespace {

unsigned modeOf(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("edge: files that hold data are the operator's only: 0600, folders 0700", "[faults][edge]") {
    // The usual shell umask, which would leave everything readable by every local user.
    const mode_t previous = ::umask(022);
    fs::path dir = scratchFor("modes");
    fs::path data = dir / "aggregator";
    initAggregator(data);
    EnrolmentSlip slip = enrolmentSlip(data, "Priya", "tiruppur_knitwear");
    auto issued = runCommand(aggregatorCommand(data, "report-tokens issue --label auditor"));
    INFO(issued.all());
    REQUIRE(issued.status == 0);
    {
        ck::test::AggregatorProcess server(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
        REQUIRE(server.start());
        ck::Store store = officerStore(dir / "officer.ckstore", 3);
        ck::sync::ServerAddress address{"https://127.0.0.1:" + std::to_string(server.port()), slip.tlsPin};
        REQUIRE(std::holds_alternative<ck::EnrolmentDone>(ck::enrolDevice(store, address, slip.code, "modes tablet")));
        ck::sync::SyncClient client(address);
        REQUIRE(std::holds_alternative<ck::SyncSummary>(ck::syncNow(store, client)));
        // While serve has the storage open, its write-ahead log and shared memory exist too.
        CHECK(modeOf(data) == 0700);
        for (const char* name : {"aggregator.db", "aggregator.db-wal", "aggregator.db-shm", "report-tokens.json",
                                 "keys.ck", "tls-key.pem"}) {
            INFO(name);
            REQUIRE(fs::exists(data / name));
            CHECK(modeOf(data / name) == 0600);
        }
        CHECK(server.terminate() == 0);
    }
    auto exported = runCommand(aggregatorCommand(data, "export --out " + shellQuote((dir / "export").string())));
    INFO(exported.all());
    REQUIRE(exported.status == 0);
    CHECK(modeOf(dir / "export") == 0700);
    size_t files = 0;
    for (const auto& e : fs::directory_iterator(dir / "export")) {
        INFO(e.path());
        CHECK(modeOf(e.path()) == 0600);
        ++files;
    }
    CHECK(files >= 2);

    // A folder left loose (made by an older version, or copied) is tightened when serve starts.
    fs::permissions(data, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                              fs::perms::others_exec);
    fs::permissions(data / "aggregator.db", fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                                                fs::perms::others_read);
    fs::permissions(data / "report-tokens.json", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
    {
        ck::test::AggregatorProcess server(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
        REQUIRE(server.start());
        CHECK(modeOf(data) == 0700);
        CHECK(modeOf(data / "aggregator.db") == 0600);
        CHECK(modeOf(data / "report-tokens.json") == 0600);
        CHECK(server.terminate() == 0);
    }
    ::umask(previous);
}

TEST_CASE("edge: a batch of enormous record ids is refused whole and writes nothing", "[faults][edge]") {
    fs::path dir = scratchFor("long-ids");
    fs::path data = dir / "aggregator";
    initAggregator(data);
    EnrolmentSlip slip = enrolmentSlip(data, "Priya", "tiruppur_knitwear");
    ck::test::AggregatorProcess server(CK_AGGREGATOR_BIN, {"--data", data.string(), "--listen", "127.0.0.1:0"}, kAdmin);
    REQUIRE(server.start());
    std::string url = "https://127.0.0.1:" + std::to_string(server.port());
    ck::test::TestDevice device = ck::test::newTestDevice();
    ck::proto::EnrolRequest enrol{slip.code, device.publicKey, "Tab", ck::agg::systemClock(), {}};
    enrol.signature = device.sign()(ck::proto::signingBytes(enrol));
    ck::test::RawReply r = ck::test::rawPost(url + "/v1/enrol", enrol);
    REQUIRE(r.status == 200);
    auto enrolled = r.reply<ck::proto::EnrolReply>();
    REQUIRE(enrolled);

    // One real sealed visit, sent 1,000 times under ids of 60,000 bytes: compressed, the
    // request is small; opened, every refusal and audit row would carry its id (60 MB).
    ck::Record record = ck::test::visitRecord(1, "2026.1");
    ck::SealInput in;
    in.record = &record;
    in.personalFields = {"udyam_number"};
    in.aggregatorPublicKey = enrolled->ingestPublicKey;
    in.signingSecretKey = &device.secretKey;
    in.signingPublicKey = device.publicKey;
    ck::proto::WireEnvelope wire = ck::proto::toWire(ck::sealEnvelope(in));
    ck::proto::UploadBatch batch;
    batch.devicePublicKey = device.publicKey;
    batch.sentAt = ck::agg::systemClock();
    for (int i = 0; i < 1000; ++i) {
        wire.recordId = std::to_string(i) + std::string(60'000, 'A');
        batch.envelopes.push_back(wire);
    }
    batch.signature = device.sign()(ck::proto::signingBytes(batch));
    std::vector<uint8_t> frame = ck::proto::encodeFrame(batch);
    INFO("request body: " << frame.size() << " bytes");
    REQUIRE(frame.size() < 8u << 20);

    auto storageBytes = [&] {
        uintmax_t n = 0;
        for (const char* name : {"aggregator.db", "aggregator.db-wal"})
            if (fs::exists(data / name)) n += fs::file_size(data / name);
        return n;
    };
    const uintmax_t before = storageBytes();
    r = ck::test::rawPost(url + "/v1/upload", frame);
    CHECK(r.status == 400);
    CHECK(r.error());
    if (r.error()) {
        CHECK(r.error()->code == ck::proto::ErrorCode::MalformedBody);
        CHECK(r.error()->message.size() < 1024);
    }
    const uintmax_t after = storageBytes();
    INFO("storage files: " << before << " bytes before, " << after << " after");
    std::cout << "1,000 ids of 60,000 bytes: storage " << before << " bytes before, " << after << " after" << std::endl;
    CHECK(after < before + (1u << 20));
    CHECK(server.terminate() == 0);
}
