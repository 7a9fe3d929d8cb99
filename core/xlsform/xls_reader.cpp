// Legacy .xls workbooks (Excel 97-2003, BIFF inside an OLE compound file), read with FreeXL
// (Debian's libfreexl) into the same rows of cell text as the .xlsx reader gives.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <freexl.h>

#include "core/xlsform/xlsx_reader.h"

namespace ck {

namespace {

// FreeXL reads only from a path: the bytes go to a private temporary file, removed on exit.
class TemporaryFile {
public:
    explicit TemporaryFile(std::string_view bytes) {
        std::string pattern = (std::filesystem::temp_directory_path() / "ck-xls-XXXXXX").string();
        int fd = ::mkstemp(pattern.data());
        if (fd < 0)
            return;
        m_path = pattern;
        size_t written = 0;
        while (written < bytes.size()) {
            ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
            if (n <= 0)
                break;
            written += size_t(n);
        }
        ::close(fd);
        m_ok = written == bytes.size();
    }
    ~TemporaryFile() {
        if (!m_path.empty())
            ::unlink(m_path.c_str());
    }
    TemporaryFile(const TemporaryFile&) = delete;
    TemporaryFile& operator=(const TemporaryFile&) = delete;
    bool ok() const { return m_ok; }
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
    bool m_ok = false;
};

struct HandleCloser {
    void operator()(const void* handle) const { freexl_close(handle); }
};

std::string freexlProblem(int code) {
    switch (code) {
    case FREEXL_INSUFFICIENT_MEMORY: return "is too large to read (out of memory)";
    case FREEXL_BIFF_WORKBOOK_NOT_FOUND: return "is not an Excel workbook (no workbook stream in the .xls file)";
    case FREEXL_INVALID_CFBF_HEADER:
    case FREEXL_CFBF_INVALID_SIGNATURE: return "is not a valid .xls file (bad compound file header)";
    case FREEXL_CRAFTED_FILE: return "is a damaged .xls file (FreeXL found it corrupt)";
    case FREEXL_UNSUPPORTED_CHARSET:
    case FREEXL_INVALID_CHARACTER: return "is an .xls file whose text encoding cannot be read";
    default: return "is a damaged .xls file (FreeXL error " + std::to_string(code) + ")";
    }
}

std::string renderNumber(double value) {
    if (!std::isfinite(value))
        return {};
    if (value == std::floor(value) && std::fabs(value) < 1e15)
        return std::to_string(static_cast<long long>(value));
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.15g", value);
    return buffer;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

}  // namespace

bool looksLikeXls(std::string_view bytes) {
    static const char kOleMagic[] = "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
    return bytes.size() >= 8 && bytes.substr(0, 8) == std::string_view(kOleMagic, 8);
}

XlsxReadResult readXlsSheets(std::string_view bytes, const std::vector<std::string>& wanted,
                             const XlsxLimits& limits) {
    XlsxReadResult result;
    TemporaryFile file(bytes);
    if (!file.ok()) {
        result.error = "cannot be read: no room for a temporary copy";
        return result;
    }
    const void* raw = nullptr;
    int status = freexl_open(file.path().c_str(), &raw);
    std::unique_ptr<const void, HandleCloser> handle(raw);
    if (status != FREEXL_OK) {
        result.error = freexlProblem(status);
        return result;
    }
    unsigned int password = 0;
    if (freexl_get_info(raw, FREEXL_BIFF_PASSWORD, &password) == FREEXL_OK && password == FREEXL_BIFF_OBFUSCATED) {
        result.error = "is a password-protected .xls file; save it without a password";
        return result;
    }
    unsigned int sheetCount = 0;
    if (freexl_get_info(raw, FREEXL_BIFF_SHEET_COUNT, &sheetCount) != FREEXL_OK) {
        result.error = "is a damaged .xls file (no sheet list)";
        return result;
    }
    std::vector<std::string> names;
    for (unsigned int i = 0; i < sheetCount && i < 65535; ++i) {
        const char* name = nullptr;
        if (freexl_get_worksheet_name(raw, static_cast<unsigned short>(i), &name) != FREEXL_OK || !name)
            name = "";
        names.emplace_back(name);
    }
    result.sheetNames = names;

    for (const std::string& want : wanted) {
        int index = -1;
        for (size_t i = 0; i < names.size() && index < 0; ++i)
            if (names[i] == want)
                index = int(i);
        for (size_t i = 0; i < names.size() && index < 0; ++i)
            if (equalsIgnoringCase(names[i], want))
                index = int(i);
        if (index < 0)
            continue;
        if (freexl_select_active_worksheet(raw, static_cast<unsigned short>(index)) != FREEXL_OK) {
            result.error = "has a sheet '" + names[size_t(index)] + "' that cannot be read";
            return result;
        }
        unsigned int rows = 0;
        unsigned short columns = 0;
        if (freexl_worksheet_dimensions(raw, &rows, &columns) != FREEXL_OK) {
            result.error = "has a sheet '" + names[size_t(index)] + "' that cannot be read";
            return result;
        }
        XlsxSheet sheet;
        sheet.name = names[size_t(index)];
        const std::string where = " in sheet '" + sheet.name + "'";
        size_t cellSlots = 0;
        for (unsigned int r = 0; r < rows; ++r) {
            XlsxRow row;
            row.number = int(r) + 1;
            for (unsigned short c = 0; c < columns; ++c) {
                FreeXL_CellValue value;
                if (freexl_get_cell_value(raw, r, c, &value) != FREEXL_OK)
                    continue;
                std::string text;
                switch (value.type) {
                case FREEXL_CELL_INT: text = std::to_string(value.value.int_value); break;
                case FREEXL_CELL_DOUBLE: text = renderNumber(value.value.double_value); break;
                case FREEXL_CELL_DATETIME:
                    // FreeXL writes "YYYY-MM-DD HH:MM:SS"; the .xlsx reader gives ISO 8601.
                    text = value.value.text_value ? value.value.text_value : "";
                    if (text.size() == 19 && text[10] == ' ')
                        text[10] = 'T';
                    break;
                case FREEXL_CELL_TEXT:
                case FREEXL_CELL_SST_TEXT:
                case FREEXL_CELL_DATE:
                case FREEXL_CELL_TIME: text = value.value.text_value ? value.value.text_value : ""; break;
                default: break;
                }
                if (text.empty())
                    continue;
                if (c >= limits.maxColumns) {
                    result.error = "has a value in column " + xlsxColumnName(c) + where + ", beyond the " +
                                   std::to_string(limits.maxColumns) + " columns read";
                    return result;
                }
                cellSlots += size_t(c) + 1 - std::min<size_t>(row.cells.size(), size_t(c) + 1);
                if (cellSlots > limits.maxCells) {
                    result.error = "has more than " + std::to_string(limits.maxCells) + " cells" + where;
                    return result;
                }
                if (row.cells.size() <= c)
                    row.cells.resize(size_t(c) + 1);
                row.cells[c] = std::move(text);
            }
            if (row.cells.empty())
                continue;
            if (sheet.rows.size() >= limits.maxRows) {
                result.error = "has more than " + std::to_string(limits.maxRows) + " rows" + where;
                return result;
            }
            sheet.rows.push_back(std::move(row));
        }
        result.sheets.push_back(std::move(sheet));
    }
    return result;
}

}  // namespace ck
