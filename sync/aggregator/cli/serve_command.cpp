// `ck-aggregator serve`: opens the data folder, unlocks the project keys, opens the storage
// and serves the protocol until SIGINT or SIGTERM.
#include "sync/aggregator/cli/serve_command.h"

#include <signal.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "sync/aggregator/data_folder.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/report/baseline_service.h"
#include "sync/aggregator/report/report_tokens.h"
#include "sync/aggregator/server.h"
#include "sync/aggregator/storage.h"
#include "sync/aggregator/tls_certificate.h"
#include "sync/aggregator/web_app_files.h"

namespace {

using namespace ck::agg;

constexpr const char* kUsage =
    "usage: ck-aggregator serve --data DIR [--listen ADDR:PORT] [--storage URL] [--http] [--allow-plain-http]\n"
    "                           [--threads N] [--rate R --burst B] [--max-body-bytes N]\n"
    "                           [--web-app DIR] [--allow-origin ORIGIN ...]\n"
    "  --listen ADDR:PORT   where to listen (default 127.0.0.1 and the folder's port; [::1]:PORT for IPv6)\n"
    "  --storage URL        postgresql://... or a folder, instead of the data folder's configured storage\n"
    "  --http               plain HTTP (only on a loopback address unless --allow-plain-http)\n"
    "  --threads N          worker threads for complete requests (default 8)\n"
    "  --rate R --burst B   per device: R requests a second sustained, bursts of B (default 20 and 40)\n"
    "  --max-body-bytes N   largest request body accepted (default 8388608)\n"
    "  --web-app DIR        serve the field app's web build (platforms/web) at /app/, read once at start\n"
    "  --allow-origin O     let pages of origin O (https://host[:port]) call the protocol from a browser\n"
    "                       (CORS; repeatable). The app served at /app/ needs none.\n"
    "The admin passphrase comes from CK_ADMIN_PASSPHRASE or is asked on the terminal.\n";

int usage(const std::string& problem) {
    std::cerr << "ck-aggregator serve: " << problem << "\n" << kUsage;
    return 2;
}

std::optional<double> number(const std::string& s) {
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !(v > 0)) return std::nullopt;
    return v;
}

// "ADDR:PORT", "[v6]:PORT" or "ADDR" (keeps `port`).
bool parseListen(const std::string& text, std::string& address, int& port) {
    std::string host = text, portText;
    if (!text.empty() && text[0] == '[') {
        size_t close = text.find(']');
        if (close == std::string::npos) return false;
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':') return false;
            portText = text.substr(close + 2);
        }
    } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
        host = text.substr(0, colon);
        portText = text.substr(colon + 1);
    }
    if (host.empty()) return false;
    address = host;
    if (!portText.empty()) {
        char* end = nullptr;
        long p = std::strtol(portText.c_str(), &end, 10);
        if (*end != '\0' || p < 0 || p > 65535) return false;
        port = static_cast<int>(p);
    }
    return true;
}

// An origin as browsers send it: scheme://host[:port], nothing after.
bool validOrigin(const std::string& origin) {
    size_t scheme = origin.find("://");
    if (scheme == std::string::npos) return false;
    std::string s = origin.substr(0, scheme);
    if (s != "https" && s != "http") return false;
    std::string rest = origin.substr(scheme + 3);
    if (rest.empty()) return false;
    for (char c : rest)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return false;
    return true;
}

}  // namespace

