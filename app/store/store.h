#pragma once
// The officer's encrypted local store: one SQLite file per officer holding templates, visits
// (drafts and finished records), attachments, assignments and the outbox of sealed records.
//
// Nothing an officer typed is readable in the file without the passphrase: every payload is
// sealed (XChaCha20-Poly1305) under the vault's data key, bound to its kind, row id and row
// version (see schema.h). The file runs in WAL mode with synchronous=FULL: a save that has
// returned survives a crash or a flat battery.
//
// Failure tiers (STYLE.md):
//  - calling a data operation on a locked store is a programmer error (asserts);
//  - expected failures (wrong passphrase, unknown visit, invalid answers, a record whose
//    stored bytes fail their integrity check, an outbox step out of order) are returned as a
//    StoreFailure naming what went wrong; the store is unchanged;
//  - a failure of the storage itself (disk full, I/O error, a page corrupted under us) throws
//    StorageError (sqlite_handle.h). The transaction is rolled back: earlier saves stay intact.
//
// One Store object per file per process; not thread-safe (the app calls it from one task
// queue). Other processes may open the same file: SQLite's locks serialise them.
#include <cassert>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "app/store/sqlite_handle.h"
#include "core/crypto/envelope.h"
#include "core/crypto/vault.h"
#include "core/form/form_session.h"
#include "core/record/record.h"
#include "core/template/template_loader.h"

