#include "core/template/report_layout.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ck {

using nlohmann::json;

namespace {

struct PhraseDefault {
    const char* key;
    const char* en;
    const char* hi;
};

constexpr PhraseDefault kPhrases[] = {
#define CK_REPORT_PHRASE(name, en, hi) {#name, en, hi},
#include "core/template/report_phrases.inc"
#undef CK_REPORT_PHRASE
};
static_assert(std::size(kPhrases) == size_t(ReportPhrase::Count));

// The languages the built-in words exist in.
const char* builtInPhrase(const PhraseDefault& p, std::string_view language) {
    if (language == "en") return p.en;
    if (language == "hi") return p.hi;
    return nullptr;
}

constexpr std::pair<const char*, ReportTableKind> kTableKinds[] = {
    {"estimates", ReportTableKind::Estimates},     {"pairs", ReportTableKind::Pairs},
    {"fieldwork", ReportTableKind::Fieldwork},     {"comparison", ReportTableKind::Comparison},
    {"clusters", ReportTableKind::Clusters},       {"money", ReportTableKind::Money},
    {"precision_flags", ReportTableKind::PrecisionFlags}, {"suppressed_cells", ReportTableKind::SuppressedCells},
    {"officers", ReportTableKind::Officers},       {"weeks", ReportTableKind::Weeks},
    {"strata", ReportTableKind::Strata},
};

constexpr std::pair<const char*, ReportChartKind> kChartKinds[] = {
    {"none", ReportChartKind::None}, {"bars", ReportChartKind::Bars},
    {"bars_with_intervals", ReportChartKind::BarsWithIntervals}, {"paired_bars", ReportChartKind::PairedBars},
};

constexpr std::pair<const char*, ReportCondition> kConditions[] = {
    {"always", ReportCondition::Always},          {"visits", ReportCondition::Visits},
    {"no_visits", ReportCondition::NoVisits},     {"register", ReportCondition::Register},
    {"no_register", ReportCondition::NoRegister}, {"weighted", ReportCondition::Weighted},
    {"unweighted", ReportCondition::Unweighted},  {"cluster_scope", ReportCondition::ClusterScope},
    {"wider_scope", ReportCondition::WiderScope}, {"strata_complete", ReportCondition::StrataComplete},
    {"strata_gaps", ReportCondition::StrataGaps},
};

// Figures the builder knows for any template, usable in any sentence, title or note.
constexpr const char* kReportFigures[] = {
    "scope", "visits", "responded", "response_rate", "register_units", "visited_share", "clusters_in_scope",
    "published", "caution", "suppressed", "officers", "officer_min", "officer_max", "officer_median",
    "first_day", "last_day", "weeks", "empty_strata", "unlisted_strata", "compared_with", "key_indicators",
    "parts", "against", "cv_publish", "cv_caution", "min_observations", "min_units", "dominant_units",
    "dominance_share", "fpc_threshold", "share_interval",
};
// What `{indicator.field}` may ask for.
constexpr const char* kIndicatorFields[] = {"label", "low", "high", "interval"};

template <class Pairs>
std::string names(const Pairs& pairs) {
    std::string s;
    for (const auto& p : pairs) s += (s.empty() ? "" : ", ") + std::string(p.first);
    return s;
}

// A table kind's allowed charts: estimates draw bars (with intervals or not), pairs paired
// bars, counts per officer or week plain bars; the rest are tables only.
bool chartFits(ReportTableKind table, ReportChartKind chart) {
    if (chart == ReportChartKind::None) return true;
    switch (table) {
        case ReportTableKind::Estimates: return chart == ReportChartKind::Bars || chart == ReportChartKind::BarsWithIntervals;
        case ReportTableKind::Pairs: return chart == ReportChartKind::PairedBars;
        case ReportTableKind::Officers:
        case ReportTableKind::Weeks: return chart == ReportChartKind::Bars;
        default: return false;
    }
}

class LayoutReader {
public:
    explicit LayoutReader(const ReportLayoutContext& ctx) : m_ctx(ctx), m_t(ctx.survey) {
        for (size_t i = 0; i < m_t.indicators.size(); ++i) m_indicators[m_t.indicators[i].id] = int(i);
    }

