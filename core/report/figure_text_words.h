#pragma once
// The words inside a figure, in the report's language: lakh and crore ("₹ 4.5 lakh",
// "₹ 4.5 लाख") and the word between an interval's ends. Digits and grouping do not change.
// Apart from figure_text.h so that the report model (baseline_report.h) can carry them.
#include <string>

namespace ck::report {

struct FigureWords {
    std::string lakh = "lakh", crore = "crore", to = "to";
};

}  // namespace ck::report
