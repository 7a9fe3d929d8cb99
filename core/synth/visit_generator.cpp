#include "core/synth/visit_generator.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cctype>
#include <cstdio>
#include <cmath>
#include <functional>
#include <optional>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/record/record_json.h"
#include "core/synth/synth_tables.h"

namespace ck {

using namespace ck::synth;

namespace {

constexpr int kVisitAttempts = 6;     // whole-visit attempts before giving up
constexpr int kAnswerAttempts = 8;    // values tried for one question
constexpr int kRuleAttempts = 3;      // of which from the question's own rule
constexpr int kFixRounds = 3;         // passes over validate()'s problems
constexpr double kDefaultDontKnow = 0.02;

// Udyam limits in INR (TOOLKIT.md, "Size class"): investment, turnover per class.
struct UdyamLimits {
    double investment[3];
    double turnover[3];
};
constexpr UdyamLimits kLimits2025 = {{2.5e7, 2.5e8, 1.25e9}, {1e8, 1e9, 5e9}};    // S.O. 1364(E), from 2025-04-01
constexpr UdyamLimits kLimits2020 = {{1e7, 1e8, 5e8}, {5e7, 5e8, 2.5e9}};         // S.O. 2119(E), 2020-07-01 to 2025-03-31

// The visit's hidden economics, drawn first so that answers given far apart in the form
// agree with each other (turnover with workers, the sales split with export shares).
struct Plan {
    int hired = 0;
    std::array<int, 12> cells{};  // [type perm/temp/contract][women/men][under 30 / 30+]
    int owners = 1;
    double investment = 0, turnover = 0, sales = 0, gross = 0;
    int pctNational = 100, pctIndirect = 0, pctDirect = 0;
    bool exporter = false;
    int lines = 1;
    double capacity = 65;
    const char* segment = "other";
    bool jobWorker = false;
};

int cellIndex(int type, int women, int young) { return type * 4 + (women ? 0 : 2) + (young ? 0 : 1); }

// Splits `total` into whole parts proportional to `weights`, summing exactly to `total`.
template <size_t N>
std::array<int, N> apportion(int total, const std::array<double, N>& weights) {
    std::array<int, N> out{};
    double sum = 0;
    for (double w : weights) sum += w;
    if (sum <= 0 || total <= 0) return out;
    std::array<double, N> rest{};
    int given = 0;
    for (size_t i = 0; i < N; ++i) {
        double exact = total * weights[i] / sum;
        out[i] = int(exact);
        rest[i] = exact - out[i];
        given += out[i];
    }
    while (given < total) {
        size_t best = size_t(std::max_element(rest.begin(), rest.end()) - rest.begin());
        ++out[best];
        rest[best] = -1;
        ++given;
    }
    return out;
}

double roundTo(double x, double step) { return std::round(x / step) * step; }

}  // namespace

// ---- one visit in the making -----------------------------------------------------------------

struct VisitGenerator::Walk {
    const UnitProfile& unit;
    const SectorInfo& sector;
    Date date;
    Rng rng;
    FormSession s;
    Plan plan;
    double dontKnow, emptyOptional;
    std::vector<std::string> usedProducts;
    double refusal = 0.03;  // chance that the owner does not consent (setRefusalRate)

    const Template& t() const { return s.survey(); }
    // The current value of another question (outside repeats, or in the same instance).
    const Value& valueOf(std::string_view id, int instance = 0) const {
        static const Value empty;
        int q = t().indexOf(id);
        if (q < 0) return empty;
        if (t().questions[size_t(q)].repeat < 0) instance = 0;
        return s.value(q, instance);
    }
    double numberOf(std::string_view id, double otherwise = -1) const {
        const Value& v = valueOf(id);
        return v.kind() == ValueKind::Number ? v.asNumber() : otherwise;
    }
    bool is(std::string_view id, std::string_view choice) const {
        const Value& v = valueOf(id);
        return v.kind() == ValueKind::Text && v.asText() == choice;
    }
    Value yesNo(double p) { return Value::text(rng.chance(p) ? "yes" : "no"); }
    Value pick(const Weighted& w) {
        std::vector<double> weights;
        for (const auto& [name, weight] : w) weights.push_back(weight);
        return Value::text(w[rng.weighted(weights)].first);
    }
    // Up to `most` distinct names, at least one, each kept with its weight as a probability.
    Value pickSome(const Weighted& w, int most) {
        std::vector<std::string> out;
        for (const auto& [name, p] : w)
            if (int(out.size()) < most && rng.chance(p)) out.emplace_back(name);
        if (out.empty()) out.emplace_back(w[rng.weighted([&] {
            std::vector<double> ws;
            for (const auto& x : w) ws.push_back(x.second);
            return ws;
        }())].first);
        return Value::choices(std::move(out));
    }
    double sizeFactor(double micro, double small, double medium) const {
        return unit.size == SizeClass::Micro ? micro : unit.size == SizeClass::Small ? small : medium;
    }
};

// A rule of the flagship table: a plausible value for one question id, or nullopt to leave
// it to the generic rules. `attempt` counts retries after a failed constraint.
struct VisitGenerator::Rule {
    QuestionType type;
    std::function<std::optional<Value>(Walk&, int question, int instance, int attempt)> value;
    double dontKnow = -1;  // overrides the generator's rate when >= 0
    bool alwaysAnswer = false;  // never left empty, even when optional (the register key)
};

namespace {

using Walk = VisitGenerator::Walk;
using Rule = VisitGenerator::Rule;
using Result = std::optional<Value>;

Plan makePlan(Walk& w) {
    Plan p;
    Rng& r = w.rng;
    const SectorInfo& sec = w.sector;
    const SizeClass size = w.unit.size;
    const int cls = int(size);
    static const Date k2025 = parseIsoDate("2025-04-01").value();
    const UdyamLimits& lim = w.date >= k2025 ? kLimits2025 : kLimits2020;

    // Workers by size class: micro units mostly under 20, small tens, medium hundreds.
    double workers = size == SizeClass::Micro ? r.logUniform(2, 35) : size == SizeClass::Small ? r.logUniform(15, 160) : r.logUniform(80, 700);
    p.hired = std::max(0, int(workers));
    if (size == SizeClass::Micro && r.chance(0.04)) p.hired = 0;  // owner-run units
    p.owners = size == SizeClass::Micro ? r.range(1, 2) : r.range(1, 4);

    // Exports: larger units export more often; among micro exporters most go through
    // merchant exporters (indirect).
    p.exporter = r.chance(std::min(0.95, sec.exportProb * w.sizeFactor(0.8, 1.3, 1.6)));
    if (p.exporter) {
        int total = int(std::clamp(std::round(r.normal(sec.exportShare, 20)), 10.0, 95.0));
        double directPart = std::clamp(r.normal(w.sizeFactor(0.35, 0.65, 0.8), 0.25), 0.0, 1.0);
        p.pctDirect = int(std::round(total * directPart));
        p.pctIndirect = total - p.pctDirect;
    } else if (r.chance(0.15)) {
        p.pctIndirect = r.range(1, 9);
    }
    p.pctNational = 100 - p.pctDirect - p.pctIndirect;

    // Sales follow the workforce; turnover (exports excluded, as Udyam counts it) is then
    // held inside the unit's size class for the rules in force on the visit date.
    double sales = std::max(1.0, double(p.hired + p.owners)) * sec.salesPerWorker * std::exp(r.normal(0, 0.35));
    double turnover = sales * p.pctNational / 100.0;
    double lowT = cls == 0 ? 3e5 : lim.turnover[cls - 1] * 1.05;
    double highT = lim.turnover[cls] * 0.95;
    double clamped = std::clamp(turnover, lowT, highT);
    p.turnover = roundTo(clamped, 10000);
    p.sales = clamped == turnover ? roundTo(sales, 10000) : roundTo(p.turnover * 100.0 / p.pctNational, 10000);
    double investment = p.turnover * sec.capitalRatio * std::exp(r.normal(0, 0.4));
    p.investment = roundTo(std::clamp(investment, 1e5, lim.investment[cls] * 0.95), 10000);
    p.gross = roundTo(p.sales * r.uniform(0.96, 1.08), 10000);

    // Jobs: women's and youth shares typical of the sector, varied unit by unit.
    double women = std::clamp(r.normal(sec.women, 0.12), 0.0, 1.0);
    double youth = std::clamp(r.normal(sec.youth, 0.12), 0.05, 0.95);
    double perm = r.uniform(0.35, 0.9), temp = r.uniform(0, 0.25), contract = std::max(0.0, 1 - perm - temp);
    std::array<double, 3> type = {perm, temp, contract};
    std::array<double, 12> weights{};
    for (int t = 0; t < 3; ++t)
        for (int wo = 0; wo < 2; ++wo)
            for (int y = 0; y < 2; ++y)
                weights[size_t(cellIndex(t, wo, y))] = type[size_t(t)] * (wo ? women : 1 - women) * (y ? youth : 1 - youth);
    p.cells = apportion(p.hired, weights);

    p.lines = r.chance(0.03) ? 0 : 1 + int(r.weighted({0.45, 0.35, 0.2}));
    p.capacity = std::round(std::clamp(r.normal(66, 15), 20.0, 100.0));
    std::vector<double> segWeights;
    for (const auto& s : sec.segments) segWeights.push_back(s.second);
    p.segment = sec.segments[r.weighted(segWeights)].first;
    p.jobWorker = std::string_view(p.segment) == "job_work";
    return p;
}

std::string digits(Rng& r, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += char('0' + r.range(0, 9));
    return s;
}

std::string hexDigest(Rng& r) {
    static const char* hex = "0123456789abcdef";
    std::string s = "sha256:";
    for (int i = 0; i < 64; ++i) s += hex[r.next() % 16];
    return s;
}

std::string uuidFrom(Rng& r) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) s += '-';
        int d = int(r.next() % 16);
        if (i == 12) d = 4;                 // version 4
        if (i == 16) d = 8 + (d & 3);       // RFC 4122 variant
        s += hex[d];
    }
    return s;
}

