#include "tests/support/command_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace ck::test {

namespace fs = std::filesystem;

std::string shellQuote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

CommandRun runCommand(const std::string& shellCommand) {
    // stderr goes to a file of its own so the two streams stay apart.
    static std::atomic<int> counter{0};
    fs::path errFile = fs::path(CK_BINARY_DIR) / "test-scratch" /
                       ("stderr-" + std::to_string(getpid()) + "-" + std::to_string(++counter));
    fs::create_directories(errFile.parent_path());
    std::string cmd = "(" + shellCommand + ") 2>" + shellQuote(errFile.string()) + " </dev/null";
    CommandRun r;
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("popen failed for: " + shellCommand);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int raw = pclose(p);
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    std::ifstream e(errFile);
    std::ostringstream s;
    s << e.rdbuf();
    r.err = s.str();
    fs::remove(errFile);
    return r;
}

}  // namespace ck::test
