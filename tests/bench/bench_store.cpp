// Benchmark: the encrypted store as the field app uses it. Prints figures; asserts nothing.
//   autosave: one answer change on a visit of about 300 answers, encrypt + commit
//             (WAL, synchronous=FULL: what ships)
//   finalise: validate, serialise, seal to the aggregator, sign, queue (Argon2id excluded)
//   unlock:   Argon2id with the shipped parameters
//   size:     bytes of store file per finished visit; peak memory
//
//   bench_store [--saves N] [--visits N]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "app/store/store.h"
#include "core/form/answers_json.h"

using namespace ck;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double percentile(std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(size_t(p * double(v.size() - 1) + 0.5), v.size() - 1)];
}

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

uintmax_t storeBytes(const fs::path& file) {
    uintmax_t total = 0;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::error_code ec;
        auto n = fs::file_size(file.string() + suffix, ec);
        if (!ec) total += n;
    }
    return total;
}

int answerCount(const Record& r) {
    int n = 0;
    for (const auto& a : r.answers) {
        if (!a.isRepeat) ++n;
        for (const auto& inst : a.instances) n += int(inst.size());
    }
    return n;
}

// The knitwear visit plus product lines until the record holds about 300 answers.
FormSession fullVisit(Store& store, const nlohmann::json& answers) {
    auto started = store.startVisit("cluster-diagnostic");
    if (!started) throw std::runtime_error(started.message());
    FormSession s = std::move(started).value();
    s.setToday(*parseIsoDate("2026-11-23"));
    auto problems = applyAnswersJson(s, answers);
    if (!problems.empty()) throw std::runtime_error(problems.front().message);
    int lines = s.survey().indexOf("product_lines");
    while (answerCount(s.toRecord()) < 300) {
        int i = s.addInstance(lines);
        (void)s.setAnswer("product", Value::text("t_shirts"), i);
        (void)s.setAnswer("line_output_value", Value::number(1000000 + i), i);
        (void)s.setAnswer("line_export_share", Value::number(40), i);
        (void)s.setAnswer("line_capacity_util", Value::number(70), i);
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    int saves = 2000, visits = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--saves") saves = std::stoi(argv[i + 1]);
        else if (a == "--visits") visits = std::stoi(argv[i + 1]);
    }
    fs::path dir = fs::temp_directory_path() / ("ck-bench-store-" + std::to_string(getpid()));
    fs::create_directories(dir);
    fs::path file = dir / "officer.ckstore";
    const std::string passphrase = "tiruppur-knits-2026";
    std::printf("machine: %u hardware threads; store on %s\n", std::thread::hardware_concurrency(), dir.c_str());

    auto t0 = Clock::now();
    auto created = Store::create(file, passphrase, passphrase);  // the shipped Argon2id cost
    double createMs = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    if (!created) {
        std::fprintf(stderr, "%s\n", created.message().c_str());
        return 1;
    }
    Store store = std::move(created).value();
    std::printf("create (Argon2id, default cost): %.0f ms\n", createMs);

    std::vector<double> unlockMs;
    for (int i = 0; i < 5; ++i) {
        store.lock();
        auto start = Clock::now();
        if (!store.unlock(passphrase).ok()) return 1;
        unlockMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::printf("unlock (Argon2id, default cost): median %.0f ms over 5\n", percentile(unlockMs, 0.5));

    auto imported = store.importTemplate(readText(fs::path(CK_SOURCE_DIR) / "survey-templates/cluster-diagnostic.json"),
                                         "cluster-diagnostic.json");
    if (!imported) {
        std::fprintf(stderr, "%s\n", imported.message().c_str());
        return 1;
    }
    auto answers = nlohmann::json::parse(readText(fs::path(CK_TEST_DATA_DIR) / "answers/knitwear-complete.json"));
    auto aggregator = newBoxKeyPair();
    if (!store.setAggregatorKey(aggregator.publicKey).ok()) return 1;

    // Autosave: change one answer, save the whole visit.
    FormSession s = fullVisit(store, answers);
    int question = s.survey().indexOf("workers_perm_men_30plus");
    std::vector<double> saveMs;
    for (int i = 0; i < saves; ++i) {
        (void)s.setAnswer(question, 0, Value::number(10 + i % 50));
        auto start = Clock::now();
        auto r = store.saveDraft(s);
        saveMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        if (!r.ok()) {
            std::fprintf(stderr, "%s\n", r.message().c_str());
            return 1;
        }
    }
    std::printf("autosave, %d answers in the visit (%d saves): median %.2f ms, p99 %.2f ms, max %.2f ms\n",
                answerCount(s.toRecord()), saves, percentile(saveMs, 0.5), percentile(saveMs, 0.99),
                percentile(saveMs, 1.0));

    // Finalise many visits; the store size per finished visit follows.
    store.checkpoint();  // fold the autosaves' WAL in first, so only the visits below count
    uintmax_t before = storeBytes(file);
    std::vector<double> finaliseMs;
    for (int v = 0; v < visits; ++v) {
        FormSession visit = fullVisit(store, answers);
        if (!store.saveDraft(visit).ok()) return 1;
        auto start = Clock::now();
        auto receipt = store.finalise(visit.recordId(), visit);
        finaliseMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
        if (!receipt) {
            std::fprintf(stderr, "%s\n", receipt.message().c_str());
            return 1;
        }
    }
    std::printf("finalise (validate, serialise, seal, sign, queue; %d visits): median %.2f ms, p99 %.2f ms\n", visits,
                percentile(finaliseMs, 0.5), percentile(finaliseMs, 0.99));
    store.checkpoint();
    uintmax_t after = storeBytes(file);
    std::printf("store size per finished visit (%d answers: finished record + sealed envelope + outbox row): %.1f KiB\n",
                answerCount(store.loadVisit(store.listVisits().front().id).value()),
                double(after - std::min(after, before)) / 1024.0 / visits);
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    std::printf("peak memory (RSS): %.1f MiB\n", double(u.ru_maxrss) / 1024.0);
    fs::remove_all(dir);
    return 0;
}
