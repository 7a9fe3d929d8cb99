#include "sync/protocol/messages.h"

#include <algorithm>
#include <cstring>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <streambuf>

#include <cereal/archives/portable_binary.hpp>
#include <sodium.h>
#include <zstd.h>

#include "core/crypto/wire_format.h"

namespace ck::proto {

namespace {

constexpr char kMagic[4] = {'C', 'K', 'S', 'P'};
constexpr size_t kHeaderBytes = 7;  // magic, u16 version, u8 type
constexpr int kZstdLevel = 3;
// Our own frames use a window of at most 2 MiB (level 3); 8 MiB leaves room and keeps a
// hostile frame from making the decoder reserve a huge window.
constexpr int kZstdWindowLogMax = 23;

constexpr size_t kKeyBytes = 32;
constexpr size_t kSignatureBytes = 64;
constexpr size_t kHashBytes = 32;
constexpr size_t kSealBytes = crypto_box_SEALBYTES;
constexpr size_t kMaxSealedBytes = kMaxRecordBytes + crypto_box_SEALBYTES;
// Ids, labels, messages, assignment rows: far above any real one, low enough to bound input.
constexpr size_t kMaxText = 64u * 1024;
// Record, attachment and template ids and versions: what newRecordId() and a template make
// is far shorter. Every refusal and audit row repeats an id, so a longer one is refused with
// the whole frame, before it can be written anywhere (1,000 ids of 64 KiB each would be 64 MB).
constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxTemplateJson = 16u * 1024 * 1024;
// List lengths beyond those the byte count already bounds: each item of these lists can be
// a few bytes on the wire but a hundred in memory, so they get a cap of their own.
constexpr size_t kMaxListItems = 100'000;      // templates, assignments, comments, chunk hashes
constexpr size_t kMaxReceiptEntries = 500'000;  // a receipt answers a whole bundle
constexpr size_t kHashHexChars = 64;

// Domain strings: the NUL is part of each, so no field can run into it, and a signature made
// for one kind of request can never pass for another.
constexpr std::string_view kEnrolDomain{"clusterkit/enrol/v1\0", 20};
constexpr std::string_view kUploadDomain{"clusterkit/upload/v1\0", 21};
constexpr std::string_view kUpdatesDomain{"clusterkit/updates/v1\0", 22};
constexpr std::string_view kChunkQueryDomain{"clusterkit/chunk-query/v1\0", 26};
constexpr std::string_view kChunkDomain{"clusterkit/chunk/v1\0", 20};
constexpr std::string_view kCommitDomain{"clusterkit/attachment-commit/v1\0", 32};
constexpr std::string_view kTemplateDomain{"clusterkit/template/v1\0", 23};
constexpr std::string_view kReceiptDomain{"clusterkit/receipt/v1\0", 22};

// ---------------------------------------------------------------------------------------
// Serialisation. cereal's portable binary archive carries the primitives (little-endian on
// the wire whatever the host); lengths and counts are our own LEB128 varints instead of
// cereal's 8-byte sizes, so a 36-character id costs 37 bytes, not 44.

// Appends what cereal writes straight into the output vector.
class VectorSink : public std::streambuf {
public:
    explicit VectorSink(std::vector<uint8_t>& out) : m_out(out) {}

protected:
    int_type overflow(int_type c) override {
        if (c != traits_type::eof()) m_out.push_back(static_cast<uint8_t>(c));
        return traits_type::not_eof(c);
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        m_out.insert(m_out.end(), reinterpret_cast<const uint8_t*>(s), reinterpret_cast<const uint8_t*>(s) + n);
        return n;
    }

private:
    std::vector<uint8_t>& m_out;
};

// Reads the decoded bytes in place (no copy of a 64 MiB batch).
class MemorySource : public std::streambuf {
public:
    MemorySource(const uint8_t* data, size_t size) {
        char* p = const_cast<char*>(reinterpret_cast<const char*>(data));
        setg(p, p, p + size);
    }
};

class Out {
public:
    explicit Out(std::vector<uint8_t>& out) : m_sink(out), m_stream(&m_sink), m_ar(m_stream) {}
    void u8(uint8_t v) { m_ar(v); }
    void i64(int64_t v) { m_ar(v); }
    void flag(bool v) { u8(v ? 1 : 0); }
    void varint(uint64_t v) {
        while (v >= 0x80) {
            u8(static_cast<uint8_t>(v | 0x80));
            v >>= 7;
        }
        u8(static_cast<uint8_t>(v));
    }
    void bytes(const std::vector<uint8_t>& v) {
        varint(v.size());
        if (!v.empty()) m_ar(cereal::binary_data(v.data(), v.size()));
    }
    void text(const std::string& s) {
        varint(s.size());
        if (!s.empty()) m_ar(cereal::binary_data(s.data(), s.size()));
    }

private:
    VectorSink m_sink;
    std::ostream m_stream;
    cereal::PortableBinaryOutputArchive m_ar;
};

// A refusal while reading: says which field was wrong, never echoes its bytes.
struct DecodeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Every length and count is checked against the bytes that are left (and its own cap)
// before anything is allocated, so a hostile count ends the read, not the process.
class In {
public:
    In(const uint8_t* data, size_t size)
        : m_source(data, size), m_stream(&m_source), m_size(size), m_ar(m_stream) {
        m_pos = 1;  // the archive's endianness byte, read by its constructor
    }
    uint8_t u8() {
        uint8_t v = 0;
        m_ar(v);
        m_pos += 1;
        return v;
    }
    int64_t i64() {
        int64_t v = 0;
        m_ar(v);
        m_pos += 8;
        return v;
    }
    bool flag(const char* what) {
        const uint8_t v = u8();
        if (v > 1) throw DecodeError(std::string(what) + " is neither true nor false");
        return v == 1;
    }
    uint64_t varint(const char* what) {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const uint8_t b = u8();
            if (shift == 63 && b > 1) break;
            v |= uint64_t(b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                // One encoding per number: a trailing zero byte would be a second one.
                if (b == 0 && shift != 0) break;
                return v;
            }
        }
        throw DecodeError(std::string("a number in ") + what + " is badly encoded");
    }
    size_t count(const char* what, size_t minBytesEach, size_t maxCount) {
        const uint64_t n = varint(what);
        if (n > maxCount) throw DecodeError(std::string(what) + " has more items than allowed");
        if (n > remaining() / std::max<size_t>(minBytesEach, 1)) {
            throw DecodeError(std::string(what) + " claims more items than the message holds");
        }
        return size_t(n);
    }
    void bytes(std::vector<uint8_t>& v, const char* what, size_t maxSize) {
        const size_t n = length(what, maxSize);
        v.resize(n);
        if (n != 0) read(v.data(), n);
    }
    // Exactly `size` bytes (a key, a hash, a signature).
    void fixed(std::vector<uint8_t>& v, const char* what, size_t size) {
        bytes(v, what, size);
        if (v.size() != size) {
            throw DecodeError(std::string(what) + " is " + std::to_string(v.size()) + " bytes, not " +
                              std::to_string(size));
        }
    }
    void text(std::string& s, const char* what, size_t maxSize) {
        const size_t n = length(what, maxSize);
        s.resize(n);
        if (n != 0) read(s.data(), n);
    }
    size_t remaining() const { return m_size - std::min(m_size, m_pos); }

private:
    size_t length(const char* what, size_t maxSize) {
        const uint64_t n = varint(what);
        if (n > maxSize) throw DecodeError(std::string(what) + " is longer than allowed");
        if (n > remaining()) throw DecodeError(std::string(what) + " runs past the end of the message");
        return size_t(n);
    }
    void read(void* out, size_t n) {
        m_ar(cereal::binary_data(out, n));
        m_pos += n;
    }
    MemorySource m_source;
    std::istream m_stream;
    size_t m_size;
    size_t m_pos = 0;
    cereal::PortableBinaryInputArchive m_ar;
};

void requireEnum(uint8_t value, uint8_t low, uint8_t high, const char* what) {
    if (value < low || value > high) throw DecodeError(std::string(what) + " has an unknown value");
}

void sealedPart(In& in, std::vector<uint8_t>& v, const char* what, bool mayBeEmpty) {
    in.bytes(v, what, kMaxSealedBytes);
    if (v.empty() && mayBeEmpty) return;
    if (v.size() < kSealBytes) throw DecodeError(std::string(what) + " is too short to be sealed");
}

// --- one put/get pair per message ---

void put(Out& o, const ErrorReply& m) {
    o.u8(static_cast<uint8_t>(m.code));
    o.text(m.message);
    o.varint(m.retryAfterSeconds);
}
void get(In& in, ErrorReply& m) {
    const uint8_t code = in.u8();
    requireEnum(code, 1, static_cast<uint8_t>(ErrorCode::Unauthorised), "the error code");
    m.code = static_cast<ErrorCode>(code);
    in.text(m.message, "the error message", kMaxText);
    const uint64_t retry = in.varint("the retry delay");
    if (retry > UINT32_MAX) throw DecodeError("the retry delay is out of range");
    m.retryAfterSeconds = static_cast<uint32_t>(retry);
}

void put(Out& o, const EnrolRequest& m) {
    o.text(m.code);
    o.bytes(m.devicePublicKey);
    o.text(m.deviceLabel);
    o.i64(m.sentAt);
    o.bytes(m.signature);
}
void get(In& in, EnrolRequest& m) {
    in.text(m.code, "the enrolment code", kMaxText);
    in.fixed(m.devicePublicKey, "the device key", kKeyBytes);
    in.text(m.deviceLabel, "the device label", kMaxText);
    m.sentAt = in.i64();
    in.fixed(m.signature, "the signature", kSignatureBytes);
}

void put(Out& o, const EnrolReply& m) {
    o.text(m.deviceId);
    o.text(m.officer);
    o.text(m.cluster);
    o.text(m.aggregatorName);
    o.bytes(m.ingestPublicKey);
    o.bytes(m.templateSigningPublicKey);
}
void get(In& in, EnrolReply& m) {
    in.text(m.deviceId, "the device id", kMaxText);
    in.text(m.officer, "the officer", kMaxText);
    in.text(m.cluster, "the cluster", kMaxText);
    in.text(m.aggregatorName, "the aggregator name", kMaxText);
    in.fixed(m.ingestPublicKey, "the ingest key", kKeyBytes);
    in.fixed(m.templateSigningPublicKey, "the template signing key", kKeyBytes);
}

bool knownEnvelopeFormat(uint64_t format) { return format == 1 || format == kEnvelopeFormat; }

void put(Out& o, const WireEnvelope& m) {
    o.varint(m.format);
    o.text(m.recordId);
    o.text(m.parentId);
    o.text(m.templateId);
    o.text(m.templateVersion);
    o.bytes(m.mainHash);
    o.bytes(m.contentHash);
    o.bytes(m.sealedRecord);
    o.bytes(m.sealedPersonal);
    o.bytes(m.signature);
}
// Smallest possible envelope on the wire: used to bound a declared count before reading.
constexpr size_t kMinWireEnvelope = 1 + 2 + 1 + 1 + 1 + 1 + 1 + (1 + kSealBytes) + 1 + (1 + kSignatureBytes);
void hashOrNothing(In& in, std::vector<uint8_t>& v, const char* what) {
    in.bytes(v, what, kHashBytes);
    if (!v.empty() && v.size() != kHashBytes) throw DecodeError(std::string(what) + " is neither 32 bytes nor left out");
}
void get(In& in, WireEnvelope& m) {
    const uint64_t format = in.varint("an envelope's format");
    if (!knownEnvelopeFormat(format)) throw DecodeError("an envelope's format is unknown");
    m.format = static_cast<uint32_t>(format);
    in.text(m.recordId, "a record id", kMaxIdBytes);
    if (m.recordId.empty()) throw DecodeError("a record id is empty");
    in.text(m.parentId, "a parent id", kMaxIdBytes);
    in.text(m.templateId, "a template id", kMaxIdBytes);
    in.text(m.templateVersion, "a template version", kMaxIdBytes);
    hashOrNothing(in, m.mainHash, "a record's main hash");
    hashOrNothing(in, m.contentHash, "a record's content hash");
    sealedPart(in, m.sealedRecord, "a sealed record", false);
    sealedPart(in, m.sealedPersonal, "a sealed personal part", true);
    in.fixed(m.signature, "a record's signature", kSignatureBytes);
}

void put(Out& o, const UploadBatch& m) {
    o.bytes(m.devicePublicKey);
    o.i64(m.sentAt);
    o.varint(m.envelopes.size());
    for (const auto& e : m.envelopes) put(o, e);
    o.bytes(m.signature);
}
constexpr size_t kMinUploadBatch = (1 + kKeyBytes) + 8 + 1 + (1 + kSignatureBytes);
void get(In& in, UploadBatch& m) {
    in.fixed(m.devicePublicKey, "the device key", kKeyBytes);
    m.sentAt = in.i64();
    const size_t n = in.count("the batch", kMinWireEnvelope, kMaxBatchRecords);
    m.envelopes.resize(n);
    for (auto& e : m.envelopes) get(in, e);
    in.fixed(m.signature, "the batch signature", kSignatureBytes);
}

void put(Out& o, const RecordAck& m) {
    o.u8(static_cast<uint8_t>(m.status));
    o.u8(static_cast<uint8_t>(m.reason));
    o.text(m.message);
}
void get(In& in, RecordAck& m) {
    const uint8_t status = in.u8();
    requireEnum(status, 1, static_cast<uint8_t>(AckStatus::Refused), "an acknowledgement's status");
    m.status = static_cast<AckStatus>(status);
    const uint8_t reason = in.u8();
    requireEnum(reason, 0, static_cast<uint8_t>(RefusalReason::BadContent), "a refusal reason");
    m.reason = static_cast<RefusalReason>(reason);
    in.text(m.message, "an acknowledgement's message", kMaxText);
}

void put(Out& o, const UploadReply& m) {
    o.varint(m.acks.size());
    for (const auto& a : m.acks) put(o, a);
}
void get(In& in, UploadReply& m) {
    m.acks.resize(in.count("the acknowledgements", 3, kMaxBatchRecords));
    for (auto& a : m.acks) get(in, a);
}

void put(Out& o, const UpdatesRequest& m) {
    o.bytes(m.devicePublicKey);
    o.varint(m.cursor);
    o.i64(m.sentAt);
    o.bytes(m.signature);
}
void get(In& in, UpdatesRequest& m) {
    in.fixed(m.devicePublicKey, "the device key", kKeyBytes);
    m.cursor = in.varint("the cursor");
    m.sentAt = in.i64();
    in.fixed(m.signature, "the signature", kSignatureBytes);
}

void put(Out& o, const Updates& m) {
    o.varint(m.cursor);
    o.flag(m.more);
    o.varint(m.templates.size());
    for (const auto& t : m.templates) {
        o.text(t.templateId);
        o.text(t.version);
        o.text(t.jsonText);
        o.bytes(t.signature);
    }
    o.varint(m.assignments.size());
    for (const auto& a : m.assignments) {
        o.text(a.unitId);
        o.text(a.json);
    }
    o.varint(m.comments.size());
    for (const auto& c : m.comments) {
        o.text(c.recordId);
        o.text(c.text);
        o.i64(c.at);
    }
}
void get(In& in, Updates& m) {
    m.cursor = in.varint("the cursor");
    m.more = in.flag("the 'more' flag");
    m.templates.resize(in.count("the templates", 3 + 1 + kSignatureBytes, kMaxListItems));
    for (auto& t : m.templates) {
        in.text(t.templateId, "a template id", kMaxText);
        in.text(t.version, "a template version", kMaxText);
        in.text(t.jsonText, "a template's JSON", kMaxTemplateJson);
        in.fixed(t.signature, "a template's signature", kSignatureBytes);
    }
    m.assignments.resize(in.count("the assignments", 2, kMaxListItems));
    for (auto& a : m.assignments) {
        in.text(a.unitId, "an assignment's unit id", kMaxText);
        in.text(a.json, "an assignment", kMaxText);
    }
    m.comments.resize(in.count("the review comments", 2 + 8, kMaxListItems));
    for (auto& c : m.comments) {
        in.text(c.recordId, "a comment's record id", kMaxText);
        in.text(c.text, "a comment", kMaxText);
        c.at = in.i64();
    }
}

void putHashes(Out& o, const std::vector<std::vector<uint8_t>>& hashes) {
    o.varint(hashes.size());
    for (const auto& h : hashes) o.bytes(h);
}
void getHashes(In& in, std::vector<std::vector<uint8_t>>& hashes, const char* what) {
    hashes.resize(in.count(what, 1 + kHashBytes, kMaxListItems));
    for (auto& h : hashes) in.fixed(h, "a chunk hash", kHashBytes);
}

void put(Out& o, const ChunkQuery& m) {
    o.bytes(m.devicePublicKey);
    o.i64(m.sentAt);
    putHashes(o, m.hashes);
    o.bytes(m.signature);
}
void get(In& in, ChunkQuery& m) {
    in.fixed(m.devicePublicKey, "the device key", kKeyBytes);
    m.sentAt = in.i64();
    getHashes(in, m.hashes, "the chunk list");
    in.fixed(m.signature, "the signature", kSignatureBytes);
}

// Eight flags to a byte, first flag in the lowest bit.
void put(Out& o, const ChunkQueryReply& m) {
    o.varint(m.have.size());
    uint8_t byte = 0;
    for (size_t i = 0; i < m.have.size(); ++i) {
        if (m.have[i]) byte |= uint8_t(1u << (i % 8));
        if (i % 8 == 7 || i + 1 == m.have.size()) {
            o.u8(byte);
            byte = 0;
        }
    }
}
void get(In& in, ChunkQueryReply& m) {
    const uint64_t n = in.varint("the chunk answers");
    if (n > kMaxListItems) throw DecodeError("the chunk answers have more items than allowed");
    if ((n + 7) / 8 > in.remaining()) throw DecodeError("the chunk answers run past the end of the message");
    m.have.resize(size_t(n));
    uint8_t byte = 0;
    for (size_t i = 0; i < n; ++i) {
        if (i % 8 == 0) byte = in.u8();
        m.have[i] = (byte >> (i % 8)) & 1u;
    }
    // Unused bits of the last byte must be zero: one encoding per answer.
    if (n % 8 != 0 && (byte >> (n % 8)) != 0) throw DecodeError("the chunk answers have stray bits");
}

void put(Out& o, const ChunkUpload& m) {
    o.bytes(m.devicePublicKey);
    o.i64(m.sentAt);
    o.bytes(m.data);
    o.bytes(m.signature);
}
void get(In& in, ChunkUpload& m) {
    in.fixed(m.devicePublicKey, "the device key", kKeyBytes);
    m.sentAt = in.i64();
    in.bytes(m.data, "the chunk", kMaxChunkBytes);
    if (m.data.empty()) throw DecodeError("the chunk is empty");
    in.fixed(m.signature, "the signature", kSignatureBytes);
}

void put(Out& o, const AttachmentCommit& m) {
    o.bytes(m.devicePublicKey);
    o.i64(m.sentAt);
    o.text(m.recordId);
    o.text(m.attachmentId);
    o.text(m.mediaType);
    o.varint(m.totalBytes);
    putHashes(o, m.chunkHashes);
    o.bytes(m.signature);
}
void get(In& in, AttachmentCommit& m) {
    in.fixed(m.devicePublicKey, "the device key", kKeyBytes);
    m.sentAt = in.i64();
    in.text(m.recordId, "the record id", kMaxIdBytes);
    in.text(m.attachmentId, "the attachment id", kMaxIdBytes);
    in.text(m.mediaType, "the media type", kMaxText);
    m.totalBytes = in.varint("the attachment size");
    getHashes(in, m.chunkHashes, "the chunk list");
    in.fixed(m.signature, "the signature", kSignatureBytes);
}

void put(Out& o, const Bundle& m) {
    o.text(m.createdBy);
    o.i64(m.createdAt);
    o.varint(m.batches.size());
    for (const auto& b : m.batches) put(o, b);
}
void get(In& in, Bundle& m) {
    in.text(m.createdBy, "the bundle's creator", kMaxText);
    m.createdAt = in.i64();
    m.batches.resize(in.count("the bundle", kMinUploadBatch, kMaxDecodedBytes));
    for (auto& b : m.batches) get(in, b);
}

bool isHashHex(const std::string& s) {
    return s.size() == kHashHexChars &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

void put(Out& o, const Receipt& m) {
    o.text(m.aggregatorName);
    o.i64(m.createdAt);
    o.varint(m.entries.size());
    for (const auto& e : m.entries) {
        o.text(e.recordId);
        o.text(e.contentHash);
        put(o, e.ack);
    }
    o.bytes(m.signature);
}
void get(In& in, Receipt& m) {
    in.text(m.aggregatorName, "the aggregator name", kMaxText);
    m.createdAt = in.i64();
    m.entries.resize(in.count("the receipt", 2 + 1 + 3, kMaxReceiptEntries));
    for (auto& e : m.entries) {
        in.text(e.recordId, "a receipt's record id", kMaxIdBytes);
        if (e.recordId.empty()) throw DecodeError("a receipt's record id is empty");
        in.text(e.contentHash, "a receipt's content hash", kHashHexChars);
        if (!e.contentHash.empty() && !isHashHex(e.contentHash)) {
            throw DecodeError("a receipt's content hash is not 64 hex digits");
        }
        get(in, e.ack);
    }
    in.fixed(m.signature, "the receipt's signature", kSignatureBytes);
}

void put(Out&, const Ok&) {}
void get(In&, Ok&) {}

template <typename T>
Message readBody(const uint8_t* data, size_t size) {
    In in(data, size);
    T m;
    get(in, m);
    if (in.remaining() != 0) throw DecodeError("there are bytes after the end of the message");
    return m;
}

Message readMessage(MessageType type, const uint8_t* d, size_t n) {
    // cereal's portable archive starts with its byte order; ours always writes little-endian,
    // and accepting the other would give one message two encodings.
    if (n == 0 || d[0] != 1) throw DecodeError("the body does not start with the expected byte order mark");
    switch (type) {
        case MessageType::Error: return readBody<ErrorReply>(d, n);
        case MessageType::EnrolRequest: return readBody<EnrolRequest>(d, n);
        case MessageType::EnrolReply: return readBody<EnrolReply>(d, n);
        case MessageType::UploadBatch: return readBody<UploadBatch>(d, n);
        case MessageType::UploadReply: return readBody<UploadReply>(d, n);
        case MessageType::UpdatesRequest: return readBody<UpdatesRequest>(d, n);
        case MessageType::Updates: return readBody<Updates>(d, n);
        case MessageType::ChunkQuery: return readBody<ChunkQuery>(d, n);
        case MessageType::ChunkQueryReply: return readBody<ChunkQueryReply>(d, n);
        case MessageType::ChunkUpload: return readBody<ChunkUpload>(d, n);
        case MessageType::AttachmentCommit: return readBody<AttachmentCommit>(d, n);
        case MessageType::Bundle: return readBody<Bundle>(d, n);
        case MessageType::Receipt: return readBody<Receipt>(d, n);
        case MessageType::Ok: return readBody<Ok>(d, n);
    }
    throw DecodeError("unknown message type");
}

bool isKnownType(uint8_t type) {
    return type >= static_cast<uint8_t>(MessageType::Error) && type <= static_cast<uint8_t>(MessageType::Ok);
}

FrameFailure failure(FrameError error, std::string message, uint16_t peerVersion = 0) {
    return FrameFailure{error, peerVersion, std::move(message)};
}

std::string mib(size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

// A decompressed body. Not a vector: a vector would zero-fill, touching every page a hostile
// frame merely declared.
struct Body {
    std::unique_ptr<uint8_t[]> data;
    size_t size = 0;
};

using DCtxPtr = std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)>;

DCtxPtr newDecoder() {
    DCtxPtr dctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
    if (!dctx) throw std::bad_alloc();
    ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kZstdWindowLogMax);
    return dctx;
}

FrameFailure tooLargeDecoded() {
    return failure(FrameError::TooLarge, "the message is larger than " + mib(kMaxDecodedBytes) +
                                             " once decompressed; send smaller batches");
}

FrameFailure zstdFailure(size_t code) {
    return failure(FrameError::Malformed,
                   std::string("the message body is damaged (") + ZSTD_getErrorName(code) + "); send it again");
}

// The size a frame without a declared size decompresses to, found by decompressing into a
// small scratch buffer and stopping past the cap; nothing is kept.
std::variant<size_t, FrameFailure> measure(const uint8_t* data, size_t size) {
    DCtxPtr dctx = newDecoder();
    std::vector<uint8_t> scratch(ZSTD_DStreamOutSize());
    ZSTD_inBuffer input{data, size, 0};
    size_t total = 0;
    for (;;) {
        ZSTD_outBuffer output{scratch.data(), scratch.size(), 0};
        const size_t ret = ZSTD_decompressStream(dctx.get(), &output, &input);
        if (ZSTD_isError(ret)) return zstdFailure(ret);
        total += output.pos;
        if (total > kMaxDecodedBytes) return tooLargeDecoded();
        if (ret == 0) return total;
        // Room left for output, yet nothing more came: the input ran out mid-frame.
        if (output.pos < output.size && input.pos == input.size) {
            return failure(FrameError::Malformed, "the message body ends early (cut off on the way?); send it again");
        }
    }
}

// Decompresses exactly one zstd frame into one buffer of the frame's size, which must be at
// most kMaxDecodedBytes: a zstd bomb is refused at the cap, never expanded beyond it.
std::variant<Body, FrameFailure> decompress(const uint8_t* data, size_t size) {
    size_t expected = 0;
    const unsigned long long declared = ZSTD_getFrameContentSize(data, size);
    if (declared == ZSTD_CONTENTSIZE_ERROR) {
        return failure(FrameError::Malformed, "the message body is not zstd-compressed data; send it again");
    }
    if (declared == ZSTD_CONTENTSIZE_UNKNOWN) {
        auto measured = measure(data, size);
        if (auto* f = std::get_if<FrameFailure>(&measured)) return std::move(*f);
        expected = std::get<size_t>(measured);
    } else {
        if (declared > kMaxDecodedBytes) return tooLargeDecoded();
        expected = size_t(declared);
    }

    Body body{std::unique_ptr<uint8_t[]>(new uint8_t[std::max<size_t>(expected, 1)]), expected};
    DCtxPtr dctx = newDecoder();
    ZSTD_inBuffer input{data, size, 0};
    ZSTD_outBuffer output{body.data.get(), expected, 0};
    for (;;) {
        const size_t inBefore = input.pos;
        const size_t outBefore = output.pos;
        const size_t ret = ZSTD_decompressStream(dctx.get(), &output, &input);
        if (ZSTD_isError(ret)) return zstdFailure(ret);
        if (ret == 0) break;  // the frame is complete
        if (input.pos != inBefore || output.pos != outBefore) continue;
        // No progress: either the output is full and the frame wants to go on (it holds more
        // than it declared) or the input ran out.
        if (output.pos == output.size) {
            return failure(FrameError::Malformed, "the message body is longer than it declares; send it again");
        }
        return failure(FrameError::Malformed, "the message body ends early (cut off on the way?); send it again");
    }
    if (output.pos != expected) {
        return failure(FrameError::Malformed, "the message body is shorter than it declares; send it again");
    }
    if (input.pos != input.size) {
        return failure(FrameError::Malformed, "there are stray bytes after the message body; send it again");
    }
    return body;
}

std::optional<std::vector<uint8_t>> fromHex(const std::string& hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::vector<uint8_t> out(hex.size() / 2);
    size_t written = 0;
    if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, nullptr) != 0 ||
        written != out.size()) {
        return std::nullopt;
    }
    return out;
}

