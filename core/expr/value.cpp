#include "core/expr/value.h"

#include <cassert>
#include <charconv>
#include <cmath>

#include "core/expr/tree.h"

namespace ck {

namespace {

bool isLeapYear(int64_t year) {
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int daysInMonth(int64_t year, int month) {
    static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && isLeapYear(year) ? 29 : kDays[month - 1];
}

// Days before 1 January of the (k+1)-th year of a 400-year Gregorian cycle that starts on a
// year ≡ 1 (mod 400), e.g. 0001 or 2001: every cycle has the same leap pattern.
int64_t daysBeforeCycleYear(int64_t k) {
    return k * 365 + k / 4 - k / 100 + k / 400;
}

constexpr int64_t kDaysPerCycle = 146097;
// 0001-01-01 is this many days before 1970-01-01.
constexpr int64_t kEpochFromYearOne = 719162;

int64_t daysSinceEpoch(int64_t year, int month, int day) {
    int64_t days = daysBeforeCycleYear(year - 1);  // valid for year >= 1
    for (int m = 1; m < month; ++m) days += daysInMonth(year, m);
    return days + day - 1 - kEpochFromYearOne;
}

void appendPadded(std::string& out, int64_t value, int width) {
    char buffer[24];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value < 0 ? -value : value);
    (void)ec;
    if (value < 0) out += '-';
    for (int pad = width - int(end - buffer); pad > 0; --pad) out += '0';
    out.append(buffer, end);
}

}  // namespace

std::optional<Date> parseIsoDate(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
    auto digits = [&](size_t from, size_t count) -> int {
        int v = 0;
        for (size_t i = from; i < from + count; ++i) {
            if (text[i] < '0' || text[i] > '9') return -1;
            v = v * 10 + (text[i] - '0');
        }
        return v;
    };
    const int year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
    if (year < 1 || month < 1 || month > 12 || day < 1) return std::nullopt;
    if (day > daysInMonth(year, month)) return std::nullopt;
    return Date{int32_t(daysSinceEpoch(year, month, day))};
}

std::string formatIsoDate(Date date) {
    const int64_t fromYearOne = int64_t(date.days) + kEpochFromYearOne;
    // Floor division, so days before 0001-01-01 land in earlier cycles.
    int64_t cycle = fromYearOne / kDaysPerCycle;
    int64_t inCycle = fromYearOne % kDaysPerCycle;
    if (inCycle < 0) {
        inCycle += kDaysPerCycle;
        --cycle;
    }
    int64_t k = inCycle / 366;  // an underestimate of the year within the cycle
    while (daysBeforeCycleYear(k + 1) <= inCycle) ++k;
    const int64_t year = cycle * 400 + k + 1;
    int dayOfYear = int(inCycle - daysBeforeCycleYear(k));
    int month = 1;
    while (dayOfYear >= daysInMonth(year, month)) dayOfYear -= daysInMonth(year, month++);

    std::string out;
    out.reserve(10);
    appendPadded(out, year, 4);
    out += '-';
    appendPadded(out, month, 2);
    out += '-';
    appendPadded(out, dayOfYear + 1, 2);
    return out;
}

bool Value::asBool() const {
    assert(m_kind == ValueKind::Bool && "asBool() on a value that is not a Bool; check kind() first");
    return std::get<bool>(m_payload);
}

double Value::asNumber() const {
    assert(m_kind == ValueKind::Number && "asNumber() on a value that is not a Number; check kind() first");
    return std::get<double>(m_payload);
}

const std::string& Value::asText() const {
    assert(m_kind == ValueKind::Text && "asText() on a value that is not Text; check kind() first");
    return std::get<std::string>(m_payload);
}

Date Value::asDate() const {
    assert(m_kind == ValueKind::Date && "asDate() on a value that is not a Date; check kind() first");
    return std::get<Date>(m_payload);
}

const std::vector<std::string>& Value::asChoices() const {
    assert(m_kind == ValueKind::Choices && "asChoices() on a value that is not Choices; check kind() first");
    return std::get<std::vector<std::string>>(m_payload);
}

const GeoPoint& Value::asGeo() const {
    assert(m_kind == ValueKind::Geo && "asGeo() on a value that is not Geo; check kind() first");
    return std::get<GeoPoint>(m_payload);
}

bool Value::truthy() const {
    switch (m_kind) {
        case ValueKind::Empty:
        case ValueKind::DontKnow:
        case ValueKind::Refused: return false;
        case ValueKind::Bool: return asBool();
        case ValueKind::Number: return asNumber() != 0 && !std::isnan(asNumber());
        case ValueKind::Text: return !asText().empty();
        case ValueKind::Date: return true;
        case ValueKind::Choices: return !asChoices().empty();
        case ValueKind::Geo: return true;
    }
    return false;
}

std::string Value::toString() const {
    switch (m_kind) {
        case ValueKind::Empty:
        case ValueKind::DontKnow:
        case ValueKind::Refused: return {};
        case ValueKind::Bool: return asBool() ? "true" : "false";
        case ValueKind::Number: {
            std::string out;
            expr::appendNumber(out, asNumber());
            return out;
        }
        case ValueKind::Text: return asText();
        case ValueKind::Date: return formatIsoDate(asDate());
        case ValueKind::Choices: {
            std::string out;
            for (const std::string& name : asChoices()) {
                if (!out.empty()) out += ' ';
                out += name;
            }
            return out;
        }
        case ValueKind::Geo: {
            // ODK's geopoint text: latitude longitude altitude accuracy.
            const GeoPoint& p = asGeo();
            std::string out;
            expr::appendNumber(out, p.latitude);
            out += ' ';
            expr::appendNumber(out, p.longitude);
            // Without an accuracy, latitude and longitude only (ODK reads two to four parts).
            if (!p.accuracyMetres) return out;
            out += " 0 ";
            expr::appendNumber(out, *p.accuracyMetres);
            return out;
        }
    }
    return {};
}

const char* kindName(ValueKind kind) {
    switch (kind) {
        case ValueKind::Empty: return "empty";
        case ValueKind::DontKnow: return "don't know";
        case ValueKind::Refused: return "refused";
        case ValueKind::Bool: return "true/false";
        case ValueKind::Number: return "number";
        case ValueKind::Text: return "text";
        case ValueKind::Date: return "date";
        case ValueKind::Choices: return "choices";
        case ValueKind::Geo: return "location";
    }
    return "?";
}

namespace expr {

std::optional<double> parseNumber(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    bool negative = false;
    if (!text.empty() && (text.front() == '-' || text.front() == '+')) {
        negative = text.front() == '-';
        text.remove_prefix(1);
    }
    // from_chars would also take "inf", "nan" and exponents; authors' numbers have none.
    bool digits = false, dot = false;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            digits = true;
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            return std::nullopt;
        }
    }
    if (!digits) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return negative ? -value : value;
}

void appendNumber(std::string& out, double number) {
    char buffer[40];
    if (number == 0 || std::isnan(number)) {
        out += '0';  // also -0, which people should not see
        return;
    }
    // Whole numbers print whole (25000000, not 2.5e+07) while an int64 still holds them exactly.
    if (std::trunc(number) == number && std::fabs(number) < 1e15) {
        auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, int64_t(number));
        (void)ec;
        out.append(buffer, end);
        return;
    }
    // 15 significant digits hide binary noise (0.1 + 0.2 prints 0.3); to_chars ignores the
    // locale, so a Hindi or German device still writes a decimal point.
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::general, 15);
    (void)ec;
    out.append(buffer, end);
}

std::optional<double> toNumeric(const Value& value) {
    switch (value.kind()) {
        case ValueKind::Number:
            if (std::isfinite(value.asNumber())) return value.asNumber();
            return std::nullopt;
        case ValueKind::Text: return parseNumber(value.asText());
        case ValueKind::Bool: return value.asBool() ? 1.0 : 0.0;
        default: return std::nullopt;
    }
}

}  // namespace expr
}  // namespace ck
