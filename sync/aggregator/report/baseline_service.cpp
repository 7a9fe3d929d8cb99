#include "sync/aggregator/report/baseline_service.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <ctime>
#include <stdexcept>
#include <thread>

#include "core/record/record.h"
#include "report/csv_text.h"
#include "core/template/template_loader.h"

namespace ck::agg {

namespace {

// Visits decoded and evaluated together on a rebuild: large enough to keep the threads busy,
// small enough that a million stored visits never sit in memory at once.
constexpr size_t kBatch = 4096;

// The cluster a visit counts for is the one the aggregator enrolled its device for (stored
// with the visit at ingest), never an answer the device chose: ingest refuses a visit whose
// `cluster` answer names another, so the two agree for every visit stored since.

// Visits are known by (device, record id): ids are the devices' own, and one device's id
// must never retire or hide another device's visit.
std::string visitKey(std::string_view deviceId, std::string_view recordId) {
    std::string k(deviceId);
    k.push_back('\n');
    k.append(recordId);
    return k;
}

// Visits waiting for the report side at most; past this the report rebuilds instead.
constexpr size_t kMaxQueued = 20000;

int64_t steadySeconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The counted set holds 8 bytes per visit instead of the 36-character id.
uint64_t idKey(std::string_view recordId) { return std::hash<std::string_view>{}(recordId); }

struct Pending {
    std::string cluster;  // the device's enrolled cluster
    std::vector<uint8_t> record;
    std::string recordId, contentHash, deviceId;
    std::string registerStratum, review;  // StoredVisit's
};

// A visit's stratum is the register's for its assigned unit, when ingest knew one; else what
// the template's stratum expression makes of its answers (a unit found in the field).
void takeRegisterStratum(report::VisitObservations& obs, const std::string& registerStratum) {
    if (!registerStratum.empty()) obs.stratum = registerStratum;
}

}  // namespace

BaselineService::BaselineService(AggregatorStorage& storage, BaselineOptions options)
    : m_storage(storage), m_options(std::move(options)) {
    if (m_options.threads == 0) m_options.threads = 1;
    std::lock_guard lock(m_mutex);
    rebuildLocked();
}

void BaselineService::rebuild() {
    std::lock_guard lock(m_mutex);
    rebuildLocked();
}

void BaselineService::rebuildLocked() {
    // A rebuild is report work, ingest is people waiting: it runs on a thread of its own at
    // the lowest CPU priority (Linux nice is per thread; its decoding threads inherit it), so
    // on a busy two-core server uploads keep their CPU while a report is rebuilt.
    std::exception_ptr failure;
    std::thread worker([&] {
        if (m_options.lowPriority) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
        try {
            rebuildNowLocked();
        } catch (...) {
            failure = std::current_exception();
        }
    });
    worker.join();
    if (failure) std::rethrow_exception(failure);
}

void BaselineService::rebuildNowLocked() {
    // Everything queued so far is committed, so the walk below reads it: drop the queue.
    // What arrives during the walk is queued and applied after (alreadyCounted skips it
    // when the walk saw it).
    {
        std::lock_guard queue(m_queueMutex);
        m_queue.clear();
        m_queueOverflow = false;
    }
    // The template: the version asked for, else the newest published one of the id.
    std::optional<PublishedTemplate> chosen;
    if (!m_options.templateVersion.empty()) {
        chosen = m_storage.findTemplate(m_options.templateId, m_options.templateVersion);
        if (!chosen)
            throw BaselineUnavailable("template " + m_options.templateId + " version " + m_options.templateVersion +
                                      " is not published on this aggregator: see `ck-aggregator templates list`");
    } else {
        for (PublishedTemplate& t : m_storage.listTemplates()) {
            if (t.templateId != m_options.templateId) continue;
            if (!chosen || t.publishedAt > chosen->publishedAt ||
                (t.publishedAt == chosen->publishedAt && t.version > chosen->version))
                chosen = std::move(t);
        }
        if (!chosen)
            throw BaselineUnavailable("no version of template " + m_options.templateId +
                                      " is published on this aggregator: publish it with `ck-aggregator templates "
                                      "publish FILE.json` (see `ck-aggregator templates list`)");
    }
    TemplateLoadResult loaded = loadTemplateJson(chosen->jsonText, chosen->templateId + ".json");
    if (!loaded.ok()) {
        std::string why = loaded.errors.empty() ? std::string("unknown error") : loaded.errors.front().toString();
        throw BaselineUnavailable("published template " + chosen->templateId + " version " + chosen->version +
                                  " no longer loads (" + why + "): publish a corrected version");
    }
    // Build everything new first, so a failure midway leaves the previous state intact.
    auto templ = loaded.survey;
    auto evaluator = std::make_unique<report::IndicatorEvaluator>(*templ);
    auto rollup = std::make_unique<report::BaselineRollup>(*templ);

    const std::string& id = templ->id;
    const std::string& version = templ->version;

    // Pass 1: which records a correction replaces (any version of this template: a correction
    // made on a newer version still retires the old record). Metadata only, no decoding.
    std::set<std::string> superseded;
    uint64_t seen = 0;
    m_storage.forEachVisit([&](const StoredVisit& v) {
        ++seen;
        if (v.templateId == id && !v.parentId.empty()) superseded.insert(visitKey(v.deviceId, v.parentId));
        return true;
    }, VisitParts::Metadata);

    // Pass 2: the workers decode and evaluate one batch while this thread reads the next from
    // storage (reading, SQLite and the kernel copying its pages, was about 40% of a million-
    // visit rebuild's CPU time in a profile, decoding and evaluating about 20%, the rollup and
    // allocation most of the rest, so the two overlap instead of taking turns); each batch is added to the rollup in storage order on this thread, so the
    // sums are the same as the incremental path's (floating point addition is not
    // associative: merging per-thread rollups would differ in the last bits).
    std::map<std::string, ClusterInputs> inputs;
    std::map<std::string, ReviewCounts> reviews;
    std::unordered_set<uint64_t> counted;
    const unsigned threads = std::max(1u, m_options.threads);
    struct Batch {
        std::vector<Pending> visits;
        std::vector<std::optional<report::VisitObservations>> observed;
    };
    Batch filling, evaluating;
    filling.visits.reserve(kBatch);
    evaluating.visits.reserve(kBatch);
    std::vector<std::thread> workers;
    // Joins the workers however this function ends (a storage failure mid-walk included).
    struct Joiner {
        std::vector<std::thread>& threads;
        ~Joiner() {
            for (auto& t : threads)
                if (t.joinable()) t.join();
        }
    } joiner{workers};

    auto evaluate = [&evaluator](Batch& b, size_t from, size_t step) {
        for (size_t i = from; i < b.visits.size(); i += step) {
            const std::vector<uint8_t>& bytes = b.visits[i].record;
            RecordDecode d = deserializeRecord(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
            // A stored record that no longer decodes is left out rather than stopping the report.
            if (!d.record) continue;
            b.observed[i] = evaluator->evaluate(*d.record);
            takeRegisterStratum(*b.observed[i], b.visits[i].registerStratum);
        }
    };
    // Starts evaluating `b` on the workers; returns at once unless the batch is too small to share.
    auto start = [&](Batch& b) {
        b.observed.assign(b.visits.size(), std::nullopt);
        if (threads == 1 || b.visits.size() < 64) {
            evaluate(b, 0, 1);
            return;
        }
        for (unsigned t = 0; t < threads; ++t) workers.emplace_back(evaluate, std::ref(b), size_t(t), size_t(threads));
    };
    auto finish = [&](Batch& b) {
        for (auto& t : workers) t.join();
        workers.clear();
        for (size_t i = 0; i < b.visits.size(); ++i) {
            if (!b.observed[i]) continue;
            Pending& p = b.visits[i];
            rollup->add(p.cluster, *b.observed[i]);
            countReview(reviews[p.cluster], p.registerStratum, p.review);
            counted.insert(idKey(visitKey(p.deviceId, p.recordId)));
            inputs[p.cluster].visits.emplace_back(std::move(p.recordId), std::move(p.contentHash));
        }
        b.visits.clear();
    };

    bool inFlight = false;  // `evaluating` holds a batch the workers have or had
    m_storage.forEachVisit([&](const StoredVisit& v) {
        if (v.templateId != id || v.templateVersion != version) return true;
        if (!superseded.empty() && superseded.count(visitKey(v.deviceId, v.recordId))) return true;
        filling.visits.push_back(Pending{v.cluster, v.record, v.recordId, v.contentHash, v.deviceId, v.registerStratum, v.review});
        if (filling.visits.size() >= kBatch) {
            if (inFlight) finish(evaluating);
            std::swap(filling, evaluating);
            start(evaluating);
            inFlight = true;
        }
        return true;
    }, VisitParts::Record);
    if (inFlight) finish(evaluating);
    start(filling);
    finish(filling);

    m_templateJson = std::move(chosen->jsonText);
    m_evaluator = std::move(evaluator);
    m_rollup = std::move(rollup);
    m_template = std::move(templ);  // after the rollup and evaluator that point into the old one are gone
    m_inputs = std::move(inputs);
    m_reviews = std::move(reviews);
    m_counted = std::move(counted);
    m_seen = seen;
    m_superseded = std::move(superseded);
    m_stale = false;
    loadRegisterLocked();
}

void BaselineService::visitStored(const StoredVisit& visit) {
    // Ingest never waits on the report: the visit is queued (a short lock of its own), and
    // applied now only when no report holds the rollup; else the report side applies it.
    {
        std::lock_guard queue(m_queueMutex);
        if (m_queue.size() >= kMaxQueued) {
            // Nobody has drained the queue for a long while (a very long rebuild): a rebuild
            // reads every visit anyway, so stop holding them.
            m_queue.clear();
            m_queueOverflow = true;
        } else if (!m_queueOverflow) {
            StoredVisit q;
            q.recordId = visit.recordId;
            q.contentHash = visit.contentHash;
            q.parentId = visit.parentId;
            q.templateId = visit.templateId;
            q.templateVersion = visit.templateVersion;
            q.deviceId = visit.deviceId;
            q.cluster = visit.cluster;
            q.receivedAt = visit.receivedAt;
            q.record = visit.record;  // the envelope is not needed here
            q.registerStratum = visit.registerStratum;
            q.review = visit.review;
            m_queue.push_back(std::move(q));
        }
    }
    std::unique_lock lock(m_mutex, std::try_to_lock);
    if (lock.owns_lock()) applyQueuedLocked();
}

size_t BaselineService::queuedVisits() {
    std::lock_guard queue(m_queueMutex);
    return m_queue.size();
}

void BaselineService::applyQueuedLocked() {
    std::vector<StoredVisit> queued;
    bool overflow = false;
    {
        std::lock_guard queue(m_queueMutex);
        queued.swap(m_queue);
        overflow = m_queueOverflow;
        m_queueOverflow = false;
    }
    if (overflow) {
        m_stale = true;  // some visits were never queued: read them all before the next report
        return;
    }
    for (const StoredVisit& v : queued) applyLocked(v);
}

void BaselineService::applyLocked(const StoredVisit& visit) {
    // A rebuild between the commit and now may have read the visit already.
    if (alreadyCountedLocked(visit)) return;
    ++m_seen;
    if (!m_template || visit.templateId != m_template->id) return;
    if (!visit.parentId.empty()) {
        // A correction retires a record already in the sums, and moments cannot be taken
        // apart again: rebuild before the next report.
        m_superseded.insert(visitKey(visit.deviceId, visit.parentId));
        m_stale = true;
        return;
    }
    if (m_stale || visit.templateVersion != m_template->version) return;
    if (m_superseded.count(visitKey(visit.deviceId, visit.recordId))) return;  // its correction arrived first
    RecordDecode d = deserializeRecord(
        std::string_view(reinterpret_cast<const char*>(visit.record.data()), visit.record.size()));
    if (!d.record) return;
    const std::string& cluster = visit.cluster;
    report::VisitObservations obs = m_evaluator->evaluate(*d.record);
    takeRegisterStratum(obs, visit.registerStratum);
    m_rollup->add(cluster, obs);
    countReview(m_reviews[cluster], visit.registerStratum, visit.review);
    m_counted.insert(idKey(visitKey(visit.deviceId, visit.recordId)));
    ClusterInputs& in = m_inputs[cluster];
    in.visits.emplace_back(visit.recordId, visit.contentHash);
    in.digest.clear();
}

bool BaselineService::alreadyCountedLocked(const StoredVisit& visit) const {
    if (!m_counted.count(idKey(visitKey(visit.deviceId, visit.recordId)))) return false;
    // The key is a 64-bit hash: confirm on a hit (rare: only the race above), in the visit's
    // own cluster (a device's visits all count for its enrolled cluster).
    auto it = m_inputs.find(visit.cluster);
    if (it == m_inputs.end()) return false;
    for (const auto& [id, hash] : it->second.visits)
        if (id == visit.recordId && hash == visit.contentHash) return true;
    return false;
}

void BaselineService::registerChanged() {
    std::lock_guard lock(m_mutex);
    // The register only gives weights and places, not sums: reloading it is enough.
    loadRegisterLocked();
}

void BaselineService::loadRegisterLocked() {
    std::vector<RegisterUnit> units = m_storage.listRegister();
    if (units != m_register || m_registerDigest.empty()) {
        m_register = std::move(units);
        m_geography = report::Geography::fromRegister(m_register);
        report::InputsHasher h;
        h.registerUnits(m_register);
        m_registerDigest = h.hexDigest();
    }
    m_registerReadAt = steadySeconds();
}

std::string BaselineService::inputsHashLocked(const report::ReportScope& scope) {
    report::InputsHasher hasher;
    hasher.templateText(m_template->id, m_template->version, m_templateJson);
    hasher.part("register", m_registerDigest);
    hasher.scope(scope);
    // Every counted visit, whatever the scope: a cluster's report compares it with its state,
    // its sector and its peers, so their visits are inputs too.
    for (auto& [cluster, in] : m_inputs) {
        if (in.digest.empty()) {
            report::InputsHasher h;
            for (const auto& [id, hash] : in.visits) h.visit(id, hash);
            in.digest = h.hexDigest();
        }
        hasher.part("cluster " + cluster, in.digest);
    }
    return hasher.hexDigest();
}

report::BaselineReport BaselineService::report(report::ReportRequest request) {
    std::lock_guard lock(m_mutex);
    applyQueuedLocked();
    if (!m_stale && m_storage.countVisits() != m_seen) m_stale = true;  // stored by another process
    if (m_stale) rebuildLocked();
    else if (steadySeconds() - m_registerReadAt >= m_options.registerMaxAgeSeconds) loadRegisterLocked();
    if (request.builtAt == 0) request.builtAt = static_cast<int64_t>(std::time(nullptr));
    request.rules = m_options.rules;
    request.inputsHash = inputsHashLocked(request.scope);
    if (request.rules != report::EstimationRules{}) {
        // Other rules, other figures: the settings are part of the inputs.
        report::InputsHasher h;
        h.part("inputs", request.inputsHash);
        const report::DisclosureRules& d = request.rules.disclosure;
        h.part("rules", std::to_string(d.minUnits) + "," + std::to_string(d.dominanceUnits) + "," +
                            std::to_string(d.dominanceShare) + "," + report::shareIntervalName(request.rules.shareInterval));
        request.inputsHash = h.hexDigest();
    }
    report::BaselineReport r = report::buildBaselineReport(*m_rollup, m_geography, request);
    // What ingest held for review among the counted visits in scope (issue 11: the stratum
    // comes from the register, and a visit that disagrees with it is flagged, not dropped).
    ReviewCounts held;
    for (const auto& [cluster, counts] : m_reviews)
        if (report::inScope(m_geography, cluster, request.scope)) {
            held.sizeClass += counts.sizeClass;
            held.unassigned += counts.unassigned;
        }
    if (held.sizeClass + held.unassigned > 0) {
        std::string note = std::to_string(held.sizeClass + held.unassigned) +
                           (held.sizeClass + held.unassigned == 1 ? " visit is" : " visits are") +
                           " held for review (`ck-aggregator review`):";
        if (held.sizeClass)
            note += " " + std::to_string(held.sizeClass) +
                    " answered another size class than the register gives the assigned unit, and are weighted in the "
                    "register's class" + (held.unassigned ? ";" : ".");
        if (held.unassigned)
            note += " " + std::to_string(held.unassigned) +
                    " named no assigned unit (found in the field), and are weighted in the size class their answers "
                    "give.";
        r.methodNotes.push_back(std::move(note));
    }
    r.builtAt = request.builtAt;
    r.inputsHash = request.inputsHash;
    return r;
}

namespace {

// Record ids and place names come from devices and registers: quoted and never a formula.
std::string csvField(const std::string& text) {
    std::string out;
    report::appendCsvField(out, text);
    return out;
}

std::string exact(double v) {
    if (!std::isfinite(v)) return v > 0 ? "Inf" : v < 0 ? "-Inf" : "";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

}  // namespace

std::string BaselineService::designCsv() {
    std::lock_guard lock(m_mutex);
    applyQueuedLocked();
    if (!m_stale && m_storage.countVisits() != m_seen) m_stale = true;
    if (m_stale) rebuildLocked();
    loadRegisterLocked();
    const Template& t = *m_template;
    const std::map<report::StratumKey, double> populations = report::stratumPopulations(*m_rollup, m_geography);

    std::string out = "record_id,cluster,district,state,sector,stratum,design_stratum,responded,population,sampled,weight,"
                      "fpc_population";
    for (const Indicator& ind : t.indicators) out += "," + ind.id + "__d," + ind.id + "__x," + ind.id + "__y";
    out += "\n";
    m_storage.forEachVisit([&](const StoredVisit& v) {
        if (v.templateId != t.id || v.templateVersion != t.version || m_superseded.count(visitKey(v.deviceId, v.recordId))) return true;
        RecordDecode d = deserializeRecord(std::string_view(reinterpret_cast<const char*>(v.record.data()), v.record.size()));
        if (!d.record) return true;  // left out of the sums too
        const std::string& cluster = v.cluster;  // the device's enrolment, as the sums use
        report::VisitObservations obs = m_evaluator->evaluate(*d.record);
        takeRegisterStratum(obs, v.registerStratum);
        const report::StratumKey key{cluster, obs.stratum};
        report::ClusterPlace place;
        if (auto it = m_geography.clusters.find(cluster); it != m_geography.clusters.end()) place = it->second;
        std::string row = csvField(v.recordId) + "," + csvField(cluster) + "," + csvField(place.district) + "," +
                          csvField(place.state) + "," + csvField(place.sector) + "," + csvField(obs.stratum) + "," +
                          csvField(cluster + "/" + obs.stratum) + "," + (obs.responded ? "1" : "0");
        auto acc = m_rollup->strata().find(key);
        auto pop = populations.find(key);
        if (obs.responded && acc != m_rollup->strata().end() && pop != populations.end()) {
            const double n = double(acc->second.responded), N = pop->second;
            const bool registered = N > 0;
            const bool fpc = registered && n / N >= report::kFpcThreshold;
            row += "," + (registered ? exact(N) : std::string()) + "," + exact(n) + "," + (registered ? exact(N / n) : "1") +
                   "," + (fpc ? exact(N) : std::string("Inf"));
        } else {
            row += ",,,,";
        }
        for (size_t i = 0; i < t.indicators.size(); ++i) {
            const bool in = i < obs.values.size() && obs.values[i].inDomain && std::isfinite(obs.values[i].x) &&
                            std::isfinite(obs.values[i].y);
            row += in ? ",1," + exact(obs.values[i].x) + "," + exact(obs.values[i].y) : std::string(",0,,");
        }
        out += row + "\n";
        return true;
    }, VisitParts::Record);
    return out;
}

report::BaselineRollup BaselineService::rollupSnapshot() {
    std::lock_guard lock(m_mutex);
    applyQueuedLocked();
    if (m_stale) rebuildLocked();
    return *m_rollup;
}

const report::Geography& BaselineService::geography() {
    std::lock_guard lock(m_mutex);
    return m_geography;
}

std::vector<std::string> BaselineService::languages() {
    std::lock_guard lock(m_mutex);
    return m_template ? m_template->languages : std::vector<std::string>{};
}

uint64_t BaselineService::visitsCounted() {
    std::lock_guard lock(m_mutex);
    applyQueuedLocked();
    if (m_stale) rebuildLocked();
    return m_rollup->visits();
}

std::optional<report::ReportScope> parseReportScope(std::string_view text, std::string* error) {
    auto fail = [&](std::string why) -> std::optional<report::ReportScope> {
        if (error) *error = std::move(why);
        return std::nullopt;
    };
    report::ReportScope scope;
    if (text == "nation") return scope;
    size_t colon = text.find(':');
    if (colon == std::string_view::npos)
        return fail("scope '" + std::string(text) +
                    "' is not nation, cluster:CODE, district:NAME, state:NAME or sector:NAME");
    std::string_view level = text.substr(0, colon), name = text.substr(colon + 1);
    if (level == "cluster") scope.level = report::ScopeLevel::Cluster;
    else if (level == "district") scope.level = report::ScopeLevel::District;
    else if (level == "state") scope.level = report::ScopeLevel::State;
    else if (level == "sector") scope.level = report::ScopeLevel::Sector;
    else
        return fail("scope '" + std::string(text) +
                    "' is not nation, cluster:CODE, district:NAME, state:NAME or sector:NAME");
    if (name.empty()) return fail("scope " + std::string(level) + ": needs a name, e.g. " + std::string(level) + ":NAME");
    scope.name = std::string(name);
    return scope;
}

}  // namespace ck::agg

namespace ck::agg {

std::vector<std::string> BaselineService::knownScopes() {
    std::lock_guard lock(m_mutex);
    applyQueuedLocked();
    if (m_stale) rebuildLocked();
    std::set<std::string> clusters, districts, states, sectors;
    for (const auto& [code, place] : m_geography.clusters) {
        clusters.insert(code);
        if (!place.district.empty()) districts.insert(place.district);
        if (!place.state.empty()) states.insert(place.state);
        if (!place.sector.empty()) sectors.insert(place.sector);
    }
    for (const auto& [code, fieldwork] : m_rollup->fieldwork()) clusters.insert(code);
    std::vector<std::string> out{"nation"};
    for (const auto& c : clusters) out.push_back("cluster:" + c);
    for (const auto& d : districts) out.push_back("district:" + d);
    for (const auto& s : states) out.push_back("state:" + s);
    for (const auto& s : sectors) out.push_back("sector:" + s);
    return out;
}

}  // namespace ck::agg