std::string toHexLower(const std::vector<uint8_t>& bytes) {
    std::string out(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), bytes.data(), bytes.size());
    out.pop_back();
    return out;
}

// Writes into a BLAKE2b state what wire::Writer would write into bytes: a batch's digest
// covers its envelopes' layout without a copy of every envelope being made to hash it.
class DigestWriter : public wire::LayoutWriter<DigestWriter> {
public:
    explicit DigestWriter(crypto_generichash_state& state) : m_state(state) {}
    void raw(const void* data, size_t size) {
        crypto_generichash_update(&m_state, static_cast<const unsigned char*>(data), size);
    }

private:
    crypto_generichash_state& m_state;
};

template <typename Out>
void putEnvelope(wire::LayoutWriter<Out>& w, const WireEnvelope& e) {
    w.u32(e.format);
    w.text(e.recordId);
    w.text(e.parentId);
    w.text(e.templateId);
    w.text(e.templateVersion);
    w.bytes(e.mainHash);
    w.bytes(e.contentHash);
    w.bytes(e.sealedRecord);
    w.bytes(e.sealedPersonal);
    w.bytes(e.signature);
}

void putHashList(wire::Writer& w, const std::vector<std::vector<uint8_t>>& hashes) {
    w.u32(static_cast<uint32_t>(hashes.size()));
    for (const auto& h : hashes) w.bytes(h);
}

