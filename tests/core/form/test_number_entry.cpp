// Reading what an officer types into number and money fields: taken exactly, or refused
// with a reason; never quietly changed.
#include <catch2/catch.hpp>

#include "core/form/number_entry.h"

using namespace ck;

namespace {

double taken(std::string_view typed, QuestionType type = QuestionType::Decimal) {
    NumberEntry e = parseNumberEntry(typed, type);
    INFO(std::string(typed));
    REQUIRE(e.ok());
    REQUIRE(e.value);
    return *e.value;
}

NumberEntryProblem refused(std::string_view typed, QuestionType type = QuestionType::Decimal) {
    NumberEntry e = parseNumberEntry(typed, type);
    INFO(std::string(typed));
    CHECK_FALSE(e.value);
    return e.problem;
}

}  // namespace

TEST_CASE("plain figures, grouping and Indian digits are read exactly", "[form][number]") {
    CHECK(taken("1250") == 1250);
    CHECK(taken(" 12.5 ") == 12.5);
    CHECK(taken("-3") == -3);
    CHECK(taken(".5") == 0.5);
    CHECK(taken("12,34,567") == 1234567);    // Indian grouping
    CHECK(taken("1,234,567") == 1234567);    // international grouping
    CHECK(taken("1,23,45,678.25") == 12345678.25);
    CHECK(taken("१२,५००") == 12500);         // Devanagari digits
    CHECK(taken("௧௨") == 12);                // Tamil digits
    CHECK(taken("૩.૫") == 3.5);              // Gujarati digits
    CHECK(parseNumberEntry("", QuestionType::Integer).empty());
    CHECK(parseNumberEntry("   ", QuestionType::Integer).empty());
}

TEST_CASE("letters in a number field are refused, never dropped: 5 lakh is not 5", "[form][number]") {
    CHECK(refused("5 lakh", QuestionType::Integer) == NumberEntryProblem::Letters);
    CHECK(refused("5 lakh", QuestionType::Decimal) == NumberEntryProblem::Letters);
    CHECK(refused("12abc", QuestionType::Integer) == NumberEntryProblem::Letters);
    CHECK(refused("abc") == NumberEntryProblem::Letters);
    CHECK(refused("5 लाख", QuestionType::Integer) == NumberEntryProblem::Letters);
    CHECK(refused("1e5") == NumberEntryProblem::Letters);  // no exponents: officers do not type them
    CHECK(refused("1.2.3") == NumberEntryProblem::Malformed);
    CHECK(refused("-") == NumberEntryProblem::Malformed);
    CHECK(refused("12-4") == NumberEntryProblem::Malformed);
    CHECK(refused("12,5") == NumberEntryProblem::Grouping);  // a decimal comma? ask, do not guess
    CHECK(refused("1,2345") == NumberEntryProblem::Grouping);
    CHECK(refused("12,") == NumberEntryProblem::Grouping);
    CHECK(refused("12.5", QuestionType::Integer) == NumberEntryProblem::NotWhole);
    CHECK(refused("101", QuestionType::Percent) == NumberEntryProblem::OutOfRange);
    CHECK(refused("-1", QuestionType::Percent) == NumberEntryProblem::OutOfRange);
    CHECK(taken("100", QuestionType::Percent) == 100);
    CHECK(refused("99999999999999999") == NumberEntryProblem::TooLarge);
}

