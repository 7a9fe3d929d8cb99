// The encrypted store as the field app uses it: create, unlock, autosave, restart, finalise,
// seal, outbox, corrections, purge, and a full disk.
#include <catch2/catch.hpp>

#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/crypto/sealed_box.h"
#include "core/form/answers_json.h"
#include "store_test_support.h"

using namespace ck;
using namespace ck::test;
namespace fs = std::filesystem;

namespace {

// What the aggregator opens the store's envelopes with: the template's record dictionary.
const std::string& flagshipDictionary() {
    static const std::string dictionary = [] {
        auto loaded = loadTemplateJsonFile(std::string(CK_SOURCE_DIR) + "/survey-templates/cluster-diagnostic.json");
        REQUIRE(loaded.survey);
        return recordDictionary(*loaded.survey);
    }();
    return dictionary;
}

const Answer* answerOf(const Record& r, const std::string& id) { return r.find(id); }

std::string textAnswer(const Record& r, const std::string& id) {
    const Answer* a = r.find(id);
    return a && a->value.kind() == ValueKind::Text ? a->value.asText() : std::string();
}

// A store whose aggregator key is set; returns the aggregator's key pair.
BoxKeyPair withAggregator(Store& store) {
    BoxKeyPair aggregator = newBoxKeyPair();
    auto set = store.setAggregatorKey(aggregator.publicKey);
    INFO(set.message());
    REQUIRE(set.ok());
    return aggregator;
}

const OutboxEntry* outboxEntry(const std::vector<OutboxEntry>& entries, const std::string& id) {
    auto it = std::find_if(entries.begin(), entries.end(), [&](const OutboxEntry& e) { return e.recordId == id; });
    return it == entries.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("write, restart, read back: a draft survives closing the store", "[store]") {
    fs::path dir = scratchDir("restart");
    std::string visitId;
    Record saved;
    {
        Store store = makeStore(dir);
        FormSession session = startKnitwear(store);
        visitId = session.recordId();
        saved = session.toDraftRecord();
    }
    auto reopened = Store::open(dir / "officer.ckstore");
    INFO(reopened.message());
    REQUIRE(reopened.ok());
    Store& store = reopened.value();
    CHECK_FALSE(store.isUnlocked());
    REQUIRE(store.unlock(kPassphrase).ok());
    CHECK(store.schemaVersion() == 3);

    auto loaded = store.loadVisit(visitId);
    INFO(loaded.message());
    REQUIRE(loaded.ok());
    CHECK(loaded.value().answers == saved.answers);
    CHECK(loaded.value().templateId == "cluster-diagnostic");

    auto visits = store.listVisits();
    REQUIRE(visits.size() == 1);
    CHECK(visits[0].id == visitId);
    CHECK(visits[0].status == VisitStatus::Draft);
    CHECK(visits[0].title == "Sri Velavan Knit Fashions");
    CHECK(visits[0].error.empty());
    CHECK(visits[0].createdAt > 0);

    auto templates = store.listTemplates();
    REQUIRE(templates.size() == 1);
    CHECK(templates[0].id == "cluster-diagnostic");
    CHECK(templates[0].storeId.size() == 64);
}

TEST_CASE("autosave and restore into a FormSession: every answer comes back", "[store]") {
    fs::path dir = scratchDir("autosave");
    std::string visitId;
    Record before;
    Progress beforeProgress;
    {
        Store store = makeStore(dir);
        FormSession session = startKnitwear(store);
        visitId = session.recordId();
        // One more change after the first save: the latest save is what comes back.
        REQUIRE(session.setAnswer("visit_minutes", Value::number(61)).ok());
        REQUIRE(store.saveDraft(session).ok());
        before = session.toRecord();
        beforeProgress = session.progress();
    }
    auto store = Store::open(dir / "officer.ckstore");
    REQUIRE(store.ok());
    REQUIRE(store.value().unlock(kPassphrase).ok());
    auto resumed = store.value().resumeVisit(visitId);
    INFO(resumed.message());
    REQUIRE(resumed.ok());
    FormSession& session = resumed.value().session;
    session.setToday(*parseIsoDate("2026-11-23"));
    CHECK(resumed.value().notes.empty());
    CHECK(session.recordId() == visitId);
    Record after = session.toRecord();
    CHECK(after.answers == before.answers);
    CHECK(after.createdAt == before.createdAt);
    CHECK(after.find("visit_minutes")->value.asNumber() == 61);
    int lines = session.instanceCount(session.survey().indexOf("product_lines"));
    CHECK(lines == 3);
    CHECK(session.validate().empty());
    CHECK(session.progress().answered == beforeProgress.answered);
    CHECK(session.progress().total == beforeProgress.total);
}

TEST_CASE("wrong passphrase: a clear error, and nothing changes", "[store]") {
    fs::path dir = scratchDir("wrong-pass");
    std::string visitId;
    {
        Store store = makeStore(dir);
        visitId = startKnitwear(store).recordId();
    }
    fs::path file = dir / "officer.ckstore";
    std::string bytesBefore = readText(file);
    {
        auto store = Store::open(file);
        REQUIRE(store.ok());
        auto r = store.value().unlock("tiruppur-knits-2025");
        REQUIRE_FALSE(r.ok());
        CHECK(r.failure().error == StoreError::WrongPassphrase);
        CHECK_FALSE(r.failure().message.empty());
        CHECK(r.failure().message.find("tiruppur") == std::string::npos);  // never echoes a passphrase
        CHECK_FALSE(store.value().isUnlocked());
        auto empty = store.value().unlock("");
        CHECK(empty.failure().error == StoreError::WrongPassphrase);
    }
    CHECK(readText(file) == bytesBefore);
    auto store = Store::open(file);
    REQUIRE(store.ok());
    REQUIRE(store.value().unlock(kPassphrase).ok());
    CHECK(store.value().loadVisit(visitId).ok());
}

TEST_CASE("create and open refuse what they must, by name", "[store]") {
    fs::path dir = scratchDir("create");
    fs::path file = dir / "officer.ckstore";
    auto weak = Store::create(file, "password", "password", kFastKdf);
    REQUIRE_FALSE(weak.ok());
    CHECK(weak.failure().error == StoreError::WeakPassphrase);
    CHECK_FALSE(fs::exists(file));
    auto differ = Store::create(file, kPassphrase, "tiruppur-knits-2027", kFastKdf);
    REQUIRE_FALSE(differ.ok());
    CHECK(differ.failure().error == StoreError::PassphrasesDiffer);
    CHECK_FALSE(fs::exists(file));

    { auto made = Store::create(file, kPassphrase, kPassphrase, kFastKdf); REQUIRE(made.ok()); }
    auto again = Store::create(file, kPassphrase, kPassphrase, kFastKdf);
    REQUIRE_FALSE(again.ok());
    CHECK(again.failure().error == StoreError::AlreadyExists);

    auto missing = Store::open(dir / "nobody.ckstore");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.failure().error == StoreError::NoStore);

    std::ofstream(dir / "notes.txt") << "not a database at all, just some text that is long enough";
    auto text = Store::open(dir / "notes.txt");
    REQUIRE_FALSE(text.ok());
    CHECK(text.failure().error == StoreError::NotAStore);

    // An SQLite file of someone else's is not ours either.
    rawExec(dir / "other.db", "CREATE TABLE t(x)");
    auto other = Store::open(dir / "other.db");
    REQUIRE_FALSE(other.ok());
    CHECK(other.failure().error == StoreError::NotAStore);
}

TEST_CASE("changing the passphrase re-wraps the key, the data stays readable", "[store]") {
    fs::path dir = scratchDir("change-pass");
    const std::string newPass = "kongu-vellalar-2027!";
    std::string visitId;
    {
        Store store = makeStore(dir);
        visitId = startKnitwear(store).recordId();
        auto wrongOld = store.changePassphrase("not-the-passphrase-1", newPass, newPass);
        CHECK(wrongOld.failure().error == StoreError::WrongPassphrase);
        auto mismatch = store.changePassphrase(kPassphrase, newPass, newPass + "x");
        CHECK(mismatch.failure().error == StoreError::PassphrasesDiffer);
        REQUIRE(store.changePassphrase(kPassphrase, newPass, newPass).ok());
    }
    auto store = Store::open(dir / "officer.ckstore");
    REQUIRE(store.ok());
    CHECK(store.value().unlock(kPassphrase).failure().error == StoreError::WrongPassphrase);
    REQUIRE(store.value().unlock(newPass).ok());
    CHECK(store.value().loadVisit(visitId).ok());
}

TEST_CASE("templates: a broken one is refused with its errors and nothing is stored", "[store]") {
    fs::path dir = scratchDir("templates");
    auto made = Store::create(dir / "officer.ckstore", kPassphrase, kPassphrase, kFastKdf);
    REQUIRE(made.ok());
    Store& store = made.value();
    auto broken = store.importTemplate(R"({"id": "b", "version": "1", "languages": ["en"], "title": "B",
      "sections": [{"id": "s", "label": "S", "questions": [
        {"id": "a", "type": "integer", "label": "A", "relevant": "${nope} > 1"}]}]})",
                                       "broken.json");
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.failure().error == StoreError::TemplateInvalid);
    CHECK_FALSE(broken.failure().templateErrors.empty());
    CHECK_THAT(broken.failure().message, Catch::Contains("broken.json") && Catch::Contains("nope"));
    CHECK(store.listTemplates().empty());
    auto notJson = store.importTemplate("{ not json", "x.json");
    CHECK(notJson.failure().error == StoreError::TemplateInvalid);

    auto first = store.importTemplate(flagshipJson(), "cluster-diagnostic.json");
    REQUIRE(first.ok());
    auto again = store.importTemplate(flagshipJson(), "cluster-diagnostic.json");
    REQUIRE(again.ok());
    CHECK(again.value().storeId == first.value().storeId);
    CHECK(store.listTemplates().size() == 1);

    // Same id and version, different content: a changed template must say so with a new version.
    std::string changed = flagshipJson();
    changed.replace(changed.find("Cluster diagnostic survey"), 7, "CLUSTER");
    auto conflict = store.importTemplate(changed, "changed.json");
    REQUIRE_FALSE(conflict.ok());
    CHECK(conflict.failure().error == StoreError::TemplateConflict);

    auto unknown = store.startVisit("no-such-template");
    CHECK(unknown.failure().error == StoreError::UnknownTemplate);
}

