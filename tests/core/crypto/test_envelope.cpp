// A finished record travels sealed and signed: only the aggregator opens the main record, only
// the custodian the personal answers, and any change on the way is caught and named.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include <sodium.h>

#include "core/crypto/envelope.h"
#include "core/crypto/sealed_box.h"

using namespace ck;

namespace {

const std::vector<std::string> kPersonal{"owner_name", "phone", "gps", "worker_name"};

Record sampleRecord() {
    Record r;
    r.id = newRecordId();
    r.templateId = "cluster-diagnostic";
    r.templateVersion = "2026.1";
    r.createdAt = 1795000000;
    r.updatedAt = 1795003600;
    r.answers.push_back({"consent", Value::text("yes"), false, {}});
    r.answers.push_back({"owner_name", Value::text("Selvi Murugan"), false, {}});
    r.answers.push_back({"phone", Value::text("9843012345"), false, {}});
    r.answers.push_back({"workers", Value::number(42), false, {}});
    r.answers.push_back({"gps", Value::geo({11.1085, 77.3411, 8}), false, {}});
    Answer staff{"staff", Value(), true, {}};
    staff.instances.push_back({{"worker_name", Value::text("Arumugam K"), false, {}},
                               {"skill", Value::text("tailoring"), false, {}}});
    staff.instances.push_back({{"skill", Value::text("dyeing"), false, {}}});
    staff.instances.push_back({{"worker_name", Value::text("Lakshmi R"), false, {}}});
    r.answers.push_back(staff);
    Answer lines{"product_lines", Value(), true, {}};
    lines.instances.push_back({{"product", Value::text("t_shirts"), false, {}}});
    r.answers.push_back(lines);
    return r;
}

struct SigningKeys {
    std::vector<uint8_t> publicKey = std::vector<uint8_t>(crypto_sign_PUBLICKEYBYTES);
    SecretBytes secretKey{crypto_sign_SECRETKEYBYTES};
    SigningKeys() {
        ensureSodium();
        crypto_sign_keypair(publicKey.data(), secretKey.data());
    }
};

struct Parties {
    SigningKeys device;
    BoxKeyPair aggregator = newBoxKeyPair();
    BoxKeyPair custodian = newBoxKeyPair();

