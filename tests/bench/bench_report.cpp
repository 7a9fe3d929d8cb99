// bench_report: the baseline report's figures at scale (issue 6, "Measured, not timed").
// Prints figures, not pass/fail:
//   (1) a full rebuild of every indicator from stored visits (BaselineService's constructor:
//       template, register, every visit decoded and evaluated): wall time and peak memory
//       (ru_maxrss) of the rebuild alone, in a child process (this program exec'd again with
//       --rebuild-child) so that nothing the parent did counts;
//   (2) the incremental update per ingested visit (BaselineService::visitStored), median and
//       p95, and the decoder and IndicatorEvaluator alone;
//   (3) one cluster's report from the accumulators (BaselineService::report + renderHtml),
//       median of repeated builds.
// The data: `ck-synth store` (decoded visits straight into a SQLite data folder), generated
// once into CK_BINARY_DIR/bench-data/report-V-C-S and reused while that folder exists.
//   bench_report [--visits N] [--clusters N] [--states N] [--threads N] [--updates N] [--reports N]
//                [--priority low|normal]
// --priority normal: the rebuild keeps the process's CPU priority instead of the service's
// nice 19 (BaselineOptions::lowPriority), for a machine shared with other work, where a
// rebuild at nice 19 waits for everything else and times that instead.
// Defaults: 1,000,000 visits across 1,000 clusters in 30 states. Try it small first:
//   bench_report --visits 20000 --clusters 40 --states 4
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/sealed_box.h"
#include "core/record/record.h"
#include "core/report/indicator_evaluator.h"
#include "core/template/template_loader.h"
#include "report/html_report.h"
#include "sync/aggregator/report/baseline_service.h"
#include "sync/aggregator/storage.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
    uint64_t visits = 1'000'000, clusters = 1000, states = 30;
    unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    uint64_t updates = 10'000, reports = 20;
    std::string child;  // --rebuild-child DIR
    bool lowPriority = true;
};

[[noreturn]] void usage(const std::string& why) {
    std::cerr << "bench_report: " << why
              << "\nusage: bench_report [--visits N] [--clusters N] [--states N] [--threads N] [--updates N] [--reports N]\n"
                 "       [--priority low|normal]\n";
    std::exit(2);
}

Args parseArgs(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        std::string k = argv[i];
        if (i + 1 >= argc) usage(k + " needs a value");
        std::string v = argv[++i];
        if (k == "--rebuild-child") {
            a.child = v;
            continue;
        }
        if (k == "--priority") {
            if (v != "low" && v != "normal") usage("--priority takes low or normal, not '" + v + "'");
            a.lowPriority = v == "low";
            continue;
        }
        char* end = nullptr;
        unsigned long long n = std::strtoull(v.c_str(), &end, 10);
        if (v.empty() || *end || n < 1) usage(k + " takes a whole number of at least 1, not '" + v + "'");
        if (k == "--visits") a.visits = n;
        else if (k == "--clusters") a.clusters = n;
        else if (k == "--states") a.states = n;
        else if (k == "--threads") a.threads = unsigned(n);
        else if (k == "--updates") a.updates = n;
        else if (k == "--reports") a.reports = n;
        else usage("unknown option " + k);
    }
    return a;
}

double seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double quantile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(q * double(v.size() - 1) + 0.5))];
}

long peakRssKb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;  // kilobytes on Linux
}

void printMachine() {
    std::string model = "unknown";
    std::ifstream cpu("/proc/cpuinfo");
    for (std::string line; std::getline(cpu, line);)
        if (line.rfind("model name", 0) == 0) {
            model = line.substr(line.find(':') + 2);
            break;
        }
    double load[3] = {0, 0, 0};
    getloadavg(load, 3);
    std::cout << "machine: " << std::thread::hardware_concurrency() << " cpu(s), " << model << "; load average "
              << load[0] << " (other work on the machine slows every figure below)\n";
}

