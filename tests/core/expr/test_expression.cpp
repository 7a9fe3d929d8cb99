// The expression engine: values, compile errors (with positions) and evaluation, against a
// small hand-made scope with a field of every type, a select_one, a select_multiple and a
// repeat.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "core/expr/expression.h"

using namespace ck;
using namespace ck::expr;

namespace Catch {
template <>
struct StringMaker<Value> {
    static std::string convert(const Value& v) {
        return std::string(kindName(v.kind())) + "(" + v.toString() + ")";
    }
};
}  // namespace Catch

namespace {

const std::vector<std::string> kConsentChoices{"yes", "no"};
const std::vector<std::string> kCertChoices{"iso9001", "oeko_tex", "zed", "gots"};
const std::vector<std::string> kProductChoices{"t_shirts", "innerwear"};
const std::vector<std::string> kScaleChoices{"1", "2", "3", "4", "5"};
const std::vector<std::string> kSectorChoices{"knit", "weave", "dye", "print", "embroider", "stitch",
                                              "pack", "trade", "yarn", "fibre", "garment", "other"};

enum Slot : int {
    kWorkers = 0, kUnitName, kConsent, kCerts, kVisitDate, kGps, kProductLines, kProduct, kLineSales,
    kExporter, kTurnover, kSatisfaction, kMixed, kLineDate, kSector, kSuppliers, kSupplierName,
};

Date day(const char* iso) {
    const std::optional<Date> d = parseIsoDate(iso);
    REQUIRE(d.has_value());
    return *d;
}

class TestScope : public Scope {
public:
    TestScope() {
        add("workers", kWorkers, Type::Number);
        add("unit_name", kUnitName, Type::Text);
        add("consent", kConsent, Type::Text, -1, &kConsentChoices);
        add("certs", kCerts, Type::Choices, -1, &kCertChoices);
        add("visit_date", kVisitDate, Type::Date);
        add("gps", kGps, Type::Geo);
        add("product_lines", kProductLines, Type::Any, -1, nullptr, true);
        add("product", kProduct, Type::Text, kProductLines, &kProductChoices);
        add("line_sales", kLineSales, Type::Number, kProductLines);
        add("exporter", kExporter, Type::Bool);
        add("turnover", kTurnover, Type::Number);
        add("satisfaction", kSatisfaction, Type::Number, -1, &kScaleChoices);
        add("mixed", kMixed, Type::Any);
        add("line_date", kLineDate, Type::Date, kProductLines);
        add("sector", kSector, Type::Text, -1, &kSectorChoices);
        add("suppliers", kSuppliers, Type::Any, -1, nullptr, true);
        add("supplier_name", kSupplierName, Type::Text, kSuppliers);
    }
    std::optional<FieldSymbol> field(std::string_view name) const override {
        auto it = m_fields.find(name);
        if (it == m_fields.end()) return std::nullopt;
        return it->second;
    }
    int ownerRepeat() const override { return owner; }
    std::optional<Type> selfType() const override { return self; }
    const std::vector<std::string>* selfChoiceNames() const override { return selfChoices; }
    bool hasChoiceColumn(std::string_view name) const override { return columns.count(std::string(name)) > 0; }
    std::string_view repeatName(int slot) const override {
        return slot == kProductLines ? "product_lines" : "";
    }

    int owner = -1;
    std::optional<Type> self;
    const std::vector<std::string>* selfChoices = nullptr;
    std::set<std::string> columns;

private:
    void add(const char* name, int slot, Type type, int repeat = -1, const std::vector<std::string>* choices = nullptr,
             bool isRepeat = false) {
        m_fields[name] = FieldSymbol{slot, type, repeat, isRepeat, choices};
    }
    std::map<std::string, FieldSymbol, std::less<>> m_fields;
};

class TestContext : public EvalContext {
public:
    TestContext() {
        values[kWorkers] = Value::number(12);
        values[kUnitName] = Value::text("Sri Murugan Knits");
        values[kConsent] = Value::text("yes");
        values[kCerts] = Value::choices({"iso9001", "zed"});
        values[kVisitDate] = Value::date(day("2025-06-15"));
        values[kGps] = Value::geo(GeoPoint{11.108, 77.341, 8});
        values[kExporter] = Value::boolean(true);
        values[kTurnover] = Value::dontKnow();
        values[kSatisfaction] = Value::number(4);
        values[kMixed] = Value::text("42");
        values[kSector] = Value::text("knit");
        // The evaluating instance, when a test compiles from inside product_lines.
        values[kProduct] = Value::text("t_shirts");
        values[kLineSales] = Value::number(4000000);
        values[kLineDate] = Value::date(day("2025-01-10"));
        instances[kProduct] = {Value::text("t_shirts"), Value::text("innerwear"), Value()};
        instances[kLineSales] = {Value::number(4000000), Value::dontKnow(), Value::number(1500000)};
        instances[kLineDate] = {Value::date(day("2025-01-10")), Value::date(day("2024-12-01")), Value()};
        instances[kSupplierName] = {};
        counts[kProductLines] = 3;
        counts[kSuppliers] = 0;
    }
    Value field(int slot) const override {
        auto it = values.find(slot);
        return it == values.end() ? Value() : it->second;
    }
    void fieldInstances(int slot, std::vector<Value>& out) const override {
        auto it = instances.find(slot);
        if (it != instances.end()) out.insert(out.end(), it->second.begin(), it->second.end());
    }
    int instanceCount(int slot) const override {
        auto it = counts.find(slot);
        return it == counts.end() ? 0 : it->second;
    }
    Value self() const override { return selfValue; }
    Value choiceColumn(std::string_view name) const override {
        auto it = columns.find(std::string(name));
        return it == columns.end() ? Value() : it->second;
    }
    Date today() const override { return todayDate; }

    std::map<int, Value> values;
    std::map<int, std::vector<Value>> instances;
    std::map<int, int> counts;
    Value selfValue;
    std::map<std::string, Value> columns;
    Date todayDate = day("2025-07-01");
};

struct Fixture {
    TestScope scope;
    TestContext context;

