// Benchmark: sync and ingest. Prints figures; asserts nothing (this machine is shared and noisy).
//   ingest:    IngestService::upload of batches of 100 flagship visits (about 4 KB each):
//              batch signature, per-record signature check, unseal + decompress, pii removal,
//              store + audit, one transaction per batch. SQLite (a data folder) and
//              PostgreSQL (a throwaway server on loopback). Records/s and CPU time per record.
//   wire:      bytes per record of a ten-question visit, up and down, in batches of 100 over
//              the real HTTPS server: protocol frames (HTTP bodies) and everything on the TCP
//              connection (TLS and HTTP headers included).
//   slow link: 500 ten-question visits through a link shaped to 50 kbit/s, 600 ms round trip
//              and 3% segment loss (tests/support/link_proxy.h): time to sync them all.
//
//   validate:  the server-side check of each opened record against its template (FormSession
//              restore + validate + the stored record's bytes written from the session), one
//              thread; CK_BENCH_VALIDATE_PARTS=1 prints its parts.
//   "sqlite": visits that carry assignment tokens, each its own unit on the register, in the size
//              class its answers give (as an enrolled device's visits of its assigned units);
//              "sqlite-no-token": the same visits with no token (units found in the field: each
//              one stored and held for review, the slower path; what this bench measured alone
//              before 2026-12-07). PostgreSQL: the assigned visits.
//
//   --custodian: devices seal personal answers apart, to a custodian key (a project with a
//              custodian, as DESIGN.md has it), so the aggregator stores the record as sealed;
//              without it (the default, and every figure before 2026-12-07) the record holds
//              them and the aggregator leaves them out of what it stores.
//
//   bench_sync [--batches N] [--skip-postgres] [--skip-slow-link] [--skip-no-token] [--skip-assigned] [--custodian]
#include <sys/resource.h>

#include <algorithm>
#include <optional>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "core/crypto/envelope.h"
#include "core/form/answers_json.h"
#include "core/form/form_session.h"
#include "core/template/template_loader.h"
#include "sync/aggregator/assignment_token.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/project_keys.h"
#include "sync/aggregator/server.h"
#include "sync/aggregator/storage.h"
#include "sync/aggregator/tls_certificate.h"
#include "sync/client/sync_client.h"
#include "sync/protocol/messages.h"
#include "tests/support/link_proxy.h"
#include "tests/support/postgres_cluster.h"

using namespace ck;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

double cpuSeconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Device {
    std::vector<uint8_t> publicKey = std::vector<uint8_t>(crypto_sign_PUBLICKEYBYTES);
    SecretBytes secretKey{crypto_sign_SECRETKEYBYTES};
    Device() { crypto_sign_keypair(publicKey.data(), secretKey.data()); }
};

// The custodian's public key when devices seal personal answers apart (--custodian).
std::vector<uint8_t> g_custodianKey;

// `count` finished visits of `survey` with the answers in `answersFile`, each its own record,
// sealed and signed as a device would.
std::vector<SealedEnvelope> sealVisits(const std::shared_ptr<const Template>& survey, const fs::path& answersFile,
                                       int count, const Device& device, const std::vector<uint8_t>& ingestKey,
                                       const std::vector<std::string>& tokens = {}) {
    auto answers = nlohmann::json::parse(readText(answersFile));
    const std::string dictionary = recordDictionary(*survey);
    std::vector<std::string> pii;
    for (const auto& q : survey->questions)
        if (q.pii) pii.push_back(q.id);
    std::vector<SealedEnvelope> out;
    out.reserve(size_t(count));
    for (int i = 0; i < count; ++i) {
        FormSession session(survey);
        if (!applyAnswersJson(session, answers).empty()) {
            std::fprintf(stderr, "bench_sync: %s does not fill %s\n", answersFile.c_str(), survey->id.c_str());
            std::exit(2);
        }
        Record record = session.toRecord();
        if (!tokens.empty()) record.assignment = tokens[size_t(i) % tokens.size()];
        SealInput in;
        in.record = &record;
        in.personalFields = pii;
        in.aggregatorPublicKey = ingestKey;
        in.custodianPublicKey = g_custodianKey;
        in.signingSecretKey = &device.secretKey;
        in.signingPublicKey = device.publicKey;
        in.dictionary = dictionary;
        out.push_back(sealEnvelope(in));
    }
    return out;
}

