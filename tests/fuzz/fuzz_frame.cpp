// Feeds arbitrary bytes to decodeFrame, the first thing that reads what arrives from a device,
// an aggregator or a USB stick. Nothing may crash, hang or trip a sanitizer; whatever decodes
// must re-encode to a frame that decodes to the same message (zstd output is not canonical,
// so the check is on messages, and on the re-encoded bytes being stable).
//
// A second path wraps the input (after a type byte) as the body of a well-formed frame, so the
// fuzzer reaches the message readers directly instead of stopping at zstd's checksum.
#include <cstddef>
#include <cstdint>
#include <vector>

#include <zstd.h>

#include "sync/protocol/messages.h"

namespace {

void check(const uint8_t* data, size_t size) {
    using namespace ck::proto;
    auto result = decodeFrame(data, size);
    if (auto* failure = std::get_if<FrameFailure>(&result)) {
        if (failure->message.empty() || errorFor(*failure).message.empty()) __builtin_trap();
        return;
    }
    const Message& message = std::get<Message>(result);
    if (size < 7 || data[6] != uint8_t(messageType(message))) __builtin_trap();
    const std::vector<uint8_t> again = encodeFrame(message);
    auto back = decodeFrame(again);
    const Message* m = std::get_if<Message>(&back);
    if (m == nullptr || !(*m == message) || encodeFrame(*m) != again) __builtin_trap();
    // What a server does next with a batch must not crash either.
    if (const auto* batch = std::get_if<UploadBatch>(&message)) {
        (void)verifySignature(signingBytes(*batch), batch->signature, batch->devicePublicKey);
        for (const auto& wire : batch->envelopes) {
            auto envelope = fromWire(wire, batch->devicePublicKey);
            if (!envelope) __builtin_trap();  // decodeFrame checked every size fromWire needs
            // Back to the wire as it came, but for the hashes toWire leaves out: the main
            // hash, and a content hash equal to it.
            WireEnvelope expected = wire;
            if (expected.contentHash == expected.mainHash) expected.contentHash.clear();
            expected.mainHash.clear();
            if (toWire(*envelope) != expected) __builtin_trap();
            (void)ck::verifyEnvelope(*envelope);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    check(data, size);
    if (size >= 1) {
        std::vector<uint8_t> frame{'C', 'K', 'S', 'P', uint8_t(ck::proto::kProtocolVersion), 0,
                                   uint8_t(data[0] % 14 + 1)};
        frame.resize(7 + ZSTD_compressBound(size - 1));
        const size_t n = ZSTD_compress(frame.data() + 7, frame.size() - 7, data + 1, size - 1, 1);
        if (ZSTD_isError(n)) __builtin_trap();
        frame.resize(7 + n);
        check(frame.data(), frame.size());
    }
    return 0;
}