// Every bit of the rollup's sums, as one hash: two builds that print the same digest on the
// same data built the same accumulators (floating point included), so a faster rebuild can be
// shown to give exactly the old figures.
std::string rollupDigest(const ck::report::BaselineRollup& rollup) {
    std::string bytes;
    auto raw = [&](const auto& v) { bytes.append(reinterpret_cast<const char*>(&v), sizeof v); };
    auto text = [&](const std::string& t) {
        raw(uint64_t(t.size()));
        bytes += t;
    };
    raw(rollup.visits());
    for (const auto& [key, acc] : rollup.strata()) {
        text(key.cluster);
        text(key.stratum);
        raw(acc.visits);
        raw(acc.responded);
        for (const auto& m : acc.indicators) {
            raw(m.m);
            for (double d : {m.meanX, m.meanY, m.m2x, m.m2y, m.cxy}) raw(d);
            for (double d : m.top) raw(d);
        }
        for (const auto& values : acc.medianValues) {
            raw(uint64_t(values.size()));
            for (double d : values) raw(d);
        }
    }
    for (const auto& [cluster, work] : rollup.fieldwork()) {
        text(cluster);
        for (const auto& [officer, n] : work.visitsByOfficer) {
            text(officer);
            raw(n);
        }
        for (const auto& [day, n] : work.visitsByDay) {
            raw(day);
            raw(n);
        }
    }
    return ck::contentHash(bytes);
}

