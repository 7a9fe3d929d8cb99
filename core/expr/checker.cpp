// Type checking against a Scope, and compile(), which runs lexer, parser and checker.
//
// The checker resolves `${names}`, gives every node a static type, folds literals that a
// comparison needs in another type (`${visit_date} >= '2025-04-01'`), and records what the
// expression reads. Its messages are for survey authors: they name the offending piece of
// text and, where possible, what to write instead.
#include <algorithm>
#include <re2/re2.h>
#include <string>

#include "core/expr/tree.h"

namespace ck::expr {

const char* typeName(Type type) {
    switch (type) {
        case Type::Any: return "any";
        case Type::Bool: return "true/false";
        case Type::Number: return "number";
        case Type::Text: return "text";
        case Type::Date: return "date";
        case Type::Choices: return "choices";
        case Type::Geo: return "location";
    }
    return "?";
}

namespace {

// "is text", "is a number": the phrase that follows a quoted piece of expression.
std::string isA(Type type) {
    switch (type) {
        case Type::Any: return "is of unknown type";
        case Type::Bool: return "is true/false";
        case Type::Number: return "is a number";
        case Type::Text: return "is text";
        case Type::Date: return "is a date";
        case Type::Choices: return "is a multiple choice (select_multiple)";
        case Type::Geo: return "is a location";
    }
    return "";
}

bool isTextLiteral(const Node& node) {
    return node.op == Op::Literal && node.literal.kind() == ValueKind::Text;
}

// A message lists this many choice names at most; a district list can run to hundreds.
constexpr size_t kMaxListedChoices = 8;

class Checker {
public:
    Checker(const Scope& scope, std::string_view text) : m_scope(scope), m_text(text) {}

    std::optional<CompileError> run(Node& root) {
        check(root);
        return m_error;
    }

    std::vector<Dependency> dependencies;
    bool usesSelf = false;
    bool usesToday = false;

private:
    enum class Want : uint8_t { Value, Set };

    bool fail(const Node& at, std::string message) { return failAt(at.position, std::move(message)); }
    bool failAt(size_t position, std::string message) {
        if (!m_error) m_error = CompileError{position, std::move(message)};
        return false;
    }

    // How a message names a subexpression: `'${x}'`, `'.'`, or its text, shortened.
    std::string show(const Node& node) const {
        std::string_view s = m_text.substr(node.position, node.end - node.position);
        if (s.size() > 40) return "'" + std::string(s.substr(0, 37)) + "...'";
        if (isTextLiteral(node)) return std::string(s);  // already quoted
        return "'" + std::string(s) + "'";
    }
    // How a message names a field or `.` when speaking of its choices.
    std::string owner(const Node& node) const {
        if (node.op == Op::Self) return "this question";
        return "${" + node.name + "}";
    }

    void addDependency(int slot, bool aggregate) {
        for (Dependency& d : dependencies) {
            if (d.slot == slot) {
                d.aggregate = d.aggregate || aggregate;
                return;
            }
        }
        dependencies.push_back(Dependency{slot, aggregate});
    }

    const std::vector<std::string>* choicesOf(const Node& node) const {
        if (node.op == Op::Self) return m_scope.selfChoiceNames();
        if (node.op == Op::Field) {
            if (auto symbol = m_scope.field(node.name)) return symbol->choiceNames;
        }
        return nullptr;
    }

    bool checkChoiceLiteral(const Node& subject, const Node& literal) {
        const std::vector<std::string>* choices = choicesOf(subject);
        if (!choices || literal.op != Op::Literal) return true;
        const std::string name = literal.literal.toString();
        if (std::find(choices->begin(), choices->end(), name) != choices->end()) return true;
        std::string list;
        for (size_t k = 0; k < choices->size() && k < kMaxListedChoices; ++k) {
            if (k) list += ", ";
            list += (*choices)[k];
        }
        if (choices->size() > kMaxListedChoices)
            list += ", ... " + std::to_string(choices->size() - kMaxListedChoices) + " more";
        return fail(literal, "'" + name + "' is not a choice of " + owner(subject) + " (choices: " + list + ")");
    }

    std::string repeatPhrase(int repeatSlot) const {
        const std::string_view name = m_scope.repeatName(repeatSlot);
        if (name.empty()) return "a repeat";
        return "repeat '" + std::string(name) + "'";
    }