    ReportLayout read(const json& doc) {
        ReportLayout layout;
        layout.declared = true;
        const std::string where = "report layout";
        if (!doc.is_object()) {
            m_ctx.error("report", "layout", "'layout' must be an object with 'sections' (see survey-templates/FORMAT.md)");
            return layout;
        }
        checkKeys(doc, {"sections", "phrases"}, where);
        auto sections = doc.find("sections");
        if (sections == doc.end() || !sections->is_array() || sections->empty()) {
            m_ctx.error(where, "sections", "'sections' must be a non-empty list");
        } else {
            std::set<std::string> ids;
            for (const json& s : *sections) {
                if (!s.is_object()) {
                    m_ctx.error(where, "sections", "each section must be an object with id, title and tables");
                    continue;
                }
                ReportSectionSpec sec = readSection(s);
                if (!sec.id.empty() && !ids.insert(sec.id).second)
                    m_ctx.error("report section '" + sec.id + "'", "id", "the section id is used twice");
                layout.sections.push_back(std::move(sec));
            }
        }
        // Highlights may name a table of another section: checked once every table is known.
        for (const ReportSectionSpec& sec : layout.sections)
            for (const ReportHighlightSpec& h : sec.highlights) checkTableRef(layout, sec.id, h);
        readPhrases(doc, layout);
        return layout;
    }

private:
    void checkKeys(const json& obj, std::initializer_list<const char*> allowed, const std::string& where) {
        for (auto it = obj.begin(); it != obj.end(); ++it)
            if (std::none_of(allowed.begin(), allowed.end(), [&](const char* k) { return it.key() == k; }))
                m_ctx.error(where, it.key(), "unknown key '" + it.key() + "' (see survey-templates/FORMAT.md, \"Report layout\")");
    }

    std::optional<std::string> readId(const json& obj, const char* key, const std::string& where) {
        auto it = obj.find(key);
        if (it == obj.end()) {
            m_ctx.error(where, key, std::string("'") + key + "' is missing");
            return std::nullopt;
        }
        if (!it->is_string() || it->get_ref<const std::string&>().empty()) {
            m_ctx.error(where, key, std::string("'") + key + "' must be a non-empty string");
            return std::nullopt;
        }
        return it->get<std::string>();
    }

    int indicatorOf(const json& v, const std::string& where, const char* key) {
        if (!v.is_string()) {
            m_ctx.error(where, key, "an indicator is named by its id, a string");
            return -1;
        }
        auto it = m_indicators.find(v.get<std::string>());
        if (it != m_indicators.end()) return it->second;
        m_ctx.error(where, key, "there is no indicator '" + v.get<std::string>() + "' (the template's 'indicators' list)");
        return -1;
    }

    // Every `{...}` in every language's text must name a figure the builder can fill there.
    void checkPlaceholders(const LocalText& text, const std::string& where, const char* key,
                           const std::vector<std::string>& local = {}) {
        for (size_t l = 0; l < text.byLanguage.size(); ++l) {
            const std::string& s = text.byLanguage[l];
            for (size_t at = s.find_first_of("{}"); at != std::string::npos; at = s.find_first_of("{}", at + 1)) {
                std::string lang = m_t.languages.size() > l ? m_t.languages[l] : "?";
                if (s[at] == '}') {
                    m_ctx.error(where, key, "'}' without '{' in the '" + lang + "' text");
                    break;
                }
                size_t end = s.find('}', at);
                if (end == std::string::npos) {
                    m_ctx.error(where, key, "'{' without '}' in the '" + lang + "' text");
                    break;
                }
                std::string name = s.substr(at + 1, end - at - 1), field;
                if (auto dot = name.find('.'); dot != std::string::npos) {
                    field = name.substr(dot + 1);
                    name.resize(dot);
                }
                bool known = false;
                if (field.empty()) {
                    known = m_indicators.count(name) ||
                            std::any_of(std::begin(kReportFigures), std::end(kReportFigures), [&](const char* f) { return name == f; }) ||
                            std::any_of(local.begin(), local.end(), [&](const std::string& f) { return name == f; });
                    if (!known)
                        m_ctx.error(where, key, "placeholder '{" + name + "}' in the '" + lang +
                                                    "' text names no indicator and no report figure (FORMAT.md lists the figures)");
                } else if (!m_indicators.count(name)) {
                    m_ctx.error(where, key, "placeholder '{" + name + "." + field + "}' in the '" + lang + "' text: there is no indicator '" + name + "'");
                } else if (std::none_of(std::begin(kIndicatorFields), std::end(kIndicatorFields), [&](const char* f) { return field == f; })) {
                    m_ctx.error(where, key, "placeholder '{" + name + "." + field + "}' in the '" + lang +
                                                "' text: an indicator gives label, low, high or interval");
                }
                at = end;
            }
        }
    }

