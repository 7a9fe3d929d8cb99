#pragma once
// The words inside a figure, in the report's language: lakh and crore ("₹ 4.5 lakh",
// "₹ 4.5 लाख"), the word between an interval's ends, and the flag and reasons a cell shows
// instead of a hidden figure. Digits and grouping do not change.
// Apart from figure_text.h so that the report model (baseline_report.h) can carry them.
#include <string>

namespace ck::report {

struct FigureWords {
    std::string lakh = "lakh", crore = "crore", to = "to";
    std::string caution = "use with caution";
    // Why a figure is hidden, in a few words; {n} is the rule's threshold. The unit minimum and the
    // dominance (n, k) are project settings, so their reasons say what, not how many.
    std::string tooFewObservations = "suppressed: fewer than {n} firms", imprecise = "suppressed: too imprecise",
                tooFewUnits = "suppressed: too few firms to show without revealing one",
                dominance = "suppressed: a few firms dominate",
                secondary = "suppressed: would reveal a hidden figure";
};

}  // namespace ck::report
