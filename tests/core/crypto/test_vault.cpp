// The device vault: a passphrase opens it, a wrong one says so and changes nothing, a weak one
// is refused with the reason, and a damaged record is never mistaken for an open vault.
#include <catch2/catch.hpp>

#include <string>

#include <sodium.h>

#include "core/crypto/sealed_box.h"
#include "core/crypto/vault.h"

using namespace ck;

namespace {

const std::string kGood = "neem tree by the dye house 7";
const std::string kOther = "Tiruppur knitting cluster, 2026";

NewVault makeVault(const std::string& passphrase = kGood) {
    auto made = createVault(passphrase, passphrase, kFastKdf);
    if (auto* failure = std::get_if<VaultFailure>(&made)) FAIL("createVault failed: " << failure->message);
    return std::move(std::get<NewVault>(made));
}

VaultFailure failureOf(const std::variant<UnlockedVault, VaultFailure>& result) {
    REQUIRE(std::holds_alternative<VaultFailure>(result));
    return std::get<VaultFailure>(result);
}

}  // namespace

TEST_CASE("a new vault unlocks with its passphrase and gives the same keys", "[core][crypto]") {
    NewVault vault = makeVault();
    CHECK(vault.record.kdf == kFastKdf);
    CHECK(vault.record.salt.size() == crypto_pwhash_SALTBYTES);
    CHECK(vault.keys.dataKey.size() == 32);
    CHECK(vault.keys.signingSecretKey.size() == crypto_sign_SECRETKEYBYTES);
    CHECK(vault.keys.signingPublicKey == vault.record.signingPublicKey);

    auto unlocked = unlockVault(vault.record, kGood);
    REQUIRE(std::holds_alternative<UnlockedVault>(unlocked));
    const auto& keys = std::get<UnlockedVault>(unlocked);
    CHECK(keys.dataKey.equals(vault.keys.dataKey));
    CHECK(keys.signingSecretKey.equals(vault.keys.signingSecretKey));
    CHECK(keys.signingPublicKey == vault.keys.signingPublicKey);

    // Two vaults never share keys or salt.
    NewVault second = makeVault();
    CHECK_FALSE(second.keys.dataKey.equals(vault.keys.dataKey));
    CHECK(second.record.salt != vault.record.salt);
    CHECK(second.record.signingPublicKey != vault.record.signingPublicKey);
}

TEST_CASE("the unlocked signing key signs for the stored device identity", "[core][crypto]") {
    NewVault vault = makeVault();
    const uint8_t message[] = "enrolment";
    uint8_t signature[crypto_sign_BYTES];
    crypto_sign_detached(signature, nullptr, message, sizeof message, vault.keys.signingSecretKey.data());
    CHECK(crypto_sign_verify_detached(signature, message, sizeof message, vault.record.signingPublicKey.data()) == 0);
}

TEST_CASE("a wrong passphrase is refused with a clear message and changes nothing", "[core][crypto]") {
    NewVault vault = makeVault();
    const VaultRecord before = vault.record;
    for (const std::string& wrong : {std::string("neem tree by the dye house 8"), std::string(""),
                                    std::string("NEEM TREE BY THE DYE HOUSE 7")}) {
        VaultFailure failure = failureOf(unlockVault(vault.record, wrong));
        CHECK(failure.error == VaultError::WrongPassphrase);
        CHECK(failure.message == "The passphrase is not right. Nothing was changed.");
    }
    CHECK(vault.record == before);
    CHECK(std::holds_alternative<UnlockedVault>(unlockVault(vault.record, kGood)));
}