    LocalText text(const json& obj, const char* key, const std::string& where, bool required,
                   const std::vector<std::string>& local = {}) {
        LocalText t = m_ctx.text(obj, key, where, required);
        checkPlaceholders(t, where, key, local);
        return t;
    }

    ReportSectionSpec readSection(const json& s) {
        ReportSectionSpec sec;
        auto id = readId(s, "id", "a report section");
        std::string where = "report section '" + (id ? *id : std::string("?")) + "'";
        if (id) sec.id = *id;
        checkKeys(s, {"id", "title", "highlights", "otherwise", "tables"}, where);
        sec.title = text(s, "title", where, true);
        sec.otherwise = text(s, "otherwise", where, false);
        auto tables = s.find("tables");
        if (tables == s.end() || !tables->is_array() || tables->empty()) {
            m_ctx.error(where, "tables", "'tables' must be a non-empty list");
        } else {
            for (const json& t : *tables) {
                if (!t.is_object()) {
                    m_ctx.error(where, "tables", "each table must be an object with id, kind and title");
                    continue;
                }
                sec.tables.push_back(readTable(t));
            }
        }
        if (auto hs = s.find("highlights"); hs != s.end()) {
            if (!hs->is_array()) {
                m_ctx.error(where, "highlights", "'highlights' must be a list");
            } else {
                for (const json& h : *hs) {
                    if (!h.is_object()) {
                        m_ctx.error(where, "highlights", "each highlight must be an object with a 'text'");
                        continue;
                    }
                    sec.highlights.push_back(readHighlight(h, where));
                }
            }
        }
        return sec;
    }

