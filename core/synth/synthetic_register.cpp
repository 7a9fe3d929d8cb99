// The synthetic cluster register: states, clusters and units to visit.
#include <cstdio>
#include <set>

#include "core/synth/synth_tables.h"
#include "core/synth/visit_generator.h"

namespace ck {

using namespace ck::synth;

const char* sizeClassName(SizeClass size) {
    switch (size) {
        case SizeClass::Micro: return "micro";
        case SizeClass::Small: return "small";
        case SizeClass::Medium: return "medium";
    }
    return "micro";
}

std::vector<std::string> syntheticSectors() {
    std::vector<std::string> out;
    for (const auto& s : sectors()) out.emplace_back(s.id);
    return out;
}

namespace {

std::string codeFrom(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c >= 'A' && c <= 'Z') out += char(c - 'A' + 'a');
        else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out += c;
        else if (!out.empty() && out.back() != '_') out += '_';
    }
    return out;
}

// A state of the table, or a numbered one past its end.
struct StatePick {
    std::string name, code, pinPrefix;
    double lat = 0, lon = 0;
    int portKm = 500;
    char region = 'N';
    std::vector<std::string> districts;
};

StatePick stateAt(int index, uint64_t seed) {
    StatePick p;
    const auto& table = states();
    if (size_t(index) < table.size()) {
        const StateInfo& s = table[size_t(index)];
        p = {s.name, s.code, s.pinPrefix, s.lat, s.lon, s.portKm, s.region, {}};
        for (const char* d : s.districts) p.districts.emplace_back(d);
        return p;
    }
    Rng rng(seed ^ hashText("state") ^ uint64_t(index));
    int k = index - int(table.size());
    p.name = "State " + std::to_string(index + 1);
    p.code = {char('Z' - (k / 26) % 26), char('A' + k % 26)};
    p.lat = rng.uniform(9, 31);
    p.lon = rng.uniform(72, 90);
    p.pinPrefix = std::to_string(rng.range(110, 859));
    p.portKm = rng.range(50, 1500);
    p.region = "SWNE"[k % 4];
    for (int d = 1; d <= 4; ++d) p.districts.push_back(p.name + " District " + std::to_string(d));
    return p;
}

SizeClass sizeFromName(const std::string& s) {
    if (s == "small") return SizeClass::Small;
    if (s == "medium") return SizeClass::Medium;
    return SizeClass::Micro;
}

}  // namespace

UnitProfile profileFromRegisterRow(std::string unitId, std::string name, std::string cluster, std::string district,
                                   std::string state, std::string stratum, std::string sector) {
    UnitProfile u;
    u.unitId = std::move(unitId);
    u.name = std::move(name);
    u.cluster = std::move(cluster);
    u.district = std::move(district);
    u.state = std::move(state);
    u.stratum = std::move(stratum);
    u.sector = std::move(sector);
    // A stratum may be "small" or "small-machining": the size class leads.
    u.size = sizeFromName(u.stratum.substr(0, u.stratum.find_first_of("-_/ ")));
    uint64_t h = hashText(u.state);
    if (const StateInfo* s = stateByName(u.state)) {
        u.stateCode = s->code;
        u.pinPrefix = s->pinPrefix;
        u.latitude = s->lat;
        u.longitude = s->lon;
        u.portDistanceKm = s->portKm;
        for (size_t i = 0; i < s->districts.size(); ++i)
            if (u.district == s->districts[i]) u.districtCode = int(i) + 1;
    } else {
        // Unknown to the tables (a numbered or a real state we lack): stable made-up codes.
        u.stateCode = {char('A' + h % 26), char('A' + (h / 26) % 26)};
        u.pinPrefix = std::to_string(110 + h % 750);
        u.latitude = 9 + double(h % 2200) / 100.0;
        u.longitude = 72 + double((h / 2200) % 1800) / 100.0;
        u.portDistanceKm = int(50 + (h / 7) % 1450);
    }
    // Districts of a state hash to a stable two-digit code when the table lacks them.
    if (u.districtCode == 1 && !u.district.empty()) u.districtCode = int(hashText(u.district) % 60) + 1;
    // Each cluster sits a little away from the state's reference point.
    uint64_t c = hashText(u.cluster);
    u.latitude += (double(c % 1000) / 1000.0 - 0.5) * 1.5;
    u.longitude += (double((c / 1000) % 1000) / 1000.0 - 0.5) * 1.5;
    return u;
}

std::vector<UnitProfile> syntheticRegister(int stateCount, int clustersPerState, int unitsPerCluster, uint64_t seed,
                                           SizeMix mix) {
    std::vector<UnitProfile> out;
    if (stateCount < 1 || clustersPerState < 1 || unitsPerCluster < 1) return out;
    out.reserve(size_t(stateCount) * size_t(clustersPerState) * size_t(unitsPerCluster));
    Rng rng(seed ^ 0x5EED5EEDull);
    std::set<std::string> clusterCodes;
    const auto& allSectors = sectors();
    for (int s = 0; s < stateCount; ++s) {
        StatePick st = stateAt(s, seed);
        std::vector<const ClusterInfo*> known;
        for (const auto& c : knownClusters())
            if (st.code == c.stateCode && size_t(s) < states().size()) known.push_back(&c);
        for (int c = 0; c < clustersPerState; ++c) {
            std::string district, code, sector;
            if (size_t(c) < known.size()) {
                district = known[size_t(c)]->district;
                code = known[size_t(c)]->code;
                sector = known[size_t(c)]->sector;
            } else {
                district = st.districts[size_t(c) % st.districts.size()];
                sector = allSectors[rng.next() % allSectors.size()].id;
                code = codeFrom(district) + "_" + sector;
            }
            for (int n = 2; !clusterCodes.insert(code).second; ++n) {
                std::string base = code.substr(0, code.rfind('_'));
                code = (n == 2 ? code : base) + "_" + std::to_string(n);
            }
            const SectorInfo& sec = sectorById(sector);
            UnitProfile proto = profileFromRegisterRow("", "", code, district, st.name, "micro", sector);
            if (size_t(s) >= states().size()) {
                // Numbered states: keep the codes made here rather than hashed ones.
                proto.stateCode = st.code;
                proto.pinPrefix = st.pinPrefix;
                proto.portDistanceKm = st.portKm;
            }
            const auto& prefixes = unitPrefixes(st.region);
            for (int u = 0; u < unitsPerCluster; ++u) {
                UnitProfile unit = proto;
                char id[64];
                std::snprintf(id, sizeof id, "%s-%03d-%04d", st.code.c_str(), c + 1, u + 1);
                unit.unitId = id;
                std::string suffix = rng.pick(std::vector<std::string>{"", "", "", " Pvt Ltd", " & Co", " Enterprises"});
                unit.name = std::string(rng.pick(prefixes)) + " " + rng.pick(sec.nouns) + suffix;
                double x = rng.uniform() * (mix.micro + mix.small + mix.medium);
                unit.size = x < mix.micro ? SizeClass::Micro : x < mix.micro + mix.small ? SizeClass::Small : SizeClass::Medium;
                unit.stratum = sizeClassName(unit.size);
                out.push_back(std::move(unit));
            }
        }
    }
    return out;
}

}  // namespace ck