    bool check(Node& node, Want want = Want::Value) {
        switch (node.op) {
            case Op::Literal:
                switch (node.literal.kind()) {
                    case ValueKind::Number: node.type = Type::Number; break;
                    case ValueKind::Text: node.type = Type::Text; break;
                    case ValueKind::Bool: node.type = Type::Bool; break;
                    case ValueKind::Date: node.type = Type::Date; break;
                    default: node.type = Type::Any; break;
                }
                return true;
            case Op::Field: return checkField(node, want);
            case Op::Self: {
                const std::optional<Type> type = m_scope.selfType();
                if (!type) return fail(node, "'.' means the answer under check and is only allowed in a constraint");
                node.type = *type;
                usesSelf = true;
                return true;
            }
            case Op::ChoiceColumn: {
                if (m_scope.hasChoiceColumn(node.name)) {
                    node.type = Type::Any;
                    return true;
                }
                std::string lower = node.name;
                for (char& c : lower) c = char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
                for (const char* keyword : {"and", "or", "div", "mod"})
                    if (lower == keyword) return fail(node, "write '" + lower + "' in lower case");
                if (node.name == "true" || node.name == "false")
                    return fail(node, "write " + node.name + "() for the value " + node.name);
                return fail(node, "unknown name '" + node.name + "': write ${" + node.name + "} to read a question");
            }
            case Op::Negate:
                if (!check(node.children[0]) || !needNumber(node.children[0], "arithmetic needs numbers"))
                    return false;
                node.type = Type::Number;
                return true;
            case Op::Add:
            case Op::Subtract: return checkAdditive(node);
            case Op::Multiply:
            case Op::Divide:
            case Op::Modulo:
                if (!check(node.children[0]) || !check(node.children[1])) return false;
                if (!needNumber(node.children[0], "arithmetic needs numbers") ||
                    !needNumber(node.children[1], "arithmetic needs numbers"))
                    return false;
                node.type = Type::Number;
                return true;
            case Op::Equal:
            case Op::NotEqual:
            case Op::Less:
            case Op::LessEqual:
            case Op::Greater:
            case Op::GreaterEqual: return checkComparison(node);
            case Op::And:
            case Op::Or:
                // Conditions of any type are read by truth, as XLSForm does.
                if (!check(node.children[0]) || !check(node.children[1])) return false;
                node.type = Type::Bool;
                return true;
            case Op::Call: return checkCall(node);
            case Op::FieldSet:
            case Op::RepeatCount:
            case Op::IsBlank:
            case Op::IsNotBlank: break;  // made by the checker only
        }
        return fail(node, "internal error: unexpected node");
    }

    bool checkField(Node& node, Want want) {
        const std::optional<FieldSymbol> symbol = m_scope.field(node.name);
        if (!symbol) return fail(node, "unknown question ${" + node.name + "}");
        node.slot = symbol->slot;
        if (symbol->isRepeat) {
            if (want != Want::Set)
                return fail(node, "${" + node.name + "} is a repeat group; only count(${" + node.name + "}) takes it");
            node.op = Op::RepeatCount;
            node.repeatSlot = symbol->slot;
            node.type = Type::Number;
            addDependency(symbol->slot, true);
            return true;
        }
        node.type = symbol->type;
        const bool isSet = symbol->repeat != -1 && symbol->repeat != m_scope.ownerRepeat();
        if (isSet) {
            if (want != Want::Set)
                return fail(node, "${" + node.name + "} is inside " + repeatPhrase(symbol->repeat) +
                                      " and has one value per instance; use sum(), count(), min(), max() or "
                                      "join() to read it here");
            node.op = Op::FieldSet;
            node.repeatSlot = symbol->repeat;
        }
        addDependency(symbol->slot, isSet);
        return true;
    }

    bool needNumber(const Node& node, const std::string& why) {
        if (node.type == Type::Number || node.type == Type::Any) return true;
        return fail(node, show(node) + " " + isA(node.type) + "; " + why);
    }