    ReportTableSpec readTable(const json& t) {
        ReportTableSpec spec;
        auto id = readId(t, "id", "a report table");
        std::string where = "report table '" + (id ? *id : std::string("?")) + "'";
        if (id) {
            spec.id = *id;
            if (spec.id.size() > 31 || spec.id.find_first_of("[]:*?/\\") != std::string::npos)
                m_ctx.error(where, "id", "a table id names an XLSX sheet: at most 31 characters, none of [ ] : * ? / \\");
            if (!m_tableIds.insert(spec.id).second) m_ctx.error(where, "id", "the table id is used twice");
        }
        checkKeys(t, {"id", "kind", "title", "note", "columns", "indicators", "pairs", "chart", "axis", "order"}, where);
        if (auto k = t.find("kind"); k != t.end()) {
            auto it = k->is_string() ? std::find_if(std::begin(kTableKinds), std::end(kTableKinds),
                                                    [&](auto& p) { return k->get<std::string>() == p.first; })
                                     : std::end(kTableKinds);
            if (it == std::end(kTableKinds))
                m_ctx.error(where, "kind", "unknown table kind " + k->dump() + " (" + names(kTableKinds) + ")");
            else
                spec.kind = it->second;
        }
        spec.title = text(t, "title", where, true);
        spec.note = text(t, "note", where, false);
        spec.axis = text(t, "axis", where, false);
        if (auto c = t.find("chart"); c != t.end()) {
            auto it = c->is_string() ? std::find_if(std::begin(kChartKinds), std::end(kChartKinds),
                                                    [&](auto& p) { return c->get<std::string>() == p.first; })
                                     : std::end(kChartKinds);
            if (it == std::end(kChartKinds))
                m_ctx.error(where, "chart", "unknown chart kind " + c->dump() + " (" + names(kChartKinds) + ")");
            else if (!chartFits(spec.kind, it->second))
                m_ctx.error(where, "chart", std::string("a '") + reportTableKindName(spec.kind) + "' table cannot be drawn as '" +
                                                it->first + "'");
            else
                spec.chart = it->second;
        }
        if (auto o = t.find("order"); o != t.end()) {
            if (!o->is_string() || (*o != "as_listed" && *o != "ranked"))
                m_ctx.error(where, "order", "'order' is \"as_listed\" or \"ranked\" (largest first, hidden figures last)");
            else if (spec.kind != ReportTableKind::Estimates)
                m_ctx.error(where, "order", "only an 'estimates' table can be ranked");
            else
                spec.ranked = *o == "ranked";
        }

        // Columns: an estimates table names its one column, a pairs table its two; the
        // builder names the columns of every other kind.
        size_t wantColumns = spec.kind == ReportTableKind::Estimates || spec.kind == ReportTableKind::Fieldwork ? 1
                             : spec.kind == ReportTableKind::Pairs                                              ? 2
                                                                                                                : 0;
        if (auto c = t.find("columns"); c != t.end()) {
            if (wantColumns == 0) {
                m_ctx.error(where, "columns", std::string("the report names the columns of a '") + reportTableKindName(spec.kind) + "' table");
            } else if (!c->is_array() || c->size() != wantColumns) {
                m_ctx.error(where, "columns", std::string("a '") + reportTableKindName(spec.kind) + "' table has " +
                                                  std::to_string(wantColumns) + (wantColumns == 1 ? " column" : " columns") +
                                                  ": give a list of that many headings");
            } else {
                for (size_t i = 0; i < c->size(); ++i) {
                    json holder = {{"heading", (*c)[i]}};
                    spec.columns.push_back(text(holder, "heading", where + ", column " + std::to_string(i + 1), true));
                }
            }
        } else if (wantColumns > 0 && spec.kind != ReportTableKind::Fieldwork) {
            m_ctx.error(where, "columns", "'columns' is missing: give " + std::to_string(wantColumns) +
                                              (wantColumns == 1 ? " heading" : " headings"));
        }

        bool takesIndicators = spec.kind == ReportTableKind::Estimates || spec.kind == ReportTableKind::Fieldwork ||
                               spec.kind == ReportTableKind::Comparison || spec.kind == ReportTableKind::Clusters ||
                               spec.kind == ReportTableKind::Money;
        auto inds = t.find("indicators");
        auto pairs = t.find("pairs");
        std::set<std::string> keys;
        if (spec.kind == ReportTableKind::Pairs) {
            if (inds != t.end()) m_ctx.error(where, "indicators", "a 'pairs' table lists 'pairs', not 'indicators'");
            if (pairs == t.end() || !pairs->is_array() || pairs->empty()) {
                m_ctx.error(where, "pairs", "'pairs' must be a non-empty list of {\"key\", \"indicators\": [first, second]}");
            } else {
                for (const json& p : *pairs) readPair(p, where, spec, keys);
            }
        } else {
            if (pairs != t.end()) m_ctx.error(where, "pairs", "only a 'pairs' table lists 'pairs'");
            if (inds != t.end() && !takesIndicators) {
                m_ctx.error(where, "indicators", std::string("a '") + reportTableKindName(spec.kind) + "' table shows no indicators");
            } else if (inds != t.end()) {
                if (!inds->is_array()) {
                    m_ctx.error(where, "indicators", "'indicators' must be a list of indicator ids");
                } else {
                    for (const json& v : *inds) readIndicatorRow(v, where, spec, keys);
                }
            }
            bool needsSome = spec.kind == ReportTableKind::Estimates || spec.kind == ReportTableKind::Comparison ||
                             spec.kind == ReportTableKind::Money;
            if (needsSome && (inds == t.end() || (inds->is_array() && inds->empty())))
                m_ctx.error(where, "indicators", std::string("a '") + reportTableKindName(spec.kind) + "' table needs at least one indicator");
        }
        if (spec.kind == ReportTableKind::Money)
            for (const ReportRowSpec& r : spec.rows)
                if (!r.indicators.empty() && r.indicators[0] >= 0 &&
                    m_t.indicators[size_t(r.indicators[0])].kind != IndicatorKind::Total)
                    m_ctx.error(where, "indicators", "'" + r.key + "' is not a 'total' indicator: a money table adds up totals");
        return spec;
    }

    void readIndicatorRow(const json& v, const std::string& where, ReportTableSpec& spec, std::set<std::string>& keys) {
        ReportRowSpec row;
        if (v.is_object()) {
            checkKeys(v, {"id", "label", "short"}, where + ", indicators");
            auto id = v.find("id");
            if (id == v.end()) {
                m_ctx.error(where, "indicators", "an indicator row needs its 'id'");
                return;
            }
            int i = indicatorOf(*id, where, "indicators");
            if (i < 0) return;
            row.key = m_t.indicators[size_t(i)].id;
            row.indicators.push_back(i);
            std::string rowWhere = where + ", row '" + row.key + "'";
            row.label = text(v, "label", rowWhere, false);
            row.shortLabel = text(v, "short", rowWhere, false);
        } else {
            int i = indicatorOf(v, where, "indicators");
            if (i < 0) return;
            row.key = m_t.indicators[size_t(i)].id;
            row.indicators.push_back(i);
        }
        if (!keys.insert(row.key).second) m_ctx.error(where, "indicators", "'" + row.key + "' is listed twice");
        spec.rows.push_back(std::move(row));
    }