std::shared_ptr<const Template> loadTemplate(const fs::path& file) {
    auto loaded = loadTemplateJsonFile(file);
    if (!loaded.survey) {
        std::fprintf(stderr, "bench_sync: cannot load %s\n", file.c_str());
        std::exit(2);
    }
    return loaded.survey;
}

// An aggregator in this process: keys, storage, the template published, the device enrolled.
struct Aggregator {
    fs::path dir;
    agg::ProjectKeys keys;
    std::unique_ptr<agg::AggregatorStorage> storage;
    std::unique_ptr<agg::IngestService> ingest;
    std::string deviceId;

    Aggregator(const fs::path& folder, const std::string& storageUrl, const std::vector<fs::path>& templates,
               const Device& device)
        : dir(folder) {
        fs::remove_all(dir);
        fs::create_directories(dir);
        auto created = agg::createProjectKeys(dir, "bench: admin passphrase 1", "bench: admin passphrase 1", kFastKdf);
        keys = std::move(std::get<agg::ProjectKeys>(created));
        storage = agg::openStorage(storageUrl.empty() ? dir.string() : storageUrl);
        ingest = std::make_unique<agg::IngestService>(*storage, keys);
        for (const auto& t : templates) {
            auto published = ingest->publishTemplate(readText(t), t.filename().string());
            if (!std::holds_alternative<agg::PublishedTemplate>(published)) {
                std::fprintf(stderr, "bench_sync: cannot publish %s\n", t.c_str());
                std::exit(2);
            }
        }
        proto::EnrolRequest req;
        req.code = ingest->issueEnrolmentCode("Bench Officer", "tiruppur_knitwear", 3600);
        req.devicePublicKey = device.publicKey;
        req.deviceLabel = "bench";
        req.sentAt = agg::systemClock();
        req.signature = proto::signerFor(device.secretKey)(proto::signingBytes(req));
        auto reply = ingest->enrol(req);
        if (!std::holds_alternative<proto::EnrolReply>(reply)) {
            std::fprintf(stderr, "bench_sync: enrolment failed: %s\n", std::get<proto::ErrorReply>(reply).message.c_str());
            std::exit(2);
        }
        deviceId = std::get<proto::EnrolReply>(reply).deviceId;
    }
};