    bool checkAdditive(Node& node) {
        Node& left = node.children[0];
        Node& right = node.children[1];
        if (!check(left) || !check(right)) return false;
        const Type l = left.type, r = right.type;
        const bool add = node.op == Op::Add;
        // Dates move by days and subtract to days; nothing else about them is arithmetic.
        if (l == Type::Date || r == Type::Date) {
            const Type other = l == Type::Date ? r : l;
            const Node& otherNode = l == Type::Date ? right : left;
            if (l == Type::Date && r == Type::Date) {
                if (add) return fail(right, "two dates cannot be added; subtract them for the days between");
                node.type = Type::Number;
                return true;
            }
            if (other == Type::Any) {
                node.type = Type::Any;
                return true;
            }
            if (other != Type::Number)
                return fail(otherNode, show(otherNode) + " " + isA(other) + "; a date moves by a number of days");
            if (!add && r == Type::Date)
                return fail(right, "a date cannot be subtracted from a number");
            node.type = Type::Date;
            return true;
        }
        if (!needNumber(left, "arithmetic needs numbers") || !needNumber(right, "arithmetic needs numbers"))
            return false;
        node.type = l == Type::Any || r == Type::Any ? Type::Any : Type::Number;
        return true;
    }

    // Converts a literal to the type it is compared with, as XLSForm reads `'2025-04-01'`
    // beside a date. Returns false with an error set when the literal cannot be read so;
    // leaves the node alone when no conversion applies.
    bool convertLiteral(Node& literal, Type target, const Node& other) {
        if (literal.op != Op::Literal) return true;
        if (literal.literal.kind() == ValueKind::Text && target == Type::Number) {
            if (auto number = parseNumber(literal.literal.asText())) {
                literal.literal = Value::number(*number);
                literal.type = Type::Number;
                return true;
            }
            return fail(literal, show(other) + " is a number and " + show(literal) + " is not");
        }
        if (literal.literal.kind() == ValueKind::Text && target == Type::Date) {
            if (auto date = parseIsoDate(literal.literal.asText())) {
                literal.literal = Value::date(*date);
                literal.type = Type::Date;
                return true;
            }
            return fail(literal, show(literal) + " is not a date; write dates as 'YYYY-MM-DD'");
        }
        // `${scale_q} = 3` against a select_one whose choice names are digits.
        if (literal.literal.kind() == ValueKind::Number && target == Type::Text && choicesOf(other)) {
            literal.literal = Value::text(literal.literal.toString());
            literal.type = Type::Text;
        }
        return true;
    }

    bool checkComparison(Node& node) {
        Node& left = node.children[0];
        Node& right = node.children[1];
        if (!check(left) || !check(right)) return false;
        const bool equality = node.op == Op::Equal || node.op == Op::NotEqual;

        // `${x} = ''` asks whether x is blank, whatever its type.
        if (equality) {
            const bool leftBlank = isTextLiteral(left) && left.literal.asText().empty();
            const bool rightBlank = isTextLiteral(right) && right.literal.asText().empty();
            if (leftBlank || rightBlank) {
                Node subject = std::move(rightBlank ? left : right);
                node.children.clear();
                node.children.push_back(std::move(subject));
                node.op = node.op == Op::Equal ? Op::IsBlank : Op::IsNotBlank;
                node.type = Type::Bool;
                return true;
            }
        }
        for (const Node* side : {&left, &right}) {
            if (side->type != Type::Choices) continue;
            if (side->op == Op::Field || side->op == Op::Self) {
                const std::string subject = side->op == Op::Self ? "." : "${" + side->name + "}";
                return fail(*side, show(*side) + " is a multiple choice: use selected(" + subject +
                                       ", 'name') or count-selected(" + subject + ")");
            }
            return fail(*side, show(*side) + " is a list of choices: use selected(..., 'name') to test one");
        }
        if (left.type != right.type && left.type != Type::Any && right.type != Type::Any) {
            if (!convertLiteral(right, left.type, left) || !convertLiteral(left, right.type, right)) return false;
            if (left.type != right.type) {
                if (left.type == Type::Date || right.type == Type::Date) {
                    const Node& other = left.type == Type::Date ? right : left;
                    return fail(other, show(other) + " " + isA(other.type) + "; compare a date with a date or a "
                                                                         "'YYYY-MM-DD' text");
                }
                return fail(right, show(left) + " " + isA(left.type) + " and " + show(right) + " " +
                                       isA(right.type) + "; they cannot be compared");
            }
        }
        if (!equality && (left.type == Type::Bool || left.type == Type::Geo))
            return fail(right, std::string(left.type == Type::Bool ? "true/false values" : "locations") +
                                   " can only be compared with = or !=");
        // A literal beside a select must be one of its choices: a misspelt name would
        // otherwise make the condition silently false forever.
        const bool textLiteral = isTextLiteral(left) || isTextLiteral(right);
        if (textLiteral || equality) {
            if (!checkChoiceLiteral(left, right) || !checkChoiceLiteral(right, left)) return false;
        }
        node.type = Type::Bool;
        return true;
    }

