// The function table and what each function does at evaluation time. Type rules live in
// checker.cpp; here every argument is already known to be acceptable, but a value may still
// be missing or (from a context that breaks its promises) of an unexpected kind, so every
// accessor call is guarded by a kind test.
#include <algorithm>
#include <cmath>
#include <deque>
#include <re2/re2.h>

#include "core/expr/tree.h"

namespace ck::expr {

namespace {

constexpr FunctionInfo kFunctions[] = {
    {"if", Fn::If, 3, 3},
    {"coalesce", Fn::Coalesce, 2, kVariadic},
    {"selected", Fn::Selected, 2, 2},
    {"count-selected", Fn::CountSelected, 1, 1},
    {"selected-at", Fn::SelectedAt, 2, 2},
    {"sum", Fn::Sum, 1, 1},
    {"count", Fn::Count, 1, 1},
    {"min", Fn::Min, 1, kVariadic},
    {"max", Fn::Max, 1, kVariadic},
    {"join", Fn::Join, 2, 2},
    {"regex", Fn::Regex, 2, 2},
    {"string-length", Fn::StringLength, 1, 1},
    {"concat", Fn::Concat, 1, kVariadic},
    {"substr", Fn::Substr, 2, 3},
    {"contains", Fn::Contains, 2, 2},
    {"starts-with", Fn::StartsWith, 2, 2},
    {"ends-with", Fn::EndsWith, 2, 2},
    {"round", Fn::Round, 1, 2},
    {"int", Fn::Int, 1, 1},
    {"abs", Fn::Abs, 1, 1},
    {"pow", Fn::Pow, 2, 2},
    {"number", Fn::Number, 1, 1},
    {"string", Fn::String, 1, 1},
    {"today", Fn::Today, 0, 0},
    {"date", Fn::Date, 1, 1},
    {"not", Fn::Not, 1, 1},
    {"true", Fn::True, 0, 0},
    {"false", Fn::False, 0, 0},
    {"boolean", Fn::Boolean, 1, 1},
    {"answered", Fn::Answered, 1, 1},
    {"is-dont-know", Fn::IsDontKnow, 1, 1},
    {"is-refused", Fn::IsRefused, 1, 1},
};

// A repeat's values are gathered into a buffer that is reused across evaluations, so that
// sum() does not allocate on every answer change. One stack of buffers per thread, because
// a context may evaluate other programs (calculations) while it fills one.
class InstanceBuffer {
public:
    InstanceBuffer() {
        Pool& pool = bufferPool();
        if (pool.depth == pool.buffers.size()) pool.buffers.emplace_back();
        m_values = &pool.buffers[pool.depth++];
        m_values->clear();
    }
    ~InstanceBuffer() {
        m_values->clear();
        --bufferPool().depth;
    }
    InstanceBuffer(const InstanceBuffer&) = delete;
    InstanceBuffer& operator=(const InstanceBuffer&) = delete;
    std::vector<Value>& values() { return *m_values; }

private:
    struct Pool {
        std::deque<std::vector<Value>> buffers;  // a deque: growing it keeps references valid
        size_t depth = 0;
    };
    static Pool& bufferPool() {
        thread_local Pool pool;
        return pool;
    }
    std::vector<Value>* m_values;
};

// The value as text without copying when it already is text.
std::string_view textOf(const Value& value, std::string& scratch) {
    if (value.kind() == ValueKind::Text) return value.asText();
    scratch = value.toString();
    return scratch;
}

size_t codePointCount(std::string_view text) {
    size_t count = 0;
    for (char c : text)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
    return count;
}

// Byte offset of code point `index` (clamped to the end).
size_t byteOffsetOf(std::string_view text, size_t index) {
    size_t seen = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;
        if (seen == index) return i;
        ++seen;
    }
    return text.size();
}

Value finiteNumber(double n) {
    return std::isfinite(n) ? Value::number(n) : Value();
}

// A number as an index or count within [0, limit]; nullopt when not a number.
std::optional<size_t> clampedIndex(const Value& value, size_t limit) {
    const std::optional<double> n = toNumeric(value);
    if (!n) return std::nullopt;
    const double t = std::trunc(*n);
    if (!(t > 0)) return 0;
    if (t >= double(limit)) return limit;
    return size_t(t);
}

// Running minimum or maximum over numbers and dates (dates compare by day).
struct Extreme {
    bool wantMax;
    bool found = false;
    bool isDate = false;
    double best = 0;

