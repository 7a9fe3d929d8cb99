// ck-field: the headless field client. The same encrypted store the field app uses, driven
// from a shell: by the tests, by the demo, and by people scripting bulk work.
//
//   ck-field init DIR [--test-kdf]               create DIR/officer.ckstore
//   ck-field import-template DIR FILE             check and store a template (.json or an XLSForm
//                                                workbook), with the images it names from
//                                                NAME-media/ beside it
//   ck-field new-visit DIR TEMPLATE_ID ANSWERS.json [--today YYYY-MM-DD] [--unit UNIT_ID]
//                                                fill a visit from answers, save it as a draft,
//                                                print its id
//   ck-field finalise DIR VISIT_ID [--today YYYY-MM-DD] [--language CODE]
//                                                print every problem, or the outbox entry
//   ck-field set-aggregator-key DIR HEXKEY       seal every finished visit waiting for it
//   ck-field set-custodian-key DIR HEXKEY        personal fields go to this key, apart
//   ck-field visits DIR                          list visits
//   ck-field show DIR VISIT_ID                   print a visit's record as JSON
//   ck-field outbox DIR                          list the outbox
//   ck-field export-envelope DIR RECORD_ID OUT   write a record's sealed envelope to OUT
//   ck-field mark DIR RECORD_ID sent|acknowledged|duplicate|refused [REASON]
//   ck-field purge DIR                           purge acknowledged records past their age
//   ck-field enrol DIR --server URL --pin PIN --code CODE [--label L]
//   ck-field enrol DIR --string CK1-... | --string-file FILE [--label L]
//                                                enrol with an aggregator (from the enrolment slip:
//                                                its three lines, or its enrolment string typed or
//                                                read from a file, e.g. the slip on a USB stick)
//   ck-field sync DIR [--attempts N]             send finished visits, fetch templates,
//                                                assignments and review comments
//   ck-field export-bundle DIR FILE              write waiting visits to a bundle (USB stick)
//   ck-field import-receipt DIR FILE             apply the receipt the aggregator's import wrote
//   ck-field comments DIR                        refused visits with their reasons, and review comments
//
// The passphrase comes from the environment variable CK_PASSPHRASE, or is asked for on the
// terminal without echo (twice for init). --test-kdf makes unlocking fast and weak: for tests
// and demos only, never for a real device.
// Exit status: 0 success; 1 problems or a refusal (invalid answers, wrong passphrase, an
// outbox step out of order, a record that fails its integrity check; for sync: a visit the
// aggregator refused, or an aggregator that could not be reached); 2 usage or I/O error.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/store/store.h"
#include "tools/terminal/passphrase_prompt.h"
#include "app/sync/field_sync.h"
#include "core/xlsform/xlsform_import.h"
#include "core/crypto/sealed_box.h"
#include "core/form/answers_json.h"
#include "core/record/record_json.h"
#include "sync/protocol/enrolment_string.h"

namespace fs = std::filesystem;

