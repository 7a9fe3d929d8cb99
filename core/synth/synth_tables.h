#pragma once
// Reference tables behind the synthetic register and visits: states, well-known clusters,
// sectors. Private to ck_synth (visit_generator.cpp and register.cpp share them).
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ck::synth {

// A small, fast, reproducible random source (splitmix64): the generator draws hundreds of
// numbers per visit, and a seed must give the same visits on every machine.
class Rng {
public:
    explicit Rng(uint64_t seed) : m_state(seed) {}
    uint64_t next() {
        uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    int range(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }  // inclusive
    bool chance(double p) { return uniform() < p; }
    double normal(double mean, double sd);
    double logUniform(double lo, double hi);
    // An index drawn with the given weights (which need not sum to 1).
    size_t weighted(const std::vector<double>& weights);
    template <typename T>
    const T& pick(const std::vector<T>& items) { return items[size_t(next() % items.size())]; }

private:
    uint64_t m_state;
};

uint64_t hashText(std::string_view text, uint64_t seed = 0);

using Weighted = std::vector<std::pair<const char*, double>>;

enum class Family : uint8_t { Textile, Engineering, Chemical, Craft, Food };

struct SectorInfo {
    const char* id;
    std::vector<const char*> nouns;  // for unit names: "Knit Fashions", "Knits"
    Family family;
    double women;       // typical women's share of hired workers
    double youth;       // typical share under 30
    double exportProb;  // chance that a (micro) unit exports at all
    double exportShare; // typical exports as % of sales among exporters
    double salesPerWorker;  // INR a year
    double capitalRatio;    // investment in plant and machinery / turnover
    double materials;       // materials as a share of gross output
    double energy;          // power and fuel as a share of gross output
    Weighted segments;      // value-chain segments (flagship choice names)
    std::vector<const char*> products;  // flagship product choice names
    const char* nic;        // a typical NIC 2008 five-digit code
};

struct StateInfo {
    const char* name;
    const char* code;  // as in Udyam numbers
    double lat, lon;
    const char* pinPrefix;
    int portKm;
    char region;  // 'S', 'W', 'N', 'E': for names
    std::vector<const char*> districts;
};

struct ClusterInfo {
    const char* stateCode;
    const char* district;
    const char* code;
    const char* sector;
};

const std::vector<SectorInfo>& sectors();
const SectorInfo& sectorById(std::string_view id);  // a neutral sector when unknown
const std::vector<StateInfo>& states();
const StateInfo* stateByName(std::string_view name);
const std::vector<ClusterInfo>& knownClusters();

// Names that sound like the region's: people and unit-name prefixes.
const std::vector<const char*>& personNames(char region);
const std::vector<const char*>& unitPrefixes(char region);

}  // namespace ck::synth
