// Shaped text, checked against an outside oracle: for hard words in each script, the glyph ids
// and positions the engine writes into ImGui's draw lists (recorded where it emits each quad,
// through ImGui's ordinary widgets) equal what HarfBuzz's own command-line tool `hb-shape`
// gives for the same font file, size, script and language. Plus the cache, wrapping, input
// fields, font fallback, a full glyph atlas and the failure paths. Headless: an ImGui context
// with no renderer, as ImGui's example_null.
#include <catch2/catch.hpp>

#include <cfloat>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include <imgui.h>
#include <imgui_internal.h>
#include <imgui_stdlib.h>
#include <nlohmann/json.hpp>

#include "app/ui/app_model.h"
#include "app/ui/text/text_engine.h"
#include "tests/app/ui/ui_test_support.h"

using namespace ck;
using namespace ck::text;

namespace {

const std::filesystem::path kFonts = std::filesystem::path(CK_SOURCE_DIR) / "assets" / "fonts";
constexpr float kSize = 18.0f;

// An ImGui context whose font atlas is the engine's, installed.
struct ShapedImGui {
    std::unique_ptr<TextEngine> engine;
    std::vector<DrawnGlyph> drawn;  // every glyph of the last frame
    std::vector<std::string> lines;  // the line text of each drawn glyph (DrawnGlyph::line is a view)

    explicit ShapedImGui(float size = kSize, const std::filesystem::path& fonts = kFonts, bool otherScripts = true) {
        ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(1280, 800);
        io.DeltaTime = 1.0f / 60.0f;
        std::string error;
        engine = TextEngine::load(fonts, error);
        INFO(error);
        REQUIRE(engine);
        engine->addFonts(*io.Fonts, size, otherScripts);
        io.Fonts->Build();
        engine->atlasBuilt(*io.Fonts);
        engine->install();
        engine->setDrawObserver([this](const DrawnGlyph& g) {
            drawn.push_back(g);
            lines.emplace_back(g.line);
        });
    }
    ~ShapedImGui() {
        engine.reset();
        ImGui::DestroyContext();
    }
    template <class F>
    void frame(F&& body) {
        drawn.clear();
        lines.clear();
        ImGui::NewFrame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(ImGui::GetIO().DisplaySize);
        ImGui::Begin("test", nullptr, ImGuiWindowFlags_NoDecoration);
        body();
        ImGui::End();
        ImGui::Render();
    }
    // The glyphs drawn for lines equal to `text`, one vector per time it was drawn.
    std::vector<std::vector<DrawnGlyph>> drawsOf(const std::string& text) const {
        std::vector<std::vector<DrawnGlyph>> out;
        size_t last = SIZE_MAX;
        for (size_t i = 0; i < drawn.size(); ++i) {
            if (lines[i] != text) continue;
            // One draw: consecutive glyphs of the same line, list and origin.
            const bool same = last != SIZE_MAX && last + 1 == i && drawn[last].list == drawn[i].list &&
                              drawn[last].lineOrigin.x == drawn[i].lineOrigin.x && drawn[last].lineOrigin.y == drawn[i].lineOrigin.y;
            if (!same) out.emplace_back();
            out.back().push_back(drawn[i]);
            last = i;
        }
        return out;
    }
};

struct OracleGlyph {
    uint32_t glyph, cluster;
    int32_t x, y;
};

// hb-shape (Debian's libharfbuzz-bin) on the same font file, at the same scale, script and
// language. Positions accumulated as the engine reports them: advances before + offset.
std::vector<OracleGlyph> hbShape(const std::filesystem::path& font, int scale, const std::string& script,
                                 const std::string& language, const std::string& text) {
    const std::string cmd = "hb-shape --font-size=" + std::to_string(scale) + " --script=" + script +
                            " --language=" + language + " --direction=ltr --output-format=json --no-glyph-names --utf8-clusters '" +
                            font.string() + "' '" + text + "' 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    REQUIRE(pipe);
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
    REQUIRE(pclose(pipe) == 0);
    auto json = nlohmann::json::parse(out, nullptr, false);
    INFO(cmd << "\n" << out);
    REQUIRE(json.is_array());
    std::vector<OracleGlyph> glyphs;
    int32_t x = 0, y = 0;
    for (const auto& g : json) {
        glyphs.push_back({g["g"].get<uint32_t>(), g["cl"].get<uint32_t>(), x + g["dx"].get<int32_t>(), y + g["dy"].get<int32_t>()});
        x += g["ax"].get<int32_t>();
        y += g["ay"].get<int32_t>();
    }
    return glyphs;
}

struct HardWords {
    const char* script;    // ISO 15924, as in scripts.json
    const char* language;  // the app's language while drawing them
    std::vector<std::string> words;
};

// Conjuncts, reph, pre-base matras, nukta, split vowels.
const std::vector<HardWords> kHardWords = {
    {"Deva", "hi", {"सिंक", "बिजली", "क्षमता", "कर्म", "ज़्यादा", "श्रमिक", "प्रमाणपत्र", "निर्यात", "ट्रक", "द्वारा", "हिन्दी"}},
    {"Deva", "mr", {"महाराष्ट्र", "कार्यक्षमता", "तऱ्हा", "उद्योग", "झाडू", "ज्ञान"}},
    {"Taml", "ta", {"கொ", "கௌ", "தொழிற்சாலை", "கௌரவம்", "பொருள்", "ஸ்ரீ", "க்ஷ", "நெசவு"}},
    {"Gujr", "gu", {"ઉદ્યોગ", "ક્ષમતા", "કર્મ", "પ્રમાણપત્ર", "શ્રી", "કિંમત", "દ્ધિ"}},
    {"Beng", "bn", {"কো", "কৌ", "শিল্প", "ক্ষমতা", "কর্ম", "রপ্তানি", "স্ত্রী", "কিন্তু"}},
    {"Guru", "pa", {"ਪੰਜਾਬੀ", "ਕਿਰਤ", "ਪ੍ਰਮਾਣ", "ਖ਼ਰਚ", "ਸ਼ਕਤੀ", "ਕਿੱਤਾ", "ਕ੍ਰਿਪਾ"}},
    {"Telu", "te", {"తెలుగు", "క్షమత", "కర్మ", "శ్రీ", "ప్రభుత్వం", "కొ", "కై", "స్త్రీ"}},
};

int fontIndex(const TextEngine& engine, const std::string& script) {
    const auto& fonts = engine.table().fonts;
    for (size_t i = 0; i < fonts.size(); ++i)
        if (fonts[i].script == script) return int(i);
    return -1;
}

}  // namespace

