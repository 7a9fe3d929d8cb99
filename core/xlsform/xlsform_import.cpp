#include "core/xlsform/xlsform_import.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include <sys/stat.h>

#include "core/template/template_media.h"
#include "core/xlsform/xlsx_reader.h"

namespace ck {

namespace {

using nlohmann::json;

// Past this many problems the author is better served fixing what is listed and importing
// again than reading a flood caused by one misplaced column.
constexpr size_t kMaxProblems = 200;
// The loader refuses deeper nesting anyway; the importer stops building there so a hostile
// sheet of 100,000 "begin group" rows cannot build an equally deep document.
constexpr size_t kMaxNesting = 100;

// Spaces a spreadsheet hides: pasted from the web or a word processor, a name ends in a
// non-breaking space (U+00A0, U+202F), a zero-width space (U+200B) or a byte-order mark.
constexpr std::string_view kInvisibleSpaces[] = {"\xC2\xA0", "\xE2\x80\xAF", "\xE2\x80\x8B", "\xEF\xBB\xBF"};

std::string trim(std::string_view text) {
    for (bool trimmed = true; trimmed;) {
        trimmed = false;
        while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' || text.front() == '\n')) {
            text.remove_prefix(1);
            trimmed = true;
        }
        while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
            text.remove_suffix(1);
            trimmed = true;
        }
        for (std::string_view space : kInvisibleSpaces) {
            if (text.substr(0, space.size()) == space) {
                text.remove_prefix(space.size());
                trimmed = true;
            }
            if (text.size() >= space.size() && text.substr(text.size() - space.size()) == space) {
                text.remove_suffix(space.size());
                trimmed = true;
            }
        }
    }
    return std::string(text);
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z')
            c = char(c - 'A' + 'a');
    return out;
}

std::vector<std::string> splitWords(std::string_view text) {
    std::vector<std::string> words;
    size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t'))
            ++i;
        size_t start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != '\t')
            ++i;
        if (i > start)
            words.emplace_back(text.substr(start, i - start));
    }
    return words;
}

// "Hindi (hi)" → "hi": XLSForm names a language for people and gives its code in parentheses.
// Without parentheses, a language commonly named in India's survey forms gets its ISO 639-1
// code ("label:English" and a plain, English "label" are then one language); any other text
// is the code itself ("label::en").
std::string languageCode(std::string_view text) {
    std::string name = trim(text);
    if (!name.empty() && name.back() == ')') {
        size_t open = name.rfind('(');
        if (open != std::string::npos) {
            std::string code = trim(std::string_view(name).substr(open + 1, name.size() - open - 2));
            if (!code.empty())
                return code;
        }
    }
    static const std::map<std::string, std::string, std::less<>> kCodes = {
        {"english", "en"},  {"hindi", "hi"},     {"marathi", "mr"}, {"tamil", "ta"},   {"telugu", "te"},
        {"bengali", "bn"},  {"bangla", "bn"},    {"gujarati", "gu"}, {"kannada", "kn"}, {"malayalam", "ml"},
        {"punjabi", "pa"},  {"odia", "or"},      {"oriya", "or"},   {"urdu", "ur"},    {"assamese", "as"},
        {"nepali", "ne"},   {"french", "fr"},    {"spanish", "es"}, {"portuguese", "pt"}, {"swahili", "sw"},
        {"arabic", "ar"},
    };
    if (auto it = kCodes.find(lower(name)); it != kCodes.end())
        return it->second;
    return name;
}

std::string joinRows(const std::vector<int>& rows) {
    std::string text;
    const size_t shown = std::min<size_t>(rows.size(), 10);
    for (size_t i = 0; i < shown; ++i)
        text += (i ? ", " : "") + std::to_string(rows[i]);
    if (rows.size() > shown)
        text += " and " + std::to_string(rows.size() - shown) + " more";
    return text;
}

// ---------------------------------------------------------------------------------------
// Columns

// What a survey, choices or settings column means to the importer.
enum class Role {
    Type, Name, ListName,
    Localized,    // label, hint, messages, form_title: one column per language
    Expression,   // relevant, constraint, calculation, choice_filter
    Appearance,
    Required,
    YesNo,        // pii, allow_dont_know
    FormId, Version, DefaultLanguage, InstanceName,
    Media,        // image: a file name per language, kept in the template
    RepeatCount,
    Property,     // choices: any other column, for choice_filter
    Unsupported,  // a known XLSForm column ClusterKit does not implement: ignored with a warning
    Unknown,      // ignored with a warning, as pyxform ignores columns it does not know
};

struct Column {
    size_t index = 0;
    std::string header;    // as typed (trimmed), for messages
    std::string key;       // lower case, spaces as '_', aliases resolved: "constraint_message"
    bool hasLanguage = false;
    std::string language;      // the code after "::" ("hi"); the default language when !hasLanguage
    std::string languageName;  // as typed after "::" ("Hindi (hi)")
    Role role = Role::Unknown;
};

std::string columnKey(std::string_view base) {
    std::string key = lower(trim(base));
    std::replace(key.begin(), key.end(), ' ', '_');
    // Spellings older XLSForm tools write for the same columns.
    if (key == "caption")
        return "label";
    if (key == "relevance")
        return "relevant";
    if (key == "jr:constraintmsg")
        return "constraint_message";
    if (key == "jr:requiredmsg")
        return "required_message";
    if (key == "readonly")
        return "read_only";
    if (key == "constraint_msg" || key == "constraintmsg")
        return "constraint_message";
    if (key == "required_msg" || key == "requiredmsg")
        return "required_message";
    return key;
}

// Columns whose text comes in languages: "label::Hindi (hi)", or "label:Hindi" as older forms write.
bool isLocalizable(std::string_view key) {
    return key == "label" || key == "hint" || key == "constraint_message" || key == "required_message" ||
           key == "image" || key == "audio" || key == "video" || key == "big-image" || key == "guidance_hint" ||
           key == "form_title";
}

const std::set<std::string, std::less<>> kSurveyUnsupportedColumns = {
    "read_only", "default", "trigger", "parameters", "audio", "video", "big-image", "body", "instance", "bind",
    "guidance_hint", "autoplay", "note", "label_prompt", "hxl", "sms_field", "compact_tag", "save_to", "intent",
};

Role surveyRole(const Column& c) {
    const std::string& k = c.key;
    if (k == "label" || k == "hint" || k == "required_message" || k == "constraint_message")
        return Role::Localized;
    if (k == "image")
        return Role::Media;
    if (kSurveyUnsupportedColumns.count(k) || k.rfind("bind::", 0) == 0 || k.rfind("instance::", 0) == 0 ||
        k.rfind("body::", 0) == 0)
        return Role::Unsupported;
    if (c.hasLanguage)
        return Role::Unknown;  // e.g. "relevant::hi": such columns have no language versions
    if (k == "type")
        return Role::Type;
    if (k == "name")
        return Role::Name;
    if (k == "relevant" || k == "constraint" || k == "calculation" || k == "choice_filter")
        return Role::Expression;
    if (k == "appearance")
        return Role::Appearance;
    if (k == "repeat_count")
        return Role::RepeatCount;
    if (k == "required")
        return Role::Required;
    if (k == "pii" || k == "allow_dont_know")
        return Role::YesNo;
    return Role::Unknown;
}

