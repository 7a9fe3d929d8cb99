#pragma once
// The aggregator's data folder, as `ck-aggregator init` makes it:
//   keys.ck          the project keys (project_keys.h), under the admin passphrase
//   tls-cert.pem, tls-key.pem   the self-signed certificate (tls_certificate.h)
//   config.json      {"format":1,"name":...,"storage":URL (absent: SQLite in this folder),
//                     "hosts":[...], "port":8443,
//                     "report":{"min_units":3, "dominance":{"units":2, "share":0.85},
//                               "share_interval":"logit"}}   (optional: the defaults shown)
//   aggregator.db    the SQLite storage, when no other storage URL is configured
// Every subcommand (and `serve`) opens the folder through here, so they agree on its layout.
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "core/report/estimation.h"
#include "sync/aggregator/project_keys.h"

namespace ck::agg {

struct DataFolder {
    std::filesystem::path path;
    std::string storageUrl;           // what openStorage() takes: config.json's "storage", else the folder itself
    std::string name = "ClusterKit aggregator";  // shown to devices at enrolment
    std::vector<std::string> hosts;   // names/addresses the certificate covers (init --host)
    int port = 8443;                  // where `serve` listens unless told otherwise; for enrolment slips
    // The project's disclosure and interval settings for the baseline report (config.json
    // "report"; absent: the defaults of core/report/estimation.h).
    report::EstimationRules reportRules;
};

// Reads config.json's "report" object into `rules`. Returns an error message or "".
std::string parseReportRules(const std::string& jsonText, report::EstimationRules& rules);

// Reads DIR/config.json. Fails (with a message for the operator) when DIR is not a data
// folder made by `init` or config.json is damaged.
std::variant<DataFolder, std::string> openDataFolder(const std::filesystem::path& dir);
// Writes DIR/config.json (replacing it atomically). Returns an error message or "".
std::string saveDataFolderConfig(const DataFolder& folder);

// The admin passphrase: env CK_ADMIN_PASSPHRASE, else asked on the terminal without echo
// (twice when `confirm`). Returns {passphrase, confirmation}; fails when there is neither.
std::variant<std::pair<std::string, std::string>, std::string> adminPassphrase(bool confirm);

// Unlocks the folder's keys with adminPassphrase(false).
std::variant<ProjectKeys, KeysFailure> unlockDataFolderKeys(const DataFolder& folder);

}  // namespace ck::agg