Value money(double x) { return Value::number(std::max(0.0, roundTo(x, 1000))); }
Value whole(double x) { return Value::number(std::max(0.0, std::round(x))); }

const Weighted& destinationsFor(Family f) {
    static const Weighted textile = {{"usa", 0.6}, {"eu", 0.6}, {"uk", 0.4}, {"gcc", 0.2}, {"japan_korea", 0.1}, {"australia", 0.15}};
    static const Weighted engineering = {{"usa", 0.4}, {"eu", 0.5}, {"se_asia", 0.3}, {"gcc", 0.3}, {"africa", 0.25}};
    static const Weighted chemical = {{"usa", 0.4}, {"eu", 0.4}, {"se_asia", 0.35}, {"south_asia", 0.3}, {"latin_america", 0.2}};
    static const Weighted other = {{"usa", 0.5}, {"eu", 0.5}, {"uk", 0.3}, {"gcc", 0.35}, {"australia", 0.15}, {"africa", 0.1}};
    switch (f) {
        case Family::Textile: return textile;
        case Family::Engineering: return engineering;
        case Family::Chemical: return chemical;
        default: return other;
    }
}

const Weighted& certsFor(const SectorInfo& s) {
    static const Weighted textile = {{"oeko_tex", 0.5}, {"gots", 0.3}, {"sedex_smeta", 0.3}, {"wrap", 0.2}, {"amfori_bsci", 0.25}, {"iso9001", 0.2}};
    static const Weighted autoParts = {{"iatf16949", 0.6}, {"iso9001", 0.7}, {"iso14001", 0.3}, {"iso45001", 0.2}};
    static const Weighted engineering = {{"iso9001", 0.8}, {"iso14001", 0.25}, {"iso45001", 0.15}, {"ce_reach", 0.1}};
    static const Weighted chemical = {{"iso9001", 0.7}, {"iso14001", 0.45}, {"ce_reach", 0.4}, {"iso45001", 0.15}};
    static const Weighted other = {{"iso9001", 0.6}, {"amfori_bsci", 0.2}, {"sedex_smeta", 0.2}, {"other", 0.1}};
    if (std::string_view(s.id) == "auto_parts") return autoParts;
    switch (s.family) {
        case Family::Textile: return textile;
        case Family::Engineering: return engineering;
        case Family::Chemical: return chemical;
        default: return other;
    }
}

const Weighted& tradesFor(Family f) {
    static const Weighted textile = {{"tailor", 0.6}, {"machine_operator", 0.4}, {"dyeing_tech", 0.2}, {"quality", 0.2}, {"merchandiser", 0.2}, {"maintenance", 0.2}};
    static const Weighted engineering = {{"cnc_machinist", 0.6}, {"welder_fitter", 0.4}, {"machine_operator", 0.3}, {"quality", 0.3}, {"maintenance", 0.3}};
    static const Weighted chemical = {{"machine_operator", 0.4}, {"quality", 0.4}, {"maintenance", 0.3}, {"supervisor", 0.3}};
    static const Weighted craft = {{"artisan", 0.6}, {"design", 0.3}, {"machine_operator", 0.3}, {"supervisor", 0.2}};
    switch (f) {
        case Family::Textile: return textile;
        case Family::Engineering: return engineering;
        case Family::Chemical: return chemical;
        default: return craft;
    }
}

bool wetProcess(const Walk& w) {
    std::string_view seg = w.plan.segment;
    return seg == "processing_dyeing" || seg == "chemical_processing" || w.sector.family == Family::Chemical ||
           std::string_view(w.sector.id) == "leather";
}

// Mean obstacle rating (0 none .. 4 very severe) by obstacle, shifted by what the sector
// is known to suffer from.
double obstacleMean(const Walk& w, std::string_view name) {
    double m = 1.3;
    Family f = w.sector.family;
    std::string_view sec = w.sector.id;
    if (name == "electricity") m = (sec == "foundry" || sec == "glass" || sec == "ceramics") ? 2.6 : 1.6;
    else if (name == "finance") m = w.unit.size == SizeClass::Micro ? 2.3 : 1.6;
    else if (name == "skills" || name == "labour_supply") m = f == Family::Textile || f == Family::Engineering ? 2.2 : 1.6;
    else if (name == "environment") m = wetProcess(w) ? 2.4 : 0.8;
    else if (name == "raw_material") m = f == Family::Textile || f == Family::Food ? 2.2 : 1.7;
    else if (name == "delayed_payments") m = 2.0;
    else if (name == "customs_trade") m = w.plan.exporter ? 1.8 : 0.6;
    else if (name == "licensing" || name == "labour_regs") m = 1.0;
    return m;
}

