#pragma once
// The baseline as one self-contained HTML page: inline CSS and SVG charts, no script, no
// font, image or style fetched from anywhere, so it opens from a USB stick or an e-mail and
// prints cleanly on A4 (page breaks between sections, tables never cut through a row).
#include <string>

#include "core/report/baseline_report.h"

namespace ck::report {

// UTF-8 HTML5. Every text from the report is escaped; suppressed cells show their reason,
// flagged ones "use with caution", and the inputs hash is printed in the footer.
std::string renderHtml(const BaselineReport& report);

}  // namespace ck::report
