// "Capture location" through gpsd, against the real gpsd from Debian: gpsfake (gpsd-clients)
// starts a private gpsd on a free loopback port and replays an NMEA log into it through a
// pseudo-terminal, as a USB receiver would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "platforms/desktop/gpsd_location.h"

extern char** environ;

using namespace ck;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path kLogs = CK_GPS_TEST_DATA_DIR;

int freeLoopbackPort() {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(s >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    close(s);
    return ntohs(a.sin_port);
}

// gpsfake and the gpsd it starts, in a process group of their own, stopped by that group's id.
class GpsFake {
public:
    GpsFake(const std::filesystem::path& log, int port) {
        std::string portText = std::to_string(port);
        std::vector<std::string> args = {"gpsfake", "-q", "-P", portText, "-c", "0.1", log.string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        // gpsd lives in /usr/sbin, which a plain user's PATH may lack.
        std::vector<std::string> env;
        for (char** e = environ; *e; ++e)
            if (std::string(*e).rfind("PATH=", 0) != 0) env.emplace_back(*e);
        const char* path = std::getenv("PATH");
        env.push_back(std::string("PATH=/usr/sbin:/usr/bin:/sbin:/bin") + (path ? ":" + std::string(path) : ""));
        std::vector<char*> envp;
        for (auto& e : env) envp.push_back(e.data());
        envp.push_back(nullptr);
        posix_spawnattr_t attr;
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawn_file_actions_t files;
        posix_spawn_file_actions_init(&files);
        posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&files, 2, "/dev/null", O_WRONLY, 0);
        int rc = posix_spawnp(&m_pid, "gpsfake", &files, &attr, argv.data(), envp.data());
        posix_spawn_file_actions_destroy(&files);
        posix_spawnattr_destroy(&attr);
        if (rc != 0) m_pid = -1;
    }
    ~GpsFake() {
        if (m_pid <= 0) return;
        kill(-m_pid, SIGTERM);
        for (int i = 0; i < 50; ++i) {
            if (waitpid(m_pid, nullptr, WNOHANG) == m_pid) return;
            std::this_thread::sleep_for(100ms);
        }
        kill(-m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
    }
    bool started() const { return m_pid > 0; }

private:
    pid_t m_pid = -1;
};

// gpsfake needs a moment to start gpsd: asks until it answers, for at most 30 s.
LocationReading captureOnceUp(GpsdLocation& gps, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + 30s;
    LocationReading r;
    do {
        r = gps.capture(timeout);
        if (r.problem != LocationProblem::Unavailable) break;
        std::this_thread::sleep_for(200ms);
    } while (std::chrono::steady_clock::now() < until);
    return r;
}

}  // namespace

TEST_CASE("gpsd with a receiver that has a fix: position, accuracy and the fix's time", "[desktop][gps]") {
    int port = freeLoopbackPort();
    GpsFake fake(kLogs / "tiruppur-fix.nmea", port);
    REQUIRE(fake.started());
    GpsdLocation gps("127.0.0.1", std::to_string(port));
    LocationReading r = captureOnceUp(gps, 15s);
    INFO(r.detail);
    REQUIRE(r.problem == LocationProblem::None);
    REQUIRE(r.fix);
    CHECK(r.fix->latitude == Approx(11.1085).margin(1e-6));  // 11° 06.5100' N
    CHECK(r.fix->longitude == Approx(77.3411).margin(1e-6));  // 77° 20.4660' E
    REQUIRE(r.fix->accuracyMetres);
    CHECK(*r.fix->accuracyMetres > 0);
    CHECK(*r.fix->accuracyMetres < 100);
    // The log's fixes are 2026-11-23 10:15:30 to 10:15:39 UTC.
    CHECK(r.fix->unixTime >= 1795428930);
    CHECK(r.fix->unixTime <= 1795428939);
}

TEST_CASE("gpsd with a receiver indoors: no fix, said so after the timeout", "[desktop][gps]") {
    int port = freeLoopbackPort();
    GpsFake fake(kLogs / "indoors-no-fix.nmea", port);
    REQUIRE(fake.started());
    GpsdLocation gps("127.0.0.1", std::to_string(port));
    auto started = std::chrono::steady_clock::now();
    LocationReading r = captureOnceUp(gps, 3s);
    CHECK(r.problem == LocationProblem::NoFix);
    CHECK_FALSE(r.fix);
    CHECK(std::chrono::steady_clock::now() - started < 35s);
}

TEST_CASE("no gpsd: unavailable at once, naming where it was asked", "[desktop][gps]") {
    int port = freeLoopbackPort();  // nothing listens there
    GpsdLocation gps("127.0.0.1", std::to_string(port));
    auto started = std::chrono::steady_clock::now();
    LocationReading r = gps.capture(10s);
    CHECK(r.problem == LocationProblem::Unavailable);
    CHECK_FALSE(r.fix);
    CHECK_THAT(r.detail, Catch::Contains(std::to_string(port)));
    CHECK(std::chrono::steady_clock::now() - started < 5s);
}
