#include "platforms/desktop/gpsd_location.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include <gps.h>

namespace ck {
namespace {

using Clock = std::chrono::steady_clock;
// After a fix without an error estimate, how long to wait for one with it.
constexpr std::chrono::seconds kAccuracyGrace{3};

// gpsd's horizontal error estimate: eph where it gives one, else the larger of the two
// axis errors; unknown when it gives neither (a bare 2D fix).
std::optional<double> horizontalError(const gps_fix_t& fix) {
    if (std::isfinite(fix.eph) && fix.eph >= 0) return fix.eph;
    if (std::isfinite(fix.epx) && std::isfinite(fix.epy)) return std::max(fix.epx, fix.epy);
    return std::nullopt;
}

}  // namespace

GpsdLocation::GpsdLocation(std::string host, std::string port) : m_host(std::move(host)), m_port(std::move(port)) {}

GpsdLocation GpsdLocation::fromEnvironment() {
    const char* where = std::getenv("CLUSTERKIT_GPSD");
    if (!where || !*where) return GpsdLocation();
    std::string text(where);
    auto colon = text.rfind(':');
    if (colon == std::string::npos) return GpsdLocation(text);
    return GpsdLocation(text.substr(0, colon), text.substr(colon + 1));
}

LocationReading GpsdLocation::capture(std::chrono::milliseconds timeout) {
    LocationReading out;
    gps_data_t data{};
    if (gps_open(m_host.c_str(), m_port.c_str(), &data) != 0) {
        out.problem = LocationProblem::Unavailable;
        out.detail = "gpsd at " + m_host + ":" + m_port + ": " + gps_errstr(errno);
        return out;
    }
    gps_stream(&data, WATCH_ENABLE | WATCH_JSON, nullptr);
    const auto deadline = Clock::now() + timeout;
    auto giveUpAt = deadline;
    bool connected = true;
    while (Clock::now() < giveUpAt) {
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(giveUpAt - Clock::now());
        if (!gps_waiting(&data, int(std::clamp<int64_t>(left.count(), 0, 500'000)))) continue;
        errno = 0;
        if (gps_read(&data, nullptr, 0) < 0) {
            connected = false;
            out.detail = "gpsd at " + m_host + ":" + m_port + " closed the connection";
            break;
        }
        const gps_fix_t& f = data.fix;
        if (f.mode < MODE_2D || !std::isfinite(f.latitude) || !std::isfinite(f.longitude)) continue;
        LocationFix fix;
        fix.latitude = f.latitude;
        fix.longitude = f.longitude;
        fix.accuracyMetres = horizontalError(f);
        fix.unixTime = f.time.tv_sec > 0 ? int64_t(f.time.tv_sec) : 0;
        // A receiver may report a position before it knows its accuracy or the date (an NMEA
        // GGA sentence carries no date): wait a moment for a report that has both, and keep
        // the most complete one seen.
        auto known = [](const LocationFix& x) { return (x.accuracyMetres ? 1 : 0) + (x.unixTime > 0 ? 1 : 0); };
        bool first = !out.fix;
        if (first || known(fix) >= known(*out.fix)) out.fix = fix;
        if (out.fix->accuracyMetres && out.fix->unixTime > 0) break;
        if (first) giveUpAt = std::min(deadline, Clock::now() + kAccuracyGrace);
    }
    gps_stream(&data, WATCH_DISABLE, nullptr);
    gps_close(&data);
    if (!out.fix) out.problem = connected ? LocationProblem::NoFix : LocationProblem::Unavailable;
    else out.detail.clear();
    return out;
}

}  // namespace ck
