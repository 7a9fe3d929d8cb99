#pragma once
// The value of one answer or of one expression result.
//
// "Don't know" and "refused" are values of their own, never blanks: a survey must be able
// to tell "the owner would not say" from "the officer skipped it".
#include <cstdint>
#include <optional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ck {

struct GeoPoint {
    double latitude = 0;
    double longitude = 0;
    // Unknown when the device did not say or the officer left it blank: never a made-up 0 m.
    std::optional<double> accuracyMetres;
    bool operator==(const GeoPoint&) const = default;
};

// A calendar date as days since 1970-01-01 (proleptic Gregorian), so dates compare and
// subtract as numbers.
struct Date {
    int32_t days = 0;
    auto operator<=>(const Date&) const = default;
};

// Parses "YYYY-MM-DD"; nullopt when the text is not a valid calendar date.
std::optional<Date> parseIsoDate(std::string_view text);
std::string formatIsoDate(Date date);

enum class ValueKind : uint8_t {
    Empty,     // not answered (or not relevant)
    DontKnow,  // the respondent does not know
    Refused,   // the respondent declined to answer
    Bool,
    Number,    // integer, decimal, money and percent answers; counts and sums
    Text,      // text answers and the chosen name of a select_one
    Date,
    Choices,   // the chosen names of a select_multiple, in the order of the choice list
    Geo,
};

class Value {
public:
    Value() = default;  // Empty
    static Value dontKnow() { return Value(ValueKind::DontKnow); }
    static Value refused() { return Value(ValueKind::Refused); }
    static Value boolean(bool b) { return Value(ValueKind::Bool, b); }
    static Value number(double n) { return Value(ValueKind::Number, n); }
    static Value text(std::string s) { return Value(ValueKind::Text, std::move(s)); }
    static Value date(Date d) { return Value(ValueKind::Date, d); }
    static Value choices(std::vector<std::string> names) { return Value(ValueKind::Choices, std::move(names)); }
    static Value geo(GeoPoint p) { return Value(ValueKind::Geo, p); }

    ValueKind kind() const { return m_kind; }
    bool isEmpty() const { return m_kind == ValueKind::Empty; }
    // Empty, don't know or refused: there is no usable figure behind it.
    bool isMissing() const {
        return m_kind == ValueKind::Empty || m_kind == ValueKind::DontKnow || m_kind == ValueKind::Refused;
    }
    // Answered in any way, "don't know" and "refused" included.
    bool isAnswered() const { return m_kind != ValueKind::Empty; }

    // Accessors: calling one for the wrong kind is a programmer error (asserts).
    bool asBool() const;
    double asNumber() const;
    const std::string& asText() const;
    Date asDate() const;
    const std::vector<std::string>& asChoices() const;
    const GeoPoint& asGeo() const;

    // Truth in a condition: false for missing values, zero, empty text and no choices.
    bool truthy() const;

    // Text for people and for string functions: numbers without trailing zeros, dates as
    // ISO, choices space-separated (as XLSForm writes them), "" for missing values.
    std::string toString() const;

    bool operator==(const Value& other) const = default;

private:
    using Payload = std::variant<std::monostate, bool, double, std::string, Date, std::vector<std::string>, GeoPoint>;
    explicit Value(ValueKind k) : m_kind(k) {}
    template <typename T>
    Value(ValueKind k, T&& v) : m_kind(k), m_payload(std::forward<T>(v)) {}
    ValueKind m_kind = ValueKind::Empty;
    Payload m_payload;
};

const char* kindName(ValueKind kind);

}  // namespace ck