TEST_CASE("finalise: an invalid visit is refused with its problems and stays a draft", "[store]") {
    fs::path dir = scratchDir("finalise-invalid");
    Store store = makeStore(dir);
    withAggregator(store);
    auto visit = store.startVisit(kFlagshipId);
    REQUIRE(visit.ok());
    FormSession& session = visit.value();
    session.setToday(*parseIsoDate("2026-11-23"));
    REQUIRE(session.setAnswer("consent", Value::text("yes")).ok());
    REQUIRE(session.setAnswer("unit_name", Value::text("Half Done Hosiery")).ok());
    REQUIRE(store.saveDraft(session).ok());

    auto r = store.finalise(session.recordId(), session);
    REQUIRE_FALSE(r.ok());
    CHECK(r.failure().error == StoreError::VisitInvalid);
    CHECK(r.failure().problems.size() > 5);
    CHECK_THAT(r.failure().message, Catch::Contains("stays a draft"));
    CHECK(store.listOutbox().empty());
    auto visits = store.listVisits();
    REQUIRE(visits.size() == 1);
    CHECK(visits[0].status == VisitStatus::Draft);
    // Still editable.
    REQUIRE(session.setAnswer("unit_name", Value::text("Half Done Hosiery Works")).ok());
    CHECK(store.saveDraft(session).ok());

    // Problems come in the language asked for.
    auto hindi = store.finalise(session.recordId(), session, 1);
    REQUIRE_FALSE(hindi.ok());
    CHECK(hindi.failure().problems.size() == r.failure().problems.size());

    // A session of another visit is not this visit.
    auto other = store.startVisit(kFlagshipId);
    REQUIRE(other.ok());
    CHECK(store.finalise(session.recordId(), other.value()).failure().error == StoreError::SessionMismatch);
}

