#pragma once
// Sample messages and keys shared by the protocol tests: real Ed25519 keys, real sealed
// envelopes (core/crypto), so what the tests sign and send is what a device would.
#include <sodium.h>
#include <zstd.h>

#include <string>
#include <vector>

#include "core/crypto/envelope.h"
#include "sync/protocol/messages.h"

namespace ck::proto::test {

struct DeviceKey {
    std::vector<uint8_t> publicKey;  // Ed25519, 32
    SecretBytes secretKey;           // 64
};

inline DeviceKey newDeviceKey() {
    ensureSodium();
    DeviceKey key{std::vector<uint8_t>(crypto_sign_PUBLICKEYBYTES), SecretBytes(crypto_sign_SECRETKEYBYTES)};
    crypto_sign_keypair(key.publicKey.data(), key.secretKey.data());
    return key;
}

// A 10-question cluster diagnostic visit: numbers, choices, a date, a short text.
inline Record visitRecord(int n) {
    Record r;
    r.id = newRecordId();
    r.templateId = "cluster-diagnostic";
    r.templateVersion = "2026.1";
    r.createdAt = 1795000000 + n * 60;
    r.updatedAt = r.createdAt + 1500;
    r.answers.push_back({"consent", Value::text("yes"), false, {}});
    r.answers.push_back({"unit_type", Value::choices({"micro"}), false, {}});
    r.answers.push_back({"workers", Value::number(12 + n % 30), false, {}});
    r.answers.push_back({"women_workers", Value::number(4 + n % 7), false, {}});
    r.answers.push_back({"turnover", Value::number(1850000 + n * 1000), false, {}});
    r.answers.push_back({"year_started", Value::number(2004 + n % 15), false, {}});
    r.answers.push_back({"certs", Value::choices({"udyam", "gst"}), false, {}});
    r.answers.push_back({"power_cuts", Value::number(n % 5), false, {}});
    r.answers.push_back({"last_audit", Value::date(Date{20000 + n}), false, {}});
    r.answers.push_back({"main_problem", Value::text("working capital delayed by buyers"), false, {}});
    return r;
}

struct Sealing {
    DeviceKey device = newDeviceKey();
    BoxKeyPair aggregator = newBoxKeyPair();
    BoxKeyPair custodian = newBoxKeyPair();

    SealedEnvelope seal(const Record& record, bool withCustodian = false, std::string_view dictionary = {}) const {
        SealInput in;
        in.dictionary = dictionary;
        in.record = &record;
        in.personalFields = {"main_problem"};
        in.aggregatorPublicKey = aggregator.publicKey;
        if (withCustodian) in.custodianPublicKey = custodian.publicKey;
        in.signingSecretKey = &device.secretKey;
        in.signingPublicKey = device.publicKey;
        return sealEnvelope(in);
    }
};

inline std::vector<uint8_t> bytesOf(size_t n, uint8_t fill) { return std::vector<uint8_t>(n, fill); }

// One signed sample of every message type, in MessageType order.
inline std::vector<Message> allSamples(const Sealing& s) {
    const Signer sign = signerFor(s.device.secretKey);
    std::vector<Message> out;
    out.push_back(ErrorReply{ErrorCode::RateLimited, "too many requests from this device; wait a minute", 60});

    EnrolRequest enrol{"K7QF-2MXD", s.device.publicKey, "Tab 3 (Priya)", 1795000000, {}};
    enrol.signature = sign(signingBytes(enrol));
    out.push_back(enrol);

    out.push_back(EnrolReply{"dev-0007", "Priya S", "Tiruppur knitwear", "Tamil Nadu MSME baseline",
                             s.aggregator.publicKey, bytesOf(32, 7)});

    UploadBatch batch{s.device.publicKey, 1795000100, {}, {}};
    batch.envelopes.push_back(toWire(s.seal(visitRecord(1))));
    batch.envelopes.push_back(toWire(s.seal(visitRecord(2), true)));
    batch.signature = sign(signingBytes(batch));
    out.push_back(batch);

    UploadReply reply;
    reply.acks.push_back({AckStatus::Stored, RefusalReason::None, ""});
    reply.acks.push_back({AckStatus::Refused, RefusalReason::Conflict,
                          "this visit was already received with different answers; correct it as a new revision"});
    out.push_back(reply);

    UpdatesRequest updatesRequest{s.device.publicKey, 41, 1795000200, {}};
    updatesRequest.signature = sign(signingBytes(updatesRequest));
    out.push_back(updatesRequest);

    Updates updates;
    updates.cursor = 57;
    updates.more = true;
    updates.templates.push_back({"cluster-diagnostic", "2026.1", R"({"id":"cluster-diagnostic"})", bytesOf(64, 3)});
    updates.assignments.push_back({"TPR-0042", R"({"unit_id":"TPR-0042","name":"Sri Murugan Knits"})"});
    updates.comments.push_back({"rec-1", "turnover looks ten times too high; please check", 1795000300});
    out.push_back(updates);

    ChunkQuery query{s.device.publicKey, 1795000400, {bytesOf(32, 1), bytesOf(32, 2)}, {}};
    query.signature = sign(signingBytes(query));
    out.push_back(query);

    out.push_back(ChunkQueryReply{{true, false, true, true, false, false, false, false, true}});

    ChunkUpload chunk{s.device.publicKey, 1795000500, bytesOf(1000, 9), {}};
    chunk.signature = sign(signingBytes(chunk));
    out.push_back(chunk);

    AttachmentCommit commit{s.device.publicKey, 1795000600, "rec-1", "photo-1", "image/jpeg", 70000,
                            {bytesOf(32, 4), bytesOf(32, 5)}, {}};
    commit.signature = sign(signingBytes(commit));
    out.push_back(commit);

    out.push_back(Bundle{"Tab 3 (Priya)", 1795000700, {batch, batch}});

    Receipt receipt{"Tamil Nadu MSME baseline", 1795000800, {}};
    receipt.entries.push_back({"rec-1", std::string(64, 'a'), {AckStatus::Duplicate, RefusalReason::None, ""}});
    receipt.signature = sign(signingBytes(receipt));
    out.push_back(receipt);

    out.push_back(Ok{});
    return out;
}

// A frame around a body we wrote by hand (cereal's byte-order mark included by the caller).
inline std::vector<uint8_t> frameAround(MessageType type, const std::vector<uint8_t>& body,
                                        uint16_t version = kProtocolVersion) {
    std::vector<uint8_t> frame{'C', 'K', 'S', 'P', uint8_t(version & 0xff), uint8_t(version >> 8), uint8_t(type)};
    std::vector<uint8_t> packed(ZSTD_compressBound(body.size()));
    const size_t n = ZSTD_compress(packed.data(), packed.size(), body.data(), body.size(), 3);
    packed.resize(n);
    frame.insert(frame.end(), packed.begin(), packed.end());
    return frame;
}

}  // namespace ck::proto::test
