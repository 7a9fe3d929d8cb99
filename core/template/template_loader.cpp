#include "core/template/template_loader.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/template/report_layout.h"
#include "core/template/template_media.h"

namespace ck {

using nlohmann::json;

std::string TemplateError::toString() const {
    std::string s = file.empty() ? std::string("template") : file;
    s += ": ";
    s += where;
    if (!key.empty()) s += ", " + key;
    if (!expression.empty()) {
        // Long expressions are cut around the fault so that the message stays readable.
        std::string shown = expression;
        if (shown.size() > 160) {
            size_t from = position > 60 ? position - 60 : 0;
            shown = (from > 0 ? "..." : "") + shown.substr(from, 120) + "...";
        }
        s += " `" + shown + "`: at " + std::to_string(position);
    }
    s += ": " + message;
    return s;
}

namespace {

bool isIdentifier(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    if (!(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    });
}

bool isTemplateVersion(std::string_view s) {
    if (s.empty() || s.size() > 64 || !std::isalnum(static_cast<unsigned char>(s[0]))) return false;
    if (s.find("..") != std::string_view::npos) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    });
}

bool isTemplateId(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
}

bool isChoiceName(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

bool isInteger(std::string_view s) {
    size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
    if (i >= s.size() || s.size() > 9) return false;
    return std::all_of(s.begin() + long(i), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}


// The Scope every expression of one template entry is compiled in.
class EntryScope final : public expr::Scope {
public:
    EntryScope(const Template& t, const std::vector<expr::Type>& types, int ownerRepeat)
        : m_t(t), m_types(types), m_ownerRepeat(ownerRepeat) {}

    std::optional<expr::FieldSymbol> field(std::string_view name) const override {
        int i = m_t.indexOf(name);
        if (i < 0) return std::nullopt;
        const Question& q = m_t.questions[size_t(i)];
        if (!q.hasValue() && q.type != QuestionType::Repeat) return std::nullopt;
        expr::FieldSymbol f;
        f.slot = i;
        f.type = m_types[size_t(i)];
        f.repeat = q.repeat;
        f.isRepeat = q.type == QuestionType::Repeat;
        if (const ChoiceList* list = m_t.choicesOf(q)) f.choiceNames = &list->names;
        return f;
    }
    int ownerRepeat() const override { return m_ownerRepeat; }
    std::string_view repeatName(int repeatSlot) const override {
        if (repeatSlot < 0 || size_t(repeatSlot) >= m_t.questions.size()) return {};
        return m_t.questions[size_t(repeatSlot)].id;
    }
    std::optional<expr::Type> selfType() const override { return m_self; }
    const std::vector<std::string>* selfChoiceNames() const override { return m_selfChoices; }
    bool hasChoiceColumn(std::string_view name) const override {
        if (!m_filtered) return false;
        if (name == "name") return true;
        return std::any_of(m_filtered->choices.begin(), m_filtered->choices.end(),
                           [&](const Choice& c) { return c.properties.count(std::string(name)) > 0; });
    }

    void setSelf(expr::Type type, const std::vector<std::string>* choices) {
        m_self = type;
        m_selfChoices = choices;
    }
    void setFiltered(const ChoiceList* list) { m_filtered = list; }

private:
    const Template& m_t;
    const std::vector<expr::Type>& m_types;
    int m_ownerRepeat;
    std::optional<expr::Type> m_self;
    const std::vector<std::string>* m_selfChoices = nullptr;
    const ChoiceList* m_filtered = nullptr;
};

// Expression texts as written, kept until every id is known.
struct RawExpressions {
    std::string relevant, constraint, required, calculation, choiceFilter, repeatCount;
};

}  // namespace

class TemplateLoader {
public:
    TemplateLoader(std::string_view file, const TemplateLoadOptions& options) : m_file(file), m_options(options) {
        m_t.sourceFile = std::string(file);
    }

    TemplateLoadResult load(const json& doc) {
        TemplateLoadResult result;
        readTemplate(doc);
        // Expressions are checked even when some entries are broken, so an author sees every
        // error in one pass; errors that only follow from an unread entry are left out.
        if (!m_t.languages.empty()) compileExpressions();
        if (m_errors.empty()) buildGraph();
        if (m_errors.empty() && !m_t.report.layout) m_t.report.layout = std::make_shared<const ReportLayout>(defaultReportLayout(m_t));
        result.errors = std::move(m_errors);
        result.warnings = std::move(m_warnings);
        if (result.errors.empty()) result.survey = std::make_shared<const Template>(std::move(m_t));
        return result;
    }

    void error(std::string where, std::string key, std::string message) {
        // A template with thousands of faults says enough after the first few hundred.
        if (m_errors.size() >= kMaxErrors) return;
        m_errors.push_back({m_file, std::move(where), std::move(key), "", 0, std::move(message)});
    }

    // A gap by ClusterKit's own standard only (TemplateLoadOptions): an error when strict.
    void warn(std::string where, std::string key, std::string message) {
        if (m_options.strict) return error(std::move(where), std::move(key), std::move(message));
        if (m_warnings.size() >= kMaxErrors) return;
        m_warnings.push_back({m_file, std::move(where), std::move(key), "", 0, std::move(message)});
    }

private:
    static constexpr size_t kMaxErrors = 500;

    static std::string questionWhere(const std::string& id) { return "question '" + id + "'"; }

    // ---- reading the document ------------------------------------------------------------

    void checkKeys(const json& obj, std::initializer_list<const char*> allowed, const std::string& where) {
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* k) { return it.key() == k; });
            if (!known) error(where, it.key(), "unknown key '" + it.key() + "' (see survey-templates/FORMAT.md)");
        }
    }

    std::optional<std::string> readString(const json& obj, const char* key, const std::string& where, bool required) {
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required) error(where, key, std::string("'") + key + "' is missing");
            return std::nullopt;
        }
        if (!it->is_string()) {
            error(where, key, std::string("'") + key + "' must be a string");
            return std::nullopt;
        }
        const auto& s = it->get_ref<const std::string&>();
        if (s.size() > kMaxTextBytes) {
            error(where, key, "text is " + std::to_string(s.size()) + " bytes; the limit is " + std::to_string(kMaxTextBytes));
            return std::nullopt;
        }
        return s;
    }

    LocalText readText(const json& obj, const char* key, const std::string& where, bool required) {
        LocalText text;
        auto it = obj.find(key);
        if (it == obj.end()) {
            if (required) error(where, key, std::string("'") + key + "' is missing");
            return text;
        }
        const auto& langs = m_t.languages;
        auto tooLong = [&](const std::string& s) {
            if (s.size() <= kMaxTextBytes) return false;
            error(where, key, "text is " + std::to_string(s.size()) + " bytes; the limit is " + std::to_string(kMaxTextBytes));
            return true;
        };
        if (it->is_string()) {
            if (tooLong(it->get_ref<const std::string&>())) return text;
            if (langs.size() != 1)
                warn(where, key, "give the text for each language (" + joinLanguages() + "), e.g. {\"" + langs[0] +
                                     "\": \"...\"}; the one text is shown in every language");
            text.byLanguage.assign(langs.size(), it->get<std::string>());
            return text;
        }
        if (!it->is_object()) {
            error(where, key, std::string("'") + key + "' must be an object of language code to text");
            return text;
        }
        text.byLanguage.resize(langs.size());
        for (auto l = it->begin(); l != it->end(); ++l) {
            int li = m_t.languageIndex(l.key());
            if (li < 0) {
                error(where, key, "language '" + l.key() + "' is not declared in 'languages' (" + joinLanguages() + ")");
                continue;
            }
            if (!l->is_string()) {
                error(where, key, "the '" + l.key() + "' text must be a string");
                continue;
            }
            if (!tooLong(l->get_ref<const std::string&>())) text.byLanguage[size_t(li)] = l->get<std::string>();
        }
        // A missing translation shows the text of the first language that has one.
        auto given = std::find_if(text.byLanguage.begin(), text.byLanguage.end(), [](const std::string& s) { return !s.empty(); });
        if (given == text.byLanguage.end()) {
            if (required) error(where, key, std::string("'") + key + "' is empty");
            text.byLanguage.clear();
            return text;
        }
        const std::string fallback = *given;
        for (size_t li = 0; li < langs.size(); ++li)
            if (text.byLanguage[li].empty()) {
                warn(where, key, "missing in language '" + langs[li] + "'; the '" +
                                     langs[size_t(given - text.byLanguage.begin())] + "' text is shown instead");
                text.byLanguage[li] = fallback;
            }
        return text;
    }

    // A media file name per language: one for all languages, or some languages only (the
    // others show the first one given). Never a warning: a picture often serves every language.
    LocalText readMedia(const json& obj, const char* key, const std::string& where) {
        LocalText text;
        auto it = obj.find(key);
        if (it == obj.end()) return text;
        auto usable = [&](const std::string& name) {
            if (name.empty() || name.size() > 255 || name.find('/') != std::string::npos || name.find('\\') != std::string::npos ||
                name == "." || name == "..") {
                error(where, key, "'" + name.substr(0, 80) + "' is not a file name (no folders; at most 255 bytes)");
                return false;
            }
            return true;
        };
        if (it->is_string()) {
            if (usable(it->get<std::string>())) text.byLanguage.assign(m_t.languages.size(), it->get<std::string>());
            return text;
        }
        if (!it->is_object()) {
            error(where, key, std::string("'") + key + "' must be a file name or an object of language code to file name");
            return text;
        }
        text.byLanguage.resize(m_t.languages.size());
        std::string first;
        for (auto l = it->begin(); l != it->end(); ++l) {
            int li = m_t.languageIndex(l.key());
            if (li < 0 || !l->is_string()) {
                error(where, key, "'" + l.key() + "' is not a declared language with a file name");
                continue;
            }
            if (!usable(l->get<std::string>())) continue;
            text.byLanguage[size_t(li)] = l->get<std::string>();
            if (first.empty()) first = l->get<std::string>();
        }
        if (first.empty()) return LocalText{};
        for (auto& name : text.byLanguage)
            if (name.empty()) name = first;
        return text;
    }

    std::string joinLanguages() const {
        std::string s;
        for (const auto& l : m_t.languages) s += (s.empty() ? "" : ", ") + l;
        return s;
    }

    void readTemplate(const json& doc) {
        const std::string where = "template";
        if (!doc.is_object()) {
            error(where, "", "the document must be a JSON object with id, version, languages, title and sections");
            return;
        }
        checkKeys(doc, {"id", "version", "languages", "title", "choices", "sections", "indicators", "report", "media"}, where);
        if (auto id = readString(doc, "id", where, true)) {
            if (!isTemplateId(*id)) error(where, "id", "'" + *id + "' is not a valid id (letters, digits, '_' and '-')");
            m_t.id = *id;
        }
        if (auto v = readString(doc, "version", where, true)) {
            // Versions name files (exports, template folders) and travel in every record: no
            // path characters, no "..", nothing a file name or a terminal would take otherwise.
            if (v->empty()) error(where, "version", "the version must not be empty");
            else if (!isTemplateVersion(*v))
                error(where, "version",
                      "not a valid version (up to 64 letters, digits, '.', '-' and '_', starting with a letter "
                      "or digit, no '..')");
            m_t.version = *v;
        }
        auto langs = doc.find("languages");
        if (langs == doc.end() || !langs->is_array() || langs->empty()) {
            error(where, "languages", "'languages' must be a non-empty list of language codes, e.g. [\"en\", \"hi\"]");
            return;  // every text depends on it
        }
        for (const auto& l : *langs) {
            if (!l.is_string() || l.get_ref<const std::string&>().empty() || l.get_ref<const std::string&>().size() > 32) {
                error(where, "languages", "each language must be a short code such as \"en\"");
                return;
            }
            if (m_t.languageIndex(l.get<std::string>()) >= 0) {
                error(where, "languages", "language '" + l.get<std::string>() + "' is listed twice");
                return;
            }
            m_t.languages.push_back(l.get<std::string>());
        }
        m_t.title = readText(doc, "title", where, true);

        if (auto c = doc.find("choices"); c != doc.end()) readChoiceLists(*c);

        auto sections = doc.find("sections");
        if (sections == doc.end() || !sections->is_array() || sections->empty()) {
            error(where, "sections", "'sections' must be a non-empty list");
        } else {
            for (const auto& s : *sections) {
                int index = readEntry(s, -1, -1, -1, 0);
                if (index >= 0) m_t.sections.push_back(index);
            }
        }
        if (auto ind = doc.find("indicators"); ind != doc.end()) readIndicators(*ind);
        if (auto rep = doc.find("report"); rep != doc.end()) readReportDesign(*rep);
        if (auto media = doc.find("media"); media != doc.end()) readPackedMedia(*media);
    }

    // The images packed into the template (template_media.h): file name -> base64 of a PNG or
    // JPEG. Checked by their first bytes and header at every load; decoded whole only when
    // asked (publish), since the device and ingest load templates often.
    void readPackedMedia(const json& media) {
        const std::string where = "template";
        if (!media.is_object()) {
            error(where, "media", "'media' must be an object of image file name to its bytes in base64");
            return;
        }
        size_t total = 0;
        for (auto it = media.begin(); it != media.end(); ++it) {
            const std::string& name = it.key();
            const std::string shown = "media '" + name.substr(0, 80) + "'";
            if (name.empty() || name.size() > 255 || name.find_first_of("/\\") != std::string::npos || name == "." ||
                name == ".." || name.find('\0') != std::string::npos) {
                error(where, shown, "not a file name (no folders; at most 255 bytes)");
                continue;
            }
            std::string bytes;
            if (!it->is_string() || !base64Decode(it->get_ref<const std::string&>(), bytes)) {
                error(where, shown, "the bytes must be one base64 string");
                continue;
            }
            total += bytes.size();
            if (total > kMaxMediaTotalBytes) {
                error(where, "media", "the images come to more than " + std::to_string(kMaxMediaTotalBytes / 1024) +
                                          " KiB; a template may carry at most that");
                return;
            }
            std::string why;
            if (m_options.decodeMedia) {
                auto decoded = decodeImage(bytes);
                if (auto* w = std::get_if<std::string>(&decoded)) why = *w;
            } else {
                auto info = inspectImage(bytes);
                if (auto* w = std::get_if<std::string>(&info)) why = *w;
            }
            if (!why.empty()) {
                error(where, shown, "'" + name + "' " + why);
                continue;
            }
            m_t.media.emplace(name, std::move(bytes));
        }
    }

    void readChoiceLists(const json& lists) {
        if (!lists.is_object()) {
            error("template", "choices", "'choices' must be an object of list name to choices");
            return;
        }
        for (auto it = lists.begin(); it != lists.end(); ++it) {
            std::string where = "choice list '" + it.key() + "'";
            ChoiceList list;
            list.id = it.key();
            if (!isIdentifier(list.id)) error(where, "", "not a valid list name (letters, digits and '_')");
            if (!it->is_array() || it->empty()) {
                error(where, "", "a choice list must be a non-empty array of choices");
                continue;
            }
            for (const auto& c : *it) {
                if (!c.is_object()) {
                    error(where, "", "each choice must be an object with name and label");
                    continue;
                }
                checkKeys(c, {"name", "label", "properties", "image"}, where);
                Choice choice;
                auto name = readString(c, "name", where, true);
                if (!name) continue;
                choice.name = *name;
                std::string cwhere = where + ", choice '" + choice.name + "'";
                if (!isChoiceName(choice.name))
                    error(cwhere, "name", "not a valid choice name (letters, digits, '_', '-' and '.')");
                if (list.indexOf(choice.name) >= 0) error(cwhere, "name", "the name appears twice in the list");
                choice.label = readText(c, "label", cwhere, true);
                choice.image = readMedia(c, "image", cwhere);
                if (auto p = c.find("properties"); p != c.end()) {
                    if (!p->is_object()) {
                        error(cwhere, "properties", "'properties' must be an object of column name to text");
                    } else {
                        for (auto pi = p->begin(); pi != p->end(); ++pi) {
                            if (!isIdentifier(pi.key()) || pi.key() == "name")
                                error(cwhere, "properties", "'" + pi.key() + "' is not a usable column name");
                            else if (pi->is_string()) choice.properties[pi.key()] = pi->get<std::string>();
                            else if (pi->is_number()) choice.properties[pi.key()] = pi->dump();
                            else error(cwhere, "properties", "'" + pi.key() + "' must be text or a number");
                        }
                    }
                }
                list.names.push_back(choice.name);
                list.choices.push_back(std::move(choice));
            }
            m_t.choiceLists.push_back(std::move(list));
        }
    }

    // Reads a section (parent < 0), group, repeat or question; returns its index or -1.
    int readEntry(const json& e, int parent, int repeat, int section, int depth) {
        std::string parentWhere = parent < 0 ? std::string("template") : questionWhere(m_t.questions[size_t(parent)].id);
        if (depth > 32) {
            error(parentWhere, "questions", "groups nest deeper than 32 levels");
            return -1;
        }
        if (!e.is_object()) {
            error(parentWhere, parent < 0 ? "sections" : "questions", "each entry must be an object");
            return -1;
        }
        auto id = readString(e, "id", parentWhere + (parent < 0 ? ", a section" : ", a question"), true);
        if (!id) return -1;
        std::string where = questionWhere(*id);
        if (!isIdentifier(*id)) error(where, "id", "not a valid id (letters, digits and '_', not starting with a digit)");

        Question q;
        q.id = *id;
        q.index = int(m_t.questions.size());
        q.parent = parent;
        q.repeat = repeat;
        q.section = parent < 0 ? q.index : section;
        if (parent < 0) {
            q.type = QuestionType::Group;
            checkKeys(e, {"id", "label", "hint", "relevant", "questions", "appearance", "image"}, where);
        } else {
            auto typeName = readString(e, "type", where, true);
            if (!typeName) return -1;
            auto type = questionTypeFromName(*typeName);
            if (!type) {
                error(where, "type", "unknown type '" + *typeName + "'");
                m_unreadIds.push_back(*id);
                return -1;
            }
            q.type = *type;
            if (q.type == QuestionType::Repeat)
                checkKeys(e, {"id", "type", "label", "hint", "relevant", "questions", "appearance", "image", "repeat_count"},
                          where);
            else if (q.isContainer())
                checkKeys(e, {"id", "type", "label", "hint", "relevant", "questions", "appearance", "image"}, where);
            else
                checkKeys(e, {"id", "type", "label", "hint", "required", "required_message", "relevant", "constraint",
                              "constraint_message", "calculation", "choices", "choice_filter", "allow_dont_know", "pii",
                              "appearance", "image"},
                          where);
        }
        if (m_byIdIndex.count(q.id)) {
            // XLSForm repeats names in different groups; ClusterKit's ids are form-wide, so the
            // later entry takes its group's name as a prefix ("shop_name" for "name" in "shop").
            std::string renamed = (parent < 0 ? std::string("section") : m_t.questions[size_t(parent)].id) + "_" + q.id;
            for (int n = 2; m_byIdIndex.count(renamed); ++n)
                renamed = (parent < 0 ? std::string("section") : m_t.questions[size_t(parent)].id) + "_" + q.id + "_" + std::to_string(n);
            if (m_options.strict) {
                error(where, "id", "the id is used twice");
            } else {
                warn(where, "id", "the id is used twice; this one is renamed '" + renamed +
                                      "' (expressions naming '" + q.id + "' read the first one)");
                q.id = renamed;
                where = questionWhere(q.id);
            }
        }
        m_byIdIndex[q.id] = q.index;

        // Groups and repeats may go without a label, as in XLSForm; a section without one is
        // shown under the form's title.
        q.label = readText(e, "label", where, q.type != QuestionType::Calculate && !q.isContainer());
        if (parent < 0 && q.label.empty()) q.label = m_t.title;
        q.hint = readText(e, "hint", where, false);
        q.image = readMedia(e, "image", where);
        if (auto a = readString(e, "appearance", where, false)) q.appearance = *a;

        RawExpressions raw;
        if (auto r = readString(e, "relevant", where, false)) raw.relevant = *r;
        if (auto c = readString(e, "repeat_count", where, false)) raw.repeatCount = *c;
        if (!q.isContainer()) readQuestionDetails(e, q, raw, where);

        m_t.questions.push_back(std::move(q));
        m_raw.push_back(std::move(raw));
        Question& self = m_t.questions.back();
        const int index = self.index;

        if (self.isContainer()) {
            if (self.type == QuestionType::Repeat && repeat >= 0) {
                error(where, "type", "a repeat inside repeat '" + m_t.questions[size_t(repeat)].id +
                                         "' is not supported; flatten it into the outer repeat");
                return index;
            }
            auto qs = e.find("questions");
            if (qs == e.end() || !qs->is_array() || qs->empty()) {
                error(where, "questions", "a section, group or repeat needs a non-empty 'questions' list");
                return index;
            }
            int innerRepeat = m_t.questions[size_t(index)].type == QuestionType::Repeat ? index : repeat;
            int innerSection = parent < 0 ? index : section;
            std::vector<int> children;
            for (const auto& child : *qs) {
                int ci = readEntry(child, index, innerRepeat, innerSection, depth + 1);
                if (ci >= 0) children.push_back(ci);
            }
            m_t.questions[size_t(index)].children = std::move(children);
        }
        return index;
    }

    void readQuestionDetails(const json& e, Question& q, RawExpressions& raw, const std::string& where) {
        if (auto r = e.find("required"); r != e.end()) {
            if (r->is_boolean()) q.requiredAlways = r->get<bool>();
            else if (r->is_string()) raw.required = r->get<std::string>();
            else error(where, "required", "'required' must be true, false or a condition");
            if (!q.isAnswerable() && (q.requiredAlways || !raw.required.empty()))
                error(where, "required", std::string("a ") + questionTypeName(q.type) + " takes no answer, so it cannot be required");
        }
        q.requiredMessage = readText(e, "required_message", where, false);
        if (auto c = readString(e, "constraint", where, false)) {
            raw.constraint = *c;
            if (!q.isAnswerable()) error(where, "constraint", std::string("a ") + questionTypeName(q.type) + " takes no answer to check");
            q.constraintMessage = readText(e, "constraint_message", where, false);
            if (q.constraintMessage.empty())
                warn(where, "constraint_message", "the constraint has no message; the standard one is shown "
                                                  "(\"This answer is not valid\")");
        } else if (e.contains("constraint_message")) {
            error(where, "constraint_message", "a constraint_message without a constraint");
        }
        if (auto c = readString(e, "calculation", where, q.type == QuestionType::Calculate)) {
            raw.calculation = *c;
            if (q.type != QuestionType::Calculate)
                error(where, "calculation", "only a 'calculate' question takes a calculation");
        }
        bool needsChoices = q.type == QuestionType::SelectOne || q.type == QuestionType::SelectMultiple ||
                            q.type == QuestionType::Scale;
        if (auto c = readString(e, "choices", where, needsChoices)) {
            if (!needsChoices) {
                error(where, "choices", std::string("a ") + questionTypeName(q.type) + " question takes no choice list");
            } else {
                auto it = std::find_if(m_t.choiceLists.begin(), m_t.choiceLists.end(),
                                       [&](const ChoiceList& l) { return l.id == *c; });
                if (it == m_t.choiceLists.end()) {
                    error(where, "choices", "there is no choice list '" + *c + "'");
                } else {
                    q.choiceList = int(it - m_t.choiceLists.begin());
                    if (q.type == QuestionType::Scale)
                        for (const auto& name : it->names)
                            if (!isInteger(name))
                                error(where, "choices", "a scale needs whole-number choice names; '" + name +
                                                            "' in list '" + *c + "' is not one");
                }
            }
        }
        if (auto f = readString(e, "choice_filter", where, false)) {
            raw.choiceFilter = *f;
            if (!needsChoices || q.type == QuestionType::Scale)
                error(where, "choice_filter", "only select questions take a choice_filter");
        }
        if (auto a = e.find("allow_dont_know"); a != e.end()) {
            if (!a->is_boolean()) error(where, "allow_dont_know", "'allow_dont_know' must be true or false");
            else q.allowDontKnow = a->get<bool>();
        }
        if (auto p = e.find("pii"); p != e.end()) {
            if (!p->is_boolean()) error(where, "pii", "'pii' must be true or false");
            else q.pii = p->get<bool>();
        }
        if (!q.isAnswerable()) q.allowDontKnow = false;
    }

    void readIndicators(const json& list) {
        if (!list.is_array()) {
            error("template", "indicators", "'indicators' must be a list");
            return;
        }
        std::set<std::string> seen;
        for (const auto& e : list) {
            if (!e.is_object()) {
                error("template", "indicators", "each indicator must be an object");
                continue;
            }
            auto id = readString(e, "id", "an indicator", true);
            if (!id) continue;
            std::string where = "indicator '" + *id + "'";
            checkKeys(e, {"id", "label", "kind", "numerator", "denominator", "domain", "unit", "topic"}, where);
            if (!isIdentifier(*id)) error(where, "id", "not a valid id (letters, digits and '_')");
            if (!seen.insert(*id).second) error(where, "id", "the indicator id is used twice");
            Indicator ind;
            ind.id = *id;
            ind.label = readText(e, "label", where, true);
            if (auto k = readString(e, "kind", where, true)) {
                static const std::pair<const char*, IndicatorKind> kinds[] = {
                    {"share", IndicatorKind::Share}, {"mean", IndicatorKind::Mean}, {"median", IndicatorKind::Median},
                    {"total", IndicatorKind::Total}, {"ratio", IndicatorKind::Ratio}};
                auto it = std::find_if(std::begin(kinds), std::end(kinds), [&](auto& p) { return *k == p.first; });
                if (it == std::end(kinds)) error(where, "kind", "unknown kind '" + *k + "' (share, mean, median, total or ratio)");
                else ind.kind = it->second;
            }
            RawExpressions raw;
            if (auto n = readString(e, "numerator", where, true)) raw.calculation = *n;
            if (auto d = readString(e, "denominator", where, ind.kind == IndicatorKind::Ratio)) {
                raw.constraint = *d;
                if (ind.kind != IndicatorKind::Ratio) error(where, "denominator", "only a 'ratio' indicator has a denominator");
            }
            if (auto d = readString(e, "domain", where, false)) raw.relevant = *d;
            if (auto u = readString(e, "unit", where, false)) ind.unit = *u;
            if (auto t = readString(e, "topic", where, false)) {
                static const char* topics[] = {"glance", "outcomes", "value_chain", "constraints",
                                               "convergence", "comparison", "data_quality"};
                if (std::none_of(std::begin(topics), std::end(topics), [&](const char* x) { return *t == x; }))
                    error(where, "topic", "unknown topic '" + *t + "' (see survey-templates/FORMAT.md)");
                ind.topic = *t;
            }
            m_t.indicators.push_back(std::move(ind));
            m_indicatorRaw.push_back(std::move(raw));
        }
    }

    void readReportDesign(const json& e) {
        const std::string where = "report";
        if (!e.is_object()) {
            error("template", "report", "'report' must be an object (see survey-templates/FORMAT.md)");
            return;
        }
        checkKeys(e, {"stratum", "responded", "officer", "visit_date", "layout"}, where);
        if (auto l = e.find("layout"); l != e.end()) {
            // Indicators are read by now: the layout names them (report_layout.cpp).
            ReportLayoutContext ctx{m_t, [this](std::string w, std::string k, std::string m) { error(std::move(w), std::move(k), std::move(m)); },
                                    [this](const json& o, const char* k, const std::string& w, bool r) { return readText(o, k, w, r); }};
            m_t.report.layout = std::make_shared<const ReportLayout>(readReportLayout(*l, ctx));
        }
        if (auto s = readString(e, "stratum", where, false)) m_reportRaw.calculation = *s;
        if (auto r = readString(e, "responded", where, false)) m_reportRaw.relevant = *r;
        if (auto o = readString(e, "officer", where, false)) m_reportOfficer = *o;
        if (auto d = readString(e, "visit_date", where, false)) m_reportDate = *d;
    }

    // The report design's question names resolve once every question is read.
    void resolveReportDesign() {
        const std::string where = "report";
        EntryScope scope(m_t, m_types, -1);
        if (!m_reportRaw.calculation.empty())
            if (auto p = compileOne(m_reportRaw.calculation, scope, where, "stratum")) m_t.report.stratum.program = std::move(*p);
        if (!m_reportRaw.relevant.empty())
            if (auto p = compileOne(m_reportRaw.relevant, scope, where, "responded")) m_t.report.responded.program = std::move(*p);
        auto topLevel = [&](const std::string& id, const char* key, bool wantDate) {
            auto it = m_byIdIndex.find(id);
            if (it == m_byIdIndex.end()) {
                error(where, key, "there is no question '" + id + "'");
                return -1;
            }
            const Question& q = m_t.questions[size_t(it->second)];
            if (!q.hasValue() || q.repeat >= 0) {
                error(where, key, "'" + id + "' must be a question outside any repeat");
                return -1;
            }
            if (wantDate && q.type != QuestionType::Date) {
                error(where, key, "'" + id + "' must be a date question");
                return -1;
            }
            return it->second;
        };
        if (!m_reportOfficer.empty()) m_t.report.officerQuestion = topLevel(m_reportOfficer, "officer", false);
        if (!m_reportDate.empty()) m_t.report.dateQuestion = topLevel(m_reportDate, "visit_date", true);
    }

    // ---- expressions -----------------------------------------------------------------------

    std::optional<expr::Program> compileOne(const std::string& text, const expr::Scope& scope,
                                            const std::string& where, const char* key) {
        auto compiled = expr::compile(text, scope);
        if (auto* err = std::get_if<expr::CompileError>(&compiled)) {
            bool followsFromUnread = std::any_of(m_unreadIds.begin(), m_unreadIds.end(), [&](const std::string& id) {
                return text.find("${" + id + "}") != std::string::npos;
            });
            if (!followsFromUnread && m_errors.size() < kMaxErrors)
                m_errors.push_back({m_file, where, key, text, err->position, err->message});
            return std::nullopt;
        }
        return std::get<expr::Program>(std::move(compiled));
    }

    void compileExpressions() {
        for (auto& q : m_t.questions) m_t.m_byId[q.id] = q.index;
        const size_t n = m_t.questions.size();
        // Static types: answers have their question's type; a calculation has the type of
        // its expression, found by compiling calculations until their types stop changing
        // (a calculation reading another starts from Any).
        m_types.assign(n, expr::Type::Any);
        for (size_t i = 0; i < n; ++i) m_types[i] = valueTypeOf(m_t.questions[i].type);
        for (int pass = 0; pass < 8; ++pass) {
            bool changed = false;
            for (size_t i = 0; i < n; ++i) {
                const Question& q = m_t.questions[i];
                if (q.type != QuestionType::Calculate || m_raw[i].calculation.empty()) continue;
                EntryScope scope(m_t, m_types, q.repeat);
                auto compiled = expr::compile(m_raw[i].calculation, scope);
                if (auto* p = std::get_if<expr::Program>(&compiled); p && p->type() != m_types[i]) {
                    m_types[i] = p->type();
                    changed = true;
                }
            }
            if (!changed) break;
        }

        for (size_t i = 0; i < n; ++i) {
            Question& q = m_t.questions[i];
            const RawExpressions& raw = m_raw[i];
            const std::string where = questionWhere(q.id);
            // A container's relevance is evaluated where the container itself lives; the
            // expressions of a question inside a repeat are evaluated per instance.
            EntryScope scope(m_t, m_types, q.repeat);
            auto compileInto = [&](const std::string& text, Expression& into, const char* key) {
                if (text.empty()) return;
                if (auto p = compileOne(text, scope, where, key)) into.program = std::move(*p);
            };
            compileInto(raw.relevant, q.relevant, "relevant");
            if (!raw.repeatCount.empty()) {
                if (q.type != QuestionType::Repeat) {
                    error(where, "repeat_count", "only a repeat takes a repeat_count");
                } else if (auto p = compileOne(raw.repeatCount, scope, where, "repeat_count")) {
                    if (p->type() != expr::Type::Number && p->type() != expr::Type::Any)
                        error(where, "repeat_count", std::string("the number of rows must be a number, but this is ") +
                                                         expr::typeName(p->type()));
                    else
                        q.repeatCount.program = std::move(*p);
                }
            }
            compileInto(raw.required, q.required, "required");
            compileInto(raw.calculation, q.calculation, "calculation");
            if (!raw.constraint.empty()) {
                const ChoiceList* list = m_t.choicesOf(q);
                scope.setSelf(valueTypeOf(q.type), list ? &list->names : nullptr);
                compileInto(raw.constraint, q.constraint, "constraint");
                scope.setSelf(expr::Type::Any, nullptr);
            }
            if (!raw.choiceFilter.empty() && m_t.choicesOf(q)) {  // no list: already reported
                EntryScope filterScope(m_t, m_types, q.repeat);
                filterScope.setFiltered(m_t.choicesOf(q));
                if (auto p = compileOne(raw.choiceFilter, filterScope, where, "choice_filter"))
                    q.choiceFilter.program = std::move(*p);
            }
            if (q.type == QuestionType::Calculate && q.calculation.present() &&
                q.calculation.program.type() == expr::Type::Geo)
                error(where, "calculation", "a calculation cannot produce a GPS point");
        }

        checkTextReferences();

        for (size_t i = 0; i < m_t.indicators.size(); ++i) {
            Indicator& ind = m_t.indicators[i];
            const RawExpressions& raw = m_indicatorRaw[i];
            const std::string where = "indicator '" + ind.id + "'";
            EntryScope scope(m_t, m_types, -1);
            if (!raw.calculation.empty())
                if (auto p = compileOne(raw.calculation, scope, where, "numerator")) ind.numerator.program = std::move(*p);
            if (!raw.constraint.empty())
                if (auto p = compileOne(raw.constraint, scope, where, "denominator")) ind.denominator.program = std::move(*p);
            if (!raw.relevant.empty())
                if (auto p = compileOne(raw.relevant, scope, where, "domain")) ind.domain.program = std::move(*p);
            auto needsNumber = [&](const Expression& e, const char* key) {
                if (!e.present()) return;
                expr::Type t = e.program.type();
                if (t != expr::Type::Number && t != expr::Type::Any && t != expr::Type::Bool)
                    m_errors.push_back({m_file, where, key, e.program.text(), 0,
                                        std::string("a '") + indicatorKindName(ind.kind) + "' indicator needs a number here, but this is " +
                                            expr::typeName(t)});
            };
            if (ind.kind != IndicatorKind::Share) needsNumber(ind.numerator, "numerator");
            needsNumber(ind.denominator, "denominator");
        }
        resolveReportDesign();
    }

    // ${name} in a label, hint or message is filled in from the answers as the form is shown
    // (core/form/interpolate.h); a name that is no question would show as typed, so it is an
    // error, as in pyxform.
    void checkTextReferences() {
        for (const Question& q : m_t.questions) {
            const std::pair<const char*, const LocalText*> texts[] = {
                {"label", &q.label}, {"hint", &q.hint}, {"constraint_message", &q.constraintMessage},
                {"required_message", &q.requiredMessage}};
            for (const auto& [key, text] : texts) {
                bool reported = false;
                for (const std::string& s : text->byLanguage) {
                    for (size_t open = s.find("${"); open != std::string::npos && !reported; open = s.find("${", open + 2)) {
                        size_t close = s.find('}', open + 2);
                        if (close == std::string::npos) break;
                        std::string name = s.substr(open + 2, close - open - 2);
                        if (m_t.indexOf(name) >= 0) continue;
                        error(questionWhere(q.id), key, "refers to ${" + name.substr(0, 64) + "}, which is not a question");
                        reported = true;
                    }
                }
            }
        }
    }

    // ---- dependency graph ----------------------------------------------------------------

    void buildGraph() {
        const size_t n = m_t.questions.size();
        m_t.valueDependents.assign(n, {});
        m_t.checkDependents.assign(n, {});
        auto addEdges = [&](const Expression& e, int to, std::vector<std::vector<int>>& graph) {
            if (!e.present()) return;
            for (const auto& d : e.program.dependencies()) {
                auto& list = graph[size_t(d.slot)];
                if (list.empty() || list.back() != to) list.push_back(to);
            }
        };
        for (const Question& q : m_t.questions) {
            if (q.parent >= 0) m_t.valueDependents[size_t(q.parent)].push_back(q.index);
            addEdges(q.relevant, q.index, m_t.valueDependents);
            addEdges(q.calculation, q.index, m_t.valueDependents);
            addEdges(q.repeatCount, q.index, m_t.valueDependents);
            addEdges(q.constraint, q.index, m_t.checkDependents);
            addEdges(q.required, q.index, m_t.checkDependents);
            addEdges(q.choiceFilter, q.index, m_t.checkDependents);
        }
        for (auto* graph : {&m_t.valueDependents, &m_t.checkDependents})
            for (auto& list : *graph) {
                std::sort(list.begin(), list.end());
                list.erase(std::unique(list.begin(), list.end()), list.end());
            }

        // Kahn's algorithm over value edges; what is left over lies on or behind a cycle.
        std::vector<int> indegree(n, 0);
        for (const auto& list : m_t.valueDependents)
            for (int to : list) ++indegree[size_t(to)];
        std::vector<int> ready;
        for (size_t i = n; i-- > 0;)
            if (indegree[i] == 0) ready.push_back(int(i));
        m_t.evaluationOrder.clear();
        while (!ready.empty()) {
            int q = ready.back();
            ready.pop_back();
            m_t.evaluationOrder.push_back(q);
            for (int to : m_t.valueDependents[size_t(q)])
                if (--indegree[size_t(to)] == 0) ready.push_back(to);
        }
        if (m_t.evaluationOrder.size() != n) {
            reportCycle(indegree);
            return;
        }
        m_t.rank.assign(n, 0);
        for (size_t r = 0; r < n; ++r) m_t.rank[size_t(m_t.evaluationOrder[r])] = int(r);
    }

    void reportCycle(const std::vector<int>& indegree) {
        // Walk backwards from a node still waiting until a node repeats: that loop is a cycle.
        const size_t n = m_t.questions.size();
        std::vector<std::vector<int>> readsFrom(n);
        for (size_t from = 0; from < n; ++from)
            for (int to : m_t.valueDependents[from])
                if (indegree[size_t(to)] > 0 && indegree[from] > 0) readsFrom[size_t(to)].push_back(int(from));
        int start = -1;
        for (size_t i = 0; i < n && start < 0; ++i)
            if (indegree[i] > 0 && !readsFrom[i].empty()) start = int(i);
        if (start < 0) {
            error("template", "", "the relevance and calculation expressions form a cycle");
            return;
        }
        std::vector<int> path;
        std::vector<int> seenAt(n, -1);
        int cur = start;
        while (seenAt[size_t(cur)] < 0) {
            seenAt[size_t(cur)] = int(path.size());
            path.push_back(cur);
            cur = readsFrom[size_t(cur)].front();
        }
        std::vector<int> cycle(path.begin() + seenAt[size_t(cur)], path.end());
        std::reverse(cycle.begin(), cycle.end());  // in the order values flow
        std::string text;
        for (int q : cycle) text += m_t.questions[size_t(q)].id + " -> ";
        text += m_t.questions[size_t(cycle.front())].id;
        const Question& first = m_t.questions[size_t(cycle.front())];
        const char* key = first.type == QuestionType::Calculate ? "calculation" : "relevant";
        error(questionWhere(first.id), key,
              "relevance and calculations form a cycle: " + text + " (each reads the next one's value)");
    }

    std::string m_file;
    TemplateLoadOptions m_options;
    std::vector<TemplateError> m_warnings;
    Template m_t;
    std::vector<RawExpressions> m_raw;           // parallel to m_t.questions
    std::vector<RawExpressions> m_indicatorRaw;  // parallel to m_t.indicators
    RawExpressions m_reportRaw;                  // calculation: stratum; relevant: responded
    std::string m_reportOfficer, m_reportDate;
    std::vector<expr::Type> m_types;
    std::map<std::string, int> m_byIdIndex;
    std::vector<std::string> m_unreadIds;  // entries whose type could not be read
    std::vector<TemplateError> m_errors;
};

