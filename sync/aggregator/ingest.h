#pragma once
// IngestService: the aggregator's answers to the protocol's requests, with no network in it.
// The HTTPS server (server.h) and `import` (bundles) both call it, so a visit that comes by
// USB stick is checked exactly like one that comes over the network.
//
// Upload: the batch signature must verify under a known, unrevoked device key; then each
// envelope on its own: signed by that same device (BadSignature), a published template
// version (UnknownTemplate), opens with the ingest key (CannotOpen) to the record its header
// names (BadContent), and the record meets its template as the device's own FormSession
// judges it: types, choices, ranges, constraints, required answers, finite numbers of sane
// size (BadContent, naming the question). A correction must correct one of the device's own
// visits; a visit's cluster is the one the device was enrolled for (an answer naming another
// is refused, since reports group by it); a visit's size class is the register's for the unit
// its assignment token names (assignment_token.h: a token this aggregator did not make, or made
// for another device, is refused; answers giving another class, or no token, hold the visit
// for review). Good ones are stored with their personal answers
// removed (the template marks them pii) and calculations recomputed here; the personal
// answers stay only inside the sealed envelope kept as evidence. Refusals are appended to the
// audit log (at most IngestOptions::maxRefusalAuditRows per request, ids bounded) and
// answered with a reason the officer can read.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <variant>

#include "core/form/form_session.h"
#include "sync/aggregator/audit_log.h"
#include "sync/aggregator/project_keys.h"
#include "sync/aggregator/storage.h"
#include "sync/protocol/messages.h"

namespace ck {
struct Template;
}

namespace ck::agg {

using Clock = std::function<int64_t()>;  // unix seconds; tests pass their own
int64_t systemClock();

struct IngestOptions {
    std::string aggregatorName = "ClusterKit aggregator";
    size_t feedPageSize = 200;  // feed items per Updates reply
    // Refusals written to the audit log one by one per request; the rest go in one summary
    // entry (a request of 40,000 refused envelopes must not write 40,000 rows).
    size_t maxRefusalAuditRows = 20;
    // Chunks no attachment names are deleted this long after they arrived (a photo upload
    // abandoned half-way, or chunks sent only to fill the disk).
    int64_t chunkMaxAgeSeconds = 2 * 24 * 3600;
    int64_t chunkSweepEverySeconds = 600;  // how often putChunk looks for such chunks
    // When set: the signed audit head (audit_log.h) is written here after every change.
    std::filesystem::path auditHeadFile;
};

template <class T>
using Answer = std::variant<T, proto::ErrorReply>;

// Server-side validation, by the engine the device itself runs (FormSession). `blank` is a
// new session of the record's template whose today() is visitDay(record) (so a date rule
// judges the visit as the device did on the day it was finished); blankSession makes one.
// Returns "" when the record holds, else its first problem for the officer. On success
// `recomputed` is the record as the session makes it: calculations recomputed here, not
// taken from the device. With `personalSealedApart` the personal answers went to the
// custodian, not to the aggregator: their absence is not a missing answer.
Date visitDay(const Record& record);
FormSession blankSession(std::shared_ptr<const Template> survey, Date today);
// `answeredStratum` (optional) gets the template's report stratum as the answers give it ("" when
// the template has none or it gives nothing), for comparison with the register's.
std::string checkRecordAgainstTemplate(const FormSession& blank, const Record& record, bool personalSealedApart,
                                       Record& recomputed, std::string* answeredStratum = nullptr);

// What checkRecordAgainstTemplate judges by, in full: the answers the session could not take
// and the open problems (personal answers not yet excused). The fast path: a session copied
// over this thread's previous one, the answers set together and settled once. Tests hold it
// to a session filled answer by answer, as the device fills it. `recomputed` (optional) gets
// the record as the session makes it.
struct RecordProblems {
    std::vector<std::string> notTaken;
    std::vector<Problem> open;
};
RecordProblems recordProblems(const FormSession& blank, const Record& record, Record* recomputed,
                              std::string* answeredStratum = nullptr);

// What ingest keeps of a record that holds, made straight from the session that judged it:
// checkRecordAgainstTemplate's verdict, and when it holds, the bytes to store (the record as
// the session makes it, personal answers removed: serializeRecord() of the recomputed record
// after removePersonalAnswers()), the cluster and the report stratum its answers give.
struct CheckedRecord {
    std::string problem;  // "" when the record holds
    std::string bytes;
    std::string answeredCluster, answeredStratum;
};
CheckedRecord checkRecordForStorage(const FormSession& blank, const Record& record, bool personalSealedApart);
// The same for a record's bytes (serializeRecord()), whose header is `header` (as openEnvelope
// gives it without its answers): the answers go from the bytes straight into the session.
CheckedRecord checkRecordForStorage(const FormSession& blank, const Record& header, std::string_view bytes,
                                    bool personalSealedApart);

class IngestService {
public:
    IngestService(AggregatorStorage& storage, const ProjectKeys& keys, IngestOptions options = {},
                  Clock clock = systemClock);
    ~IngestService();