    Program program(std::string_view text) const {
        auto result = compile(text, scope);
        if (auto* error = std::get_if<CompileError>(&result)) {
            INFO("`" << text.substr(0, 200) << "` at " << error->position << ": " << error->message);
            REQUIRE(false);
        }
        return std::get<Program>(std::move(result));
    }
    Value eval(std::string_view text) const { return program(text).evaluate(context); }
    CompileError error(std::string_view text) const {
        auto result = compile(text, scope);
        INFO("`" << text.substr(0, 200) << "` should not compile");
        REQUIRE(std::holds_alternative<CompileError>(result));
        return std::get<CompileError>(result);
    }
};

Value num(double n) { return Value::number(n); }
Value text(const char* s) { return Value::text(s); }
const Value kTrue = Value::boolean(true);
const Value kFalse = Value::boolean(false);
const Value kEmpty;

// One expected compile error: `marker` is the piece of text the position must point at
// (its first occurrence; "" for the end of the text).
struct ErrorCase {
    std::string text;
    std::string marker;
    std::string phrase;
    int occurrence = 1;  // which occurrence of `marker`
};

void checkErrors(const Fixture& f, const std::vector<ErrorCase>& cases) {
    for (const ErrorCase& c : cases) {
        size_t expected = c.marker.empty() ? c.text.size() : c.text.find(c.marker);
        for (int k = 1; k < c.occurrence && expected != std::string::npos; ++k)
            expected = c.text.find(c.marker, expected + 1);
        REQUIRE(expected != std::string::npos);
        const CompileError e = f.error(c.text);
        INFO("`" << c.text << "`: " << e.message);
        CHECK(e.position == expected);
        CHECK_THAT(e.message, Catch::Contains(c.phrase));
    }
}

}  // namespace

TEST_CASE("Value accessors, truth and text", "[core][expr]") {
    CHECK(Value().isEmpty());
    CHECK_FALSE(Value().isAnswered());
    CHECK(Value::dontKnow().isMissing());
    CHECK(Value::dontKnow().isAnswered());
    CHECK(Value::refused().isMissing());
    CHECK_FALSE(num(0).isMissing());

    CHECK(Value::boolean(true).asBool());
    CHECK(num(2.5).asNumber() == 2.5);
    CHECK(text("x").asText() == "x");
    CHECK(Value::date(Date{3}).asDate() == Date{3});
    CHECK(Value::choices({"a", "b"}).asChoices().size() == 2);
    CHECK(Value::geo(GeoPoint{1, 2, 3}).asGeo().longitude == 2);

    CHECK_FALSE(Value().truthy());
    CHECK_FALSE(Value::dontKnow().truthy());
    CHECK_FALSE(Value::refused().truthy());
    CHECK_FALSE(num(0).truthy());
    CHECK(num(-1).truthy());
    CHECK_FALSE(num(std::nan("")).truthy());
    CHECK_FALSE(text("").truthy());
    CHECK(text("0").truthy());
    CHECK_FALSE(Value::choices({}).truthy());
    CHECK(Value::choices({"a"}).truthy());
    CHECK(Value::date(Date{0}).truthy());
    CHECK_FALSE(kFalse.truthy());

    CHECK(num(12).toString() == "12");
    CHECK(num(2.5).toString() == "2.5");
    CHECK(num(-3).toString() == "-3");
    CHECK(num(-0.0).toString() == "0");
    CHECK(num(25000000).toString() == "25000000");
    CHECK(num(123456789012345).toString() == "123456789012345");
    CHECK(num(0.1 + 0.2).toString() == "0.3");
    CHECK(num(1.0 / 3).toString() == "0.333333333333333");
    CHECK(num(1e20).toString() == "1e+20");
    CHECK(Value().toString().empty());
    CHECK(Value::dontKnow().toString().empty());
    CHECK(kTrue.toString() == "true");
    CHECK(Value::date(Date{0}).toString() == "1970-01-01");
    CHECK(Value::choices({"iso9001", "zed"}).toString() == "iso9001 zed");
    CHECK(Value::geo(GeoPoint{11.5, 77.25, 8}).toString() == "11.5 77.25 0 8");

    CHECK(std::string(kindName(ValueKind::DontKnow)) == "don't know");
    CHECK(std::string(kindName(ValueKind::Choices)) == "choices");
    CHECK(std::string(typeName(Type::Date)) == "date");
    CHECK(std::string(typeName(Type::Any)) == "any");
}

TEST_CASE("ISO dates are days since 1970-01-01, proleptic Gregorian", "[core][expr]") {
    CHECK(parseIsoDate("1970-01-01") == Date{0});
    CHECK(parseIsoDate("1969-12-31") == Date{-1});
    CHECK(parseIsoDate("2000-02-29") == Date{11016});
    CHECK(parseIsoDate("2000-03-01") == Date{11017});
    CHECK(parseIsoDate("2024-02-29") == Date{19782});
    CHECK(parseIsoDate("1900-03-01") == Date{-25508});
    CHECK(parseIsoDate("0001-01-01") == Date{-719162});
    CHECK(parseIsoDate("9999-12-31") == Date{2932896});

    for (const char* bad : {"2023-02-29", "1900-02-29", "2025-13-01", "2025-00-10", "2025-04-31", "2025-01-00",
                            "0000-01-01", "2025-1-01", "2025/01/01", "20250101", "2025-01-01 ", " 2025-01-01",
                            "2025-01-0x", "", "yesterday"}) {
        INFO(bad);
        CHECK_FALSE(parseIsoDate(bad).has_value());
    }

    CHECK(formatIsoDate(Date{0}) == "1970-01-01");
    CHECK(formatIsoDate(Date{-1}) == "1969-12-31");
    CHECK(formatIsoDate(Date{11016}) == "2000-02-29");
    CHECK(formatIsoDate(Date{-719162}) == "0001-01-01");
    CHECK(formatIsoDate(Date{2932896}) == "9999-12-31");
    // Far outside the calendar people use, formatting still terminates and says something.
    CHECK_FALSE(formatIsoDate(Date{INT32_MIN}).empty());
    CHECK_FALSE(formatIsoDate(Date{INT32_MAX}).empty());

    int mismatches = 0;
    for (int32_t d = -719162; d <= 2932896; d += 3) {  // 0001-01-01 to 9999-12-31
        const std::optional<Date> back = parseIsoDate(formatIsoDate(Date{d}));
        if (!back || back->days != d) ++mismatches;
    }
    CHECK(mismatches == 0);
}