TEST_CASE("finalise: a valid visit is sealed into the outbox and opens with the aggregator's key", "[store]") {
    fs::path dir = scratchDir("finalise");
    Store store = makeStore(dir);
    BoxKeyPair aggregator = withAggregator(store);
    FormSession session = startKnitwear(store);
    const std::string id = session.recordId();

    auto t0 = std::chrono::steady_clock::now();
    auto receipt = store.finalise(id, session);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    WARN("finalise (validate, serialise, seal, sign, commit): " << ms << " ms");
    INFO(receipt.message());
    REQUIRE(receipt.ok());
    CHECK(receipt.value().state == OutboxState::Queued);
    CHECK(receipt.value().contentHash.size() == 64);
    CHECK_FALSE(receipt.value().personalSealedApart);

    auto outbox = store.listOutbox();
    REQUIRE(outbox.size() == 1);
    CHECK(outbox[0].recordId == id);
    CHECK(outbox[0].state == OutboxState::Queued);
    CHECK(outbox[0].contentHash == receipt.value().contentHash);

    auto env = store.envelope(id);
    INFO(env.message());
    REQUIRE(env.ok());
    CHECK(verifyEnvelope(env.value()));
    CHECK(env.value().devicePublicKey == store.devicePublicKey());
    CHECK(env.value().contentHash == receipt.value().contentHash);
    CHECK(env.value().templateId == "cluster-diagnostic");
    auto opened = openEnvelope(env.value(), aggregator.publicKey, aggregator.secretKey, flagshipDictionary());
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    const Record& sent = std::get<OpenedEnvelope>(opened).record;
    CHECK(sent.id == id);
    CHECK(sent.answers == session.toRecord().answers);
    CHECK(textAnswer(sent, "unit_name") == "Sri Velavan Knit Fashions");  // no custodian: stays in the record
    CHECK(contentHash(serializeRecord(sent)) == receipt.value().contentHash);

    // Another key cannot open it.
    BoxKeyPair stranger = newBoxKeyPair();
    CHECK(std::holds_alternative<EnvelopeError>(openEnvelope(env.value(), stranger.publicKey, stranger.secretKey, flagshipDictionary())));

    // Finished means immutable.
    REQUIRE(session.setAnswer("visit_minutes", Value::number(70)).ok());
    CHECK(store.saveDraft(session).failure().error == StoreError::WrongStatus);
    CHECK(store.finalise(id, session).failure().error == StoreError::WrongStatus);
    CHECK(store.discardDraft(id).failure().error == StoreError::WrongStatus);
    auto visits = store.listVisits();
    REQUIRE(visits.size() == 1);
    CHECK(visits[0].status == VisitStatus::Finished);
    auto loaded = store.loadVisit(id);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().find("visit_minutes")->value.asNumber() == 55);
}