wire::Writer withDomain(std::string_view domain) {
    wire::Writer w;
    w.raw(domain.data(), domain.size());
    return w;
}

}  // namespace

// ---------------------------------------------------------------------------------------

const char* messageTypeName(MessageType type) {
    switch (type) {
        case MessageType::Error: return "Error";
        case MessageType::EnrolRequest: return "EnrolRequest";
        case MessageType::EnrolReply: return "EnrolReply";
        case MessageType::UploadBatch: return "UploadBatch";
        case MessageType::UploadReply: return "UploadReply";
        case MessageType::UpdatesRequest: return "UpdatesRequest";
        case MessageType::Updates: return "Updates";
        case MessageType::ChunkQuery: return "ChunkQuery";
        case MessageType::ChunkQueryReply: return "ChunkQueryReply";
        case MessageType::ChunkUpload: return "ChunkUpload";
        case MessageType::AttachmentCommit: return "AttachmentCommit";
        case MessageType::Bundle: return "Bundle";
        case MessageType::Receipt: return "Receipt";
        case MessageType::Ok: return "Ok";
    }
    return "unknown";
}

const char* refusalReasonName(RefusalReason reason) {
    switch (reason) {
        case RefusalReason::Conflict: return "conflict";
        case RefusalReason::UnknownTemplate: return "unknown_template";
        case RefusalReason::BadSignature: return "bad_signature";
        case RefusalReason::CannotOpen: return "cannot_open";
        case RefusalReason::BadContent: return "bad_content";
        case RefusalReason::None: break;
    }
    return "";
}

