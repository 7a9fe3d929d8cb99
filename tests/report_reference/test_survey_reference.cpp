// The baseline report's figures against the reference implementation, R's survey package
// (Debian's r-cran-survey), end to end with the real tools: ck-synth stores a stratified
// sample with take-all strata, single-unit strata and sampling fractions on both sides of 5%;
// `ck-aggregator report --format json` builds the reports of clusters, states and the nation;
// `ck-aggregator export --design` gives the microdata with the design; survey_reference.R
// redoes every shown figure and this test compares them, naming each that disagrees.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/command_run.h"

using ck::test::runCommand;
using ck::test::shellQuote;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPass = "survey reference test: a long passphrase 2026";
constexpr double kTolerance = 1e-9;

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// RFC 4180 rows (R's write.csv and the design export both quote only where needed).
std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool quoted = false, any = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (quoted) {
            if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
            else if (c == '"') quoted = false;
            else field += c;
        } else if (c == '"') {
            quoted = true;
            any = true;
        } else if (c == ',') {
            row.push_back(field);
            field.clear();
        } else if (c == '\n') {
            row.push_back(field);
            rows.push_back(row);
            row.clear();
            field.clear();
            any = false;
        } else if (c != '\r') {
            field += c;
            any = true;
        }
    }
    if (any || !field.empty() || !row.empty()) {
        row.push_back(field);
        rows.push_back(row);
    }
    return rows;
}

// Rows as maps by header name.
std::vector<std::map<std::string, std::string>> csvRecords(const std::string& text) {
    auto rows = parseCsv(text);
    std::vector<std::map<std::string, std::string>> out;
    if (rows.empty()) return out;
    for (size_t r = 1; r < rows.size(); ++r) {
        std::map<std::string, std::string> m;
        for (size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c) m[rows[0][c]] = rows[r][c];
        out.push_back(std::move(m));
    }
    return out;
}

double number(const std::string& s) {
    if (s == "NA" || s == "NaN" || s.empty()) return std::nan("");
    if (s == "Inf") return INFINITY;
    if (s == "-Inf") return -INFINITY;
    return std::strtod(s.c_str(), nullptr);
}

struct Ours {
    std::string level, name, indicator, kind;
    double scale = 1;
    double value = 0, se = 0, low = 0, high = 0;
};

struct Comparison {
    size_t figures = 0, numbers = 0, edgeIntervals = 0;
    double maxRelative = 0;
    double maxGlmRelative = 0;  // svyciprop(method = "logit") against our logit interval
    std::vector<std::string> disagreements;
    std::set<std::string> indicators, kinds, levels;
};

std::string tool(const char* path) { return shellQuote(path); }

ck::test::CommandRun aggregator(const std::string& args, const fs::path& data) {
    return runCommand("CK_ADMIN_PASSPHRASE=" + shellQuote(kPass) + " " + tool(CK_AGGREGATOR_BIN) + " " + args +
                      " --data " + shellQuote(data.string()));
}

// Every shown estimate of the report whose row is an indicator (its first cell is the
// report's own scope), once per (scope, indicator).
std::vector<Ours> figuresOf(const nlohmann::json& report, const std::map<std::string, std::string>& kinds) {
    std::vector<Ours> out;
    std::set<std::string> seen;
    const std::string level = report.at("scope").at("level").get<std::string>();
    const std::string name = report.at("scope").value("name", std::string());
    for (const auto& section : report.at("sections"))
        for (const auto& table : section.at("tables"))
            for (const auto& row : table.at("rows")) {
                const std::string key = row.at("key").get<std::string>();
                auto kind = kinds.find(key);
                if (kind == kinds.end() || row.at("cells").empty()) continue;
                const auto& cell = row.at("cells")[0];
                if (cell.value("kind", std::string()) != "estimate" || cell.at("value").is_null()) continue;
                if (!seen.insert(key).second) continue;
                Ours o;
                o.level = level;
                o.name = name;
                o.indicator = key;
                o.kind = kind->second;
                o.scale = cell.value("unit", std::string()) == "%" ? 100 : 1;
                o.value = cell.at("value");
                o.se = cell.at("se");
                o.low = cell.at("low");
                o.high = cell.at("high");
                out.push_back(o);
            }
    return out;
}

