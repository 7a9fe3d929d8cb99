// The form session keeps derived state consistent and recomputes only what depends on a change.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/form/answers_json.h"
#include "core/form/form_session.h"
#include "core/form/interpolate.h"
#include "core/template/template_loader.h"

using namespace ck;
using nlohmann::json;

namespace {

std::shared_ptr<const Template> miniTemplate() {
    static std::shared_ptr<const Template> t = [] {
        auto r = loadTemplateJson(R"JSON({
          "id": "mini", "version": "1", "languages": ["en", "hi"],
          "title": {"en": "Mini", "hi": "लघु"},
          "choices": {
            "yes_no": [{"name": "yes", "label": {"en": "Yes", "hi": "हाँ"}},
                       {"name": "no", "label": {"en": "No", "hi": "नहीं"}}],
            "segment": [{"name": "knitting", "label": {"en": "Knitting", "hi": "बुनाई"}, "properties": {"sector": "textile"}},
                        {"name": "casting", "label": {"en": "Casting", "hi": "ढलाई"}, "properties": {"sector": "metal"}}],
            "sector": [{"name": "textile", "label": {"en": "Textile", "hi": "वस्त्र"}},
                       {"name": "metal", "label": {"en": "Metal", "hi": "धातु"}}],
            "certs": [{"name": "iso9001", "label": {"en": "ISO 9001", "hi": "आईएसओ 9001"}},
                      {"name": "oeko_tex", "label": {"en": "OEKO-TEX", "hi": "ओको-टेक्स"}}],
            "obstacle": [{"name": "0", "label": {"en": "None", "hi": "कोई नहीं"}},
                         {"name": "3", "label": {"en": "Major", "hi": "बड़ी"}}]
          },
          "sections": [
            {"id": "consent_s", "label": {"en": "Consent", "hi": "सहमति"}, "questions": [
              {"id": "intro", "type": "note", "label": {"en": "Read out", "hi": "पढ़ें"}},
              {"id": "consent", "type": "select_one", "choices": "yes_no", "required": true, "allow_dont_know": false,
               "label": {"en": "Consent?", "hi": "सहमति?"}},
              {"id": "refusal_reason", "type": "text", "relevant": "${consent} = 'no'", "required": true,
               "label": {"en": "Why?", "hi": "क्यों?"}}
            ]},
            {"id": "unit", "label": {"en": "Unit", "hi": "इकाई"}, "relevant": "${consent} = 'yes'", "questions": [
              {"id": "visit_date", "type": "date", "label": {"en": "Date", "hi": "तारीख"},
               "constraint": ". <= today()", "constraint_message": {"en": "Not in the future", "hi": "भविष्य नहीं"}},
              {"id": "workers", "type": "integer", "required": true, "label": {"en": "Workers", "hi": "कामगार"},
               "constraint": ". >= 0", "constraint_message": {"en": "Not negative", "hi": "ऋणात्मक नहीं"}},
              {"id": "women", "type": "integer", "label": {"en": "Women", "hi": "महिलाएँ"},
               "constraint": ". <= ${workers}", "constraint_message": {"en": "At most all workers", "hi": "कुल से अधिक नहीं"}},
              {"id": "women_share", "type": "calculate", "calculation": "round(100 * ${women} div ${workers}, 1)"},
              {"id": "sector", "type": "select_one", "choices": "sector", "label": {"en": "Sector", "hi": "क्षेत्र"}},
              {"id": "segment", "type": "select_one", "choices": "segment", "choice_filter": "sector = ${sector}",
               "label": {"en": "Segment", "hi": "खंड"}},
              {"id": "certs", "type": "select_multiple", "choices": "certs", "label": {"en": "Certificates", "hi": "प्रमाणपत्र"}},
              {"id": "cert_count", "type": "calculate", "calculation": "count-selected(${certs})"},
              {"id": "power", "type": "scale", "choices": "obstacle", "label": {"en": "Power", "hi": "बिजली"}},
              {"id": "gps", "type": "gps", "pii": true, "label": {"en": "Location", "hi": "स्थान"}},
              {"id": "lines", "type": "repeat", "label": {"en": "Product lines", "hi": "उत्पाद"}, "questions": [
                {"id": "line_name", "type": "text", "label": {"en": "Product", "hi": "उत्पाद"}},
                {"id": "line_sales", "type": "money", "label": {"en": "Sales", "hi": "बिक्री"}},
                {"id": "line_export", "type": "percent", "relevant": "${line_sales} > 0",
                 "label": {"en": "Exported %", "hi": "निर्यात %"}},
                {"id": "line_share", "type": "calculate", "calculation": "${line_sales} div ${total_sales}"}
              ]},
              {"id": "line_count", "type": "calculate", "calculation": "count(${lines})"},
              {"id": "total_sales", "type": "calculate", "calculation": "sum(${line_sales})"},
              {"id": "big_exporter", "type": "calculate", "calculation": "max(${line_export}) >= 50"}
            ]}
          ]
        })JSON", "mini.json");
        for (const auto& e : r.errors) INFO(e.toString());
        REQUIRE(r.ok());
        return r.survey;
    }();
    return t;
}

