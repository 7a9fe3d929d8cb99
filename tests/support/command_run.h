#pragma once
// Runs a shell command as a user would and captures what it said: the command-line tools'
// tests drive the real binaries through this.
#include <string>

namespace ck::test {

struct CommandRun {
    int status = -1;   // the exit status; -1 when the command did not exit normally
    std::string out;   // what it wrote to stdout
    std::string err;   // what it wrote to stderr
    std::string all() const { return out + err; }
};

// `shellCommand` runs under /bin/sh with stdin from /dev/null.
CommandRun runCommand(const std::string& shellCommand);

// `s` quoted for /bin/sh.
std::string shellQuote(const std::string& s);

}  // namespace ck::test
