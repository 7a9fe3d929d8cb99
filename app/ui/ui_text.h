#pragma once
// The app's own words (buttons, headings, status names, the model's messages) in English and
// Hindi. Template text is bilingual already; this is everything else. English is the
// fallback: a key without Hindi text, or any language but "hi", shows English.
//
// Labels that tests or ImGui state refer to keep a fixed id apart from the words:
// labelId(Text::Resume, lang, "resume") gives "जारी रखें###resume", so switching the
// language neither loses a widget's state nor renames what the test hooks record.
#include <cstdint>
#include <string>
#include <string_view>

namespace ck {

enum class Text : uint16_t {
    // top bar and screen headings
    AppName, NavVisits, NavForm, NavSync, NavEnrolment, NavSettings, NavLock, Working,
    // visits
    StartNewVisit, SearchByUnitName, ColumnUnit, ColumnState, ColumnLastChange, NoUnitNameYet, Resume, Discard,
    DiscardQuestion, DiscardDraft, Keep, Correct, CorrectionQuestion, StartCorrection, Cancel, NoVisitsYet,
    NoTemplate, AssignedUnitsHeading, SearchAssigned, StartVisit, OpenVisit, NotVisitedYet, ColumnPlace,
    NoAssignedMatch,
    // visit and outbox states
    StateDamaged, StateDraft, StateFinished, StateAwaitingKey, StateQueued, StateSent, StateAcknowledged,
    StateDuplicate, StateRefused,
    // form
    Required, Next, Previous, CloseVisit, ReviewAndFinalise, DontKnow, RefusedAnswer, ClearAnswer, AddRow, Remove,
    Edit, AttachPhoto, PhotoPathHint, PhotoAttachedAs, Saved, NotSaved, NoChangesYet, Today, Choose, Sections,
    NothingToAsk, AnswerDontKnow, AnswerRefused,
    // review
    Finalise, BackToForm, NoOpenProblems, OpenProblems,
    // sync and enrolment
    SyncNow, ExportBundle, ImportReceipt, EnrolDevice, Enrol,
    // settings, passphrases
    Language, TextSize, HighContrast, IdleLockMinutes, ChangePassphrase, ChangePassphraseEllipsis, BackToSettings,
    Unlock, Passphrase, LockedPrompt, Create, SamePassphraseAgain, StrongEnough, EntriesDiffer,
    // the model's messages
    NoVisitOpen, PassphrasesDiffer, NewPassphrasesDiffer, PassphraseChanged, VisitOpenCannotDiscard,
    ProblemsBeforeFinalise, FinalisedAwaitingKey, FinalisedQueued, NotEnrolled, PhotoPathMissing, AttachingPhoto,
    CannotReadFile, PhotoTooLarge, PhotoAttached, AssignmentUnreadable, UnitNotAssigned, CreatingStore, Unlocking,
    ChangingPassphrase, Finalising, Enrolling, Syncing, WritingBundle, ReadingReceipt, StorageFailed, SyncDone,
    SyncStopped, SyncCancelled, EnrolAddressMissing, EnrolCodeMissing, BundlePathMissing, ReceiptPathMissing,
    NoBundleWritten, ReceiptNotApplied, ReceiptApplied, SettingsNotSaved, SendingPhotos, FetchingUpdates,
    Connecting, AnsweredOf,
    // data entry (issue 10, section 3)
    HintRupees, HintPercent, HintWholeNumber, HintNumber, AnswerKept, NoAnswerKept, FixTypedToGoOn, OrDontKnow,
    DateFormatProblem, Latitude, Longitude, AccuracyMetres, AccuracyOptional, AccuracyUnknown, GpsTypedProblem,
    CaptureLocation, GettingFix, LocationCaptured, NoLocationSource, RemoveRowQuestion, RemoveRow, FixAt, GpsNoFix, GpsUnavailable,
    // one-step enrolment and background sync: why a sync stopped, in sentences
    SyncWhyUnreachable, SyncWhyWrongServer, SyncWhyBadReply, SyncWhyCancelled, SyncWhyRefused, SyncWhyOther,
    RefusedUnknownDevice, RefusedRevoked, RefusedClock, RefusedBusy, RefusedProtocol, RefusedSignature,
    EnrolCodeUnknown, EnrolCodeExpired, EnrolCodeUsed, SyncVisitsAnswered, SyncStoppedInUpdates, EnrolFailed,
    EnrolStringNotFound, EnrolStringNewer, EnrolStringBadCharacter, EnrolStringGroupLength, EnrolStringGroupCheck,
    EnrolStringTooShort, EnrolStringInconsistent, EnrolFileUnreadable, EnrolStringRead, EnrolStringLabel,
    EnrolStringHint, ReadFromFile, EnrolFileHint, EnrolTypeApart, EnrolStringGoesTo, EnrolBusySyncing,
    SyncInBackground, SyncStatusSending, SyncStatusRetry, SyncStatusUpdates, OutboxWaiting, OutboxSentNoAnswer,
    OutboxStored, OutboxHadIt, OutboxRefused, OutboxAwaitingEnrolment, ColumnFinished, OutboxHeading,
    EnrolIntro,
    Count_
};

// The words for `key` in `language` ("en", "hi", ...); English when there is no such text.
const char* uiText(Text key, std::string_view language);
// "words###id": the translated words with a fixed ImGui id.
std::string labelId(Text key, std::string_view language, std::string_view id);
// uiText with "{n}" replaced by `n` (counts in messages).
std::string uiTextCount(Text key, std::string_view language, size_t n);
// uiText with "{n}" and "{total}" replaced ("12 of 40 answered").
std::string uiTextCount(Text key, std::string_view language, size_t n, size_t total);

}  // namespace ck
