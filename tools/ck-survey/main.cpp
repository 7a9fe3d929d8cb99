// ck-survey: the survey author's and the demo's tool.
//   ck-survey check [--strict] TEMPLATE  check a template (.json, or an XLSForm .xlsx, .xlsm or
//                                         .xls); print its errors and, apart, its warnings (what
//                                         was ignored or filled in), or a summary when it is sound;
//                                         with --strict every warning is an error
//   ck-survey fill TEMPLATE ANSWERS.json  fill a visit from answers; print the record as JSON,
//                                         or every problem that stops it from being finalised
//   ck-survey pack TEMPLATE --out F.json  check a template and write it as the JSON document to
//                                         publish, with the images its questions and choices
//                                         name packed in (media::image)
//   --media DIR (check, fill, pack)       the form's images; default: NAME-media beside the
//                                         template, as ODK keeps them (form-media/ for form.xlsx)
//   ck-survey translations [--glossary DIR] FILE|DIR...
//                                         the translation check (core/template/translation_check.h)
//                                         on templates (.json) and on folders of word tables
//                                         (assets/text): errors fail, glossary notes are warnings
// Exit status: 0 success, 1 the template or the answers have problems, 2 usage or I/O error.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/form/answers_json.h"
#include "core/form/form_session.h"
#include "core/record/record_json.h"
#include "core/template/template_loader.h"
#include "core/template/translation_check.h"
#include "core/xlsform/xlsform_import.h"

namespace {

int usage() {
    std::cerr << "usage:\n"
                 "  ck-survey check [--strict] [--media DIR] TEMPLATE.json|TEMPLATE.xlsx|TEMPLATE.xls\n"
                 "  ck-survey fill TEMPLATE ANSWERS.json [--media DIR] [--language CODE] [--today YYYY-MM-DD] [--binary OUT.bin]\n"
                 "  ck-survey pack TEMPLATE [--media DIR] --out TEMPLATE.json\n"
                 "  ck-survey translations [--glossary DIR] TEMPLATE.json|WORD-TABLE-DIR...\n"
                 "  --media DIR: the form's images (PNG, JPEG); default NAME-media beside the template\n";
    return 2;
}

// A template that is not there is an I/O error (exit 2), not a faulty template (exit 1).
bool readable(const std::string& path) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec) && std::ifstream(path, std::ios::binary)) return true;
    std::cerr << path << ": " << (std::filesystem::exists(path, ec) ? "cannot read the file" : "no such file") << "\n";
    return false;
}

// --media DIR: the form's images. A folder named but not there is a usage error (exit 2);
// the default folder beside the template may be absent (its images are then warnings).
std::string g_mediaFolder;

ck::TemplateLoadOptions loadOptions(bool strict = false) {
    ck::TemplateLoadOptions options;
    options.strict = strict;
    options.mediaFolder = g_mediaFolder;
    options.decodeMedia = true;  // an author's check: every packed image decoded whole
    return options;
}

ck::TemplateLoadResult loadAny(const std::string& path, bool strict = false) {
    return ck::loadTemplateFile(path, loadOptions(strict));
}

std::string plural(size_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

// Warnings go to stderr after the errors, under their own heading, so that neither hides
// the other; each names its sheet and row (or question) like an error.
void printWarnings(const ck::TemplateLoadResult& r) {
    if (r.warnings.empty()) return;
    std::cerr << plural(r.warnings.size(), "warning") << " (ignored or filled in; `check --strict` makes them errors):\n";
    for (const auto& w : r.warnings) std::cerr << "  warning: " << w.toString() << "\n";
}

// Prints the errors of a failed load; returns the exit status.
int reportLoadErrors(const ck::TemplateLoadResult& r) {
    std::cerr << plural(r.errors.size(), "error") << ":\n";
    for (const auto& e : r.errors) std::cerr << "  error: " << e.toString() << "\n";
    printWarnings(r);
    std::cerr << plural(r.errors.size(), "error") << "; the template was not loaded\n";
    return 1;
}

// ---- the translation check ---------------------------------------------------------------

// The rules for files in `glossaryDir`: <lang>.json glossaries and latin-allowed.json (the
// words that may stay in Latin letters). A folder that is not there gives no glossary.
bool loadTranslationRules(const std::filesystem::path& glossaryDir, ck::TranslationRules& rules) {
    std::error_code ec;
    if (glossaryDir.empty() || !std::filesystem::is_directory(glossaryDir, ec)) return true;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(glossaryDir, ec))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        std::string error;
        bool ok = f.stem() == "latin-allowed" ? ck::addLatinAllowList(rules, text.str(), error)
                                              : ck::addGlossary(rules, f.stem().string(), text.str(), error);
        if (!ok) {
            std::cerr << f.string() << ": " << error << "\n";
            return false;
        }
    }
    return true;
}

