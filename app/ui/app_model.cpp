#include "app/ui/app_model.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "app/sync/field_sync.h"
#include "core/crypto/envelope.h"
#include "core/form/interpolate.h"
#include "core/form/number_entry.h"
#include "core/messages/engine_messages.h"
#include "sync/protocol/enrolment_string.h"

namespace ck {
namespace {

constexpr const char* kStoreFileName = "officer.ckstore";
constexpr double kNever = 1e9;
constexpr std::uintmax_t kMaxPhotoBytes = 20u * 1024 * 1024;

// Copies of a passphrase handed to the task thread are wiped when the job is done.
struct SecretText {
    std::string text;
    explicit SecretText(std::string_view s) : text(s) {}
    ~SecretText() {
        if (!text.empty()) sodium_memzero(text.data(), text.size());
    }
    SecretText(const SecretText&) = delete;
    SecretText& operator=(const SecretText&) = delete;
};

std::string mediaTypeOf(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
    if (ext == ".png") return "image/png";
    if (ext == ".webp") return "image/webp";
    return "application/octet-stream";
}

std::string trimmed(std::string text) {
    const char* space = " \t\r\n";
    size_t from = text.find_first_not_of(space);
    if (from == std::string::npos) return {};
    size_t to = text.find_last_not_of(space);
    return text.substr(from, to - from + 1);
}

// "~/x" as the officer types it in a path field.
std::filesystem::path expandHome(const std::string& path) {
    const char* home = std::getenv("HOME");
    if (home && *home && (path == "~" || path.rfind("~/", 0) == 0)) return std::filesystem::path(home) / path.substr(std::min<size_t>(2, path.size()));
    return path;
}

// "{n} visit stored" or "{n} visits stored": the table gives both forms in every language.
std::string counted(size_t n, Text one, Text many, std::string_view language) {
    return uiTextCount(n == 1 ? one : many, language, n);
}

std::string withDetail(std::string sentence, std::string_view detail, std::string_view language) {
    if (detail.empty()) return sentence;
    return sentence + "\n" + technicalDetail(detail, language);
}

// Why the store refused a command, in the officer's language; where the store's own words
// help the coordinator (damage, an unexpected refusal) they follow, quoted.
std::string storeSentence(const StoreFailure& f, std::string_view lang) {
    switch (f.error) {
        case StoreError::WrongPassphrase: return uiText(Text::WrongPassphrase, lang);
        case StoreError::WeakPassphrase:
            if (f.weakness) return passphraseProblemText(*f.weakness, lang);
            break;
        case StoreError::PassphrasesDiffer: return uiText(Text::PassphrasesDiffer, lang);
        case StoreError::NoStore:
        case StoreError::NotAStore:
        case StoreError::Damaged:
        case StoreError::VaultDamaged:
        case StoreError::IntegrityFailure: return withDetail(uiText(Text::StoreDamaged, lang), f.message, lang);
        case StoreError::NewerSchema: return withDetail(uiText(Text::StoreNewer, lang), f.message, lang);
        case StoreError::VisitInvalid: return uiTextCount(Text::ProblemsBeforeFinalise, lang, f.problems.size());
        default: break;
    }
    return withDetail(uiText(Text::StoreRefused, lang), f.message, lang);
}

// Why the aggregator refused a visit: a sentence per refusal code in the officer's language.
// The aggregator's own words (English, naming the question or template at fault) follow,
// quoted and attributed to it, when they say more than the code does.
std::string refusalSentence(std::string_view code, std::string_view message, std::string_view lang) {
    std::string sentence = visitRefusalWords(code, lang);
    if (!message.empty()) sentence += "\n" + fillPlaceholders(uiText(Text::AggregatorWrote, lang), {message});
    return sentence;
}

// A template from the aggregator that was not imported, and why, in the officer's language.
std::string templateRejectionSentence(const TemplateRejection& t, std::string_view lang) {
    const std::string name = t.templateId + " " + t.version;
    switch (t.why) {
        case TemplateRejection::Why::BadSignature: return fillPlaceholders(uiText(Text::TemplateSignatureBad, lang), {name});
        case TemplateRejection::Why::NotThatTemplate: return fillPlaceholders(uiText(Text::TemplateNotThatOne, lang), {name});
        case TemplateRejection::Why::Invalid: break;
    }
    return withDetail(fillPlaceholders(uiText(Text::TemplateNotInstalled, lang), {name}), t.detail, lang);
}

// What a sync or a receipt did, in words for the officer: counts first, then every refusal
// with its reason (they need action: a correction or a word with the coordinator).
// `unitOf` names a refused visit's unit for the officer (its record id when it has none).
std::string describeSync(const SyncSummary& s, std::string_view lang,
                         const std::function<std::string(const std::string&)>& unitOf) {
    std::string text = counted(s.stored, Text::SummaryStoredOne, Text::SummaryStoredMany, lang);
    if (s.duplicates) text += ", " + counted(s.duplicates, Text::SummaryDuplicatesOne, Text::SummaryDuplicatesMany, lang);
    if (s.refused) text += ", " + uiTextCount(Text::SummaryRefused, lang, s.refused);
    text += ".";
    std::vector<std::string> updates;
    if (s.templatesAdded) updates.push_back(counted(s.templatesAdded, Text::SummaryNewTemplatesOne, Text::SummaryNewTemplatesMany, lang));
    if (s.assignments) updates.push_back(counted(s.assignments, Text::SummaryAssignmentsOne, Text::SummaryAssignmentsMany, lang));
    if (s.comments) updates.push_back(counted(s.comments, Text::SummaryCommentsOne, Text::SummaryCommentsMany, lang));
    if (s.attachmentsSent) updates.push_back(counted(s.attachmentsSent, Text::SummaryPhotosOne, Text::SummaryPhotosMany, lang));
    if (!updates.empty()) {
        text += " ";
        text += uiText(Text::SummaryReceived, lang);
        for (size_t i = 0; i < updates.size(); ++i) text += (i ? ", " : " ") + updates[i];
        text += ".";
    }
    for (const auto& r : s.refusedVisits)
        text += "\n" + std::string(uiText(Text::SummaryRefusedLine, lang)) + unitOf(r.recordId) + ": " +
                refusalSentence(r.code, r.message, lang);
    if (s.templatesRejected)
        text += "\n" + counted(s.templatesRejected, Text::SummaryTemplatesRejectedOne, Text::SummaryTemplatesRejectedMany, lang);
    for (const auto& t : s.rejectedTemplates) text += "\n  " + templateRejectionSentence(t, lang);
    // What went wrong in the store or with an attachment: said in the store's own (English)
    // words, quoted as a detail for the coordinator.
    for (const auto& p : s.problems)
        text += "\n" + std::string(uiText(Text::SummaryProblem, lang)) + technicalDetail(p, lang);
    return text;
}

AnswerResult failed(std::string message) {
    AnswerResult r;
    r.status = AnswerStatus::OutOfRange;
    r.message = std::move(message);
    return r;
}

// uiText with every "{n}" (a sentence may name its group twice) and "{total}" filled in.
std::string filled(Text key, std::string_view language, size_t n, size_t total = 0) {
    std::string text = uiText(key, language);
    for (size_t at; (at = text.find("{n}")) != std::string::npos;) text.replace(at, 3, std::to_string(n));
    for (size_t at; (at = text.find("{total}")) != std::string::npos;) text.replace(at, 7, std::to_string(total));
    return text;
}

// Why a sync or an enrolment stopped, as a sentence in the officer's language: what happened
// and what to do. The network library's words stay out of it (they help nobody in the field).
std::string stopSentence(const SyncStop& stop, std::string_view language) {
    using Why = SyncStop::Why;
    switch (stop.why) {
        case Why::NotEnrolled: return uiText(Text::NotEnrolled, language);
        case Why::Unreachable: return uiText(Text::SyncWhyUnreachable, language);
        case Why::WrongServer: return uiText(Text::SyncWhyWrongServer, language);
        case Why::BadReply: return uiText(Text::SyncWhyBadReply, language);
        case Why::Cancelled: return uiText(Text::SyncWhyCancelled, language);
        case Why::Other: return uiText(Text::SyncWhyOther, language);
        case Why::Refused: break;
    }
    if (!stop.refusal) return uiText(Text::SyncWhyRefused, language);
    switch (*stop.refusal) {
        case proto::ErrorCode::UnknownDevice: return uiText(Text::RefusedUnknownDevice, language);
        case proto::ErrorCode::RevokedDevice: return uiText(Text::RefusedRevoked, language);
        case proto::ErrorCode::StaleRequest: return uiText(Text::RefusedClock, language);
        case proto::ErrorCode::RateLimited:
        case proto::ErrorCode::ServerBusy: return uiText(Text::RefusedBusy, language);
        case proto::ErrorCode::WrongProtocolVersion: return uiText(Text::RefusedProtocol, language);
        case proto::ErrorCode::BadSignature: return uiText(Text::RefusedSignature, language);
        case proto::ErrorCode::EnrolmentCodeUnknown: return uiText(Text::EnrolCodeUnknown, language);
        case proto::ErrorCode::EnrolmentCodeExpired: return uiText(Text::EnrolCodeExpired, language);
        case proto::ErrorCode::EnrolmentCodeUsed: return uiText(Text::EnrolCodeUsed, language);
        default: return uiText(Text::SyncWhyRefused, language);
    }
}

std::string enrolmentStringSentence(const proto::EnrolmentStringProblem& p, std::string_view language) {
    using E = proto::EnrolmentStringError;
    switch (p.error) {
        case E::NotFound: return uiText(Text::EnrolStringNotFound, language);
        case E::NewerVersion: return uiText(Text::EnrolStringNewer, language);
        case E::BadCharacter: return filled(Text::EnrolStringBadCharacter, language, p.group) + " (" + p.groupText + ")";
        case E::GroupLength: return filled(Text::EnrolStringGroupLength, language, p.group) + " (" + p.groupText + ")";
        case E::GroupCheck: return filled(Text::EnrolStringGroupCheck, language, p.group) + " (" + p.groupText + ")";
        case E::TooShort: return uiText(Text::EnrolStringTooShort, language);
        case E::Inconsistent: return uiText(Text::EnrolStringInconsistent, language);
    }
    return uiText(Text::EnrolStringNotFound, language);
}

}  // namespace

const char* visitRefusalWords(std::string_view refusalCode, std::string_view language) {
    auto reason = proto::refusalReasonFromName(refusalCode);
    if (!reason) return uiText(Text::VisitRefusedOther, language);
    switch (*reason) {
        case proto::RefusalReason::Conflict: return uiText(Text::VisitRefusedConflict, language);
        case proto::RefusalReason::UnknownTemplate: return uiText(Text::VisitRefusedUnknownTemplate, language);
        case proto::RefusalReason::BadSignature: return uiText(Text::VisitRefusedBadSignature, language);
        case proto::RefusalReason::CannotOpen: return uiText(Text::VisitRefusedCannotOpen, language);
        case proto::RefusalReason::BadContent: return uiText(Text::VisitRefusedBadContent, language);
        case proto::RefusalReason::None: break;
    }
    return uiText(Text::VisitRefusedOther, language);
}

AppModel::AppModel(FieldAppConfig config) : m_config(std::move(config)) {
    if (!m_config.clock) {
        m_config.clock = [] {
            return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
        };
    }
    std::error_code ec;
    std::filesystem::create_directories(m_config.dataDir, ec);
    m_settings = loadAppSettings(appSettingsFile(m_config.dataDir));
    m_screen = storeExists() ? Screen::Unlock : Screen::FirstRun;
    m_lastActivity = m_config.clock();
}

AppModel::~AppModel() {
    // A sync may be waiting minutes to retry on a dead link: closing the app must not wait
    // for it. What it had answered is recorded; the rest goes with the next sync.
    finishSync();
    m_tasks.waitIdle();
    m_tasks.applyFinished();
    auto held = storeLock();
    if (m_store && m_unlocked) m_store->lock();
}

void AppModel::finishSync() {
    if (!m_syncing) return;
    if (m_syncCancelled) *m_syncCancelled = true;
    if (m_syncClient) m_syncClient->cancel();
    m_syncTasks.waitIdle();
    m_syncTasks.applyFinished();
}

std::filesystem::path AppModel::storeFile() const { return m_config.dataDir / kStoreFileName; }

bool AppModel::storeExists() const {
    std::error_code ec;
    return std::filesystem::exists(storeFile(), ec);
}

void AppModel::post(std::string label, std::function<TaskRunner::Apply()> job, bool holdStore) {
    // A job that throws (a disk error, a damaged file) reports it like any other failure.
    m_tasks.post(std::move(label), [this, job = std::move(job), holdStore]() -> TaskRunner::Apply {
        try {
            std::unique_lock<std::recursive_mutex> held;
            if (holdStore) held = storeLock();  // a sync may be running beside this job
            return job();
        } catch (const std::exception& e) {
            return [this, what = std::string(e.what())] { m_error = ui(Text::StorageFailed) + technicalDetail(what, m_settings.language); };
        }
    });
}

void AppModel::checkDurable() {
    if (m_durableTicket == 0 || !m_config.durability) return;
    if (m_config.durability->durableTicket() >= m_durableTicket) {
        m_savedAt = m_committedAt;
        m_durableTicket = 0;
        m_saveError.clear();
    } else if (std::string why = m_config.durability->failure(); !why.empty()) {
        m_saveError = ui(Text::BrowserStorageFailed) + why;  // still pending: the next autosave asks for another copy
    }
}

void AppModel::beginFrame() {
    checkDurable();
    m_tasks.applyFinished();
    m_syncTasks.applyFinished();
    if (m_outboxChanged.exchange(false)) m_visitsStale = true;
    // The idle lock waits for a running sync (it ends, or gives up, within its retry policy).
    if (!busy() && !syncing() && isUnlocked() && secondsUntilIdleLock() <= 0) lock();
}

void AppModel::noteActivity() { m_lastActivity = m_config.clock(); }

void AppModel::waitForTasks() {
    m_syncTasks.waitIdle();
    m_tasks.waitIdle();
    m_tasks.applyFinished();
    m_syncTasks.applyFinished();
    if (m_outboxChanged.exchange(false)) m_visitsStale = true;
}

void AppModel::show(Screen screen) {
    if (!isUnlocked() || busy()) return;
    if ((screen == Screen::Form || screen == Screen::Review) && !m_session) return;
    if (screen == Screen::FirstRun || screen == Screen::Unlock) return;
    clearMessages();
    m_screen = screen;
}

void AppModel::clearMessages() {
    m_error.clear();
    m_notice.clear();
}

void AppModel::reportFailure(std::string message) {
    m_notice.clear();
    m_error = std::move(message);
    m_visitsStale = true;
}

bool AppModel::ready(bool needSession) const {
    return !busy() && isUnlocked() && (!needSession || m_session);
}

// --- passphrase and lock ---

std::optional<std::string> AppModel::passphraseProblem(std::string_view passphrase) const {
    if (auto problem = ck::passphraseProblem(passphrase)) return passphraseProblemText(*problem, m_settings.language);
    return std::nullopt;
}

void AppModel::importBundledTemplates(Store& store, std::string& notes, const std::string& language) const {
    std::error_code ec;
    if (m_config.templatesDir.empty() || !std::filesystem::is_directory(m_config.templatesDir, ec)) return;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(m_config.templatesDir, ec))
        if (e.path().extension() == ".json") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        auto r = store.importTemplate(text.str(), f.filename().string());
        // The loader's own words name the file, the question and the offending text: they
        // are for whoever fixes the template, so they follow the officer's sentence, quoted.
        if (!r)
            notes += withDetail(fillPlaceholders(uiText(Text::TemplateNotInstalled, language), {f.filename().string()}),
                                r.message(), language) +
                     "\n";
    }
}

