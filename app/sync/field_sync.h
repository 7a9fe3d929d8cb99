#pragma once
// FieldSync: the field app's side of sync, joining the officer's Store (outbox, templates,
// assignments) to a SyncClient (the network) or to a bundle file (a USB stick). Used by the
// app's sync screen and by `ck-field enrol|sync|export-bundle|import-receipt`.
//
// Every step is recorded in the store as it happens: an envelope is marked sent once its
// batch went out whole (a link that never connected leaves it queued, so the officer is never
// told "sent" for what stayed on the device), and acknowledged, duplicate or refused as each
// answer comes back, so a cut at any moment leaves the outbox telling the truth (a record sent
// but not answered is simply sent again; the aggregator recognises the resend).
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "app/store/store.h"
#include "sync/client/sync_client.h"

namespace ck {

struct EnrolmentDone {
    std::string deviceId, officer, cluster, aggregatorName;
    std::string ingestKeyFingerprint;    // keyFingerprint(): for the officer to compare with the slip
    std::string templateKeyFingerprint;
    int sealedNow = 0;                   // finished visits that were waiting for the key
};

// A visit the aggregator refused: its code for the app to word, and its own words.
struct VisitRefusal {
    std::string recordId;
    std::string code;     // proto::refusalReasonName ("conflict", ...); "" when it sent none
    std::string message;  // the aggregator's words (English), or ours when it sent none
};

// A template from the aggregator that was not imported, and why.
struct TemplateRejection {
    enum class Why : uint8_t {
        BadSignature,     // does not verify under the aggregator's template key
        NotThatTemplate,  // the signed text is not the template its id and version name
        Invalid,          // the store refused it (errors, or a conflict with one already here)
    };
    std::string templateId, version;
    Why why = Why::Invalid;
    std::string detail;  // Invalid: the store's own words (English), for the coordinator
};

struct SyncSummary {
    size_t stored = 0, duplicates = 0, refused = 0;
    // English lines for ck-field and logs ("visit <id>: <reason>"); the app words
    // refusedVisits and rejectedTemplates in the officer's language instead.
    std::vector<std::string> refusals;
    std::vector<VisitRefusal> refusedVisits;
    size_t templatesAdded = 0, templatesRejected = 0;  // rejected: bad signature or invalid
    std::vector<std::string> templateProblems;
    std::vector<TemplateRejection> rejectedTemplates;
    size_t assignments = 0, comments = 0;
    size_t attachmentsSent = 0;
    uint64_t bytesSent = 0, bytesReceived = 0;
    // Anything else the officer should hear that did not stop the sync: an outbox entry that
    // fails its integrity check, an attachment the aggregator refused, a receipt line for a
    // record this device does not hold.
    std::vector<std::string> problems;
};

using FieldSyncResult = std::variant<SyncSummary, std::string>;  // or why it stopped (for the officer)

// Why a sync or an enrolment stopped, as a kind the app words in the officer's language (the
// string result says the same in English, with the technical detail, for ck-field and logs).
struct SyncStop {
    enum class Why : uint8_t {
        NotEnrolled,   // no enrolment on this device
        Unreachable,   // no answer from the aggregator (network down, server off, timeouts)
        WrongServer,   // the server's key is not the pinned one: nothing was sent
        Refused,       // the aggregator said no (see `refusal`)
        BadReply,      // the answer could not be understood
        Cancelled,     // the officer cancelled
        Other,         // anything else (the string says what)
    };
    Why why = Why::Other;
    std::optional<proto::ErrorCode> refusal;  // Refused: the aggregator's code
    size_t answered = 0, waiting = 0;          // visits answered before it stopped, of those waiting
    bool updates = false;                      // it stopped while fetching updates (every visit was recorded)
};

// How a sync runs: what it reports, how large its batches are, and how it shares the store.
struct SyncRun {
    sync::ProgressFn progress;
    size_t batchSize = 100;  // kDefaultUploadBatch
    // When the store is shared with another thread (the app's screens keep working during a
    // sync), every store call of the sync holds this mutex, and no network wait ever does.
    std::recursive_mutex* storeMutex = nullptr;
    SyncStop* stop = nullptr;  // filled when the result is a string
};

// Enrols this device with the code the operator issued: the server's key pin must match
// `publicKeyPin` (from the enrolment slip). Stores the server address, pin, keys and device
// id in the store's sync settings and sets the aggregator key (sealing waiting visits).
// `retry`: enrolment is interactive, so it gives up sooner than a background sync would.
std::variant<EnrolmentDone, std::string> enrolDevice(Store& store, const sync::ServerAddress& server,
                                                     const std::string& code, const std::string& deviceLabel,
                                                     const sync::RetryPolicy& retry = {3, std::chrono::milliseconds(500),
                                                                                       std::chrono::milliseconds(4'000),
                                                                                       std::chrono::milliseconds(10'000),
                                                                                       std::chrono::milliseconds(60'000)},
                                                     SyncStop* stop = nullptr);

// Uploads every Queued or Sent outbox entry and each one's attachments, records each answer,
// then fetches updates since the stored cursor: templates (imported only when their signature
// verifies under the pinned template key), assignments, review comments on refused visits.
// `batchSize`: visits per request. Smaller batches lose less to a cut on a bad link and give
// finer progress; larger ones cost fewer round trips.
inline constexpr size_t kDefaultUploadBatch = 100;
FieldSyncResult syncNow(Store& store, sync::SyncClient& client, const sync::ProgressFn& progress = {},
                        size_t batchSize = kDefaultUploadBatch);
FieldSyncResult syncNow(Store& store, sync::SyncClient& client, const SyncRun& run);

// A bundle file with every Queued or Sent envelope, as signed batches; they are marked sent.
std::variant<size_t, std::string> writeBundle(Store& store, const std::filesystem::path& file);
// Applies a receipt from `import` on the aggregator: acknowledges, marks duplicate or refused.
std::variant<SyncSummary, std::string> applyReceipt(Store& store, const std::filesystem::path& file);

}  // namespace ck
