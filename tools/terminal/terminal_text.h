#pragma once
// Text from outside (a device's label, a bundle's createdBy, a record id, a request path)
// made safe to print on an operator's terminal or into a log: control characters (C0, DEL,
// C1), bytes that are not UTF-8, and the Unicode direction overrides are shown as escapes
// (\x1b, \u{202e}) instead of being obeyed, so no text can move the cursor, clear the
// screen, retitle the window or hide what follows it.
#include <string>
#include <string_view>

namespace ck {

std::string terminalSafe(std::string_view text);

}  // namespace ck
