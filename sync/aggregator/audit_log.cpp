#include "sync/aggregator/audit_log.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <unordered_set>

namespace ck::agg {

namespace {

constexpr char kAuditDomain[] = "clusterkit/audit/v1";  // hashed with its terminating zero

void absorbU64(crypto_generichash_state& st, uint64_t v) {
    std::array<unsigned char, 8> le{};
    for (size_t i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(v >> (8 * i));
    crypto_generichash_update(&st, le.data(), le.size());
}

void absorbText(crypto_generichash_state& st, std::string_view s) {
    // Length-prefixed, so no two different field lists hash the same bytes.
    uint32_t n = static_cast<uint32_t>(s.size());
    std::array<unsigned char, 4> le{};
    for (size_t i = 0; i < 4; ++i) le[i] = static_cast<unsigned char>(n >> (8 * i));
    crypto_generichash_update(&st, le.data(), le.size());
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

// A visit is accounted for when a "stored" entry names its record id and content hash.
std::string visitKey(std::string_view recordId, std::string_view contentHash) {
    std::string k;
    k.reserve(recordId.size() + 1 + contentHash.size());
    k.append(recordId).push_back('\n');
    k.append(contentHash);
    return k;
}

}  // namespace

std::string auditHash(const AuditEntry& e) {
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 32);
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(kAuditDomain), sizeof kAuditDomain);
    absorbU64(st, e.seq);
    absorbU64(st, static_cast<uint64_t>(e.at));
    absorbText(st, e.action);
    absorbText(st, e.actor);
    absorbText(st, e.subject);
    absorbText(st, e.detail);
    absorbText(st, e.prevHash);
    std::array<unsigned char, 32> out{};
    crypto_generichash_final(&st, out.data(), out.size());
    std::array<char, 65> hex{};
    sodium_bin2hex(hex.data(), hex.size(), out.data(), out.size());
    return std::string(hex.data(), 64);
}

AuditEntry chainEntry(const AuditEntry* previous, const AuditEvent& event) {
    AuditEntry e;
    e.seq = previous ? previous->seq + 1 : 1;
    e.at = event.at;
    e.action = event.action;
    e.actor = event.actor;
    e.subject = event.subject;
    e.detail = event.detail;
    e.prevHash = previous ? previous->hash : kAuditGenesis;
    e.hash = auditHash(e);
    return e;
}

AuditReport verifyAuditChain(AggregatorStorage& storage) { return verifyAuditChain(storage, {}); }

AuditReport verifyAuditChain(AggregatorStorage& storage, std::string_view expectedHead) {
    AuditReport report;
    uint64_t expectedSeq = 1;
    std::string prevHash = kAuditGenesis;
    bool expectedHeadSeen = expectedHead.empty();
    std::unordered_set<std::string> storedVisits;
    // Stop listing after this many: a wholesale rewrite would otherwise print millions of lines.
    constexpr size_t kMaxProblems = 1000;
    auto problem = [&](uint64_t seq, std::string message) {
        if (report.problems.size() < kMaxProblems) report.problems.push_back({seq, std::move(message)});
    };

    storage.forEachAudit([&](const AuditEntry& e) {
        ++report.entries;
        if (e.seq > expectedSeq) {
            uint64_t missing = e.seq - expectedSeq;
            problem(expectedSeq, missing == 1
                                     ? "entry " + std::to_string(expectedSeq) + " is missing (deleted)"
                                     : "entries " + std::to_string(expectedSeq) + " to " + std::to_string(e.seq - 1) +
                                           " are missing (deleted)");
        } else if (e.seq < expectedSeq) {
            problem(e.seq, "entry " + std::to_string(e.seq) + " appears out of order (the log was rearranged)");
        }
        if (auditHash(e) != e.hash) {
            problem(e.seq, "entry " + std::to_string(e.seq) + ": its hash does not match its contents (edited)");
        }
        if (e.prevHash != prevHash) {
            problem(e.seq, "entry " + std::to_string(e.seq) +
                               ": it does not follow the entry before it (an entry before it was deleted, "
                               "edited or moved)");
        }
        if (!expectedHeadSeen && e.hash == expectedHead) expectedHeadSeen = true;
        if (e.action == "stored") storedVisits.insert(visitKey(e.subject, e.detail));
        prevHash = e.hash;
        expectedSeq = std::max(expectedSeq, e.seq + 1);
        return true;
    });
    report.headHash = report.entries ? prevHash : std::string();

    if (!expectedHeadSeen) {
        problem(expectedSeq, "the entry with hash " + std::string(expectedHead) +
                                 " noted earlier is not in the log (entries at its end were deleted, or the "
                                 "log was replaced)");
    }
    storage.forEachVisit([&](const StoredVisit& v) {
        if (!storedVisits.count(visitKey(v.recordId, v.contentHash))) {
            problem(0, "visit " + v.recordId + " (content " + v.contentHash +
                           ") has no \"stored\" entry in the log (added behind the log's back)");
        }
        return true;
    });
    return report;
}

}  // namespace ck::agg
