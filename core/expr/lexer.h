#pragma once
// Tokens of the expression language. Private to core/expr.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/expr/expression.h"

namespace ck::expr {

enum class TokenKind : uint8_t {
    End, Number, String, Field, Dot, Name,
    And, Or, Div, Mod,
    Plus, Minus, Star, Slash,
    Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual,
    LeftParen, RightParen, Comma,
};

struct Token {
    TokenKind kind = TokenKind::End;
    uint32_t position = 0;  // byte offset of the token in the expression text
    uint32_t length = 0;    // bytes, quotes and `${}` included
    // String: the text between the quotes; Field: the name inside `${}`; Name: the name.
    // Views into the expression text, which outlives the tokens during compile().
    std::string_view text;
    double number = 0;
};

// Splits `text` into tokens ending with one End token, or returns the first lexical error.
[[nodiscard]] std::optional<CompileError> tokenize(std::string_view text, std::vector<Token>& out);

}  // namespace ck::expr
