// `ck-aggregator report` and `ck-aggregator report-tokens`: the baseline report from the
// stored visits, and the read-only tokens that let GET /v1/report serve it. Neither needs the
// admin passphrase: the report reads only the opened, de-personalised records in storage, and
// a token grants nothing but reading that report.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "core/record/record.h"
#include "report/html_report.h"
#include "report/tabular_report.h"
#include "sync/aggregator/data_folder.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/report/baseline_service.h"
#include "sync/aggregator/report/report_tokens.h"
#include "sync/aggregator/storage.h"

namespace fs = std::filesystem;
using namespace ck;
using namespace ck::agg;

namespace {

constexpr int kOk = 0, kRefused = 1, kUsage = 2;

constexpr const char* kReportUsage =
    "usage: ck-aggregator report [--data DIR] [--scope nation|cluster:CODE|district:NAME|state:NAME|sector:NAME]\n"
    "                            [--format html,xlsx,csv,json] [--out DIR] [--template ID[@VERSION]]\n"
    "                            [--language CODE] [--threads N]\n"
    "                            [--dominance N,K] [--min-units N] [--share-interval logit|wald]\n"
    "Builds the cluster baseline report from the stored visits and writes OUT/<scope>-baseline.<format>\n"
    "(default scope nation, every format, OUT = DIR/reports, template cluster-diagnostic at its newest\n"
    "published version; --language one of the template's languages, default its first). Prints each\n"
    "file written and the hash of the exact inputs.\n"
    "Disclosure and intervals follow the project's config.json \"report\" settings (default: a money\n"
    "total is hidden when its 2 largest weighted units make more than 85% of it, no figure from fewer\n"
    "than 3 units, logit intervals for shares); --dominance 2,85, --min-units and --share-interval\n"
    "override them for this run.\n"
    "Reads the storage only: no admin passphrase is needed.\n";

constexpr const char* kTokensUsage =
    "usage: ck-aggregator report-tokens issue --label TEXT [--data DIR]\n"
    "       ck-aggregator report-tokens list [--data DIR]\n"
    "       ck-aggregator report-tokens revoke LABEL [--data DIR]\n"
    "A report token lets its holder read the baseline report at GET /v1/report (Authorization:\n"
    "Bearer TOKEN) and nothing else. It is shown once; the data folder keeps only its hash.\n";

struct Fail {
    int status;
    std::string message;
};

std::string dataDirFrom(const std::string& given) {
    std::string dir = given;
    if (dir.empty())
        if (const char* env = std::getenv("CK_AGGREGATOR_DATA")) dir = env;
    if (dir.empty()) throw Fail{kUsage, "which data folder? pass --data DIR (or set CK_AGGREGATOR_DATA)"};
    return dir;
}

DataFolder openFolder(const std::string& given) {
    auto folder = openDataFolder(dataDirFrom(given));
    if (auto* err = std::get_if<std::string>(&folder)) throw Fail{kUsage, *err};
    return std::get<DataFolder>(folder);
}

// A scope as a file name: "cluster:tiruppur_knitwear" -> "cluster-tiruppur_knitwear";
// anything but letters, digits, '-', '_' and '.' becomes '_' so no name can leave OUT.
std::string fileStem(const std::string& scope) {
    std::string out;
    for (unsigned char c : scope) {
        if (c == ':') out += '-';
        else if (std::isalnum(c) || c == '-' || c == '_') out += char(c);
        else out += '_';
    }
    return out + "-baseline";
}

std::string joined(const std::vector<std::string>& items, const char* sep = ", ") {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
    return out;
}

void writeText(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), std::streamsize(text.size()));
    out.flush();
    if (!out) throw Fail{kUsage, path.string() + ": cannot write the report (is --out writable?)"};
}

