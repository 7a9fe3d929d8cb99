#pragma once
// What one visit contributes to the baseline: its template's indicators evaluated on the
// record (numerator, denominator, domain), plus the few facts the report needs about the
// visit itself (stratum, response, officer, date). Knows templates and records, nothing else.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/record/record.h"
#include "core/template/survey_template.h"

namespace ck::report {

// One indicator on one visit.
//   share:  inDomain when the domain holds (absent domain: true) and the numerator is not
//           missing (Empty / don't know / refused); y = numerator truthy ? 1 : 0, x = 1
//   mean, median, total: inDomain when the domain holds and the numerator is a number;
//           y = that number, x = 1
//   ratio:  inDomain when the domain holds and both numerator and denominator are numbers;
//           y = numerator, x = denominator
// Out of the domain, x = y = 0.
struct Observation {
    bool inDomain = false;
    double x = 0, y = 0;
    bool operator==(const Observation&) const = default;
};

struct VisitObservations {
    std::string stratum;     // the template's report stratum expression as text; "" when it is missing
    bool responded = true;   // the template's `responded` expression (absent: true)
    std::string officer;     // the template's `officer` question's value; "" when none
    int64_t visitDay = 0;    // days since 1970-01-01 of the template's `visit_date` question, else of createdAt
    std::vector<Observation> values;  // one per Template::indicators, same order
};

// Compiled once per template; evaluate() is const and safe from several threads.
class IndicatorEvaluator {
public:
    explicit IndicatorEvaluator(const Template& t);
    // Fails soft: a record of another template, or answers of the wrong type, read as missing.
    VisitObservations evaluate(const Record& record) const;
    const Template& templ() const { return *m_template; }

private:
    const Template* m_template;
    std::vector<int> m_slotOf;  // reserved for the implementation
};

}  // namespace ck::report