TEST_CASE_METHOD(Fixture, "Operators bind as FORMAT.md lists them", "[core][expr]") {
    CHECK(eval("1 + 2 * 3") == num(7));
    CHECK(eval("(1 + 2) * 3") == num(9));
    CHECK(eval("10 - 4 - 3") == num(3));
    CHECK(eval("64 div 4 div 2") == num(8));
    CHECK(eval("7 div 2") == num(3.5));
    CHECK(eval("7 / 2") == num(3.5));
    CHECK(eval("7 mod 3") == num(1));
    CHECK(eval("-7 mod 3") == num(-1));
    CHECK(eval("2 * 3 mod 4") == num(2));
    CHECK(eval("-2 * 3") == num(-6));
    CHECK(eval("- - 4") == num(4));
    CHECK(eval("-(2 + 3)") == num(-5));
    CHECK(eval("-${workers}") == num(-12));
    CHECK(eval("1 + 2 < 4") == kTrue);
    CHECK(eval("2 < 3 = 1 < 2") == kTrue);  // relational binds tighter than equality
    CHECK(eval("1 = 1 and 2 = 3") == kFalse);
    CHECK(eval("1 or 0 and 0") == kTrue);  // and binds tighter than or
    CHECK(eval("(1 or 0) and 0") == kFalse);
    CHECK(eval("2.5 * 2") == num(5));
    CHECK(eval(".5 + 1") == num(1.5));
    CHECK(eval("'a' = \"a\"") == kTrue);
    CHECK(eval("\t${workers}\n>=\r12 ") == kTrue);
    CHECK(eval("${workers}-2") == num(10));
    CHECK(program("1 + 2").type() == Type::Number);
    CHECK(program("1 < 2").type() == Type::Bool);
    CHECK(program("'a'").type() == Type::Text);
}

TEST_CASE_METHOD(Fixture, "Arithmetic with missing values and by zero is empty", "[core][expr]") {
    CHECK(eval("${turnover} + 1") == kEmpty);           // don't know
    CHECK(eval("${workers} * ${turnover}") == kEmpty);
    context.values[kTurnover] = Value::refused();
    CHECK(eval("${turnover} - 1") == kEmpty);
    context.values.erase(kTurnover);
    CHECK(eval("${turnover} div 2") == kEmpty);  // unanswered
    CHECK(eval("-${turnover}") == kEmpty);
    CHECK(eval("${workers} div 0") == kEmpty);
    CHECK(eval("${workers} / (3 - 3)") == kEmpty);
    CHECK(eval("${workers} mod 0") == kEmpty);
    CHECK(eval("0 div 0") == kEmpty);
    CHECK(eval("pow(10, 400)") == kEmpty);  // not finite
    CHECK(eval("pow(0, -1)") == kEmpty);
    CHECK(eval("999999999999 * 999999999999 * 999999999999 * 999999999999 * 999999999999 * 999999999999 * "
               "999999999999 * 999999999999 * 999999999999 * 999999999999 * 999999999999 * 999999999999 * "
               "999999999999 * 999999999999 * 999999999999 * 999999999999 * 999999999999 * 999999999999 * "
               "999999999999 * 999999999999 * 999999999999 * 999999999999 * 999999999999 * 999999999999 * "
               "999999999999 * 999999999999 * 999999999999") == kEmpty);
    // An empty result is false in a condition, so a constraint on it does not pass by accident.
    CHECK(eval("${workers} div 0 > 1") == kFalse);
    CHECK(eval("${workers} div 0 < 1") == kFalse);
}

TEST_CASE_METHOD(Fixture, "Comparisons, blanks and missing values", "[core][expr]") {
    CHECK(eval("${workers} = 12") == kTrue);
    CHECK(eval("${workers} != 12") == kFalse);
    CHECK(eval("${workers} >= 12 and ${workers} <= 12 and ${workers} > 11 and ${workers} < 13") == kTrue);
    CHECK(eval("12 = ${workers}") == kTrue);
    CHECK(eval("${workers} = '12'") == kTrue);  // numeric text literal beside a number
    CHECK(eval("'12.0' = ${workers}") == kTrue);
    CHECK(eval("${unit_name} = 'Sri Murugan Knits'") == kTrue);
    CHECK(eval("${unit_name} < 'T'") == kTrue);
    CHECK(eval("${exporter} = true()") == kTrue);
    CHECK(eval("${exporter} != false()") == kTrue);
    CHECK(eval("${gps} = ${gps}") == kTrue);

    // Comparison with a missing value is false, whichever way it is asked.
    CHECK(eval("${turnover} = 5") == kFalse);
    CHECK(eval("${turnover} != 5") == kFalse);
    CHECK(eval("${turnover} < 5") == kFalse);
    CHECK(eval("5 > ${turnover}") == kFalse);
    context.values.erase(kWorkers);
    CHECK(eval("${workers} = 0") == kFalse);
    CHECK(eval("${workers} != 0") == kFalse);

    // ... except `= ''`, which asks whether there is no answer.
    CHECK(eval("${workers} = ''") == kTrue);
    CHECK(eval("'' = ${workers}") == kTrue);
    CHECK(eval("${workers} != ''") == kFalse);
    CHECK(eval("${unit_name} = ''") == kFalse);
    CHECK(eval("${unit_name} != ''") == kTrue);
    context.values[kUnitName] = text("");
    CHECK(eval("${unit_name} = ''") == kTrue);
    CHECK(eval("${visit_date} = ''") == kFalse);
    CHECK(eval("${visit_date} != ''") == kTrue);
    CHECK(eval("${certs} != ''") == kTrue);
    context.values[kCerts] = Value::choices({});
    CHECK(eval("${certs} = ''") == kTrue);
    CHECK(eval("${turnover} = ''") == kFalse);  // don't know is an answer ...
    CHECK(eval("${turnover} != ''") == kFalse);  // ... but compares with nothing
}

TEST_CASE_METHOD(Fixture, "Don't know and refused", "[core][expr]") {
    CHECK(eval("is-dont-know(${turnover})") == kTrue);
    CHECK(eval("is-refused(${turnover})") == kFalse);
    CHECK(eval("answered(${turnover})") == kTrue);
    CHECK(eval("boolean(${turnover})") == kFalse);
    CHECK(eval("if(${turnover}, 'yes', 'no')") == text("no"));
    CHECK(eval("coalesce(${turnover}, 0)") == num(0));
    CHECK(eval("string-length(${turnover})") == num(0));
    CHECK(eval("concat('[', ${turnover}, ']')") == text("[]"));
    context.values[kTurnover] = Value::refused();
    CHECK(eval("is-refused(${turnover})") == kTrue);
    CHECK(eval("is-dont-know(${turnover})") == kFalse);
    CHECK(eval("answered(${turnover})") == kTrue);
    context.values.erase(kTurnover);
    CHECK(eval("answered(${turnover})") == kFalse);
    CHECK(eval("is-dont-know(${turnover})") == kFalse);
    CHECK(eval("is-refused(${turnover})") == kFalse);
    // A missing operand of and/or is false; the other side still decides or.
    context.values[kConsent] = Value::dontKnow();
    CHECK(eval("${consent} = 'yes' or ${workers} > 10") == kTrue);
    CHECK(eval("${consent} = 'no' and ${workers} > 10") == kFalse);
}