// Prints the findings for `path`; returns the number of errors. With `errorsAsWarnings`
// (check without --strict) errors are printed as warnings and not counted.
size_t printTranslationFindings(const std::string& path, const std::vector<ck::TranslationFinding>& findings,
                                bool errorsAsWarnings) {
    size_t errors = 0, notes = 0;
    for (const auto& f : findings) (f.isError() ? errors : notes) += 1;
    if (errors) {
        std::cerr << path << ": " << plural(errors, "translation problem") << (errorsAsWarnings ? " (warnings; `check --strict` makes them errors)" : "") << ":\n";
        for (const auto& f : findings)
            if (f.isError()) std::cerr << (errorsAsWarnings ? "  warning: " : "  error: ") << f.toString() << "\n";
    }
    if (notes) {
        std::cerr << path << ": " << plural(notes, "glossary note") << " (warnings, never failures: inflection varies):\n";
        for (const auto& f : findings)
            if (!f.isError()) std::cerr << "  warning: " << f.toString() << "\n";
    }
    return errorsAsWarnings ? 0 : errors;
}

std::optional<std::string> readFile(const std::string& path);

// One template file or one folder of word tables through the check; the number of errors,
// or -1 when it could not be read.
long checkTranslationsOf(const std::string& path, const std::filesystem::path& glossaryDir, bool errorsAsWarnings) {
    ck::TranslationRules rules;
    if (!loadTranslationRules(glossaryDir, rules)) return -1;
    ck::TranslationSource source;
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        std::vector<std::filesystem::path> files;
        for (const auto& e : std::filesystem::directory_iterator(path, ec))
            if (e.path().extension() == ".json") files.push_back(e.path());
        std::sort(files.begin(), files.end());
        std::vector<std::string> texts;
        for (const auto& f : files) {
            auto text = readFile(f.string());
            if (!text) {
                std::cerr << f.string() << ": cannot read the file\n";
                return -1;
            }
            texts.push_back(*text);
        }
        source = ck::wordTableTranslations(texts);
    } else {
        auto text = readFile(path);
        if (!text) {
            std::cerr << path << ": " << (std::filesystem::exists(path, ec) ? "cannot read the file" : "no such file") << "\n";
            return -1;
        }
        source = ck::templateTranslations(*text);
    }
    if (!source.error.empty()) {
        std::cerr << path << ": " << source.error << "\n";
        return -1;
    }
    rules.source = source.languages.front();
    rules.languages = source.languages;
    auto findings = ck::checkTranslations(source.texts, rules);
    size_t errors = printTranslationFindings(path, findings, errorsAsWarnings);
    std::string langs;
    for (const auto& l : source.languages) langs += (langs.empty() ? "" : ", ") + l;
    std::cout << path << ": " << plural(source.texts.size(), "text") << " in " << langs << ": "
              << (errors ? plural(errors, "translation error") : std::string("translations complete")) << "\n";
    return long(errors);
}

int translations(const std::vector<std::string>& args) {
    std::filesystem::path glossaryDir;
    std::vector<std::string> paths;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--glossary" && i + 1 < args.size()) glossaryDir = args[++i];
        else if (args[i].rfind("--", 0) == 0) return usage();
        else paths.push_back(args[i]);
    }
    if (paths.empty()) return usage();
    size_t errors = 0;
    for (const auto& p : paths) {
        // A template's own folder holds its glossaries unless --glossary names another.
        std::filesystem::path dir = glossaryDir;
        if (dir.empty()) dir = std::filesystem::path(p).parent_path() / "glossary";
        long e = checkTranslationsOf(p, dir, false);
        if (e < 0) return 2;
        errors += size_t(e);
    }
    return errors ? 1 : 0;
}