int idx(const FormSession& s, const char* id) {
    int i = s.survey().indexOf(id);
    REQUIRE(i >= 0);
    return i;
}

void set(FormSession& s, const char* id, Value v, int instance = 0) {
    auto r = s.setAnswer(id, std::move(v), instance);
    INFO(r.message);
    REQUIRE(r.ok());
}

}  // namespace

TEST_CASE("relevance follows consent and excludes answers from the record", "[core][form]") {
    FormSession s(miniTemplate());
    CHECK(s.isRelevant(idx(s, "consent")));
    CHECK_FALSE(s.isRelevant(idx(s, "refusal_reason")));
    set(s, "consent", Value::text("yes"));
    set(s, "workers", Value::number(10));
    CHECK(s.isRelevant(idx(s, "workers")));
    CHECK(s.value(idx(s, "workers")) == Value::number(10));

    set(s, "consent", Value::text("no"));
    CHECK_FALSE(s.isRelevant(idx(s, "workers")));
    CHECK(s.value(idx(s, "workers")).isEmpty());
    CHECK(s.answer(idx(s, "workers")) == Value::number(10));  // kept, in case consent flips back
    CHECK(s.isRelevant(idx(s, "refusal_reason")));
    Record r = s.toRecord();
    CHECK(r.find("workers") == nullptr);
    REQUIRE(r.find("consent"));
    CHECK(r.find("consent")->value == Value::text("no"));

    set(s, "consent", Value::text("yes"));
    CHECK(s.value(idx(s, "workers")) == Value::number(10));
}

TEST_CASE("calculations update through the graph", "[core][form]") {
    FormSession s(miniTemplate());
    set(s, "consent", Value::text("yes"));
    set(s, "workers", Value::number(40));
    set(s, "women", Value::number(10));
    CHECK(s.value(idx(s, "women_share")) == Value::number(25));
    set(s, "workers", Value::number(30));
    CHECK(s.value(idx(s, "women_share")) == Value::number(33.3));
    set(s, "workers", Value::dontKnow());
    CHECK(s.value(idx(s, "women_share")).isEmpty());
    set(s, "certs", Value::choices({"oeko_tex", "iso9001"}));
    CHECK(s.value(idx(s, "cert_count")) == Value::number(2));
    // Stored in list order, whatever order they were picked in.
    CHECK(s.answer(idx(s, "certs")) == Value::choices({"iso9001", "oeko_tex"}));
}

