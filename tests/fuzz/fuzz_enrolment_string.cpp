// Feeds arbitrary text to decodeEnrolmentString: what an officer types or pastes, or a whole
// file from a USB stick. Nothing may crash, hang or trip a sanitizer; a problem always has
// words and names a group where its kind says it does; whatever decodes must encode back to
// a string that decodes to the same details.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sync/protocol/enrolment_string.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace ck::proto;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto result = decodeEnrolmentString(text);
    if (auto* p = std::get_if<EnrolmentStringProblem>(&result)) {
        if (p->message.empty()) __builtin_trap();
        bool namesGroup = p->error == EnrolmentStringError::BadCharacter || p->error == EnrolmentStringError::GroupLength ||
                          p->error == EnrolmentStringError::GroupCheck;
        if (namesGroup && p->group == 0) __builtin_trap();
        return 0;
    }
    const EnrolmentDetails& details = std::get<EnrolmentDetails>(result);
    auto again = decodeEnrolmentString(encodeEnrolmentString(details));
    const EnrolmentDetails* back = std::get_if<EnrolmentDetails>(&again);
    if (back == nullptr || !(*back == details)) __builtin_trap();
    return 0;
}