namespace ck {

enum class StoreError : uint8_t {
    NoStore,            // open(): no file at the path
    AlreadyExists,      // create(): a file is already there
    NotAStore,          // open(): the file is not a ClusterKit store
    Damaged,            // open(): the file is truncated or corrupt
    NewerSchema,        // open(): written by a newer ClusterKit
    PassphrasesDiffer,  // create()/changePassphrase(): the two entries differ
    WeakPassphrase,     // the message says why
    WrongPassphrase,    // nothing was changed
    VaultDamaged,       // the vault record cannot be read (not a wrong passphrase)
    TemplateInvalid,    // importTemplate(): templateErrors holds every error; nothing stored
    TemplateConflict,   // the same template id and version with different content
    UnknownTemplate,
    UnknownVisit,
    WrongStatus,        // e.g. saving over a finished record, correcting a draft
    SessionMismatch,    // the FormSession is for another visit or template
    VisitInvalid,       // finalise(): problems holds every open problem; still a draft
    IntegrityFailure,   // stored bytes fail their integrity check (tampered or damaged)
    BadKey,             // a public key that is not 32 bytes, or all zero
    NotInOutbox,
    IllegalTransition,  // an outbox step out of order (e.g. acknowledged before sent)
    UnknownAttachment,
};

struct StoreFailure {
    StoreError error;
    std::string message;                        // for the officer; never holds a secret
    std::vector<Problem> problems;              // VisitInvalid
    std::vector<TemplateError> templateErrors;  // TemplateInvalid
    std::optional<PassphraseProblem> weakness;  // WeakPassphrase: why, for the app to word
};

// Either a value or the StoreFailure that prevented it.
template <class T>
class [[nodiscard]] StoreResult {
public:
    StoreResult(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
    StoreResult(StoreFailure failure) : m_v(std::in_place_index<1>, std::move(failure)) {}
    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & {
        assert(ok() && "value() of a failed StoreResult: check ok() first");
        return std::get<0>(m_v);
    }
    const T& value() const& {
        assert(ok() && "value() of a failed StoreResult: check ok() first");
        return std::get<0>(m_v);
    }
    T&& value() && {
        assert(ok() && "value() of a failed StoreResult: check ok() first");
        return std::get<0>(std::move(m_v));
    }
    const StoreFailure& failure() const {
        assert(!ok() && "failure() of a successful StoreResult");
        return std::get<1>(m_v);
    }
    // The failure's message, or "" when ok: handy in logs and tests.
    std::string message() const { return ok() ? std::string() : failure().message; }

private:
    std::variant<T, StoreFailure> m_v;
};
struct Done {};
using StoreStatus = StoreResult<Done>;

enum class VisitStatus : uint8_t { Draft, Finished };
const char* visitStatusName(VisitStatus status);

enum class OutboxState : uint8_t { AwaitingKey, Queued, Sent, Acknowledged, Duplicate, Refused };
const char* outboxStateName(OutboxState state);
std::optional<OutboxState> outboxStateFromName(std::string_view name);

struct TemplateInfo {
    std::string storeId;  // opaque row id (BLAKE2b of the JSON text)
    std::string id;       // the template's own id and version
    std::string version;
    std::string title;    // in the template's default language
    int64_t importedAt = 0;
    std::string error;    // non-empty: the stored template fails its integrity check
    std::vector<std::string> languages;  // the template's languages, default first
};

struct VisitSummary {
    std::string id;
    VisitStatus status = VisitStatus::Draft;
    int64_t createdAt = 0;
    int64_t updatedAt = 0;
    std::string parentId;
    // From the decrypted record (empty when `error` is set):
    std::string templateId, templateVersion;
    std::string title;  // see visitTitle()
    size_t answerCount = 0;
    std::string error;  // "visit X: stored data fails its integrity check"; the rest still lists
};

struct OutboxEntry {
    std::string recordId;
    OutboxState state = OutboxState::Queued;
    std::string contentHash;
    std::string reason;  // why the aggregator refused it, in its own (English) words (Refused only)
    // The aggregator's refusal code ("conflict", "unknown_template", ...: sync/protocol's
    // refusalReasonName), which the app words in the officer's language; "" when it sent none
    // or the entry was refused before codes were kept.
    std::string refusalCode;
    int64_t queuedAt = 0;
    int64_t updatedAt = 0;
    int64_t acknowledgedAt = 0;  // 0 until acknowledged or duplicate
    std::string error;           // the refusal reason fails its integrity check
};

struct FinaliseReceipt {
    std::string recordId;
    OutboxState state = OutboxState::Queued;  // Queued, or AwaitingKey when no aggregator key is set
    std::string contentHash;
    bool personalSealedApart = false;  // a custodian key took the personal fields
};

struct ResumedVisit {
    FormSession session;
    std::vector<std::string> notes;  // answers the template version no longer takes
};

struct Attachment {
    std::string id;
    std::string visitId;
    std::string mediaType;
    std::string bytes;
    int64_t createdAt = 0;
};

struct AssignmentEntry {
    std::string id;
    std::string json;  // what the aggregator sent: unit name, address, ... (encrypted at rest)
    int64_t updatedAt = 0;
    std::string error;
};

// What enrolment with an aggregator left on the device (encrypted at rest like every payload):
// where to sync, whose key to trust, and how far the device has read the aggregator's feed.
struct SyncSettings {
    std::string serverUrl;       // "https://10.0.0.5:8443"
    std::string publicKeyPin;    // "sha256//...": the server's TLS key, from the enrolment slip
    std::string deviceId, officer, cluster, aggregatorName;  // as the aggregator named them
    std::vector<uint8_t> templateSigningKey;  // Ed25519, 32: templates must verify under it
    uint64_t cursor = 0;                      // the feed position to ask updates from
};

struct ReviewCommentEntry {
    std::string id;        // opaque row id
    std::string recordId;  // the finished visit it is about
    std::string text;      // the reviewer's words (encrypted at rest)
    int64_t at = 0;        // when the reviewer wrote it
    std::string error;     // the stored text fails its integrity check
};

// An attachment of a finished visit the aggregator has acknowledged, not yet uploaded.
struct PendingAttachment {
    std::string id;
    std::string visitId;
};

struct Settings {
    int64_t purgeAfterDays = 90;  // acknowledged records older than this may be purged
    std::string titleQuestion = "unit_name";  // the answer a visit is listed under
};

// The text a visit is listed under: the answer to `titleQuestion` when it is text, else the
// value of an 'instance_name' calculation (an XLSForm's instance_name), else the first text
// answer, else "".
std::string visitTitle(const Record& record, std::string_view titleQuestion);

class Store {
public:
    // A new store at `file` (its folder must exist). Unlocked on success.
    static StoreResult<Store> create(const std::filesystem::path& file, std::string_view passphrase,
                                     std::string_view confirmation, KdfParams kdf = {});
    // Opens an existing store, migrating an older schema. Locked: call unlock().
    static StoreResult<Store> open(const std::filesystem::path& file);

    Store(Store&&) noexcept = default;
    Store& operator=(Store&&) noexcept = default;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;
    ~Store();

    // Wrong passphrase: WrongPassphrase, nothing changes.
    [[nodiscard]] StoreStatus unlock(std::string_view passphrase);
    // Wipes the keys and the decrypted templates held in memory.
    void lock();
    bool isUnlocked() const { return m_keys != nullptr; }
    // Re-wraps the data key under a new passphrase (stored data is not re-encrypted).
    [[nodiscard]] StoreStatus changePassphrase(std::string_view oldPassphrase, std::string_view newPassphrase,
                                               std::string_view confirmation);

    const std::filesystem::path& file() const { return m_file; }
    int schemaVersion();
    // The device identity (Ed25519 public key); readable while locked.
    const std::vector<uint8_t>& devicePublicKey() const { return m_vault.signingPublicKey; }