TEST_CASE("hard words in seven scripts are drawn exactly as hb-shape shapes them, in every kind of widget", "[ui][text]") {
    ShapedImGui gui;
    ImGui::GetIO().DisplaySize = ImVec2(1280, 4000);  // every word on screen
    const int scale = gui.engine->scaleFor(kSize);
    CHECK(scale == 846);  // 18 px line = Noto Sans' 1362 units: an em of 13.22 px
    int wordsChecked = 0;
    for (const HardWords& set : kHardWords) {
        gui.engine->setLanguage(set.language);
        const int font = fontIndex(*gui.engine, set.script);
        REQUIRE(font > 0);
        gui.frame([&] {
            for (size_t i = 0; i < set.words.size(); ++i) {
                const char* w = set.words[i].c_str();
                ImGui::PushID(int(i));
                ImGui::TextUnformatted(w);                     // a label
                ImGui::Button(w);                              // a button
                ImGui::Selectable(w, false);                   // a choice
                bool on = false;
                ImGui::Checkbox(w, &on);                       // a multiple choice
                if (ImGui::BeginTable("t", 1)) {               // a table cell
                    ImGui::TableNextColumn();
                    ImGui::TextUnformatted(w);
                    ImGui::EndTable();
                }
                ImGui::PopID();
            }
        });
        const ImDrawData* data = ImGui::GetDrawData();
        REQUIRE(data);
        const ImFontAtlas& atlas = *ImGui::GetIO().Fonts;
        for (const std::string& word : set.words) {
            INFO(set.script << " " << set.language << " " << word);
            const auto oracle = hbShape(gui.engine->table().fonts[size_t(font)].file, scale, set.script, set.language, word);
            const auto draws = gui.drawsOf(word);
            CHECK(draws.size() == 5);
            for (const auto& glyphs : draws) {
                REQUIRE(glyphs.size() == oracle.size());
                for (size_t i = 0; i < glyphs.size(); ++i) {
                    const DrawnGlyph& g = glyphs[i];
                    INFO("glyph " << i);
                    CHECK(g.font == font);
                    CHECK(g.scale == scale);
                    CHECK(g.language == set.language);
                    CHECK(g.glyph == oracle[i].glyph);
                    CHECK(g.cluster == oracle[i].cluster);
                    CHECK(g.penX == oracle[i].x);
                    CHECK(g.penY == oracle[i].y);
                    if (g.vertex < 0) continue;  // a mark with no ink (none in these words has)
                    // The quad is in the draw list as recorded, at the glyph's place, showing
                    // ink from the atlas.
                    const ImDrawVert* v = nullptr;
                    for (int n = 0; n < data->CmdListsCount && !v; ++n)
                        if (data->CmdLists[n] == g.list) v = &g.list->VtxBuffer[g.vertex];
                    REQUIRE(v);
                    CHECK(v[0].pos.x == g.p0.x);
                    CHECK(v[0].pos.y == g.p0.y);
                    CHECK(v[2].pos.x == g.p1.x);
                    CHECK(v[2].pos.y == g.p1.y);
                    CHECK(v[0].uv.x == g.uv0.x);
                    CHECK(v[2].uv.y == g.uv1.y);
                    const float penPx = g.lineOrigin.x + float(g.penX) / 64.0f;
                    CHECK(std::abs(g.p0.x - penPx) < kSize);  // left side bearing: within an em
                    int ink = 0;
                    const int tx0 = int(g.uv0.x * float(atlas.TexWidth) + 0.5f), ty0 = int(g.uv0.y * float(atlas.TexHeight) + 0.5f);
                    const int tx1 = int(g.uv1.x * float(atlas.TexWidth) + 0.5f), ty1 = int(g.uv1.y * float(atlas.TexHeight) + 0.5f);
                    for (int y = ty0; y < ty1; ++y)
                        for (int x = tx0; x < tx1; ++x) ink += (atlas.TexPixelsRGBA32[y * atlas.TexWidth + x] >> IM_COL32_A_SHIFT) & 0xFF;
                    CHECK(ink > 0);
                }
            }
            ++wordsChecked;
        }
    }
    CHECK(wordsChecked == 55);
}