int reportCommand(const std::vector<std::string>& args) {
    std::string data, scopeText = "nation", formats = "html,xlsx,csv,json", out, templ, language;
    unsigned threads = std::max(1u, std::min(8u, std::thread::hardware_concurrency()));
    std::string dominance, minUnits, shareInterval;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= args.size()) throw Fail{kUsage, a + " needs a value (see --help)"};
            return args[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << kReportUsage;
            return kOk;
        } else if (a == "--data") data = value();
        else if (a == "--scope") scopeText = value();
        else if (a == "--format") formats = value();
        else if (a == "--out") out = value();
        else if (a == "--template") templ = value();
        else if (a == "--language") language = value();
        else if (a == "--dominance") dominance = value();
        else if (a == "--min-units") minUnits = value();
        else if (a == "--share-interval") shareInterval = value();
        else if (a == "--threads") {
            std::string v = value();
            char* end = nullptr;
            long n = std::strtol(v.c_str(), &end, 10);
            if (v.empty() || *end || n < 1 || n > 64) throw Fail{kUsage, "--threads needs a number from 1 to 64"};
            threads = unsigned(n);
        } else throw Fail{kUsage, "unknown option " + a + " (see --help)"};
    }
    std::set<std::string> wanted;
    {
        std::stringstream s(formats);
        std::string f;
        while (std::getline(s, f, ','))
            if (!f.empty()) {
                if (f != "html" && f != "xlsx" && f != "csv" && f != "json")
                    throw Fail{kUsage, "--format " + f + " is not one of html, xlsx, csv, json"};
                wanted.insert(f);
            }
        if (wanted.empty()) throw Fail{kUsage, "--format needs one or more of html,xlsx,csv,json"};
    }
    // Any language the template declares: a new language is template data, not a code change.
    if (!language.empty() && (language.size() > 32 || language.find_first_of(" \t\n/\\") != std::string::npos))
        throw Fail{kUsage, "--language needs a language code such as en or hi"};
    std::string scopeError;
    std::optional<report::ReportScope> scope = parseReportScope(scopeText, &scopeError);
    if (!scope) throw Fail{kUsage, scopeError};

    DataFolder folder = openFolder(data);
    fs::path outDir = out.empty() ? folder.path / "reports" : fs::path(out);
    BaselineOptions options;
    options.threads = threads;
    options.rules = folder.reportRules;
    if (!dominance.empty()) {
        // "N,K": K in percent (85) or as a fraction (0.85).
        size_t comma = dominance.find(',');
        char* end1 = nullptr;
        char* end2 = nullptr;
        std::string n = dominance.substr(0, comma), k = comma == std::string::npos ? "" : dominance.substr(comma + 1);
        long units = std::strtol(n.c_str(), &end1, 10);
        double share = std::strtod(k.c_str(), &end2);
        if (share > 1) share /= 100;
        if (n.empty() || k.empty() || *end1 || *end2 || units < 1 || units > report::kMaxDominanceUnits || !(share > 0) ||
            share > 1)
            throw Fail{kUsage, "--dominance takes N,K: N the largest units from 1 to " +
                                   std::to_string(report::kMaxDominanceUnits) + ", K their share in percent (e.g. 2,85)"};
        options.rules.disclosure.dominanceUnits = int(units);
        options.rules.disclosure.dominanceShare = share;
    }
    if (!minUnits.empty()) {
        char* end = nullptr;
        long v = std::strtol(minUnits.c_str(), &end, 10);
        if (*end || v < 1 || v > 100) throw Fail{kUsage, "--min-units takes a whole number from 1 to 100"};
        options.rules.disclosure.minUnits = uint64_t(v);
    }
    if (!shareInterval.empty()) {
        if (shareInterval == "logit") options.rules.shareInterval = report::ShareInterval::Logit;
        else if (shareInterval == "wald") options.rules.shareInterval = report::ShareInterval::Wald;
        else throw Fail{kUsage, "--share-interval is logit or wald"};
    }
    if (!templ.empty()) {
        size_t at = templ.find('@');
        options.templateId = templ.substr(0, at);
        if (at != std::string::npos) options.templateVersion = templ.substr(at + 1);
        if (options.templateId.empty()) throw Fail{kUsage, "--template needs ID or ID@VERSION"};
    }

    std::unique_ptr<AggregatorStorage> storage = openStorage(folder.storageUrl);
    std::unique_ptr<BaselineService> service;
    try {
        service = std::make_unique<BaselineService>(*storage, options);
    } catch (const BaselineUnavailable& e) {
        throw Fail{kRefused, e.what()};
    }
    if (service->visitsCounted() == 0)
        throw Fail{kRefused, "no visits of template " + options.templateId +
                                 " are stored yet: sync the devices (or `ck-aggregator import` their bundles) first"};

    std::vector<std::string> languages = service->languages();
    if (language.empty() && !languages.empty()) language = languages.front();
    if (std::find(languages.begin(), languages.end(), language) == languages.end())
        throw Fail{kUsage, "--language " + language + ": template " + options.templateId + " is written in " + joined(languages)};

    report::ReportRequest request;
    request.scope = *scope;
    request.language = language;
    report::BaselineReport built;
    try {
        built = service->report(request);
    } catch (const std::invalid_argument& e) {
        throw Fail{kRefused, std::string(e.what()) + "\nknown scopes: " + joined(service->knownScopes())};
    }

    std::error_code ec;
    fs::create_directories(outDir, ec);
    if (ec || !fs::is_directory(outDir))
        throw Fail{kUsage, outDir.string() + ": cannot create the output folder" + (ec ? " (" + ec.message() + ")" : "")};
    std::string stem = fileStem(scopeText);
    for (const char* f : {"html", "xlsx", "csv", "json"}) {
        if (!wanted.count(f)) continue;
        fs::path path = outDir / (stem + "." + f);
        std::string which = f;
        if (which == "html") writeText(path, report::renderHtml(built));
        else if (which == "csv") writeText(path, report::renderCsv(built));
        else if (which == "json") writeText(path, report::renderJson(built));
        else {
            try {
                report::writeXlsx(built, path);
            } catch (const std::exception& e) {
                throw Fail{kUsage, std::string(e.what()) + " (is --out writable?)"};
            }
        }
        std::cout << "wrote " << path.string() << "\n";
    }
    std::cout << "visits counted: " << built.visits << "\n"
              << "template: " << built.templateId << " " << built.templateVersion << "\n"
              << "inputs hash: " << built.inputsHash << "\n";
    return kOk;
}