    bool needSelect(const Node& node, const char* function) {
        if (node.type == Type::Choices || node.type == Type::Text || node.type == Type::Any || choicesOf(node))
            return true;
        return fail(node, std::string(function) + "() takes a select question; " + show(node) + " " +
                              isA(node.type));
    }

    // The argument of sum/count/min/max/join that must be a repeat's set of values.
    bool checkSet(Node& node, const char* function) {
        if (!check(node, Want::Set)) return false;
        if (node.op == Op::FieldSet) return true;
        if (node.op == Op::RepeatCount) {
            if (std::string_view(function) == "count") return true;
            return fail(node, "${" + node.name + "} is a repeat group; only count(${" + node.name + "}) takes it");
        }
        std::string message = std::string(function) + "() reads every instance of a repeat; ";
        if (node.op == Op::Field) {
            const std::optional<FieldSymbol> symbol = m_scope.field(node.name);
            if (symbol && symbol->repeat != -1)
                return fail(node, message + "${" + node.name + "} is a single value here, inside its own repeat");
            return fail(node, message + "${" + node.name + "} is a single value");
        }
        return fail(node, message + "give it a field of a repeat, e.g. " + function + "(${line_sales})");
    }

    static Type unify(Type a, Type b) { return a == b ? a : Type::Any; }