TEST_CASE("finalise before the aggregator's key is known: sealed as soon as it is set", "[store]") {
    fs::path dir = scratchDir("awaiting-key");
    std::string id;
    {
        Store store = makeStore(dir);
        FormSession session = startKnitwear(store);
        id = session.recordId();
        auto receipt = store.finalise(id, session);
        REQUIRE(receipt.ok());
        CHECK(receipt.value().state == OutboxState::AwaitingKey);
        auto outbox = store.listOutbox();
        REQUIRE(outbox.size() == 1);
        CHECK(outbox[0].state == OutboxState::AwaitingKey);
        CHECK(store.envelope(id).failure().error == StoreError::IllegalTransition);
        CHECK(store.markSent(id).failure().error == StoreError::IllegalTransition);
        CHECK_FALSE(store.aggregatorKey().has_value());
        // Keys that cannot be used are refused at once.
        CHECK(store.setAggregatorKey(std::vector<uint8_t>(31, 7)).failure().error == StoreError::BadKey);
        CHECK(store.setAggregatorKey(std::vector<uint8_t>(32, 0)).failure().error == StoreError::BadKey);
    }
    // Across a restart, too.
    auto reopened = Store::open(dir / "officer.ckstore");
    REQUIRE(reopened.ok());
    Store& store = reopened.value();
    REQUIRE(store.unlock(kPassphrase).ok());
    BoxKeyPair aggregator = newBoxKeyPair();
    auto sealed = store.setAggregatorKey(aggregator.publicKey);
    REQUIRE(sealed.ok());
    CHECK(sealed.value() == 1);
    CHECK(store.aggregatorKey() == aggregator.publicKey);
    auto outbox = store.listOutbox();
    REQUIRE(outbox.size() == 1);
    CHECK(outbox[0].state == OutboxState::Queued);
    auto env = store.envelope(id);
    REQUIRE(env.ok());
    CHECK(env.value().contentHash == outbox[0].contentHash);
    CHECK(std::holds_alternative<OpenedEnvelope>(openEnvelope(env.value(), aggregator.publicKey, aggregator.secretKey, flagshipDictionary())));

    // A replaced key re-seals what has not left the device yet.
    BoxKeyPair replacement = newBoxKeyPair();
    auto resealed = store.setAggregatorKey(replacement.publicKey);
    REQUIRE(resealed.ok());
    CHECK(resealed.value() == 1);
    auto env2 = store.envelope(id);
    REQUIRE(env2.ok());
    CHECK(std::holds_alternative<OpenedEnvelope>(openEnvelope(env2.value(), replacement.publicKey, replacement.secretKey, flagshipDictionary())));
}

