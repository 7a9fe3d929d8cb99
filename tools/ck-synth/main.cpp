// ck-synth: synthetic cluster registers and visits for demos, benchmarks and report work.
//   ck-synth register --states N --clusters-per-state N --units-per-cluster N --seed S > register.csv
//   ck-synth answers TEMPLATE --register register.csv [--cluster CODE] --count N --seed S --out DIR
//                    [--date YYYY-MM-DD] [--days N]
//   ck-synth store --storage URL|FOLDER --template TEMPLATE.json --states N --clusters-per-state N
//                  --units-per-cluster N --visits-per-cluster N --seed S [--dont-know RATE] [--empty RATE]
//                  [--refusals RATE] [--threads N] [--date YYYY-MM-DD] [--days N]
// Exit status: 0 success; 1 the template, the register or a generated visit has problems;
// 2 usage or I/O error.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/crypto/sealed_box.h"
#include "core/form/form_session.h"
#include "core/form/personal_answers.h"
#include "core/register/cluster_register.h"
#include "core/synth/visit_generator.h"
#include "core/template/template_loader.h"
#include "core/xlsform/xlsform_import.h"
#include "sync/aggregator/storage.h"

namespace fs = std::filesystem;

namespace {

constexpr int kOk = 0, kProblems = 1, kUsage = 2;

// Thrown to end the command with a status and a message for people.
struct Exit {
    int status;
    std::string message;
};

const char* kUsageText =
    "usage:\n"
    "  ck-synth register --states N --clusters-per-state N --units-per-cluster N --seed S\n"
    "                    [--micro SHARE --small SHARE --medium SHARE]\n"
    "      prints a cluster register as CSV (unit_id,name,cluster,district,state,stratum,sector)\n"
    "  ck-synth answers TEMPLATE.json|.xlsx --register REGISTER.csv --seed S --out DIR\n"
    "                   [--count N] [--cluster CODE] [--date YYYY-MM-DD] [--days N]\n"
    "                   [--dont-know RATE] [--empty RATE]\n"
    "      writes DIR/<unit_id>.json, answers that `ck-survey fill` and `ck-field new-visit` read,\n"
    "      for N units drawn from the register (all of them without --count; only CODE's with\n"
    "      --cluster), visited on dates within --days (default 30) up to --date (default today)\n"
    "  ck-synth store --storage URL|FOLDER --template TEMPLATE.json --states N --clusters-per-state N\n"
    "                 --units-per-cluster N --visits-per-cluster N --seed S [--dont-know RATE] [--empty RATE]\n"
    "                 [--refusals RATE] [--threads N] [--date YYYY-MM-DD] [--days N]\n"
    "                 [--sample CLASS:N|all,...[;CLASS:N|all,...]]\n"
    "      for report scale work: loads a synthetic register into aggregator storage (a data folder,\n"
    "      sqlite:FOLDER or a postgresql:// URL), publishes the template UNSIGNED, and stores\n"
    "      --visits-per-cluster decoded visits per cluster (personal answers removed, as ingest\n"
    "      keeps them; no envelopes), about 8% of them refusals (--refusals). Such storage is for\n"
    "      scale work only, never fieldwork: devices cannot verify the unsigned template. The same\n"
    "      seed gives the same visits, so a second run stores nothing twice.\n"
    "      --sample draws a stratified sample instead of --visits-per-cluster: N units (or all) of each\n"
    "      register size class named, in every cluster; designs separated by ';' go to the clusters in\n"
    "      turn (the first cluster the first design, ...), e.g. \"micro:20,small:all,medium:1;micro:5\"\n"
    "      gives take-all and single-unit strata and sampling fractions on both sides of 5%.\n"
    "Exit status: 0 success, 1 problems in the template, the register or a visit, 2 usage or I/O error.\n";

struct Options {
    std::vector<std::string> positional;
    std::map<std::string, std::string> values;
    bool help = false;
};

Options parse(const std::vector<std::string>& args, const std::vector<std::string>& known) {
    Options o;
    for (size_t i = 1; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            o.help = true;
            continue;
        }
        if (a.rfind("--", 0) == 0) {
            if (std::find(known.begin(), known.end(), a) == known.end()) throw Exit{kUsage, "unknown option " + a + " (see --help)"};
            if (i + 1 >= args.size()) throw Exit{kUsage, a + " needs a value"};
            o.values[a] = args[++i];
            continue;
        }
        o.positional.push_back(a);
    }
    return o;
}

