// The real `ck-aggregator serve` process: made by `init`, ready on stdout, answers over
// HTTPS with the pin it printed, and exits 0 on SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <regex>
#include <thread>

#include "tests/support/command_run.h"
#include "tests/sync/aggregator/server/live_aggregator.h"

extern char** environ;

using namespace ck;

namespace {

constexpr const char* kPass = "serve test passphrase 2026";

struct ServeProcess {
    pid_t pid = -1;
    int out = -1;
    std::string seen;

    void start(const std::vector<std::string>& args) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        std::vector<char*> argv;
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        setenv("CK_ADMIN_PASSPHRASE", kPass, 1);
        int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
        unsetenv("CK_ADMIN_PASSPHRASE");
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        out = fds[0];
        REQUIRE(rc == 0);
    }
    // Reads stdout until `line` appears or the time is up.
    bool waitFor(const std::string& line, std::chrono::milliseconds timeout) {
        auto until = std::chrono::steady_clock::now() + timeout;
        while (seen.find(line) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            pollfd p{out, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
            char buf[1024];
            ssize_t n = ::read(out, buf, sizeof buf);
            if (n <= 0) return false;
            seen.append(buf, static_cast<size_t>(n));
        }
        return true;
    }
    // Exit status, or -1 if it did not exit in time (then it is killed).
    int waitExit(std::chrono::milliseconds timeout) {
        auto until = std::chrono::steady_clock::now() + timeout;
        int status = 0;
        while (std::chrono::steady_clock::now() < until) {
            pid_t r = ::waitpid(pid, &status, WNOHANG);
            if (r == pid) {
                pid = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return -1;
    }
    ~ServeProcess() {
        if (pid > 0) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, nullptr, 0);
        }
        if (out >= 0) ::close(out);
    }
};

}  // namespace

TEST_CASE("ck-aggregator serve: ready, answers with its pin, exits 0 on SIGTERM", "[sync][cli]") {
    auto folder = test::scratchFolder("test_agg_server") / "data";
    test::CommandRun init = test::runCommand("CK_ADMIN_PASSPHRASE=" + test::shellQuote(kPass) + " " +
                                             test::shellQuote(CK_AGGREGATOR_BIN) + " init --test-kdf --data " +
                                             test::shellQuote(folder.string()));
    INFO(init.all());
    REQUIRE(init.status == 0);

    ServeProcess serve;
    serve.start({CK_AGGREGATOR_BIN, "serve", "--data", folder.string(), "--listen", "127.0.0.1:0"});
    REQUIRE(serve.waitFor("ready\n", std::chrono::seconds(15)));
    std::smatch m;
    REQUIRE(std::regex_search(serve.seen, m, std::regex(R"(serving https://127\.0\.0\.1:(\d+) \(pin (sha256//[A-Za-z0-9+/=]+)\))")));
    const std::string port = m[1], pin = m[2];
    CHECK(pin == agg::readCertificate(folder).publicKeyPin);

    std::string error;
    std::string hello = test::pinnedGet("https://127.0.0.1:" + port + "/v1/hello", pin, &error);
    INFO(error);
    CHECK(hello.rfind("clusterkit-aggregator protocol=1", 0) == 0);

    REQUIRE(::kill(serve.pid, SIGTERM) == 0);
    CHECK(serve.waitExit(std::chrono::seconds(10)) == 0);
}

TEST_CASE("ck-aggregator serve: a wrong passphrase or a missing folder is refused", "[sync][cli]") {
    test::CommandRun noFolder = test::runCommand("CK_ADMIN_PASSPHRASE=x " + test::shellQuote(CK_AGGREGATOR_BIN) +
                                                 " serve --data /nonexistent/ck-data");
    CHECK(noFolder.status == 2);
    CHECK(noFolder.err.find("not a folder") != std::string::npos);

    auto folder = test::scratchFolder("test_agg_server") / "data";
    REQUIRE(test::runCommand("CK_ADMIN_PASSPHRASE=" + test::shellQuote(kPass) + " " + test::shellQuote(CK_AGGREGATOR_BIN) +
                             " init --test-kdf --data " + test::shellQuote(folder.string()))
                .status == 0);
    test::CommandRun wrong = test::runCommand("CK_ADMIN_PASSPHRASE='not the passphrase at all' " +
                                              test::shellQuote(CK_AGGREGATOR_BIN) + " serve --listen 127.0.0.1:0 --data " +
                                              test::shellQuote(folder.string()));
    CHECK(wrong.status == 1);
    CHECK(wrong.err.find("wrong admin passphrase") != std::string::npos);
    CHECK(wrong.out.find("ready") == std::string::npos);

    test::CommandRun plain = test::runCommand("CK_ADMIN_PASSPHRASE=" + test::shellQuote(kPass) + " " +
                                              test::shellQuote(CK_AGGREGATOR_BIN) +
                                              " serve --http --listen 0.0.0.0:0 --data " + test::shellQuote(folder.string()));
    CHECK(plain.status == 2);
    CHECK(plain.err.find("plain HTTP") != std::string::npos);
}
