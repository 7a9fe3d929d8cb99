#include "core/crypto/envelope.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <unordered_set>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_f_zstd1_magicless: four bytes fewer per record
#include <sodium.h>
#include <zstd.h>

#include "core/crypto/sealed_box.h"
#include "core/crypto/wire_format.h"

namespace ck {

namespace {

constexpr uint32_t kPlainFormat = 1;  // records sealed as they are
constexpr char kEnvelopeMagic[4] = {'C', 'K', 'E', 'V'};
// The terminating NUL is part of the domain string, so no field can run into it.
constexpr std::string_view kSignedDomain{"clusterkit/envelope/signed\0", 27};
// Ids, template ids and versions are short; this only bounds hostile input.
constexpr size_t kMaxHeaderText = 1024;
constexpr size_t kHashHexChars = 64;
constexpr size_t kMaxSealedBytes = kMaxRecordBytes + crypto_box_SEALBYTES;

using PersonalSet = std::unordered_set<std::string_view>;

template <typename Out>
void writeBody(wire::LayoutWriter<Out>& w, const SealedEnvelope& e) {
    w.u32(e.format);
    w.text(e.recordId);
    w.text(e.parentId);
    w.text(e.templateId);
    w.text(e.templateVersion);
    w.text(e.contentHash);
    w.text(e.mainHash);
    w.bytes(e.sealedRecord);
    w.bytes(e.sealedPersonal);
    w.bytes(e.devicePublicKey);
}

// What writeBody() writes, to size a writer once.
size_t bodySize(const SealedEnvelope& e) {
    wire::SizeCounter count;
    writeBody(count, e);
    return count.size();
}

bool isHashHex(const std::string& s) {
    return s.size() == kHashHexChars &&
           std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool isSealedSize(size_t n) { return n >= crypto_box_SEALBYTES && n <= kMaxSealedBytes; }

// Moves the answers named in `pii` from `in` to `personalOut` (keeping repeat structure, see
// envelope.h); the rest go to `mainOut`. Returns whether anything personal was found.
bool splitAnswers(const std::vector<Answer>& in, const PersonalSet& pii, std::vector<Answer>& mainOut,
                  std::vector<Answer>& personalOut) {
    bool found = false;
    for (const Answer& answer : in) {
        if (pii.count(answer.questionId) != 0) {
            personalOut.push_back(answer);
            found = true;
            continue;
        }
        if (!answer.isRepeat) {
            mainOut.push_back(answer);
            continue;
        }
        Answer mainRepeat{answer.questionId, answer.value, true, {}};
        Answer personalRepeat{answer.questionId, Value(), true, {}};
        bool foundInside = false;
        for (const auto& instance : answer.instances) {
            mainRepeat.instances.emplace_back();
            personalRepeat.instances.emplace_back();
            foundInside |= splitAnswers(instance, pii, mainRepeat.instances.back(), personalRepeat.instances.back());
        }
        mainOut.push_back(std::move(mainRepeat));
        if (foundInside) {
            personalOut.push_back(std::move(personalRepeat));
            found = true;
        }
    }
    return found;
}

Record headerOnly(const Record& r) {
    Record out;
    out.id = r.id;
    out.templateId = r.templateId;
    out.templateVersion = r.templateVersion;
    out.createdAt = r.createdAt;
    out.updatedAt = r.updatedAt;
    out.parentId = r.parentId;
    return out;
}

bool knownFormat(uint32_t format) { return format == kPlainFormat || format == kEnvelopeFormat; }

// A template's dictionary prepared for zstd (its tables built), kept per thread while the
// records it handles use the same dictionary: preparing one cost about as much as compressing
// a visit with it, and a quarter of decompressing one. The dictionary is told apart by its
// content (a few KB compared), and the prepared one refers to this copy of it.
template <typename Prepared, size_t (*Free)(Prepared*)>
class PreparedDictionary {
public:
    template <typename Make>
    Prepared* get(std::string_view dictionary, Make&& make) {
        if (!m_prepared || m_text != dictionary) {
            m_prepared.reset();
            m_text.assign(dictionary);
            m_prepared.reset(make(m_text));
            if (!m_prepared) throw std::bad_alloc();
        }
        return m_prepared.get();
    }

private:
    std::string m_text;
    std::unique_ptr<Prepared, size_t (*)(Prepared*)> m_prepared{nullptr, Free};
};

constexpr int kCompressionLevel = 9;

// Format 2's record compression: zstd without magic number or checksum (the seal's MAC
// already authenticates every byte), with the template's dictionary.
std::string compressRecord(const std::string& plain, std::string_view dictionary) {
    // One context per thread, reused: making one costs more than compressing a visit.
    thread_local std::unique_ptr<ZSTD_CCtx, size_t (*)(ZSTD_CCtx*)> context(ZSTD_createCCtx(), ZSTD_freeCCtx);
    thread_local PreparedDictionary<ZSTD_CDict, ZSTD_freeCDict> prepared;
    ZSTD_CCtx* cctx = context.get();
    if (!cctx) throw std::bad_alloc();
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, kCompressionLevel);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
    if (!dictionary.empty()) {
        ZSTD_CCtx_refCDict(cctx, prepared.get(dictionary, [](const std::string& text) {
            return ZSTD_createCDict_advanced(text.data(), text.size(), ZSTD_dlm_byRef, ZSTD_dct_rawContent,
                                             ZSTD_getCParams(kCompressionLevel, 0, text.size()), ZSTD_defaultCMem);
        }));
    }
    std::string out(ZSTD_compressBound(plain.size()), '\0');
    size_t n = ZSTD_compress2(cctx, out.data(), out.size(), plain.data(), plain.size());
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);  // drop the dictionary reference
    if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
    out.resize(n);
    return out;
}

// nullopt when the bytes are not a frame made with this dictionary, or would grow beyond
// kMaxOpenedRecordBytes.
std::optional<std::string> decompressRecord(const std::string& packed, std::string_view dictionary) {
    ZSTD_frameHeader header;
    if (ZSTD_getFrameHeader_advanced(&header, packed.data(), packed.size(), ZSTD_f_zstd1_magicless) != 0)
        return std::nullopt;
    if (header.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN || header.frameContentSize > kMaxOpenedRecordBytes)
        return std::nullopt;
    thread_local std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
    thread_local PreparedDictionary<ZSTD_DDict, ZSTD_freeDDict> prepared;
    ZSTD_DCtx* dctx = context.get();
    if (!dctx) throw std::bad_alloc();
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_format, ZSTD_f_zstd1_magicless);
    if (!dictionary.empty()) {
        ZSTD_DCtx_refDDict(dctx, prepared.get(dictionary, [](const std::string& text) {
            return ZSTD_createDDict_advanced(text.data(), text.size(), ZSTD_dlm_byRef, ZSTD_dct_rawContent, ZSTD_defaultCMem);
        }));
    }
    std::string out(size_t(header.frameContentSize), '\0');
    size_t n = ZSTD_decompressDCtx(dctx, out.data(), out.size(), packed.data(), packed.size());
    ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters);  // drop the dictionary reference
    if (ZSTD_isError(n) || n != out.size()) return std::nullopt;
    return out;
}

