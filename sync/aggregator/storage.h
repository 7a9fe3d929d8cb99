#pragma once
// AggregatorStorage: everything the aggregator keeps, behind one interface with two backends:
//   SqliteStorage   a data folder holding aggregator.db (the default; nothing to install)
//   PostgresStorage a PostgreSQL database (several stateless `serve` processes share it)
// The same test suite (tests/sync/aggregator/storage/storage_contract.*) runs against both.
//
// Contract for every backend:
//  - Each mutating call is one transaction: it happens whole or not at all.
//  - A visit is known by (deviceId, recordId): record ids are chosen by devices and can be
//    read off anyone's USB bundle, so one device's id never touches another device's visit
//    (the same id from two devices is two visits, kept apart).
//  - putVisits is idempotent on (deviceId, recordId, contentHash): the same visit twice is
//    Duplicate, another content under an id the device already used is Conflict; neither
//    changes the stored visit.
//  - Every call that changes what was received or who may send (visits, refusals, enrolment,
//    revocation, publication, register loads, bundle imports) appends to the audit log in the
//    same transaction. The log is a hash chain (audit_log.h); appends are serialised across
//    processes (PostgreSQL: an advisory transaction lock), so the chain never forks.
//  - Safe to call from several threads at once (the server's worker pool).
//  - A failure of the storage itself throws StorageFailure with a message for the operator;
//    the transaction is rolled back.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/register/cluster_register.h"

namespace ck::agg {

struct StorageFailure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct DeviceRow {
    std::string deviceId;                  // "dev-" + 8 hex of the key's hash; unique
    std::vector<uint8_t> publicKey;        // Ed25519, 32; unique
    std::string label;
    std::string officer;
    std::string cluster;
    int64_t enrolledAt = 0;
    int64_t revokedAt = 0;                 // 0: active
};

struct EnrolmentCodeRow {
    std::string codeHash;  // BLAKE2b-256 hex of the code: the code itself is never stored
    std::string officer;
    std::string cluster;
    int64_t issuedAt = 0;
    int64_t expiresAt = 0;
    int64_t usedAt = 0;        // 0: unused
    std::string usedByDevice;  // deviceId once used
};

enum class RedeemOutcome : uint8_t { Enrolled, Unknown, Expired, AlreadyUsed, KeyAlreadyEnrolled };

// A visit as stored: the envelope exactly as received (still sealed and signed: the evidence)
// and the opened main record without its personal answers (what reports and exports read).
struct StoredVisit {
    std::string recordId;
    std::string contentHash;  // hex
    std::string parentId;
    std::string templateId;
    std::string templateVersion;
    std::string deviceId;
    std::string cluster;      // the device's cluster at ingest
    int64_t receivedAt = 0;
    std::vector<uint8_t> envelope;  // encodeEnvelope()
    std::vector<uint8_t> record;    // serializeRecord() of the main record, pii answers removed
    // From what the aggregator knows, not from answers: the size class the register gives the
    // visit's assigned unit (its assignment token, Record::assignment), which the report
    // weights it by; "" for a visit with no assignment (the report reads its answers).
    std::string registerStratum;
    // Why the visit is held for review ("" when it is not): its answers put the unit in another
    // size class than the register's, or it names no assigned unit (found in the field).
    std::string review;
    // visitAuditDetail() of this visit when the caller made it already (ingest does, on its
    // worker threads, so the digest is not computed under the storage's write lock); "": the
    // storage makes it. Not stored: the "stored" audit entry is its only copy.
    std::string auditDetail;
};
enum class PutOutcome : uint8_t { Stored, Duplicate, Conflict };

// What a walk over the stored visits reads. A report reads the record, never the envelope
// (the evidence, about as large), and its first pass, for corrections, reads neither: at a
// million visits copying bytes nobody reads is seconds of a rebuild.
enum class VisitParts : uint8_t {
    All,         // envelope and record
    Record,      // the record; envelope left empty
    Metadata,    // ids, template, device, cluster, time; envelope and record left empty
};

struct PublishedTemplate {
    std::string templateId;
    std::string version;
    std::string jsonText;
    std::vector<uint8_t> signature;
    int64_t publishedAt = 0;
};

// One row of the cluster register (`assign`): the units to visit, and later the weights.
using RegisterUnit = ck::RegisterUnit;

struct ReviewCommentRow {
    std::string recordId;
    std::string text;
    int64_t at = 0;
};

// The feed a device reads with UpdatesRequest: a global sequence; each item is for every
// device ("" cluster) or for one cluster's devices.
enum class FeedKind : uint8_t { Template = 1, Assignment = 2, Comment = 3 };
struct FeedItem {
    uint64_t seq = 0;
    FeedKind kind = FeedKind::Template;
    std::string cluster;  // "" for everyone
    std::string deviceId; // Comment: the device whose record it is ("" otherwise)
    std::string key;      // Template: "id@version"; Assignment: unit id; Comment: record id
};

struct AttachmentRow {
    std::string recordId;
    std::string attachmentId;
    std::string deviceId;
    std::string mediaType;
    uint64_t totalBytes = 0;
    std::vector<std::vector<uint8_t>> chunkHashes;
    int64_t committedAt = 0;
};
// Attachments are known by (deviceId, attachmentId), like visits.

// An audit entry. `hash` = BLAKE2b-256 over prevHash and the fields (audit_log.h); the first
// entry's prevHash is 64 zeros.
struct AuditEntry {
    uint64_t seq = 0;
    int64_t at = 0;
    std::string action;   // "stored", "duplicate", "refused", "enrolled", "revoked", "published", "register", "comment", "attachment", "import"
    std::string actor;    // deviceId, or "operator"
    std::string subject;  // record id, device id, template id@version, ...
    std::string detail;   // content hash, refusal reason, counts ...
    std::string prevHash;
    std::string hash;
};
// What a caller asks to append; the backend fills seq, prevHash and hash inside its transaction.
struct AuditEvent {
    int64_t at = 0;
    std::string action;
    std::string actor;
    std::string subject;
    std::string detail;
};

class AggregatorStorage {
public:
    virtual ~AggregatorStorage() = default;
    virtual std::string describe() const = 0;  // "SQLite /srv/ck/aggregator.db", "PostgreSQL db@host" (no password)