uint64_t parseUnsigned(const std::string& option, const std::string& text, uint64_t most) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 20)
        throw Exit{kUsage, option + " takes a whole number, not '" + text + "'"};
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
    if (errno == ERANGE || v > most) throw Exit{kUsage, option + " is at most " + std::to_string(most) + ", not " + text};
    return v;
}

int requiredCount(const Options& o, const std::string& option, int most) {
    auto it = o.values.find(option);
    if (it == o.values.end()) throw Exit{kUsage, option + " is required (see --help)"};
    uint64_t v = parseUnsigned(option, it->second, uint64_t(most));
    if (v < 1) throw Exit{kUsage, option + " must be at least 1"};
    return int(v);
}

uint64_t seedOf(const Options& o) {
    auto it = o.values.find("--seed");
    if (it == o.values.end()) throw Exit{kUsage, "--seed is required (see --help)"};
    return parseUnsigned("--seed", it->second, UINT64_MAX);
}

double rateOf(const Options& o, const std::string& option, double otherwise) {
    auto it = o.values.find(option);
    if (it == o.values.end()) return otherwise;
    char* end = nullptr;
    double v = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0' || !(v >= 0 && v <= 1)) throw Exit{kUsage, option + " takes a number from 0 to 1, not '" + it->second + "'"};
    return v;
}

int registerCommand(const std::vector<std::string>& args) {
    Options o = parse(args, {"--states", "--clusters-per-state", "--units-per-cluster", "--seed", "--micro", "--small", "--medium"});
    if (o.help) {
        std::cout << kUsageText;
        return kOk;
    }
    if (!o.positional.empty()) throw Exit{kUsage, "register takes no file name: it prints the CSV (redirect it with >)"};
    int states = requiredCount(o, "--states", 1000);
    int clusters = requiredCount(o, "--clusters-per-state", 100000);
    int units = requiredCount(o, "--units-per-cluster", 1000000);
    if (uint64_t(states) * uint64_t(clusters) * uint64_t(units) > 100'000'000ull)
        throw Exit{kUsage, "that register would hold more than 100,000,000 units; ask for fewer"};
    uint64_t seed = seedOf(o);
    ck::SizeMix mix;
    mix.micro = rateOf(o, "--micro", mix.micro);
    mix.small = rateOf(o, "--small", mix.small);
    mix.medium = rateOf(o, "--medium", mix.medium);
    if (mix.micro + mix.small + mix.medium <= 0) throw Exit{kUsage, "--micro, --small and --medium cannot all be 0"};
    auto units_ = ck::syntheticRegister(states, clusters, units, seed, mix);
    std::vector<ck::RegisterUnit> rows;
    rows.reserve(units_.size());
    for (const auto& u : units_) rows.push_back({u.unitId, u.name, u.cluster, u.district, u.state, u.stratum, u.sector});
    std::cout << ck::clusterRegisterCsv(rows);
    if (!std::cout.flush()) throw Exit{kUsage, "cannot write the register to standard output"};
    return kOk;
}