std::vector<uint8_t> sealTo(const std::string& plain, const std::vector<uint8_t>& publicKey, const char* whose) {
    std::vector<uint8_t> out(plain.size() + crypto_box_SEALBYTES);
    if (crypto_box_seal(out.data(), reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
                        publicKey.data()) != 0) {
        throw std::invalid_argument(std::string("the ") + whose + " public key is not a usable X25519 key");
    }
    return out;
}

// Plaintext of a sealed box, or nullopt when it does not open with this key pair.
std::optional<std::string> openSealed(const std::vector<uint8_t>& sealed, const std::vector<uint8_t>& publicKey,
                                      const SecretBytes& secretKey) {
    if (publicKey.size() != crypto_box_PUBLICKEYBYTES || secretKey.size() != crypto_box_SECRETKEYBYTES) {
        return std::nullopt;
    }
    if (!isSealedSize(sealed.size())) return std::nullopt;
    std::string plain(sealed.size() - crypto_box_SEALBYTES, '\0');
    if (crypto_box_seal_open(reinterpret_cast<uint8_t*>(plain.data()), sealed.data(), sealed.size(),
                             publicKey.data(), secretKey.data()) != 0) {
        return std::nullopt;
    }
    return plain;
}

// Wipes plaintext that may hold what respondents said before its memory is reused.
void wipe(std::string& s) {
    sodium_memzero(s.data(), s.size());
    s.clear();
}