namespace {

constexpr int kOk = 0, kProblems = 1, kUsage = 2;
constexpr const char* kStoreFileName = "officer.ckstore";

int usage() {
    std::cerr << "usage:\n"
                 "  ck-field init DIR [--test-kdf]\n"
                 "  ck-field import-template DIR FILE.json|FILE.xlsx\n"
                 "  ck-field new-visit DIR TEMPLATE_ID ANSWERS.json [--today YYYY-MM-DD] [--unit UNIT_ID]\n"
                 "      (--unit: a unit the aggregator assigned; the visit carries its assignment token)\n"
                 "  ck-field finalise DIR VISIT_ID [--today YYYY-MM-DD] [--language CODE]\n"
                 "  ck-field set-aggregator-key DIR HEXKEY\n"
                 "  ck-field set-custodian-key DIR HEXKEY\n"
                 "  ck-field visits DIR\n"
                 "  ck-field show DIR VISIT_ID\n"
                 "  ck-field outbox DIR\n"
                 "  ck-field export-envelope DIR RECORD_ID OUT\n"
                 "  ck-field mark DIR RECORD_ID sent|acknowledged|duplicate|refused [REASON]\n"
                 "  ck-field purge DIR\n"
                 "  ck-field enrol DIR --server URL --pin PIN --code CODE [--label L]\n"
                 "  ck-field enrol DIR --string CK1-... | --string-file FILE [--label L]\n"
                 "  ck-field sync DIR [--attempts N]\n"
                 "  ck-field export-bundle DIR FILE\n"
                 "  ck-field import-receipt DIR FILE\n"
                 "  ck-field comments DIR\n"
                 "The passphrase comes from CK_PASSPHRASE or the terminal.\n";
    return kUsage;
}

// A failure that ends the command with `status` after printing `message`.
struct Exit {
    int status;
    std::string message;
};


// The passphrase and, for a new one, its confirmation.
std::pair<std::string, std::string> passphrase(bool confirm) {
    if (const char* env = std::getenv("CK_PASSPHRASE")) return {env, env};
    if (!isatty(STDIN_FILENO))
        throw Exit{kUsage, "no passphrase: set CK_PASSPHRASE, or run ck-field on a terminal to be asked for it"};
    std::string first = ck::promptHidden(confirm ? "New passphrase: " : "Passphrase: ");
    std::string second = confirm ? ck::promptHidden("Repeat the passphrase: ") : first;
    return {first, second};
}

int statusFor(const ck::StoreFailure& f) {
    switch (f.error) {
        case ck::StoreError::NoStore:
        case ck::StoreError::AlreadyExists:
        case ck::StoreError::NotAStore:
        case ck::StoreError::Damaged:
        case ck::StoreError::NewerSchema:
        case ck::StoreError::VaultDamaged: return kUsage;
        default: return kProblems;
    }
}

template <class T>
T take(ck::StoreResult<T>&& r) {
    if (!r) throw Exit{statusFor(r.failure()), r.failure().message};
    return std::move(r).value();
}

void require(const ck::StoreStatus& r) {
    if (!r) throw Exit{statusFor(r.failure()), r.failure().message};
}

fs::path storeFile(const std::string& dir) { return fs::path(dir) / kStoreFileName; }

ck::Store openUnlocked(const std::string& dir) {
    ck::Store store = take(ck::Store::open(storeFile(dir)));
    require(store.unlock(passphrase(false).first));
    return store;
}

std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Exit{kUsage, path + ": cannot read the file"};
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

ck::Date parseToday(const std::string& text) {
    auto d = ck::parseIsoDate(text);
    if (!d) throw Exit{kUsage, "--today takes a date as YYYY-MM-DD"};
    return *d;
}

std::vector<uint8_t> parseHexKey(const std::string& hex) {
    auto digit = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (hex.size() % 2 != 0) throw Exit{kUsage, "the key must be hex digits, two per byte"};
    std::vector<uint8_t> out;
    for (size_t i = 0; i < hex.size(); i += 2) {
        int hi = digit(hex[i]), lo = digit(hex[i + 1]);
        if (hi < 0 || lo < 0) throw Exit{kUsage, "the key must be hex digits, two per byte"};
        out.push_back(uint8_t(hi * 16 + lo));
    }
    return out;
}

// Options after the positional arguments: --name value, or a bare --flag.
struct Options {
    std::vector<std::string> positional;
    std::string today, language, unit;
    std::string server, pin, code, label, attempts;
    std::string enrolmentString, enrolmentFile;
    bool testKdf = false;
};

Options parseOptions(const std::vector<std::string>& args, size_t from) {
    Options o;
    for (size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a == "--test-kdf") o.testKdf = true;
        else if ((a == "--today" || a == "--language") && i + 1 < args.size()) (a == "--today" ? o.today : o.language) = args[++i];
        else if (a == "--server" && i + 1 < args.size()) o.server = args[++i];
        else if (a == "--unit" && i + 1 < args.size()) o.unit = args[++i];
        else if (a == "--pin" && i + 1 < args.size()) o.pin = args[++i];
        else if (a == "--code" && i + 1 < args.size()) o.code = args[++i];
        else if (a == "--label" && i + 1 < args.size()) o.label = args[++i];
        else if (a == "--attempts" && i + 1 < args.size()) o.attempts = args[++i];
        else if (a == "--string" && i + 1 < args.size()) o.enrolmentString = args[++i];
        else if (a == "--string-file" && i + 1 < args.size()) o.enrolmentFile = args[++i];
        else if (a.rfind("--", 0) == 0) throw Exit{kUsage, "unknown option " + a};
        else o.positional.push_back(a);
    }
    return o;
}

