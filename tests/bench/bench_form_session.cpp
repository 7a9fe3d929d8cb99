// Benchmark: the flagship template's load time and the cost of one answer change in a visit
// with many repeat instances. Prints figures; asserts nothing (this machine is shared and
// noisy: read medians, not single runs).
//
//   bench_form_session [TEMPLATE.json] [--instances N] [--changes N] [--loads N]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/form/form_session.h"
#include "core/template/template_loader.h"

using namespace ck;
using Clock = std::chrono::steady_clock;

namespace {

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    size_t i = size_t(p * double(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

std::string cpuModel() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

long peakRssKiB() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

// A plausible answer for any answerable question, varied by `seed`.
Value answerFor(const FormSession& s, const Question& q, int instance, std::mt19937& rng) {
    std::uniform_int_distribution<int> pct(0, 100), small(1, 500);
    switch (q.type) {
        case QuestionType::Integer: return Value::number(small(rng));
        case QuestionType::Decimal:
        case QuestionType::Money: return Value::number(double(small(rng)) * 10000);
        case QuestionType::Percent: return Value::number(pct(rng));
        case QuestionType::Text: return Value::text("line " + std::to_string(small(rng)));
        case QuestionType::SelectOne: {
            auto choices = s.availableChoices(q.index, instance);
            if (choices.empty()) return {};
            return Value::text(s.survey().choicesOf(q)->names[size_t(choices[size_t(small(rng)) % choices.size()])]);
        }
        case QuestionType::Scale: return Value::number(std::stod(s.survey().choicesOf(q)->names.front()));
        default: return {};
    }
}

bool isNumeric(QuestionType t) {
    return t == QuestionType::Integer || t == QuestionType::Decimal || t == QuestionType::Money || t == QuestionType::Percent;
}

}  // namespace

int main(int argc, char** argv) {
    std::string path = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";
    int instances = 200, changes = 20000, loads = 20;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--instances" && i + 1 < argc) instances = std::stoi(argv[++i]);
        else if (a == "--changes" && i + 1 < argc) changes = std::stoi(argv[++i]);
        else if (a == "--loads" && i + 1 < argc) loads = std::stoi(argv[++i]);
        else path = a;
    }

    std::printf("machine: %s, %u hardware threads\n", cpuModel().c_str(), std::thread::hardware_concurrency());
    std::printf("template: %s\n", path.c_str());

    std::vector<double> loadMs;
    std::shared_ptr<const Template> t;
    for (int i = 0; i < loads; ++i) {
        auto start = Clock::now();
        auto r = loadTemplateJsonFile(path);
        loadMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        if (!r.ok()) {
            for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.toString().c_str());
            return 1;
        }
        t = r.survey;
    }
    int answerable = 0;
    for (const auto& q : t->questions) answerable += q.isAnswerable();
    std::printf("template load (parse + check + compile, %zu entries, %d answerable): median %.2f ms, max %.2f ms over %d loads\n",
                t->questions.size(), answerable, percentile(loadMs, 0.5), percentile(loadMs, 1.0), loads);

    // The repeat with the most answerable children stands in for product lines.
    int repeat = -1;
    size_t bestChildren = 0;
    for (const auto& q : t->questions)
        if (q.type == QuestionType::Repeat && q.children.size() > bestChildren) {
            repeat = q.index;
            bestChildren = q.children.size();
        }
    if (repeat < 0) {
        std::fprintf(stderr, "the template has no repeat group\n");
        return 1;
    }

