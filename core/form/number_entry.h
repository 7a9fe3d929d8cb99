#pragma once
// What an officer types into a number, money or percentage field, read without guessing:
// either it is a number the field takes (and that number is the answer), or it is refused
// with a reason the officer can act on, and the answer already kept does not change.
// Nothing typed is dropped or reinterpreted quietly: "5 lakh" in a count field is refused,
// never stored as 5.
//
// Accepted: ASCII digits or the digits of the Indian scripts the app ships (Devanagari,
// Bengali, Gurmukhi, Gujarati, Tamil, Telugu), a leading sign, one decimal point, commas in
// Indian (12,34,567) or international (1,234,567) grouping. In money fields also a leading
// rupee sign and a multiplier word after the figure: thousand, lakh (lac), crore (cr), or
// हज़ार, लाख, करोड़ (and the same words in Marathi, Tamil, Gujarati and Bengali) - "5 lakh" is
// 500000, shown beside the field before it is relied on.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/template/survey_template.h"

namespace ck {

enum class NumberEntryProblem : uint8_t {
    None,
    Letters,     // letters or symbols that are not part of a number ("5 lakh" in a count, "12abc")
    Malformed,   // digits and points that do not make one number ("1.2.3", "-", "12-")
    Grouping,    // commas that are not digit grouping ("12,5": a decimal comma?)
    NotWhole,    // a fraction where the question takes a whole number
    OutOfRange,  // a percentage outside 0-100
    TooLarge,    // beyond what a record keeps exactly (9e15)
};

struct NumberEntry {
    std::optional<double> value;  // the number typed; nullopt when the field is empty or refused
    NumberEntryProblem problem = NumberEntryProblem::None;
    bool multiplied = false;  // a multiplier word was read ("5 lakh" -> 500000)
    bool ok() const { return problem == NumberEntryProblem::None; }
    bool empty() const { return ok() && !value; }
};

// Reads what was typed into a field of `type` (Integer, Decimal, Money or Percent).
NumberEntry parseNumberEntry(std::string_view typed, QuestionType type);

// Regroups digits as the officer types ("1234567" -> "12,34,567", "1234567.5" -> "12,34,567.5")
// when the text is a plain figure in ASCII digits and grouping suits the field: money from
// four digits, other numbers from five (so a year stays "2009"). Returns nullopt when the
// text should be left exactly as typed (letters, other scripts' digits, a multiplier word).
std::optional<std::string> regroupTyped(std::string_view typed, QuestionType type);

// A stored number as the field shows it: Indian grouping by the same rule as regroupTyped.
std::string formatNumberForField(double value, QuestionType type);

// Money beside the field, in the officer's language: "₹12.35 lakh", "₹1.5 crore",
// "₹45,000"; "≈" in front when the lakh or crore figure is rounded.
std::string rupeesInWords(double rupees, std::string_view language);

// Why a typed number was refused, in the officer's language (any language with a table in
// assets/text; English otherwise).
std::string numberEntryMessage(NumberEntryProblem problem, QuestionType type, std::string_view language);

}  // namespace ck