Result scalePoint(Walk& w, double mean) { return Value::number(std::clamp(std::round(w.rng.normal(mean, 1.1)), 0.0, 4.0)); }

int workerCell(const std::string& id) {
    static const std::unordered_map<std::string, int> cells = [] {
        std::unordered_map<std::string, int> m;
        const char* types[] = {"perm", "temp", "contract"};
        for (int t = 0; t < 3; ++t)
            for (int wo = 0; wo < 2; ++wo)
                for (int y = 0; y < 2; ++y)
                    m[std::string("workers_") + types[t] + (wo ? "_women" : "_men") + (y ? "_u30" : "_30plus")] = cellIndex(t, wo, y);
        return m;
    }();
    auto it = cells.find(id);
    return it == cells.end() ? -1 : it->second;
}

double hiredOf(const Walk& w) {
    double h = w.numberOf("workers_hired", -1);
    return h >= 0 ? h : w.plan.hired;
}

// The flagship table. Each rule is used only when the template's question has the same
// type; a value the session refuses falls back to the generic rules.
const std::unordered_map<std::string, Rule>& flagshipRules() {
    using Q = QuestionType;
    static const std::unordered_map<std::string, Rule> rules = [] {
        std::unordered_map<std::string, Rule> m;
        auto add = [&](const char* id, Q type, auto fn, double dk = -1) {
            m[id] = Rule{type, fn, dk};
        };
        auto yes = [&](const char* id, double p) {
            add(id, Q::SelectOne, [p](Walk& w, int, int, int) -> Result { return w.yesNo(p); });
        };
        // Consent and the visit itself.
        add("visit_date", Q::Date, [](Walk& w, int, int, int) -> Result { return Value::date(w.date); });
        add("officer_id", Q::Text, [](Walk& w, int, int, int) -> Result {
            std::string prefix;
            for (char c : w.unit.district)
                if (prefix.size() < 3 && std::isalpha(static_cast<unsigned char>(c))) prefix += char(std::toupper(static_cast<unsigned char>(c)));
            // Two or three officers per cluster, stable for the cluster.
            int officer = 1 + int(hashText(w.unit.cluster) % 5) + w.rng.range(0, 2);
            char buf[16];
            std::snprintf(buf, sizeof buf, "-%02d", officer);
            return Value::text(prefix + buf);
        }, 0);
        add("cluster", Q::SelectOne, [](Walk& w, int q, int, int) -> Result {
            const ChoiceList* list = w.t().choicesOf(w.t().questions[size_t(q)]);
            if (list && list->indexOf(w.unit.cluster) >= 0) return Value::text(w.unit.cluster);
            return Value::text("other");
        }, 0);
        add("cluster_other", Q::Text, [](Walk& w, int, int, int) -> Result { return Value::text(w.unit.cluster); }, 0);
        add("unit_name", Q::Text, [](Walk& w, int, int, int) -> Result { return Value::text(w.unit.name); }, 0);
        add("register_id", Q::Text, [](Walk& w, int, int, int) -> Result { return Value::text(w.unit.unitId); }, 0);
        // The report weights visits by the register's strata: the unit's key is always given.
        m["register_id"].alwaysAnswer = true;
        add("consent", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(1.0 - w.refusal); }, 0);
        add("refusal_reason", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"no_time", 0.4}, {"owner_absent", 0.25}, {"distrust", 0.15}, {"survey_fatigue", 0.1}, {"closed", 0.05}, {"other", 0.05}});
        }, 0);
        add("respondent_name", Q::Text, [](Walk& w, int, int, int) -> Result {
            const StateInfo* s = stateByName(w.unit.state);
            return Value::text(w.rng.pick(personNames(s ? s->region : 'N')));
        }, 0.01);
        add("respondent_phone", Q::Text, [](Walk& w, int, int, int) -> Result {
            return Value::text(std::string(1, char('6' + w.rng.range(0, 3))) + digits(w.rng, 9));
        }, 0.12);
        add("respondent_role", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"owner", 0.6}, {"partner", 0.1}, {"family", 0.1}, {"manager", 0.14}, {"accountant", 0.05}, {"other", 0.01}});
        }, 0);
        // Identity.
        add("udyam_registered", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.sizeFactor(0.75, 0.95, 0.99)); }, 0);
        add("udyam_number", Q::Text, [](Walk& w, int, int, int) -> Result {
            char buf[64];
            std::snprintf(buf, sizeof buf, "UDYAM-%s-%02d-%s", w.unit.stateCode.c_str(), w.unit.districtCode % 100,
                          digits(w.rng, 7).c_str());
            return Value::text(buf);
        }, 0.03);
        add("legal_form", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            if (w.unit.size == SizeClass::Micro)
                return w.pick({{"proprietorship", 0.62}, {"partnership", 0.22}, {"pvt_ltd", 0.08}, {"llp", 0.03}, {"huf", 0.03}, {"cooperative", 0.02}});
            return w.pick({{"proprietorship", 0.2}, {"partnership", 0.3}, {"pvt_ltd", 0.4}, {"llp", 0.07}, {"public_ltd", 0.03}});
        });
        add("owner_social_category", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"general", 0.42}, {"obc", 0.42}, {"sc", 0.11}, {"st", 0.05}});
        }, 0.01);
        add("nic_code", Q::Text, [](Walk& w, int, int, int) -> Result { return Value::text(w.sector.nic); }, 0.12);
        add("pin_code", Q::Text, [](Walk& w, int, int, int) -> Result {
            return Value::text(w.unit.pinPrefix.substr(0, 3) + digits(w.rng, 3));
        }, 0.01);
        add("gps", Q::Gps, [](Walk& w, int, int, int) -> Result {
            GeoPoint p{std::clamp(w.unit.latitude + w.rng.normal(0, 0.03), -90.0, 90.0),
                       std::clamp(w.unit.longitude + w.rng.normal(0, 0.03), -180.0, 180.0), std::round(w.rng.uniform(3, 25))};
            return Value::geo(p);
        }, 0);
        add("year_started", Q::Integer, [](Walk& w, int, int, int) -> Result {
            int year = 1970 + w.date.days / 365;
            int age = int(std::round(w.rng.logUniform(1, w.sizeFactor(35, 45, 55))));
            return Value::number(std::max(1900, year - age));
        }, 0.02);
        add("segment", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return Value::text(w.plan.segment); }, 0);
        add("investment_pm", Q::Money, [](Walk& w, int, int, int) -> Result { return Value::number(w.plan.investment); }, 0.02);
        add("turnover", Q::Money, [](Walk& w, int, int, int) -> Result { return Value::number(w.plan.turnover); }, 0.02);
        // Production.
        add("production_mode", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            if (w.plan.jobWorker) return w.pick({{"job_work", 0.8}, {"both", 0.2}});
            return w.pick({{"own_orders", 0.55}, {"job_work", 0.15}, {"both", 0.3}});
        });
        add("product", Q::SelectOne, [](Walk& w, int q, int inst, int attempt) -> Result {
            const ChoiceList* list = w.t().choicesOf(w.t().questions[size_t(q)]);
            std::vector<int> avail = w.s.availableChoices(q, inst);
            if (!list || avail.empty()) return std::nullopt;
            std::vector<std::string> fits;
            for (const char* p : w.sector.products) {
                int i = list->indexOf(p);
                if (i >= 0 && std::find(avail.begin(), avail.end(), i) != avail.end() &&
                    std::find(w.usedProducts.begin(), w.usedProducts.end(), p) == w.usedProducts.end())
                    fits.emplace_back(p);
            }
            std::string name;
            if (!fits.empty() && attempt == 0) name = w.rng.pick(fits);
            else name = list->names[size_t(w.rng.pick(avail))];
            w.usedProducts.push_back(name);
            return Value::text(name);
        }, 0);
        add("line_output_value", Q::Money, [](Walk& w, int, int, int) -> Result {
            return money(w.plan.gross / std::max(1, w.plan.lines) * w.rng.uniform(0.6, 1.4));
        }, 0.08);
        add("line_export_share", Q::Percent, [](Walk& w, int, int, int) -> Result {
            double e = w.plan.pctDirect + w.plan.pctIndirect;
            return whole(std::clamp(e + (e > 0 ? w.rng.normal(0, 12) : 0), 0.0, 100.0));
        }, 0.06);
        add("line_capacity_util", Q::Percent, [](Walk& w, int, int, int) -> Result {
            return whole(std::clamp(w.plan.capacity + w.rng.normal(0, 8), 5.0, 100.0));
        }, 0.05);
        add("capacity_util", Q::Percent, [](Walk& w, int, int, int) -> Result { return Value::number(w.plan.capacity); }, 0.03);
        add("low_capacity_reason", Q::SelectMultiple, [](Walk& w, int, int, int) -> Result {
            return w.pickSome({{"orders", 0.6}, {"working_capital", 0.3}, {"labour", 0.25}, {"power", 0.2}, {"season", 0.2},
                               {"raw_material", 0.15}, {"machines", 0.1}}, 3);
        });
        add("shifts", Q::Integer, [](Walk& w, int, int, int) -> Result {
            bool continuous = w.sector.family == Family::Chemical || std::string_view(w.sector.id) == "glass";
            return Value::number(double(1 + (continuous ? w.rng.weighted({0.2, 0.3, 0.5}) : w.rng.weighted({0.65, 0.28, 0.07}))));
        });
        add("working_days", Q::Integer, [](Walk& w, int, int, int) -> Result { return Value::number(w.rng.range(270, 330)); });
        // Markets: the split sums to 100 by construction.
        add("sales_total", Q::Money, [](Walk& w, int, int, int) -> Result { return Value::number(w.plan.sales); }, 0.04);
        add("sales_national", Q::Percent, [](Walk& w, int, int, int) -> Result { return Value::number(w.plan.pctNational); }, 0.01);
        add("sales_indirect_export", Q::Percent, [](Walk& w, int, int, int) -> Result { return Value::number(w.plan.pctIndirect); }, 0.01);
        add("sales_direct_export", Q::Percent, [](Walk& w, int, int, int) -> Result {
            double national = w.numberOf("sales_national"), indirect = w.numberOf("sales_indirect_export");
            if (national >= 0 && indirect >= 0 && national + indirect <= 100) return Value::number(100 - national - indirect);
            return Value::number(w.plan.pctDirect);
        }, 0);
        add("export_destinations", Q::SelectMultiple, [](Walk& w, int, int, int) -> Result {
            return w.pickSome(destinationsFor(w.sector.family), w.plan.exporter ? 4 : 1);
        });
        add("iec_held", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.plan.pctDirect > 0 ? 0.95 : 0.1); });
        add("buyer_types", Q::SelectMultiple, [](Walk& w, int, int, int) -> Result {
            if (w.plan.exporter)
                return w.pickSome({{"exporter", 0.5}, {"intl_brand", 0.5}, {"domestic_brand", 0.3}, {"wholesaler", 0.2}}, 3);
            return w.pickSome({{"wholesaler", 0.55}, {"manufacturer", 0.35}, {"domestic_brand", 0.2}, {"consumers", 0.2},
                               {"government", 0.05}}, 3);
        });
        add("top_buyer_share", Q::Percent, [](Walk& w, int, int, int) -> Result { return whole(std::clamp(w.rng.normal(35, 15), 5.0, 100.0)); }, 0.05);
        // Quality and compliance.
        add("intl_cert", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            double yes = (w.plan.exporter ? 0.45 : 0.08) * w.sizeFactor(0.7, 1.4, 1.8);
            return w.pick({{"yes", yes}, {"in_process", 0.05}, {"no", std::max(0.0, 0.95 - yes)}});
        }, 0);
        add("certs", Q::SelectMultiple, [](Walk& w, int, int, int) -> Result { return w.pickSome(certsFor(w.sector), 3); }, 0.01);
        add("zed_level", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"none", 0.8}, {"bronze", 0.14}, {"silver", 0.05}, {"gold", 0.01}});
        });
        yes("bis_licence", 0.12);
        add("buyer_audits", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.plan.exporter ? 0.65 : 0.12); });
        add("buyer_audit_count", Q::Integer, [](Walk& w, int, int, int) -> Result { return Value::number(w.rng.range(1, 8)); });
        add("rejection_rate", Q::Percent, [](Walk& w, int, int, int) -> Result {
            return Value::number(roundTo(std::clamp(w.rng.logUniform(0.3, 12), 0.0, 100.0), 0.1));
        }, 0.06);
        add("order_dispatch_days", Q::Integer, [](Walk& w, int, int, int) -> Result { return whole(w.rng.logUniform(5, 90)); });
        add("traceability", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"none", 0.4}, {"paper_batch", 0.4}, {"digital_batch", 0.15}, {"full_chain", 0.05}});
        });
        yes("testing_access", 0.45);
        // Jobs: the twelve cells come from the plan; the rest stay below the hired total.
        for (const char* type : {"perm", "temp", "contract"})
            for (const char* sex : {"women", "men"})
                for (const char* age : {"u30", "30plus"}) {
                    std::string id = std::string("workers_") + type + "_" + sex + "_" + age;
                    add(id.c_str(), Q::Integer, [id](Walk& w, int, int, int attempt) -> Result {
                        if (attempt > 0) return std::nullopt;
                        return Value::number(w.plan.cells[size_t(workerCell(id))]);
                    }, 0.003);
                }
        add("working_owners", Q::Integer, [](Walk& w, int, int, int) -> Result { return Value::number(w.plan.owners); }, 0);
        add("working_owners_women", Q::Integer, [](Walk& w, int, int, int) -> Result {
            int owners = int(w.numberOf("working_owners", w.plan.owners));
            int women = 0;
            for (int i = 0; i < owners; ++i) women += w.rng.chance(0.12 + w.sector.women * 0.2) ? 1 : 0;
            return Value::number(women);
        }, 0.01);
        add("migrant_workers", Q::Integer, [](Walk& w, int, int, int) -> Result {
            double share = w.sector.family == Family::Textile || w.sector.family == Family::Engineering ? 0.35 : 0.15;
            return whole(hiredOf(w) * std::clamp(w.rng.normal(share, 0.15), 0.0, 1.0));
        }, 0.05);
        add("hired_written_contract", Q::Integer, [](Walk& w, int, int, int) -> Result {
            return whole(hiredOf(w) * std::clamp(w.rng.normal(w.sizeFactor(0.25, 0.6, 0.85), 0.2), 0.0, 1.0));
        }, 0.04);
        add("hired_paid_leave", Q::Integer, [](Walk& w, int, int, int) -> Result {
            return whole(hiredOf(w) * std::clamp(w.rng.normal(w.sizeFactor(0.35, 0.65, 0.9), 0.2), 0.0, 1.0));
        }, 0.04);
        add("hired_social_security", Q::Integer, [](Walk& w, int, int, int) -> Result {
            return whole(hiredOf(w) * std::clamp(w.rng.normal(w.sizeFactor(0.2, 0.7, 0.95), 0.2), 0.0, 1.0));
        }, 0.05);
        add("hired_all_three", Q::Integer, [](Walk& w, int, int, int) -> Result {
            double a = w.numberOf("hired_written_contract"), b = w.numberOf("hired_paid_leave"), c = w.numberOf("hired_social_security");
            double most = std::min({a, b, c});
            if (most < 0) most = hiredOf(w) * 0.2;
            return whole(most * w.rng.uniform(0.7, 1.0));
        }, 0.05);
        add("formal_training", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.sizeFactor(0.2, 0.45, 0.7)); });
        add("workers_trained", Q::Integer, [](Walk& w, int, int, int) -> Result { return whole(hiredOf(w) * w.rng.uniform(0.05, 0.5)); }, 0.04);
        add("female_top_manager", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(0.04 + w.sector.women * 0.15); });
        add("female_owner", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(0.06 + w.sector.women * 0.15); });
        add("female_owned_pct", Q::Percent, [](Walk& w, int, int, int) -> Result {
            return Value::number(double(std::array<int, 4>{100, 50, 25, 33}[w.rng.weighted({0.35, 0.45, 0.1, 0.1})]));
        });
        add("workers_perm_3y_ago", Q::Integer, [](Walk& w, int, int, int) -> Result {
            int perm = 0;
            for (int i = 0; i < 4; ++i) perm += w.plan.cells[size_t(i)];
            return whole(perm / std::pow(1 + w.rng.normal(0.03, 0.06), 3));
        }, 0.08);
        add("vacancies_hard", Q::Integer, [](Walk& w, int, int, int) -> Result { return whole(w.plan.hired * w.rng.uniform(0, 0.12)); }, 0.03);
        // Costs: shares of gross output typical of the sector; inputs stay below output in
        // most units, so value added is mostly positive.
        add("gross_output", Q::Money, [](Walk& w, int, int, int) -> Result { return Value::number(w.plan.gross); }, 0.03);
        auto share = [&](const char* id, auto part, double dk) {
            add(id, Q::Money, [part](Walk& w, int, int, int) -> Result { return money(w.plan.gross * part(w)); }, dk);
        };
        share("cost_materials", [](Walk& w) { return w.sector.materials * w.rng.uniform(0.85, 1.15); }, 0.03);
        share("cost_power", [](Walk& w) { return w.sector.energy * 0.7 * w.rng.uniform(0.7, 1.3); }, 0.03);
        share("cost_fuel", [](Walk& w) { return w.sector.energy * 0.3 * w.rng.uniform(0.3, 1.5); }, 0.03);
        share("cost_water", [](Walk& w) { return w.rng.uniform(0.001, wetProcess(w) ? 0.02 : 0.005); }, 0.05);
        share("cost_jobwork", [](Walk& w) { return w.plan.jobWorker ? w.rng.uniform(0, 0.03) : w.rng.uniform(0.01, 0.15); }, 0.04);
        share("cost_other_inputs", [](Walk& w) { return w.rng.uniform(0.02, 0.06); }, 0.04);
        add("cost_wages", Q::Money, [](Walk& w, int, int, int) -> Result {
            return money((w.plan.hired + w.plan.owners) * 12 * w.rng.uniform(9000, 22000));
        }, 0.03);
        // Infrastructure.
        add("outages", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(0.55); }, 0.01);
        add("outages_per_month", Q::Integer, [](Walk& w, int, int, int) -> Result { return whole(std::max(1.0, w.rng.logUniform(1, 30))); });
        add("outage_hours", Q::Decimal, [](Walk& w, int, int, int) -> Result { return Value::number(roundTo(w.rng.uniform(0.5, 6), 0.5)); });
        add("outage_loss_pct", Q::Percent, [](Walk& w, int, int, int) -> Result { return Value::number(roundTo(w.rng.logUniform(0.2, 10), 0.1)); }, 0.1);
        add("generator", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.sizeFactor(0.3, 0.7, 0.9)); });
        add("generator_share", Q::Percent, [](Walk& w, int, int, int) -> Result { return whole(w.rng.uniform(1, 25)); }, 0.1);
        yes("water_shortage", 0.25);
        add("space", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.pick({{"adequate", 0.45}, {"tight", 0.4}, {"cramped", 0.15}}); });
        yes("premises_owned", 0.55);
        add("road_access", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"truck_all_weather", 0.6}, {"small_vehicles", 0.3}, {"poor", 0.1}});
        });
        add("worker_housing", Q::SelectMultiple, [](Walk& w, int, int, int) -> Result {
            return w.pickSome({{"commute", 0.7}, {"rented_nearby", 0.5}, {"unit_hostel", 0.15}, {"shortage", 0.15}}, 3);
        });
        add("distance_port_km", Q::Integer, [](Walk& w, int, int, int) -> Result {
            return whole(std::clamp(w.unit.portDistanceKm * w.rng.uniform(0.9, 1.1), 0.0, 3000.0));
        }, 0.05);
        // Environment.
        add("effluent_route", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            if (wetProcess(w)) return w.pick({{"cetp", 0.5}, {"own_etp", 0.22}, {"zld", 0.18}, {"untreated", 0.1}});
            return w.pick({{"no_effluent", 0.78}, {"untreated", 0.12}, {"cetp", 0.06}, {"own_etp", 0.04}});
        }, 0.01);
        add("effluent_cost", Q::Money, [](Walk& w, int, int, int) -> Result { return money(w.plan.gross * w.rng.uniform(0.002, 0.02)); }, 0.08);
        add("cto_status", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            if (wetProcess(w)) return w.pick({{"valid", 0.72}, {"applied", 0.1}, {"expired", 0.12}, {"none", 0.06}});
            return w.pick({{"valid", 0.45}, {"applied", 0.08}, {"expired", 0.07}, {"not_required", 0.3}, {"none", 0.1}});
        });
        add("energy_sources", Q::SelectMultiple, [](Walk& w, int, int, int) -> Result {
            std::string_view s = w.sector.id;
            double gas = s == "glass" || s == "ceramics" ? 0.9 : 0.05, coal = s == "foundry" || wetProcess(w) ? 0.4 : 0.03;
            return w.pickSome({{"grid", 0.97}, {"solar", 0.15}, {"diesel", 0.3}, {"gas", gas}, {"coal", coal},
                               {"biomass", w.sector.family == Family::Food ? 0.5 : 0.04}, {"lpg", 0.08}, {"furnace_oil", s == "foundry" ? 0.3 : 0.02}}, 4);
        });
        add("electricity_kwh", Q::Decimal, [](Walk& w, int, int, int) -> Result {
            return whole(w.plan.gross * w.sector.energy * 0.7 / w.rng.uniform(7, 10));  // at INR 7-10 per kWh
        }, 0.25);
        add("solar_kw", Q::Decimal, [](Walk& w, int, int, int) -> Result { return whole(w.rng.logUniform(3, w.sizeFactor(30, 200, 800))); }, 0.05);
        yes("energy_audit", 0.1);
        add("waste_handling", Q::SelectMultiple, [](Walk& w, int, int, int) -> Result {
            return w.pickSome({{"recycler", 0.5}, {"municipal", 0.45}, {"reuse", 0.2}, {"tsdf", wetProcess(w) ? 0.5 : 0.05},
                               {"burnt", 0.1}, {"dumped", 0.08}}, 3);
        });
        // Finance.
        add("has_loan", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.sizeFactor(0.35, 0.6, 0.75)); }, 0.01);
        add("loan_applied", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.is("has_loan", "yes") ? 0.45 : 0.2); }, 0.01);
        add("loan_outcome", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"approved_full", 0.5}, {"approved_part", 0.2}, {"rejected", 0.15}, {"pending", 0.1}, {"withdrawn", 0.05}});
        }, 0.01);
        add("no_apply_reason", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"no_need", 0.35}, {"procedures", 0.2}, {"collateral", 0.15}, {"interest", 0.12}, {"informal", 0.08},
                           {"size_maturity", 0.05}, {"not_approved", 0.04}, {"other", 0.01}});
        });
        yes("collateral_required", 0.72);
        add("collateral_pct", Q::Decimal, [](Walk& w, int, int, int) -> Result { return whole(w.rng.uniform(60, 200)); }, 0.1);
        yes("cgtmse_used", 0.1);
        yes("eclgs_used", 0.15);
        yes("informal_credit", 0.3);
        add("days_receivable", Q::Integer, [](Walk& w, int, int, int) -> Result { return whole(w.rng.logUniform(15, 150)); }, 0.05);
        // Technology and skills.
        add("new_product", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.sizeFactor(0.3, 0.5, 0.65)); });
        add("new_process", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.sizeFactor(0.2, 0.4, 0.55)); });
        add("rd_spend", Q::Money, [](Walk& w, int, int, int) -> Result {
            return w.rng.chance(w.sizeFactor(0.8, 0.5, 0.3)) ? Value::number(0) : money(w.plan.sales * w.rng.uniform(0.001, 0.02));
        }, 0.08);
        add("machinery_age", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            return w.pick({{"under5", 0.2}, {"5to10", 0.35}, {"10to20", 0.3}, {"over20", 0.15}});
        });
        yes("machinery_new_3y", 0.3);
        add("digital_use", Q::SelectMultiple, [](Walk& w, int, int, int attempt) -> Result {
            if (attempt > 0 || w.rng.chance(w.sizeFactor(0.12, 0.02, 0))) return Value::choices({"none"});
            return w.pickSome({{"whatsapp_email", 0.85}, {"digital_payments", 0.75}, {"computer", 0.5}, {"accounting", 0.45},
                               {"website", 0.2}, {"erp", w.sizeFactor(0.03, 0.2, 0.5)}, {"ecommerce", 0.08}, {"cad_cam", 0.08}}, 6);
        });
        add("ip_held", Q::SelectMultiple, [](Walk& w, int, int, int attempt) -> Result {
            if (attempt > 0 || w.rng.chance(0.85)) return Value::choices({"none"});
            return w.pickSome({{"trademark", 0.7}, {"design", 0.3}, {"gi", 0.1}, {"patent", 0.05}}, 2);
        });
        add("skill_gaps", Q::SelectMultiple, [](Walk& w, int, int, int attempt) -> Result {
            if (attempt > 0 || w.rng.chance(0.15)) return Value::choices({"none"});
            return w.pickSome(tradesFor(w.sector.family), 3);
        });
        add("training_partners", Q::SelectMultiple, [](Walk& w, int, int, int attempt) -> Result {
            if (attempt > 0 || w.rng.chance(0.3)) return Value::choices({"none"});
            return w.pickSome({{"in_house", 0.7}, {"iti", 0.2}, {"ssc", 0.15}, {"association", 0.15}, {"buyer", 0.1},
                               {"msme_tc", 0.1}, {"supplier", 0.08}}, 3);
        });
        // Schemes: most units have not heard of most schemes; ZED, CGTMSE and ECLGS reached
        // more (ECLGS was the COVID-time credit guarantee).
        auto scheme = [&](const char* id, double aware, double received) {
            add(id, Q::SelectOne, [aware, received](Walk& w, int, int, int) -> Result {
                return w.pick({{"unaware", 1 - aware}, {"aware", aware - received - 0.05}, {"applied", 0.05}, {"received", received}});
            }, 0.03);
        };
        scheme("scheme_msecdp", 0.35, 0.04);
        scheme("scheme_sfurti", 0.2, 0.02);
        scheme("scheme_zed", 0.45, 0.08);
        scheme("scheme_cgtmse", 0.5, 0.1);
        scheme("scheme_eclgs", 0.45, 0.14);
        scheme("scheme_ramp", 0.15, 0.01);
        scheme("scheme_state", 0.4, 0.08);
        add("state_scheme_name", Q::Text, [](Walk& w, int, int, int) -> Result {
            return Value::text(w.unit.state + " MSME promotion policy: capital subsidy");
        });
        add("association_member", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.sizeFactor(0.4, 0.65, 0.8)); });
        add("association_name", Q::Text, [](Walk& w, int, int, int) -> Result {
            std::string noun = w.sector.nouns[0];
            return Value::text(w.unit.district + " " + noun + " Manufacturers' Association");
        });
        yes("uses_cfc", 0.2);
        add("willing_coinvest", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.yesNo(w.sizeFactor(0.25, 0.4, 0.5)); }, 0.02);
        add("coinvest_facility", Q::SelectMultiple, [](Walk& w, int, int, int) -> Result {
            return w.pickSome({{"testing_lab", 0.4}, {"training_centre", 0.3}, {"cetp", wetProcess(w) ? 0.5 : 0.02},
                               {"design_centre", 0.2}, {"raw_material_bank", 0.25}, {"tool_room", w.sector.family == Family::Engineering ? 0.4 : 0.05},
                               {"warehouse", 0.1}, {"marketing", 0.15}, {"energy", 0.1}}, 3);
        });
        add("coinvest_amount", Q::Money, [](Walk& w, int, int, int) -> Result { return money(w.rng.logUniform(5e4, w.sizeFactor(1e6, 5e6, 2e7))); }, 0.15);
        // Obstacles, then the biggest one: the highest rated, ties broken at random.
        for (const char* name : {"electricity", "water", "transport", "land", "finance", "raw_material", "skills", "labour_supply",
                                 "labour_regs", "tax", "licensing", "environment", "informal_competition", "delayed_payments",
                                 "market_access", "customs_trade"}) {
            std::string n = name;
            add((std::string("obs_") + name).c_str(), Q::Scale, [n](Walk& w, int, int, int) -> Result { return scalePoint(w, obstacleMean(w, n)); }, 0.01);
        }
        add("biggest_obstacle", Q::SelectOne, [](Walk& w, int q, int, int) -> Result {
            const ChoiceList* list = w.t().choicesOf(w.t().questions[size_t(q)]);
            if (!list) return std::nullopt;
            double best = -1;
            std::vector<std::string> top;
            for (const auto& name : list->names) {
                double v = w.numberOf("obs_" + name);
                if (v > best) best = v, top.clear();
                if (v == best) top.push_back(name);
            }
            if (top.empty() || best < 0) return std::nullopt;
            return Value::text(w.rng.pick(top));
        }, 0.01);
        // Collaboration.
        yes("joint_purchasing", 0.1);
        yes("joint_marketing", 0.12);
        yes("joint_training", 0.15);
        for (const char* id : {"trust_peers", "trust_association", "trust_government"})
            add(id, Q::Scale, [](Walk& w, int, int, int) -> Result { return scalePoint(w, 2.0); }, 0.04);
        // "Other, please specify": short texts an officer would write.
        auto specify = [&](const char* id, std::vector<const char*> texts) {
            add(id, Q::Text, [texts](Walk& w, int, int, int) -> Result { return Value::text(w.rng.pick(texts)); }, 0.01);
        };
        specify("refusal_other", {"Unit under renovation", "Family function at home", "Owner asked to come after the season"});
        specify("respondent_role_other", {"Supervisor", "Owner's son", "Production in-charge"});
        specify("segment_other", {"Packing and finishing", "Trading with some manufacturing", "Raw material processing"});
        specify("product_other", {"Made-to-order items", "Samples for buyers", "Spare parts", "Packaging material"});
        specify("certs_other", {"Buyer's own code of conduct", "FSC chain of custody", "Halal"});
        specify("no_apply_other", {"Waiting for GST registration", "Bank branch too far", "Partner disagreed"});
        specify("coinvest_facility_other", {"Common effluent pipeline", "Creche for workers' children", "Raw material depot"});
        // Officer's notes.
        add("records_source", Q::SelectOne, [](Walk& w, int, int, int) -> Result {
            if (w.unit.size == SizeClass::Micro) return w.pick({{"books", 0.25}, {"partly", 0.45}, {"memory", 0.3}});
            return w.pick({{"books", 0.7}, {"partly", 0.25}, {"memory", 0.05}});
        });
        add("interview_quality", Q::SelectOne, [](Walk& w, int, int, int) -> Result { return w.pick({{"good", 0.7}, {"fair", 0.25}, {"poor", 0.05}}); });
        add("observations", Q::Text, [](Walk& w, int, int, int) -> Result {
            static const std::vector<const char*> floor = {"Clean, well-lit shop floor", "Crowded shop floor", "Orderly floor with marked aisles",
                                                           "Old shed with poor ventilation", "New building, partly used"};
            static const std::vector<const char*> detail = {"the owner showed GST returns for the turnover figure",
                                                            "figures for costs are the owner's estimates",
                                                            "fire extinguishers were out of date",
                                                            "the unit works mostly on orders from one buyer",
                                                            "power cuts during the visit stopped the machines"};
            int machines = std::max(1, int((w.plan.hired + w.plan.owners) * w.rng.uniform(0.4, 1.0)));
            return Value::text(std::string(w.rng.pick(floor)) + " with about " + std::to_string(machines) + " machines; " + w.rng.pick(detail) + ".");
        });
        yes("photo_consent", 0.7);
        add("photo_works", Q::Photo, [](Walk& w, int, int, int) -> Result { return Value::text(hexDigest(w.rng)); });
        add("photo_facility", Q::Photo, [](Walk& w, int, int, int) -> Result { return Value::text(hexDigest(w.rng)); });
        add("visit_minutes", Q::Integer, [](Walk& w, int, int, int) -> Result { return whole(std::clamp(w.rng.normal(50, 12), 15.0, 120.0)); }, 0);
        return m;
    }();
    return rules;
}

