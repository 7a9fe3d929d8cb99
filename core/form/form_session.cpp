#include "core/form/form_session.h"

#include "core/form/interpolate.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <utility>

namespace ck {

namespace {

Date systemToday() {
    auto now = std::chrono::system_clock::now();
    return Date{int32_t(std::chrono::floor<std::chrono::days>(now).time_since_epoch().count())};
}

// Standard messages in every language ClusterKit ships (assets/text/<code>.json, "engine");
// a template can override them.
const char* requiredText(const std::string& language) { return engineText(EngineText::RequiredStandard, language); }
const char* constraintText(const std::string& language) { return engineText(EngineText::ConstraintStandard, language); }
const char* choiceText(const std::string& language) { return engineText(EngineText::ChoiceGone, language); }

// A programmer's or a script's mistake (an unknown question or instance): English only.
AnswerResult fail(AnswerStatus status, std::string message) { return {status, std::move(message), EngineText::Count_, {}}; }

// A refused answer the officer may see: worded from the table, kept as data for other languages.
AnswerResult fail(AnswerStatus status, EngineText text, std::vector<std::string> args) {
    AnswerResult r;
    r.status = status;
    r.text = text;
    r.args = std::move(args);
    r.message = r.messageIn("en");
    return r;
}

EngineText wordOf(ValueKind kind) {
    switch (kind) {
        case ValueKind::Number: return EngineText::KindNumber;
        case ValueKind::Text: return EngineText::KindText;
        case ValueKind::Date: return EngineText::KindDate;
        case ValueKind::Choices: return EngineText::KindChoices;
        case ValueKind::Geo: return EngineText::KindLocation;
        case ValueKind::Bool: return EngineText::KindTrueFalse;
        default: return EngineText::Count_;
    }
}

}  // namespace

std::string AnswerResult::messageIn(std::string_view language) const {
    if (text == EngineText::Count_) return message;
    // An argument "@Key" is itself a word of the table (a kind of answer), in the same language.
    std::vector<std::string> words;
    words.reserve(args.size());
    for (const auto& a : args) {
        std::string word = a;
        if (a.size() > 1 && a[0] == '@')
            for (size_t k = 0; k < size_t(EngineText::Count_); ++k)
                if (a.compare(1, std::string::npos, engineTextName(EngineText(k))) == 0) word = engineText(EngineText(k), language);
        words.push_back(std::move(word));
    }
    return fillPlaceholders(engineText(text, language), words);
}

// What expressions see while the session evaluates one question at one instance.
class FormSession::Context final : public expr::EvalContext {
public:
    Context(const FormSession& s, int instance) : m_s(s), m_instance(instance) {}
    Value field(int slot) const override { return m_s.state(slot, m_instance).value; }
    // Nothing changes a state while an expression runs, so a reference stays valid.
    const Value* fieldRef(int slot) const override { return &m_s.state(slot, m_instance).value; }
    const Value* selfRef() const override { return m_self; }
    void fieldInstances(int slot, std::vector<Value>& out) const override {
        for (const auto& st : m_s.m_states[size_t(slot)]) out.push_back(st.value);
    }
    int instanceCount(int repeatSlot) const override { return m_s.m_instances[size_t(repeatSlot)]; }
    Value self() const override { return m_self ? *m_self : Value(); }
    Value choiceColumn(std::string_view name) const override {
        if (!m_choice) return {};
        if (name == "name") return Value::text(m_choice->name);
        auto it = m_choice->properties.find(std::string(name));
        return it == m_choice->properties.end() ? Value() : Value::text(it->second);
    }
    Date today() const override { return m_s.m_today; }

