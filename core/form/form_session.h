#pragma once
// A visit being filled in: answers, repeat instances, and everything derived from them
// (relevance, calculations, required-ness, constraint results), kept consistent through the
// template's dependency graph so that one change recomputes only what depends on it.
//
// Questions are addressed by their index in Template::questions and, inside a repeat, by
// the instance (0-based position); outside a repeat the instance is always 0.
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages/engine_messages.h"
#include "core/record/record.h"
#include "core/template/survey_template.h"

namespace ck {

enum class AnswerStatus : uint8_t {
    Ok,
    UnknownQuestion,     // no question with that id / index
    NoSuchInstance,      // the repeat has no instance at that position
    NotAnswerable,       // a note, a calculation or a group
    WrongType,           // e.g. text for an integer question
    NotAChoice,          // a name that is not in the question's choice list
    OutOfRange,          // a percent outside 0-100, a GPS point off the globe, a text over the size limit
    DontKnowNotAllowed,  // "don't know"/"refused" where the template allows neither
};

struct AnswerResult {
    AnswerStatus status = AnswerStatus::Ok;
    std::string message;  // for people, in English; empty when Ok
    // The same message as data, for other languages: its key and the values of {0}, {1}, ...
    // (key Count_: a programmer's mistake, such as an unknown question, worded in English only).
    EngineText text = EngineText::Count_;
    std::vector<std::string> args;
    bool ok() const { return status == AnswerStatus::Ok; }
    // The message in `language` ("hi", "ta", ...): `message` when it has no key.
    std::string messageIn(std::string_view language) const;
};

struct Position {
    int question = -1;
    int instance = 0;
    bool valid() const { return question >= 0; }
    bool operator==(const Position&) const = default;
};

enum class ProblemKind : uint8_t { Required, Constraint, NotAvailableChoice };

// One open problem found by validate(), in the language asked for.
struct Problem {
    Position at;
    std::string questionId;
    ProblemKind kind = ProblemKind::Required;
    std::string label;    // the question's label
    std::string message;  // what to do about it
};

struct Progress {
    int answered = 0;  // relevant questions with an answer ("don't know"/"refused" count)
    int total = 0;     // relevant questions that take an answer
};

// Longest text answer accepted (a field note; photos are attachments, not text).
inline constexpr size_t kMaxTextAnswerBytes = 64 * 1024;
// Largest magnitude of a number answer (whole numbers, decimals, money).
inline constexpr double kMaxNumberAnswer = 9.0e15;
// Most instances a repeat_count makes (a count of 1e9 typed by mistake must not exhaust memory).
inline constexpr int kMaxRepeatCount = 500;

class FormSession {
public:
    // A new visit. `recordId` and `createdAt` default to a fresh UUID and now.
    explicit FormSession(std::shared_ptr<const Template> survey, std::string recordId = {}, int64_t createdAt = 0);

    const Template& survey() const { return *m_t; }
    const std::string& recordId() const { return m_recordId; }

    // Sets (or, with an Empty value, clears) an answer and recomputes what depends on it.
    [[nodiscard]] AnswerResult setAnswer(int question, int instance, Value value);
    [[nodiscard]] AnswerResult setAnswer(std::string_view questionId, Value value, int instance = 0);

    // Repeat instances. addInstance returns the new instance's position.
    int addInstance(int repeat);
    [[nodiscard]] bool removeInstance(int repeat, int instance);
    int instanceCount(int repeat) const;

    // State of one question (instance must exist; misuse asserts).
    const Value& answer(int question, int instance = 0) const;
    const Value& value(int question, int instance = 0) const;  // Empty when not relevant
    bool isRelevant(int question, int instance = 0) const;
    bool isRequired(int question, int instance = 0) const;
    bool constraintHolds(int question, int instance = 0) const;
    // Indices into the question's choice list that its choice_filter lets through.
    std::vector<int> availableChoices(int question, int instance = 0) const;

    // Navigation over what the officer sees: answerable questions and notes, repeats
    // expanded per instance, in document order.
    std::vector<Position> items() const;
    Position first() const;  // the first relevant item (invalid when none is)
    Position next(Position from) const;      // the next relevant item after `from`
    Position previous(Position from) const;  // the previous relevant item before `from`
    Position find(std::string_view questionId, int instance = 0) const;

    Progress progress() const;
    Progress sectionProgress(int section) const;

    // Every open problem, in document order, with labels and messages in `language`
    // (an index into Template::languages).
    std::vector<Problem> validate(size_t language = 0) const;
    // The open problems of one item (what Next checks before leaving it), as validate() words them.
    std::vector<Problem> problemsAt(Position at, size_t language = 0) const;

