#pragma once
// How figures read to people: Indian digit grouping (12,34,567) and lakh / crore for rupees,
// percentages to one decimal, and the words for flags and suppressed cells. The one place a
// figure becomes text: the builder's highlight sentences and every renderer (HTML, CSV, XLSX,
// JSON) use it, so a page never mixes "INR 1.2 crore" with "₹ 1.2 crore".
#include <string>

#include "core/report/baseline_report.h"

namespace ck::report {

const FigureWords& englishFigures();  // the defaults: lakh, crore, to

// 1234567 -> "12,34,567"; 1234.5 with decimals 1 -> "1,234.5"; negative numbers keep the sign.
std::string groupIndian(double value, int decimals);
// Rupees: below 1 lakh "₹ 45,000"; below 1 crore "₹ 4.5 lakh"; else "₹ 12.3 crore".
std::string rupees(double value, const FigureWords& words = englishFigures());
// A number in its unit: "%" units give "34.5%", "INR" units rupees(), counts grouped.
std::string figureText(double value, const std::string& unit, const FigureWords& words = englishFigures());
// The text of a cell: a text, a figure, or for a shown estimate its value; for a hidden
// cell the reason in a few words ("suppressed: fewer than 10 firms").
std::string cellText(const Cell& cell, const FigureWords& words = englishFigures());
// One end of an interval: the unit without its "per ..." tail ("29.5%", "₹ 3.1 lakh").
std::string intervalEndText(double value, const std::string& unit, const FigureWords& words = englishFigures());
// "34.5% to 41.2%" for a shown estimate's interval; "" otherwise.
std::string intervalText(const Cell& cell, const FigureWords& words = englishFigures());
// "" (publish), "use with caution", or the suppression reason.
std::string flagText(const Estimate& e, const FigureWords& words = englishFigures());

}  // namespace ck::report