// Runs survey_reference.R over `ours` and compares.
Comparison compareWithR(const std::vector<Ours>& ours, const fs::path& designCsv, const fs::path& dir,
                        const std::string& tag) {
    std::string figures = "scope_level,scope_name,indicator,kind,scale\n";
    for (const Ours& o : ours)
        figures += o.level + "," + o.name + "," + o.indicator + "," + o.kind + "," + (o.scale == 100 ? "100" : "1") + "\n";
    const fs::path figuresPath = dir / (tag + "-figures.csv"), rPath = dir / (tag + "-r.csv");
    std::ofstream(figuresPath) << figures;
    const fs::path script = fs::path(CK_SOURCE_DIR) / "tests" / "report_reference" / "survey_reference.R";
    auto run = runCommand("Rscript " + shellQuote(script.string()) + " " + shellQuote(designCsv.string()) + " " +
                          shellQuote(figuresPath.string()) + " " + shellQuote(rPath.string()));
    INFO(run.all());
    REQUIRE(run.status == 0);

    std::map<std::string, std::map<std::string, std::string>> byKey;
    for (auto& r : csvRecords(readText(rPath))) {
        std::string name = r["scope_name"] == "NA" ? "" : r["scope_name"];
        byKey[r["scope_level"] + ":" + name + ":" + r["indicator"]] = r;
    }
    Comparison c;
    for (const Ours& o : ours) {
        const std::string id = o.level + ":" + o.name + ":" + o.indicator;
        auto it = byKey.find(id);
        if (it == byKey.end()) {
            c.disagreements.push_back(id + ": R gave no figure");
            continue;
        }
        auto& r = it->second;
        ++c.figures;
        c.indicators.insert(o.indicator);
        c.kinds.insert(o.kind);
        c.levels.insert(o.level);
        const double scale = std::max({std::fabs(o.value), std::fabs(number(r["value"]))});
        auto check = [&](const char* what, double mine, double theirs, double magnitude) {
            ++c.numbers;
            const double denom = std::max({std::fabs(mine), std::fabs(theirs), magnitude, 1e-300});
            const double rel = mine == theirs ? 0.0 : std::fabs(mine - theirs) / denom;
            if (!(rel <= kTolerance)) {
                std::ostringstream m;
                m.precision(17);
                m << id << " (" << o.kind << ") " << what << ": ClusterKit " << mine << ", R " << theirs
                  << ", relative difference " << rel;
                c.disagreements.push_back(m.str());
            } else {
                c.maxRelative = std::max(c.maxRelative, rel);
            }
        };
        check("estimate", o.value, number(r["value"]), 0);
        check("standard error", o.se, number(r["se"]), 0);
        const double rLow = number(r["low"]), rHigh = number(r["high"]);
        if (o.kind == "share" && o.se == 0 && std::isnan(rLow) && std::isnan(rHigh)) {
            // A share of exactly 0% or 100%: logit(p) is infinite and R's xlogit interval NaN;
            // ours is [p, p] by the documented convention. Checked as such, counted apart.
            ++c.edgeIntervals;
            if (!(o.low == o.value && o.high == o.value))
                c.disagreements.push_back(id + ": a 0%/100% share must have the interval [p, p]");
            continue;
        }
        // Interval ends relative to the figure's own size: an end near 0 (a total whose
        // interval crosses 0) would otherwise turn rounding into a large relative error.
        check("interval low", o.low, rLow, scale);
        check("interval high", o.high, rHigh, scale);
        if (o.kind == "share") {
            const double gl = number(r["glm_logit_low"]), gh = number(r["glm_logit_high"]);
            if (std::isfinite(gl) && std::isfinite(gh))
                c.maxGlmRelative = std::max({c.maxGlmRelative, std::fabs(gl - o.low) / std::max(std::fabs(o.low), 1e-300),
                                             std::fabs(gh - o.high) / std::max(std::fabs(o.high), 1e-300)});
        }
    }
    return c;
}

}  // namespace

