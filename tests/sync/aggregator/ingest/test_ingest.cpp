// The aggregator's ingest with real keys, real sealed envelopes and real SQLite storage: every
// visit a known device sends is stored exactly once, and every refusal says why, changes
// nothing and is logged.
#include <catch2/catch.hpp>
#include <sodium.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/crypto/envelope.h"
#include "core/crypto/sealed_box.h"
#include "core/form/answers_json.h"
#include "core/form/form_session.h"
#include "core/form/personal_answers.h"
#include "core/report/indicator_evaluator.h"
#include "core/synth/visit_generator.h"
#include "core/template/template_loader.h"
#include "sync/aggregator/assignment_token.h"
#include "sync/aggregator/audit_log.h"
#include "sync/aggregator/ingest.h"
#include "sync/aggregator/storage/sqlite_storage.h"
#include "sync/aggregator/project_keys.h"

using namespace ck;
using namespace ck::agg;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPassphrase = "Pongal harvest 2026 at Tiruppur";
constexpr int64_t kNow = 1795000000;

// A small template with personal answers at the top level and inside a repeat.
const std::string kTemplate = R"({"id": "ingest-test", "version": "1", "languages": ["en"], "title": "Ingest test",
  "sections": [{"id": "s", "label": "S", "questions": [
    {"id": "unit_name", "type": "text", "label": "Unit name", "pii": true},
    {"id": "phone", "type": "text", "label": "Phone", "pii": true},
    {"id": "workers", "type": "integer", "label": "Workers"},
    {"id": "staff", "type": "repeat", "label": "Staff", "questions": [
      {"id": "worker_name", "type": "text", "label": "Worker name", "pii": true},
      {"id": "skill", "type": "text", "label": "Skill"}]}]}]})";

fs::path scratch(const std::string& name) {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / "test_ingest" / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::vector<uint8_t> sign(const std::vector<uint8_t>& bytes, const SecretBytes& key) {
    std::vector<uint8_t> sig(crypto_sign_BYTES);
    crypto_sign_detached(sig.data(), nullptr, bytes.data(), bytes.size(), key.data());
    return sig;
}

struct Device {
    std::vector<uint8_t> publicKey = std::vector<uint8_t>(crypto_sign_PUBLICKEYBYTES);
    SecretBytes secretKey{crypto_sign_SECRETKEYBYTES};
    Device() {
        ensureSodium();
        crypto_sign_keypair(publicKey.data(), secretKey.data());
    }
    proto::EnrolRequest enrolRequest(const std::string& code, int64_t now) const {
        proto::EnrolRequest r{code, publicKey, "Tab 3 (Priya)", now, {}};
        r.signature = sign(proto::signingBytes(r), secretKey);
        return r;
    }
    proto::UploadBatch batch(std::vector<SealedEnvelope> envelopes, int64_t now) const {
        proto::UploadBatch b;
        b.devicePublicKey = publicKey;
        b.sentAt = now;
        for (const auto& e : envelopes) b.envelopes.push_back(proto::toWire(e));
        b.signature = sign(proto::signingBytes(b), secretKey);
        return b;
    }
    proto::UpdatesRequest updates(uint64_t cursor, int64_t now) const {
        proto::UpdatesRequest r{publicKey, cursor, now, {}};
        r.signature = sign(proto::signingBytes(r), secretKey);
        return r;
    }
    // Re-signs an envelope changed after sealing, as a device (or a forger with its own key) could.
    void resign(SealedEnvelope& e) const {
        e.devicePublicKey = publicKey;
        e.signature = sign(e.signedBytes(), secretKey);
    }
};

// An aggregator with its data folder, keys, storage and ingest service, on a clock the test sets.
struct Aggregator {
    fs::path dir;
    ProjectKeys keys;
    std::unique_ptr<AggregatorStorage> storage;
    int64_t now = kNow;
    std::unique_ptr<IngestService> ingest;
    std::shared_ptr<const Template> survey;
    std::string dictionary;  // what devices seal with (recordDictionary)

    explicit Aggregator(const std::string& name, size_t feedPageSize = 200) : dir(scratch(name)) {
        auto made = createProjectKeys(dir, kPassphrase, kPassphrase, kFastKdf);
        REQUIRE(std::holds_alternative<ProjectKeys>(made));
        keys = std::move(std::get<ProjectKeys>(made));
        storage = openStorage(dir.string());
        IngestOptions options;
        options.aggregatorName = "Tamil Nadu baseline";
        options.feedPageSize = feedPageSize;
        ingest = std::make_unique<IngestService>(*storage, keys, options, [this] { return now; });
        auto published = ingest->publishTemplate(kTemplate, "ingest-test.json");
        REQUIRE(std::holds_alternative<PublishedTemplate>(published));
        survey = loadTemplateJson(kTemplate, "ingest-test.json").survey;
        REQUIRE(survey);
        dictionary = recordDictionary(*survey);
    }

    std::string enrol(const Device& device, const std::string& cluster = "tiruppur_knitwear") {
        std::string code = ingest->issueEnrolmentCode("Priya S", cluster, 72 * 3600);
        auto reply = ingest->enrol(device.enrolRequest(code, now));
        REQUIRE(std::holds_alternative<proto::EnrolReply>(reply));
        return std::get<proto::EnrolReply>(reply).deviceId;
    }

    Record record(const std::string& unitName, double workers) const {
        FormSession session(survey, newRecordId(), now - 3600);
        REQUIRE(session.setAnswer("unit_name", Value::text(unitName)).ok());
        REQUIRE(session.setAnswer("phone", Value::text("9843012345")).ok());
        REQUIRE(session.setAnswer("workers", Value::number(workers)).ok());
        int staff = survey->indexOf("staff");
        for (const char* name : {"Arumugam K", "Lakshmi R"}) {
            int i = session.addInstance(staff);
            REQUIRE(session.setAnswer("worker_name", Value::text(name), i).ok());
            REQUIRE(session.setAnswer("skill", Value::text("tailoring"), i).ok());
        }
        return session.toRecord();
    }

    SealedEnvelope seal(const Record& r, const Device& device, const std::vector<uint8_t>& custodian = {},
                        const std::vector<uint8_t>& to = {}) const {
        SealInput in;
        in.record = &r;
        in.personalFields = {"unit_name", "phone", "worker_name"};
        in.aggregatorPublicKey = to.empty() ? keys.ingestPublicKey : to;
        in.custodianPublicKey = custodian;
        in.signingSecretKey = &device.secretKey;
        in.signingPublicKey = device.publicKey;
        in.dictionary = dictionary;
        return sealEnvelope(in);
    }

    proto::UploadReply upload(const proto::UploadBatch& b) {
        auto answer = ingest->upload(b);
        REQUIRE(std::holds_alternative<proto::UploadReply>(answer));
        return std::get<proto::UploadReply>(answer);
    }

    proto::ErrorReply refusal(const proto::UploadBatch& b) {
        auto answer = ingest->upload(b);
        REQUIRE(std::holds_alternative<proto::ErrorReply>(answer));
        return std::get<proto::ErrorReply>(answer);
    }

    std::vector<AuditEntry> audit() {
        std::vector<AuditEntry> out;
        storage->forEachAudit([&](const AuditEntry& e) {
            out.push_back(e);
            return true;
        });
        return out;
    }
    size_t refusalsLogged(const std::string& subject) {
        size_t n = 0;
        for (const auto& e : audit())
            if (e.action == "refused" && e.subject == subject) ++n;
        return n;
    }
};

bool hasAnswer(const std::vector<ck::Answer>& answers, const std::string& id) {
    for (const auto& a : answers) {
        if (a.questionId == id) return true;
        for (const auto& inst : a.instances)
            if (hasAnswer(inst, id)) return true;
    }
    return false;
}

Record storedRecord(const StoredVisit& v) {
    auto d = deserializeRecord(std::string_view(reinterpret_cast<const char*>(v.record.data()), v.record.size()));
    REQUIRE(d.record);
    return *d.record;
}

}  // namespace

