#pragma once
// Shared by the baseline service tests: the flagship template, a synthetic register, and
// realistic visits from ck::VisitGenerator stored as ingest stores them (the opened record
// with its personal answers removed), without the sealing path the report never reads.
#include <sodium.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/crypto/sealed_box.h"
#include "core/record/record.h"
#include "core/synth/visit_generator.h"
#include "core/template/template_loader.h"
#include "sync/aggregator/storage.h"

namespace ck::test {

inline std::filesystem::path reportScratch(const std::string& name) {
    std::filesystem::path base = std::filesystem::path(CK_BINARY_DIR) / "test-scratch" / "test_baseline_service";
    std::filesystem::create_directories(base);
    std::string pattern = (base / (name + "-XXXXXX")).string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed under " + base.string());
    return pattern;
}

inline std::string readAll(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline std::filesystem::path flagshipPath() {
    return std::filesystem::path(CK_SOURCE_DIR) / "survey-templates" / "cluster-diagnostic.json";
}

struct Flagship {
    std::string json;
    std::shared_ptr<const Template> survey;
};
inline Flagship loadFlagship() {
    Flagship f;
    f.json = readAll(flagshipPath());
    TemplateLoadResult r = loadTemplateJson(f.json, "cluster-diagnostic.json");
    if (!r.ok()) throw std::runtime_error("the flagship template does not load: " + r.errors.front().toString());
    f.survey = r.survey;
    return f;
}

inline void publishDirectly(agg::AggregatorStorage& storage, const Flagship& f, int64_t at = 1795000000) {
    storage.putTemplate(agg::PublishedTemplate{f.survey->id, f.survey->version, f.json, std::vector<uint8_t>(64, 1), at},
                        agg::AuditEvent{at, "published", "operator", f.survey->id + "@" + f.survey->version, "test"});
}

inline std::vector<UnitProfile> testRegister(int states, int clustersPerState, int unitsPerCluster, uint64_t seed) {
    return syntheticRegister(states, clustersPerState, unitsPerCluster, seed);
}

inline std::vector<RegisterUnit> registerRows(const std::vector<UnitProfile>& units) {
    std::vector<RegisterUnit> out;
    for (const auto& u : units) out.push_back(RegisterUnit{u.unitId, u.name, u.cluster, u.district, u.state, u.stratum, u.sector});
    return out;
}

inline void stripPii(std::vector<Answer>& answers, const Template& t) {
    std::erase_if(answers, [&](const Answer& a) {
        const Question* q = t.find(a.questionId);
        return q && q->pii;
    });
    for (Answer& a : answers)
        for (auto& instance : a.instances) stripPii(instance, t);
}

inline std::string blake2Hex(const std::string& bytes) {
    uint8_t h[32];
    crypto_generichash(h, sizeof h, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), nullptr, 0);
    return toHex(h, sizeof h);
}

// A stored visit made from `record` (its pii answers removed), received at `receivedAt`.
inline agg::StoredVisit storedVisit(Record record, const Template& t, const std::string& deviceCluster, int64_t receivedAt) {
    stripPii(record.answers, t);
    agg::StoredVisit v;
    v.recordId = record.id;
    v.parentId = record.parentId;
    v.templateId = record.templateId;
    v.templateVersion = record.templateVersion;
    v.deviceId = "dev-0000test";
    v.cluster = deviceCluster;
    v.receivedAt = receivedAt;
    std::string bytes = serializeRecord(record);
    v.contentHash = blake2Hex(bytes);
    v.envelope = {1, 2, 3};  // the report never opens the evidence
    v.record.assign(bytes.begin(), bytes.end());
    return v;
}

// `n` visits to the register's units in turn, one per unit, with distinct receivedAt.
inline std::vector<agg::StoredVisit> generatedVisits(const Flagship& f, const std::vector<UnitProfile>& units, size_t n,
                                                     uint64_t seed, int64_t firstReceived = 1795100000) {
    if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
    VisitGenerator gen(f.survey, seed);
    std::vector<agg::StoredVisit> out;
    for (size_t i = 0; i < n; ++i) {
        const UnitProfile& u = units[i % units.size()];
        Record r = gen.generate(u, Date{20390 + int32_t(i % 25)}).toRecord();
        if (r.id.empty()) r.id = newRecordId();
        out.push_back(storedVisit(std::move(r), *f.survey, u.cluster, firstReceived + int64_t(i)));
    }
    return out;
}

}  // namespace ck::test