    void readPair(const json& p, const std::string& where, ReportTableSpec& spec, std::set<std::string>& keys) {
        if (!p.is_object()) {
            m_ctx.error(where, "pairs", "each pair must be an object {\"key\", \"indicators\": [first, second]}");
            return;
        }
        checkKeys(p, {"key", "indicators", "label", "short"}, where + ", pairs");
        ReportRowSpec row;
        auto key = readId(p, "key", where + ", a pair");
        if (!key) return;
        row.key = *key;
        std::string rowWhere = where + ", pair '" + row.key + "'";
        if (!keys.insert(row.key).second) m_ctx.error(where, "pairs", "the pair key '" + row.key + "' is used twice");
        auto inds = p.find("indicators");
        if (inds == p.end() || !inds->is_array() || inds->size() != 2) {
            m_ctx.error(rowWhere, "indicators", "a pair names exactly two indicators, one per column");
            return;
        }
        for (const json& v : *inds) {
            int i = indicatorOf(v, rowWhere, "indicators");
            if (i < 0) return;
            row.indicators.push_back(i);
        }
        row.label = text(p, "label", rowWhere, false);
        row.shortLabel = text(p, "short", rowWhere, false);
        spec.rows.push_back(std::move(row));
    }

    ReportHighlightSpec readHighlight(const json& h, const std::string& sectionWhere) {
        ReportHighlightSpec spec;
        std::string where = sectionWhere + ", highlight";
        checkKeys(h, {"text", "otherwise", "when", "largest", "top", "count", "widest_gap", "compare", "table"}, where);
        int kinds = 0;
        std::vector<std::string> local;
        static const std::vector<std::string> kLargest = {"label", "value"}, kTop = {"list"}, kGap = {"label", "first", "second"},
                                              kCompare = {"label", "here", "there", "column"};
        auto tableKey = [&](const char* key) -> bool {
            auto it = h.find(key);
            if (it == h.end()) return false;
            ++kinds;
            if (!it->is_string()) m_ctx.error(where, key, std::string("'") + key + "' names a table of the layout by its id");
            else spec.table = it->get<std::string>();
            return true;
        };
        if (tableKey("largest")) spec.kind = ReportHighlightKind::Largest, local = kLargest;
        if (tableKey("top")) spec.kind = ReportHighlightKind::Top, local = kTop;
        if (tableKey("widest_gap")) spec.kind = ReportHighlightKind::WidestGap, local = kGap;
        if (auto c = h.find("compare"); c != h.end()) {
            ++kinds;
            spec.kind = ReportHighlightKind::Compare;
            local = kCompare;
            spec.indicator = indicatorOf(*c, where, "compare");
            auto t = h.find("table");
            if (t == h.end() || !t->is_string()) m_ctx.error(where, "table", "a 'compare' highlight names its comparison 'table'");
            else spec.table = t->get<std::string>();
        } else if (h.count("table")) {
            m_ctx.error(where, "table", "only a 'compare' highlight names a 'table' (the others name it as largest, top or widest_gap)");
        }
        if (kinds > 1) m_ctx.error(where, "", "a highlight is one of: a sentence, largest, top, widest_gap or compare");
        if (h.count("count")) {
            const json& c = h["count"];
            if (spec.kind != ReportHighlightKind::Top) m_ctx.error(where, "count", "only a 'top' highlight has a count");
            else if (!c.is_number_integer() || c.get<int64_t>() < 1 || c.get<int64_t>() > 20)
                m_ctx.error(where, "count", "'count' is a whole number from 1 to 20");
            else spec.count = size_t(c.get<int64_t>());
        }
        if (h.count("otherwise") && spec.kind != ReportHighlightKind::Compare)
            m_ctx.error(where, "otherwise", "only a 'compare' highlight has an 'otherwise' sentence");
        spec.text = text(h, "text", where, true, local);
        if (spec.kind == ReportHighlightKind::Compare) spec.otherwise = text(h, "otherwise", where, true, local);
        if (auto w = h.find("when"); w != h.end()) {
            auto it = w->is_string() ? std::find_if(std::begin(kConditions), std::end(kConditions),
                                                    [&](auto& p) { return w->get<std::string>() == p.first; })
                                     : std::end(kConditions);
            if (it == std::end(kConditions))
                m_ctx.error(where, "when", "unknown condition " + w->dump() + " (" + names(kConditions) + ")");
            else
                spec.when = it->second;
        }
        return spec;
    }

