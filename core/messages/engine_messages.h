#pragma once
// The engine's own messages (standard required / constraint messages, refused number
// entries, answers of the wrong kind, the money words) in every language ClusterKit ships.
// The words are data: the "engine" section of assets/text/<code>.json (text_tables.h); a
// language without a table, or a table without a key, gives the English words.
//
// Placeholders are {0}, {1}, ...: filled by engineText(key, language, {args}). Lookups of the
// bare words are an array index after the first call (no allocation).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

// X(key): the keys of the "engine" sections, in one place so the enum and the names agree.
#define CK_ENGINE_TEXT_KEYS(X)                                                                                     \
    /* the standard messages of a form's checks (a template may give its own) */                                  \
    X(RequiredStandard) X(ConstraintStandard) X(ChoiceGone)                                                          \
    /* a typed number refused at the field (core/form/number_entry.h) */                                           \
    X(NumberLettersMoney) X(NumberLetters) X(NumberMalformed) X(NumberGrouping) X(NumberNotWhole)                  \
    X(NumberOutOfRange) X(NumberTooLarge) X(Lakh) X(Crore)                                                           \
    /* an answer the question cannot take ({0}: the question id) */                                                \
    X(AnswerNeedsReal) X(AnswerWrongType) X(AnswerTooLong) X(AnswerNotWhole) X(AnswerNotFinite) X(AnswerTooLarge)  \
    X(AnswerPercentRange) X(AnswerNotAChoice) X(AnswerNotAScalePoint) X(AnswerGpsRange) X(AnswerGpsAccuracy)       \
    /* what a question takes, and what it was given, in AnswerWrongType */                                         \
    X(TypeText) X(TypeWholeNumber) X(TypeNumber) X(TypePercentage) X(TypeDate) X(TypeOneChoice) X(TypeChoiceList)   \
    X(TypeScalePoint) X(TypeGps) X(TypeNoAnswer) X(KindNumber) X(KindText) X(KindDate) X(KindChoices)              \
    X(KindLocation) X(KindTrueFalse)                                                                                 \
    /* answers read from a JSON file (core/form/answers_json.h) */                                                 \
    X(ExpectedNumber) X(ExpectedDate) X(ExpectedChoiceList) X(ExpectedText) X(AccuracyNotNumber) X(GpsAnswerShape) \
    X(ObjectAnswerShape) X(NoSuchQuestion)                                                                         \
    /* mistakes in the shape of an answers file ({0}: a question id, {1}: its repeat) */                        \
    X(AnswersNotObject) X(AnswerRepeatInRepeat) X(AnswerBelongsToRepeat) X(AnswerRepeatNeedsList)                  \
    X(AnswerInstanceNotObject) X(AnswerNotInRepeat)                                                                \
    /* why a passphrase is refused (core/crypto/vault.h; {0}: a number of characters) */                         \
    X(PassphraseTooShort) X(PassphraseRepeated) X(PassphraseCommon) X(PassphraseCommonWithSuffix) X(PassphraseOneKind)

enum class EngineText : uint16_t {
#define CK_ENGINE_TEXT_ENUM(name) name,
    CK_ENGINE_TEXT_KEYS(CK_ENGINE_TEXT_ENUM)
#undef CK_ENGINE_TEXT_ENUM
        Count_
};

// The key's name in the tables ("RequiredStandard"); "" for a key out of range.
const char* engineTextName(EngineText key);

// The words of `key` in `language` ("en", "hi", "ta", ...); English when there are none.
const char* engineText(EngineText key, std::string_view language);

// The same with {0}, {1}, ... replaced by args[0], args[1], ... (each occurrence).
std::string engineText(EngineText key, std::string_view language, std::initializer_list<std::string_view> args);

// {0}, {1}, ... in `pattern` replaced by `args`: what engineText does, for stored patterns.
// One pass: a value that itself holds "{1}" is not filled again.
std::string fillPlaceholders(std::string_view pattern, std::initializer_list<std::string_view> args);
std::string fillPlaceholders(std::string_view pattern, const std::vector<std::string>& args);

}  // namespace ck
