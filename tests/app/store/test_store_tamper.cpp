// The store under attack or on a failing disk: changed bytes, moved rows, replayed rows and a
// truncated file are each named, per record, while the rest stays readable. And the proof
// that nothing typed is in the file: the sqlite3 CLI's dump and the raw bytes of the database
// and its WAL are searched for what the officer typed.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "store_test_support.h"
#include "tests/support/command_run.h"

using namespace ck;
using namespace ck::test;
namespace fs = std::filesystem;

namespace {

std::string sqlQuote(const std::string& s) { return "'" + s + "'"; }

std::vector<uint8_t> visitPayload(const fs::path& file, const std::string& id) {
    return rawBlob(file, "SELECT payload FROM visits WHERE id = " + sqlQuote(id));
}

void setVisitPayload(const fs::path& file, const std::string& id, const std::vector<uint8_t>& payload) {
    rawSetBlob(file, "UPDATE visits SET payload = ? WHERE id = " + sqlQuote(id), payload);
}

const VisitSummary& summaryOf(const std::vector<VisitSummary>& visits, const std::string& id) {
    for (const auto& v : visits)
        if (v.id == id) return v;
    FAIL("visit " << id << " is not listed");
    throw std::logic_error("unreachable");
}

struct TwoVisits {
    fs::path dir, file;
    std::string a, b;
};

TwoVisits twoVisits(const std::string& name) {
    TwoVisits t;
    t.dir = scratchDir(name);
    t.file = t.dir / "officer.ckstore";
    Store store = makeStore(t.dir);
    t.a = startKnitwear(store).recordId();
    t.b = startKnitwear(store).recordId();
    return t;
}

Store reopen(const fs::path& file) {
    auto store = Store::open(file);
    INFO(store.message());
    REQUIRE(store.ok());
    REQUIRE(store.value().unlock(kPassphrase).ok());
    return std::move(store).value();
}

}  // namespace

TEST_CASE("tamper: a flipped byte in one visit is reported for that visit only", "[store]") {
    TwoVisits t = twoVisits("flip");
    auto payload = visitPayload(t.file, t.a);
    REQUIRE(payload.size() > 100);
    payload[payload.size() / 2] ^= 0x01;
    setVisitPayload(t.file, t.a, payload);

    Store store = reopen(t.file);
    auto visits = store.listVisits();
    REQUIRE(visits.size() == 2);
    CHECK(summaryOf(visits, t.a).error == "visit " + t.a + ": stored data fails its integrity check");
    CHECK(summaryOf(visits, t.a).title.empty());
    CHECK(summaryOf(visits, t.b).error.empty());
    CHECK(summaryOf(visits, t.b).title == "Sri Velavan Knit Fashions");

    auto bad = store.loadVisit(t.a);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.failure().error == StoreError::IntegrityFailure);
    CHECK(bad.failure().message == "visit " + t.a + ": stored data fails its integrity check");
    CHECK(store.resumeVisit(t.a).failure().error == StoreError::IntegrityFailure);
    CHECK(store.loadVisit(t.b).ok());
    CHECK(store.resumeVisit(t.b).ok());
}

TEST_CASE("tamper: two visits' payloads swapped are both reported", "[store]") {
    TwoVisits t = twoVisits("swap");
    auto pa = visitPayload(t.file, t.a);
    auto pb = visitPayload(t.file, t.b);
    setVisitPayload(t.file, t.a, pb);
    setVisitPayload(t.file, t.b, pa);

    Store store = reopen(t.file);
    auto visits = store.listVisits();
    REQUIRE(visits.size() == 2);
    CHECK_THAT(summaryOf(visits, t.a).error, Catch::Contains("integrity check"));
    CHECK_THAT(summaryOf(visits, t.b).error, Catch::Contains("integrity check"));
    // Put back, both read again: the ciphertexts themselves were never damaged.
    {
        Store closing = std::move(store);
    }
    setVisitPayload(t.file, t.a, pa);
    setVisitPayload(t.file, t.b, pb);
    Store again = reopen(t.file);
    CHECK(again.loadVisit(t.a).ok());
    CHECK(again.loadVisit(t.b).ok());
}

