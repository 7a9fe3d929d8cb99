#pragma once
// The hash chain behind the audit log. Backends call chainEntry() inside the transaction
// that appends; `audit verify` calls verifyAuditChain() over every entry.
#include <cstdint>
#include <string>
#include <vector>

#include "sync/aggregator/storage.h"

namespace ck::agg {

inline const std::string kAuditGenesis(64, '0');

// hash = BLAKE2b-256 hex of a domain string ("clusterkit/audit/v1\0"), then seq (u64 LE),
// at (i64 LE), action, actor, subject, detail, prevHash (each u32 LE length + bytes).
std::string auditHash(const AuditEntry& entry);
// The next entry after `previous` (nullptr: the first): seq, prevHash and hash filled in.
AuditEntry chainEntry(const AuditEntry* previous, const AuditEvent& event);

struct AuditProblem {
    uint64_t seq = 0;     // where the chain breaks
    std::string message;  // "entry 4182: its hash does not match its contents (edited)", "entry 77 is missing (deleted)", ...
};
struct AuditReport {
    uint64_t entries = 0;
    std::string headHash;
    std::vector<AuditProblem> problems;  // empty: the chain is intact
};
AuditReport verifyAuditChain(AggregatorStorage& storage);

}  // namespace ck::agg