    // --- enrolment and devices ---
    virtual void addEnrolmentCode(const EnrolmentCodeRow& code, const AuditEvent& audit) = 0;
    // Atomically: checks the code (unknown / expired at `now` / already used) and the key (not
    // enrolled yet), then marks the code used and adds the device. On Enrolled, *device is filled.
    virtual RedeemOutcome redeemEnrolmentCode(std::string_view codeHash, const DeviceRow& newDevice, int64_t now,
                                              DeviceRow* device) = 0;
    virtual std::optional<DeviceRow> findDevice(const std::vector<uint8_t>& publicKey) = 0;
    virtual std::optional<DeviceRow> findDeviceById(std::string_view deviceId) = 0;
    virtual std::vector<DeviceRow> listDevices() = 0;
    virtual bool revokeDevice(std::string_view deviceId, int64_t now, const AuditEvent& audit) = 0;

    // --- visits ---
    // One transaction for the whole batch: outcomes in input order; an audit entry per visit
    // ("stored" with detail visitAuditDetail(), "duplicate" with the content hash, or
    // "refused" for Conflict with detail "conflict").
    virtual std::vector<PutOutcome> putVisits(const std::vector<StoredVisit>& visits) = 0;
    // The first received visit with that record id, whichever device sent it.
    virtual std::optional<StoredVisit> findVisit(std::string_view recordId) = 0;
    // The devices that sent a visit with that record id, first received first (an id read off
    // someone's USB bundle can be another device's too: operators name the device then).
    virtual std::vector<std::string> devicesWithVisit(std::string_view recordId) = 0;
    // That device's visit with that record id.
    virtual std::optional<StoredVisit> findDeviceVisit(std::string_view deviceId, std::string_view recordId) = 0;
    virtual uint64_t countVisits() = 0;
    // Visits held for review (StoredVisit::review set), newest first, at most `limit`, without
    // their envelope and record bytes; and how many there are.
    virtual std::vector<StoredVisit> visitsForReview(size_t limit) = 0;
    virtual uint64_t countForReview() = 0;
    // Every stored visit in receivedAt, recordId, deviceId order; return false from fn to stop.
    // `parts`: which of the two large fields to read; those not read are left empty.
    virtual void forEachVisit(const std::function<bool(const StoredVisit&)>& fn, VisitParts parts = VisitParts::All) = 0;

