#pragma once
// The field app's state and commands: what every screen reads and the only way screens
// change anything. It owns the store, the open visit (a FormSession: the answers live there
// and nowhere else), the app settings and the task thread. It has no ImGui in it, so tests
// drive it directly; the screens call the very same commands.
//
// Threading: everything here is called on the UI thread. While a task runs (busy()), the
// store and the session belong to the task: commands that would touch them are refused
// (they return false / do nothing) and the screens show a spinner instead.
// A sync is different: it runs on a thread of its own and busy() stays false, so the
// officer keeps working on visits while it sends, waits to retry and fetches. The store is
// shared then: every store call here and in the sync holds m_storeMutex for that call only
// (never across a network wait), so a frame waits at most for one store step.
#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "app/store/store.h"
#include "app/ui/app_settings.h"
#include "app/ui/field_app.h"
#include "app/ui/task_runner.h"
#include "app/ui/ui_text.h"
#include "core/form/answers_json.h"
#include "core/form/form_session.h"
#include "sync/client/sync_client.h"

namespace ck {

enum class Screen : uint8_t { FirstRun, Unlock, Visits, Form, Review, Sync, Enrolment, Settings, ChangePassphrase };

// One row of the visits list: the store's summary with its outbox state, when it has one.
struct VisitRow {
    VisitSummary visit;
    std::optional<OutboxEntry> outbox;
};

// A unit the aggregator assigned to this officer (from sync), with the visit already made
// to it, if any: a visit belongs to the unit when it carries the unit's assignment token, its
// register / unit id answer equals the unit id, or its unit name equals the unit's name (both
// ignoring case and spaces around).
struct AssignedUnit {
    std::string unitId;  // the store's assignment id (the register's unit_id)
    std::string name, cluster, district, state, stratum, sector;
    std::string assignmentToken;  // the aggregator's token for the unit; the visit carries it
    std::string visitId;  // the newest visit of the unit; "" when not visited yet
    VisitStatus visitStatus = VisitStatus::Draft;
    std::string error;  // the stored assignment is damaged or not JSON; the rest still lists
};

// Why the aggregator refused a visit, by the refusal code kept with it (OutboxEntry::
// refusalCode), in `language`; a code this version does not know, or none, gets the general
// sentence. The aggregator's own words are shown apart, quoted (they are English).
const char* visitRefusalWords(std::string_view refusalCode, std::string_view language);

class AppModel {
public:
    explicit AppModel(FieldAppConfig config);
    ~AppModel();  // cancels a running sync, waits for the task thread, locks the store
    AppModel(const AppModel&) = delete;
    AppModel& operator=(const AppModel&) = delete;

    // --- frame ---
    // Start of every frame: applies finished tasks, then checks the idle lock.
    void beginFrame();
    // The officer did something (a key, a click, a touch): restarts the idle timer.
    void noteActivity();
    // Tests: blocks until background work (tasks and a sync) is done and applies its results.
    void waitForTasks();

    Screen screen() const { return m_screen; }
    // Screens the officer may open from the top bar (ignored while locked or busy).
    void show(Screen screen);
    bool busy() const { return m_tasks.busy(); }
    // What the spinner says while a task runs ("Unlocking..."); a sync says syncStatus().
    std::string busyLabel() const;
    // What went wrong with the last command, in words for the officer; "" when it went well.
    const std::string& error() const { return m_error; }
    // A passing message (a visit finalised, a template note).
    const std::string& notice() const { return m_notice; }
    void clearMessages();
    // The frame loop caught a failure of the storage itself (disk full, I/O error): shown
    // like any other error; what was saved before stays saved.
    void reportFailure(std::string message);