std::optional<RefusalReason> refusalReasonFromName(std::string_view name) {
    for (RefusalReason r : {RefusalReason::Conflict, RefusalReason::UnknownTemplate, RefusalReason::BadSignature,
                            RefusalReason::CannotOpen, RefusalReason::BadContent})
        if (name == refusalReasonName(r)) return r;
    return std::nullopt;
}

const char* errorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::WrongProtocolVersion: return "wrong_protocol_version";
        case ErrorCode::MalformedBody: return "malformed_body";
        case ErrorCode::BodyTooLarge: return "body_too_large";
        case ErrorCode::UnknownDevice: return "unknown_device";
        case ErrorCode::RevokedDevice: return "revoked_device";
        case ErrorCode::BadSignature: return "bad_signature";
        case ErrorCode::StaleRequest: return "stale_request";
        case ErrorCode::EnrolmentCodeUnknown: return "enrolment_code_unknown";
        case ErrorCode::EnrolmentCodeExpired: return "enrolment_code_expired";
        case ErrorCode::EnrolmentCodeUsed: return "enrolment_code_used";
        case ErrorCode::RateLimited: return "rate_limited";
        case ErrorCode::UnknownAttachment: return "unknown_attachment";
        case ErrorCode::ServerBusy: return "server_busy";
        case ErrorCode::ServerError: return "server_error";
        case ErrorCode::NotFound: return "not_found";
        case ErrorCode::Unauthorised: return "unauthorised";
    }
    return "unknown";
}