// ---- generic values: any template ------------------------------------------------------------

bool idHas(const Question& q, std::string_view part) { return q.id.find(part) != std::string::npos; }

Value genericNumber(Walk& w, const Question& q, int attempt) {
    Rng& r = w.rng;
    bool money = q.type == QuestionType::Money;
    bool integer = q.type == QuestionType::Integer;
    auto shape = [&](double x) { return integer ? std::round(x) : money ? roundTo(x, 100) : roundTo(x, 0.1); };
    if (idHas(q, "year") && attempt < 2) return Value::number(1970 + w.date.days / 365 - r.range(0, 30));
    switch (attempt) {
        case 0: return Value::number(shape(money ? r.logUniform(1e4, 1e7) : q.type == QuestionType::Percent ? r.uniform(0, 100) : r.uniform(0, 60)));
        case 1: return Value::number(shape(r.uniform(0, 10)));
        case 2: return Value::number(1);
        case 3: return Value::number(0);
        case 4: return Value::number(shape(r.uniform(1, 5)));
        case 5: return Value::number(shape(r.uniform(10, 100)));
        case 6: return Value::number(shape(r.uniform(100, 2000)));
        default: return Value::number(100);
    }
}

Value genericPercent(Walk& w, int question, int attempt) {
    const Template& t = w.t();
    const Question& q = t.questions[size_t(question)];
    if (attempt == 1) {
        // Shares that must add up to 100: what the answered percents beside it leave.
        double sum = 0;
        const Question& parent = t.questions[size_t(q.parent)];
        for (int sib : parent.children) {
            if (sib == question || t.questions[size_t(sib)].type != QuestionType::Percent) continue;
            const Value& v = w.s.value(sib, 0);
            if (v.kind() == ValueKind::Number) sum += v.asNumber();
        }
        return Value::number(std::clamp(100 - sum, 0.0, 100.0));
    }
    if (attempt == 0) return Value::number(std::round(w.rng.uniform(0, 100)));
    return Value::number(attempt == 2 ? 0 : attempt == 3 ? 100 : std::round(w.rng.uniform(0, 20)));
}