    bool checkCall(Node& node) {
        std::vector<Node>& args = node.children;
        const char* name = functionInfo(node.fn).name.data();  // the table's names are literals
        auto checkAll = [&]() {
            for (Node& arg : args)
                if (!check(arg)) return false;
            return true;
        };
        auto needNumbers = [&](size_t from) {
            for (size_t k = from; k < args.size(); ++k)
                if (!needNumber(args[k], std::string(name) + "() needs a number here")) return false;
            return true;
        };
        switch (node.fn) {
            case Fn::If: {
                if (!checkAll()) return false;
                // `if(c, ${a} div ${b}, '')`: the '' is XLSForm's way to write "no value".
                for (int k : {1, 2}) {
                    Node& branch = args[k];
                    const Node& other = args[k == 1 ? 2 : 1];
                    if (isTextLiteral(branch) && branch.literal.asText().empty() && other.type != Type::Text) {
                        branch.literal = Value();
                        branch.type = other.type;
                    }
                }
                node.type = unify(args[1].type, args[2].type);
                return true;
            }
            case Fn::Coalesce:
                if (!checkAll()) return false;
                node.type = args[0].type;
                for (const Node& arg : args) node.type = unify(node.type, arg.type);
                return true;
            case Fn::Selected:
                if (!checkAll() || !needSelect(args[0], name)) return false;
                if (args[1].op == Op::Literal && args[1].literal.kind() == ValueKind::Number) {
                    args[1].literal = Value::text(args[1].literal.toString());
                    args[1].type = Type::Text;
                }
                if (!checkChoiceLiteral(args[0], args[1])) return false;
                node.type = Type::Bool;
                return true;
            case Fn::CountSelected:
                if (!checkAll() || !needSelect(args[0], name)) return false;
                node.type = Type::Number;
                return true;
            case Fn::SelectedAt:
                if (!checkAll() || !needSelect(args[0], name) || !needNumbers(1)) return false;
                node.type = Type::Text;
                return true;
            case Fn::Sum:
                if (!checkSet(args[0], name) || !needNumber(args[0], "sum() needs numbers")) return false;
                node.type = Type::Number;
                return true;
            case Fn::Count:
                if (!checkSet(args[0], name)) return false;
                node.type = Type::Number;
                return true;
            case Fn::Min:
            case Fn::Max: {
                if (args.size() == 1) {
                    if (!checkSet(args[0], name)) return false;
                } else if (!checkAll()) {
                    return false;
                }
                node.type = args[0].type;
                for (const Node& arg : args) {
                    if (arg.type != Type::Number && arg.type != Type::Date && arg.type != Type::Any)
                        return fail(arg, std::string(name) + "() compares numbers or dates; " + show(arg) + " " +
                                             isA(arg.type));
                    node.type = unify(node.type, arg.type);
                }
                return true;
            }
            case Fn::Join:
                if (!check(args[0]) || !checkSet(args[1], name)) return false;
                node.type = Type::Text;
                return true;
            case Fn::Regex: {
                if (!check(args[0]) || !check(args[1])) return false;
                if (!isTextLiteral(args[1]))
                    return fail(args[1], "regex() needs its pattern as quoted text, e.g. regex(., '^[0-9]{10}$')");
                RE2::Options options;
                options.set_log_errors(false);
                options.set_max_mem(1 << 20);  // a survey pattern never needs more; a hostile one gets no more
                auto pattern = std::make_shared<RE2>(args[1].literal.asText(), options);
                if (!pattern->ok()) return fail(args[1], "invalid regular expression: " + pattern->error());
                node.pattern = std::move(pattern);
                node.type = Type::Bool;
                return true;
            }
            case Fn::StringLength:
                if (!checkAll()) return false;
                node.type = Type::Number;
                return true;
            case Fn::Concat:
                if (!checkAll()) return false;
                node.type = Type::Text;
                return true;
            case Fn::Substr:
                if (!checkAll() || !needNumbers(1)) return false;
                node.type = Type::Text;
                return true;
            case Fn::Contains:
            case Fn::StartsWith:
            case Fn::EndsWith:
                if (!checkAll()) return false;
                node.type = Type::Bool;
                return true;
            case Fn::Round:
            case Fn::Int:
            case Fn::Abs:
            case Fn::Pow:
                if (!checkAll() || !needNumbers(0)) return false;
                node.type = Type::Number;
                return true;
            case Fn::Number:
                if (!checkAll()) return false;
                node.type = Type::Number;
                return true;
            case Fn::String:
                if (!checkAll()) return false;
                node.type = Type::Text;
                return true;
            case Fn::Today:
                usesToday = true;
                node.type = Type::Date;
                return true;
            case Fn::Date: {
                if (!checkAll()) return false;
                Node& arg = args[0];
                if (isTextLiteral(arg)) {
                    const std::optional<Date> date = parseIsoDate(arg.literal.asText());
                    if (!date) return fail(arg, show(arg) + " is not a date; write dates as 'YYYY-MM-DD'");
                    const uint32_t position = node.position, end = node.end;
                    node = Node{};
                    node.op = Op::Literal;
                    node.literal = Value::date(*date);
                    node.position = position;
                    node.end = end;
                    node.type = Type::Date;
                    return true;
                }
                if (arg.type != Type::Text && arg.type != Type::Number && arg.type != Type::Date && arg.type != Type::Any)
                    return fail(arg, "date() takes a 'YYYY-MM-DD' text; " + show(arg) + " " + isA(arg.type));
                node.type = Type::Date;
                return true;
            }
            case Fn::True:
            case Fn::False: {
                const bool value = node.fn == Fn::True;
                node.op = Op::Literal;
                node.literal = Value::boolean(value);
                node.type = Type::Bool;
                return true;
            }
            case Fn::Not:
            case Fn::Boolean:
            case Fn::Answered:
            case Fn::IsDontKnow:
            case Fn::IsRefused:
                if (!checkAll()) return false;
                node.type = Type::Bool;
                return true;
        }
        return fail(node, "internal error: unchecked function");
    }

    const Scope& m_scope;
    std::string_view m_text;
    std::optional<CompileError> m_error;
};

}  // namespace

std::variant<Program, CompileError> compile(std::string_view text, const Scope& scope) {
    if (text.size() > kMaxExpressionLength)
        return CompileError{kMaxExpressionLength, "the expression is " + std::to_string(text.size()) +
                                                      " characters long; the limit is " +
                                                      std::to_string(kMaxExpressionLength)};
    std::vector<Token> tokens;
    if (auto error = tokenize(text, tokens)) return *error;
    auto root = std::make_shared<Node>();
    if (auto error = parse(text, tokens, *root)) return *error;
    Checker checker(scope, text);
    if (auto error = checker.run(*root)) return *error;

    Program program;
    program.m_type = root->type;
    program.m_root = std::move(root);
    program.m_text = std::string(text);
    program.m_dependencies = std::move(checker.dependencies);
    program.m_usesSelf = checker.usesSelf;
    program.m_usesToday = checker.usesToday;
    return program;
}

}  // namespace ck::expr
