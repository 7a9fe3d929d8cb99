#pragma once
// The enrolment string: everything a device needs to enrol (the aggregator's address, its
// TLS key pin and the one-time code) in one line that an officer pastes, scans from the
// slip's QR code, or reads from a file on a USB stick:
//
//   CK1-3J7QA-ZP0M4-...-W2K9D
//
// After the "CK1-" prefix come groups of five Crockford base32 characters (digits and
// letters without I, L, O, U; read back in any case, O as 0, I and L as 1): four carry data,
// the fifth checks them with Damm's algorithm over GF(32), started from the group's place.
// Any single mistyped character and any two neighbours swapped in a group fail that group's
// check, so the error names the group to look at again; a group moved to another place
// fails too. A 16-bit BLAKE2b checksum over the whole payload catches what is left (several
// typos in one group). Both ends use this file: `ck-aggregator enrol` prints the string, the
// field app and `ck-field enrol` read it. No network here: decoding only checks and unpacks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace ck::proto {

struct EnrolmentDetails {
    std::string url;           // "https://10.0.0.5:8443": scheme, host and port, no path
    std::string publicKeyPin;  // "sha256//" + base64 of 32 bytes; "" for an http:// address
    std::string code;          // the one-time code, upper case, in groups of 4 ("ABCD-EFGH-JKMN")
    bool operator==(const EnrolmentDetails&) const = default;
};

enum class EnrolmentStringError : uint8_t {
    NotFound,      // the text holds no "CK1-..." string
    NewerVersion,  // "CK2-...": made by a newer ClusterKit
    BadCharacter,  // `group` holds a character no enrolment string uses (U, punctuation)
    GroupLength,   // `group` does not have 5 characters: one is missing or extra there
    GroupCheck,    // `group` fails its check character: a character in it is mistyped
    TooShort,      // every group checks, but groups are missing at the end
    Inconsistent,  // every group checks, but the whole does not: several typos, or groups swapped
};

struct EnrolmentStringProblem {
    EnrolmentStringError error = EnrolmentStringError::NotFound;
    size_t group = 0;       // 1-based, counted after "CK1-" (BadCharacter, GroupLength, GroupCheck)
    std::string groupText;  // that group as it was typed
    std::string message;    // English, for the command line; the app words its own
};

using EnrolmentStringResult = std::variant<EnrolmentDetails, EnrolmentStringProblem>;

// The string for `details`. Throws std::invalid_argument naming what is wrong when the
// address is not http(s)://HOST[:PORT], the pin is not "sha256//" + base64 of 32 bytes
// (required for https), or the code is empty or holds anything but letters, digits and dashes.
std::string encodeEnrolmentString(const EnrolmentDetails& details);

// Finds the string in `text` (what the officer typed or pasted, or a whole file: the slip
// saved as text or HTML) and decodes it. Spaces may stand for the dashes, and a string typed
// with no separators at all is read in fives. A problem names the first group that is wrong.
EnrolmentStringResult decodeEnrolmentString(std::string_view text);

// Group size, for callers that show the string or a group: 4 data characters + 1 check.
inline constexpr size_t kEnrolmentGroupChars = 5;

}  // namespace ck::proto