    SealInput input(const Record& record, bool withCustodian) const {
        SealInput in;
        in.record = &record;
        in.personalFields = kPersonal;
        in.aggregatorPublicKey = aggregator.publicKey;
        if (withCustodian) in.custodianPublicKey = custodian.publicKey;
        in.signingSecretKey = &device.secretKey;
        in.signingPublicKey = device.publicKey;
        return in;
    }
};

// What a forger with a device key of their own can do: sign anything.
void resign(SealedEnvelope& e, const SigningKeys& keys) {
    e.devicePublicKey = keys.publicKey;
    const auto message = e.signedBytes();
    crypto_sign_detached(e.signature.data(), nullptr, message.data(), message.size(), keys.secretKey.data());
}

EnvelopeError errorOf(const std::variant<OpenedEnvelope, EnvelopeError>& result) {
    REQUIRE(std::holds_alternative<EnvelopeError>(result));
    return std::get<EnvelopeError>(result);
}

bool contains(const std::vector<uint8_t>& haystack, std::string_view needle) {
    return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

}  // namespace

TEST_CASE("without a custodian the whole record is sealed to the aggregator", "[core][crypto]") {
    const Parties parties;
    const Record record = sampleRecord();
    const SealedEnvelope envelope = sealEnvelope(parties.input(record, false));

    CHECK(envelope.recordId == record.id);
    CHECK(envelope.templateId == record.templateId);
    CHECK(envelope.templateVersion == record.templateVersion);
    CHECK(envelope.sealedPersonal.empty());
    CHECK(envelope.devicePublicKey == parties.device.publicKey);
    CHECK(envelope.mainHash == contentHash(serializeRecord(record)));
    CHECK(envelope.contentHash == envelope.mainHash);
    CHECK(verifyEnvelope(envelope));
    CHECK_FALSE(contains(envelope.sealedRecord, "Selvi Murugan"));

    auto opened = openEnvelope(envelope, parties.aggregator.publicKey, parties.aggregator.secretKey);
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    CHECK(std::get<OpenedEnvelope>(opened).record == record);
    // The custodian has nothing to open.
    auto personal = openPersonal(envelope, parties.custodian.publicKey, parties.custodian.secretKey);
    REQUIRE(std::holds_alternative<EnvelopeError>(personal));
    CHECK(std::get<EnvelopeError>(personal) == EnvelopeError::CannotOpen);
}

TEST_CASE("with a custodian the personal answers are sealed apart, repeats included", "[core][crypto]") {
    const Parties parties;
    Record record = sampleRecord();
    record.parentId = newRecordId();  // a correction
    const SealedEnvelope envelope = sealEnvelope(parties.input(record, true));
    REQUIRE_FALSE(envelope.sealedPersonal.empty());
    CHECK(envelope.parentId == record.parentId);
    CHECK(verifyEnvelope(envelope));

    auto opened = openEnvelope(envelope, parties.aggregator.publicKey, parties.aggregator.secretKey);
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    const Record& main = std::get<OpenedEnvelope>(opened).record;
    CHECK(main.id == record.id);
    CHECK(main.parentId == record.parentId);
    CHECK(main.createdAt == record.createdAt);
    for (const auto& id : kPersonal) CHECK(main.find(id) == nullptr);
    REQUIRE(main.find("workers"));
    CHECK(main.find("workers")->value == Value::number(42));
    const Answer* staff = main.find("staff");
    REQUIRE(staff);
    REQUIRE(staff->instances.size() == 3);
    CHECK(staff->instances[0].size() == 1);
    CHECK(staff->instances[0][0].questionId == "skill");
    CHECK(staff->instances[2].empty());
    CHECK(main.find("product_lines")->instances.size() == 1);

    auto personalResult = openPersonal(envelope, parties.custodian.publicKey, parties.custodian.secretKey);
    REQUIRE(std::holds_alternative<Record>(personalResult));
    const Record& personal = std::get<Record>(personalResult);
    CHECK(personal.id == record.id);
    CHECK(personal.templateId == record.templateId);
    CHECK(personal.find("owner_name")->value == Value::text("Selvi Murugan"));
    CHECK(personal.find("phone")->value == Value::text("9843012345"));
    CHECK(personal.find("gps")->value.asGeo().latitude == Approx(11.1085));
    CHECK(personal.find("workers") == nullptr);
    CHECK(personal.find("product_lines") == nullptr);  // nothing personal in it
    const Answer* personalStaff = personal.find("staff");
    REQUIRE(personalStaff);
    REQUIRE(personalStaff->instances.size() == 3);  // instance i is instance i in both records
    CHECK(personalStaff->instances[0] == std::vector<Answer>{{"worker_name", Value::text("Arumugam K"), false, {}}});
    CHECK(personalStaff->instances[1].empty());
    CHECK(personalStaff->instances[2] == std::vector<Answer>{{"worker_name", Value::text("Lakshmi R"), false, {}}});

    // The hashes are as envelope.h defines them.
    CHECK(envelope.mainHash == contentHash(serializeRecord(main)));
    CHECK(envelope.contentHash == contentHash(serializeRecord(main) + serializeRecord(personal)));
    CHECK(envelope.contentHash != envelope.mainHash);

    // Each party opens only its own part.
    CHECK(std::get<EnvelopeError>(openPersonal(envelope, parties.aggregator.publicKey,
                                               parties.aggregator.secretKey)) == EnvelopeError::CannotOpen);
    CHECK(errorOf(openEnvelope(envelope, parties.custodian.publicKey, parties.custodian.secretKey)) ==
          EnvelopeError::CannotOpen);
}

TEST_CASE("a custodian key with no personal answers leaves sealedPersonal empty", "[core][crypto]") {
    const Parties parties;
    Record record = sampleRecord();
    std::erase_if(record.answers, [](const Answer& a) {
        return std::find(kPersonal.begin(), kPersonal.end(), a.questionId) != kPersonal.end() || a.isRepeat;
    });
    const SealedEnvelope envelope = sealEnvelope(parties.input(record, true));
    CHECK(envelope.sealedPersonal.empty());
    auto opened = openEnvelope(envelope, parties.aggregator.publicKey, parties.aggregator.secretKey);
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    CHECK(std::get<OpenedEnvelope>(opened).record == record);
}

TEST_CASE("tampering with an envelope is caught and named", "[core][crypto]") {
    const Parties parties;
    const SigningKeys forger;
    const Record record = sampleRecord();
    const SealedEnvelope good = sealEnvelope(parties.input(record, true));
    auto open = [&](const SealedEnvelope& e) {
        return openEnvelope(e, parties.aggregator.publicKey, parties.aggregator.secretKey);
    };
    REQUIRE(std::holds_alternative<OpenedEnvelope>(open(good)));

    SECTION("a flipped signature byte") {
        SealedEnvelope e = good;
        e.signature[10] ^= 0x20;
        CHECK_FALSE(verifyEnvelope(e));
        CHECK(errorOf(open(e)) == EnvelopeError::BadSignature);
    }
    SECTION("a flipped byte in the sealed record") {
        SealedEnvelope e = good;
        e.sealedRecord[e.sealedRecord.size() / 2] ^= 0x01;
        CHECK(errorOf(open(e)) == EnvelopeError::BadSignature);
        resign(e, forger);  // even signed again, the seal's MAC refuses it
        CHECK(errorOf(open(e)) == EnvelopeError::CannotOpen);
    }
    SECTION("a flipped byte in the personal part") {
        SealedEnvelope e = good;
        e.sealedPersonal.back() ^= 0x01;
        CHECK(errorOf(open(e)) == EnvelopeError::BadSignature);
        auto personal = openPersonal(e, parties.custodian.publicKey, parties.custodian.secretKey);
        CHECK(std::get<EnvelopeError>(personal) == EnvelopeError::BadSignature);
    }
    SECTION("a changed header field") {
        SealedEnvelope e = good;
        e.recordId = newRecordId();
        CHECK(errorOf(open(e)) == EnvelopeError::BadSignature);
        resign(e, forger);  // signed again, the sealed record still names its own id
        CHECK(errorOf(open(e)) == EnvelopeError::BadContent);

        SealedEnvelope v = good;
        v.templateVersion = "2025.9";
        resign(v, forger);
        CHECK(errorOf(open(v)) == EnvelopeError::BadContent);
    }
    SECTION("a changed hash") {
        SealedEnvelope e = good;
        e.mainHash = contentHash("something else");
        CHECK(errorOf(open(e)) == EnvelopeError::BadSignature);
        resign(e, forger);
        CHECK(errorOf(open(e)) == EnvelopeError::HashMismatch);
    }
    SECTION("a sealed record from another visit") {
        Record other = sampleRecord();
        const SealedEnvelope otherEnvelope = sealEnvelope(parties.input(other, true));
        SealedEnvelope e = good;
        e.sealedRecord = otherEnvelope.sealedRecord;
        CHECK(errorOf(open(e)) == EnvelopeError::BadSignature);
        resign(e, forger);
        CHECK(errorOf(open(e)) == EnvelopeError::BadContent);
    }
    SECTION("not a record inside the seal") {
        SealedEnvelope e = good;
        e.sealedRecord.resize(crypto_box_SEALBYTES + 5);
        const uint8_t junk[5] = {1, 2, 3, 4, 5};
        REQUIRE(crypto_box_seal(e.sealedRecord.data(), junk, sizeof junk, parties.aggregator.publicKey.data()) == 0);
        resign(e, forger);
        CHECK(errorOf(open(e)) == EnvelopeError::BadContent);
    }
    SECTION("the wrong aggregator key") {
        const BoxKeyPair stranger = newBoxKeyPair();
        CHECK(errorOf(openEnvelope(good, stranger.publicKey, stranger.secretKey)) == EnvelopeError::CannotOpen);
        CHECK(errorOf(openEnvelope(good, parties.aggregator.publicKey, stranger.secretKey)) ==
              EnvelopeError::CannotOpen);
        CHECK(errorOf(openEnvelope(good, {}, SecretBytes())) == EnvelopeError::CannotOpen);
    }
}

TEST_CASE("an envelope round-trips through its encoding", "[core][crypto]") {
    const Parties parties;
    const Record record = sampleRecord();
    for (bool withCustodian : {false, true}) {
        const SealedEnvelope envelope = sealEnvelope(parties.input(record, withCustodian));
        const auto bytes = encodeEnvelope(envelope);
        CHECK_FALSE(contains(bytes, "Selvi"));
        CHECK_FALSE(contains(bytes, "9843012345"));
        auto back = decodeEnvelope(bytes);
        REQUIRE(back);
        CHECK(*back == envelope);
        CHECK(verifyEnvelope(*back));
        CHECK(std::holds_alternative<OpenedEnvelope>(
            openEnvelope(*back, parties.aggregator.publicKey, parties.aggregator.secretKey)));
    }
}

TEST_CASE("decodeEnvelope refuses every truncation and damaged framing", "[core][crypto]") {
    const Parties parties;
    const Record record = sampleRecord();
    const auto bytes = encodeEnvelope(sealEnvelope(parties.input(record, true)));
    for (size_t n = 0; n < bytes.size(); ++n) {
        CHECK_FALSE(decodeEnvelope(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n)));
    }
    auto longer = bytes;
    longer.push_back(0);
    CHECK_FALSE(decodeEnvelope(longer));

