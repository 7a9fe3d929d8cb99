#include "core/xlsform/xlsx_reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include <pugixml.hpp>
#include <zip.h>

namespace ck {

namespace {

// ---------------------------------------------------------------------------------------
// Zip access

struct ZipArchiveDeleter {
    // Read-only: discarding writes nothing back and also frees the source the archive owns.
    void operator()(zip_t* archive) const { zip_discard(archive); }
};
using ZipArchive = std::unique_ptr<zip_t, ZipArchiveDeleter>;

struct ZipFileDeleter {
    void operator()(zip_file_t* file) const { zip_fclose(file); }
};
using ZipFile = std::unique_ptr<zip_file_t, ZipFileDeleter>;

// An error while reading; carried up as a value so every exit path stays explicit.
struct Failure {
    std::string message;
};

std::string mib(size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

std::optional<zip_int64_t> locateEntry(zip_t* archive, const std::string& name) {
    zip_int64_t index = zip_name_locate(archive, name.c_str(), 0);
    // Some writers differ in case ("xl/SharedStrings.xml"); zip names are otherwise exact.
    if (index < 0)
        index = zip_name_locate(archive, name.c_str(), ZIP_FL_NOCASE);
    if (index < 0)
        return std::nullopt;
    return index;
}

// Reads one entry whole, refusing it once more than `maxBytes` come out: the size in the
// zip directory is the writer's claim, so the bound is enforced on what is decompressed.
std::optional<Failure> readEntry(zip_t* archive, zip_int64_t index, const std::string& name, size_t maxBytes,
                                 std::string& out) {
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(archive, zip_uint64_t(index), 0, &stat) == 0 && (stat.valid & ZIP_STAT_SIZE) &&
        stat.size > maxBytes)
        return Failure{"has a part larger than " + mib(maxBytes) + " uncompressed (" + name + "); refusing to read it"};

    ZipFile file(zip_fopen_index(archive, zip_uint64_t(index), 0));
    if (!file)
        return Failure{"has a part that cannot be opened (" + name + "): " + zip_strerror(archive)};

    out.clear();
    char buffer[64 * 1024];
    for (;;) {
        zip_int64_t got = zip_fread(file.get(), buffer, sizeof buffer);
        if (got < 0)
            return Failure{"is damaged: cannot read " + name + ": " + zip_file_strerror(file.get())};
        if (got == 0)
            break;
        if (out.size() + size_t(got) > maxBytes)
            return Failure{"has a part larger than " + mib(maxBytes) + " uncompressed (" + name +
                           "); refusing to read it"};
        out.append(buffer, size_t(got));
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// XML helpers. Writers differ in namespace prefixes (<x:sheetData> from some SDKs), so
// elements and attributes are matched by local name.

std::string_view localName(const char* qualified) {
    std::string_view name(qualified);
    size_t colon = name.rfind(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node firstChild(pugi::xml_node parent, std::string_view name) {
    for (pugi::xml_node child = parent.first_child(); child; child = child.next_sibling())
        if (child.type() == pugi::node_element && localName(child.name()) == name)
            return child;
    return {};
}

pugi::xml_node nextSibling(pugi::xml_node node, std::string_view name) {
    for (pugi::xml_node next = node.next_sibling(); next; next = next.next_sibling())
        if (next.type() == pugi::node_element && localName(next.name()) == name)
            return next;
    return {};
}

pugi::xml_attribute attribute(pugi::xml_node node, std::string_view name) {
    for (pugi::xml_attribute attr = node.first_attribute(); attr; attr = attr.next_attribute())
        if (localName(attr.name()) == name)
            return attr;
    return {};
}

// The unprefixed attribute when there is one: relationships put their r:id beside plain ids.
pugi::xml_attribute prefixedAttribute(pugi::xml_node node, std::string_view name) {
    for (pugi::xml_attribute attr = node.first_attribute(); attr; attr = attr.next_attribute()) {
        std::string_view full(attr.name());
        if (full != name && localName(attr.name()) == name)
            return attr;
    }
    return {};
}

// The XML text of an element: its character data and CDATA children joined.
std::string elementText(pugi::xml_node node) {
    std::string text;
    for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling())
        if (child.type() == pugi::node_pcdata || child.type() == pugi::node_cdata)
            text += child.value();
    return text;
}

void appendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += char(cp);
    } else if (cp < 0x800) {
        out += char(0xC0 | (cp >> 6));
        out += char(0x80 | (cp & 0x3F));
    } else {
        out += char(0xE0 | (cp >> 12));
        out += char(0x80 | ((cp >> 6) & 0x3F));
        out += char(0x80 | (cp & 0x3F));
    }
}

// pugixml passes bytes through as they are; the text goes on into JSON, which must be UTF-8.
bool isValidUtf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (length == 0 || i + length > text.size())
            return false;
        uint32_t cp = length == 1 ? c : length == 2 ? (c & 0x1F) : length == 3 ? (c & 0x0F) : (c & 0x07);
        for (size_t k = 1; k < length; ++k) {
            unsigned char next = static_cast<unsigned char>(text[i + k]);
            if ((next >> 6) != 0x2)
                return false;
            cp = (cp << 6) | (next & 0x3F);
        }
        static const uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMinimum[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += length;
    }
    return true;
}

// Spreadsheet text escapes characters XML cannot hold as _xHHHH_ (Excel writes a carriage
// return as _x000D_ and a literal "_x" sequence as _x005F_x...).
std::string decodeOoxmlEscapes(std::string text) {
    if (text.find("_x") == std::string::npos)
        return text;
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        if (i + 7 <= text.size() && text[i] == '_' && text[i + 1] == 'x' && text[i + 6] == '_') {
            uint32_t cp = 0;
            auto [end, ec] = std::from_chars(text.data() + i + 2, text.data() + i + 6, cp, 16);
            if (ec == std::errc() && end == text.data() + i + 6 && !(cp >= 0xD800 && cp <= 0xDFFF)) {
                appendUtf8(out, cp);
                i += 7;
                continue;
            }
        }
        out += text[i++];
    }
    return out;
}

// Rich text (<si> in sharedStrings, <is> inline): plain <t>, or runs <r><t>; phonetic
// guides (<rPh>) are annotations, not text.
std::string richText(pugi::xml_node holder) {
    std::string text;
    for (pugi::xml_node child = holder.first_child(); child; child = child.next_sibling()) {
        if (child.type() != pugi::node_element)
            continue;
        std::string_view name = localName(child.name());
        if (name == "t")
            text += elementText(child);
        else if (name == "r")
            if (pugi::xml_node t = firstChild(child, "t"))
                text += elementText(t);
    }
    return decodeOoxmlEscapes(std::move(text));
}

std::optional<Failure> parseXml(pugi::xml_document& doc, std::string& data, const std::string& partName) {
    // Whitespace-only text is kept: a rich-text run of one space is part of the string.
    pugi::xml_parse_result parsed =
        doc.load_buffer_inplace(data.data(), data.size(), pugi::parse_default | pugi::parse_ws_pcdata);
    if (!parsed)
        return Failure{"has malformed XML in " + partName + ": " + parsed.description() + " at byte " +
                       std::to_string(parsed.offset)};
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// Package structure

// "xl/worksheets/../x.xml" → "xl/x.xml"; a leading "/" means the package root.
std::string resolvePartPath(const std::string& baseDir, const std::string& target) {
    std::string joined = (!target.empty() && target[0] == '/') ? target.substr(1) : baseDir + target;
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= joined.size()) {
        size_t slash = joined.find('/', start);
        if (slash == std::string::npos)
            slash = joined.size();
        std::string part = joined.substr(start, slash - start);
        if (part == "..") {
            if (!parts.empty())
                parts.pop_back();
        } else if (!part.empty() && part != ".") {
            parts.push_back(std::move(part));
        }
        start = slash + 1;
    }
    std::string out;
    for (const std::string& part : parts) {
        if (!out.empty())
            out += '/';
        out += part;
    }
    return out;
}

std::string directoryOf(const std::string& path) {
    size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash + 1);
}