Role choicesRole(const Column& c) {
    if (c.key == "label")
        return Role::Localized;
    if (c.key == "image")
        return Role::Media;
    if (c.key == "audio" || c.key == "video" || c.key == "big-image")
        return Role::Unsupported;
    if (c.hasLanguage)
        return Role::Unknown;
    if (c.key == "list_name")
        return Role::ListName;
    if (c.key == "name")
        return Role::Name;
    // Other columns are properties a choice_filter can read, so their headers must be names
    // an expression can use; KoboToolbox's "$kuid" and "$autovalue" are not, and are ignored.
    const std::string& h = c.header;
    const bool usable = !h.empty() && h.size() <= 128 && (std::isalpha(static_cast<unsigned char>(h[0])) || h[0] == '_') &&
                        std::all_of(h.begin(), h.end(), [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'; });
    return usable ? Role::Property : Role::Unknown;
}

Role settingsRole(const Column& c) {
    if (c.key == "form_title")
        return Role::Localized;
    if (c.hasLanguage)
        return Role::Unknown;
    if (c.key == "form_id")
        return Role::FormId;
    if (c.key == "version")
        return Role::Version;
    if (c.key == "default_language")
        return Role::DefaultLanguage;
    if (c.key == "instance_name")
        return Role::InstanceName;
    return Role::Unknown;
}

// A sheet with its header understood: the header is the first non-empty row.
struct Table {
    std::string name;  // "survey", as messages name it
    const XlsxSheet* sheet = nullptr;
    std::vector<Column> columns;
    std::vector<const XlsxRow*> data;  // rows under the header
    int headerRow = 0;
};

// ---------------------------------------------------------------------------------------
// Types

enum class EntryKind { Question, BeginGroup, EndGroup, BeginRepeat, EndRepeat, Metadata, Invalid };

struct TypeInfo {
    EntryKind kind = EntryKind::Invalid;
    std::string type;     // the template's type name; for Metadata, the XLSForm type ("start")
    std::string list;     // select_one / select_multiple / scale
    bool orOther = false; // "select_one list or_other"
    std::string note;     // a warning to give when the type is read with a change of meaning
    std::string error;    // when Invalid
};

// Metadata rows: what the device fills in without asking. `today` is a calculation ClusterKit
// can do itself; the others are skipped, each with the reason.
std::string metadataReason(const std::string& type) {
    if (type == "start" || type == "end")
        return "each record keeps the time it was created and last changed";
    if (type == "deviceid" || type == "imei" || type == "simserial" || type == "subscriberid" ||
        type == "phonenumber")
        return "ClusterKit does not collect device or SIM identifiers (records carry the device's key)";
    if (type == "username" || type == "email")
        return "ClusterKit does not read the device's accounts (records carry the enrolled officer's device)";
    if (type == "audit")
        return "ClusterKit keeps no audit log of form navigation";
    if (type == "start-geopoint" || type == "background-geopoint" || type == "background-audio")
        return "ClusterKit records nothing in the background; ask with a 'geopoint' question instead";
    if (type == "uri:deviceid" || type == "uri:username" || type == "uri:email" || type == "uri:phonenumber")
        return "ClusterKit does not read device identifiers or accounts";
    return {};
}

std::string refusalReason(const std::string& type) {
    if (type == "select_one_from_file" || type == "select_multiple_from_file" || type == "select_one_external" ||
        type == "select_multiple_external")
        return "ClusterKit reads choices only from the choices sheet; copy the file's rows there and use "
               "'select_one LIST'";
    if (type == "time" || type == "datetime")
        return "ClusterKit has no time-of-day answer; use 'date', or 'text' for a time";
    if (type == "geotrace" || type == "geoshape")
        return "ClusterKit records single GPS points only; use 'geopoint'";
    if (type == "audio" || type == "video" || type == "file" || type == "image-annotate" || type == "osm" ||
        type == "background-video")
        return "ClusterKit attaches photos only";
    if (type == "range" || type == "rank")
        return "ClusterKit has no " + type + " widget; use 'integer' with a constraint, or 'select_one'";
    if (type == "hidden" || type == "xml-external" || type == "csv-external" || type == "trigger" ||
        type == "acknowledge" || type == "begin_loop" || type == "end_loop" || type == "entity")
        return "ClusterKit does not implement it";
    return {};
}

TypeInfo parseType(std::string_view cell) {
    TypeInfo info;
    std::vector<std::string> words = splitWords(cell);
    if (words.empty())
        return info;
    auto word = [&](size_t i) { return i < words.size() ? lower(words[i]) : std::string(); };

    auto rest = [&](size_t from) {
        std::string text;
        for (size_t i = from; i < words.size(); ++i)
            text += (text.empty() ? "" : " ") + words[i];
        return text;
    };

    // Selects: "select_one L", "select one L", "select_multiple L", "select all that apply L",
    // and the legacy "select one from L" / "select all that apply from L"; each may end in
    // "or_other" (or "or specify other").
    std::string head = word(0);
    size_t next = 1;
    if (head == "select" && (word(1) == "one" || word(1) == "multiple")) {
        head += "_" + word(1);
        next = 2;
    } else if (head == "select" && word(1) == "all" && word(2) == "that" && word(3) == "apply") {
        head = "select_multiple";
        next = 4;
    } else if (head == "select_all_that_apply") {
        head = "select_multiple";
    }
    if ((head == "select_one" || head == "select_multiple") && word(next) == "from" && next + 1 < words.size())
        ++next;
    if (head == "select_one" || head == "select_multiple" || head == "scale") {
        if (next >= words.size()) {
            info.error = "type '" + head + "' needs the name of a choice list: '" + head + " LIST'";
            return info;
        }
        info.list = words[next++];
        if (next < words.size() && word(next) == "or_other" && next + 1 == words.size()) {
            info.orOther = true;
        } else if (next + 2 == words.size() && word(next) == "or" && word(next + 1) == "other") {
            info.orOther = true;
        } else if (next < words.size()) {
            info.error = "unexpected '" + rest(next) + "' after the list name in '" + head + " " + info.list + "'";
            return info;
        }
        info.kind = EntryKind::Question;
        info.type = head;
        return info;
    }

    // Everything else is one keyword, though some are written with spaces ("begin group",
    // "phone number", "add note prompt"): compare the whole cell with '_' for spaces.
    std::string whole;
    for (size_t i = 0; i < words.size(); ++i)
        whole += (i ? "_" : "") + lower(words[i]);

    if (whole == "begin_group" || whole == "end_group" || whole == "begin_repeat" || whole == "end_repeat" ||
        whole == "begin_looped_group" || whole == "end_looped_group") {
        info.kind = whole == "begin_group"                                    ? EntryKind::BeginGroup
                    : whole == "end_group"                                    ? EntryKind::EndGroup
                    : (whole == "begin_repeat" || whole == "begin_looped_group") ? EntryKind::BeginRepeat
                                                                                 : EntryKind::EndRepeat;
        return info;
    }
    if ((head == "begin" || head == "end" || head == "begin_group" || head == "end_group" || head == "begin_repeat" ||
         head == "end_repeat") &&
        words.size() > 1) {
        std::string keyword = head == "begin" || head == "end" ? head + " " + word(1) : head;
        size_t from = head == "begin" || head == "end" ? 2 : 1;
        info.error = "unexpected '" + rest(from) + "' after '" + keyword + "'";
        return info;
    }

    // The names pyxform accepts for each type, its older "add ... prompt" and "q ..." spellings
    // included.
    static const std::map<std::string, std::string, std::less<>> kTypes = {
        {"text", "text"},          {"string", "text"},           {"add_text_prompt", "text"},
        {"q_string", "text"},      {"phone_number", "text"},     {"phonenumber_prompt", "text"},
        {"integer", "integer"},    {"int", "integer"},           {"add_integer_prompt", "integer"},
        {"q_int", "integer"},      {"decimal", "decimal"},       {"add_decimal_prompt", "decimal"},
        {"q_decimal", "decimal"},  {"date", "date"},             {"add_date_prompt", "date"},
        {"q_date", "date"},        {"geopoint", "gps"},          {"gps", "gps"},
        {"location", "gps"},       {"q_location", "gps"},        {"add_location_prompt", "gps"},
        {"image", "photo"},        {"photo", "photo"},           {"add_image_prompt", "photo"},
        {"q_picture", "photo"},    {"note", "note"},             {"add_note_prompt", "note"},
        {"q_note", "note"},        {"calculate", "calculate"},   {"calculation", "calculate"},
        {"money", "money"},        {"percent", "percent"},
    };
    if (auto it = kTypes.find(whole); it != kTypes.end()) {
        info.kind = EntryKind::Question;
        info.type = it->second;
        if (whole == "phone_number" || whole == "phonenumber_prompt")
            info.note = "'" + trim(cell) + "' is read as a text question (ClusterKit has no phone-number keypad)";
        return info;
    }
    if (whole == "barcode" || whole == "add_barcode_prompt" || whole == "q_barcode") {
        info.kind = EntryKind::Question;
        info.type = "text";
        info.note = "'barcode' is read as a text question: the officer types the code (ClusterKit has no scanner)";
        return info;
    }
    if (whole == "today" || !metadataReason(whole).empty()) {
        info.kind = EntryKind::Metadata;
        info.type = whole;
        return info;
    }
    if (std::string reason = refusalReason(whole); !reason.empty())
        info.error = "type '" + trim(cell) + "' is not supported: " + reason;
    else if (std::string headReason = refusalReason(head); !headReason.empty())  // "rank LIST", "select_one_from_file x.csv"
        info.error = "type '" + words[0] + "' is not supported: " + headReason;
    else
        info.error = "unknown type '" + trim(cell) + "'";
    return info;
}

// ---------------------------------------------------------------------------------------

class XlsFormImporter {
public:
    explicit XlsFormImporter(std::string fileName, int64_t savedAt = 0)
        : m_file(std::move(fileName)), m_savedAt(savedAt) {}

    XlsFormImport run(std::string_view bytes) {
        importWorkbook(bytes);
        XlsFormImport result;
        result.fileName = m_file;
        result.errors = std::move(m_problems);
        // Warnings are gathered settings first (the languages depend on them); an author
        // reads them best as the workbook runs: the file, then survey, choices and settings.
        auto sheetOrder = [](const std::string& sheet) {
            return sheet.empty() ? 0 : sheet == "survey" ? 1 : sheet == "choices" ? 2 : 3;
        };
        std::stable_sort(m_warnings.begin(), m_warnings.end(), [&](const XlsFormProblem& a, const XlsFormProblem& b) {
            return std::make_pair(sheetOrder(a.sheet), a.row) < std::make_pair(sheetOrder(b.sheet), b.row);
        });
        result.warnings = std::move(m_warnings);
        if (result.errors.empty()) {
            result.document = std::move(m_document);
            result.surveyRows = std::move(m_surveyRows);
            result.choiceRows = std::move(m_choiceRows);
            result.instanceNameRow = m_instanceNameRow;
        }
        return result;
    }

    void fileProblem(std::string message) { problem("", 0, "", std::move(message)); }

    std::vector<XlsFormProblem> takeProblems() { return std::move(m_problems); }

private:
    void problem(const std::string& sheet, int row, const std::string& column, std::string message) {
        if (m_problems.size() > kMaxProblems)
            return;
        if (m_problems.size() == kMaxProblems) {
            m_problems.push_back({m_file, sheet, 0, "",
                                  "too many problems; fix the ones listed above and import again"});
            return;
        }
        m_problems.push_back({m_file, sheet, row, column, std::move(message)});
    }

    void warning(const std::string& sheet, int row, const std::string& column, std::string message) {
        if (m_warnings.size() < kMaxProblems)
            m_warnings.push_back({m_file, sheet, row, column, std::move(message)});
    }

    void importWorkbook(std::string_view bytes) {
        const std::vector<std::string> wanted = {"survey", "choices", "settings"};
        XlsxReadResult read = looksLikeXls(bytes) ? readXlsSheets(bytes, wanted) : readXlsxSheets(bytes, wanted);
        if (!read.ok()) {
            fileProblem(read.error);
            return;
        }
        auto sheetNamed = [&](std::string_view name) -> const XlsxSheet* {
            for (const XlsxSheet& sheet : read.sheets)
                if (lower(sheet.name) == name)
                    return &sheet;
            return nullptr;
        };
        const XlsxSheet* survey = sheetNamed("survey");
        const XlsxSheet* choices = sheetNamed("choices");
        const XlsxSheet* settings = sheetNamed("settings");

        std::string present;
        for (const std::string& name : read.sheetNames)
            present += (present.empty() ? "'" : ", '") + name + "'";
        if (present.empty())
            present = "none";
        if (!survey) {
            fileProblem("has no sheet named 'survey' (its sheets: " + present + ")");
            return;
        }

        Table surveyTable = makeTable("survey", *survey, surveyRole);
        Table settingsTable;
        if (settings)
            settingsTable = makeTable("settings", *settings, settingsRole);
        Table choicesTable;
        if (choices)
            choicesTable = makeTable("choices", *choices, choicesRole);
        if (surveyTable.data.empty())
            problem("survey", 0, "", "the sheet has no questions");

        readSettings(settingsTable, settings != nullptr, read.modified);
        chooseLanguages(surveyTable, choicesTable);
        json choiceLists = json::object();
        if (choices)
            choiceLists = readChoices(choicesTable);
        json sections = readSurvey(surveyTable);
        if (!choices && !m_usedLists.empty()) {
            const auto& [list, row] = *m_usedLists.begin();
            fileProblem("has no sheet named 'choices' (survey row " + std::to_string(row) + " uses list '" + list +
                        "')");
        }

        for (const std::string& list : m_orOtherLists)
            addOtherChoice(choiceLists, list);
        addInstanceName(sections);
        if (!m_renamed.empty())
            followRenames(sections);

        m_document = json::object();
        m_document["id"] = m_formId;
        m_document["version"] = m_version;
        m_document["languages"] = m_languages;
        m_document["title"] = title();
        if (!choiceLists.empty())
            m_document["choices"] = std::move(choiceLists);
        m_document["sections"] = std::move(sections);
    }

    // Rewrites ${old} to ${new} in every text of the survey (expressions, labels, hints).
    void followRenames(json& node) {
        if (node.is_string()) {
            std::string text = node.get<std::string>();
            if (text.find("${") == std::string::npos)
                return;
            for (const auto& [from, to] : m_renamed) {
                const std::string needle = "${" + from + "}", replacement = "${" + to + "}";
                for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + replacement.size()))
                    text.replace(at, needle.size(), replacement);
            }
            node = text;
        } else if (node.is_structured()) {
            for (auto& child : node)
                followRenames(child);
        }
    }

    // "or_other" adds a choice 'other' to the list (as pyxform does), unless it has one.
    void addOtherChoice(json& lists, const std::string& list) {
        if (!lists.contains(list))
            return;  // reported by the loader: no such list
        for (const json& choice : lists[list])
            if (choice.value("name", std::string()) == "other")
                return;
        json choice = json::object();
        choice["name"] = "other";
        json label = json::object();
        for (const std::string& code : m_languages)
            label[code] = "Other";
        choice["label"] = std::move(label);
        lists[list].push_back(std::move(choice));
    }

    // settings' instance_name names each visit (pyxform: the instance's display name). It
    // becomes a calculation 'instance_name' at the start of the form, whose value the record
    // keeps and the app lists the visit under.
    void addInstanceName(json& sections) {
        if (m_instanceName.empty() || !sections.is_array() || sections.empty())
            return;
        if (m_surveyRows.count("instance_name")) {
            warning("settings", m_settingsRow, "instance_name",
                    "not used: the survey already has a question named 'instance_name'");
            return;
        }
        json node = json::object();
        node["id"] = "instance_name";
        node["type"] = "calculate";
        node["calculation"] = m_instanceName;
        json& questions = sections[0]["questions"];
        questions.insert(questions.begin(), std::move(node));
        m_instanceNameRow = std::max(m_settingsRow, 1);
    }

    // Reads the header and sorts out each column's role. Duplicate columns and values under
    // no header are reported here, once per column.
    Table makeTable(std::string name, const XlsxSheet& sheet, Role (*roleOf)(const Column&)) {
        Table table;
        table.name = std::move(name);
        table.sheet = &sheet;
        if (sheet.rows.empty())
            return table;
        const XlsxRow& header = sheet.rows.front();
        table.headerRow = header.number;
        for (size_t i = 0; i < header.cells.size(); ++i) {
            std::string text = trim(header.cells[i]);
            if (text.empty())
                continue;
            Column column;
            column.index = i;
            column.header = text;
            std::string_view base = text, language;
            bool hasLanguage = false;
            if (size_t separator = text.find("::"); separator != std::string::npos) {
                base = std::string_view(text).substr(0, separator);
                language = std::string_view(text).substr(separator + 2);
                hasLanguage = true;
                // "media::image::Hindi (hi)": the media kind, then the language.
                if (columnKey(base) == "media") {
                    size_t second = language.find("::");
                    base = language.substr(0, second);
                    hasLanguage = second != std::string_view::npos;
                    language = hasLanguage ? language.substr(second + 2) : std::string_view();
                }
            } else if (size_t colon = text.find(':');
                       colon != std::string::npos && isLocalizable(columnKey(std::string_view(text).substr(0, colon)))) {
                // Older forms write one colon: "label:English".
                base = std::string_view(text).substr(0, colon);
                language = std::string_view(text).substr(colon + 1);
                hasLanguage = true;
            }
            column.key = columnKey(base);
            if (hasLanguage) {
                column.hasLanguage = true;
                column.languageName = trim(language);
                column.language = languageCode(language);
            }
            column.role = roleOf(column);
            table.columns.push_back(std::move(column));
        }
        for (size_t i = 1; i < sheet.rows.size(); ++i)
            table.data.push_back(&sheet.rows[i]);

        for (size_t a = 0; a < table.columns.size(); ++a)
            for (size_t b = 0; b < a; ++b) {
                const Column& x = table.columns[a];
                const Column& y = table.columns[b];
                if (x.key == y.key && x.hasLanguage == y.hasLanguage && x.language == y.language) {
                    problem(table.name, table.headerRow, x.header,
                            "the column appears twice (columns " + xlsxColumnName(y.index) + " and " +
                                xlsxColumnName(x.index) + ")");
                    break;
                }
            }

        std::map<size_t, std::vector<int>> headless;
        for (const XlsxRow* row : table.data)
            for (size_t i = 0; i < row->cells.size(); ++i)
                if (!trim(row->cells[i]).empty() && !columnAt(table, i))
                    headless[i].push_back(row->number);
        for (const auto& [index, rows] : headless)
            warning(table.name, rows.front(), xlsxColumnName(index),
                    "values in a column with no header are ignored (rows " + joinRows(rows) + "); give it a header or clear it");
        return table;
    }

    static const Column* columnAt(const Table& table, size_t index) {
        for (const Column& column : table.columns)
            if (column.index == index)
                return &column;
        return nullptr;
    }

    static std::string cell(const XlsxRow& row, const Column& column) { return trim(row.cell(column.index)); }

    // Unsupported and unknown columns are ignored, as pyxform ignores what it does not know, but
    // never in silence: one warning per column, at the first row that uses it, the others listed.
    void reportColumnsNotRead(const Table& table, const std::map<size_t, std::vector<int>>& rowsByColumn,
                              const std::string& supported) {
        for (const auto& [index, rows] : rowsByColumn) {
            const Column* column = columnAt(table, index);
            std::string where = rows.size() > 1 ? " (values in rows " + joinRows(rows) + ")" : "";
            if (column->role == Role::Unsupported)
                warning(table.name, rows.front(), column->header,
                        "column '" + column->header + "' is not supported by ClusterKit; its values are ignored" +
                            where);
            else
                warning(table.name, rows.front(), column->header,
                        "unknown column '" + column->header + "' is ignored" + where + "; the " + table.name +
                            " sheet reads " + supported);
        }
    }

    // ---- settings

    void readSettings(const Table& table, bool present, const std::string& savedAt) {
        const XlsxRow* row = table.data.empty() ? nullptr : table.data.front();
        for (size_t i = 1; i < table.data.size(); ++i)
            warning("settings", table.data[i]->number, "", "only the first row under the header is read; this row is ignored");
        const int rowNumber = row ? row->number : 0;
        m_settingsRow = rowNumber;
        std::map<size_t, std::vector<int>> notRead;
        for (const Column& column : table.columns) {
            std::string value = row ? cell(*row, column) : std::string();
            if (value.empty())
                continue;
            switch (column.role) {
            case Role::FormId: m_formId = value; break;
            case Role::Version: m_version = value; break;
            case Role::DefaultLanguage: m_declaredDefault = value; break;
            case Role::InstanceName: m_instanceName = value; break;
            case Role::Localized:
                if (column.hasLanguage)
                    m_titleByLanguage[column.language] = value;
                else
                    m_plainTitle = value;
                break;
            default: notRead[column.index].push_back(rowNumber); break;
            }
        }
        for (const auto& [index, rows] : notRead) {
            const Column* column = columnAt(table, index);
            warning("settings", rows.front(), column->header,
                    "setting '" + column->header + "' is not used by ClusterKit and is ignored; the settings sheet "
                    "reads form_id, version, form_title, default_language and instance_name");
        }
        const std::string sheet = present ? "settings" : "";
        if (m_formId.empty()) {
            m_formId = defaultFormId();
            if (present)
                warning(sheet, rowNumber, "form_id", "no form_id; the file name gives it: '" + m_formId + "'");
        }
        if (m_version.empty()) {
            m_version = defaultVersion(savedAt);
            if (present)
                warning(sheet, rowNumber, "version",
                        "no version; the workbook's last-saved time gives it: '" + m_version +
                            "' (records name the version they were filled in; set one to keep it stable)");
        }
        if (!present)
            m_warnings.push_back({m_file, "", 0, "",
                                  "has no settings sheet: form_id '" + m_formId + "' comes from the file name and version '" +
                                      m_version + "' from the workbook's last-saved time"});
    }

    // As pyxform: the file name without its extension, made into a valid id.
    std::string defaultFormId() const {
        std::string stem = std::filesystem::path(m_file).stem().string();
        std::string id;
        for (char c : stem)
            id += (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') ? c : '_';
        if (id.size() > 128)
            id.resize(128);
        return id.find_first_not_of('_') == std::string::npos ? std::string("form") : id;
    }

    // YYYYMMDDHHMM of the workbook's last save (docProps), else of the file, else of now:
    // a date-based version as pyxform-era tools give, stable while the file is unchanged.
    std::string defaultVersion(const std::string& savedAt) const {
        std::string digits;
        for (char c : savedAt)
            if (c >= '0' && c <= '9')
                digits += c;
        if (digits.size() >= 12)
            return digits.substr(0, 12);
        std::time_t when = m_savedAt > 0 ? std::time_t(m_savedAt) : std::time(nullptr);
        std::tm utc{};
        gmtime_r(&when, &utc);
        char buffer[32];
        std::strftime(buffer, sizeof buffer, "%Y%m%d%H%M", &utc);
        return buffer;
    }

    // Languages are those of the columns that hold any text; the default comes first.
    void chooseLanguages(const Table& survey, const Table& choices) {
        std::vector<std::string> found;
        std::map<std::string, std::string> names;  // code -> as typed ("Hindi (hi)")
        bool plainText = false;
        for (const Table* table : {&survey, &choices})
            for (const Column& column : table->columns) {
                if (column.role != Role::Localized)
                    continue;
                bool used = std::any_of(table->data.begin(), table->data.end(),
                                        [&](const XlsxRow* row) { return !cell(*row, column).empty(); });
                if (!used)
                    continue;
                if (!column.hasLanguage) {
                    // A plain label makes a language of its own; a plain hint or message
                    // beside "label::English" columns is read as the default language's.
                    plainText = plainText || column.key == "label";
                } else if (std::find(found.begin(), found.end(), column.language) == found.end()) {
                    found.push_back(column.language);
                    names[column.language] = column.languageName;
                }
            }
        // default_language may name a column's language by its code or as typed
        // ("Hindi (hi)", "hindi"). Plain `label` is in the declared default language, else
        // English. Without either a declaration or plain columns, the first language column is
        // the default: a form in Hindi and Marathi alone should not demand English.
        std::string declared;
        if (!m_declaredDefault.empty()) {
            const std::string code = languageCode(m_declaredDefault);
            for (const std::string& f : found)
                if (declared.empty() && (lower(f) == lower(code) || lower(names[f]) == lower(trim(m_declaredDefault))))
                    declared = f;
            if (declared.empty() && plainText) {
                declared = code;  // the plain columns are in it
            } else if (declared.empty()) {
                std::string list;
                for (const std::string& f : found)
                    list += (list.empty() ? "'" : ", '") + names[f] + "'";
                warning("settings", m_settingsRow, "default_language",
                        "'" + m_declaredDefault + "' matches no language column (" + (list.empty() ? "none" : list) +
                            "); it is ignored");
            }
        }
        if (!declared.empty())
            m_defaultLanguage = declared;
        else if (plainText || found.empty() || std::find(found.begin(), found.end(), "en") != found.end())
            m_defaultLanguage = "en";
        else
            m_defaultLanguage = found.front();
        m_languages = {m_defaultLanguage};
        for (const std::string& code : found)
            if (code != m_defaultLanguage)
                m_languages.push_back(code);
    }

    json title() const {
        json text = json::object();
        for (const std::string& code : m_languages) {
            if (auto it = m_titleByLanguage.find(code); it != m_titleByLanguage.end())
                text[code] = it->second;
            else if (!m_plainTitle.empty() && (m_titleByLanguage.empty() || code == m_defaultLanguage))
                text[code] = m_plainTitle;  // one plain title serves every language
            else if (m_plainTitle.empty() && m_titleByLanguage.empty())
                text[code] = m_formId;  // as XLSForm tools do when form_title is left out
        }
        return text;
    }

    // The localised text of `key` in `row`: one entry per language column with text. A plain
    // column and a language column can both name the default language; differing texts are
    // reported rather than one silently winning.
    json localText(const Table& table, const XlsxRow& row, std::string_view key) {
        json text = json::object();
        std::map<std::string, const Column*> source;
        for (const Column& column : table.columns) {
            if (column.role != Role::Localized || column.key != key)
                continue;
            std::string value = cell(row, column);
            if (value.empty())
                continue;
            const std::string& code = column.hasLanguage ? column.language : m_defaultLanguage;
            if (auto it = source.find(code); it != source.end()) {
                if (text[code].get<std::string>() != value)
                    problem(table.name, row.number, column.header,
                            "gives the '" + code + "' text a second time, differently from column '" +
                                it->second->header + "'; keep one of them");
                continue;
            }
            source[code] = &column;
            text[code] = value;
        }
        return text;
    }

    // ---- choices

    json readChoices(const Table& table) {
        json lists = json::object();
        // Which property columns each list uses: a list gets a column's key on every choice
        // when any of its choices has a value there, so choice_filter reads it uniformly.
        std::map<std::string, std::set<size_t>> propertiesOfList;
        std::map<size_t, std::vector<int>> notRead;
        std::vector<std::pair<std::string, const XlsxRow*>> rows;
        const Column* listColumn = nullptr;
        const Column* nameColumn = nullptr;
        for (const Column& column : table.columns) {
            if (column.role == Role::ListName)
                listColumn = &column;
            if (column.role == Role::Name)
                nameColumn = &column;
        }
        if (!table.data.empty() && (!listColumn || !nameColumn)) {
            problem("choices", table.headerRow, "",
                    std::string("the header has no '") + (listColumn ? "name" : "list_name") + "' column");
            return lists;
        }
        for (const XlsxRow* row : table.data) {
            std::string list = cell(*row, *listColumn);
            std::string name = cell(*row, *nameColumn);
            if (list.empty()) {
                problem("choices", row->number, listColumn->header, "the choice has no list_name");
                continue;
            }
            if (name.empty()) {
                problem("choices", row->number, nameColumn->header,
                        "the choice in list '" + list + "' has no name");
                continue;
            }
            for (const Column& column : table.columns) {
                if (cell(*row, column).empty())
                    continue;
                if (column.role == Role::Property)
                    propertiesOfList[list].insert(column.index);
                else if (column.role == Role::Unsupported || column.role == Role::Unknown)
                    notRead[column.index].push_back(row->number);
            }
            rows.emplace_back(list, row);
            m_choiceRows.emplace(std::make_pair(list, std::string()), row->number);
            m_choiceRows.emplace(std::make_pair(list, name), row->number);
        }
        reportColumnsNotRead(table, notRead, "list_name, name, label, image and property columns");

        for (const auto& [list, row] : rows) {
            json choice = json::object();
            choice["name"] = cell(*row, *nameColumn);
            if (json label = localText(table, *row, "label"); !label.empty())
                choice["label"] = std::move(label);
            if (json image = mediaText(table, *row, "image"); !image.empty())
                choice["image"] = std::move(image);
            if (const auto& used = propertiesOfList[list]; !used.empty()) {
                json properties = json::object();
                for (size_t index : used) {
                    const Column* column = columnAt(table, index);
                    properties[column->header] = cell(*row, *column);
                }
                choice["properties"] = std::move(properties);
            }
            lists[list].push_back(std::move(choice));
        }
        return lists;
    }

    // ---- survey

    struct OpenContainer {
        json node;
        bool repeat = false;
        int row = 0;
        bool kept = true;  // false past kMaxNesting: built but not attached
    };
    struct TopEntry {
        json node;
        bool section = false;  // a top-level group
    };

    json readSurvey(const Table& table) {
        const Column* typeColumn = nullptr;
        const Column* nameColumn = nullptr;
        for (const Column& column : table.columns) {
            if (column.role == Role::Type)
                typeColumn = &column;
            if (column.role == Role::Name)
                nameColumn = &column;
        }
        if (!typeColumn || !nameColumn) {
            problem("survey", table.headerRow, "",
                    std::string("the header has no '") + (typeColumn ? "name" : "type") + "' column");
            return json::array();
        }

        std::map<size_t, std::vector<int>> notRead;
        std::vector<OpenContainer> open;
        std::vector<TopEntry> top;
        auto attach = [&](json node, bool isGroup) {
            if (open.empty())
                top.push_back({std::move(node), isGroup});
            else if (open.back().kept)
                open.back().node["questions"].push_back(std::move(node));
        };

        for (const XlsxRow* rowPointer : table.data) {
            const XlsxRow& row = *rowPointer;
            for (const Column& column : table.columns)
                if ((column.role == Role::Unsupported || column.role == Role::Unknown) && !cell(row, column).empty())
                    notRead[column.index].push_back(row.number);

            std::string typeText = cell(row, *typeColumn);
            if (typeText.empty()) {
                for (const Column& column : table.columns)
                    if (column.role != Role::Unsupported && column.role != Role::Unknown &&
                        !cell(row, column).empty()) {
                        problem("survey", row.number, typeColumn->header,
                                "the row has values but no type (column '" + column.header + "')");
                        break;
                    }
                continue;
            }
            TypeInfo type = parseType(typeText);
            if (type.kind == EntryKind::Invalid) {
                problem("survey", row.number, typeColumn->header, type.error);
                continue;
            }
            std::string name = cell(row, *nameColumn);
            // XML names allow '-' and '.' ("hh-size", "q1.2"); ClusterKit ids are letters,
            // digits and '_', so such a name becomes "hh_size", and every ${hh-size} with it.
            if (name.find_first_of("-.") != std::string::npos) {
                std::string id = name;
                std::replace(id.begin(), id.end(), '-', '_');
                std::replace(id.begin(), id.end(), '.', '_');
                if (!m_renamed.count(name)) {
                    m_renamed[name] = id;
                    warning("survey", row.number, nameColumn->header,
                            "name '" + name + "' is used as '" + id +
                                "' (ClusterKit ids are letters, digits and '_'); ${" + name + "} references follow it");
                }
                name = id;
            }
            if (!type.note.empty())
                warning("survey", row.number, typeColumn->header, type.note);
            if (type.kind == EntryKind::Metadata) {
                // `today` is a date ClusterKit computes itself; other metadata rows are skipped.
                if (type.type == "today" && !name.empty()) {
                    json node = json::object();
                    node["id"] = name;
                    node["type"] = "calculate";
                    node["calculation"] = "today()";
                    if (!m_surveyRows.count(name))
                        m_surveyRows[name] = row.number;
                    attach(std::move(node), false);
                } else {
                    warning("survey", row.number, typeColumn->header,
                            "metadata '" + type.type + "' is skipped: " + metadataReason(type.type));
                }
                continue;
            }

            if (type.kind == EntryKind::EndGroup || type.kind == EntryKind::EndRepeat) {
                const bool repeat = type.kind == EntryKind::EndRepeat;
                const char* word = repeat ? "repeat" : "group";
                if (open.empty()) {
                    problem("survey", row.number, typeColumn->header,
                            std::string("'end ") + word + "' without a 'begin " + word + "' before it");
                    continue;
                }
                checkEndRow(table, row, word);
                OpenContainer closed = std::move(open.back());
                open.pop_back();
                if (closed.repeat != repeat)
                    problem("survey", row.number, typeColumn->header,
                            std::string("'end ") + word + "' closes the 'begin " + (closed.repeat ? "repeat" : "group") +
                                "' of row " + std::to_string(closed.row));
                if (closed.kept)
                    attach(std::move(closed.node), !closed.repeat && open.empty());
                continue;
            }

            const bool container = type.kind == EntryKind::BeginGroup || type.kind == EntryKind::BeginRepeat;
            if (name.empty()) {
                problem("survey", row.number, nameColumn->header,
                        "the " + (container ? std::string(type.kind == EntryKind::BeginRepeat ? "repeat" : "group")
                                            : "'" + typeText + "' question") +
                            " has no name");
            } else if (!m_surveyRows.count(name)) {
                m_surveyRows[name] = row.number;
            }

            json node = container ? containerNode(table, row, type.kind == EntryKind::BeginRepeat)
                                  : questionNode(table, row, type);
            node["id"] = name;
            if (container) {
                if (open.size() >= kMaxNesting && (open.empty() || open.back().kept))
                    problem("survey", row.number, typeColumn->header,
                            "groups and repeats nest deeper than " + std::to_string(kMaxNesting) + " levels");
                const bool kept = open.size() < kMaxNesting;
                open.push_back({std::move(node), type.kind == EntryKind::BeginRepeat, row.number, kept});
            } else {
                attach(std::move(node), false);
                if (type.orOther && !name.empty())
                    attach(otherTextNode(name, type), false);
            }
        }
        for (auto it = open.rbegin(); it != open.rend(); ++it) {
            const char* word = it->repeat ? "repeat" : "group";
            problem("survey", it->row, typeColumn->header,
                    std::string("'begin ") + word + "' '" + it->node.value("id", std::string()) + "' has no matching 'end " +
                        word + "'");
        }
        reportColumnsNotRead(table, notRead,
                             "type, name, label, hint, required, required_message, relevant, constraint, "
                             "constraint_message, calculation, choice_filter, appearance, image, repeat_count, pii "
                             "and allow_dont_know");
        return sections(std::move(top));
    }

    // Values on an "end group" row have no effect (pyxform ignores them too), so each is a
    // warning: the author may have meant it for the "begin" row. The name and label pass
    // without one because many authors repeat them there for readability.
    void checkEndRow(const Table& table, const XlsxRow& row, const char* word) {
        for (const Column& column : table.columns) {
            if (column.role == Role::Type || column.role == Role::Name || column.role == Role::Unsupported ||
                column.role == Role::Unknown || (column.role == Role::Localized && column.key == "label"))
                continue;
            if (!cell(row, column).empty())
                warning("survey", row.number, column.header,
                        std::string("is ignored on an 'end ") + word + "' row; put it on the 'begin " + word +
                            "' row");
        }
    }

    // pyxform's or_other: the list gains 'other', and a text question NAME_other, asked when
    // 'other' is chosen, takes what the respondent said.
    json otherTextNode(const std::string& name, const TypeInfo& type) {
        m_orOtherLists.insert(type.list);
        json node = json::object();
        node["id"] = name + "_other";
        node["type"] = "text";
        json label = json::object();
        for (const std::string& code : m_languages)
            label[code] = "Specify other";
        node["label"] = std::move(label);
        node["relevant"] = "selected(${" + name + "}, 'other')";
        return node;
    }

    // A media column's file names by language; the loader keeps them with the question.
    json mediaText(const Table& table, const XlsxRow& row, std::string_view key) {
        json text = json::object();
        for (const Column& column : table.columns)
            if (column.role == Role::Media && column.key == key)
                if (std::string value = cell(row, column); !value.empty())
                    text[column.hasLanguage ? column.language : m_defaultLanguage] = value;
        return text;
    }

    json containerNode(const Table& table, const XlsxRow& row, bool repeat) {
        json node = json::object();
        node["type"] = repeat ? "repeat" : "group";
        node["questions"] = json::array();
        for (const Column& column : table.columns) {
            std::string value = cell(row, column);
            if (value.empty())
                continue;
            if (column.role == Role::Localized && (column.key == "label" || column.key == "hint")) {
                if (!node.contains(column.key))
                    if (json text = localText(table, row, column.key); !text.empty())
                        node[column.key] = std::move(text);
            } else if ((column.role == Role::Expression && column.key == "relevant") ||
                       column.role == Role::Appearance) {
                node[column.key] = value;
            } else if (column.role == Role::Media) {
                if (!node.contains("image"))
                    node["image"] = mediaText(table, row, column.key);
            } else if (column.role == Role::RepeatCount && repeat) {
                node["repeat_count"] = value;
            } else if (column.role != Role::Type && column.role != Role::Name && column.role != Role::Unsupported &&
                       column.role != Role::Unknown) {
                warning("survey", row.number, column.header,
                        std::string("is ignored: it does not apply to a ") + (repeat ? "repeat" : "group") +
                            " (only label, hint, relevant, appearance, image" + (repeat ? " and repeat_count" : "") +
                            " do)");
            }
        }
        return node;
    }

    json questionNode(const Table& table, const XlsxRow& row, const TypeInfo& type) {
        json node = json::object();
        node["type"] = type.type;
        if (!type.list.empty()) {
            node["choices"] = type.list;
            m_usedLists.emplace(type.list, row.number);
        }
        for (const Column& column : table.columns) {
            std::string value = cell(row, column);
            if (value.empty())
                continue;
            switch (column.role) {
            case Role::Localized:
                if (!node.contains(column.key))
                    if (json text = localText(table, row, column.key); !text.empty())
                        node[column.key] = std::move(text);
                break;
            case Role::Expression:
            case Role::Appearance: node[column.key] = value; break;
            case Role::Media:
                if (!node.contains("image"))
                    node["image"] = mediaText(table, row, column.key);
                break;
            case Role::RepeatCount:
                problem("survey", row.number, column.header, "repeat_count applies only to a 'begin repeat' row");
                break;
            case Role::Required: {
                std::string flag = lower(value);
                if (flag == "yes" || flag == "true" || flag == "1")
                    node["required"] = true;
                else if (flag != "no" && flag != "false" && flag != "0")
                    node["required"] = value;  // a condition
                break;
            }
            case Role::YesNo: {
                std::string flag = lower(value);
                if (flag == "yes" || flag == "true" || flag == "1")
                    node[column.key] = true;
                else if (flag == "no" || flag == "false" || flag == "0")
                    node[column.key] = false;
                else
                    problem("survey", row.number, column.header,
                            "'" + value + "' is not yes or no");
                break;
            }
            default: break;
            }
        }
        return node;
    }

    // Top-level groups are sections; each run of other top-level entries becomes a section
    // of its own, titled like the form, so a flat XLSForm still has the shape the app walks.
    json sections(std::vector<TopEntry> top) {
        json out = json::array();
        int runs = 0;
        json run = json::array();
        auto flush = [&] {
            if (run.empty())
                return;
            json section = json::object();
            section["id"] = freeSectionId(++runs);
            section["label"] = title();
            section["questions"] = std::move(run);
            out.push_back(std::move(section));
            run = json::array();
        };
        for (TopEntry& entry : top) {
            if (entry.section) {
                flush();
                entry.node.erase("type");
                out.push_back(std::move(entry.node));
            } else {
                run.push_back(std::move(entry.node));
            }
        }
        flush();
        return out;
    }

    // "main", then "main_2", ..., skipping ids the form already uses.
    std::string freeSectionId(int run) {
        for (int n = run;; ++n) {
            std::string id = n == 1 ? "main" : "main_" + std::to_string(n);
            if (!m_surveyRows.count(id) && !m_sectionIds.count(id)) {
                m_sectionIds.insert(id);
                return id;
            }
        }
    }

    std::string m_file;
    std::vector<XlsFormProblem> m_problems;
    json m_document;
    std::map<std::string, int, std::less<>> m_surveyRows;
    std::map<std::pair<std::string, std::string>, int> m_choiceRows;
    std::set<std::string> m_sectionIds;
    std::map<std::string, int> m_usedLists;  // list name → first survey row using it

    int64_t m_savedAt = 0;
    std::vector<XlsFormProblem> m_warnings;
    int m_settingsRow = 0;
    int m_instanceNameRow = 0;  // the settings row whose instance_name became a calculation
    std::string m_instanceName;
    std::set<std::string> m_orOtherLists;
    std::map<std::string, std::string> m_renamed;  // name as written -> id ("hh-size" -> "hh_size")
    std::string m_formId, m_version, m_declaredDefault, m_plainTitle;
    std::map<std::string, std::string> m_titleByLanguage;
    std::string m_defaultLanguage;
    std::vector<std::string> m_languages;
};

}  // namespace