TEST_CASE("constraints, required and don't know", "[core][form]") {
    FormSession s(miniTemplate());
    set(s, "consent", Value::text("yes"));
    set(s, "workers", Value::number(5));
    set(s, "women", Value::number(9));
    CHECK_FALSE(s.constraintHolds(idx(s, "women")));
    auto problems = s.validate(0);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].questionId == "women");
    CHECK(problems[0].kind == ProblemKind::Constraint);
    CHECK(problems[0].message == "At most all workers");
    CHECK(s.validate(1)[0].message == "कुल से अधिक नहीं");
    // One item's problems (what Next checks): the same words, and none for another item.
    Position women = s.find("women");
    REQUIRE(s.problemsAt(women, 0).size() == 1);
    CHECK(s.problemsAt(women, 0)[0].kind == ProblemKind::Constraint);
    CHECK(s.problemsAt(women, 1)[0].message == "कुल से अधिक नहीं");
    CHECK(s.problemsAt(s.find("workers"), 0).empty());
    CHECK(s.problemsAt(Position{}, 0).empty());
    // Changing what the constraint reads re-checks it.
    set(s, "workers", Value::number(12));
    CHECK(s.constraintHolds(idx(s, "women")));
    // "Don't know" answers a required question and is not checked by a constraint; but a
    // constraint comparing with it is false (FORMAT.md), so women is flagged until cleared.
    set(s, "workers", Value::dontKnow());
    auto flagged = s.validate(0);
    REQUIRE(flagged.size() == 1);
    CHECK(flagged[0].questionId == "women");
    set(s, "women", Value());
    CHECK(s.validate(0).empty());
    set(s, "workers", Value());
    auto open = s.validate(0);
    REQUIRE(open.size() == 1);
    CHECK(open[0].kind == ProblemKind::Required);
    CHECK(open[0].message == "This question needs an answer");
    REQUIRE(s.problemsAt(s.find("workers"), 0).size() == 1);
    CHECK(s.problemsAt(s.find("workers"), 0)[0].kind == ProblemKind::Required);
    CHECK(s.validate(1)[0].message == "इस प्रश्न का उत्तर आवश्यक है");
}

TEST_CASE("answers of the wrong kind are refused with a reason", "[core][form]") {
    FormSession s(miniTemplate());
    CHECK(s.setAnswer("consent", Value::dontKnow()).status == AnswerStatus::DontKnowNotAllowed);
    CHECK(s.setAnswer("consent", Value::text("perhaps")).status == AnswerStatus::NotAChoice);
    CHECK(s.setAnswer("workers", Value::text("ten")).status == AnswerStatus::WrongType);
    CHECK(s.setAnswer("workers", Value::number(2.5)).status == AnswerStatus::WrongType);
    CHECK(s.setAnswer("certs", Value::choices({"iso14001"})).status == AnswerStatus::NotAChoice);
    CHECK(s.setAnswer("power", Value::number(2)).status == AnswerStatus::NotAChoice);
    // A NaN and a tiny fraction print as "0", a point of this scale: neither is that point.
    CHECK(s.setAnswer("power", Value::number(std::nan(""))).status == AnswerStatus::NotAChoice);
    CHECK(s.setAnswer("power", Value::number(1e-9)).status == AnswerStatus::NotAChoice);
    CHECK(s.setAnswer("power", Value::number(0)).ok());
    CHECK(s.setAnswer("power", Value::number(3)).ok());
    CHECK(s.setAnswer("gps", Value::geo({95, 0, 0})).status == AnswerStatus::OutOfRange);
    CHECK(s.setAnswer("women_share", Value::number(1)).status == AnswerStatus::NotAnswerable);
    CHECK(s.setAnswer("intro", Value::text("x")).status == AnswerStatus::NotAnswerable);
    CHECK(s.setAnswer("nothing", Value::number(1)).status == AnswerStatus::UnknownQuestion);
    CHECK(s.setAnswer("line_sales", Value::number(1), 0).status == AnswerStatus::NoSuchInstance);
    auto r = s.setAnswer("workers", Value::text("ten"));
    CHECK_THAT(r.message, Catch::Contains("workers"));
    // Nothing refused was stored.
    CHECK(s.answer(idx(s, "workers")).isEmpty());
    CHECK(s.answer(idx(s, "consent")).isEmpty());
}

TEST_CASE("a choice filter narrows the choices and flags a stale answer", "[core][form]") {
    FormSession s(miniTemplate());
    set(s, "consent", Value::text("yes"));
    set(s, "sector", Value::text("textile"));
    CHECK(s.availableChoices(idx(s, "segment")) == std::vector<int>{0});
    set(s, "segment", Value::text("knitting"));
    CHECK(s.validate().empty() == false);  // workers is still required
    set(s, "workers", Value::number(3));
    CHECK(s.validate().empty());
    set(s, "sector", Value::text("metal"));
    CHECK(s.availableChoices(idx(s, "segment")) == std::vector<int>{1});
    auto problems = s.validate();
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].questionId == "segment");
    CHECK(problems[0].kind == ProblemKind::NotAvailableChoice);
}