TEST_CASE("custodian key: personal fields are sealed apart from the aggregator's record", "[store]") {
    fs::path dir = scratchDir("custodian");
    Store store = makeStore(dir);
    BoxKeyPair aggregator = withAggregator(store);
    BoxKeyPair custodian = newBoxKeyPair();
    REQUIRE(store.setCustodianKey(custodian.publicKey).ok());
    FormSession session = startKnitwear(store);
    auto receipt = store.finalise(session.recordId(), session);
    REQUIRE(receipt.ok());
    CHECK(receipt.value().personalSealedApart);

    auto env = store.envelope(session.recordId());
    REQUIRE(env.ok());
    CHECK_FALSE(env.value().sealedPersonal.empty());
    CHECK(env.value().contentHash == receipt.value().contentHash);
    auto opened = openEnvelope(env.value(), aggregator.publicKey, aggregator.secretKey, flagshipDictionary());
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    const Record& main = std::get<OpenedEnvelope>(opened).record;
    CHECK(answerOf(main, "unit_name") == nullptr);
    CHECK(answerOf(main, "respondent_name") == nullptr);
    CHECK(answerOf(main, "turnover") != nullptr);  // the aggregator still computes indicators

    auto personal = openPersonal(env.value(), custodian.publicKey, custodian.secretKey, flagshipDictionary());
    REQUIRE(std::holds_alternative<Record>(personal));
    CHECK(textAnswer(std::get<Record>(personal), "unit_name") == "Sri Velavan Knit Fashions");
    CHECK(textAnswer(std::get<Record>(personal), "respondent_name") == "K. Senthilkumar");
    // The aggregator's key does not open the personal part.
    CHECK(std::holds_alternative<EnvelopeError>(openPersonal(env.value(), aggregator.publicKey, aggregator.secretKey, flagshipDictionary())));
}

TEST_CASE("a correction after finalise is a new record naming its parent", "[store]") {
    fs::path dir = scratchDir("correction");
    Store store = makeStore(dir);
    BoxKeyPair aggregator = withAggregator(store);
    FormSession original = startKnitwear(store);
    const std::string parentId = original.recordId();
    REQUIRE(store.finalise(parentId, original).ok());

    CHECK(store.startCorrection("no-such-visit").failure().error == StoreError::UnknownVisit);
    auto draft = store.startVisit(kFlagshipId);
    REQUIRE(draft.ok());
    CHECK(store.startCorrection(draft.value().recordId()).failure().error == StoreError::WrongStatus);

    auto correction = store.startCorrection(parentId);
    INFO(correction.message());
    REQUIRE(correction.ok());
    FormSession& fix = correction.value();
    fix.setToday(*parseIsoDate("2026-11-23"));
    CHECK(fix.recordId() != parentId);
    CHECK(fix.toRecord().answers == original.toRecord().answers);
    REQUIRE(fix.setAnswer("turnover", Value::number(72000000)).ok());
    REQUIRE(store.saveDraft(fix).ok());

    auto receipt = store.finalise(fix.recordId(), fix);
    INFO(receipt.message());
    REQUIRE(receipt.ok());
    auto env = store.envelope(fix.recordId());
    REQUIRE(env.ok());
    CHECK(env.value().parentId == parentId);
    auto opened = openEnvelope(env.value(), aggregator.publicKey, aggregator.secretKey, flagshipDictionary());
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    CHECK(std::get<OpenedEnvelope>(opened).record.parentId == parentId);
    CHECK(std::get<OpenedEnvelope>(opened).record.find("turnover")->value.asNumber() == 72000000);

    // The parent is untouched.
    auto parent = store.loadVisit(parentId);
    REQUIRE(parent.ok());
    CHECK(parent.value().find("turnover")->value.asNumber() == 70000000);
    auto visits = store.listVisits();
    auto it = std::find_if(visits.begin(), visits.end(), [&](const VisitSummary& v) { return v.id == fix.recordId(); });
    REQUIRE(it != visits.end());
    CHECK(it->parentId == parentId);
    CHECK(store.listOutbox().size() == 2);
}