    // --- passphrase and lock ---
    bool storeExists() const;
    // Live feedback for the first-run and change-passphrase screens: why this passphrase would
    // be refused, in the officer's language (core/crypto's PassphraseProblem, worded).
    std::optional<std::string> passphraseProblem(std::string_view passphrase) const;
    // First run, on the task thread (Argon2id): creates the store and imports the bundled
    // templates. Refuses a weak or mismatched passphrase at once (false, error() says why).
    bool createVault(std::string_view passphrase, std::string_view confirmation);
    // On the task thread. A wrong passphrase leaves the app locked with error() set.
    bool unlock(std::string_view passphrase);
    // Saves the open visit (it is saved already on every change), forgets keys, shows Unlock.
    // The open visit is reopened at the same place after the next unlock.
    void lock();
    // Kept on the UI thread (the store's own flag changes on the task thread while unlocking).
    bool isUnlocked() const { return m_unlocked; }
    bool changePassphrase(std::string_view oldPassphrase, std::string_view newPassphrase,
                          std::string_view confirmation);
    // Seconds of idleness left before the idle lock; a large number when it is off or locked.
    double secondsUntilIdleLock() const;

    // --- visits ---
    const std::vector<VisitRow>& visits();
    std::vector<TemplateInfo> templates();
    // Opens a new visit. It is stored (a draft appears in the list) only with the officer's
    // first answer, row or photo: a visit opened by an accidental tap leaves nothing behind.
    bool startVisit(std::string_view templateId);
    // True once the open visit is in the store.
    bool draftStored() const { return m_draftStored; }
    bool resumeVisit(std::string_view visitId);
    // The assigned units, in the store's order; each marked with its visit (see AssignedUnit).
    const std::vector<AssignedUnit>& assignedUnits();
    // Starts a visit of `templateId` (when "", the first template asking for a unit name or
    // id) to an assigned unit, pre-filling every question whose id matches what the
    // assignment knows (unit_name, register_id / unit_id, cluster, district, state, stratum,
    // sector) and whose answer the value is valid for; the rest is left for the officer.
    bool startAssignedVisit(std::string_view unitId, std::string_view templateId = {});
    // A correction of a finished visit: a new draft with its answers.
    bool startCorrection(std::string_view finishedVisitId);
    bool discardDraft(std::string_view visitId);
    void closeVisit();  // back to the list; the draft is already saved

    // --- the open visit ---
    const FormSession* session() const { return m_session ? &*m_session : nullptr; }
    Position position() const { return m_position; }
    // The language index into the open template's languages (0 when none is open).
    size_t languageIndex() const;
    const std::string& languageCode() const { return m_settings.language; }
    void setLanguage(std::string_view code);
    // The languages the language switch offers, as codes: the open visit's template's languages
    // in its order; with no visit open, those of every installed template (in the order
    // first met); before unlocking, or with no template, every language the app has words for
    // (ui_text.h). The language chosen now is always among them. Worked out again only when
    // the visit, the templates or the language change; while a task holds the store, the last.
    const std::vector<std::string>& offeredLanguages();

    AnswerResult answer(Position at, Value value);
    AnswerResult answer(std::string_view questionId, Value value, int instance = 0);
    // Fills answers from JSON (answers_json.h) and saves: tests and scripted entry. Each answer
    // not taken is said in the officer's language.
    std::vector<AnswerProblem> applyAnswers(const nlohmann::json& answers);
    // Reads a photo file, stores it as an encrypted attachment and answers `at` with its id.
    // The read and the encryption run on the task thread (a 20 MB photo from a slow SD card
    // must not freeze the frame): returns false when refused at once (error() says why);
    // otherwise the answer is given when the task's result is applied, or error() says why not.
    bool attachPhoto(Position at, const std::string& path);
    int addInstance(int repeat);
    bool removeInstance(int repeat, int instance);

    // "Capture location" for the GPS question at `at`: asks the platform's LocationSource on
    // the task thread and answers with the fix (its accuracy, or unknown). False when refused
    // at once (no source, busy); otherwise error() or notice() says how it went.
    bool captureLocation(Position at);
    bool canCaptureLocation() const { return m_config.location != nullptr; }
    const std::string& defaultAggregatorAddress() const { return m_config.defaultAggregatorAddress; }
    // The last fix captured in this visit, with the question it answered (for its time).
    struct CapturedFix {
        Position at;
        LocationFix fix;
    };
    const std::optional<CapturedFix>& lastFix() const { return m_lastFix; }

    void goTo(Position at);  // also shows the form
    // Moves on, as ODK Collect does, only when the current question has no open problem (a
    // required question left empty, a failed constraint, a choice no longer offered): then
    // it stays, returns false and nextRefusedAt() names it, so the form shows why there.
    // Also false at the end (the review screen is shown).
    bool next();
    Position nextRefusedAt() const { return m_nextRefusedAt; }
    bool previous();         // false at the start