bool headerMatches(const Record& r, const SealedEnvelope& e) {
    return r.id == e.recordId && r.parentId == e.parentId && r.templateId == e.templateId &&
           r.templateVersion == e.templateVersion;
}

// Opens one sealed part (decompressing format 2) and checks it is the record the header
// names. The signature is checked first unless `verifyAfter`: then the caller fills the
// hashes from the plaintext and verifies before trusting anything.
std::variant<Record, EnvelopeError> openPart(const SealedEnvelope& envelope, const std::vector<uint8_t>& sealed,
                                             const std::vector<uint8_t>& publicKey, const SecretBytes& secretKey,
                                             std::string_view dictionary, bool verifyAfter, std::string* plainOut,
                                             bool answers = true) {
    if (!knownFormat(envelope.format)) return EnvelopeError::BadSignature;
    if (!verifyAfter && !verifyEnvelope(envelope)) return EnvelopeError::BadSignature;
    auto opened = openSealed(sealed, publicKey, secretKey);
    if (!opened) return EnvelopeError::CannotOpen;
    std::string plain;
    if (envelope.format == kEnvelopeFormat) {
        auto unpacked = decompressRecord(*opened, dictionary);
        wipe(*opened);
        if (!unpacked) return EnvelopeError::BadContent;
        plain = std::move(*unpacked);
    } else {
        plain = std::move(*opened);
    }
    Record record;
    std::string error;
    if (answers) {
        auto decoded = deserializeRecord(plain);
        error = decoded.error;
        if (decoded.record) record = std::move(*decoded.record);
    } else {
        error = readRecord(plain, record, nullptr);
    }
    if (!error.empty() || !headerMatches(record, envelope)) {
        wipe(plain);
        return EnvelopeError::BadContent;
    }
    *plainOut = std::move(plain);
    return record;
}

}  // namespace

std::vector<uint8_t> SealedEnvelope::signedBytes() const {
    wire::Writer w(kSignedDomain.size() + bodySize(*this));
    w.raw(kSignedDomain.data(), kSignedDomain.size());
    writeBody(w, *this);
    return std::move(w.out());
}

std::vector<uint8_t> encodeEnvelope(const SealedEnvelope& envelope) {
    wire::Writer w(sizeof kEnvelopeMagic + bodySize(envelope) + 4 + envelope.signature.size());
    w.raw(kEnvelopeMagic, sizeof kEnvelopeMagic);
    writeBody(w, envelope);
    w.bytes(envelope.signature);
    return std::move(w.out());
}

std::optional<SealedEnvelope> decodeEnvelope(const std::vector<uint8_t>& bytes) {
    if (bytes.size() < sizeof kEnvelopeMagic || bytes.size() > kMaxEnvelopeBytes) return std::nullopt;
    if (std::memcmp(bytes.data(), kEnvelopeMagic, sizeof kEnvelopeMagic) != 0) return std::nullopt;
    wire::Reader r(bytes.data() + sizeof kEnvelopeMagic, bytes.size() - sizeof kEnvelopeMagic);
    SealedEnvelope e;
    if (!r.u32(e.format) || !knownFormat(e.format)) return std::nullopt;
    r.text(e.recordId, kMaxHeaderText);
    r.text(e.parentId, kMaxHeaderText);
    r.text(e.templateId, kMaxHeaderText);
    r.text(e.templateVersion, kMaxHeaderText);
    r.text(e.contentHash, kHashHexChars);
    r.text(e.mainHash, kHashHexChars);
    r.bytes(e.sealedRecord, kMaxSealedBytes);
    r.bytes(e.sealedPersonal, kMaxSealedBytes);
    r.bytes(e.devicePublicKey, crypto_sign_PUBLICKEYBYTES);
    r.bytes(e.signature, crypto_sign_BYTES);
    if (!r.ok() || r.remaining() != 0) return std::nullopt;
    if (e.recordId.empty() || !isHashHex(e.contentHash) || !isHashHex(e.mainHash)) return std::nullopt;
    if (!isSealedSize(e.sealedRecord.size())) return std::nullopt;
    if (!e.sealedPersonal.empty() && !isSealedSize(e.sealedPersonal.size())) return std::nullopt;
    if (e.devicePublicKey.size() != crypto_sign_PUBLICKEYBYTES || e.signature.size() != crypto_sign_BYTES) {
        return std::nullopt;
    }
    return e;
}