namespace {

std::pair<size_t, size_t> lineAndColumn(std::string_view text, size_t offset) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return {line, col};
}

}  // namespace

TemplateLoadResult loadTemplateDocument(const json& document, std::string_view fileName,
                                        const TemplateLoadOptions& options) {
    return TemplateLoader(fileName, options).load(document);
}

TemplateLoadResult loadTemplateJson(std::string_view jsonText, std::string_view fileName,
                                    const TemplateLoadOptions& options) {
    TemplateLoadResult result;
    auto fail = [&](std::string message) {
        result.errors.push_back({std::string(fileName), "template", "", "", 0, std::move(message)});
        return result;
    };
    if (jsonText.size() > kMaxTemplateBytes)
        return fail("the file is " + std::to_string(jsonText.size()) + " bytes; templates are limited to " +
                    std::to_string(kMaxTemplateBytes));
    json doc;
    try {
        doc = json::parse(jsonText.begin(), jsonText.end());
    } catch (const json::parse_error& e) {
        // nlohmann's byte counts from 1 and points just past the fault.
        size_t at = e.byte > 0 ? e.byte - 1 : 0;
        auto [line, col] = lineAndColumn(jsonText, at);
        std::string what = e.what();
        // Keep the part after the library's "[json.exception.parse_error.101] parse error at ...: ".
        if (auto p = what.find(": syntax error"); p != std::string::npos) what = what.substr(p + 2);
        return fail("not valid JSON at line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + what);
    } catch (const json::exception& e) {
        // e.g. a number too large for a double ("1e7777"): valid syntax, but not a value.
        std::string what = e.what();
        if (auto p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
        return fail("not usable JSON: " + what);
    }
    return loadTemplateDocument(doc, fileName, options);
}

TemplateLoadResult loadTemplateJsonFile(const std::filesystem::path& path, const TemplateLoadOptions& options) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    std::string name = path.filename().string();
    if (ec) {
        TemplateLoadResult r;
        r.errors.push_back({path.string(), "template", "", "", 0, "cannot read the file: " + ec.message()});
        return r;
    }
    if (size > kMaxTemplateBytes) {
        TemplateLoadResult r;
        r.errors.push_back({path.string(), "template", "", "", 0,
                            "the file is " + std::to_string(size) + " bytes; templates are limited to " +
                                std::to_string(kMaxTemplateBytes)});
        return r;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    if (!in && !in.eof()) {
        TemplateLoadResult r;
        r.errors.push_back({path.string(), "template", "", "", 0, "cannot read the file"});
        return r;
    }
    return loadTemplateJson(buf.str(), path.string(), options);
}

}  // namespace ck