int runServe(const std::vector<std::string>& args) {
    std::string dataDir, listen, storageUrl, webAppDir;
    bool http = false, allowPlain = false;
    ServerOptions options;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](std::string& out) {
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        std::string v;
        if (a == "--data") {
            if (!value(dataDir)) return usage("--data needs a folder");
        } else if (a == "--listen") {
            if (!value(listen)) return usage("--listen needs ADDR:PORT");
        } else if (a == "--storage") {
            if (!value(storageUrl)) return usage("--storage needs a URL");
        } else if (a == "--http") {
            http = true;
        } else if (a == "--allow-plain-http") {
            allowPlain = true;
        } else if (a == "--threads") {
            auto n = value(v) ? number(v) : std::nullopt;
            if (!n || *n > 256) return usage("--threads needs a number from 1 to 256");
            options.threads = static_cast<int>(*n);
        } else if (a == "--rate") {
            auto n = value(v) ? number(v) : std::nullopt;
            if (!n) return usage("--rate needs a positive number of requests per second");
            options.ratePerSecond = *n;
        } else if (a == "--burst") {
            auto n = value(v) ? number(v) : std::nullopt;
            if (!n || *n < 1) return usage("--burst needs a number of requests, at least 1");
            options.rateBurst = *n;
        } else if (a == "--max-body-bytes") {
            auto n = value(v) ? number(v) : std::nullopt;
            if (!n || *n < 1024) return usage("--max-body-bytes needs a number of bytes, at least 1024");
            options.maxBodyBytes = static_cast<size_t>(*n);
        } else if (a == "--web-app") {
            if (!value(webAppDir)) return usage("--web-app needs the folder of the built web app");
        } else if (a == "--allow-origin") {
            if (!value(v) || !validOrigin(v))
                return usage("--allow-origin needs an origin such as https://forms.example.org or http://127.0.0.1:8080 "
                             "(scheme, host and port only, no path)");
            options.allowedOrigins.push_back(v);
        } else if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            return 0;
        } else {
            return usage("unknown option " + a);
        }
    }
    if (dataDir.empty())
        if (const char* env = std::getenv("CK_AGGREGATOR_DATA"); env && *env) dataDir = env;
    if (dataDir.empty()) return usage("--data DIR is required (or CK_AGGREGATOR_DATA)");

    auto opened = openDataFolder(dataDir);
    if (auto* e = std::get_if<std::string>(&opened)) {
        std::cerr << "ck-aggregator serve: " << *e << "\n";
        return 2;
    }
    DataFolder& folder = std::get<DataFolder>(opened);
    // A folder made by an older version (or copied with cp) may be readable by others: the
    // storage, its journal files and the report tokens hold data; make them the operator's only.
    {
        namespace fs = std::filesystem;
        std::error_code ec;
        fs::permissions(folder.path, fs::perms::owner_all, fs::perm_options::replace, ec);
        for (const char* name : {"aggregator.db", "aggregator.db-wal", "aggregator.db-shm", "report-tokens.json",
                                 "keys.ck", "tls-key.pem"})
            if (fs::exists(folder.path / name, ec))
                fs::permissions(folder.path / name, fs::perms::owner_read | fs::perms::owner_write,
                                fs::perm_options::replace, ec);
    }
    options.address = "127.0.0.1";
    options.port = folder.port;
    if (!listen.empty() && !parseListen(listen, options.address, options.port))
        return usage("--listen " + listen + " is not ADDR:PORT");
    options.tls = !http;
    options.allowPlainHttp = allowPlain;
    if (!storageUrl.empty()) folder.storageUrl = storageUrl;

    auto unlocked = unlockDataFolderKeys(folder);
    if (auto* e = std::get_if<KeysFailure>(&unlocked)) {
        std::cerr << "ck-aggregator serve: cannot unlock the project keys: " << e->message << "\n";
        return 1;
    }
    ProjectKeys& keys = std::get<ProjectKeys>(unlocked);

    // SIGINT and SIGTERM are taken by sigwait below; blocked before any thread starts, so
    // every server thread inherits the mask and none of them is interrupted.
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGINT);
    sigaddset(&stopSignals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);
    // A client that hangs up mid-reply must not end the process.
    signal(SIGPIPE, SIG_IGN);

    try {
        std::unique_ptr<AggregatorStorage> storage = openStorage(folder.storageUrl);
        IngestOptions ingestOptions;
        ingestOptions.aggregatorName = folder.name;
        ingestOptions.auditHeadFile = folder.path / kAuditHeadFileName;
        IngestService ingest(*storage, keys, ingestOptions);
        ingest.sweepChunks();  // what an earlier run left uncommitted and old
        std::string pin;
        if (options.tls) {
            CertificateInfo cert = readCertificate(folder.path);
            options.certificateFile = cert.certificateFile;
            options.keyFile = cert.keyFile;
            options.tlsPublicKey = cert.publicKeyDer;
            pin = cert.publicKeyPin;
        }
        // The baseline report for GET /v1/report: built once here from every stored visit,
        // then kept current by the ingest hook. Without a published template the route
        // answers 503 until one is published and serve restarted; the protocol is unaffected.
        std::unique_ptr<BaselineService> baseline;
        try {
            BaselineOptions baselineOptions;
            baselineOptions.rules = folder.reportRules;  // the project's disclosure settings
            baseline = std::make_unique<BaselineService>(*storage, baselineOptions);
        } catch (const BaselineUnavailable& e) {
            std::cerr << "ck-aggregator serve: no baseline report yet: " << e.what() << std::endl;
        }
        ReportTokens reportTokens(folder.path);
        if (baseline) {
            BaselineService* service = baseline.get();
            ingest.onStored([service](const StoredVisit& v) { service->visitStored(v); });
            options.baseline = service;
        }
        options.reportTokens = &reportTokens;
        // Read whole before serving: a folder that is not a built app stops serve here, with
        // the reason, not at the first phone that asks.
        std::optional<WebAppFiles> webApp;
        if (!webAppDir.empty()) {
            webApp = WebAppFiles::load(webAppDir);
            options.webApp = &*webApp;
        }
        Server server(ingest, options);
        server.start();
        std::string host = options.address.find(':') != std::string::npos ? "[" + options.address + "]" : options.address;
        std::cout << "serving " << (options.tls ? "https://" : "http://") << host << ":" << server.port();
        if (options.tls) std::cout << " (pin " << pin << ")";
        std::cout << "\nstorage " << storage->describe();
        if (webApp)
            std::cout << "\nweb app " << webApp->count() << " files, " << webApp->bytes() / 1024 << " KiB ("
                      << webApp->brotliBytes() / 1024 << " KiB brotli) at /app/"
                      << (webApp->skipped() ? ", " + std::to_string(webApp->skipped()) + " hidden files or symlinks left out" : "");
        std::cout << "\nready" << std::endl;

        int received = 0;
        sigwait(&stopSignals, &received);
        std::cerr << "ck-aggregator serve: " << (received == SIGINT ? "SIGINT" : "SIGTERM")
                  << " received, finishing requests in flight" << std::endl;
        server.stop();
        std::cerr << "ck-aggregator serve: stopped" << std::endl;
        return 0;
    } catch (const StorageFailure& e) {
        std::cerr << "ck-aggregator serve: storage: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "ck-aggregator serve: " << e.what() << "\n";
        return 2;
    }
}