TEST_CASE("repeats: instances, sibling reads and aggregates", "[core][form]") {
    FormSession s(miniTemplate());
    set(s, "consent", Value::text("yes"));
    int lines = idx(s, "lines");
    int a = s.addInstance(lines);
    int b = s.addInstance(lines);
    CHECK(s.value(idx(s, "line_count")) == Value::number(2));
    set(s, "line_sales", Value::number(300), a);
    set(s, "line_sales", Value::number(100), b);
    CHECK(s.value(idx(s, "total_sales")) == Value::number(400));
    CHECK(s.value(idx(s, "line_share"), a) == Value::number(0.75));
    CHECK(s.value(idx(s, "line_share"), b) == Value::number(0.25));
    CHECK(s.isRelevant(idx(s, "line_export"), a));
    set(s, "line_sales", Value::number(0), b);
    CHECK_FALSE(s.isRelevant(idx(s, "line_export"), b));
    set(s, "line_export", Value::number(60), a);
    CHECK(s.value(idx(s, "big_exporter")) == Value::boolean(true));

    REQUIRE(s.removeInstance(lines, a));
    CHECK(s.instanceCount(lines) == 1);
    CHECK(s.value(idx(s, "total_sales")) == Value::number(0));
    CHECK(s.value(idx(s, "line_count")) == Value::number(1));
    CHECK(s.value(idx(s, "big_exporter")) == Value::boolean(false));
    CHECK_FALSE(s.removeInstance(lines, 5));
    CHECK_FALSE(s.removeInstance(idx(s, "workers"), 0));
}

TEST_CASE("one change recomputes only what depends on it", "[core][form]") {
    FormSession s(miniTemplate());
    set(s, "consent", Value::text("yes"));
    int lines = idx(s, "lines");
    for (int i = 0; i < 100; ++i) s.addInstance(lines);
    for (int i = 0; i < 100; ++i) set(s, "line_sales", Value::number(10), i);

    // workers feeds women_share, women's constraint and nothing in the repeat.
    uint64_t before = s.evaluationCount();
    set(s, "workers", Value::number(7));
    uint64_t cost = s.evaluationCount() - before;
    CHECK(cost >= 2);
    CHECK(cost <= 4);

    // One line's sales: its own export relevance and share, the total, and, because the
    // total changed, every instance's share (which reads it): about 100, never 100 x 4.
    before = s.evaluationCount();
    set(s, "line_sales", Value::number(20), 42);
    cost = s.evaluationCount() - before;
    CHECK(cost >= 100);
    CHECK(cost <= 110);

    // A line's name feeds nothing at all.
    before = s.evaluationCount();
    set(s, "line_name", Value::text("socks"), 3);
    CHECK(s.evaluationCount() == before);
}

TEST_CASE("navigation walks relevant questions and expands repeats", "[core][form]") {
    FormSession s(miniTemplate());
    Position p = s.first();
    REQUIRE(p.valid());
    CHECK(s.survey().questions[size_t(p.question)].id == "intro");
    p = s.next(p);
    CHECK(s.survey().questions[size_t(p.question)].id == "consent");
    // Without consent the unit section is not relevant: refusal_reason is not either, so
    // consent is the last item.
    CHECK_FALSE(s.next(p).valid());
    set(s, "consent", Value::text("yes"));
    Position n = s.next(p);
    CHECK(s.survey().questions[size_t(n.question)].id == "visit_date");
    CHECK(s.previous(n) == p);
    int lines = idx(s, "lines");
    s.addInstance(lines);
    s.addInstance(lines);
    Position second = s.find("line_name", 1);
    REQUIRE(second.valid());
    Position after = s.next(second);
    CHECK(after.question == idx(s, "line_sales"));
    CHECK(after.instance == 1);
    CHECK_FALSE(s.find("line_name", 2).valid());
    CHECK_FALSE(s.find("nothing").valid());
}

TEST_CASE("progress counts relevant answerable questions", "[core][form]") {
    FormSession s(miniTemplate());
    Progress p = s.progress();
    CHECK(p.total == 1);  // consent only
    CHECK(p.answered == 0);
    set(s, "consent", Value::text("yes"));
    p = s.progress();
    CHECK(p.answered == 1);
    CHECK(p.total == 9);  // consent + 8 unit questions (no repeat instance yet)
    set(s, "workers", Value::refused());
    CHECK(s.progress().answered == 2);
    CHECK(s.sectionProgress(idx(s, "unit")).answered == 1);
    CHECK(s.sectionProgress(idx(s, "unit")).total == 8);
}

