#include "sync/aggregator/ingest.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <future>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/crypto/sealed_box.h"
#include "core/form/form_session.h"
#include "core/template/template_loader.h"
#include "sync/aggregator/assignment_token.h"

namespace ck::agg {

using proto::AckStatus;
using proto::ErrorCode;
using proto::ErrorReply;
using proto::RefusalReason;

int64_t systemClock() { return unixNow(); }

namespace {

bool plainId(const std::string& id) {
    if (id.empty() || id.size() > 128) return false;
    for (unsigned char c : id)
        if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':')) return false;
    return true;
}

// No 0/O, 1/I/L: a code read aloud over a bad phone line or copied from paper stays right.
constexpr std::string_view kCodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
constexpr size_t kCodeLength = 12;

std::string deviceIdFor(const std::vector<uint8_t>& publicKey) {
    std::string hash = contentHash(std::string_view(reinterpret_cast<const char*>(publicKey.data()), publicKey.size()));
    return "dev-" + hash.substr(0, 8);
}

// Upper case, dashes and spaces dropped: "abcd-efgh-jkmn" and "ABCDEFGHJKMN" are one code.
std::string normaliseCode(std::string_view code) {
    std::string out;
    for (char c : code) {
        if (c == '-' || c == ' ') continue;
        out.push_back(char(std::toupper(static_cast<unsigned char>(c))));
    }
    return out;
}

std::string codeHash(std::string_view code) { return contentHash(normaliseCode(code)); }

ErrorReply error(ErrorCode code, std::string message) { return ErrorReply{code, std::move(message), 0}; }

const char* reasonWord(RefusalReason reason) {
    switch (reason) {
        case RefusalReason::Conflict: return "conflict";
        case RefusalReason::UnknownTemplate: return "unknown template";
        case RefusalReason::BadSignature: return "bad signature";
        case RefusalReason::CannotOpen: return "cannot open";
        case RefusalReason::BadContent: return "bad content";
        case RefusalReason::None: break;
    }
    return "refused";
}

std::string hexOf(const std::vector<uint8_t>& bytes) { return toHex(bytes.data(), bytes.size()); }

// One envelope's checks, done off the storage lock (and on two threads for a big batch).
struct Checked {
    bool ok = false;
    proto::RecordAck ack;  // when !ok
    StoredVisit visit;     // when ok
};

// A record id as it may appear in the audit log: bounded, and only the characters plainId
// allows (anything else as '?'), so a hostile id neither fills the database nor the terminal.
std::string auditId(std::string_view id) {
    std::string out;
    for (unsigned char c : id.substr(0, 128))
        out.push_back(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':' ? char(c) : '?');
    if (id.size() > 128) out += "...(" + std::to_string(id.size()) + " bytes)";
    return out;
}

std::string andMore(size_t n) { return n > 1 ? " (and " + std::to_string(n - 1) + " more)" : ""; }

}  // namespace

Date visitDay(const Record& record) {
    return Date{int32_t(std::clamp<int64_t>(record.updatedAt, 0, int64_t(1) << 40) / 86400)};
}

FormSession blankSession(std::shared_ptr<const Template> survey, Date today) {
    FormSession session(std::move(survey), "blank", 1);
    session.setToday(today);
    return session;
}

namespace {

// The session that judged `record`, this thread's own: restore() starts every visit from a
// blank state itself, so the session is reused as it is (its buffers with it) while the
// template and visit day stay the same, and copied from the blank one only when they change.
// The reused session holds its template, so the same address is the same template. Valid
// until this thread checks the next record.
// `restore` puts the visit into the session (a Record, or a record's bytes) and returns what it
// could not take.
template <typename Restore>
FormSession& judge(const FormSession& blank, RecordProblems& out, Restore&& restore) {
    thread_local std::optional<FormSession> reused;
    if (!reused) reused.emplace(blank);
    else if (&reused->survey() != &blank.survey() || reused->today() != blank.today()) *reused = blank;
    FormSession& session = *reused;
    out.notTaken = restore(session);
    if (out.notTaken.empty()) out.open = session.validate();
    return session;
}

std::string stratumOf(const FormSession& session) {
    Value s = session.evaluate(session.survey().report.stratum.program);
    return s.isMissing() ? std::string() : s.toString();
}

// The first problem for the officer, "" when none is left (personal answers sealed apart to
// the custodian are not missing ones).
std::string firstProblem(const Template& t, RecordProblems& found, bool personalSealedApart) {
    const std::vector<std::string>& taken = found.notTaken;
    if (!taken.empty()) return taken.front() + andMore(taken.size());
    std::vector<Problem>& open = found.open;
    if (personalSealedApart)
        std::erase_if(open, [&](const Problem& p) {
            return p.kind == ProblemKind::Required && p.at.question >= 0 && t.questions[size_t(p.at.question)].pii;
        });
    if (open.empty()) return "";
    const Problem& p = open.front();
    const char* kind = p.kind == ProblemKind::Required     ? "needs an answer"
                       : p.kind == ProblemKind::Constraint ? "breaks its rule"
                                                           : "holds a choice that is not available";
    return "'" + p.questionId + "' " + kind + (p.message.empty() ? "" : " (" + p.message + ")") + andMore(open.size());
}

// The cluster code the session's answers give (the flagship's `cluster`, or its specify-other
// text), "" when they give none.
std::string answeredCluster(const FormSession& session) {
    auto answered = [&](const char* id) -> std::string {
        const Template& t = session.survey();
        int q = t.indexOf(id);
        if (q < 0 || t.questions[size_t(q)].repeat >= 0) return {};
        const Value& v = session.value(q);
        return v.isMissing() ? std::string() : v.toString();
    };
    std::string code = answered("cluster");
    if (code == "other") code = answered("cluster_other");
    return code;
}

}  // namespace