TEST_CASE("project keys: made once, opened only with the admin passphrase, damage told apart", "[sync][agg][keys]") {
    fs::path dir = scratch("keys");
    auto made = createProjectKeys(dir, kPassphrase, kPassphrase, kFastKdf);
    REQUIRE(std::holds_alternative<ProjectKeys>(made));
    const ProjectKeys& keys = std::get<ProjectKeys>(made);
    CHECK(keys.ingestPublicKey.size() == 32);
    CHECK(keys.ingestSecretKey.size() == 32);
    CHECK(keys.signingPublicKey.size() == 32);
    CHECK(keys.signingSecretKey.size() == 64);

    auto opened = unlockProjectKeys(dir, kPassphrase);
    REQUIRE(std::holds_alternative<ProjectKeys>(opened));
    const ProjectKeys& again = std::get<ProjectKeys>(opened);
    CHECK(again.ingestPublicKey == keys.ingestPublicKey);
    CHECK(again.ingestSecretKey.equals(keys.ingestSecretKey));
    CHECK(again.signingPublicKey == keys.signingPublicKey);
    CHECK(again.signingSecretKey.equals(keys.signingSecretKey));

    auto pub = readPublicKeys(dir);
    REQUIRE(std::holds_alternative<PublicKeys>(pub));
    CHECK(std::get<PublicKeys>(pub).ingestPublicKey == keys.ingestPublicKey);
    CHECK(std::get<PublicKeys>(pub).signingPublicKey == keys.signingPublicKey);

    SECTION("a wrong passphrase is named as such") {
        auto wrong = unlockProjectKeys(dir, "Pongal harvest 2026 at Tirupur");
        REQUIRE(std::holds_alternative<KeysFailure>(wrong));
        CHECK_THAT(std::get<KeysFailure>(wrong).message, Catch::Contains("wrong admin passphrase"));
    }
    SECTION("a damaged file is told from a wrong passphrase, and keeps no secret in its message") {
        fs::path file = dir / "keys.ck";
        std::string bytes;
        {
            std::ifstream in(file, std::ios::binary);
            std::stringstream s;
            s << in.rdbuf();
            bytes = s.str();
        }
        for (size_t at : {size_t(10), bytes.size() / 2, bytes.size() - 1}) {
            std::string damaged = bytes;
            damaged[at] = char(damaged[at] ^ 0x20);
            std::ofstream(file, std::ios::binary | std::ios::trunc) << damaged;
            auto r = unlockProjectKeys(dir, kPassphrase);
            REQUIRE(std::holds_alternative<KeysFailure>(r));
            CHECK_THAT(std::get<KeysFailure>(r).message, Catch::Contains("damaged"));
            CHECK_THAT(std::get<KeysFailure>(r).message, !Catch::Contains(kPassphrase));
            CHECK(std::holds_alternative<KeysFailure>(readPublicKeys(dir)));
        }
        std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 3);
        auto truncated = unlockProjectKeys(dir, kPassphrase);
        REQUIRE(std::holds_alternative<KeysFailure>(truncated));
        CHECK_THAT(std::get<KeysFailure>(truncated).message, Catch::Contains("damaged"));
    }
    SECTION("an existing keys file is never replaced") {
        auto second = createProjectKeys(dir, kPassphrase, kPassphrase, kFastKdf);
        REQUIRE(std::holds_alternative<KeysFailure>(second));
        CHECK_THAT(std::get<KeysFailure>(second).message, Catch::Contains("already exists"));
        auto still = unlockProjectKeys(dir, kPassphrase);
        REQUIRE(std::holds_alternative<ProjectKeys>(still));
        CHECK(std::get<ProjectKeys>(still).ingestPublicKey == keys.ingestPublicKey);
    }
    SECTION("weak or mismatched passphrases make no file") {
        fs::path other = scratch("keys-weak");
        auto weak = createProjectKeys(other, "password1", "password1", kFastKdf);
        REQUIRE(std::holds_alternative<KeysFailure>(weak));
        auto differ = createProjectKeys(other, kPassphrase, "Pongal harvest 2026 at Salem", kFastKdf);
        REQUIRE(std::holds_alternative<KeysFailure>(differ));
        CHECK_THAT(std::get<KeysFailure>(differ).message, !Catch::Contains(kPassphrase));
        CHECK_FALSE(fs::exists(other / "keys.ck"));
        auto missing = unlockProjectKeys(other, kPassphrase);
        REQUIRE(std::holds_alternative<KeysFailure>(missing));
        CHECK_THAT(std::get<KeysFailure>(missing).message, Catch::Contains("does not exist"));
    }
}

TEST_CASE("enrolment: a code enrols one device once, before it expires", "[sync][agg][ingest]") {
    Aggregator agg("enrol");
    Device tab;
    std::string code = agg.ingest->issueEnrolmentCode("Priya S", "tiruppur_knitwear", 3600);
    REQUIRE(code.size() == 14);
    CHECK(code[4] == '-');
    CHECK(code[9] == '-');
    CHECK(code.find_first_of("01OIL") == std::string::npos);

    // Typed in lower case without dashes, as an officer might.
    std::string typed;
    for (char c : code)
        if (c != '-') typed += char(std::tolower(static_cast<unsigned char>(c)));
    auto reply = agg.ingest->enrol(tab.enrolRequest(typed, agg.now));
    REQUIRE(std::holds_alternative<proto::EnrolReply>(reply));
    const auto& r = std::get<proto::EnrolReply>(reply);
    std::string expectedId = "dev-" + contentHash(std::string_view(reinterpret_cast<const char*>(tab.publicKey.data()), 32)).substr(0, 8);
    CHECK(r.deviceId == expectedId);
    CHECK(r.officer == "Priya S");
    CHECK(r.cluster == "tiruppur_knitwear");
    CHECK(r.aggregatorName == "Tamil Nadu baseline");
    CHECK(r.ingestPublicKey == agg.keys.ingestPublicKey);
    CHECK(r.templateSigningPublicKey == agg.keys.signingPublicKey);
    REQUIRE(agg.storage->findDevice(tab.publicKey));

    SECTION("the same device asking again (a lost reply) gets the same answer") {
        auto again = agg.ingest->enrol(tab.enrolRequest(code, agg.now));
        REQUIRE(std::holds_alternative<proto::EnrolReply>(again));
        CHECK(std::get<proto::EnrolReply>(again).deviceId == expectedId);
    }
    SECTION("a replayed code enrols no other device") {
        Device thief;
        auto replay = agg.ingest->enrol(thief.enrolRequest(code, agg.now));
        REQUIRE(std::holds_alternative<proto::ErrorReply>(replay));
        CHECK(std::get<proto::ErrorReply>(replay).code == proto::ErrorCode::EnrolmentCodeUsed);
        CHECK_FALSE(agg.storage->findDevice(thief.publicKey));
        CHECK(agg.refusalsLogged("enrolment") == 1);
    }
    SECTION("unknown and expired codes") {
        Device other;
        auto unknown = agg.ingest->enrol(other.enrolRequest("ABCD-EFGH-JKMN", agg.now));
        REQUIRE(std::holds_alternative<proto::ErrorReply>(unknown));
        CHECK(std::get<proto::ErrorReply>(unknown).code == proto::ErrorCode::EnrolmentCodeUnknown);
        std::string shortLived = agg.ingest->issueEnrolmentCode("Ravi K", "salem_sago", 60);
        agg.now += 61;
        auto expired = agg.ingest->enrol(other.enrolRequest(shortLived, agg.now));
        REQUIRE(std::holds_alternative<proto::ErrorReply>(expired));
        CHECK(std::get<proto::ErrorReply>(expired).code == proto::ErrorCode::EnrolmentCodeExpired);
        CHECK_THAT(std::get<proto::ErrorReply>(expired).message, Catch::Contains("expired"));
        CHECK_FALSE(agg.storage->findDevice(other.publicKey));
    }
    SECTION("a request not signed by the key it carries") {
        Device other;
        std::string fresh = agg.ingest->issueEnrolmentCode("Ravi K", "salem_sago", 3600);
        auto req = other.enrolRequest(fresh, agg.now);
        req.deviceLabel = "changed on the way";
        auto bad = agg.ingest->enrol(req);
        REQUIRE(std::holds_alternative<proto::ErrorReply>(bad));
        CHECK(std::get<proto::ErrorReply>(bad).code == proto::ErrorCode::BadSignature);
        // The code was not spent by the failed attempt.
        CHECK(std::holds_alternative<proto::EnrolReply>(agg.ingest->enrol(other.enrolRequest(fresh, agg.now))));
    }
}