// `assigned`: every visit carries an assignment token of a unit on the register (each visit
// its own unit, so ingest looks each up), as visits of assigned units do; else none does
// (units found in the field: stored and held for review).
void benchIngest(const char* name, const std::string& storageUrl, int batches, bool assigned = false) {
    Device device;
    const fs::path flagship = fs::path(CK_SOURCE_DIR) / "survey-templates/cluster-diagnostic.json";
    Aggregator aggregator(fs::path(CK_BINARY_DIR) / "bench-scratch/ingest" / name, storageUrl, {flagship}, device);
    auto survey = loadTemplate(flagship);
    const int perBatch = 100;
    std::vector<std::string> tokens;
    const fs::path answersFile = fs::path(CK_TEST_DATA_DIR) / "answers/knitwear-complete.json";
    if (assigned) {
        // The register's class is the one the answers give, as on a register that is right:
        // no visit is held for review.
        std::string sizeClass;
        {
            FormSession session(survey);
            (void)applyAnswersJson(session, nlohmann::json::parse(readText(answersFile)));
            Record r = session.toRecord();
            sizeClass = agg::checkRecordForStorage(agg::blankSession(survey, agg::visitDay(r)), r, false).answeredStratum;
        }
        std::vector<RegisterUnit> units;
        SecretBytes key = agg::assignmentTokenKey(aggregator.keys);
        for (int i = 0; i < perBatch * batches; ++i) {
            std::string id = "TPR-" + std::to_string(100000 + i);
            units.push_back({id, "Unit " + id, "tiruppur_knitwear", "Tiruppur", "Tamil Nadu", sizeClass, "knitwear"});
            tokens.push_back(agg::makeAssignmentToken(key, id, aggregator.deviceId));
        }
        aggregator.storage->putRegister(units, agg::AuditEvent{agg::systemClock(), "register", "operator", "bench", "units"});
    }
    auto envelopes = sealVisits(survey, answersFile, perBatch * batches, device, aggregator.keys.ingestPublicKey, tokens);
    size_t sealedBytes = 0;
    for (const auto& e : envelopes) sealedBytes += encodeEnvelope(e).size();

    // Where the time goes, one thread: the signature check alone, then open (signature check,
    // unseal, decompress, parse) alone.
    {
        const std::string dictionary = recordDictionary(*survey);
        size_t n = std::min<size_t>(envelopes.size(), 1000);
        auto t0 = Clock::now();
        size_t ok = 0;
        for (size_t i = 0; i < n; ++i) ok += verifyEnvelope(envelopes[i]);
        double verifyUs = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / double(n);
        t0 = Clock::now();
        for (size_t i = 0; i < n; ++i)
            ok += std::holds_alternative<OpenedEnvelope>(openEnvelope(envelopes[i], aggregator.keys.ingestPublicKey,
                                                                     aggregator.keys.ingestSecretKey, dictionary));
        double openUs = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / double(n);
        // Server-side validation against the template (a copy of a blank FormSession, restore,
        // validate, the stored record's bytes), as ingest does it for every opened record.
        std::vector<Record> opened;
        for (size_t i = 0; i < n; ++i) {
            auto o = openEnvelope(envelopes[i], aggregator.keys.ingestPublicKey, aggregator.keys.ingestSecretKey,
                                  dictionary);
            if (auto* r = std::get_if<OpenedEnvelope>(&o)) opened.push_back(r->record);
        }
        size_t valid = 0;
        t0 = Clock::now();
        std::optional<FormSession> blank;
        for (const Record& r : opened) {
            if (!blank) blank = agg::blankSession(survey, agg::visitDay(r));
            valid += agg::checkRecordForStorage(*blank, r, false).problem.empty();
        }
        double validateUs = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() /
                            double(std::max<size_t>(1, opened.size()));
        // The parts: a copy of the blank session, restore, validate, the stored record's bytes.
        if (std::getenv("CK_BENCH_VALIDATE_PARTS")) {
            double copyUs = 0, restoreUs = 0, validUs = 0, recordUs = 0;
            uint64_t evals = 0;
            for (const Record& r : opened) {
                auto c0 = Clock::now();
                FormSession s2 = *blank;
                auto c1 = Clock::now();
                uint64_t e0 = s2.evaluationCount();
                (void)s2.restore(r);
                evals += s2.evaluationCount() - e0;
                auto c2 = Clock::now();
                (void)s2.validate();
                auto c3 = Clock::now();
                (void)s2.toRecordBytes(r.parentId, true);
                auto c4 = Clock::now();
                copyUs += std::chrono::duration<double, std::micro>(c1 - c0).count();
                restoreUs += std::chrono::duration<double, std::micro>(c2 - c1).count();
                validUs += std::chrono::duration<double, std::micro>(c3 - c2).count();
                recordUs += std::chrono::duration<double, std::micro>(c4 - c3).count();
            }
            double k = double(std::max<size_t>(1, opened.size()));
            std::printf("validate parts: copy %.0f, restore %.0f, validate %.0f, record bytes %.0f us/record; evaluations %llu\n",
                        copyUs / k, restoreUs / k, validUs / k, recordUs / k,
                        (unsigned long long)(evals / std::max<size_t>(1, opened.size())));
        }
        std::printf("ingest %-10s one thread: signature check %.0f us/record, open (check + unseal + decompress + parse) "
                    "%.0f us/record (%zu of %zu ok), validate against the template %.0f us/record (%zu of %zu valid)\n",
                    name, verifyUs, openUs, ok, 2 * n, validateUs, valid, opened.size());
    }
    auto sign = proto::signerFor(device.secretKey);
    std::vector<double> rate, cpuPerRecord;
    size_t stored = 0, held = 0;
    for (int b = 0; b < batches; ++b) {
        proto::UploadBatch batch;
        batch.devicePublicKey = device.publicKey;
        batch.sentAt = agg::systemClock();
        for (int i = 0; i < perBatch; ++i) batch.envelopes.push_back(proto::toWire(envelopes[size_t(b * perBatch + i)]));
        batch.signature = sign(proto::signingBytes(batch));
        // What the server does with a body: decode the frame, then ingest.
        auto frame = proto::encodeFrame(batch);
        double c0 = cpuSeconds();
        auto t0 = Clock::now();
        auto decoded = proto::decodeFrame(frame);
        auto reply = aggregator.ingest->upload(std::get<proto::UploadBatch>(std::get<proto::Message>(decoded)));
        double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        double cpu = cpuSeconds() - c0;
        if (auto* r = std::get_if<proto::UploadReply>(&reply))
            for (const auto& a : r->acks) stored += a.status == proto::AckStatus::Stored;
        rate.push_back(perBatch / seconds);
        cpuPerRecord.push_back(cpu / perBatch * 1e6);
    }
    held = aggregator.storage->countForReview();
    std::printf("ingest %-10s %d batches x %d visits (%.1f KB sealed each): median %.0f records/s, "
                "CPU %.0f us/record (median), stored %zu of %d, held for review %zu\n",
                name, batches, perBatch, double(sealedBytes) / double(envelopes.size()) / 1024.0, median(rate),
                median(cpuPerRecord), stored, batches * perBatch, held);
}

