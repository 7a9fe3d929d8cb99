#include "app/ui/app_settings.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>

namespace ck {

AppSettings loadAppSettings(const std::filesystem::path& file) {
    AppSettings s;
    std::ifstream in(file, std::ios::binary);
    if (!in) return s;
    std::stringstream text;
    text << in.rdbuf();
    auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (!j.is_object()) return s;
    if (auto it = j.find("language"); it != j.end() && it->is_string()) s.language = it->get<std::string>();
    if (auto it = j.find("text_scale"); it != j.end() && it->is_number())
        s.textScale = std::clamp(it->get<float>(), kMinTextScale, kMaxTextScale);
    if (auto it = j.find("high_contrast"); it != j.end() && it->is_boolean()) s.highContrast = it->get<bool>();
    if (auto it = j.find("idle_lock_minutes"); it != j.end() && it->is_number_integer())
        s.idleLockMinutes = std::clamp(it->get<int>(), 0, kMaxIdleLockMinutes);
    if (auto it = j.find("aggregator_address"); it != j.end() && it->is_string())
        s.aggregatorAddress = it->get<std::string>();
    if (auto it = j.find("window"); it != j.end() && it->is_object()) {
        // Only a whole, positive size is kept; the platform clamps it to the screen.
        auto number = [&](const char* key) -> std::optional<int> {
            auto v = it->find(key);
            if (v == it->end() || !v->is_number_integer()) return std::nullopt;
            return static_cast<int>(std::clamp(v->get<long long>(), -100000ll, 100000ll));
        };
        auto x = number("x"), y = number("y"), w = number("width"), h = number("height");
        if (x && y && w && h && *w > 0 && *h > 0) s.window = {*x, *y, *w, *h};
    }
    if (auto it = j.find("positions"); it != j.end() && it->is_object()) {
        for (const auto& [visit, p] : it->items()) {
            if (!p.is_object() || !p.contains("question") || !p["question"].is_string()) continue;
            SavedPosition pos;
            pos.questionId = p["question"].get<std::string>();
            if (p.contains("instance") && p["instance"].is_number_integer()) pos.instance = std::max(0, p["instance"].get<int>());
            s.positions[visit] = pos;
        }
    }
    return s;
}

bool saveAppSettings(const std::filesystem::path& file, const AppSettings& s) {
    nlohmann::json j;
    j["language"] = s.language;
    j["text_scale"] = s.textScale;
    j["high_contrast"] = s.highContrast;
    j["idle_lock_minutes"] = s.idleLockMinutes;
    j["aggregator_address"] = s.aggregatorAddress;
    if (s.window.width > 0 && s.window.height > 0)
        j["window"] = {{"x", s.window.x}, {"y", s.window.y}, {"width", s.window.width}, {"height", s.window.height}};
    j["positions"] = nlohmann::json::object();
    for (const auto& [visit, p] : s.positions) j["positions"][visit] = {{"question", p.questionId}, {"instance", p.instance}};
    auto tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return false;
        out << j.dump(2) << '\n';
        if (!out.flush()) return false;
    }
    std::error_code ec;
    std::filesystem::rename(tmp, file, ec);
    return !ec;
}

}  // namespace ck
