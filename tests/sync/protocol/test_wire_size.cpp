// Bytes on the wire per record for a 10-question visit in a batch of 100 (the issue's
// targets: under 400 up, under 50 down). This case measures and prints; it asserts only that
// the batch makes the round trip. The figures go to the README.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <cstdio>

#include "core/template/template_loader.h"
#include "tests/sync/protocol/protocol_samples.h"

using namespace ck;
using namespace ck::proto;
using namespace ck::proto::test;

namespace {

// A visit to tests/data/templates/ten-questions.json, answered as a field officer would.
Record tenQuestionVisit(int n) {
    static const char* kSegments[] = {"spinning", "knitting", "dyeing", "garmenting", "trading"};
    static const char* kConstraints[] = {"finance", "skills", "power", "water", "markets", "land"};
    Record r;
    r.id = newRecordId();
    r.templateId = "ten-questions";
    r.templateVersion = "1";
    r.createdAt = 1795000000 + n * 600;
    r.updatedAt = r.createdAt + 1260 + n % 300;
    r.answers.push_back({"visit_date", Value::date(Date{20412 + n % 5}), false, {}});
    r.answers.push_back({"unit_name", Value::text(n % 2 ? "Sri Murugan Knits" : "Lakshmi Dyeing Works"), false, {}});
    r.answers.push_back({"workers", Value::number(8 + (n * 7) % 60), false, {}});
    r.answers.push_back({"women_workers", Value::number(3 + (n * 5) % 20), false, {}});
    r.answers.push_back({"youth_workers", Value::number(1 + (n * 3) % 10), false, {}});
    r.answers.push_back({"export_share", Value::number((n * 13) % 90), false, {}});
    r.answers.push_back({"turnover", Value::number(1'250'000 + (n * 977'131) % 40'000'000), false, {}});
    r.answers.push_back({"segment", Value::choices({kSegments[n % 5]}), false, {}});
    r.answers.push_back({"certifications", Value::choices({"oekotex", "zed"}), false, {}});
    r.answers.push_back({"binding_constraint", Value::choices({kConstraints[n % 6]}), false, {}});
    return r;
}

}  // namespace

TEST_CASE("bytes on the wire per record, batch of 100 ten-question visits", "[sync][protocol][size]") {
    const Sealing s;
    const auto loaded = loadTemplateJsonFile(std::filesystem::path(CK_TEST_DATA_DIR) / "templates/ten-questions.json");
    REQUIRE(loaded.ok());
    const std::string dictionary = recordDictionary(*loaded.survey);
    constexpr size_t kRecords = 100;
    UploadBatch batch{s.device.publicKey, 1795000000, {}, {}};
    size_t plainRecordBytes = 0;
    size_t sealedBytes = 0;
    size_t idBytes = 0;
    size_t zstdRecordBytes = 0;
    for (size_t i = 0; i < kRecords; ++i) {
        const Record record = tenQuestionVisit(int(i));
        const std::string plain = serializeRecord(record);
        plainRecordBytes += plain.size();
        std::vector<uint8_t> packed(ZSTD_compressBound(plain.size()));
        zstdRecordBytes += ZSTD_compress(packed.data(), packed.size(), plain.data(), plain.size(), 19);
        const SealedEnvelope envelope = s.seal(record, false, dictionary);
        if (i == 0) {
            auto opened = openEnvelope(envelope, s.aggregator.publicKey, s.aggregator.secretKey, dictionary);
            REQUIRE(std::holds_alternative<OpenedEnvelope>(opened));
            REQUIRE(std::get<OpenedEnvelope>(opened).record == record);
        }
        sealedBytes += envelope.sealedRecord.size();
        idBytes += envelope.recordId.size();
        batch.envelopes.push_back(toWire(envelope));
    }
    batch.signature = signerFor(s.device.secretKey)(signingBytes(batch));
    const auto up = encodeFrame(batch);

    auto result = decodeFrame(up);
    REQUIRE(std::holds_alternative<Message>(result));
    REQUIRE(std::get<Message>(result) == Message(batch));

    UploadReply reply;
    reply.acks.assign(kRecords, RecordAck{AckStatus::Stored, RefusalReason::None, ""});
    const auto down = encodeFrame(reply);
    auto replyBack = decodeFrame(down);
    REQUIRE(std::holds_alternative<Message>(replyBack));
    REQUIRE(std::get<Message>(replyBack) == Message(reply));

    // A worse reply: every second record refused with a sentence for the officer.
    UploadReply mixed;
    for (size_t i = 0; i < kRecords; ++i) {
        mixed.acks.push_back(i % 2 == 0 ? RecordAck{AckStatus::Stored, RefusalReason::None, ""}
                                        : RecordAck{AckStatus::Refused, RefusalReason::UnknownTemplate,
                                                    "template cluster-diagnostic version 2026.1 was never published "
                                                    "here; ask the operator to publish it, then sync again"});
    }
    const auto mixedDown = encodeFrame(mixed);

    const double n = double(kRecords);
    std::printf("\n[wire size] batch of %zu ten-question visits, one frame each way\n", kRecords);
    std::printf("[wire size]   up:   %zu bytes, %.1f bytes per record (target < 400)\n", up.size(), up.size() / n);
    std::printf("[wire size]   down: %zu bytes, %.1f bytes per record (target < 50); "
                "half refused with a reason: %.1f\n",
                down.size(), down.size() / n, mixedDown.size() / n);
    std::printf("[wire size]   per record, incompressible: sealed record %.1f (serialised record %.1f + seal %d), "
                "signature 64; record id %.1f characters\n",
                sealedBytes / n, plainRecordBytes / n, int(crypto_box_SEALBYTES), idBytes / n);
    std::printf("[wire size]   the serialised record alone, zstd -19 without the template dictionary: %.1f bytes\n",
                zstdRecordBytes / n);
    // CPU per record for the protocol layer alone (a server's ingest adds verify, open, store).
    constexpr int kRounds = 20;
    const auto start = std::chrono::steady_clock::now();
    size_t decodedRecords = 0;
    for (int i = 0; i < kRounds; ++i) {
        auto r = decodeFrame(encodeFrame(batch));
        const auto& b = std::get<UploadBatch>(std::get<Message>(r));
        if (verifySignature(signingBytes(b), b.signature, b.devicePublicKey)) decodedRecords += b.envelopes.size();
    }
    const double micros =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    std::printf("[wire size]   encode + decode + batch signature check: %.1f us per record\n",
                micros / double(kRounds * kRecords));
    CHECK(decodedRecords == kRounds * kRecords);
    CHECK(up.size() > sealedBytes);  // sanity: the sealed part cannot shrink
}