TEST_CASE("shaping reorders and joins: the i-matra is drawn before its consonant, a conjunct is one glyph", "[ui][text]") {
    ShapedImGui gui;
    gui.engine->setLanguage("hi");
    gui.frame([] { ImGui::TextUnformatted("सिंक क्ष"); });
    const auto draws = gui.drawsOf("सिंक क्ष");
    REQUIRE(draws.size() == 1);
    const auto& g = draws[0];
    // Code points: स ि ं क space क ् ष (8); glyphs: ि-matra, स, anusvara, क, space, क्ष (6).
    REQUIRE(g.size() == 6);
    CHECK(g[0].cluster == 0);
    CHECK(g[1].cluster == 0);
    CHECK(g[0].penX < g[1].penX);  // the matra's glyph is left of स, in the same cluster
    CHECK(g[5].cluster == std::string("सिंक ").size());
}

TEST_CASE("a frame with unchanged text does no shaping, changed text is shaped once", "[ui][text]") {
    ShapedImGui gui;
    gui.engine->setLanguage("hi");
    std::string changing = "बिजली 1";
    auto body = [&] {
        for (const auto& set : kHardWords)
            for (const auto& w : set.words) ImGui::TextUnformatted(w.c_str());
        ImGui::TextWrapped("%s", "इकाई का नाम और कार्यरत श्रमिकों की संख्या लिखें, फिर आगे बढ़ें।");
        ImGui::Button(changing.c_str());
    };
    gui.frame(body);
    const auto first = gui.engine->stats();
    CHECK(first.shapeCalls >= 56);
    for (int i = 0; i < 5; ++i) gui.frame(body);
    const auto steady = gui.engine->stats();
    CHECK(steady.shapeCalls == first.shapeCalls);
    CHECK(steady.textsShaped == first.textsShaped);
    CHECK(steady.cacheHits > first.cacheHits);
    CHECK(steady.glyphsRasterised == first.glyphsRasterised);
    changing = "बिजली 2";
    gui.frame(body);
    const auto after = gui.engine->stats();
    CHECK(after.textsShaped == steady.textsShaped + 1);
    CHECK(after.shapeCalls > steady.shapeCalls);
}