TEST_CASE("money takes lakh and crore words, read exactly", "[form][number]") {
    const auto money = QuestionType::Money;
    CHECK(taken("5 lakh", money) == 500000);
    CHECK(taken("5lakh", money) == 500000);
    CHECK(taken("5 Lakhs", money) == 500000);
    CHECK(taken("12.35 lakh", money) == 1235000);  // exact, not 1234999.9999...
    CHECK(taken("1.5 crore", money) == 15000000);
    CHECK(taken("2 cr", money) == 20000000);
    CHECK(taken("45 thousand", money) == 45000);
    CHECK(taken("₹ 12,34,567", money) == 1234567);
    CHECK(taken("Rs. 2,500", money) == 2500);
    CHECK(taken("५ लाख", money) == 500000);
    CHECK(taken("2 करोड़", money) == 20000000);
    CHECK(taken("3 हज़ार", money) == 3000);
    CHECK(parseNumberEntry("5 lakh", money).multiplied);
    CHECK_FALSE(parseNumberEntry("500000", money).multiplied);
    CHECK(refused("lakh", money) == NumberEntryProblem::Letters);
    CHECK(refused("5 lakh 20", money) == NumberEntryProblem::Letters);
    CHECK(refused("5 lakhh", money) == NumberEntryProblem::Letters);
    CHECK(refused("five lakh", money) == NumberEntryProblem::Letters);
}

TEST_CASE("Indian grouping as typed: money from four digits, other numbers from five", "[form][number]") {
    CHECK(regroupTyped("1234567", QuestionType::Money) == "12,34,567");
    CHECK(regroupTyped("12,34,5678", QuestionType::Money) == "1,23,45,678");  // a digit typed into grouped text
    CHECK(regroupTyped("1234567.50", QuestionType::Money) == "12,34,567.50");
    CHECK(regroupTyped("-123456", QuestionType::Decimal) == "-1,23,456");
    CHECK(regroupTyped("1250", QuestionType::Money) == "1,250");
    CHECK(regroupTyped("2009", QuestionType::Integer) == "2009");  // a year stays as it is
    CHECK(regroupTyped("1,250", QuestionType::Integer) == "1250");
    CHECK(regroupTyped("12.", QuestionType::Decimal) == "12.");
    CHECK_FALSE(regroupTyped("5 lakh", QuestionType::Money));
    CHECK_FALSE(regroupTyped("१२५००", QuestionType::Money));
    CHECK_FALSE(regroupTyped("", QuestionType::Money));
    CHECK(formatNumberForField(1234567, QuestionType::Money) == "12,34,567");
    CHECK(formatNumberForField(12.5, QuestionType::Decimal) == "12.5");
    CHECK(formatNumberForField(2009, QuestionType::Integer) == "2009");
    CHECK(formatNumberForField(0.1, QuestionType::Decimal) == "0.1");
    // What the field shows reads back as the same number.
    for (double v : {1234567.0, 0.1, 12345678.25, -45000.0, 2009.0})
        CHECK(*parseNumberEntry(formatNumberForField(v, QuestionType::Money), QuestionType::Money).value == v);
}

TEST_CASE("the lakh/crore helper beside a money field", "[form][number]") {
    CHECK(rupeesInWords(500000, "en") == "₹5 lakh");
    CHECK(rupeesInWords(1234567, "en") == "≈₹12.35 lakh");
    CHECK(rupeesInWords(15000000, "en") == "₹1.5 crore");
    CHECK(rupeesInWords(45000, "en") == "₹45,000");
    CHECK(rupeesInWords(500000, "hi") == "₹5 लाख");
    CHECK(rupeesInWords(20000000, "hi") == "₹2 करोड़");
}

TEST_CASE("refusals are worded in the officer's language", "[form][number]") {
    for (auto p : {NumberEntryProblem::Letters, NumberEntryProblem::Malformed, NumberEntryProblem::Grouping,
                   NumberEntryProblem::NotWhole, NumberEntryProblem::OutOfRange, NumberEntryProblem::TooLarge}) {
        std::string en = numberEntryMessage(p, QuestionType::Integer, "en");
        std::string hi = numberEntryMessage(p, QuestionType::Integer, "hi");
        CHECK_FALSE(en.empty());
        CHECK_FALSE(hi.empty());
        CHECK(en != hi);
        CHECK(hi.find("स्वीकार नहीं") == 0);
    }
    CHECK(numberEntryMessage(NumberEntryProblem::Letters, QuestionType::Money, "en").find("lakh") != std::string::npos);
    CHECK(numberEntryMessage(NumberEntryProblem::None, QuestionType::Money, "en").empty());
}
