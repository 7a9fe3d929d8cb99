// Where the desktop window opens: the size and place it last had, clamped to the monitor's
// work area; a first start fits the screen. The placement itself is kept in settings.json:
// written, read back, and a damaged entry ignored. (The real window under Xvfb:
// window_size.sh.)
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <unistd.h>

#include "app/ui/app_settings.h"
#include "platforms/desktop/window_placement.h"

using namespace ck;
using namespace ck::desktop;

namespace {

std::filesystem::path scratch(const std::string& name) {
    auto dir = std::filesystem::path(CK_BINARY_DIR) / "test-scratch" / ("window-" + std::to_string(getpid())) / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

const WorkArea kLaptop{0, 0, 1366, 768, 1.0f};
const WorkArea kPhone{0, 0, 720, 1280, 1.0f};

}  // namespace

TEST_CASE("first start: the default size centred on a laptop, the whole work area on a phone", "[desktop][window]") {
    // 800 px is taller than a 768 px laptop: the work area is filled (nothing off-screen).
    CHECK(placeWindow({}, {kLaptop}) == WindowPlacement{0, 0, 1366, 768});

    auto big = placeWindow({}, {WorkArea{0, 24, 1920, 1056, 1.0f}});
    CHECK(big == WindowPlacement{320, 24 + 128, 1280, 800});

    CHECK(placeWindow({}, {kPhone}) == WindowPlacement{0, 0, 720, 1280});
    CHECK(placeWindow({}, {WorkArea{0, 0, 800, 1280, 1.0f}}) == WindowPlacement{0, 0, 800, 1280});

    // HiDPI: the default grows with the content scale, and still fits.
    CHECK(placeWindow({}, {WorkArea{0, 0, 3840, 2160, 2.0f}}) == WindowPlacement{640, 280, 2560, 1600});
    CHECK(placeWindow({}, {WorkArea{0, 0, 2560, 1440, 2.0f}}) == WindowPlacement{0, 0, 2560, 1440});
}

TEST_CASE("a saved window opens where it was, clamped to its monitor's work area", "[desktop][window]") {
    const WorkArea big{0, 0, 1920, 1080, 1.0f};
    CHECK(placeWindow({100, 50, 900, 600}, {big}) == WindowPlacement{100, 50, 900, 600});
    // Larger than the screen: as large as the work area, at its origin.
    CHECK(placeWindow({0, 0, 3000, 2000}, {kLaptop}) == WindowPlacement{0, 0, 1366, 768});
    CHECK(placeWindow({-500, -500, 3000, 2000}, {kPhone}) == WindowPlacement{0, 0, 720, 1280});
    // Partly off the right and bottom edges: moved back in, size kept.
    CHECK(placeWindow({1200, 600, 900, 600}, {big}) == WindowPlacement{1020, 480, 900, 600});
    // A panel at the top (work area starts at y 32): never under it.
    CHECK(placeWindow({10, 0, 800, 600}, {WorkArea{0, 32, 1366, 736, 1.0f}}) == WindowPlacement{10, 32, 800, 600});
    // Absurdly small: at least kMinWindowSide.
    CHECK(placeWindow({10, 10, 5, 5}, {big}) == WindowPlacement{10, 10, kMinWindowSide, kMinWindowSide});
}

TEST_CASE("a saved window on a second monitor opens there - on the primary when that monitor is gone",
          "[desktop][window]") {
    const WorkArea primary{0, 0, 1366, 768, 1.0f};
    const WorkArea right{1366, 0, 1920, 1080, 1.0f};
    CHECK(placeWindow({1500, 100, 1600, 900}, {primary, right}) == WindowPlacement{1500, 100, 1600, 900});
    // The same placement with the second monitor unplugged: clamped into the primary.
    CHECK(placeWindow({1500, 100, 1600, 900}, {primary}) == WindowPlacement{0, 0, 1366, 768});
    CHECK(placeWindow({1500, 100, 800, 600}, {primary}) == WindowPlacement{566, 100, 800, 600});
}

TEST_CASE("the window placement is kept in settings.json - written, read back, a damaged one ignored",
          "[desktop][window]") {
    auto dir = scratch("settings");
    const auto file = appSettingsFile(dir);
    AppSettings s;
    s.language = "hi";
    s.window = {12, 34, 900, 600};
    REQUIRE(saveAppSettings(file, s));
    AppSettings back = loadAppSettings(file);
    CHECK(back.window == WindowPlacement{12, 34, 900, 600});
    CHECK(back.language == "hi");

    // Never saved: width 0, the window fits the screen.
    REQUIRE(saveAppSettings(file, AppSettings{}));
    CHECK(loadAppSettings(file).window.width == 0);
    CHECK(std::ifstream(file).good());

    auto load = [&](const std::string& json) {
        std::ofstream(file, std::ios::trunc) << json;
        return loadAppSettings(file);
    };
    CHECK(load(R"({"window": {"x": 1, "y": 2, "width": 0, "height": 600}})").window.width == 0);
    CHECK(load(R"({"window": {"x": 1, "y": 2, "width": -5, "height": 600}})").window.width == 0);
    CHECK(load(R"({"window": {"x": 1, "y": 2, "width": "900", "height": 600}})").window.width == 0);
    CHECK(load(R"({"window": {"x": 1, "width": 900, "height": 600}})").window.width == 0);
    CHECK(load(R"({"window": [1, 2, 900, 600]})").window.width == 0);
    // A damaged window entry loses only itself.
    auto kept = load(R"({"language": "hi", "window": {"x": 1.5, "y": 2, "width": 900, "height": 600}})");
    CHECK(kept.window.width == 0);
    CHECK(kept.language == "hi");
    // Huge numbers are bounded (placeWindow clamps them to the screen).
    auto huge = load(R"({"window": {"x": 0, "y": 0, "width": 99999999999, "height": 600}})");
    CHECK(huge.window.width == 100000);
    CHECK(placeWindow(huge.window, {kLaptop}) == WindowPlacement{0, 0, 1366, 600});
}