int httpStatus(ErrorCode code) {
    switch (code) {
        case ErrorCode::WrongProtocolVersion: return 400;
        case ErrorCode::MalformedBody: return 400;
        case ErrorCode::BodyTooLarge: return 413;
        case ErrorCode::UnknownDevice: return 401;
        case ErrorCode::RevokedDevice: return 403;
        case ErrorCode::BadSignature: return 401;
        case ErrorCode::StaleRequest: return 401;
        case ErrorCode::EnrolmentCodeUnknown: return 404;
        case ErrorCode::EnrolmentCodeExpired: return 410;
        case ErrorCode::EnrolmentCodeUsed: return 409;
        case ErrorCode::RateLimited: return 429;
        case ErrorCode::UnknownAttachment: return 404;
        case ErrorCode::ServerBusy: return 503;
        case ErrorCode::ServerError: return 500;
        case ErrorCode::NotFound: return 404;
        case ErrorCode::Unauthorised: return 401;
    }
    return 500;
}

WireEnvelope toWire(const SealedEnvelope& envelope) {
    WireEnvelope w;
    w.format = envelope.format;
    w.recordId = envelope.recordId;
    w.parentId = envelope.parentId;
    w.templateId = envelope.templateId;
    w.templateVersion = envelope.templateVersion;
    // mainHash stays behind (the aggregator recomputes it); contentHash travels only when it
    // says more than mainHash. A content hash that is not hex cannot come from sealEnvelope:
    // it travels as one byte, so the other side refuses the envelope instead of reading it as
    // "same as mainHash".
    if (envelope.contentHash != envelope.mainHash) {
        auto contentHash = fromHex(envelope.contentHash);
        w.contentHash = contentHash && contentHash->size() == kHashBytes ? std::move(*contentHash)
                                                                        : std::vector<uint8_t>{0};
    }
    w.sealedRecord = envelope.sealedRecord;
    w.sealedPersonal = envelope.sealedPersonal;
    w.signature = envelope.signature;
    return w;
}

