// The sync wire format: every message survives the trip, and every damaged, cut, oversized,
// foreign-version or hostile frame is refused with a reason, without a crash or a huge
// allocation. Signatures cover every field, so any change on the way is caught.
#include <catch2/catch.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "tests/sync/protocol/protocol_samples.h"

using namespace ck;
using namespace ck::proto;
using namespace ck::proto::test;

namespace {

const Message* decoded(const std::variant<Message, FrameFailure>& result) { return std::get_if<Message>(&result); }
const FrameFailure* refused(const std::variant<Message, FrameFailure>& result) {
    return std::get_if<FrameFailure>(&result);
}

// Runs `check` in a child process whose address space may grow by at most `extraBytes`
// beyond what it has at the start. Returns the child's exit code: 0 when check() returned
// true; 1 when false; 3 when it threw (std::bad_alloc once the limit bites); 128+signal.
int inBoundedChild(size_t extraBytes, const std::function<bool()>& check) {
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        unsigned long pages = 0;
        if (FILE* f = std::fopen("/proc/self/statm", "r")) {
            if (std::fscanf(f, "%lu", &pages) != 1) pages = 0;
            std::fclose(f);
        }
        if (pages == 0) _exit(4);
        const rlim_t limit = rlim_t(pages) * rlim_t(sysconf(_SC_PAGESIZE)) + extraBytes;
        const rlimit lim{limit, limit};
        if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(5);
        bool ok = false;
        try {
            ok = check();
        } catch (...) {
            _exit(3);
        }
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FrameError errorOf(const std::vector<uint8_t>& frame) {
    auto result = decodeFrame(frame);
    const FrameFailure* f = refused(result);
    REQUIRE(f != nullptr);
    CHECK_FALSE(f->message.empty());
    return f->error;
}

std::string failureText(const std::vector<uint8_t>& frame) {
    auto result = decodeFrame(frame);
    const FrameFailure* f = refused(result);
    REQUIRE(f != nullptr);
    return f->message;
}

// cereal's byte-order mark (little-endian) then `rest`: a body written by hand.
std::vector<uint8_t> body(std::initializer_list<uint8_t> rest) {
    std::vector<uint8_t> out{1};
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

void appendVarint(std::vector<uint8_t>& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(uint8_t(v | 0x80));
        v >>= 7;
    }
    out.push_back(uint8_t(v));
}

}  // namespace

TEST_CASE("every message type survives encode and decode unchanged", "[sync][protocol]") {
    const Sealing s;
    const auto samples = allSamples(s);
    REQUIRE(samples.size() == std::variant_size_v<Message>);
    std::set<uint8_t> types;
    for (const Message& m : samples) {
        INFO(messageTypeName(messageType(m)));
        const auto frame = encodeFrame(m);
        REQUIRE(frame.size() > 7);
        CHECK(std::string(frame.begin(), frame.begin() + 4) == "CKSP");
        CHECK(frame[4] == kProtocolVersion);
        CHECK(frame[5] == 0);
        CHECK(frame[6] == uint8_t(messageType(m)));
        types.insert(frame[6]);
        auto result = decodeFrame(frame);
        const Message* back = decoded(result);
        REQUIRE(back != nullptr);
        CHECK(messageType(*back) == messageType(m));
        CHECK(*back == m);
        CHECK(encodeFrame(*back) == frame);
    }
    CHECK(types.size() == samples.size());
}

TEST_CASE("empty lists and empty strings survive the trip too", "[sync][protocol]") {
    const std::vector<Message> empties{ErrorReply{ErrorCode::ServerError, "", 0}, UploadReply{}, Updates{},
                                       ChunkQueryReply{}, Bundle{}, Receipt{"", 0, {}, std::vector<uint8_t>(64, 1)},
                                       ChunkQueryReply{std::vector<bool>(8, true)}};
    for (const Message& m : empties) {
        auto result = decodeFrame(encodeFrame(m));
        REQUIRE(decoded(result) != nullptr);
        CHECK(*decoded(result) == m);
    }
}

TEST_CASE("every truncation of a frame is refused", "[sync][protocol]") {
    const Sealing s;
    for (const Message& m : allSamples(s)) {
        const auto frame = encodeFrame(m);
        INFO(messageTypeName(messageType(m)) << ", " << frame.size() << " bytes");
        for (size_t n = 0; n < frame.size(); ++n) {
            auto result = decodeFrame(frame.data(), n);
            const FrameFailure* f = refused(result);
            INFO("prefix of " << n << " bytes");
            REQUIRE(f != nullptr);
            CHECK(f->error == (n < 4 ? FrameError::NotAFrame : FrameError::Malformed));
            CHECK_FALSE(f->message.empty());
        }
    }
}

TEST_CASE("a flipped byte is refused or reads as another valid message, never the same one", "[sync][protocol]") {
    const Sealing s;
    const auto samples = allSamples(s);
    size_t tried = 0;
    size_t refusedCount = 0;
    size_t sameMessage = 0;
    for (size_t which : {size_t(1), size_t(4), size_t(5), size_t(13)}) {  // EnrolRequest, UploadReply, UpdatesRequest, Ok
        const Message& original = samples[which];
        const auto frame = encodeFrame(original);
        for (size_t i = 0; i < frame.size(); ++i) {
            for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
                auto damaged = frame;
                damaged[i] ^= mask;
                ++tried;
                auto result = decodeFrame(damaged);
                if (const Message* m = decoded(result)) {
                    INFO("byte " << i << " ^ " << int(mask) << " of " << messageTypeName(messageType(original)));
                    // Whatever is accepted is a message in its own right.
                    auto again = decodeFrame(encodeFrame(*m));
                    REQUIRE(decoded(again) != nullptr);
                    CHECK(*decoded(again) == *m);
                    // zstd's entropy tables have a few bits that do not change the output;
                    // such a flip yields the very same message (harmless: nothing changed).
                    if (*m == original) ++sameMessage;
                } else {
                    ++refusedCount;
                }
            }
        }
    }
    // The zstd checksum catches damage to the body, so nearly all are refused outright.
    CHECK(refusedCount > tried * 95 / 100);
    CHECK(sameMessage < tried / 100);
}