RecordProblems recordProblems(const FormSession& blank, const Record& record, Record* recomputed,
                              std::string* answeredStratum) {
    RecordProblems out;
    FormSession& session = judge(blank, out, [&](FormSession& s) { return s.restore(record); });
    if (!out.notTaken.empty()) return out;
    // Made even with problems open: the caller may excuse some (personal answers sealed apart).
    if (recomputed) *recomputed = session.toRecord();
    if (answeredStratum) *answeredStratum = stratumOf(session);
    return out;
}

std::string checkRecordAgainstTemplate(const FormSession& blank, const Record& record, bool personalSealedApart,
                                       Record& recomputed, std::string* answeredStratum) {
    RecordProblems found = recordProblems(blank, record, &recomputed, answeredStratum);
    std::string why = firstProblem(blank.survey(), found, personalSealedApart);
    if (!why.empty()) return why;
    recomputed.updatedAt = record.updatedAt;
    recomputed.parentId = record.parentId;
    recomputed.assignment = record.assignment;
    return "";
}

namespace {

template <typename Restore>
CheckedRecord checkForStorage(const FormSession& blank, const Record& header, Restore&& restore,
                              bool personalSealedApart) {
    CheckedRecord out;
    RecordProblems found;
    FormSession& session = judge(blank, found, restore);
    out.problem = firstProblem(blank.survey(), found, personalSealedApart);
    if (!out.problem.empty()) return out;
    out.answeredCluster = answeredCluster(session);
    out.answeredStratum = stratumOf(session);
    out.bytes = session.toRecordBytes(header.parentId, true);
    return out;
}

}  // namespace

CheckedRecord checkRecordForStorage(const FormSession& blank, const Record& record, bool personalSealedApart) {
    return checkForStorage(blank, record, [&](FormSession& s) { return s.restore(record); }, personalSealedApart);
}

CheckedRecord checkRecordForStorage(const FormSession& blank, const Record& header, std::string_view bytes,
                                    bool personalSealedApart) {
    return checkForStorage(blank, header, [&](FormSession& s) { return s.restore(bytes); }, personalSealedApart);
}

