#pragma once
// `ck-aggregator serve`: main.cpp hands it the arguments after "serve"; it returns the exit
// status (0 ok, 1 refused, 2 usage or I/O) like every other subcommand.
#include <string>
#include <vector>

int runServe(const std::vector<std::string>& args);