    void checkTableRef(const ReportLayout& layout, const std::string& sectionId, const ReportHighlightSpec& h) {
        if (h.kind == ReportHighlightKind::Text || h.table.empty()) return;
        std::string where = "report section '" + sectionId + "', highlight";
        const char* key = h.kind == ReportHighlightKind::Largest   ? "largest"
                          : h.kind == ReportHighlightKind::Top     ? "top"
                          : h.kind == ReportHighlightKind::WidestGap ? "widest_gap"
                                                                   : "table";
        const ReportTableSpec* t = layout.table(h.table);
        if (!t) {
            std::string known;
            for (const auto& id : m_tableIds) known += (known.empty() ? "" : ", ") + id;
            m_ctx.error(where, key, "there is no table '" + h.table + "' in the layout (tables: " + known + ")");
            return;
        }
        auto wrongKind = [&](const char* want) {
            m_ctx.error(where, key, "table '" + h.table + "' is a '" + reportTableKindName(t->kind) + "' table; this highlight needs " + want);
        };
        switch (h.kind) {
            case ReportHighlightKind::Largest:
                if (t->kind != ReportTableKind::Estimates) wrongKind("an 'estimates' table");
                break;
            case ReportHighlightKind::Top:
                if (t->kind != ReportTableKind::Estimates || !t->ranked) wrongKind("an 'estimates' table with \"order\": \"ranked\"");
                break;
            case ReportHighlightKind::WidestGap:
                if (t->kind != ReportTableKind::Pairs) wrongKind("a 'pairs' table");
                break;
            case ReportHighlightKind::Compare:
                if (t->kind != ReportTableKind::Comparison) wrongKind("a 'comparison' table");
                else if (h.indicator >= 0 && std::none_of(t->rows.begin(), t->rows.end(), [&](const ReportRowSpec& r) {
                             return !r.indicators.empty() && r.indicators[0] == h.indicator;
                         }))
                    m_ctx.error(where, "compare", "indicator '" + m_t.indicators[size_t(h.indicator)].id +
                                                      "' is not a row of the comparison table '" + h.table + "'");
                break;
            case ReportHighlightKind::Text: break;
        }
    }

    void readPhrases(const json& doc, ReportLayout& layout) {
        const std::string where = "report layout phrases";
        std::map<std::string, size_t> index;
        for (size_t i = 0; i < std::size(kPhrases); ++i) index[kPhrases[i].key] = i;
        std::vector<LocalText> given(std::size(kPhrases));
        if (auto p = doc.find("phrases"); p != doc.end()) {
            if (!p->is_object()) {
                m_ctx.error(where, "", "'phrases' must be an object of phrase key to localised text");
            } else {
                for (auto it = p->begin(); it != p->end(); ++it) {
                    auto k = index.find(it.key());
                    if (k == index.end()) {
                        m_ctx.error(where, it.key(), "unknown phrase '" + it.key() + "' (FORMAT.md lists the phrases)");
                        continue;
                    }
                    given[k->second] = m_ctx.text(*p, it.key().c_str(), where, true);
                    // A phrase may use the placeholders its built-in text uses (and any report figure).
                    std::vector<std::string> own;
                    std::string_view en = kPhrases[k->second].en;
                    for (size_t a = en.find('{'); a != std::string_view::npos; a = en.find('{', a + 1))
                        if (size_t b = en.find('}', a); b != std::string_view::npos) own.emplace_back(en.substr(a + 1, b - a - 1));
                    checkPlaceholders(given[k->second], where, it.key().c_str(), own);
                }
            }
        }
        layout.phrases.assign(std::size(kPhrases), {});
        for (size_t l = 0; l < m_t.languages.size(); ++l) {
            std::vector<std::string> missing;
            for (size_t i = 0; i < std::size(kPhrases); ++i) {
                std::string s;
                if (given[i].byLanguage.size() > l && !given[i].byLanguage[l].empty()) s = given[i].byLanguage[l];
                else if (const char* b = builtInPhrase(kPhrases[i], m_t.languages[l])) s = b;
                else missing.push_back(kPhrases[i].key);
                layout.phrases[i].byLanguage.push_back(std::move(s));
            }
            if (!missing.empty()) {
                std::string list;
                for (size_t k = 0; k < missing.size() && k < 8; ++k) list += (k ? ", " : "") + missing[k];
                if (missing.size() > 8) list += " and " + std::to_string(missing.size() - 8) + " more";
                m_ctx.error(where, m_t.languages[l],
                            "the report's built-in words exist in en and hi only: give every phrase in '" + m_t.languages[l] +
                                "' under report.layout.phrases (missing: " + list + ")");
            }
        }
    }

