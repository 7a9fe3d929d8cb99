#pragma once
// The sync wire format: the only place that knows it. The field app's sync client, the
// headless field client, bundle files and the aggregator all take their bytes from here.
//
// A frame is what travels in one HTTP body or one bundle file:
//   "CKSP"  (4 bytes)
//   u16 protocol version, little-endian (kProtocolVersion)
//   u8  MessageType
//   zstd frame holding the message in cereal portable binary
// The version and type stand in clear ahead of the compressed part, so a peer of another
// version is told so (ErrorCode::WrongProtocolVersion) before anything is decompressed.
// Inside, cereal carries the primitives (integers little-endian, sentAt and other times as 8
// bytes); every length and count is an LEB128 varint (cereal's own sizes take 8 bytes each),
// fields in declaration order, flags one byte 0/1, ChunkQueryReply::have packed 8 to a byte.
// encodeFrame's zstd frames declare their content size and carry zstd's checksum (damage is
// caught before the message is read); frames without a declared size are read as well.
//
// decodeFrame never throws, never decompresses more than kMaxDecodedBytes (a zstd bomb is
// refused, not expanded) and refuses trailing bytes; every message's fields are then checked
// against the limits below (key and signature sizes, hash sizes, counts, string lengths).
//
// Signatures. Every request a device makes is signed with its Ed25519 device key over
// signingBytes(message): a domain string naming the message kind, then the message's fields
// (not its signature) in a fixed little-endian, length-prefixed layout (core/crypto/wire_format.h:
// integers u32/u64, strings and bytes as a u32 length and the bytes). Two fields enter as a
// BLAKE2b-256 digest instead of their bytes: an UploadBatch's envelopes (one digest over all
// ten fields of each envelope, in batch order, after the envelope count) and a ChunkUpload's
// data (its size and chunkHash). Each envelope keeps its own signature too
// (core/crypto/envelope.h), so a stored record stays signed by its device on its own, away
// from the batch it came in.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/crypto/envelope.h"

