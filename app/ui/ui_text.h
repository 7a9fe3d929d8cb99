#pragma once
// The app's own words (buttons, headings, status names, the model's messages) in every
// language ClusterKit ships. Template text comes with the template; this is everything else.
// The words are data: the "app" section of assets/text/<code>.json (core/messages/
// text_tables.h), built into the binary. A language is a file there, no code; a key a
// language lacks, or a language without a file, shows English.
//
// Lookups are an array index (the tables are built once, on first use): no allocation in a
// frame for uiText. Labels that tests or ImGui state refer to keep a fixed id apart from the
// words: labelId(Text::Resume, "hi", "resume") gives "जारी रखें###resume", so switching the
// language neither loses a widget's state nor renames what the test hooks record.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ck {

// X(key) for every key of the "app" sections, in one place so the enum and the names agree.
// A new key is added here and to assets/text/en.json (the tests require English for each).
#define CK_UI_TEXT_KEYS(X) \
    X(AppName) X(NavVisits) X(NavForm) X(NavSync) X(NavEnrolment) X(NavSettings) \
    X(NavLock) X(Working) X(StartNewVisit) X(SearchByUnitName) X(ColumnUnit) X(ColumnState) \
    X(ColumnLastChange) X(NoUnitNameYet) X(Resume) X(Discard) X(DiscardQuestion) X(DiscardDraft) \
    X(Keep) X(Correct) X(CorrectionQuestion) X(StartCorrection) X(Cancel) X(NoVisitsYet) \
    X(NoTemplate) X(AssignedUnitsHeading) X(SearchAssigned) X(StartVisit) X(OpenVisit) X(NotVisitedYet) \
    X(ColumnPlace) X(NoAssignedMatch) X(StateDamaged) X(StateDraft) X(StateFinished) X(StateAwaitingKey) \
    X(StateQueued) X(StateSent) X(StateAcknowledged) X(StateDuplicate) X(StateRefused) X(Required) \
    X(Next) X(Previous) X(CloseVisit) X(ReviewAndFinalise) X(DontKnow) X(RefusedAnswer) \
    X(ClearAnswer) X(AddRow) X(Remove) X(Edit) X(AttachPhoto) X(PhotoPathHint) \
    X(PhotoAttachedAs) X(Saved) X(NotSaved) X(NoChangesYet) X(Today) X(Choose) \
    X(Sections) X(NothingToAsk) X(AnswerDontKnow) X(AnswerRefused) X(Finalise) X(BackToForm) \
    X(NoOpenProblems) X(OpenProblems) X(SyncNow) X(ExportBundle) X(ImportReceipt) X(EnrolDevice) \
    X(Enrol) X(Language) X(TextSize) X(HighContrast) X(IdleLockMinutes) X(ChangePassphrase) \
    X(ChangePassphraseEllipsis) X(BackToSettings) X(Unlock) X(Passphrase) X(LockedPrompt) X(Create) \
    X(SamePassphraseAgain) X(StrongEnough) X(EntriesDiffer) X(NoVisitOpen) X(PassphrasesDiffer) X(NewPassphrasesDiffer) \
    X(PassphraseChanged) X(VisitOpenCannotDiscard) X(ProblemsBeforeFinalise) X(FinalisedAwaitingKey) X(FinalisedQueued) X(NotEnrolled) \
    X(PhotoPathMissing) X(AttachingPhoto) X(CannotReadFile) X(PhotoTooLarge) X(PhotoAttached) X(AssignmentUnreadable) \
    X(UnitNotAssigned) X(CreatingStore) X(Unlocking) X(ChangingPassphrase) X(Finalising) X(Enrolling) \
    X(Syncing) X(WritingBundle) X(ReadingReceipt) X(StorageFailed) X(SyncDone) X(SyncStopped) \
    X(SyncCancelled) X(EnrolAddressMissing) X(EnrolCodeMissing) X(BundlePathMissing) X(ReceiptPathMissing) X(NoBundleWritten) \
    X(ReceiptNotApplied) X(ReceiptApplied) X(SettingsNotSaved) X(SendingPhotos) X(FetchingUpdates) X(Connecting) \
    X(AnsweredOf) X(HintRupees) X(HintPercent) X(HintWholeNumber) X(HintNumber) X(AnswerKept) \
    X(NoAnswerKept) X(FixTypedToGoOn) X(OrDontKnow) X(DateFormatProblem) X(Latitude) X(Longitude) \
    X(AccuracyMetres) X(AccuracyOptional) X(AccuracyUnknown) X(GpsTypedProblem) X(CaptureLocation) X(GettingFix) \
    X(LocationCaptured) X(NoLocationSource) X(RemoveRowQuestion) X(RemoveRow) X(FixAt) X(GpsNoFix) \
    X(GpsUnavailable) X(SyncWhyUnreachable) X(SyncWhyWrongServer) X(SyncWhyBadReply) X(SyncWhyCancelled) X(SyncWhyRefused) \
    X(SyncWhyOther) X(RefusedUnknownDevice) X(RefusedRevoked) X(RefusedClock) X(RefusedBusy) X(RefusedProtocol) \
    X(RefusedSignature) X(EnrolCodeUnknown) X(EnrolCodeExpired) X(EnrolCodeUsed) X(SyncVisitsAnswered) X(SyncStoppedInUpdates) \
    X(EnrolFailed) X(EnrolStringNotFound) X(EnrolStringNewer) X(EnrolStringBadCharacter) X(EnrolStringGroupLength) X(EnrolStringGroupCheck) \
    X(EnrolStringTooShort) X(EnrolStringInconsistent) X(EnrolFileUnreadable) X(EnrolStringRead) X(EnrolStringLabel) X(EnrolStringHint) \
    X(ReadFromFile) X(EnrolFileHint) X(EnrolTypeApart) X(EnrolStringGoesTo) X(EnrolBusySyncing) X(SyncInBackground) \
    X(SyncStatusSending) X(SyncStatusRetry) X(SyncStatusUpdates) X(OutboxWaiting) X(OutboxSentNoAnswer) X(OutboxStored) \
    X(OutboxHadIt) X(OutboxRefused) X(OutboxAwaitingEnrolment) X(ColumnFinished) X(OutboxHeading) X(EnrolIntro) \
    X(SizeSmall) X(SizeNormal) X(SizeLarge) X(SizeLarger) X(SizeLargest) X(SummaryStoredOne) \
    X(SummaryStoredMany) X(SummaryDuplicatesOne) X(SummaryDuplicatesMany) X(SummaryRefused) X(SummaryReceived) X(SummaryNewTemplatesOne) \
    X(SummaryNewTemplatesMany) X(SummaryAssignmentsOne) X(SummaryAssignmentsMany) X(SummaryCommentsOne) X(SummaryCommentsMany) X(SummaryPhotosOne) \
    X(SummaryPhotosMany) X(SummaryRefusedLine) X(SummaryTemplatesRejectedOne) X(SummaryTemplatesRejectedMany) X(SummaryProblem) X(EnrolledWith) \
    X(TheAggregator) X(CompareFingerprints) X(DataKey) X(TemplateKey) X(SealedNowOne) X(SealedNowMany) \
    X(BundleWrittenOne) X(BundleWrittenMany) X(CarryBundle) X(CurrentPassphrase) X(NewPassphrase) X(NewPassphraseAgain) \
    X(NewEntriesDiffer) X(Welcome) X(EnrolledAs) X(AggregatorIs) X(KeyFingerprints) X(FingerprintDiffers) \
    X(EnrolAgain) X(NotEnrolledYetIntro) X(DeviceName) X(DeviceNameHint) X(AggregatorAddress) X(ServerKey) \
    X(OneTimeCode) X(OneTimeCodeHint) X(ServerKeyToo) X(PasteOrType) X(SyncProgressVisits) X(NoVisitsToSend) \
    X(SentReceived) X(CancelIsSafe) X(AggregatorOfficer) X(NotEnrolledSync) X(OutboxCounts) X(OutboxCountsWaiting) \
    X(SyncExplains) X(NoNetwork) X(BundlePathHint) X(ReceiptPathHint) X(ReasonPrefix) X(ReviewerSays) \
    X(SectionDone) X(NotAsked) X(RowOf) X(SealedToDataKey) X(ServerKeyChecked) X(EnrolChecksKey) \
    X(TechnicalDetail) X(WrongPassphrase) X(StoreDamaged) \
    X(StoreNewer) X(StoreRefused) X(TemplateNotInstalled) X(TemplateSignatureBad) X(TemplateNotThatOne) X(AnswersNotRestored) \
    X(VisitRefusedConflict) X(VisitRefusedUnknownTemplate) X(VisitRefusedBadSignature) X(VisitRefusedCannotOpen) X(VisitRefusedBadContent) X(VisitRefusedOther) \
    X(AggregatorWrote) X(OutboxEntryDamaged) X(CommentDamaged) X(StoredVisitDamaged) \
    X(Saving) X(BrowserStorageFailed) X(StorageMayBeCleared) X(StoragePersistent) X(StorageUsage)