    // Caps the database at about `bytes` for this connection (PRAGMA max_page_count; never
    // below its current size): a device shared with other apps can keep the store from
    // filling it, and tests simulate a full disk with it. A save past the cap throws
    // StorageError(DiskFull) and changes nothing.
    void setMaxFileBytes(uint64_t bytes);

    // Folds the WAL into the database file and empties it (wal_checkpoint(TRUNCATE)): for
    // idle moments, such as the app going to the background. Works while locked. Saves are
    // durable without it; SQLite also checkpoints by itself as the WAL grows.
    void checkpoint();

    // --- settings and keys (unlocked) ---
    Settings settings();
    void setSettings(const Settings& settings);
    // Sets the aggregator's X25519 public key, then seals every finished record waiting for
    // it and re-seals queued (never sent) ones to it. Returns how many were sealed.
    [[nodiscard]] StoreResult<int> setAggregatorKey(const std::vector<uint8_t>& publicKey);
    std::optional<std::vector<uint8_t>> aggregatorKey();
    // The device's sync enrolment (see SyncSettings); nullopt until enrolled.
    std::optional<SyncSettings> syncSettings();
    void setSyncSettings(const SyncSettings& settings);
    // Moves the feed cursor only (after each page of updates). Asserts enrolment.
    void setSyncCursor(uint64_t cursor);
    // An Ed25519 signature by the device key over `bytes`: requests and bundles are signed
    // with it; the key itself never leaves the store (FieldSync passes this as the Signer).
    std::vector<uint8_t> signAsDevice(const std::vector<uint8_t>& bytes);
    // With a custodian key, fields the template marks pii are sealed to it, apart.
    [[nodiscard]] StoreStatus setCustodianKey(const std::vector<uint8_t>& publicKey);
    std::optional<std::vector<uint8_t>> custodianKey();

    // --- templates (unlocked) ---
    // Checks the template fully (template_loader.h); a broken one is refused with every error
    // and nothing is stored. Importing the same text twice is not an error.
    [[nodiscard]] StoreResult<TemplateInfo> importTemplate(std::string_view jsonText, std::string_view fileName);
    std::vector<TemplateInfo> listTemplates();
    // The template `id` at `version`, or at its latest imported version when `version` is "".
    [[nodiscard]] StoreResult<std::shared_ptr<const Template>> findTemplate(std::string_view id,
                                                                           std::string_view version = {});

    // --- visits (unlocked) ---
    // A new visit of the template, saved at once as an empty draft. The session's recordId()
    // is the visit id.
    [[nodiscard]] StoreResult<FormSession> startVisit(std::string_view templateId, std::string_view version = {});
    // A new visit of the template that is not stored yet: the app keeps no draft of a visit
    // opened by an accidental tap. addDraft() stores it (an empty draft) once it is wanted.
    [[nodiscard]] StoreResult<FormSession> newVisit(std::string_view templateId, std::string_view version = {});
    [[nodiscard]] StoreStatus addDraft(const FormSession& session);
    // Autosave: the whole visit, encrypted, in one transaction. Call on every answer change.
    [[nodiscard]] StoreStatus saveDraft(const FormSession& session);
    // The stored record of a visit (draft or finished), to restore into a FormSession.
    [[nodiscard]] StoreResult<Record> loadVisit(std::string_view visitId);
    // A stored visit as a session over its template: what the app reopens after a restart.
    [[nodiscard]] StoreResult<ResumedVisit> resumeVisit(std::string_view visitId);
    // Every visit, newest first. A visit whose stored bytes fail their integrity check is
    // listed with `error` set; the others list normally.
    std::vector<VisitSummary> listVisits();
    // Checks the session (validate() in `language`): with problems, refuses with all of them
    // and the visit stays a draft. Otherwise the visit becomes an immutable finished record,
    // sealed and signed into the outbox (or AwaitingKey until setAggregatorKey()).
    [[nodiscard]] StoreResult<FinaliseReceipt> finalise(std::string_view visitId, const FormSession& session,
                                                        size_t language = 0);
    // A correction of a finished record: a new draft naming it as parent, with its answers.
    [[nodiscard]] StoreResult<FormSession> startCorrection(std::string_view finishedVisitId);
    // Deletes a draft the officer chose to throw away (never done by purge).
    [[nodiscard]] StoreStatus discardDraft(std::string_view visitId);