TEST_CASE("today() drives date constraints", "[core][form]") {
    FormSession s(miniTemplate());
    s.setToday(*parseIsoDate("2026-11-23"));
    set(s, "consent", Value::text("yes"));
    set(s, "visit_date", Value::date(*parseIsoDate("2026-11-24")));
    CHECK_FALSE(s.constraintHolds(idx(s, "visit_date")));
    s.setToday(*parseIsoDate("2026-11-25"));
    CHECK(s.constraintHolds(idx(s, "visit_date")));
}

TEST_CASE("a record restores into a new session exactly, from the record or from its bytes", "[core][form]") {
    FormSession s(miniTemplate());
    set(s, "consent", Value::text("yes"));
    set(s, "workers", Value::number(12));
    set(s, "women", Value::dontKnow());
    set(s, "gps", Value::geo({11.1, 77.3, 8}));
    set(s, "certs", Value::choices({"iso9001"}));
    int lines = idx(s, "lines");
    s.addInstance(lines);
    s.addInstance(lines);
    set(s, "line_sales", Value::number(500), 0);
    set(s, "line_name", Value::text("vests"), 0);
    set(s, "line_sales", Value::number(300), 1);
    s.setAssignment("token-of-unit-7");
    Record r = s.toRecord();

    FormSession t(miniTemplate());
    auto problems = t.restore(r);
    CHECK(problems.empty());
    CHECK(t.recordId() == s.recordId());
    CHECK(t.toRecord() == r);
    CHECK(t.value(idx(t, "total_sales")) == Value::number(800));

    // The aggregator reads each visit's answers from the opened bytes straight into the session.
    const std::string bytes = serializeRecord(r);
    FormSession fromBytes(miniTemplate());
    CHECK(fromBytes.restore(std::string_view(bytes)).empty());
    CHECK(fromBytes.toRecord() == r);
    CHECK(fromBytes.assignment() == "token-of-unit-7");
    CHECK(fromBytes.instanceCount(lines) == 2);
    CHECK(fromBytes.value(idx(fromBytes, "total_sales")) == Value::number(800));
    CHECK(fromBytes.toRecordBytes("", false) == bytes);
    // An answer the template refuses is named, as from a record; the rest are taken.
    Record bad = r;
    for (auto& a : bad.answers)
        if (a.questionId == "workers") a.value = Value::text("many");
    auto refused = fromBytes.restore(std::string_view(serializeRecord(bad)));
    REQUIRE(refused.size() == 1);
    CHECK_THAT(refused[0], Catch::Contains("workers"));
    CHECK(fromBytes.answer(idx(fromBytes, "women")) == Value::dontKnow());
    // Cut short, or not a record at all: one problem saying why, never a crash.
    auto cut = fromBytes.restore(std::string_view(bytes).substr(0, bytes.size() / 2));
    REQUIRE(cut.size() == 1);
    CHECK_THAT(cut[0], Catch::Contains("truncated or corrupt"));
    auto junk = fromBytes.restore(std::string_view("not a record"));
    REQUIRE(junk.size() == 1);
    CHECK_FALSE(junk[0].empty());
}