enum class Text : uint16_t {
#define CK_UI_TEXT_ENUM(name) name,
    CK_UI_TEXT_KEYS(CK_UI_TEXT_ENUM)
#undef CK_UI_TEXT_ENUM
        Count_
};

// The words for `key` in `language` ("en", "hi", "ta", ...); English when there are none.
const char* uiText(Text key, std::string_view language);
// The key's name in the tables ("Resume"); "" for a key out of range.
const char* uiTextName(Text key);
// "words###id": the translated words with a fixed ImGui id.
std::string labelId(Text key, std::string_view language, std::string_view id);
// uiText with every "{n}" replaced by `n` (counts in messages).
std::string uiTextCount(Text key, std::string_view language, size_t n);
// uiText with every "{n}" and "{total}" replaced ("12 of 40 answered").
std::string uiTextCount(Text key, std::string_view language, size_t n, size_t total);

// A detail in the words of the store, the template loader, the network or the aggregator
// (English, for the coordinator), quoted and marked as such ("details for the coordinator:
// “...”") in `language`: never passed off as a sentence of the app's own.
std::string technicalDetail(std::string_view detail, std::string_view language);

// A language the app can show its words in: code and name in its own script ("தமிழ்").
struct UiLanguage {
    std::string code;
    std::string name;
};
// Every language with a table, English first.
const std::vector<UiLanguage>& uiLanguages();
// The name of `code` in its own script for the language switch; nullptr when the app has no
// table for it (a template may declare a language the app's words lack: show the code).
const char* uiLanguageName(std::string_view code);
// A language button's Dear ImGui label: its name (or its code) shown, "###<idPrefix><code>" as
// the id, so the widget keeps its identity whatever language the app is in.
std::string uiLanguageLabel(const std::string& code, std::string_view idPrefix);

}  // namespace ck