TEST_CASE("upload: stored once, resend is a duplicate, personal answers only in the sealed envelope", "[sync][agg][ingest]") {
    Aggregator agg("upload");
    Device tab;
    std::string deviceId = agg.enrol(tab);
    Record a = agg.record("Sri Velavan Knit Fashions", 42), b = agg.record("Lakshmi Processors", 17);
    BoxKeyPair custodian = newBoxKeyPair();
    SealedEnvelope ea = agg.seal(a, tab), eb = agg.seal(b, tab, custodian.publicKey);
    auto reply = agg.upload(tab.batch({ea, eb}, agg.now));
    REQUIRE(reply.acks.size() == 2);
    CHECK(reply.acks[0].status == proto::AckStatus::Stored);
    CHECK(reply.acks[1].status == proto::AckStatus::Stored);
    CHECK(agg.storage->countVisits() == 2);

    auto stored = agg.storage->findVisit(a.id);
    REQUIRE(stored);
    CHECK(stored->deviceId == deviceId);
    CHECK(stored->cluster == "tiruppur_knitwear");
    CHECK(stored->contentHash == ea.contentHash);
    Record kept = storedRecord(*stored);
    CHECK(hasAnswer(kept.answers, "workers"));
    CHECK(hasAnswer(kept.answers, "skill"));
    CHECK_FALSE(hasAnswer(kept.answers, "unit_name"));
    CHECK_FALSE(hasAnswer(kept.answers, "phone"));
    CHECK_FALSE(hasAnswer(kept.answers, "worker_name"));  // inside the repeat too
    // ... but the sealed evidence still holds them, for whoever holds the key.
    auto evidence = decodeEnvelope(stored->envelope);
    REQUIRE(evidence);
    CHECK(*evidence == ea);
    auto opened = openEnvelope(*evidence, agg.keys.ingestPublicKey, agg.keys.ingestSecretKey, agg.dictionary);
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    CHECK(hasAnswer(std::get<OpenedEnvelope>(opened).record.answers, "worker_name"));
    CHECK(std::get<OpenedEnvelope>(opened).record.find("unit_name")->value == Value::text("Sri Velavan Knit Fashions"));

    auto storedB = agg.storage->findVisit(b.id);
    REQUIRE(storedB);
    auto personal = openPersonal(*decodeEnvelope(storedB->envelope), custodian.publicKey, custodian.secretKey, agg.dictionary);
    REQUIRE(std::holds_alternative<Record>(personal));
    CHECK(std::get<Record>(personal).find("unit_name")->value == Value::text("Lakshmi Processors"));

    // Each "stored" entry holds the digest of its row as stored. b's personal answers were
    // sealed apart, so its record is stored exactly as sealed and its envelope binds it; a's
    // record had them left out, so the digest hashes its bytes.
    auto sealedMain = [&](const StoredVisit& v) {
        SealedEnvelope e = *decodeEnvelope(v.envelope);
        std::string bytes;
        REQUIRE(std::holds_alternative<OpenedEnvelope>(
            openEnvelope(e, agg.keys.ingestPublicKey, agg.keys.ingestSecretKey, agg.dictionary, &bytes)));
        return std::vector<uint8_t>(bytes.begin(), bytes.end());
    };
    CHECK(sealedMain(*storedB) == storedB->record);
    CHECK(sealedMain(*stored) != stored->record);
    std::map<std::string, std::string> storedDetail;
    for (const AuditEntry& e : agg.audit())
        if (e.action == "stored") storedDetail[e.subject] = e.detail;
    CHECK(storedDetail.at(a.id) == visitAuditDetail(*stored));
    CHECK(storedDetail.at(a.id).rfind(stored->contentHash + " row2 ", 0) == 0);
    CHECK(storedDetail.at(b.id) == visitAuditDetail(*storedB, true));
    CHECK(storedDetail.at(b.id).rfind(storedB->contentHash + " row2-as-sealed ", 0) == 0);

    // The same batch again (a lost reply): both duplicates, nothing stored twice.
    agg.now += 30;
    auto resend = agg.upload(tab.batch({ea, eb}, agg.now));
    CHECK(resend.acks[0].status == proto::AckStatus::Duplicate);
    CHECK(resend.acks[1].status == proto::AckStatus::Duplicate);
    CHECK(agg.storage->countVisits() == 2);
    CHECK(verifyAuditChain(*agg.storage).problems.empty());

    // Either record rewritten on disk is caught: a's by its bytes in the digest, b's (bound
    // through its envelope) by the envelope's hash of it.
    for (const std::string& victim : {a.id, b.id}) {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open((agg.dir / kSqliteFileName).c_str(), &db) == SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        // a's record swapped for b's; b's for a few zero bytes.
        const std::string sql = victim == a.id ? "UPDATE visits SET record = (SELECT record FROM visits WHERE record_id = '" +
                                                     b.id + "') WHERE record_id = '" + victim + "'"
                                               : "UPDATE visits SET record = zeroblob(16) WHERE record_id = '" + victim + "'";
        REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(db);
        AuditReport r = verifyAuditChain(*agg.storage);
        REQUIRE_FALSE(r.problems.empty());
        bool named = false;
        for (const auto& p : r.problems)
            named = named || (p.message.find(victim) != std::string::npos && p.message.find("rewritten") != std::string::npos);
        CHECK(named);
    }
}