TEST_CASE("outbox: nothing leaves without an acknowledgement, and steps keep their order", "[store]") {
    fs::path dir = scratchDir("outbox");
    std::string a, b, c;
    {
        Store store = makeStore(dir);
        withAggregator(store);
        for (std::string* id : {&a, &b, &c}) {
            FormSession s = startKnitwear(store);
            *id = s.recordId();
            REQUIRE(store.finalise(*id, s).ok());
        }
        CHECK(store.markSent("no-such-record").failure().error == StoreError::NotInOutbox);
        // queued -> acknowledged skips the sending: refused.
        auto early = store.markAcknowledged(a);
        REQUIRE_FALSE(early.ok());
        CHECK(early.failure().error == StoreError::IllegalTransition);
        CHECK_THAT(early.failure().message, Catch::Contains("has not been sent"));

        REQUIRE(store.markSent(a).ok());
        REQUIRE(store.markSent(a).ok());  // a resend after a cut
        REQUIRE(store.markAcknowledged(a).ok());
        REQUIRE(store.markAcknowledged(a).ok());  // heard twice
        CHECK(store.markSent(a).failure().error == StoreError::IllegalTransition);
        CHECK(store.markRefused(a, "x").failure().error == StoreError::IllegalTransition);

        REQUIRE(store.markSent(b).ok());
        REQUIRE(store.markDuplicate(b).ok());
        REQUIRE(store.markSent(c).ok());
        REQUIRE(store.markRefused(c, "record id already used with different content", "conflict").ok());
    }
    auto reopened = Store::open(dir / "officer.ckstore");
    REQUIRE(reopened.ok());
    REQUIRE(reopened.value().unlock(kPassphrase).ok());
    auto outbox = reopened.value().listOutbox();
    REQUIRE(outbox.size() == 3);
    CHECK(outboxEntry(outbox, a)->state == OutboxState::Acknowledged);
    CHECK(outboxEntry(outbox, a)->acknowledgedAt > 0);
    CHECK(outboxEntry(outbox, b)->state == OutboxState::Duplicate);
    CHECK(outboxEntry(outbox, b)->acknowledgedAt > 0);
    CHECK(outboxEntry(outbox, c)->state == OutboxState::Refused);
    CHECK(outboxEntry(outbox, c)->reason == "record id already used with different content");
    // The aggregator's refusal code is kept beside its words (sealed with them), for the app
    // to word the reason in the officer's language after a restart.
    CHECK(outboxEntry(outbox, c)->refusalCode == "conflict");
    CHECK(outboxEntry(outbox, c)->acknowledgedAt == 0);
    // The envelope stays available for a refused record (the officer may show it to support).
    CHECK(reopened.value().envelope(c).ok());
}

TEST_CASE("purge: acknowledged records past their age go, drafts and unacknowledged never", "[store]") {
    fs::path dir = scratchDir("purge");
    Store store = makeStore(dir);
    withAggregator(store);
    FormSession draft = startKnitwear(store);
    FormSession acked = startKnitwear(store);
    FormSession queued = startKnitwear(store);
    FormSession refused = startKnitwear(store);
    for (FormSession* s : {&acked, &queued, &refused}) REQUIRE(store.finalise(s->recordId(), *s).ok());
    REQUIRE(store.markSent(acked.recordId()).ok());
    REQUIRE(store.markAcknowledged(acked.recordId()).ok());
    REQUIRE(store.markSent(refused.recordId()).ok());
    REQUIRE(store.markRefused(refused.recordId(), "bad").ok());
    auto photo = store.addAttachment(draft.recordId(), "\x89PNG fake photo bytes", "image/png");
    REQUIRE(photo.ok());

    Settings settings = store.settings();
    CHECK(settings.purgeAfterDays == 90);
    settings.purgeAfterDays = 30;
    store.setSettings(settings);
    CHECK(store.settings().purgeAfterDays == 30);

    int64_t now = unixNow();
    CHECK(store.purge(now) == 0);                 // acknowledged just now: too young
    CHECK(store.purge(now + 29 * 86400) == 0);
    CHECK(store.purge(now + 31 * 86400) == 1);    // only the acknowledged one
    CHECK(store.purge(now + 10000 * 86400) == 0);  // nothing else is ever eligible

    auto visits = store.listVisits();
    CHECK(visits.size() == 3);
    for (const auto& v : visits) CHECK(v.id != acked.recordId());
    CHECK(store.loadVisit(draft.recordId()).ok());
    CHECK(store.listOutbox().size() == 2);
    CHECK(store.readAttachment(photo.value()).ok());

    // Age 0 purges at once, and still never a draft.
    settings.purgeAfterDays = 0;
    store.setSettings(settings);
    CHECK(store.purge(now + 10000 * 86400) == 0);
    CHECK(store.loadVisit(draft.recordId()).ok());
    // A draft leaves only when the officer discards it.
    REQUIRE(store.discardDraft(draft.recordId()).ok());
    CHECK(store.loadVisit(draft.recordId()).failure().error == StoreError::UnknownVisit);
    CHECK(store.readAttachment(photo.value()).failure().error == StoreError::UnknownAttachment);
}