    Answer<proto::EnrolReply> enrol(const proto::EnrolRequest& request);
    Answer<proto::UploadReply> upload(const proto::UploadBatch& batch);
    Answer<proto::Updates> updates(const proto::UpdatesRequest& request);
    Answer<proto::ChunkQueryReply> queryChunks(const proto::ChunkQuery& query);
    Answer<proto::Ok> putChunk(const proto::ChunkUpload& upload);
    Answer<proto::Ok> commitAttachment(const proto::AttachmentCommit& commit);

    // A bundle file's batches, as if uploaded; the receipt lists every record's answer.
    // A bundle imported twice stores nothing twice (its records come back Duplicate).
    Answer<proto::Receipt> importBundle(const proto::Bundle& bundle);

    // The device a request is signed by, when known and not revoked (for rate limiting).
    std::optional<DeviceRow> deviceFor(const std::vector<uint8_t>& publicKey);

    // --- operator actions (the CLI) ---
    // A new one-time code, valid `validSeconds`; returns the code (shown once, stored hashed).
    std::string issueEnrolmentCode(std::string_view officer, std::string_view cluster, int64_t validSeconds);
    // Checks the template fully (template_loader.h), signs it with the template key, stores it.
    // Error text lists every template problem; publishing an existing id@version is refused.
    std::variant<PublishedTemplate, std::string> publishTemplate(std::string_view jsonText, std::string_view fileName);
    AggregatorStorage& storage() { return m_storage; }
    // Called for every visit stored (outcome Stored, not Duplicate or Conflict), after its
    // batch's transaction committed, on the thread that ingested it (several at once when the
    // server's pool is busy: the observer locks for itself). Set before serving.
    void onStored(std::function<void(const StoredVisit&)> observer) { m_onStored = std::move(observer); }
    const IngestOptions& options() const { return m_options; }  // the name GET /v1/hello shows
    // Deletes uncommitted chunks older than options().chunkMaxAgeSeconds; returns how many.
    uint64_t sweepChunks();

private:
    // upload() with the freshness check optional (a bundle's batches may be days old); fills
    // `contentHashes` (hex, "" where unknown) in batch order when given, for receipts.
    Answer<proto::UploadReply> uploadChecked(const proto::UploadBatch& batch, bool checkFreshness,
                                             std::vector<std::string>* contentHashes = nullptr);
    std::shared_ptr<const Template> templateFor(const std::string& id, const std::string& version);
    void signHead();  // refreshes the signed audit head, when there is a head file
    // A blank session of `survey` with today() = `day`, kept for later batches (templates stay
    // cached in m_templates, so their addresses are stable keys).
    std::shared_ptr<const FormSession> sharedBlank(const std::shared_ptr<const Template>& survey, Date day);

    AggregatorStorage& m_storage;
    const ProjectKeys& m_keys;
    IngestOptions m_options;
    Clock m_clock;
    std::mutex m_templatesMutex;
    std::map<std::string, std::shared_ptr<const Template>> m_templates;  // "id@version"
    std::function<void(const StoredVisit&)> m_onStored;
    std::unique_ptr<AuditHeadSigner> m_headSigner;
    std::atomic<int64_t> m_lastChunkSweep{0};
    SecretBytes m_assignmentKey;  // assignment_token.h
    std::mutex m_blanksMutex;
    std::map<std::pair<const Template*, int32_t>, std::shared_ptr<const FormSession>> m_blanks;
    class Helper;  // the second thread a big batch's checks share (ingest.cpp)
    std::once_flag m_helperStarted;
    std::unique_ptr<Helper> m_helper;
};

}  // namespace ck::agg