bool endsWith(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
        if (std::tolower(x) != std::tolower(y))
            return false;
    }
    return true;
}

struct Relationship {
    std::string id, type, target;
};

struct SheetEntry {
    std::string name;
    std::string part;  // zip entry name; empty when the sheet is not a worksheet part
};

// ---------------------------------------------------------------------------------------
// Cells

// Parses "AB12" into a 0-based column and a 1-based row. Excel's own bounds: XFD, 1048576.
bool parseCellReference(std::string_view ref, size_t& column, int& row) {
    size_t i = 0, col = 0;
    while (i < ref.size() && std::isalpha(static_cast<unsigned char>(ref[i]))) {
        col = col * 26 + size_t(std::toupper(static_cast<unsigned char>(ref[i])) - 'A' + 1);
        if (++i > 3)
            return false;
    }
    if (i == 0 || col > 16384)
        return false;
    // "$A$1" never appears in cell refs, but a row number must be all digits.
    int number = 0;
    auto [end, ec] = std::from_chars(ref.data() + i, ref.data() + ref.size(), number);
    if (ec != std::errc() || end != ref.data() + ref.size() || number < 1 || number > 1048576)
        return false;
    column = col - 1;
    row = number;
    return true;
}

// A number as the author typed it: 12 rather than 12.0, 2026.1 rather than the binary
// approximation some writers store (2026.0999999999999). Excel shows 15 significant digits.
std::string renderNumber(std::string_view raw) {
    while (!raw.empty() && raw.front() == ' ')
        raw.remove_prefix(1);
    while (!raw.empty() && raw.back() == ' ')
        raw.remove_suffix(1);
    double value = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), value);
    if (ec != std::errc() || end != raw.data() + raw.size() || !std::isfinite(value))
        return std::string(raw);
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        long long whole = static_cast<long long>(value);
        return std::to_string(whole);
    }
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.15g", value);
    return buffer;
}

