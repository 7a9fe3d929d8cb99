// Legacy .xls workbooks (Excel 97-2003, BIFF inside an OLE compound file), read with FreeXL
// (Debian's libfreexl) into the same rows of cell text as the .xlsx reader gives.
//
// FreeXL runs in a child process. fuzz_xlsform found FreeXL 1.0.6 (bookworm) reading out of
// bounds in its text conversion on a malformed file, and leaking on failed opens; in a child,
// the worst a hostile .xls can do is end that child, which the parent reports as a file it
// could not read. The child sends the rows back through a pipe; the parent checks every length.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <cerrno>
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

namespace {

XlsxReadResult readXlsInProcess(std::string_view bytes, const std::vector<std::string>& wanted,
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

// ---- the child's answer on the pipe: counts and length-prefixed strings, little-endian u32

void putNumber(std::string& out, uint32_t n) {
    for (int i = 0; i < 4; ++i) out += char((n >> (8 * i)) & 0xFF);
}
void putText(std::string& out, const std::string& text) {
    putNumber(out, uint32_t(text.size()));
    out += text;
}

std::string encode(const XlsxReadResult& r) {
    std::string out;
    putText(out, r.error);
    putNumber(out, uint32_t(r.sheetNames.size()));
    for (const std::string& name : r.sheetNames) putText(out, name);
    putNumber(out, uint32_t(r.sheets.size()));
    for (const XlsxSheet& sheet : r.sheets) {
        putText(out, sheet.name);
        putNumber(out, uint32_t(sheet.rows.size()));
        for (const XlsxRow& row : sheet.rows) {
            putNumber(out, uint32_t(row.number));
            putNumber(out, uint32_t(row.cells.size()));
            for (const std::string& cell : row.cells) putText(out, cell);
        }
    }
    return out;
}

class Decoder {
public:
    explicit Decoder(std::string_view data) : m_data(data) {}
    bool number(uint32_t& n) {
        if (m_data.size() - m_at < 4) return false;
        n = 0;
        for (int i = 0; i < 4; ++i) n |= uint32_t(static_cast<unsigned char>(m_data[m_at + size_t(i)])) << (8 * i);
        m_at += 4;
        return true;
    }
    bool text(std::string& out) {
        uint32_t size = 0;
        if (!number(size) || m_data.size() - m_at < size) return false;
        out.assign(m_data.substr(m_at, size));
        m_at += size;
        return true;
    }
    bool done() const { return m_at == m_data.size(); }

private:
    std::string_view m_data;
    size_t m_at = 0;
};

bool decode(std::string_view data, const XlsxLimits& limits, XlsxReadResult& r) {
    Decoder in(data);
    uint32_t names = 0, sheets = 0;
    if (!in.text(r.error) || !in.number(names) || names > 65536) return false;
    r.sheetNames.resize(names);
    for (std::string& name : r.sheetNames)
        if (!in.text(name)) return false;
    if (!in.number(sheets) || sheets > 16) return false;
    for (uint32_t s = 0; s < sheets; ++s) {
        XlsxSheet sheet;
        uint32_t rows = 0;
        if (!in.text(sheet.name) || !in.number(rows) || rows > limits.maxRows) return false;
        for (uint32_t i = 0; i < rows; ++i) {
            XlsxRow row;
            uint32_t number = 0, cells = 0;
            if (!in.number(number) || !in.number(cells) || cells > limits.maxColumns || number > 1048576) return false;
            row.number = int(number);
            row.cells.resize(cells);
            for (std::string& cell : row.cells)
                if (!in.text(cell)) return false;
            sheet.rows.push_back(std::move(row));
        }
        r.sheets.push_back(std::move(sheet));
    }
    return in.done();
}

bool writeAll(int fd, const std::string& data) {
    size_t written = 0;
    while (written < data.size()) {
        ssize_t n = ::write(fd, data.data() + written, data.size() - written);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        written += size_t(n);
    }
    return true;
}

}  // namespace

XlsxReadResult readXlsSheets(std::string_view bytes, const std::vector<std::string>& wanted,
                             const XlsxLimits& limits) {
    XlsxReadResult result;
    const std::string unreadable =
        "is an .xls file the legacy reader could not read (it stopped on damaged data); open it in a "
        "spreadsheet program and save it as .xlsx";
    int pipeFds[2];
    if (::pipe2(pipeFds, O_CLOEXEC) != 0) {
        result.error = "cannot be read: no pipe for the .xls reader";
        return result;
    }
    pid_t child = ::fork();
    if (child < 0) {
        ::close(pipeFds[0]);
        ::close(pipeFds[1]);
        result.error = "cannot be read: no process for the .xls reader";
        return result;
    }
    if (child == 0) {
        ::close(pipeFds[0]);
        // Silence whatever a failing library or sanitizer prints, and bound the CPU it may take.
        int devNull = ::open("/dev/null", O_WRONLY);
        if (devNull >= 0) ::dup2(devNull, 2);
        rlimit cpu{30, 30};
        ::setrlimit(RLIMIT_CPU, &cpu);
        bool sent = writeAll(pipeFds[1], encode(readXlsInProcess(bytes, wanted, limits)));
        ::_exit(sent ? 0 : 1);
    }
    ::close(pipeFds[1]);
    // Bounded: the rows the limits allow, and 60 seconds.
    const size_t maxBytes = size_t(512) * 1024 * 1024;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string data;
    bool ok = true;
    char buffer[64 * 1024];
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
        pollfd pfd{pipeFds[0], POLLIN, 0};
        if (left <= 0 || ::poll(&pfd, 1, int(left)) == 0) {
            ok = false;
            break;
        }
        ssize_t n = ::read(pipeFds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (data.size() + size_t(n) > maxBytes) {
            ok = false;
            break;
        }
        data.append(buffer, size_t(n));
    }
    ::close(pipeFds[0]);
    if (!ok) ::kill(child, SIGKILL);
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !decode(data, limits, result)) {
        result = XlsxReadResult{};
        result.error = unreadable;
    }
    return result;
}

}  // namespace ck
