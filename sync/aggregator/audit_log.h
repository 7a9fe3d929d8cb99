#pragma once
// The hash chain behind the audit log. Backends call chainEntry() inside the transaction
// that appends; `audit verify` calls verifyAuditChain() over every entry.
#include <cstdint>
#include <string>
#include <string_view>
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
// Checks every entry (edited: hash mismatch; deleted or moved: seq gap or prevHash mismatch)
// and that every stored visit has a "stored" entry for its record id and content hash.
// Deleting the LAST entries leaves a shorter chain that is still intact: the operator notes
// report.headHash and passes it later as `expectedHead`, which must still be an entry of the
// chain (the log may have grown since). Empty: not checked.
AuditReport verifyAuditChain(AggregatorStorage& storage);
AuditReport verifyAuditChain(AggregatorStorage& storage, std::string_view expectedHead);

}  // namespace ck::agg