TEST_CASE("a frame of another protocol version names both versions", "[sync][protocol]") {
    auto frame = encodeFrame(Ok{});
    frame[4] = 2;
    auto result = decodeFrame(frame);
    const FrameFailure* f = refused(result);
    REQUIRE(f != nullptr);
    CHECK(f->error == FrameError::WrongVersion);
    CHECK(f->peerVersion == 2);
    CHECK_THAT(f->message, Catch::Contains("version 2") && Catch::Contains("version 1") && Catch::Contains("update"));

    const ErrorReply newer = errorFor(*f);
    CHECK(newer.code == ErrorCode::WrongProtocolVersion);
    CHECK(httpStatus(newer.code) == 400);
    CHECK_THAT(newer.message, Catch::Contains("version 2") && Catch::Contains("version 1") &&
                                  Catch::Contains("update the aggregator"));

    frame[4] = 0;
    frame[5] = 0;
    auto older = decodeFrame(frame);
    REQUIRE(refused(older) != nullptr);
    CHECK(refused(older)->peerVersion == 0);
    const ErrorReply olderReply = errorFor(*refused(older));
    CHECK_THAT(olderReply.message, Catch::Contains("version 0") && Catch::Contains("version 1") &&
                                       Catch::Contains("update ClusterKit on this device"));

    // A version far ahead (high byte set) is read little-endian.
    frame[4] = 0x01;
    frame[5] = 0x01;
    auto far = decodeFrame(frame);
    REQUIRE(refused(far) != nullptr);
    CHECK(refused(far)->peerVersion == 257);
}