std::string XlsFormProblem::toString() const {
    if (sheet.empty())
        return file + " " + message;
    std::string text = file + ": " + sheet;
    if (row > 0)
        text += " row " + std::to_string(row);
    if (!column.empty())
        text += ", column '" + column + "'";
    return text + ": " + message;
}

XlsFormImport importXlsFormBytes(std::string_view bytes, std::string_view fileName, int64_t savedAt) {
    return XlsFormImporter(std::string(fileName), savedAt).run(bytes);
}

bool isWorkbookFileName(std::string_view fileName) {
    std::string name = lower(fileName);
    for (std::string_view extension : {".xlsx", ".xlsm", ".xls"})
        if (name.size() >= extension.size() && name.compare(name.size() - extension.size(), extension.size(), extension) == 0)
            return true;
    return false;
}

XlsFormImport importXlsForm(const std::filesystem::path& xlsx) {
    const std::string fileName = xlsx.string();
    auto fail = [&](std::string message) {
        XlsFormImporter importer(fileName);
        importer.fileProblem(std::move(message));
        XlsFormImport result;
        result.fileName = fileName;
        result.errors = importer.takeProblems();
        return result;
    };
    std::error_code ec;
    const auto size = std::filesystem::file_size(xlsx, ec);
    if (ec)
        return fail("cannot be read: " + ec.message());
    if (size > kMaxXlsxBytes)
        return fail("is larger than " + std::to_string(kMaxXlsxBytes / (1024 * 1024)) + " MiB; refusing to read it");
    std::ifstream in(xlsx, std::ios::binary);
    std::string bytes(size_t(size), '\0');
    if (!in || !in.read(bytes.data(), std::streamsize(bytes.size())))
        return fail("cannot be read");
    int64_t savedAt = 0;
    struct stat info {};
    if (::stat(fileName.c_str(), &info) == 0)
        savedAt = int64_t(info.st_mtime);
    return importXlsFormBytes(bytes, fileName, savedAt);
}

