// Recursive descent over the precedence levels of FORMAT.md, building an unchecked tree.
// Depth is counted as we descend so that hostile input ends in a CompileError, not a stack
// overflow.
#include <algorithm>
#include <string>

#include "core/expr/tree.h"

namespace ck::expr {

namespace {

struct BinaryLevel {
    TokenKind tokens[4];
    Op ops[4];
    int count;
};

// Loosest first.
constexpr BinaryLevel kLevels[] = {
    {{TokenKind::Or}, {Op::Or}, 1},
    {{TokenKind::And}, {Op::And}, 1},
    {{TokenKind::Equal, TokenKind::NotEqual}, {Op::Equal, Op::NotEqual}, 2},
    {{TokenKind::Less, TokenKind::LessEqual, TokenKind::Greater, TokenKind::GreaterEqual},
     {Op::Less, Op::LessEqual, Op::Greater, Op::GreaterEqual},
     4},
    {{TokenKind::Plus, TokenKind::Minus}, {Op::Add, Op::Subtract}, 2},
    {{TokenKind::Star, TokenKind::Slash, TokenKind::Div, TokenKind::Mod},
     {Op::Multiply, Op::Divide, Op::Divide, Op::Modulo},
     4},
};
constexpr int kLevelCount = int(std::size(kLevels));

class Parser {
public:
    Parser(std::string_view text, const std::vector<Token>& tokens) : m_text(text), m_tokens(tokens) {}

