#include "core/report/indicator_evaluator.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace ck::report {

namespace {

// What kind of value a field of this static type may hold. A record is outside input (it may
// come from another template version, or be hand-made): a value of another kind would trip
// the compiled program's accessors, so it reads as missing instead.
bool kindFits(expr::Type type, ValueKind kind) {
    if (kind == ValueKind::Empty || kind == ValueKind::DontKnow || kind == ValueKind::Refused) return true;
    switch (type) {
        case expr::Type::Any: return true;
        case expr::Type::Bool: return kind == ValueKind::Bool;
        case expr::Type::Number: return kind == ValueKind::Number;
        case expr::Type::Text: return kind == ValueKind::Text;
        case expr::Type::Date: return kind == ValueKind::Date;
        case expr::Type::Choices: return kind == ValueKind::Choices;
        case expr::Type::Geo: return kind == ValueKind::Geo;
    }
    return false;
}

expr::Type fieldType(const Question& q) {
    if (q.type == QuestionType::Calculate) return q.calculation.present() ? q.calculation.program.type() : expr::Type::Any;
    return valueTypeOf(q.type);
}

const Value kEmpty;

// One visit's answers laid out by slot (question index). It points into the record rather
// than copying values, and one scratch per thread is reused, so evaluating a visit allocates
// only for what the report keeps (stratum and officer text).
struct Scratch {
    const Template* templ = nullptr;
    std::vector<const Value*> top;                    // by slot; null: not present
    std::vector<std::vector<const Value*>> perInstance;  // by slot, for fields inside a repeat
    std::vector<int> instances;                       // by repeat slot
    std::vector<int> touched;                         // slots to reset before the next visit
    std::vector<int> touchedRepeats;

    void prepare(const Template& t) {
        size_t n = t.questions.size();
        if (templ != &t || top.size() != n) {
            templ = &t;
            top.assign(n, nullptr);
            perInstance.assign(n, {});
            instances.assign(n, 0);
            touched.clear();
            touchedRepeats.clear();
            return;
        }
        for (int s : touched) {
            top[size_t(s)] = nullptr;
            perInstance[size_t(s)].clear();
        }
        for (int r : touchedRepeats) instances[size_t(r)] = 0;
        touched.clear();
        touchedRepeats.clear();
    }
};

class RecordContext final : public expr::EvalContext {
public:
    RecordContext(const Scratch& s, Date today) : m_s(s), m_today(today) {}
    // Indicators and the report design are evaluated at top level: a field inside a repeat
    // is only read through aggregates (fieldInstances), never as one value.
    Value field(int slot) const override {
        if (slot < 0 || size_t(slot) >= m_s.top.size()) return {};
        const Value* v = m_s.top[size_t(slot)];
        return v ? *v : Value();
    }
    void fieldInstances(int slot, std::vector<Value>& out) const override {
        if (slot < 0 || size_t(slot) >= m_s.perInstance.size()) return;
        for (const Value* v : m_s.perInstance[size_t(slot)]) out.push_back(v ? *v : Value());
    }
    int instanceCount(int repeatSlot) const override {
        if (repeatSlot < 0 || size_t(repeatSlot) >= m_s.instances.size()) return 0;
        return m_s.instances[size_t(repeatSlot)];
    }
    Date today() const override { return m_today; }

private:
    const Scratch& m_s;
    Date m_today;
};

// The figure behind a numerator or denominator. The loader lets a condition stand where a
// number is asked (a count of units is `1`, a count of exporters a comparison): true counts
// 1 and false 0, as XLSForm's number() does. Anything else, or NaN / infinity, is missing.
std::optional<double> figure(const Value& v) {
    if (v.kind() == ValueKind::Number) {
        double d = v.asNumber();
        return std::isfinite(d) ? std::optional<double>(d) : std::nullopt;
    }
    if (v.kind() == ValueKind::Bool) return v.asBool() ? 1.0 : 0.0;
    return std::nullopt;
}

}  // namespace

IndicatorEvaluator::IndicatorEvaluator(const Template& t) : m_template(&t) {
    // m_slotOf: the questions that hold a value, in document order -- the order a record
    // lists its answers in -- so that evaluate() finds each answer's slot by walking forward
    // instead of looking every id up.
    for (const auto& q : t.questions)
        if (q.hasValue() || q.type == QuestionType::Repeat) m_slotOf.push_back(q.index);
}