TEST_CASE("wrapping breaks shaped lines at spaces, within the width, as tall as ImGui measures", "[ui][text]") {
    ShapedImGui gui;
    gui.engine->setLanguage("hi");
    const std::string text = "क्या इकाई के पास अंतरराष्ट्रीय प्रमाणपत्र है? कर्मचारियों की संख्या, बिजली कटौती और निर्यात के बारे में पूछें।";
    const float wrap = 200.0f;
    float measuredHeight = 0, startX = 0;
    gui.frame([&] {
        startX = ImGui::GetCursorScreenPos().x;
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + wrap);
        measuredHeight = ImGui::CalcTextSize(text.c_str(), nullptr, false, wrap).y;
        ImGui::TextWrapped("%s", text.c_str());
        ImGui::PopTextWrapPos();
    });
    std::map<float, std::vector<DrawnGlyph>> byBaseline;
    for (size_t i = 0; i < gui.drawn.size(); ++i)
        if (gui.lines[i] == text) byBaseline[gui.drawn[i].lineOrigin.y].push_back(gui.drawn[i]);
    REQUIRE(byBaseline.size() >= 3);
    CHECK(measuredHeight == Approx(float(byBaseline.size()) * kSize));
    for (const auto& [baseline, glyphs] : byBaseline) {
        // Starts at a word: the byte before its first cluster is a space (or it is the start).
        const uint32_t first = glyphs.front().cluster;
        CHECK((first == 0 || text[first - 1] == ' '));
        float right = 0;
        for (const auto& g : glyphs)
            if (g.vertex >= 0) right = std::max(right, g.p1.x);
        CHECK(right - startX <= wrap + 2.0f);  // ink may pass the advance by a pixel
    }
    // The lines are the text in order, nothing lost and nothing repeated.
    std::set<uint32_t> clusters;
    for (const auto& [y, glyphs] : byBaseline)
        for (const auto& g : glyphs) clusters.insert(g.cluster);
    CHECK(clusters.count(uint32_t(text.rfind("पूछें"))) == 1);
}

TEST_CASE("a word longer than the line breaks between clusters, never inside one", "[ui][text]") {
    ShapedImGui gui;
    const std::string word = "अंतरराष्ट्रीयकरणअंतरराष्ट्रीयकरण";
    gui.frame([&] {
        ImGui::PushTextWrapPos(ImGui::GetCursorPosX() + 60.0f);
        ImGui::TextUnformatted(word.c_str());
        ImGui::PopTextWrapPos();
    });
    std::map<uint32_t, std::set<float>> linesOfCluster;
    std::set<float> baselines;
    for (size_t i = 0; i < gui.drawn.size(); ++i) {
        if (gui.lines[i] != word) continue;
        linesOfCluster[gui.drawn[i].cluster].insert(gui.drawn[i].lineOrigin.y);
        baselines.insert(gui.drawn[i].lineOrigin.y);
    }
    CHECK(baselines.size() >= 3);
    CHECK(linesOfCluster.rbegin()->first > 80);  // the whole word is there
    for (const auto& [cluster, ys] : linesOfCluster) {
        INFO("cluster " << cluster << " y " << *ys.begin() << " " << *ys.rbegin());
        CHECK(ys.size() == 1);
    }
}

