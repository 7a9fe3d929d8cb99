#include "core/register/cluster_register.h"

#include <map>
#include <optional>
#include <sstream>

namespace ck {

namespace {

const std::vector<std::string> kRequired = {"unit_id", "name", "cluster", "district", "state", "stratum"};
constexpr const char* kExpected = "unit_id,name,cluster,district,state,stratum[,sector]";

// One CSV line into fields; nullopt on an unclosed quote. Spaces around fields are trimmed
// (spreadsheets add them after commas).
std::optional<std::vector<std::string>> splitLine(const std::string& line) {
    std::vector<std::string> fields(1);
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
            else if (c == '"') quoted = false;
            else fields.back() += c;
        } else if (c == '"' && fields.back().find_first_not_of(" \t") == std::string::npos) {
            fields.back().clear();
            quoted = true;
        } else if (c == ',') {
            fields.emplace_back();
        } else {
            fields.back() += c;
        }
    }
    if (quoted) return std::nullopt;
    for (auto& f : fields) {
        size_t start = f.find_first_not_of(" \t");
        size_t end = f.find_last_not_of(" \t");
        f = start == std::string::npos ? std::string() : f.substr(start, end - start + 1);
    }
    return fields;
}

std::string field(const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace

ParsedRegister parseClusterRegister(std::string_view csvText, std::string_view fileName) {
    ParsedRegister out;
    std::istringstream in{std::string(csvText)};
    const std::string file(fileName);
    std::map<std::string, size_t> column;
    std::map<std::string, size_t> seen;
    std::string line;
    size_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (lineNo == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
        if (line.find_first_not_of(" \t,") == std::string::npos) continue;
        const std::string where = file + ":" + std::to_string(lineNo) + ": ";
        auto fields = splitLine(line);
        if (column.empty()) {
            if (!fields) {
                out.problems.push_back(where + "the header has an unclosed quote");
                return out;
            }
            for (size_t i = 0; i < fields->size(); ++i) column[(*fields)[i]] = i;
            std::string missing;
            for (const auto& r : kRequired)
                if (!column.count(r)) missing += (missing.empty() ? "" : ", ") + r;
            if (!missing.empty()) {
                out.problems.push_back(where + "the header lacks " + missing + " (expected " + kExpected + ")");
                return out;
            }
            continue;
        }
        if (!fields) {
            out.problems.push_back(where + "a quoted field is not closed");
            continue;
        }
        if (fields->size() != column.size()) {
            out.problems.push_back(where + "has " + std::to_string(fields->size()) + " fields, the header " +
                                   std::to_string(column.size()));
            continue;
        }
        auto get = [&](const char* name) {
            auto it = column.find(name);
            return it == column.end() ? std::string() : (*fields)[it->second];
        };
        RegisterUnit u{get("unit_id"), get("name"),    get("cluster"), get("district"),
                       get("state"),   get("stratum"), get("sector")};
        std::string empty;
        for (const auto& r : kRequired)
            if (get(r.c_str()).empty()) empty += (empty.empty() ? "" : ", ") + r;
        if (!empty.empty()) {
            out.problems.push_back(where + "empty " + empty);
            continue;
        }
        // Ids name files (one answers file per unit) and travel in URLs: keep them plain.
        if (u.unitId.size() > 128 || u.unitId.find_first_of("/\\ \t\"") != std::string::npos || u.unitId[0] == '.') {
            out.problems.push_back(where + "unit_id '" + u.unitId +
                                   "' must be 1-128 characters without spaces, quotes or slashes, not starting with '.'");
            continue;
        }
        if (auto [it, fresh] = seen.emplace(u.unitId, lineNo); !fresh) {
            out.problems.push_back(where + "unit_id '" + u.unitId + "' appears already on line " +
                                   std::to_string(it->second));
            continue;
        }
        out.units.push_back(std::move(u));
    }
    if (column.empty()) out.problems.push_back(file + ": the file is empty (expected a header line, then units)");
    else if (out.units.empty() && out.problems.empty())
        out.problems.push_back(file + ": no units below the header");
    return out;
}

std::string clusterRegisterCsv(const std::vector<RegisterUnit>& units) {
    std::string out = "unit_id,name,cluster,district,state,stratum,sector\n";
    for (const auto& u : units) {
        out += field(u.unitId) + ',' + field(u.name) + ',' + field(u.cluster) + ',' + field(u.district) + ',' +
               field(u.state) + ',' + field(u.stratum) + ',' + field(u.sector) + '\n';
    }
    return out;
}

}  // namespace ck