TEST_CASE("a record restores the same in any answer order, moved or copied", "[core][form]") {
    // restore() looks for each answer's question just after the previous one first (records
    // list answers in document order); answers in any other order, a repeat's children after
    // it, and a selection out of list order or with a name twice must come out the same.
    FormSession s(miniTemplate());
    set(s, "consent", Value::text("yes"));
    set(s, "workers", Value::number(12));
    set(s, "women", Value::number(5));
    set(s, "sector", Value::text("textile"));
    set(s, "certs", Value::choices({"iso9001", "oeko_tex"}));
    set(s, "power", Value::number(3));
    int lines = idx(s, "lines");
    s.addInstance(lines);
    s.addInstance(lines);
    set(s, "line_name", Value::text("vests"), 0);
    set(s, "line_sales", Value::number(500), 0);
    set(s, "line_export", Value::number(60), 0);
    set(s, "line_sales", Value::number(300), 1);
    Record r = s.toRecord();

    Record reversed = r;
    std::reverse(reversed.answers.begin(), reversed.answers.end());
    for (auto& a : reversed.answers)
        for (auto& inst : a.instances) std::reverse(inst.begin(), inst.end());
    for (auto& a : reversed.answers)
        if (a.questionId == "certs") a.value = Value::choices({"oeko_tex", "iso9001", "oeko_tex"});

    FormSession copied(miniTemplate()), moved(miniTemplate()), shuffled(miniTemplate());
    CHECK(copied.restore(r).empty());
    CHECK(shuffled.restore(reversed).empty());
    Record consumed = r;
    CHECK(moved.restore(std::move(consumed)).empty());
    CHECK(consumed.id == r.id);  // the header stays with the caller
    for (FormSession* t : {&copied, &moved, &shuffled}) {
        CHECK(t->toRecord() == r);
        CHECK(t->toRecordBytes("", true) == s.toRecordBytes("", true));
        CHECK(t->value(idx(*t, "total_sales")) == Value::number(800));
        CHECK(t->value(idx(*t, "cert_count")) == Value::number(2));
    }
    CHECK(shuffled.answer(idx(shuffled, "certs")) == Value::choices({"iso9001", "oeko_tex"}));

    // A name that is no choice is still refused, wherever it stands in the selection.
    Record bad = r;
    for (auto& a : bad.answers)
        if (a.questionId == "certs") a.value = Value::choices({"iso9001", "bis", "oeko_tex"});
    FormSession b(miniTemplate());
    auto problems = b.restore(std::move(bad));
    REQUIRE(problems.size() == 1);
    CHECK_THAT(problems[0], Catch::Contains("bis"));
}

TEST_CASE("a session that held one visit restores the next as a new session would", "[core][form]") {
    // The aggregator restores every visit it receives into one reused session: nothing of the
    // visit before (answers, repeat instances, calculations, relevance) may carry over.
    FormSession first(miniTemplate());
    set(first, "consent", Value::text("yes"));
    set(first, "workers", Value::number(40));
    set(first, "women", Value::number(30));
    set(first, "certs", Value::choices({"iso9001", "oeko_tex"}));
    int lines = idx(first, "lines");
    first.addInstance(lines);
    first.addInstance(lines);
    set(first, "line_sales", Value::number(700), 0);
    set(first, "line_sales", Value::number(200), 1);

    FormSession second(miniTemplate());
    set(second, "consent", Value::text("yes"));
    set(second, "workers", Value::number(12));
    second.addInstance(lines);
    set(second, "line_sales", Value::number(50), 0);
    const Record r2 = second.toRecord();

    FormSession reused(miniTemplate());
    REQUIRE(reused.restore(first.toRecord()).empty());
    REQUIRE(reused.instanceCount(lines) == 2);
    REQUIRE(reused.value(idx(reused, "total_sales")) == Value::number(900));
    CHECK(reused.restore(r2).empty());
    CHECK(reused.toRecord() == r2);
    CHECK(reused.instanceCount(lines) == 1);
    CHECK(reused.answer(idx(reused, "women")).isEmpty());
    CHECK(reused.answer(idx(reused, "certs")).isEmpty());
    CHECK(reused.value(idx(reused, "total_sales")) == Value::number(50));
    CHECK(reused.toRecordBytes("", true) == second.toRecordBytes("", true));

    // A visit whose consent hides the unit section: what the visit before answered there is
    // neither kept nor relevant.
    FormSession refused(miniTemplate());
    set(refused, "consent", Value::text("no"));
    CHECK(reused.restore(refused.toRecord()).empty());
    CHECK(reused.toRecord() == refused.toRecord());
    CHECK_FALSE(reused.isRelevant(idx(reused, "workers")));
    CHECK(reused.instanceCount(lines) == 0);
}

