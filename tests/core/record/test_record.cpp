// Records round-trip through cereal's portable binary form, and corrupt bytes are refused.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <set>
#include <sstream>

#include <cereal/archives/portable_binary.hpp>
#include <nlohmann/json.hpp>

#include "core/record/record.h"
#include "core/record/record_json.h"

using namespace ck;

namespace {

Record sampleRecord() {
    Record r;
    r.id = newRecordId();
    r.templateId = "cluster-diagnostic";
    r.templateVersion = "2026.1";
    r.createdAt = 1795000000;
    r.updatedAt = 1795003600;
    r.answers.push_back({"consent", Value::text("yes"), false, {}});
    r.answers.push_back({"workers", Value::number(42), false, {}});
    r.answers.push_back({"capacity", Value::number(72.5), false, {}});
    r.answers.push_back({"turnover", Value::dontKnow(), false, {}});
    r.answers.push_back({"loan", Value::refused(), false, {}});
    r.answers.push_back({"exporter", Value::boolean(true), false, {}});
    r.answers.push_back({"visit_date", Value::date(*parseIsoDate("2026-11-20")), false, {}});
    r.answers.push_back({"certs", Value::choices({"iso9001", "oeko_tex"}), false, {}});
    r.answers.push_back({"gps", Value::geo({11.1085, 77.3411, 8}), false, {}});
    r.answers.push_back({"owner", Value::text("श्री मुरुगन निटवेयर"), false, {}});
    Answer lines{"product_lines", Value(), true, {}};
    lines.instances.push_back({{"product", Value::text("t_shirts"), false, {}}, {"line_sales", Value::number(4e6), false, {}}});
    lines.instances.push_back({{"product", Value::text("innerwear"), false, {}}});
    r.answers.push_back(lines);
    return r;
}

// The record format written by cereal's portable archive in big-endian order, as a machine of
// that order writes it (the library's serialiser always writes this machine's order): the
// reader must byte-swap, as cereal's reader did before the reader read bytes in place.
std::string serializeBigEndian(const Record& r) {
    std::ostringstream os(std::ios::binary);
    {
        cereal::PortableBinaryOutputArchive ar(os, cereal::PortableBinaryOutputArchive::Options::BigEndian());
        auto str = [&](const std::string& s) {
            ar(uint64_t(s.size()));
            ar(cereal::binary_data(const_cast<char*>(s.data()), s.size()));
        };
        auto value = [&](const Value& v) {
            ar(uint8_t(v.kind()));
            switch (v.kind()) {
                case ValueKind::Empty:
                case ValueKind::DontKnow:
                case ValueKind::Refused: break;
                case ValueKind::Bool: ar(uint8_t(v.asBool() ? 1 : 0)); break;
                case ValueKind::Number: ar(v.asNumber()); break;
                case ValueKind::Text: str(v.asText()); break;
                case ValueKind::Date: ar(int64_t(v.asDate().days)); break;
                case ValueKind::Choices:
                    ar(uint64_t(v.asChoices().size()));
                    for (const auto& c : v.asChoices()) str(c);
                    break;
                case ValueKind::Geo: ar(v.asGeo().latitude, v.asGeo().longitude, v.asGeo().accuracyMetres.value_or(NAN)); break;
            }
        };
        std::function<void(const std::vector<Answer>&)> answers = [&](const std::vector<Answer>& list) {
            ar(uint64_t(list.size()));
            for (const Answer& a : list) {
                str(a.questionId);
                value(a.value);
                ar(uint8_t(a.isRepeat ? 1 : 0));
                if (!a.isRepeat) continue;
                ar(uint64_t(a.instances.size()));
                for (const auto& inst : a.instances) answers(inst);
            }
        };
        ar(uint32_t(0x434b5231), uint32_t(1));
        str(r.id);
        str(r.templateId);
        str(r.templateVersion);
        ar(r.createdAt, r.updatedAt);
        str(r.parentId);
        answers(r.answers);
    }
    return os.str();
}

}  // namespace

TEST_CASE("a record written in the other byte order reads the same", "[core][record]") {
    Record r = sampleRecord();
    r.parentId = newRecordId();
    const std::string little = serializeRecord(r), big = serializeBigEndian(r);
    REQUIRE(big.size() == little.size());
    CHECK(big != little);
    CHECK(big[0] == '\0');  // the writer's order: big
    auto back = deserializeRecord(big);
    INFO(back.error);
    REQUIRE(back.record);
    CHECK(*back.record == r);
    CHECK(serializeRecord(*back.record) == little);
    // Every truncation of it is refused too.
    for (size_t n = 0; n < big.size(); n += 7) CHECK_FALSE(deserializeRecord(std::string_view(big).substr(0, n)).record);
}

