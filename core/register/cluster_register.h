#pragma once
// The cluster register: the units of a cluster to visit, one row each, as a programme keeps
// it in a spreadsheet (CSV). The aggregator loads it (`assign`: assignments now, weights for
// the baseline report), the synthetic generator writes and reads it. One parser, so both
// agree on what a good register is.
//
// CSV: a header naming the columns (any order) unit_id,name,cluster,district,state,stratum
// and optionally sector; RFC 4180 quotes (a quoted field may not span lines); a spreadsheet's
// byte-order mark and CRLF line ends are accepted; blank lines are skipped.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

struct RegisterUnit {
    std::string unitId;
    std::string name;
    std::string cluster;
    std::string district;
    std::string state;
    std::string stratum;  // size class or stratum
    std::string sector;
    bool operator==(const RegisterUnit&) const = default;
};

struct ParsedRegister {
    std::vector<RegisterUnit> units;
    // Every bad row, "FILE:LINE: what is wrong"; a bad header or an empty file stops at once
    // (one problem). A register with any problem should be refused whole.
    std::vector<std::string> problems;
    bool ok() const { return problems.empty(); }
};

// Checks: the required columns in the header, as many fields as the header in every row, no
// required field empty, unit ids unique, at most 128 characters, and usable as a file name
// (no spaces, quotes or slashes, not starting with '.').
ParsedRegister parseClusterRegister(std::string_view csvText, std::string_view fileName);
// The header and one line per unit, quoting where needed.
std::string clusterRegisterCsv(const std::vector<RegisterUnit>& units);

}  // namespace ck
