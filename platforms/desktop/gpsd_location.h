#pragma once
// "Capture location" on a Linux desktop or laptop: asks gpsd (the GPS service most Linux
// systems run for a USB or built-in receiver) through Debian's libgps. When gpsd does not
// answer, the officer is told and types the location instead.
#include <string>

#include "app/ui/location.h"

namespace ck {

class GpsdLocation final : public LocationSource {
public:
    // gpsd's address: localhost:2947 unless CLUSTERKIT_GPSD ("host:port") says otherwise.
    explicit GpsdLocation(std::string host = "localhost", std::string port = "2947");
    static GpsdLocation fromEnvironment();

    // The first position with a fix (2D or 3D). A fix without an error estimate is kept only
    // when none with one follows within a few seconds: the accuracy is then unknown.
    LocationReading capture(std::chrono::milliseconds timeout) override;

private:
    std::string m_host, m_port;
};

}  // namespace ck