// The figures that need the service: run in the child, after the rebuild was measured.
int child(const Args& a) {
    auto storage = ck::agg::openStorage(a.child);
    const long rssBefore = peakRssKb();
    ck::agg::BaselineOptions options;
    options.threads = a.threads;
    options.lowPriority = a.lowPriority;
    auto t0 = Clock::now();
    ck::agg::BaselineService service(*storage, options);
    auto t1 = Clock::now();
    const long rssAfter = peakRssKb();
    const uint64_t counted = service.visitsCounted();
    std::cout << "(1) full rebuild: " << counted << " visits in " << seconds(t0, t1) << " s on " << a.threads
              << " thread(s) at " << (a.lowPriority ? "nice 19" : "normal priority") << " (" << (seconds(t0, t1) > 0 ? double(counted) / seconds(t0, t1) : 0) << " visits/s); peak memory "
              << double(rssAfter) / 1024 << " MiB (" << double(rssBefore) / 1024 << " MiB before it)\n"
              << "    targets: under 60 s, under 2048 MiB" << std::endl;
    {
        ck::report::ReportRequest nation;
        nation.builtAt = 1;
        std::cout << "    rollup digest " << rollupDigest(service.rollupSnapshot()) << "; nation report inputs hash "
                  << service.report(nation).inputsHash << std::endl;
    }

    // (2) Incremental: stored visits again under new record ids, as if just ingested.
    std::vector<ck::agg::StoredVisit> fresh;
    fresh.reserve(size_t(a.updates));
    storage->forEachVisit([&](const ck::agg::StoredVisit& v) {
        auto decoded = ck::deserializeRecord(std::string_view(reinterpret_cast<const char*>(v.record.data()), v.record.size()));
        if (!decoded.record) return true;
        ck::Record r = std::move(*decoded.record);
        r.id = ck::newRecordId();
        ck::agg::StoredVisit copy = v;
        copy.recordId = r.id;
        std::string bytes = ck::serializeRecord(r);
        copy.record.assign(bytes.begin(), bytes.end());
        copy.contentHash = ck::contentHash(bytes);
        fresh.push_back(std::move(copy));
        return fresh.size() < size_t(a.updates);
    });
    auto templates = storage->listTemplates();
    std::shared_ptr<const ck::Template> survey;
    for (const auto& t : templates)
        if (t.templateId == options.templateId) survey = ck::loadTemplateJson(t.jsonText, t.templateId).survey;
    if (!survey || fresh.empty()) {
        std::cout << "(2) skipped: no visits or no " << options.templateId << " template in the storage\n";
        return 1;
    }
    // (3) One cluster's HTML report: the cluster with the most visits. Before (2): the
    // visits (2) feeds the service are never stored, and a report that sees storage hold
    // fewer visits than it counted rebuilds (it would measure a rebuild, not a report).
    std::map<std::string, uint64_t> perCluster;
    for (const auto& v : fresh) ++perCluster[v.cluster];
    std::string cluster = perCluster.empty() ? std::string() : perCluster.begin()->first;
    for (const auto& [c, n] : perCluster)
        if (n > perCluster[cluster]) cluster = c;
    std::vector<double> reportMs, renderMs;
    size_t htmlBytes = 0;
    for (uint64_t i = 0; i < a.reports; ++i) {
        ck::report::ReportRequest request;
        request.scope = ck::report::ReportScope{ck::report::ScopeLevel::Cluster, cluster};
        auto r0 = Clock::now();
        ck::report::BaselineReport report = service.report(request);
        auto r1 = Clock::now();
        std::string html = ck::report::renderHtml(report);
        auto r2 = Clock::now();
        htmlBytes = html.size();
        reportMs.push_back(seconds(r0, r1) * 1e3);
        renderMs.push_back(seconds(r1, r2) * 1e3);
    }
    // The builder alone on a copy of the accumulators: what the report costs without the
    // service's per-report reads (register, inputs hash over every visit).
    std::vector<double> builderMs;
    {
        ck::report::BaselineRollup snapshot = service.rollupSnapshot();
        const ck::report::Geography& geo = service.geography();
        for (uint64_t i = 0; i < a.reports; ++i) {
            ck::report::ReportRequest request;
            request.scope = ck::report::ReportScope{ck::report::ScopeLevel::Cluster, cluster};
            request.builtAt = 1;
            auto b0 = Clock::now();
            ck::report::BaselineReport report = ck::report::buildBaselineReport(snapshot, geo, request);
            builderMs.push_back(seconds(b0, Clock::now()) * 1e3);
        }
    }
    std::vector<double> totalMs;
    for (size_t i = 0; i < reportMs.size(); ++i) totalMs.push_back(reportMs[i] + renderMs[i]);
    std::cout << "(3) cluster " << cluster << " report from the accumulators, " << a.reports << " times: median "
              << quantile(totalMs, 0.5) << " ms (report " << quantile(reportMs, 0.5) << " ms + renderHtml "
              << quantile(renderMs, 0.5) << " ms), max " << quantile(totalMs, 1.0) << " ms; " << htmlBytes
              << " bytes of HTML (target under 200 ms)\n"
              << "    buildBaselineReport alone on the accumulators (no register read, no inputs hash): median "
              << quantile(builderMs, 0.5) << " ms, max " << quantile(builderMs, 1.0) << " ms\n"
              << "    peak memory of this process by the end: " << double(peakRssKb()) / 1024 << " MiB" << std::endl;
    ck::report::IndicatorEvaluator evaluator(*survey);
    std::vector<double> decodeUs, evaluateUs, updateUs;
    size_t inDomain = 0;
    for (const auto& v : fresh) {
        auto d0 = Clock::now();
        auto decoded = ck::deserializeRecord(std::string_view(reinterpret_cast<const char*>(v.record.data()), v.record.size()));
        auto d1 = Clock::now();
        ck::report::VisitObservations obs = evaluator.evaluate(*decoded.record);
        auto d2 = Clock::now();
        for (const auto& o : obs.values) inDomain += o.inDomain;
        decodeUs.push_back(seconds(d0, d1) * 1e6);
        evaluateUs.push_back(seconds(d1, d2) * 1e6);
    }
    for (const auto& v : fresh) {
        auto u0 = Clock::now();
        service.visitStored(v);
        updateUs.push_back(seconds(u0, Clock::now()) * 1e6);
    }
    std::cout << "(2) incremental update over " << fresh.size() << " visits (BaselineService::visitStored): median "
              << quantile(updateUs, 0.5) << " us, p95 " << quantile(updateUs, 0.95) << " us (target under 50 us)\n"
              << "    of which decoding the record: median " << quantile(decodeUs, 0.5) << " us, p95 " << quantile(decodeUs, 0.95)
              << " us; IndicatorEvaluator::evaluate alone: median " << quantile(evaluateUs, 0.5) << " us, p95 "
              << quantile(evaluateUs, 0.95) << " us (" << survey->indicators.size() << " indicators, " << inDomain
              << " observations in domain)\n"
              << "    visits counted now: " << service.visitsCounted() << " (" << counted << " + " << fresh.size() << ")" << std::endl;

    return 0;
}