    // Every single flipped byte either breaks the framing or breaks the signature.
    size_t refused = 0, unsigned_ = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        auto damaged = bytes;
        damaged[i] ^= 0x04;
        auto decoded = decodeEnvelope(damaged);
        if (!decoded) {
            ++refused;
        } else {
            CHECK_FALSE(verifyEnvelope(*decoded));
            ++unsigned_;
        }
    }
    CHECK(refused + unsigned_ == bytes.size());
    CHECK(refused > 0);

    // A length prefix far beyond the input is refused without allocating it.
    std::vector<uint8_t> hostile = {'C', 'K', 'E', 'V', 1, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f};
    CHECK_FALSE(decodeEnvelope(hostile));
    // Another format version is not read as this one.
    auto future = bytes;
    future[4] = 3;
    CHECK_FALSE(decodeEnvelope(future));
}

TEST_CASE("sealing refuses keys of the wrong size", "[core][crypto]") {
    const Parties parties;
    const Record record = sampleRecord();
    SealInput in = parties.input(record, true);
    in.aggregatorPublicKey.pop_back();
    CHECK_THROWS_AS(sealEnvelope(in), std::invalid_argument);
    in = parties.input(record, true);
    in.custodianPublicKey.push_back(0);
    CHECK_THROWS_AS(sealEnvelope(in), std::invalid_argument);
    in = parties.input(record, true);
    in.signingPublicKey[0] ^= 1;  // not the public half of the secret key
    CHECK_THROWS_AS(sealEnvelope(in), std::invalid_argument);
}