TEST_CASE("attachments and assignments are stored encrypted and come back", "[store]") {
    fs::path dir = scratchDir("attachments");
    std::string photoId, visitId;
    const std::string photo = std::string("\xff\xd8\xff\xe0 JPEG of the stitching floor", 31);
    {
        Store store = makeStore(dir);
        FormSession s = startKnitwear(store);
        visitId = s.recordId();
        auto added = store.addAttachment(visitId, photo, "image/jpeg");
        REQUIRE(added.ok());
        photoId = added.value();
        CHECK(store.addAttachment("no-such-visit", photo, "image/jpeg").failure().error == StoreError::UnknownVisit);
        store.putAssignment("unit-17", R"({"unit": "Lakshmi Processors", "address": "Palladam Road"})");
        store.putAssignment("unit-17", R"({"unit": "Lakshmi Processors", "address": "Palladam Road, 2nd street"})");
    }
    auto store = Store::open(dir / "officer.ckstore");
    REQUIRE(store.ok());
    REQUIRE(store.value().unlock(kPassphrase).ok());
    auto read = store.value().readAttachment(photoId);
    REQUIRE(read.ok());
    CHECK(read.value().bytes == photo);
    CHECK(read.value().mediaType == "image/jpeg");
    CHECK(read.value().visitId == visitId);
    CHECK(store.value().listAttachments(visitId) == std::vector<std::string>{photoId});
    auto assignments = store.value().listAssignments();
    REQUIRE(assignments.size() == 1);
    CHECK_THAT(assignments[0].json, Catch::Contains("2nd street"));
    CHECK(assignments[0].error.empty());
}

TEST_CASE("disk full (max_page_count): a clear error, earlier saves intact", "[store]") {
    fs::path dir = scratchDir("disk-full");
    std::string id;
    Record lastGood;
    {
        Store store = makeStore(dir);
        FormSession s = startKnitwear(store);
        id = s.recordId();
        lastGood = s.toDraftRecord();
        store.setMaxFileBytes(0);  // no room beyond what the file holds now
        // A long field note needs new pages: there are none.
        std::string note(40000, 'n');
        REQUIRE(s.setAnswer("observations", Value::text(note)).ok());
        try {
            (void)store.saveDraft(s);
            FAIL("a save past the size limit returned");
        } catch (const StorageError& e) {
            CHECK(e.fault() == StorageFault::DiskFull);
            CHECK_THAT(std::string(e.what()), Catch::Contains("storage is full") && Catch::Contains("not saved"));
        }
        // The store goes on: the same connection reads the last good save.
        auto loaded = store.loadVisit(id);
        REQUIRE(loaded.ok());
        CHECK(loaded.value().answers == lastGood.answers);
    }
    auto store = Store::open(dir / "officer.ckstore");
    REQUIRE(store.ok());
    REQUIRE(store.value().unlock(kPassphrase).ok());
    auto loaded = store.value().loadVisit(id);
    REQUIRE(loaded.ok());
    CHECK(loaded.value().answers == lastGood.answers);
}

