// ck-field driven as a user drives it: real folders, real files, the passphrase from the
// environment, real exit codes.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <thread>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/crypto/envelope.h"
#include "core/template/template_loader.h"
#include "core/crypto/sealed_box.h"
#include "tests/support/command_run.h"

namespace fs = std::filesystem;

namespace {

constexpr const char* kPassphrase = "tiruppur-knits-2026";

struct Run {
    int status = -1;
    std::string out;  // stdout
    std::string all;  // stdout and stderr
};

// Runs ck-field with `args`; `passphrase` goes in CK_PASSPHRASE (none: unset, stdin not a tty).
Run run(const std::string& args, const char* passphrase = kPassphrase) {
    std::string env = passphrase ? "CK_PASSPHRASE=" + ck::test::shellQuote(passphrase) + " " : "env -u CK_PASSPHRASE ";
    auto c = ck::test::runCommand(env + std::string(CK_FIELD_BIN) + " " + args);
    return {c.status, c.out, c.all()};
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

fs::path freshDir(const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "ck-field" / (name + "-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir.parent_path());
    return dir;
}

const std::string kFlagship = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";
const std::string kAnswers = std::string(CK_TEST_DATA_DIR) + "/answers/";

}  // namespace

TEST_CASE("ck-field: init, import, new visit, finalise, seal, outbox, as an officer would", "[tools]") {
    fs::path dir = freshDir("officer");
    const std::string d = ck::test::shellQuote(dir.string());

    Run init = run("init " + d + " --test-kdf");
    INFO(init.all);
    REQUIRE(init.status == 0);
    CHECK_THAT(init.out, Catch::Contains("created") && Catch::Contains("device key:"));
    CHECK(fs::exists(dir / "officer.ckstore"));
    CHECK(run("init " + d + " --test-kdf").status == 2);  // never over an existing store

    Run imported = run("import-template " + d + " " + kFlagship);
    INFO(imported.all);
    REQUIRE(imported.status == 0);
    CHECK_THAT(imported.out, Catch::Contains("cluster-diagnostic"));

    Run visit = run("new-visit " + d + " cluster-diagnostic " + kAnswers + "knitwear-complete.json --today 2026-11-23");
    INFO(visit.all);
    REQUIRE(visit.status == 0);
    const std::string id = trim(visit.out);
    REQUIRE(id.size() == 36);

    Run visits = run("visits " + d);
    INFO(visits.all);
    REQUIRE(visits.status == 0);
    CHECK_THAT(visits.out, Catch::Contains(id) && Catch::Contains("draft") && Catch::Contains("Sri Velavan Knit Fashions"));

    // Finished before the aggregator's key is known: waits for it.
    Run fin = run("finalise " + d + " " + id + " --today 2026-11-23");
    INFO(fin.all);
    REQUIRE(fin.status == 0);
    CHECK_THAT(fin.out, Catch::StartsWith(id + " awaiting_key "));
    CHECK(run("finalise " + d + " " + id + " --today 2026-11-23").status == 1);  // already finished

    ck::BoxKeyPair aggregator = ck::newBoxKeyPair();
    Run key = run("set-aggregator-key " + d + " " + ck::toHex(aggregator.publicKey.data(), aggregator.publicKey.size()));
    INFO(key.all);
    REQUIRE(key.status == 0);
    CHECK_THAT(key.out, Catch::Contains(ck::keyFingerprint(aggregator.publicKey)) && Catch::Contains("1 record(s) sealed"));
    CHECK(run("set-aggregator-key " + d + " abcd").status == 1);  // too short: refused
    CHECK(run("set-aggregator-key " + d + " xyz").status == 2);   // not hex: usage

    Run outbox = run("outbox " + d);
    INFO(outbox.all);
    REQUIRE(outbox.status == 0);
    CHECK_THAT(outbox.out, Catch::Contains(id + "  queued  "));

    // The envelope as the sync client would send it: the aggregator opens it.
    fs::path envFile = dir / "envelope.bin";
    Run exported = run("export-envelope " + d + " " + id + " " + ck::test::shellQuote(envFile.string()));
    INFO(exported.all);
    REQUIRE(exported.status == 0);
    std::ifstream in(envFile, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto env = ck::decodeEnvelope(bytes);
    REQUIRE(env);
    CHECK(env->recordId == id);
    auto flagship = ck::loadTemplateJsonFile(std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json");
    REQUIRE(flagship.survey);
    auto opened = ck::openEnvelope(*env, aggregator.publicKey, aggregator.secretKey, ck::recordDictionary(*flagship.survey));
    REQUIRE(std::holds_alternative<ck::OpenedEnvelope>(opened));
    CHECK(std::get<ck::OpenedEnvelope>(opened).record.find("unit_name")->value.asText() == "Sri Velavan Knit Fashions");

    // Outbox steps in order only.
    CHECK(run("mark " + d + " " + id + " acknowledged").status == 1);
    CHECK(run("mark " + d + " " + id + " sent").status == 0);
    CHECK(run("mark " + d + " " + id + " acknowledged").status == 0);
    CHECK_THAT(run("outbox " + d).out, Catch::Contains(id + "  acknowledged  "));
    CHECK(run("mark " + d + " " + id + " lost").status == 2);

    Run shown = run("show " + d + " " + id);
    REQUIRE(shown.status == 0);
    CHECK_THAT(shown.out, Catch::Contains("\"unit_name\""));
}

TEST_CASE("ck-field: refusals and usage errors have their exit codes", "[tools]") {
    fs::path dir = freshDir("refusals");
    const std::string d = ck::test::shellQuote(dir.string());
    CHECK(run("").status == 2);
    CHECK(run("frobnicate " + d).status == 2);
    CHECK(run("visits " + d).status == 2);  // no store yet

    Run weak = run("init " + d + " --test-kdf", "password");
    CHECK(weak.status == 1);
    CHECK_FALSE(fs::exists(dir / "officer.ckstore"));
    Run noPass = run("init " + d + " --test-kdf", nullptr);
    CHECK(noPass.status == 2);
    CHECK_THAT(noPass.all, Catch::Contains("CK_PASSPHRASE"));

    REQUIRE(run("init " + d + " --test-kdf").status == 0);
    Run wrong = run("visits " + d, "not-the-passphrase-9");
    CHECK(wrong.status == 1);
    CHECK(run("visits " + d).status == 0);

    // A broken template: every error, nothing imported.
    fs::path bad = dir / "broken.json";
    std::ofstream(bad) << R"({"id": "b", "version": "1", "languages": ["en"], "title": "B",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "a", "type": "integer", "label": "A", "relevant": "${nope} > 1"}]}]})";
    Run broken = run("import-template " + d + " " + ck::test::shellQuote(bad.string()));
    CHECK(broken.status == 1);
    CHECK_THAT(broken.all, Catch::Contains("nope") && Catch::Contains("not imported"));
    CHECK(run("new-visit " + d + " b " + kAnswers + "knitwear-complete.json").status == 1);  // unknown template

    // Invalid answers: saved as a draft, finalise refuses with every problem.
    REQUIRE(run("import-template " + d + " " + kFlagship).status == 0);
    Run visit = run("new-visit " + d + " cluster-diagnostic " + kAnswers + "invalid.json --today 2026-11-23");
    INFO(visit.all);
    const std::string id = trim(visit.out);
    REQUIRE(id.size() == 36);
    Run fin = run("finalise " + d + " " + id + " --today 2026-11-23");
    INFO(fin.all);
    CHECK(fin.status == 1);
    CHECK_THAT(fin.all, Catch::Contains("problem") && Catch::Contains("stays a draft"));
    CHECK_THAT(run("visits " + d).out, Catch::Contains(id + "  draft"));
    CHECK(run("outbox " + d).out.empty());
    CHECK(run("finalise " + d + " 00000000-0000-4000-8000-000000000000").status == 1);
}

// --- sync, driven through both real binaries: ck-aggregator init/enrol/serve/import/comment
// and ck-field enrol/sync/export-bundle/import-receipt/comments ---

namespace {

constexpr const char* kAdminPassphrase = "aggregator-admin-2026";

Run aggregator(const std::string& args) {
    auto c = ck::test::runCommand("CK_ADMIN_PASSPHRASE=" + ck::test::shellQuote(kAdminPassphrase) + " " +
                                  std::string(CK_AGGREGATOR_BIN) + " " + args);
    return {c.status, c.out, c.all()};
}

// `ck-aggregator serve` in the background on 127.0.0.1 with a port the system picks; stopped
// (SIGTERM, then SIGKILL after 10 s) when this goes out of scope.
struct ServeProcess {
    pid_t pid = -1;
    std::string url, pin;

    ServeProcess(const fs::path& data, const fs::path& logFile) {
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            int fd = open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(fd, 1);
            dup2(fd, 2);
            int null = open("/dev/null", O_RDONLY);
            dup2(null, 0);
            setenv("CK_ADMIN_PASSPHRASE", kAdminPassphrase, 1);
            execl(CK_AGGREGATOR_BIN, CK_AGGREGATOR_BIN, "serve", "--data", data.c_str(), "--listen", "127.0.0.1:0",
                  static_cast<char*>(nullptr));
            _exit(127);
        }
        // Bounded wait for "ready" (the line after the address and pin).
        std::regex serving(R"(serving (https://127\.0\.0\.1:[0-9]+) \(pin (sha256//[^)]+)\))");
        for (int i = 0; i < 200; ++i) {
            std::ifstream in(logFile);
            std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            std::smatch m;
            if (text.find("ready") != std::string::npos && std::regex_search(text, m, serving)) {
                url = m[1];
                pin = m[2];
                return;
            }
            int status = 0;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                pid = -1;
                FAIL("ck-aggregator serve ended: " << text);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        FAIL("ck-aggregator serve did not become ready in 10 s");
    }
    void stop() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        for (int i = 0; i < 200; ++i) {
            if (waitpid(pid, nullptr, WNOHANG) == pid) {
                pid = -1;
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        pid = -1;
    }
    ~ServeProcess() { stop(); }
};

std::string slipField(const std::string& slip, const std::string& name) {
    std::regex re(name + R"(:\s+(\S+))");
    std::smatch m;
    return std::regex_search(slip, m, re) ? std::string(m[1]) : std::string();
}

}  // namespace

TEST_CASE("ck-field: enrol, sync, comments, bundle and receipt against a real ck-aggregator", "[tools][sync]") {
    fs::path root = freshDir("sync");
    fs::create_directories(root);
    const fs::path data = root / "aggregator";
    const std::string a = ck::test::shellQuote(data.string());
    const std::string d = ck::test::shellQuote((root / "field").string());

    Run init = aggregator("init --data " + a + " --test-kdf --name 'Tiruppur pilot'");
    INFO(init.all);
    REQUIRE(init.status == 0);
    REQUIRE(aggregator("templates publish " + kFlagship + " --data " + a).status == 0);
    Run slip = aggregator("enrol --data " + a + " --officer Priya --cluster tiruppur_knitwear");
    INFO(slip.all);
    REQUIRE(slip.status == 0);
    const std::string code = slipField(slip.out, "code");
    REQUIRE_FALSE(code.empty());

    ServeProcess serve(data, root / "serve.log");
    REQUIRE(run("init " + d + " --test-kdf").status == 0);

    // The slip's pin must be the server's: another pin is refused and nothing is stored.
    Run wrongPin = run("enrol " + d + " --server " + serve.url + " --pin sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --code " + code);
    INFO(wrongPin.all);
    CHECK(wrongPin.status == 1);
    Run notEnrolled = run("sync " + d);
    CHECK(notEnrolled.status == 1);
    CHECK_THAT(notEnrolled.all, Catch::Contains("not enrolled"));
    CHECK(run("enrol " + d + " --server " + serve.url).status == 2);  // no code: usage

    Run enrol = run("enrol " + d + " --server " + serve.url + " --pin " + serve.pin + " --code " + code + " --label 'Tab 3'");
    INFO(enrol.all);
    REQUIRE(enrol.status == 0);
    CHECK_THAT(enrol.out, Catch::Contains("enrolled as dev-") && Catch::Contains("tiruppur_knitwear"));
    // The officer compares the fingerprints with the slip's.
    std::smatch fp;
    REQUIRE(std::regex_search(slip.out, fp, std::regex(R"(ingest key:\s+([0-9a-f]{4}( [0-9a-f]{4}){7}))")));
    CHECK_THAT(enrol.out, Catch::Contains(std::string(fp[1])));
    // A code works for one device: another device with it is refused (the same device asking
    // again, having lost the reply, is answered again).
    const std::string other = ck::test::shellQuote((root / "other-field").string());
    REQUIRE(run("init " + other + " --test-kdf").status == 0);
    Run replay = run("enrol " + other + " --server " + serve.url + " --pin " + serve.pin + " --code " + code);
    INFO(replay.all);
    CHECK(replay.status == 1);
    CHECK(run("sync " + other).status == 1);  // not enrolled
    CHECK(run("enrol " + d + " --server " + serve.url + " --pin " + serve.pin + " --code " + code).status == 0);

    // The template comes down, then a finished visit goes up.
    Run first = run("sync " + d);
    INFO(first.all);
    REQUIRE(first.status == 0);
    CHECK_THAT(first.out, Catch::Contains("1 template(s) (0 rejected)"));
    Run visit = run("new-visit " + d + " cluster-diagnostic " + kAnswers + "knitwear-complete.json --today 2026-11-23");
    const std::string id = trim(visit.out);
    REQUIRE(id.size() == 36);
    REQUIRE(run("finalise " + d + " " + id + " --today 2026-11-23").status == 0);
    Run second = run("sync " + d);
    INFO(second.all);
    REQUIRE(second.status == 0);
    CHECK_THAT(second.out, Catch::Contains("sent: 1 stored, 0 already there, 0 refused"));
    CHECK_THAT(run("outbox " + d).out, Catch::Contains(id + "  acknowledged  "));

    // The reviewer comments on it; the comment arrives.
    REQUIRE(aggregator("comment " + id + " 'turnover looks ten times too high' --data " + a).status == 0);
    Run third = run("sync " + d);
    INFO(third.all);
    CHECK(third.status == 0);
    CHECK_THAT(third.out, Catch::Contains("1 comment(s)"));
    Run comments = run("comments " + d);
    INFO(comments.all);
    CHECK(comments.status == 0);
    CHECK_THAT(comments.out, Catch::Contains(id) && Catch::Contains("turnover looks ten times too high"));

    // By USB stick: a bundle, imported by the aggregator, whose receipt acknowledges the outbox.
    Run visit2 = run("new-visit " + d + " cluster-diagnostic " + kAnswers + "knitwear-complete.json --today 2026-11-23");
    const std::string id2 = trim(visit2.out);
    REQUIRE(run("finalise " + d + " " + id2 + " --today 2026-11-23").status == 0);
    const std::string bundle = ck::test::shellQuote((root / "visits.ckbundle").string());
    const std::string receipt = ck::test::shellQuote((root / "visits.ckreceipt").string());
    Run exported = run("export-bundle " + d + " " + bundle);
    INFO(exported.all);
    REQUIRE(exported.status == 0);
    CHECK_THAT(exported.out, Catch::Contains("wrote 1 visit(s)"));
    CHECK_THAT(run("outbox " + d).out, Catch::Contains(id2 + "  sent  "));
    Run imported = aggregator("import " + bundle + " --receipt " + receipt + " --data " + a);
    INFO(imported.all);
    REQUIRE(imported.status == 0);
    Run applied = run("import-receipt " + d + " " + receipt);
    INFO(applied.all);
    CHECK(applied.status == 0);
    CHECK_THAT(applied.out, Catch::Contains("1 stored"));
    CHECK_THAT(run("outbox " + d).out, Catch::Contains(id2 + "  acknowledged  "));
    CHECK(run("import-receipt " + d + " " + bundle).status == 1);  // a bundle is not a receipt
    CHECK(run("export-bundle " + d + " " + bundle).status == 1);   // nothing waiting

    // The aggregator gone: a clear message, exit 1, the visit stays to go.
    Run visit3 = run("new-visit " + d + " cluster-diagnostic " + kAnswers + "knitwear-complete.json --today 2026-11-23");
    const std::string id3 = trim(visit3.out);
    REQUIRE(run("finalise " + d + " " + id3 + " --today 2026-11-23").status == 0);
    serve.stop();
    Run offline = run("sync " + d + " --attempts 1");
    INFO(offline.all);
    CHECK(offline.status == 1);
    CHECK_THAT(offline.all, Catch::Contains("0 of 1 visits were answered"));
    // Not called sent: nothing reached the aggregator.
    CHECK_THAT(run("outbox " + d).out, Catch::Contains(id3 + "  queued  "));
}

TEST_CASE("ck-field: enrol with the slip's enrolment string, typed or from the slip file, against a real ck-aggregator serve", "[tools][sync][enrolment]") {
    fs::path root = freshDir("enrol-string");
    fs::create_directories(root);
    const fs::path data = root / "aggregator";
    const std::string a = ck::test::shellQuote(data.string());
    const std::string d = ck::test::shellQuote((root / "field").string());
    REQUIRE(aggregator("init --data " + a + " --test-kdf --name 'Tiruppur pilot'").status == 0);
    REQUIRE(aggregator("templates publish " + kFlagship + " --data " + a).status == 0);
    ServeProcess serve(data, root / "serve.log");
    // The operator names the address devices reach (here the loopback port serve picked).
    Run slip = aggregator("enrol --data " + a + " --officer Priya --cluster tiruppur-knitwear --server " + serve.url);
    INFO(slip.all);
    REQUIRE(slip.status == 0);
    const std::string string = slipField(slip.out, "enrolment string");
    REQUIRE(string.rfind("CK1-", 0) == 0);
    REQUIRE(run("init " + d + " --test-kdf").status == 0);

    // One character mistyped in group 5: refused before anything is sent, the group named.
    std::string typo = string;
    const size_t at = 4 + 4 * 6 + 2;  // group 5, third character
    typo[at] = typo[at] == 'X' ? 'Y' : 'X';
    Run mistyped = run("enrol " + d + " --string " + typo);
    INFO(mistyped.all);
    CHECK(mistyped.status == 1);
    CHECK_THAT(mistyped.all, Catch::Contains("group 5") && Catch::Contains("Nothing was sent"));
    CHECK_THAT(aggregator("devices list --data " + a).out, Catch::Contains("0 device(s)"));
    CHECK(run("sync " + d).status == 1);  // not enrolled
    // Both ways at once is a usage error.
    CHECK(run("enrol " + d + " --string " + string + " --code ABCD").status == 2);

    // As an officer types it off paper: lower case, spaces for dashes.
    std::string typed = string;
    for (char& c : typed) c = c == '-' ? ' ' : char(std::tolower(static_cast<unsigned char>(c)));
    Run enrolled = run("enrol " + d + " --string " + ck::test::shellQuote(typed) + " --label 'Tab 3'");
    INFO(enrolled.all);
    REQUIRE(enrolled.status == 0);
    CHECK_THAT(enrolled.out, Catch::Contains("enrolled as dev-") && Catch::Contains("tiruppur-knitwear"));
    Run synced = run("sync " + d);
    INFO(synced.all);
    CHECK(synced.status == 0);
    CHECK_THAT(synced.out, Catch::Contains("1 template(s) (0 rejected)"));

    // Another device, from the HTML slip carried on a USB stick.
    const fs::path html = root / "stick" / "slip-ravi.html";
    fs::create_directories(html.parent_path());
    Run slip2 = aggregator("enrol --data " + a + " --officer Ravi --cluster tiruppur-knitwear --server " + serve.url +
                           " --html " + ck::test::shellQuote(html.string()));
    INFO(slip2.all);
    REQUIRE(slip2.status == 0);
    const std::string second = ck::test::shellQuote((root / "field-ravi").string());
    REQUIRE(run("init " + second + " --test-kdf").status == 0);
    CHECK(run("enrol " + second + " --string-file " + ck::test::shellQuote((root / "nowhere.html").string())).status == 2);
    Run fromFile = run("enrol " + second + " --string-file " + ck::test::shellQuote(html.string()));
    INFO(fromFile.all);
    REQUIRE(fromFile.status == 0);
    CHECK_THAT(fromFile.out, Catch::Contains("officer: Ravi"));
    CHECK_THAT(aggregator("devices list --data " + a).out, Catch::Contains("2 device(s)"));
    // The first slip's string again on a third device: its code is spent.
    const std::string third = ck::test::shellQuote((root / "field-third").string());
    REQUIRE(run("init " + third + " --test-kdf").status == 0);
    Run spent = run("enrol " + third + " --string " + string);
    INFO(spent.all);
    CHECK(spent.status == 1);
    CHECK_THAT(spent.all, Catch::Contains("already used"));
}