    const Value* m_self = nullptr;
    const Choice* m_choice = nullptr;

private:
    const FormSession& m_s;
    int m_instance;
};

FormSession::FormSession(std::shared_ptr<const Template> survey, std::string recordId, int64_t createdAt)
    : m_t(std::move(survey)), m_recordId(std::move(recordId)), m_createdAt(createdAt), m_today(systemToday()) {
    assert(m_t && "FormSession needs a loaded template");
    if (m_recordId.empty()) m_recordId = newRecordId();
    if (m_createdAt == 0) m_createdAt = unixNow();
    m_updatedAt = m_createdAt;
    const size_t n = m_t->questions.size();
    m_states.resize(n);
    m_instances.assign(n, 0);
    for (size_t q = 0; q < n; ++q)
        if (m_t->questions[q].repeat < 0) m_states[q].resize(1);  // repeat children start with no instance
    m_dirtyValue.resize(n);
    m_dirtyCheck.resize(n);
    m_hasRepeatCounts = std::any_of(m_t->questions.begin(), m_t->questions.end(),
                                    [](const Question& q) { return q.repeatCount.present(); });
    computeEverything();
    applyRepeatCounts();  // a constant count ("3") makes its rows at once
}

int FormSession::stateIndex(int question, int instance) const {
    // Without nested repeats, a question inside a repeat is read at the evaluating instance
    // and one outside at its single state. Told apart by the number of states alone: a
    // question outside a repeat has one, so any instance past 0 reads state 0, and a repeat's
    // child has one per instance. Every expression's field read comes here, and the template's
    // Question (large, one per cache line or more) is not touched on the way.
    const int n = int(m_states[size_t(question)].size());
    const int i = instance < n ? instance : 0;
    assert(i == (m_t->questions[size_t(question)].repeat >= 0 ? instance : 0) &&
           "no such repeat instance: check instanceCount() first");
    return i;
}

const FormSession::NodeState& FormSession::state(int question, int instance) const {
    const auto& v = m_states[size_t(question)];
    size_t i = size_t(stateIndex(question, instance));
    assert(i < v.size() && "no such repeat instance: check instanceCount() first");
    return v[i];
}

FormSession::NodeState& FormSession::state(int question, int instance) {
    return const_cast<NodeState&>(static_cast<const FormSession&>(*this).state(question, instance));
}

void FormSession::setToday(Date today) {
    if (today == m_today) return;
    m_today = today;
    computeEverything();
    applyRepeatCounts();
}

// ---- answers -------------------------------------------------------------------------------

AnswerResult FormSession::checkAnswer(const Question& q, Value& v) const {
    if (!q.isAnswerable())
        return fail(AnswerStatus::NotAnswerable, "'" + q.id + "' is a " + questionTypeName(q.type) + " and takes no answer");
    switch (v.kind()) {
        case ValueKind::Empty: return {};
        case ValueKind::DontKnow:
        case ValueKind::Refused:
            if (!q.allowDontKnow) return fail(AnswerStatus::DontKnowNotAllowed, EngineText::AnswerNeedsReal, {q.id});
            return {};
        default: break;
    }
    // The kinds of the two words are filled in per language by messageIn ("@" marks a key).
    auto wrongType = [&](EngineText wanted) {
        EngineText given = wordOf(v.kind());
        return fail(AnswerStatus::WrongType, EngineText::AnswerWrongType,
                    {q.id, std::string("@") + engineTextName(wanted),
                     given == EngineText::Count_ ? std::string(kindName(v.kind())) : std::string("@") + engineTextName(given)});
    };
    const ChoiceList* list = m_t->choicesOf(q);
    switch (q.type) {
        case QuestionType::Text:
        case QuestionType::Photo:
            if (v.kind() != ValueKind::Text) return wrongType(EngineText::TypeText);
            if (v.asText().size() > kMaxTextAnswerBytes)
                return fail(AnswerStatus::OutOfRange, EngineText::AnswerTooLong, {q.id, std::to_string(kMaxTextAnswerBytes)});
            return {};
        case QuestionType::Integer:
            if (v.kind() != ValueKind::Number) return wrongType(EngineText::TypeWholeNumber);
            if (!std::isfinite(v.asNumber()) || std::trunc(v.asNumber()) != v.asNumber() || std::fabs(v.asNumber()) > kMaxNumberAnswer)
                return fail(AnswerStatus::WrongType, EngineText::AnswerNotWhole, {q.id});
            return {};
        case QuestionType::Decimal:
        case QuestionType::Money:
            if (v.kind() != ValueKind::Number) return wrongType(EngineText::TypeNumber);
            if (!std::isfinite(v.asNumber())) return fail(AnswerStatus::OutOfRange, EngineText::AnswerNotFinite, {q.id});
            // Beyond this, doubles no longer hold whole rupees exactly and sums in reports lose
            // smaller answers entirely: no real turnover or quantity is this large.
            if (std::fabs(v.asNumber()) > kMaxNumberAnswer)
                return fail(AnswerStatus::OutOfRange, EngineText::AnswerTooLarge, {q.id});
            return {};
        case QuestionType::Percent:
            if (v.kind() != ValueKind::Number) return wrongType(EngineText::TypePercentage);
            if (!(v.asNumber() >= 0 && v.asNumber() <= 100))
                return fail(AnswerStatus::OutOfRange, EngineText::AnswerPercentRange, {q.id});
            return {};
        case QuestionType::Date:
            if (v.kind() != ValueKind::Date) return wrongType(EngineText::TypeDate);
            return {};
        case QuestionType::SelectOne:
            if (v.kind() != ValueKind::Text) return wrongType(EngineText::TypeOneChoice);
            if (list->indexOf(v.asText()) < 0)
                return fail(AnswerStatus::NotAChoice, EngineText::AnswerNotAChoice, {q.id, v.asText()});
            return {};
        case QuestionType::SelectMultiple: {
            if (v.kind() != ValueKind::Choices) return wrongType(EngineText::TypeChoiceList);
            // Stored in list order without repeats, so equal selections compare equal. A
            // selection already so (what a session writes, so every restored one) is kept as
            // it is, each name looked for after the one before.
            bool normalised = true;
            int last = -1;
            for (const auto& name : v.asChoices()) {
                int i = -1;
                for (size_t k = size_t(last + 1); k < list->names.size(); ++k)
                    if (list->names[k] == name) {
                        i = int(k);
                        break;
                    }
                if (i < 0) {
                    normalised = false;
                    i = list->indexOf(name);
                }
                if (i < 0) return fail(AnswerStatus::NotAChoice, EngineText::AnswerNotAChoice, {q.id, name});
                last = i;
            }
            if (normalised) return {};
            std::vector<bool> chosen(list->names.size(), false);
            for (const auto& name : v.asChoices()) chosen[size_t(list->indexOf(name))] = true;
            std::vector<std::string> normal;
            for (size_t i = 0; i < chosen.size(); ++i)
                if (chosen[i]) normal.push_back(list->names[i]);
            v = Value::choices(std::move(normal));
            return {};
        }
        case QuestionType::Scale: {
            if (v.kind() != ValueKind::Number) return wrongType(EngineText::TypeScalePoint);
            // The point is found by its name, and a NaN (or a tiny fraction) prints as one: the
            // number itself must be the point's.
            int point = std::isfinite(v.asNumber()) ? list->indexOf(v.toString()) : -1;
            if (point >= 0 && std::strtod(list->names[size_t(point)].c_str(), nullptr) != v.asNumber()) point = -1;
            if (point < 0)
                return fail(AnswerStatus::NotAChoice, EngineText::AnswerNotAScalePoint, {q.id, v.toString()});
            return {};
        }
        case QuestionType::Gps: {
            if (v.kind() != ValueKind::Geo) return wrongType(EngineText::TypeGps);
            const GeoPoint& p = v.asGeo();
            if (!(p.latitude >= -90 && p.latitude <= 90 && p.longitude >= -180 && p.longitude <= 180))
                return fail(AnswerStatus::OutOfRange, EngineText::AnswerGpsRange, {q.id});
            if (p.accuracyMetres && !(*p.accuracyMetres >= 0 && std::isfinite(*p.accuracyMetres)))
                return fail(AnswerStatus::OutOfRange, EngineText::AnswerGpsAccuracy, {q.id});
            return {};
        }
        default: return wrongType(EngineText::TypeNoAnswer);
    }
}

AnswerResult FormSession::takeAnswer(int question, int instance, Value& v) const {
    if (question < 0 || size_t(question) >= m_t->questions.size())
        return fail(AnswerStatus::UnknownQuestion, "there is no question number " + std::to_string(question));
    const Question& q = m_t->questions[size_t(question)];
    if (q.repeat >= 0 ? (instance < 0 || instance >= m_instances[size_t(q.repeat)]) : instance != 0)
        return fail(AnswerStatus::NoSuchInstance, "'" + q.id + "' has no instance " + std::to_string(instance));
    return checkAnswer(q, v);
}

AnswerResult FormSession::setAnswer(int question, int instance, Value v) {
    if (auto r = takeAnswer(question, instance, v); !r.ok()) return r;
    NodeState& st = state(question, instance);
    if (st.answer == v) return {};
    st.answer = std::move(v);
    m_updatedAt = unixNow();
    markValue(question, instance);
    markCheck(question, instance);
    settle();
    return {};
}

AnswerResult FormSession::setAnswer(std::string_view questionId, Value v, int instance) {
    int q = m_t->indexOf(questionId);
    if (q < 0) return fail(AnswerStatus::UnknownQuestion, "there is no question '" + std::string(questionId) + "'");
    return setAnswer(q, instance, std::move(v));
}

int FormSession::addInstance(int repeat) {
    assert(repeat >= 0 && size_t(repeat) < m_t->questions.size() && m_t->questions[size_t(repeat)].type == QuestionType::Repeat &&
           "addInstance takes the index of a repeat question");
    int instance = m_instances[size_t(repeat)]++;
    for (int child = repeat + 1; size_t(child) < m_t->questions.size() && m_t->questions[size_t(child)].repeat == repeat; ++child) {
        m_states[size_t(child)].emplace_back();
        markValue(child, instance);
        markCheck(child, instance);
    }
    markAggregatorsOf(repeat);
    m_updatedAt = unixNow();
    settle();
    return instance;
}

bool FormSession::removeInstance(int repeat, int instance) {
    if (repeat < 0 || size_t(repeat) >= m_t->questions.size() || m_t->questions[size_t(repeat)].type != QuestionType::Repeat)
        return false;
    if (instance < 0 || instance >= m_instances[size_t(repeat)]) return false;
    --m_instances[size_t(repeat)];
    for (int child = repeat + 1; size_t(child) < m_t->questions.size() && m_t->questions[size_t(child)].repeat == repeat; ++child) {
        auto& v = m_states[size_t(child)];
        v.erase(v.begin() + instance);
    }
    markAggregatorsOf(repeat);
    m_updatedAt = unixNow();
    settle();
    return true;
}

void FormSession::markAggregatorsOf(int repeat) {
    // Adding or removing an instance changes what is read across the repeat (counts, sums)
    // but nothing that one instance reads of its own siblings.
    auto outside = [&](int q) { return m_t->questions[size_t(q)].repeat != repeat; };
    for (int q = repeat; size_t(q) < m_t->questions.size() && (q == repeat || m_t->questions[size_t(q)].repeat == repeat); ++q) {
        for (int d : m_t->valueDependents[size_t(q)])
            if (outside(d)) markValue(d, m_t->questions[size_t(d)].repeat < 0 ? 0 : -1);
        for (int d : m_t->checkDependents[size_t(q)])
            if (outside(d)) markCheck(d, m_t->questions[size_t(d)].repeat < 0 ? 0 : -1);
    }
}

int FormSession::instanceCount(int repeat) const {
    assert(repeat >= 0 && size_t(repeat) < m_instances.size());
    return m_instances[size_t(repeat)];
}

const Value& FormSession::answer(int question, int instance) const { return state(question, instance).answer; }
const Value& FormSession::value(int question, int instance) const { return state(question, instance).value; }
bool FormSession::isRelevant(int question, int instance) const { return state(question, instance).relevant; }
bool FormSession::isRequired(int question, int instance) const { return state(question, instance).required; }
bool FormSession::constraintHolds(int question, int instance) const { return state(question, instance).constraintOk; }

// ---- dependency propagation ----------------------------------------------------------------

void FormSession::DirtySet::clear() {
    queued = false;
    all = false;
    instances.clear();
}

bool FormSession::DirtySet::add(int instance) {
    if (instance < 0) all = true;
    else if (!all) instances.push_back(instance);
    bool first = !queued;
    queued = true;
    return first;
}

template <typename Fn>
void FormSession::DirtySet::forEach(int instanceCount, Fn&& fn) {
    if (all) {
        for (int i = 0; i < instanceCount; ++i) fn(i);
        return;
    }
    std::sort(instances.begin(), instances.end());
    instances.erase(std::unique(instances.begin(), instances.end()), instances.end());
    for (int i : instances)
        if (i < instanceCount) fn(i);
}

void FormSession::markValue(int question, int instance) {
    if (m_dirtyValue[size_t(question)].add(instance)) {
        int rank = m_t->rank[size_t(question)];
        m_dirtyFirst = std::min(m_dirtyFirst, rank);
        m_dirtyLast = std::max(m_dirtyLast, rank);
    }
}

void FormSession::markCheck(int question, int instance) {
    if (m_dirtyCheck[size_t(question)].add(instance)) m_checkQueue.push_back(question);
}

void FormSession::markDependentsOf(int question, int instance) {
    const Question& source = m_t->questions[size_t(question)];
    // A dependent in the same repeat reads the same instance; a dependent in a repeat that
    // reads something outside it must be recomputed in every instance.
    auto scoped = [&](int dependent) {
        int r = m_t->questions[size_t(dependent)].repeat;
        if (r < 0) return 0;
        return (source.repeat >= 0 && r == source.repeat) ? instance : -1;
    };
    for (int d : m_t->valueDependents[size_t(question)]) markValue(d, scoped(d));
    for (int d : m_t->checkDependents[size_t(question)]) markCheck(d, scoped(d));
}

void FormSession::settle() {
    // Value state first, in evaluation order, so everything a question reads is final
    // before it is computed; checks read values only, so they come last.
    // Queued questions are found by walking the ranks between the lowest and the highest
    // queued: recomputing one only queues dependents, which rank after it, so the walk meets
    // them later on (m_dirtyLast grows). Cheaper than a heap when restore queues nearly all.
    for (int rank = m_dirtyFirst; rank <= m_dirtyLast; ++rank) {
        int q = m_t->evaluationOrder[size_t(rank)];
        if (!m_dirtyValue[size_t(q)].queued) continue;
        // Dependents rank after q, so recomputing q never marks q itself: its set is walked
        // in place and cleared after, keeping its buffer (no allocation per settle).
        DirtySet& d = m_dirtyValue[size_t(q)];
        d.forEach(int(m_states[size_t(q)].size()), [&](int i) {
            if (recomputeValue(q, i)) markDependentsOf(q, i);
        });
        d.clear();
    }
    m_dirtyFirst = std::numeric_limits<int>::max();
    m_dirtyLast = -1;
    // Checks mark nothing, so the queue too is walked in place.
    for (int q : m_checkQueue) {
        DirtySet& d = m_dirtyCheck[size_t(q)];
        d.forEach(int(m_states[size_t(q)].size()), [&](int i) { recomputeChecks(q, i); });
        d.clear();
    }
    m_checkQueue.clear();
    if (!m_applyingCounts) applyRepeatCounts();
}

// A repeat with a repeat_count has as many instances as the count says (none while it is
// not relevant or the count is missing): instances are added at the end and, as in ODK
// Collect, removed from the end when the count goes down. Adding and removing settle again;
// the flag keeps that from coming back here, and a count that reads its own repeat is a
// cycle the loader refuses, so a few passes always suffice.
void FormSession::applyRepeatCounts() {
    if (!m_hasRepeatCounts) return;
    m_applyingCounts = true;
    for (int pass = 0; pass < 4; ++pass) {
        bool changed = false;
        for (const Question& q : m_t->questions) {
            if (q.type != QuestionType::Repeat || !q.repeatCount.present()) continue;
            int target = 0;
            if (state(q.index, 0).relevant) {
                ++m_evaluations;
                Value count = q.repeatCount.program.evaluate(Context(*this, 0));
                if (count.kind() == ValueKind::Number && count.asNumber() >= 1)
                    target = int(std::min(std::floor(count.asNumber()), double(kMaxRepeatCount)));
            }
            while (m_instances[size_t(q.index)] < target) {
                addInstance(q.index);
                changed = true;
            }
            while (m_instances[size_t(q.index)] > target) {
                (void)removeInstance(q.index, m_instances[size_t(q.index)] - 1);
                changed = true;
            }
        }
        if (!changed) break;
    }
    m_applyingCounts = false;
}

bool FormSession::recomputeValue(int question, int instance) {
    const Question& q = m_t->questions[size_t(question)];
    NodeState& st = state(question, instance);
    bool relevant = q.parent < 0 || state(q.parent, instance).relevant;
    if (relevant && q.relevant.present()) {
        ++m_evaluations;
        relevant = q.relevant.program.evaluate(Context(*this, instance)).truthy();
    }
    bool changed = relevant != st.relevant;
    if (changed) markCheck(question, instance);
    st.relevant = relevant;
    if (relevant && q.type == QuestionType::Calculate) {
        ++m_evaluations;
        Value value = q.calculation.program.evaluate(Context(*this, instance));
        // XLSForm writes "no value" as ''; a record keeps no empty text.
        if (value.kind() == ValueKind::Text && value.asText().empty()) value = Value();
        if (!(value == st.value)) {
            changed = true;
            st.value = std::move(value);
        }
    } else if (relevant && q.hasValue()) {
        // Copied over the old value only when it differs: no allocation for an unchanged
        // text, and a copy that reuses the old value's buffer otherwise.
        if (!(st.answer == st.value)) {
            changed = true;
            st.value = st.answer;
        }
    } else if (!st.value.isEmpty()) {
        changed = true;
        st.value = Value();
    }
    return changed;
}

Value FormSession::evaluate(const expr::Program& program, int instance) const {
    if (!program.valid()) return {};
    ++m_evaluations;
    return program.evaluate(Context(*this, instance));
}

bool FormSession::choicePasses(const Question& q, int instance, const Choice& choice) const {
    if (!q.choiceFilter.present()) return true;
    Context ctx(*this, instance);
    ctx.m_choice = &choice;
    ++m_evaluations;
    return q.choiceFilter.program.evaluate(ctx).truthy();
}

void FormSession::recomputeChecks(int question, int instance) {
    const Question& q = m_t->questions[size_t(question)];
    NodeState& st = state(question, instance);
    st.required = false;
    st.constraintOk = true;
    st.choiceOk = true;
    if (!st.relevant || !q.isAnswerable()) return;
    st.required = q.requiredAlways;
    if (!st.required && q.required.present()) {
        ++m_evaluations;
        st.required = q.required.program.evaluate(Context(*this, instance)).truthy();
    }
    // A constraint checks a figure; "don't know" and "refused" have none to check.
    if (q.constraint.present() && !st.answer.isMissing()) {
        Context ctx(*this, instance);
        ctx.m_self = &st.answer;
        ++m_evaluations;
        st.constraintOk = q.constraint.program.evaluate(ctx).truthy();
    }
    if (q.choiceFilter.present() && !st.answer.isMissing()) {
        const ChoiceList* list = m_t->choicesOf(q);
        auto passes = [&](const std::string& name) {
            int i = list->indexOf(name);
            return i >= 0 && choicePasses(q, instance, list->choices[size_t(i)]);
        };
        if (st.answer.kind() == ValueKind::Text) st.choiceOk = passes(st.answer.asText());
        else if (st.answer.kind() == ValueKind::Choices)
            st.choiceOk = std::all_of(st.answer.asChoices().begin(), st.answer.asChoices().end(), passes);
    }
}

void FormSession::computeEverything() {
    for (int q : m_t->evaluationOrder) {
        for (int i = 0; i < int(m_states[size_t(q)].size()); ++i) recomputeValue(q, i);
    }
    // recomputeValue queued checks for changed relevance; every check is recomputed anyway
    // (the queue's buffers are kept: restore() comes here once per visit).
    for (int q : m_checkQueue) m_dirtyCheck[size_t(q)].clear();
    m_checkQueue.clear();
    for (size_t q = 0; q < m_states.size(); ++q)
        for (int i = 0; i < int(m_states[q].size()); ++i) recomputeChecks(int(q), i);
}

std::vector<int> FormSession::availableChoices(int question, int instance) const {
    const Question& q = m_t->questions[size_t(question)];
    std::vector<int> out;
    const ChoiceList* list = m_t->choicesOf(q);
    if (!list) return out;
    for (size_t i = 0; i < list->choices.size(); ++i)
        if (choicePasses(q, instance, list->choices[i])) out.push_back(int(i));
    return out;
}

// ---- navigation ------------------------------------------------------------------------------

void FormSession::collectItems(int question, std::vector<Position>& out) const {
    const Question& q = m_t->questions[size_t(question)];
    if (q.type == QuestionType::Repeat) {
        for (int i = 0; i < m_instances[size_t(question)]; ++i)
            for (int child : q.children) {
                const Question& c = m_t->questions[size_t(child)];
                if (c.isContainer()) {
                    // A group inside a repeat: expand it for this instance only.
                    std::vector<Position> inner;
                    collectItems(child, inner);
                    for (auto p : inner)
                        if (p.instance == 0) out.push_back({p.question, i});
                } else if (c.isAnswerable() || c.type == QuestionType::Note) {
                    out.push_back({child, i});
                }
            }
        return;
    }
    if (q.isContainer()) {
        for (int child : q.children) collectItems(child, out);
        return;
    }
    if (q.isAnswerable() || q.type == QuestionType::Note) out.push_back({question, 0});
}

std::vector<Position> FormSession::items() const {
    std::vector<Position> out;
    for (int s : m_t->sections) collectItems(s, out);
    return out;
}

Position FormSession::first() const {
    for (const auto& p : items())
        if (isRelevant(p.question, p.instance)) return p;
    return {};
}

Position FormSession::next(Position from) const {
    auto all = items();
    auto it = std::find(all.begin(), all.end(), from);
    if (it == all.end()) return {};
    for (++it; it != all.end(); ++it)
        if (isRelevant(it->question, it->instance)) return *it;
    return {};
}

Position FormSession::previous(Position from) const {
    auto all = items();
    auto it = std::find(all.begin(), all.end(), from);
    if (it == all.end()) return {};
    while (it != all.begin()) {
        --it;
        if (isRelevant(it->question, it->instance)) return *it;
    }
    return {};
}

Position FormSession::find(std::string_view questionId, int instance) const {
    int q = m_t->indexOf(questionId);
    if (q < 0) return {};
    const Question& question = m_t->questions[size_t(q)];
    if (question.repeat >= 0 ? (instance < 0 || instance >= m_instances[size_t(question.repeat)]) : instance != 0) return {};
    return {q, instance};
}

Progress FormSession::progress() const {
    Progress p;
    for (const auto& pos : items()) {
        const Question& q = m_t->questions[size_t(pos.question)];
        if (!q.isAnswerable() || !isRelevant(pos.question, pos.instance)) continue;
        ++p.total;
        if (answer(pos.question, pos.instance).isAnswered()) ++p.answered;
    }
    return p;
}

Progress FormSession::sectionProgress(int section) const {
    Progress p;
    std::vector<Position> positions;
    collectItems(section, positions);
    for (const auto& pos : positions) {
        const Question& q = m_t->questions[size_t(pos.question)];
        if (!q.isAnswerable() || !isRelevant(pos.question, pos.instance)) continue;
        ++p.total;
        if (answer(pos.question, pos.instance).isAnswered()) ++p.answered;
    }
    return p;
}

std::vector<Problem> FormSession::problemsAt(Position pos, size_t language) const {
    std::vector<Problem> out;
    if (!pos.valid() || size_t(pos.question) >= m_t->questions.size()) return out;
    const Question& q = m_t->questions[size_t(pos.question)];
    if (q.repeat >= 0 && (pos.instance < 0 || pos.instance >= m_instances[size_t(q.repeat)])) return out;
    const NodeState& st = state(pos.question, pos.instance);
    if (!q.isAnswerable() || !st.relevant) return out;
    const std::string& lang = m_t->languages[language < m_t->languages.size() ? language : 0];
    auto add = [&](ProblemKind kind, const LocalText& custom, const char* standard) {
        Problem p;
        p.at = pos;
        p.questionId = q.id;
        p.kind = kind;
        p.label = interpolate(*this, q.label.in(language), pos, language);
        p.message = custom.empty() ? std::string(standard) : interpolate(*this, custom.in(language), pos, language);
        out.push_back(std::move(p));
    };
    if (st.required && !st.answer.isAnswered()) add(ProblemKind::Required, q.requiredMessage, requiredText(lang));
    if (!st.constraintOk) add(ProblemKind::Constraint, q.constraintMessage, constraintText(lang));
    if (!st.choiceOk) add(ProblemKind::NotAvailableChoice, LocalText{}, choiceText(lang));
    return out;
}

std::vector<Problem> FormSession::validate(size_t language) const {
    std::vector<Problem> out;
    // Every answerable question's states, looked over for a problem problemsAt() would report:
    // a visit that holds (most of what the aggregator checks) is done without laying out the
    // items. items() lists every answerable state once, so "none here" means none there.
    bool any = false;
    for (size_t q = 0; q < m_states.size() && !any; ++q) {
        if (!m_t->questions[q].isAnswerable()) continue;
        for (const NodeState& st : m_states[q])
            if (st.relevant && ((st.required && !st.answer.isAnswered()) || !st.constraintOk || !st.choiceOk)) {
                any = true;
                break;
            }
    }
    if (!any) return out;
    for (const auto& pos : items()) {
        auto here = problemsAt(pos, language);
        for (auto& p : here) out.push_back(std::move(p));
    }
    return out;
}

// ---- records ---------------------------------------------------------------------------------

void FormSession::collectAnswers(int question, int instance, bool draft, std::vector<Answer>& out) const {
    const Question& q = m_t->questions[size_t(question)];
    // A finished record holds what is relevant; a draft holds everything typed, so that an
    // answer hidden by a mistaken gate (consent, say) is still there after a restart.
    if (!draft && !state(question, instance).relevant) return;
    if (q.type == QuestionType::Repeat) {
        Answer a;
        a.questionId = q.id;
        a.isRepeat = true;
        for (int i = 0; i < m_instances[size_t(question)]; ++i) {
            std::vector<Answer> inst;
            for (int child : q.children) collectAnswers(child, i, draft, inst);
            a.instances.push_back(std::move(inst));
        }
        out.push_back(std::move(a));
        return;
    }
    if (q.isContainer()) {
        for (int child : q.children) collectAnswers(child, instance, draft, out);
        return;
    }
    if (!q.hasValue()) return;
    if (draft && q.type == QuestionType::Calculate) return;  // recomputed on restore
    const Value& v = draft ? state(question, instance).answer : state(question, instance).value;
    if (v.isAnswered()) out.push_back({q.id, v, false, {}});
}

Record FormSession::makeRecord(bool draft) const {
    Record r;
    r.id = m_recordId;
    r.templateId = m_t->id;
    r.templateVersion = m_t->version;
    r.createdAt = m_createdAt;
    r.updatedAt = m_updatedAt;
    r.assignment = m_assignment;
    for (int s : m_t->sections) collectAnswers(s, 0, draft, r.answers);
    return r;
}

Record FormSession::toRecord() const { return makeRecord(false); }

// collectAnswers(draft = false), written out as it goes; a personal question (and a personal
// repeat, whole) is skipped as removePersonalAnswers() would remove it.
void FormSession::writeAnswers(int question, int instance, bool withoutPersonal, RecordWriter& out) const {
    const Question& q = m_t->questions[size_t(question)];
    if (!state(question, instance).relevant) return;
    if (q.type == QuestionType::Repeat) {
        if (withoutPersonal && q.pii) return;
        const int n = m_instances[size_t(question)];
        out.beginRepeat(q.id, size_t(n));
        for (int i = 0; i < n; ++i) {
            out.beginInstance();
            for (int child : q.children) writeAnswers(child, i, withoutPersonal, out);
            out.endInstance();
        }
        out.endRepeat();
        return;
    }
    if (q.isContainer()) {
        for (int child : q.children) writeAnswers(child, instance, withoutPersonal, out);
        return;
    }
    if (!q.hasValue() || (withoutPersonal && q.pii)) return;
    const Value& v = state(question, instance).value;
    if (v.isAnswered()) out.answer(q.id, v);
}

std::string FormSession::toRecordBytes(const std::string& parentId, bool withoutPersonal) const {
    Record header;
    header.id = m_recordId;
    header.templateId = m_t->id;
    header.templateVersion = m_t->version;
    header.createdAt = m_createdAt;
    header.updatedAt = m_updatedAt;
    header.parentId = parentId;
    header.assignment = m_assignment;
    // Room for a record as large as the last one this session wrote and a little more: the
    // aggregator writes one per visit from one reused session, and visits of a template are
    // of a size.
    RecordWriter out(header, std::max<size_t>(4096, m_lastRecordBytes + m_lastRecordBytes / 8));
    for (int s : m_t->sections) writeAnswers(s, 0, withoutPersonal, out);
    std::string bytes = out.finish();
    m_lastRecordBytes = bytes.size();
    return bytes;
}
Record FormSession::toDraftRecord() const { return makeRecord(true); }

std::vector<std::string> FormSession::restore(const Record& record) { return restoreFrom(record, false); }

std::vector<std::string> FormSession::restore(Record&& record) { return restoreFrom(record, true); }

int FormSession::questionAfter(int previous, std::string_view id) const {
    // A record lists its answers in document order (makeRecord and toRecordBytes walk the
    // sections), so the next answer's question is nearly always a few places further on:
    // comparing the ids there costs less than hashing the id for the template's index. Ids
    // are unique in a template, so both find the same question.
    constexpr int kLookAhead = 8;
    const auto& questions = m_t->questions;
    const int end = std::min(int(questions.size()), previous + 1 + kLookAhead);
    for (int q = std::max(previous + 1, 0); q < end; ++q)
        if (questions[size_t(q)].id == id) return q;
    return m_t->indexOf(id);
}

void FormSession::clearAnswers() {
    for (size_t q = 0; q < m_states.size(); ++q) {
        if (m_t->questions[q].repeat >= 0) m_states[q].clear();  // the buffer is kept for the next visit
        else m_states[q][0].answer = Value();
    }
    std::fill(m_instances.begin(), m_instances.end(), 0);
}

// Puts a record's answers into the session as restore() reads them: one at a time, in the
// record's order, checked, nothing recomputed (restore() computes the visit once at its end).
class FormSession::Restorer final : public RecordAnswerSink {
public:
    explicit Restorer(FormSession& s) : m_s(s) {}