    const ReportLayoutContext& m_ctx;
    const Template& m_t;
    std::map<std::string, int> m_indicators;
    std::set<std::string> m_tableIds;
};

}  // namespace

const char* reportTableKindName(ReportTableKind kind) {
    for (const auto& [name, k] : kTableKinds)
        if (k == kind) return name;
    return "estimates";
}

const char* reportChartKindName(ReportChartKind kind) {
    for (const auto& [name, k] : kChartKinds)
        if (k == kind) return name;
    return "none";
}

const char* reportPhraseKey(ReportPhrase phrase) {
    size_t i = size_t(phrase);
    return i < std::size(kPhrases) ? kPhrases[i].key : "";
}

const ReportTableSpec* ReportLayout::table(std::string_view id) const {
    for (const ReportSectionSpec& s : sections)
        for (const ReportTableSpec& t : s.tables)
            if (t.id == id) return &t;
    return nullptr;
}

ReportLayout readReportLayout(const json& layout, const ReportLayoutContext& ctx) { return LayoutReader(ctx).read(layout); }

namespace {

LocalText phraseText(const Template& t, ReportPhrase p) {
    LocalText text;
    for (const std::string& l : t.languages) {
        const char* s = builtInPhrase(kPhrases[size_t(p)], l);
        text.byLanguage.push_back(s ? s : kPhrases[size_t(p)].en);
    }
    return text;
}

}  // namespace