// Which cell styles show a number as a date: a spreadsheet stores a date as a day count and
// only its style (styles.xml) says so. An author who typed 2026-03-31 means that date, not
// 46112.
struct DateStyles {
    std::vector<bool> isDate;  // by cell style index (<c s="...">)
    bool base1904 = false;     // workbookPr date1904: old Mac workbooks count from 1904
    bool dateStyle(std::string_view s) const {
        size_t index = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), index);
        return ec == std::errc() && end == s.data() + s.size() && index < isDate.size() && isDate[index];
    }
};

// A number format shows a date when it has a year or day part outside quoted text, escapes
// and [colour] brackets ("yyyy-mm-dd", "d/m/yy", "[$-409]dd mmm yyyy").
bool isDateFormatCode(std::string_view code) {
    bool quoted = false, bracket = false;
    for (size_t i = 0; i < code.size(); ++i) {
        char c = code[i];
        if (quoted) {
            quoted = c != '"';
        } else if (bracket) {
            bracket = c != ']';
        } else if (c == '"') {
            quoted = true;
        } else if (c == '[') {
            bracket = true;
        } else if (c == '\\' || c == '_' || c == '*') {
            ++i;  // the next character is literal (or padding)
        } else if (c == 'y' || c == 'Y' || c == 'd' || c == 'D') {
            return true;
        }
    }
    return false;
}

// Excel's built-in date formats (ECMA-376 part 1, 18.8.30): 14-17 and 22 carry a date;
// 18-21 and 45-47 are times alone and stay numbers.
bool isBuiltinDateFormat(int id) { return (id >= 14 && id <= 17) || id == 22 || (id >= 27 && id <= 36) || (id >= 50 && id <= 58); }

// Days since 1970-01-01 to a civil date (H. Hinnant's algorithm).
std::string isoDateFromDays(long long z) {
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const long long doe = z - era * 146097;
    const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long y = yoe + era * 400;
    const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const long long mp = (5 * doy + 2) / 153;
    const long long d = doy - (153 * mp + 2) / 5 + 1;
    const long long m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04lld-%02lld-%02lld", y, m, d);
    return buffer;
}