TEST_CASE_METHOD(Fixture, "Dates: literals, arithmetic and comparison", "[core][expr]") {
    CHECK(eval("${visit_date} >= '2025-04-01'") == kTrue);
    CHECK(eval("'2025-04-01' < ${visit_date}") == kTrue);
    CHECK(eval("${visit_date} = '2025-06-15'") == kTrue);
    CHECK(eval("${visit_date} > '2025-06-15'") == kFalse);
    CHECK(eval("${visit_date} >= date('2025-04-01')") == kTrue);
    CHECK(eval("today() - ${visit_date}") == num(16));
    CHECK(eval("${visit_date} + 30") == Value::date(day("2025-07-15")));
    CHECK(eval("30 + ${visit_date}") == Value::date(day("2025-07-15")));
    CHECK(eval("${visit_date} - 365") == Value::date(day("2024-06-15")));
    CHECK(eval("${visit_date} - 1.9") == Value::date(day("2025-06-14")));
    CHECK(eval("string(${visit_date} + 17)") == text("2025-07-02"));
    CHECK(program("${visit_date} + 1").type() == Type::Date);
    CHECK(program("${visit_date} - ${visit_date}").type() == Type::Number);
    context.values.erase(kVisitDate);
    CHECK(eval("today() - ${visit_date}") == kEmpty);
    CHECK(eval("${visit_date} < '2030-01-01'") == kFalse);
}

TEST_CASE_METHOD(Fixture, "Logic and choice of values", "[core][expr]") {
    CHECK(eval("if(${workers} > 10, 'large', 'small')") == text("large"));
    CHECK(eval("if(${workers} > 100, 'large', 'small')") == text("small"));
    CHECK(eval("if(1, ${workers}, ${workers} div 0)") == num(12));
    // `''` in a branch is "no value", so the result keeps the other branch's type.
    CHECK(eval("if(${workers} > 100, ${workers}, '')") == kEmpty);
    CHECK(program("if(${workers} > 100, ${workers}, '')").type() == Type::Number);
    CHECK(program("if(1, 1, 'one')").type() == Type::Any);
    CHECK(eval("coalesce(${turnover}, ${workers})") == num(12));
    CHECK(eval("coalesce(${workers}, 5)") == num(12));
    CHECK(eval("coalesce(${turnover}, ${consent}, 3)") == text("yes"));
    context.values.erase(kWorkers);
    CHECK(eval("coalesce(${workers}, ${turnover})") == Value::dontKnow());  // all missing: the last
    CHECK(eval("not(1 = 2)") == kTrue);
    CHECK(eval("not(${workers})") == kTrue);
    CHECK(eval("not('x')") == kFalse);
    CHECK(eval("true()") == kTrue);
    CHECK(eval("false()") == kFalse);
    CHECK(eval("boolean('')") == kFalse);
    CHECK(eval("boolean(${certs})") == kTrue);
    CHECK(eval("boolean(0)") == kFalse);
    CHECK(eval("answered(${consent})") == kTrue);
    // Conditions of any type are read by truth.
    CHECK(eval("${unit_name} and ${certs}") == kTrue);
    CHECK(eval("${unit_name} or 0") == kTrue);
    CHECK(program("${unit_name}").type() == Type::Text);
}

TEST_CASE_METHOD(Fixture, "Select functions", "[core][expr]") {
    CHECK(eval("selected(${certs}, 'iso9001')") == kTrue);
    CHECK(eval("selected(${certs}, 'gots')") == kFalse);
    CHECK(eval("selected(${consent}, 'yes')") == kTrue);  // a select_one: equality
    CHECK(eval("selected(${consent}, 'no')") == kFalse);
    CHECK(eval("selected(${satisfaction}, 4)") == kTrue);
    CHECK(eval("count-selected(${certs})") == num(2));
    CHECK(eval("count-selected(${consent})") == num(1));
    CHECK(eval("selected-at(${certs}, 0)") == text("iso9001"));
    CHECK(eval("selected-at(${certs}, 1)") == text("zed"));
    CHECK(eval("selected-at(${certs}, 2)") == kEmpty);
    CHECK(eval("selected-at(${certs}, -1)") == kEmpty);
    CHECK(eval("selected-at(${consent}, 0)") == text("yes"));
    CHECK(eval("selected-at(${consent}, 1)") == kEmpty);
    CHECK(eval("${consent} = 'yes'") == kTrue);
    CHECK(eval("${satisfaction} >= 4") == kTrue);
    CHECK(eval("${satisfaction} = '4'") == kTrue);
    context.values.erase(kCerts);
    context.values[kConsent] = Value::dontKnow();
    CHECK(eval("selected(${certs}, 'iso9001')") == kFalse);
    CHECK(eval("count-selected(${certs})") == num(0));
    CHECK(eval("count-selected(${consent})") == num(0));
    CHECK(eval("selected(${consent}, 'yes')") == kFalse);
    CHECK(eval("selected-at(${certs}, 0)") == kEmpty);
}

TEST_CASE_METHOD(Fixture, "Aggregates read every instance of a repeat", "[core][expr]") {
    CHECK(eval("sum(${line_sales})") == num(5500000));  // don't know skipped
    CHECK(eval("count(${product_lines})") == num(3));
    CHECK(eval("count(${line_sales})") == num(3));  // instances, answered or not
    CHECK(eval("count(${suppliers})") == num(0));
    CHECK(eval("min(${line_sales})") == num(1500000));
    CHECK(eval("max(${line_sales})") == num(4000000));
    CHECK(eval("max(${line_date})") == Value::date(day("2025-01-10")));
    CHECK(eval("min(${line_date})") == Value::date(day("2024-12-01")));
    CHECK(eval("join(', ', ${product})") == text("t_shirts, innerwear"));
    CHECK(eval("join(', ', ${supplier_name})") == text(""));
    CHECK(eval("min(3, 1, 2)") == num(1));
    CHECK(eval("max(3, ${workers}, 2)") == num(12));
    CHECK(eval("max(${turnover}, 2)") == num(2));  // missing skipped
    CHECK(eval("sum(${line_sales}) div count(${product_lines})") == num(5500000.0 / 3));
    CHECK(eval("${workers} + sum(${line_sales})") == num(5500012));

    context.instances[kLineSales] = {Value(), Value::dontKnow()};
    CHECK(eval("sum(${line_sales})") == num(0));
    CHECK(eval("min(${line_sales})") == kEmpty);
    CHECK(eval("max(${line_sales})") == kEmpty);
    CHECK(eval("max(${turnover}, -${turnover})").isEmpty());

    // Inside the repeat, a sibling is this instance's value.
    scope.owner = kProductLines;
    CHECK(eval("${line_sales} * 2") == num(8000000));
    CHECK(eval("${product} = 't_shirts'") == kTrue);
    CHECK(eval("count(${product_lines})") == num(3));
    CHECK(eval("${workers} > 0") == kTrue);  // top-level fields stay single values
    CHECK(eval("count(${supplier_name})") == num(0));  // another repeat is still a set
}