TEST_CASE("upload: each bad record is refused with its reason, the rest stored, refusals logged", "[sync][agg][ingest]") {
    Aggregator agg("refusals");
    Device tab, other;
    agg.enrol(tab);
    agg.enrol(other);

    Record good = agg.record("Good Unit", 5);
    Record byOther = agg.record("Other's Unit", 6);
    SealedEnvelope signedByOther = agg.seal(byOther, other);  // sent in tab's batch

    Record unknownT = agg.record("Unknown Template Unit", 7);
    unknownT.templateVersion = "99";
    SealedEnvelope unknownTemplate = agg.seal(unknownT, tab);

    BoxKeyPair stranger = newBoxKeyPair();
    SealedEnvelope toAnotherKey = agg.seal(agg.record("Misdirected", 8), tab, {}, stranger.publicKey);

    // Tampered on the way: the seal's MAC fails before the hashes the signature covers can be
    // recomputed (they do not travel), so it cannot be opened.
    SealedEnvelope tampered = agg.seal(agg.record("Tampered", 9), tab);
    tampered.sealedRecord[tampered.sealedRecord.size() / 2] ^= 1;

    SealedEnvelope tamperedResigned = agg.seal(agg.record("Tampered and re-signed", 10), tab);
    tamperedResigned.sealedRecord[tamperedResigned.sealedRecord.size() / 2] ^= 1;
    tab.resign(tamperedResigned);

    auto reply = agg.upload(
        tab.batch({agg.seal(good, tab), signedByOther, unknownTemplate, toAnotherKey, tampered, tamperedResigned}, agg.now));
    REQUIRE(reply.acks.size() == 6);
    CHECK(reply.acks[0].status == proto::AckStatus::Stored);
    using R = proto::RefusalReason;
    const std::vector<R> expected = {R::BadSignature, R::UnknownTemplate, R::CannotOpen, R::CannotOpen, R::CannotOpen};
    for (size_t i = 1; i < 6; ++i) {
        INFO("envelope " << i << ": " << reply.acks[i].message);
        CHECK(reply.acks[i].status == proto::AckStatus::Refused);
        CHECK(reply.acks[i].reason == expected[i - 1]);
        CHECK_FALSE(reply.acks[i].message.empty());
    }
    CHECK_THAT(reply.acks[2].message, Catch::Contains("never published"));
    CHECK(agg.storage->countVisits() == 1);
    CHECK(agg.refusalsLogged(byOther.id) == 1);
    CHECK(agg.refusalsLogged(unknownT.id) == 1);

    SECTION("a malformed id (NUL, broken UTF-8, spaces) is refused before it reaches storage") {
        for (std::string bad : {std::string("abc\0def", 7), std::string("caf\xc3"), std::string("two words"),
                                std::string(200, 'a')}) {
            Record r = agg.record("Malformed Id Unit", 11);
            r.id = bad;
            agg.now += 1;
            auto answer = agg.upload(tab.batch({agg.seal(r, tab)}, agg.now));
            REQUIRE(answer.acks.size() == 1);
            CHECK(answer.acks[0].status == proto::AckStatus::Refused);
            CHECK(answer.acks[0].reason == R::BadContent);
            CHECK_THAT(answer.acks[0].message, Catch::Contains("malformed id"));
        }
        CHECK(agg.storage->countVisits() == 1);
    }

    SECTION("another record under a known id is a conflict, and the first stays") {
        Record changed = good;
        for (auto& a : changed.answers)
            if (a.questionId == "workers") a.value = Value::number(500);
        agg.now += 10;
        auto conflict = agg.upload(tab.batch({agg.seal(changed, tab)}, agg.now));
        CHECK(conflict.acks[0].status == proto::AckStatus::Refused);
        CHECK(conflict.acks[0].reason == R::Conflict);
        CHECK_THAT(conflict.acks[0].message, Catch::Contains("different answers"));
        auto kept = storedRecord(*agg.storage->findVisit(good.id));
        CHECK(kept.find("workers")->value == Value::number(5));
        CHECK(agg.refusalsLogged(good.id) == 1);
    }
}

TEST_CASE("upload: unknown, revoked, stale and badly signed requests store nothing", "[sync][agg][ingest]") {
    Aggregator agg("requests");
    Device tab, stranger;
    std::string deviceId = agg.enrol(tab);
    SealedEnvelope e = agg.seal(agg.record("Unit", 3), tab);
    size_t auditBefore = agg.audit().size();

    auto unknown = agg.refusal(stranger.batch({agg.seal(agg.record("U", 1), stranger)}, agg.now));
    CHECK(unknown.code == proto::ErrorCode::UnknownDevice);
    CHECK_THAT(unknown.message, Catch::Contains("enrol"));

    auto stale = agg.refusal(tab.batch({e}, agg.now - proto::kMaxClockSkewSeconds - 60));
    CHECK(stale.code == proto::ErrorCode::StaleRequest);
    auto future = agg.refusal(tab.batch({e}, agg.now + proto::kMaxClockSkewSeconds + 60));
    CHECK(future.code == proto::ErrorCode::StaleRequest);
    CHECK_THAT(future.message, Catch::Contains("clock"));

    auto forged = tab.batch({e}, agg.now);
    forged.sentAt += 1;  // changed after signing
    CHECK(agg.refusal(forged).code == proto::ErrorCode::BadSignature);
    auto swapped = tab.batch({e}, agg.now);
    swapped.envelopes.push_back(proto::toWire(agg.seal(agg.record("Slipped in", 2), tab)));
    CHECK(agg.refusal(swapped).code == proto::ErrorCode::BadSignature);

    REQUIRE(agg.storage->revokeDevice(deviceId, agg.now, AuditEvent{agg.now, "revoked", "operator", deviceId, ""}));
    auto revoked = agg.refusal(tab.batch({e}, agg.now));
    CHECK(revoked.code == proto::ErrorCode::RevokedDevice);
    CHECK_FALSE(agg.ingest->deviceFor(tab.publicKey));
    auto updates = agg.ingest->updates(tab.updates(0, agg.now));
    REQUIRE(std::holds_alternative<proto::ErrorReply>(updates));
    CHECK(std::get<proto::ErrorReply>(updates).code == proto::ErrorCode::RevokedDevice);

    CHECK(agg.storage->countVisits() == 0);
    // stale x2, bad signature x2, revoked (upload + updates) for the known device, plus the revocation itself;
    // nothing for the stranger.
    size_t refusals = 0;
    auto entries = agg.audit();
    for (size_t i = auditBefore; i < entries.size(); ++i)
        if (entries[i].action == "refused") {
            CHECK(entries[i].actor == deviceId);
            ++refusals;
        }
    CHECK(refusals == 6);
}