VisitObservations IndicatorEvaluator::evaluate(const Record& record) const {
    const Template& t = *m_template;
    thread_local Scratch scratch;
    scratch.prepare(t);

    VisitObservations out;
    out.values.resize(t.indicators.size());
    const bool sameTemplate = record.templateId == t.id;

    if (sameTemplate) {
        // Finds the slot of `id`, expected at or after `cursor` in m_slotOf (template order);
        // falls back to the template's index for records whose order differs.
        size_t cursor = 0;
        auto slotOf = [&](const std::string& id) -> int {
            constexpr size_t kWindow = 48;
            size_t end = std::min(m_slotOf.size(), cursor + kWindow);
            for (size_t i = cursor; i < end; ++i) {
                if (t.questions[size_t(m_slotOf[i])].id == id) {
                    cursor = i + 1;
                    return m_slotOf[i];
                }
            }
            return t.indexOf(id);
        };
        for (const Answer& a : record.answers) {
            int slot = slotOf(a.questionId);
            if (slot < 0) continue;  // not a question of this version: ignored
            const Question& q = t.questions[size_t(slot)];
            if (q.repeat >= 0) continue;  // a repeat's field outside its repeat: malformed
            if (a.isRepeat) {
                if (q.type != QuestionType::Repeat || scratch.instances[size_t(slot)] != 0) continue;
                int count = int(a.instances.size());
                scratch.instances[size_t(slot)] = count;
                scratch.touchedRepeats.push_back(slot);
                for (int i = 0; i < count; ++i) {
                    for (const Answer& child : a.instances[size_t(i)]) {
                        if (child.isRepeat) continue;  // nested repeats do not exist in templates
                        int cs = t.indexOf(child.questionId);
                        if (cs < 0) continue;
                        const Question& cq = t.questions[size_t(cs)];
                        if (cq.repeat != slot || !cq.hasValue()) continue;
                        auto& column = scratch.perInstance[size_t(cs)];
                        if (column.empty()) {
                            scratch.touched.push_back(cs);
                            column.assign(size_t(count), nullptr);
                        }
                        if (column.size() == size_t(count) && kindFits(fieldType(cq), child.value.kind()))
                            column[size_t(i)] = &child.value;
                    }
                }
                continue;
            }
            if (!q.hasValue() || scratch.top[size_t(slot)]) continue;
            if (!kindFits(fieldType(q), a.value.kind())) continue;  // wrong type: missing
            scratch.top[size_t(slot)] = &a.value;
            scratch.touched.push_back(slot);
        }
    }

    // The visit's day: the template's visit-date question when answered, else the day the
    // record was made (floor division, so times before 1970 still land on their own day).
    int64_t day = record.createdAt >= 0 ? record.createdAt / 86400 : -((-record.createdAt + 86399) / 86400);
    const ReportDesign& design = t.report;
    if (design.dateQuestion >= 0 && size_t(design.dateQuestion) < scratch.top.size()) {
        const Value* v = scratch.top[size_t(design.dateQuestion)];
        if (v && v->kind() == ValueKind::Date) day = v->asDate().days;
    }
    out.visitDay = day;

    // A record of another template is not a visit of this survey: none of its answers is
    // read, and rather than let expressions that hold on an empty record (a count of 0, a
    // comparison that is false) put it in some domains, it counts as a visit that gave
    // nothing -- no response, every indicator missing.
    if (!sameTemplate) {
        out.responded = false;
        return out;
    }

    RecordContext ctx(scratch, Date{int32_t(day)});
    if (design.stratum.present()) {
        Value s = design.stratum.program.evaluate(ctx);
        if (!s.isMissing()) out.stratum = s.toString();
    }
    if (design.responded.present()) out.responded = design.responded.program.evaluate(ctx).truthy();
    if (design.officerQuestion >= 0 && size_t(design.officerQuestion) < scratch.top.size()) {
        const Value* v = scratch.top[size_t(design.officerQuestion)];
        if (v && !v->isMissing()) out.officer = v->toString();
    }

    for (size_t i = 0; i < t.indicators.size(); ++i) {
        const Indicator& ind = t.indicators[i];
        Observation& o = out.values[i];
        if (ind.domain.present() && !ind.domain.program.evaluate(ctx).truthy()) continue;
        if (!ind.numerator.present()) continue;
        Value num = ind.numerator.program.evaluate(ctx);
        switch (ind.kind) {
            case IndicatorKind::Share:
                if (num.isMissing()) break;
                o = {true, 1.0, num.truthy() ? 1.0 : 0.0};
                break;
            case IndicatorKind::Mean:
            case IndicatorKind::Median:
            case IndicatorKind::Total:
                if (auto y = figure(num)) o = {true, 1.0, *y};
                break;
            case IndicatorKind::Ratio: {
                auto y = figure(num);
                if (!y || !ind.denominator.present()) break;
                if (auto x = figure(ind.denominator.program.evaluate(ctx))) o = {true, *x, *y};
                break;
            }
        }
    }
    return out;
}

}  // namespace ck::report