TEST_CASE("passphrase strength: each rule refuses with its reason", "[core][crypto]") {
    auto reason = [](std::string_view p) { return checkPassphraseStrength(p).value_or(""); };
    // Too short (counted in characters, not bytes).
    CHECK_THAT(reason(""), Catch::Contains("too short"));
    CHECK_THAT(reason("Ab1!xyz9"), Catch::Contains("too short"));
    CHECK_THAT(reason("नमस्ते123"), Catch::Contains("too short"));  // 9 code points, 21 bytes
    // One character repeated, however long.
    CHECK_THAT(reason("zzzzzzzzzzzzzzzzzzzz"), Catch::Contains("repeated"));
    CHECK_THAT(reason("1111111111"), Catch::Contains("repeated"));
    // Well-known passwords, in any case, also with digits or symbols added.
    CHECK_THAT(reason("qwertyuiop"), Catch::Contains("most common passwords"));
    CHECK_THAT(reason("QwertyUiop"), Catch::Contains("most common passwords"));
    CHECK_THAT(reason("1234567890"), Catch::Contains("most common passwords"));
    CHECK_THAT(reason("Password@123"), Catch::Contains("common password with digits or symbols"));
    CHECK_THAT(reason("ClusterKit2026!"), Catch::Contains("common password with digits or symbols"));
    CHECK_THAT(reason("india@12345"), Catch::Contains("common password with digits or symbols"));
    // One kind of character under 16 characters.
    CHECK_THAT(reason("abcdefghijkl"), Catch::Contains("one kind of character"));
    CHECK_THAT(reason("9843012345"), Catch::Contains("one kind of character"));

    // Acceptable ones.
    CHECK_FALSE(checkPassphraseStrength("neem tree 42"));
    CHECK_FALSE(checkPassphraseStrength("knittingclusterdyes"));  // one kind, but 16+
    CHECK_FALSE(checkPassphraseStrength("मेरा गाँव तिरुपुर"));       // Devanagari and spaces
    CHECK_FALSE(checkPassphraseStrength("passwordmanager1"));      // a common word inside is fine
    // No reason ever repeats the passphrase.
    for (std::string_view p : {"Password@123", "abcdefghijkl", "zzzzzzzzzzzzzzzzzzzz", "qwertyuiop"}) {
        CHECK(reason(p).find(p) == std::string::npos);
    }
}

TEST_CASE("passphrase strength: a code per rule, worded in every shipped language with the code's limits", "[core][crypto]") {
    CHECK(passphraseProblem("Ab1!xyz9") == PassphraseProblem::TooShort);
    CHECK(passphraseProblem("1111111111") == PassphraseProblem::OneCharacterRepeated);
    CHECK(passphraseProblem("QwertyUiop") == PassphraseProblem::CommonPassword);
    CHECK(passphraseProblem("india@12345") == PassphraseProblem::CommonPasswordWithSuffix);
    CHECK(passphraseProblem("9843012345") == PassphraseProblem::OneKindOfCharacter);
    CHECK_FALSE(passphraseProblem("neem tree 42"));
    const PassphraseProblem all[] = {PassphraseProblem::TooShort, PassphraseProblem::OneCharacterRepeated,
                                     PassphraseProblem::CommonPassword, PassphraseProblem::CommonPasswordWithSuffix,
                                     PassphraseProblem::OneKindOfCharacter};
    for (const char* lang : {"en", "hi", "ta", "gu", "mr", "bn"}) {
        INFO(lang);
        for (PassphraseProblem p : all) {
            const std::string words = passphraseProblemText(p, lang);
            CHECK_FALSE(words.empty());
            CHECK(words.find("{0}") == std::string::npos);  // the placeholder is filled
            if (std::string_view(lang) != "en") CHECK(words != passphraseProblemText(p, "en"));
        }
        CHECK(passphraseProblemText(PassphraseProblem::TooShort, lang).find(std::to_string(kMinPassphraseCharacters)) !=
              std::string::npos);
        CHECK(passphraseProblemText(PassphraseProblem::OneKindOfCharacter, lang)
                  .find(std::to_string(kOneKindPassphraseCharacters)) != std::string::npos);
    }
    // A language without a table says it in English; the CLI's English is the en table's.
    CHECK(passphraseProblemText(PassphraseProblem::CommonPassword, "xx") ==
          passphraseProblemText(PassphraseProblem::CommonPassword, "en"));
    CHECK(checkPassphraseStrength("qwertyuiop") == passphraseProblemText(PassphraseProblem::CommonPassword, "en"));
    // The vault's refusal carries the code, so a screen can word it in any language.
    auto weak = createVault("abcdefghijkl", "abcdefghijkl", kFastKdf);
    REQUIRE(std::holds_alternative<VaultFailure>(weak));
    CHECK(std::get<VaultFailure>(weak).weakness == PassphraseProblem::OneKindOfCharacter);
}