std::string timeText(int64_t t) { return t ? ck::formatUtc(t) : std::string("-"); }

// --- commands ---

int init(const std::string& dir, bool testKdf) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Exit{kUsage, dir + ": cannot create the folder: " + ec.message()};
    auto [pass, confirmation] = passphrase(true);
    ck::KdfParams kdf = testKdf ? ck::kFastKdf : ck::KdfParams{};
    ck::Store store = take(ck::Store::create(storeFile(dir), pass, confirmation, kdf));
    std::cout << "created " << storeFile(dir).string() << "\n"
              << "device key: " << ck::keyFingerprint(store.devicePublicKey()) << "\n";
    return kOk;
}

int importTemplate(const std::string& dir, const std::string& path) {
    readFile(path);  // there and readable, or a usage error
    // As publish does: a workbook imported, the images named packed from NAME-media/.
    ck::TemplatePackage package = ck::packTemplateFile(path);
    if (!package.ok()) {
        for (const auto& e : package.loaded.errors) std::cerr << e.toString() << "\n";
        throw Exit{kProblems, path + ": the template has " + std::to_string(package.loaded.errors.size()) +
                                  " problem(s); it was not imported"};
    }
    for (const auto& w : package.loaded.warnings)
        if (w.key.rfind("image", 0) == 0) std::cerr << "warning: " << w.toString() << "\n";  // an image not found
    const std::string& text = package.jsonText;
    ck::Store store = openUnlocked(dir);
    auto r = store.importTemplate(text, path);
    if (!r) {
        for (const auto& e : r.failure().templateErrors) std::cerr << e.toString() << "\n";
        throw Exit{statusFor(r.failure()), r.failure().message};
    }
    std::cout << "template '" << r.value().id << "' version " << r.value().version << " (" << r.value().title
              << ") is on the device\n";
    return kOk;
}

int newVisit(const std::string& dir, const std::string& templateId, const std::string& answersPath,
             const std::string& today, const std::string& unit) {
    nlohmann::json answers;
    try {
        answers = nlohmann::json::parse(readFile(answersPath));
    } catch (const nlohmann::json::exception& e) {
        throw Exit{kProblems, answersPath + ": not valid JSON: " + e.what()};
    }
    if (!answers.is_object()) throw Exit{kProblems, answersPath + ": the answers must be a JSON object"};
    ck::Store store = openUnlocked(dir);
    std::string token;
    if (!unit.empty()) {
        // The aggregator's token for the unit, as the app's assigned-visit start takes it.
        bool found = false;
        for (const auto& e : store.listAssignments()) {
            if (e.id != unit) continue;
            auto j = nlohmann::json::parse(e.json, nullptr, false);
            if (j.is_object() && j.contains("assignment_token") && j["assignment_token"].is_string())
                token = j["assignment_token"].get<std::string>();
            found = true;
        }
        if (!found) throw Exit{kProblems, "unit " + unit + " is not assigned to this device (sync first)"};
        if (token.empty()) throw Exit{kProblems, "the assignment of unit " + unit + " carries no token (an older aggregator)"};
    }
    ck::FormSession session = take(store.startVisit(templateId));
    session.setAssignment(token);
    if (!today.empty()) session.setToday(parseToday(today));
    auto problems = ck::applyAnswersJson(session, answers);
    // Whatever was taken is saved: a rejected answer must not cost the others.
    require(store.saveDraft(session));
    std::cout << session.recordId() << "\n";
    for (const auto& p : problems) std::cerr << answersPath << ": " << p.message << "\n";
    if (!problems.empty()) {
        std::cerr << problems.size() << " answer(s) not taken; the visit is saved as a draft without them\n";
        return kProblems;
    }
    return kOk;
}