TEST_CASE("updates: templates, the cluster's assignments and the device's comments, page by page", "[sync][agg][ingest]") {
    Aggregator agg("updates", 2);
    Device tab, salem;
    agg.enrol(tab);
    agg.enrol(salem, "salem_sago");
    agg.storage->putRegister({{"TUP-1", "Sri Velavan", "tiruppur_knitwear", "Tiruppur", "Tamil Nadu", "micro", "knitwear"},
                              {"TUP-2", "Lakshmi Processors", "tiruppur_knitwear", "Tiruppur", "Tamil Nadu", "small", ""},
                              {"SLM-1", "Sago Works", "salem_sago", "Salem", "Tamil Nadu", "micro", "food"}},
                             AuditEvent{agg.now, "register", "operator", "register.csv", "3 units"});
    Record r = agg.record("Unit", 4);
    REQUIRE(agg.upload(tab.batch({agg.seal(r, tab)}, agg.now)).acks[0].status == proto::AckStatus::Stored);
    agg.storage->addComment({r.id, "Workers looks low for this unit: please check", agg.now}, agg.storage->findVisit(r.id)->deviceId,
                            AuditEvent{agg.now, "comment", "operator", r.id, "x"});

    std::vector<proto::SignedTemplate> templates;
    std::vector<proto::Assignment> assignments;
    std::vector<proto::ReviewComment> comments;
    uint64_t cursor = 0;
    int pages = 0;
    for (;; ++pages) {
        REQUIRE(pages < 10);
        auto answer = agg.ingest->updates(tab.updates(cursor, agg.now));
        REQUIRE(std::holds_alternative<proto::Updates>(answer));
        auto& u = std::get<proto::Updates>(answer);
        CHECK(u.templates.size() + u.assignments.size() + u.comments.size() <= 2);
        templates.insert(templates.end(), u.templates.begin(), u.templates.end());
        assignments.insert(assignments.end(), u.assignments.begin(), u.assignments.end());
        comments.insert(comments.end(), u.comments.begin(), u.comments.end());
        CHECK(u.cursor >= cursor);
        cursor = u.cursor;
        if (!u.more) break;
    }
    CHECK(pages >= 1);
    REQUIRE(templates.size() == 1);
    CHECK(templates[0].templateId == "ingest-test");
    CHECK(proto::verifySignature(proto::templateSigningBytes("ingest-test", "1", templates[0].jsonText),
                                 templates[0].signature, agg.keys.signingPublicKey));
    REQUIRE(assignments.size() == 2);  // not Salem's unit
    auto unit = nlohmann::json::parse(assignments[0].json);
    CHECK(unit["unit_id"] == "TUP-1");
    CHECK(unit["stratum"] == "micro");
    CHECK(unit["district"] == "Tiruppur");
    REQUIRE(comments.size() == 1);
    CHECK(comments[0].recordId == r.id);

    // Nothing new: the cursor stays, nothing comes again.
    auto again = std::get<proto::Updates>(agg.ingest->updates(tab.updates(cursor, agg.now)));
    CHECK(again.cursor == cursor);
    CHECK_FALSE(again.more);
    CHECK(again.templates.empty());
    CHECK(again.assignments.empty());
    CHECK(again.comments.empty());

    // The other cluster's device sees its own unit and the template, not the comment.
    auto theirs = std::get<proto::Updates>(agg.ingest->updates(salem.updates(0, agg.now)));
    auto more = std::get<proto::Updates>(agg.ingest->updates(salem.updates(theirs.cursor, agg.now)));
    CHECK(theirs.assignments.size() + more.assignments.size() == 1);
    CHECK(theirs.comments.empty());
    CHECK(more.comments.empty());
}

TEST_CASE("attachments: chunks by their hash, commit only when all arrived and for the device's own visit", "[sync][agg][ingest]") {
    Aggregator agg("chunks");
    Device tab, other;
    agg.enrol(tab);
    agg.enrol(other);
    Record r = agg.record("Unit", 4);
    REQUIRE(agg.upload(tab.batch({agg.seal(r, tab)}, agg.now)).acks[0].status == proto::AckStatus::Stored);

    std::vector<std::vector<uint8_t>> chunks = {std::vector<uint8_t>(proto::kChunkBytes, 7), std::vector<uint8_t>(1000, 9)};
    std::vector<std::vector<uint8_t>> hashes;
    for (const auto& c : chunks) hashes.push_back(proto::chunkHash(c.data(), c.size()));
    auto query = [&](const Device& d) {
        proto::ChunkQuery q{d.publicKey, agg.now, hashes, {}};
        q.signature = sign(proto::signingBytes(q), d.secretKey);
        auto a = agg.ingest->queryChunks(q);
        REQUIRE(std::holds_alternative<proto::ChunkQueryReply>(a));
        return std::get<proto::ChunkQueryReply>(a).have;
    };
    auto put = [&](const std::vector<uint8_t>& data) {
        proto::ChunkUpload u{tab.publicKey, agg.now, data, {}};
        u.signature = sign(proto::signingBytes(u), tab.secretKey);
        return agg.ingest->putChunk(u);
    };
    auto commit = [&](const Device& d, const std::string& recordId, uint64_t total) {
        proto::AttachmentCommit c{d.publicKey, agg.now, recordId, "photo-1", "image/jpeg", total, hashes, {}};
        c.signature = sign(proto::signingBytes(c), d.secretKey);
        return agg.ingest->commitAttachment(c);
    };
    uint64_t total = chunks[0].size() + chunks[1].size();
    CHECK(query(tab) == std::vector<bool>{false, false});
    REQUIRE(std::holds_alternative<proto::Ok>(put(chunks[0])));
    CHECK(query(tab) == std::vector<bool>{true, false});

    auto early = commit(tab, r.id, total);
    REQUIRE(std::holds_alternative<proto::ErrorReply>(early));
    CHECK(std::get<proto::ErrorReply>(early).code == proto::ErrorCode::UnknownAttachment);
    CHECK_THAT(std::get<proto::ErrorReply>(early).message, Catch::Contains("1 of its 2 chunks"));

    auto tooBig = put(std::vector<uint8_t>(proto::kMaxChunkBytes + 1, 1));
    REQUIRE(std::holds_alternative<proto::ErrorReply>(tooBig));
    CHECK(std::get<proto::ErrorReply>(tooBig).code == proto::ErrorCode::BodyTooLarge);

    REQUIRE(std::holds_alternative<proto::Ok>(put(chunks[1])));
    CHECK(query(tab) == std::vector<bool>{true, true});

    auto notTheirs = commit(other, r.id, total);
    REQUIRE(std::holds_alternative<proto::ErrorReply>(notTheirs));
    CHECK(std::get<proto::ErrorReply>(notTheirs).code == proto::ErrorCode::UnknownAttachment);
    auto noVisit = commit(tab, "no-such-record", total);
    REQUIRE(std::holds_alternative<proto::ErrorReply>(noVisit));
    CHECK(std::get<proto::ErrorReply>(noVisit).code == proto::ErrorCode::UnknownAttachment);
    auto wrongSize = commit(tab, r.id, total + 1);
    REQUIRE(std::holds_alternative<proto::ErrorReply>(wrongSize));
    CHECK(agg.storage->attachmentsOf(agg.storage->findVisit(r.id)->deviceId, r.id).empty());

    REQUIRE(std::holds_alternative<proto::Ok>(commit(tab, r.id, total)));
    auto rows = agg.storage->attachmentsOf(agg.storage->findVisit(r.id)->deviceId, r.id);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].totalBytes == total);
    CHECK(rows[0].chunkHashes == hashes);
}

TEST_CASE("bundles: ingested like uploads however old, twice stores nothing twice", "[sync][agg][ingest]") {
    Aggregator agg("bundle");
    Device tab, stranger;
    agg.enrol(tab);
    proto::Bundle bundle;
    bundle.createdBy = "Tab 3 (Priya)";
    bundle.createdAt = agg.now;
    std::vector<Record> records;
    for (int b = 0; b < 2; ++b) {
        std::vector<SealedEnvelope> envs;
        for (int i = 0; i < 3; ++i) {
            records.push_back(agg.record("Unit " + std::to_string(b * 3 + i), i));
            envs.push_back(agg.seal(records.back(), tab));
        }
        bundle.batches.push_back(tab.batch(envs, agg.now));
    }
    bundle.batches.push_back(stranger.batch({agg.seal(agg.record("Stranger's", 1), stranger)}, agg.now));
    agg.now += 5 * 24 * 3600;  // the stick took five days to arrive

    auto first = agg.ingest->importBundle(bundle);
    REQUIRE(std::holds_alternative<proto::Receipt>(first));
    const auto& receipt = std::get<proto::Receipt>(first);
    REQUIRE(receipt.entries.size() == 7);
    for (size_t i = 0; i < 6; ++i) {
        CHECK(receipt.entries[i].recordId == records[i].id);
        CHECK(receipt.entries[i].ack.status == proto::AckStatus::Stored);
        CHECK(receipt.entries[i].contentHash == agg.storage->findVisit(records[i].id)->contentHash);
    }
    CHECK(receipt.entries[6].ack.status == proto::AckStatus::Refused);
    CHECK_THAT(receipt.entries[6].ack.message, Catch::Contains("not enrolled"));
    CHECK(agg.storage->countVisits() == 6);

    auto second = agg.ingest->importBundle(bundle);
    REQUIRE(std::holds_alternative<proto::Receipt>(second));
    for (size_t i = 0; i < 6; ++i) CHECK(std::get<proto::Receipt>(second).entries[i].ack.status == proto::AckStatus::Duplicate);
    CHECK(agg.storage->countVisits() == 6);
    size_t imports = 0;
    for (const auto& e : agg.audit()) imports += e.action == "import";
    CHECK(imports == 2);
    CHECK(verifyAuditChain(*agg.storage).problems.empty());
}

