#pragma once
// The aggregator's side of the baseline report: reads the published template, the cluster
// register and the stored visits into a BaselineRollup, keeps it current as visits are
// ingested, and builds reports from it for `ck-aggregator report` and for GET /v1/report.
//
// Which visits count: those of one template id (the newest published version by default);
// a correction (a record whose parentId names another of the same device) replaces the
// record it names, so a superseded record is left out. A visit counts for the cluster its
// device was enrolled for (StoredVisit::cluster), never for a cluster it answers. Visits of other versions are counted for the data-quality
// notes but not estimated.
#include <cstdint>
#include <memory>
#include <mutex>
#include <map>
#include <optional>
#include <unordered_set>
#include <set>
#include <string>
#include <vector>

#include "core/report/baseline_report.h"
#include "core/report/baseline_rollup.h"
#include "core/report/indicator_evaluator.h"
#include "core/template/survey_template.h"
#include "sync/aggregator/storage.h"

namespace ck::agg {

struct BaselineOptions {
    std::string templateId = "cluster-diagnostic";
    std::string templateVersion;  // "" = the newest published version of templateId
    unsigned threads = 2;         // decoding and evaluating stored visits on a rebuild
    // Rebuild at the lowest CPU priority (nice 19), so that on a busy server uploads keep
    // their CPU. Benchmarks on a machine shared with other work turn it off: at nice 19 they
    // would time the other work, not the rebuild.
    bool lowPriority = true;
    // `assign` runs in its own process, so a serving aggregator cannot be told the register
    // changed: it reads the register again when its copy is older than this.
    int64_t registerMaxAgeSeconds = 300;
    // The project's disclosure and interval settings (DataFolder::reportRules); every report
    // this service builds uses them, and they enter its inputs hash.
    report::EstimationRules rules;
};

// Raised when the report cannot be built at all: no such template published, a template that
// no longer loads. Its message says what to do.
struct BaselineUnavailable : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class BaselineService {
public:
    // Loads the template and register and rebuilds from every stored visit.
    BaselineService(AggregatorStorage& storage, BaselineOptions options = {});

    // Reads everything again (template, register, all visits). Safe to call any time.
    void rebuild();
    // A visit just stored (ingest calls this after its transaction commits). Never waits on
    // a report or a rebuild: the visit is queued and applied at once when the rollup is free,
    // else by the report side before it next reads the rollup. Applying updates the rollup
    // in O(indicators), or, for a correction, marks it for a rebuild before the next report.
    // Visits of other templates are ignored.
    void visitStored(const StoredVisit& visit);
    size_t queuedVisits();  // waiting to be applied (tests)
    // The register changed (`assign`): reload it before the next report.
    void registerChanged();

    // The report for `request.scope` (builtAt, inputs hash filled here). Throws
    // std::invalid_argument for an unknown scope (message lists what is known).
    report::BaselineReport report(report::ReportRequest request);

    // The microdata behind the estimates, one CSV row per counted visit (the template's
    // version; corrections applied), with the design as the estimates use it, so that another
    // package (R's survey) can redo every figure: record_id, cluster, district, state, sector,
    // stratum (the template's stratum text), design_stratum (cluster/stratum), responded (1/0;
    // only 1 enters estimates), population (N_h used for the weight; empty: no register),
    // sampled (n_h), weight (N_h / n_h, or 1), fpc_population (N_h where the finite population
    // correction applies, i.e. n_h / N_h >= 5%, else Inf), then per indicator ID: ID__d (1 when
    // in the indicator's domain with a usable answer), ID__x and ID__y (empty outside). No
    // personal answers: indicators read only the de-personalised record.
    std::string designCsv();

    // A copy of the current rollup, for tests (incremental equals rebuild) and benchmarks.
    report::BaselineRollup rollupSnapshot();
    const report::Geography& geography();
    uint64_t visitsCounted();  // visits in the rollup
    // The languages of the template the report follows ([0] is its default).
    std::vector<std::string> languages();
    // Every scope a report can be asked for, as parseReportScope reads them ("nation",
    // "cluster:tiruppur_knitwear", "state:Tamil Nadu", ...), for error messages.
    std::vector<std::string> knownScopes();

private:
    void rebuildLocked();     // m_mutex held: rebuildNowLocked on a low-priority thread
    void rebuildNowLocked();
    void applyQueuedLocked();  // m_mutex held: applies what visitStored queued
    void applyLocked(const StoredVisit& visit);
    AggregatorStorage& m_storage;
    BaselineOptions m_options;
    std::mutex m_mutex;
    std::shared_ptr<const Template> m_template;
    std::string m_templateJson;
    std::unique_ptr<report::IndicatorEvaluator> m_evaluator;
    std::unique_ptr<report::BaselineRollup> m_rollup;
    report::Geography m_geography;
    std::vector<RegisterUnit> m_register;
    void loadRegisterLocked();
    std::string inputsHashLocked(const report::ReportScope& scope);

    int64_t m_registerReadAt = 0;  // steady-clock seconds
    std::string m_registerDigest;  // InputsHasher digest of the register alone
    // The inputs hash is built from one digest per cluster, each over that cluster's counted
    // visits (record id, content hash); a new visit clears only its cluster's digest, so a
    // report does not hash a million visits again.
    struct ClusterInputs {
        std::vector<std::pair<std::string, std::string>> visits;
        std::string digest;  // "" until computed
    };
    std::map<std::string, ClusterInputs> m_inputs;
    // Counted visits held for review at ingest, per cluster (the report's method notes say how
    // many): answers in another size class than the register's, or no assigned unit.
    struct ReviewCounts {
        uint64_t sizeClass = 0, unassigned = 0;
    };
    std::map<std::string, ReviewCounts> m_reviews;
    static void countReview(ReviewCounts& counts, const std::string& registerStratum, const std::string& review) {
        if (review.empty()) return;
        if (registerStratum.empty()) ++counts.unassigned;
        else ++counts.sizeClass;
    }
    bool alreadyCountedLocked(const StoredVisit& visit) const;
    std::unordered_set<uint64_t> m_counted;  // hashes of (device, record id) of the visits in the sums
    // Visits of any template the sums account for (counted, superseded or not estimated).
    // When storage holds another number, someone else stored visits (`import`, a second
    // `serve` on the same PostgreSQL): the next report rebuilds.
    uint64_t m_seen = 0;
    bool m_stale = false;
    std::set<std::string> m_superseded;  // (device, record id) keys some stored correction replaces
    // visitStored's queue: its own lock, never held while a report works.
    std::mutex m_queueMutex;
    std::vector<StoredVisit> m_queue;
    bool m_queueOverflow = false;
};

// Parses "nation", "cluster:CODE", "district:NAME", "state:NAME", "sector:NAME".
// nullopt with `error` set when the text is none of them.
std::optional<report::ReportScope> parseReportScope(std::string_view text, std::string* error);

}  // namespace ck::agg