    void answer(std::string_view questionId, Value&& value) override {
        if (m_skipping) return;  // the instances of a repeat this template does not have
        int& previous = m_repeat >= 0 ? m_inside : m_previous;
        int q = m_s.questionAfter(previous, questionId);
        if (q < 0) {
            problems.push_back("'" + std::string(questionId) + "' is not a question of this template version");
            return;
        }
        previous = q;
        if (m_s.m_t->questions[size_t(q)].type == QuestionType::Calculate) return;  // recomputed here
        AnswerResult r = m_s.takeAnswer(q, m_repeat >= 0 ? m_instance : 0, value);
        if (!r.ok()) {
            problems.push_back(r.message);
            return;
        }
        m_s.state(q, m_repeat >= 0 ? m_instance : 0).answer = std::move(value);
    }
    void beginRepeat(std::string_view questionId, size_t) override {
        int rq = m_s.questionAfter(m_previous, questionId);
        if (rq < 0 || m_s.m_t->questions[size_t(rq)].type != QuestionType::Repeat) {
            problems.push_back("'" + std::string(questionId) + "' is not a repeat of this template version");
            m_skipping = true;
            return;
        }
        m_repeat = rq;
    }
    void beginInstance() override {
        if (m_skipping) return;
        const auto& questions = m_s.m_t->questions;
        m_instance = m_s.m_instances[size_t(m_repeat)]++;
        for (int child = m_repeat + 1; size_t(child) < questions.size() && questions[size_t(child)].repeat == m_repeat; ++child)
            m_s.m_states[size_t(child)].emplace_back();
        m_inside = m_repeat;
    }
    void endRepeat() override {
        if (!m_skipping) {
            // The repeat's children are passed over: what follows is looked for after the last one.
            const auto& questions = m_s.m_t->questions;
            m_previous = m_repeat;
            while (size_t(m_previous + 1) < questions.size() && questions[size_t(m_previous + 1)].repeat == m_repeat)
                ++m_previous;
        }
        m_skipping = false;
        m_repeat = -1;
    }

