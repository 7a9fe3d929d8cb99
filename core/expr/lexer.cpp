#include <charconv>
#include <cmath>
#include <string>

#include "core/expr/lexer.h"

namespace ck::expr {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
// XLSForm names may contain '-' (count-selected) and '.' (some field names); a space is
// needed before a minus that follows a bare name, as in XPath.
bool isNameChar(char c) { return isNameStart(c) || isDigit(c) || c == '-' || c == '.'; }

CompileError errorAt(size_t position, std::string message) {
    return CompileError{position, std::move(message)};
}

}  // namespace

std::optional<CompileError> tokenize(std::string_view text, std::vector<Token>& out) {
    size_t i = 0;
    auto push = [&](TokenKind kind, size_t start, size_t length, std::string_view inner = {}) {
        Token token;
        token.kind = kind;
        token.position = uint32_t(start);
        token.length = uint32_t(length);
        token.text = inner;
        out.push_back(token);
    };
    while (true) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
        if (i == text.size()) {
            push(TokenKind::End, i, 0);
            return std::nullopt;
        }
        const size_t start = i;
        const char c = text[i];
        const char next = i + 1 < text.size() ? text[i + 1] : '\0';

        if (isDigit(c) || (c == '.' && isDigit(next))) {
            while (i < text.size() && isDigit(text[i])) ++i;
            if (i < text.size() && text[i] == '.' && i + 1 < text.size() && isDigit(text[i + 1])) {
                ++i;
                while (i < text.size() && isDigit(text[i])) ++i;
            }
            double value = 0;
            auto [end, ec] = std::from_chars(text.data() + start, text.data() + i, value, std::chars_format::fixed);
            if (ec != std::errc() || end != text.data() + i || !std::isfinite(value))
                return errorAt(start, "the number '" + std::string(text.substr(start, i - start)) + "' is too large");
            push(TokenKind::Number, start, i - start);
            out.back().number = value;
            continue;
        }
        if (c == '\'' || c == '"') {
            const size_t close = text.find(c, i + 1);
            if (close == std::string_view::npos)
                return errorAt(start, std::string("the text starting here has no closing ") + c);
            push(TokenKind::String, start, close + 1 - start, text.substr(start + 1, close - start - 1));
            i = close + 1;
            continue;
        }
        if (c == '$') {
            if (next != '{') return errorAt(start, "'$' must start a reference such as ${workers}");
            size_t j = i + 2;
            while (j < text.size() && isNameChar(text[j])) ++j;
            if (j == i + 2 || !isNameStart(text[i + 2]) || j == text.size() || text[j] != '}')
                return errorAt(start, "write a reference as ${name}: a question name in braces");
            push(TokenKind::Field, start, j + 1 - start, text.substr(i + 2, j - i - 2));
            i = j + 1;
            continue;
        }
        if (isNameStart(c)) {
            while (i < text.size() && isNameChar(text[i])) ++i;
            const std::string_view name = text.substr(start, i - start);
            TokenKind kind = TokenKind::Name;
            if (name == "and") kind = TokenKind::And;
            else if (name == "or") kind = TokenKind::Or;
            else if (name == "div") kind = TokenKind::Div;
            else if (name == "mod") kind = TokenKind::Mod;
            push(kind, start, i - start, name);
            continue;
        }
        // Spreadsheets turn typed quotes into curly ones; say so rather than "unexpected byte".
        if (static_cast<unsigned char>(c) == 0xE2 && next == '\x80' && i + 2 < text.size()) {
            const unsigned char third = static_cast<unsigned char>(text[i + 2]);
            if (third == 0x98 || third == 0x99 || third == 0x9C || third == 0x9D)
                return errorAt(start, "curly quotes are not quotes here: type ' or \" (turn off smart quotes)");
        }
        TokenKind kind = TokenKind::End;
        size_t length = 1;
        switch (c) {
            case '.': kind = TokenKind::Dot; break;
            case '+': kind = TokenKind::Plus; break;
            case '-': kind = TokenKind::Minus; break;
            case '*': kind = TokenKind::Star; break;
            case '/': kind = TokenKind::Slash; break;
            case '(': kind = TokenKind::LeftParen; break;
            case ')': kind = TokenKind::RightParen; break;
            case ',': kind = TokenKind::Comma; break;
            case '=':
                if (next == '=') return errorAt(start, "write = to compare, not ==");
                kind = TokenKind::Equal;
                break;
            case '!':
                if (next != '=') return errorAt(start, "'!' on its own means nothing: write != or not(...)");
                kind = TokenKind::NotEqual;
                length = 2;
                break;
            case '<':
                if (next == '>') return errorAt(start, "write != for 'not equal', not <>");
                kind = next == '=' ? TokenKind::LessEqual : TokenKind::Less;
                length = next == '=' ? 2 : 1;
                break;
            case '>':
                kind = next == '=' ? TokenKind::GreaterEqual : TokenKind::Greater;
                length = next == '=' ? 2 : 1;
                break;
            case '&': return errorAt(start, "write 'and', not '&'");
            case '|': return errorAt(start, "write 'or', not '|'");
            default:
                if (static_cast<unsigned char>(c) >= 0x80)
                    return errorAt(start, "unexpected non-ASCII character: put text in quotes");
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
                    return errorAt(start, "unexpected control character");
                return errorAt(start, std::string("unexpected character '") + c + "'");
        }
        push(kind, start, length);
        i += length;
    }
}

}  // namespace ck::expr