TEST_CASE("publishing templates: every problem listed, a version published once, signed", "[sync][agg][ingest]") {
    Aggregator agg("publish");
    auto again = agg.ingest->publishTemplate(kTemplate, "ingest-test.json");
    REQUIRE(std::holds_alternative<std::string>(again));
    CHECK_THAT(std::get<std::string>(again), Catch::Contains("already published"));

    const std::string broken = R"({"id": "b", "version": "1", "languages": ["en"], "title": "B",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "a", "type": "integer", "label": "A", "relevant": "${nope} > 1"},
        {"id": "c", "type": "integer", "label": "C", "constraint": "${missing} > 1"}]}]})";
    auto bad = agg.ingest->publishTemplate(broken, "broken.json");
    REQUIRE(std::holds_alternative<std::string>(bad));
    CHECK_THAT(std::get<std::string>(bad), Catch::Contains("nope") && Catch::Contains("missing") && Catch::Contains("broken.json"));
    CHECK_FALSE(agg.storage->findTemplate("b", "1"));

    auto stored = agg.storage->findTemplate("ingest-test", "1");
    REQUIRE(stored);
    CHECK(proto::verifySignature(proto::templateSigningBytes("ingest-test", "1", stored->jsonText), stored->signature,
                                 agg.keys.signingPublicKey));
}

