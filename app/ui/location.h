#pragma once
// Where the device is, for a GPS question's "Capture location": a hook the platform fills
// (platforms/desktop asks gpsd; an Android port would ask the OS). The app works without
// one: the officer then types latitude and longitude.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace ck {

struct LocationFix {
    double latitude = 0;
    double longitude = 0;
    std::optional<double> accuracyMetres;  // unknown when the receiver did not say
    int64_t unixTime = 0;                  // when the fix was taken (the receiver's clock); 0 = unknown
};

enum class LocationProblem : uint8_t {
    None,
    Unavailable,  // no receiver or service answers (gpsd not running, no device)
    NoFix,        // the receiver answers but has no position yet (indoors, just switched on)
};

struct LocationReading {
    std::optional<LocationFix> fix;
    LocationProblem problem = LocationProblem::None;
    std::string detail;  // for the log and the officer's coordinator ("connection refused on 2947")
};

class LocationSource {
public:
    virtual ~LocationSource() = default;
    // One position, waiting at most `timeout` for it. Called on the app's task thread, never
    // on the frame: it may block for the whole timeout.
    virtual LocationReading capture(std::chrono::milliseconds timeout) = 0;
};

}  // namespace ck