int check(const std::string& path, bool strict) {
    if (!readable(path)) return 2;
    // The translation check on a JSON template, with the glossaries of its folder: warnings,
    // errors with --strict (the glossary's notes stay warnings). Run first, so that its
    // findings show even when the loader refuses the template.
    long translationErrors = 0;
    if (std::filesystem::path(path).extension() == ".json") {
        auto text = readFile(path);
        if (text && ck::templateTranslations(*text).error.empty()) {
            translationErrors = checkTranslationsOf(path, std::filesystem::path(path).parent_path() / "glossary", !strict);
            if (translationErrors < 0) return 2;
        }
    }
    auto r = loadAny(path, strict);
    if (!r.ok()) return reportLoadErrors(r);
    printWarnings(r);
    if (translationErrors > 0) return 1;
    const ck::Template& t = *r.survey;
    std::map<std::string, int> byType;
    int answerable = 0, pii = 0, repeats = 0;
    for (const auto& q : t.questions) {
        if (q.isSection()) continue;
        ++byType[ck::questionTypeName(q.type)];
        if (q.isAnswerable()) ++answerable;
        if (q.pii) ++pii;
        if (q.type == ck::QuestionType::Repeat) ++repeats;
    }
    std::cout << path << ": template '" << t.id << "' version " << t.version << " is sound"
              << (r.warnings.empty() ? "" : " (with " + plural(r.warnings.size(), "warning") + ", see above)") << "\n";
    std::cout << "  languages: ";
    for (size_t i = 0; i < t.languages.size(); ++i) std::cout << (i ? ", " : "") << t.languages[i];
    std::cout << "\n  title: " << t.title.in(0) << "\n";
    std::cout << "  sections: " << t.sections.size() << ", questions taking an answer: " << answerable
              << ", personal (pii): " << pii << ", repeat groups: " << repeats << "\n";
    std::cout << "  by type:";
    for (const auto& [type, n] : byType) std::cout << " " << type << "=" << n;
    std::cout << "\n  choice lists: " << t.choiceLists.size() << ", indicators: " << t.indicators.size() << "\n";
    if (!t.media.empty()) {
        size_t bytes = 0;
        for (const auto& [name, data] : t.media) bytes += data.size();
        std::cout << "  images: " << t.media.size() << " (" << (bytes + 1023) / 1024 << " KiB)\n";
    }
    return 0;
}

// The JSON document to publish (ck-aggregator templates publish) or to put on a device
// (ck-field import-template), images packed in.
int pack(const std::string& path, const std::string& out) {
    if (!readable(path)) return 2;
    ck::TemplatePackage package = ck::packTemplateFile(path, loadOptions());
    if (!package.ok()) return reportLoadErrors(package.loaded);
    printWarnings(package.loaded);
    std::ofstream file(out, std::ios::binary | std::ios::trunc);
    file.write(package.jsonText.data(), std::streamsize(package.jsonText.size()));
    file.close();
    if (!file) {
        std::cerr << out << ": cannot write the file\n";
        return 2;
    }
    const ck::Template& t = *package.loaded.survey;
    std::cout << out << ": template '" << t.id << "' version " << t.version << ", " << t.media.size()
              << (t.media.size() == 1 ? " image" : " images") << " packed, " << package.jsonText.size() << " bytes\n";
    return 0;
}

// Answers given for questions that the other answers make irrelevant are left out of the
// record, as on the device; an answer file that has them probably holds a mistake.
void reportIgnoredAnswers(const ck::FormSession& session, const nlohmann::json& answers, const std::string& path) {
    const ck::Template& t = session.survey();
    auto check = [&](const std::string& id, int instance) {
        const ck::Question* q = t.find(id);
        if (q && q->isAnswerable() && !session.isRelevant(q->index, instance))
            std::cerr << path << ": note: '" << id << "' is answered but not relevant here; it is left out of the record\n";
    };
    for (auto it = answers.begin(); it != answers.end(); ++it) {
        const ck::Question* q = t.find(it.key());
        if (!q) continue;
        if (q->type != ck::QuestionType::Repeat) {
            check(it.key(), 0);
            continue;
        }
        int i = 0;
        for (const auto& inst : *it) {
            for (auto c = inst.begin(); c != inst.end(); ++c) check(c.key(), i);
            ++i;
        }
    }
}

std::optional<std::string> readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