namespace {

// An import problem as the loader's error type: where = "survey row 12", key = the column.
TemplateError asTemplateError(const XlsFormProblem& p) {
    TemplateError error;
    error.file = p.file;
    if (p.sheet.empty()) {
        // TemplateError prints "file: where: message"; whole-file messages are written
        // to follow the file's name, so they get a subject here.
        error.where = "workbook";
        error.message = "the file " + p.message;
    } else {
        error.where = p.sheet;
        if (p.row > 0)
            error.where += " row " + std::to_string(p.row);
        error.message = p.message;
    }
    error.key = p.column;
    return error;
}

}  // namespace

namespace {

// The media folder of a template file: the one the author named, else ODK's `NAME-media`.
std::filesystem::path mediaFolderFor(const std::filesystem::path& file, const TemplateLoadOptions& options) {
    return options.mediaFolder.empty() ? defaultMediaFolder(file) : options.mediaFolder;
}

// Packs the images the document names (template_media.h) and loads it; `jsonText`, when
// given, receives the document to publish.
TemplateLoadResult packAndLoad(nlohmann::json& document, const std::filesystem::path& file, std::string_view fileName,
                               const TemplateLoadOptions& options, std::string* jsonText, const std::string* original,
                               MediaPackResult& packed) {
    // Packing decodes every file it packs; the loader need not decode those a second time.
    TemplateLoadOptions loading = options;
    if (!document.is_object() || !document.contains("media")) loading.decodeMedia = false;
    packed = packTemplateMedia(document, mediaFolderFor(file, options), fileName);
    TemplateLoadResult loaded = loadTemplateDocument(document, fileName, loading);
    loaded.errors.insert(loaded.errors.begin(), packed.errors.begin(), packed.errors.end());
    std::vector<TemplateError>& into = options.strict ? loaded.errors : loaded.warnings;
    into.insert(into.begin(), packed.warnings.begin(), packed.warnings.end());
    if (!loaded.errors.empty()) loaded.survey.reset();
    // A JSON template with nothing packed is published as the author wrote it, byte for byte.
    if (jsonText && loaded.ok()) *jsonText = original && packed.files == 0 ? *original : document.dump();
    return loaded;
}

TemplateLoadResult loadXlsx(const std::filesystem::path& xlsx, const TemplateLoadOptions& options, std::string* jsonText,
                            MediaPackResult& packed) {
    XlsFormImport imported = importXlsForm(xlsx);
    std::vector<TemplateError> importWarnings;
    for (const XlsFormProblem& p : imported.warnings)
        importWarnings.push_back(asTemplateError(p));
    if (!imported.document) {
        TemplateLoadResult result;
        for (const XlsFormProblem& p : imported.errors)
            result.errors.push_back(asTemplateError(p));
        (options.strict ? result.errors : result.warnings) = std::move(importWarnings);
        return result;
    }
    TemplateLoadResult loaded = packAndLoad(*imported.document, xlsx, imported.fileName, options, jsonText, nullptr, packed);
    // The loader names questions and choices by id ("question 'x'", "choice list 'l', choice
    // 'c'"); the author of a spreadsheet looks for a row.
    auto quoted = [](const std::string& text, std::string_view prefix, size_t from, std::string& out) {
        if (text.compare(from, prefix.size(), prefix) != 0)
            return std::string::npos;
        size_t close = text.find('\'', from + prefix.size());
        if (close == std::string::npos)
            return std::string::npos;
        out = text.substr(from + prefix.size(), close - from - prefix.size());
        return close + 1;
    };
    auto addRow = [&](TemplateError& error) {
        std::string id, list, name;
        if (size_t end = quoted(error.where, "question '", 0, id); end == error.where.size()) {
            if (auto it = imported.surveyRows.find(id); it != imported.surveyRows.end())
                error.where += " (survey row " + std::to_string(it->second) + ")";
            else if (id == "instance_name" && imported.instanceNameRow > 0)
                error.where += " (settings row " + std::to_string(imported.instanceNameRow) + ", instance_name)";
        } else if (size_t next = quoted(error.where, "choice list '", 0, list); next != std::string::npos) {
            if (next != error.where.size() && quoted(error.where, ", choice '", next, name) != error.where.size())
                return;
            if (auto it = imported.choiceRows.find({list, name}); it != imported.choiceRows.end())
                error.where += " (choices row " + std::to_string(it->second) + ")";
        }
    };
    for (TemplateError& error : loaded.errors)
        addRow(error);
    for (TemplateError& warning : loaded.warnings)
        addRow(warning);
    // Import warnings come first: they are about the sheets, in row order.
    std::vector<TemplateError>& into = options.strict ? loaded.errors : loaded.warnings;
    into.insert(into.begin(), std::make_move_iterator(importWarnings.begin()), std::make_move_iterator(importWarnings.end()));
    if (options.strict && !loaded.errors.empty())
        loaded.survey.reset();
    return loaded;
}

TemplatePackage packFile(const std::filesystem::path& path, const TemplateLoadOptions& options, bool wantText) {
    TemplatePackage package;
    std::string* text = wantText ? &package.jsonText : nullptr;
    MediaPackResult packed;
    // Content decides, not the name: a workbook saved as form.XLS or renamed .json is still one.
    std::ifstream in(path, std::ios::binary);
    char head[8] = {};
    in.read(head, sizeof head);
    std::string_view start(head, size_t(in.gcount()));
    if (isWorkbookFileName(path.filename().string()) || start.substr(0, 2) == "PK" || looksLikeXls(start)) {
        package.loaded = loadXlsx(path, options, text, packed);
    } else {
        // JSON: parsed here to pack its images; a file that does not parse (or is too large)
        // goes to the loader, which says where and why.
        std::error_code ec;
        auto size = std::filesystem::file_size(path, ec);
        nlohmann::json document;
        std::string original;
        if (!ec && size <= kMaxTemplateBytes) {
            in.clear();
            in.seekg(0);
            std::ostringstream buf;
            buf << in.rdbuf();
            original = buf.str();
            document = nlohmann::json::parse(original, nullptr, false);
        }
        if (document.is_discarded() || !document.is_object()) {
            package.loaded = loadTemplateJsonFile(path, options);
            if (text && package.loaded.ok()) *text = original;
        } else {
            package.loaded = packAndLoad(document, path, path.string(), options, text, &original, packed);
        }
    }
    package.mediaFiles = packed.files;
    package.mediaBytes = packed.bytes;
    return package;
}

}  // namespace

TemplateLoadResult loadTemplateXlsx(const std::filesystem::path& xlsx, const TemplateLoadOptions& options) {
    MediaPackResult packed;
    return loadXlsx(xlsx, options, nullptr, packed);
}

TemplateLoadResult loadTemplateFile(const std::filesystem::path& path, const TemplateLoadOptions& options) {
    return packFile(path, options, false).loaded;
}

TemplatePackage packTemplateFile(const std::filesystem::path& path, const TemplateLoadOptions& options) {
    return packFile(path, options, true);
}

}  // namespace ck
