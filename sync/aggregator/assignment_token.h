#pragma once
// Assignment tokens: how a visit names the register unit it was assigned for without anything
// personal in clear (the register id is a personal answer, sealed to the custodian).
//
// The aggregator sends each device its units with a token: the unit id and the device id,
// encrypted and authenticated (XChaCha20-Poly1305) under a key derived from the project's
// signing key, with a nonce derived from what it encrypts (so one unit and device always give
// the same token). The device keeps it in the visit's record (Record::assignment); ingest
// opens it to the unit, whose register stratum the report weights by. Only this aggregator
// can make or read one: a made-up or altered token does not open, and a token sent to
// another device names that device.
#include <optional>
#include <string>
#include <string_view>

#include "core/crypto/secret_bytes.h"
#include "sync/aggregator/project_keys.h"

namespace ck::agg {

// The token key, derived from the project's signing secret key (so no new secret to keep);
// empty when the keys have no signing half, and then no token is made or opened.
SecretBytes assignmentTokenKey(const ProjectKeys& keys);

// "A1." + base64url of nonce, ciphertext and tag: about 80 characters for short ids ("" with
// an empty key).
std::string makeAssignmentToken(const SecretBytes& key, std::string_view unitId, std::string_view deviceId);

struct AssignmentClaim {
    std::string unitId;
    std::string deviceId;
};
// nullopt when the token was not made with this key (made up, altered, another project's).
std::optional<AssignmentClaim> openAssignmentToken(const SecretBytes& key, std::string_view token);

}  // namespace ck::agg
