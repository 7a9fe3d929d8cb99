#include "app/sync/field_sync.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/crypto/sealed_box.h"

namespace ck {

namespace fs = std::filesystem;

namespace {

// A feed that keeps saying "more" without moving its cursor would loop forever; no honest
// aggregator needs this many pages in one sync.
constexpr size_t kMaxUpdatePages = 10'000;
// A bundle stays well below the frame limit (sealed bytes do not compress).
constexpr size_t kMaxBundleEnvelopeBytes = proto::kMaxFrameBytes * 3 / 4;

proto::Signer deviceSigner(Store& store) {
    return [&store](const std::vector<uint8_t>& bytes) { return store.signAsDevice(bytes); };
}

std::string refusalText(const proto::RecordAck& ack) {
    if (!ack.message.empty()) return ack.message;
    switch (ack.reason) {
        case proto::RefusalReason::Conflict:
            return "the aggregator already holds a different visit under this id; correct the visit and send the correction";
        case proto::RefusalReason::UnknownTemplate:
            return "the aggregator does not know this template version; ask the operator to publish it";
        case proto::RefusalReason::BadSignature: return "the aggregator could not verify this device's signature";
        case proto::RefusalReason::CannotOpen:
            return "the visit was not sealed to this aggregator's key; enrol the device with this aggregator again";
        case proto::RefusalReason::BadContent: return "the aggregator found the sealed visit damaged";
        case proto::RefusalReason::None: break;
    }
    return "refused by the aggregator";
}

// Records one answer in the outbox. The outcome must be for the envelope we sent.
void recordAck(Store& store, const std::string& recordId, const proto::RecordAck& ack, SyncSummary& summary) {
    StoreStatus r = Done{};
    switch (ack.status) {
        case proto::AckStatus::Stored:
            r = store.markAcknowledged(recordId);
            if (r) ++summary.stored;
            break;
        case proto::AckStatus::Duplicate:
            r = store.markDuplicate(recordId);
            if (r) ++summary.duplicates;
            break;
        case proto::AckStatus::Refused: {
            std::string reason = refusalText(ack);
            const std::string code = proto::refusalReasonName(ack.reason);
            r = store.markRefused(recordId, reason, code);
            if (r) {
                ++summary.refused;
                summary.refusals.push_back("visit " + recordId + ": " + reason);
                summary.refusedVisits.push_back({recordId, code, reason});
            }
            break;
        }
    }
    if (!r) summary.problems.push_back(r.message());
}

std::string syncErrorText(const sync::SyncError& e) {
    if (!e.message.empty()) return e.message;
    switch (e.kind) {
        case sync::SyncErrorKind::Unreachable: return "the aggregator could not be reached";
        case sync::SyncErrorKind::PinMismatch:
            return "the server's key is not the one on the enrolment slip: nothing was sent";
        case sync::SyncErrorKind::Refused: return e.reply ? e.reply->message : "the aggregator refused the request";
        case sync::SyncErrorKind::BadReply: return "the aggregator's answer could not be understood";
        case sync::SyncErrorKind::Cancelled: return "sync was cancelled";
    }
    return "sync failed";
}

void noteStop(SyncStop& stop, const sync::SyncError& e) {
    switch (e.kind) {
        case sync::SyncErrorKind::Unreachable: stop.why = SyncStop::Why::Unreachable; break;
        case sync::SyncErrorKind::PinMismatch: stop.why = SyncStop::Why::WrongServer; break;
        case sync::SyncErrorKind::Refused:
            stop.why = SyncStop::Why::Refused;
            if (e.reply) stop.refusal = e.reply->code;
            break;
        case sync::SyncErrorKind::BadReply: stop.why = SyncStop::Why::BadReply; break;
        case sync::SyncErrorKind::Cancelled: stop.why = SyncStop::Why::Cancelled; break;
    }
}

// The template's own id and version, as its JSON says (nullopt when it is not a JSON object).
std::optional<std::pair<std::string, std::string>> declaredIdentity(const std::string& jsonText) {
    auto j = nlohmann::json::parse(jsonText, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    auto id = j.find("id");
    auto version = j.find("version");
    if (id == j.end() || !id->is_string() || version == j.end() || !version->is_string()) return std::nullopt;
    return std::make_pair(id->get<std::string>(), version->get<std::string>());
}

void applyTemplate(Store& store, const SyncSettings& settings, const proto::SignedTemplate& t, SyncSummary& summary) {
    const std::string name = "template '" + t.templateId + "' version " + t.version;
    if (!proto::verifySignature(proto::templateSigningBytes(t.templateId, t.version, t.jsonText), t.signature,
                                settings.templateSigningKey)) {
        ++summary.templatesRejected;
        summary.templateProblems.push_back(name + ": its signature does not verify under the aggregator's template key; "
                                                  "it was not imported (tell the operator)");
        summary.rejectedTemplates.push_back({t.templateId, t.version, TemplateRejection::Why::BadSignature, {}});
        return;
    }
    // The signature covers the id and version named beside the text; the text must be that template.
    auto identity = declaredIdentity(t.jsonText);
    if (!identity || identity->first != t.templateId || identity->second != t.version) {
        ++summary.templatesRejected;
        summary.templateProblems.push_back(name + ": the signed text is not that template; it was not imported");
        summary.rejectedTemplates.push_back({t.templateId, t.version, TemplateRejection::Why::NotThatTemplate, {}});
        return;
    }
    for (const TemplateInfo& have : store.listTemplates())
        if (have.id == t.templateId && have.version == t.version && have.error.empty()) {
            // Already here: the same text is no news; different text under the same version is.
            auto again = store.importTemplate(t.jsonText, t.templateId + ".json");
            if (!again) {
                ++summary.templatesRejected;
                summary.templateProblems.push_back(name + ": " + again.message());
                summary.rejectedTemplates.push_back({t.templateId, t.version, TemplateRejection::Why::Invalid, again.message()});
            }
            return;
        }
    auto r = store.importTemplate(t.jsonText, t.templateId + ".json");
    if (!r) {
        ++summary.templatesRejected;
        summary.templateProblems.push_back(name + ": " + r.message());
        summary.rejectedTemplates.push_back({t.templateId, t.version, TemplateRejection::Why::Invalid, r.message()});
        return;
    }
    ++summary.templatesAdded;
}

// Why uploading attachments ended the sync: the words, and the transport error behind them.
struct AttachmentsStopped {
    std::string message;
    std::optional<sync::SyncError> error;
};

// Uploads the attachments of acknowledged visits; a transport failure ends the sync.
template <class Held>
std::optional<AttachmentsStopped> uploadAttachments(Store& store, sync::SyncClient& client, const proto::Signer& sign,
                                                    SyncSummary& summary, const Held& held) {
    std::vector<PendingAttachment> pending;
    std::optional<std::vector<uint8_t>> to;
    std::vector<uint8_t> deviceKey;
    {
        auto lock = held();
        pending = store.attachmentsToUpload();
        if (pending.empty()) return std::nullopt;
        // Photos name people and places: the custodian's key when there is one.
        to = store.custodianKey();
        if (!to) to = store.aggregatorKey();
        deviceKey = store.devicePublicKey();
    }
    if (!to) return AttachmentsStopped{"attachments cannot be sealed: no aggregator key is set", std::nullopt};
    for (const PendingAttachment& p : pending) {
        std::vector<uint8_t> sealed;
        std::string mediaType;
        {
            auto lock = held();
            auto a = store.readAttachment(p.id);
            if (!a) {
                summary.problems.push_back(a.message());
                continue;
            }
            const Attachment& att = a.value();
            mediaType = att.mediaType;
            sealed.resize(att.bytes.size() + crypto_box_SEALBYTES);
            if (crypto_box_seal(sealed.data(), reinterpret_cast<const uint8_t*>(att.bytes.data()), att.bytes.size(),
                                to->data()) != 0) {
                summary.problems.push_back("attachment " + p.id + ": cannot be sealed to the key on this device");
                continue;
            }
        }
        auto r = client.uploadAttachment(p.visitId, p.id, mediaType, sealed, deviceKey, sign);
        if (auto* e = std::get_if<sync::SyncError>(&r)) {
            if (e->kind != sync::SyncErrorKind::Refused) return AttachmentsStopped{"attachment " + p.id + ": " + syncErrorText(*e), *e};
            summary.problems.push_back("attachment " + p.id + " of visit " + p.visitId + ": " + syncErrorText(*e));
            continue;
        }
        auto lock = held();
        if (auto m = store.markAttachmentUploaded(p.id); !m) summary.problems.push_back(m.message());
        ++summary.attachmentsSent;
    }
    return std::nullopt;
}

std::optional<std::vector<uint8_t>> readWholeFile(const fs::path& file, size_t limit, std::string& error) {
    std::error_code ec;
    auto size = fs::file_size(file, ec);
    if (ec) {
        error = file.string() + ": cannot read the file: " + ec.message();
        return std::nullopt;
    }
    if (size > limit) {
        error = file.string() + ": too large to be a receipt (" + std::to_string(size) + " bytes)";
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    std::vector<uint8_t> bytes(size);
    if (!in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(size))) {
        error = file.string() + ": cannot read the file";
        return std::nullopt;
    }
    return bytes;
}

// Writes `bytes` to `file` so that a reader sees the old file or the whole new one, never half:
// a temporary file beside it, flushed to the disk, renamed over it.
std::optional<std::string> writeAtomically(const fs::path& file, const std::vector<uint8_t>& bytes) {
    fs::path temp = file;
    temp += ".part-" + std::to_string(getpid());
    FILE* f = std::fopen(temp.c_str(), "wb");
    if (!f) return file.string() + ": cannot write there (" + std::error_code(errno, std::generic_category()).message() + ")";
    bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    ok = std::fflush(f) == 0 && ok;
    ok = fsync(fileno(f)) == 0 && ok;
    ok = std::fclose(f) == 0 && ok;
    std::error_code ec;
    if (!ok) {
        fs::remove(temp, ec);
        return file.string() + ": writing failed (is the card full or removed?)";
    }
    fs::rename(temp, file, ec);
    if (ec) {
        fs::remove(temp, ec);
        return file.string() + ": cannot put the file in place: " + ec.message();
    }
    return std::nullopt;
}

}  // namespace

std::variant<EnrolmentDone, std::string> enrolDevice(Store& store, const sync::ServerAddress& server,
                                                     const std::string& code, const std::string& deviceLabel,
                                                     const sync::RetryPolicy& retry, SyncStop* stop) {
    SyncStop ignored;
    SyncStop& why = stop ? *stop : ignored;
    why.why = SyncStop::Why::Other;
    if (code.empty()) return std::string("no enrolment code: type the code from the enrolment slip");
    if (server.url.rfind("https://", 0) == 0 && server.publicKeyPin.empty())
        return std::string("no server key: type the key (sha256//...) from the enrolment slip");
    sync::SyncClient client(server, retry);
    auto r = client.enrol(code, store.devicePublicKey(), deviceLabel, deviceSigner(store));
    if (auto* e = std::get_if<sync::SyncError>(&r)) {
        noteStop(why, *e);
        return "enrolment failed: " + syncErrorText(*e);
    }
    const proto::EnrolReply& reply = std::get<proto::EnrolReply>(r);
    if (reply.templateSigningPublicKey.size() != crypto_sign_PUBLICKEYBYTES)
        return std::string("enrolment failed: the aggregator sent a template key of the wrong size");
    auto sealed = store.setAggregatorKey(reply.ingestPublicKey);
    if (!sealed) return "enrolment failed: " + sealed.message();

    SyncSettings settings;
    settings.serverUrl = server.url;
    settings.publicKeyPin = server.publicKeyPin;
    settings.deviceId = reply.deviceId;
    settings.officer = reply.officer;
    settings.cluster = reply.cluster;
    settings.aggregatorName = reply.aggregatorName;
    settings.templateSigningKey = reply.templateSigningPublicKey;
    settings.cursor = 0;
    store.setSyncSettings(settings);

    EnrolmentDone done;
    done.deviceId = reply.deviceId;
    done.officer = reply.officer;
    done.cluster = reply.cluster;
    done.aggregatorName = reply.aggregatorName;
    done.ingestKeyFingerprint = keyFingerprint(reply.ingestPublicKey);
    done.templateKeyFingerprint = keyFingerprint(reply.templateSigningPublicKey);
    done.sealedNow = sealed.value();
    return done;
}

FieldSyncResult syncNow(Store& store, sync::SyncClient& client, const sync::ProgressFn& progress, size_t batchSize) {
    SyncRun run;
    run.progress = progress;
    run.batchSize = batchSize;
    return syncNow(store, client, run);
}

FieldSyncResult syncNow(Store& store, sync::SyncClient& client, const SyncRun& run) {
    const size_t batchSize = std::clamp<size_t>(run.batchSize, 1, proto::kMaxBatchRecords);
    const sync::ProgressFn& progress = run.progress;
    // Held around each store call (when the store is shared); never across a network wait.
    auto held = [&run] {
        return run.storeMutex ? std::unique_lock<std::recursive_mutex>(*run.storeMutex)
                              : std::unique_lock<std::recursive_mutex>();
    };
    SyncStop ignored;
    SyncStop& stop = run.stop ? *run.stop : ignored;
    std::optional<SyncSettings> settings;
    std::vector<uint8_t> deviceKey;
    {
        auto lock = held();
        settings = store.syncSettings();
        deviceKey = store.devicePublicKey();
    }
    if (!settings) {
        stop.why = SyncStop::Why::NotEnrolled;
        return std::string("this device is not enrolled with an aggregator: enrol it first");
    }
    const proto::Signer sign = [&store, &held](const std::vector<uint8_t>& bytes) {
        auto lock = held();
        return store.signAsDevice(bytes);
    };
    const uint64_t sentBefore = client.bytesSent(), receivedBefore = client.bytesReceived();
    SyncSummary summary;
    auto finishBytes = [&] {
        summary.bytesSent = client.bytesSent() - sentBefore;
        summary.bytesReceived = client.bytesReceived() - receivedBefore;
    };

    // --- 1. finished visits ---
    std::vector<SealedEnvelope> envelopes;
    std::vector<OutboxEntry> outbox;
    {
        auto lock = held();
        outbox = store.listOutbox();
    }
    for (const OutboxEntry& e : outbox) {
        if (e.state != OutboxState::Queued && e.state != OutboxState::Sent) continue;
        auto lock = held();  // one envelope at a time: the screens get the store in between
        auto env = store.envelope(e.recordId);
        if (!env) {
            summary.problems.push_back(env.message());
            continue;
        }
        envelopes.push_back(std::move(env).value());
    }
    stop.waiting = envelopes.size();
    size_t done = 0;
    // The client counts records per request; the officer wants them counted over the sync.
    client.setProgress([&](const sync::SyncProgress& p) {
        if (!progress) return;
        sync::SyncProgress whole = p;
        if (p.stage.rfind("upload", 0) == 0 || p.recordsTotal) {
            whole.recordsDone = done + p.recordsDone;
            whole.recordsTotal = envelopes.size();
        }
        progress(whole);
    });
    for (size_t from = 0; from < envelopes.size(); from += batchSize) {
        std::vector<SealedEnvelope> batch(envelopes.begin() + std::ptrdiff_t(from),
                                          envelopes.begin() + std::ptrdiff_t(std::min(envelopes.size(), from + batchSize)));
        std::vector<sync::UploadOutcome> answered;
        const uint64_t deliveredBefore = client.requestsDelivered();
        auto r = client.upload(batch, deviceKey, sign, batchSize, &answered);
        const std::vector<sync::UploadOutcome>& outcomes =
            std::holds_alternative<sync::SyncError>(r) ? answered : std::get<std::vector<sync::UploadOutcome>>(r);
        // Marked sent once the batch went out whole, answered or not: an answer lost to a cut
        // leaves them Sent (they go again; the aggregator recognises the resend); a link that
        // never carried the batch leaves them as they were.
        const bool wentOut = client.requestsDelivered() > deliveredBefore || !outcomes.empty();
        {
            auto lock = held();
            if (wentOut)
                for (const SealedEnvelope& env : batch)
                    if (auto m = store.markSent(env.recordId); !m) summary.problems.push_back(m.message());
            for (size_t i = 0; i < outcomes.size() && i < batch.size(); ++i) {
                const sync::UploadOutcome& o = outcomes[i];
                // Answers come in the batch's order; one for another record would be a bug of ours
                // or the server's, and must not acknowledge the wrong visit.
                if (o.recordId != batch[i].recordId || (!o.contentHash.empty() && o.contentHash != batch[i].contentHash)) {
                    summary.problems.push_back("the aggregator's answer for visit " + batch[i].recordId +
                                               " names another record; it stays in the outbox");
                    continue;
                }
                recordAck(store, o.recordId, o.ack, summary);
            }
        }
        done += outcomes.size();
        stop.answered = summary.stored + summary.duplicates + summary.refused;
        if (progress) {
            // The outbox changed: a screen listing it reads it again.
            sync::SyncProgress p{done, envelopes.size(), client.bytesSent(), client.bytesReceived(), 1, "uploaded"};
            progress(p);
        }
        if (auto* e = std::get_if<sync::SyncError>(&r)) {
            finishBytes();
            client.setProgress({});
            noteStop(stop, *e);
            return syncErrorText(*e) + " (" + std::to_string(stop.answered) + " of " + std::to_string(envelopes.size()) +
                   " visits were answered; the rest stay in the outbox and go with the next sync)";
        }
    }
    client.setProgress({});

    // --- 2. photos of acknowledged visits ---
    if (progress) progress(sync::SyncProgress{done, envelopes.size(), client.bytesSent(), client.bytesReceived(), 1, "uploading attachments"});
    if (auto failed = uploadAttachments(store, client, sign, summary, held)) {
        finishBytes();
        if (failed->error) noteStop(stop, *failed->error);
        return failed->message;
    }

    // --- 3. updates since the cursor ---
    uint64_t cursor = settings->cursor;
    for (size_t page = 0; page < kMaxUpdatePages; ++page) {
        if (progress) progress(sync::SyncProgress{done, envelopes.size(), client.bytesSent(), client.bytesReceived(), 1, "fetching updates"});
        auto r = client.fetchUpdates(cursor, deviceKey, sign);
        if (auto* e = std::get_if<sync::SyncError>(&r)) {
            finishBytes();
            noteStop(stop, *e);
            stop.updates = true;
            return syncErrorText(*e) + " (while fetching updates; every visit sent was recorded)";
        }
        const proto::Updates& u = std::get<proto::Updates>(r);
        {
            auto lock = held();
            for (const proto::SignedTemplate& t : u.templates) applyTemplate(store, *settings, t, summary);
            for (const proto::Assignment& a : u.assignments) {
                store.putAssignment(a.unitId, a.json);
                ++summary.assignments;
            }
            for (const proto::ReviewComment& c : u.comments)
                if (store.putReviewComment(c.recordId, c.text, c.at)) ++summary.comments;
        }
        bool moved = u.cursor != cursor;
        cursor = u.cursor;
        // Saved after each page: a cut later does not fetch (or count) this page again.
        {
            auto lock = held();
            store.setSyncCursor(cursor);
        }
        if (!u.more) break;
        if (!moved) {
            summary.problems.push_back("the aggregator says there are more updates but does not move on; try again later");
            break;
        }
    }
    finishBytes();
    return summary;
}

std::variant<size_t, std::string> writeBundle(Store& store, const fs::path& file) {
    std::vector<proto::UploadBatch> batches;
    std::vector<std::string> included;
    size_t bytes = 0, waiting = 0;
    const int64_t now = unixNow();
    for (const OutboxEntry& e : store.listOutbox()) {
        if (e.state != OutboxState::Queued && e.state != OutboxState::Sent) continue;
        ++waiting;
        auto env = store.envelope(e.recordId);
        if (!env) continue;  // fails its integrity check: `outbox` and `sync` report it
        proto::WireEnvelope wire = proto::toWire(env.value());
        size_t size = wire.sealedRecord.size() + wire.sealedPersonal.size() + 512;
        if (bytes + size > kMaxBundleEnvelopeBytes) break;  // the rest go in the next bundle
        bytes += size;
        if (batches.empty() || batches.back().envelopes.size() == proto::kMaxBatchRecords) {
            batches.emplace_back();
            batches.back().devicePublicKey = store.devicePublicKey();
            batches.back().sentAt = now;
        }
        batches.back().envelopes.push_back(std::move(wire));
        included.push_back(e.recordId);
    }
    if (included.empty())
        return std::string(waiting ? "no visit waiting in the outbox could be read (see `outbox`); no bundle written"
                                   : "nothing to export: no finished visit is waiting in the outbox");
    for (proto::UploadBatch& b : batches) b.signature = store.signAsDevice(proto::signingBytes(b));
    proto::Bundle bundle;
    auto settings = store.syncSettings();
    bundle.createdBy = settings && !settings->deviceId.empty() ? settings->deviceId
                                                                : "device " + keyFingerprint(store.devicePublicKey());
    bundle.createdAt = now;
    bundle.batches = std::move(batches);
    std::vector<uint8_t> frame = proto::encodeFrame(bundle);
    // Marked sent before the file is in place: a bundle that never arrives leaves them Sent,
    // and Sent entries go again with the next sync or bundle.
    for (const std::string& id : included)
        if (auto r = store.markSent(id); !r) return "cannot mark visit " + id + " as sent: " + r.message();
    if (auto error = writeAtomically(file, frame)) return *error;
    return included.size();
}

std::variant<SyncSummary, std::string> applyReceipt(Store& store, const fs::path& file) {
    std::string error;
    auto bytes = readWholeFile(file, proto::kMaxFrameBytes, error);
    if (!bytes) return error;
    auto decoded = proto::decodeFrame(*bytes);
    if (auto* f = std::get_if<proto::FrameFailure>(&decoded))
        return file.string() + ": not a receipt this device can read: " + f->message;
    auto* receipt = std::get_if<proto::Receipt>(&std::get<proto::Message>(decoded));
    if (!receipt)
        return file.string() + ": this is a " +
               proto::messageTypeName(proto::messageType(std::get<proto::Message>(decoded))) +
               " file, not a receipt (the aggregator's `import` writes the receipt)";

    auto settings = store.syncSettings();
    if (!settings || settings->templateSigningKey.empty())
        return "this device is not enrolled with an aggregator, so it cannot check who made " + file.string() +
               ": enrol first. Nothing was changed";
    if (!proto::verifySignature(proto::signingBytes(*receipt), receipt->signature, settings->templateSigningKey))
        return file.string() + ": the receipt is not signed by the aggregator this device is enrolled with "
                               "(made elsewhere, or altered). Nothing was changed";

    std::map<std::string, OutboxEntry> outbox;
    for (OutboxEntry& e : store.listOutbox()) outbox.emplace(e.recordId, std::move(e));
    size_t ours = 0;
    for (const proto::ReceiptEntry& r : receipt->entries)
        if (auto it = outbox.find(r.recordId); it != outbox.end() && it->second.contentHash == r.contentHash) ++ours;
    if (ours == 0)
        return file.string() + ": none of its " + std::to_string(receipt->entries.size()) +
               " records is in this device's outbox as sent; it is a receipt for another device or was altered. "
               "Nothing was changed";

    SyncSummary summary;
    for (const proto::ReceiptEntry& r : receipt->entries) {
        auto it = outbox.find(r.recordId);
        if (it == outbox.end()) {
            summary.problems.push_back("visit " + r.recordId + ": not in this device's outbox; not applied");
            continue;
        }
        if (it->second.contentHash != r.contentHash) {
            summary.problems.push_back("visit " + r.recordId +
                                       ": the receipt is for different content than this device sent; not applied");
            continue;
        }
        recordAck(store, r.recordId, r.ack, summary);
    }
    return summary;
}

}  // namespace ck