TEST_CASE("creating a vault refuses a weak or unconfirmed passphrase", "[core][crypto]") {
    auto weak = createVault("abcdefghijkl", "abcdefghijkl", kFastKdf);
    REQUIRE(std::holds_alternative<VaultFailure>(weak));
    CHECK(std::get<VaultFailure>(weak).error == VaultError::WeakPassphrase);
    CHECK_THAT(std::get<VaultFailure>(weak).message, Catch::Contains("one kind of character"));

    auto differ = createVault(kGood, kGood + " ", kFastKdf);
    REQUIRE(std::holds_alternative<VaultFailure>(differ));
    CHECK(std::get<VaultFailure>(differ).error == VaultError::PassphrasesDiffer);
    CHECK(std::get<VaultFailure>(differ).message.find(kGood) == std::string::npos);

    auto differSameLength = createVault(kGood, "neem tree by the dye house 8", kFastKdf);
    REQUIRE(std::holds_alternative<VaultFailure>(differSameLength));
    CHECK(std::get<VaultFailure>(differSameLength).error == VaultError::PassphrasesDiffer);
}

TEST_CASE("changing the passphrase re-wraps the same keys", "[core][crypto]") {
    NewVault vault = makeVault();
    const std::string context = payloadContext("visit", "rec-7", 1);
    const auto sealed = sealPayload(vault.keys.dataKey, "sealed before the change", context);

    auto changed = changePassphrase(vault.record, kGood, kOther, kOther);
    REQUIRE(std::holds_alternative<VaultRecord>(changed));
    const VaultRecord& record = std::get<VaultRecord>(changed);
    CHECK(record.salt != vault.record.salt);
    CHECK(record.kdf == vault.record.kdf);
    CHECK(record.signingPublicKey == vault.record.signingPublicKey);

    CHECK(failureOf(unlockVault(record, kGood)).error == VaultError::WrongPassphrase);
    auto unlocked = unlockVault(record, kOther);
    REQUIRE(std::holds_alternative<UnlockedVault>(unlocked));
    const auto& keys = std::get<UnlockedVault>(unlocked);
    CHECK(keys.dataKey.equals(vault.keys.dataKey));
    CHECK(keys.signingSecretKey.equals(vault.keys.signingSecretKey));
    auto opened = openPayload(keys.dataKey, sealed, context);
    REQUIRE(opened);
    CHECK(*opened == "sealed before the change");
}

TEST_CASE("changing the passphrase refuses a wrong old, weak or unconfirmed new one", "[core][crypto]") {
    NewVault vault = makeVault();
    auto errorOf = [](const std::variant<VaultRecord, VaultFailure>& r) {
        REQUIRE(std::holds_alternative<VaultFailure>(r));
        return std::get<VaultFailure>(r).error;
    };
    CHECK(errorOf(changePassphrase(vault.record, "not the passphrase", kOther, kOther)) == VaultError::WrongPassphrase);
    CHECK(errorOf(changePassphrase(vault.record, kGood, "qwertyuiop", "qwertyuiop")) == VaultError::WeakPassphrase);
    CHECK(errorOf(changePassphrase(vault.record, kGood, kOther, kOther + "!")) == VaultError::PassphrasesDiffer);
    // The old passphrase still opens the vault after each refusal.
    CHECK(std::holds_alternative<UnlockedVault>(unlockVault(vault.record, kGood)));
}

