#include "tools/terminal/passphrase_prompt.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

namespace ck {

std::string promptHidden(const char* prompt) {
    std::cerr << prompt << std::flush;
    termios old{};
    bool echoOff = tcgetattr(STDIN_FILENO, &old) == 0;
    if (echoOff) {
        termios silent = old;
        silent.c_lflag &= ~tcflag_t(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent);
    }
    std::string line;
    std::getline(std::cin, line);
    if (echoOff) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    std::cerr << "\n";
    return line;
}

}  // namespace ck
