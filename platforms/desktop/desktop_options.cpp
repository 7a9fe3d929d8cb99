#include "platforms/desktop/desktop_options.h"

#include <cstdlib>
#include <system_error>

namespace ck::desktop {
namespace {

std::filesystem::path executableDir() {
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    return ec ? std::filesystem::path{} : exe.parent_path();
}

// bin/../share/clusterkit/<name> when installed, else the source tree's folder.
std::filesystem::path installedOrSource(const char* name, const char* sourceDir) {
    std::error_code ec;
    const auto dir = executableDir();
    if (!dir.empty()) {
        auto installed = dir.parent_path() / "share" / "clusterkit" / name;
        if (std::filesystem::is_directory(installed, ec)) return installed;
    }
    return sourceDir;
}

std::filesystem::path defaultDataDir() {
    if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) return std::filesystem::path(xdg) / "clusterkit";
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / ".local" / "share" / "clusterkit";
    return std::filesystem::current_path() / "clusterkit-data";
}

}  // namespace

const char* usageText() {
    return "usage: clusterkit [--data DIR] [--templates DIR] [--test-kdf]\n"
           "  --data DIR       the officer's data folder (default $XDG_DATA_HOME/clusterkit\n"
           "                   or ~/.local/share/clusterkit)\n"
           "  --templates DIR  survey templates imported at first run (default: the bundled ones)\n"
           "  --test-kdf       weak, fast key derivation for a new vault: automated tests only\n";
}

std::filesystem::path assetsDir() { return installedOrSource("assets", CK_SOURCE_ASSETS_DIR); }

std::optional<DesktopOptions> parseCommandLine(int argc, char** argv, std::string& error) {
    DesktopOptions options;
    std::optional<std::filesystem::path> data, templates;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= argc || std::string(argv[i + 1]).empty()) {
                error = arg + " needs a folder";
                return std::nullopt;
            }
            return std::string(argv[++i]);
        };
        if (arg == "--data") {
            auto v = value();
            if (!v) return std::nullopt;
            data = *v;
        } else if (arg == "--templates") {
            auto v = value();
            if (!v) return std::nullopt;
            templates = *v;
        } else if (arg == "--test-kdf") {
            options.app.kdf = kFastKdf;
        } else if (arg == "-h" || arg == "--help") {
            options.showHelp = true;
        } else {
            error = "unknown argument: " + arg;
            return std::nullopt;
        }
    }
    options.app.dataDir = data ? *data : defaultDataDir();
    options.app.templatesDir = templates ? *templates : installedOrSource("survey-templates", CK_SOURCE_TEMPLATES_DIR);
    return options;
}

}  // namespace ck::desktop
