#pragma once
// A real `ck-aggregator serve` process for tests and benchmarks: started with a pipe on its
// stdout, waited for until it prints "ready", killed (politely or with SIGKILL) and reaped.
// The destructor kills and reaps whatever is still running, so a failing test leaves no
// server behind.
#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace ck::test {

class AggregatorProcess {
public:
    // `binary` is the ck-aggregator executable; `args` follow "serve" (e.g. --data DIR
    // --listen 127.0.0.1:0 --http). `adminPassphrase` goes in CK_ADMIN_PASSPHRASE.
    AggregatorProcess(std::string binary, std::vector<std::string> args, std::string adminPassphrase);
    ~AggregatorProcess();
    AggregatorProcess(const AggregatorProcess&) = delete;
    AggregatorProcess& operator=(const AggregatorProcess&) = delete;

    // Starts the process and waits for "ready" (false on timeout or early exit; output() says why).
    bool start(std::chrono::milliseconds timeout = std::chrono::seconds(20));
    // SIGKILL (no chance to finish anything) and reap. Returns false when it was not running.
    bool kill();
    // SIGTERM, then waits for the exit status (-1 on timeout: then SIGKILL).
    int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Where the server's stderr (its request log) goes; default /dev/null. Set before start().
    void setLogFile(std::string path) { m_logFile = std::move(path); }
    bool running() const { return m_pid > 0; }
    pid_t pid() const { return m_pid; }  // for reading /proc/PID (memory, descriptors)
    int port() const { return m_port; }
    std::string url() const { return m_url; }  // "https://127.0.0.1:PORT" as it printed
    const std::string& output() const { return m_output; }  // stdout so far (up to "ready")

private:
    std::string m_binary;
    std::vector<std::string> m_args;
    std::string m_passphrase;
    pid_t m_pid = -1;
    int m_port = 0;
    std::string m_url;
    std::string m_output;
    std::string m_logFile = "/dev/null";
};

}  // namespace ck::test
