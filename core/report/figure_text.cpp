#include "core/report/figure_text.h"

#include <cmath>
#include <cstdio>
#include <string_view>

namespace ck::report {

namespace {

constexpr double kLakh = 1e5;
constexpr double kCrore = 1e7;
constexpr const char* kNotAvailable = "n/a";

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Rounds half away from zero at `decimals` places, the way people round by hand (so 99999.5
// with no decimals reads "1,00,000", not banker's "99,999").
double roundTo(double value, int decimals) {
    // From 2^53 up a double has no fraction left to round, and scaling could overflow.
    if (std::fabs(value) >= 9007199254740992.0) return value;
    double scale = std::pow(10.0, decimals);
    return std::round(value * scale) / scale;
}

// Units that count things: the column heading already names them, so the cell shows the
// number alone ("1,240" under "Units").
bool isCountUnit(std::string_view unit) {
    return unit.empty() || unit == "units" || unit == "visits" || unit == "firms" || unit == "workers" ||
           unit == "count";
}

int decimalsFor(double value) { return std::floor(value) == value ? 0 : 1; }

}  // namespace

std::string groupIndian(double value, int decimals) {
    if (!std::isfinite(value)) return kNotAvailable;
    if (decimals < 0) decimals = 0;
    if (decimals > 9) decimals = 9;
    double rounded = roundTo(value, decimals);
    bool negative = rounded < 0;  // a value that rounds to zero loses its sign ("-0" reads as an error)
    char buf[400];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, std::fabs(rounded));
    std::string digits = buf;
    std::string fraction;
    if (auto dot = digits.find('.'); dot != std::string::npos) {
        fraction = digits.substr(dot);
        digits.resize(dot);
    }
    // Indian grouping: the last three digits, then groups of two (12,34,567).
    std::string grouped;
    size_t n = digits.size();
    if (n <= 3) {
        grouped = digits;
    } else {
        std::string head = digits.substr(0, n - 3);
        std::string out;
        size_t first = head.size() % 2;
        if (first) out = head.substr(0, first);
        for (size_t i = first; i < head.size(); i += 2) {
            if (!out.empty()) out += ',';
            out += head.substr(i, 2);
        }
        grouped = out + ',' + digits.substr(n - 3);
    }
    return (negative ? "-" : "") + grouped + fraction;
}

// The sign goes on the number, after the symbol ("₹ -45,000"), so a column of rupees still
// lines up on the symbol.
const FigureWords& englishFigures() {
    static const FigureWords words;
    return words;
}

std::string rupees(double value, const FigureWords& words) {
    if (!std::isfinite(value)) return kNotAvailable;
    // Thresholds are tested on the rounded figure so that 99,999.6 reads "₹ 1.0 lakh", not
    // "₹ 1,00,000", and 99.96 lakh reads "₹ 1.0 crore", not "₹ 100.0 lakh".
    if (std::fabs(roundTo(value, 0)) < kLakh) return "\u20B9 " + groupIndian(value, 0);
    double lakhs = roundTo(value / kLakh, 1);
    if (std::fabs(lakhs) < 100.0) return "\u20B9 " + groupIndian(lakhs, 1) + " " + words.lakh;
    return "\u20B9 " + groupIndian(value / kCrore, 1) + " " + words.crore;
}

std::string figureText(double value, const std::string& unit, const FigureWords& words) {
    if (!std::isfinite(value)) return kNotAvailable;
    if (startsWith(unit, "%")) return groupIndian(value, 1) + unit;  // "34.5%", "-2.5% per year"
    if (startsWith(unit, "INR")) return rupees(value, words) + unit.substr(3);  // "₹ 4.1 lakh per worker"
    // An estimated count of units or workers reads as a whole number ("477", not "477.0").
    if (isCountUnit(unit)) return groupIndian(value, std::fabs(value) >= 10 ? 0 : decimalsFor(value));
    std::string number = groupIndian(value, decimalsFor(value));
    return number + " " + unit;  // "12.5 days"
}

namespace {

// A few words a reader understands without the method notes.
std::string suppressionReason(Suppression s, const FigureWords& words) {
    auto with = [](std::string text, uint64_t n) {
        if (auto at = text.find("{n}"); at != std::string::npos) text.replace(at, 3, std::to_string(n));
        return text;
    };
    switch (s) {
        case Suppression::None: return "";
        case Suppression::TooFewObservations: return with(words.tooFewObservations, kMinObservations);
        case Suppression::Imprecise: return words.imprecise;
        case Suppression::TooFewUnits: return with(words.tooFewUnits, kMinUnits);
        case Suppression::Dominance: return words.dominance;
        case Suppression::Secondary: return words.secondary;
    }
    return words.imprecise;
}

// The unit an interval end is written in: the value's own unit without its "per ..." tail,
// which the value beside it already says ("29.5% to 42.9%", not "... per year to ... per year").
std::string intervalUnit(const std::string& unit) {
    if (startsWith(unit, "%")) return "%";
    if (startsWith(unit, "INR")) return "INR";
    return unit;
}

}  // namespace

std::string cellText(const Cell& cell, const FigureWords& words) {
    if (cell.kind == Cell::Kind::Empty) return "";
    if (cell.kind == Cell::Kind::Text) return cell.text;
    if (!cell.shown()) return suppressionReason(cell.suppression, words);
    if (cell.kind == Cell::Kind::Number) return figureText(cell.number, cell.unit, words);
    // An estimate can carry its own suppression (the cell copies it, but be safe if not).
    if (!cell.estimate.shown()) return suppressionReason(cell.estimate.suppression, words);
    return figureText(cell.estimate.value, cell.unit, words);
}

std::string intervalEndText(double value, const std::string& unit, const FigureWords& words) {
    return figureText(value, intervalUnit(unit), words);
}

std::string intervalText(const Cell& cell, const FigureWords& words) {
    if (cell.kind != Cell::Kind::Estimate || !cell.shown() || !cell.estimate.shown()) return "";
    const Estimate& e = cell.estimate;
    if (!std::isfinite(e.low) || !std::isfinite(e.high)) return "";
    std::string u = intervalUnit(cell.unit);
    return figureText(e.low, u, words) + " " + words.to + " " + figureText(e.high, u, words);
}

std::string flagText(const Estimate& e, const FigureWords& words) {
    if (!e.shown()) return suppressionReason(e.suppression, words);
    // Suppress without a suppression reason should not happen (the estimator sets both);
    // if it does, hiding is the safe reading.
    if (e.precision == Precision::Suppress) return suppressionReason(Suppression::Imprecise, words);
    if (e.precision == Precision::Caution) return words.caution;
    return "";
}

}  // namespace ck::report
