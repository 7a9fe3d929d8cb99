// Compiles arbitrary bytes as an expression in a fixed scope (fields of every type, a select
// with choices, a repeat; `.` is a number) and evaluates whatever compiles. The engine must
// never crash, hang or trip a sanitizer, whatever the text.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/expr/expression.h"

namespace {

using namespace ck;
using namespace ck::expr;

const std::vector<std::string> kConsent{"yes", "no"};
const std::vector<std::string> kCerts{"iso9001", "oeko_tex", "zed"};
const std::vector<std::string> kScale{"1", "2", "3", "4", "5"};

class FuzzScope : public Scope {
public:
    FuzzScope() {
        m_fields["workers"] = {0, Type::Number};
        m_fields["unit_name"] = {1, Type::Text};
        m_fields["consent"] = {2, Type::Text, -1, false, &kConsent};
        m_fields["certs"] = {3, Type::Choices, -1, false, &kCerts};
        m_fields["visit_date"] = {4, Type::Date};
        m_fields["gps"] = {5, Type::Geo};
        m_fields["exporter"] = {6, Type::Bool};
        m_fields["mixed"] = {7, Type::Any};
        m_fields["rating"] = {8, Type::Number, -1, false, &kScale};
        m_fields["lines"] = {9, Type::Any, -1, true};
        m_fields["line_sales"] = {10, Type::Number, 9};
        m_fields["product"] = {11, Type::Text, 9};
        m_fields["line_date"] = {12, Type::Date, 9};
    }
    std::optional<FieldSymbol> field(std::string_view name) const override {
        auto it = m_fields.find(name);
        if (it == m_fields.end()) return std::nullopt;
        return it->second;
    }
    int ownerRepeat() const override { return -1; }
    std::optional<Type> selfType() const override { return Type::Number; }
    bool hasChoiceColumn(std::string_view name) const override { return name == "name" || name == "segment"; }
    std::string_view repeatName(int slot) const override { return slot == 9 ? "lines" : ""; }

private:
    std::map<std::string, FieldSymbol, std::less<>> m_fields;
};

class FuzzContext : public EvalContext {
public:
    Value field(int slot) const override {
        switch (slot) {
            case 0: return Value::number(12);
            case 1: return Value::text("Sri Murugan Knits नमस्ते");
            case 2: return Value::dontKnow();
            case 3: return Value::choices({"iso9001", "zed"});
            case 4: return Value::date(Date{20254});
            case 5: return Value::geo(GeoPoint{11.1, 77.3, 8});
            case 6: return Value::boolean(true);
            case 7: return Value::text("42");
            case 8: return Value::refused();
            default: return {};
        }
    }
    void fieldInstances(int slot, std::vector<Value>& out) const override {
        if (slot == 10) out.insert(out.end(), {Value::number(4e6), Value::dontKnow(), Value::number(-1.5e300)});
        if (slot == 11) out.insert(out.end(), {Value::text("t_shirts"), Value(), Value::text("")});
        if (slot == 12) out.insert(out.end(), {Value::date(Date{INT32_MAX}), Value::date(Date{INT32_MIN})});
    }
    int instanceCount(int slot) const override { return slot == 9 ? 3 : 0; }
    Value self() const override { return Value::number(-7.25); }
    Value choiceColumn(std::string_view name) const override { return Value::text(std::string(name)); }
    Date today() const override { return Date{20270}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const FuzzScope scope;
    static const FuzzContext context;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = compile(text, scope);
    if (auto* program = std::get_if<Program>(&result)) {
        const Value value = program->evaluate(context);
        (void)value.toString();
        (void)value.truthy();
    } else {
        const CompileError& error = std::get<CompileError>(result);
        // Every error points inside the text (or just past its end) and says something.
        if (error.position > size || error.message.empty()) __builtin_trap();
    }
    return 0;
}