bool AppModel::createVault(std::string_view passphrase, std::string_view confirmation) {
    clearMessages();
    if (busy() || m_store) return false;
    if (auto why = passphraseProblem(passphrase)) {
        m_error = *why;
        return false;
    }
    if (passphrase != confirmation) {
        m_error = ui(Text::PassphrasesDiffer);
        return false;
    }
    auto pass = std::make_shared<SecretText>(passphrase);
    post(ui(Text::CreatingStore), [this, pass, language = m_settings.language]() -> TaskRunner::Apply {
        auto created = std::make_shared<StoreResult<Store>>(
            Store::create(storeFile(), pass->text, pass->text, m_config.kdf));
        std::string notes;
        if (created->ok()) importBundledTemplates(created->value(), notes, language);
        return [this, created, notes] {
            if (!created->ok()) {
                m_error = storeSentence(created->failure(), m_settings.language);
                return;
            }
            m_store.emplace(std::move(*created).value());
            m_unlocked = true;
            m_notice = notes;
            m_visitsStale = true;
            m_screen = Screen::Visits;
            noteActivity();
        };
    });
    return true;
}

bool AppModel::unlock(std::string_view passphrase) {
    clearMessages();
    if (busy() || isUnlocked()) return false;
    if (!m_store) {
        auto opened = Store::open(storeFile());
        if (!opened) {
            m_error = storeSentence(opened.failure(), m_settings.language);
            return false;
        }
        m_store.emplace(std::move(opened).value());
    }
    auto pass = std::make_shared<SecretText>(passphrase);
    Store* store = &*m_store;
    post(ui(Text::Unlocking), [this, store, pass, language = m_settings.language]() -> TaskRunner::Apply {
        auto status = store->unlock(pass->text);
        std::string notes;
        if (status) importBundledTemplates(*store, notes, language);
        return [this, status, notes] {
            if (!status) {
                m_error = storeSentence(status.failure(), m_settings.language);
                return;
            }
            m_unlocked = true;
            m_notice = notes;
            m_visitsStale = true;
            m_screen = Screen::Visits;
            noteActivity();
            std::string reopen = std::move(m_reopenVisit);
            m_reopenVisit.clear();
            if (!reopen.empty()) resumeVisit(reopen);
        };
    });
    return true;
}

