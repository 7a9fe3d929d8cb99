#include "sync/aggregator/data_folder.h"
#include "tools/terminal/passphrase_prompt.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace ck::agg {

namespace {

constexpr const char* kConfigFileName = "config.json";


}  // namespace

std::variant<DataFolder, std::string> openDataFolder(const fs::path& dir) {
    fs::path config = dir / kConfigFileName;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return dir.string() + " is not a folder (make one with `ck-aggregator init --data DIR`)";
    if (!fs::exists(config, ec))
        return dir.string() + " is not an aggregator data folder: it has no config.json (make one with `ck-aggregator init --data DIR`)";
    std::ifstream in(config);
    std::stringstream text;
    text << in.rdbuf();
    if (!in) return config.string() + ": cannot read the file";
    DataFolder folder;
    folder.path = dir;
    try {
        auto j = nlohmann::json::parse(text.str());
        if (!j.is_object()) return config.string() + " is damaged: expected a JSON object";
        if (j.value("format", 1) != 1) return config.string() + " has a format this aggregator does not know (made by a newer version?)";
        folder.name = j.value("name", folder.name);
        folder.storageUrl = j.value("storage", std::string());
        folder.hosts = j.value("hosts", std::vector<std::string>{});
        folder.port = j.value("port", folder.port);
        if (j.contains("report")) {
            std::string why = parseReportRules(j["report"].dump(), folder.reportRules);
            if (!why.empty()) return config.string() + ": \"report\": " + why;
        }
    } catch (const nlohmann::json::exception& e) {
        return config.string() + " is damaged: " + e.what();
    }
    if (folder.storageUrl.empty()) folder.storageUrl = dir.string();
    return folder;
}

std::string saveDataFolderConfig(const DataFolder& folder) {
    nlohmann::json j;
    j["format"] = 1;
    j["name"] = folder.name;
    // The folder itself is the default; a relative copy of its path would break on a move.
    if (!folder.storageUrl.empty() && fs::path(folder.storageUrl) != folder.path) j["storage"] = folder.storageUrl;
    j["hosts"] = folder.hosts;
    j["port"] = folder.port;
    const report::EstimationRules& r = folder.reportRules;
    if (r != report::EstimationRules{})
        j["report"] = {{"min_units", r.disclosure.minUnits},
                       {"dominance", {{"units", r.disclosure.dominanceUnits}, {"share", r.disclosure.dominanceShare}}},
                       {"share_interval", report::shareIntervalName(r.shareInterval)}};
    fs::path config = folder.path / kConfigFileName;
    fs::path tmp = folder.path / "config.json.tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << j.dump(2) << "\n";
        out.flush();
        if (!out) return tmp.string() + ": cannot write the file";
    }
    std::error_code ec;
    fs::rename(tmp, config, ec);
    if (ec) return config.string() + ": cannot write: " + ec.message();
    return "";
}

std::variant<std::pair<std::string, std::string>, std::string> adminPassphrase(bool confirm) {
    if (const char* env = std::getenv("CK_ADMIN_PASSPHRASE")) return std::pair<std::string, std::string>{env, env};
    if (!isatty(STDIN_FILENO))
        return std::string("no admin passphrase: set CK_ADMIN_PASSPHRASE, or run on a terminal to be asked for it");
    std::string first = promptHidden(confirm ? "New admin passphrase: " : "Admin passphrase: ");
    std::string second = confirm ? promptHidden("Repeat the admin passphrase: ") : first;
    return std::pair<std::string, std::string>{first, second};
}

std::variant<ProjectKeys, KeysFailure> unlockDataFolderKeys(const DataFolder& folder) {
    auto pass = adminPassphrase(false);
    if (auto* err = std::get_if<std::string>(&pass)) return KeysFailure{*err};
    return unlockProjectKeys(folder.path, std::get<0>(pass).first);
}

std::string parseReportRules(const std::string& jsonText, report::EstimationRules& rules) {
    report::EstimationRules r;
    try {
        auto j = nlohmann::json::parse(jsonText);
        if (!j.is_object()) return "expected an object like {\"min_units\":3, \"dominance\":{\"units\":2, \"share\":0.85}, \"share_interval\":\"logit\"}";
        for (const auto& [key, value] : j.items())
            if (key != "min_units" && key != "dominance" && key != "share_interval")
                return "unknown setting \"" + key + "\" (known: min_units, dominance, share_interval)";
        if (j.contains("min_units")) {
            const auto& v = j["min_units"];
            if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > 100)
                return "min_units is a whole number of units from 1 to 100";
            r.disclosure.minUnits = v.get<uint64_t>();
        }
        if (j.contains("dominance")) {
            const auto& d = j["dominance"];
            if (!d.is_object()) return "dominance is {\"units\": n, \"share\": k}";
            if (d.contains("units")) {
                const auto& v = d["units"];
                if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > report::kMaxDominanceUnits)
                    return "dominance units (n) is a whole number from 1 to " + std::to_string(report::kMaxDominanceUnits);
                r.disclosure.dominanceUnits = v.get<int>();
            }
            if (d.contains("share")) {
                const auto& v = d["share"];
                if (!v.is_number() || !(v.get<double>() > 0) || v.get<double>() > 1)
                    return "dominance share (k) is a fraction above 0 and at most 1, e.g. 0.85 for 85%";
                r.disclosure.dominanceShare = v.get<double>();
            }
        }
        if (j.contains("share_interval")) {
            const auto& v = j["share_interval"];
            std::string m = v.is_string() ? v.get<std::string>() : std::string();
            if (m == "logit") r.shareInterval = report::ShareInterval::Logit;
            else if (m == "wald") r.shareInterval = report::ShareInterval::Wald;
            else return "share_interval is \"logit\" or \"wald\"";
        }
    } catch (const nlohmann::json::exception& e) {
        return e.what();
    }
    rules = r;
    return "";
}

}  // namespace ck::agg