TEST_CASE_METHOD(Fixture, "Text functions", "[core][expr]") {
    CHECK(eval("string-length(${unit_name})") == num(17));
    CHECK(eval("string-length('नमस्ते')") == num(6));  // code points, not bytes
    CHECK(eval("string-length(1234)") == num(4));
    CHECK(eval("concat(${unit_name}, ' (', ${workers}, ')')") == text("Sri Murugan Knits (12)"));
    CHECK(eval("concat(${certs})") == text("iso9001 zed"));
    CHECK(eval("concat(2.5, '/', ${visit_date})") == text("2.5/2025-06-15"));
    CHECK(eval("substr('abcdef', 2)") == text("cdef"));
    CHECK(eval("substr('abcdef', 1, 3)") == text("bc"));
    CHECK(eval("substr('abcdef', 4, 2)") == text(""));
    CHECK(eval("substr('abcdef', -5, 100)") == text("abcdef"));
    CHECK(eval("substr('नमस्ते', 1, 3)") == text("मस"));
    CHECK(eval("substr('abc', ${turnover})") == kEmpty);
    CHECK(eval("contains(${unit_name}, 'Murugan')") == kTrue);
    CHECK(eval("contains(${unit_name}, 'murugan')") == kFalse);
    CHECK(eval("starts-with(${unit_name}, 'Sri')") == kTrue);
    CHECK(eval("starts-with('S', 'Sri')") == kFalse);
    CHECK(eval("ends-with(${unit_name}, 'Knits')") == kTrue);
    CHECK(eval("ends-with(${unit_name}, 'Sri')") == kFalse);
    CHECK(eval("contains(${turnover}, '')") == kFalse);
    CHECK(eval("regex(${unit_name}, 'Murugan')") == kTrue);  // matches anywhere
    CHECK(eval("regex(${unit_name}, '^Murugan')") == kFalse);
    CHECK(eval("regex(${workers}, '^[0-9]+$')") == kTrue);
    CHECK(eval("regex(${turnover}, '^$')") == kFalse);  // no answer, no match
}

TEST_CASE_METHOD(Fixture, "Number functions and conversions", "[core][expr]") {
    CHECK(eval("round(2.5)") == num(3));
    CHECK(eval("round(-2.5)") == num(-3));  // halves away from zero
    CHECK(eval("round(2.4)") == num(2));
    CHECK(eval("round(3.14159, 2)") == num(3.14));
    CHECK(eval("round(1250, -2)") == num(1300));
    CHECK(eval("round(1.5, 20)") == num(1.5));
    CHECK(eval("round(${turnover})") == kEmpty);
    CHECK(eval("int(7.9)") == num(7));
    CHECK(eval("int(-7.9)") == num(-7));
    CHECK(eval("abs(-4)") == num(4));
    CHECK(eval("pow(2, 10)") == num(1024));
    CHECK(eval("pow(${workers}, 0.5) * pow(${workers}, 0.5)").asNumber() == Approx(12));
    CHECK(eval("number('12.5')") == num(12.5));
    CHECK(eval("number(' -3 ')") == num(-3));
    CHECK(eval("number('12 units')") == kEmpty);
    CHECK(eval("number('inf')") == kEmpty);
    CHECK(eval("number('1e3')") == kEmpty);
    CHECK(eval("number(${mixed}) + 1") == num(43));
    CHECK(eval("number(true())") == num(1));
    CHECK(eval("number(${turnover})") == kEmpty);
    CHECK(eval("number(date('1970-01-11'))") == num(10));
    CHECK(eval("string(12)") == text("12"));
    CHECK(eval("string(2.50)") == text("2.5"));
    CHECK(eval("string(25000000)") == text("25000000"));
    CHECK(eval("string(${exporter})") == text("true"));
    CHECK(eval("string(${turnover})") == text(""));
}

TEST_CASE_METHOD(Fixture, "Date functions", "[core][expr]") {
    CHECK(eval("today()") == Value::date(day("2025-07-01")));
    CHECK(eval("date('2024-02-29')") == Value::date(day("2024-02-29")));
    CHECK(eval("date(0)") == Value::date(Date{0}));
    CHECK(eval("date(${visit_date})") == Value::date(day("2025-06-15")));
    context.values[kUnitName] = text("2025-02-30");
    CHECK(eval("date(${unit_name})") == kEmpty);  // a bad date at run time is empty
    context.values[kUnitName] = text("2025-02-28");
    CHECK(eval("date(${unit_name})") == Value::date(day("2025-02-28")));
    CHECK(eval("date(99999999999)") == kEmpty);
    CHECK(program("today()").usesToday());
    CHECK_FALSE(program("date('2024-01-01')").usesToday());
}

TEST_CASE_METHOD(Fixture, "Untyped values coerce at run time", "[core][expr]") {
    CHECK(program("${mixed}").type() == Type::Any);
    CHECK(eval("${mixed} = 42") == kTrue);  // "42" as a number
    CHECK(eval("${mixed} > 5") == kTrue);
    CHECK(eval("${mixed} > '5'") == kTrue);  // both read as numbers, not as text
    CHECK(eval("${mixed} + 1") == num(43));
    CHECK(eval("${mixed} = 'abc'") == kFalse);
    context.values[kMixed] = text("abc");
    CHECK(eval("${mixed} + 1") == kEmpty);
    CHECK(eval("${mixed} = 'abc'") == kTrue);
    CHECK(eval("${mixed} > 5") == kTrue);  // text order: "abc" after "5"
    context.values[kMixed] = Value::date(day("2025-01-01"));
    CHECK(eval("${mixed} = '2025-01-01'") == kTrue);
    CHECK(eval("${mixed} < '2025-01-02'") == kTrue);
    CHECK(eval("${mixed} + 1") == Value::date(day("2025-01-02")));
    CHECK(eval("${mixed} - ${visit_date}") == num(-165));
    context.values[kMixed] = Value::boolean(true);
    CHECK(eval("${mixed} = 1") == kTrue);
    CHECK(eval("if(1, 1, 'a') = '1'") == kTrue);
    // Literal text beside literal text compares as written, not numerically.
    CHECK(eval("'10' < '9'") == kTrue);
}

