#include "app/ui/app_model.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "core/crypto/envelope.h"

namespace ck {
namespace {

constexpr const char* kStoreFileName = "officer.ckstore";
constexpr const char* kSettingsFileName = "settings.json";
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

AnswerResult failed(std::string message) {
    AnswerResult r;
    r.status = AnswerStatus::OutOfRange;
    r.message = std::move(message);
    return r;
}

}  // namespace

AppModel::AppModel(FieldAppConfig config) : m_config(std::move(config)) {
    if (!m_config.clock) {
        m_config.clock = [] {
            return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
        };
    }
    std::error_code ec;
    std::filesystem::create_directories(m_config.dataDir, ec);
    m_settings = loadAppSettings(m_config.dataDir / kSettingsFileName);
    m_screen = storeExists() ? Screen::Unlock : Screen::FirstRun;
    m_lastActivity = m_config.clock();
}

AppModel::~AppModel() {
    m_tasks.waitIdle();
    m_tasks.applyFinished();
    if (m_store && m_unlocked) m_store->lock();
}

std::filesystem::path AppModel::storeFile() const { return m_config.dataDir / kStoreFileName; }

bool AppModel::storeExists() const {
    std::error_code ec;
    return std::filesystem::exists(storeFile(), ec);
}

void AppModel::post(std::string label, std::function<TaskRunner::Apply()> job) {
    // A job that throws (a disk error, a damaged file) reports it like any other failure.
    m_tasks.post(std::move(label), [this, job = std::move(job)]() -> TaskRunner::Apply {
        try {
            return job();
        } catch (const std::exception& e) {
            return [this, what = std::string(e.what())] { m_error = "Storage failed: " + what; };
        }
    });
}

void AppModel::beginFrame() {
    m_tasks.applyFinished();
    if (!busy() && isUnlocked() && secondsUntilIdleLock() <= 0) lock();
}

void AppModel::noteActivity() { m_lastActivity = m_config.clock(); }

void AppModel::waitForTasks() {
    m_tasks.waitIdle();
    m_tasks.applyFinished();
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

std::optional<std::string> AppModel::passphraseProblem(std::string_view passphrase) {
    return checkPassphraseStrength(passphrase);
}

void AppModel::importBundledTemplates(Store& store, std::string& notes) const {
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
        if (!r) notes += "Template " + f.filename().string() + " not imported: " + r.message() + "\n";
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
        m_error = "The two passphrases differ";
        return false;
    }
    auto pass = std::make_shared<SecretText>(passphrase);
    post("Creating the encrypted store...", [this, pass]() -> TaskRunner::Apply {
        auto created = std::make_shared<StoreResult<Store>>(
            Store::create(storeFile(), pass->text, pass->text, m_config.kdf));
        std::string notes;
        if (created->ok()) importBundledTemplates(created->value(), notes);
        return [this, created, notes] {
            if (!created->ok()) {
                m_error = created->message();
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
            m_error = opened.message();
            return false;
        }
        m_store.emplace(std::move(opened).value());
    }
    auto pass = std::make_shared<SecretText>(passphrase);
    Store* store = &*m_store;
    post("Unlocking...", [this, store, pass]() -> TaskRunner::Apply {
        auto status = store->unlock(pass->text);
        std::string notes;
        if (status) importBundledTemplates(*store, notes);
        return [this, status, notes] {
            if (!status) {
                m_error = status.message();
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
    if (m_session) {
        autosave();
        m_reopenVisit = m_session->recordId();
        m_session.reset();
    }
    m_position = {};
    m_visits.clear();
    m_visitsStale = true;
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
        m_error = "The two new passphrases differ";
        return false;
    }
    auto oldPass = std::make_shared<SecretText>(oldPassphrase);
    auto newPass = std::make_shared<SecretText>(newPassphrase);
    Store* store = &*m_store;
    post("Changing the passphrase...", [this, store, oldPass, newPass]() -> TaskRunner::Apply {
        auto status = store->changePassphrase(oldPass->text, newPass->text, newPass->text);
        return [this, status] {
            if (!status) {
                m_error = status.message();
                return;
            }
            m_notice = "Passphrase changed. Use the new one from now on.";
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
        m_visits.clear();
        auto outbox = m_store->listOutbox();
        for (auto& v : m_store->listVisits()) {
            VisitRow row{std::move(v), std::nullopt};
            for (const auto& e : outbox)
                if (e.recordId == row.visit.id) row.outbox = e;
            m_visits.push_back(std::move(row));
        }
        m_visitsStale = false;
    }
    return m_visits;
}

std::vector<TemplateInfo> AppModel::templates() {
    if (!ready(false)) return {};
    return m_store->listTemplates();
}

void AppModel::openSession(FormSession session, std::optional<Position> at) {
    if (m_today) session.setToday(*m_today);
    m_session.emplace(std::move(session));
    Position p = at.value_or(Position{});
    if (!p.valid() || !m_session->isRelevant(p.question, p.instance)) p = m_session->first();
    m_visitsStale = true;
    m_savedAt = 0;
    m_saveError.clear();
    goTo(p);
}

bool AppModel::startVisit(std::string_view templateId) {
    clearMessages();
    if (!ready(false)) return false;
    auto started = m_store->startVisit(templateId);
    if (!started) {
        m_error = started.message();
        return false;
    }
    openSession(std::move(started).value(), std::nullopt);
    return true;
}

bool AppModel::resumeVisit(std::string_view visitId) {
    clearMessages();
    if (!ready(false)) return false;
    auto resumed = m_store->resumeVisit(visitId);
    if (!resumed) {
        m_error = resumed.message();
        return false;
    }
    for (const auto& note : resumed.value().notes) m_notice += note + "\n";
    std::optional<Position> at;
    if (auto it = m_settings.positions.find(std::string(visitId)); it != m_settings.positions.end())
        at = resumed.value().session.find(it->second.questionId, it->second.instance);
    openSession(std::move(resumed.value().session), at);
    return true;
}

bool AppModel::startCorrection(std::string_view finishedVisitId) {
    clearMessages();
    if (!ready(false)) return false;
    auto started = m_store->startCorrection(finishedVisitId);
    if (!started) {
        m_error = started.message();
        return false;
    }
    openSession(std::move(started).value(), std::nullopt);
    return true;
}

bool AppModel::discardDraft(std::string_view visitId) {
    clearMessages();
    if (!ready(false)) return false;
    if (m_session && m_session->recordId() == visitId) {
        m_error = "This visit is open: close it before discarding it";
        return false;
    }
    auto status = m_store->discardDraft(visitId);
    if (!status) {
        m_error = status.message();
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
    m_position = {};
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

void AppModel::autosave() {
    if (!m_session || !isUnlocked()) return;
    try {
        auto status = m_store->saveDraft(*m_session);
        if (status) {
            m_savedAt = std::time(nullptr);
            m_saveError.clear();
        } else {
            m_saveError = status.message();
        }
    } catch (const std::exception& e) {
        m_saveError = std::string("Not saved: ") + e.what();
    }
    m_visitsStale = true;
}

AnswerResult AppModel::answer(Position at, Value value) {
    if (!ready(true)) return failed("No visit is open");
    auto r = m_session->setAnswer(at.question, at.instance, std::move(value));
    if (r.ok()) autosave();
    return r;
}

AnswerResult AppModel::answer(std::string_view questionId, Value value, int instance) {
    if (!ready(true)) return failed("No visit is open");
    auto r = m_session->setAnswer(questionId, std::move(value), instance);
    if (r.ok()) autosave();
    return r;
}

std::vector<AnswerProblem> AppModel::applyAnswers(const nlohmann::json& answers) {
    if (!ready(true)) return {{"", "No visit is open"}};
    auto problems = applyAnswersJson(*m_session, answers);
    autosave();
    return problems;
}

AnswerResult AppModel::attachPhoto(Position at, const std::string& path) {
    if (!ready(true)) return failed("No visit is open");
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) return failed("Cannot read " + path);
    if (size > kMaxPhotoBytes) return failed("The photo is larger than 20 MB");
    std::ifstream in(path, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) return failed("Cannot read " + path);
    auto id = m_store->addAttachment(m_session->recordId(), bytes, mediaTypeOf(path));
    if (!id) return failed(id.message());
    return answer(at, Value::text(id.value()));
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
    if (m_position.valid() && m_session->survey().questions[size_t(m_position.question)].repeat == repeat &&
        m_position.instance >= m_session->instanceCount(repeat))
        m_position = m_session->first();
    autosave();
    return true;
}

void AppModel::goTo(Position at) {
    if (!m_session) return;
    m_position = at;
    m_screen = Screen::Form;
    if (at.valid()) {
        m_settings.positions[m_session->recordId()] = {m_session->survey().questions[size_t(at.question)].id, at.instance};
        persistSettings();
    }
}

bool AppModel::next() {
    if (!ready(true)) return false;
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

std::vector<Problem> AppModel::problems() const {
    if (!m_session) return {};
    return m_session->validate(languageIndex());
}

bool AppModel::finalise() {
    clearMessages();
    if (!ready(true)) return false;
    auto open = problems();
    if (!open.empty()) {
        m_error = std::to_string(open.size()) + " problem(s) to fix before finalising";
        return false;
    }
    Store* store = &*m_store;
    const FormSession* session = &*m_session;
    size_t language = languageIndex();
    post("Finalising the visit...", [this, store, session, language]() -> TaskRunner::Apply {
        auto receipt = store->finalise(session->recordId(), *session, language);
        return [this, receipt] {
            m_visitsStale = true;
            if (!receipt) {
                m_error = receipt.message();
                return;
            }
            m_settings.positions.erase(receipt.value().recordId);
            persistSettings();
            m_session.reset();
            m_position = {};
            m_screen = Screen::Visits;
            m_notice = receipt.value().state == OutboxState::AwaitingKey
                           ? "Visit finalised. It waits, encrypted, until this device is enrolled."
                           : "Visit finalised and queued for sync.";
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
    if (!saveAppSettings(m_config.dataDir / kSettingsFileName, m_settings))
        m_error = "Could not save the settings file in " + m_config.dataDir.string();
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

// --- enrolment and outbox ---

void AppModel::setAggregatorAddress(std::string_view address) {
    if (m_settings.aggregatorAddress == address) return;
    m_settings.aggregatorAddress = std::string(address);
    persistSettings();
}

std::optional<std::string> AppModel::aggregatorFingerprint() {
    if (!ready(false)) return std::nullopt;
    auto key = m_store->aggregatorKey();
    if (!key) return std::nullopt;
    return keyFingerprint(*key);
}

std::vector<OutboxEntry> AppModel::outbox() {
    if (!ready(false)) return {};
    return m_store->listOutbox();
}

std::vector<AssignmentEntry> AppModel::assignments() {
    if (!ready(false)) return {};
    return m_store->listAssignments();
}

}  // namespace ck