    // --- attachments and assignments (unlocked) ---
    // Returns the attachment id (random: a hash of the photo would let anyone holding the
    // photo confirm that it is on the device).
    [[nodiscard]] StoreResult<std::string> addAttachment(std::string_view visitId, std::string_view bytes,
                                                         std::string_view mediaType);
    [[nodiscard]] StoreResult<Attachment> readAttachment(std::string_view attachmentId);
    std::vector<std::string> listAttachments(std::string_view visitId);
    // Adds or replaces an assignment (a unit to visit) as the aggregator sent it.
    void putAssignment(std::string_view id, std::string_view json);
    std::vector<AssignmentEntry> listAssignments();

    // Attachments of finished visits the aggregator has acknowledged (or had already), not
    // yet uploaded; and the mark that one has been (it is then never offered again).
    std::vector<PendingAttachment> attachmentsToUpload();
    [[nodiscard]] StoreStatus markAttachmentUploaded(std::string_view attachmentId);

    // --- review comments (unlocked) ---
    // A reviewer's comment on a record (usually a refused one). The same comment heard twice
    // (same record, time and text) is kept once; returns whether it was new.
    bool putReviewComment(std::string_view recordId, std::string_view text, int64_t at);
    // The comments on `recordId`, oldest first; every comment when `recordId` is "".
    std::vector<ReviewCommentEntry> reviewComments(std::string_view recordId = {});

    // --- outbox (unlocked) ---
    std::vector<OutboxEntry> listOutbox();
    // The sealed envelope to send (Queued or Sent entries).
    [[nodiscard]] StoreResult<SealedEnvelope> envelope(std::string_view recordId);
    // queued|sent -> sent (a resend is allowed).
    [[nodiscard]] StoreStatus markSent(std::string_view recordId);
    // sent -> acknowledged | duplicate | refused. Repeating the same answer is not an error.
    [[nodiscard]] StoreStatus markAcknowledged(std::string_view recordId);
    [[nodiscard]] StoreStatus markDuplicate(std::string_view recordId);
    // `refusalCode` is kept beside the aggregator's words (both sealed, in one blob).
    [[nodiscard]] StoreStatus markRefused(std::string_view recordId, std::string_view reason,
                                          std::string_view refusalCode = {});
    // Deletes finished records the aggregator acknowledged (or had already) more than
    // settings().purgeAfterDays before `now`, with their outbox entries and attachments.
    // Drafts, and records not yet acknowledged, are never purged. Returns how many went.
    int purge(int64_t now);

private:
    struct TemplateEntry {
        TemplateInfo info;
        std::string jsonText;
        std::shared_ptr<const Template> survey;  // loaded on first use
    };
    struct VisitRow {
        std::string id;
        VisitStatus status = VisitStatus::Draft;
        std::string templateRef;
        std::string parentId;
        int64_t createdAt = 0;
        int64_t updatedAt = 0;
        int64_t version = 0;
        std::vector<uint8_t> payload;
    };

    Store(std::filesystem::path file, sql::Database db, VaultRecord vault);
    static StoreResult<Store> openDatabase(const std::filesystem::path& file);

    void requireUnlocked() const;  // asserts: using a locked store is a programmer error
    const SecretBytes& dataKey() const;
    std::vector<uint8_t> seal(std::string_view plaintext, std::string_view kind, std::string_view id,
                              int64_t version) const;
    std::optional<std::string> unseal(const std::vector<uint8_t>& sealed, std::string_view kind, std::string_view id,
                                      int64_t version) const;

    void loadTemplateIndex();
    TemplateEntry* templateEntry(std::string_view id, std::string_view version);
    TemplateEntry* templateByStoreId(std::string_view storeId);
    StoreResult<std::shared_ptr<const Template>> ensureLoaded(TemplateEntry& entry);

    static VisitRow visitRowAt(sql::StatementUse& q);
    std::optional<VisitRow> readVisit(std::string_view id);
    StoreResult<Record> decodeVisit(const VisitRow& row) const;
    StoreResult<std::shared_ptr<const Template>> templateOfVisit(const VisitRow& row);
    void insertDraft(const FormSession& session, const std::string& templateRef, const std::string& parentId);

    std::optional<std::vector<uint8_t>> readMetaSealed(std::string_view key);
    void writeMetaSealed(std::string_view key, std::string_view plaintext);
    int sealWaiting(bool resealQueued);
    StoreStatus moveOutbox(std::string_view recordId, OutboxState to, std::string_view reason);

    std::filesystem::path m_file;
    sql::Database m_db;
    VaultRecord m_vault;
    std::unique_ptr<UnlockedVault> m_keys;  // null while locked
    std::vector<std::unique_ptr<TemplateEntry>> m_templates;
};

}  // namespace ck
