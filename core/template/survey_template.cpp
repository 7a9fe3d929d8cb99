#include "core/template/survey_template.h"

#include <array>
#include <cassert>

namespace ck {

namespace {
struct TypeName {
    QuestionType type;
    const char* name;
};
constexpr std::array kTypeNames{
    TypeName{QuestionType::Text, "text"},
    TypeName{QuestionType::Integer, "integer"},
    TypeName{QuestionType::Decimal, "decimal"},
    TypeName{QuestionType::Money, "money"},
    TypeName{QuestionType::Percent, "percent"},
    TypeName{QuestionType::Date, "date"},
    TypeName{QuestionType::SelectOne, "select_one"},
    TypeName{QuestionType::SelectMultiple, "select_multiple"},
    TypeName{QuestionType::Scale, "scale"},
    TypeName{QuestionType::Gps, "gps"},
    TypeName{QuestionType::Photo, "photo"},
    TypeName{QuestionType::Note, "note"},
    TypeName{QuestionType::Calculate, "calculate"},
    TypeName{QuestionType::Group, "group"},
    TypeName{QuestionType::Repeat, "repeat"},
};
}  // namespace

const char* questionTypeName(QuestionType type) {
    for (const auto& t : kTypeNames)
        if (t.type == type) return t.name;
    assert(false && "QuestionType missing from kTypeNames");
    return "?";
}

std::optional<QuestionType> questionTypeFromName(std::string_view name) {
    for (const auto& t : kTypeNames)
        if (name == t.name) return t.type;
    return std::nullopt;
}

const char* indicatorKindName(IndicatorKind kind) {
    switch (kind) {
        case IndicatorKind::Share: return "share";
        case IndicatorKind::Mean: return "mean";
        case IndicatorKind::Median: return "median";
        case IndicatorKind::Total: return "total";
        case IndicatorKind::Ratio: return "ratio";
    }
    return "?";
}

const std::string& LocalText::in(size_t language) const {
    static const std::string kNone;
    if (byLanguage.empty()) return kNone;
    if (language < byLanguage.size() && !byLanguage[language].empty()) return byLanguage[language];
    return byLanguage[0];
}

int ChoiceList::indexOf(std::string_view name) const {
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return int(i);
    return -1;
}

const Question* Template::find(std::string_view id) const {
    int i = indexOf(id);
    return i < 0 ? nullptr : &questions[size_t(i)];
}

int Template::indexOf(std::string_view id) const {
    auto it = m_byId.find(id);
    return it == m_byId.end() ? -1 : it->second;
}

int Template::languageIndex(std::string_view code) const {
    for (size_t i = 0; i < languages.size(); ++i)
        if (languages[i] == code) return int(i);
    return -1;
}

namespace {
void appendSerialised(std::string& out, std::string_view text) {
    uint64_t n = text.size();
    for (int i = 0; i < 8; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
    out.append(text);
}
}  // namespace

std::string recordDictionary(const Template& survey) {
    // zstd prefers what comes last (shorter offsets): the question ids, which every record
    // holds, go after the choice names, which only some answers use.
    std::string out;
    for (const auto& list : survey.choiceLists)
        for (const auto& name : list.names) appendSerialised(out, name);
    for (const auto& q : survey.questions) appendSerialised(out, q.id);
    appendSerialised(out, survey.id);
    appendSerialised(out, survey.version);
    return out;
}

expr::Type valueTypeOf(QuestionType t) {
    switch (t) {
        case QuestionType::Text:
        case QuestionType::SelectOne:
        case QuestionType::Photo: return expr::Type::Text;
        case QuestionType::Integer:
        case QuestionType::Decimal:
        case QuestionType::Money:
        case QuestionType::Percent:
        case QuestionType::Scale: return expr::Type::Number;
        case QuestionType::Date: return expr::Type::Date;
        case QuestionType::SelectMultiple: return expr::Type::Choices;
        case QuestionType::Gps: return expr::Type::Geo;
        default: return expr::Type::Any;
    }
}

}  // namespace ck