    void consider(const Value& v) {
        double x;
        bool date = false;
        if (v.kind() == ValueKind::Date) {
            x = v.asDate().days;
            date = true;
        } else if (auto n = toNumeric(v); n && v.kind() != ValueKind::Bool) {
            x = *n;
        } else {
            return;  // missing values (and anything that is not a figure) are skipped
        }
        if (!found || (wantMax ? x > best : x < best)) {
            best = x;
            isDate = date;
        }
        found = true;
    }
    Value result() const {
        if (!found) return {};
        if (isDate) return Value::date(Date{int32_t(best)});
        return Value::number(best);
    }
};

Value dateFromDays(double days) {
    const double d = std::floor(days);
    if (!(d >= -2147483648.0 && d <= 2147483647.0)) return {};
    return Value::date(Date{int32_t(d)});
}

Value roundTo(double x, const Value& digitsValue) {
    const std::optional<double> digits = toNumeric(digitsValue);
    if (!digits) return {};
    const double d = std::trunc(*digits);
    if (d > 15) return Value::number(x);  // beyond double precision: nothing to round
    if (d < -308) return Value::number(0);
    if (d >= 0) {
        const double scale = std::pow(10.0, d);
        const double scaled = x * scale;
        if (!std::isfinite(scaled)) return Value::number(x);
        return finiteNumber(std::round(scaled) / scale);
    }
    const double scale = std::pow(10.0, -d);
    return finiteNumber(std::round(x / scale) * scale);
}

}  // namespace

const FunctionInfo* findFunction(std::string_view name) {
    for (const FunctionInfo& info : kFunctions)
        if (info.name == name) return &info;
    return nullptr;
}

const FunctionInfo& functionInfo(Fn fn) {
    for (const FunctionInfo& info : kFunctions)
        if (info.fn == fn) return info;
    return kFunctions[0];
}