TEST_CASE("input fields: committed text is shaped, text being typed is ImGui's, a passphrase never", "[ui][text]") {
    ShapedImGui gui;
    gui.engine->setLanguage("hi");
    std::string answer = "बिजली कटौती";
    std::string secret = "क्षमता-secret";
    ImVec2 fieldCentre;
    auto body = [&] {
        ImGui::InputText("##answer", &answer);
        fieldCentre = ImVec2((ImGui::GetItemRectMin().x + ImGui::GetItemRectMax().x) / 2, (ImGui::GetItemRectMin().y + ImGui::GetItemRectMax().y) / 2);
        ImGui::InputText("##pass", &secret, ImGuiInputTextFlags_Password);
    };
    gui.frame(body);
    CHECK(gui.drawsOf(answer).size() == 1);  // not active: shaped
    CHECK(gui.drawsOf(secret).empty());
    // Click into the field: it becomes active and ImGui draws it, with its caret.
    ImGuiIO& io = ImGui::GetIO();
    io.MousePos = fieldCentre;
    io.MouseDown[0] = true;
    gui.frame(body);
    io.MouseDown[0] = false;
    gui.frame(body);
    REQUIRE(ImGui::GetActiveID() != 0);
    CHECK(gui.drawsOf(answer).empty());
    io.AddInputCharactersUTF8("र");
    gui.frame(body);
    CHECK(answer == "बिजली कटौतीर");
    CHECK(gui.drawsOf(answer).empty());
    // Click elsewhere: the committed text is shaped again.
    io.MousePos = ImVec2(1000, 700);
    io.MouseDown[0] = true;
    gui.frame(body);
    io.MouseDown[0] = false;
    gui.frame(body);
    CHECK(ImGui::GetActiveID() == 0);
    CHECK(gui.drawsOf(answer).size() == 1);
    for (const auto& line : gui.lines) CHECK(line.find("secret") == std::string::npos);
}

TEST_CASE("each script run gets its own font, digits and spaces stay in the run they are in", "[ui][text]") {
    ShapedImGui gui;
    gui.engine->setLanguage("en");
    const std::string text = "Workers श्रमिक தொழிலாளர் 25 ਕਿਰਤ";
    gui.frame([&] { ImGui::TextUnformatted(text.c_str()); });
    const auto draws = gui.drawsOf(text);
    REQUIRE(draws.size() == 1);
    std::vector<std::string> scripts;
    for (const auto& g : draws[0]) {
        const std::string& s = gui.engine->table().fonts[size_t(g.font)].script;
        if (scripts.empty() || scripts.back() != s) scripts.push_back(s);
    }
    CHECK(scripts == std::vector<std::string>{"Latn", "Deva", "Taml", "Guru"});
    // In English, Devanagari is shaped as Hindi (its first language), Tamil as Tamil.
    std::set<std::string> languages;
    for (const auto& g : draws[0]) languages.insert(g.language);
    CHECK(languages == std::set<std::string>{"en", "hi", "ta", "pa"});
}

TEST_CASE("bad bytes and letters no font has are drawn as replacement and missing-glyph boxes", "[ui][text]") {
    ShapedImGui gui;
    const std::string text = std::string("ok \xE0\xA4 \xFF ") + "\xF0\x9F\x98\x80";  // cut UTF-8, a bad byte, an emoji
    gui.frame([&] { ImGui::TextUnformatted(text.c_str()); });
    const auto draws = gui.drawsOf(text);
    REQUIRE(draws.size() == 1);
    CHECK(draws[0].size() >= 6);
    CHECK(draws[0].back().glyph == 0);  // the emoji: .notdef of the main font
    CHECK(draws[0].back().font == 0);
}