TEST_CASE_METHOD(Fixture, "Syntax errors name the place", "[core][expr]") {
    checkErrors(*this, {
        {"", "", "empty"},
        {"   ", "   ", "empty"},
        {". >= 0 and", "", "expected a value after 'and'"},
        {"${workers} +", "", "expected a value after '+'"},
        {"${workers} + * 2", "*", "expected a value after '+', found '*'"},
        {"(1 + 2", "", "expected ')' to close the '(' at 0"},
        {"1 + 2)", ")", "no matching '('"},
        {"${workers} ${unit_name}", "${unit_name}", "expected an operator before '${unit_name}'"},
        {"1, 2", ",", "outside a function call"},
        {"'abc", "'abc", "no closing '"},
        {"x = \"abc", "\"", "no closing \""},
        {"${workers", "${", "${name}"},
        {"${}", "${", "${name}"},
        {"${1a}", "${", "${name}"},
        {"$workers", "$", "${workers}"},
        {"${workers} == 1", "==", "write = to compare"},
        {"${workers} <> 1", "<>", "write !="},
        {"!${exporter}", "!", "not(...)"},
        {"${exporter} && 1", "&", "write 'and'"},
        {"${exporter} || 1", "|", "write 'or'"},
        {"${workers} # 1", "#", "unexpected character '#'"},
        {"${unit_name} = ‘abc’", "‘", "curly quotes"},
        {"${unit_name} = नाम", "न", "non-ASCII"},
        {"1 + \x01", "\x01", "control character"},
        {"foo(1)", "foo", "unknown function 'foo'"},
        {"count-selected()", "count-selected", "takes 1 argument, not 0"},
        {"if(1, 2)", "if", "if() takes 3 arguments, not 2"},
        {"round(1, 2, 3)", "round", "1 or 2 arguments"},
        {"coalesce(1)", "coalesce", "at least 2 arguments"},
        {"today(1)", "today", "takes 0 arguments"},
        {"concat(1 2)", "2", "expected ',' or ')' in the call to concat()"},
        {"concat(1,)", ")", "expected a value after ','"},
        {"1 + 99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
         "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
         "99999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999999"
         "999999999999999999999999999999999999999999999999999999999999",
         "9", "too large"},
        {"${workers} . 1", ".", "expected an operator before '.'"},
        {"1 and or 2", "or", "expected a value after 'and', found 'or'"},
        {"div 2", "div", "expected a value, found 'div'"},
    });
}

TEST_CASE_METHOD(Fixture, "Names: questions, bare names and keywords", "[core][expr]") {
    checkErrors(*this, {
        {"${workers} + ${wrokers}", "${wrokers}", "unknown question ${wrokers}"},
        {"segment = 'a'", "segment", "unknown name 'segment': write ${segment} to read a question"},
        {"${exporter} AND 1", "AND", "write 'and' in lower case"},
        {"true", "true", "write true() for the value true"},
        {". > 0", ".", "'.' means the answer under check and is only allowed in a constraint"},
    });
}

TEST_CASE_METHOD(Fixture, "Type errors say what is wrong and where", "[core][expr]") {
    checkErrors(*this, {
        {"${unit_name} + 1", "${unit_name}", "'${unit_name}' is text; arithmetic needs numbers"},
        {"1 + ${unit_name}", "${unit_name}", "is text; arithmetic needs numbers"},
        {"${workers} * ${certs}", "${certs}", "multiple choice"},
        {"-${unit_name}", "${unit_name}", "arithmetic needs numbers"},
        {"${exporter} div 2", "${exporter}", "is true/false; arithmetic needs numbers"},
        {"2 * (${workers} + 'x')", "'x'", "'x' is text; arithmetic needs numbers"},
        {"${visit_date} + ${visit_date}", "${visit_date}", "two dates cannot be added", 2},
        {"${visit_date} * 2", "${visit_date}", "is a date; arithmetic needs numbers"},
        {"5 - ${visit_date}", "${visit_date}", "cannot be subtracted from a number"},
        {"${visit_date} + 'x'", "'x'", "a date moves by a number of days"},
        {"${gps} + 1", "${gps}", "is a location"},
        {"${certs} = 'iso9001'", "${certs}", "use selected(${certs}, 'name')"},
        {"'zed' != ${certs}", "${certs}", "use selected(${certs}, 'name')"},
        {"${workers} = 'many'", "'many'", "'${workers}' is a number and 'many' is not"},
        {"${visit_date} >= '2025-13-01'", "'2025-13-01'", "'2025-13-01' is not a date; write dates as 'YYYY-MM-DD'"},
        {"${visit_date} > ${unit_name}", "${unit_name}", "compare a date with a date"},
        {"${visit_date} > 5", "5", "compare a date with a date"},
        {"${unit_name} = 5", "5", "'${unit_name}' is text and '5' is a number; they cannot be compared"},
        {"${exporter} = 1", "1", "cannot be compared"},
        {"${exporter} < true()", "true()", "true/false values can only be compared with = or !="},
        {"${gps} > ${gps}", "${gps}", "locations can only be compared", 2},
        {"date('2025-02-30')", "'2025-02-30'", "is not a date"},
        {"date(${exporter})", "${exporter}", "date() takes a 'YYYY-MM-DD' text"},
        {"round('x')", "'x'", "round() needs a number here"},
        {"substr('abc', 'x')", "'x'", "substr() needs a number here"},
        {"selected(${workers}, 'a')", "${workers}", "selected() takes a select question"},
        {"count-selected(${visit_date})", "${visit_date}", "takes a select question"},
        {"min(1, 'a')", "'a'", "min() compares numbers or dates"},
    });
    // The position is that of the offending operand, even when it is not the first.
    const CompileError e = error("${visit_date} + ${visit_date}");
    CHECK(e.position == std::string("${visit_date} + ").size());
}