Value genericText(Walk& w, const Question& q, int attempt) {
    switch (attempt) {
        case 0:
            if (idHas(q, "phone") || idHas(q, "mobile")) return Value::text("9" + digits(w.rng, 9));
            if (idHas(q, "name")) {
                const StateInfo* s = stateByName(w.unit.state);
                return Value::text(w.rng.pick(personNames(s ? s->region : 'N')));
            }
            return Value::text("Noted during the visit");
        case 1: return Value::text(digits(w.rng, 6));
        case 2: return Value::text(digits(w.rng, 5));
        case 3: return Value::text("9" + digits(w.rng, 9));
        case 4: return Value::text("A");
        case 5: return Value::text(w.unit.name.empty() ? "Unit" : w.unit.name);
        default: return Value::text(digits(w.rng, 4));
    }
}

Value genericValue(Walk& w, int question, int instance, int attempt) {
    const Question& q = w.t().questions[size_t(question)];
    Rng& r = w.rng;
    switch (q.type) {
        case QuestionType::Integer:
        case QuestionType::Decimal:
        case QuestionType::Money: return genericNumber(w, q, attempt);
        case QuestionType::Percent: return genericPercent(w, question, attempt);
        case QuestionType::Date: {
            int back = attempt == 0 ? r.range(0, 3650) : attempt == 1 ? 0 : r.range(0, 365);
            return Value::date(Date{w.date.days - back});
        }
        case QuestionType::SelectOne:
        case QuestionType::Scale: {
            std::vector<int> avail = w.s.availableChoices(question, instance);
            if (avail.empty()) return Value();
            const std::string& name = w.t().choicesOf(q)->names[size_t(r.pick(avail))];
            if (q.type == QuestionType::SelectOne) return Value::text(name);
            return Value::number(std::strtod(name.c_str(), nullptr));
        }
        case QuestionType::SelectMultiple: {
            std::vector<int> avail = w.s.availableChoices(question, instance);
            if (avail.empty()) return Value();
            const auto& names = w.t().choicesOf(q)->names;
            std::vector<std::string> chosen;
            // First a few at once; after a failed constraint, one alone (exclusive choices
            // such as "none" often forbid company).
            int want = attempt == 0 ? r.range(1, std::min<int>(3, int(avail.size()))) : 1;
            for (int k = 0; k < want * 3 && int(chosen.size()) < want; ++k) {
                const std::string& n = names[size_t(r.pick(avail))];
                if (std::find(chosen.begin(), chosen.end(), n) == chosen.end()) chosen.push_back(n);
            }
            return Value::choices(std::move(chosen));
        }
        case QuestionType::Gps:
            return Value::geo({std::clamp(w.unit.latitude + r.normal(0, 0.03), -90.0, 90.0),
                               std::clamp(w.unit.longitude + r.normal(0, 0.03), -180.0, 180.0), std::round(r.uniform(3, 25))});
        case QuestionType::Photo: return Value::text(hexDigest(r));
        case QuestionType::Text: return genericText(w, q, attempt);
        default: return Value();
    }
}

}  // namespace