TEST_CASE("disk full (a 1 MiB tmpfs): a clear error, earlier saves intact", "[store]") {
    fs::path dir = scratchDir("tmpfs");
    fs::path mnt = dir / "mnt";
    fs::create_directories(mnt);
    if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=1m") != 0) {
        WARN("skipped: cannot mount a tmpfs here (" << std::strerror(errno) << "); the max_page_count variant covers this");
        return;
    }
    struct Unmount {
        fs::path at;
        ~Unmount() { umount2(at.c_str(), MNT_DETACH); }
    } unmount{mnt};

    std::string id;
    Record lastGood;
    int saves = 0;
    bool full = false;
    {
        auto made = Store::create(mnt / "officer.ckstore", kPassphrase, kPassphrase, kFastKdf);
        REQUIRE(made.ok());
        Store& store = made.value();
        REQUIRE(store.importTemplate(flagshipJson(), "cluster-diagnostic.json").ok());
        FormSession s = startKnitwear(store);
        id = s.recordId();
        lastGood = s.toDraftRecord();
        // Each save appends to the WAL; a growing field note fills the 1 MiB quickly.
        for (int i = 0; i < 400 && !full; ++i) {
            std::string note(size_t(2000 + i * 500), char('a' + i % 26));
            REQUIRE(s.setAnswer("observations", Value::text(note)).ok());
            try {
                auto saved = store.saveDraft(s);
                REQUIRE(saved.ok());
                lastGood = s.toDraftRecord();
                ++saves;
            } catch (const StorageError& e) {
                INFO(e.what());
                CHECK(e.fault() == StorageFault::DiskFull);
                full = true;
            }
        }
        REQUIRE(full);
        CHECK(saves > 0);
    }
    // Closing may not have had room to checkpoint; the WAL holds the last good save either way.
    auto store = Store::open(mnt / "officer.ckstore");
    INFO(store.message());
    REQUIRE(store.ok());
    REQUIRE(store.value().unlock(kPassphrase).ok());
    auto loaded = store.value().loadVisit(id);
    INFO(loaded.message());
    REQUIRE(loaded.ok());
    CHECK(loaded.value().answers == lastGood.answers);
}

namespace {

// A template of `n` integer and text questions: the size of visit the autosave target is for.
std::string wideTemplate(int n) {
    nlohmann::json questions = nlohmann::json::array();
    for (int i = 0; i < n; ++i)
        questions.push_back({{"id", "q" + std::to_string(i)},
                             {"type", i % 3 == 0 ? "text" : "integer"},
                             {"label", "Question " + std::to_string(i)}});
    nlohmann::json t{{"id", "wide"}, {"version", "1"}, {"languages", {"en"}}, {"title", "Wide"},
                     {"sections", {{{"id", "s"}, {"label", "S"}, {"questions", questions}}}}};
    return t.dump();
}

}  // namespace

TEST_CASE("autosave latency on a 300-question visit (synchronous=FULL)", "[store][timing]") {
    fs::path dir = scratchDir("latency");
    auto made = Store::create(dir / "officer.ckstore", kPassphrase, kPassphrase, kFastKdf);
    REQUIRE(made.ok());
    Store& store = made.value();
    auto imported = store.importTemplate(wideTemplate(300), "wide.json");
    INFO(imported.message());
    REQUIRE(imported.ok());
    auto visit = store.startVisit("wide");
    REQUIRE(visit.ok());
    FormSession& s = visit.value();
    for (int i = 0; i < 300; ++i)
        REQUIRE(s.setAnswer("q" + std::to_string(i),
                            i % 3 == 0 ? Value::text("answer number " + std::to_string(i) + " with some words")
                                       : Value::number(i * 1000 + 7))
                    .ok());
    REQUIRE(store.saveDraft(s).ok());
    std::vector<double> ms;
    for (int i = 0; i < 400; ++i) {
        REQUIRE(s.setAnswer("q1", Value::number(i)).ok());
        auto t0 = std::chrono::steady_clock::now();
        REQUIRE(store.saveDraft(s).ok());
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms[ms.size() / 2], p99 = ms[ms.size() * 99 / 100];
    WARN("autosave, 300 answers, " << ms.size() << " saves: median " << median << " ms, p99 " << p99 << " ms, max "
                                   << ms.back() << " ms");
    // The target is p99 < 5 ms; the check is loose so that a noisy shared machine does not
    // fail the suite. tests/bench measures it properly.
    CHECK(p99 < 100);
}

TEST_CASE("a visit is listed under an XLSForm's instance_name when it has no unit name", "[app][store]") {
    Record record;
    record.answers.push_back({"owner", Value::text("Lakshmi"), false, {}});
    record.answers.push_back({"instance_name", Value::text("Shop Velavan - Tiruppur"), false, {}});
    CHECK(visitTitle(record, "unit_name") == "Shop Velavan - Tiruppur");
    record.answers.push_back({"unit_name", Value::text("Velavan Knits"), false, {}});
    CHECK(visitTitle(record, "unit_name") == "Velavan Knits");  // the configured question wins
    Record plain;
    plain.answers.push_back({"owner", Value::text("Lakshmi"), false, {}});
    CHECK(visitTitle(plain, "unit_name") == "Lakshmi");
}