TEST_CASE("restoring a record of another template reports what it could not take", "[core][form]") {
    Record r;
    r.id = "r1";
    r.templateId = "other";
    r.answers.push_back({"workers", Value::text("many"), false, {}});
    r.answers.push_back({"ghost", Value::number(1), false, {}});
    FormSession s(miniTemplate());
    auto problems = s.restore(r);
    REQUIRE(problems.size() == 3);
    CHECK_THAT(problems[0], Catch::Contains("template 'other'"));
    CHECK_THAT(problems[1], Catch::Contains("workers"));
    CHECK_THAT(problems[2], Catch::Contains("ghost"));
}

TEST_CASE("answers from JSON, and every problem named", "[core][form]") {
    FormSession s(miniTemplate());
    auto problems = applyAnswersJson(s, json::parse(R"({
        "consent": "yes", "workers": 12, "women": {"dont_know": true}, "visit_date": "2026-01-05",
        "certs": ["iso9001"], "gps": {"lat": 11.1, "lon": 77.3, "accuracy": 5},
        "lines": [{"line_name": "vests", "line_sales": 100}, {"line_sales": 50}]
    })"));
    CHECK(problems.empty());
    CHECK(s.instanceCount(idx(s, "lines")) == 2);
    CHECK(s.value(idx(s, "total_sales")) == Value::number(150));
    CHECK(s.answer(idx(s, "women")) == Value::dontKnow());
    REQUIRE(s.answer(idx(s, "gps")).asGeo().accuracyMetres);
    CHECK(*s.answer(idx(s, "gps")).asGeo().accuracyMetres == 5);
    // A GPS answer without an accuracy (or with null) keeps it unknown, not 0 m.
    CHECK(applyAnswersJson(s, json::parse(R"({"gps": {"lat": 11.1, "lon": 77.3}})")).empty());
    CHECK_FALSE(s.answer(idx(s, "gps")).asGeo().accuracyMetres.has_value());
    CHECK(applyAnswersJson(s, json::parse(R"({"gps": {"lat": 11.1, "lon": 77.3, "accuracy": null}})")).empty());
    CHECK_FALSE(s.answer(idx(s, "gps")).asGeo().accuracyMetres.has_value());
    CHECK(s.setAnswer("gps", Value::geo({11.1, 77.3, -4.0})).status == AnswerStatus::OutOfRange);

    FormSession bad(miniTemplate());
    auto errors = applyAnswersJson(bad, json::parse(R"({
        "consent": "maybe", "workers": "twelve", "visit_date": "2026-13-40", "ghost": 1,
        "line_sales": 5, "lines": {"line_sales": 1}
    })"));
    REQUIRE(errors.size() == 6);
    std::string all;
    for (const auto& e : errors) all += e.message + "\n";
    CHECK_THAT(all, Catch::Contains("consent") && Catch::Contains("workers") && Catch::Contains("visit_date") &&
                        Catch::Contains("ghost") && Catch::Contains("line_sales") && Catch::Contains("lines"));
    CHECK(errors[0].questionId == "consent");
    CHECK(applyAnswersJson(bad, json::array()).size() == 1);
}

TEST_CASE("a draft record keeps answers a gate hides, the finished record does not", "[core][form]") {
    FormSession s(miniTemplate());
    set(s, "consent", Value::text("yes"));
    set(s, "workers", Value::number(12));
    int lines = idx(s, "lines");
    s.addInstance(lines);
    set(s, "line_sales", Value::number(0), 0);
    set(s, "consent", Value::text("no"));  // a mistaken tap hides the whole unit section

    Record finished = s.toRecord();
    CHECK(finished.find("workers") == nullptr);
    Record draft = s.toDraftRecord();
    REQUIRE(draft.find("workers"));
    CHECK(draft.find("workers")->value == Value::number(12));
    CHECK(draft.find("total_sales") == nullptr);  // calculations are recomputed, not stored

    FormSession resumed(miniTemplate());
    CHECK(resumed.restore(draft).empty());
    set(resumed, "consent", Value::text("yes"));
    CHECK(resumed.value(idx(resumed, "workers")) == Value::number(12));
    CHECK(resumed.instanceCount(lines) == 1);
    CHECK(resumed.value(idx(resumed, "total_sales")) == Value::number(0));
}