struct WireFigures {
    double upPerRecord = 0, downPerRecord = 0;          // protocol frames (HTTP bodies)
    double tcpUpPerRecord = 0, tcpDownPerRecord = 0;    // all bytes on the connection
    double seconds = 0;
    size_t acknowledged = 0;
};

WireFigures syncThrough(const char* name, int visits, const test::LinkOptions& link, int rounds) {
    Device device;
    const fs::path ten = fs::path(CK_TEST_DATA_DIR) / "templates/ten-questions.json";
    Aggregator aggregator(fs::path(CK_BINARY_DIR) / "bench-scratch/wire" / name, "", {ten}, device);
    auto cert = agg::createSelfSignedCertificate(aggregator.dir, {});
    agg::ServerOptions options;
    options.port = 0;
    options.certificateFile = cert.certificateFile;
    options.keyFile = cert.keyFile;
    options.ratePerSecond = 1000;
    options.rateBurst = 1000;
    options.log = [](const std::string&) {};
    agg::Server server(*aggregator.ingest, options);
    server.start();
    test::LinkOptions l = link;
    l.targetPort = server.port();
    test::LinkProxy proxy(l);

    auto survey = loadTemplate(ten);
    const fs::path answers = fs::path(CK_BINARY_DIR) / "bench-scratch/wire/ten-answers.json";
    {
        std::ofstream out(answers);
        out << R"({"visit_date":"2026-11-20","unit_name":"Sri Murugan Knits","workers":42,"women_workers":25,)"
               R"("youth_workers":13,"export_share":35,"turnover":18500000,"segment":"knitting",)"
               R"("certifications":["oekotex","zed"],"binding_constraint":"finance"})";
    }
    WireFigures f;
    for (int round = 0; round < rounds; ++round) {
        auto envelopes = sealVisits(survey, answers, visits, device, aggregator.keys.ingestPublicKey);
        sync::RetryPolicy retry;
        retry.maxAttempts = 20;
        retry.initialDelay = std::chrono::milliseconds(500);
        retry.requestTimeout = std::chrono::milliseconds(600'000);
        sync::SyncClient client({"https://127.0.0.1:" + std::to_string(proxy.port()), cert.publicKeyPin}, retry);
        auto before = proxy.stats();
        auto t0 = Clock::now();
        auto result = client.upload(envelopes, device.publicKey, proto::signerFor(device.secretKey), 100);
        f.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
        auto after = proxy.stats();
        if (auto* e = std::get_if<sync::SyncError>(&result)) {
            std::printf("sync %s: failed: %s\n", name, e->message.c_str());
            break;
        }
        f.acknowledged = 0;
        for (const auto& o : std::get<std::vector<sync::UploadOutcome>>(result))
            f.acknowledged += o.ack.status == proto::AckStatus::Stored;
        f.upPerRecord = double(client.bytesSent()) / visits;
        f.downPerRecord = double(client.bytesReceived()) / visits;
        f.tcpUpPerRecord = double(after.bytesUp - before.bytesUp) / visits;
        f.tcpDownPerRecord = double(after.bytesDown - before.bytesDown) / visits;
    }
    proxy.stop();
    server.stop();
    return f;
}

}  // namespace

