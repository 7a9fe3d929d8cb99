#pragma once
// The survey template model: what a loaded, fully checked template looks like in memory.
// Built only by the loader (template_loader.h); immutable afterwards and shared by every
// form session, the record exporters and (later) the report.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/expr/expression.h"

namespace ck {

enum class QuestionType : uint8_t {
    Text, Integer, Decimal, Money, Percent, Date, SelectOne, SelectMultiple, Scale, Gps, Photo,
    Note, Calculate, Group, Repeat,
};
const char* questionTypeName(QuestionType type);
std::optional<QuestionType> questionTypeFromName(std::string_view name);

// Text in every language the template declares, indexed like Template::languages.
// Empty when the template gives none (a hint is optional, a label is not).
struct LocalText {
    std::vector<std::string> byLanguage;
    bool empty() const { return byLanguage.empty(); }
    // The text in `language`, falling back to the default language.
    const std::string& in(size_t language) const;
};

struct Choice {
    std::string name;
    LocalText label;
    LocalText image;  // an image file name per language (XLSForm media::image), shown when Template::media has it
    std::map<std::string, std::string> properties;  // extra columns for choice_filter
};

struct ChoiceList {
    std::string id;
    std::vector<Choice> choices;
    std::vector<std::string> names;  // the choice names, in order (what expressions check against)
    int indexOf(std::string_view name) const;  // -1 when absent
};

// A compiled expression together with the source text it came from, for messages.
struct Expression {
    expr::Program program;
    bool present() const { return program.valid(); }
};

struct Question {
    std::string id;
    QuestionType type = QuestionType::Text;
    LocalText label, hint, constraintMessage, requiredMessage;
    LocalText image;  // an image file name per language (XLSForm media::image), shown when Template::media has it
    std::string appearance;
    int index = -1;    // position in Template::questions (document order)
    int parent = -1;   // enclosing group / repeat / section; -1 for a section itself
    int repeat = -1;   // enclosing repeat group; -1 outside any repeat
    int section = -1;  // the top-level section it belongs to (itself for a section)
    std::vector<int> children;  // for groups, repeats and sections, in order
    int choiceList = -1;        // index into Template::choiceLists
    bool pii = false;
    bool allowDontKnow = true;
    bool requiredAlways = false;  // `required: true`
    Expression relevant, constraint, required, calculation, choiceFilter;
    Expression repeatCount;  // a repeat whose instances the form adds and removes to match (XLSForm repeat_count)

    bool isContainer() const {
        return type == QuestionType::Group || type == QuestionType::Repeat || isSection();
    }
    bool isSection() const { return parent < 0; }
    // Takes an answer from the officer (not a note, a calculation or a container).
    bool isAnswerable() const {
        return !isContainer() && type != QuestionType::Note && type != QuestionType::Calculate;
    }
    // Holds a value that expressions can read and that the record keeps.
    bool hasValue() const { return !isContainer() && type != QuestionType::Note; }
};

// The type of the value a question of this type holds, as expressions see it (a calculation's
// is its expression's type, known once compiled: Any here).
expr::Type valueTypeOf(QuestionType t);

enum class IndicatorKind : uint8_t { Share, Mean, Median, Total, Ratio };
const char* indicatorKindName(IndicatorKind kind);

struct Indicator {
    std::string id;
    LocalText label;
    IndicatorKind kind = IndicatorKind::Share;
    Expression numerator, denominator, domain;
    std::string unit;
    std::string topic;
};

// How the report reads a visit (FORMAT.md, "report"): the sampling stratum, whether the unit
// responded, and which questions name the officer and the date of the visit.
struct ReportLayout;  // core/template/report_layout.h

struct ReportDesign {
    Expression stratum;    // text, matched against the register's stratum column; absent: one stratum
    Expression responded;  // condition; absent: every visit responded
    int officerQuestion = -1;  // index into Template::questions; -1 when none
    int dateQuestion = -1;     // a date question; -1: the record's createdAt
    // Sections, tables, highlights and their words (`report.layout`, or one built from the
    // indicators' topics); read once at load, never per report. Never null in a loaded template.
    std::shared_ptr<const ReportLayout> layout;
};

struct Template {
    std::string id;
    std::string version;
    std::vector<std::string> languages;  // [0] is the default
    LocalText title;
    std::vector<Question> questions;     // sections, groups and questions in document order
    std::vector<int> sections;           // indices of the top-level sections
    std::vector<ChoiceList> choiceLists;
    std::vector<Indicator> indicators;
    ReportDesign report;
    std::string sourceFile;
    // The images the template carries (template_media.h): file name -> the PNG or JPEG bytes,
    // checked at load. Question::image and Choice::image name them; a name with no file here
    // shows no image.
    std::map<std::string, std::string, std::less<>> media;

    // Dependency graph, built at load. A question's *value state* is its relevance and, for
    // a calculation, its value; its *checks* are constraint, required and choice filter.
    // Checks read values but nothing reads a check, so only value edges can form cycles.
    // `evaluationOrder` lists every question so that each comes after every question its
    // value state reads; `rank[q]` is q's position in it.
    std::vector<int> evaluationOrder;
    std::vector<int> rank;
    // valueDependents[q]: questions whose value state reads q's value (for a container: its
    // relevance; for a repeat: also its instance count).
    std::vector<std::vector<int>> valueDependents;
    // checkDependents[q]: questions whose checks read q's value.
    std::vector<std::vector<int>> checkDependents;

    const Question* find(std::string_view id) const;
    int indexOf(std::string_view id) const;  // -1 when absent
    int languageIndex(std::string_view code) const;  // -1 when the template lacks it
    const ChoiceList* choicesOf(const Question& q) const {
        return q.choiceList < 0 ? nullptr : &choiceLists[size_t(q.choiceList)];
    }

private:
    friend class TemplateLoader;
    // Hashed: the aggregator looks up every answer of every visit it validates.
    struct IdHash {
        using is_transparent = void;
        size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
    };
    std::unordered_map<std::string, int, IdHash, std::equal_to<>> m_byId;
};

// The zstd dictionary records of this template are compressed with inside sealed envelopes
// (core/crypto/envelope.h, format 2): every choice name and question id as the record
// serialises them (an 8-byte little-endian length, then the text), then the template id and
// version. Both ends derive it from the template, so it never travels; it is part of the
// envelope format, so changing this recipe means a new envelope format.
std::string recordDictionary(const Template& survey);

}  // namespace ck