    std::vector<std::string> problems;

private:
    FormSession& m_s;
    int m_previous = -1;  // the question of the answer before, where the next is looked for first
    int m_repeat = -1;    // the repeat whose instance is being read, -1 outside one
    int m_instance = 0;
    int m_inside = -1;    // m_previous inside the instance
    bool m_skipping = false;
};

void FormSession::beginRestore(const Record& header) {
    m_recordId = header.id;
    m_assignment = header.assignment;
    m_createdAt = header.createdAt;
    // A blank start: whatever this session held before is gone. The answers are then put in
    // place without recomputing anything, and the visit is computed once, whole, in
    // evaluation order, as a new session computes itself: the aggregator restores every visit
    // it receives into one reused session, and nearly every question depends on some answer,
    // so tracking what each answer dirties would cost more than computing it all.
    clearAnswers();
}

void FormSession::endRestore(const Record& header) {
    computeEverything();
    applyRepeatCounts();  // the stored instances came back as they were; counts apply once every answer is in
    m_updatedAt = header.updatedAt;
}

std::vector<std::string> FormSession::restoreFrom(const Record& record, bool moveAnswers) {
    Restorer restorer(*this);
    if (record.templateId != m_t->id)
        restorer.problems.push_back("the record is of template '" + record.templateId + "', not '" + m_t->id + "'");
    beginRestore(record);
    // Moved out of a record the caller gave up (restore(Record&&)): a text or a choice list
    // changes hands instead of being copied.
    auto take = [&](const Answer& a) { return moveAnswers ? std::move(const_cast<Value&>(a.value)) : Value(a.value); };
    for (const auto& a : record.answers) {
        if (!a.isRepeat) {
            restorer.answer(a.questionId, take(a));
            continue;
        }
        restorer.beginRepeat(a.questionId, a.instances.size());
        for (const auto& inst : a.instances) {
            restorer.beginInstance();
            for (const auto& child : inst) restorer.answer(child.questionId, take(child));
        }
        restorer.endRepeat();
    }
    endRestore(record);
    return std::move(restorer.problems);
}

std::vector<std::string> FormSession::restore(std::string_view recordBytes) {
    Restorer restorer(*this);
    Record header;
    if (std::string error = readRecord(recordBytes, header, nullptr); !error.empty()) return {error};
    if (header.templateId != m_t->id)
        restorer.problems.push_back("the record is of template '" + header.templateId + "', not '" + m_t->id + "'");
    beginRestore(header);
    if (std::string error = readRecord(recordBytes, header, &restorer); !error.empty()) restorer.problems.push_back(error);
    endRestore(header);
    return std::move(restorer.problems);
}

}  // namespace ck