ReportLayout defaultReportLayout(const Template& t) {
    ReportLayout layout;
    for (size_t i = 0; i < std::size(kPhrases); ++i) layout.phrases.push_back(phraseText(t, ReportPhrase(i)));
    auto P = [&](ReportPhrase p) { return phraseText(t, p); };
    auto rowsOf = [&](std::string_view topic, auto keep) {
        std::vector<ReportRowSpec> rows;
        for (size_t i = 0; i < t.indicators.size(); ++i)
            if (t.indicators[i].topic == topic && keep(t.indicators[i])) rows.push_back({t.indicators[i].id, {int(i)}, {}, {}});
        return rows;
    };
    auto all = [](const Indicator&) { return true; };
    auto estimates = [&](std::string id, std::string_view topic, ReportChartKind chart, auto keep) {
        ReportTableSpec s;
        s.id = std::move(id);
        s.kind = ReportTableKind::Estimates;
        s.title = P(ReportPhrase::section_outcomes);
        s.note = P(ReportPhrase::table_estimates);
        s.columns = {P(ReportPhrase::column_estimate)};
        s.rows = rowsOf(topic, keep);
        s.chart = chart;
        return s;
    };
    auto builtIn = [&](std::string id, ReportTableKind kind, ReportPhrase title) {
        ReportTableSpec s;
        s.id = std::move(id);
        s.kind = kind;
        s.title = P(title);
        if (kind == ReportTableKind::Officers || kind == ReportTableKind::Weeks) s.chart = ReportChartKind::Bars;
        return s;
    };
    auto say = [&](ReportPhrase p, ReportCondition when) {
        ReportHighlightSpec h;
        h.text = P(p);
        h.when = when;
        return h;
    };

    ReportSectionSpec glance{"glance", P(ReportPhrase::section_glance), {}, {}, {}};
    ReportTableSpec field = builtIn("glance_fieldwork", ReportTableKind::Fieldwork, ReportPhrase::table_fieldwork);
    field.rows = rowsOf("glance", [](const Indicator& i) { return i.kind != IndicatorKind::Share; });
    glance.tables.push_back(std::move(field));
    glance.highlights.push_back(say(ReportPhrase::said_answered, ReportCondition::Visits));
    glance.highlights.push_back(say(ReportPhrase::said_no_visits, ReportCondition::NoVisits));
    layout.sections.push_back(std::move(glance));

    // One section per topic that has indicators, in the outline's order.
    const std::pair<const char*, ReportPhrase> topics[] = {
        {"glance", ReportPhrase::section_glance},           {"outcomes", ReportPhrase::section_outcomes},
        {"value_chain", ReportPhrase::section_value_chain}, {"constraints", ReportPhrase::section_constraints},
        {"convergence", ReportPhrase::section_convergence}, {"comparison", ReportPhrase::section_comparison},
        {"data_quality", ReportPhrase::section_data_quality}};
    for (const auto& [topic, title] : topics) {
        if (std::string_view(topic) == "data_quality" || std::string_view(topic) == "comparison") continue;
        // A plain copy: clang 14 (the fuzz build) cannot capture a structured binding.
        const std::string_view topicName = topic;
        auto keep = [topicName](const Indicator& i) { return topicName != "glance" || i.kind == IndicatorKind::Share; };
        ReportTableSpec table = estimates(std::string(topic) + "_estimates", topic, ReportChartKind::None, keep);
        if (table.rows.empty()) continue;
        table.title = P(title);
        if (std::string_view(topic) == "glance") {
            layout.sections[0].tables.push_back(std::move(table));
            continue;
        }
        layout.sections.push_back({topic, P(title), {}, {}, {std::move(table)}});
    }

    ReportSectionSpec cmp{"comparison", P(ReportPhrase::section_comparison), {}, {}, {}};
    ReportTableSpec key = builtIn("comparison_key", ReportTableKind::Comparison, ReportPhrase::table_comparison);
    key.note = P(ReportPhrase::note_comparison);
    key.rows = rowsOf("comparison", all);
    if (key.rows.empty())  // compare the first outcomes when the template marks none for comparison
        for (ReportRowSpec& r : rowsOf("outcomes", all))
            if (key.rows.size() < 5) key.rows.push_back(std::move(r));
    if (!key.rows.empty()) cmp.tables.push_back(std::move(key));
    ReportTableSpec clusters = builtIn("comparison_clusters", ReportTableKind::Clusters, ReportPhrase::table_clusters);
    for (const ReportTableSpec& k : cmp.tables)
        for (size_t i = 0; i < k.rows.size() && i < 2; ++i) clusters.rows.push_back(k.rows[i]);
    cmp.tables.push_back(std::move(clusters));
    ReportTableSpec money = builtIn("comparison_money", ReportTableKind::Money, ReportPhrase::table_money);
    for (size_t i = 0; i < t.indicators.size(); ++i)
        if (t.indicators[i].kind == IndicatorKind::Total && t.indicators[i].unit.rfind("INR", 0) == 0)
            money.rows.push_back({t.indicators[i].id, {int(i)}, {}, {}});
    if (!money.rows.empty()) cmp.tables.push_back(std::move(money));
    layout.sections.push_back(std::move(cmp));

    ReportSectionSpec dq{"data_quality", P(ReportPhrase::section_data_quality), {}, {}, {}};
    dq.tables.push_back(builtIn("dq_precision", ReportTableKind::PrecisionFlags, ReportPhrase::table_flags));
    dq.tables.push_back(builtIn("dq_suppressed", ReportTableKind::SuppressedCells, ReportPhrase::table_suppressed));
    dq.tables.push_back(builtIn("dq_officers", ReportTableKind::Officers, ReportPhrase::table_officers));
    dq.tables.push_back(builtIn("dq_weeks", ReportTableKind::Weeks, ReportPhrase::table_weeks));
    dq.tables.push_back(builtIn("dq_strata", ReportTableKind::Strata, ReportPhrase::table_strata));
    ReportTableSpec quality = estimates("dq_indicators", "data_quality", ReportChartKind::None, all);
    quality.title = P(ReportPhrase::section_data_quality);
    if (!quality.rows.empty()) dq.tables.push_back(std::move(quality));
    dq.highlights.push_back(say(ReportPhrase::said_flags, ReportCondition::Always));
    dq.highlights.push_back(say(ReportPhrase::said_weighted, ReportCondition::Weighted));
    dq.highlights.push_back(say(ReportPhrase::said_unweighted, ReportCondition::Unweighted));
    layout.sections.push_back(std::move(dq));
    return layout;
}

}  // namespace ck
