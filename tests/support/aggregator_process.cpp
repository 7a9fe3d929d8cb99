#include "tests/support/aggregator_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace ck::test {

AggregatorProcess::AggregatorProcess(std::string binary, std::vector<std::string> args, std::string adminPassphrase)
    : m_binary(std::move(binary)), m_args(std::move(args)), m_passphrase(std::move(adminPassphrase)) {}

AggregatorProcess::~AggregatorProcess() { kill(); }

bool AggregatorProcess::start(std::chrono::milliseconds timeout) {
    if (m_pid > 0) return true;
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return false;
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(out[0]);
        ::close(out[1]);
        return false;
    }
    if (pid == 0) {
        ::dup2(out[1], STDOUT_FILENO);
        int devnull = ::open("/dev/null", O_RDONLY);
        ::dup2(devnull, STDIN_FILENO);
        int log = ::open(m_logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (log >= 0) ::dup2(log, STDERR_FILENO);
        ::setenv("CK_ADMIN_PASSPHRASE", m_passphrase.c_str(), 1);
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(m_binary.c_str()));
        argv.push_back(const_cast<char*>("serve"));
        for (auto& a : m_args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(m_binary.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(out[1]);
    m_pid = pid;
    m_output.clear();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool ready = false;
    char buf[4096];
    while (!ready && std::chrono::steady_clock::now() < deadline) {
        pollfd p{out[0], POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) continue;
        ssize_t n = ::read(out[0], buf, sizeof buf);
        if (n <= 0) break;  // exited before "ready"
        m_output.append(buf, size_t(n));
        ready = m_output.find("\nready\n") != std::string::npos;
    }
    // The server's later output is not read: close our end so it is never blocked on it
    // (it writes only a few lines after "ready"; a closed pipe makes those writes fail, and
    // the server ignores SIGPIPE).
    ::close(out[0]);
    if (!ready) {
        kill();
        return false;
    }
    // "serving http(s)://HOST:PORT ..."
    auto at = m_output.find("serving ");
    auto end = m_output.find_first_of(" \n", at + 8);
    m_url = m_output.substr(at + 8, end - (at + 8));
    m_port = std::atoi(m_url.substr(m_url.rfind(':') + 1).c_str());
    return m_port > 0;
}

bool AggregatorProcess::kill() {
    if (m_pid <= 0) return false;
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
    return true;
}

int AggregatorProcess::terminate(std::chrono::milliseconds timeout) {
    if (m_pid <= 0) return -1;
    ::kill(m_pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        pid_t r = ::waitpid(m_pid, &status, WNOHANG);
        if (r == m_pid) {
            m_pid = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill();
    return -1;
}

}  // namespace ck::test