int reportTokens(const std::vector<std::string>& args) {
    std::string data, label;
    std::vector<std::string> words;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--help" || a == "-h") {
            std::cout << kTokensUsage;
            return kOk;
        } else if (a == "--data" || a == "--label") {
            if (i + 1 >= args.size()) throw Fail{kUsage, a + " needs a value (see --help)"};
            (a == "--data" ? data : label) = args[++i];
        } else if (a.rfind("--", 0) == 0) throw Fail{kUsage, "unknown option " + a + " (see --help)"};
        else words.push_back(a);
    }
    if (words.empty() || (words[0] == "issue" && words.size() != 1) || (words[0] == "list" && words.size() != 1) ||
        (words[0] == "revoke" && words.size() != 2) || (words[0] != "issue" && words[0] != "list" && words[0] != "revoke"))
        throw Fail{kUsage, "report-tokens takes `issue --label TEXT`, `list` or `revoke LABEL` (see --help)"};
    DataFolder folder = openFolder(data);
    ReportTokens tokens(folder.path);
    int64_t now = systemClock();
    if (words[0] == "list") {
        std::vector<ReportTokenRow> rows;
        try {
            rows = tokens.list();
        } catch (const std::exception& e) {
            throw Fail{kRefused, e.what()};
        }
        for (const auto& r : rows)
            std::cout << r.label << "  issued " << formatUtc(r.issuedAt) << "  "
                      << (r.revokedAt ? "revoked " + formatUtc(r.revokedAt) : std::string("valid")) << "  hash "
                      << r.hash.substr(0, 16) << "\n";
        std::cout << rows.size() << " report token(s)\n";
        return kOk;
    }
    std::unique_ptr<AggregatorStorage> storage = openStorage(folder.storageUrl);
    if (words[0] == "issue") {
        if (label.empty()) throw Fail{kUsage, "report-tokens issue needs --label TEXT (who holds the token)"};
        IssuedToken issued = tokens.issue(label, now);
        if (!issued.error.empty()) throw Fail{kRefused, issued.error};
        // The log names the holder and the token's hash prefix, never the token.
        storage->appendAudit(AuditEvent{now, "report-token-issued", "operator", label,
                                        ReportTokens::hashToken(issued.token).substr(0, 16)});
        std::cout << "report token for " << label << " (shown once; keep it secret):\n" << issued.token << "\n";
        return kOk;
    }
    if (std::string err = tokens.revoke(words[1], now); !err.empty()) throw Fail{kRefused, err};
    storage->appendAudit(AuditEvent{now, "report-token-revoked", "operator", words[1], ""});
    std::cout << "report token " << words[1] << " revoked\n";
    return kOk;
}

template <class F>
int guarded(const char* name, F&& f) {
    try {
        return f();
    } catch (const Fail& e) {
        std::cerr << "ck-aggregator " << name << ": " << e.message << "\n";
        return e.status;
    } catch (const StorageFailure& e) {
        std::cerr << "ck-aggregator " << name << ": storage: " << e.what() << "\n";
        return kUsage;
    } catch (const BaselineUnavailable& e) {
        std::cerr << "ck-aggregator " << name << ": " << e.what() << "\n";
        return kRefused;
    }
}

}  // namespace

int runReport(const std::vector<std::string>& args) {
    return guarded("report", [&] { return reportCommand(args); });
}

int runReportTokens(const std::vector<std::string>& args) {
    return guarded("report-tokens", [&] { return reportTokens(args); });
}
