#include "core/form/number_entry.h"

#include "core/messages/engine_messages.h"

#include <array>
#include <charconv>
#include <cmath>
#include <vector>

namespace ck {
namespace {

// The zero of each Indian script's digits the app ships; the nine after it follow.
constexpr std::array<char32_t, 6> kDigitZeros = {0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0BE6, 0x0C66};

// Decodes UTF-8, turning every script's digit into its ASCII digit; other characters are
// kept as they were. Invalid UTF-8 is kept byte for byte (it is refused as a letter later).
std::string asciiDigits(std::string_view in) {
    std::string out;
    for (size_t i = 0; i < in.size();) {
        unsigned char c = static_cast<unsigned char>(in[i]);
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        if (len == 3 && i + 3 <= in.size()) {
            char32_t cp = char32_t(c & 0x0F) << 12 | char32_t(in[i + 1] & 0x3F) << 6 | char32_t(in[i + 2] & 0x3F);
            bool digit = false;
            for (char32_t zero : kDigitZeros)
                if (cp >= zero && cp <= zero + 9) {
                    out += char('0' + (cp - zero));
                    digit = true;
                }
            if (digit) {
                i += 3;
                continue;
            }
        }
        len = std::min(len, in.size() - i);
        out.append(in.substr(i, len));
        i += len;
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool startsWith(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool endsWithFolded(std::string_view s, std::string_view word) {
    if (s.size() < word.size()) return false;
    std::string_view tail = s.substr(s.size() - word.size());
    for (size_t i = 0; i < word.size(); ++i) {
        char a = tail[i];
        if (a >= 'A' && a <= 'Z') a = char(a - 'A' + 'a');
        if (a != word[i]) return false;
    }
    return true;
}

struct Multiplier {
    std::string_view word;
    int exponent;
};
// Longer spellings first, so "lakhs" is not read as "lakh" + "s".
constexpr Multiplier kMultipliers[] = {
    {"thousand", 3}, {"crores", 7}, {"crore", 7}, {"lakhs", 5}, {"lakh", 5}, {"lacs", 5}, {"lac", 5}, {"cr", 7},
    {"\xE0\xA4\xB9\xE0\xA4\x9C\xE0\xA4\xBC\xE0\xA4\xBE\xE0\xA4\xB0", 3},  // हज़ार (with a nukta)
    {"\xE0\xA4\xB9\xE0\xA4\x9C\xE0\xA4\xBE\xE0\xA4\xB0", 3},              // हजार
    {"\xE0\xA4\xB2\xE0\xA4\xBE\xE0\xA4\x96", 5},                          // लाख
    {"\xE0\xA4\x95\xE0\xA4\xB0\xE0\xA5\x8B\xE0\xA4\xA1\xE0\xA4\xBC", 7},  // करोड़ (ड + nukta)
    {"\xE0\xA4\x95\xE0\xA4\xB0\xE0\xA5\x8B\xE0\xA5\x9C", 7},              // करोड़ (precomposed ड़)
    // The same words in the other languages the app speaks (assets/text: ta, gu, mr, bn), so
    // "5 லட்சம்" or "2 કરોડ" is read as the officer says it.
    {"कोटी", 7},                                                       // Marathi crore
    {"ஆயிரம்", 3}, {"லட்சம்", 5}, {"லட்சங்கள்", 5}, {"கோடி", 7},        // Tamil
    {"હજાર", 3}, {"લાખ", 5}, {"કરોડ", 7},                              // Gujarati
    {"হাজার", 3}, {"লাখ", 5}, {"লক্ষ", 5}, {"কোটি", 7},                  // Bengali
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Commas in the whole part are grouping when they sit where Indian (12,34,567) or
// international (1,234,567) grouping puts them.
bool groupingValid(std::string_view whole) {
    std::vector<size_t> sizes;
    size_t start = 0;
    for (size_t i = 0; i <= whole.size(); ++i)
        if (i == whole.size() || whole[i] == ',') {
            sizes.push_back(i - start);
            start = i + 1;
        }
    if (sizes.size() == 1) return true;
    if (sizes.front() == 0 || sizes.back() != 3) return false;
    bool indian = sizes.front() <= 2, international = sizes.front() <= 3;
    for (size_t i = 1; i + 1 < sizes.size(); ++i) {
        indian = indian && sizes[i] == 2;
        international = international && sizes[i] == 3;
    }
    return indian || international;
}

// "1234567" -> "12,34,567": the last three digits, then pairs.
std::string groupDigits(std::string_view digits) {
    if (digits.size() <= 3) return std::string(digits);
    std::string head(digits.substr(0, digits.size() - 3));
    std::string out;
    size_t first = head.size() % 2 == 0 ? 2 : 1;
    out += head.substr(0, first);
    for (size_t i = first; i < head.size(); i += 2) out += "," + head.substr(i, 2);
    return out + "," + std::string(digits.substr(digits.size() - 3));
}

size_t groupFrom(QuestionType type) { return type == QuestionType::Money ? 4 : 5; }

}  // namespace

NumberEntry parseNumberEntry(std::string_view typed, QuestionType type) {
    NumberEntry out;
    std::string text = asciiDigits(typed);
    std::string_view s = trim(text);
    if (s.empty()) return out;
    auto refuse = [&](NumberEntryProblem p) {
        out.problem = p;
        out.value.reset();
        return out;
    };
    const bool money = type == QuestionType::Money;
    int exponent = 0;
    if (money) {
        for (std::string_view sign : {std::string_view("\xE2\x82\xB9"), std::string_view("Rs."), std::string_view("Rs"),
                                      std::string_view("rs."), std::string_view("rs")})
            if (startsWith(s, sign)) {
                s = trim(s.substr(sign.size()));
                break;
            }
        for (const auto& m : kMultipliers)
            if (endsWithFolded(s, m.word)) {
                std::string_view figure = trim(s.substr(0, s.size() - m.word.size()));
                // "5lakh" and "5 lakh" both; "crore" alone, or a word ending in "cr", is no figure.
                if (!figure.empty() && (isDigit(figure.back()) || figure.back() == '.')) {
                    s = figure;
                    exponent = m.exponent;
                    out.multiplied = true;
                }
                break;
            }
    }
    // sign? digits-with-commas? (. digits?)?
    size_t i = 0;
    std::string clean;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
        if (s[i] == '-') clean += '-';
        ++i;
    }
    for (char c : s.substr(i))
        if (!isDigit(c) && c != ',' && c != '.' && c != '-' && c != '+') return refuse(NumberEntryProblem::Letters);
    size_t point = s.find('.', i);
    std::string_view whole = s.substr(i, point == std::string_view::npos ? std::string_view::npos : point - i);
    std::string_view fraction = point == std::string_view::npos ? std::string_view() : s.substr(point + 1);
    bool anyDigit = false;
    for (char c : whole) {
        if (c == '-' || c == '+' || c == '.') return refuse(NumberEntryProblem::Malformed);
        anyDigit = anyDigit || isDigit(c);
    }
    for (char c : fraction) {
        if (!isDigit(c)) return refuse(c == ',' ? NumberEntryProblem::Grouping : NumberEntryProblem::Malformed);
        anyDigit = true;
    }
    if (!anyDigit) return refuse(NumberEntryProblem::Malformed);
    if (whole.find(',') != std::string_view::npos && !groupingValid(whole)) return refuse(NumberEntryProblem::Grouping);
    for (char c : whole)
        if (c != ',') clean += c;
    if (whole.empty()) clean += '0';
    if (!fraction.empty()) clean += "." + std::string(fraction);
    // The multiplier shifts the decimal point: "12.35e5" is read exactly as 1235000, where
    // 12.35 * 100000 would not be.
    if (exponent) clean += "e" + std::to_string(exponent);
    double v = 0;
    auto [end, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), v);
    if (ec != std::errc() || end != clean.data() + clean.size()) return refuse(NumberEntryProblem::Malformed);
    if (v == 0) v = 0;  // no "-0"
    if (!std::isfinite(v) || std::fabs(v) > 9.0e15) return refuse(NumberEntryProblem::TooLarge);
    if (type == QuestionType::Integer && std::trunc(v) != v) return refuse(NumberEntryProblem::NotWhole);
    if (type == QuestionType::Percent && !(v >= 0 && v <= 100)) return refuse(NumberEntryProblem::OutOfRange);
    out.value = v;
    return out;
}

std::optional<std::string> regroupTyped(std::string_view typed, QuestionType type) {
    size_t i = 0;
    std::string sign;
    if (!typed.empty() && (typed[0] == '-' || typed[0] == '+')) {
        sign = std::string(1, typed[0]);
        i = 1;
    }
    size_t point = typed.find('.', i);
    std::string_view whole = typed.substr(i, point == std::string_view::npos ? std::string_view::npos : point - i);
    std::string_view rest = point == std::string_view::npos ? std::string_view() : typed.substr(point);
    std::string digits;
    for (char c : whole) {
        if (isDigit(c)) digits += c;
        else if (c != ',') return std::nullopt;
    }
    for (size_t k = 1; k < rest.size(); ++k)
        if (!isDigit(rest[k])) return std::nullopt;
    if (digits.empty()) return std::nullopt;
    std::string grouped = digits.size() >= groupFrom(type) ? groupDigits(digits) : digits;
    return sign + grouped + std::string(rest);
}

std::string formatNumberForField(double value, QuestionType type) {
    if (!std::isfinite(value)) return {};
    char buf[64];
    // The shortest text that reads back as the same double: no digit is invented or lost.
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
    std::string text = ec == std::errc() ? std::string(buf, end) : std::to_string(value);
    auto grouped = regroupTyped(text, type);
    return grouped ? *grouped : text;
}

std::string rupeesInWords(double rupees, std::string_view language) {
    std::string sign = rupees < 0 ? "-" : "";
    double a = std::fabs(rupees);
    const char* rupee = "\xE2\x82\xB9";
    auto scaled = [&](double unit, EngineText word) {
        double v = a / unit;
        double shown = std::round(v * 100) / 100;
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, shown, std::chars_format::fixed, 2);
        std::string n = ec == std::errc() ? std::string(buf, end) : std::to_string(shown);
        while (n.back() == '0') n.pop_back();
        if (n.back() == '.') n.pop_back();
        std::string approx = std::fabs(v - shown) > 1e-9 ? "\xE2\x89\x88" : "";  // ≈ when rounded
        return approx + sign + rupee + n + " " + engineText(word, language);
    };
    if (a >= 1e7) return scaled(1e7, EngineText::Crore);
    if (a >= 1e5) return scaled(1e5, EngineText::Lakh);
    return sign + rupee + formatNumberForField(a, QuestionType::Money);
}

std::string numberEntryMessage(NumberEntryProblem problem, QuestionType type, std::string_view language) {
    switch (problem) {
        case NumberEntryProblem::None: return {};
        case NumberEntryProblem::Letters:
            return engineText(type == QuestionType::Money ? EngineText::NumberLettersMoney : EngineText::NumberLetters, language);
        case NumberEntryProblem::Malformed: return engineText(EngineText::NumberMalformed, language);
        case NumberEntryProblem::Grouping: return engineText(EngineText::NumberGrouping, language);
        case NumberEntryProblem::NotWhole: return engineText(EngineText::NumberNotWhole, language);
        case NumberEntryProblem::OutOfRange: return engineText(EngineText::NumberOutOfRange, language);
        case NumberEntryProblem::TooLarge: return engineText(EngineText::NumberTooLarge, language);
    }
    return {};
}

}  // namespace ck
