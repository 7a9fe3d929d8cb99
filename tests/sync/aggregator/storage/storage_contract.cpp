#include "tests/sync/aggregator/storage/storage_contract.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <tuple>
#include <string>
#include <thread>
#include <vector>

#include "sync/aggregator/audit_log.h"

using namespace ck::agg;

namespace {

// 64 hex digits, distinct per seed: stands in for a content hash.
std::string hashOf(int seed, char pad = 'a') {
    std::string s = std::to_string(seed);
    return std::string(64 - s.size(), pad) + s;
}

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::vector<uint8_t> publicKey(uint8_t fill) { return std::vector<uint8_t>(32, fill); }

StoredVisit visit(const std::string& id, int contentSeed, int64_t receivedAt, const std::string& device = "dev-00000001") {
    StoredVisit v;
    v.recordId = id;
    v.contentHash = hashOf(contentSeed);
    v.parentId = "";
    v.templateId = "cluster-diagnostic";
    v.templateVersion = "1.0.0";
    v.deviceId = device;
    v.cluster = "ludhiana-bicycle";
    v.receivedAt = receivedAt;
    v.envelope = bytes("envelope of " + id + " #" + std::to_string(contentSeed));
    v.record = bytes("record of " + id + " #" + std::to_string(contentSeed));
    return v;
}

AuditEvent op(std::string action, std::string subject, int64_t at = 100) {
    return {at, std::move(action), "operator", std::move(subject), ""};
}

EnrolmentCodeRow code(std::string hash, int64_t expiresAt = 10'000, std::string cluster = "ludhiana-bicycle") {
    EnrolmentCodeRow c;
    c.codeHash = std::move(hash);
    c.officer = "Asha Verma";
    c.cluster = std::move(cluster);
    c.issuedAt = 100;
    c.expiresAt = expiresAt;
    return c;
}

DeviceRow newDevice(std::string id, uint8_t keyFill) {
    DeviceRow d;
    d.deviceId = std::move(id);
    d.publicKey = publicKey(keyFill);
    d.label = "tablet " + std::to_string(keyFill);
    d.officer = "whoever the device claims";
    d.cluster = "a cluster the device chose";
    return d;
}

std::vector<AuditEntry> auditEntries(AggregatorStorage& s) {
    std::vector<AuditEntry> out;
    s.forEachAudit([&](const AuditEntry& e) {
        out.push_back(e);
        return true;
    });
    return out;
}

void requireIntact(AggregatorStorage& s) {
    AuditReport r = verifyAuditChain(s);
    for (const auto& p : r.problems) UNSCOPED_INFO("audit problem: " << p.message);
    REQUIRE(r.problems.empty());
    REQUIRE(r.entries == s.countAudit());
}

bool mentions(const AuditReport& r, const std::string& what) {
    return std::any_of(r.problems.begin(), r.problems.end(),
                       [&](const AuditProblem& p) { return p.message.find(what) != std::string::npos; });
}

RegisterUnit unit(std::string id, std::string cluster, std::string name) {
    return {std::move(id), std::move(name), std::move(cluster), "Ludhiana", "Punjab", "small", "bicycle parts"};
}

}  // namespace