SealedEnvelope sealEnvelope(const SealInput& input) {
    assert(input.record != nullptr && "sealEnvelope: SealInput::record is null");
    assert(input.signingSecretKey != nullptr && "sealEnvelope: SealInput::signingSecretKey is null");
    ensureSodium();
    if (input.aggregatorPublicKey.size() != crypto_box_PUBLICKEYBYTES) {
        throw std::invalid_argument("the aggregator public key must be 32 bytes");
    }
    if (!input.custodianPublicKey.empty() && input.custodianPublicKey.size() != crypto_box_PUBLICKEYBYTES) {
        throw std::invalid_argument("the custodian public key must be 32 bytes");
    }
    if (input.signingSecretKey->size() != crypto_sign_SECRETKEYBYTES ||
        input.signingPublicKey.size() != crypto_sign_PUBLICKEYBYTES) {
        throw std::invalid_argument("the device signing key pair has the wrong size");
    }
    uint8_t derivedPublic[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_ed25519_sk_to_pk(derivedPublic, input.signingSecretKey->data());
    if (std::memcmp(derivedPublic, input.signingPublicKey.data(), sizeof derivedPublic) != 0) {
        throw std::invalid_argument("the device signing public key does not match its secret key");
    }

    const Record& record = *input.record;
    Record main = headerOnly(record);
    Record personal = headerOnly(record);
    main.assignment = record.assignment;  // not personal: the aggregator maps it to the register
    bool hasPersonal = false;
    if (input.custodianPublicKey.empty()) {
        main.answers = record.answers;
    } else {
        const PersonalSet pii(input.personalFields.begin(), input.personalFields.end());
        hasPersonal = splitAnswers(record.answers, pii, main.answers, personal.answers);
    }

    std::string mainBytes = serializeRecord(main);
    std::string personalBytes = hasPersonal ? serializeRecord(personal) : std::string();
    if (mainBytes.size() > kMaxRecordBytes || personalBytes.size() > kMaxRecordBytes) {
        wipe(mainBytes);
        wipe(personalBytes);
        throw std::invalid_argument("the record is larger than kMaxRecordBytes once serialised");
    }

    SealedEnvelope e;
    e.format = kEnvelopeFormat;
    e.recordId = record.id;
    e.parentId = record.parentId;
    e.templateId = record.templateId;
    e.templateVersion = record.templateVersion;
    e.mainHash = contentHash(mainBytes);
    {
        uint8_t hash[32];
        crypto_generichash_state state;
        crypto_generichash_init(&state, nullptr, 0, sizeof hash);
        crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(mainBytes.data()), mainBytes.size());
        crypto_generichash_update(&state, reinterpret_cast<const uint8_t*>(personalBytes.data()),
                                  personalBytes.size());
        crypto_generichash_final(&state, hash, sizeof hash);
        e.contentHash = toHex(hash, sizeof hash);
    }
    try {
        std::string packed = compressRecord(mainBytes, input.dictionary);
        e.sealedRecord = sealTo(packed, input.aggregatorPublicKey, "aggregator");
        wipe(packed);
        if (hasPersonal) {
            packed = compressRecord(personalBytes, input.dictionary);
            e.sealedPersonal = sealTo(packed, input.custodianPublicKey, "custodian");
            wipe(packed);
        }
    } catch (...) {
        wipe(mainBytes);
        wipe(personalBytes);
        throw;
    }
    wipe(mainBytes);
    wipe(personalBytes);
    e.devicePublicKey = input.signingPublicKey;

    const std::vector<uint8_t> message = e.signedBytes();
    e.signature.resize(crypto_sign_BYTES);
    crypto_sign_detached(e.signature.data(), nullptr, message.data(), message.size(), input.signingSecretKey->data());
    return e;
}