int fill(const std::string& templatePath, const std::string& answersPath, const std::string& language,
         const std::string& today, const std::string& binaryOut) {
    if (!readable(templatePath)) return 2;
    auto r = loadAny(templatePath);
    if (!r.ok()) return reportLoadErrors(r);
    auto text = readFile(answersPath);
    if (!text) {
        std::cerr << answersPath << ": cannot read the file\n";
        return 2;
    }
    nlohmann::json answers;
    try {
        answers = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::exception& e) {
        std::cerr << answersPath << ": not valid JSON: " << e.what() << "\n";
        return 1;
    }
    size_t lang = 0;
    if (!language.empty()) {
        int li = r.survey->languageIndex(language);
        if (li < 0) {
            std::cerr << "the template has no language '" << language << "'\n";
            return 2;
        }
        lang = size_t(li);
    }
    ck::FormSession session(r.survey);
    if (!today.empty()) {
        auto d = ck::parseIsoDate(today);
        if (!d) {
            std::cerr << "--today takes a date as YYYY-MM-DD\n";
            return 2;
        }
        session.setToday(*d);
    }
    auto answerProblems = ck::applyAnswersJson(session, answers, r.survey->languages[lang]);
    std::set<std::string> rejected;
    for (const auto& p : answerProblems) rejected.insert(p.questionId);
    std::vector<ck::Problem> problems;
    for (auto& p : session.validate(lang))
        // A rejected answer leaves its question open; saying so twice would mislead.
        if (!(p.kind == ck::ProblemKind::Required && rejected.count(p.questionId))) problems.push_back(std::move(p));
    if (!answerProblems.empty() || !problems.empty()) {
        for (const auto& p : answerProblems) std::cerr << answersPath << ": " << p.message << "\n";
        for (const auto& p : problems) {
            std::cerr << answersPath << ": " << p.questionId;
            if (r.survey->questions[size_t(p.at.question)].repeat >= 0) std::cerr << " [instance " << p.at.instance + 1 << "]";
            std::cerr << " (" << p.label << "): " << p.message << "\n";
        }
        std::cerr << answerProblems.size() + problems.size() << " problem(s); the visit cannot be finalised\n";
        return 1;
    }
    reportIgnoredAnswers(session, answers, answersPath);
    ck::Record record = session.toRecord();
    if (!binaryOut.empty()) {
        std::ofstream out(binaryOut, std::ios::binary);
        std::string bytes = ck::serializeRecord(record);
        out.write(bytes.data(), std::streamsize(bytes.size()));
        if (!out) {
            std::cerr << binaryOut << ": cannot write the record\n";
            return 2;
        }
    }
    std::cout << ck::recordToJson(record).dump(2) << "\n";
    auto p = session.progress();
    std::cerr << "record " << record.id << ": " << p.answered << " of " << p.total << " relevant questions answered, no problems\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args;
    // --media DIR may come anywhere after the command.
    for (int i = 1; i < argc; ++i) {
        if (std::string(argv[i]) == "--media" && i > 1) {
            if (i + 1 >= argc) return usage();
            g_mediaFolder = argv[++i];
            std::error_code ec;
            if (!std::filesystem::is_directory(g_mediaFolder, ec)) {
                std::cerr << g_mediaFolder << ": no such folder (--media names the folder holding the form's images)\n";
                return 2;
            }
            continue;
        }
        args.emplace_back(argv[i]);
    }
    if (args.empty()) return usage();
    try {
        if (args[0] == "check" && args.size() == 2) return check(args[1], false);
        if (args[0] == "check" && args.size() == 3 && (args[1] == "--strict" || args[2] == "--strict"))
            return check(args[1] == "--strict" ? args[2] : args[1], true);
        if (args[0] == "pack" && args.size() == 4) {
            if (args[2] == "--out") return pack(args[1], args[3]);
            if (args[1] == "--out") return pack(args[3], args[2]);
            return usage();
        }
        if (args[0] == "translations") return translations(std::vector<std::string>(args.begin() + 1, args.end()));
        if (args[0] == "fill" && args.size() >= 3) {
            std::string language, today, binary;
            for (size_t i = 3; i < args.size(); ++i) {
                if (i + 1 >= args.size()) return usage();
                if (args[i] == "--language") language = args[++i];
                else if (args[i] == "--today") today = args[++i];
                else if (args[i] == "--binary") binary = args[++i];
                else return usage();
            }
            return fill(args[1], args[2], language, today, binary);
        }
    } catch (const std::exception& e) {
        // Only whole-operation failures (out of memory, I/O) reach here.
        std::cerr << "ck-survey: " << e.what() << "\n";
        return 2;
    }
    return usage();
}
