#pragma once
// Asking a person for a passphrase on the terminal, without echo: shared by the command-line
// tools (ck-field, ck-aggregator).
#include <string>

namespace ck {

// Writes `prompt` to stderr, reads one line from stdin with echo off (when stdin is a
// terminal), and returns it without the newline.
std::string promptHidden(const char* prompt);

}  // namespace ck