TEST_CASE_METHOD(Fixture, "Choice literals must be choices of the question", "[core][expr]") {
    checkErrors(*this, {
        {"${consent} = 'yse'", "'yse'", "'yse' is not a choice of ${consent} (choices: yes, no)"},
        {"'maybe' != ${consent}", "'maybe'", "not a choice of ${consent}"},
        {"selected(${certs}, 'iso9000')", "'iso9000'", "'iso9000' is not a choice of ${certs} (choices: iso9001, oeko_tex, zed, gots)"},
        {"selected(${consent}, 'ok')", "'ok'", "not a choice of ${consent}"},
        {"${satisfaction} = 7", "7", "'7' is not a choice of ${satisfaction}"},
        {"${satisfaction} = '0'", "'0'", "'0' is not a choice"},
        {"${sector} = 'tanning'", "'tanning'", "(choices: knit, weave, dye, print, embroider, stitch, pack, trade, ... 4 more)"},
    });
    // Order comparisons on a numeric scale are about numbers, not names.
    CHECK(eval("${satisfaction} > 0") == kTrue);
    // Names that are digits may be written as numbers.
    CHECK(eval("selected(${satisfaction}, 4)") == kTrue);
    // Not a literal: nothing to check at load.
    CHECK(eval("${consent} = ${unit_name}") == kFalse);
    // A select_one without choice names (text) takes any literal.
    CHECK(eval("${unit_name} = 'anything'") == kFalse);

    scope.self = Type::Text;
    scope.selfChoices = &kConsentChoices;
    checkErrors(*this, {{". = 'si'", "'si'", "'si' is not a choice of this question (choices: yes, no)"},
                        {"selected(., 'si')", "'si'", "not a choice of this question"}});
    context.selfValue = text("yes");
    CHECK(eval(". = 'yes'") == kTrue);
    scope.self = Type::Choices;
    scope.selfChoices = &kCertChoices;
    checkErrors(*this, {{". = 'zed'", ".", "use selected(., 'name')"}});
}

TEST_CASE_METHOD(Fixture, "Repeat values are sets outside their repeat", "[core][expr]") {
    checkErrors(*this, {
        {"${line_sales} > 0", "${line_sales}",
         "${line_sales} is inside repeat 'product_lines' and has one value per instance; use sum(), count(), min(), max() or join()"},
        {"${workers} + ${line_sales}", "${line_sales}", "inside repeat 'product_lines'"},
        {"concat(${supplier_name})", "${supplier_name}", "is inside a repeat"},  // scope gives no name
        {"sum(${line_sales} * 2)", "${line_sales}", "use sum()"},
        {"${product_lines} > 0", "${product_lines}", "is a repeat group; only count(${product_lines}) takes it"},
        {"sum(${product_lines})", "${product_lines}", "only count(${product_lines})"},
        {"sum(${workers})", "${workers}", "sum() reads every instance of a repeat; ${workers} is a single value"},
        {"count(${workers})", "${workers}", "is a single value"},
        {"count(1 + 2)", "1", "give it a field of a repeat"},
        {"sum(${product})", "${product}", "sum() needs numbers"},
        {"min(${product})", "${product}", "min() compares numbers or dates"},
        {"join(', ', ${unit_name})", "${unit_name}", "single value"},
        {"min(${line_sales}, 2)", "${line_sales}", "use sum()"},
    });
    scope.owner = kProductLines;
    checkErrors(*this, {
        {"count(${line_sales})", "${line_sales}", "is a single value here, inside its own repeat"},
        {"sum(${line_sales})", "${line_sales}", "single value here"},
        {"${supplier_name} = 'a'", "${supplier_name}", "use sum(), count(), min(), max() or join()"},
    });
}

TEST_CASE_METHOD(Fixture, "'.' is the answer under check", "[core][expr]") {
    scope.self = Type::Number;
    const Program p = program(". >= 0 and . <= ${workers}");
    CHECK(p.usesSelf());
    context.selfValue = num(5);
    CHECK(p.evaluate(context) == kTrue);
    context.selfValue = num(13);
    CHECK(p.evaluate(context) == kFalse);
    context.selfValue = Value();
    CHECK(p.evaluate(context) == kFalse);
    CHECK(program(". * 2").type() == Type::Number);
    CHECK_FALSE(program("${workers} > 0").usesSelf());
    checkErrors(*this, {{". + 'a'", "'a'", "is text"}});

    scope.self = Type::Text;
    context.selfValue = text("9876543210");
    CHECK(eval("regex(., '^[0-9]{10}$')") == kTrue);
    context.selfValue = text("98765");
    CHECK(eval("regex(., '^[0-9]{10}$')") == kFalse);
}

TEST_CASE_METHOD(Fixture, "choice_filter reads the choice's columns by bare name", "[core][expr]") {
    scope.columns = {"name", "segment"};
    context.columns["name"] = text("dye");
    context.columns["segment"] = text("wet");
    const Program p = program("segment = 'wet' and name != ${sector}");
    CHECK(p.evaluate(context) == kTrue);
    CHECK(p.dependencies() == std::vector<Dependency>{{kSector, false}});
    context.columns["name"] = text("knit");
    CHECK(p.evaluate(context) == kFalse);
    CHECK(eval("selected(${certs}, name)") == kFalse);
    context.columns["name"] = text("zed");
    CHECK(eval("selected(${certs}, name)") == kTrue);
    checkErrors(*this, {{"colour = 'red'", "colour", "unknown name 'colour'"}});
}

TEST_CASE_METHOD(Fixture, "Dependencies: each field once, in first-use order", "[core][expr]") {
    CHECK(program("1 + 2").dependencies().empty());
    CHECK(program("${workers} + ${turnover} * ${workers}").dependencies() ==
          std::vector<Dependency>{{kWorkers, false}, {kTurnover, false}});
    CHECK(program("sum(${line_sales}) div count(${product_lines}) > ${workers}").dependencies() ==
          std::vector<Dependency>{{kLineSales, true}, {kProductLines, true}, {kWorkers, false}});
    CHECK(program("join(${unit_name}, ${product})").dependencies() ==
          std::vector<Dependency>{{kUnitName, false}, {kProduct, true}});
    CHECK(program("${visit_date} = ''").dependencies() == std::vector<Dependency>{{kVisitDate, false}});
    CHECK(program("if(selected(${certs}, 'zed'), ${consent} = 'yes', today() > ${visit_date})").dependencies() ==
          std::vector<Dependency>{{kCerts, false}, {kConsent, false}, {kVisitDate, false}});
    scope.owner = kProductLines;
    CHECK(program("${line_sales} * 2 + count(${product_lines})").dependencies() ==
          std::vector<Dependency>{{kLineSales, false}, {kProductLines, true}});
    const Program p = program("${product} = 't_shirts'");
    CHECK(p.text() == "${product} = 't_shirts'");
    CHECK_FALSE(p.usesToday());
    CHECK_FALSE(p.usesSelf());
}