TEST_CASE("not a frame, unknown type, oversized frame and stray bytes are refused by name", "[sync][protocol]") {
    const auto ok = encodeFrame(Ok{});
    CHECK(errorOf(std::vector<uint8_t>{}) == FrameError::NotAFrame);
    CHECK(errorOf(std::vector<uint8_t>{'G', 'E', 'T', ' ', '/'}) == FrameError::NotAFrame);
    CHECK(decodeFrame(nullptr, 0).index() == 1);

    for (uint8_t type : {uint8_t(0), uint8_t(15), uint8_t(255)}) {
        auto frame = ok;
        frame[6] = type;
        CHECK(errorOf(frame) == FrameError::UnknownType);
    }

    // A well-formed header ahead of more than kMaxFrameBytes is refused before decompression.
    std::vector<uint8_t> huge(kMaxFrameBytes + 1, 0);
    std::copy(ok.begin(), ok.begin() + 7, huge.begin());
    CHECK(errorOf(huge) == FrameError::TooLarge);
    const ErrorReply tooLarge = errorFor(FrameFailure{FrameError::TooLarge, 0, "x"});
    CHECK(tooLarge.code == ErrorCode::BodyTooLarge);
    CHECK(httpStatus(tooLarge.code) == 413);

    auto trailing = ok;
    trailing.push_back(0);
    CHECK(errorOf(trailing) == FrameError::Malformed);
    auto twoFrames = ok;
    twoFrames.insert(twoFrames.end(), ok.begin() + 7, ok.end());
    CHECK(errorOf(twoFrames) == FrameError::Malformed);

    // Bytes left over inside the body, after the message.
    CHECK(errorOf(frameAround(MessageType::Ok, body({0}))) == FrameError::Malformed);
    CHECK_THAT(failureText(frameAround(MessageType::Ok, body({0}))), Catch::Contains("after the end"));
    // A body in cereal's big-endian order: not what any ClusterKit writes.
    CHECK(errorOf(frameAround(MessageType::Ok, {0})) == FrameError::Malformed);
    CHECK(errorOf(frameAround(MessageType::Ok, {})) == FrameError::Malformed);
    // Compressed bytes that are not zstd.
    auto notZstd = ok;
    notZstd.resize(7);
    for (uint8_t b : {0x12, 0x34, 0x56, 0x78, 0x9a}) notZstd.push_back(b);
    CHECK(errorOf(notZstd) == FrameError::Malformed);

    for (FrameError e : {FrameError::NotAFrame, FrameError::UnknownType, FrameError::Malformed}) {
        const ErrorReply reply = errorFor(FrameFailure{e, 0, "the UploadBatch message is damaged"});
        CHECK(reply.code == ErrorCode::MalformedBody);
        CHECK(httpStatus(reply.code) == 400);
        CHECK_THAT(reply.message, Catch::Contains("the UploadBatch message is damaged"));
    }
}

TEST_CASE("a zstd bomb is refused at the cap without being expanded", "[sync][protocol]") {
    // 200 MiB of zeros, compressed in a stream so that neither this test nor the frame holds
    // them: once with the size declared in the frame header and once without.
    auto bomb = [](bool declareSize) {
        std::vector<uint8_t> frame{'C', 'K', 'S', 'P', 1, 0, uint8_t(MessageType::ChunkUpload)};
        ZSTD_CCtx* cctx = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 1);
        const size_t total = 200u * 1024 * 1024;
        if (declareSize) ZSTD_CCtx_setPledgedSrcSize(cctx, total);
        std::vector<uint8_t> zeros(1024 * 1024, 0);
        zeros[0] = 1;  // the byte-order mark, then zeros
        std::vector<uint8_t> out(ZSTD_CStreamOutSize());
        for (size_t sent = 0; sent < total; sent += zeros.size()) {
            const bool last = sent + zeros.size() >= total;
            ZSTD_inBuffer in{zeros.data(), zeros.size(), 0};
            bool done = false;
            while (!done) {
                ZSTD_outBuffer o{out.data(), out.size(), 0};
                const size_t left = ZSTD_compressStream2(cctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
                frame.insert(frame.end(), out.begin(), out.begin() + o.pos);
                done = last ? left == 0 : in.pos == in.size;
            }
            zeros[0] = 0;
        }
        ZSTD_freeCCtx(cctx);
        return frame;
    };
    for (bool declared : {true, false}) {
        INFO((declared ? "size declared" : "size not declared"));
        const auto frame = bomb(declared);
        CHECK(frame.size() < 64 * 1024);
        CHECK(ZSTD_getFrameContentSize(frame.data() + 7, frame.size() - 7) ==
              (declared ? 200ull * 1024 * 1024 : ZSTD_CONTENTSIZE_UNKNOWN));
        CHECK(errorOf(frame) == FrameError::TooLarge);
        CHECK_THAT(failureText(frame), Catch::Contains("64 MiB"));
        // Refused with 32 MiB to spare: nothing near the cap was allocated on the way.
        CHECK(inBoundedChild(32u * 1024 * 1024, [&] {
                  auto r = decodeFrame(frame);
                  return refused(r) != nullptr && refused(r)->error == FrameError::TooLarge;
              }) == 0);
    }
    // The bound is real: the same child cannot hold 64 MiB.
    CHECK(inBoundedChild(32u * 1024 * 1024, [] {
              std::vector<uint8_t> big(64u * 1024 * 1024, 1);
              return big[12345] == 1;
          }) != 0);
}

TEST_CASE("a body that lies about its size is refused", "[sync][protocol]") {
    // The zstd header says 5 bytes; the content is longer.
    const auto real = body({0, 0, 0, 0, 0, 0, 0, 0, 0});
    auto frame = frameAround(MessageType::Ok, real);
    // Frame header: magic(4) descriptor(1) [window] content size. Find and change the size byte.
    const uint8_t descriptor = frame[7 + 4];
    REQUIRE((descriptor & 0x20) != 0);  // single segment: a 1-byte size right after the descriptor
    REQUIRE(frame[7 + 5] == real.size());
    frame[7 + 5] = 5;
    CHECK(errorOf(frame) == FrameError::Malformed);
    frame[7 + 5] = 40;
    CHECK(errorOf(frame) == FrameError::Malformed);
}

