#pragma once
// A real aggregator for the network tests: project keys (kFastKdf), a self-signed certificate,
// SQLite storage in a fresh scratch folder, the IngestService with a clock the test can move,
// and the HTTPS server on 127.0.0.1 with a port the OS picks. Also: enrolled devices with real
// Ed25519 keys, real sealed envelopes, and a raw libcurl POST for bodies no client would send.
#include <stdlib.h>
#include <sodium.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <curl/curl.h>

#include <nlohmann/json.hpp>

#include "core/crypto/envelope.h"
#include "core/form/answers_json.h"
#include "core/form/form_session.h"
#include "core/record/record.h"
#include "core/template/template_loader.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/project_keys.h"
#include "sync/aggregator/server.h"
#include "sync/aggregator/storage.h"
#include "sync/aggregator/tls_certificate.h"
#include "sync/protocol/messages.h"

namespace ck::test {

inline std::filesystem::path scratchFolder(const std::string& suite) {
    std::filesystem::path base = std::filesystem::path(CK_BINARY_DIR) / "test-scratch" / suite;
    std::filesystem::create_directories(base);
    std::string pattern = (base / "run-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed under " + base.string());
    return pattern;
}

inline std::string readText(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

struct TestDevice {
    std::vector<uint8_t> publicKey;
    SecretBytes secretKey;
    std::string deviceId;
    proto::Signer sign() const { return proto::signerFor(secretKey); }
};

inline TestDevice newTestDevice() {
    ensureSodium();
    TestDevice d{std::vector<uint8_t>(crypto_sign_PUBLICKEYBYTES), SecretBytes(crypto_sign_SECRETKEYBYTES), ""};
    crypto_sign_keypair(d.publicKey.data(), d.secretKey.data());
    return d;
}

// The cluster LiveAggregator's codes enrol devices for (a choice of the flagship's list:
// the aggregator refuses visits that answer another cluster than the device's).
inline constexpr const char* kLiveCluster = "tiruppur_knitwear";

// A complete visit of the published cluster-diagnostic template (the answers of
// tests/data/answers/knitwear-complete.json, which meet every rule of the template; the
// aggregator refuses visits that do not), made distinct by `n`.
inline Record visitRecord(int n, const std::string& templateVersion) {
    static const std::shared_ptr<const Template> survey = [] {
        auto loaded = loadTemplateJson(readText(std::filesystem::path(CK_SOURCE_DIR) /
                                                "survey-templates/cluster-diagnostic.json"),
                                       "cluster-diagnostic.json");
        if (!loaded.ok()) throw std::runtime_error("the flagship template does not load");
        return loaded.survey;
    }();
    static const nlohmann::json answers =
        nlohmann::json::parse(readText(std::filesystem::path(CK_TEST_DATA_DIR) / "answers/knitwear-complete.json"));
    FormSession session(survey, newRecordId(), 1795000000 + int64_t(n) * 60);
    session.setToday(Date{int32_t((1795000000 + int64_t(n) * 60) / 86400)});
    if (!applyAnswersJson(session, answers).empty()) throw std::runtime_error("knitwear-complete.json does not apply");
    Record r = session.toRecord();
    r.templateVersion = templateVersion;
    r.updatedAt = r.createdAt + 1500;
    return r;
}

struct LiveAggregator {
    static constexpr const char* kPassphrase = "network tests: a long passphrase 42";
    std::filesystem::path folder;
    agg::ProjectKeys keys;
    agg::CertificateInfo cert;
    std::unique_ptr<agg::AggregatorStorage> storage;
    std::atomic<int64_t> clockOffset{0};
    std::unique_ptr<agg::IngestService> ingest;
    std::unique_ptr<agg::Server> server;
    std::string templateVersion;
    std::mutex logMutex;
    std::vector<std::string> logLines;

    explicit LiveAggregator(const std::string& suite) : folder(scratchFolder(suite)) {
        auto created = agg::createProjectKeys(folder, kPassphrase, kPassphrase, kFastKdf);
        if (auto* e = std::get_if<agg::KeysFailure>(&created)) throw std::runtime_error(e->message);
        keys = std::move(std::get<agg::ProjectKeys>(created));
        cert = agg::createSelfSignedCertificate(folder, {});
        storage = agg::openStorage(folder.string());
        agg::IngestOptions io;
        io.aggregatorName = "Test baseline";
        ingest = std::make_unique<agg::IngestService>(*storage, keys, io,
                                                      [this] { return agg::systemClock() + clockOffset.load(); });
        auto published = ingest->publishTemplate(
            readText(std::filesystem::path(CK_SOURCE_DIR) / "survey-templates/cluster-diagnostic.json"),
            "cluster-diagnostic.json");
        if (auto* e = std::get_if<std::string>(&published)) throw std::runtime_error("publish failed: " + *e);
        templateVersion = std::get<agg::PublishedTemplate>(published).version;
    }
    ~LiveAggregator() { stop(); }

    agg::ServerOptions options(int port = 0) {
        agg::ServerOptions o;
        o.address = "127.0.0.1";
        o.port = port;
        o.tls = true;
        o.certificateFile = cert.certificateFile;
        o.keyFile = cert.keyFile;
        o.tlsPublicKey = cert.publicKeyDer;
        o.threads = 4;
        o.clock = [this] { return agg::systemClock() + clockOffset.load(); };
        o.ratePerSecond = 1000;
        o.rateBurst = 1000;
        o.log = [this](const std::string& line) {
            std::lock_guard lock(logMutex);
            logLines.push_back(line);
        };
        return o;
    }
    void start(agg::ServerOptions o) {
        server = std::make_unique<agg::Server>(*ingest, std::move(o));
        server->start();
    }
    void start() { start(options()); }
    void stop() {
        if (server) server->stop();
        server.reset();
    }
    int port() const { return server->port(); }
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port()); }
    std::vector<std::string> log() {
        std::lock_guard lock(logMutex);
        return logLines;
    }
    size_t logCount(const std::string& needle) {
        std::lock_guard lock(logMutex);
        size_t n = 0;
        for (const auto& l : logLines) n += l.find(needle) != std::string::npos;
        return n;
    }