int finalise(const std::string& dir, const std::string& visitId, const std::string& today, const std::string& language) {
    ck::Store store = openUnlocked(dir);
    ck::ResumedVisit resumed = take(store.resumeVisit(visitId));
    ck::FormSession& session = resumed.session;
    if (!today.empty()) session.setToday(parseToday(today));
    size_t lang = 0;
    if (!language.empty()) {
        int li = session.survey().languageIndex(language);
        if (li < 0) throw Exit{kUsage, "the template has no language '" + language + "'"};
        lang = size_t(li);
    }
    auto r = store.finalise(visitId, session, lang);
    if (!r) {
        for (const auto& p : r.failure().problems) {
            std::cerr << visitId << ": " << p.questionId;
            if (session.survey().questions[size_t(p.at.question)].repeat >= 0)
                std::cerr << " [instance " << p.at.instance + 1 << "]";
            std::cerr << " (" << p.label << "): " << p.message << "\n";
        }
        throw Exit{kProblems, r.failure().message};
    }
    const ck::FinaliseReceipt& receipt = r.value();
    std::cout << receipt.recordId << " " << ck::outboxStateName(receipt.state) << " " << receipt.contentHash << "\n";
    if (receipt.state == ck::OutboxState::AwaitingKey)
        std::cerr << "finished; it will be sealed when the aggregator's key is set (set-aggregator-key)\n";
    return kOk;
}

int setAggregatorKey(const std::string& dir, const std::string& hex) {
    std::vector<uint8_t> key = parseHexKey(hex);
    ck::Store store = openUnlocked(dir);
    int sealed = take(store.setAggregatorKey(key));
    std::cout << "aggregator key " << ck::keyFingerprint(key) << "; " << sealed << " record(s) sealed\n";
    return kOk;
}

int setCustodianKey(const std::string& dir, const std::string& hex) {
    std::vector<uint8_t> key = parseHexKey(hex);
    ck::Store store = openUnlocked(dir);
    require(store.setCustodianKey(key));
    std::cout << "custodian key " << ck::keyFingerprint(key) << "\n";
    return kOk;
}

int visits(const std::string& dir) {
    ck::Store store = openUnlocked(dir);
    int damaged = 0;
    for (const auto& v : store.listVisits()) {
        std::cout << v.id << "  " << ck::visitStatusName(v.status) << "  " << timeText(v.updatedAt);
        if (!v.error.empty()) {
            std::cout << "  ERROR: " << v.error << "\n";
            ++damaged;
            continue;
        }
        std::cout << "  " << v.templateId << "@" << v.templateVersion << "  " << v.title;
        if (!v.parentId.empty()) std::cout << "  (corrects " << v.parentId << ")";
        std::cout << "\n";
    }
    return damaged ? kProblems : kOk;
}

int show(const std::string& dir, const std::string& visitId) {
    ck::Store store = openUnlocked(dir);
    ck::Record record = take(store.loadVisit(visitId));
    std::cout << ck::recordToJson(record).dump(2) << "\n";
    return kOk;
}

int outbox(const std::string& dir) {
    ck::Store store = openUnlocked(dir);
    for (const auto& e : store.listOutbox()) {
        std::cout << e.recordId << "  " << ck::outboxStateName(e.state) << "  " << e.contentHash << "  "
                  << timeText(e.queuedAt);
        if (e.state == ck::OutboxState::Refused) std::cout << "  reason: " << e.reason;
        if (!e.error.empty()) std::cout << "  ERROR: " << e.error;
        std::cout << "\n";
    }
    return kOk;
}

