#pragma once
// Writes real .xlsx files with libxlsxwriter for the importer tests: what Excel or
// LibreOffice would hand the importer, not hand-made XML.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>
#include <xlsxwriter.h>

namespace ck::test {

// One cell: nothing, text, a number, a boolean, rich text (runs) or a formula with a cached
// text result. Constructors rather than a variant so that "text" never turns into a bool.
struct Cell {
    enum class Kind { Empty, Text, Number, Boolean, Rich, Formula, Formatted } kind = Kind::Empty;
    std::string text;
    double number = 0;
    bool boolean = false;
    std::vector<std::string> runs;  // Rich
    std::string formula;            // Formula; `text` is its cached result
    std::string numberFormat;       // Formatted: a number shown in this format ("yyyy-mm-dd")

    Cell() = default;
    Cell(const char* t) : kind(Kind::Text), text(t) {}
    Cell(std::string t) : kind(Kind::Text), text(std::move(t)) {}
    Cell(int n) : kind(Kind::Number), number(n) {}
    Cell(double n) : kind(Kind::Number), number(n) {}
    Cell(bool b) : kind(Kind::Boolean), boolean(b) {}
    static Cell rich(std::vector<std::string> runs) {
        Cell c;
        c.kind = Kind::Rich;
        c.runs = std::move(runs);
        return c;
    }
    // A number with a number format, as a spreadsheet stores a date typed into a cell.
    static Cell formatted(double number, std::string format) {
        Cell c;
        c.kind = Kind::Formatted;
        c.number = number;
        c.numberFormat = std::move(format);
        return c;
    }
    static Cell formulaText(std::string formula, std::string result) {
        Cell c;
        c.kind = Kind::Formula;
        c.formula = std::move(formula);
        c.text = std::move(result);
        return c;
    }
};

using Row = std::vector<Cell>;

struct Sheet {
    std::string name;
    std::vector<Row> rows;  // an empty Row leaves the spreadsheet row empty
};

// A folder of this test process's own under the build folder.
inline std::filesystem::path scratchDir() {
    static const std::filesystem::path dir = [] {
        std::filesystem::path d = std::filesystem::path(CK_BINARY_DIR) / "test-scratch" /
                                  ("xlsform-" + std::to_string(::getpid()));
        std::filesystem::remove_all(d);
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

// constantMemory: libxlsxwriter then writes inline strings instead of shared strings,
// as some other writers do.
inline std::filesystem::path writeXlsx(const std::filesystem::path& path, const std::vector<Sheet>& sheets,
                                       bool constantMemory = false) {
    lxw_workbook_options options = {};
    options.constant_memory = constantMemory ? LXW_TRUE : LXW_FALSE;
    const std::string tmp = scratchDir().string();
    options.tmpdir = const_cast<char*>(tmp.c_str());
    lxw_workbook* workbook = workbook_new_opt(path.string().c_str(), &options);
    lxw_format* bold = workbook_add_format(workbook);
    format_set_bold(bold);
    for (const Sheet& sheet : sheets) {
        lxw_worksheet* ws = workbook_add_worksheet(workbook, sheet.name.c_str());
        for (size_t r = 0; r < sheet.rows.size(); ++r)
            for (size_t c = 0; c < sheet.rows[r].size(); ++c) {
                const Cell& cell = sheet.rows[r][c];
                auto row = lxw_row_t(r);
                auto col = lxw_col_t(c);
                switch (cell.kind) {
                case Cell::Kind::Empty: break;
                case Cell::Kind::Text: worksheet_write_string(ws, row, col, cell.text.c_str(), nullptr); break;
                case Cell::Kind::Number: worksheet_write_number(ws, row, col, cell.number, nullptr); break;
                case Cell::Kind::Formatted: {
                    lxw_format* format = workbook_add_format(workbook);
                    format_set_num_format(format, cell.numberFormat.c_str());
                    worksheet_write_number(ws, row, col, cell.number, format);
                    break;
                }
                case Cell::Kind::Boolean: worksheet_write_boolean(ws, row, col, cell.boolean, nullptr); break;
                case Cell::Kind::Formula:
                    worksheet_write_formula_str(ws, row, col, cell.formula.c_str(), nullptr, cell.text.c_str());
                    break;
                case Cell::Kind::Rich: {
                    std::vector<lxw_rich_string_tuple> tuples(cell.runs.size());
                    std::vector<lxw_rich_string_tuple*> list;
                    for (size_t i = 0; i < cell.runs.size(); ++i) {
                        tuples[i].format = i % 2 ? bold : nullptr;
                        tuples[i].string = const_cast<char*>(cell.runs[i].c_str());
                        list.push_back(&tuples[i]);
                    }
                    list.push_back(nullptr);
                    worksheet_write_rich_string(ws, row, col, list.data(), nullptr);
                    break;
                }
                }
            }
    }
    lxw_error status = workbook_close(workbook);
    if (status != LXW_NO_ERROR)
        throw std::runtime_error(std::string("libxlsxwriter: ") + lxw_strerror(status));
    return path;
}

inline std::filesystem::path writeXlsx(const std::string& fileName, const std::vector<Sheet>& sheets,
                                       bool constantMemory = false) {
    return writeXlsx(scratchDir() / fileName, sheets, constantMemory);
}

inline std::filesystem::path writeXlsx(const char* fileName, const std::vector<Sheet>& sheets,
                                       bool constantMemory = false) {
    return writeXlsx(std::string(fileName), sheets, constantMemory);
}

inline std::string readBytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void writeBytes(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace ck::test
