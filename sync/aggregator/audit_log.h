#pragma once
// The hash chain behind the audit log. Backends call chainEntry() inside the transaction
// that appends; `audit verify` calls verifyAuditChain() over every entry.
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto/secret_bytes.h"
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
    std::vector<std::string> notes;      // worth knowing, not a break (entries not yet under a signed head)
};

// The signed head: the chain's last entry (seq, hash) signed with the project's signing key
// (the one devices trust for templates), written to a file in the data folder each time the
// chain grows through ingest. Whoever rewrites the database can recompute every hash of the
// chain, but cannot sign the new head without the key (and the admin passphrase).
inline constexpr const char* kAuditHeadFileName = "audit-head.txt";
struct SignedAuditHead {
    uint64_t seq = 0;
    std::string hash;
    int64_t signedAt = 0;
    std::vector<uint8_t> signature;  // Ed25519 over auditHeadSigningBytes()
};
std::vector<uint8_t> auditHeadSigningBytes(uint64_t seq, std::string_view hash, int64_t signedAt);

// Keeps the head file current: refresh() reads the storage's head and, when it is newer than
// the one last written, signs it and replaces the file (write, then rename: never half a file).
// Safe from several threads.
class AuditHeadSigner {
public:
    AuditHeadSigner(std::filesystem::path file, const SecretBytes& signingSecretKey);
    void refresh(AggregatorStorage& storage, int64_t now);

private:
    std::filesystem::path m_file;
    SecretBytes m_secret;  // its own guarded copy of the Ed25519 secret key
    std::mutex m_mutex;
    uint64_t m_written = 0;
};

// Where verify finds the signed head and the key that must have signed it.
struct AuditHeadCheck {
    std::filesystem::path file;
    std::vector<uint8_t> signingPublicKey;  // Ed25519, 32
};

// Checks every entry (edited: hash mismatch; deleted or moved: seq gap or prevHash mismatch);
// that every stored visit has a "stored" entry for its device, record id and content hash,
// whose row digest (visitAuditDetail) still matches the row (rewritten behind the log's back);
// and that every "stored" entry still has its visit (deleted behind the log's back).
// Deleting the LAST entries leaves a shorter chain that is still intact: the operator notes
// report.headHash and passes it later as `expectedHead`, which must still be an entry of the
// chain (the log may have grown since). Empty: not checked. With `head`, the signed head file
// must verify under the key and name an entry of the chain (a chain recomputed after a
// rewrite does not).
AuditReport verifyAuditChain(AggregatorStorage& storage);
AuditReport verifyAuditChain(AggregatorStorage& storage, std::string_view expectedHead,
                             const AuditHeadCheck* head = nullptr);

}  // namespace ck::agg
