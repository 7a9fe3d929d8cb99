#pragma once
// Synthetic visits: realistic answers for the demo, the sync benchmarks and the report's
// scale work. A VisitGenerator walks any valid template with a FormSession and answers
// what is relevant, by type; for the flagship cluster diagnostic it follows a small table of
// per-question rules (keyed by question id) so that the figures hang together: workers by
// size class, women's share typical of the sector, turnover inside the Udyam size class,
// a sales split summing to 100. Unknown ids fall back to the generic rules.
//
// Everything is deterministic: the same seed, unit and date give the same visit. A generator
// holds no mutable state while generating, so one instance may serve several threads.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/form/form_session.h"

namespace ck {

// Udyam size class of a unit (TOOLKIT.md, "Size class").
enum class SizeClass : uint8_t { Micro, Small, Medium };
const char* sizeClassName(SizeClass size);  // "micro", "small", "medium"

// The unit being visited, as a cluster register describes it.
struct UnitProfile {
    std::string unitId;    // register id, unique; also names the answers file
    std::string name;      // the unit's trading name
    std::string cluster;   // cluster code, e.g. "tiruppur_knitwear" (a choice of the flagship's `cluster` list when it is one)
    std::string district;  // e.g. "Tiruppur"
    std::string state;     // e.g. "Tamil Nadu"
    std::string sector;    // e.g. "knitwear", "auto_parts" (see syntheticSectors())
    std::string stratum;   // the register's stratum: the size class name
    SizeClass size = SizeClass::Micro;
    std::string stateCode;    // two capital letters, as in Udyam numbers ("TN")
    int districtCode = 1;     // 1..99, as in Udyam numbers
    std::string pinPrefix;    // first three digits of the PIN codes around the cluster
    double latitude = 0, longitude = 0;  // the cluster's centre
    int portDistanceKm = 500;  // road distance to the nearest sea port
};

// The sectors the register draws from (names used in UnitProfile::sector).
std::vector<std::string> syntheticSectors();

// Share of units per size class in a generated register.
struct SizeMix {
    double micro = 0.82, small = 0.15, medium = 0.03;
};

// A register of `states` x `clustersPerState` x `unitsPerCluster` units: real states,
// districts and well-known clusters first (Tiruppur knitwear, Surat textiles, ...), then
// numbered clusters when more are asked. Deterministic for a seed. Arguments below 1 give
// an empty register.
std::vector<UnitProfile> syntheticRegister(int states, int clustersPerState, int unitsPerCluster, uint64_t seed,
                                           SizeMix mix = {});

// Fills a UnitProfile's derived fields (codes, location, size) from its register row:
// what a register read back from CSV needs before generate(). Unknown states and sectors
// get neutral defaults; `stratum` naming a size class sets `size`.
UnitProfile profileFromRegisterRow(std::string unitId, std::string name, std::string cluster, std::string district,
                                   std::string state, std::string stratum, std::string sector);

struct GeneratedVisit {
    FormSession session;
    int attempts = 1;           // whole-visit attempts used
    std::vector<Problem> problems;  // empty when the visit validates; else why the last attempt failed
    bool ok() const { return problems.empty(); }
};

class VisitGenerator {
public:
    // `survey` must be a loaded template; `seed` makes the whole run reproducible.
    VisitGenerator(std::shared_ptr<const Template> survey, uint64_t seed);

    // One visit to `unit` on `visitDate` (also the session's today()). A pure function of the
    // seed, the unit id and the date. Retries the whole visit a bounded number of times when
    // it does not validate; the result says why when even the last attempt failed.
    GeneratedVisit generateVisit(const UnitProfile& unit, Date visitDate) const;
    // The session alone (what most callers want); see generateVisit for failures.
    FormSession generate(const UnitProfile& unit, Date visitDate) const;

    // Probability that a question allowing them is answered "don't know" or, a fifth of
    // those times, "refused" (default 0.02; the flagship's per-question rates, higher for
    // figures owners often do not know, scale with it), and that an optional question is
    // left empty (default 0.05).
    void setMissingRates(double dontKnow, double emptyOptional);
    // Probability that the owner refuses the interview (consent = no) in templates with a
    // `consent` question (default 0.03; the report's scale data uses about 0.08, nearer what
    // MSME surveys meet when the owner is busy or wary).
    void setRefusalRate(double refusal);

    const Template& survey() const { return *m_t; }

    // Implementation details, declared here only so that visit_generator.cpp can name them.
    struct Rule;  // a per-question rule of the flagship table
    struct Walk;  // the state of one visit being generated

private:
    bool attempt(Walk& w) const;
    void answerQuestion(Walk& w, int question, int instance) const;
    void walk(Walk& w, int question, int instance) const;

    std::shared_ptr<const Template> m_t;
    uint64_t m_seed;
    double m_dontKnow = 0.02, m_emptyOptional = 0.05;
    double m_refusal = 0.03;
    std::vector<const Rule*> m_rules;  // per question index; null where the generic rules apply
};

// The answers of a session as the JSON that `ck-survey fill` and `ck-field new-visit` read
// (answerable, relevant questions only; calculations are left for the reader to redo).
std::string answersJsonText(const FormSession& session);

}  // namespace ck
