// Evaluation of operators and leaves; functions are in functions.cpp.
//
// Called on every answer change, so the common paths (numbers, field reads, comparisons
// with literals) neither build strings nor allocate beyond what the context hands back.
#include <cmath>

#include "core/expr/tree.h"

namespace ck::expr {

namespace {

int sign(double a, double b) { return a < b ? -1 : (a > b ? 1 : 0); }

int textOrder(std::string_view a, std::string_view b) {
    const int c = a.compare(b);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

// Order of two answered values. Static types settle most comparisons; where they left it
// open (Any), numbers compare as numbers when both sides read as one, dates against ISO
// text as dates, and anything else as text. nullopt when they cannot be ordered (a NaN
// from a careless context).
std::optional<int> compareValues(const Value& a, const Value& b, bool staticText) {
    const ValueKind ka = a.kind(), kb = b.kind();
    if (ka == ValueKind::Number && kb == ValueKind::Number) {
        if (std::isnan(a.asNumber()) || std::isnan(b.asNumber())) return std::nullopt;
        return sign(a.asNumber(), b.asNumber());
    }
    if (ka == ValueKind::Text && kb == ValueKind::Text) {
        if (!staticText) {
            const auto na = parseNumber(a.asText()), nb = parseNumber(b.asText());
            if (na && nb) return sign(*na, *nb);
        }
        return textOrder(a.asText(), b.asText());
    }
    if (ka == ValueKind::Date && kb == ValueKind::Date) return sign(a.asDate().days, b.asDate().days);
    if (ka == ValueKind::Date || kb == ValueKind::Date) {
        const Value& date = ka == ValueKind::Date ? a : b;
        const Value& other = ka == ValueKind::Date ? b : a;
        const int flip = ka == ValueKind::Date ? 1 : -1;
        if (other.kind() == ValueKind::Text) {
            if (auto d = parseIsoDate(other.asText())) return flip * sign(date.asDate().days, d->days);
        }
        return flip * textOrder(date.toString(), other.toString());
    }
    const bool aFigure = ka == ValueKind::Number || ka == ValueKind::Bool || ka == ValueKind::Text;
    const bool bFigure = kb == ValueKind::Number || kb == ValueKind::Bool || kb == ValueKind::Text;
    if (aFigure && bFigure) {
        const auto na = toNumeric(a), nb = toNumeric(b);
        if (na && nb) return sign(*na, *nb);
    }
    return textOrder(a.toString(), b.toString());
}

// Blank for `x = ''`: no answer at all, empty text or no choice ticked.
bool isBlank(const Value& v) {
    if (v.kind() == ValueKind::Text) return v.asText().empty();
    if (v.kind() == ValueKind::Choices) return v.asChoices().empty();
    return false;
}

Value numeric(Op op, double x, double y) {
    double r = 0;
    switch (op) {
        case Op::Add: r = x + y; break;
        case Op::Subtract: r = x - y; break;
        case Op::Multiply: r = x * y; break;
        case Op::Divide:
            if (y == 0) return {};
            r = x / y;
            break;
        case Op::Modulo:
            if (y == 0) return {};
            r = std::fmod(x, y);
            break;
        default: return {};
    }
    return std::isfinite(r) ? Value::number(r) : Value();
}

Value shiftDate(Date date, double days) {
    const double d = double(date.days) + std::trunc(days);
    if (!(d >= -2147483648.0 && d <= 2147483647.0)) return {};
    return Value::date(Date{int32_t(d)});
}

Value arithmetic(Op op, const Value& a, const Value& b) {
    if (a.kind() == ValueKind::Number && b.kind() == ValueKind::Number)
        return numeric(op, a.asNumber(), b.asNumber());
    if (a.isMissing() || b.isMissing()) return {};
    const bool aDate = a.kind() == ValueKind::Date, bDate = b.kind() == ValueKind::Date;
    if (aDate || bDate) {
        if (aDate && bDate)
            return op == Op::Subtract ? Value::number(double(a.asDate().days) - b.asDate().days) : Value();
        if (op != Op::Add && op != Op::Subtract) return {};
        if (bDate && op == Op::Subtract) return {};
        const Date date = aDate ? a.asDate() : b.asDate();
        const std::optional<double> n = toNumeric(aDate ? b : a);
        if (!n) return {};
        return shiftDate(date, op == Op::Subtract ? -*n : *n);
    }
    const std::optional<double> x = toNumeric(a), y = toNumeric(b);
    if (!x || !y) return {};
    return numeric(op, *x, *y);
}

}  // namespace

Value evaluateNode(const Node& node, const EvalContext& context) {
    switch (node.op) {
        case Op::Literal: return node.literal;
        case Op::Field: return context.field(node.slot);
        case Op::Self: return context.self();
        case Op::ChoiceColumn: return context.choiceColumn(node.name);
        case Op::FieldSet:
        case Op::RepeatCount: return {};  // only ever read by an aggregate function
        case Op::Negate: {
            Value scratch;
            const std::optional<double> x = toNumeric(evaluateRef(node.children[0], context, scratch));
            return x ? Value::number(*x == 0 ? 0.0 : -*x) : Value();
        }
        case Op::Add:
        case Op::Subtract:
        case Op::Multiply:
        case Op::Divide:
        case Op::Modulo: {
            Value s0, s1;
            const Value& a = evaluateRef(node.children[0], context, s0);
            const Value& b = evaluateRef(node.children[1], context, s1);
            return arithmetic(node.op, a, b);
        }
        case Op::Equal:
        case Op::NotEqual:
        case Op::Less:
        case Op::LessEqual:
        case Op::Greater:
        case Op::GreaterEqual: {
            Value s0, s1;
            const Value& a = evaluateRef(node.children[0], context, s0);
            const Value& b = evaluateRef(node.children[1], context, s1);
            if (a.isMissing() || b.isMissing()) return Value::boolean(false);
            const bool staticText = node.children[0].type == Type::Text && node.children[1].type == Type::Text;
            const std::optional<int> order = compareValues(a, b, staticText);
            if (!order) return Value::boolean(false);
            switch (node.op) {
                case Op::Equal: return Value::boolean(*order == 0);
                case Op::NotEqual: return Value::boolean(*order != 0);
                case Op::Less: return Value::boolean(*order < 0);
                case Op::LessEqual: return Value::boolean(*order <= 0);
                case Op::Greater: return Value::boolean(*order > 0);
                default: return Value::boolean(*order >= 0);
            }
        }
        case Op::IsBlank:
        case Op::IsNotBlank: {
            Value scratch;
            const Value& v = evaluateRef(node.children[0], context, scratch);
            if (v.isEmpty()) return Value::boolean(node.op == Op::IsBlank);
            // "Don't know" is an answer, but not one that compares equal or unequal to text.
            if (v.isMissing()) return Value::boolean(false);
            return Value::boolean(isBlank(v) == (node.op == Op::IsBlank));
        }
        case Op::And: {
            Value scratch;
            if (!evaluateRef(node.children[0], context, scratch).truthy()) return Value::boolean(false);
            return Value::boolean(evaluateRef(node.children[1], context, scratch).truthy());
        }
        case Op::Or: {
            Value scratch;
            if (evaluateRef(node.children[0], context, scratch).truthy()) return Value::boolean(true);
            return Value::boolean(evaluateRef(node.children[1], context, scratch).truthy());
        }
        case Op::Call: return callFunction(node, context);
    }
    return {};
}

Value Program::evaluate(const EvalContext& context) const {
    if (!m_root) return {};
    try {
        return evaluateNode(*m_root, context);
    } catch (...) {
        // Only allocation can throw here; a condition that cannot be computed is unknown.
        return {};
    }
}

}  // namespace ck::expr
