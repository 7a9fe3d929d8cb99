#include "app/ui/ui_text.h"

#include <array>

namespace ck {
namespace {

struct Words {
    Text key;
    const char* en;
    const char* hi;  // nullptr: not translated yet, English shows
};

// Plain Hindi as a field officer reads it; common loan words (sync, draft, template,
// passphrase) are kept, written in Devanagari, as officers say them.
constexpr Words kWords[] = {
    {Text::AppName, "ClusterKit", "ClusterKit"},
    {Text::NavVisits, "Visits", "विज़िट"},
    {Text::NavForm, "Form", "फ़ॉर्म"},
    {Text::NavSync, "Sync", "सिंक"},
    {Text::NavEnrolment, "Enrolment", "पंजीकरण"},
    {Text::NavSettings, "Settings", "सेटिंग्स"},
    {Text::NavLock, "Lock", "लॉक करें"},
    {Text::Working, "Working...", "काम चल रहा है..."},

    {Text::StartNewVisit, "Start a new visit: ", "नई विज़िट शुरू करें: "},
    {Text::SearchByUnitName, "Search by unit name", "इकाई के नाम से खोजें"},
    {Text::ColumnUnit, "Unit", "इकाई"},
    {Text::ColumnState, "State", "स्थिति"},
    {Text::ColumnLastChange, "Last change", "पिछला बदलाव"},
    {Text::NoUnitNameYet, "(no unit name yet)", "(अभी इकाई का नाम नहीं)"},
    {Text::Resume, "Resume", "जारी रखें"},
    {Text::Discard, "Discard", "हटाएँ"},
    {Text::DiscardQuestion, "Throw this draft away? It cannot be undone.",
     "यह ड्राफ़्ट हटा दें? हटाने के बाद यह वापस नहीं आएगा।"},
    {Text::DiscardDraft, "Discard draft", "ड्राफ़्ट हटाएँ"},
    {Text::Keep, "Keep", "रहने दें"},
    {Text::Correct, "Correct", "सुधारें"},
    {Text::CorrectionQuestion, "Start a correction? It opens a new draft with these answers.",
     "सुधार शुरू करें? इन्हीं उत्तरों के साथ एक नया ड्राफ़्ट खुलेगा।"},
    {Text::StartCorrection, "Start correction", "सुधार शुरू करें"},
    {Text::Cancel, "Cancel", "रद्द करें"},
    {Text::NoVisitsYet, "No visits yet.", "अभी कोई विज़िट नहीं है।"},
    {Text::NoTemplate, "No survey template is installed.", "कोई सर्वे टेम्पलेट इंस्टॉल नहीं है।"},
    {Text::AssignedUnitsHeading, "Assigned units (from sync)", "आपको सौंपी गई इकाइयाँ (सिंक से)"},
    {Text::SearchAssigned, "units assigned; search above filters them too",
     "इकाइयाँ सौंपी गईं; ऊपर की खोज इन पर भी लागू होती है"},
    {Text::StartVisit, "Start visit", "विज़िट शुरू करें"},
    {Text::OpenVisit, "Open visit", "विज़िट खोलें"},
    {Text::NotVisitedYet, "not visited yet", "अभी विज़िट नहीं हुई"},
    {Text::ColumnPlace, "Cluster, district, state", "क्लस्टर, ज़िला, राज्य"},
    {Text::NoAssignedMatch, "No assigned unit matches the search.", "खोज से कोई सौंपी गई इकाई नहीं मिली।"},

    {Text::StateDamaged, "damaged", "ख़राब डेटा"},
    {Text::StateDraft, "draft", "ड्राफ़्ट"},
    {Text::StateFinished, "finished", "पूरी"},
    {Text::StateAwaitingKey, "finished, waiting for enrolment", "पूरी, पंजीकरण की प्रतीक्षा में"},
    {Text::StateQueued, "queued", "भेजने के लिए तैयार"},
    {Text::StateSent, "sent", "भेजी गई"},
    {Text::StateAcknowledged, "acknowledged", "पहुँच गई"},
    {Text::StateDuplicate, "duplicate", "पहले से पहुँची हुई"},
    {Text::StateRefused, "refused", "अस्वीकार"},

    {Text::Required, "Required", "ज़रूरी"},
    {Text::Next, "Next >", "आगे >"},
    {Text::Previous, "< Previous", "< पीछे"},
    {Text::CloseVisit, "Close visit", "विज़िट बंद करें"},
    {Text::ReviewAndFinalise, "Review & finalise", "जाँचें और पूरा करें"},
    {Text::DontKnow, "Don't know", "पता नहीं"},
    {Text::RefusedAnswer, "Refused", "बताने से इनकार"},
    {Text::ClearAnswer, "Clear answer", "उत्तर मिटाएँ"},
    {Text::AddRow, "Add a row", "पंक्ति जोड़ें"},
    {Text::Remove, "Remove", "हटाएँ"},
    {Text::Edit, "Edit", "बदलें"},
    {Text::AttachPhoto, "Attach photo", "फ़ोटो जोड़ें"},
    {Text::PhotoPathHint, "Path to a photo file (.jpg, .png)", "फ़ोटो फ़ाइल का पता (.jpg, .png)"},
    {Text::PhotoAttachedAs, "Photo attached", "फ़ोटो जुड़ी है"},
    {Text::Saved, "Saved", "सहेजा गया"},
    {Text::NotSaved, "NOT SAVED: ", "सहेजा नहीं गया: "},
    {Text::NoChangesYet, "No changes yet", "अभी कोई बदलाव नहीं"},
    {Text::Today, "Today", "आज"},
    {Text::Choose, "Choose...", "चुनें..."},
    {Text::Sections, "Sections", "भाग"},
    {Text::NothingToAsk, "Nothing to ask in this visit right now.", "इस विज़िट में अभी पूछने को कुछ नहीं है।"},
    {Text::AnswerDontKnow, "Answer: don't know", "उत्तर: पता नहीं"},
    {Text::AnswerRefused, "Answer: refused", "उत्तर: बताने से इनकार"},

    {Text::Finalise, "Finalise", "पूरा करें"},
    {Text::BackToForm, "Back to the form", "फ़ॉर्म पर वापस"},
    {Text::NoOpenProblems, "No open problems: the visit can be finalised.",
     "कोई समस्या बाकी नहीं: विज़िट पूरी की जा सकती है।"},
    {Text::OpenProblems, "Problems to fix before finalising:", "पूरा करने से पहले ये समस्याएँ ठीक करें:"},

    {Text::SyncNow, "Sync now", "अभी सिंक करें"},
    {Text::ExportBundle, "Export bundle file", "बंडल फ़ाइल बनाएँ"},
    {Text::ImportReceipt, "Import receipt", "रसीद लोड करें"},
    {Text::EnrolDevice, "Enrol this device", "यह डिवाइस पंजीकृत करें"},
    {Text::Enrol, "Enrol", "पंजीकरण करें"},

    {Text::Language, "Language", "भाषा"},
    {Text::TextSize, "Text size", "अक्षरों का आकार"},
    {Text::HighContrast, "High contrast (for sunlight)", "गहरे रंग (धूप में पढ़ने के लिए)"},
    {Text::IdleLockMinutes, "Lock after idle minutes (0 = never)", "इतने मिनट कुछ न करने पर लॉक (0 = कभी नहीं)"},
    {Text::ChangePassphrase, "Change passphrase", "पासफ़्रेज़ बदलें"},
    {Text::ChangePassphraseEllipsis, "Change passphrase...", "पासफ़्रेज़ बदलें..."},
    {Text::BackToSettings, "Back to settings", "सेटिंग्स पर वापस"},
    {Text::Unlock, "Unlock", "खोलें"},
    {Text::Passphrase, "Passphrase", "पासफ़्रेज़"},
    {Text::LockedPrompt, "The app is locked. Enter your passphrase.", "ऐप लॉक है। अपना पासफ़्रेज़ डालें।"},
    {Text::Create, "Create", "बनाएँ"},
    {Text::SamePassphraseAgain, "The same passphrase again", "वही पासफ़्रेज़ दोबारा"},
    {Text::StrongEnough, "Strong enough.", "पासफ़्रेज़ मज़बूत है।"},
    {Text::EntriesDiffer, "The two entries differ.", "दोनों में लिखा अलग है।"},

    {Text::NoVisitOpen, "No visit is open", "कोई विज़िट खुली नहीं है"},
    {Text::PassphrasesDiffer, "The two passphrases differ", "दोनों पासफ़्रेज़ अलग हैं"},
    {Text::NewPassphrasesDiffer, "The two new passphrases differ", "दोनों नए पासफ़्रेज़ अलग हैं"},
    {Text::PassphraseChanged, "Passphrase changed. Use the new one from now on.",
     "पासफ़्रेज़ बदल गया। अब से नया पासफ़्रेज़ ही डालें।"},
    {Text::VisitOpenCannotDiscard, "This visit is open: close it before discarding it",
     "यह विज़िट अभी खुली है: हटाने से पहले इसे बंद करें"},
    {Text::ProblemsBeforeFinalise, "{n} problem(s) to fix before finalising",
     "पूरा करने से पहले {n} समस्या(एँ) ठीक करें"},
    {Text::FinalisedAwaitingKey, "Visit finalised. It waits, encrypted, until this device is enrolled.",
     "विज़िट पूरी हुई। डिवाइस का पंजीकरण होने तक यह सुरक्षित (एन्क्रिप्टेड) रखी रहेगी।"},
    {Text::FinalisedQueued, "Visit finalised and queued for sync.", "विज़िट पूरी हुई और सिंक के लिए तैयार है।"},
    {Text::NotEnrolled, "This device is not enrolled yet: enrol it on the Enrolment screen first.",
     "यह डिवाइस अभी पंजीकृत नहीं है: पहले पंजीकरण स्क्रीन पर इसे पंजीकृत करें।"},
    {Text::PhotoPathMissing, "Type the path of the photo file first", "पहले फ़ोटो फ़ाइल का पता लिखें"},
    {Text::AttachingPhoto, "Attaching the photo...", "फ़ोटो जोड़ी जा रही है..."},
    {Text::CannotReadFile, "Cannot read ", "यह फ़ाइल पढ़ी नहीं जा सकी: "},
    {Text::PhotoTooLarge, "The photo is larger than 20 MB", "फ़ोटो 20 MB से बड़ी है"},
    {Text::PhotoAttached, "Photo attached.", "फ़ोटो जुड़ गई।"},
    {Text::AssignmentUnreadable, "This assignment could not be read; sync again to receive it anew",
     "यह सौंपी गई इकाई पढ़ी नहीं जा सकी; दोबारा सिंक करें"},
    {Text::UnitNotAssigned, "This unit is not among the assigned units (sync again?)",
     "यह इकाई सौंपी गई इकाइयों में नहीं है (दोबारा सिंक करें?)"},
    {Text::CreatingStore, "Creating the encrypted store...", "सुरक्षित (एन्क्रिप्टेड) भंडार बनाया जा रहा है..."},
    {Text::Unlocking, "Unlocking...", "खोला जा रहा है..."},
    {Text::ChangingPassphrase, "Changing the passphrase...", "पासफ़्रेज़ बदला जा रहा है..."},
    {Text::Finalising, "Finalising the visit...", "विज़िट पूरी की जा रही है..."},
    {Text::Enrolling, "Enrolling this device...", "डिवाइस का पंजीकरण हो रहा है..."},
    {Text::Syncing, "Syncing...", "सिंक हो रहा है..."},
    {Text::WritingBundle, "Writing the bundle file...", "बंडल फ़ाइल लिखी जा रही है..."},
    {Text::ReadingReceipt, "Reading the receipt...", "रसीद पढ़ी जा रही है..."},
    {Text::StorageFailed, "Storage failed: ", "डेटा सहेजने में गड़बड़ी: "},
    {Text::SyncDone, "Sync done: ", "सिंक पूरा: "},
    {Text::SyncStopped, "Sync stopped: ", "सिंक रुक गया: "},
    {Text::SyncCancelled, "Sync cancelled: ", "सिंक रद्द किया: "},
    {Text::EnrolAddressMissing, "Type the aggregator's address from the enrolment slip (https://...)",
     "पंजीकरण पर्ची से एग्रीगेटर का पता लिखें (https://...)"},
    {Text::EnrolCodeMissing, "Type the one-time enrolment code from the enrolment slip",
     "पंजीकरण पर्ची से एक बार वाला पंजीकरण कोड लिखें"},
    {Text::BundlePathMissing, "Type where the bundle file should go (a USB stick or SD card folder)",
     "लिखें कि बंडल फ़ाइल कहाँ सहेजनी है (USB स्टिक या SD कार्ड का फ़ोल्डर)"},
    {Text::ReceiptPathMissing, "Type the path of the receipt file the aggregator gave",
     "एग्रीगेटर से मिली रसीद फ़ाइल का पता लिखें"},
    {Text::NoBundleWritten, "No bundle written: ", "बंडल फ़ाइल नहीं बनी: "},
    {Text::ReceiptNotApplied, "Receipt not applied: ", "रसीद लागू नहीं हुई: "},
    {Text::ReceiptApplied, "Receipt applied: ", "रसीद लागू हुई: "},
    {Text::SettingsNotSaved, "Could not save the settings file in ", "सेटिंग्स फ़ाइल यहाँ सहेजी नहीं जा सकी: "},
    {Text::SendingPhotos, "Sending photos...", "फ़ोटो भेजी जा रही हैं..."},
    {Text::FetchingUpdates, "Fetching templates, assignments and review comments...",
     "टेम्पलेट, सौंपी गई इकाइयाँ और समीक्षा टिप्पणियाँ ली जा रही हैं..."},
    {Text::AnsweredOf, "{n} of {total} answered", "{total} में से {n} के उत्तर दिए"},
    {Text::Connecting, "Connecting to the aggregator...", "एग्रीगेटर से जुड़ रहे हैं..."},

    {Text::HintRupees, "Rupees, e.g. 250000 or 2.5 lakh", "रुपये, जैसे 250000 या 2.5 लाख"},
    {Text::HintPercent, "0 to 100", "0 से 100"},
    {Text::HintWholeNumber, "Whole number", "पूर्ण संख्या"},
    {Text::HintNumber, "Number", "संख्या"},
    {Text::AnswerKept, "Answer kept: ", "रखा गया उत्तर: "},
    {Text::NoAnswerKept, "No answer is kept yet.", "अभी कोई उत्तर नहीं रखा गया।"},
    {Text::FixTypedToGoOn, "Correct or clear what is typed before going on.",
     "आगे जाने से पहले लिखा हुआ ठीक करें या मिटाएँ।"},
    {Text::OrDontKnow, "If the respondent does not know or will not say, press Don't know or Refused.",
     "अगर उत्तरदाता को पता नहीं या वह बताना नहीं चाहता, तो 'पता नहीं' या 'बताने से इनकार' दबाएँ।"},
    {Text::DateFormatProblem, "Not taken: enter the date as YYYY-MM-DD, for example 2026-11-23",
     "स्वीकार नहीं: तारीख़ YYYY-MM-DD रूप में लिखें, जैसे 2026-11-23"},
    {Text::Latitude, "Latitude", "अक्षांश"},
    {Text::Longitude, "Longitude", "देशांतर"},
    {Text::AccuracyMetres, "Accuracy (m)", "सटीकता (मीटर)"},
    {Text::AccuracyOptional, "blank = unknown", "ख़ाली = पता नहीं"},
    {Text::AccuracyUnknown, "accuracy unknown", "सटीकता पता नहीं"},
    {Text::GpsTypedProblem, "Not taken: enter latitude and longitude as decimal degrees (11.1271, 77.3398)",
     "स्वीकार नहीं: अक्षांश और देशांतर दशमलव डिग्री में लिखें (11.1271, 77.3398)"},
    {Text::CaptureLocation, "Capture location", "स्थान लें"},
    {Text::GettingFix, "Getting a location fix...", "स्थान लिया जा रहा है..."},
    {Text::LocationCaptured, "Location captured: ", "स्थान लिया गया: "},
    {Text::NoLocationSource, "No GPS on this device: type the location instead.",
     "इस डिवाइस पर GPS नहीं है: स्थान हाथ से लिखें।"},
    {Text::RemoveRowQuestion, "Remove row {n}? Its answers are deleted.", "पंक्ति {n} हटा दें? इसके उत्तर मिट जाएँगे।"},
    {Text::RemoveRow, "Remove row", "पंक्ति हटाएँ"},
    {Text::FixAt, "fix at", "स्थान का समय"},
    {Text::GpsNoFix, "The GPS has no position yet: go outside or wait, then try again, or type the location.",
     "GPS को अभी स्थान नहीं मिला: बाहर जाएँ या रुकें, फिर दोबारा कोशिश करें, या स्थान हाथ से लिखें।"},
    {Text::GpsUnavailable, "The GPS does not answer: type the location instead.",
     "GPS जवाब नहीं दे रहा: स्थान हाथ से लिखें।"},
    // Why a sync or an enrolment stopped: what happened and what to do, never the network
    // library's own words.
    {Text::SyncWhyUnreachable, "The aggregator could not be reached. Check the Wi-Fi or mobile data, or try again later.",
     "एग्रीगेटर से संपर्क नहीं हो सका। वाई-फ़ाई या मोबाइल डेटा जाँचें, या थोड़ी देर बाद फिर कोशिश करें।"},
    {Text::SyncWhyWrongServer,
     "The server did not prove it is your aggregator: its key is not the one on the enrolment slip. Nothing was sent. "
     "Tell your coordinator.",
     "सर्वर यह साबित नहीं कर सका कि वह आपका एग्रीगेटर है: उसकी कुंजी पंजीकरण पर्ची वाली कुंजी नहीं है। कुछ नहीं भेजा गया। "
     "अपने समन्वयक को बताएँ।"},
    {Text::SyncWhyBadReply,
     "The aggregator's answer could not be understood. The app or the aggregator may need an update; tell your "
     "coordinator.",
     "एग्रीगेटर का उत्तर समझ में नहीं आया। ऐप या एग्रीगेटर को अपडेट की ज़रूरत हो सकती है; अपने समन्वयक को बताएँ।"},
    {Text::SyncWhyCancelled, "Sync was cancelled.", "सिंक रद्द किया गया।"},
    {Text::SyncWhyRefused, "The aggregator refused the request. Tell your coordinator.",
     "एग्रीगेटर ने अनुरोध अस्वीकार कर दिया। अपने समन्वयक को बताएँ।"},
    {Text::SyncWhyOther, "Something on this device stopped it. Try again; if it happens again, tell your coordinator.",
     "इस डिवाइस पर किसी गड़बड़ी से यह रुक गया। फिर कोशिश करें; दोबारा हो तो अपने समन्वयक को बताएँ।"},
    {Text::RefusedUnknownDevice,
     "The aggregator does not know this device. Enrol it again with a new code from your coordinator.",
     "एग्रीगेटर इस डिवाइस को नहीं पहचानता। समन्वयक से नया कोड लेकर डिवाइस का फिर से पंजीकरण करें।"},
    {Text::RefusedRevoked, "Your coordinator has withdrawn this device: it can send nothing more. Talk to your coordinator.",
     "आपके समन्वयक ने यह डिवाइस हटा दिया है: अब यह कुछ नहीं भेज सकता। अपने समन्वयक से बात करें।"},
    {Text::RefusedClock, "The device's date or time is wrong. Set the right date and time, then try again.",
     "डिवाइस की तारीख़ या समय ग़लत है। सही तारीख़ और समय लगाकर फिर कोशिश करें।"},
    {Text::RefusedBusy, "The aggregator is busy. Try again in a few minutes.",
     "एग्रीगेटर अभी व्यस्त है। कुछ मिनट बाद फिर कोशिश करें।"},
    {Text::RefusedProtocol, "This app and the aggregator speak different versions. Update the app.",
     "यह ऐप और एग्रीगेटर अलग-अलग संस्करण के हैं। ऐप अपडेट करें।"},
    {Text::RefusedSignature, "The aggregator could not check this device's signature. Tell your coordinator.",
     "एग्रीगेटर इस डिवाइस के हस्ताक्षर की जाँच नहीं कर सका। अपने समन्वयक को बताएँ।"},
    {Text::EnrolCodeUnknown, "The aggregator does not know this enrolment code. Check the code and the address on the slip.",
     "एग्रीगेटर इस पंजीकरण कोड को नहीं पहचानता। पर्ची पर लिखा कोड और पता जाँचें।"},
    {Text::EnrolCodeExpired, "This enrolment code has expired. Ask your coordinator for a new one.",
     "इस पंजीकरण कोड की समय सीमा ख़त्म हो चुकी है। समन्वयक से नया कोड माँगें।"},
    {Text::EnrolCodeUsed, "This enrolment code was already used by another device. Ask your coordinator for a new one.",
     "यह पंजीकरण कोड किसी दूसरे डिवाइस पर इस्तेमाल हो चुका है। समन्वयक से नया कोड माँगें।"},
    {Text::SyncVisitsAnswered,
     "{n} of {total} visits were answered; the rest stay in the outbox and go with the next sync.",
     "{total} में से {n} विज़िट का उत्तर मिला; बाकी आउटबॉक्स में रहेंगी और अगले सिंक में जाएँगी।"},
    {Text::SyncStoppedInUpdates,
     "Every visit sent was recorded; new templates and assignments come with the next sync.",
     "भेजी गई हर विज़िट दर्ज हो गई; नए टेम्पलेट और सौंपी गई इकाइयाँ अगले सिंक में आएँगी।"},
    {Text::EnrolFailed, "Enrolment failed: ", "पंजीकरण नहीं हुआ: "},
    {Text::EnrolStringNotFound,
     "This is not an enrolment string: it starts with CK1-. Copy it whole from the slip.",
     "यह पंजीकरण स्ट्रिंग नहीं है: वह CK1- से शुरू होती है। पर्ची से पूरी स्ट्रिंग कॉपी करें।"},
    {Text::EnrolStringNewer,
     "This enrolment string is from a newer ClusterKit. Update the app, or type the address, key and code one by one.",
     "यह पंजीकरण स्ट्रिंग ClusterKit के नए संस्करण की है। ऐप अपडेट करें, या पता, कुंजी और कोड अलग-अलग लिखें।"},
    {Text::EnrolStringBadCharacter,
     "Group {n} of the enrolment string has a character the slip never uses. Compare group {n} with the slip.",
     "पंजीकरण स्ट्रिंग के समूह {n} में ऐसा अक्षर है जो पर्ची में कभी नहीं होता। समूह {n} को पर्ची से मिलाएँ।"},
    {Text::EnrolStringGroupLength,
     "Group {n} of the enrolment string does not have 5 characters: one is missing or extra there.",
     "पंजीकरण स्ट्रिंग के समूह {n} में 5 अक्षर नहीं हैं: वहाँ एक अक्षर छूटा है या ज़्यादा है।"},
    {Text::EnrolStringGroupCheck,
     "Group {n} of the enrolment string has a typing mistake. Compare group {n} with the slip.",
     "पंजीकरण स्ट्रिंग के समूह {n} में टाइपिंग की ग़लती है। समूह {n} को पर्ची से मिलाएँ।"},
    {Text::EnrolStringTooShort, "The enrolment string ends too early: groups are missing at its end.",
     "पंजीकरण स्ट्रिंग अधूरी है: आख़िर के कुछ समूह छूट गए हैं।"},
    {Text::EnrolStringInconsistent,
     "The enrolment string does not add up: several characters may be mistyped, or groups swapped. Compare it with "
     "the slip again.",
     "पंजीकरण स्ट्रिंग सही नहीं बैठती: कई अक्षर ग़लत हो सकते हैं या समूह आगे-पीछे हो गए हैं। पर्ची से फिर मिलाएँ।"},
    {Text::EnrolFileUnreadable, "Cannot read the file: ", "फ़ाइल पढ़ी नहीं जा सकी: "},
    {Text::EnrolStringRead, "Enrolment string read from the file. Check where it enrols, then press Enrol.",
     "फ़ाइल से पंजीकरण स्ट्रिंग पढ़ ली गई। देखें कि यह कहाँ पंजीकरण करेगी, फिर पंजीकरण करें दबाएँ।"},
    {Text::EnrolStringLabel, "Enrolment string from the slip (paste it, type it, or read it from a file)",
     "पर्ची की पंजीकरण स्ट्रिंग (पेस्ट करें, लिखें, या फ़ाइल से पढ़ें)"},
    {Text::EnrolStringHint, "CK1-.....-..... (from the slip)", "CK1-.....-..... (पर्ची से)"},
    {Text::ReadFromFile, "Read from file", "फ़ाइल से पढ़ें"},
    {Text::EnrolFileHint, "Path of the slip file (e.g. on a USB stick)", "पर्ची फ़ाइल का पता (जैसे USB स्टिक पर)"},
    {Text::EnrolTypeApart, "Or type the address, server key and code one by one",
     "या पता, सर्वर कुंजी और कोड अलग-अलग लिखें"},
    {Text::EnrolStringGoesTo, "This string enrols with: ", "यह स्ट्रिंग इससे पंजीकरण करेगी: "},
    {Text::EnrolBusySyncing, "A sync is running: enrol again once it has finished.",
     "सिंक चल रहा है: उसके पूरा होने के बाद पंजीकरण करें।"},
    {Text::SyncInBackground, "Sync runs in the background: you can keep working on visits meanwhile.",
     "सिंक पीछे चलता रहता है: इस बीच आप विज़िट पर काम जारी रख सकते हैं।"},
    {Text::SyncStatusSending, "Syncing: {n} of {total} visits sent", "सिंक: {total} में से {n} विज़िट भेजी गईं"},
    {Text::SyncStatusRetry, "Sync: the link failed; trying again in {n} s", "सिंक: कनेक्शन टूट गया; {n} सेकंड में फिर कोशिश"},
    {Text::SyncStatusUpdates, "Sync: fetching templates, assignments and comments",
     "सिंक: टेम्पलेट, सौंपी गई इकाइयाँ और टिप्पणियाँ ली जा रही हैं"},
    {Text::OutboxWaiting, "waiting to go", "भेजी जानी है"},
    {Text::OutboxSentNoAnswer, "sent, no answer yet", "भेजी गई, अभी उत्तर नहीं आया"},
    {Text::OutboxStored, "stored by the aggregator", "एग्रीगेटर में जमा"},
    {Text::OutboxHadIt, "the aggregator had it already", "एग्रीगेटर के पास पहले से थी"},
    {Text::OutboxRefused, "REFUSED", "अस्वीकार"},
    {Text::OutboxAwaitingEnrolment, "waiting for enrolment", "पंजीकरण की प्रतीक्षा में"},
    {Text::ColumnFinished, "Finished", "पूरी हुई"},
    {Text::OutboxHeading, "Outbox: {n} visit(s)", "आउटबॉक्स: {n} विज़िट"},
    {Text::EnrolIntro,
     "To enrol, paste the enrolment string from the slip your coordinator gave you (or read it from the slip file), "
     "then press Enrol. The device must reach the aggregator (Wi-Fi or mobile data).",
     "पंजीकरण के लिए, समन्वयक से मिली पर्ची की पंजीकरण स्ट्रिंग पेस्ट करें (या पर्ची फ़ाइल से पढ़ें), फिर पंजीकरण करें "
     "दबाएँ। डिवाइस का एग्रीगेटर तक पहुँचना ज़रूरी है (वाई-फ़ाई या मोबाइल डेटा)।"},
};

constexpr size_t kCount = size_t(Text::Count_);

// Indexed by key; built once, checked complete by the tests (every key has English).
struct Table {
    std::array<const Words*, kCount> byKey{};
    Table() {
        for (const auto& w : kWords) byKey[size_t(w.key)] = &w;
    }
};

const Table& table() {
    static const Table t;
    return t;
}

}  // namespace

const char* uiText(Text key, std::string_view language) {
    if (size_t(key) >= kCount) return "";
    const Words* w = table().byKey[size_t(key)];
    if (!w) return "";
    if (language == "hi" && w->hi) return w->hi;
    return w->en;
}

std::string labelId(Text key, std::string_view language, std::string_view id) {
    std::string label = uiText(key, language);
    label += "###";
    label += id;
    return label;
}

std::string uiTextCount(Text key, std::string_view language, size_t n) {
    std::string text = uiText(key, language);
    if (auto at = text.find("{n}"); at != std::string::npos) text.replace(at, 3, std::to_string(n));
    return text;
}

std::string uiTextCount(Text key, std::string_view language, size_t n, size_t total) {
    std::string text = uiTextCount(key, language, n);
    if (auto at = text.find("{total}"); at != std::string::npos) text.replace(at, 7, std::to_string(total));
    return text;
}

}  // namespace ck