bool verifyEnvelope(const SealedEnvelope& envelope) {
    if (!knownFormat(envelope.format)) return false;
    if (envelope.devicePublicKey.size() != crypto_sign_PUBLICKEYBYTES || envelope.signature.size() != crypto_sign_BYTES) {
        return false;
    }
    ensureSodium();
    const std::vector<uint8_t> message = envelope.signedBytes();
    return crypto_sign_verify_detached(envelope.signature.data(), message.data(), message.size(),
                                       envelope.devicePublicKey.data()) == 0;
}

std::variant<OpenedEnvelope, EnvelopeError> openEnvelope(SealedEnvelope& envelope,
                                                         const std::vector<uint8_t>& aggregatorPublicKey,
                                                         const SecretBytes& aggregatorSecretKey,
                                                         std::string_view dictionary, std::string* mainBytesOut,
                                                         bool answers) {
    // Hashes left out on the wire are what the device signed: fill them from the record, then
    // verify. A wrong fill simply fails the signature.
    const bool fillHashes = envelope.mainHash.empty();
    std::string plain;
    auto part = openPart(envelope, envelope.sealedRecord, aggregatorPublicKey, aggregatorSecretKey, dictionary,
                         fillHashes, &plain, answers || !mainBytesOut);
    if (auto* error = std::get_if<EnvelopeError>(&part)) return *error;
    // One hash of the plaintext serves both the fill and the check (a visit's record is a
    // few KB: hashing it twice cost as much as parsing it).
    const std::string plainHash = contentHash(plain);
    if (fillHashes) {
        envelope.mainHash = plainHash;
        if (envelope.contentHash.empty()) envelope.contentHash = envelope.mainHash;
        if (!verifyEnvelope(envelope)) {
            wipe(plain);
            return EnvelopeError::BadSignature;
        }
    }
    const bool hashOk = plainHash == envelope.mainHash &&
                        (!envelope.sealedPersonal.empty() || envelope.contentHash == envelope.mainHash);
    if (!hashOk) {
        wipe(plain);
        return EnvelopeError::HashMismatch;
    }
    if (mainBytesOut) *mainBytesOut = std::move(plain);
    else wipe(plain);
    return OpenedEnvelope{std::move(std::get<Record>(part))};
}

std::variant<Record, EnvelopeError> openPersonal(const SealedEnvelope& envelope,
                                                 const std::vector<uint8_t>& custodianPublicKey,
                                                 const SecretBytes& custodianSecretKey, std::string_view dictionary) {
    if (envelope.sealedPersonal.empty()) {
        return verifyEnvelope(envelope) ? EnvelopeError::CannotOpen : EnvelopeError::BadSignature;
    }
    std::string plain;
    auto part = openPart(envelope, envelope.sealedPersonal, custodianPublicKey, custodianSecretKey, dictionary, false,
                         &plain);
    wipe(plain);
    return part;
}

BoxKeyPair newBoxKeyPair() {
    ensureSodium();
    BoxKeyPair pair{std::vector<uint8_t>(crypto_box_PUBLICKEYBYTES), SecretBytes(crypto_box_SECRETKEYBYTES)};
    crypto_box_keypair(pair.publicKey.data(), pair.secretKey.data());
    return pair;
}

std::string keyFingerprint(const std::vector<uint8_t>& publicKey) {
    ensureSodium();
    uint8_t hash[16];
    crypto_generichash(hash, sizeof hash, publicKey.data(), publicKey.size(), nullptr, 0);
    const std::string hex = toHex(hash, sizeof hash);
    std::string out;
    for (size_t i = 0; i < hex.size(); i += 4) {
        if (i != 0) out.push_back(' ');
        out.append(hex, i, 4);
    }
    return out;
}

}  // namespace ck