// The second thread a big batch's checks share, kept for the service's life rather than
// started for each batch: what a thread keeps from one visit to the next (the session it
// restores visits into, zstd's prepared dictionary) then outlives a batch too.
class IngestService::Helper {
public:
    Helper() : m_thread([this] { run(); }) {}
    ~Helper() {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_one();
        m_thread.join();
    }
    // `job` started on this thread, or nothing when it is working for another request already
    // (the caller then starts a thread of its own, as every batch did before).
    std::optional<std::future<void>> tryStart(std::function<void()> job) {
        std::lock_guard lock(m_mutex);
        if (m_job || m_working) return std::nullopt;
        m_job.emplace(std::move(job));
        std::future<void> done = m_job->get_future();
        m_wake.notify_one();
        return done;
    }

private:
    void run() {
        std::unique_lock lock(m_mutex);
        for (;;) {
            m_wake.wait(lock, [&] { return m_stopping || m_job; });
            if (!m_job) return;  // stopping, and nothing left to do
            std::packaged_task<void()> job = std::move(*m_job);
            m_job.reset();
            m_working = true;
            lock.unlock();
            job();  // an exception goes to the caller, through the future
            lock.lock();
            m_working = false;
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::optional<std::packaged_task<void()>> m_job;
    bool m_working = false, m_stopping = false;
    std::thread m_thread;  // last: it starts once the rest exists
};

IngestService::~IngestService() = default;

IngestService::IngestService(AggregatorStorage& storage, const ProjectKeys& keys, IngestOptions options, Clock clock)
    : m_storage(storage), m_keys(keys), m_options(std::move(options)), m_clock(std::move(clock)) {
    ensureSodium();
    m_assignmentKey = assignmentTokenKey(m_keys);
    if (!m_options.auditHeadFile.empty())
        m_headSigner = std::make_unique<AuditHeadSigner>(m_options.auditHeadFile, m_keys.signingSecretKey);
}

void IngestService::signHead() {
    if (!m_headSigner) return;
    try {
        m_headSigner->refresh(m_storage, m_clock());
    } catch (const std::exception&) {
        // What was stored stays stored; the next change signs a head covering this one, and
        // `audit verify` says how many entries no signed head covers yet.
    }
}

uint64_t IngestService::sweepChunks() {
    int64_t now = m_clock();
    m_lastChunkSweep.store(now);
    return m_storage.dropUncommittedChunks(now - m_options.chunkMaxAgeSeconds);
}

std::shared_ptr<const Template> IngestService::templateFor(const std::string& id, const std::string& version) {
    std::string key = id + "@" + version;
    {
        std::lock_guard lock(m_templatesMutex);
        auto it = m_templates.find(key);
        if (it != m_templates.end()) return it->second;
    }
    auto published = m_storage.findTemplate(id, version);
    if (!published) return nullptr;  // not cached: it may be published a moment later
    TemplateLoadResult loaded = loadTemplateJson(published->jsonText, key);
    if (!loaded.ok()) return nullptr;
    std::lock_guard lock(m_templatesMutex);
    m_templates.emplace(key, loaded.survey);
    return loaded.survey;
}

std::shared_ptr<const FormSession> IngestService::sharedBlank(const std::shared_ptr<const Template>& survey, Date day) {
    auto key = std::make_pair(survey.get(), day.days);
    {
        std::lock_guard lock(m_blanksMutex);
        auto it = m_blanks.find(key);
        if (it != m_blanks.end()) return it->second;
    }
    // Only read (copied) once made: several threads may copy one at once.
    auto made = std::make_shared<const FormSession>(blankSession(survey, day));
    std::lock_guard lock(m_blanksMutex);
    if (m_blanks.size() >= 256) m_blanks.clear();  // visits of many days: start again
    return m_blanks.emplace(key, made).first->second;
}

std::optional<DeviceRow> IngestService::deviceFor(const std::vector<uint8_t>& publicKey) {
    auto device = m_storage.findDevice(publicKey);
    if (!device || device->revokedAt != 0) return std::nullopt;
    return device;
}

namespace {

// The checks every signed device request passes, in this order: fresh (unless it came on a
// stick), from a known device, not revoked, signature. Refusals that concern a known device
// go into the audit log.
struct RequestCheck {
    std::optional<DeviceRow> device;
    std::optional<ErrorReply> error;
};

RequestCheck checkRequest(AggregatorStorage& storage, int64_t now, const char* what,
                          const std::vector<uint8_t>& publicKey, int64_t sentAt, const std::vector<uint8_t>& bytes,
                          const std::vector<uint8_t>& signature, bool checkFreshness) {
    RequestCheck result;
    std::optional<DeviceRow> device = publicKey.size() == crypto_sign_PUBLICKEYBYTES ? storage.findDevice(publicKey)
                                                                                     : std::nullopt;
    auto refuse = [&](ErrorCode code, std::string message, const char* detail) {
        if (device) storage.appendAudit(AuditEvent{now, "refused", device->deviceId, what, detail});
        result.error = error(code, std::move(message));
        return result;
    };
    if (checkFreshness && (sentAt < now - proto::kMaxClockSkewSeconds || sentAt > now + proto::kMaxClockSkewSeconds)) {
        int64_t minutes = (sentAt > now ? sentAt - now : now - sentAt) / 60;
        return refuse(ErrorCode::StaleRequest,
                      "the request was signed " + std::to_string(minutes) + " minutes " +
                          (sentAt > now ? "ahead of" : "behind") +
                          " the aggregator's clock (at most 15 minutes allowed): set the device's date and time, then sync again",
                      "stale request");
    }
    if (!device)
        return refuse(ErrorCode::UnknownDevice,
                      "this device is not enrolled with this aggregator: ask the survey coordinator for an enrolment code",
                      "unknown device");
    if (device->revokedAt != 0)
        return refuse(ErrorCode::RevokedDevice,
                      "this device (" + device->deviceId +
                          ") was revoked by the survey coordinator: it can no longer send visits; contact them",
                      "revoked device");
    if (!proto::verifySignature(bytes, signature, publicKey))
        return refuse(ErrorCode::BadSignature,
                      "the request's signature does not verify under this device's key: it was altered on the way, "
                      "or the app's key store is damaged",
                      "bad request signature");
    result.device = std::move(device);
    return result;
}

}  // namespace

Answer<proto::EnrolReply> IngestService::enrol(const proto::EnrolRequest& request) {
    int64_t now = m_clock();
    if (request.sentAt < now - proto::kMaxClockSkewSeconds || request.sentAt > now + proto::kMaxClockSkewSeconds)
        return error(ErrorCode::StaleRequest,
                     "the enrolment request was signed more than 15 minutes away from the aggregator's clock: set the "
                     "device's date and time, then try again");
    if (request.devicePublicKey.size() != crypto_sign_PUBLICKEYBYTES ||
        !proto::verifySignature(proto::signingBytes(request), request.signature, request.devicePublicKey))
        return error(ErrorCode::BadSignature,
                     "the enrolment request's signature does not verify under the key it carries: the app's key store "
                     "may be damaged");

    auto reply = [&](const DeviceRow& device) {
        proto::EnrolReply r;
        r.deviceId = device.deviceId;
        r.officer = device.officer;
        r.cluster = device.cluster;
        r.aggregatorName = m_options.aggregatorName;
        r.ingestPublicKey = m_keys.ingestPublicKey;
        r.templateSigningPublicKey = m_keys.signingPublicKey;
        return r;
    };

    DeviceRow candidate;
    candidate.deviceId = deviceIdFor(request.devicePublicKey);
    candidate.publicKey = request.devicePublicKey;
    candidate.label = request.deviceLabel;
    candidate.enrolledAt = now;
    DeviceRow enrolled;
    RedeemOutcome outcome = m_storage.redeemEnrolmentCode(codeHash(request.code), candidate, now, &enrolled);
    if (outcome == RedeemOutcome::Enrolled) {
        signHead();
        return reply(enrolled);
    }

    if (outcome == RedeemOutcome::AlreadyUsed || outcome == RedeemOutcome::KeyAlreadyEnrolled) {
        // A device that enrolled but lost the reply (a cut connection) asks again: it proved it
        // holds the enrolled key, and the answer holds only public keys, so it gets it again.
        auto existing = m_storage.findDevice(request.devicePublicKey);
        if (existing && existing->revokedAt == 0) return reply(*existing);
        if (existing)
            return error(ErrorCode::RevokedDevice, "this device (" + existing->deviceId +
                                                       ") was revoked by the survey coordinator and cannot enrol again "
                                                       "with the same key: reinstall the app to make a new key");
    }
    switch (outcome) {
        case RedeemOutcome::Unknown:
            return error(ErrorCode::EnrolmentCodeUnknown,
                         "this enrolment code is not known here: check it letter by letter (codes have no 0, O, 1, I "
                         "or L) and that the server address is right");
        case RedeemOutcome::Expired:
            m_storage.appendAudit(AuditEvent{now, "refused", candidate.deviceId, "enrolment", "expired enrolment code"});
            return error(ErrorCode::EnrolmentCodeExpired,
                         "this enrolment code has expired: ask the survey coordinator for a new one");
        default:
            m_storage.appendAudit(AuditEvent{now, "refused", candidate.deviceId, "enrolment", "enrolment code already used"});
            return error(ErrorCode::EnrolmentCodeUsed,
                         "this enrolment code was already used by another device: each code enrols one device; ask "
                         "the survey coordinator for a new one");
    }
}

Answer<proto::UploadReply> IngestService::upload(const proto::UploadBatch& batch) {
    auto answer = uploadChecked(batch, true);
    signHead();
    return answer;
}

Answer<proto::UploadReply> IngestService::uploadChecked(const proto::UploadBatch& batch, bool checkFreshness,
                                                        std::vector<std::string>* contentHashes) {
    int64_t now = m_clock();
    RequestCheck check = checkRequest(m_storage, now, "upload", batch.devicePublicKey, batch.sentAt,
                                      proto::signingBytes(batch), batch.signature, checkFreshness);
    if (check.error) return *check.error;
    const DeviceRow& device = *check.device;

    // Templates (and the record dictionaries derived from them) first, once per distinct
    // version, so the worker threads only read.
    struct TemplateUse {
        std::shared_ptr<const Template> survey;
        std::string dictionary;
    };
    std::map<std::string, TemplateUse> templates;
    for (const auto& w : batch.envelopes) {
        std::string key = w.templateId + "@" + w.templateVersion;
        if (templates.count(key)) continue;
        TemplateUse& use = templates[key];
        use.survey = templateFor(w.templateId, w.templateVersion);
        if (use.survey) use.dictionary = recordDictionary(*use.survey);
    }

    std::vector<Checked> checked(batch.envelopes.size());
    auto checkRange = [&](size_t from, size_t to) {
        // Blank sessions per template and visit day: shared by every batch (making one
        // evaluates the whole template twice), looked up once per batch and thread.
        std::map<std::pair<const Template*, int32_t>, std::shared_ptr<const FormSession>> blanks;
        auto blankFor = [&](const std::shared_ptr<const Template>& survey, const Record& record) -> const FormSession& {
            Date day = visitDay(record);
            auto key = std::make_pair(survey.get(), day.days);
            auto it = blanks.find(key);
            if (it == blanks.end()) it = blanks.emplace(key, sharedBlank(survey, day)).first;
            return *it->second;
        };
        // What the first pass keeps of a visit that passed it, for the second.
        struct Opened {
            std::optional<SealedEnvelope> env;  // empty: refused in the first pass
            const TemplateUse* use = nullptr;
            CheckedRecord judged;
            std::string unitId;  // the assigned unit its token names ("" for none)
            bool storedAsSealed = false;  // judged.bytes are the main part the device sealed
        };
        std::vector<Opened> passed(to - from);
        auto refuser = [&](size_t i) {
            Checked& c = checked[i];
            c.ack.status = AckStatus::Refused;
            return [&c](RefusalReason reason, std::string message) {
                c.ack.reason = reason;
                c.ack.message = std::move(message);
            };
        };
        // First pass: everything a visit can be refused for without the register.
        for (size_t i = from; i < to; ++i) {
            const proto::WireEnvelope& w = batch.envelopes[i];
            auto refuse = refuser(i);
            Opened& kept = passed[i - from];
            // Ids become keys in both databases (PostgreSQL's text refuses NUL and broken
            // UTF-8) and names in exports: only what newRecordId() and a template id make.
            if (!plainId(w.recordId) || (!w.parentId.empty() && !plainId(w.parentId))) {
                refuse(RefusalReason::BadContent,
                       "a visit arrived with a malformed id (only letters, digits, '-', '_', '.' and ':', at most 128): "
                       "it cannot be accepted");
                continue;
            }
            std::optional<SealedEnvelope> env = proto::fromWire(w, batch.devicePublicKey);
            if (!env) {
                refuse(RefusalReason::BadSignature,
                       "visit " + w.recordId + " arrived malformed (a hash or its signature has the wrong size): send it again");
                continue;
            }
            // The template's dictionary is needed to open the record, and the hashes the
            // signature covers come from the opened record: so the template is checked first.
            const TemplateUse& use = templates.at(w.templateId + "@" + w.templateVersion);
            if (!use.survey) {
                refuse(RefusalReason::UnknownTemplate,
                       "visit " + w.recordId + " uses template " + w.templateId + " version " + w.templateVersion +
                           ", which was never published on this aggregator: ask the survey coordinator");
                continue;
            }
            // The record as the device sealed it, its answers read from these bytes straight into
            // the session below; wiped once compared with what is stored.
            std::string sealedBytes;
            auto opened =
                openEnvelope(*env, m_keys.ingestPublicKey, m_keys.ingestSecretKey, use.dictionary, &sealedBytes, false);
            if (auto* e = std::get_if<EnvelopeError>(&opened)) {
                switch (*e) {
                    case EnvelopeError::BadSignature:
                        refuse(RefusalReason::BadSignature,
                               "visit " + w.recordId +
                                   " is not signed by this device, or was altered after it was finished: it cannot be accepted");
                        break;
                    case EnvelopeError::CannotOpen:
                        refuse(RefusalReason::CannotOpen,
                               "visit " + w.recordId +
                                   " does not open with this aggregator's key: it was sealed to another aggregator (check "
                                   "the one the device is enrolled with) or damaged on the way");
                        break;
                    default:
                        refuse(RefusalReason::BadContent,
                               "visit " + w.recordId + " opens, but is not the record its header names: it cannot be accepted");
                }
                continue;
            }
            const Record& record = std::get<OpenedEnvelope>(opened).record;  // its header only
            // Judged by the session the device runs; what is stored is written straight from it
            // (calculations recomputed here, personal answers left out).
            CheckedRecord judged =
                checkRecordForStorage(blankFor(use.survey, record), record, sealedBytes, !env->sealedPersonal.empty());
            // Stored as sealed (calculations agree, personal answers sealed apart): the envelope
            // binds the record, and the audit digest need not hash it again.
            kept.storedAsSealed = judged.bytes == sealedBytes;
            sodium_memzero(sealedBytes.data(), sealedBytes.size());
            if (!judged.problem.empty()) {
                refuse(RefusalReason::BadContent, "visit " + w.recordId + " does not meet template " + w.templateId +
                                                      " version " + w.templateVersion + ": " + judged.problem +
                                                      "; it cannot be accepted");
                continue;
            }
            // Reports group visits by the cluster the aggregator enrolled the device for, never
            // by what a device answers: an answer naming another cluster would move figures.
            if (const std::string& answered = judged.answeredCluster; !answered.empty() && answered != device.cluster) {
                refuse(RefusalReason::BadContent,
                       "visit " + w.recordId + " records cluster '" + answered + "', but this device is enrolled for '" +
                           device.cluster + "': the coordinator must enrol the device for that cluster before its "
                           "visits there can count");
                continue;
            }
            // The stratum the report weights by comes from the register, through the assignment
            // token this aggregator gave the device for the unit; never from the answers.
            if (!record.assignment.empty()) {
                std::optional<AssignmentClaim> claim = openAssignmentToken(m_assignmentKey, record.assignment);
                if (!claim) {
                    refuse(RefusalReason::BadContent,
                           "visit " + w.recordId + " names an assignment this aggregator did not make (the token was "
                           "altered, or comes from another project): it cannot be accepted");
                    continue;
                }
                if (claim->deviceId != device.deviceId) {
                    refuse(RefusalReason::BadContent,
                           "visit " + w.recordId + " names a unit assigned to another device: a device sends visits "
                           "only of the units assigned to it, or of units found in the field (no assignment)");
                    continue;
                }
                kept.unitId = std::move(claim->unitId);
            }
            kept.env = std::move(env);
            kept.use = &use;
            kept.judged = std::move(judged);
        }
        // The register units the range names, in one read.
        std::vector<std::string> unitIds;
        for (const Opened& kept : passed)
            if (kept.env && !kept.unitId.empty()) unitIds.push_back(kept.unitId);
        const std::map<std::string, RegisterUnit> units = m_storage.findUnits(unitIds);
        // Second pass: the register's say, and the row to store.
        for (size_t i = from; i < to; ++i) {
            Opened& kept = passed[i - from];
            if (!kept.env) continue;
            const proto::WireEnvelope& w = batch.envelopes[i];
            Checked& c = checked[i];
            auto refuse = refuser(i);
            const std::string& answeredStratum = kept.judged.answeredStratum;
            const std::optional<SealedEnvelope>& env = kept.env;
            std::string registerStratum, review;
            if (!kept.unitId.empty()) {
                auto found = units.find(kept.unitId);
                if (found == units.end()) {
                    refuse(RefusalReason::BadContent,
                           "visit " + w.recordId + " names an assigned unit that is no longer on the cluster register: "
                           "ask the survey coordinator");
                    continue;
                }
                const RegisterUnit& unit = found->second;
                if (unit.cluster != device.cluster) {
                    refuse(RefusalReason::BadContent,
                           "visit " + w.recordId + " names a unit the register now places in cluster '" + unit.cluster +
                               "', but this device is enrolled for '" + device.cluster + "': ask the survey coordinator");
                    continue;
                }
                registerStratum = unit.stratum;
                if (!answeredStratum.empty() && answeredStratum != registerStratum)
                    review = "its answers put the unit in size class '" + answeredStratum + "', the register in '" +
                             registerStratum + "' (counted in the register's)";
            } else if (kept.use->survey->report.stratum.present()) {
                review = "no assigned unit (found in the field): counted in the size class its answers give" +
                         (answeredStratum.empty() ? std::string() : " ('" + answeredStratum + "')");
            }
            c.ok = true;
            c.visit.registerStratum = std::move(registerStratum);
            c.visit.review = std::move(review);
            c.visit.recordId = env->recordId;
            c.visit.contentHash = env->contentHash;
            c.visit.parentId = env->parentId;
            c.visit.templateId = env->templateId;
            c.visit.templateVersion = env->templateVersion;
            c.visit.deviceId = device.deviceId;
            c.visit.cluster = device.cluster;
            c.visit.receivedAt = now;
            c.visit.envelope = encodeEnvelope(*env);
            // Copied as bytes: from char to uint8_t the copy goes a byte at a time, not as a memcpy.
            const auto* recordBytes = reinterpret_cast<const uint8_t*>(kept.judged.bytes.data());
            c.visit.record.assign(recordBytes, recordBytes + kept.judged.bytes.size());
            // The row digest for the audit entry, here on two threads rather than one by one
            // under the storage's write lock (it hashes the envelope, and the record unless it
            // is stored as sealed: a few KB).
            c.visit.auditDetail = visitAuditDetail(c.visit, kept.storedAsSealed);
        }
    };
    // Signature checks and unsealing dominate: a big batch is shared with a second thread.
    size_t n = checked.size();
    if (n >= 16) {
        size_t half = n / 2;
        std::call_once(m_helperStarted, [this] { m_helper = std::make_unique<Helper>(); });
        std::optional<std::future<void>> other = m_helper->tryStart([&] { checkRange(half, n); });
        if (!other) other = std::async(std::launch::async, checkRange, half, n);
        try {
            checkRange(0, half);
        } catch (...) {
            other->wait();  // the other half reads this frame's variables: it must end first
            throw;
        }
        other->get();
    } else {
        checkRange(0, n);
    }

    if (contentHashes) {
        contentHashes->resize(n);
        for (size_t i = 0; i < n; ++i) {
            const auto& w = batch.envelopes[i];
            (*contentHashes)[i] = checked[i].ok        ? checked[i].visit.contentHash
                                  : w.contentHash.size() == 32 ? hexOf(w.contentHash)
                                                               : std::string();
        }
    }
    // Within the batch: an id repeated is answered here (the same content: Duplicate; other
    // content: Conflict) and stored once; and a correction must name a visit of this same
    // device (earlier in this batch, or stored), or any device could retire anyone's visit.
    std::map<std::string, size_t> firstInBatch;  // record id -> index of its first good envelope
    std::vector<std::pair<size_t, size_t>> repeats;  // (index, index of the first)
    for (size_t i = 0; i < n; ++i) {
        if (!checked[i].ok) continue;
        const StoredVisit& v = checked[i].visit;
        if (auto it = firstInBatch.find(v.recordId); it != firstInBatch.end()) {
            repeats.emplace_back(i, it->second);
            checked[i].ok = false;
            continue;
        }
        if (!v.parentId.empty() && !firstInBatch.count(v.parentId) &&
            !m_storage.findDeviceVisit(device.deviceId, v.parentId)) {
            checked[i].ok = false;
            checked[i].ack.status = AckStatus::Refused;
            checked[i].ack.reason = RefusalReason::BadContent;
            checked[i].ack.message = "visit " + v.recordId + " is a correction of visit " + v.parentId +
                                     ", which this device has not sent: a device can correct only its own visits "
                                     "(send the visit it corrects first)";
            continue;
        }
        firstInBatch.emplace(v.recordId, i);
    }
    std::vector<StoredVisit> good;
    std::vector<size_t> goodIndex;
    for (size_t i = 0; i < n; ++i)
        if (checked[i].ok) {
            good.push_back(std::move(checked[i].visit));
            goodIndex.push_back(i);
        }
    std::vector<PutOutcome> outcomes;
    if (!good.empty()) outcomes = m_storage.putVisits(good);

    proto::UploadReply reply;
    reply.acks.resize(n);
    // Refusals to the log: one entry each up to the cap, then one entry for the rest.
    std::vector<AuditEvent> refusals;
    size_t unlogged = 0;
    auto logRefusal = [&](const std::string& recordId, const char* reason) {
        if (refusals.size() < m_options.maxRefusalAuditRows)
            refusals.push_back(AuditEvent{now, "refused", device.deviceId, auditId(recordId), reason});
        else
            ++unlogged;
    };
    std::vector<size_t> goodPosition(n, SIZE_MAX);
    for (size_t k = 0; k < goodIndex.size(); ++k) goodPosition[goodIndex[k]] = k;
    for (const auto& [i, first] : repeats) {
        proto::RecordAck& ack = checked[i].ack;
        const StoredVisit& v = checked[i].visit;
        const StoredVisit& f = good[goodPosition[first]];
        if (v.contentHash == f.contentHash) {
            ack = {};  // Duplicate below, once its first copy's outcome is known
            ack.status = AckStatus::Duplicate;
        } else {
            ack.status = AckStatus::Refused;
            ack.reason = RefusalReason::Conflict;
            ack.message = "visit " + v.recordId + " appears twice in this batch with different answers: a correction "
                          "must be a new visit that names this one as its parent";
        }
    }
    for (size_t i = 0; i < n; ++i)
        if (!checked[i].ok) {
            reply.acks[i] = checked[i].ack;
            if (checked[i].ack.status == AckStatus::Refused)
                logRefusal(batch.envelopes[i].recordId, reasonWord(checked[i].ack.reason));
        }
    for (const auto& [i, first] : repeats) {
        // A repeat of a visit that was itself refused (a conflict with what is on file) is refused too.
        size_t k = goodPosition[first];
        if (reply.acks[i].status == AckStatus::Duplicate && k < outcomes.size() && outcomes[k] == PutOutcome::Conflict) {
            reply.acks[i].status = AckStatus::Refused;
            reply.acks[i].reason = RefusalReason::Conflict;
            reply.acks[i].message = "visit " + good[k].recordId +
                                    " was already received with different answers: a correction must be a new visit "
                                    "that names this one as its parent";
        }
    }
    if (unlogged) refusals.push_back(AuditEvent{now, "refused", device.deviceId, "upload",
                                                std::to_string(unlogged) + " more envelopes refused in this request"});
    for (const AuditEvent& e : refusals) m_storage.appendAudit(e);
    for (size_t k = 0; k < goodIndex.size(); ++k) {
        proto::RecordAck& ack = reply.acks[goodIndex[k]];
        switch (k < outcomes.size() ? outcomes[k] : PutOutcome::Conflict) {
            case PutOutcome::Stored: ack.status = AckStatus::Stored; break;
            case PutOutcome::Duplicate: ack.status = AckStatus::Duplicate; break;
            case PutOutcome::Conflict:
                ack.status = AckStatus::Refused;
                ack.reason = RefusalReason::Conflict;
                ack.message = "visit " + good[k].recordId +
                              " was already received with different answers: a correction must be a new visit that "
                              "names this one as its parent";
                break;
        }
    }
    // After the batch committed: whoever keeps figures from the visits (the baseline report)
    // hears of each new one. An observer's failure must not undo what is stored.
    if (m_onStored)
        for (size_t k = 0; k < goodIndex.size() && k < outcomes.size(); ++k)
            if (outcomes[k] == PutOutcome::Stored) {
                try {
                    m_onStored(good[k]);
                } catch (const std::exception&) {
                    // The observer rebuilds from storage when it next reports; nothing is lost.
                }
            }
    return reply;
}

Answer<proto::Updates> IngestService::updates(const proto::UpdatesRequest& request) {
    int64_t now = m_clock();
    RequestCheck check = checkRequest(m_storage, now, "updates", request.devicePublicKey, request.sentAt,
                                      proto::signingBytes(request), request.signature, true);
    if (check.error) return *check.error;
    const DeviceRow& device = *check.device;
    size_t limit = std::max<size_t>(1, m_options.feedPageSize);
    std::vector<FeedItem> items = m_storage.feedSince(request.cursor, device.cluster, device.deviceId, limit);

    proto::Updates reply;
    reply.cursor = request.cursor;
    reply.more = items.size() >= limit;
    std::set<std::string> commentedRecords;
    // Templates carry their images (up to 8 MiB each): a page holds templates up to this much
    // text, and at least one, so a reply stays well inside the frame limits; the rest follow
    // on the next page (more = true, the cursor stops before them).
    constexpr size_t kTemplateBytesPerReply = 12u * 1024 * 1024;
    size_t templateBytes = 0;
    for (const FeedItem& item : items) {
        if (item.kind == FeedKind::Template) {
            auto at = item.key.rfind('@');
            auto t = at == std::string::npos ? std::nullopt
                                             : m_storage.findTemplate(std::string_view(item.key).substr(0, at),
                                                                      std::string_view(item.key).substr(at + 1));
            if (t) {
                if (!reply.templates.empty() && templateBytes + t->jsonText.size() > kTemplateBytesPerReply) {
                    reply.more = true;
                    break;
                }
                templateBytes += t->jsonText.size();
                reply.templates.push_back({t->templateId, t->version, t->jsonText, t->signature});
            }
            reply.cursor = std::max(reply.cursor, item.seq);
            continue;
        }
        reply.cursor = std::max(reply.cursor, item.seq);
        switch (item.kind) {
            case FeedKind::Template: break;  // above
            case FeedKind::Assignment: {
                auto unit = m_storage.findUnit(item.key);
                if (!unit) break;
                // The token names the unit and this device to the aggregator alone; the device
                // keeps it in the visit, which is how ingest knows the unit's register stratum.
                nlohmann::json j{{"unit_id", unit->unitId},   {"name", unit->name},   {"cluster", unit->cluster},
                                 {"district", unit->district}, {"state", unit->state}, {"stratum", unit->stratum},
                                 {"sector", unit->sector},
                                 {"assignment_token", makeAssignmentToken(m_assignmentKey, unit->unitId, device.deviceId)}};
                reply.assignments.push_back({unit->unitId, j.dump()});
                break;
            }
            case FeedKind::Comment: {
                // A record's comments travel together; several feed items for one record in a
                // page send them once.
                if (!commentedRecords.insert(item.key).second) break;
                for (const auto& c : m_storage.commentsFor(device.deviceId, item.key))
                    reply.comments.push_back({c.recordId, c.text, c.at});
                break;
            }
        }
    }
    return reply;
}

Answer<proto::ChunkQueryReply> IngestService::queryChunks(const proto::ChunkQuery& query) {
    RequestCheck check = checkRequest(m_storage, m_clock(), "chunk query", query.devicePublicKey, query.sentAt,
                                      proto::signingBytes(query), query.signature, true);
    if (check.error) return *check.error;
    for (const auto& h : query.hashes)
        if (h.size() != 32) return error(ErrorCode::MalformedBody, "a chunk name must be a 32-byte hash");
    return proto::ChunkQueryReply{m_storage.haveChunks(query.hashes)};
}

Answer<proto::Ok> IngestService::putChunk(const proto::ChunkUpload& upload) {
    RequestCheck check = checkRequest(m_storage, m_clock(), "chunk", upload.devicePublicKey, upload.sentAt,
                                      proto::signingBytes(upload), upload.signature, true);
    if (check.error) return *check.error;
    if (upload.data.size() > proto::kMaxChunkBytes)
        return error(ErrorCode::BodyTooLarge, "a chunk may hold at most " + std::to_string(proto::kMaxChunkBytes) +
                                                  " bytes; this one holds " + std::to_string(upload.data.size()));
    // Named by its own hash here: a chunk cannot be stored under another chunk's name.
    int64_t now = m_clock();
    m_storage.putChunk(proto::chunkHash(upload.data.data(), upload.data.size()), upload.data, now);
    // Now and then, chunks never committed go: they cost disk and no attachment needs them.
    int64_t last = m_lastChunkSweep.load();
    if (now - last >= m_options.chunkSweepEverySeconds && m_lastChunkSweep.compare_exchange_strong(last, now))
        m_storage.dropUncommittedChunks(now - m_options.chunkMaxAgeSeconds);
    return proto::Ok{};
}

Answer<proto::Ok> IngestService::commitAttachment(const proto::AttachmentCommit& commit) {
    int64_t now = m_clock();
    RequestCheck check = checkRequest(m_storage, now, "attachment", commit.devicePublicKey, commit.sentAt,
                                      proto::signingBytes(commit), commit.signature, true);
    if (check.error) return *check.error;
    const DeviceRow& device = *check.device;
    auto visit = m_storage.findDeviceVisit(device.deviceId, commit.recordId);
    if (!visit)
        return error(ErrorCode::UnknownAttachment,
                     "attachment " + commit.attachmentId + " names visit " + commit.recordId +
                         ", which this device has not sent: send the visit first, then its attachments");
    // A list naming one chunk many times would make a huge attachment of one small chunk.
    {
        std::set<std::vector<uint8_t>> distinct(commit.chunkHashes.begin(), commit.chunkHashes.end());
        if (distinct.size() != commit.chunkHashes.size())
            return error(ErrorCode::MalformedBody, "attachment " + auditId(commit.attachmentId) +
                                                       " names the same chunk more than once: each chunk of a photo "
                                                       "is different; send the attachment again");
    }
    uint64_t total = 0;
    size_t missing = 0;
    for (const auto& h : commit.chunkHashes) {
        auto data = h.size() == 32 ? m_storage.readChunk(h) : std::nullopt;
        if (!data || proto::chunkHash(data->data(), data->size()) != h) {
            ++missing;
            continue;
        }
        total += data->size();
    }
    if (missing)
        return error(ErrorCode::UnknownAttachment, "attachment " + commit.attachmentId + ": " + std::to_string(missing) +
                                                       " of its " + std::to_string(commit.chunkHashes.size()) +
                                                       " chunks have not arrived: send them, then commit again");
    if (total != commit.totalBytes)
        return error(ErrorCode::MalformedBody, "attachment " + commit.attachmentId + ": its chunks hold " +
                                                   std::to_string(total) + " bytes, the commit says " +
                                                   std::to_string(commit.totalBytes));
    AttachmentRow row{commit.recordId, commit.attachmentId, device.deviceId, commit.mediaType,
                      commit.totalBytes, commit.chunkHashes, now};
    m_storage.putAttachment(row, AuditEvent{now, "attachment", device.deviceId, commit.recordId,
                                            commit.attachmentId + " " + std::to_string(total) + " bytes"});
    signHead();
    return proto::Ok{};
}

Answer<proto::Receipt> IngestService::importBundle(const proto::Bundle& bundle) {
    int64_t now = m_clock();
    proto::Receipt receipt;
    receipt.aggregatorName = m_options.aggregatorName;
    receipt.createdAt = now;
    size_t stored = 0, duplicate = 0, refused = 0;
    for (const auto& batch : bundle.batches) {
        // A stick may take days to arrive: the signature proves who sent it, not how fresh it is.
        std::vector<std::string> hashes;
        auto answer = uploadChecked(batch, false, &hashes);
        auto* reply = std::get_if<proto::UploadReply>(&answer);
        for (size_t i = 0; i < batch.envelopes.size(); ++i) {
            const auto& w = batch.envelopes[i];
            proto::ReceiptEntry entry;
            entry.recordId = w.recordId;
            entry.contentHash = i < hashes.size()          ? hashes[i]
                                : w.contentHash.size() == 32 ? hexOf(w.contentHash)
                                                             : std::string();
            if (reply && i < reply->acks.size()) {
                entry.ack = reply->acks[i];
            } else {
                const ErrorReply& e = std::get<ErrorReply>(answer);
                entry.ack = {AckStatus::Refused, RefusalReason::BadSignature, e.message};
            }
            if (entry.ack.status == AckStatus::Stored) ++stored;
            else if (entry.ack.status == AckStatus::Duplicate) ++duplicate;
            else ++refused;
            receipt.entries.push_back(std::move(entry));
        }
    }
    m_storage.appendAudit(AuditEvent{now, "import", "operator", bundle.createdBy.empty() ? "bundle" : auditId(bundle.createdBy),
                                     std::to_string(stored) + " stored, " + std::to_string(duplicate) + " duplicate, " +
                                         std::to_string(refused) + " refused"});
    signHead();
    // Signed with the key devices already trust for templates: only this aggregator can tell
    // a device its visits arrived.
    receipt.signature = proto::signerFor(m_keys.signingSecretKey)(proto::signingBytes(receipt));
    return receipt;
}

std::string IngestService::issueEnrolmentCode(std::string_view officer, std::string_view cluster, int64_t validSeconds) {
    std::string code;
    for (size_t i = 0; i < kCodeLength; ++i) {
        if (i && i % 4 == 0) code.push_back('-');
        code.push_back(kCodeAlphabet[randombytes_uniform(uint32_t(kCodeAlphabet.size()))]);
    }
    int64_t now = m_clock();
    EnrolmentCodeRow row;
    row.codeHash = codeHash(code);
    row.officer = officer;
    row.cluster = cluster;
    row.issuedAt = now;
    row.expiresAt = now + validSeconds;
    // The audit names who may enrol, never the code or its hash.
    m_storage.addEnrolmentCode(row, AuditEvent{now, "enrolment code", "operator", std::string(officer),
                                               "cluster " + std::string(cluster) + ", valid until " + formatUtc(row.expiresAt)});
    signHead();
    return code;
}

std::variant<PublishedTemplate, std::string> IngestService::publishTemplate(std::string_view jsonText,
                                                                          std::string_view fileName) {
    // Every packed image decoded whole, once: no device is sent one that does not decode.
    TemplateLoadOptions options;
    options.decodeMedia = true;
    TemplateLoadResult loaded = loadTemplateJson(jsonText, fileName, options);
    if (!loaded.ok()) {
        std::string text = std::string(fileName) + ": the template has " + std::to_string(loaded.errors.size()) +
                           " problem(s); nothing was published:";
        for (const auto& e : loaded.errors) text += "\n  " + e.toString();
        return text;
    }
    const Template& t = *loaded.survey;
    if (m_storage.findTemplate(t.id, t.version))
        return "template " + t.id + " version " + t.version +
               " is already published: devices may hold it, so it cannot change; give the new one a new version";
    PublishedTemplate p;
    p.templateId = t.id;
    p.version = t.version;
    p.jsonText = jsonText;
    p.publishedAt = m_clock();
    std::vector<uint8_t> bytes = proto::templateSigningBytes(p.templateId, p.version, p.jsonText);
    p.signature.resize(crypto_sign_BYTES);
    crypto_sign_detached(p.signature.data(), nullptr, bytes.data(), bytes.size(), m_keys.signingSecretKey.data());
    if (!m_storage.putTemplate(p, AuditEvent{p.publishedAt, "published", "operator", p.templateId + "@" + p.version,
                                             contentHash(jsonText)}))
        return "template " + t.id + " version " + t.version + " is already published: give the new one a new version";
    signHead();
    return p;
}

}  // namespace ck::agg