// A date cell's serial number as an ISO date, with the time when there is one; the number
// as typed when it is no plausible date.
std::string renderDate(std::string_view raw, bool base1904) {
    double serial = 0;
    auto [end, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), serial);
    if (ec != std::errc() || end != raw.data() + raw.size() || !std::isfinite(serial) || serial < 1 || serial > 2958465)
        return renderNumber(raw);
    long long whole = static_cast<long long>(std::floor(serial));
    // Day 1 is 1900-01-01, and Excel counts a 29 February 1900 that never was (day 60), so
    // from day 61 on the days run from 1899-12-30. 1904-based workbooks count from 1904-01-01.
    long long days = base1904 ? whole - 24107 : (whole >= 61 ? whole - 25569 : whole - 25568);
    std::string text = isoDateFromDays(days);
    long long seconds = std::llround((serial - double(whole)) * 86400.0);
    if (seconds > 0 && seconds < 86400) {
        char buffer[48];
        std::snprintf(buffer, sizeof buffer, "T%02d:%02d:%02d", int(seconds / 3600), int(seconds / 60 % 60), int(seconds % 60));
        text += buffer;
    }
    return text;
}

// Reads one worksheet part into `sheet`.
std::optional<Failure> readWorksheet(std::string& xml, const std::string& partName,
                                     const std::vector<std::string>& sharedStrings, const DateStyles& dates,
                                     const XlsxLimits& limits, XlsxSheet& sheet) {
    pugi::xml_document doc;
    if (auto failure = parseXml(doc, xml, partName))
        return failure;
    pugi::xml_node worksheet = doc.document_element();
    if (!worksheet || localName(worksheet.name()) != "worksheet")
        return Failure{"has a sheet part that is not a worksheet (" + partName + ")"};
    const std::string where = " in sheet '" + sheet.name + "'";

    size_t cellSlots = 0;
    int previousRow = 0;
    for (pugi::xml_node data = firstChild(worksheet, "sheetData"); data; data = nextSibling(data, "sheetData")) {
        for (pugi::xml_node rowNode = firstChild(data, "row"); rowNode; rowNode = nextSibling(rowNode, "row")) {
            int rowNumber = previousRow + 1;
            if (pugi::xml_attribute r = attribute(rowNode, "r")) {
                std::string_view text(r.value());
                auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), rowNumber);
                if (ec != std::errc() || end != text.data() + text.size() || rowNumber < 1 || rowNumber > 1048576)
                    return Failure{"has an invalid row number '" + std::string(text) + "'" + where};
            }
            if (rowNumber <= previousRow)
                return Failure{"has rows out of order" + where + " (row " + std::to_string(rowNumber) +
                               " after row " + std::to_string(previousRow) + ")"};
            previousRow = rowNumber;

            XlsxRow row;
            row.number = rowNumber;
            size_t nextColumn = 0;
            for (pugi::xml_node c = firstChild(rowNode, "c"); c; c = nextSibling(c, "c")) {
                size_t column = nextColumn;
                if (pugi::xml_attribute r = attribute(c, "r")) {
                    int refRow = 0;
                    if (!parseCellReference(r.value(), column, refRow))
                        return Failure{"has an invalid cell reference '" + std::string(r.value()) + "'" + where};
                    if (refRow != rowNumber)
                        return Failure{"has cell " + std::string(r.value()) + " inside row " +
                                       std::to_string(rowNumber) + where};
                }
                nextColumn = column + 1;

                std::string_view type(attribute(c, "t").value());
                std::string text;
                if (type == "inlineStr") {
                    if (pugi::xml_node is = firstChild(c, "is"))
                        text = richText(is);
                } else if (pugi::xml_node v = firstChild(c, "v")) {
                    std::string value = elementText(v);
                    if (type == "s") {
                        size_t index = 0;
                        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), index);
                        if (ec != std::errc() || end != value.data() + value.size() || index >= sharedStrings.size())
                            return Failure{"has cell " + xlsxColumnName(column) + std::to_string(rowNumber) + where +
                                           " that refers to a shared string that does not exist"};
                        text = sharedStrings[index];
                    } else if (type == "b") {
                        text = value == "1" || value == "true" ? "TRUE" : "FALSE";
                    } else if (type == "str" || type == "e" || type == "d") {
                        text = decodeOoxmlEscapes(std::move(value));  // formula text result, #N/A, ISO date
                    } else {
                        text = dates.dateStyle(attribute(c, "s").value()) ? renderDate(value, dates.base1904)
                                                                           : renderNumber(value);
                    }
                }
                if (text.empty())
                    continue;  // formatted but empty cells are common; they are not content
                if (!isValidUtf8(text))
                    return Failure{"has text that is not valid UTF-8 in cell " + xlsxColumnName(column) +
                                   std::to_string(rowNumber) + where};
                if (column >= limits.maxColumns)
                    return Failure{"has a value in column " + xlsxColumnName(column) + where + ", beyond the " +
                                   std::to_string(limits.maxColumns) + " columns read"};
                if (row.cells.size() <= column) {
                    cellSlots += column + 1 - row.cells.size();
                    if (cellSlots > limits.maxCells)
                        return Failure{"has more than " + std::to_string(limits.maxCells) + " cells" + where};
                    row.cells.resize(column + 1);
                }
                row.cells[column] = std::move(text);
            }
            if (row.cells.empty())
                continue;
            if (sheet.rows.size() >= limits.maxRows)
                return Failure{"has more than " + std::to_string(limits.maxRows) + " rows" + where};
            sheet.rows.push_back(std::move(row));
        }
    }
    return std::nullopt;
}

