#pragma once
// The compiled tree shared by the parser, the checker and the evaluator. Private to core/expr.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expr/expression.h"
#include "core/expr/lexer.h"

namespace re2 {
class RE2;
}

namespace ck::expr {

enum class Op : uint8_t {
    Literal,
    Field,        // one value: a top-level field or a sibling in the evaluating instance
    FieldSet,     // every instance's value of a field in another repeat (aggregate argument)
    RepeatCount,  // a repeat group itself (argument of count())
    Self,         // `.`
    ChoiceColumn, // a bare name in a choice_filter
    Negate, Add, Subtract, Multiply, Divide, Modulo,
    Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual,
    IsBlank, IsNotBlank,  // `x = ''` and `x != ''`, which treat an unanswered x specially
    And, Or,
    Call,
};

enum class Fn : uint8_t {
    If, Coalesce, Selected, CountSelected, SelectedAt, Sum, Count, Min, Max, Join, Regex,
    StringLength, Concat, Substr, Contains, StartsWith, EndsWith, Round, Int, Abs, Pow,
    Number, String, Today, Date, Not, True, False, Boolean, Answered, IsDontKnow, IsRefused,
};

struct FunctionInfo {
    std::string_view name;
    Fn fn;
    uint8_t minArgs;
    uint8_t maxArgs;  // kVariadic: no upper bound
};
inline constexpr uint8_t kVariadic = 255;
const FunctionInfo* findFunction(std::string_view name);
const FunctionInfo& functionInfo(Fn fn);

// Beyond kMaxNestingDepth, which bounds brackets and calls, a long flat chain such as
// `${a1} + ${a2} + ...` also deepens the tree; this bounds the recursion of the checker and
// the evaluator while leaving room for a sum of a few hundred fields.
inline constexpr int kMaxTreeHeight = 1000;

struct Node {
    Op op = Op::Literal;
    Fn fn = Fn::If;
    Type type = Type::Any;
    uint16_t height = 1;
    uint32_t position = 0;  // first byte of the subexpression in the text (for errors)
    uint32_t end = 0;       // one past its last byte
    int slot = -1;          // Field, FieldSet, RepeatCount: the slot handed to EvalContext
    int repeatSlot = -1;    // FieldSet: the repeat it lives in, so count() asks for instances
    Value literal;          // Literal
    std::string name;       // Field (until checked), ChoiceColumn, Call: the name as written
    std::vector<Node> children;
    std::shared_ptr<const re2::RE2> pattern;  // Fn::Regex, compiled once at load
};

// Parses tokens into an unchecked tree (fields unresolved, types unknown).
[[nodiscard]] std::optional<CompileError> parse(std::string_view text, const std::vector<Token>& tokens,
                                                Node& root);

Value evaluateNode(const Node& node, const EvalContext& context);
Value callFunction(const Node& node, const EvalContext& context);

// The node's literal without a copy, or its value computed into `scratch`.
inline const Value& evaluateRef(const Node& node, const EvalContext& context, Value& scratch) {
    if (node.op == Op::Literal) return node.literal;
    if (node.op == Op::Field) {
        if (const Value* v = context.fieldRef(node.slot)) return *v;
    } else if (node.op == Op::Self) {
        if (const Value* v = context.selfRef()) return *v;
    }
    scratch = evaluateNode(node, context);
    return scratch;
}

// A number as XLSForm authors write one: optional sign, digits, optional fraction; spaces
// around are ignored. No exponent, hex, "inf" or "nan".
std::optional<double> parseNumber(std::string_view text);
void appendNumber(std::string& out, double number);
// Number, numeric text, or a boolean as 1/0; nullopt for anything else (missing included).
std::optional<double> toNumeric(const Value& value);

}  // namespace ck::expr