// Generates the data folder with ck-synth (a separate process, so its memory is its own).
bool ensureData(const Args& a, const fs::path& dir) {
    if (fs::exists(dir / "aggregator.db")) {
        std::ifstream note(dir / "generated.txt");
        std::stringstream s;
        s << note.rdbuf();
        std::cout << "data: " << dir.string() << " (reused; delete it to generate again)\n" << s.str();
        return true;
    }
    const fs::path synth = fs::path(CK_BINARY_DIR) / "tools" / "ck-synth" / "ck-synth";
    if (!fs::exists(synth)) {
        std::cerr << "bench_report: " << synth.string() << " is missing: build the ck-synth target first\n";
        return false;
    }
    const uint64_t perState = std::max<uint64_t>(1, a.clusters / a.states);
    const uint64_t clusters = perState * a.states;
    const uint64_t perCluster = (a.visits + clusters - 1) / clusters;
    const uint64_t units = perCluster + perCluster / 2;  // a sampling fraction of about 2/3
    const fs::path tmp = dir.string() + ".tmp";
    fs::remove_all(tmp);
    fs::create_directories(dir.parent_path());
    std::string cmd = "'" + synth.string() + "' store --storage '" + tmp.string() + "' --template '" + CK_SOURCE_DIR +
                      "/survey-templates/cluster-diagnostic.json' --states " + std::to_string(a.states) +
                      " --clusters-per-state " + std::to_string(perState) + " --units-per-cluster " + std::to_string(units) +
                      " --visits-per-cluster " + std::to_string(perCluster) + " --seed 20261123 --date 2026-11-20 --days 60" +
                      " --threads " + std::to_string(a.threads) + " > '" + tmp.string() + ".log' 2>&1";
    std::cout << "data: generating " << perCluster * clusters << " visits in " << clusters << " clusters into " << dir.string()
              << " ..." << std::endl;
    auto g0 = Clock::now();
    int status = std::system(cmd.c_str());
    double took = seconds(g0, Clock::now());
    std::ifstream log(tmp.string() + ".log");
    std::stringstream s;
    s << log.rdbuf();
    if (status != 0) {
        std::cerr << "bench_report: ck-synth failed:\n" << s.str();
        return false;
    }
    std::ofstream(tmp / "generated.txt") << "  generated in " << took << " s by: ck-synth store ...\n" << s.str();
    fs::rename(tmp, dir);
    fs::remove(tmp.string() + ".log");
    std::cout << "  generated in " << took << " s\n" << s.str();
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Args a = parseArgs(argc, argv);
    try {
        if (!a.child.empty()) return child(a);
        printMachine();
        const fs::path dir = fs::path(CK_BINARY_DIR) / "bench-data" /
                             ("report-" + std::to_string(a.visits) + "-" + std::to_string(a.clusters) + "-" +
                              std::to_string(a.states));
        if (!ensureData(a, dir)) return 1;
        std::cout.flush();
        // The rebuild runs in a fresh process: its peak memory is the rebuild's alone.
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("bench_report: fork");
            return 1;
        }
        if (pid == 0) {
            std::string threads = std::to_string(a.threads), updates = std::to_string(a.updates),
                        reports = std::to_string(a.reports), data = dir.string();
            execl("/proc/self/exe", argv[0], "--rebuild-child", data.c_str(), "--threads", threads.c_str(), "--updates",
                  updates.c_str(), "--reports", reports.c_str(), "--priority", a.lowPriority ? "low" : "normal",
                  static_cast<char*>(nullptr));
            std::perror("bench_report: exec");
            _exit(127);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    } catch (const std::exception& e) {
        std::cerr << "bench_report: " << e.what() << "\n";
        return 1;
    }
}