class WorkbookReader {
public:
    WorkbookReader(zip_t* archive, const XlsxLimits& limits) : m_archive(archive), m_limits(limits) {}

    std::optional<Failure> read(const std::vector<std::string>& wanted, XlsxReadResult& result) {
        std::string workbookPart = "xl/workbook.xml";
        if (auto failure = findWorkbookPart(workbookPart))
            return failure;

        std::string workbookXml;
        if (auto failure = readPart(workbookPart, workbookXml, "has no " + workbookPart + " (not an Excel workbook)"))
            return failure;
        pugi::xml_document workbookDoc;
        if (auto failure = parseXml(workbookDoc, workbookXml, workbookPart))
            return failure;
        pugi::xml_node workbook = workbookDoc.document_element();
        if (!workbook || localName(workbook.name()) != "workbook")
            return Failure{"has no workbook in " + workbookPart};

        const std::string baseDir = directoryOf(workbookPart);
        std::vector<Relationship> relationships;
        std::string relsPart = baseDir + "_rels/" + workbookPart.substr(baseDir.size()) + ".rels";
        if (auto failure = readRelationships(relsPart, true, relationships))
            return failure;

        std::vector<SheetEntry> sheets;
        pugi::xml_node sheetsNode = firstChild(workbook, "sheets");
        for (pugi::xml_node s = firstChild(sheetsNode, "sheet"); s; s = nextSibling(s, "sheet")) {
            SheetEntry entry;
            entry.name = s.attribute("name").value();
            if (!isValidUtf8(entry.name))
                return Failure{"has a sheet name that is not valid UTF-8"};
            std::string relId = prefixedAttribute(s, "id").value();
            for (const Relationship& rel : relationships)
                if (rel.id == relId && endsWith(rel.type, "/worksheet"))
                    entry.part = resolvePartPath(baseDir, rel.target);
            result.sheetNames.push_back(entry.name);
            sheets.push_back(std::move(entry));
        }

        // Shared strings are read only when a wanted sheet exists: they can be the largest part.
        std::vector<const SheetEntry*> chosen;
        for (const std::string& name : wanted)
            if (const SheetEntry* entry = findSheet(sheets, name))
                chosen.push_back(entry);
        if (chosen.empty())
            return std::nullopt;

        std::vector<std::string> sharedStrings;
        for (const Relationship& rel : relationships)
            if (endsWith(rel.type, "/sharedStrings"))
                if (auto failure = readSharedStrings(resolvePartPath(baseDir, rel.target), sharedStrings))
                    return failure;

        DateStyles dates;
        if (pugi::xml_node properties = firstChild(workbook, "workbookPr")) {
            std::string_view flag = attribute(properties, "date1904").value();
            dates.base1904 = flag == "1" || flag == "true";
        }
        for (const Relationship& rel : relationships)
            if (endsWith(rel.type, "/styles"))
                if (auto failure = readDateStyles(resolvePartPath(baseDir, rel.target), dates))
                    return failure;
        readModified(result.modified);

        for (const SheetEntry* entry : chosen) {
            if (entry->part.empty())
                return Failure{"has a sheet '" + entry->name + "' that is not a worksheet (a chart sheet?)"};
            std::string xml;
            if (auto failure = readPart(entry->part, xml, "is missing the part of sheet '" + entry->name + "' (" +
                                                              entry->part + ")"))
                return failure;
            XlsxSheet sheet;
            sheet.name = entry->name;
            if (auto failure = readWorksheet(xml, entry->part, sharedStrings, dates, m_limits, sheet))
                return failure;
            result.sheets.push_back(std::move(sheet));
        }
        return std::nullopt;
    }

private:
    std::optional<Failure> readPart(const std::string& part, std::string& out, const std::string& missingMessage) {
        std::optional<zip_int64_t> index = locateEntry(m_archive, part);
        if (!index)
            return Failure{missingMessage};
        return readEntry(m_archive, *index, part, m_limits.maxEntryBytes, out);
    }