std::optional<SealedEnvelope> fromWire(const WireEnvelope& wire, const std::vector<uint8_t>& devicePublicKey) {
    if (!wire.mainHash.empty() && wire.mainHash.size() != kHashBytes) return std::nullopt;
    if (!wire.contentHash.empty() && wire.contentHash.size() != kHashBytes) return std::nullopt;
    if (wire.signature.size() != kSignatureBytes || devicePublicKey.size() != kKeyBytes) return std::nullopt;
    if (!knownEnvelopeFormat(wire.format)) return std::nullopt;
    SealedEnvelope e;
    e.format = wire.format;
    e.recordId = wire.recordId;
    e.parentId = wire.parentId;
    e.templateId = wire.templateId;
    e.templateVersion = wire.templateVersion;
    if (!wire.mainHash.empty()) e.mainHash = toHexLower(wire.mainHash);
    e.contentHash = wire.contentHash.empty() ? e.mainHash : toHexLower(wire.contentHash);
    e.sealedRecord = wire.sealedRecord;
    e.sealedPersonal = wire.sealedPersonal;
    e.devicePublicKey = devicePublicKey;
    e.signature = wire.signature;
    return e;
}

MessageType messageType(const Message& message) {
    // The variant lists the messages in MessageType order, starting at 1.
    return static_cast<MessageType>(message.index() + 1);
}

