#include "tests/app/ui/ui_test_support.h"

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

#include <unistd.h>

namespace ck::test {

std::filesystem::path scratchDir(const std::string& name) {
    auto dir = std::filesystem::path(CK_BINARY_DIR) / "test-scratch" / ("ui-" + std::to_string(getpid())) / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

std::string readText(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

Date testToday() { return *parseIsoDate("2026-11-23"); }

FieldAppConfig makeConfig(const std::filesystem::path& dir, const FakeClock& clock) {
    FieldAppConfig config;
    config.dataDir = dir;
    config.templatesDir = std::filesystem::path(CK_SOURCE_DIR) / "survey-templates";
    config.kdf = kFastKdf;
    config.clock = clock.fn();
    return config;
}

void createStore(AppModel& model) {
    if (!model.createVault(kPassphrase, kPassphrase)) throw std::runtime_error("createVault refused: " + model.error());
    model.waitForTasks();
    if (!model.isUnlocked()) throw std::runtime_error("createVault failed: " + model.error());
}

void openCompleteFlagshipVisit(AppModel& model) {
    createStore(model);
    model.setToday(testToday());
    if (!model.startVisit(kFlagshipId)) throw std::runtime_error("startVisit refused: " + model.error());
    auto answers = nlohmann::json::parse(readText(std::filesystem::path(CK_TEST_DATA_DIR) / "answers" / "knitwear-complete.json"));
    if (auto refused = model.applyAnswers(answers); !refused.empty())
        throw std::runtime_error("the complete answers were refused: " + refused.front().message);
}

void unlockStore(AppModel& model, const std::string& passphrase) {
    if (!model.unlock(passphrase)) throw std::runtime_error("unlock refused: " + model.error());
    model.waitForTasks();
}

HeadlessImGui::HeadlessImGui() {
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(1280, 800);
    io.DeltaTime = 1.0f / 60.0f;
    io.KeyMap[ImGuiKey_Enter] = 13;
    io.KeyMap[ImGuiKey_Backspace] = 8;
    unsigned char* pixels = nullptr;
    int w = 0, h = 0;
    io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);  // builds the default atlas
}

HeadlessImGui::~HeadlessImGui() { ImGui::DestroyContext(); }

void HeadlessImGui::frame(FieldApp& app) {
    ImGui::NewFrame();
    app.drawFrame();
    ImGui::Render();
}

void HeadlessImGui::frames(FieldApp& app, int count) {
    for (int i = 0; i < count; ++i) frame(app);
}

void HeadlessImGui::click(FieldApp& app, float x, float y) {
    ImGuiIO& io = ImGui::GetIO();
    io.MousePos = ImVec2(x, y);
    frame(app);
    io.MouseDown[0] = true;
    frame(app);
    io.MouseDown[0] = false;
    frame(app);  // the button reports the click on release, in this frame
    frame(app);  // the screen the click led to, drawn once (so its widgets are known)
}

void HeadlessImGui::clickItem(FieldApp& app, const std::string& name) {
    auto rect = app.itemRect(name);
    if (!rect) throw std::runtime_error("no widget '" + name + "' was drawn in the last frame");
    click(app, rect->centerX(), rect->centerY());
}

std::vector<std::string> latinWordsNotAllowed(std::string_view text) {
    static const std::set<std::string> allowed = [] {
        auto j = nlohmann::json::parse(
            readText(std::filesystem::path(CK_SOURCE_DIR) / "survey-templates" / "glossary" / "latin-allowed.json"));
        std::set<std::string> words;
        for (const auto& w : j.at("words")) words.insert(w.get<std::string>());
        return words;
    }();
    auto isWordChar = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; };
    std::vector<std::string> out;
    for (size_t i = 0; i < text.size();) {
        if (static_cast<unsigned char>(text[i]) >= 0x80 || !isWordChar(text[i])) {
            ++i;
            continue;
        }
        size_t end = i;
        while (end < text.size() && static_cast<unsigned char>(text[end]) < 0x80 && isWordChar(text[end])) ++end;
        std::string word(text.substr(i, end - i));
        i = end;
        bool letters = false, digits = false;
        for (char c : word) {
            letters |= std::isalpha(static_cast<unsigned char>(c)) != 0;
            digits |= std::isdigit(static_cast<unsigned char>(c)) != 0;
        }
        if (letters && !digits && !allowed.count(word)) out.push_back(word);
    }
    return out;
}

void HeadlessImGui::chooseLanguage(FieldApp& app, const std::string& code) {
    clickItem(app, "language");
    clickItem(app, "lang_" + code);
}

void HeadlessImGui::type(FieldApp& app, const std::string& utf8) {
    ImGui::GetIO().AddInputCharactersUTF8(utf8.c_str());
    frame(app);
}

void HeadlessImGui::pressEnter(FieldApp& app) {
    ImGuiIO& io = ImGui::GetIO();
    io.KeysDown[13] = true;
    frame(app);
    io.KeysDown[13] = false;
    frame(app);
}

void HeadlessImGui::drag(FieldApp& app, float x, float y, float dx, float dy, int steps) {
    ImGuiIO& io = ImGui::GetIO();
    io.MousePos = ImVec2(x, y);
    frame(app);
    io.MouseDown[0] = true;
    frame(app);
    for (int i = 1; i <= steps; ++i) {
        io.MousePos = ImVec2(x + dx * float(i) / float(steps), y + dy * float(i) / float(steps));
        frame(app);
    }
    io.MouseDown[0] = false;
    frame(app);
}

}  // namespace ck::test