// ---- the generator ---------------------------------------------------------------------------

VisitGenerator::VisitGenerator(std::shared_ptr<const Template> survey, uint64_t seed) : m_t(std::move(survey)), m_seed(seed) {
    assert(m_t && "VisitGenerator needs a loaded template");
    const auto& table = flagshipRules();
    m_rules.assign(m_t->questions.size(), nullptr);
    for (const auto& q : m_t->questions) {
        auto it = table.find(q.id);
        if (it != table.end() && it->second.type == q.type) m_rules[size_t(q.index)] = &it->second;
    }
}

void VisitGenerator::setMissingRates(double dontKnow, double emptyOptional) {
    m_dontKnow = std::clamp(dontKnow, 0.0, 1.0);
    m_emptyOptional = std::clamp(emptyOptional, 0.0, 1.0);
}

void VisitGenerator::setRefusalRate(double refusal) { m_refusal = std::clamp(refusal, 0.0, 1.0); }

void VisitGenerator::answerQuestion(Walk& w, int question, int instance) const {
    const Question& q = m_t->questions[size_t(question)];
    const Rule* rule = m_rules[size_t(question)];
    FormSession& s = w.s;
    const bool required = s.isRequired(question, instance);
    // A rule's own rate is set for the default; other rates scale it (0 turns all off).
    double dk = rule && rule->dontKnow >= 0 ? std::min(1.0, rule->dontKnow * w.dontKnow / kDefaultDontKnow) : w.dontKnow;
    if (q.allowDontKnow && dk > 0 && w.rng.chance(dk)) {
        // "Refused" a fifth as often as "don't know".
        if (s.setAnswer(question, instance, w.rng.chance(0.2) ? Value::refused() : Value::dontKnow()).ok()) return;
    }
    if (!required && !(rule && rule->alwaysAnswer) && w.emptyOptional > 0 && w.rng.chance(w.emptyOptional)) {
        (void)s.setAnswer(question, instance, Value());
        return;
    }
    for (int attempt = 0; attempt < kAnswerAttempts; ++attempt) {
        std::optional<Value> v;
        if (rule && attempt < kRuleAttempts) v = rule->value(w, question, instance, attempt);
        if (!v) v = genericValue(w, question, instance, rule ? std::max(0, attempt - kRuleAttempts) : attempt);
        if (v->isEmpty()) break;
        if (!s.setAnswer(question, instance, std::move(*v)).ok()) continue;
        if (s.constraintHolds(question, instance)) return;
    }
    // Nothing fitted: a "don't know" is an honest answer where allowed; else leave it open.
    if (q.allowDontKnow && required && s.setAnswer(question, instance, Value::dontKnow()).ok()) return;
    (void)s.setAnswer(question, instance, Value());
}