TEST_CASE("tamper: an older ciphertext replayed into its own row fails", "[store]") {
    fs::path dir = scratchDir("replay");
    fs::path file = dir / "officer.ckstore";
    std::string id;
    std::vector<uint8_t> old;
    {
        Store store = makeStore(dir);
        FormSession s = startKnitwear(store);
        id = s.recordId();
    }
    old = visitPayload(file, id);
    {
        Store store = reopen(file);
        auto resumed = store.resumeVisit(id);
        REQUIRE(resumed.ok());
        REQUIRE(resumed.value().session.setAnswer("turnover", Value::number(1)).ok());
        REQUIRE(store.saveDraft(resumed.value().session).ok());
    }
    setVisitPayload(file, id, old);
    Store store = reopen(file);
    CHECK(store.loadVisit(id).failure().error == StoreError::IntegrityFailure);
}

TEST_CASE("tamper: outbox envelope and template damage are named, the rest reads", "[store]") {
    fs::path dir = scratchDir("outbox-tamper");
    fs::path file = dir / "officer.ckstore";
    std::string sealedId, otherId, templateRef;
    {
        Store store = makeStore(dir);
        REQUIRE(store.setAggregatorKey(newBoxKeyPair().publicKey).ok());
        FormSession a = startKnitwear(store);
        FormSession b = startKnitwear(store);
        sealedId = a.recordId();
        otherId = b.recordId();
        REQUIRE(store.finalise(sealedId, a).ok());
        REQUIRE(store.finalise(otherId, b).ok());
        templateRef = store.listTemplates().at(0).storeId;
    }
    auto env = rawBlob(file, "SELECT envelope FROM outbox WHERE record_id = " + sqlQuote(sealedId));
    env[50] ^= 0x80;
    rawSetBlob(file, "UPDATE outbox SET envelope = ? WHERE record_id = " + sqlQuote(sealedId), env);
    {
        Store store = reopen(file);
        auto bad = store.envelope(sealedId);
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.failure().error == StoreError::IntegrityFailure);
        CHECK_THAT(bad.failure().message, Catch::Contains(sealedId) && Catch::Contains("integrity check"));
        CHECK(store.envelope(otherId).ok());
        CHECK(store.listOutbox().size() == 2);
    }
    auto tpl = rawBlob(file, "SELECT payload FROM templates WHERE id = " + sqlQuote(templateRef));
    tpl[tpl.size() - 3] ^= 0x10;
    rawSetBlob(file, "UPDATE templates SET payload = ? WHERE id = " + sqlQuote(templateRef), tpl);
    Store store = reopen(file);
    auto templates = store.listTemplates();
    REQUIRE(templates.size() == 1);
    CHECK(templates[0].error == "template " + templateRef + ": stored data fails its integrity check");
    CHECK(store.findTemplate(kFlagshipId).failure().error == StoreError::UnknownTemplate);
    // The visits themselves still list and load.
    auto visits = store.listVisits();
    REQUIRE(visits.size() == 2);
    for (const auto& v : visits) CHECK(v.error.empty());
    CHECK(store.loadVisit(otherId).ok());
}

TEST_CASE("tamper: a truncated file is a clear error on open", "[store]") {
    fs::path dir = scratchDir("truncate");
    fs::path file = dir / "officer.ckstore";
    {
        Store store = makeStore(dir);
        for (int i = 0; i < 3; ++i) (void)startKnitwear(store);
    }
    REQUIRE_FALSE(fs::exists(fs::path(file.string() + "-wal")));  // checkpointed on close
    const std::string whole = readText(file);
    REQUIRE(whole.size() > 8192);
    for (size_t keep : {whole.size() / 2, whole.size() - 1000, size_t(5000), size_t(60), size_t(0)}) {
        DYNAMIC_SECTION("kept " << keep << " of " << whole.size() << " bytes") {
            std::ofstream(file, std::ios::binary | std::ios::trunc).write(whole.data(), std::streamsize(keep));
            auto store = Store::open(file);
            REQUIRE_FALSE(store.ok());
            INFO(store.message());
            CHECK(store.failure().error == StoreError::Damaged);
            CHECK_THAT(store.failure().message, Catch::Contains("damaged") || Catch::Contains("empty"));
        }
    }
}

namespace {

std::string hexOf(std::string_view s, bool upper) {
    static const char* lower = "0123456789abcdef";
    static const char* upperDigits = "0123456789ABCDEF";
    const char* d = upper ? upperDigits : lower;
    std::string out;
    for (unsigned char c : s) {
        out += d[c >> 4];
        out += d[c & 15];
    }
    return out;
}

std::string doubleBytes(double v) {
    char b[sizeof v];
    std::memcpy(b, &v, sizeof v);
    return std::string(b, sizeof v);
}

std::string runCapture(const std::string& cmd) {
    auto run = ck::test::runCommand(cmd);
    INFO(cmd << "\n" << run.err);
    REQUIRE(run.status == 0);
    return run.out;
}

}  // namespace