    // The package's root relationships name the workbook part; without them the usual name
    // is tried, as most readers do.
    std::optional<Failure> findWorkbookPart(std::string& workbookPart) {
        std::vector<Relationship> rootRels;
        if (auto failure = readRelationships("_rels/.rels", false, rootRels))
            return failure;
        for (const Relationship& rel : rootRels)
            if (endsWith(rel.type, "/officeDocument")) {
                workbookPart = resolvePartPath("", rel.target);
                break;
            }
        return std::nullopt;
    }

    std::optional<Failure> readRelationships(const std::string& part, bool required, std::vector<Relationship>& out) {
        std::optional<zip_int64_t> index = locateEntry(m_archive, part);
        if (!index) {
            if (required)
                return Failure{"has no " + part + " (not an Excel workbook)"};
            return std::nullopt;
        }
        std::string xml;
        if (auto failure = readEntry(m_archive, *index, part, m_limits.maxEntryBytes, xml))
            return failure;
        pugi::xml_document doc;
        if (auto failure = parseXml(doc, xml, part))
            return failure;
        pugi::xml_node root = doc.document_element();
        for (pugi::xml_node rel = firstChild(root, "Relationship"); rel; rel = nextSibling(rel, "Relationship")) {
            if (std::string_view(attribute(rel, "TargetMode").value()) == "External")
                continue;
            out.push_back({attribute(rel, "Id").value(), attribute(rel, "Type").value(),
                           attribute(rel, "Target").value()});
        }
        return std::nullopt;
    }

    std::optional<Failure> readSharedStrings(const std::string& part, std::vector<std::string>& out) {
        std::string xml;
        if (auto failure = readPart(part, xml, "is missing its shared strings (" + part + ")"))
            return failure;
        pugi::xml_document doc;
        if (auto failure = parseXml(doc, xml, part))
            return failure;
        pugi::xml_node sst = doc.document_element();
        for (pugi::xml_node si = firstChild(sst, "si"); si; si = nextSibling(si, "si"))
            out.push_back(richText(si));
        return std::nullopt;
    }

