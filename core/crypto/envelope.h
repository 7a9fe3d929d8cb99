#pragma once
// The SealedEnvelope: a finished record on its way to the aggregator. The record is sealed to
// the aggregator's X25519 public key (crypto_box_seal: only the aggregator can open it), and
// the envelope is signed by the device's Ed25519 key (the aggregator knows who sent it and
// that nothing changed). Personal fields can be sealed separately to a custodian key.
//
// Hashes. Let M be serializeRecord(main record) and P serializeRecord(personal record), or
// nothing when there is no personal part.
//   mainHash    = BLAKE2b-256(M), hex: what the aggregator can recompute and checks on open.
//   contentHash = BLAKE2b-256(M || P), hex: the identity of the whole finished visit (the
//                 outbox keeps it; duplicates are recognised by it). Without a personal part
//                 it equals mainHash, and openEnvelope checks that too.
// M || P splits only one way because mainHash (signed) pins M. With a personal part, only a
// holder of both parts can recompute contentHash; the aggregator trusts it through the
// signature, as it trusts the header. The custodian's part is protected by the signature
// over sealedPersonal and by the seal's own MAC.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/crypto/secret_bytes.h"
#include "core/record/record.h"

namespace ck {

// Format 2 (what sealEnvelope writes) compresses each record with zstd before sealing, using
// the template's record dictionary (recordDictionary() in core/template) so question ids and
// choice names cost a byte or two each: a ten-question visit seals to about 290 bytes instead
// of 510. Format 1 (uncompressed) still verifies and opens.
inline constexpr uint32_t kEnvelopeFormat = 2;

struct SealedEnvelope {
    uint32_t format = kEnvelopeFormat;
    std::string recordId;
    std::string parentId;             // a correction names the record it replaces
    std::string templateId;
    std::string templateVersion;
    std::string contentHash;          // BLAKE2b-256 hex of M || P (see above)
    std::string mainHash;             // BLAKE2b-256 hex of M (see above)
    std::vector<uint8_t> sealedRecord;  // crypto_box_seal(record without personal fields, aggregator key)
    std::vector<uint8_t> sealedPersonal;  // crypto_box_seal(personal fields, custodian key); empty if none / no custodian
    std::vector<uint8_t> devicePublicKey;  // Ed25519, 32 bytes
    std::vector<uint8_t> signature;        // Ed25519 over signedBytes()
    // Everything above but the signature, in a fixed encoding: a domain string
    // ("clusterkit/envelope/signed\0"), then the fields in declaration order, integers u32
    // little-endian, strings and byte fields each as a u32 length and the bytes.
    std::vector<uint8_t> signedBytes() const;
    bool operator==(const SealedEnvelope&) const = default;
};

// Largest encoded envelope decodeEnvelope reads: two sealed records at the record limit.
inline constexpr size_t kMaxEnvelopeBytes = 2 * kMaxRecordBytes + 64 * 1024;

// Format 1: "CKEV", then the fields as in signedBytes() (without its domain string), then the
// signature. decode returns nullopt for anything else: unknown format, a length out of bounds,
// keys or signature of the wrong size, hashes that are not 64 lowercase hex digits, trailing
// bytes. It never throws and never allocates more than the input's size. A decoded envelope
// still has to pass verifyEnvelope.
std::vector<uint8_t> encodeEnvelope(const SealedEnvelope& envelope);
std::optional<SealedEnvelope> decodeEnvelope(const std::vector<uint8_t>& bytes);

struct SealInput {
    const Record* record = nullptr;
    std::vector<std::string> personalFields;  // question ids the template marks pii
    std::vector<uint8_t> aggregatorPublicKey;  // X25519, 32 bytes
    std::vector<uint8_t> custodianPublicKey;   // X25519, 32 bytes; empty: personal fields stay in the record
    const SecretBytes* signingSecretKey = nullptr;  // UnlockedVault::signingSecretKey (64 bytes)
    std::vector<uint8_t> signingPublicKey;          // UnlockedVault::signingPublicKey (32 bytes)
    // The zstd dictionary both ends derive from the template (recordDictionary()); empty: none.
    // The aggregator must open with the same one, so it is never sent.
    std::string_view dictionary;
};
// Seals and signs. With a custodian key, the personal answers move out of the record into
// sealedPersonal; without one they stay in sealedRecord (sealed to the aggregator all the same).
// A personal answer inside a repeat moves into a repeat of the same id in the personal record,
// with as many instances as the original (an instance without personal answers stays empty),
// so instance i in one record is instance i in the other. The personal record carries the
// same id, template, version, parent and timestamps. When no answer is personal,
// sealedPersonal stays empty.
// Null pointers assert. Throws std::invalid_argument when a key has the wrong size or is not
// a usable X25519 key, or the serialised record exceeds kMaxRecordBytes: finalising cannot go on.
SealedEnvelope sealEnvelope(const SealInput& input);

enum class EnvelopeError : uint8_t {
    BadSignature,  // not signed by devicePublicKey over these bytes (or a malformed envelope)
    CannotOpen,    // the seal does not open with the key given (wrong key, or damaged)
    BadContent,    // the sealed bytes are not a record, or not the record the header names
    HashMismatch,  // the record is not the one the signed hashes name
};
struct OpenedEnvelope {
    Record record;  // without personal fields when they were sealed apart
};
// The largest record a format-2 envelope may decompress to (a hostile envelope cannot make
// the aggregator allocate more).
inline constexpr size_t kMaxOpenedRecordBytes = kMaxRecordBytes;
// Signature check only (what the aggregator does before anything else).
bool verifyEnvelope(const SealedEnvelope& envelope);
// Verifies, opens sealedRecord with the aggregator's X25519 key pair, checks that the record's
// id, parent, template and version are the header's and that its hash is mainHash.
// `dictionary`: the one the device sealed with (recordDictionary() of the header's template).
// An envelope that came over the wire without its hashes (mainHash empty; contentHash empty
// meaning "same as mainHash", see sync/protocol) has them filled in from the opened record
// first, and is then verified: the signature covers them all the same.
// `mainBytesOut`, when given, receives the opened main part as it was sealed (serialised, no
// personal answers), whose hash is mainHash; the caller wipes it. With it, `answers` false
// leaves the record's answers unread (the record comes back with its header only): the
// aggregator reads them from those bytes straight into the session that checks them, and
// compares its own serialisation with them to know the stored record's hash.
std::variant<OpenedEnvelope, EnvelopeError> openEnvelope(SealedEnvelope& envelope,
                                                         const std::vector<uint8_t>& aggregatorPublicKey,
                                                         const SecretBytes& aggregatorSecretKey,
                                                         std::string_view dictionary = {},
                                                         std::string* mainBytesOut = nullptr, bool answers = true);
inline std::variant<OpenedEnvelope, EnvelopeError> openEnvelope(const SealedEnvelope& envelope,
                                                                const std::vector<uint8_t>& aggregatorPublicKey,
                                                                const SecretBytes& aggregatorSecretKey,
                                                                std::string_view dictionary = {}) {
    SealedEnvelope copy = envelope;
    return openEnvelope(copy, aggregatorPublicKey, aggregatorSecretKey, dictionary);
}
// The custodian's side: verifies, opens sealedPersonal with the custodian's key pair, checks the
// header fields as above. CannotOpen when the envelope has no personal part.
std::variant<Record, EnvelopeError> openPersonal(const SealedEnvelope& envelope,
                                                 const std::vector<uint8_t>& custodianPublicKey,
                                                 const SecretBytes& custodianSecretKey,
                                                 std::string_view dictionary = {});

struct BoxKeyPair {
    std::vector<uint8_t> publicKey;  // X25519, 32 bytes
    SecretBytes secretKey;           // 32 bytes
};
BoxKeyPair newBoxKeyPair();
// A short fingerprint for people to compare: BLAKE2b-128 of the key, 8 groups of 4 lowercase
// hex digits separated by spaces ("3f2a 9c01 ... 77d0", 39 characters).
std::string keyFingerprint(const std::vector<uint8_t>& publicKey);

}  // namespace ck