    // The last autosave that is durable (local time, 0 = not yet) and why one failed ("" = it
    // did not). With a StoreDurability (a browser) a commit counts as saved only once the
    // platform reports its copy complete; meanwhile saving() is true.
    std::time_t savedAt() const { return m_savedAt; }
    const std::string& saveError() const { return m_saveError; }
    bool saving() const { return m_durableTicket != 0; }

    // What the platform says about its storage (a browser: persistent or not, the estimate).
    void setStorageStatus(StorageStatus status) { m_storageStatus = status; }
    const StorageStatus& storageStatus() const { return m_storageStatus; }

    // Text typed into a field that is not its answer (a refused number, a half-typed date):
    // kept with the open visit and shown in its field; it holds Next (the form) and is an
    // open problem (problems(): Review lists it, Finalise waits), so it is never dropped
    // and never leaves the stale answer behind unnoticed.
    void keepTyped(Position at, std::string text);
    void forgetTyped(Position at);
    const std::string* typedAt(Position at) const;
    // Why the text kept at `at` is not an answer, in the officer's language.
    std::string typedReason(Position at) const;

    std::vector<Problem> problems() const;
    // On the task thread; refused at once when problems() is not empty.
    bool finalise();
    // today() for expressions in every session opened from now on (tests).
    void setToday(Date today);

    // --- settings ---
    const AppSettings& settings() const { return m_settings; }
    void setTextScale(float scale);
    void setHighContrast(bool on);
    void setIdleLockMinutes(int minutes);
    // The platform's window as it is being closed (kept in settings.json for the next start).
    void setWindowPlacement(const WindowPlacement& window);
    int fontGeneration() const { return m_fontGeneration; }

    // --- enrolment and outbox ---
    void setAggregatorAddress(std::string_view address);
    // The aggregator key's fingerprint for the officer to compare; nullopt before enrolment.
    std::optional<std::string> aggregatorFingerprint();
    std::vector<OutboxEntry> outbox();
    std::vector<AssignmentEntry> assignments();

    // --- sync (each on the task thread; the result is applied at the next frame) ---
    // Enrols this device with the one-time code from the enrolment slip; `pin` is the
    // server key ("sha256//...") printed on the same slip. The address is kept in the app
    // settings whatever happens. Success: notice() names the officer, the cluster and both
    // key fingerprints; failure: error() says why, and nothing is stored.
    bool enrol(std::string address, std::string pin, std::string code, std::string label);
    // The same with the slip's enrolment string (typed, pasted or read from a file). A typo is
    // refused at once: false, and error() names the group to compare with the slip, in the
    // officer's language; nothing is sent, and whatever the officer typed stays theirs.
    bool enrolWithString(std::string_view text, std::string label);
    // The enrolment string in a file (the slip saved as text or HTML, on a USB stick), in
    // its canonical form; nullopt with error() set when the file cannot be read or holds none.
    std::optional<std::string> readEnrolmentFile(std::string path);
    // Enrolments that succeeded since the app started: a screen wipes the code it holds when
    // this moves, and only then (a failed attempt keeps what the officer typed).
    int enrolments() const { return m_enrolments; }
    // Sends every finished visit waiting in the outbox, then fetches templates, assignments
    // and review comments. Refused when not enrolled or busy. notice() summarises the sync,
    // or error() says why it stopped (what was answered before is recorded).
    bool syncNow();
    // True from syncNow() until its result is applied. Does not make busy() true: the
    // screens stay usable; enrol, bundle export, receipt import and lock wait or refuse.
    bool syncing() const { return m_syncing; }
    // One line for the top bar while a sync runs, in the officer's language ("" otherwise):
    // how many visits went, or how long until the next attempt.
    std::string syncStatus() const;
    // The running sync's progress (a copy; written by the task thread).
    sync::SyncProgress syncProgress() const;
    // Stops the running sync at its next step; what was answered stays recorded.
    void cancelSync();
    // A bundle file of the visits waiting to go, for a USB stick or SD card; they are marked
    // sent. importReceipt() applies the receipt the aggregator's `import` wrote for it.
    bool exportBundle(std::string path);
    bool importReceipt(std::string path);
    // Where the bundle goes unless the officer types another path:
    // ~/clusterkit-bundle-YYYYMMDD.ckb (the data folder when there is no home).
    std::string defaultBundlePath() const;
    // The device's enrolment (nullopt before it, or while locked or busy).
    std::optional<SyncSettings> syncSettings();
    // Reviewers' comments, oldest first: on `recordId`, or every one when "".
    std::vector<ReviewCommentEntry> reviewComments(std::string_view recordId = {});