int exportEnvelope(const std::string& dir, const std::string& recordId, const std::string& out) {
    ck::Store store = openUnlocked(dir);
    ck::SealedEnvelope env = take(store.envelope(recordId));
    std::vector<uint8_t> bytes = ck::encodeEnvelope(env);
    std::ofstream f(out, std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!f) throw Exit{kUsage, out + ": cannot write the envelope"};
    std::cout << "wrote " << bytes.size() << " bytes to " << out << "\n";
    return kOk;
}

int mark(const std::string& dir, const std::string& recordId, const std::string& state, const std::string& reason) {
    ck::Store store = openUnlocked(dir);
    if (state == "sent") require(store.markSent(recordId));
    else if (state == "acknowledged") require(store.markAcknowledged(recordId));
    else if (state == "duplicate") require(store.markDuplicate(recordId));
    else if (state == "refused") require(store.markRefused(recordId, reason));
    else throw Exit{kUsage, "mark takes sent, acknowledged, duplicate or refused"};
    std::cout << recordId << " " << state << "\n";
    return kOk;
}

int purge(const std::string& dir) {
    ck::Store store = openUnlocked(dir);
    int n = store.purge(ck::unixNow());
    std::cout << n << " acknowledged record(s) purged\n";
    return kOk;
}

// --- sync ---