TEST_CASE("record ids are random UUID v4", "[core][record]") {
    std::set<std::string> seen;
    for (int i = 0; i < 100; ++i) {
        std::string id = newRecordId();
        REQUIRE(id.size() == 36);
        CHECK(id[14] == '4');
        CHECK((id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b'));
        seen.insert(id);
    }
    CHECK(seen.size() == 100);
}

TEST_CASE("a record round-trips through the portable binary form", "[core][record]") {
    Record r = sampleRecord();
    std::string bytes = serializeRecord(r);
    auto back = deserializeRecord(bytes);
    INFO(back.error);
    REQUIRE(back.record);
    CHECK(*back.record == r);
    CHECK(back.record->find("product_lines")->instances.size() == 2);
}

TEST_CASE("every truncation of a record is refused, never a crash", "[core][record]") {
    std::string bytes = serializeRecord(sampleRecord());
    for (size_t n = 0; n < bytes.size(); ++n) {
        auto back = deserializeRecord(std::string_view(bytes).substr(0, n));
        CHECK_FALSE(back.record);
        CHECK_FALSE(back.error.empty());
    }
}

TEST_CASE("corrupt records are refused with a reason", "[core][record]") {
    std::string bytes = serializeRecord(sampleRecord());
    SECTION("not a record") {
        auto back = deserializeRecord("hello, this is not a record at all");
        CHECK_FALSE(back.record);
        CHECK_THAT(back.error, Catch::Contains("not a ClusterKit record"));
    }
    SECTION("a length field claiming more bytes than there are") {
        std::string bad = bytes;
        // The first string's length follows the endianness byte, magic and format (1+4+4).
        for (size_t i = 9; i < 17; ++i) bad[i] = '\x7f';
        auto back = deserializeRecord(bad);
        CHECK_FALSE(back.record);
        CHECK_THAT(back.error, Catch::Contains("truncated or corrupt"));
    }
    SECTION("trailing bytes") {
        auto back = deserializeRecord(bytes + "xx");
        CHECK_FALSE(back.record);
        CHECK_THAT(back.error, Catch::Contains("unexpected bytes"));
    }
    SECTION("an unknown format version") {
        std::string bad = bytes;
        bad[5] = '\x09';
        auto back = deserializeRecord(bad);
        CHECK_FALSE(back.record);
        CHECK_THAT(back.error, Catch::Contains("format"));
    }
    SECTION("an oversized input") {
        auto back = deserializeRecord(std::string(kMaxRecordBytes + 1, '\0'));
        CHECK_FALSE(back.record);
        CHECK_THAT(back.error, Catch::Contains("limit"));
    }
}

TEST_CASE("records export as JSON in the documented shape", "[core][record]") {
    Record r = sampleRecord();
    auto j = recordToJson(r);
    CHECK(j["id"] == r.id);
    CHECK(j["template_id"] == "cluster-diagnostic");
    CHECK(j["created_at"] == formatUtc(1795000000));
    const auto& a = j["answers"];
    CHECK(a["workers"] == 42);
    CHECK(a["workers"].is_number_integer());
    CHECK(a["capacity"] == 72.5);
    CHECK(a["turnover"] == nlohmann::ordered_json{{"dont_know", true}});
    CHECK(a["loan"] == nlohmann::ordered_json{{"refused", true}});
    CHECK(a["visit_date"] == "2026-11-20");
    CHECK(a["certs"] == nlohmann::ordered_json::array({"iso9001", "oeko_tex"}));
    CHECK(a["gps"]["lat"] == 11.1085);
    CHECK(a["owner"] == "श्री मुरुगन निटवेयर");
    REQUIRE(a["product_lines"].size() == 2);
    CHECK(a["product_lines"][0]["line_sales"] == 4000000);
    // Answers keep template order.
    CHECK(a.begin().key() == "consent");
}

TEST_CASE("UTC times format as ISO 8601", "[core][record]") {
    CHECK(formatUtc(0) == "1970-01-01T00:00:00Z");
    CHECK(formatUtc(1795000000) == "2026-11-18T11:06:40Z");
}

TEST_CASE("a GPS point with no accuracy keeps it unknown, never 0 m", "[core][record]") {
    Record r = sampleRecord();
    r.answers.push_back({"gps_typed", Value::geo({11.1271, 77.3398, std::nullopt}), false, {}});
    auto back = deserializeRecord(serializeRecord(r));
    INFO(back.error);
    REQUIRE(back.record);
    CHECK(*back.record == r);
    const GeoPoint& typed = back.record->find("gps_typed")->value.asGeo();
    CHECK_FALSE(typed.accuracyMetres.has_value());
    REQUIRE(back.record->find("gps")->value.asGeo().accuracyMetres);
    CHECK(*back.record->find("gps")->value.asGeo().accuracyMetres == 8);
    auto j = recordToJson(r);
    CHECK(j["answers"]["gps_typed"]["accuracy"].is_null());
    CHECK(j["answers"]["gps"]["accuracy"] == 8);
    // ODK's geopoint text: without an accuracy, latitude and longitude only.
    CHECK(Value::geo({11.5, 77.25, std::nullopt}).toString() == "11.5 77.25");
    CHECK(Value::geo({11.5, 77.25, 0.0}).toString() == "11.5 77.25 0 0");
}