namespace ck::proto {

inline constexpr uint16_t kProtocolVersion = 1;
inline constexpr size_t kMaxFrameBytes = 16u * 1024 * 1024;    // compressed, as sent
inline constexpr size_t kMaxDecodedBytes = 64u * 1024 * 1024;  // after zstd
inline constexpr size_t kMaxBatchRecords = 1000;
inline constexpr size_t kMaxChunkBytes = 256u * 1024;
inline constexpr size_t kChunkBytes = 64u * 1024;  // what the client cuts attachments into

enum class MessageType : uint8_t {
    Error = 1,
    EnrolRequest = 2,
    EnrolReply = 3,
    UploadBatch = 4,
    UploadReply = 5,
    UpdatesRequest = 6,
    Updates = 7,
    ChunkQuery = 8,
    ChunkQueryReply = 9,
    ChunkUpload = 10,
    AttachmentCommit = 11,
    Bundle = 12,
    Receipt = 13,
    Ok = 14,
};
const char* messageTypeName(MessageType type);

// Every refusal has its own code; the HTTP status the server uses is httpStatus(code).
enum class ErrorCode : uint8_t {
    WrongProtocolVersion = 1,  // 400: "this device speaks version 2, the aggregator 1: update ..."
    MalformedBody,             // 400
    BodyTooLarge,              // 413
    UnknownDevice,             // 401: never enrolled here
    RevokedDevice,             // 403
    BadSignature,              // 401: the request's signature does not verify
    StaleRequest,              // 401: signed more than kMaxClockSkewSeconds away from the server's clock
    EnrolmentCodeUnknown,      // 404
    EnrolmentCodeExpired,      // 410
    EnrolmentCodeUsed,         // 409: replayed
    RateLimited,               // 429, with retryAfterSeconds
    UnknownAttachment,         // 404
    ServerBusy,                // 503, with retryAfterSeconds (storage locked, shutting down)
    ServerError,               // 500
    NotFound,                  // 404: no such endpoint
    Unauthorised,              // 401: report token missing or wrong
};
const char* errorCodeName(ErrorCode code);
int httpStatus(ErrorCode code);
inline constexpr int64_t kMaxClockSkewSeconds = 15 * 60;

struct ErrorReply {
    ErrorCode code = ErrorCode::ServerError;
    std::string message;  // English, for the officer or operator: what happened and what to do
    uint32_t retryAfterSeconds = 0;
    bool operator==(const ErrorReply&) const = default;
};

// --- enrolment ---
struct EnrolRequest {
    std::string code;                      // one-time code the operator gave the officer
    std::vector<uint8_t> devicePublicKey;  // Ed25519, 32
    std::string deviceLabel;               // e.g. "Tab 3 (Priya)"; shown in `devices list`
    int64_t sentAt = 0;                    // unix seconds
    std::vector<uint8_t> signature;        // by the device key: proves it holds the key
    bool operator==(const EnrolRequest&) const = default;
};
struct EnrolReply {
    std::string deviceId;                           // the aggregator's name for this device
    std::string officer;
    std::string cluster;
    std::string aggregatorName;                     // e.g. "Tamil Nadu MSME baseline"
    std::vector<uint8_t> ingestPublicKey;           // X25519, 32: the device seals records to it
    std::vector<uint8_t> templateSigningPublicKey;  // Ed25519, 32: templates must verify under it
    bool operator==(const EnrolReply&) const = default;
};

// --- upload ---
// An envelope as it travels in a batch: the device key is the batch's, hashes are raw bytes.
// The hashes that can be recomputed are left out (32 bytes each, incompressible): mainHash
// always (the aggregator hashes the record it opens, see openEnvelope in core/crypto), and
// contentHash when it equals mainHash (no personal part). The signature covers them all the
// same, so a wrong fill is a bad signature.
struct WireEnvelope {
    uint32_t format = kEnvelopeFormat;  // SealedEnvelope::format (1: plain, 2: compressed record)
    std::string recordId;
    std::string parentId;
    std::string templateId;
    std::string templateVersion;
    std::vector<uint8_t> mainHash;     // 32, or empty: left out
    std::vector<uint8_t> contentHash;  // 32, or empty: same as mainHash
    std::vector<uint8_t> sealedRecord;
    std::vector<uint8_t> sealedPersonal;
    std::vector<uint8_t> signature;  // the envelope's own, 64
    bool operator==(const WireEnvelope&) const = default;
};
WireEnvelope toWire(const SealedEnvelope& envelope);
// Back to the envelope the device signed, with devicePublicKey filled in. Hashes left out
// come back empty (contentHash as mainHash when only it was sent): openEnvelope fills them
// from the record and only then verifies, so verifyEnvelope alone fails on such an envelope.
// nullopt when a hash is neither empty nor 32 bytes, the signature not 64 bytes, the key not
// 32 bytes or the format unknown.
std::optional<SealedEnvelope> fromWire(const WireEnvelope& wire, const std::vector<uint8_t>& devicePublicKey);

struct UploadBatch {
    std::vector<uint8_t> devicePublicKey;  // 32
    int64_t sentAt = 0;
    std::vector<WireEnvelope> envelopes;  // at most kMaxBatchRecords
    std::vector<uint8_t> signature;       // over signingBytes(batch)
    bool operator==(const UploadBatch&) const = default;
};

enum class AckStatus : uint8_t {
    Stored = 1,     // new: stored now
    Duplicate = 2,  // same id and content hash already stored: a resend
    Refused = 3,    // see reason
};
enum class RefusalReason : uint8_t {
    None = 0,
    Conflict,          // same id, different content
    UnknownTemplate,   // the template id/version was never published here
    BadSignature,      // the envelope's signature does not verify, or another device signed it
    CannotOpen,        // not sealed to this aggregator's ingest key (or damaged)
    BadContent,        // opens, but is not the record its header names
};
// A refusal reason's stable name ("conflict", "unknown_template", "bad_signature",
// "cannot_open", "bad_content"; "" for None): what the field app keeps with a refused visit, so
// it can word the reason in the officer's language long after the sync.
const char* refusalReasonName(RefusalReason reason);
// The reason a name stands for; nullopt for "" or a name this version does not know.
std::optional<RefusalReason> refusalReasonFromName(std::string_view name);

struct RecordAck {
    AckStatus status = AckStatus::Stored;
    RefusalReason reason = RefusalReason::None;
    std::string message;  // Refused only: English, for the officer ("... was already received with different answers ...")
    bool operator==(const RecordAck&) const = default;
};
// One acknowledgement per envelope, in the batch's order.
struct UploadReply {
    std::vector<RecordAck> acks;
    bool operator==(const UploadReply&) const = default;
};

// --- updates since the device's cursor ---
struct UpdatesRequest {
    std::vector<uint8_t> devicePublicKey;
    uint64_t cursor = 0;  // 0: from the beginning
    int64_t sentAt = 0;
    std::vector<uint8_t> signature;
    bool operator==(const UpdatesRequest&) const = default;
};
struct SignedTemplate {
    std::string templateId;
    std::string version;
    std::string jsonText;
    std::vector<uint8_t> signature;  // Ed25519 by the template signing key over templateSigningBytes()
    bool operator==(const SignedTemplate&) const = default;
};
struct Assignment {
    std::string unitId;
    std::string json;  // {"unit_id","name","cluster","district","state","stratum",...}
    bool operator==(const Assignment&) const = default;
};
struct ReviewComment {
    std::string recordId;
    std::string text;
    int64_t at = 0;
    bool operator==(const ReviewComment&) const = default;
};
struct Updates {
    uint64_t cursor = 0;  // pass it back next time
    bool more = false;    // there is more after this cursor: ask again
    std::vector<SignedTemplate> templates;
    std::vector<Assignment> assignments;
    std::vector<ReviewComment> comments;
    bool operator==(const Updates&) const = default;
};

// --- attachments: content-addressed chunks, resumable ---
// An attachment is sealed whole (to the custodian key when the device has one, else to the
// ingest key), then cut into chunks of kChunkBytes; each chunk is named by BLAKE2b-256 of its
// bytes. The client asks which chunks the aggregator already has, sends the rest, then
// commits the list. A cut connection resumes from the first missing chunk.
struct ChunkQuery {
    std::vector<uint8_t> devicePublicKey;
    int64_t sentAt = 0;
    std::vector<std::vector<uint8_t>> hashes;  // each 32
    std::vector<uint8_t> signature;
    bool operator==(const ChunkQuery&) const = default;
};
struct ChunkQueryReply {
    std::vector<bool> have;  // parallel to the query's hashes
    bool operator==(const ChunkQueryReply&) const = default;
};
struct ChunkUpload {
    std::vector<uint8_t> devicePublicKey;
    int64_t sentAt = 0;
    std::vector<uint8_t> data;  // at most kMaxChunkBytes; the aggregator names it by its hash
    std::vector<uint8_t> signature;
    bool operator==(const ChunkUpload&) const = default;
};
struct AttachmentCommit {
    std::vector<uint8_t> devicePublicKey;
    int64_t sentAt = 0;
    std::string recordId;  // the finished visit it belongs to
    std::string attachmentId;
    std::string mediaType;
    uint64_t totalBytes = 0;
    std::vector<std::vector<uint8_t>> chunkHashes;  // in order
    std::vector<uint8_t> signature;
    bool operator==(const AttachmentCommit&) const = default;
};
struct Ok {
    bool operator==(const Ok&) const = default;
};

// --- offline transfer ---
// A bundle file: the same signed, sealed batches a device would upload, for a USB stick.
struct Bundle {
    std::string createdBy;  // device label, for the operator
    int64_t createdAt = 0;
    std::vector<UploadBatch> batches;
    bool operator==(const Bundle&) const = default;
};
// What `import` writes back for the device: one line per record, so the officer's outbox can
// be acknowledged from a stick as well.
struct ReceiptEntry {
    std::string recordId;
    std::string contentHash;  // 64 lowercase hex, as in the outbox; empty when the aggregator
                              // could not open the record to learn it (hashes travel left out)
    RecordAck ack;
    bool operator==(const ReceiptEntry&) const = default;
};
// Signed by the aggregator's template signing key (the Ed25519 key every enrolled device has
// pinned), so a receipt made by anyone else cannot acknowledge a device's visits.
struct Receipt {
    std::string aggregatorName;
    int64_t createdAt = 0;
    std::vector<ReceiptEntry> entries;
    std::vector<uint8_t> signature;  // 64, over signingBytes(receipt)
    bool operator==(const Receipt&) const = default;
};

using Message = std::variant<ErrorReply, EnrolRequest, EnrolReply, UploadBatch, UploadReply, UpdatesRequest,
                             Updates, ChunkQuery, ChunkQueryReply, ChunkUpload, AttachmentCommit, Bundle,
                             Receipt, Ok>;
MessageType messageType(const Message& message);

std::vector<uint8_t> encodeFrame(const Message& message);

enum class FrameError : uint8_t { NotAFrame, WrongVersion, UnknownType, TooLarge, Malformed };
struct FrameFailure {
    FrameError error;
    uint16_t peerVersion = 0;  // WrongVersion: what the peer speaks
    std::string message;       // English, says what to do
};
// Out of memory while reading ends as TooLarge rather than an exception.
std::variant<Message, FrameFailure> decodeFrame(const uint8_t* data, size_t size);
inline std::variant<Message, FrameFailure> decodeFrame(const std::vector<uint8_t>& bytes) {
    return decodeFrame(bytes.data(), bytes.size());
}
// The ErrorReply a server sends for a frame it could not decode.
ErrorReply errorFor(const FrameFailure& failure);

// What each signature covers (see the top of this file).
std::vector<uint8_t> signingBytes(const EnrolRequest& m);
std::vector<uint8_t> signingBytes(const UploadBatch& m);
std::vector<uint8_t> signingBytes(const UpdatesRequest& m);
std::vector<uint8_t> signingBytes(const ChunkQuery& m);
std::vector<uint8_t> signingBytes(const ChunkUpload& m);
std::vector<uint8_t> signingBytes(const AttachmentCommit& m);
std::vector<uint8_t> signingBytes(const Receipt& m);
std::vector<uint8_t> templateSigningBytes(std::string_view templateId, std::string_view version,
                                          std::string_view jsonText);
// Who signs a device's requests: the field app passes its store (the key never leaves it),
// tests and tools may pass signerFor(secretKey).
using Signer = std::function<std::vector<uint8_t>(const std::vector<uint8_t>& bytes)>;
Signer signerFor(const SecretBytes& ed25519SecretKey);  // keeps a reference: the key must outlive it
// Ed25519 detached signature check; false for wrong sizes.
bool verifySignature(const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& signature,
                     const std::vector<uint8_t>& publicKey);

// BLAKE2b-256 of a chunk (its name).
std::vector<uint8_t> chunkHash(const uint8_t* data, size_t size);

// The TLS public-key pin both sides compute from a DER SubjectPublicKeyInfo:
// "sha256//" + base64(SHA-256(derSpki)), libcurl's CURLOPT_PINNEDPUBLICKEY format (key_pin.cpp).
std::string publicKeyPin(const std::vector<uint8_t>& derSpki);

}  // namespace ck::proto