void AppModel::lock() {
    if (busy()) return;
    // Locking forgets the keys the sync is using: it is cancelled first (what the aggregator
    // answered is recorded; the rest goes with the next sync).
    finishSync();
    if (m_session) {
        // A visit with nothing typed was never stored: there is nothing to reopen.
        if (m_draftStored) {
            autosave();
            m_reopenVisit = m_session->recordId();
        }
        m_session.reset();
        m_typed.clear();
    }
    m_position = {};
    m_visits.clear();
    m_visitsStale = true;
    auto held = storeLock();
    if (m_store && m_unlocked) m_store->lock();
    m_unlocked = false;
    m_screen = m_store || storeExists() ? Screen::Unlock : Screen::FirstRun;
}

bool AppModel::changePassphrase(std::string_view oldPassphrase, std::string_view newPassphrase,
                                 std::string_view confirmation) {
    clearMessages();
    if (!ready(false)) return false;
    if (auto why = passphraseProblem(newPassphrase)) {
        m_error = *why;
        return false;
    }
    if (newPassphrase != confirmation) {
        m_error = ui(Text::NewPassphrasesDiffer);
        return false;
    }
    auto oldPass = std::make_shared<SecretText>(oldPassphrase);
    auto newPass = std::make_shared<SecretText>(newPassphrase);
    Store* store = &*m_store;
    post(ui(Text::ChangingPassphrase), [this, store, oldPass, newPass]() -> TaskRunner::Apply {
        auto status = store->changePassphrase(oldPass->text, newPass->text, newPass->text);
        return [this, status] {
            if (!status) {
                m_error = storeSentence(status.failure(), m_settings.language);
                return;
            }
            m_notice = ui(Text::PassphraseChanged);
        };
    });
    return true;
}

double AppModel::secondsUntilIdleLock() const {
    if (!isUnlocked() || m_settings.idleLockMinutes <= 0) return kNever;
    return m_lastActivity + m_settings.idleLockMinutes * 60.0 - m_config.clock();
}

// --- visits ---

const std::vector<VisitRow>& AppModel::visits() {
    if (!ready(false)) {
        if (!isUnlocked()) m_visits.clear();
        return m_visits;
    }
    if (m_visitsStale) {
        auto held = storeLock();
        m_visits.clear();
        auto outbox = m_store->listOutbox();
        for (auto& v : m_store->listVisits()) {
            VisitRow row{std::move(v), std::nullopt};
            for (const auto& e : outbox)
                if (e.recordId == row.visit.id) row.outbox = e;
            m_visits.push_back(std::move(row));
        }
        m_visitsStale = false;
        m_assignedStale = true;
    }
    return m_visits;
}

std::vector<TemplateInfo> AppModel::templates() {
    if (!ready(false)) return {};
    auto held = storeLock();
    return m_store->listTemplates();
}

void AppModel::openSession(FormSession session, std::optional<Position> at, bool stored) {
    if (m_today) session.setToday(*m_today);
    m_session.emplace(std::move(session));
    m_draftStored = stored;
    m_nextRefusedAt = {};
    m_lastFix.reset();
    m_typed.clear();
    Position p = at.value_or(Position{});
    if (!p.valid() || !m_session->isRelevant(p.question, p.instance)) p = m_session->first();
    m_visitsStale = true;
    m_savedAt = 0;
    m_durableTicket = 0;  // another visit: its indicator starts afresh
    m_saveError.clear();
    goTo(p);
}

bool AppModel::startVisit(std::string_view templateId) {
    clearMessages();
    if (!ready(false)) return false;
    auto held = storeLock();
    auto started = m_store->newVisit(templateId);
    if (!started) {
        m_error = storeSentence(started.failure(), m_settings.language);
        return false;
    }
    openSession(std::move(started).value(), std::nullopt, false);
    return true;
}