TEST_CASE("huge declared counts and lengths are refused without allocating", "[sync][protocol]") {
    std::vector<std::pair<MessageType, std::vector<uint8_t>>> hostile;
    // UploadReply claiming 2^40 acknowledgements, then 1000 with no bytes behind them.
    {
        auto b = body({});
        appendVarint(b, uint64_t(1) << 40);
        hostile.push_back({MessageType::UploadReply, b});
        auto c = body({});
        appendVarint(c, 1000);
        hostile.push_back({MessageType::UploadReply, c});
    }
    // An UploadBatch with a valid key and time, claiming 1000 envelopes, then 1001.
    for (uint64_t n : {uint64_t(1000), uint64_t(1001)}) {
        auto b = body({32});
        b.insert(b.end(), 32, 7);
        b.insert(b.end(), 8, 0);
        appendVarint(b, n);
        hostile.push_back({MessageType::UploadBatch, b});
    }
    // An ErrorReply whose message claims 2^62 bytes; an EnrolRequest code of 60 KiB with 3 behind.
    {
        auto b = body({uint8_t(ErrorCode::ServerError)});
        appendVarint(b, uint64_t(1) << 62);
        hostile.push_back({MessageType::Error, b});
        auto c = body({});
        appendVarint(c, 60 * 1024);
        c.insert(c.end(), {'a', 'b', 'c'});
        hostile.push_back({MessageType::EnrolRequest, c});
    }
    // Updates claiming 99,999 assignments; ChunkQueryReply claiming 99,999 flags; a Bundle
    // claiming a billion batches; a Receipt claiming 400,000 entries.
    {
        auto b = body({0, 0, 0});  // cursor, more, no templates
        appendVarint(b, 99'999);
        hostile.push_back({MessageType::Updates, b});
        auto c = body({});
        appendVarint(c, 99'999);
        hostile.push_back({MessageType::ChunkQueryReply, c});
        auto d = body({0, 0, 0, 0, 0, 0, 0, 0, 0});  // empty creator, createdAt
        appendVarint(d, 1'000'000'000);
        hostile.push_back({MessageType::Bundle, d});
        auto e = body({0, 0, 0, 0, 0, 0, 0, 0, 0});
        appendVarint(e, 400'000);
        hostile.push_back({MessageType::Receipt, e});
    }
    // A varint longer than 64 bits.
    hostile.push_back({MessageType::UploadReply, body({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})});
    // A non-minimal varint (0 written as two bytes).
    hostile.push_back({MessageType::UploadReply, body({0x80, 0x00})});

    for (const auto& [type, b] : hostile) {
        const auto frame = frameAround(type, b);
        INFO(messageTypeName(type) << " body of " << b.size() << " bytes");
        CHECK(errorOf(frame) == FrameError::Malformed);
        CHECK_THAT(failureText(frame), Catch::Contains(messageTypeName(type)));
        CHECK(inBoundedChild(16u * 1024 * 1024, [&] {
                  auto r = decodeFrame(frame);
                  return refused(r) != nullptr && refused(r)->error == FrameError::Malformed;
              }) == 0);
    }
}

TEST_CASE("fields of the wrong size or beyond their limits are refused", "[sync][protocol]") {
    const Sealing s;
    const auto samples = allSamples(s);
    const auto& batch = std::get<UploadBatch>(samples[3]);
    auto refusedWith = [](const Message& m, const std::string& words) {
        const auto frame = encodeFrame(m);
        INFO(words);
        CHECK(errorOf(frame) == FrameError::Malformed);
        CHECK_THAT(failureText(frame), Catch::Contains(words));
    };
    {
        auto m = batch;
        m.devicePublicKey.pop_back();
        refusedWith(m, "the device key is 31 bytes, not 32");
    }
    {
        auto m = batch;
        m.signature.push_back(0);
        refusedWith(m, "the batch signature");
    }
    {
        auto m = batch;
        m.envelopes[0].mainHash.resize(31);
        refusedWith(m, "main hash is neither 32 bytes nor left out");
        m.envelopes[0].mainHash.resize(32);
        CHECK(decoded(decodeFrame(encodeFrame(m))) != nullptr);
    }
    {
        auto m = batch;
        m.envelopes[0].format = 3;
        refusedWith(m, "format is unknown");
    }
    {
        auto m = batch;
        m.envelopes[0].contentHash.resize(16);
        refusedWith(m, "content hash");
    }
    {
        auto m = batch;
        m.envelopes[1].recordId.clear();
        refusedWith(m, "record id is empty");
    }
    {
        auto m = batch;
        m.envelopes[0].sealedRecord.resize(47);
        refusedWith(m, "too short to be sealed");
    }
    {
        auto m = batch;
        m.envelopes[0].signature.resize(63);
        refusedWith(m, "a record's signature");
    }
    {
        auto m = batch;
        m.envelopes.resize(kMaxBatchRecords + 1, batch.envelopes[0]);
        refusedWith(m, "more items than allowed");
        m.envelopes.resize(kMaxBatchRecords);
        CHECK(decoded(decodeFrame(encodeFrame(m))) != nullptr);
    }
    {
        ChunkUpload m{s.device.publicKey, 1, std::vector<uint8_t>(kMaxChunkBytes + 1, 1), bytesOf(64, 0)};
        refusedWith(m, "the chunk is longer than allowed");
        m.data.resize(kMaxChunkBytes);
        CHECK(decoded(decodeFrame(encodeFrame(m))) != nullptr);
        m.data.clear();
        refusedWith(m, "the chunk is empty");
    }
    {
        Updates m;
        m.templates.push_back({"t", "1", std::string(16u * 1024 * 1024 + 1, ' '), bytesOf(64, 0)});
        refusedWith(m, "a template's JSON is longer than allowed");
        m.templates[0].jsonText.pop_back();
        CHECK(decoded(decodeFrame(encodeFrame(m))) != nullptr);
    }
    {
        ErrorReply m{ErrorCode::ServerError, std::string(64 * 1024 + 1, 'x'), 0};
        refusedWith(m, "the error message is longer than allowed");
    }
    {
        ErrorReply m{static_cast<ErrorCode>(99), "?", 0};
        refusedWith(m, "the error code has an unknown value");
    }
    {
        UploadReply m{{RecordAck{static_cast<AckStatus>(4), RefusalReason::None, ""}}};
        refusedWith(m, "status has an unknown value");
        m.acks[0] = RecordAck{AckStatus::Refused, static_cast<RefusalReason>(6), ""};
        refusedWith(m, "refusal reason has an unknown value");
    }
    {
        Receipt m{"agg", 1, {{"rec-1", std::string(64, 'A'), {}}}, std::vector<uint8_t>(64, 7)};
        refusedWith(m, "not 64 hex digits");
        m.entries[0].contentHash = std::string(63, 'a');
        refusedWith(m, "not 64 hex digits");
        // Empty: a record refused before it could be opened has no known content hash.
        m.entries[0].contentHash.clear();
        CHECK(decoded(decodeFrame(encodeFrame(m))) != nullptr);
    }
    {
        EnrolReply m{"d", "o", "c", "a", bytesOf(32, 1), bytesOf(33, 1)};
        refusedWith(m, "the template signing key");
    }
    {
        auto frame = frameAround(MessageType::Updates, body({0, 2, 0, 0, 0}));
        CHECK_THAT(failureText(frame), Catch::Contains("neither true nor false"));
    }
    {
        // A flag set in the unused high bits of the last byte of ChunkQueryReply.
        auto frame = frameAround(MessageType::ChunkQueryReply, body({3, 0x09}));
        CHECK_THAT(failureText(frame), Catch::Contains("stray bits"));
        CHECK(decoded(decodeFrame(frameAround(MessageType::ChunkQueryReply, body({3, 0x05})))) != nullptr);
    }
}

TEST_CASE("signatures verify and fail when any signed field changes", "[sync][protocol]") {
    const Sealing s;
    const auto samples = allSamples(s);
    const DeviceKey other = newDeviceKey();

    auto checkAll = [&](const auto& original, const std::vector<std::function<void(std::decay_t<decltype(original)>&)>>& changes) {
        REQUIRE(verifySignature(signingBytes(original), original.signature, original.devicePublicKey));
        CHECK_FALSE(verifySignature(signingBytes(original), original.signature, other.publicKey));
        int i = 0;
        for (const auto& change : changes) {
            auto m = original;
            change(m);
            INFO("change #" << i++);
            CHECK_FALSE(verifySignature(signingBytes(m), original.signature, original.devicePublicKey));
        }
    };

    checkAll(std::get<EnrolRequest>(samples[1]), {
        [](EnrolRequest& m) { m.code += "X"; },
        [&](EnrolRequest& m) { m.devicePublicKey = other.publicKey; },
        [](EnrolRequest& m) { m.deviceLabel = "Tab 4"; },
        [](EnrolRequest& m) { m.sentAt += 1; },
        // The boundary between code and label is fixed by the lengths.
        [](EnrolRequest& m) { m.code += m.deviceLabel.substr(0, 1); m.deviceLabel.erase(0, 1); },
    });
    checkAll(std::get<UploadBatch>(samples[3]), {
        [&](UploadBatch& m) { m.devicePublicKey = other.publicKey; },
        [](UploadBatch& m) { m.sentAt -= 1; },
        [](UploadBatch& m) { m.envelopes.pop_back(); },
        [](UploadBatch& m) { std::swap(m.envelopes[0], m.envelopes[1]); },
        [](UploadBatch& m) { m.envelopes.push_back(m.envelopes[0]); },
        [](UploadBatch& m) { m.envelopes[0].recordId[0] ^= 1; },
        [](UploadBatch& m) { m.envelopes[0].parentId = "rec-0"; },
        [](UploadBatch& m) { m.envelopes[0].templateId += "x"; },
        [](UploadBatch& m) { m.envelopes[0].templateVersion = "2026.2"; },
        [](UploadBatch& m) { m.envelopes[0].format = 1; },
        [](UploadBatch& m) { m.envelopes[0].mainHash.assign(32, 0); },
        [](UploadBatch& m) { m.envelopes[0].contentHash.assign(32, 0); },
        [](UploadBatch& m) { m.envelopes[1].contentHash[31] ^= 1; },
        [](UploadBatch& m) { m.envelopes[1].contentHash.clear(); },
        [](UploadBatch& m) { m.envelopes[0].sealedRecord[20] ^= 1; },
        [](UploadBatch& m) { m.envelopes[1].sealedPersonal.back() ^= 1; },
        [](UploadBatch& m) { m.envelopes[0].signature[0] ^= 1; },
    });
    checkAll(std::get<UpdatesRequest>(samples[5]), {
        [&](UpdatesRequest& m) { m.devicePublicKey = other.publicKey; },
        [](UpdatesRequest& m) { m.cursor = 0; },
        [](UpdatesRequest& m) { m.sentAt += 900; },
    });
    checkAll(std::get<ChunkQuery>(samples[7]), {
        [&](ChunkQuery& m) { m.devicePublicKey = other.publicKey; },
        [](ChunkQuery& m) { m.sentAt += 1; },
        [](ChunkQuery& m) { m.hashes.pop_back(); },
        [](ChunkQuery& m) { m.hashes[1][5] ^= 1; },
    });
    checkAll(std::get<ChunkUpload>(samples[9]), {
        [&](ChunkUpload& m) { m.devicePublicKey = other.publicKey; },
        [](ChunkUpload& m) { m.sentAt += 1; },
        [](ChunkUpload& m) { m.data[999] ^= 1; },
        [](ChunkUpload& m) { m.data.push_back(9); },
    });
    checkAll(std::get<AttachmentCommit>(samples[10]), {
        [&](AttachmentCommit& m) { m.devicePublicKey = other.publicKey; },
        [](AttachmentCommit& m) { m.sentAt += 1; },
        [](AttachmentCommit& m) { m.recordId = "rec-2"; },
        [](AttachmentCommit& m) { m.attachmentId = "photo-2"; },
        [](AttachmentCommit& m) { m.mediaType = "image/png"; },
        [](AttachmentCommit& m) { m.totalBytes += 1; },
        [](AttachmentCommit& m) { std::swap(m.chunkHashes[0], m.chunkHashes[1]); },
        [](AttachmentCommit& m) { m.chunkHashes.push_back(m.chunkHashes[0]); },
    });

    // Signatures are bound to the kind of request: the same key, a different domain.
    const auto& updates = std::get<UpdatesRequest>(samples[5]);
    const ChunkQuery query{updates.devicePublicKey, updates.sentAt, {}, {}};
    CHECK_FALSE(verifySignature(signingBytes(query), updates.signature, updates.devicePublicKey));

    // Wrong sizes are a plain false.
    CHECK_FALSE(verifySignature({1, 2, 3}, bytesOf(63, 0), s.device.publicKey));
    CHECK_FALSE(verifySignature({1, 2, 3}, bytesOf(64, 0), bytesOf(31, 0)));
    CHECK_FALSE(verifySignature({1, 2, 3}, {}, {}));
}

TEST_CASE("template signatures cover id, version and text with fixed boundaries", "[sync][protocol]") {
    const DeviceKey publisher = newDeviceKey();
    const Signer sign = signerFor(publisher.secretKey);
    const std::string json = R"({"id":"cluster-diagnostic","version":"2026.1"})";
    const auto signature = sign(templateSigningBytes("cluster-diagnostic", "2026.1", json));
    CHECK(signature.size() == 64);
    CHECK(verifySignature(templateSigningBytes("cluster-diagnostic", "2026.1", json), signature, publisher.publicKey));
    CHECK_FALSE(verifySignature(templateSigningBytes("cluster-diagnostic", "2026.2", json), signature, publisher.publicKey));
    CHECK_FALSE(verifySignature(templateSigningBytes("cluster-diagnosti", "c2026.1", json), signature, publisher.publicKey));
    CHECK_FALSE(verifySignature(templateSigningBytes("cluster-diagnostic", "2026.1", json + " "), signature,
                                publisher.publicKey));
    CHECK(templateSigningBytes("ab", "c", "") != templateSigningBytes("a", "bc", ""));
    // Ed25519 signatures are deterministic: the signer is the key, nothing else.
    CHECK(sign(templateSigningBytes("cluster-diagnostic", "2026.1", json)) == signature);
}

TEST_CASE("an envelope goes to the wire and back and opens as the one the device signed", "[sync][protocol]") {
    const Sealing s;
    for (bool custodian : {false, true}) {
        INFO((custodian ? "with a personal part" : "no personal part"));
        const SealedEnvelope original = s.seal(visitRecord(7), custodian);
        REQUIRE(verifyEnvelope(original));
        REQUIRE(original.format == kEnvelopeFormat);
        const WireEnvelope wire = toWire(original);
        CHECK(wire.format == original.format);
        CHECK(wire.mainHash.empty());                               // recomputed by the aggregator
        CHECK(wire.contentHash.size() == (custodian ? 32u : 0u));  // sent only when it says more
        CHECK(wire.signature == original.signature);

        // Through a real frame, as it travels.
        UploadBatch batch{s.device.publicKey, 1795000000, {wire}, {}};
        batch.signature = signerFor(s.device.secretKey)(signingBytes(batch));
        auto result = decodeFrame(encodeFrame(batch));
        REQUIRE(decoded(result) != nullptr);
        const auto& arrived = std::get<UploadBatch>(*decoded(result));
        CHECK(verifySignature(signingBytes(arrived), arrived.signature, arrived.devicePublicKey));

        auto back = fromWire(arrived.envelopes.at(0), arrived.devicePublicKey);
        REQUIRE(back.has_value());
        CHECK(back->mainHash.empty());
        CHECK(back->contentHash == (custodian ? original.contentHash : std::string()));
        CHECK_FALSE(verifyEnvelope(*back));  // not until the hashes are filled in
        CHECK(toWire(*back) == wire);
        // Opening fills the hashes from the record, then verifies: exactly what was signed.
        auto opened = openEnvelope(*back, s.aggregator.publicKey, s.aggregator.secretKey);
        CHECK(std::holds_alternative<OpenedEnvelope>(opened));
        CHECK(*back == original);
        CHECK(verifyEnvelope(*back));

        // A sender that keeps the main hash on the wire gives the signed envelope at once.
        WireEnvelope full = wire;
        full.mainHash.resize(32);
        REQUIRE(sodium_hex2bin(full.mainHash.data(), 32, original.mainHash.data(), 64, nullptr, nullptr, nullptr) == 0);
        const auto whole = fromWire(full, s.device.publicKey);
        REQUIRE(whole.has_value());
        CHECK(*whole == original);
        CHECK(verifyEnvelope(*whole));

        // Under another device's key it does not open: the batch's key is the signer.
        auto foreign = fromWire(arrived.envelopes.at(0), newDeviceKey().publicKey);
        REQUIRE(foreign.has_value());
        auto refusedOpen = openEnvelope(*foreign, s.aggregator.publicKey, s.aggregator.secretKey);
        REQUIRE(std::holds_alternative<EnvelopeError>(refusedOpen));
        CHECK(std::get<EnvelopeError>(refusedOpen) == EnvelopeError::BadSignature);
    }
    const WireEnvelope good = toWire(s.seal(visitRecord(8)));
    auto broken = good;
    broken.mainHash.assign(31, 0);
    CHECK_FALSE(fromWire(broken, s.device.publicKey).has_value());
    broken = good;
    broken.contentHash.assign(31, 0);
    CHECK_FALSE(fromWire(broken, s.device.publicKey).has_value());
    broken = good;
    broken.signature.resize(65);
    CHECK_FALSE(fromWire(broken, s.device.publicKey).has_value());
    broken = good;
    broken.format = 0;
    CHECK_FALSE(fromWire(broken, s.device.publicKey).has_value());
    CHECK_FALSE(fromWire(good, bytesOf(16, 0)).has_value());

    // A content hash that is not hex cannot pass for "same as mainHash" on the wire.
    SealedEnvelope odd = s.seal(visitRecord(9));
    odd.contentHash = "not hex";
    const WireEnvelope oddWire = toWire(odd);
    CHECK(oddWire.contentHash.size() == 1);
    CHECK(errorOf(encodeFrame(UploadBatch{s.device.publicKey, 1, {oddWire}, bytesOf(64, 0)})) == FrameError::Malformed);
}

TEST_CASE("chunk names are BLAKE2b-256 of the bytes", "[sync][protocol]") {
    const std::vector<uint8_t> data{'a', 'b', 'c'};
    const auto h = chunkHash(data.data(), data.size());
    REQUIRE(h.size() == 32);
    uint8_t expected[32];
    crypto_generichash(expected, 32, data.data(), data.size(), nullptr, 0);
    CHECK(std::equal(h.begin(), h.end(), expected));
    CHECK(chunkHash(data.data(), 2) != h);
    CHECK(chunkHash(nullptr, 0).size() == 32);
}

TEST_CASE("names and HTTP statuses for every code", "[sync][protocol]") {
    std::set<std::string> names;
    for (int c = 1; c <= int(ErrorCode::Unauthorised); ++c) {
        const auto code = static_cast<ErrorCode>(c);
        const std::string name = errorCodeName(code);
        CHECK(name != "unknown");
        names.insert(name);
        const int status = httpStatus(code);
        CHECK(status >= 400);
        CHECK(status < 600);
    }
    CHECK(names.size() == size_t(ErrorCode::Unauthorised));
    CHECK(httpStatus(ErrorCode::RateLimited) == 429);
    CHECK(httpStatus(ErrorCode::ServerBusy) == 503);
    CHECK(httpStatus(ErrorCode::EnrolmentCodeUsed) == 409);
    CHECK(httpStatus(ErrorCode::EnrolmentCodeExpired) == 410);
    CHECK(httpStatus(ErrorCode::RevokedDevice) == 403);
    CHECK(httpStatus(ErrorCode::UnknownDevice) == 401);
    std::set<std::string> typeNames;
    for (int t = 1; t <= int(MessageType::Ok); ++t) typeNames.insert(messageTypeName(static_cast<MessageType>(t)));
    CHECK(typeNames.size() == size_t(MessageType::Ok));
    CHECK(std::string(messageTypeName(static_cast<MessageType>(0))) == "unknown");
}

TEST_CASE("the fuzz seed corpus is made of valid frames", "[sync][protocol]") {
    // Writes each sample frame to the scratch folder (copied into tests/fuzz/corpus/frame by
    // hand when the format changes, with body_<type> made from each by `zstd -d`) and checks
    // that the checked-in seeds still decode.
    const Sealing s;
    const std::filesystem::path scratch = std::filesystem::path(CK_BINARY_DIR) / "test-scratch/test_protocol/frames";
    std::filesystem::create_directories(scratch);
    for (const Message& m : allSamples(s)) {
        const auto frame = encodeFrame(m);
        std::ofstream(scratch / messageTypeName(messageType(m)), std::ios::binary)
            .write(reinterpret_cast<const char*>(frame.data()), std::streamsize(frame.size()));
    }
    const std::filesystem::path seeds = std::filesystem::path(CK_SOURCE_DIR) / "tests/fuzz/corpus/frame";
    size_t count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(seeds)) {
        std::ifstream in(entry.path(), std::ios::binary);
        const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        const std::string name = entry.path().filename().string();
        INFO(name);
        if (name.rfind("body_", 0) == 0) {
            // Seeds for the fuzzer's second path: a type byte, then a plain message body.
            REQUIRE_FALSE(bytes.empty());
            const auto type = static_cast<MessageType>(bytes[0] % 14 + 1);
            CHECK(decoded(decodeFrame(frameAround(type, std::vector<uint8_t>(bytes.begin() + 1, bytes.end())))) != nullptr);
            continue;
        }
        CHECK(decoded(decodeFrame(bytes)) != nullptr);
        ++count;
    }
    CHECK(count >= size_t(MessageType::Ok));
}
