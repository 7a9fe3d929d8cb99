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
//
// decodeFrame never throws, never decompresses more than kMaxDecodedBytes (a zstd bomb is
// refused, not expanded) and refuses trailing bytes; every message's fields are then checked
// against the limits below (key and signature sizes, hash sizes, counts, string lengths).
//
// Signatures. Every request a device makes is signed with its Ed25519 device key over
// signingBytes(message): a domain string naming the message kind, then the message's fields
// (not its signature) in a fixed little-endian, length-prefixed layout. Each envelope keeps
// its own signature too (core/crypto/envelope.h), so a stored record stays signed by its
// device on its own, away from the batch it came in.
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
};

// --- enrolment ---
struct EnrolRequest {
    std::string code;                      // one-time code the operator gave the officer
    std::vector<uint8_t> devicePublicKey;  // Ed25519, 32
    std::string deviceLabel;               // e.g. "Tab 3 (Priya)"; shown in `devices list`
    int64_t sentAt = 0;                    // unix seconds
    std::vector<uint8_t> signature;        // by the device key: proves it holds the key
};
struct EnrolReply {
    std::string deviceId;                           // the aggregator's name for this device
    std::string officer;
    std::string cluster;
    std::string aggregatorName;                     // e.g. "Tamil Nadu MSME baseline"
    std::vector<uint8_t> ingestPublicKey;           // X25519, 32: the device seals records to it
    std::vector<uint8_t> templateSigningPublicKey;  // Ed25519, 32: templates must verify under it
};

// --- upload ---
// An envelope as it travels in a batch: the device key is the batch's, hashes are raw bytes,
// and contentHash is left out when it equals mainHash (no personal part).
struct WireEnvelope {
    std::string recordId;
    std::string parentId;
    std::string templateId;
    std::string templateVersion;
    std::vector<uint8_t> mainHash;     // 32
    std::vector<uint8_t> contentHash;  // 32, or empty: same as mainHash
    std::vector<uint8_t> sealedRecord;
    std::vector<uint8_t> sealedPersonal;
    std::vector<uint8_t> signature;  // the envelope's own, 64
};
WireEnvelope toWire(const SealedEnvelope& envelope);
// Back to the envelope the device signed (format 1, with devicePublicKey filled in).
// nullopt when the hashes are not 32 bytes or the signature not 64.
std::optional<SealedEnvelope> fromWire(const WireEnvelope& wire, const std::vector<uint8_t>& devicePublicKey);

struct UploadBatch {
    std::vector<uint8_t> devicePublicKey;  // 32
    int64_t sentAt = 0;
    std::vector<WireEnvelope> envelopes;  // at most kMaxBatchRecords
    std::vector<uint8_t> signature;       // over signingBytes(batch)
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
struct RecordAck {
    AckStatus status = AckStatus::Stored;
    RefusalReason reason = RefusalReason::None;
    std::string message;  // Refused only: English, for the officer ("... was already received with different answers ...")
};
// One acknowledgement per envelope, in the batch's order.
struct UploadReply {
    std::vector<RecordAck> acks;
};

// --- updates since the device's cursor ---
struct UpdatesRequest {
    std::vector<uint8_t> devicePublicKey;
    uint64_t cursor = 0;  // 0: from the beginning
    int64_t sentAt = 0;
    std::vector<uint8_t> signature;
};
struct SignedTemplate {
    std::string templateId;
    std::string version;
    std::string jsonText;
    std::vector<uint8_t> signature;  // Ed25519 by the template signing key over templateSigningBytes()
};
struct Assignment {
    std::string unitId;
    std::string json;  // {"unit_id","name","cluster","district","state","stratum",...}
};
struct ReviewComment {
    std::string recordId;
    std::string text;
    int64_t at = 0;
};
struct Updates {
    uint64_t cursor = 0;  // pass it back next time
    bool more = false;    // there is more after this cursor: ask again
    std::vector<SignedTemplate> templates;
    std::vector<Assignment> assignments;
    std::vector<ReviewComment> comments;
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
};
struct ChunkQueryReply {
    std::vector<bool> have;  // parallel to the query's hashes
};
struct ChunkUpload {
    std::vector<uint8_t> devicePublicKey;
    int64_t sentAt = 0;
    std::vector<uint8_t> data;  // at most kMaxChunkBytes; the aggregator names it by its hash
    std::vector<uint8_t> signature;
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
};
struct Ok {};

// --- offline transfer ---
// A bundle file: the same signed, sealed batches a device would upload, for a USB stick.
struct Bundle {
    std::string createdBy;  // device label, for the operator
    int64_t createdAt = 0;
    std::vector<UploadBatch> batches;
};
// What `import` writes back for the device: one line per record, so the officer's outbox can
// be acknowledged from a stick as well.
struct ReceiptEntry {
    std::string recordId;
    std::string contentHash;  // hex, as in the outbox
    RecordAck ack;
};
struct Receipt {
    std::string aggregatorName;
    int64_t createdAt = 0;
    std::vector<ReceiptEntry> entries;
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

}  // namespace ck::proto
