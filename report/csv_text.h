#pragma once
// One CSV field (RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled),
// made safe to open in a spreadsheet. A cell starting with =, +, -, @, a tab or a carriage
// return is run as a formula by Excel, LibreOffice and Sheets (`=HYPERLINK(...)` sends the
// reader's data away, DDE runs programs); such text gets a leading apostrophe so it is shown
// as text. A cell that is a number as it stands ("-12.5") is left as it is: it stays a number.
// Used by the report CSV and `ck-aggregator export`, whose text comes from devices.
#include <string>
#include <string_view>

namespace ck::report {

std::string spreadsheetSafe(std::string_view text);
void appendCsvField(std::string& out, std::string_view text);

}  // namespace ck::report