    // The visit as a record: relevant answers and calculated values only.
    Record toRecord() const;
    // serializeRecord() of toRecord() with `parentId`, written straight from the session (no
    // Record made on the way: the aggregator stores one per visit); `withoutPersonal` leaves
    // out what removePersonalAnswers() would.
    std::string toRecordBytes(const std::string& parentId, bool withoutPersonal) const;
    // Every answer typed, relevant or not (calculations are left out and recomputed on
    // restore): what autosave keeps while the visit is open.
    Record toDraftRecord() const;
    // Resumes a stored visit from a blank start (whatever the session held before is
    // cleared): sets its answers and instances. Returns one message per answer that could not
    // be taken (unknown question, wrong type, ...); the rest are set.
    [[nodiscard]] std::vector<std::string> restore(const Record& record);
    // The same, taking the answers' values out of `record` instead of copying them (the
    // aggregator restores each visit it receives once and keeps only its header).
    [[nodiscard]] std::vector<std::string> restore(Record&& record);
    // The same from a record's bytes (serializeRecord()), read straight into the session with
    // no Record made (the aggregator restores every visit it receives). Bytes that are no
    // record are one problem, saying why.
    [[nodiscard]] std::vector<std::string> restore(std::string_view recordBytes);

    // The aggregator's opaque token for the assigned unit this visit is of ("" for a unit found
    // in the field): kept in drafts and the finished record, read back by restore().
    void setAssignment(std::string token) { m_assignment = std::move(token); }
    const std::string& assignment() const { return m_assignment; }

    // today() in expressions; defaults to the system date when the session is made.
    void setToday(Date today);
    Date today() const { return m_today; }

    // An expression of this template evaluated on the session as it stands (at `instance`), as
    // the session evaluates its own: the aggregator reads the report's stratum off a restored
    // visit this way. Empty when the program is not valid.
    Value evaluate(const expr::Program& program, int instance = 0) const;

    // Number of expression evaluations so far: lets tests check that a change recomputes
    // only what depends on it.
    uint64_t evaluationCount() const { return m_evaluations; }

private:
    struct NodeState {
        Value answer;
        Value value;  // the effective value: the answer or calculation when relevant, else Empty
        bool relevant = true;
        bool required = false;
        bool constraintOk = true;
        bool choiceOk = true;
    };
    // What waits to be recomputed for one question: some instances, or all of them.
    struct DirtySet {
        bool queued = false;
        bool all = false;
        std::vector<int> instances;
        bool add(int instance);  // instance -1: all; true when the question was not queued yet
        void clear();            // nothing queued; the buffer is kept
        template <typename Fn>
        void forEach(int instanceCount, Fn&& fn);
    };
    class Context;

    int stateIndex(int question, int instance) const;
    const NodeState& state(int question, int instance) const;
    NodeState& state(int question, int instance);
    AnswerResult checkAnswer(const Question& q, Value& value) const;
    // Whether `value` may be the answer at (question, instance): the place exists and the
    // value fits the question (a selection is put in list order).
    AnswerResult takeAnswer(int question, int instance, Value& value) const;
    void clearAnswers();  // no answer and no repeat instance; nothing recomputed

    void markValue(int question, int instance);  // instance -1: every instance
    void markCheck(int question, int instance);
    void markDependentsOf(int question, int instance);
    void markAggregatorsOf(int repeat);
    void settle();
    void applyRepeatCounts();
    bool recomputeValue(int question, int instance);
    void recomputeChecks(int question, int instance);
    void computeEverything();
    bool choicePasses(const Question& q, int instance, const Choice& choice) const;

    void collectItems(int question, std::vector<Position>& out) const;
    void collectAnswers(int question, int instance, bool draft, std::vector<Answer>& out) const;
    void writeAnswers(int question, int instance, bool withoutPersonal, RecordWriter& out) const;
    Record makeRecord(bool draft) const;
    class Restorer;
    std::vector<std::string> restoreFrom(const Record& record, bool moveAnswers);
    void beginRestore(const Record& header);
    void endRestore(const Record& header);
    int questionAfter(int previous, std::string_view id) const;  // the question with `id`, -1 when none

    std::shared_ptr<const Template> m_t;
    std::string m_recordId;
    std::string m_assignment;
    int64_t m_createdAt = 0;
    int64_t m_updatedAt = 0;
    Date m_today;
    std::vector<std::vector<NodeState>> m_states;  // per question: 1 state, or 1 per instance
    std::vector<int> m_instances;                  // per repeat question: its instance count
    std::vector<DirtySet> m_dirtyValue, m_dirtyCheck;
    // The lowest and highest rank (place in evaluation order) of a question queued for its
    // value; none queued: max and -1.
    int m_dirtyFirst = std::numeric_limits<int>::max();
    int m_dirtyLast = -1;
    std::vector<int> m_checkQueue;
    mutable uint64_t m_evaluations = 0;
    bool m_applyingCounts = false;
    bool m_hasRepeatCounts = false;  // any repeat with a repeat_count: settle() applies counts only then
    mutable std::vector<Value> m_scratch;
    mutable size_t m_lastRecordBytes = 0;  // what toRecordBytes() wrote last
};

}  // namespace ck