    // --- templates, register, comments: and the feed devices read ---
    virtual bool putTemplate(const PublishedTemplate& t, const AuditEvent& audit) = 0;  // false: that id@version exists
    virtual std::optional<PublishedTemplate> findTemplate(std::string_view id, std::string_view version) = 0;
    virtual std::vector<PublishedTemplate> listTemplates() = 0;
    // Adds or replaces units by unitId; each change goes into the feed for its cluster.
    virtual void putRegister(const std::vector<RegisterUnit>& units, const AuditEvent& audit) = 0;
    virtual std::vector<RegisterUnit> listRegister() = 0;
    virtual std::optional<RegisterUnit> findUnit(std::string_view unitId) = 0;
    // The units of these ids that are on the register, by id, in one read: ingest looks up
    // the units a batch of visits names together (a read of its own per visit cost more than
    // the lookup).
    virtual std::map<std::string, RegisterUnit> findUnits(const std::vector<std::string>& unitIds) = 0;
    // A comment on `deviceId`'s visit comment.recordId; only that device is sent it.
    virtual void addComment(const ReviewCommentRow& comment, std::string_view deviceId, const AuditEvent& audit) = 0;
    virtual std::vector<ReviewCommentRow> commentsFor(std::string_view deviceId, std::string_view recordId) = 0;
    // Feed items after `cursor` meant for `cluster` ("" items and that cluster's) or for
    // `deviceId` (comments), at most `limit`, in seq order.
    virtual std::vector<FeedItem> feedSince(uint64_t cursor, std::string_view cluster, std::string_view deviceId,
                                            size_t limit) = 0;

    // --- attachments ---
    // Idempotent. A chunk no attachment names yet is "uncommitted": dropUncommittedChunks
    // removes those stored before a time, so chunks sent and never committed do not pile up.
    virtual void putChunk(const std::vector<uint8_t>& hash, const std::vector<uint8_t>& data, int64_t storedAt) = 0;
    virtual std::vector<bool> haveChunks(const std::vector<std::vector<uint8_t>>& hashes) = 0;
    virtual std::optional<std::vector<uint8_t>> readChunk(const std::vector<uint8_t>& hash) = 0;
    // Idempotent on (deviceId, attachmentId); marks the chunks it names committed.
    virtual void putAttachment(const AttachmentRow& row, const AuditEvent& audit) = 0;
    // Deletes uncommitted chunks stored before `storedBefore`; returns how many.
    virtual uint64_t dropUncommittedChunks(int64_t storedBefore) = 0;
    // That device's attachments of its visit `recordId`.
    virtual std::vector<AttachmentRow> attachmentsOf(std::string_view deviceId, std::string_view recordId) = 0;

    // --- audit log ---
    virtual void appendAudit(const AuditEvent& event) = 0;
    // Every entry in seq order; return false from fn to stop.
    virtual void forEachAudit(const std::function<bool(const AuditEntry&)>& fn) = 0;
    virtual uint64_t countAudit() = 0;
    // The last entry (the chain's head), if any.
    virtual std::optional<AuditEntry> auditHead() = 0;
};

// What a "stored" audit entry says of a visit: its content hash, then a digest of the row as
// stored (device, ids, template, cluster, arrival, envelope and record bytes, and the register
// stratum and review note when set), so `audit verify` notices a stored visit rewritten behind
// the log's back. "HASH row2 DIGEST" (SHA-256).
// `storedAsSealed`: the stored record is byte for byte the main part the device sealed (its
// personal answers sealed apart, its calculations as recomputed here), so the envelope, which
// names that part's hash, binds it and the digest leaves its bytes out ("HASH row2-as-sealed
// DIGEST"); `audit verify` then checks the record against the envelope's hash.
std::string visitAuditDetail(const StoredVisit& visit, bool storedAsSealed = false);
// The digest entries carried before version 2 ("HASH row DIGEST": BLAKE2b, the record's bytes
// in the digest itself), which `audit verify` still checks them by.
std::string visitAuditDetailV1(const StoredVisit& visit);

// "postgresql://..." or "postgres://..." -> PostgresStorage; "sqlite:PATH", or a plain path
// -> SqliteStorage on the folder PATH (aggregator.db inside it, created when missing).
// Throws StorageFailure with a message the operator can act on (cannot connect, newer
// schema, not a ClusterKit database ...).
std::unique_ptr<AggregatorStorage> openStorage(std::string_view url);

}  // namespace ck::agg
