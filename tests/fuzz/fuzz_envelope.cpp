// Feeds arbitrary bytes to the two decoders that read what arrives from outside: the
// envelope (from a device, at the aggregator) and the vault record (from the device's store).
// Neither may crash, hang or trip a sanitizer; whatever decodes must re-encode to the very
// same bytes (the encodings are canonical, so a decoder that accepted slack would show here).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/crypto/envelope.h"
#include "core/crypto/vault.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::vector<uint8_t> bytes(data, data + size);
    if (auto envelope = ck::decodeEnvelope(bytes)) {
        (void)ck::verifyEnvelope(*envelope);
        if (ck::encodeEnvelope(*envelope) != bytes) __builtin_trap();
    }
    if (auto record = ck::decodeVaultRecord(bytes)) {
        if (ck::encodeVaultRecord(*record) != bytes) __builtin_trap();
    }
    return 0;
}