void runStorageContract(const FreshStorage& freshStorage, const RawSql& rawSql) {
    std::unique_ptr<AggregatorStorage> storage = freshStorage();
    REQUIRE(storage);
    AggregatorStorage& s = *storage;
    REQUIRE(s.countVisits() == 0);
    REQUIRE(s.countAudit() == 0);
    REQUIRE_FALSE(s.describe().empty());

    SECTION("enrolment: a code enrols one device, with the code's officer and cluster") {
        s.addEnrolmentCode(code("c1"), op("enrolment-code", "Asha Verma"));
        DeviceRow got;
        REQUIRE(s.redeemEnrolmentCode("c1", newDevice("dev-00000001", 1), 500, &got) == RedeemOutcome::Enrolled);
        CHECK(got.deviceId == "dev-00000001");
        CHECK(got.officer == "Asha Verma");
        CHECK(got.cluster == "ludhiana-bicycle");
        CHECK(got.enrolledAt == 500);
        CHECK(got.revokedAt == 0);
        auto byKey = s.findDevice(publicKey(1));
        REQUIRE(byKey);
        CHECK(byKey->deviceId == "dev-00000001");
        CHECK(byKey->label == "tablet 1");
        CHECK(byKey->publicKey == publicKey(1));
        auto byId = s.findDeviceById("dev-00000001");
        REQUIRE(byId);
        CHECK(byId->cluster == "ludhiana-bicycle");
        CHECK_FALSE(s.findDevice(publicKey(2)));
        CHECK_FALSE(s.findDeviceById("dev-ffffffff"));
        CHECK(s.listDevices().size() == 1);
        auto entries = auditEntries(s);
        REQUIRE(entries.size() == 2);
        CHECK(entries[1].action == "enrolled");
        CHECK(entries[1].subject == "dev-00000001");
        requireIntact(s);
    }

    SECTION("enrolment: unknown, expired, used codes and an enrolled key are refused and change nothing") {
        s.addEnrolmentCode(code("c1"), op("enrolment-code", "Asha Verma"));
        s.addEnrolmentCode(code("short", 1000), op("enrolment-code", "Asha Verma"));
        s.addEnrolmentCode(code("c2"), op("enrolment-code", "Asha Verma"));
        REQUIRE(s.redeemEnrolmentCode("c1", newDevice("dev-00000001", 1), 500, nullptr) == RedeemOutcome::Enrolled);
        uint64_t auditBefore = s.countAudit();

        DeviceRow untouched;
        untouched.deviceId = "sentinel";
        CHECK(s.redeemEnrolmentCode("nope", newDevice("dev-00000002", 2), 500, &untouched) == RedeemOutcome::Unknown);
        CHECK(s.redeemEnrolmentCode("short", newDevice("dev-00000002", 2), 1000, &untouched) == RedeemOutcome::Expired);
        CHECK(s.redeemEnrolmentCode("c1", newDevice("dev-00000002", 2), 600, &untouched) == RedeemOutcome::AlreadyUsed);
        CHECK(s.redeemEnrolmentCode("c2", newDevice("dev-00000009", 1), 600, &untouched) ==
              RedeemOutcome::KeyAlreadyEnrolled);
        CHECK(untouched.deviceId == "sentinel");
        CHECK(s.listDevices().size() == 1);
        CHECK_FALSE(s.findDevice(publicKey(2)));
        CHECK(s.countAudit() == auditBefore);
        // The refused key did not use up c2: a new key still enrols with it.
        CHECK(s.redeemEnrolmentCode("c2", newDevice("dev-00000002", 2), 700, nullptr) == RedeemOutcome::Enrolled);
        // The short code was still good just before it expired.
        CHECK(s.redeemEnrolmentCode("short", newDevice("dev-00000003", 3), 999, nullptr) == RedeemOutcome::Enrolled);
        CHECK(s.listDevices().size() == 3);
        requireIntact(s);
    }

    SECTION("enrolment: two threads redeeming one code, exactly one wins") {
        for (int round = 0; round < 5; ++round) {
            std::string c = "race-" + std::to_string(round);
            s.addEnrolmentCode(code(c), op("enrolment-code", "Asha Verma"));
            std::atomic<int> go{0};
            RedeemOutcome outcomes[2];
            std::vector<std::thread> threads;
            for (int t = 0; t < 2; ++t) {
                threads.emplace_back([&, t] {
                    go.fetch_add(1);
                    while (go.load() < 2) std::this_thread::yield();
                    auto fill = uint8_t(10 + round * 2 + t);
                    outcomes[t] = s.redeemEnrolmentCode(c, newDevice("dev-race" + std::to_string(fill), fill), 500,
                                                        nullptr);
                });
            }
            for (auto& th : threads) th.join();
            int won = int(outcomes[0] == RedeemOutcome::Enrolled) + int(outcomes[1] == RedeemOutcome::Enrolled);
            int lost = int(outcomes[0] == RedeemOutcome::AlreadyUsed) + int(outcomes[1] == RedeemOutcome::AlreadyUsed);
            REQUIRE(won == 1);
            REQUIRE(lost == 1);
        }
        CHECK(s.listDevices().size() == 5);
        requireIntact(s);
    }

    SECTION("revoke: once, with an audit entry; unknown and repeated revocations are refused") {
        s.addEnrolmentCode(code("c1"), op("enrolment-code", "Asha Verma"));
        REQUIRE(s.redeemEnrolmentCode("c1", newDevice("dev-00000001", 1), 500, nullptr) == RedeemOutcome::Enrolled);
        uint64_t before = s.countAudit();
        REQUIRE(s.revokeDevice("dev-00000001", 900, op("revoked", "dev-00000001", 900)));
        CHECK(s.findDeviceById("dev-00000001")->revokedAt == 900);
        CHECK(s.findDevice(publicKey(1))->revokedAt == 900);
        CHECK_FALSE(s.revokeDevice("dev-00000001", 950, op("revoked", "dev-00000001", 950)));
        CHECK(s.findDeviceById("dev-00000001")->revokedAt == 900);
        CHECK_FALSE(s.revokeDevice("dev-unknown", 950, op("revoked", "dev-unknown", 950)));
        CHECK(s.countAudit() == before + 1);
        CHECK(auditEntries(s).back().action == "revoked");
        requireIntact(s);
    }

    SECTION("visits: stored, duplicate, conflict, in input order; a conflict leaves the stored visit as it was") {
        StoredVisit a = visit("rec-a", 1, 1000);
        REQUIRE(s.putVisits({a}) == std::vector<PutOutcome>{PutOutcome::Stored});

        StoredVisit changed = visit("rec-a", 2, 2000);
        StoredVisit b = visit("rec-b", 3, 1001);
        auto outcomes = s.putVisits({b, a, changed, b});
        REQUIRE(outcomes == std::vector<PutOutcome>{PutOutcome::Stored, PutOutcome::Duplicate, PutOutcome::Conflict,
                                                    PutOutcome::Duplicate});
        CHECK(s.countVisits() == 2);

        auto got = s.findVisit("rec-a");
        REQUIRE(got);
        CHECK(got->recordId == a.recordId);
        CHECK(got->contentHash == a.contentHash);
        CHECK(got->parentId == a.parentId);
        CHECK(got->templateId == a.templateId);
        CHECK(got->templateVersion == a.templateVersion);
        CHECK(got->deviceId == a.deviceId);
        CHECK(got->cluster == a.cluster);
        CHECK(got->receivedAt == a.receivedAt);
        CHECK(got->envelope == a.envelope);
        CHECK(got->record == a.record);
        CHECK_FALSE(s.findVisit("rec-none"));
        CHECK(s.putVisits({}).empty());

        auto entries = auditEntries(s);
        REQUIRE(entries.size() == 5);
        CHECK(entries[0].action == "stored");
        CHECK(entries[0].subject == "rec-a");
        CHECK(entries[0].detail == visitAuditDetail(a));
        CHECK(entries[0].detail.rfind(a.contentHash + " row2 ", 0) == 0);
        CHECK(entries[0].actor == a.deviceId);
        CHECK(entries[1].action == "stored");
        CHECK(entries[2].action == "duplicate");
        CHECK(entries[3].action == "refused");
        CHECK(entries[3].subject == "rec-a");
        CHECK(entries[3].detail == "conflict");
        CHECK(entries[4].action == "duplicate");
        requireIntact(s);
    }

    SECTION("visits: the register stratum and the review note are kept, and the held ones listed newest first") {
        StoredVisit plain = visit("rec-plain", 1, 1000);
        StoredVisit held = visit("rec-held", 2, 1002);
        held.registerStratum = "medium";
        held.review = "its answers put the unit in size class 'micro', the register in 'medium'";
        StoredVisit found = visit("rec-found", 3, 1001);
        found.review = "no assigned unit (found in the field)";
        REQUIRE(s.putVisits({plain, held, found}) ==
                std::vector<PutOutcome>{PutOutcome::Stored, PutOutcome::Stored, PutOutcome::Stored});
        auto back = s.findDeviceVisit(held.deviceId, "rec-held");
        REQUIRE(back);
        CHECK(back->registerStratum == "medium");
        CHECK(back->review == held.review);
        CHECK(s.findDeviceVisit(plain.deviceId, "rec-plain")->review.empty());
        CHECK(s.countForReview() == 2);
        auto listed = s.visitsForReview(10);
        REQUIRE(listed.size() == 2);
        CHECK(listed[0].recordId == "rec-held");  // received last
        CHECK(listed[0].registerStratum == "medium");
        CHECK(listed[0].record.empty());
        CHECK(listed[1].recordId == "rec-found");
        CHECK(s.visitsForReview(1).size() == 1);
        // The audit entry's row digest covers both: the same row with another stratum differs.
        StoredVisit rewritten = held;
        rewritten.registerStratum = "micro";
        CHECK(visitAuditDetail(rewritten) != visitAuditDetail(held));
        CHECK(auditEntries(s)[1].detail == visitAuditDetail(held));
        requireIntact(s);
    }

    SECTION("visits: an entry from before row digests version 2 still proves its row, and a rewrite of it") {
        // Entries written before version 2 hashed the record's bytes into the digest itself.
        StoredVisit old = visit("rec-v1", 1, 1000);
        old.auditDetail = visitAuditDetailV1(old);
        REQUIRE(old.auditDetail.rfind(old.contentHash + " row ", 0) == 0);
        REQUIRE(old.auditDetail != visitAuditDetail(old));
        StoredVisit now = visit("rec-v2", 2, 1001);
        REQUIRE(s.putVisits({old, now}) == std::vector<PutOutcome>{PutOutcome::Stored, PutOutcome::Stored});
        CHECK(auditEntries(s)[0].detail == old.auditDetail);
        requireIntact(s);
        // Version 2 hashes the record's bytes, unless it is stored as sealed: then its envelope
        // must name its hash, and this made-up visit's envelope is no envelope at all.
        CHECK(visitAuditDetail(now).rfind(now.contentHash + " row2 ", 0) == 0);
        StoredVisit grown = now;
        grown.record.push_back(0);
        CHECK(visitAuditDetail(grown) != visitAuditDetail(now));
        CHECK(visitAuditDetail(grown, true) == visitAuditDetail(now, true));
        StoredVisit claimed = visit("rec-claimed", 3, 1002);
        claimed.auditDetail = visitAuditDetail(claimed, true);
        REQUIRE(claimed.auditDetail.rfind(claimed.contentHash + " row2-as-sealed ", 0) == 0);
        REQUIRE(s.putVisits({claimed}) == std::vector<PutOutcome>{PutOutcome::Stored});
        AuditReport unbound = verifyAuditChain(s);
        REQUIRE(unbound.problems.size() == 1);
        CHECK(mentions(unbound, "rec-claimed"));
        rawSql("UPDATE visits SET cluster = 'a-cluster-it-never-was' WHERE record_id = 'rec-v1'");
        AuditReport r = verifyAuditChain(s);
        REQUIRE(r.problems.size() == 2);
        CHECK(mentions(r, "rec-v1"));
        CHECK(mentions(r, "rewritten"));
        CHECK(mentions(r, "rec-claimed"));
    }

    SECTION("visits: one record id from two devices is two visits; neither device's upload touches the other's") {
        // The squatter read the id off the rightful device's USB bundle and sent it first.
        StoredVisit squat = visit("rec-read-off-a-stick", 7, 1000, "dev-squatter");
        StoredVisit rightful = visit("rec-read-off-a-stick", 8, 1001, "dev-rightful");
        REQUIRE(s.putVisits({squat}) == std::vector<PutOutcome>{PutOutcome::Stored});
        REQUIRE(s.putVisits({rightful}) == std::vector<PutOutcome>{PutOutcome::Stored});
        // Each device's resend is its own Duplicate; other content under its own id its own Conflict.
        CHECK(s.putVisits({rightful, squat}) == std::vector<PutOutcome>{PutOutcome::Duplicate, PutOutcome::Duplicate});
        CHECK(s.putVisits({visit("rec-read-off-a-stick", 9, 1002, "dev-squatter")}) ==
              std::vector<PutOutcome>{PutOutcome::Conflict});
        CHECK(s.countVisits() == 2);
        auto mine = s.findDeviceVisit("dev-rightful", "rec-read-off-a-stick");
        REQUIRE(mine);
        CHECK(mine->contentHash == rightful.contentHash);
        CHECK(mine->envelope == rightful.envelope);
        auto theirs = s.findDeviceVisit("dev-squatter", "rec-read-off-a-stick");
        REQUIRE(theirs);
        CHECK(theirs->contentHash == squat.contentHash);
        CHECK_FALSE(s.findDeviceVisit("dev-nobody", "rec-read-off-a-stick"));
        CHECK(s.findVisit("rec-read-off-a-stick")->deviceId == "dev-squatter");  // the first received
        CHECK(s.devicesWithVisit("rec-read-off-a-stick") == std::vector<std::string>{"dev-squatter", "dev-rightful"});
        CHECK(s.devicesWithVisit("rec-none").empty());
        // Both in one batch, the other way round.
        StoredVisit x1 = visit("rec-x", 1, 1100, "dev-b"), x2 = visit("rec-x", 2, 1100, "dev-a");
        CHECK(s.putVisits({x1, x2}) == std::vector<PutOutcome>{PutOutcome::Stored, PutOutcome::Stored});
        int walked = 0;
        s.forEachVisit([&](const StoredVisit& v) {
            walked += v.recordId == "rec-x";
            return true;
        });
        CHECK(walked == 2);
        requireIntact(s);
    }

    SECTION("visits: forEachVisit runs in receivedAt, recordId order across pages and stops when asked") {
        std::vector<StoredVisit> batch;
        // 300 visits in scrambled order, several sharing one receivedAt.
        for (int i = 0; i < 300; ++i) {
            int k = (i * 7) % 300;
            char id[16];
            std::snprintf(id, sizeof id, "rec-%03d", k);
            batch.push_back(visit(id, k, 5000 + (299 - k) / 3));
        }
        auto outcomes = s.putVisits(batch);
        REQUIRE(std::count(outcomes.begin(), outcomes.end(), PutOutcome::Stored) == 300);
        std::vector<std::pair<int64_t, std::string>> seen;
        s.forEachVisit([&](const StoredVisit& v) {
            seen.emplace_back(v.receivedAt, v.recordId);
            return true;
        });
        REQUIRE(seen.size() == 300);
        CHECK(std::is_sorted(seen.begin(), seen.end()));
        CHECK(std::set<std::pair<int64_t, std::string>>(seen.begin(), seen.end()).size() == 300);
        CHECK(seen.front() == std::make_pair(int64_t(5000), std::string("rec-297")));

        int calls = 0;
        s.forEachVisit([&](const StoredVisit&) { return ++calls < 5; });
        CHECK(calls == 5);

        // Walks that skip the large fields: the same visits in the same order, every other
        // field as stored, the skipped ones empty.
        std::vector<StoredVisit> all, records, metadata;
        s.forEachVisit([&](const StoredVisit& v) { all.push_back(v); return true; });
        s.forEachVisit([&](const StoredVisit& v) { records.push_back(v); return true; }, VisitParts::Record);
        s.forEachVisit([&](const StoredVisit& v) { metadata.push_back(v); return true; }, VisitParts::Metadata);
        REQUIRE(all.size() == 300);
        REQUIRE(records.size() == 300);
        REQUIRE(metadata.size() == 300);
        auto fields = [](const StoredVisit& v) {
            return std::make_tuple(v.recordId, v.contentHash, v.parentId, v.templateId, v.templateVersion, v.deviceId,
                                   v.cluster, v.receivedAt, v.envelope, v.record);
        };
        for (size_t i = 0; i < all.size(); ++i) {
            REQUIRE_FALSE(all[i].envelope.empty());
            REQUIRE_FALSE(all[i].record.empty());
            StoredVisit expected = all[i];
            expected.envelope.clear();
            CHECK(fields(records[i]) == fields(expected));
            expected.record.clear();
            CHECK(fields(metadata[i]) == fields(expected));
        }
        int partCalls = 0;
        s.forEachVisit([&](const StoredVisit&) { return ++partCalls < 3; }, VisitParts::Metadata);
        CHECK(partCalls == 3);
    }

    SECTION("templates: published once per id@version, listed, and offered to every device") {
        PublishedTemplate t{"cluster-diagnostic", "1.0.0", R"({"id":"cluster-diagnostic"})", bytes("sig-1"), 300};
        REQUIRE(s.putTemplate(t, op("published", "cluster-diagnostic@1.0.0")));
        PublishedTemplate again = t;
        again.jsonText = R"({"id":"something else"})";
        again.signature = bytes("sig-2");
        CHECK_FALSE(s.putTemplate(again, op("published", "cluster-diagnostic@1.0.0")));
        PublishedTemplate v2{"cluster-diagnostic", "1.1.0", R"({"v":2})", bytes("sig-3"), 400};
        REQUIRE(s.putTemplate(v2, op("published", "cluster-diagnostic@1.1.0")));

        auto got = s.findTemplate("cluster-diagnostic", "1.0.0");
        REQUIRE(got);
        CHECK(got->jsonText == t.jsonText);
        CHECK(got->signature == t.signature);
        CHECK(got->publishedAt == 300);
        CHECK_FALSE(s.findTemplate("cluster-diagnostic", "9.9.9"));
        CHECK(s.listTemplates().size() == 2);
        CHECK(s.countAudit() == 2);

        auto feed = s.feedSince(0, "any-cluster", "dev-x", 100);
        REQUIRE(feed.size() == 2);
        CHECK(feed[0].kind == FeedKind::Template);
        CHECK(feed[0].key == "cluster-diagnostic@1.0.0");
        CHECK(feed[0].cluster.empty());
        CHECK(feed[1].key == "cluster-diagnostic@1.1.0");
        CHECK(feed[0].seq < feed[1].seq);
        requireIntact(s);
    }

    SECTION("register: units added and replaced by id; only changes reach the feed") {
        s.putRegister({unit("u1", "A", "Kumar Cycles"), unit("u2", "B", "Hero Spokes")}, op("register", "2 units"));
        CHECK(s.listRegister().size() == 2);
        auto first = s.feedSince(0, "A", "", 100);
        REQUIRE(first.size() == 1);
        CHECK(first[0].kind == FeedKind::Assignment);
        CHECK(first[0].key == "u1");
        CHECK(first[0].cluster == "A");

        // u1 renamed, u2 the same, u3 new.
        s.putRegister({unit("u1", "A", "Kumar Cycle Works"), unit("u2", "B", "Hero Spokes"), unit("u3", "A", "Avon")},
                      op("register", "3 units"));
        auto units = s.listRegister();
        REQUIRE(units.size() == 3);
        auto u1 = s.findUnit("u1");
        REQUIRE(u1);
        CHECK(u1->name == "Kumar Cycle Works");
        CHECK(u1->district == "Ludhiana");
        CHECK(u1->state == "Punjab");
        CHECK(u1->stratum == "small");
        CHECK(u1->sector == "bicycle parts");
        CHECK_FALSE(s.findUnit("u9"));
        // Several at once (ingest's batch read): the ones on the register, an id asked twice
        // once, an unknown one left out, none asked none found.
        auto some = s.findUnits({"u3", "u9", "u1", "u3"});
        REQUIRE(some.size() == 2);
        CHECK(some.at("u1").name == "Kumar Cycle Works");
        CHECK(some.at("u3") == unit("u3", "A", "Avon"));
        CHECK(s.findUnits({}).empty());
        CHECK(s.findUnits({"u9"}).empty());
        auto later = s.feedSince(first[0].seq, "A", "", 100);
        REQUIRE(later.size() == 2);
        CHECK(later[0].key == "u1");
        CHECK(later[1].key == "u3");
        CHECK(s.feedSince(0, "B", "", 100).size() == 1);  // u2 unchanged: announced once
        CHECK(s.countAudit() == 2);
        requireIntact(s);
    }

    SECTION("feed: filtered by cluster and device, limited, resumed from a cursor") {
        s.addEnrolmentCode(code("cA1", 10'000, "A"), op("enrolment-code", "x"));
        s.addEnrolmentCode(code("cA2", 10'000, "A"), op("enrolment-code", "x"));
        REQUIRE(s.redeemEnrolmentCode("cA1", newDevice("dev-a1", 1), 200, nullptr) == RedeemOutcome::Enrolled);
        REQUIRE(s.redeemEnrolmentCode("cA2", newDevice("dev-a2", 2), 200, nullptr) == RedeemOutcome::Enrolled);
        REQUIRE(s.putTemplate({"t", "1", "{}", bytes("s"), 300}, op("published", "t@1")));  // everyone
        s.putRegister({unit("u1", "A", "one"), unit("u2", "B", "two"), unit("u3", "A", "three")},
                      op("register", "3"));
        s.addComment({"rec-1", "Please recheck the worker count", 400}, "dev-a1", op("comment", "rec-1", 400));

        auto forA1 = s.feedSince(0, "A", "dev-a1", 100);
        REQUIRE(forA1.size() == 4);
        CHECK(forA1[0].kind == FeedKind::Template);
        CHECK(forA1[1].key == "u1");
        CHECK(forA1[2].key == "u3");
        CHECK(forA1[3].kind == FeedKind::Comment);
        CHECK(forA1[3].key == "rec-1");
        CHECK(forA1[3].deviceId == "dev-a1");
        CHECK(std::is_sorted(forA1.begin(), forA1.end(),
                             [](const FeedItem& x, const FeedItem& y) { return x.seq < y.seq; }));

        auto forA2 = s.feedSince(0, "A", "dev-a2", 100);  // same cluster, not its comment
        REQUIRE(forA2.size() == 3);
        CHECK(std::none_of(forA2.begin(), forA2.end(), [](const FeedItem& f) { return f.kind == FeedKind::Comment; }));
        auto forB = s.feedSince(0, "B", "dev-b1", 100);
        REQUIRE(forB.size() == 2);
        CHECK(forB[1].key == "u2");

        auto page1 = s.feedSince(0, "A", "dev-a1", 2);
        REQUIRE(page1.size() == 2);
        auto page2 = s.feedSince(page1.back().seq, "A", "dev-a1", 2);
        REQUIRE(page2.size() == 2);
        CHECK(page2[0].key == "u3");
        CHECK(s.feedSince(page2.back().seq, "A", "dev-a1", 2).empty());
        CHECK(s.feedSince(0, "A", "dev-a1", 0).empty());

        auto comments = s.commentsFor("dev-a1", "rec-1");
        REQUIRE(comments.size() == 1);
        CHECK(comments[0].text == "Please recheck the worker count");
        CHECK(comments[0].at == 400);
        CHECK(s.commentsFor("dev-a1", "rec-2").empty());
        // Another device's visit with the same id (an id read off a bundle) gets none of them.
        CHECK(s.commentsFor("dev-a2", "rec-1").empty());
        s.addComment({"rec-1", "For the second device only", 410}, "dev-a2", op("comment", "rec-1", 410));
        CHECK(s.commentsFor("dev-a1", "rec-1").size() == 1);
        REQUIRE(s.commentsFor("dev-a2", "rec-1").size() == 1);
        CHECK(s.commentsFor("dev-a2", "rec-1")[0].text == "For the second device only");
        requireIntact(s);
    }

    SECTION("chunks and attachments: content-addressed, idempotent") {
        std::vector<uint8_t> h1(32, 0x11), h2(32, 0x22), h3(32, 0x33);
        std::vector<uint8_t> d1(70'000, 0xab), d2 = bytes("the second and last chunk");
        s.putChunk(h1, d1, 100);
        s.putChunk(h1, d1, 100);
        s.putChunk(h2, d2, 100);
        CHECK(s.haveChunks({h1, h3, h2}) == std::vector<bool>{true, false, true});
        CHECK(s.haveChunks({}).empty());
        REQUIRE(s.readChunk(h1));
        CHECK(*s.readChunk(h1) == d1);
        CHECK(*s.readChunk(h2) == d2);
        CHECK_FALSE(s.readChunk(h3));

        AttachmentRow row{"rec-1", "att-1", "dev-00000001", "image/jpeg", d1.size() + d2.size(), {h1, h2}, 500};
        s.putAttachment(row, op("attachment", "att-1"));
        s.putAttachment(row, op("attachment", "att-1"));  // a resend
        auto got = s.attachmentsOf("dev-00000001", "rec-1");
        REQUIRE(got.size() == 1);
        CHECK(got[0].attachmentId == "att-1");
        CHECK(got[0].deviceId == "dev-00000001");
        CHECK(got[0].mediaType == "image/jpeg");
        CHECK(got[0].totalBytes == d1.size() + d2.size());
        CHECK(got[0].chunkHashes == row.chunkHashes);
        CHECK(got[0].committedAt == 500);
        CHECK(s.attachmentsOf("dev-00000001", "rec-2").empty());
        CHECK(s.attachmentsOf("dev-00000002", "rec-1").empty());
        CHECK(s.countAudit() == 1);
        requireIntact(s);

        // Another device's attachment under the same id is its own: the first is not hidden.
        AttachmentRow other{"rec-1", "att-1", "dev-00000002", "image/png", d2.size(), {h2}, 600};
        s.putAttachment(other, op("attachment", "att-1"));
        REQUIRE(s.attachmentsOf("dev-00000001", "rec-1").size() == 1);
        auto theirs = s.attachmentsOf("dev-00000002", "rec-1");
        REQUIRE(theirs.size() == 1);
        CHECK(theirs[0].mediaType == "image/png");
        CHECK(s.countAudit() == 2);
    }

    SECTION("chunks: uncommitted ones are dropped after their age; committed ones stay") {
        std::vector<uint8_t> kept(32, 0x44), stale(32, 0x55), young(32, 0x66);
        s.putChunk(kept, bytes("a photo's only chunk"), 1000);
        s.putChunk(stale, bytes("sent and never committed"), 1000);
        s.putChunk(young, bytes("sent a moment ago"), 5000);
        s.putAttachment({"rec-1", "att-1", "dev-00000001", "image/jpeg", 20, {kept}, 1500}, op("attachment", "att-1"));
        CHECK(s.dropUncommittedChunks(1000) == 0);  // nothing before 1000
        CHECK(s.dropUncommittedChunks(4000) == 1);
        CHECK(s.haveChunks({kept, stale, young}) == std::vector<bool>{true, false, true});
        CHECK(s.dropUncommittedChunks(4000) == 0);
        CHECK(s.dropUncommittedChunks(9000) == 1);
        CHECK(s.haveChunks({kept, young}) == std::vector<bool>{true, false});
        CHECK(*s.readChunk(kept) == bytes("a photo's only chunk"));
    }

    SECTION("audit: the chain is intact after every kind of change, and verify sees tampering") {
        s.addEnrolmentCode(code("c1"), op("enrolment-code", "Asha Verma"));
        REQUIRE(s.redeemEnrolmentCode("c1", newDevice("dev-00000001", 1), 500, nullptr) == RedeemOutcome::Enrolled);
        REQUIRE(s.putTemplate({"t", "1", "{}", bytes("s"), 300}, op("published", "t@1")));
        s.putRegister({unit("u1", "A", "one")}, op("register", "1"));
        REQUIRE(s.putVisits({visit("rec-1", 1, 600), visit("rec-2", 2, 601), visit("rec-3", 3, 602)}).size() == 3);
        s.addComment({"rec-1", "check", 700}, "dev-00000001", op("comment", "rec-1", 700));
        s.putAttachment({"rec-1", "att-1", "dev-00000001", "image/jpeg", 1, {std::vector<uint8_t>(32, 1)}, 800},
                        op("attachment", "att-1"));
        s.appendAudit({900, "import", "operator", "bundle-1.ckb", "3 visits"});
        REQUIRE(s.revokeDevice("dev-00000001", 950, op("revoked", "dev-00000001", 950)));

        auto entries = auditEntries(s);
        REQUIRE(entries.size() == 11);
        for (size_t i = 0; i < entries.size(); ++i) {
            CHECK(entries[i].seq == i + 1);
            CHECK(entries[i].prevHash == (i ? entries[i - 1].hash : kAuditGenesis));
            CHECK(entries[i].hash == auditHash(entries[i]));
        }
        CHECK(entries[9].action == "import");
        CHECK(entries[9].subject == "bundle-1.ckb");
        CHECK(entries[9].at == 900);
        AuditReport clean = verifyAuditChain(s);
        CHECK(clean.problems.empty());
        CHECK(clean.entries == 11);
        CHECK(clean.headHash == entries.back().hash);
        CHECK(verifyAuditChain(s, clean.headHash).problems.empty());
        CHECK(verifyAuditChain(s, entries[4].hash).problems.empty());  // noted earlier; the log grew since

        int calls = 0;
        s.forEachAudit([&](const AuditEntry&) { return ++calls < 3; });
        CHECK(calls == 3);

        SECTION("an edited row") {
            rawSql("UPDATE audit SET detail = 'tampered' WHERE seq = 6");
            AuditReport r = verifyAuditChain(s);
            REQUIRE_FALSE(r.problems.empty());
            CHECK(r.problems[0].seq == 6);
            CHECK(mentions(r, "edited"));
        }
        SECTION("a deleted row") {
            rawSql("DELETE FROM audit WHERE seq = 4");
            AuditReport r = verifyAuditChain(s);
            REQUIRE_FALSE(r.problems.empty());
            CHECK(r.problems[0].seq == 4);
            CHECK(mentions(r, "missing"));
            CHECK(r.entries == 10);
        }
        SECTION("the last rows deleted: seen only against the head noted earlier") {
            rawSql("DELETE FROM audit WHERE seq >= 10");
            CHECK(verifyAuditChain(s).problems.empty());
            AuditReport r = verifyAuditChain(s, clean.headHash);
            CHECK(mentions(r, clean.headHash));
        }
        SECTION("a visit changed behind the log's back") {
            rawSql("UPDATE visits SET content_hash = '" + hashOf(99, 'f') + "' WHERE record_id = 'rec-2'");
            AuditReport r = verifyAuditChain(s);
            REQUIRE(r.problems.size() == 1);
            CHECK(mentions(r, "rec-2"));
        }
        SECTION("a visit's stored record rewritten, its content hash left as it was") {
            rawSql("UPDATE visits SET cluster = 'a-cluster-it-never-was' WHERE record_id = 'rec-3'");
            AuditReport r = verifyAuditChain(s);
            REQUIRE(r.problems.size() == 1);
            CHECK(mentions(r, "rec-3"));
            CHECK(mentions(r, "rewritten"));
        }
        SECTION("a stored visit deleted") {
            rawSql("DELETE FROM visits WHERE record_id = 'rec-1'");
            AuditReport r = verifyAuditChain(s);
            REQUIRE(r.problems.size() == 1);
            CHECK(mentions(r, "rec-1"));
            CHECK(mentions(r, "deleted"));
        }
    }

    SECTION("concurrency: 4 threads putting overlapping batches store each record once, chain intact") {
        constexpr int kRecords = 200, kThreads = 4, kBatch = 20;
        std::atomic<int> stored{0}, duplicates{0}, conflicts{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back([&, t] {
                // Each thread walks all records from its own starting point, so batches overlap.
                for (int b = 0; b < kRecords / kBatch; ++b) {
                    std::vector<StoredVisit> batch;
                    for (int i = 0; i < kBatch; ++i) {
                        int k = (t * 50 + b * kBatch + i) % kRecords;
                        batch.push_back(visit("rec-" + std::to_string(k), k, 1000 + k));
                    }
                    for (PutOutcome o : s.putVisits(batch)) {
                        (o == PutOutcome::Stored ? stored : o == PutOutcome::Duplicate ? duplicates : conflicts)++;
                    }
                }
            });
        }
        for (auto& th : threads) th.join();
        CHECK(stored == kRecords);
        CHECK(duplicates == kRecords * (kThreads - 1));
        CHECK(conflicts == 0);
        CHECK(s.countVisits() == uint64_t(kRecords));
        CHECK(s.countAudit() == uint64_t(kRecords * kThreads));
        requireIntact(s);
    }
}