    // Styles are needed only to tell dates from numbers: a workbook without them (or with
    // unreadable ones, which spreadsheet programs also shrug off) shows plain numbers.
    std::optional<Failure> readDateStyles(const std::string& part, DateStyles& dates) {
        std::optional<zip_int64_t> index = locateEntry(m_archive, part);
        if (!index)
            return std::nullopt;
        std::string xml;
        if (auto failure = readEntry(m_archive, *index, part, m_limits.maxEntryBytes, xml))
            return failure;
        pugi::xml_document doc;
        if (parseXml(doc, xml, part))
            return std::nullopt;
        pugi::xml_node styleSheet = doc.document_element();
        std::map<int, bool> customDate;
        for (pugi::xml_node fmt = firstChild(firstChild(styleSheet, "numFmts"), "numFmt"); fmt;
             fmt = nextSibling(fmt, "numFmt"))
            customDate[attribute(fmt, "numFmtId").as_int(-1)] = isDateFormatCode(attribute(fmt, "formatCode").value());
        for (pugi::xml_node xf = firstChild(firstChild(styleSheet, "cellXfs"), "xf"); xf; xf = nextSibling(xf, "xf")) {
            if (dates.isDate.size() >= 65536)
                break;  // more styles than Excel allows; the rest show as numbers
            int id = attribute(xf, "numFmtId").as_int(0);
            auto custom = customDate.find(id);
            dates.isDate.push_back(custom != customDate.end() ? custom->second : isBuiltinDateFormat(id));
        }
        return std::nullopt;
    }

    // The workbook's last-saved time from docProps/core.xml ("2026-03-31T10:15:00Z"), or "".
    void readModified(std::string& out) {
        std::optional<zip_int64_t> index = locateEntry(m_archive, "docProps/core.xml");
        if (!index)
            return;
        std::string xml;
        if (readEntry(m_archive, *index, "docProps/core.xml", 1024 * 1024, xml))
            return;
        pugi::xml_document doc;
        if (parseXml(doc, xml, "docProps/core.xml"))
            return;
        std::string text = elementText(firstChild(doc.document_element(), "modified"));
        if (text.size() <= 64 && isValidUtf8(text))
            out = text;
    }

    static const SheetEntry* findSheet(const std::vector<SheetEntry>& sheets, const std::string& name) {
        for (const SheetEntry& entry : sheets)
            if (entry.name == name)
                return &entry;
        for (const SheetEntry& entry : sheets)
            if (equalsIgnoringCase(entry.name, name))
                return &entry;
        return nullptr;
    }

    zip_t* m_archive;
    const XlsxLimits& m_limits;
};

}  // namespace

const std::string& XlsxRow::cell(size_t column) const {
    static const std::string kEmpty;
    return column < cells.size() ? cells[column] : kEmpty;
}

std::string xlsxColumnName(size_t column) {
    std::string name;
    for (size_t n = column + 1; n > 0; n = (n - 1) / 26)
        name.insert(name.begin(), char('A' + (n - 1) % 26));
    return name;
}

XlsxReadResult readXlsxSheets(std::string_view bytes, const std::vector<std::string>& wanted,
                              const XlsxLimits& limits) {
    XlsxReadResult result;
    if (bytes.empty()) {
        result.error = "is empty (0 bytes), not an .xlsx file";
        return result;
    }

    zip_error_t error;
    zip_error_init(&error);
    zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
    if (!source) {
        result.error = std::string("cannot be read as a zip file: ") + zip_error_strerror(&error);
        zip_error_fini(&error);
        return result;
    }
    ZipArchive archive(zip_open_from_source(source, ZIP_RDONLY, &error));
    if (!archive) {
        zip_source_free(source);  // not taken over by a failed open
        result.error = std::string("is not a valid .xlsx (zip) file: ") + zip_error_strerror(&error);
        zip_error_fini(&error);
        return result;
    }
    zip_error_fini(&error);

    WorkbookReader reader(archive.get(), limits);
    if (auto failure = reader.read(wanted, result)) {
        result.sheets.clear();
        result.error = std::move(failure->message);
    }
    return result;
}

}  // namespace ck
