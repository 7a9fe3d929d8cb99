#include "core/record/record.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstring>
#include <cmath>
#include <limits>
#include <ctime>
#include <sstream>
#include <stdexcept>

#include <cereal/archives/portable_binary.hpp>
#include <sodium.h>

namespace ck {

const Answer* Record::find(std::string_view questionId) const {
    for (const auto& a : answers)
        if (a.questionId == questionId) return &a;
    return nullptr;
}

std::string newRecordId() {
    // sodium_init is idempotent and cheap after the first call; a process that cannot
    // initialise libsodium has no safe random source, so that is fatal.
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
    unsigned char b[16];
    randombytes_buf(b, sizeof b);
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);  // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
        s += hex[b[i] >> 4];
        s += hex[b[i] & 15];
    }
    return s;
}

int64_t unixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string formatUtc(int64_t unixSeconds) {
    std::time_t t = static_cast<std::time_t>(unixSeconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

namespace {

// Version 1: header, then answers; a repeat's instances hold plain answers only.
constexpr uint32_t kRecordFormat = 1;
constexpr uint32_t kMagic = 0x434b5231;  // "CKR1"

class Writer {
public:
    explicit Writer(std::ostream& os) : m_ar(os) {}
    void u8(uint8_t v) { m_ar(v); }
    void u32(uint32_t v) { m_ar(v); }
    void u64(uint64_t v) { m_ar(v); }
    void i64(int64_t v) { m_ar(v); }
    void f64(double v) { m_ar(v); }
    void str(const std::string& s) {
        u64(s.size());
        m_ar(cereal::binary_data(const_cast<char*>(s.data()), s.size()));
    }
    void value(const Value& v) {
        u8(static_cast<uint8_t>(v.kind()));
        switch (v.kind()) {
            case ValueKind::Empty:
            case ValueKind::DontKnow:
            case ValueKind::Refused: break;
            case ValueKind::Bool: u8(v.asBool() ? 1 : 0); break;
            case ValueKind::Number: f64(v.asNumber()); break;
            case ValueKind::Text: str(v.asText()); break;
            case ValueKind::Date: i64(v.asDate().days); break;
            case ValueKind::Choices:
                u64(v.asChoices().size());
                for (const auto& c : v.asChoices()) str(c);
                break;
            case ValueKind::Geo:
                f64(v.asGeo().latitude);
                f64(v.asGeo().longitude);
                // Unknown accuracy is written as NaN: format 1 unchanged, and NaN was never
                // a valid accuracy (the session refuses it), so no record is read differently.
                f64(v.asGeo().accuracyMetres.value_or(std::numeric_limits<double>::quiet_NaN()));
                break;
        }
    }
    void answers(const std::vector<Answer>& list, bool nested) {
        u64(list.size());
        for (const auto& a : list) {
            str(a.questionId);
            value(a.value);
            u8(a.isRepeat ? 1 : 0);
            if (a.isRepeat) {
                // The model has no repeat inside a repeat; the writer is asked never to make one.
                if (nested) throw std::logic_error("a repeat inside a repeat cannot be serialised");
                u64(a.instances.size());
                for (const auto& inst : a.instances) answers(inst, true);
            }
        }
    }

private:
    cereal::PortableBinaryOutputArchive m_ar;
};

// Reads with every length checked against the bytes that are left, so corrupt input can
// neither allocate without bound nor read past the end. It reads the bytes in place, in the
// layout cereal's portable binary archive writes (a first byte saying whether the writer was
// little-endian, then each number in that byte order): a report rebuild decodes a million
// records, and a copy into an istringstream plus cereal's per-number stream calls cost more
// than the decoding itself.
class Reader {
public:
    explicit Reader(std::string_view bytes) : m_data(bytes.data()), m_size(bytes.size()) {
        // As cereal's PortableBinaryInputArchive: byte-swap when the writer's order differs
        // from this machine's (any first byte but 0 or 1 reads as "differs", as there).
        const uint8_t writerLittle = u8();
        m_swap = (uint8_t(std::endian::native == std::endian::little) ^ writerLittle) != 0;
    }
    uint8_t u8() { return number<uint8_t>(); }
    uint32_t u32() { return number<uint32_t>(); }
    uint64_t u64() { return number<uint64_t>(); }
    int64_t i64() { return number<int64_t>(); }
    double f64() { return number<double>(); }
    size_t count(size_t minBytesEach) {
        uint64_t n = u64();
        if (n > remaining() / std::max<size_t>(minBytesEach, 1)) throw std::runtime_error("a length runs past the end of the data");
        return size_t(n);
    }
    std::string str() {
        size_t n = count(1);
        std::string s(m_data + m_at, n);
        m_at += n;
        return s;
    }
    Value value() {
        auto kind = static_cast<ValueKind>(u8());
        switch (kind) {
            case ValueKind::Empty: return {};
            case ValueKind::DontKnow: return Value::dontKnow();
            case ValueKind::Refused: return Value::refused();
            case ValueKind::Bool: return Value::boolean(u8() != 0);
            case ValueKind::Number: return Value::number(f64());
            case ValueKind::Text: return Value::text(str());
            case ValueKind::Date: {
                int64_t d = i64();
                if (d < INT32_MIN || d > INT32_MAX) throw std::runtime_error("a date is out of range");
                return Value::date(Date{int32_t(d)});
            }
            case ValueKind::Choices: {
                std::vector<std::string> names(count(8));
                for (auto& n : names) n = str();
                return Value::choices(std::move(names));
            }
            case ValueKind::Geo: {
                GeoPoint p;
                p.latitude = f64();
                p.longitude = f64();
                double accuracy = f64();
                if (!std::isnan(accuracy)) p.accuracyMetres = accuracy;
                return Value::geo(p);
            }
        }
        throw std::runtime_error("unknown value kind " + std::to_string(int(kind)));
    }
    std::vector<Answer> answers(bool nested) {
        std::vector<Answer> list(count(10));
        for (auto& a : list) {
            a.questionId = str();
            a.value = value();
            a.isRepeat = u8() != 0;
            if (a.isRepeat) {
                if (nested) throw std::runtime_error("a repeat inside a repeat");
                a.instances.resize(count(8));
                for (auto& inst : a.instances) inst = answers(true);
            }
        }
        return list;
    }
    size_t remaining() const { return m_size - m_at; }

private:
    template <typename T>
    T number() {
        if (remaining() < sizeof(T))  // cereal's words, which the error messages have always carried
            throw std::runtime_error("Failed to read " + std::to_string(sizeof(T)) + " bytes from input stream! Read " +
                                     std::to_string(remaining()));
        unsigned char b[sizeof(T)];
        std::memcpy(b, m_data + m_at, sizeof(T));
        m_at += sizeof(T);
        if (m_swap) std::reverse(b, b + sizeof(T));
        T v;
        std::memcpy(&v, b, sizeof(T));
        return v;
    }
    const char* m_data;
    size_t m_size;
    size_t m_at = 0;
    bool m_swap = false;
};

}  // namespace

std::string serializeRecord(const Record& r) {
    std::ostringstream os(std::ios::binary);
    {
        Writer w(os);
        w.u32(kMagic);
        w.u32(kRecordFormat);
        w.str(r.id);
        w.str(r.templateId);
        w.str(r.templateVersion);
        w.i64(r.createdAt);
        w.i64(r.updatedAt);
        w.str(r.parentId);
        w.answers(r.answers, false);
    }
    return os.str();
}

RecordDecode deserializeRecord(std::string_view bytes) {
    RecordDecode out;
    if (bytes.size() > kMaxRecordBytes) {
        out.error = "the record is " + std::to_string(bytes.size()) + " bytes; the limit is " + std::to_string(kMaxRecordBytes);
        return out;
    }
    try {
        Reader rd(bytes);
        if (rd.u32() != kMagic) {
            out.error = "not a ClusterKit record";
            return out;
        }
        uint32_t format = rd.u32();
        if (format != kRecordFormat) {
            out.error = "record format " + std::to_string(format) + " is not known to this version (it reads format " +
                        std::to_string(kRecordFormat) + ")";
            return out;
        }
        Record r;
        r.id = rd.str();
        r.templateId = rd.str();
        r.templateVersion = rd.str();
        r.createdAt = rd.i64();
        r.updatedAt = rd.i64();
        r.parentId = rd.str();
        r.answers = rd.answers(false);
        if (rd.remaining() != 0) {
            out.error = "the record has " + std::to_string(rd.remaining()) + " unexpected bytes at its end";
            return out;
        }
        out.record = std::move(r);
    } catch (const std::exception& e) {
        out.error = std::string("the record is truncated or corrupt: ") + e.what();
    }
    return out;
}

}  // namespace ck