TEST_CASE("plaintext scan: nothing typed is in the file, its WAL or the sqlite3 dump", "[store]") {
    fs::path dir = scratchDir("plaintext");
    fs::path file = dir / "officer.ckstore";
    Store store = makeStore(dir);
    REQUIRE(store.setAggregatorKey(newBoxKeyPair().publicKey).ok());
    // A draft saved several times, a finished and sealed one, a photo and an assignment: every
    // kind of row, with the data still in the WAL (the store stays open while we look).
    FormSession draft = startKnitwear(store);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(draft.setAnswer("visit_minutes", Value::number(56 + i)).ok());
        REQUIRE(store.saveDraft(draft).ok());
    }
    FormSession finished = startKnitwear(store);
    REQUIRE(store.finalise(finished.recordId(), finished).ok());
    REQUIRE(store.markSent(finished.recordId()).ok());
    REQUIRE(store.markRefused(finished.recordId(), "refused: Sri Velavan already reported").ok());
    REQUIRE(store.addAttachment(draft.recordId(), "PHOTO-BYTES: stitching floor, Velavan signboard", "image/jpeg").ok());
    store.putAssignment("unit-17", R"({"unit": "Lakshmi Processors", "phone": "9843012345"})");

    fs::path wal(file.string() + "-wal");
    REQUIRE(fs::exists(wal));
    const std::string dbBytes = readText(file);
    const std::string walBytes = readText(wal);
    REQUIRE(walBytes.size() > 10000);
    const std::string dump = runCapture("sqlite3 '" + file.string() + "' .dump");
    REQUIRE_THAT(dump, Catch::Contains("CREATE TABLE visits"));
    REQUIRE_THAT(dump, Catch::Contains(draft.recordId()));  // the dump really holds the rows

    // Typed by the officer (knitwear-complete.json) or received for the unit.
    const std::vector<std::string> typed{
        "Sri Velavan Knit Fashions", "Velavan", "Senthilkumar", "UDYAM-TN-32-0048213", "0048213", "TUP-REG-0412",
        "641604", "TUP-07", "Tiruppur Exporters", "Palladam", "stitching floor", "GST returns",
        "11.1271", "77.3398", "sha256:3f5a1c9e", "Lakshmi Processors", "9843012345", "tiruppur_knitwear",
        "garmenting_assembly", "oeko_tex", "already reported",
        // template text is not personal, but it is stored encrypted all the same
        "Name of the unit", "cluster-diagnostic"};
    for (const std::string& needle : typed) {
        INFO("needle: " << needle);
        CHECK(dbBytes.find(needle) == std::string::npos);
        CHECK(walBytes.find(needle) == std::string::npos);
        // .dump writes blobs as hex: look for the hex of the text too. A short all-hex needle
        // ("641604") would match random ciphertext hex by chance, so only its hex is sought.
        bool allHex = needle.find_first_not_of("0123456789abcdef") == std::string::npos;
        if (!allHex) CHECK(dump.find(needle) == std::string::npos);
        CHECK(dump.find(hexOf(needle, false)) == std::string::npos);
        CHECK(dump.find(hexOf(needle, true)) == std::string::npos);
    }
    // Numbers are stored as IEEE doubles in the serialised record: look for those bytes too.
    for (double typedNumber : {70000000.0, 145000000.0, 30000000.0, 11.1271, 77.3398, 24000000.0}) {
        INFO("number: " << typedNumber);
        const std::string b = doubleBytes(typedNumber);
        CHECK(dbBytes.find(b) == std::string::npos);
        CHECK(walBytes.find(b) == std::string::npos);
        CHECK(dump.find(hexOf(b, false)) == std::string::npos);
        CHECK(dump.find(hexOf(b, true)) == std::string::npos);
    }
    // And the key material: the data key never reaches the file in clear.
    // (The passphrase neither: it is only ever an Argon2id input.)
    CHECK(dbBytes.find(kPassphrase) == std::string::npos);
    CHECK(walBytes.find(kPassphrase) == std::string::npos);
}
