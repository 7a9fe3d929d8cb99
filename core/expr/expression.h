#pragma once
// XLSForm-style expressions (`${workers} > 0 and selected(${certs}, 'iso9001')`), parsed and
// type-checked once into a Program that is evaluated many times.
//
// The compiler knows nothing of templates: it asks a Scope what a `${name}` is, and the
// Program asks an EvalContext for values. The template loader provides the Scope, the form
// session (and later the report) the EvalContext.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/expr/value.h"

namespace ck::expr {

// Static type of an expression or field. Any: only known at run time (e.g. coalesce of
// mixed types); the run time coerces as XLSForm does.
enum class Type : uint8_t { Any, Bool, Number, Text, Date, Choices, Geo };
const char* typeName(Type type);

struct FieldSymbol {
    int slot = -1;          // the field's index in the template; handed back to EvalContext
    Type type = Type::Any;  // the type of its value (a repeat group itself: Any)
    int repeat = -1;        // slot of the repeat group the field lives in; -1 at top level
    bool isRepeat = false;  // the field is a repeat group: only count() takes it
    // For select_one / select_multiple / scale fields: the names of its choices, so that
    // `selected(${certs}, 'iso9001')` can be checked at load. Null otherwise. Owned by the scope.
    const std::vector<std::string>* choiceNames = nullptr;
};

// What names mean where an expression is written. Implemented by the template loader.
class Scope {
public:
    virtual ~Scope() = default;
    // The field called `name` (without `${}`), or nullopt when there is none.
    virtual std::optional<FieldSymbol> field(std::string_view name) const = 0;
    // Slot of the repeat group the expression is evaluated in; -1 at top level. A field of
    // that same repeat reads the current instance; a field of any other repeat is a set of
    // values that only aggregate functions (sum, count, min, max, join) take.
    virtual int ownerRepeat() const = 0;
    // Type of `.` (the value under check, in a constraint); nullopt where `.` is not allowed.
    virtual std::optional<Type> selfType() const { return std::nullopt; }
    // Choice names of `.` when it is a select, for literal checks; null otherwise.
    virtual const std::vector<std::string>* selfChoiceNames() const { return nullptr; }
    // In a choice_filter, bare names (`segment = ${segment}`) are columns of the choice being
    // filtered ("name" always is). Elsewhere this returns false and a bare name is an error.
    virtual bool hasChoiceColumn(std::string_view) const { return false; }
    // Name of the repeat group in slot `repeatSlot`, so that messages can say which repeat a
    // field belongs to; empty when the scope does not say (messages then say "a repeat").
    virtual std::string_view repeatName(int /*repeatSlot*/) const { return {}; }
};

// Where a compiled program gets its values at evaluation time.
class EvalContext {
public:
    virtual ~EvalContext() = default;
    // The value of a field as seen from the evaluating instance: in a repeat, a sibling of
    // the same instance; otherwise the single value. Not relevant fields read as Empty.
    virtual Value field(int slot) const = 0;
    // The same value without a copy, where the context keeps it (nullptr: use field()).
    // Conditions mostly read fields to compare them: a copy of a text or of a list of choices
    // would allocate on every evaluation.
    virtual const Value* fieldRef(int) const { return nullptr; }
    // All instances' values of a field inside a repeat, in instance order (appended to out).
    virtual void fieldInstances(int slot, std::vector<Value>& out) const = 0;
    // Number of instances of the repeat group `repeatSlot`.
    virtual int instanceCount(int repeatSlot) const = 0;
    // The value under check (`.`); Empty where there is none.
    virtual Value self() const { return {}; }
    virtual const Value* selfRef() const { return nullptr; }  // as fieldRef, for `.`
    // A column of the choice being filtered (`name` and its extra properties); Empty elsewhere.
    virtual Value choiceColumn(std::string_view) const { return {}; }
    // today(): the evaluating device's current date.
    virtual Date today() const = 0;
};

struct Dependency {
    int slot = -1;
    // true when every instance of a repeat is read (sum(), count(), ...) rather than one value
    bool aggregate = false;
    bool operator==(const Dependency&) const = default;
};

struct CompileError {
    size_t position = 0;  // 0-based byte offset into the expression text
    std::string message;  // for people: says what is wrong and, where it can, what to write
};

struct Node;  // the compiled tree, private to the implementation

// A compiled, type-checked expression. Immutable and cheap to copy (shared tree); safe to
// evaluate from several threads with separate contexts.
class Program {
public:
    Program() = default;
    Type type() const { return m_type; }
    const std::string& text() const { return m_text; }
    // Every field the expression reads, each slot once, in first-use order.
    const std::vector<Dependency>& dependencies() const { return m_dependencies; }
    bool usesSelf() const { return m_usesSelf; }
    bool usesToday() const { return m_usesToday; }
    // Never throws for any input; arithmetic on missing values gives Empty, division by
    // zero gives Empty.
    Value evaluate(const EvalContext& context) const;
    bool valid() const { return m_root != nullptr; }

private:
    friend std::variant<Program, CompileError> compile(std::string_view, const Scope&);
    std::shared_ptr<const Node> m_root;
    std::string m_text;
    Type m_type = Type::Any;
    std::vector<Dependency> m_dependencies;
    bool m_usesSelf = false;
    bool m_usesToday = false;
};

// Longest expression text and deepest nesting the compiler accepts; beyond them it returns
// a CompileError instead of recursing without bound.
inline constexpr size_t kMaxExpressionLength = 64 * 1024;
inline constexpr int kMaxNestingDepth = 100;

// Parses and type-checks `text`. Returns the first error found, with its position.
std::variant<Program, CompileError> compile(std::string_view text, const Scope& scope);

}  // namespace ck::expr
