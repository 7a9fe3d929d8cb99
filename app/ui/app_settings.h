#pragma once
// The app's own settings, kept in dataDir/settings.json: nothing in here is secret (the
// answers, names and keys live in the encrypted store). Written whole on every change.
#include <filesystem>
#include <map>
#include <string>

namespace ck {

// Where the officer was in a visit, by question id so it survives a template update.
struct SavedPosition {
    std::string questionId;
    int instance = 0;
};

// The desktop window as it was last closed, in screen coordinates (the platform clamps it to
// the monitor it opens on). width 0 = never saved: the window fits the screen.
struct WindowPlacement {
    int x = 0, y = 0;
    int width = 0, height = 0;
    bool operator==(const WindowPlacement&) const = default;
};

struct AppSettings {
    std::string language = "en";  // a template language code; falls back to the default
    float textScale = 1.0f;        // 1.0 = normal; kept within [kMinTextScale, kMaxTextScale]
    bool highContrast = false;     // dark text on white, for sunlight
    int idleLockMinutes = 5;       // 0 = never lock by itself
    std::string aggregatorAddress;
    std::map<std::string, SavedPosition> positions;  // by visit id
    WindowPlacement window;
};

inline constexpr float kMinTextScale = 0.8f;
inline constexpr float kMaxTextScale = 2.0f;
inline constexpr int kMaxIdleLockMinutes = 240;

// dataDir/settings.json: the platform reads the window placement from it before the app starts.
inline std::filesystem::path appSettingsFile(const std::filesystem::path& dataDir) { return dataDir / "settings.json"; }

// Missing or unreadable file: the defaults (a damaged settings file must not stop the app).
AppSettings loadAppSettings(const std::filesystem::path& file);
// Writes a temporary file and renames it over the old one. Returns false when it could not.
[[nodiscard]] bool saveAppSettings(const std::filesystem::path& file, const AppSettings& settings);

}  // namespace ck