std::vector<uint8_t> encodeFrame(const Message& message) {
    std::vector<uint8_t> body;
    {
        Out out(body);
        std::visit([&](const auto& m) { put(out, m); }, message);
    }
    std::vector<uint8_t> frame(kHeaderBytes + ZSTD_compressBound(body.size()));
    std::memcpy(frame.data(), kMagic, sizeof kMagic);
    frame[4] = static_cast<uint8_t>(kProtocolVersion & 0xff);
    frame[5] = static_cast<uint8_t>(kProtocolVersion >> 8);
    frame[6] = static_cast<uint8_t>(messageType(message));

    std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> cctx(ZSTD_createCCtx(), ZSTD_freeCCtx);
    if (!cctx) throw std::bad_alloc();
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_compressionLevel, kZstdLevel);
    // A damaged body is then caught by zstd itself, before the message is read.
    ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_checksumFlag, 1);
    const size_t n = ZSTD_compress2(cctx.get(), frame.data() + kHeaderBytes, frame.size() - kHeaderBytes,
                                    body.data(), body.size());
    if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd could not compress: ") + ZSTD_getErrorName(n));
    frame.resize(kHeaderBytes + n);
    return frame;
}

std::variant<Message, FrameFailure> decodeFrame(const uint8_t* data, size_t size) {
    if (data == nullptr || size < sizeof kMagic || std::memcmp(data, kMagic, sizeof kMagic) != 0) {
        return failure(FrameError::NotAFrame,
                       "this is not a ClusterKit sync message (it does not start with CKSP); check that the "
                       "address or file is a ClusterKit aggregator's or bundle");
    }
    if (size < kHeaderBytes) {
        return failure(FrameError::Malformed, "the message ends inside its header (cut off on the way?); send it again");
    }
    const uint16_t version = uint16_t(data[4] | (data[5] << 8));
    if (version != kProtocolVersion) {
        const std::string peer = std::to_string(version);
        const std::string ours = std::to_string(kProtocolVersion);
        return failure(FrameError::WrongVersion,
                       "the sender speaks sync protocol version " + peer + ", this program speaks version " + ours +
                           (version > kProtocolVersion ? ": update this program to a ClusterKit release that speaks version " + peer
                                                       : ": the sender must be updated to a ClusterKit release that speaks version " + ours),
                       version);
    }
    if (!isKnownType(data[6])) {
        return failure(FrameError::UnknownType, "the message type " + std::to_string(data[6]) +
                                                    " is not part of sync protocol version " +
                                                    std::to_string(kProtocolVersion) + "; check both sides' versions");
    }
    if (size > kMaxFrameBytes) {
        return failure(FrameError::TooLarge, "the message is " + std::to_string(size) + " bytes, more than the " +
                                                 mib(kMaxFrameBytes) + " allowed; send smaller batches");
    }
    const auto type = static_cast<MessageType>(data[6]);
    try {
        auto body = decompress(data + kHeaderBytes, size - kHeaderBytes);
        if (auto* f = std::get_if<FrameFailure>(&body)) return std::move(*f);
        const Body& b = std::get<Body>(body);
        return readMessage(type, b.data.get(), b.size);
    } catch (const std::bad_alloc&) {
        // Every size was checked against the caps, so this is a machine short of memory.
        return failure(FrameError::TooLarge, std::string("there is not enough memory to read this ") +
                                                 messageTypeName(type) + " message now; send smaller batches or try later");
    } catch (const DecodeError& e) {
        return failure(FrameError::Malformed, std::string("the ") + messageTypeName(type) +
                                                  " message is damaged: " + e.what() + "; send it again");
    } catch (const cereal::Exception&) {
        return failure(FrameError::Malformed, std::string("the ") + messageTypeName(type) +
                                                  " message ends early (damaged or cut off); send it again");
    }
}