    std::mt19937 rng(42);
    FormSession s(t);
    // Answer every top-level question plausibly, choosing 'yes' where a gate asks for it.
    for (const auto& q : t->questions) {
        if (!q.isAnswerable() || q.repeat >= 0) continue;
        Value v = answerFor(s, q, 0, rng);
        if (const ChoiceList* list = t->choicesOf(q); list && list->indexOf("yes") >= 0) v = Value::text("yes");
        if (!v.isEmpty()) (void)s.setAnswer(q.index, 0, v);
    }
    auto fillStart = Clock::now();
    for (int i = 0; i < instances; ++i) {
        int inst = s.addInstance(repeat);
        for (int child : t->questions[size_t(repeat)].children) {
            const Question& c = t->questions[size_t(child)];
            if (!c.isAnswerable()) continue;
            Value v = answerFor(s, c, inst, rng);
            if (!v.isEmpty()) (void)s.setAnswer(child, inst, v);
        }
    }
    double fillMs = std::chrono::duration<double, std::milli>(Clock::now() - fillStart).count();
    std::printf("filled repeat '%s' with %d instances in %.1f ms (%.1f us per instance, answers included)\n",
                t->questions[size_t(repeat)].id.c_str(), instances, fillMs, fillMs * 1000 / instances);

    // Changes: numeric answers inside random instances and at the top level, as an officer
    // correcting figures would make them.
    std::vector<int> repeatNumeric, topNumeric;
    for (int child : t->questions[size_t(repeat)].children)
        if (isNumeric(t->questions[size_t(child)].type)) repeatNumeric.push_back(child);
    for (const auto& q : t->questions)
        if (q.repeat < 0 && q.isAnswerable() && isNumeric(q.type)) topNumeric.push_back(q.index);
    std::vector<double> inRepeatUs, topUs;
    std::map<int, std::vector<double>> byQuestion;
    std::map<int, uint64_t> evaluationsByQuestion;
    std::uniform_int_distribution<int> pickInstance(0, instances - 1);
    for (int i = 0; i < changes; ++i) {
        bool top = (i % 4 == 3) && !topNumeric.empty();
        int q = top ? topNumeric[size_t(i) % topNumeric.size()] : repeatNumeric[size_t(i) % repeatNumeric.size()];
        int inst = top ? 0 : pickInstance(rng);
        Value v = answerFor(s, t->questions[size_t(q)], inst, rng);
        uint64_t evaluationsBefore = s.evaluationCount();
        auto start = Clock::now();
        auto r = s.setAnswer(q, inst, v);
        double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
        byQuestion[q].push_back(us);
        evaluationsByQuestion[q] += s.evaluationCount() - evaluationsBefore;
        if (!r.ok()) {
            std::fprintf(stderr, "change refused: %s\n", r.message.c_str());
            return 1;
        }
        (top ? topUs : inRepeatUs).push_back(us);
    }
    std::vector<double> all = inRepeatUs;
    all.insert(all.end(), topUs.begin(), topUs.end());
    std::printf("one answer change with %d instances (%d changes): median %.1f us, p99 %.1f us, max %.1f us\n", instances,
                changes, percentile(all, 0.5), percentile(all, 0.99), percentile(all, 1.0));
    std::printf("  inside the repeat: median %.1f us, p99 %.1f us; top level: median %.1f us, p99 %.1f us\n",
                percentile(inRepeatUs, 0.5), percentile(inRepeatUs, 0.99), topUs.empty() ? 0.0 : percentile(topUs, 0.5),
                topUs.empty() ? 0.0 : percentile(topUs, 0.99));
    std::printf("  per field changed (what depends on it decides the cost):\n");
    for (const auto& [q, times] : byQuestion) {
        if (t->questions[size_t(q)].repeat < 0 && times.size() < 50) continue;  // keep the list short
        std::printf("    %-28s %5zu changes: median %6.1f us, p99 %6.1f us, %.1f expression evaluations per change\n",
                    t->questions[size_t(q)].id.c_str(), times.size(), percentile(times, 0.5), percentile(times, 0.99),
                    double(evaluationsByQuestion[q]) / double(times.size()));
    }
    auto vstart = Clock::now();
    auto problems = s.validate();
    double validateMs = std::chrono::duration<double, std::milli>(Clock::now() - vstart).count();
    std::printf("validate() over the whole visit: %.2f ms (%zu open problems)\n", validateMs, problems.size());
    std::printf("peak memory (RSS): %.1f MiB\n", double(peakRssKiB()) / 1024.0);
    return 0;
}