std::vector<ck::UnitProfile> readRegister(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Exit{kUsage, path + ": cannot read the file"};
    std::stringstream text;
    text << in.rdbuf();
    ck::ParsedRegister parsed = ck::parseClusterRegister(text.str(), path);
    if (!parsed.ok()) {
        for (size_t i = 1; i < parsed.problems.size(); ++i) std::cerr << parsed.problems[i] << "\n";
        throw Exit{kProblems, parsed.problems.front()};
    }
    std::vector<ck::UnitProfile> units;
    units.reserve(parsed.units.size());
    for (const auto& u : parsed.units)
        units.push_back(ck::profileFromRegisterRow(u.unitId, u.name, u.cluster, u.district, u.state, u.stratum, u.sector));
    return units;
}

std::optional<ck::Date> todayUtc() {
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return ck::parseIsoDate(buf);
}

// The days visits fall on: --days (default 30) days up to --date (default today).
struct VisitWindow {
    std::optional<ck::Date> last;
    int days = 30;
};
VisitWindow visitWindowOf(Options& o) {
    VisitWindow w;
    w.last = todayUtc();
    if (auto it = o.values.find("--date"); it != o.values.end()) {
        w.last = ck::parseIsoDate(it->second);
        if (!w.last) throw Exit{kUsage, "--date takes a date as YYYY-MM-DD, not '" + it->second + "'"};
    }
    if (o.values.count("--days")) w.days = int(parseUnsigned("--days", o.values["--days"], 3650));
    if (w.days < 1) throw Exit{kUsage, "--days must be at least 1"};
    return w;
}

int answersCommand(const std::vector<std::string>& args) {
    Options o = parse(args, {"--register", "--cluster", "--count", "--seed", "--out", "--date", "--days", "--dont-know", "--empty"});
    if (o.help) {
        std::cout << kUsageText;
        return kOk;
    }
    if (o.positional.size() != 1) throw Exit{kUsage, "answers takes one template file (see --help)"};
    if (!o.values.count("--register")) throw Exit{kUsage, "--register is required (see --help)"};
    if (!o.values.count("--out")) throw Exit{kUsage, "--out is required (see --help)"};
    uint64_t seed = seedOf(o);
    const VisitWindow window = visitWindowOf(o);
    const std::optional<ck::Date> end = window.last;
    const int days = window.days;

    const std::string& templatePath = o.positional[0];
    // .json or any workbook (.xlsx, .xlsm, .xls), told apart by content.
    ck::TemplateLoadResult loaded = ck::loadTemplateFile(templatePath);
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) std::cerr << e.toString() << "\n";
        throw Exit{kProblems, std::to_string(loaded.errors.size()) + (loaded.errors.size() == 1 ? " error" : " errors") +
                                  "; the template was not loaded, no visits were written"};
    }

    std::vector<ck::UnitProfile> all = readRegister(o.values["--register"]);
    std::vector<ck::UnitProfile> pool;
    const std::string cluster = o.values.count("--cluster") ? o.values["--cluster"] : std::string();
    for (auto& u : all)
        if (cluster.empty() || u.cluster == cluster) pool.push_back(std::move(u));
    if (pool.empty())
        throw Exit{kProblems, cluster.empty() ? "the register has no units" : "the register has no units in cluster '" + cluster + "'"};
    size_t count = pool.size();
    if (o.values.count("--count")) {
        count = size_t(parseUnsigned("--count", o.values["--count"], 100'000'000));
        if (count < 1) throw Exit{kUsage, "--count must be at least 1"};
        if (count > pool.size())
            throw Exit{kProblems, "the register has " + std::to_string(pool.size()) + " units" +
                                      (cluster.empty() ? std::string() : " in cluster '" + cluster + "'") + "; --count " +
                                      std::to_string(count) + " asks for more (each unit is visited once)"};
    }

    std::error_code ec;
    fs::create_directories(o.values["--out"], ec);
    if (ec) throw Exit{kUsage, o.values["--out"] + ": cannot create the folder: " + ec.message()};
    const fs::path out = o.values["--out"];

    ck::VisitGenerator generator(loaded.survey, seed);
    generator.setMissingRates(rateOf(o, "--dont-know", 0.02), rateOf(o, "--empty", 0.05));
    // A simple random sample of `count` units, kept in register order (selection sampling),
    // each visited on a day of the fieldwork window.
    uint64_t state = seed ^ 0xC0FFEEull;
    auto next = [&state] {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    size_t written = 0, refused = 0, failed = 0, needed = count;
    double generationSeconds = 0;
    const int consent = loaded.survey->indexOf("consent");
    for (size_t i = 0; i < pool.size() && needed > 0; ++i) {
        double u = double(next() >> 11) * 0x1.0p-53;
        if (u * double(pool.size() - i) >= double(needed)) continue;
        --needed;
        ck::Date date{end->days - int(next() % uint64_t(days))};
        // CPU time, not wall time: the figure should not depend on what else the machine runs.
        std::clock_t c0 = std::clock();
        ck::GeneratedVisit visit = generator.generateVisit(pool[i], date);
        generationSeconds += double(std::clock() - c0) / CLOCKS_PER_SEC;
        if (!visit.ok()) {
            ++failed;
            std::cerr << pool[i].unitId << ": no valid visit after " << visit.attempts << " attempts:";
            for (size_t k = 0; k < visit.problems.size() && k < 5; ++k)
                std::cerr << (k ? ";" : "") << " " << visit.problems[k].questionId << " (" << visit.problems[k].message << ")";
            std::cerr << "\n";
            continue;
        }
        if (consent >= 0) {
            const ck::Value& c = visit.session.value(consent);
            if (c.kind() == ck::ValueKind::Text && c.asText() == "no") ++refused;
        }
        fs::path file = out / (pool[i].unitId + ".json");
        std::ofstream f(file, std::ios::binary | std::ios::trunc);
        f << ck::answersJsonText(visit.session);
        if (!f.flush()) throw Exit{kUsage, file.string() + ": cannot write the answers"};
        ++written;
    }
    std::cerr << "wrote " << written << " visit(s) to " << out.string() << " (" << refused << " refused consent)";
    if (written + failed > 0)
        std::cerr << "; generation took " << generationSeconds * 1e6 / double(written + failed) << " microseconds of CPU per visit";
    std::cerr << "\n";
    if (failed > 0) throw Exit{kProblems, std::to_string(failed) + " visit(s) could not be made valid; see above"};
    return kOk;
}