TEST_CASE("a full glyph region is started afresh on the next frame, the frame after draws everything", "[ui][text]") {
    ShapedImGui gui;
    ImGui::GetIO().DisplaySize = ImVec2(4000, 4000);  // all of it on screen: nothing clipped away
    std::string many;
    for (const auto& set : kHardWords)
        for (const auto& w : set.words) many += w + " ";
    auto body = [&] {
        for (float scale : {3.0f, 4.0f, 5.0f, 6.0f}) {
            ImGui::SetWindowFontScale(scale);
            ImGui::TextWrapped("%s", many.c_str());
        }
        ImGui::SetWindowFontScale(1.0f);
    };
    gui.frame(body);
    const auto full = gui.engine->stats();
    CHECK(full.glyphsSkipped > 0);
    CHECK(full.atlasResets == 0);
    gui.frame([] { ImGui::TextUnformatted("कर्म"); });
    const auto after = gui.engine->stats();
    CHECK(after.atlasResets == 1);
    CHECK(after.glyphsSkipped == full.glyphsSkipped);
    for (const auto& g : gui.drawn) CHECK(g.vertex >= 0);
}

TEST_CASE("the font table: what is wrong and where is said", "[ui][text]") {
    auto dir = test::scratchDir("font-table");
    std::string error;
    CHECK_FALSE(FontTable::load(dir / "scripts.json", error));
    CHECK(error.find("cannot be read") != std::string::npos);

    auto write = [&](const std::string& json) {
        std::ofstream(dir / "scripts.json", std::ios::trunc) << json;
        error.clear();
        return FontTable::load(dir / "scripts.json", error);
    };
    std::filesystem::copy_file(kFonts / "NotoSans-Regular.ttf", dir / "main.ttf");
    CHECK_FALSE(write("{not json"));
    CHECK(error.find("not a JSON object") != std::string::npos);
    CHECK_FALSE(write(R"({"fonts": []})"));
    CHECK(error.find("at least the main font") != std::string::npos);
    CHECK_FALSE(write(R"({"fonts": [{"file": "main.ttf"}]})"));
    CHECK(error.find("fonts[0] needs \"script\"") != std::string::npos);
    CHECK_FALSE(write(R"({"fonts": [{"script": "Latin", "file": "main.ttf"}]})"));
    CHECK(error.find("four-letter") != std::string::npos);
    CHECK_FALSE(write(R"({"fonts": [{"script": "Latn", "file": "main.ttf"}, {"script": "Deva", "file": "deva.ttf"}]})"));
    CHECK(error.find("fonts[1]") != std::string::npos);
    CHECK(error.find("deva.ttf not found") != std::string::npos);
    CHECK_FALSE(write(R"({"fonts": [{"script": "Latn", "file": "main.ttf"}, {"script": "Latn", "file": "main.ttf"}]})"));
    CHECK(error.find("listed twice") != std::string::npos);
    CHECK_FALSE(write(R"({"fonts": [{"script": "Latn", "file": "main.ttf", "languages": "en"}]})"));
    CHECK(error.find("list of language codes") != std::string::npos);
    auto ok = write(R"({"fonts": [{"script": "Latn", "file": "main.ttf", "languages": ["en"]}]})");
    REQUIRE(ok);
    CHECK(ok->fonts[0].file == dir / "main.ttf");

    // The engine refuses a file that is not a font, and a script HarfBuzz does not know.
    std::ofstream(dir / "broken.ttf") << "not a font";
    write(R"({"fonts": [{"script": "Latn", "file": "main.ttf"}, {"script": "Deva", "file": "broken.ttf"}]})");
    CHECK_FALSE(TextEngine::load(dir, error));
    CHECK(error.find("broken.ttf: not a font") != std::string::npos);
    write(R"({"fonts": [{"script": "Latn", "file": "main.ttf"}, {"script": "Qqqq", "file": "main.ttf"}]})");
    CHECK_FALSE(TextEngine::load(dir, error));
    CHECK(error.find("has no letters of script Qqqq") != std::string::npos);
    write(R"({"fonts": [{"script": "Latn", "file": "main.ttf"}, {"script": "Taml", "file": "main.ttf"}]})");
    CHECK_FALSE(TextEngine::load(dir, error));
    CHECK(error.find("has no letters of script Taml") != std::string::npos);
}