void VisitGenerator::walk(Walk& w, int question, int instance) const {
    const Question& q = m_t->questions[size_t(question)];
    if (!w.s.isRelevant(question, instance)) return;
    if (q.type == QuestionType::Repeat) {
        int count = q.id == "product_lines" ? w.plan.lines : int(w.rng.weighted({0.15, 0.4, 0.3, 0.15}));
        for (int i = 0; i < count; ++i) {
            int at = w.s.addInstance(question);
            for (int child : q.children) walk(w, child, at);
        }
        return;
    }
    if (q.isContainer()) {
        for (int child : q.children) walk(w, child, instance);
        return;
    }
    if (q.isAnswerable()) answerQuestion(w, question, instance);
}

bool VisitGenerator::attempt(Walk& w) const {
    w.plan = makePlan(w);
    for (int section : m_t->sections) walk(w, section, 0);
    // Questions that a later answer made relevant or required, and answers a later one
    // contradicts: fix them where validate() finds them.
    for (int round = 0; round < kFixRounds; ++round) {
        auto problems = w.s.validate();
        if (problems.empty()) return true;
        for (const auto& p : problems) {
            const Question& q = m_t->questions[size_t(p.at.question)];
            if (q.repeat >= 0 && p.at.instance >= w.s.instanceCount(q.repeat)) continue;
            answerQuestion(w, p.at.question, p.at.instance);
        }
    }
    return w.s.validate().empty();
}