ErrorReply errorFor(const FrameFailure& failure) {
    ErrorReply reply;
    switch (failure.error) {
        case FrameError::WrongVersion: {
            reply.code = ErrorCode::WrongProtocolVersion;
            const std::string peer = std::to_string(failure.peerVersion);
            const std::string ours = std::to_string(kProtocolVersion);
            reply.message = "this device speaks sync protocol version " + peer + ", the aggregator speaks version " +
                            ours +
                            (failure.peerVersion > kProtocolVersion
                                 ? ": ask the operator to update the aggregator"
                                 : ": update ClusterKit on this device, then sync again");
            break;
        }
        case FrameError::TooLarge:
            reply.code = ErrorCode::BodyTooLarge;
            reply.message = "the request is larger than the aggregator accepts (" + mib(kMaxFrameBytes) +
                            " sent, " + mib(kMaxDecodedBytes) + " decompressed); send fewer records per batch";
            break;
        case FrameError::NotAFrame:
        case FrameError::UnknownType:
        case FrameError::Malformed:
            reply.code = ErrorCode::MalformedBody;
            reply.message = "the aggregator could not read the request: " + failure.message;
            break;
    }
    return reply;
}

std::vector<uint8_t> signingBytes(const EnrolRequest& m) {
    wire::Writer w = withDomain(kEnrolDomain);
    w.text(m.code);
    w.bytes(m.devicePublicKey);
    w.text(m.deviceLabel);
    w.u64(static_cast<uint64_t>(m.sentAt));
    return std::move(w.out());
}

// The envelopes enter as one BLAKE2b-256 digest of their fields (each in the wire_format
// layout, in batch order), so a large batch is hashed once instead of copied.
std::vector<uint8_t> signingBytes(const UploadBatch& m) {
    ensureSodium();
    crypto_generichash_state state;
    crypto_generichash_init(&state, nullptr, 0, kHashBytes);
    DigestWriter digestOf(state);
    for (const auto& e : m.envelopes) putEnvelope(digestOf, e);
    std::vector<uint8_t> digest(kHashBytes);
    crypto_generichash_final(&state, digest.data(), digest.size());

    wire::Writer w = withDomain(kUploadDomain);
    w.bytes(m.devicePublicKey);
    w.u64(static_cast<uint64_t>(m.sentAt));
    w.u32(static_cast<uint32_t>(m.envelopes.size()));
    w.bytes(digest);
    return std::move(w.out());
}

std::vector<uint8_t> signingBytes(const UpdatesRequest& m) {
    wire::Writer w = withDomain(kUpdatesDomain);
    w.bytes(m.devicePublicKey);
    w.u64(m.cursor);
    w.u64(static_cast<uint64_t>(m.sentAt));
    return std::move(w.out());
}

std::vector<uint8_t> signingBytes(const ChunkQuery& m) {
    wire::Writer w = withDomain(kChunkQueryDomain);
    w.bytes(m.devicePublicKey);
    w.u64(static_cast<uint64_t>(m.sentAt));
    putHashList(w, m.hashes);
    return std::move(w.out());
}

// The chunk enters by its size and hash (its name), not its bytes.
std::vector<uint8_t> signingBytes(const ChunkUpload& m) {
    wire::Writer w = withDomain(kChunkDomain);
    w.bytes(m.devicePublicKey);
    w.u64(static_cast<uint64_t>(m.sentAt));
    w.u64(m.data.size());
    w.bytes(chunkHash(m.data.data(), m.data.size()));
    return std::move(w.out());
}

std::vector<uint8_t> signingBytes(const AttachmentCommit& m) {
    wire::Writer w = withDomain(kCommitDomain);
    w.bytes(m.devicePublicKey);
    w.u64(static_cast<uint64_t>(m.sentAt));
    w.text(m.recordId);
    w.text(m.attachmentId);
    w.text(m.mediaType);
    w.u64(m.totalBytes);
    putHashList(w, m.chunkHashes);
    return std::move(w.out());
}

std::vector<uint8_t> signingBytes(const Receipt& m) {
    wire::Writer w = withDomain(kReceiptDomain);
    w.text(m.aggregatorName);
    w.u64(static_cast<uint64_t>(m.createdAt));
    w.u64(m.entries.size());
    for (const auto& e : m.entries) {
        w.text(e.recordId);
        w.text(e.contentHash);
        w.u8(static_cast<uint8_t>(e.ack.status));
        w.u8(static_cast<uint8_t>(e.ack.reason));
        w.text(e.ack.message);
    }
    return std::move(w.out());
}

std::vector<uint8_t> templateSigningBytes(std::string_view templateId, std::string_view version,
                                          std::string_view jsonText) {
    wire::Writer w = withDomain(kTemplateDomain);
    w.bytes(reinterpret_cast<const uint8_t*>(templateId.data()), templateId.size());
    w.bytes(reinterpret_cast<const uint8_t*>(version.data()), version.size());
    w.bytes(reinterpret_cast<const uint8_t*>(jsonText.data()), jsonText.size());
    return std::move(w.out());
}

Signer signerFor(const SecretBytes& ed25519SecretKey) {
    return [&ed25519SecretKey](const std::vector<uint8_t>& bytes) {
        if (ed25519SecretKey.size() != crypto_sign_SECRETKEYBYTES) {
            throw std::invalid_argument("signerFor: the device key is not a 64-byte Ed25519 secret key");
        }
        ensureSodium();
        std::vector<uint8_t> signature(crypto_sign_BYTES);
        crypto_sign_detached(signature.data(), nullptr, bytes.data(), bytes.size(), ed25519SecretKey.data());
        return signature;
    };
}

bool verifySignature(const std::vector<uint8_t>& bytes, const std::vector<uint8_t>& signature,
                     const std::vector<uint8_t>& publicKey) {
    if (signature.size() != crypto_sign_BYTES || publicKey.size() != crypto_sign_PUBLICKEYBYTES) return false;
    ensureSodium();
    return crypto_sign_verify_detached(signature.data(), bytes.data(), bytes.size(), publicKey.data()) == 0;
}

std::vector<uint8_t> chunkHash(const uint8_t* data, size_t size) {
    ensureSodium();
    std::vector<uint8_t> hash(kHashBytes);
    crypto_generichash(hash.data(), hash.size(), data, size, nullptr, 0);
    return hash;
}

}  // namespace ck::proto