TEST_CASE("key fingerprints are 8 groups of 4 hex digits", "[core][crypto]") {
    const BoxKeyPair a = newBoxKeyPair();
    const BoxKeyPair b = newBoxKeyPair();
    const std::string fa = keyFingerprint(a.publicKey);
    REQUIRE(fa.size() == 39);
    for (size_t i = 0; i < fa.size(); ++i) {
        if (i % 5 == 4) {
            CHECK(fa[i] == ' ');
        } else {
            CHECK(((fa[i] >= '0' && fa[i] <= '9') || (fa[i] >= 'a' && fa[i] <= 'f')));
        }
    }
    CHECK(keyFingerprint(a.publicKey) == fa);
    CHECK(keyFingerprint(b.publicKey) != fa);
    CHECK(a.publicKey.size() == 32);
    CHECK(a.secretKey.size() == 32);
    // The public key really belongs to the secret key.
    std::vector<uint8_t> derived(32);
    REQUIRE(crypto_scalarmult_base(derived.data(), a.secretKey.data()) == 0);
    CHECK(derived == a.publicKey);
}

TEST_CASE("format 2 compresses the record with the template's dictionary before sealing", "[core][crypto]") {
    const Parties parties;
    const Record record = sampleRecord();
    // What recordDictionary() would give: the ids as the record serialises them.
    std::string dictionary;
    for (std::string id : {"consent", "owner_name", "phone", "workers", "gps", "staff", "worker_name", "skill",
                           "product_lines", "product", "cluster-diagnostic", "2026.1"}) {
        uint64_t n = id.size();
        for (int i = 0; i < 8; ++i) dictionary.push_back(char((n >> (8 * i)) & 0xff));
        dictionary += id;
    }
    SealInput in = parties.input(record, false);
    in.dictionary = dictionary;
    const SealedEnvelope withDict = sealEnvelope(in);
    CHECK(withDict.format == 2);
    in.dictionary = {};
    const SealedEnvelope without = sealEnvelope(in);
    const size_t plainSize = serializeRecord(record).size() + crypto_box_SEALBYTES;
    CHECK(without.sealedRecord.size() < plainSize);
    CHECK(withDict.sealedRecord.size() < without.sealedRecord.size());

    auto opened = openEnvelope(withDict, parties.aggregator.publicKey, parties.aggregator.secretKey, dictionary);
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    CHECK(std::get<OpenedEnvelope>(opened).record == record);
    // Opened with another dictionary (or none), the bytes are not the record: refused, not misread.
    CHECK(errorOf(openEnvelope(withDict, parties.aggregator.publicKey, parties.aggregator.secretKey, "")) ==
          EnvelopeError::BadContent);
    CHECK(errorOf(openEnvelope(withDict, parties.aggregator.publicKey, parties.aggregator.secretKey,
                               dictionary.substr(0, dictionary.size() / 2))) == EnvelopeError::BadContent);
}