GeneratedVisit VisitGenerator::generateVisit(const UnitProfile& unit, Date visitDate) const {
    const SectorInfo& sector = sectorById(unit.sector);
    uint64_t base = m_seed ^ hashText(unit.unitId, 0x51A7) ^ (uint64_t(uint32_t(visitDate.days)) * 0x9E3779B97F4A7C15ull);
    std::optional<GeneratedVisit> last;
    for (int attemptNo = 1; attemptNo <= kVisitAttempts; ++attemptNo) {
        Rng rng(base + uint64_t(attemptNo) * 0xD1B54A32D192ED03ull);
        // Created during office hours, India time (UTC+5:30).
        int64_t createdAt = int64_t(visitDate.days) * 86400 + rng.range(9 * 3600, 17 * 3600) - 19800;
        std::string id = uuidFrom(rng);
        Walk w{unit, sector, visitDate, rng, FormSession(m_t, id, createdAt), Plan{}, m_dontKnow, m_emptyOptional, {}, m_refusal};
        w.s.setToday(visitDate);
        if (attempt(w)) return GeneratedVisit{std::move(w.s), attemptNo, {}};
        auto problems = w.s.validate();
        last.emplace(GeneratedVisit{std::move(w.s), attemptNo, std::move(problems)});
    }
    return std::move(*last);
}

FormSession VisitGenerator::generate(const UnitProfile& unit, Date visitDate) const {
    return std::move(generateVisit(unit, visitDate).session);
}

std::string answersJsonText(const FormSession& session) {
    const Template& t = session.survey();
    Record r = session.toRecord();
    // Calculations are recomputed by whoever reads the answers; they take no answer.
    auto keep = [&](const Answer& a) {
        const Question* q = t.find(a.questionId);
        return q && (q->isAnswerable() || q->type == QuestionType::Repeat);
    };
    std::function<void(std::vector<Answer>&)> prune = [&](std::vector<Answer>& answers) {
        answers.erase(std::remove_if(answers.begin(), answers.end(), [&](const Answer& a) { return !keep(a); }), answers.end());
        for (auto& a : answers)
            for (auto& inst : a.instances) prune(inst);
    };
    prune(r.answers);
    return answersToJson(r.answers).dump(2) + "\n";
}

}  // namespace ck
