// ck-field driven as a user drives it: real folders, real files, the passphrase from the
// environment, real exit codes.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/crypto/envelope.h"
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
    auto opened = ck::openEnvelope(*env, aggregator.publicKey, aggregator.secretKey);
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