    std::string code(int validSeconds = 3600) { return ingest->issueEnrolmentCode("Priya S", kLiveCluster, validSeconds); }

    // Enrolled directly through the IngestService (the server tests' devices).
    TestDevice enrolledDevice() {
        TestDevice d = newTestDevice();
        proto::EnrolRequest r{code(), d.publicKey, "Tab", agg::systemClock() + clockOffset.load(), {}};
        r.signature = d.sign()(proto::signingBytes(r));
        auto reply = ingest->enrol(r);
        if (auto* e = std::get_if<proto::ErrorReply>(&reply)) throw std::runtime_error("enrol failed: " + e->message);
        d.deviceId = std::get<proto::EnrolReply>(reply).deviceId;
        return d;
    }

    SealedEnvelope seal(const Record& record, const TestDevice& device) const {
        SealInput in;
        in.record = &record;
        in.personalFields = {"udyam_number"};
        in.aggregatorPublicKey = keys.ingestPublicKey;
        in.signingSecretKey = &device.secretKey;
        in.signingPublicKey = device.publicKey;
        return sealEnvelope(in);
    }
    std::vector<SealedEnvelope> visits(int n, const TestDevice& device, int from = 0) const {
        std::vector<SealedEnvelope> out;
        for (int i = from; i < from + n; ++i) out.push_back(seal(visitRecord(i, templateVersion), device));
        return out;
    }

    proto::UploadBatch batch(const std::vector<SealedEnvelope>& envelopes, const TestDevice& device) const {
        proto::UploadBatch b;
        b.devicePublicKey = device.publicKey;
        b.sentAt = agg::systemClock() + clockOffset.load();
        for (const auto& e : envelopes) b.envelopes.push_back(proto::toWire(e));
        b.signature = device.sign()(proto::signingBytes(b));
        return b;
    }
    proto::UpdatesRequest updatesRequest(const TestDevice& device, uint64_t cursor = 0) const {
        proto::UpdatesRequest r{device.publicKey, cursor, agg::systemClock() + clockOffset.load(), {}};
        r.signature = device.sign()(proto::signingBytes(r));
        return r;
    }
};

// One raw HTTP exchange: whatever bytes the test wants to send.
struct RawReply {
    long status = 0;          // 0: no HTTP answer (transport error)
    std::string curlError;
    std::string retryAfter;   // the Retry-After header, if any
    std::vector<uint8_t> body;
    std::optional<proto::ErrorReply> error() const {
        auto decoded = proto::decodeFrame(body);
        if (auto* m = std::get_if<proto::Message>(&decoded))
            if (auto* e = std::get_if<proto::ErrorReply>(m)) return *e;
        return std::nullopt;
    }
    template <class T>
    std::optional<T> reply() const {
        auto decoded = proto::decodeFrame(body);
        if (auto* m = std::get_if<proto::Message>(&decoded))
            if (auto* r = std::get_if<T>(m)) return *r;
        return std::nullopt;
    }
};

inline RawReply rawPost(const std::string& url, const std::vector<uint8_t>& body, const std::string& pin = "") {
    struct Sink {
        static size_t body(char* d, size_t s, size_t n, void* u) {
            auto* r = static_cast<RawReply*>(u);
            r->body.insert(r->body.end(), d, d + s * n);
            return s * n;
        }
        static size_t header(char* d, size_t s, size_t n, void* u) {
            auto* r = static_cast<RawReply*>(u);
            std::string line(d, s * n);
            if (line.size() > 12 && (line.rfind("Retry-After:", 0) == 0 || line.rfind("retry-after:", 0) == 0)) {
                std::string v = line.substr(12);
                while (!v.empty() && (v.front() == ' ')) v.erase(v.begin());
                while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
                r->retryAfter = v;
            }
            return s * n;
        }
    };
    RawReply r;
    CURL* h = curl_easy_init();
    char err[CURL_ERROR_SIZE] = {0};
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/x-clusterkit-frame");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, reinterpret_cast<const char*>(body.data()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    if (!pin.empty()) curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin.c_str());
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Sink::body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Sink::header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    CURLcode rc = curl_easy_perform(h);
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    else r.curlError = err[0] ? err : curl_easy_strerror(rc);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return r;
}

// GET over HTTPS trusting only `pin`; the body, or "" with `error` set.
inline std::string pinnedGet(const std::string& url, const std::string& pin, std::string* error = nullptr) {
    std::string body;
    CURL* h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, pin.c_str());
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, +[](char* d, size_t s, size_t n, void* u) {
        static_cast<std::string*>(u)->append(d, s * n);
        return s * n;
    });
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    if (rc != CURLE_OK) {
        if (error) *error = curl_easy_strerror(rc);
        return "";
    }
    return body;
}

inline RawReply rawPost(const std::string& url, const proto::Message& message) {
    return rawPost(url, proto::encodeFrame(message));
}

}  // namespace ck::test