Value callFunction(const Node& node, const EvalContext& context) {
    const std::vector<Node>& args = node.children;
    Value s0, s1, s2;
    std::string t0, t1;
    switch (node.fn) {
        case Fn::If:
            return evaluateRef(args[0], context, s0).truthy() ? evaluateNode(args[1], context)
                                                            : evaluateNode(args[2], context);
        case Fn::Coalesce: {
            Value v;
            for (const Node& arg : args) {
                v = evaluateNode(arg, context);
                if (!v.isMissing()) return v;
            }
            return v;  // all missing: the last one says how (don't know stays don't know)
        }
        case Fn::Selected: {
            const Value& subject = evaluateRef(args[0], context, s0);
            if (subject.isMissing()) return Value::boolean(false);
            const std::string_view name = textOf(evaluateRef(args[1], context, s1), t1);
            if (subject.kind() == ValueKind::Choices) {
                const auto& chosen = subject.asChoices();
                return Value::boolean(std::find(chosen.begin(), chosen.end(), name) != chosen.end());
            }
            return Value::boolean(textOf(subject, t0) == name);
        }
        case Fn::CountSelected: {
            const Value& subject = evaluateRef(args[0], context, s0);
            if (subject.isMissing()) return Value::number(0);
            if (subject.kind() == ValueKind::Choices) return Value::number(double(subject.asChoices().size()));
            if (subject.kind() == ValueKind::Text) return Value::number(subject.asText().empty() ? 0 : 1);
            return Value::number(1);
        }
        case Fn::SelectedAt: {
            const Value& subject = evaluateRef(args[0], context, s0);
            const Value& index = evaluateRef(args[1], context, s1);
            const std::optional<double> n = toNumeric(index);
            if (subject.isMissing() || !n || *n < 0) return {};
            if (subject.kind() == ValueKind::Choices) {
                const auto& chosen = subject.asChoices();
                if (*n >= double(chosen.size())) return {};
                return Value::text(chosen[size_t(*n)]);
            }
            if (*n >= 1) return {};
            return Value::text(subject.toString());
        }
        case Fn::Sum: {
            InstanceBuffer buffer;
            context.fieldInstances(args[0].slot, buffer.values());
            double total = 0;
            for (const Value& v : buffer.values())
                if (auto n = toNumeric(v); n && v.kind() != ValueKind::Bool) total += *n;
            return finiteNumber(total);
        }
        case Fn::Count: {
            const int repeat = args[0].op == Op::RepeatCount ? args[0].slot : args[0].repeatSlot;
            return Value::number(std::max(0, context.instanceCount(repeat)));
        }
        case Fn::Min:
        case Fn::Max: {
            Extreme extreme{node.fn == Fn::Max};
            if (args.size() == 1 && args[0].op == Op::FieldSet) {
                InstanceBuffer buffer;
                context.fieldInstances(args[0].slot, buffer.values());
                for (const Value& v : buffer.values()) extreme.consider(v);
            } else {
                for (const Node& arg : args) extreme.consider(evaluateRef(arg, context, s0));
            }
            return extreme.result();
        }
        case Fn::Join: {
            // The separator first: the buffer must not be borrowed while other code runs.
            const std::string separator = evaluateNode(args[0], context).toString();
            InstanceBuffer buffer;
            context.fieldInstances(args[1].slot, buffer.values());
            std::string out;
            bool first = true;
            for (const Value& v : buffer.values()) {
                if (v.isMissing()) continue;
                if (!first) out += separator;
                first = false;
                out += textOf(v, t0);
            }
            return Value::text(std::move(out));
        }
        case Fn::Regex: {
            const Value& subject = evaluateRef(args[0], context, s0);
            if (subject.isMissing() || !node.pattern) return Value::boolean(false);
            const std::string_view text = textOf(subject, t0);
            return Value::boolean(RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *node.pattern));
        }
        case Fn::StringLength:
            return Value::number(double(codePointCount(textOf(evaluateRef(args[0], context, s0), t0))));
        case Fn::Concat: {
            std::string out;
            for (const Node& arg : args) out += textOf(evaluateRef(arg, context, s0), t0);
            return Value::text(std::move(out));
        }
        case Fn::Substr: {
            const std::string_view text = textOf(evaluateRef(args[0], context, s0), t0);
            const size_t length = codePointCount(text);
            const std::optional<size_t> start = clampedIndex(evaluateRef(args[1], context, s1), length);
            if (!start) return {};
            size_t end = length;
            if (args.size() == 3) {
                const std::optional<size_t> e = clampedIndex(evaluateRef(args[2], context, s2), length);
                if (!e) return {};
                end = *e;
            }
            if (end <= *start) return Value::text({});
            const size_t from = byteOffsetOf(text, *start);
            const size_t to = byteOffsetOf(text, end);
            return Value::text(std::string(text.substr(from, to - from)));
        }
        case Fn::Contains:
        case Fn::StartsWith:
        case Fn::EndsWith: {
            const Value& subject = evaluateRef(args[0], context, s0);
            if (subject.isMissing()) return Value::boolean(false);
            const std::string_view text = textOf(subject, t0);
            const std::string_view part = textOf(evaluateRef(args[1], context, s1), t1);
            if (node.fn == Fn::Contains) return Value::boolean(text.find(part) != std::string_view::npos);
            if (part.size() > text.size()) return Value::boolean(false);
            if (node.fn == Fn::StartsWith) return Value::boolean(text.substr(0, part.size()) == part);
            return Value::boolean(text.substr(text.size() - part.size()) == part);
        }
        case Fn::Round: {
            const std::optional<double> x = toNumeric(evaluateRef(args[0], context, s0));
            if (!x) return {};
            if (args.size() == 1) return finiteNumber(std::round(*x));  // halves away from zero
            return roundTo(*x, evaluateRef(args[1], context, s1));
        }
        case Fn::Int: {
            const std::optional<double> x = toNumeric(evaluateRef(args[0], context, s0));
            return x ? finiteNumber(std::trunc(*x)) : Value();
        }
        case Fn::Abs: {
            const std::optional<double> x = toNumeric(evaluateRef(args[0], context, s0));
            return x ? finiteNumber(std::fabs(*x)) : Value();
        }
        case Fn::Pow: {
            const std::optional<double> x = toNumeric(evaluateRef(args[0], context, s0));
            const std::optional<double> y = toNumeric(evaluateRef(args[1], context, s1));
            return x && y ? finiteNumber(std::pow(*x, *y)) : Value();
        }
        case Fn::Number: {
            const Value& v = evaluateRef(args[0], context, s0);
            if (v.kind() == ValueKind::Date) return Value::number(v.asDate().days);
            const std::optional<double> x = toNumeric(v);
            return x ? Value::number(*x) : Value();
        }
        case Fn::String: return Value::text(evaluateRef(args[0], context, s0).toString());
        case Fn::Today: return Value::date(context.today());
        case Fn::Date: {
            const Value& v = evaluateRef(args[0], context, s0);
            switch (v.kind()) {
                case ValueKind::Date: return v;
                case ValueKind::Text: {
                    const std::optional<Date> d = parseIsoDate(v.asText());
                    return d ? Value::date(*d) : Value();
                }
                case ValueKind::Number: return std::isfinite(v.asNumber()) ? dateFromDays(v.asNumber()) : Value();
                default: return {};
            }
        }
        case Fn::Not: return Value::boolean(!evaluateRef(args[0], context, s0).truthy());
        case Fn::True: return Value::boolean(true);
        case Fn::False: return Value::boolean(false);
        case Fn::Boolean: return Value::boolean(evaluateRef(args[0], context, s0).truthy());
        case Fn::Answered: return Value::boolean(evaluateRef(args[0], context, s0).isAnswered());
        case Fn::IsDontKnow:
            return Value::boolean(evaluateRef(args[0], context, s0).kind() == ValueKind::DontKnow);
        case Fn::IsRefused:
            return Value::boolean(evaluateRef(args[0], context, s0).kind() == ValueKind::Refused);
    }
    return {};
}

}  // namespace ck::expr