int main(int argc, char** argv) {
    int batches = 20;
    bool postgres = true, slowLink = true, noToken = true, assigned = true, custodian = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--batches") && i + 1 < argc) batches = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--skip-postgres")) postgres = false;
        else if (!std::strcmp(argv[i], "--skip-slow-link")) slowLink = false;
        else if (!std::strcmp(argv[i], "--skip-no-token")) noToken = false;
        else if (!std::strcmp(argv[i], "--skip-assigned")) assigned = false;
        else if (!std::strcmp(argv[i], "--custodian")) custodian = true;
        else {
            std::fprintf(stderr, "usage: bench_sync [--batches N] [--skip-postgres] [--skip-slow-link] [--skip-no-token] "
                                 "[--skip-assigned] [--custodian]\n");
            return 2;
        }
    }
    if (sodium_init() < 0) return 2;
    std::printf("bench_sync on %u cores%s\n", std::thread::hardware_concurrency(),
                custodian ? ", personal answers sealed apart to a custodian key" : "");
    if (custodian) g_custodianKey = newBoxKeyPair().publicKey;

    if (assigned) benchIngest("sqlite", "", batches, true);
    if (noToken) benchIngest("sqlite-no-token", "", batches, false);
    if (postgres) benchIngest("postgresql", test::PostgresCluster::shared().freshDatabase(), batches, true);

    auto wire = syncThrough("loopback", 500, {}, 1);
    std::printf("wire (ten-question visit, batches of 100, 500 visits): protocol %.0f bytes up, %.1f down per record; "
                "on the TCP connection (TLS + HTTP) %.0f up, %.1f down; %zu stored in %.2f s\n",
                wire.upPerRecord, wire.downPerRecord, wire.tcpUpPerRecord, wire.tcpDownPerRecord, wire.acknowledged,
                wire.seconds);
    if (slowLink) {
        test::LinkOptions slow;
        slow.bytesPerSecond = 50'000 / 8.0;
        slow.oneWayDelay = std::chrono::milliseconds(300);
        slow.lossRate = 0.03;
        slow.retransmitDelay = std::chrono::milliseconds(1000);
        auto s = syncThrough("slow-link", 500, slow, 1);
        std::printf("slow link (50 kbit/s, 600 ms RTT, 3%% loss): 500 ten-question visits synced in %.1f s "
                    "(%zu stored; %.0f bytes up per record on the wire)\n",
                    s.seconds, s.acknowledged, s.tcpUpPerRecord);
    }
    return 0;
}
