#pragma once
// The desktop app's command line:  clusterkit [--data DIR] [--templates DIR] [--test-kdf]
#include <filesystem>
#include <optional>
#include <string>

#include "app/ui/field_app.h"

namespace ck::desktop {

struct DesktopOptions {
    FieldAppConfig app;
    bool showHelp = false;
};

// Parses argv; on a usage error returns nullopt and sets `error` to the message to print.
// Defaults: data in $XDG_DATA_HOME/clusterkit (else ~/.local/share/clusterkit); templates
// from the installed share/clusterkit/survey-templates next to the binary, else the source
// tree's survey-templates/. --test-kdf makes a new vault with kFastKdf: tests only.
[[nodiscard]] std::optional<DesktopOptions> parseCommandLine(int argc, char** argv, std::string& error);

// The folder holding fonts/: installed share/clusterkit/assets, else the source tree's assets/.
std::filesystem::path assetsDir();

const char* usageText();

}  // namespace ck::desktop