    // The store, for tests that check what was saved (null before the first run).
    Store* store() { return m_store ? &*m_store : nullptr; }

    // The app's own words in the language setting (ui_text.h): what every screen shows.
    const char* ui(Text key) const { return uiText(key, m_settings.language); }
    std::string ui(Text key, std::string_view id) const { return labelId(key, m_settings.language, id); }

private:
    std::filesystem::path storeFile() const;
    // Imports the templates shipped beside the app; what was not imported is said in `notes`,
    // in `language` (a copy: this runs on the task thread while the officer may switch).
    void importBundledTemplates(Store& store, std::string& notes, const std::string& language) const;
    void openSession(FormSession session, std::optional<Position> at, bool stored);
    void autosave();
    void checkDurable();  // a pending autosave's copy completed or failed (see saving())
    void persistSettings();
    bool ready(bool needSession) const;  // unlocked, not busy (and a visit open)
    // Runs `job` on the task thread, holding the store for it unless `holdStore` is false (a
    // job that waits on the network and during which nothing else may touch the store).
    void post(std::string label, std::function<TaskRunner::Apply()> job, bool holdStore = true);
    std::unique_lock<std::recursive_mutex> storeLock() const { return std::unique_lock(m_storeMutex); }
    void finishSync();  // cancels a running sync, waits for it and applies its result
    // A refused visit's unit name for the sync summary ("“Kumar Dyeing”"), by record id.
    std::function<std::string(const std::string&)> unitNamer();

    FieldAppConfig m_config;
    AppSettings m_settings;
    // offeredLanguages(), and what it was worked out from.
    std::vector<std::string> m_offered;
    std::string m_offeredKey;  // what m_offered was worked out from
    std::optional<Store> m_store;
    std::optional<FormSession> m_session;
    Position m_position;
    Position m_nextRefusedAt;
    std::optional<CapturedFix> m_lastFix;
    std::map<std::pair<int, int>, std::string> m_typed;  // see keepTyped()
    bool m_draftStored = false;  // the open visit is in the store (see startVisit)
    std::string m_reopenVisit;  // the visit that was open when the app locked
    std::optional<Date> m_today;
    Screen m_screen = Screen::FirstRun;
    bool m_unlocked = false;
    std::string m_error, m_notice, m_saveError;
    std::time_t m_savedAt = 0;
    uint64_t m_durableTicket = 0;   // the autosave waiting for its copy (0: none)
    std::time_t m_committedAt = 0;  // when that autosave committed
    StorageStatus m_storageStatus;
    double m_lastActivity = 0;
    int m_fontGeneration = 0;
    std::vector<VisitRow> m_visits;
    bool m_visitsStale = true;
    std::vector<AssignedUnit> m_assigned;
    bool m_assignedStale = true;  // follows m_visitsStale: a visit or a sync changes it
    // The running sync: the client (so cancelSync() reaches it), the cancel request (kept:
    // the client forgets a cancel that lands between two of its requests) and the progress.
    bool m_syncing = false;
    int m_enrolments = 0;
    std::atomic<bool> m_outboxChanged{false};  // set by the sync thread: the lists read again
    mutable std::recursive_mutex m_storeMutex;
    std::shared_ptr<sync::SyncClient> m_syncClient;
    std::shared_ptr<std::atomic<bool>> m_syncCancelled;
    mutable std::mutex m_progressMutex;
    sync::SyncProgress m_progress;
    TaskRunner m_syncTasks;  // the sync's own thread: the screens keep working meanwhile
    TaskRunner m_tasks;      // last: joined first, while everything its jobs touch still exists
};

}  // namespace ck