TEST_CASE("a new script is a font file and a table entry: Oriya added with no code", "[ui][text]") {
    const std::filesystem::path oriya = "/usr/share/fonts/truetype/noto/NotoSansOriya-Regular.ttf";
    REQUIRE(std::filesystem::exists(oriya));  // fonts-noto-core (scripts/install-deps)
    auto dir = test::scratchDir("font-table-oriya");
    for (const char* f : {"NotoSans-Regular.ttf"}) std::filesystem::copy_file(kFonts / f, dir / f);
    std::filesystem::copy_file(oriya, dir / "NotoSansOriya-Regular.ttf");
    std::ofstream(dir / "scripts.json") << R"({"fonts": [{"script": "Latn", "file": "NotoSans-Regular.ttf", "languages": ["en"]},
        {"script": "Orya", "file": "NotoSansOriya-Regular.ttf", "languages": ["or"]}]})";
    ShapedImGui gui(kSize, dir);
    gui.engine->setLanguage("or");
    const std::string word = "କର୍ମ";
    gui.frame([&] { ImGui::TextUnformatted(word.c_str()); });
    const auto draws = gui.drawsOf(word);
    REQUIRE(draws.size() == 1);
    const auto oracle = hbShape(dir / "NotoSansOriya-Regular.ttf", gui.engine->scaleFor(kSize), "Orya", "or", word);
    REQUIRE(draws[0].size() == oracle.size());
    for (size_t i = 0; i < oracle.size(); ++i) {
        CHECK(draws[0][i].glyph == oracle[i].glyph);
        CHECK(draws[0][i].penX == oracle[i].x);
    }
}

TEST_CASE("the field app with a Hindi visit open: its labels are shaped, and steady frames shape nothing", "[ui][text]") {
    using namespace ck::test;
    auto dir = scratchDir("shaped-app");
    FakeClock clock;
    ShapedImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    createStore(model);
    model.setToday(testToday());
    REQUIRE(model.startVisit(kFlagshipId));
    model.setLanguage("hi");
    gui.engine->setLanguage("hi");
    auto frame = [&] {
        gui.drawn.clear();
        gui.lines.clear();
        ImGui::NewFrame();
        app.drawFrame();
        ImGui::Render();
    };
    for (int i = 0; i < 3; ++i) frame();
    // The question's Hindi label went through the engine.
    const FormSession& session = *model.session();
    const Question& q = session.survey().questions[size_t(model.position().question)];
    const std::string label = q.label.in(model.languageIndex());
    bool labelShaped = false;
    for (const auto& line : gui.lines) labelShaped = labelShaped || line == label;
    CHECK(labelShaped);
    const auto before = gui.engine->stats();
    CHECK(before.shapeCalls > 0);
    for (int i = 0; i < 10; ++i) frame();
    const auto after = gui.engine->stats();
    CHECK(after.shapeCalls == before.shapeCalls);
    CHECK(after.textsShaped == before.textsShaped);
    // Next: a new question's words are shaped once.
    model.next();
    frame();
    CHECK(gui.engine->stats().textsShaped > after.textsShaped);
}

TEST_CASE("every question and screen of the field app draws through the engine, in English and Hindi", "[ui][text]") {
    using namespace ck::test;
    auto dir = scratchDir("shaped-walk");
    FakeClock clock;
    ShapedImGui gui;
    FieldApp app(makeConfig(dir, clock));
    AppModel& model = app.model();
    openCompleteFlagshipVisit(model);
    auto frame = [&] {
        gui.drawn.clear();
        gui.lines.clear();
        ImGui::NewFrame();
        app.drawFrame();
        ImGui::Render();
    };
    for (const char* language : {"en", "hi"}) {
        model.setLanguage(language);
        gui.engine->setLanguage(language);
        model.goTo(model.session()->first());
        int steps = 0, labelsSeen = 0;
        do {
            frame();
            ++steps;
            const Position at = model.position();
            const std::string label = model.session()->survey().questions[size_t(at.question)].label.in(model.languageIndex());
            if (std::find(gui.lines.begin(), gui.lines.end(), label) != gui.lines.end()) ++labelsSeen;
        } while (model.next() && steps < 1000);
        CHECK(steps > 100);
        CHECK(labelsSeen == steps);  // every question's label was shaped and drawn
        frame();
        CHECK(model.screen() == Screen::Review);
    }
    for (Screen screen : {Screen::Sync, Screen::Enrolment, Screen::Settings, Screen::ChangePassphrase, Screen::Visits}) {
        model.show(screen);
        frame();
        frame();
        CHECK_FALSE(gui.drawn.empty());
    }
    CHECK(gui.engine->stats().glyphsSkipped == 0);
}