TEST_CASE("a vault record round-trips through its encoding", "[core][crypto]") {
    NewVault vault = makeVault();
    const auto bytes = encodeVaultRecord(vault.record);
    auto back = decodeVaultRecord(bytes);
    REQUIRE(back);
    CHECK(*back == vault.record);
    CHECK(std::holds_alternative<UnlockedVault>(unlockVault(*back, kGood)));
}

TEST_CASE("a damaged vault encoding is refused: every flipped byte, every truncation", "[core][crypto]") {
    NewVault vault = makeVault();
    const auto bytes = encodeVaultRecord(vault.record);
    size_t refusedByDecode = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
        for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80)}) {
            auto damaged = bytes;
            damaged[i] ^= mask;
            auto decoded = decodeVaultRecord(damaged);
            if (!decoded) {
                ++refusedByDecode;
                continue;
            }
            // Anything that still decodes must not unlock.
            auto result = unlockVault(*decoded, kGood);
            REQUIRE(std::holds_alternative<VaultFailure>(result));
            const VaultError error = std::get<VaultFailure>(result).error;
            CHECK((error == VaultError::Corrupt || error == VaultError::WrongPassphrase));
        }
    }
    // The checksum catches every single flip before any key derivation runs.
    CHECK(refusedByDecode == 2 * bytes.size());
    for (size_t n = 0; n < bytes.size(); ++n) {
        CHECK_FALSE(decodeVaultRecord(std::vector<uint8_t>(bytes.begin(), bytes.begin() + n)));
    }
    auto longer = bytes;
    longer.push_back(0);
    CHECK_FALSE(decodeVaultRecord(longer));
}

TEST_CASE("a damaged vault record is Corrupt, not a wrong passphrase", "[core][crypto]") {
    NewVault vault = makeVault();
    auto errorWith = [&](auto damage) {
        VaultRecord record = vault.record;
        damage(record);
        return failureOf(unlockVault(record, kGood));
    };
    const VaultFailure signingKey = errorWith([](VaultRecord& r) { r.wrappedSigningKey[30] ^= 1; });
    CHECK(signingKey.error == VaultError::Corrupt);
    CHECK_THAT(signingKey.message, Catch::Contains("damaged"));
    CHECK(errorWith([](VaultRecord& r) { r.signingPublicKey[0] ^= 1; }).error == VaultError::Corrupt);
    CHECK(errorWith([](VaultRecord& r) { r.salt.pop_back(); }).error == VaultError::Corrupt);
    CHECK(errorWith([](VaultRecord& r) { r.format = 2; }).error == VaultError::Corrupt);
    CHECK(errorWith([](VaultRecord& r) { r.wrappedDataKey.resize(10); }).error == VaultError::Corrupt);
    CHECK(errorWith([](VaultRecord& r) { std::swap(r.wrappedDataKey, r.wrappedSigningKey); }).error ==
          VaultError::Corrupt);
    // A hostile cost is refused before Argon2id would try to take it.
    CHECK(errorWith([](VaultRecord& r) { r.kdf.memLimitBytes = 1ull << 40; }).error == VaultError::Corrupt);
    CHECK(errorWith([](VaultRecord& r) { r.kdf.opsLimit = 1000000; }).error == VaultError::Corrupt);
    CHECK(errorWith([](VaultRecord& r) { r.kdf.opsLimit = 0; }).error == VaultError::Corrupt);
    // The wrapped data key's MAC cannot tell damage from a wrong passphrase.
    CHECK(errorWith([](VaultRecord& r) { r.wrappedDataKey[40] ^= 1; }).error == VaultError::WrongPassphrase);
    // No message names the passphrase.
    CHECK(signingKey.message.find(kGood) == std::string::npos);
}