// The address, pin and code from the slip's enrolment string, typed or in a file. A typo
// ends the command before anything is sent, naming the group to look at again.
ck::proto::EnrolmentDetails fromEnrolmentString(const Options& o) {
    std::string text = o.enrolmentString;
    if (!o.enrolmentFile.empty()) {
        constexpr std::uintmax_t kMaxSlipBytes = 1 << 20;  // a slip, even as HTML, is far smaller
        std::error_code ec;
        auto size = fs::file_size(o.enrolmentFile, ec);
        if (ec) throw Exit{kUsage, o.enrolmentFile + ": cannot read the file: " + ec.message()};
        if (size > kMaxSlipBytes) throw Exit{kUsage, o.enrolmentFile + ": too large to be an enrolment slip"};
        std::ifstream in(o.enrolmentFile, std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        if (!in) throw Exit{kUsage, o.enrolmentFile + ": cannot read the file"};
        text = bytes.str();
    }
    auto decoded = ck::proto::decodeEnrolmentString(text);
    if (auto* p = std::get_if<ck::proto::EnrolmentStringProblem>(&decoded))
        throw Exit{kProblems, (o.enrolmentFile.empty() ? std::string("the enrolment string: ") : o.enrolmentFile + ": ") +
                                  p->message + ". Nothing was sent"};
    return std::get<ck::proto::EnrolmentDetails>(decoded);
}

int enrol(const std::string& dir, const Options& o) {
    bool fromString = !o.enrolmentString.empty() || !o.enrolmentFile.empty();
    if (fromString && (!o.server.empty() || !o.pin.empty() || !o.code.empty() ||
                       (!o.enrolmentString.empty() && !o.enrolmentFile.empty())))
        throw Exit{kUsage, "enrol takes the enrolment string (--string or --string-file) or --server, --pin and --code, "
                           "not both"};
    if (!fromString && (o.server.empty() || o.code.empty()))
        throw Exit{kUsage, "enrol needs --string CK1-... (or --string-file FILE), or --server URL and --code CODE (and "
                           "--pin PIN for https), from the enrolment slip"};
    ck::proto::EnrolmentDetails slip = fromString ? fromEnrolmentString(o) : ck::proto::EnrolmentDetails{o.server, o.pin, o.code};
    ck::Store store = openUnlocked(dir);
    std::string label = o.label.empty() ? "ck-field " + ck::keyFingerprint(store.devicePublicKey()).substr(0, 9) : o.label;
    auto r = ck::enrolDevice(store, ck::sync::ServerAddress{slip.url, slip.publicKeyPin}, slip.code, label);
    if (auto* e = std::get_if<std::string>(&r)) throw Exit{kProblems, *e};
    const ck::EnrolmentDone& d = std::get<ck::EnrolmentDone>(r);
    std::cout << "enrolled as " << d.deviceId << " with " << d.aggregatorName << "\n"
              << "officer: " << d.officer << "  cluster: " << d.cluster << "\n"
              << "ingest key:   " << d.ingestKeyFingerprint << "\n"
              << "template key: " << d.templateKeyFingerprint << "\n"
              << "compare both keys with the enrolment slip; " << d.sealedNow << " waiting visit(s) sealed\n";
    return kOk;
}

int syncCommand(const std::string& dir, const Options& o) {
    ck::Store store = openUnlocked(dir);
    auto settings = store.syncSettings();
    if (!settings) throw Exit{kProblems, "this device is not enrolled: run `ck-field enrol` with the enrolment slip first"};
    ck::sync::RetryPolicy retry;
    if (!o.attempts.empty()) {
        try {
            retry.maxAttempts = std::stoi(o.attempts);
        } catch (const std::exception&) {
            retry.maxAttempts = 0;
        }
        if (retry.maxAttempts < 1 || retry.maxAttempts > 100) throw Exit{kUsage, "--attempts takes a number from 1 to 100"};
    }
    ck::sync::SyncClient client(ck::sync::ServerAddress{settings->serverUrl, settings->publicKeyPin}, retry);
    std::cout << "syncing with " << settings->aggregatorName << " at " << settings->serverUrl << "\n" << std::flush;
    std::string lastStage;
    auto progress = [&](const ck::sync::SyncProgress& p) {
        // One line per stage or record count, not per byte: a log someone can read.
        std::string line = p.stage;
        if (p.recordsTotal && p.stage.rfind("upload", 0) == 0 && p.stage.find("attachment") == std::string::npos)
            line += " " + std::to_string(p.recordsDone) + "/" + std::to_string(p.recordsTotal);
        if (p.attempt > 1) line += " (attempt " + std::to_string(p.attempt) + ")";
        if (line == lastStage || line.empty()) return;
        lastStage = line;
        std::cout << "  " << line << "\n" << std::flush;
    };
    auto r = ck::syncNow(store, client, progress);
    if (auto* e = std::get_if<std::string>(&r)) throw Exit{kProblems, *e};
    const ck::SyncSummary& s = std::get<ck::SyncSummary>(r);
    for (const auto& line : s.refusals) std::cout << "refused: " << line << "\n";
    for (const auto& line : s.templateProblems) std::cout << "template rejected: " << line << "\n";
    for (const auto& line : s.problems) std::cout << "problem: " << line << "\n";
    std::cout << "sent: " << s.stored << " stored, " << s.duplicates << " already there, " << s.refused << " refused; "
              << s.attachmentsSent << " attachment(s)\n"
              << "received: " << s.templatesAdded << " template(s) (" << s.templatesRejected << " rejected), "
              << s.assignments << " assignment(s), " << s.comments << " comment(s)\n"
              << s.bytesSent << " bytes up, " << s.bytesReceived << " bytes down\n";
    return s.refused || s.templatesRejected ? kProblems : kOk;
}

int exportBundle(const std::string& dir, const std::string& file) {
    ck::Store store = openUnlocked(dir);
    auto r = ck::writeBundle(store, file);
    if (auto* e = std::get_if<std::string>(&r)) throw Exit{kProblems, *e};
    std::cout << "wrote " << std::get<size_t>(r) << " visit(s) to " << file
              << "; take it to the aggregator and bring back the receipt (import-receipt)\n";
    return kOk;
}

int importReceipt(const std::string& dir, const std::string& file) {
    ck::Store store = openUnlocked(dir);
    auto r = ck::applyReceipt(store, file);
    if (auto* e = std::get_if<std::string>(&r)) throw Exit{kProblems, *e};
    const ck::SyncSummary& s = std::get<ck::SyncSummary>(r);
    for (const auto& line : s.refusals) std::cout << "refused: " << line << "\n";
    for (const auto& line : s.problems) std::cout << "problem: " << line << "\n";
    std::cout << "receipt: " << s.stored << " stored, " << s.duplicates << " already there, " << s.refused
              << " refused\n";
    return s.refused || !s.problems.empty() ? kProblems : kOk;
}

int comments(const std::string& dir) {
    ck::Store store = openUnlocked(dir);
    std::set<std::string> shown;
    auto printComments = [&](const std::string& recordId) {
        for (const auto& c : store.reviewComments(recordId)) {
            if (!c.error.empty()) std::cout << "    ERROR: " << c.error << "\n";
            else std::cout << "    " << timeText(c.at) << "  " << c.text << "\n";
        }
        shown.insert(recordId);
    };
    int refused = 0;
    for (const auto& e : store.listOutbox()) {
        if (e.state != ck::OutboxState::Refused) continue;
        ++refused;
        std::cout << e.recordId << "  refused: " << (e.error.empty() ? e.reason : "ERROR: " + e.error) << "\n";
        printComments(e.recordId);
    }
    for (const auto& c : store.reviewComments()) {
        if (shown.count(c.recordId)) continue;
        std::cout << c.recordId << "\n";
        printComments(c.recordId);
    }
    if (refused == 0 && shown.empty()) std::cout << "no refused visits and no review comments\n";
    return kOk;
}

int run(const std::vector<std::string>& args) {
    if (args.empty()) return usage();
    const std::string& cmd = args[0];
    Options o = parseOptions(args, 1);
    const auto& p = o.positional;
    if (cmd == "init" && p.size() == 1) return init(p[0], o.testKdf);
    if (cmd == "import-template" && p.size() == 2) return importTemplate(p[0], p[1]);
    if (cmd == "new-visit" && p.size() == 3) return newVisit(p[0], p[1], p[2], o.today, o.unit);
    if (cmd == "finalise" && p.size() == 2) return finalise(p[0], p[1], o.today, o.language);
    if (cmd == "set-aggregator-key" && p.size() == 2) return setAggregatorKey(p[0], p[1]);
    if (cmd == "set-custodian-key" && p.size() == 2) return setCustodianKey(p[0], p[1]);
    if (cmd == "visits" && p.size() == 1) return visits(p[0]);
    if (cmd == "show" && p.size() == 2) return show(p[0], p[1]);
    if (cmd == "outbox" && p.size() == 1) return outbox(p[0]);
    if (cmd == "export-envelope" && p.size() == 3) return exportEnvelope(p[0], p[1], p[2]);
    if (cmd == "mark" && (p.size() == 3 || p.size() == 4)) return mark(p[0], p[1], p[2], p.size() == 4 ? p[3] : "");
    if (cmd == "purge" && p.size() == 1) return purge(p[0]);
    if (cmd == "enrol" && p.size() == 1) return enrol(p[0], o);
    if (cmd == "sync" && p.size() == 1) return syncCommand(p[0], o);
    if (cmd == "export-bundle" && p.size() == 2) return exportBundle(p[0], p[1]);
    if (cmd == "import-receipt" && p.size() == 2) return importReceipt(p[0], p[1]);
    if (cmd == "comments" && p.size() == 1) return comments(p[0]);
    return usage();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const Exit& e) {
        std::cerr << "ck-field: " << e.message << "\n";
        return e.status;
    } catch (const ck::StorageError& e) {
        // Disk full, I/O, a page damaged under us: the store rolled back; nothing half-written.
        std::cerr << "ck-field: " << e.what() << "\n";
        return kUsage;
    } catch (const std::exception& e) {
        std::cerr << "ck-field: " << e.what() << "\n";
        return kUsage;
    }
}