TEST_CASE_METHOD(Fixture, "Limits: length and nesting end in an error, not a crash", "[core][expr]") {
    const std::string deepParens = std::string(10000, '(') + "1" + std::string(10000, ')');
    CompileError e = error(deepParens);
    CHECK(e.position == size_t(kMaxNestingDepth));
    CHECK_THAT(e.message, Catch::Contains("nests deeper than 100"));

    const std::string okParens = std::string(kMaxNestingDepth, '(') + "1" + std::string(kMaxNestingDepth, ')');
    CHECK(eval(okParens) == num(1));

    std::string minus;
    for (int k = 0; k < 5000; ++k) minus += "- ";
    e = error(minus + "1");
    CHECK(e.position == size_t(kMaxNestingDepth) * 2);
    CHECK_THAT(e.message, Catch::Contains("nests deeper"));

    std::string calls;
    for (int k = 0; k < 3000; ++k) calls += "abs(";
    e = error(calls + "1" + std::string(3000, ')'));
    CHECK(e.position == size_t(kMaxNestingDepth) * 4 + 3);
    CHECK_THAT(e.message, Catch::Contains("nests deeper"));

    std::string unclosed(10000, '(');
    e = error(unclosed);
    CHECK_THAT(e.message, Catch::Contains("nests deeper"));

    // A long flat chain is not nesting, but it is bounded too.
    std::string chain = "${workers}";
    for (int k = 0; k < 300; ++k) chain += " + ${workers}";
    CHECK(eval(chain) == num(301 * 12));
    std::string longChain = "1";
    for (int k = 0; k < 10000; ++k) longChain += "+1";
    e = error(longChain);
    CHECK_THAT(e.message, Catch::Contains("chains more than"));

    const std::string huge(100 * 1024, '1');
    e = error(huge);
    CHECK(e.position == kMaxExpressionLength);
    CHECK_THAT(e.message, Catch::Contains("the limit is 65536"));
    // Just under the limit is fine.
    const std::string call = "string-length('')";
    const std::string big = "string-length('" + std::string(kMaxExpressionLength - call.size(), 'x') + "')";
    REQUIRE(big.size() == kMaxExpressionLength);
    CHECK(eval(big) == num(double(kMaxExpressionLength - call.size())));
}

TEST_CASE_METHOD(Fixture, "regex() patterns are checked at load", "[core][expr]") {
    checkErrors(*this, {
        {"regex(${unit_name}, '([a-z]')", "'([a-z]'", "invalid regular expression: missing )"},
        {"regex(${unit_name}, '[z-a]')", "'[z-a]'", "invalid regular expression"},
        {"regex(${unit_name}, '(?<=a)b')", "'(?<=a)b'", "invalid regular expression"},  // RE2 has no lookbehind
        {"regex(${unit_name}, ${unit_name})", "${unit_name})", "needs its pattern as quoted text"},
        {"regex(${unit_name}, 'a' )  and regex(., 'b')", ".", "only allowed in a constraint"},
    });
    // A pattern whose automaton would need too much memory is refused, not built.
    const CompileError e = error("regex(${unit_name}, '((((a{100}){100}){100}){100})')");
    CHECK_THAT(e.message, Catch::Contains("invalid regular expression"));
    CHECK(eval("regex('ISO 9001:2015', '[0-9]{4}:[0-9]{4}')") == kTrue);
    CHECK(eval("regex('नमस्ते', '^.{6}$')") == kTrue);  // UTF-8 aware
}

TEST_CASE_METHOD(Fixture, "Programs are values: default, copies and threads", "[core][expr]") {
    const Program empty;
    CHECK_FALSE(empty.valid());
    CHECK(empty.evaluate(context) == kEmpty);
    CHECK(empty.dependencies().empty());

    const Program a = program("sum(${line_sales}) + ${workers}");
    const Program b = a;  // shares the tree
    CHECK(b.valid());
    CHECK(b.evaluate(context) == a.evaluate(context));
    CHECK(b.text() == a.text());

    // Separate contexts on separate threads.
    const Program p = program("join('-', ${product}) = 't_shirts-innerwear' and sum(${line_sales}) = 5500000");
    int passes[2] = {0, 0};
    auto run = [&](int k) {
        TestContext local;
        for (int i = 0; i < 2000; ++i)
            if (p.evaluate(local) == kTrue) ++passes[k];
    };
    std::thread t0(run, 0), t1(run, 1);
    t0.join();
    t1.join();
    CHECK(passes[0] == 2000);
    CHECK(passes[1] == 2000);
}

namespace {
// A context that breaks its promises: wrong kinds, NaN, and a calculation evaluated from
// inside fieldInstances (the engine reuses buffers; this must not corrupt them).
class HostileContext : public EvalContext {
public:
    explicit HostileContext(const Program* inner) : m_inner(inner) {}
    Value field(int slot) const override {
        if (slot == kWorkers) return Value::number(std::nan(""));
        if (slot == kVisitDate) return Value::text("not a date");
        if (slot == kCerts) return Value::number(3);
        return Value::geo(GeoPoint{});
    }
    void fieldInstances(int, std::vector<Value>& out) const override {
        for (int k = 0; k < 3; ++k) {
            TestContext plain;
            out.push_back(m_inner ? m_inner->evaluate(plain) : Value::number(k));
        }
    }
    int instanceCount(int) const override { return -5; }
    Date today() const override { return Date{INT32_MAX}; }

private:
    const Program* m_inner;
};
}  // namespace

TEST_CASE_METHOD(Fixture, "A context returning unexpected values cannot crash the evaluator", "[core][expr]") {
    const Program inner = program("sum(${line_sales})");
    HostileContext hostile(&inner);
    CHECK(program("sum(${line_sales})").evaluate(hostile) == num(3 * 5500000));
    CHECK(program("count(${product_lines})").evaluate(hostile) == num(0));
    CHECK(program("${workers} = ${workers}").evaluate(hostile) == kFalse);
    CHECK(program("${workers} + 1").evaluate(hostile) == kEmpty);
    CHECK(program("today() + 1").evaluate(hostile) == kEmpty);
    CHECK(program("today() - ${visit_date}").evaluate(hostile) == kEmpty);
    CHECK(program("selected(${certs}, 'zed')").evaluate(hostile) == kFalse);
    CHECK(program("count-selected(${certs})").evaluate(hostile) == num(1));
    CHECK(program("string-length(${unit_name})").evaluate(hostile).kind() == ValueKind::Number);
    CHECK(program("${unit_name} = 'x'").evaluate(hostile) == kFalse);
    CHECK(program("${visit_date} > '2025-01-01'").evaluate(hostile).kind() == ValueKind::Bool);
    CHECK(program("min(${line_date})").evaluate(hostile) == num(5500000));
}