    std::optional<CompileError> parseAll(Node& root) {
        if (peek().kind == TokenKind::End) return CompileError{0, "the expression is empty"};
        if (parseLevel(0, root) && peek().kind != TokenKind::End) {
            const Token& t = peek();
            if (t.kind == TokenKind::RightParen) fail(t.position, "this ')' has no matching '('");
            else if (t.kind == TokenKind::Comma) fail(t.position, "',' outside a function call");
            else if (const char* keyword = misspeltKeyword(t)) fail(t.position, std::string("write '") + keyword + "' in lower case");
            else fail(t.position, "expected an operator before " + quoted(t));
        }
        return m_error;
    }

private:
    // `AND`, `Or`: spreadsheet habits, where the lower-case keyword was meant.
    static const char* misspeltKeyword(const Token& t) {
        if (t.kind != TokenKind::Name) return nullptr;
        std::string lower(t.text);
        for (char& c : lower) c = char(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        for (const char* keyword : {"and", "or", "div", "mod"})
            if (lower == keyword) return keyword;
        return nullptr;
    }
    const Token& peek() const { return m_tokens[m_index]; }
    const Token& advance() {
        const Token& t = m_tokens[m_index];
        if (t.kind != TokenKind::End) ++m_index;
        return t;
    }
    std::string quoted(const Token& t) const {
        if (t.kind == TokenKind::End) return "the end";
        std::string_view s = m_text.substr(t.position, t.length);
        if (s.size() > 40) return "'" + std::string(s.substr(0, 37)) + "...'";
        return "'" + std::string(s) + "'";
    }
    bool fail(size_t position, std::string message) {
        if (!m_error) m_error = CompileError{position, std::move(message)};
        return false;
    }
    bool enter(const Token& at) {
        if (++m_depth > kMaxNestingDepth)
            return fail(at.position, "the expression nests deeper than " + std::to_string(kMaxNestingDepth) +
                                         " levels; split it into calculations");
        return true;
    }
    bool setHeight(Node& node, size_t operatorPosition) {
        int height = 0;
        for (const Node& child : node.children) height = std::max<int>(height, child.height);
        if (height + 1 > kMaxTreeHeight)
            return fail(operatorPosition, "the expression chains more than " + std::to_string(kMaxTreeHeight) +
                                              " operations; split it into calculations");
        node.height = uint16_t(height + 1);
        return true;
    }

    bool parseLevel(int level, Node& out) {
        if (level == kLevelCount) return parseUnary(out);
        if (!parseLevel(level + 1, out)) return false;
        const BinaryLevel& spec = kLevels[level];
        while (true) {
            const Token& t = peek();
            int which = -1;
            for (int k = 0; k < spec.count; ++k)
                if (spec.tokens[k] == t.kind) which = k;
            if (which < 0) return true;
            advance();
            Node right;
            if (!parseLevel(level + 1, right)) return false;
            Node node;
            node.op = spec.ops[which];
            node.position = out.position;
            node.end = right.end;
            node.children.reserve(2);
            node.children.push_back(std::move(out));
            node.children.push_back(std::move(right));
            if (!setHeight(node, t.position)) return false;
            out = std::move(node);
        }
    }

    bool parseUnary(Node& out) {
        // A run of minus signs is a loop, not recursion; each still counts as a level.
        std::vector<uint32_t> minusAt;
        while (peek().kind == TokenKind::Minus) {
            if (!enter(peek())) return false;
            minusAt.push_back(advance().position);
        }
        const bool ok = parsePrimary(out);
        m_depth -= int(minusAt.size());
        if (!ok) return false;
        for (size_t k = minusAt.size(); k-- > 0;) {
            if (out.op == Op::Literal && out.literal.kind() == ValueKind::Number) {
                // Fold `-5` so that it is a literal for comparisons and choice checks.
                out.literal = Value::number(-out.literal.asNumber());
                out.position = minusAt[k];
                continue;
            }
            Node node;
            node.op = Op::Negate;
            node.position = minusAt[k];
            node.end = out.end;
            node.children.push_back(std::move(out));
            if (!setHeight(node, node.position)) return false;
            out = std::move(node);
        }
        return true;
    }

    bool parsePrimary(Node& out) {
        const Token& t = peek();
        out.position = t.position;
        out.end = t.position + t.length;
        switch (t.kind) {
            case TokenKind::Number:
                advance();
                out.op = Op::Literal;
                out.literal = Value::number(t.number);
                return true;
            case TokenKind::String:
                advance();
                out.op = Op::Literal;
                out.literal = Value::text(std::string(t.text));
                return true;
            case TokenKind::Field:
                advance();
                out.op = Op::Field;
                out.name = std::string(t.text);
                return true;
            case TokenKind::Dot:
                advance();
                out.op = Op::Self;
                return true;
            case TokenKind::LeftParen: {
                advance();
                if (!enter(t)) return false;
                if (!parseLevel(0, out)) return false;
                --m_depth;
                if (const char* keyword = misspeltKeyword(peek()))
                    return fail(peek().position, std::string("write '") + keyword + "' in lower case");
                if (peek().kind != TokenKind::RightParen)
                    return fail(peek().position, "expected ')' to close the '(' at " + std::to_string(t.position) +
                                                     ", found " + quoted(peek()));
                advance();
                return true;
            }
            case TokenKind::Name:
                advance();
                if (peek().kind == TokenKind::LeftParen) return parseCall(t, out);
                out.op = Op::ChoiceColumn;  // resolved (or refused) by the checker
                out.name = std::string(t.text);
                return true;
            default: break;
        }
        if (m_index == 0) return fail(t.position, "expected a value, found " + quoted(t));
        std::string message = "expected a value after " + quoted(m_tokens[m_index - 1]);
        if (t.kind != TokenKind::End) message += ", found " + quoted(t);
        return fail(t.position, message);
    }

    bool parseCall(const Token& nameToken, Node& out) {
        const FunctionInfo* info = findFunction(nameToken.text);
        if (!info) return fail(nameToken.position, "unknown function '" + std::string(nameToken.text) + "'");
        const Token& open = advance();
        if (!enter(open)) return false;
        out.op = Op::Call;
        out.fn = info->fn;
        out.name = std::string(nameToken.text);
        if (peek().kind != TokenKind::RightParen) {
            while (true) {
                Node argument;
                if (!parseLevel(0, argument)) return false;
                out.children.push_back(std::move(argument));
                if (peek().kind == TokenKind::Comma) {
                    advance();
                    continue;
                }
                if (peek().kind == TokenKind::RightParen) break;
                if (const char* keyword = misspeltKeyword(peek()))
                    return fail(peek().position, std::string("write '") + keyword + "' in lower case");
                return fail(peek().position, "expected ',' or ')' in the call to " + std::string(info->name) +
                                                 "(), found " + quoted(peek()));
            }
        }
        const Token& close = advance();
        --m_depth;
        out.end = close.position + close.length;
        const size_t count = out.children.size();
        if (count < info->minArgs || count > info->maxArgs) {
            std::string expected;
            if (info->minArgs == info->maxArgs) {
                expected = std::to_string(info->minArgs) + (info->minArgs == 1 ? " argument" : " arguments");
            } else if (info->maxArgs == kVariadic) {
                expected = "at least " + std::to_string(info->minArgs) + (info->minArgs == 1 ? " argument" : " arguments");
            } else {
                expected = std::to_string(info->minArgs) + " or " + std::to_string(info->maxArgs) + " arguments";
            }
            return fail(nameToken.position, std::string(info->name) + "() takes " + expected + ", not " +
                                                std::to_string(count));
        }
        return setHeight(out, nameToken.position);
    }

    std::string_view m_text;
    const std::vector<Token>& m_tokens;
    size_t m_index = 0;
    int m_depth = 0;
    std::optional<CompileError> m_error;
};

}  // namespace

std::optional<CompileError> parse(std::string_view text, const std::vector<Token>& tokens, Node& root) {
    return Parser(text, tokens).parseAll(root);
}

}  // namespace ck::expr