TEST_CASE("a format 1 envelope (records sealed uncompressed) still opens", "[core][crypto]") {
    const Parties parties;
    const Record record = sampleRecord();
    const std::string plain = serializeRecord(record);
    SealedEnvelope e;
    e.format = 1;
    e.recordId = record.id;
    e.templateId = record.templateId;
    e.templateVersion = record.templateVersion;
    e.mainHash = e.contentHash = contentHash(plain);
    e.sealedRecord.resize(plain.size() + crypto_box_SEALBYTES);
    crypto_box_seal(e.sealedRecord.data(), reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
                    parties.aggregator.publicKey.data());
    e.signature.resize(crypto_sign_BYTES);
    resign(e, parties.device);
    REQUIRE(decodeEnvelope(encodeEnvelope(e)) == e);
    auto opened = openEnvelope(e, parties.aggregator.publicKey, parties.aggregator.secretKey);
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    CHECK(std::get<OpenedEnvelope>(opened).record == record);
}

TEST_CASE("hashes left out on the wire are filled from the record and still verified", "[core][crypto]") {
    const Parties parties;
    const Record record = sampleRecord();
    const SealedEnvelope sealed = sealEnvelope(parties.input(record, false));
    SealedEnvelope wire = sealed;
    wire.mainHash.clear();
    wire.contentHash.clear();
    auto opened = openEnvelope(wire, parties.aggregator.publicKey, parties.aggregator.secretKey);
    REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
    CHECK(wire == sealed);  // filled back to exactly what the device signed

    // A header changed on the way: the filled hashes no longer match what was signed.
    SealedEnvelope forged = sealed;
    forged.mainHash.clear();
    forged.contentHash.clear();
    forged.templateVersion = "2026.2";
    CHECK(errorOf(openEnvelope(forged, parties.aggregator.publicKey, parties.aggregator.secretKey)) ==
          EnvelopeError::BadContent);
    SealedEnvelope resigned = sealed;
    resigned.mainHash.clear();
    resigned.contentHash.clear();
    resigned.parentId = "someone-else";
    CHECK(errorOf(openEnvelope(resigned, parties.aggregator.publicKey, parties.aggregator.secretKey)) ==
          EnvelopeError::BadContent);
    SealedEnvelope badSignature = sealed;
    badSignature.mainHash.clear();
    badSignature.contentHash.clear();
    badSignature.signature[10] ^= 1;
    CHECK(errorOf(openEnvelope(badSignature, parties.aggregator.publicKey, parties.aggregator.secretKey)) ==
          EnvelopeError::BadSignature);
    // With a personal part the whole-visit hash cannot be recomputed here: left out, it is
    // taken as equal to the main hash, which the signature then refuses.
    const SealedEnvelope split = sealEnvelope(parties.input(record, true));
    SealedEnvelope splitWire = split;
    splitWire.mainHash.clear();
    splitWire.contentHash.clear();
    CHECK(errorOf(openEnvelope(splitWire, parties.aggregator.publicKey, parties.aggregator.secretKey)) ==
          EnvelopeError::BadSignature);
}