TEST_CASE("throughput: batches of 100 flagship visits (signature + open + strip + store + audit)", "[sync][agg][ingest][bench]") {
    Aggregator agg("throughput");
    std::string flagship;
    {
        std::ifstream in(std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json");
        std::stringstream s;
        s << in.rdbuf();
        flagship = s.str();
    }
    REQUIRE(std::holds_alternative<PublishedTemplate>(agg.ingest->publishTemplate(flagship, "cluster-diagnostic.json")));
    auto survey = loadTemplateJson(flagship, "cluster-diagnostic.json").survey;
    REQUIRE(survey);
    std::ifstream answersFile(std::string(CK_TEST_DATA_DIR) + "/answers/knitwear-complete.json");
    auto answers = nlohmann::json::parse(answersFile);
    FormSession session(survey, newRecordId(), agg.now);
    (void)applyAnswersJson(session, answers);
    Record base = session.toRecord();
    std::string dictionary = recordDictionary(*survey);
    std::vector<std::string> personal;
    for (const auto& q : survey->questions)
        if (q.pii) personal.push_back(q.id);

    Device tab;
    agg.enrol(tab);
    constexpr int kBatches = 10, kPerBatch = 100;
    std::vector<proto::UploadBatch> batches;
    size_t recordBytes = 0;
    for (int b = 0; b < kBatches; ++b) {
        std::vector<SealedEnvelope> envs;
        for (int i = 0; i < kPerBatch; ++i) {
            Record r = base;
            r.id = newRecordId();
            SealInput in;
            in.record = &r;
            in.personalFields = personal;
            in.aggregatorPublicKey = agg.keys.ingestPublicKey;
            in.signingSecretKey = &tab.secretKey;
            in.signingPublicKey = tab.publicKey;
            in.dictionary = dictionary;
            envs.push_back(sealEnvelope(in));
            recordBytes += encodeEnvelope(envs.back()).size();
        }
        batches.push_back(tab.batch(envs, agg.now));
    }
    // The floor under it: signature check + unsealing + decompressing alone, on one thread.
    std::clock_t openStart = std::clock();
    for (const auto& b : batches)
        for (const auto& w : b.envelopes) {
            auto env = proto::fromWire(w, tab.publicKey);
            REQUIRE(env);
            REQUIRE(std::holds_alternative<OpenedEnvelope>(
                openEnvelope(*env, agg.keys.ingestPublicKey, agg.keys.ingestSecretKey, dictionary)));
        }
    double openCpu = double(std::clock() - openStart) / CLOCKS_PER_SEC;

    auto start = std::chrono::steady_clock::now();
    std::clock_t cpuStart = std::clock();
    for (const auto& b : batches) {
        auto reply = agg.upload(b);
        for (const auto& ack : reply.acks) REQUIRE(ack.status == proto::AckStatus::Stored);
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double cpuSeconds = double(std::clock() - cpuStart) / CLOCKS_PER_SEC;
    double perSecond = kBatches * kPerBatch / seconds;
    // CPU time per record is the figure that holds on a busy machine; wall time is what a
    // client sees.
    std::cout << "ingest (SQLite, batches of " << kPerBatch << ", ~" << recordBytes / (kBatches * kPerBatch)
              << " B envelopes): " << int(perSecond) << " records/s wall, "
              << int(cpuSeconds * 1e6 / (kBatches * kPerBatch)) << " us CPU per record (open alone: "
              << int(openCpu * 1e6 / (kBatches * kPerBatch)) << " us)\n";
    CHECK(agg.storage->countVisits() == size_t(kBatches * kPerBatch));
    // A floor far below the target, so a busy shared machine does not fail the suite; the
    // measured figure is printed above.
    CHECK(perSecond > 500);
}

TEST_CASE("attachments: chunks never committed are deleted after their age, committed ones stay", "[sync][agg][ingest]") {
    Aggregator agg("chunk-sweep");
    Device tab;
    agg.enrol(tab);
    Record r = agg.record("Unit", 4);
    REQUIRE(agg.upload(tab.batch({agg.seal(r, tab)}, agg.now)).acks[0].status == proto::AckStatus::Stored);
    auto put = [&](const std::vector<uint8_t>& data) {
        proto::ChunkUpload u{tab.publicKey, agg.now, data, {}};
        u.signature = sign(proto::signingBytes(u), tab.secretKey);
        REQUIRE(std::holds_alternative<proto::Ok>(agg.ingest->putChunk(u)));
        return proto::chunkHash(data.data(), data.size());
    };
    auto kept = put(std::vector<uint8_t>(500, 1));
    auto abandoned = put(std::vector<uint8_t>(500, 2));
    proto::AttachmentCommit c{tab.publicKey, agg.now, r.id, "photo-1", "image/jpeg", 500, {kept}, {}};
    c.signature = sign(proto::signingBytes(c), tab.secretKey);
    REQUIRE(std::holds_alternative<proto::Ok>(agg.ingest->commitAttachment(c)));

    // A day later nothing is old enough yet; three days later the abandoned chunk is gone.
    agg.now += 24 * 3600;
    auto young = put(std::vector<uint8_t>(500, 3));
    CHECK(agg.storage->haveChunks({kept, abandoned, young}) == std::vector<bool>{true, true, true});
    agg.now += 2 * 24 * 3600;
    put(std::vector<uint8_t>(500, 4));  // any chunk upload sweeps, at most every 10 minutes
    CHECK(agg.storage->haveChunks({kept, abandoned, young}) == std::vector<bool>{true, false, true});
    CHECK(agg.ingest->sweepChunks() == 0);
    agg.now += 3 * 24 * 3600;
    CHECK(agg.ingest->sweepChunks() == 2);  // the young one and the one that swept
    CHECK(agg.storage->readChunk(kept) == std::vector<uint8_t>(500, 1));
    CHECK(agg.storage->attachmentsOf(agg.storage->findVisit(r.id)->deviceId, r.id).size() == 1);
}

namespace {

// The device's way of filling a session: answer after answer, each settled before the next
// (FormSession::setAnswer), on a session made new for the visit. The oracle for the fast path.
RecordProblems problemsAnswerByAnswer(std::shared_ptr<const Template> survey, const Record& record, Record& made) {
    FormSession s(survey, record.id, record.createdAt);
    s.setToday(visitDay(record));
    RecordProblems out;
    auto setOne = [&](const ck::Answer& a, int instance) {
        int q = survey->indexOf(a.questionId);
        if (q < 0) {
            out.notTaken.push_back("'" + a.questionId + "' is not a question of this template version");
            return;
        }
        if (survey->questions[size_t(q)].type == QuestionType::Calculate) return;
        if (auto r = s.setAnswer(q, instance, a.value); !r.ok()) out.notTaken.push_back(r.message);
    };
    for (const auto& a : record.answers) {
        if (!a.isRepeat) {
            setOne(a, 0);
            continue;
        }
        int rq = survey->indexOf(a.questionId);
        if (rq < 0 || survey->questions[size_t(rq)].type != QuestionType::Repeat) {
            out.notTaken.push_back("'" + a.questionId + "' is not a repeat of this template version");
            continue;
        }
        for (const auto& inst : a.instances) {
            int i = s.addInstance(rq);
            for (const auto& child : inst) setOne(child, i);
        }
    }
    if (!out.notTaken.empty()) return out;
    out.open = s.validate();
    made = s.toRecord();
    return out;
}

std::string describe(const std::vector<Problem>& problems) {
    std::string out;
    for (const auto& p : problems)
        out += p.questionId + "#" + std::to_string(p.at.instance) + " q" + std::to_string(p.at.question) + " kind " +
               std::to_string(int(p.kind)) + " [" + p.label + "] " + p.message + "\n";
    return out;
}

}  // namespace

TEST_CASE("server-side validation: the fast path finds exactly the problems a session filled answer by answer finds",
          "[sync][agg][ingest][validate]") {
    std::ifstream in(std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json");
    std::stringstream text;
    text << in.rdbuf();
    auto survey = loadTemplateJson(text.str(), "cluster-diagnostic.json").survey;
    REQUIRE(survey);
    VisitGenerator generator(survey, 20261206);
    std::vector<UnitProfile> units = syntheticRegister(2, 2, 125, 7);
    REQUIRE(units.size() == 500);
    std::mt19937 rng(11);
    auto pick = [&](size_t n) { return size_t(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
    const Date firstDay{20400};
    std::map<int32_t, FormSession> blanks;
    int invalid = 0, notTaken = 0, valid = 0, storedCompared = 0;
    for (size_t u = 0; u < units.size(); ++u) {
        Date day{firstDay.days + int32_t(u % 9)};
        Record r = generator.generate(units[u], day).toRecord();
        r.updatedAt = r.createdAt;
        REQUIRE(visitDay(r).days == day.days);
        // Most visits are broken one way or another, each way a question of its own kind:
        // a gate or a choice changed, a figure out of its range, an answer dropped, a type
        // wrong, a repeat instance dropped, a "don't know", a question the template lacks.
        std::vector<ck::Answer>& as = r.answers;
        switch (u % 8) {
            case 0: break;
            case 1: as.erase(as.begin() + std::ptrdiff_t(pick(as.size()))); break;
            case 2: {
                std::vector<size_t> numbers;
                for (size_t i = 0; i < as.size(); ++i)
                    if (!as[i].isRepeat && as[i].value.kind() == ValueKind::Number) numbers.push_back(i);
                if (numbers.empty()) break;  // a refused visit answers hardly anything
                const double odd[] = {-1, 0, 1e7, 250, 3.5};
                as[numbers[pick(numbers.size())]].value = Value::number(odd[pick(5)]);
                break;
            }
            case 3: {
                std::vector<size_t> picked;
                for (size_t i = 0; i < as.size(); ++i) {
                    int q = survey->indexOf(as[i].questionId);
                    if (q >= 0 && survey->questions[size_t(q)].type == QuestionType::SelectOne) picked.push_back(i);
                }
                if (picked.empty()) break;
                ck::Answer& a = as[picked[pick(picked.size())]];
                const ChoiceList* list = survey->choicesOf(survey->questions[size_t(survey->indexOf(a.questionId))]);
                a.value = Value::text(list->names[pick(list->names.size())]);
                break;
            }
            case 4: {
                ck::Answer& a = as[pick(as.size())];
                if (!a.isRepeat)
                    a.value = a.value.kind() == ValueKind::Number ? Value::number(std::nan("")) : Value::number(7);
                break;
            }
            case 5:
                for (auto& a : as)
                    if (a.isRepeat && !a.instances.empty()) {
                        a.instances.erase(a.instances.begin() + std::ptrdiff_t(pick(a.instances.size())));
                        break;
                    }
                break;
            case 6: {
                ck::Answer& a = as[pick(as.size())];
                if (!a.isRepeat) a.value = Value::dontKnow();
                break;
            }
            case 7: as.insert(as.begin() + std::ptrdiff_t(pick(as.size())), ck::Answer{"no_such_question", Value::number(1), false, {}}); break;
        }
        auto it = blanks.find(day.days);
        if (it == blanks.end()) it = blanks.emplace(day.days, blankSession(survey, day)).first;
        Record fastRecord, slowRecord;
        RecordProblems fast = recordProblems(it->second, r, &fastRecord);
        RecordProblems slow = problemsAnswerByAnswer(survey, r, slowRecord);
        INFO("visit " << u << " (change " << u % 8 << ")");
        REQUIRE(fast.notTaken == slow.notTaken);
        REQUIRE(describe(fast.open) == describe(slow.open));
        if (slow.notTaken.empty()) {
            if (!(fastRecord.answers == slowRecord.answers)) {
                REQUIRE(fastRecord.answers.size() == slowRecord.answers.size());
                for (size_t k = 0; k < fastRecord.answers.size(); ++k) {
                    const auto& fa = fastRecord.answers[k];
                    const auto& sa = slowRecord.answers[k];
                    if (fa == sa) continue;
                    std::cout << "differs: " << fa.questionId << " " << kindName(fa.value.kind()) << " " << fa.value.toString()
                              << " / " << sa.questionId << " " << kindName(sa.value.kind()) << " " << sa.value.toString()
                              << " repeat " << fa.isRepeat << sa.isRepeat << " inst " << fa.instances.size() << " " << sa.instances.size() << "\n";
                    if (fa.value.kind() == ValueKind::Number) std::cout << fa.value.asNumber() << " " << sa.value.asNumber() << "\n";
                }
            }
            REQUIRE(fastRecord.answers == slowRecord.answers);
            // What ingest stores is written straight from the session: it must be the bytes of
            // the record made the slow way, with its personal answers removed, and its verdict,
            // cluster and stratum those the record gives.
            for (bool sealedApart : {false, true}) {
                CheckedRecord stored = checkRecordForStorage(it->second, r, sealedApart);
                Record expected;
                std::string why = checkRecordAgainstTemplate(it->second, r, sealedApart, expected);
                REQUIRE(stored.problem == why);
                if (!why.empty()) continue;
                removePersonalAnswers(expected.answers, *survey);
                REQUIRE(stored.bytes == serializeRecord(expected));
                REQUIRE(stored.answeredStratum == report::IndicatorEvaluator(*survey).evaluate(slowRecord).stratum);
                const ck::Answer* cluster = slowRecord.find("cluster");
                REQUIRE(stored.answeredCluster == (cluster && !cluster->value.isMissing()
                                                       ? (cluster->value.toString() == "other" && slowRecord.find("cluster_other")
                                                              ? slowRecord.find("cluster_other")->value.toString()
                                                              : cluster->value.toString())
                                                       : std::string()));
                ++storedCompared;
            }
            if (slow.open.empty()) ++valid;
            else ++invalid;
        } else {
            ++notTaken;
        }
    }
    // The comparison means something only if both kinds of visit were many.
    std::cout << "validation paths compared on 500 visits: " << valid << " valid, " << invalid
              << " with open problems, " << notTaken << " with answers not taken\n";
    CHECK(valid >= 100);
    CHECK(invalid >= 40);
    CHECK(notTaken >= 50);
    CHECK(storedCompared >= 2 * 100);
}

// Batches of 16 visits and more are checked on two threads: the second is one the service
// keeps, or, while it works for another request, one started for the batch.
TEST_CASE("big batches from several devices at once: every visit stored once and acknowledged to its own device",
          "[sync][agg][ingest]") {
    Aggregator agg("big-batches-at-once");
    constexpr int kDevices = 3, kRounds = 4, kPerBatch = 20;
    std::vector<Device> tabs(kDevices);
    std::vector<std::vector<proto::UploadBatch>> batches(kDevices);
    std::vector<std::vector<std::string>> ids(kDevices);
    for (int d = 0; d < kDevices; ++d) {
        agg.enrol(tabs[size_t(d)]);
        for (int r = 0; r < kRounds; ++r) {
            std::vector<SealedEnvelope> envs;
            for (int i = 0; i < kPerBatch; ++i) {
                Record rec = agg.record("Unit " + std::to_string(d) + "-" + std::to_string(r * kPerBatch + i), i + 1);
                ids[size_t(d)].push_back(rec.id);
                envs.push_back(agg.seal(rec, tabs[size_t(d)]));
            }
            batches[size_t(d)].push_back(tabs[size_t(d)].batch(envs, agg.now));
        }
    }
    std::vector<std::vector<proto::UploadReply>> replies(kDevices);
    std::vector<std::thread> senders;
    for (int d = 0; d < kDevices; ++d)
        senders.emplace_back([&, d] {
            for (const auto& b : batches[size_t(d)]) {
                auto answer = agg.ingest->upload(b);
                if (auto* reply = std::get_if<proto::UploadReply>(&answer)) replies[size_t(d)].push_back(*reply);
            }
        });
    for (auto& t : senders) t.join();
    for (int d = 0; d < kDevices; ++d) {
        REQUIRE(replies[size_t(d)].size() == size_t(kRounds));
        for (const auto& reply : replies[size_t(d)]) {
            REQUIRE(reply.acks.size() == size_t(kPerBatch));
            for (const auto& ack : reply.acks) CHECK(ack.status == proto::AckStatus::Stored);
        }
        std::string deviceId = agg.storage->findDevice(tabs[size_t(d)].publicKey)->deviceId;
        for (const auto& id : ids[size_t(d)]) CHECK(agg.storage->findDeviceVisit(deviceId, id));
    }
    CHECK(agg.storage->countVisits() == size_t(kDevices * kRounds * kPerBatch));
    CHECK(verifyAuditChain(*agg.storage).problems.empty());
}

TEST_CASE("a storage failure while a big batch is checked reaches the caller, stores nothing, and the next batch goes in",
          "[sync][agg][ingest]") {
    Aggregator agg("big-batch-failure");
    Device tab;
    const std::string deviceId = agg.enrol(tab);
    const SecretBytes tokenKey = assignmentTokenKey(agg.keys);
    constexpr int kPerBatch = 20;
    auto bigBatch = [&](bool assigned) {
        std::vector<SealedEnvelope> envs;
        for (int i = 0; i < kPerBatch; ++i) {
            Record rec = agg.record("Unit " + std::to_string(i), i + 1);
            // Visits of assigned units make both threads read the register.
            if (assigned) rec.assignment = makeAssignmentToken(tokenKey, "TPR-" + std::to_string(i), deviceId);
            envs.push_back(agg.seal(rec, tab));
        }
        return tab.batch(envs, agg.now);
    };
    // The register's table taken away underneath the service: both halves' reads fail.
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open((agg.dir / kSqliteFileName).c_str(), &db) == SQLITE_OK);
        sqlite3_busy_timeout(db, 5000);
        char* err = nullptr;
        int rc = sqlite3_exec(db, "DROP TABLE register_units", nullptr, nullptr, &err);
        INFO((err ? err : ""));
        sqlite3_free(err);
        sqlite3_close(db);
        REQUIRE(rc == SQLITE_OK);
    }
    CHECK_THROWS_AS(agg.ingest->upload(bigBatch(true)), StorageFailure);
    CHECK(agg.storage->countVisits() == 0);
    // The service's second thread is free again: a batch that needs no register is stored.
    auto reply = agg.upload(bigBatch(false));
    REQUIRE(reply.acks.size() == size_t(kPerBatch));
    for (const auto& ack : reply.acks) CHECK(ack.status == proto::AckStatus::Stored);
    CHECK(agg.storage->countVisits() == size_t(kPerBatch));
}

TEST_CASE("assignment tokens: open to the unit and device they were made for, and to nothing else", "[sync][agg][ingest]") {
    Aggregator agg("assignment-tokens");
    const SecretBytes key = assignmentTokenKey(agg.keys);
    const std::string token = makeAssignmentToken(key, "TPR-0001", "device-7");
    auto claim = openAssignmentToken(key, token);
    REQUIRE(claim);
    CHECK(claim->unitId == "TPR-0001");
    CHECK(claim->deviceId == "device-7");
    CHECK(makeAssignmentToken(key, "TPR-0001", "device-7") == token);  // one unit and device, one token

    // The longest ids a token carries (at most 1024 characters in all) still open.
    const std::string longUnit(360, 'u'), longDevice(360, 'd');
    const std::string longest = makeAssignmentToken(key, longUnit, longDevice);
    REQUIRE(longest.size() <= 1024);
    auto opened = openAssignmentToken(key, longest);
    REQUIRE(opened);
    CHECK(opened->unitId == longUnit);
    CHECK(opened->deviceId == longDevice);
    // One character more than a token may hold is refused unread.
    CHECK_FALSE(openAssignmentToken(key, makeAssignmentToken(key, longUnit + std::string(30, 'u'), longDevice)));

    // Altered anywhere, another project's key, no prefix, not base64, cut short, empty: nothing.
    for (size_t at : {size_t(3), size_t(10), token.size() - 1}) {
        std::string altered = token;
        altered[at] = altered[at] == 'A' ? 'B' : 'A';
        CHECK_FALSE(openAssignmentToken(key, altered));
    }
    Aggregator other("assignment-tokens-other");
    CHECK_FALSE(openAssignmentToken(assignmentTokenKey(other.keys), token));
    CHECK_FALSE(openAssignmentToken(key, token.substr(3)));
    CHECK_FALSE(openAssignmentToken(key, "A1.not*base64!"));
    CHECK_FALSE(openAssignmentToken(key, token.substr(0, 20)));
    CHECK_FALSE(openAssignmentToken(key, "A1."));
    CHECK_FALSE(openAssignmentToken(key, ""));
    CHECK_FALSE(openAssignmentToken(key, "A1." + std::string(2000, 'A')));
    CHECK_FALSE(openAssignmentToken(SecretBytes{}, token));  // keys with no signing half open none
}
