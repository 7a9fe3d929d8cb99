#pragma once
// One small workbook per XLSForm feature (xlsform.org), as the README's XLSForm table lists
// them: what a survey author's existing form may hold. The test checks each loads or is
// refused as the table says; bench_xlsform prints the share that loads and the time taken.
#include <string>
#include <vector>

#include "tests/support/test_images.h"
#include "xlsx_fixture.h"

namespace ck::test {

enum class Expect {
    Loads,             // supported: loads with no warning
    LoadsWithWarning,  // supported with a note: loads, and a warning says what was ignored or changed
    Refused,           // an error names the feature and the reason
};

struct FeatureWorkbook {
    std::string file;     // e.g. "type-integer.xlsx"
    std::string feature;  // the README row
    Expect expect;
    std::vector<Sheet> sheets;
    // Files for the form's media folder (`NAME-media/` beside the workbook): name, bytes.
    std::vector<std::pair<std::string, std::string>> media = {};
};

// Writes the workbook and its media folder (afresh) into the scratch folder; returns the workbook.
inline std::filesystem::path writeFeatureWorkbook(const FeatureWorkbook& w) {
    std::filesystem::path path = writeXlsx(w.file, w.sheets);
    std::filesystem::path folder = path.parent_path() / (path.stem().string() + "-media");
    std::filesystem::remove_all(folder);
    for (const auto& [name, bytes] : w.media) writeFileIn(folder / name, bytes);
    return path;
}

inline Sheet featureSettings() { return {"settings", {{"form_id", "version", "form_title"}, {"f", "1", "Feature"}}}; }

inline Sheet yesNoChoices() {
    return {"choices", {{"list_name", "name", "label"}, {"yn", "yes", "Yes"}, {"yn", "no", "No"}}};
}

// A form with a header and the given survey rows, the settings above and the yes/no list.
inline std::vector<Sheet> featureForm(std::vector<Row> header, std::vector<Row> rows) {
    rows.insert(rows.begin(), std::move(header[0]));
    return {{"survey", rows}, yesNoChoices(), featureSettings()};
}

inline std::vector<FeatureWorkbook> featureWorkbooks() {
    const Row basic = {"type", "name", "label"};
    auto one = [&](const std::string& file, const std::string& feature, Expect expect, std::vector<Row> rows,
                   Row header = {}) {
        return FeatureWorkbook{file, feature, expect, featureForm({header.empty() ? basic : header}, std::move(rows))};
    };
    std::vector<FeatureWorkbook> all;
    // Question types
    all.push_back(one("type-integer.xlsx", "integer", Expect::Loads, {{"integer", "a", "A"}}));
    all.push_back(one("type-decimal.xlsx", "decimal", Expect::Loads, {{"decimal", "a", "A"}}));
    all.push_back(one("type-text.xlsx", "text", Expect::Loads, {{"text", "a", "A"}}));
    all.push_back(one("type-select-one.xlsx", "select_one", Expect::Loads, {{"select_one yn", "a", "A"}}));
    all.push_back(one("type-select-multiple.xlsx", "select_multiple", Expect::Loads, {{"select_multiple yn", "a", "A"}}));
    all.push_back(one("type-select-legacy.xlsx", "select one from / select all that apply from", Expect::Loads,
                      {{"select one from yn", "a", "A"}, {"select all that apply from yn", "b", "B"}}));
    all.push_back(one("type-or-other.xlsx", "or_other", Expect::Loads, {{"select_one yn or_other", "a", "A"}}));
    all.push_back(one("type-aliases.xlsx", "string, photo, gps, int, q_* and add_*_prompt", Expect::Loads,
                      {{"string", "a", "A"}, {"photo", "b", "B"}, {"gps", "c", "C"}, {"int", "d", "D"}}));
    all.push_back(one("type-note.xlsx", "note", Expect::Loads, {{"note", "a", "A"}}));
    all.push_back(one("type-geopoint.xlsx", "geopoint", Expect::Loads, {{"geopoint", "a", "A"}}));
    all.push_back(one("type-date.xlsx", "date", Expect::Loads, {{"date", "a", "A"}}));
    all.push_back(one("type-image.xlsx", "image", Expect::Loads, {{"image", "a", "A"}}));
    all.push_back(one("type-calculate.xlsx", "calculate", Expect::Loads,
                      {{"integer", "a", "A", ""}, {"calculate", "b", "", "${a} * 2"}},
                      {"type", "name", "label", "calculation"}));
    all.push_back(one("type-phone-number.xlsx", "phone number", Expect::LoadsWithWarning, {{"phone number", "a", "A"}}));
    all.push_back(one("type-barcode.xlsx", "barcode", Expect::LoadsWithWarning, {{"barcode", "a", "A"}}));
    all.push_back(one("type-range.xlsx", "range", Expect::Refused, {{"range", "a", "A"}}));
    all.push_back(one("type-rank.xlsx", "rank", Expect::Refused, {{"rank yn", "a", "A"}}));
    all.push_back(one("type-time.xlsx", "time", Expect::Refused, {{"time", "a", "A"}}));
    all.push_back(one("type-datetime.xlsx", "dateTime", Expect::Refused, {{"dateTime", "a", "A"}}));
    all.push_back(one("type-geotrace.xlsx", "geotrace", Expect::Refused, {{"geotrace", "a", "A"}}));
    all.push_back(one("type-geoshape.xlsx", "geoshape", Expect::Refused, {{"geoshape", "a", "A"}}));
    all.push_back(one("type-audio.xlsx", "audio", Expect::Refused, {{"audio", "a", "A"}}));
    all.push_back(one("type-video.xlsx", "video", Expect::Refused, {{"video", "a", "A"}}));
    all.push_back(one("type-file.xlsx", "file", Expect::Refused, {{"file", "a", "A"}}));
    all.push_back(one("type-acknowledge.xlsx", "acknowledge", Expect::Refused, {{"acknowledge", "a", "A"}}));
    all.push_back(one("type-hidden.xlsx", "hidden", Expect::Refused, {{"hidden", "a", "A"}}));
    all.push_back(one("type-xml-external.xlsx", "xml-external", Expect::Refused, {{"xml-external", "a", "A"}}));
    all.push_back(one("type-select-from-file.xlsx", "select_one_from_file", Expect::Refused,
                      {{"select_one_from_file shops.csv", "a", "A"}}));
    // Metadata
    all.push_back(one("meta-today.xlsx", "today", Expect::Loads, {{"today", "today"}, {"text", "a", "A"}}));
    all.push_back(one("meta-start-end.xlsx", "start, end", Expect::LoadsWithWarning,
                      {{"start", "start"}, {"end", "end"}, {"text", "a", "A"}}));
    all.push_back(one("meta-device.xlsx", "deviceid, subscriberid, simserial, phonenumber, username, email",
                      Expect::LoadsWithWarning,
                      {{"deviceid", "d"}, {"username", "u"}, {"email", "e"}, {"phonenumber", "p"}, {"text", "a", "A"}}));
    all.push_back(one("meta-audit.xlsx", "audit, background-audio, start-geopoint", Expect::LoadsWithWarning,
                      {{"audit", "audit"}, {"start-geopoint", "sg"}, {"text", "a", "A"}}));
    // Columns
    all.push_back(one("col-hint.xlsx", "hint", Expect::Loads, {{"text", "a", "A", "Say it"}}, {"type", "name", "label", "hint"}));
    all.push_back(one("col-required.xlsx", "required, required_message", Expect::Loads,
                      {{"text", "a", "A", "yes", "Please answer"}}, {"type", "name", "label", "required", "required_message"}));
    all.push_back(one("col-relevant.xlsx", "relevant", Expect::Loads,
                      {{"select_one yn", "a", "A", ""}, {"text", "b", "B", "${a} = 'yes'"}}, {"type", "name", "label", "relevant"}));
    all.push_back(one("col-constraint.xlsx", "constraint, constraint_message", Expect::Loads,
                      {{"integer", "a", "A", ". >= 0", "Not negative"}},
                      {"type", "name", "label", "constraint", "constraint_message"}));
    all.push_back(one("col-constraint-nomsg.xlsx", "constraint without constraint_message", Expect::LoadsWithWarning,
                      {{"integer", "a", "A", ". >= 0"}}, {"type", "name", "label", "constraint"}));
    all.push_back(one("col-appearance.xlsx", "appearance", Expect::Loads, {{"text", "a", "A", "multiline"}},
                      {"type", "name", "label", "appearance"}));
    all.push_back(one("col-choice-filter.xlsx", "choice_filter", Expect::Loads,
                      {{"select_one yn", "a", "A", ""}, {"select_one yn", "b", "B", "name != ${a}"}},
                      {"type", "name", "label", "choice_filter"}));
    all.push_back(one("col-label-interpolation.xlsx", "${field} in label and hint", Expect::Loads,
                      {{"text", "shop", "Shop", ""}, {"integer", "a", "Workers at ${shop}", "At ${shop} today"}},
                      {"type", "name", "label", "hint"}));
    FeatureWorkbook image = one("col-media-image.xlsx", "media::image (the file in form-media/)", Expect::Loads,
                                {{"note", "a", "A", "a.png"}}, {"type", "name", "label", "media::image"});
    image.media = {{"a.png", solidPng(8, 8, 0x336699)}};
    all.push_back(image);
    all.push_back(one("col-media-image-missing.xlsx", "media::image, the file not in the media folder",
                      Expect::LoadsWithWarning, {{"note", "a", "A", "a.png"}}, {"type", "name", "label", "media::image"}));
    FeatureWorkbook broken = one("col-media-image-broken.xlsx", "media::image, a file that is not a whole PNG or JPEG",
                                 Expect::Refused, {{"note", "a", "A", "a.png"}}, {"type", "name", "label", "media::image"});
    broken.media = {{"a.png", solidPng(8, 8, 0x336699).substr(0, 40)}};
    all.push_back(broken);
    all.push_back(one("col-media-audio.xlsx", "media::audio, media::video, big-image", Expect::LoadsWithWarning,
                      {{"note", "a", "A", "a.mp3"}}, {"type", "name", "label", "media::audio"}));
    all.push_back(one("col-default.xlsx", "default", Expect::LoadsWithWarning, {{"integer", "a", "A", "3"}},
                      {"type", "name", "label", "default"}));
    all.push_back(one("col-read-only.xlsx", "read_only", Expect::LoadsWithWarning, {{"text", "a", "A", "yes"}},
                      {"type", "name", "label", "read_only"}));
    all.push_back(one("col-guidance.xlsx", "guidance_hint", Expect::LoadsWithWarning, {{"text", "a", "A", "For training"}},
                      {"type", "name", "label", "guidance_hint"}));
    all.push_back(one("col-parameters.xlsx", "parameters", Expect::LoadsWithWarning, {{"decimal", "a", "A", "step=0.5"}},
                      {"type", "name", "label", "parameters"}));
    all.push_back(one("col-trigger.xlsx", "trigger", Expect::LoadsWithWarning,
                      {{"integer", "a", "A", ""}, {"integer", "b", "B", "${a}"}}, {"type", "name", "label", "trigger"}));
    all.push_back(one("col-bind.xlsx", "bind::*, body::*, instance::*", Expect::LoadsWithWarning,
                      {{"geopoint", "a", "A", "10"}}, {"type", "name", "label", "body::accuracyThreshold"}));
    all.push_back(one("col-unknown.xlsx", "a column XLSForm does not define", Expect::LoadsWithWarning,
                      {{"text", "a", "A", "red"}}, {"type", "name", "label", "colour"}));
    all.push_back(one("col-ignored-values.xlsx", "values with no header, on an end group row, or not for a group",
                      Expect::LoadsWithWarning,
                      {{"begin group", "g", "G", "yes", ""}, {"text", "a", "A", "", "stray"}, {"end group", "", "", "yes"}},
                      {"type", "name", "label", "required"}));
    // (No choices sheet here: its plain labels would lack the Hindi text.)
    all.push_back(FeatureWorkbook{"col-languages.xlsx", "label::Language (code)", Expect::Loads,
                                  {{"survey", {{"type", "name", "label::English (en)", "label::Hindi (hi)"}, {"text", "a", "A", "अ"}}},
                                   featureSettings()}});
    all.push_back(FeatureWorkbook{"col-languages-colon.xlsx", "label:Language (one colon)", Expect::Loads,
                                  {{"survey", {{"type", "name", "label:English", "label:Hindi"}, {"text", "a", "A", "अ"}}},
                                   featureSettings()}});
    all.push_back(FeatureWorkbook{"col-languages-missing.xlsx", "a translation left out", Expect::LoadsWithWarning,
                                  {{"survey", {{"type", "name", "label::en", "label::hi"}, {"text", "a", "A", "अ"}, {"text", "b", "B"}}},
                                   featureSettings()}});
    // Groups and repeats
    all.push_back(one("group.xlsx", "begin group / end group", Expect::Loads,
                      {{"begin group", "g", "G"}, {"text", "a", "A"}, {"end group"}}));
    all.push_back(one("group-nested.xlsx", "nested groups, groups without a label", Expect::Loads,
                      {{"begin group", "g"}, {"begin_group", "h"}, {"text", "a", "A"}, {"end_group"}, {"end group"}}));
    all.push_back(one("group-field-list.xlsx", "appearance field-list", Expect::Loads,
                      {{"begin group", "g", "G", "field-list"}, {"text", "a", "A", ""}, {"end group"}},
                      {"type", "name", "label", "appearance"}));
    all.push_back(one("repeat.xlsx", "begin repeat / end repeat", Expect::Loads,
                      {{"begin repeat", "r", "R"}, {"text", "a", "A"}, {"end repeat"}}));
    all.push_back(one("repeat-count.xlsx", "repeat_count", Expect::Loads,
                      {{"integer", "n", "N", ""}, {"begin repeat", "r", "R", "${n}"}, {"text", "a", "A", ""}, {"end repeat"}},
                      {"type", "name", "label", "repeat_count"}));
    all.push_back(one("repeat-nested.xlsx", "a repeat inside a repeat", Expect::Refused,
                      {{"begin repeat", "r", "R"}, {"begin repeat", "s", "S"}, {"text", "a", "A"}, {"end repeat"}, {"end repeat"}}));
    all.push_back(one("names-duplicate.xlsx", "a name used again in another group", Expect::LoadsWithWarning,
                      {{"begin group", "g", "G"}, {"text", "a", "A"}, {"end group"},
                       {"begin group", "h", "H"}, {"text", "a", "A2"}, {"end group"}}));
    // Choices
    all.push_back(FeatureWorkbook{"choices-filter-columns.xlsx", "extra choices columns (for choice_filter)", Expect::Loads,
                                  {{"survey", {basic, {"select_one shop", "a", "A"}}},
                                   {"choices", {{"list_name", "name", "label", "district"}, {"shop", "s1", "S1", "Tiruppur"}}},
                                   featureSettings()}});
    all.push_back(FeatureWorkbook{"choices-image.xlsx", "choices media::image", Expect::Loads,
                                  {{"survey", {basic, {"select_one shop", "a", "A"}}},
                                   {"choices", {{"list_name", "name", "label", "image"}, {"shop", "s1", "S1", "s1.jpg"}}},
                                   featureSettings()},
                                  {{"s1.jpg", solidJpeg(8, 8, 0x996633)}}});
    all.push_back(FeatureWorkbook{"choices-duplicate.xlsx", "a choice name twice in a list", Expect::Refused,
                                  {{"survey", {basic, {"select_one shop", "a", "A"}}},
                                   {"choices", {{"list_name", "name", "label"}, {"shop", "s1", "S1"}, {"shop", "s1", "S2"}}},
                                   featureSettings()}});
    // Settings
    all.push_back(FeatureWorkbook{"settings-none.xlsx", "no settings sheet", Expect::LoadsWithWarning,
                                  {{"survey", {basic, {"text", "a", "A"}}}}});
    all.push_back(FeatureWorkbook{"settings-default-language.xlsx", "default_language", Expect::Loads,
                                  {{"survey", {{"type", "name", "label::English (en)", "label::Hindi (hi)"}, {"text", "a", "A", "अ"}}},
                                   {"settings", {{"form_id", "version", "default_language"}, {"f", "1", "Hindi (hi)"}}}}});
    all.push_back(FeatureWorkbook{"settings-instance-name.xlsx", "instance_name", Expect::Loads,
                                  {{"survey", {basic, {"text", "a", "A"}}},
                                   {"settings", {{"form_id", "version", "instance_name"}, {"f", "1", "concat('Shop ', ${a})"}}}}});
    all.push_back(FeatureWorkbook{"settings-other.xlsx", "style, submission_url, public_key, auto_send, ...", Expect::LoadsWithWarning,
                                  {{"survey", {basic, {"text", "a", "A"}}},
                                   {"settings", {{"form_id", "version", "style", "submission_url", "public_key"},
                                                 {"f", "1", "pages", "https://example.org/x", "MIIB"}}}}});
    // Cells
    all.push_back(FeatureWorkbook{"cells-dates.xlsx", "date-formatted cells", Expect::Loads,
                                  {{"survey", {{"type", "name", "label", "choice_filter"}, {"select_one r", "a", "A", "since = '2024-03-31'"}}},
                                   {"choices", {{"list_name", "name", "label", "since"}, {"r", "x", "X", Cell::formatted(45382, "dd/mm/yyyy")}}},
                                   featureSettings()}});
    all.push_back(one("names-dash-dot.xlsx", "names with '-' or '.' (valid XML names)", Expect::LoadsWithWarning,
                      {{"integer", "hh-size", "Household size", ""}, {"integer", "q1.2", "Q", ". <= ${hh-size}"}},
                      {"type", "name", "label", "constraint"}));
    all.push_back(one("cells-nbsp.xlsx", "names ending in non-breaking spaces", Expect::Loads,
                      {{"text", "a\xC2\xA0", "A"}}));
    return all;
}

}  // namespace ck::test