TEST_CASE("baseline figures agree with R's survey package to 1e-9", "[report][reference][R]") {
    // The oracle must be there: a CI machine without it must fail, not skip silently.
    auto r = runCommand("Rscript -e 'suppressPackageStartupMessages(library(survey)); "
                        "cat(as.character(packageVersion(\"survey\")))'");
    INFO("R's survey package is needed: install r-base-core and r-cran-survey (scripts/install-deps)\n" << r.all());
    REQUIRE(r.status == 0);
    const std::string surveyVersion = r.out;

    const fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_survey_reference";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path data = dir / "data";
    auto init = aggregator("init --test-kdf", data);
    INFO(init.all());
    REQUIRE(init.status == 0);

    // 2 states x 3 clusters of 500 register units. Designs by cluster in turn:
    //   1: micro 25 (f ~ 6%), small 30, medium 1 (a single-unit stratum)
    //   2: micro 12 (f ~ 3%, below 5%: no fpc), small and medium all (take-all)
    //   3: micro 40, small 6, medium 2
    // No refusals, so "all" stays take-all; the default don't-know and empty rates leave some
    // units with no size class, the stratum of their own (README, "Statistics").
    const fs::path flagship = fs::path(CK_SOURCE_DIR) / "survey-templates" / "cluster-diagnostic.json";
    auto synth = runCommand(tool(CK_SYNTH_BIN) + " store --storage " + shellQuote(data.string()) + " --template " +
                            shellQuote(flagship.string()) +
                            " --states 2 --clusters-per-state 3 --units-per-cluster 500 --seed 20261206 --threads 1"
                            " --refusals 0 --date 2026-11-30 --days 20"
                            " --sample 'micro:25,small:30,medium:1;micro:12,small:all,medium:all;micro:40,small:6,medium:2'");
    INFO(synth.all());
    REQUIRE(synth.status == 0);

    const fs::path out = dir / "export";
    auto exported = aggregator("export --format csv --design --out " + shellQuote(out.string()), data);
    INFO(exported.all());
    REQUIRE(exported.status == 0);
    fs::path designCsv;
    for (const auto& e : fs::directory_iterator(out))
        if (e.path().string().size() > 11 && e.path().string().ends_with(".design.csv")) designCsv = e.path();
    REQUIRE(!designCsv.empty());

    // The design covers every case the rules distinguish.
    auto micro = csvRecords(readText(designCsv));
    REQUIRE(micro.size() > 300);
    std::set<std::string> lonely, takeAll, below, above, unclassified, clusters, states, districts, sectors;
    for (auto& m : micro) {
        if (m["responded"] != "1") continue;
        const std::string s = m["design_stratum"];
        clusters.insert(m["cluster"]);
        states.insert(m["state"]);
        districts.insert(m["district"]);
        sectors.insert(m["sector"]);
        if (m["sampled"] == "1") lonely.insert(s);
        if (m["stratum"].empty()) unclassified.insert(s);
        if (m["fpc_population"] == "Inf") below.insert(s);
        else if (number(m["fpc_population"]) == number(m["sampled"])) takeAll.insert(s);
        else above.insert(s);
    }
    CHECK(lonely.size() >= 2);
    CHECK(takeAll.size() >= 2);
    CHECK(below.size() >= 1);
    CHECK(above.size() >= 3);
    CHECK(unclassified.size() >= 1);
    REQUIRE(clusters.size() == 6);
    REQUIRE(states.size() == 2);

    // Reports: the nation, both states, every cluster, and a district and a sector (a sector
    // spans states).
    std::map<std::string, std::string> kinds;
    const nlohmann::json templ = nlohmann::json::parse(readText(flagship));  // kept: the loop reads into it
    for (const auto& ind : templ.at("indicators"))
        kinds[ind.at("id").get<std::string>()] = ind.at("kind").get<std::string>();
    REQUIRE(kinds.size() > 20);
    std::vector<std::string> scopes = {"nation"};
    for (const auto& s : states) scopes.push_back("state:" + s);
    for (const auto& c : clusters) scopes.push_back("cluster:" + c);
    scopes.push_back("district:" + *districts.begin());
    scopes.push_back("sector:" + *sectors.begin());
    std::vector<Ours> ours;
    for (const auto& scope : scopes) {
        auto rep = aggregator("report --format json --scope " + shellQuote(scope) + " --out " + shellQuote((dir / "reports").string()), data);
        INFO(rep.all());
        REQUIRE(rep.status == 0);
        std::string stem = scope;
        for (char& ch : stem)
            if (ch == ':') ch = '-';
            else if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_') ch = '_';
        auto figs = figuresOf(nlohmann::json::parse(readText(dir / "reports" / (stem + "-baseline.json"))), kinds);
        INFO(scope << ": " << figs.size() << " figures");
        CHECK(!figs.empty());
        ours.insert(ours.end(), figs.begin(), figs.end());
    }

    Comparison c = compareWithR(ours, designCsv, dir, "reports");
    std::ostringstream summary;
    summary.precision(3);
    summary << "survey " << surveyVersion << ": " << c.figures << " figures (" << c.indicators.size() << " indicators, "
            << scopes.size() << " scopes), " << c.numbers << " numbers compared, max relative difference "
            << c.maxRelative << "; " << c.edgeIntervals << " 0%/100% shares with the [p, p] interval; "
            << "svyciprop(method = \"logit\") differs from the logit interval by at most " << c.maxGlmRelative;
    WARN(summary.str());
    std::ofstream(dir / "summary.txt") << summary.str() << "\n";
    for (const auto& d : c.disagreements) UNSCOPED_INFO(d);
    CHECK(c.disagreements.empty());
    CHECK(c.figures >= 100);
    CHECK(c.indicators.size() >= 20);
    CHECK(c.kinds == std::set<std::string>{"share", "mean", "ratio", "total", "median"});
    CHECK(c.levels == std::set<std::string>{"nation", "state", "cluster", "district", "sector"});

    // The comparison can fail: the same cluster with Wald share intervals must disagree with
    // R's logit intervals, and each disagreement names the figure.
    const std::string wald = "cluster:" + *clusters.begin();
    auto rep = aggregator("report --format json --share-interval wald --scope " + shellQuote(wald) + " --out " +
                              shellQuote((dir / "wald").string()),
                          data);
    REQUIRE(rep.status == 0);
    std::string stem = wald;
    stem[stem.find(':')] = '-';
    auto figs = figuresOf(nlohmann::json::parse(readText(dir / "wald" / (stem + "-baseline.json"))), kinds);
    Comparison w = compareWithR(figs, designCsv, dir, "wald");
    REQUIRE_FALSE(w.disagreements.empty());
    bool named = false;
    for (const auto& d : w.disagreements) named = named || (d.find(wald + ":") == 0 && d.find("(share) interval") != std::string::npos);
    CHECK(named);
    for (const auto& d : w.disagreements) CHECK(d.find("(share)") != std::string::npos);
}
