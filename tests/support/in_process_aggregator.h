#pragma once
// A real aggregator inside the test process, set up as `ck-aggregator init` + `serve` would:
// project keys (kFastKdf), SQLite storage and a self-signed certificate in `dir`, the
// IngestService, the HTTPS Server on 127.0.0.1 (a port the system picks), and the flagship
// template published. The field app's tests (app/sync, app/ui) sync against it; they link
// ck_aggregator, the app libraries themselves know nothing of it.
// Header-only and Catch2-based: include it from test sources only.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "sync/aggregator/ingest.h"
#include "sync/aggregator/project_keys.h"
#include "sync/aggregator/server.h"
#include "sync/aggregator/storage.h"
#include "sync/aggregator/tls_certificate.h"
#include "sync/client/sync_client.h"

namespace ck::test {

struct InProcessAggregator {
    static constexpr const char* kAdminPassphrase = "aggregator-admin-2026";
    static constexpr const char* kCluster = "tiruppur_knitwear";

    std::filesystem::path dir;
    agg::ProjectKeys keys;
    std::unique_ptr<agg::AggregatorStorage> storage;
    std::unique_ptr<agg::IngestService> ingest;
    agg::CertificateInfo cert;
    std::unique_ptr<agg::Server> server;
    std::string url;

    // `folder` must exist and be empty (a fresh scratch folder).
    explicit InProcessAggregator(std::filesystem::path folder) : dir(std::move(folder)) {
        auto made = agg::createProjectKeys(dir, kAdminPassphrase, kAdminPassphrase, kFastKdf);
        REQUIRE(std::holds_alternative<agg::ProjectKeys>(made));
        keys = std::move(std::get<agg::ProjectKeys>(made));
        storage = agg::openStorage(dir.string());
        agg::IngestOptions options;
        options.aggregatorName = "Tiruppur test aggregator";
        ingest = std::make_unique<agg::IngestService>(*storage, keys, options);
        cert = agg::createSelfSignedCertificate(dir, {});
        agg::ServerOptions so;
        so.address = "127.0.0.1";
        so.port = 0;
        so.certificateFile = cert.certificateFile;
        so.keyFile = cert.keyFile;
        so.log = [](const std::string&) {};
        server = std::make_unique<agg::Server>(*ingest, so);
        server->start();
        url = "https://127.0.0.1:" + std::to_string(server->port());
        std::ifstream in(std::filesystem::path(CK_SOURCE_DIR) / "survey-templates/cluster-diagnostic.json");
        std::stringstream text;
        text << in.rdbuf();
        auto published = ingest->publishTemplate(text.str(), "cluster-diagnostic.json");
        REQUIRE(std::holds_alternative<agg::PublishedTemplate>(published));
    }
    ~InProcessAggregator() {
        if (server) server->stop();
    }
    sync::ServerAddress address() const { return {url, cert.publicKeyPin}; }
    std::string code() { return ingest->issueEnrolmentCode("Priya", kCluster, 3600); }
};

// Retries short enough that a test of an unreachable aggregator ends in a second or two.
inline sync::RetryPolicy quickRetry() {
    sync::RetryPolicy r;
    r.maxAttempts = 2;
    r.initialDelay = std::chrono::milliseconds(50);
    r.maxDelay = std::chrono::milliseconds(200);
    r.connectTimeout = std::chrono::milliseconds(2000);
    r.requestTimeout = std::chrono::milliseconds(15000);
    return r;
}

}  // namespace ck::test
