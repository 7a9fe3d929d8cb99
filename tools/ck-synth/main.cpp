// ck-synth: synthetic cluster registers and visits for demos, benchmarks and report work.
//   ck-synth register --states N --clusters-per-state N --units-per-cluster N --seed S > register.csv
//   ck-synth answers TEMPLATE --register register.csv [--cluster CODE] --count N --seed S --out DIR
//                    [--date YYYY-MM-DD] [--days N]
// Exit status: 0 success; 1 the template, the register or a generated visit has problems;
// 2 usage or I/O error.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/form/form_session.h"
#include "core/register/cluster_register.h"
#include "core/synth/visit_generator.h"
#include "core/template/template_loader.h"
#include "core/xlsform/xlsform_import.h"

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
    std::optional<ck::Date> end = todayUtc();
    if (auto it = o.values.find("--date"); it != o.values.end()) {
        end = ck::parseIsoDate(it->second);
        if (!end) throw Exit{kUsage, "--date takes a date as YYYY-MM-DD, not '" + it->second + "'"};
    }
    int days = o.values.count("--days") ? int(parseUnsigned("--days", o.values["--days"], 3650)) : 30;
    if (days < 1) throw Exit{kUsage, "--days must be at least 1"};

    const std::string& templatePath = o.positional[0];
    bool xlsx = templatePath.size() > 5 && templatePath.compare(templatePath.size() - 5, 5, ".xlsx") == 0;
    ck::TemplateLoadResult loaded = xlsx ? ck::loadTemplateXlsx(templatePath) : ck::loadTemplateJsonFile(templatePath);
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