struct VisitTask {
    size_t unit;  // index into the register
    ck::Date date;
};

int storeCommand(const std::vector<std::string>& args) {
    Options o = parse(args, {"--storage", "--template", "--states", "--clusters-per-state", "--units-per-cluster",
                             "--visits-per-cluster", "--seed", "--dont-know", "--empty", "--refusals", "--threads",
                             "--date", "--days", "--sample"});
    if (o.help) {
        std::cout << kUsageText;
        return kOk;
    }
    if (!o.positional.empty()) throw Exit{kUsage, "store takes no file names: use --template and --storage (see --help)"};
    // --sample: per design, size class -> units to visit (-1: all of them).
    std::vector<std::map<std::string, int64_t>> designs;
    if (o.values.count("--sample")) {
        std::stringstream all(o.values["--sample"]);
        std::string design;
        while (std::getline(all, design, ';')) {
            std::map<std::string, int64_t> d;
            std::stringstream parts(design);
            std::string part;
            while (std::getline(parts, part, ',')) {
                size_t colon = part.find(':');
                if (colon == std::string::npos || colon == 0)
                    throw Exit{kUsage, "--sample takes CLASS:N or CLASS:all items separated by ',' (designs by ';'), not '" + part + "'"};
                std::string cls = part.substr(0, colon), n = part.substr(colon + 1);
                d[cls] = n == "all" ? -1 : int64_t(parseUnsigned("--sample " + cls, n, 1000000));
            }
            if (d.empty()) throw Exit{kUsage, "--sample has an empty design (two ';' in a row?)"};
            designs.push_back(std::move(d));
        }
        if (designs.empty()) throw Exit{kUsage, "--sample needs at least one CLASS:N"};
        if (!o.values.count("--visits-per-cluster")) o.values["--visits-per-cluster"] = "1";  // unused with --sample
    }
    if (!o.values.count("--storage")) throw Exit{kUsage, "--storage is required: a data folder, sqlite:FOLDER or a postgresql:// URL"};
    if (!o.values.count("--template")) throw Exit{kUsage, "--template is required (see --help)"};
    int states = requiredCount(o, "--states", 1000);
    int clusters = requiredCount(o, "--clusters-per-state", 100000);
    int units = requiredCount(o, "--units-per-cluster", 1000000);
    int perCluster = requiredCount(o, "--visits-per-cluster", 1000000);
    if (uint64_t(states) * uint64_t(clusters) * uint64_t(units) > 100'000'000ull)
        throw Exit{kUsage, "that register would hold more than 100,000,000 units; ask for fewer"};
    if (perCluster > units)
        throw Exit{kUsage, "--visits-per-cluster " + std::to_string(perCluster) + " is more than --units-per-cluster " +
                               std::to_string(units) + ": each unit is visited once"};
    uint64_t seed = seedOf(o);
    const double dontKnow = rateOf(o, "--dont-know", 0.02), empty = rateOf(o, "--empty", 0.05);
    const double refusals = rateOf(o, "--refusals", 0.08);
    unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    int threads = o.values.count("--threads") ? int(parseUnsigned("--threads", o.values["--threads"], 256)) : int(hw);
    if (threads < 1) throw Exit{kUsage, "--threads must be at least 1"};
    const VisitWindow window = visitWindowOf(o);
    const std::optional<ck::Date> end = window.last;
    const int days = window.days;

    // The template: its exact text is what gets published.
    const std::string templatePath = o.values["--template"];
    std::ifstream in(templatePath, std::ios::binary);
    if (!in) throw Exit{kUsage, templatePath + ": cannot read the template file; nothing was stored"};
    std::stringstream text;
    text << in.rdbuf();
    const std::string jsonText = text.str();
    ck::TemplateLoadResult loaded = ck::loadTemplateJson(jsonText, templatePath);
    if (!loaded.ok()) {
        for (const auto& e : loaded.errors) std::cerr << e.toString() << "\n";
        throw Exit{kProblems, std::to_string(loaded.errors.size()) + (loaded.errors.size() == 1 ? " error" : " errors") +
                                  " in the template; nothing was stored"};
    }
    const ck::Template& survey = *loaded.survey;

    std::unique_ptr<ck::agg::AggregatorStorage> storage;
    try {
        storage = ck::agg::openStorage(o.values["--storage"]);
    } catch (const ck::agg::StorageFailure& e) {
        throw Exit{kUsage, "cannot open the storage '" + o.values["--storage"] + "': " + e.what() + "; nothing was stored"};
    }

    const auto wall0 = std::chrono::steady_clock::now();
    const int64_t now = ck::unixNow();
    // Register first, so weights exist for whatever the visits hold.
    std::vector<ck::UnitProfile> reg = ck::syntheticRegister(states, clusters, units, seed);
    {
        std::vector<ck::RegisterUnit> rows;
        rows.reserve(reg.size());
        for (const auto& u : reg) rows.push_back({u.unitId, u.name, u.cluster, u.district, u.state, u.stratum, u.sector});
        storage->putRegister(rows, ck::agg::AuditEvent{now, "register", "operator", "ck-synth seed " + std::to_string(seed),
                                                       std::to_string(rows.size()) + " units"});
    }
    // The template row. It is left unsigned: the signature needs the project's signing key,
    // which a scale-work tool must not hold. Such storage is for scale work, not fieldwork.
    bool published = false;
    if (auto existing = storage->findTemplate(survey.id, survey.version)) {
        if (existing->jsonText != jsonText)
            throw Exit{kProblems, "template " + survey.id + " version " + survey.version +
                                      " is already published in this storage with other text; give yours a new version"};
    } else {
        ck::agg::PublishedTemplate p{survey.id, survey.version, jsonText, {}, now};
        published = storage->putTemplate(
            p, ck::agg::AuditEvent{now, "published", "operator", survey.id + "@" + survey.version, ck::contentHash(jsonText)});
    }

    // Which units are visited, and when: a simple random sample of perCluster units in each
    // cluster (selection sampling, register order), drawn from the seed alone so that any
    // thread count gives the same visits.
    std::vector<VisitTask> tasks;
    tasks.reserve(reg.size() / size_t(units) * size_t(perCluster));
    uint64_t state = seed ^ 0x5707E5ull;
    auto next = [&state] {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    size_t clusterCount = 0;
    for (size_t first = 0; first < reg.size();) {
        size_t last = first;
        while (last < reg.size() && reg[last].cluster == reg[first].cluster) ++last;
        ++clusterCount;
        if (!designs.empty()) {
            // Stratified: each size class of the design, selection sampling within it.
            const auto& design = designs[(clusterCount - 1) % designs.size()];
            const size_t before = tasks.size();
            for (const auto& [cls, wanted] : design) {
                std::vector<size_t> members;
                for (size_t i = first; i < last; ++i)
                    if (reg[i].stratum == cls) members.push_back(i);
                size_t needed = wanted < 0 ? members.size() : std::min(members.size(), size_t(wanted));
                for (size_t k = 0; k < members.size() && needed > 0; ++k) {
                    double u = double(next() >> 11) * 0x1.0p-53;
                    if (u * double(members.size() - k) >= double(needed)) continue;
                    --needed;
                    tasks.push_back({members[k], ck::Date{end->days - int(next() % uint64_t(days))}});
                }
            }
            // Register order within the cluster, as the unstratified draw gives.
            std::sort(tasks.begin() + std::ptrdiff_t(before), tasks.end(),
                      [](const VisitTask& a, const VisitTask& b) { return a.unit < b.unit; });
            first = last;
            continue;
        }
        size_t size = last - first, needed = std::min(size, size_t(perCluster));
        for (size_t i = 0; i < size && needed > 0; ++i) {
            double u = double(next() >> 11) * 0x1.0p-53;
            if (u * double(size - i) >= double(needed)) continue;
            --needed;
            tasks.push_back({first + i, ck::Date{end->days - int(next() % uint64_t(days))}});
        }
        first = last;
    }

    ck::VisitGenerator generator(loaded.survey, seed);
    generator.setMissingRates(dontKnow, empty);
    generator.setRefusalRate(refusals);
    const int consent = survey.indexOf("consent");
    constexpr size_t kBatch = 1000;
    std::atomic<size_t> nextBatch{0}, stored{0}, duplicate{0}, conflict{0}, refused{0}, failed{0};
    std::atomic<int64_t> generationMicros{0};
    std::mutex errorsMutex;
    std::vector<std::string> errors;  // storage failures and invalid visits, for the report below
    auto work = [&] {
        std::vector<ck::agg::StoredVisit> batch;
        for (;;) {
            size_t b = nextBatch.fetch_add(1);
            if (b * kBatch >= tasks.size()) return;
            batch.clear();
            const auto t0 = std::chrono::steady_clock::now();
            for (size_t i = b * kBatch; i < std::min(tasks.size(), (b + 1) * kBatch); ++i) {
                const ck::UnitProfile& unit = reg[tasks[i].unit];
                ck::GeneratedVisit visit = generator.generateVisit(unit, tasks[i].date);
                if (!visit.ok()) {
                    ++failed;
                    std::lock_guard lock(errorsMutex);
                    if (errors.size() < 20)
                        errors.push_back(unit.unitId + ": no valid visit after " + std::to_string(visit.attempts) +
                                         " attempts: " + visit.problems.front().questionId + " (" +
                                         visit.problems.front().message + ")");
                    continue;
                }
                if (consent >= 0) {
                    const ck::Value& c = visit.session.value(consent);
                    if (c.kind() == ck::ValueKind::Text && c.asText() == "no") ++refused;
                }
                ck::Record record = visit.session.toRecord();
                // The session stamps updatedAt with the wall clock; a visit must be the same
                // bytes on every run (else a rerun is a Conflict, not a Duplicate), so it
                // "finished" 30 to 90 minutes after it began, drawn from its id.
                record.updatedAt = record.createdAt + 1800 + int64_t(ck::contentHash(record.id)[0] % 16) * 240;
                ck::agg::StoredVisit v;
                v.recordId = record.id;
                // As the device computes it when no custodian key is set (everything sealed to
                // the aggregator): the hash of the whole record, personal answers included;
                // ingest keeps the envelope's contentHash as it is.
                v.contentHash = ck::contentHash(ck::serializeRecord(record));
                v.parentId = record.parentId;
                v.templateId = record.templateId;
                v.templateVersion = record.templateVersion;
                v.deviceId = "synthetic";
                v.cluster = unit.cluster;
                // Synced the evening of the visit: deterministic, so reruns order alike.
                v.receivedAt = std::max(record.createdAt, record.updatedAt) + 6 * 3600;
                ck::removePersonalAnswers(record.answers, survey);
                std::string bytes = ck::serializeRecord(record);
                v.record.assign(bytes.begin(), bytes.end());
                batch.push_back(std::move(v));
            }
            generationMicros += std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
            if (batch.empty()) continue;
            try {
                for (ck::agg::PutOutcome out : storage->putVisits(batch)) {
                    if (out == ck::agg::PutOutcome::Stored) ++stored;
                    else if (out == ck::agg::PutOutcome::Duplicate) ++duplicate;
                    else ++conflict;
                }
            } catch (const std::exception& e) {
                std::lock_guard lock(errorsMutex);
                errors.push_back(std::string("storage: ") + e.what());
                nextBatch = tasks.size();  // stop every thread: the storage is failing
                return;
            }
        }
    };
    {
        std::vector<std::thread> pool;
        for (int t = 1; t < threads; ++t) pool.emplace_back(work);
        work();
        for (auto& t : pool) t.join();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
    for (const auto& e : errors) std::cerr << e << "\n";
    std::cout << "register: " << reg.size() << " units in " << clusterCount << " clusters in " << states << " states\n"
              << "template: " << survey.id << "@" << survey.version << (published ? " published (unsigned: scale work only)" : " already there") << "\n"
              << "visits: " << stored.load() << " stored, " << duplicate.load() << " duplicate, " << conflict.load()
              << " conflict, " << failed.load() << " invalid (" << refused.load() << " refused consent)\n"
              << "storage: " << storage->describe() << "\n"
              << "time: " << seconds << " s on " << threads << " thread(s) (generation " << double(generationMicros.load()) / 1e6
              << " s summed over threads)\n";
    for (const auto& e : errors)
        if (e.rfind("storage: ", 0) == 0) throw Exit{kUsage, e + "; the batches stored before it stay"};
    if (failed > 0) throw Exit{kProblems, std::to_string(failed.load()) + " visit(s) could not be made valid; see above"};
    return kOk;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.empty()) throw Exit{kUsage, std::string("no command given\n") + kUsageText};
        if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
            std::cout << kUsageText;
            return kOk;
        }
        if (args[0] == "register") return registerCommand(args);
        if (args[0] == "answers") return answersCommand(args);
        if (args[0] == "store") return storeCommand(args);
        throw Exit{kUsage, "unknown command '" + args[0] + "'\n" + kUsageText};
    } catch (const Exit& e) {
        std::cerr << "ck-synth: " << e.message << "\n";
        return e.status;
    } catch (const std::exception& e) {
        // Only whole-operation failures (out of memory, I/O) reach here.
        std::cerr << "ck-synth: " << e.what() << "\n";
        return kUsage;
    }
}
