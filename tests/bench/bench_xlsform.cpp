// XLSForm import: the share of the feature workbooks (tests/core/xlsform/feature_workbooks.h,
// one per row of the README's XLSForm table) that load, and how long importing and loading
// takes, for those small forms and for one of 2,000 questions. Prints figures; no pass/fail.
#include <chrono>
#include <cstdio>

#include "core/template/template_loader.h"
#include "core/xlsform/xlsform_import.h"
#include "tests/core/xlsform/feature_workbooks.h"

using namespace ck;
using namespace ck::test;

namespace {

double millisecondsSince(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main() {
    size_t loads = 0, warns = 0, refused = 0, total = 0;
    double slowest = 0, sum = 0;
    std::printf("%-32s %-10s %s\n", "workbook", "result", "ms");
    for (const FeatureWorkbook& w : featureWorkbooks()) {
        auto path = writeFeatureWorkbook(w);
        auto start = std::chrono::steady_clock::now();
        TemplateLoadResult r = loadTemplateFile(path);
        double ms = millisecondsSince(start);
        sum += ms;
        slowest = std::max(slowest, ms);
        ++total;
        const char* result = !r.ok() ? "refused" : r.warnings.empty() ? "loads" : "warnings";
        if (!r.ok()) ++refused;
        else if (r.warnings.empty()) ++loads;
        else ++warns;
        std::printf("%-32s %-10s %.2f\n", w.file.c_str(), result, ms);
    }
    std::printf("\nfeature workbooks: %zu; load: %zu (%.0f%%), of which with warnings: %zu; refused by name: %zu\n",
                total, loads + warns, 100.0 * double(loads + warns) / double(total), warns, refused);
    std::printf("import + load per small workbook: mean %.2f ms, slowest %.2f ms\n", sum / double(total), slowest);

    // A large form: 2,000 questions in 100 groups, bilingual, with relevance.
    std::vector<Row> rows = {{"type", "name", "label::English (en)", "label::Hindi (hi)", "relevant"}};
    for (int g = 0; g < 100; ++g) {
        rows.push_back({"begin group", "g" + std::to_string(g), "Group " + std::to_string(g), "समूह", ""});
        for (int q = 0; q < 20; ++q) {
            std::string id = "q" + std::to_string(g) + "_" + std::to_string(q);
            rows.push_back({q % 2 ? "integer" : "select_one yn", id, "Question " + id, "प्रश्न " + id,
                            q % 2 ? "${q" + std::to_string(g) + "_" + std::to_string(q - 1) + "} = 'yes'" : ""});
        }
        rows.push_back({"end group"});
    }
    auto big = writeXlsx("bench-2000.xlsx", {{"survey", rows},
                                             {"choices", {{"list_name", "name", "label::English (en)", "label::Hindi (hi)"},
                                                          {"yn", "yes", "Yes", "हाँ"}, {"yn", "no", "No", "नहीं"}}},
                                             featureSettings()});
    double best = 1e9;
    for (int i = 0; i < 5; ++i) {
        auto start = std::chrono::steady_clock::now();
        TemplateLoadResult r = loadTemplateFile(big);
        double ms = millisecondsSince(start);
        if (!r.ok()) {
            std::printf("the 2,000-question form did not load\n");
            return 1;
        }
        best = std::min(best, ms);
    }
    std::printf("import + load of a 2,000-question bilingual workbook: best of 5 %.1f ms\n", best);

    // Images (media::image): 30 questions, each with a 320 x 240 photo-like PNG of its own in
    // images-media/ (noise, so they compress as badly as photos): what packing costs, what the
    // signed JSON weighs against the files, and what loading it costs with the header check of
    // every load and with the whole decode of publish.
    std::vector<Row> pictured = {{"type", "name", "label", "media::image"}};
    std::filesystem::path media = scratchDir() / "images-media";
    std::filesystem::remove_all(media);
    size_t fileBytes = 0;
    for (int q = 0; q < 30; ++q) {
        std::string name = "p" + std::to_string(q) + ".png";
        std::string png = noisePng(320, 240, uint32_t(q + 1));
        fileBytes += png.size();
        writeFileIn(media / name, png);
        pictured.push_back({"note", "n" + std::to_string(q), "Look at picture " + std::to_string(q), name});
    }
    auto images = writeXlsx("images.xlsx", {{"survey", pictured}, featureSettings()});
    double packBest = 1e9, headerBest = 1e9, decodeBest = 1e9;
    size_t jsonBytes = 0;
    for (int i = 0; i < 5; ++i) {
        auto start = std::chrono::steady_clock::now();
        TemplatePackage package = packTemplateFile(images);
        packBest = std::min(packBest, millisecondsSince(start));
        if (!package.ok() || package.mediaFiles != 30) {
            std::printf("the workbook with images did not pack (%zu images):\n", package.mediaFiles);
            for (const auto& e : package.loaded.errors) std::printf("  %s\n", e.toString().c_str());
            return 1;
        }
        jsonBytes = package.jsonText.size();
        start = std::chrono::steady_clock::now();
        TemplateLoadResult header = loadTemplateJson(package.jsonText, "images.json");
        headerBest = std::min(headerBest, millisecondsSince(start));
        TemplateLoadOptions whole;
        whole.decodeMedia = true;
        start = std::chrono::steady_clock::now();
        TemplateLoadResult decoded = loadTemplateJson(package.jsonText, "images.json", whole);
        decodeBest = std::min(decodeBest, millisecondsSince(start));
        if (!header.ok() || !decoded.ok()) return 1;
    }
    std::printf("30 images of 320 x 240 (%.2f MiB of PNG): import + pack (each decoded once) best of 5 %.1f ms; "
                "template JSON %.2f MiB (%.2f x the files); load with header checks %.1f ms, with every image decoded "
                "(publish) %.1f ms\n",
                double(fileBytes) / 1048576.0, packBest, double(jsonBytes) / 1048576.0,
                double(jsonBytes) / double(fileBytes), headerBest, decodeBest);
    return 0;
}