TEST_CASE("text in a font the engine did not add, or before its atlas is built, is left to ImGui", "[ui][text]") {
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;
    io.DisplaySize = ImVec2(800, 600);
    std::string error;
    auto engine = TextEngine::load(kFonts, error);
    REQUIRE(engine);
    ImFont* shaped = engine->addFonts(*io.Fonts, kSize);
    ImFont* other = io.Fonts->AddFontDefault();
    engine->install();
    CHECK_FALSE(engine->handles(shaped));  // no glyph region yet
    io.Fonts->Build();
    engine->atlasBuilt(*io.Fonts);
    CHECK(engine->handles(shaped));
    CHECK_FALSE(engine->handles(other));
    std::vector<std::string> lines;
    engine->setDrawObserver([&](const DrawnGlyph& g) { lines.emplace_back(g.line); });
    ImGui::NewFrame();
    ImGui::SetNextWindowPos(ImVec2(0, 0));
    ImGui::SetNextWindowSize(ImVec2(400, 200));
    ImGui::Begin("w");
    ImGui::TextUnformatted("shaped words");
    ImGui::PushFont(other);
    ImGui::TextUnformatted("plain words");
    ImGui::PopFont();
    ImGui::End();
    ImGui::Render();
    CHECK(std::count(lines.begin(), lines.end(), "shaped words") == 12);  // its glyphs, the space too
    CHECK(std::count(lines.begin(), lines.end(), "plain words") == 0);
    engine->uninstall();
    CHECK_FALSE(engine->installed());
    engine.reset();
    ImGui::DestroyContext();
}

TEST_CASE("a first atlas of the main font only: smaller, no other script for ImGui, every script still shaped", "[ui][text]") {
    constexpr float kPhoneSize = kSize * 2.625f;  // the web app on a phone (devicePixelRatio 2.625)
    int wholeHeight = 0;
    {
        ShapedImGui whole(kPhoneSize);
        const ImFont* font = ImGui::GetIO().Fonts->Fonts[0];
        CHECK(font->FindGlyphNoFallback(0x0915) != nullptr);  // DEVANAGARI LETTER KA, for typing
        CHECK(font->FindGlyphNoFallback(0x0B95) != nullptr);  // TAMIL LETTER KA
        wholeHeight = ImGui::GetIO().Fonts->TexHeight;
    }
    ShapedImGui first(kPhoneSize, kFonts, /*otherScripts=*/false);
    const ImFont* font = ImGui::GetIO().Fonts->Fonts[0];
    CHECK(font->FindGlyphNoFallback('A') != nullptr);
    CHECK(font->FindGlyphNoFallback(0x20B9) != nullptr);  // the rupee sign: the main font's
    CHECK(font->FindGlyphNoFallback(0x0915) == nullptr);
    CHECK(font->FindGlyphNoFallback(0x0B95) == nullptr);
    CHECK(ImGui::GetIO().Fonts->TexHeight < wholeHeight);
    // Labels are shaped by the engine from its own fonts, so Hindi still draws in Devanagari.
    const std::string word = "\u0915\u0930\u094D\u092E";  // कर्म
    first.frame([&] { ImGui::TextUnformatted(word.c_str()); });
    const auto draws = first.drawsOf(word);
    REQUIRE(draws.size() == 1);
    REQUIRE(!draws[0].empty());
    const auto& table = first.engine->table();
    for (const auto& g : draws[0]) {
        CHECK(table.fonts[size_t(g.font)].script == "Deva");
        CHECK(g.glyph != 0);
        CHECK(g.vertex >= 0);
    }
}
