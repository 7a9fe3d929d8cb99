// libFuzzer target: XLSForm import. Random bytes rarely get past the zip layer, so the
// first byte picks one XML part of an otherwise sound workbook (a sheet, the shared strings,
// the workbook or its relationships, the styles that mark date cells, the document
// properties that give the default version) and the rest of the input becomes that part.
// The imported document, if any, goes through the template loader too.
//
// Legacy .xls bytes go to FreeXL in a child process (core/xlsform/xls_reader.cpp); this target
// fed them for a while and found FreeXL 1.0.6 reading out of bounds, which is why it runs
// there. Forking under the sanitizers is too slow to fuzz, so that input is now a fixture of
// test_xlsform (tests/data/xlsform/freexl-overread.xls) and this target keeps to our parsers.
#include <zip.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/xlsform/xlsform_import.h"

namespace {

// An uncompressed zip holding `entries`, built in memory.
std::string zipOf(const std::vector<std::pair<std::string, std::string>>& entries) {
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t* src = zip_source_buffer_create(nullptr, 0, 0, &err);
    zip_source_keep(src);
    zip_t* archive = zip_open_from_source(src, ZIP_TRUNCATE, &err);
    for (const auto& [name, content] : entries) {
        zip_source_t* s = zip_source_buffer(archive, content.data(), content.size(), 0);
        zip_int64_t i = zip_file_add(archive, name.c_str(), s, 0);
        zip_set_file_compression(archive, zip_uint64_t(i), ZIP_CM_STORE, 0);
    }
    zip_close(archive);
    std::string out;
    if (zip_source_open(src) == 0) {
        zip_source_seek(src, 0, SEEK_END);
        zip_int64_t size = zip_source_tell(src);
        zip_source_seek(src, 0, SEEK_SET);
        out.resize(size_t(size));
        zip_source_read(src, out.data(), zip_uint64_t(size));
        zip_source_close(src);
    }
    zip_source_free(src);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    std::string part(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string rels = R"(<Relationships><Relationship Id="rId1" Type="x/officeDocument" Target="xl/workbook.xml"/></Relationships>)";
    std::string workbookRels =
        R"(<Relationships><Relationship Id="rId1" Type="x/worksheet" Target="worksheets/sheet1.xml"/>)"
        R"(<Relationship Id="rId2" Type="x/worksheet" Target="worksheets/sheet2.xml"/>)"
        R"(<Relationship Id="rId3" Type="x/sharedStrings" Target="sharedStrings.xml"/>)"
        R"(<Relationship Id="rId4" Type="x/styles" Target="styles.xml"/></Relationships>)";
    std::string styles =
        R"(<styleSheet><numFmts count="1"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts>)"
        R"(<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/></cellXfs></styleSheet>)";
    std::string core = R"(<coreProperties><modified>2026-03-31T10:15:00Z</modified></coreProperties>)";
    std::string workbook =
        R"(<workbook xmlns:r="r"><sheets><sheet name="survey" r:id="rId1"/><sheet name="settings" r:id="rId2"/></sheets></workbook>)";
    std::string strings =
        R"(<sst><si><t>type</t></si><si><t>name</t></si><si><t>label</t></si><si><t>text</t></si>)"
        R"(<si><t>begin group</t></si><si><t>end group</t></si></sst>)";
    std::string settings =
        R"(<worksheet><sheetData><row><c t="inlineStr"><is><t>form_id</t></is></c><c t="inlineStr"><is><t>version</t></is></c></row>)"
        R"(<row><c t="inlineStr"><is><t>f</t></is></c><c s="2"><v>45382.5</v></c></row></sheetData></worksheet>)";
    std::string survey =
        R"(<worksheet><sheetData><row><c t="s"><v>0</v></c><c t="s"><v>1</v></c><c t="s"><v>2</v></c></row>)"
        R"(<row><c t="s"><v>3</v></c><c t="inlineStr"><is><t>a</t></is></c><c t="inlineStr"><is><t>A</t></is></c></row></sheetData></worksheet>)";
    switch (data[0] % 7) {
        case 0: survey = part; break;
        case 1: strings = part; break;
        case 2: workbook = part; break;
        case 3: workbookRels = part; break;
        case 4: styles = part; break;
        case 5: core = part; break;
        default: settings = part; break;
    }
    std::string bytes = zipOf({{"_rels/.rels", rels},
                               {"xl/_rels/workbook.xml.rels", workbookRels},
                               {"xl/workbook.xml", workbook},
                               {"xl/sharedStrings.xml", strings},
                               {"xl/worksheets/sheet1.xml", survey},
                               {"xl/worksheets/sheet2.xml", settings},
                               {"xl/styles.xml", styles},
                               {"docProps/core.xml", core}});
    auto imported = ck::importXlsFormBytes(bytes, "fuzz.xlsx");
    if (imported.document) (void)ck::loadTemplateDocument(*imported.document, "fuzz.xlsx");
    return 0;
}