bool AppModel::resumeVisit(std::string_view visitId) {
    clearMessages();
    if (!ready(false)) return false;
    auto held = storeLock();
    auto resumed = m_store->resumeVisit(visitId);
    if (!resumed) {
        m_error = storeSentence(resumed.failure(), m_settings.language);
        return false;
    }
    // Answers this template version cannot take (it changed since the draft was saved): how
    // many, then the session's own words for whoever looks into it.
    if (!resumed.value().notes.empty()) {
        m_notice = uiTextCount(Text::AnswersNotRestored, m_settings.language, resumed.value().notes.size());
        for (const auto& note : resumed.value().notes) m_notice += "\n" + technicalDetail(note, m_settings.language);
    }
    std::optional<Position> at;
    if (auto it = m_settings.positions.find(std::string(visitId)); it != m_settings.positions.end())
        at = resumed.value().session.find(it->second.questionId, it->second.instance);
    openSession(std::move(resumed.value().session), at, true);
    return true;
}

namespace {

std::string folded(std::string text) {
    text = trimmed(std::move(text));
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return text;
}

std::string jsonText(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string textAnswer(const Record& record, const char* questionId) {
    const Answer* a = record.find(questionId);
    return a && !a->isRepeat && a->value.kind() == ValueKind::Text ? a->value.asText() : std::string();
}

// The answer `value` gives to `q`, when it is valid for it: a text as it is; a choice by
// its name, or by a label (in any language) or name that matches ignoring case and spaces
// ("Tiruppur knitwear (Tamil Nadu)", "tiruppur knitwear" -> tiruppur_knitwear).
std::optional<Value> prefillValue(const Template& t, const Question& q, const std::string& value) {
    if (trimmed(value).empty()) return std::nullopt;
    if (q.type == QuestionType::Text) return Value::text(trimmed(value));
    if (q.type != QuestionType::SelectOne) return std::nullopt;
    const ChoiceList* list = t.choicesOf(q);
    if (!list) return std::nullopt;
    if (list->indexOf(value) >= 0) return Value::text(value);
    std::string want = folded(value);
    std::string wantName = want;
    std::replace(wantName.begin(), wantName.end(), ' ', '_');
    for (const auto& c : list->choices) {
        if (folded(c.name) == wantName) return Value::text(c.name);
        for (const auto& label : c.label.byLanguage)
            if (folded(label) == want) return Value::text(c.name);
    }
    return std::nullopt;
}

}  // namespace

const std::vector<AssignedUnit>& AppModel::assignedUnits() {
    const auto& rows = visits();  // refreshes both lists together
    if (!ready(false)) {
        if (!isUnlocked()) m_assigned.clear();
        return m_assigned;
    }
    if (!m_assignedStale) return m_assigned;
    m_assigned.clear();
    m_assignedStale = false;
    auto held = storeLock();
    auto entries = m_store->listAssignments();
    if (entries.empty()) return m_assigned;
    // Each visit's unit id and name, newest visit first (listVisits() order).
    struct Seen {
        const VisitRow* row;
        std::string unitId, name;
        std::string token;  // the assignment token the visit carries, if any
    };
    std::vector<Seen> seen;
    for (const auto& row : rows) {
        if (!row.visit.error.empty()) continue;
        auto record = m_store->loadVisit(row.visit.id);
        if (!record) continue;
        seen.push_back({&row, folded(textAnswer(record.value(), "register_id")), folded(row.visit.title),
                        record.value().assignment});
        if (seen.back().unitId.empty()) seen.back().unitId = folded(textAnswer(record.value(), "unit_id"));
    }
    for (const auto& e : entries) {
        AssignedUnit unit;
        unit.unitId = e.id;
        // A stored assignment that fails its integrity check: said in the officer's words, the
        // store's after them for the coordinator.
        if (!e.error.empty()) unit.error = std::string(ui(Text::AssignmentUnreadable)) + "\n" + technicalDetail(e.error, m_settings.language);
        if (unit.error.empty()) {
            auto j = nlohmann::json::parse(e.json, nullptr, false);
            if (!j.is_object()) {
                unit.error = ui(Text::AssignmentUnreadable);
            } else {
                unit.name = jsonText(j, "name");
                unit.cluster = jsonText(j, "cluster");
                unit.district = jsonText(j, "district");
                unit.state = jsonText(j, "state");
                unit.stratum = jsonText(j, "stratum");
                unit.sector = jsonText(j, "sector");
                unit.assignmentToken = jsonText(j, "assignment_token");
                if (std::string id = jsonText(j, "unit_id"); !id.empty()) unit.unitId = id;
            }
        }
        std::string id = folded(unit.unitId), name = folded(unit.name);
        for (const auto& v : seen) {
            if ((!unit.assignmentToken.empty() && v.token == unit.assignmentToken) || (!id.empty() && v.unitId == id) ||
                (!name.empty() && v.name == name)) {
                unit.visitId = v.row->visit.id;
                unit.visitStatus = v.row->visit.status;
                break;
            }
        }
        m_assigned.push_back(std::move(unit));
    }
    return m_assigned;
}

bool AppModel::startAssignedVisit(std::string_view unitId, std::string_view templateId) {
    clearMessages();
    if (!ready(false)) return false;
    std::optional<AssignedUnit> unit;
    for (const auto& u : assignedUnits())
        if (u.unitId == unitId) unit = u;
    if (!unit || !unit->error.empty()) {
        m_error = ui(Text::UnitNotAssigned);
        return false;
    }
    std::string chosen(templateId);
    auto held = storeLock();
    if (chosen.empty()) {
        // With several templates on the device (a knitwear and a brass-ware diagnostic, say),
        // the unit's visit takes the template whose cluster list holds the unit's cluster;
        // else the first intact template that asks which unit this is; else the first intact.
        std::string asking, intact;
        for (const auto& info : m_store->listTemplates()) {
            if (!info.error.empty()) continue;
            auto t = m_store->findTemplate(info.id, info.version);
            if (!t) continue;
            if (intact.empty()) intact = info.id;
            if (!t.value()->find("unit_name") && !t.value()->find("register_id")) continue;
            if (asking.empty()) asking = info.id;
            const Question* cluster = t.value()->find("cluster");
            if (cluster && cluster->repeat < 0 && prefillValue(*t.value(), *cluster, unit->cluster)) {
                chosen = info.id;
                break;
            }
        }
        if (chosen.empty()) chosen = asking.empty() ? intact : asking;
    }
    if (chosen.empty()) {
        m_error = ui(Text::NoTemplate);
        return false;
    }
    if (!startVisit(chosen)) return false;
    // The visit says which assigned unit it is of by the aggregator's token (the register id
    // answer is personal and sealed apart): the aggregator weights it by the register's stratum.
    m_session->setAssignment(unit->assignmentToken);
    const Template& t = m_session->survey();
    // What the register knows, by the question ids that may ask for it.
    const std::pair<const char*, const std::string*> known[] = {
        {"unit_name", &unit->name},        {"name", &unit->name},         {"register_id", &unit->unitId},
        {"unit_id", &unit->unitId},        {"cluster", &unit->cluster},   {"district", &unit->district},
        {"state", &unit->state},           {"stratum", &unit->stratum},   {"size_class", &unit->stratum},
        {"sector", &unit->sector},
    };
    for (const auto& [questionId, value] : known) {
        const Question* q = t.find(questionId);
        if (!q || q->repeat >= 0 || !q->isAnswerable() || !m_session->answer(q->index, 0).isEmpty()) continue;
        if (auto v = prefillValue(t, *q, *value)) (void)m_session->setAnswer(q->index, 0, std::move(*v));
    }
    // What the register knows is not an answer of the officer's: the draft is stored with
    // the first one, so a unit tapped by mistake is not marked as visited.
    goTo(m_session->first());
    return true;
}

bool AppModel::startCorrection(std::string_view finishedVisitId) {
    clearMessages();
    if (!ready(false)) return false;
    auto held = storeLock();
    auto started = m_store->startCorrection(finishedVisitId);
    if (!started) {
        m_error = storeSentence(started.failure(), m_settings.language);
        return false;
    }
    openSession(std::move(started).value(), std::nullopt, true);
    return true;
}

bool AppModel::discardDraft(std::string_view visitId) {
    clearMessages();
    if (!ready(false)) return false;
    if (m_session && m_session->recordId() == visitId) {
        m_error = ui(Text::VisitOpenCannotDiscard);
        return false;
    }
    auto held = storeLock();
    auto status = m_store->discardDraft(visitId);
    if (!status) {
        m_error = storeSentence(status.failure(), m_settings.language);
        return false;
    }
    m_settings.positions.erase(std::string(visitId));
    persistSettings();
    m_visitsStale = true;
    return true;
}

void AppModel::closeVisit() {
    if (busy()) return;
    m_session.reset();
    m_draftStored = false;
    m_typed.clear();
    m_position = {};
    m_nextRefusedAt = {};
    m_visitsStale = true;
    if (isUnlocked()) m_screen = Screen::Visits;
}

// --- the open visit ---

size_t AppModel::languageIndex() const {
    if (!m_session) return 0;
    int i = m_session->survey().languageIndex(m_settings.language);
    return i < 0 ? 0 : size_t(i);
}

void AppModel::setLanguage(std::string_view code) {
    // The answers live in the session: switching language only changes which text is shown.
    if (m_settings.language == code) return;
    m_settings.language = std::string(code);
    persistSettings();
}

const std::vector<std::string>& AppModel::offeredLanguages() {
    std::vector<std::string> from;  // the languages of the templates in question
    std::string key = m_settings.language;
    if (m_session) {
        key += "|visit:" + m_session->survey().id + "@" + m_session->survey().version;
        if (key == m_offeredKey) return m_offered;
        from = m_session->survey().languages;
    } else if (isUnlocked() && !busy()) {
        auto installed = templates();
        for (const auto& t : installed) key += "|" + t.storeId;
        if (key == m_offeredKey) return m_offered;
        for (const auto& t : installed)
            for (const auto& l : t.languages)
                if (std::find(from.begin(), from.end(), l) == from.end()) from.push_back(l);
    } else {
        if (busy() && !m_offeredKey.empty()) return m_offered;  // the store is the task's now
        key += "|all";
        if (key == m_offeredKey) return m_offered;
    }
    if (from.empty())
        for (const auto& l : uiLanguages()) from.push_back(l.code);
    if (std::find(from.begin(), from.end(), m_settings.language) == from.end()) from.push_back(m_settings.language);
    m_offered = std::move(from);
    m_offeredKey = std::move(key);
    return m_offered;
}

void AppModel::autosave() {
    if (!m_session || !isUnlocked()) return;
    try {
        auto held = storeLock();
        auto status = m_draftStored ? m_store->saveDraft(*m_session) : m_store->addDraft(*m_session);
        if (status && !m_draftStored) {
            // Stored now, with the first answer (addDraft wrote every answer so far).
            m_draftStored = true;
            if (m_position.valid()) {
                m_settings.positions[m_session->recordId()] = {
                    m_session->survey().questions[size_t(m_position.question)].id, m_position.instance};
                persistSettings();
            }
        }
        if (status && m_config.durability) {
            // Saved in the store, which the platform still has to copy (a browser): "saved"
            // waits for that copy (checkDurable, at the next frames).
            m_durableTicket = m_config.durability->requestDurable();
            m_committedAt = std::time(nullptr);
            m_saveError.clear();
        } else if (status) {
            m_savedAt = std::time(nullptr);
            m_saveError.clear();
        } else {
            m_saveError = storeSentence(status.failure(), m_settings.language);
        }
    } catch (const std::exception& e) {
        // The storage itself failed (disk full, I/O): the form prefixes "not saved".
        m_saveError = technicalDetail(e.what(), m_settings.language);
    }
    m_visitsStale = true;
}

AnswerResult AppModel::answer(Position at, Value value) {
    if (!ready(true)) return failed(ui(Text::NoVisitOpen));
    auto r = m_session->setAnswer(at.question, at.instance, std::move(value));
    if (r.ok()) autosave();
    return r;
}

AnswerResult AppModel::answer(std::string_view questionId, Value value, int instance) {
    if (!ready(true)) return failed(ui(Text::NoVisitOpen));
    auto r = m_session->setAnswer(questionId, std::move(value), instance);
    if (r.ok()) autosave();
    return r;
}

std::vector<AnswerProblem> AppModel::applyAnswers(const nlohmann::json& answers) {
    if (!ready(true)) return {{"", ui(Text::NoVisitOpen)}};
    auto problems = applyAnswersJson(*m_session, answers, m_settings.language);
    autosave();
    return problems;
}

bool AppModel::attachPhoto(Position at, const std::string& path) {
    clearMessages();
    if (!ready(true)) return false;
    if (!at.valid()) return false;
    std::string file = trimmed(path);
    if (file.empty()) {
        m_error = ui(Text::PhotoPathMissing);
        return false;
    }
    Store* store = &*m_store;
    if (!m_draftStored) {
        // The photo is the first thing given: the visit must be stored to hold an attachment.
        autosave();
        if (!m_draftStored) {
            m_error = ui(Text::NotSaved) + m_saveError;
            return false;
        }
    }
    std::string visitId = m_session->recordId();
    std::string language = m_settings.language;
    // The file may sit on a slow SD card and run to 20 MB: reading and encrypting it happens
    // here, off the frame. The session is not touched until the answer is applied.
    post(ui(Text::AttachingPhoto), [this, store, visitId, file, at, language]() -> TaskRunner::Apply {
        auto fail = [this](std::string why) -> TaskRunner::Apply {
            return [this, why] { m_error = why; };
        };
        const char* lang = language.c_str();
        std::error_code ec;
        auto size = std::filesystem::file_size(file, ec);
        if (ec) return fail(uiText(Text::CannotReadFile, lang) + file);
        if (size > kMaxPhotoBytes) return fail(uiText(Text::PhotoTooLarge, lang));
        std::ifstream in(file, std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (!in.good() && !in.eof()) return fail(uiText(Text::CannotReadFile, lang) + file);
        auto id = store->addAttachment(visitId, bytes, mediaTypeOf(file));
        sodium_memzero(bytes.data(), bytes.size());
        if (!id) return fail(storeSentence(id.failure(), lang));
        return [this, visitId, at, attachment = id.value()] {
            // The visit stayed open (commands are refused while the task runs); check anyway.
            if (!m_session || m_session->recordId() != visitId) return;
            auto r = answer(at, Value::text(attachment));
            if (!r.ok()) m_error = r.messageIn(m_settings.language);
            else m_notice = ui(Text::PhotoAttached);
        };
    });
    return true;
}

bool AppModel::captureLocation(Position at) {
    clearMessages();
    if (!ready(true) || !at.valid()) return false;
    if (!m_config.location) {
        m_error = ui(Text::NoLocationSource);
        return false;
    }
    std::shared_ptr<LocationSource> source = m_config.location;
    std::string visitId = m_session->recordId();
    auto timeout = m_config.locationTimeout;
    post(ui(Text::GettingFix), [this, source, visitId, at, timeout]() -> TaskRunner::Apply {
        LocationReading reading = source->capture(timeout);
        return [this, reading, visitId, at] {
            if (!m_session || m_session->recordId() != visitId) return;
            if (!reading.fix) {
                Text why = reading.problem == LocationProblem::NoFix ? Text::GpsNoFix : Text::GpsUnavailable;
                m_error = ui(why);
                if (!reading.detail.empty()) m_error += "\n" + technicalDetail(reading.detail, m_settings.language);
                return;
            }
            const LocationFix& f = *reading.fix;
            auto r = answer(at, Value::geo({f.latitude, f.longitude, f.accuracyMetres}));
            if (!r.ok()) {
                m_error = r.messageIn(m_settings.language);
                return;
            }
            m_lastFix = CapturedFix{at, f};
            m_notice = ui(Text::LocationCaptured) + Value::number(f.latitude).toString() + ", " +
                       Value::number(f.longitude).toString();
        };
    });
    return true;
}

int AppModel::addInstance(int repeat) {
    if (!ready(true)) return -1;
    int i = m_session->addInstance(repeat);
    autosave();
    return i;
}

bool AppModel::removeInstance(int repeat, int instance) {
    if (!ready(true)) return false;
    if (!m_session->removeInstance(repeat, instance)) return false;
    // Text kept in the removed row's fields goes with it; the rows below move up.
    std::map<std::pair<int, int>, std::string> typed;
    for (auto& [key, text] : m_typed) {
        if (m_session->survey().questions[size_t(key.first)].repeat != repeat || key.second < instance)
            typed[key] = std::move(text);
        else if (key.second > instance)
            typed[{key.first, key.second - 1}] = std::move(text);
    }
    m_typed = std::move(typed);
    // Keep the officer's place: on the same row when it was below the one removed (now one
    // up), else on the row that took the removed one's place, or the last row.
    if (m_position.valid() && m_session->survey().questions[size_t(m_position.question)].repeat == repeat) {
        int rows = m_session->instanceCount(repeat);
        int row = m_position.instance > instance ? m_position.instance - 1 : std::min(m_position.instance, rows - 1);
        Position p{m_position.question, row};
        if (rows > 0 && !m_session->isRelevant(p.question, p.instance)) {
            p = {};
            for (const auto& item : m_session->items())
                if (item.instance == row && m_session->survey().questions[size_t(item.question)].repeat == repeat &&
                    m_session->isRelevant(item.question, item.instance)) {
                    p = item;
                    break;
                }
        }
        if (rows == 0 || !p.valid()) p = m_session->first();
        m_position = p;
    }
    autosave();
    return true;
}

void AppModel::goTo(Position at) {
    if (!m_session) return;
    if (!(at == m_nextRefusedAt)) m_nextRefusedAt = {};
    m_position = at;
    m_screen = Screen::Form;
    // The place is remembered for a stored visit only (settings.json names no visit that
    // was never kept).
    if (at.valid() && m_draftStored) {
        m_settings.positions[m_session->recordId()] = {m_session->survey().questions[size_t(at.question)].id, at.instance};
        persistSettings();
    }
}

bool AppModel::next() {
    if (!ready(true)) return false;
    if (!m_session->problemsAt(m_position, languageIndex()).empty()) {
        m_nextRefusedAt = m_position;
        return false;
    }
    m_nextRefusedAt = {};
    Position p = m_session->next(m_position);
    if (!p.valid()) {
        m_screen = Screen::Review;
        return false;
    }
    goTo(p);
    return true;
}

bool AppModel::previous() {
    if (!ready(true)) return false;
    Position p = m_session->previous(m_position);
    if (!p.valid()) return false;
    goTo(p);
    return true;
}

void AppModel::keepTyped(Position at, std::string text) {
    if (m_session && at.valid()) m_typed[{at.question, at.instance}] = std::move(text);
}

void AppModel::forgetTyped(Position at) { m_typed.erase({at.question, at.instance}); }

const std::string* AppModel::typedAt(Position at) const {
    auto it = m_typed.find({at.question, at.instance});
    return it == m_typed.end() ? nullptr : &it->second;
}

std::string AppModel::typedReason(Position at) const {
    const std::string* text = typedAt(at);
    if (!text || !m_session) return {};
    const Question& q = m_session->survey().questions[size_t(at.question)];
    if (q.type == QuestionType::Date) return ui(Text::DateFormatProblem);
    NumberEntry e = parseNumberEntry(*text, q.type);
    if (!e.ok()) return numberEntryMessage(e.problem, q.type, m_settings.language);
    return ui(Text::FixTypedToGoOn);
}

std::vector<Problem> AppModel::problems() const {
    if (!m_session) return {};
    auto out = m_session->validate(languageIndex());
    for (const auto& [key, text] : m_typed) {
        Position at{key.first, key.second};
        const Question& q = m_session->survey().questions[size_t(at.question)];
        if (!m_session->isRelevant(at.question, at.instance)) continue;
        Problem p;
        p.at = at;
        p.questionId = q.id;
        p.kind = ProblemKind::Constraint;
        p.label = interpolate(*m_session, q.label.in(languageIndex()), at, languageIndex());
        p.message = "\"" + text + "\": " + typedReason(at);
        out.push_back(std::move(p));
    }
    return out;
}

bool AppModel::finalise() {
    clearMessages();
    if (!ready(true)) return false;
    auto open = problems();
    if (!open.empty()) {
        m_error = uiTextCount(Text::ProblemsBeforeFinalise, m_settings.language, open.size());
        return false;
    }
    if (!m_draftStored) {
        // A template with nothing required can be finalised untouched: store it first.
        autosave();
        if (!m_draftStored) {
            m_error = ui(Text::NotSaved) + m_saveError;
            return false;
        }
    }
    Store* store = &*m_store;
    const FormSession* session = &*m_session;
    size_t language = languageIndex();
    post(ui(Text::Finalising), [this, store, session, language]() -> TaskRunner::Apply {
        auto receipt = store->finalise(session->recordId(), *session, language);
        return [this, receipt] {
            m_visitsStale = true;
            if (!receipt) {
                m_error = storeSentence(receipt.failure(), m_settings.language);
                return;
            }
            m_settings.positions.erase(receipt.value().recordId);
            persistSettings();
            m_session.reset();
            m_position = {};
            m_screen = Screen::Visits;
            m_notice = receipt.value().state == OutboxState::AwaitingKey
                           ? ui(Text::FinalisedAwaitingKey)
                           : ui(Text::FinalisedQueued);
        };
    });
    return true;
}

void AppModel::setToday(Date today) {
    m_today = today;
    if (m_session) m_session->setToday(today);
}

// --- settings ---

void AppModel::persistSettings() {
    if (!saveAppSettings(appSettingsFile(m_config.dataDir), m_settings))
        m_error = ui(Text::SettingsNotSaved) + m_config.dataDir.string();
}

void AppModel::setTextScale(float scale) {
    scale = std::clamp(scale, kMinTextScale, kMaxTextScale);
    if (scale == m_settings.textScale) return;
    m_settings.textScale = scale;
    ++m_fontGeneration;
    persistSettings();
}

void AppModel::setHighContrast(bool on) {
    if (on == m_settings.highContrast) return;
    m_settings.highContrast = on;
    persistSettings();
}

void AppModel::setIdleLockMinutes(int minutes) {
    minutes = std::clamp(minutes, 0, kMaxIdleLockMinutes);
    if (minutes == m_settings.idleLockMinutes) return;
    m_settings.idleLockMinutes = minutes;
    persistSettings();
}

void AppModel::setWindowPlacement(const WindowPlacement& window) {
    if (window.width <= 0 || window.height <= 0 || window == m_settings.window) return;
    m_settings.window = window;
    persistSettings();
}

// --- enrolment and outbox ---

void AppModel::setAggregatorAddress(std::string_view address) {
    if (m_settings.aggregatorAddress == address) return;
    m_settings.aggregatorAddress = std::string(address);
    persistSettings();
}

std::optional<std::string> AppModel::aggregatorFingerprint() {
    if (!ready(false)) return std::nullopt;
    auto held = storeLock();
    auto key = m_store->aggregatorKey();
    if (!key) return std::nullopt;
    return keyFingerprint(*key);
}

std::vector<OutboxEntry> AppModel::outbox() {
    if (!ready(false)) return {};
    auto held = storeLock();
    return m_store->listOutbox();
}

std::vector<AssignmentEntry> AppModel::assignments() {
    if (!ready(false)) return {};
    auto held = storeLock();
    return m_store->listAssignments();
}

// --- sync ---

std::string AppModel::busyLabel() const { return m_tasks.label(); }

std::string AppModel::syncStatus() const {
    if (!syncing()) return {};
    const std::string& lang = m_settings.language;
    sync::SyncProgress p = syncProgress();
    std::string label;
    if (p.stage.rfind("waiting to retry", 0) == 0) {
        // "waiting to retry (8 s)": the seconds the client will wait.
        size_t open = p.stage.find('(');
        size_t seconds = open == std::string::npos ? 0 : std::strtoul(p.stage.c_str() + open + 1, nullptr, 10);
        label = filled(Text::SyncStatusRetry, lang, seconds);
    } else if (p.stage.find("attachment") != std::string::npos) {
        label = ui(Text::SendingPhotos);
    } else if (p.stage == "fetching updates") {
        label = ui(Text::SyncStatusUpdates);
    } else if (p.recordsTotal) {
        label = filled(Text::SyncStatusSending, lang, p.recordsDone, p.recordsTotal);
    } else {
        label = ui(Text::Connecting);
    }
    if (p.attempt > 1) label += " (" + std::to_string(p.attempt) + ")";
    return label;
}

bool AppModel::enrol(std::string address, std::string pin, std::string code, std::string label) {
    clearMessages();
    if (!ready(false)) return false;
    if (syncing()) {
        m_error = ui(Text::EnrolBusySyncing);
        return false;
    }
    address = trimmed(std::move(address));
    pin = trimmed(std::move(pin));
    code = trimmed(std::move(code));
    label = trimmed(std::move(label));
    setAggregatorAddress(address);  // kept, so a failed attempt need not be typed again
    if (address.empty()) {
        m_error = ui(Text::EnrolAddressMissing);
        return false;
    }
    if (code.empty()) {
        m_error = ui(Text::EnrolCodeMissing);
        return false;
    }
    if (label.empty()) label = "ClusterKit field app";
    // Enrolment is interactive: give up sooner than a background sync, and never wait
    // longer than the configured policy (tests shorten it).
    sync::RetryPolicy retry{3, std::chrono::milliseconds(500), std::chrono::milliseconds(4'000),
                            std::chrono::milliseconds(10'000), std::chrono::milliseconds(60'000)};
    const sync::RetryPolicy& most = m_config.syncRetry;
    retry.maxAttempts = std::min(retry.maxAttempts, most.maxAttempts);
    retry.initialDelay = std::min(retry.initialDelay, most.initialDelay);
    retry.maxDelay = std::min(retry.maxDelay, most.maxDelay);
    retry.connectTimeout = std::min(retry.connectTimeout, most.connectTimeout);
    retry.requestTimeout = std::min(retry.requestTimeout, most.requestTimeout);
    auto secretCode = std::make_shared<SecretText>(code);
    sodium_memzero(code.data(), code.size());
    Store* store = &*m_store;
    // Not holding the store: enrolment waits on the network, and nothing else touches the
    // store meanwhile (the screens are refused while busy, a sync is refused while enrolling).
    post(ui(Text::Enrolling), [this, store, address, pin, secretCode, label, retry]() -> TaskRunner::Apply {
        SyncStop stop;
        auto result = enrolDevice(*store, sync::ServerAddress{address, pin}, secretCode->text, label, retry, &stop);
        return [this, result, stop] {
            m_visitsStale = true;
            if (auto* why = std::get_if<std::string>(&result)) {
                // The network's and the store's own words help nobody in the field; what did
                // not come from the network (a store failure) is said as it is.
                m_error = ui(Text::EnrolFailed) + (stop.why == SyncStop::Why::Other ? technicalDetail(*why, m_settings.language)
                                                                                      : stopSentence(stop, m_settings.language));
                return;
            }
            ++m_enrolments;
            const EnrolmentDone& d = std::get<EnrolmentDone>(result);
            const std::string& lang = m_settings.language;
            m_notice = fillPlaceholders(uiText(Text::EnrolledWith, lang),
                                        {d.aggregatorName.empty() ? std::string_view(uiText(Text::TheAggregator, lang))
                                                                  : std::string_view(d.aggregatorName),
                                         d.officer, d.cluster}) +
                       "\n" + uiText(Text::CompareFingerprints, lang) + "\n  " + uiText(Text::DataKey, lang) +
                       d.ingestKeyFingerprint + "\n  " + uiText(Text::TemplateKey, lang) + d.templateKeyFingerprint;
            if (d.sealedNow > 0)
                m_notice += "\n" + counted(size_t(d.sealedNow), Text::SealedNowOne, Text::SealedNowMany, lang);
        };
    }, false);
    return true;
}

bool AppModel::enrolWithString(std::string_view text, std::string label) {
    clearMessages();
    if (!ready(false)) return false;
    auto decoded = proto::decodeEnrolmentString(text);
    if (auto* p = std::get_if<proto::EnrolmentStringProblem>(&decoded)) {
        m_error = enrolmentStringSentence(*p, m_settings.language);
        return false;
    }
    proto::EnrolmentDetails& d = std::get<proto::EnrolmentDetails>(decoded);
    bool posted = enrol(d.url, d.publicKeyPin, d.code, std::move(label));
    sodium_memzero(d.code.data(), d.code.size());
    return posted;
}

std::optional<std::string> AppModel::readEnrolmentFile(std::string path) {
    clearMessages();
    constexpr std::uintmax_t kMaxSlipBytes = 1 << 20;  // a slip, even as HTML, is far smaller
    std::filesystem::path file = expandHome(trimmed(std::move(path)));
    std::error_code ec;
    auto size = std::filesystem::file_size(file, ec);
    if (ec || size > kMaxSlipBytes) {
        m_error = ui(Text::EnrolFileUnreadable) + file.string();
        return std::nullopt;
    }
    std::ifstream in(file, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
        m_error = ui(Text::EnrolFileUnreadable) + file.string();
        return std::nullopt;
    }
    auto decoded = proto::decodeEnrolmentString(text);
    sodium_memzero(text.data(), text.size());
    if (auto* p = std::get_if<proto::EnrolmentStringProblem>(&decoded)) {
        m_error = enrolmentStringSentence(*p, m_settings.language);
        return std::nullopt;
    }
    m_notice = ui(Text::EnrolStringRead);
    return proto::encodeEnrolmentString(std::get<proto::EnrolmentDetails>(decoded));
}

bool AppModel::syncNow() {
    clearMessages();
    if (!ready(false) || syncing()) return false;
    std::optional<SyncSettings> settings;
    {
        auto held = storeLock();
        settings = m_store->syncSettings();
    }
    if (!settings) {
        m_error = ui(Text::NotEnrolled);
        return false;
    }
    auto client = std::make_shared<sync::SyncClient>(sync::ServerAddress{settings->serverUrl, settings->publicKeyPin},
                                                     m_config.syncRetry);
    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    m_syncClient = client;
    m_syncCancelled = cancelled;
    m_syncing = true;
    {
        std::lock_guard<std::mutex> lock(m_progressMutex);
        m_progress = {};
    }
    Store* store = &*m_store;
    // On the sync's own thread, not the task thread: the officer keeps working meanwhile. The
    // store is shared through m_storeMutex, held for one store call at a time.
    m_syncTasks.post(ui(Text::Syncing), [this, store, client, cancelled]() -> TaskRunner::Apply {
        auto progress = [this, client, cancelled](const sync::SyncProgress& p) {
            // The client forgets a cancel that came between two of its requests: repeat it.
            if (*cancelled) client->cancel();
            if (p.stage == "uploaded") m_outboxChanged = true;  // answers recorded: lists read again
            std::lock_guard<std::mutex> lock(m_progressMutex);
            m_progress = p;
        };
        SyncStop stop;
        FieldSyncResult result = std::string("cancelled");
        if (*cancelled) {
            stop.why = SyncStop::Why::Cancelled;
        } else {
            try {
                result = ck::syncNow(*store, *client, SyncRun{progress, kDefaultUploadBatch, &m_storeMutex, &stop});
            } catch (const std::exception& e) {
                // The storage itself failed (disk full, I/O): said as it is, like the frame loop does.
                return [this, what = std::string(e.what())] {
                    m_syncing = false;
                    m_syncClient.reset();
                    m_visitsStale = true;
                    m_error = ui(Text::StorageFailed) + technicalDetail(what, m_settings.language);
                };
            }
        }
        return [this, result, cancelled, stop] {
            m_syncing = false;
            m_syncClient.reset();
            m_visitsStale = true;
            if (std::holds_alternative<std::string>(result)) {
                const std::string& lang = m_settings.language;
                bool wasCancelled = *cancelled || stop.why == SyncStop::Why::Cancelled;
                m_error = ui(wasCancelled ? Text::SyncCancelled : Text::SyncStopped) + stopSentence(stop, lang);
                if (stop.updates) m_error += " " + std::string(ui(Text::SyncStoppedInUpdates));
                else if (stop.waiting) m_error += " " + filled(Text::SyncVisitsAnswered, lang, stop.answered, stop.waiting);
                return;
            }
            m_notice = ui(Text::SyncDone) + describeSync(std::get<SyncSummary>(result), m_settings.language, unitNamer());
        };
    });
    return true;
}

sync::SyncProgress AppModel::syncProgress() const {
    std::lock_guard<std::mutex> lock(m_progressMutex);
    return m_progress;
}

void AppModel::cancelSync() {
    if (!syncing() || !m_syncCancelled) return;  // only ever from the UI thread
    *m_syncCancelled = true;
    if (m_syncClient) m_syncClient->cancel();
}

bool AppModel::exportBundle(std::string path) {
    clearMessages();
    if (!ready(false) || syncing()) return false;  // both would mark the same visits sent
    path = trimmed(std::move(path));
    if (path.empty()) {
        m_error = ui(Text::BundlePathMissing);
        return false;
    }
    std::filesystem::path file = expandHome(path);
    Store* store = &*m_store;
    post(ui(Text::WritingBundle), [this, store, file]() -> TaskRunner::Apply {
        auto written = writeBundle(*store, file);
        return [this, written, file] {
            m_visitsStale = true;
            if (auto* why = std::get_if<std::string>(&written)) {
                m_error = ui(Text::NoBundleWritten) + technicalDetail(*why, m_settings.language);
                return;
            }
            size_t n = std::get<size_t>(written);
            const std::string& lang = m_settings.language;
            m_notice = fillPlaceholders(uiText(n == 1 ? Text::BundleWrittenOne : Text::BundleWrittenMany, lang),
                                        {std::to_string(n), file.string()}) +
                       "\n" + uiText(Text::CarryBundle, lang);
        };
    });
    return true;
}

bool AppModel::importReceipt(std::string path) {
    clearMessages();
    if (!ready(false) || syncing()) return false;
    path = trimmed(std::move(path));
    if (path.empty()) {
        m_error = ui(Text::ReceiptPathMissing);
        return false;
    }
    std::filesystem::path file = expandHome(path);
    Store* store = &*m_store;
    post(ui(Text::ReadingReceipt), [this, store, file]() -> TaskRunner::Apply {
        auto applied = applyReceipt(*store, file);
        return [this, applied] {
            m_visitsStale = true;
            if (auto* why = std::get_if<std::string>(&applied)) {
                m_error = ui(Text::ReceiptNotApplied) + technicalDetail(*why, m_settings.language);
                return;
            }
            m_notice = ui(Text::ReceiptApplied) + describeSync(std::get<SyncSummary>(applied), m_settings.language, unitNamer());
        };
    });
    return true;
}

std::function<std::string(const std::string&)> AppModel::unitNamer() {
    // The unit names as the visits list has them (read now: the sync just changed the list).
    auto titles = std::make_shared<std::map<std::string, std::string>>();
    {
        auto held = storeLock();
        if (m_store && m_unlocked)
            for (const auto& v : m_store->listVisits()) (*titles)[v.id] = v.title;
    }
    return [titles, lang = m_settings.language](const std::string& recordId) {
        auto it = titles->find(recordId);
        if (it == titles->end()) return recordId;
        return it->second.empty() ? std::string(uiText(Text::NoUnitNameYet, lang)) : "“" + it->second + "”";
    };
}

std::string AppModel::defaultBundlePath() const {
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char name[64];
    std::strftime(name, sizeof name, "clusterkit-bundle-%Y%m%d.ckb", &local);
    const char* home = std::getenv("HOME");
    std::filesystem::path folder = home && *home ? std::filesystem::path(home) : m_config.dataDir;
    return (folder / name).string();
}

std::optional<SyncSettings> AppModel::syncSettings() {
    if (!ready(false)) return std::nullopt;
    auto held = storeLock();
    return m_store->syncSettings();
}

std::vector<ReviewCommentEntry> AppModel::reviewComments(std::string_view recordId) {
    if (!ready(false)) return {};
    auto held = storeLock();
    return m_store->reviewComments(recordId);
}

}  // namespace ck