TEST_CASE("${field} in labels, hints and messages shows the visit's answers", "[core][form]") {
    auto r = loadTemplateJson(R"JSON({
      "id": "interp", "version": "1", "languages": ["en", "hi"], "title": {"en": "I", "hi": "I"},
      "choices": {"kind": [{"name": "knit", "label": {"en": "Knitting", "hi": "बुनाई"}},
                           {"name": "dye", "label": {"en": "Dyeing", "hi": "रंगाई"}}]},
      "sections": [{"id": "s", "label": {"en": "S", "hi": "S"}, "questions": [
        {"id": "shop", "type": "text", "label": {"en": "Shop", "hi": "दुकान"}},
        {"id": "kinds", "type": "select_multiple", "choices": "kind", "label": {"en": "Kinds", "hi": "प्रकार"}},
        {"id": "main", "type": "select_one", "choices": "kind", "label": {"en": "Main", "hi": "मुख्य"}},
        {"id": "workers", "type": "integer", "label": {"en": "Workers at ${shop} (${main})", "hi": "${shop} में कामगार"},
         "hint": {"en": "Kinds: ${kinds}", "hi": "प्रकार: ${kinds}"},
         "constraint": ". <= 10", "constraint_message": {"en": "At most 10 at ${shop}", "hi": "${shop}: 10 तक"}},
        {"id": "staff", "type": "repeat", "label": {"en": "Staff", "hi": "कर्मचारी"}, "questions": [
          {"id": "person", "type": "text", "label": {"en": "Name", "hi": "नाम"}},
          {"id": "age", "type": "integer", "label": {"en": "Age of ${person} at ${shop}", "hi": "${person} की उम्र"}}]},
        {"id": "last", "type": "note", "label": {"en": "Last: ${person}", "hi": "अंतिम"}}
      ]}]})JSON", "interp.json");
    for (const auto& e : r.errors) INFO(e.toString());
    REQUIRE(r.ok());
    const Template& t = *r.survey;
    FormSession s(r.survey);
    const Position workers{t.indexOf("workers"), 0};
    const Question& w = t.questions[size_t(workers.question)];
    // Unanswered: nothing where the answer goes.
    CHECK(interpolate(s, w.label.in(0), workers, 0) == "Workers at  ()");
    REQUIRE(s.setAnswer("shop", Value::text("Velavan")).ok());
    REQUIRE(s.setAnswer("main", Value::text("dye")).ok());
    REQUIRE(s.setAnswer("kinds", Value::choices({"knit", "dye"})).ok());
    CHECK(interpolate(s, w.label.in(0), workers, 0) == "Workers at Velavan (Dyeing)");
    CHECK(interpolate(s, w.label.in(1), workers, 1) == "Velavan में कामगार");
    CHECK(interpolate(s, w.hint.in(0), workers, 0) == "Kinds: Knitting, Dyeing");
    CHECK(interpolate(s, "${nosuch} stays", workers, 0) == "${nosuch} stays");
    CHECK(interpolate(s, w.hint.in(1), workers, 1) == "प्रकार: बुनाई, रंगाई");
    CHECK(interpolate(s, "${unclosed", workers, 0) == "${unclosed");

    // Inside a repeat, the same row; outside it, a row cannot be told and the text stays.
    const int staff = t.indexOf("staff");
    s.addInstance(staff);
    s.addInstance(staff);
    REQUIRE(s.setAnswer("person", Value::text("Asha"), 0).ok());
    REQUIRE(s.setAnswer("person", Value::text("Ravi"), 1).ok());
    const Question& age = *t.find("age");
    CHECK(interpolate(s, age.label.in(0), Position{age.index, 1}, 0) == "Age of Ravi at Velavan");
    CHECK(interpolate(s, age.label.in(0), Position{age.index, 0}, 0) == "Age of Asha at Velavan");
    CHECK(interpolate(s, t.find("last")->label.in(0), Position{t.indexOf("last"), 0}, 0) == "Last: ${person}");

    // The review list (validate) shows the same texts.
    REQUIRE(s.setAnswer("workers", Value::number(12)).ok());
    auto problems = s.validate(0);
    auto it = std::find_if(problems.begin(), problems.end(), [](const Problem& p) { return p.questionId == "workers"; });
    REQUIRE(it != problems.end());
    CHECK(it->label == "Workers at Velavan (Dyeing)");
    CHECK(it->message == "At most 10 at Velavan");
    CHECK(s.validate(1)[0].message.find("Velavan") != std::string::npos);
}