TEST_CASE("a vault made with the default cost unlocks", "[core][crypto]") {
    auto made = createVault(kGood, kGood);
    REQUIRE(std::holds_alternative<NewVault>(made));
    const NewVault& vault = std::get<NewVault>(made);
    CHECK(vault.record.kdf == KdfParams{});
    auto unlocked = unlockVault(vault.record, kGood);
    REQUIRE(std::holds_alternative<UnlockedVault>(unlocked));
    CHECK(std::get<UnlockedVault>(unlocked).dataKey.equals(vault.keys.dataKey));
}

TEST_CASE("a vault made with the earlier default cost (64 MiB, 3 passes) still opens with that cost", "[core][crypto]") {
    // The default was lowered to 24 MiB x 8 passes (the field app's memory budget); officers'
    // vaults made before keep their recorded cost, through encoding and a passphrase change.
    CHECK_FALSE(kEarlierDefaultKdf == KdfParams{});
    auto made = createVault(kGood, kGood, kEarlierDefaultKdf);
    REQUIRE(std::holds_alternative<NewVault>(made));
    const NewVault& vault = std::get<NewVault>(made);
    auto stored = decodeVaultRecord(encodeVaultRecord(vault.record));
    REQUIRE(stored);
    CHECK(stored->kdf == kEarlierDefaultKdf);
    CHECK(failureOf(unlockVault(*stored, kOther)).error == VaultError::WrongPassphrase);
    auto unlocked = unlockVault(*stored, kGood);
    REQUIRE(std::holds_alternative<UnlockedVault>(unlocked));
    CHECK(std::get<UnlockedVault>(unlocked).dataKey.equals(vault.keys.dataKey));
    auto changed = changePassphrase(*stored, kGood, kOther, kOther);
    REQUIRE(std::holds_alternative<VaultRecord>(changed));
    CHECK(std::get<VaultRecord>(changed).kdf == kEarlierDefaultKdf);
    REQUIRE(std::holds_alternative<UnlockedVault>(unlockVault(std::get<VaultRecord>(changed), kOther)));
    // The same record with the cost rewritten to today's default no longer opens: the cost
    // really is read from the record, not assumed.
    VaultRecord relabelled = *stored;
    relabelled.kdf = KdfParams{};
    CHECK(failureOf(unlockVault(relabelled, kGood)).error == VaultError::WrongPassphrase);
}

TEST_CASE("each wrapped key is bound to what it is by its associated data", "[core][crypto]") {
    // Re-derives the KEK as the vault does, to pin the contract the stored records depend on.
    NewVault vault = makeVault();
    const VaultRecord& r = vault.record;
    SecretBytes kek(32);
    REQUIRE(crypto_pwhash(kek.data(), kek.size(), kGood.data(), kGood.size(), r.salt.data(), r.kdf.opsLimit,
                          r.kdf.memLimitBytes, crypto_pwhash_ALG_ARGON2ID13) == 0);
    auto opens = [&](const std::vector<uint8_t>& wrapped, std::string_view context, size_t keySize) {
        SecretBytes out(keySize);
        return crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), nullptr, nullptr, wrapped.data() + 24,
                                                          wrapped.size() - 24,
                                                          reinterpret_cast<const uint8_t*>(context.data()),
                                                          context.size(), wrapped.data(), kek.data()) == 0 &&
               (keySize != 32 || out.equals(vault.keys.dataKey));
    };
    CHECK(opens(r.wrappedDataKey, "clusterkit/vault/data-key", 32));
    CHECK_FALSE(opens(r.wrappedDataKey, "clusterkit/vault/signing-key", 32));
    CHECK(opens(r.wrappedSigningKey, "clusterkit/vault/signing-key", 64));
    CHECK_FALSE(opens(r.wrappedSigningKey, "clusterkit/vault/data-key", 64));
}
