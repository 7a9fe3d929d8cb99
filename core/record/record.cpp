#include "core/record/record.h"

#include <chrono>
#include <cmath>
#include <limits>
#include <ctime>
#include <algorithm>
#include <climits>
#include <cstring>
#include <stdexcept>

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
// Version 2: version 1 with the assignment token after the parent id. A record with no token
// is still written as version 1, byte for byte, so its hashes and signatures do not change.
constexpr uint32_t kRecordFormat = 1;
constexpr uint32_t kRecordFormatWithAssignment = 2;
constexpr uint32_t kMagic = 0x434b5231;  // "CKR1"

// The bytes are cereal's portable binary archive (one byte saying the values are little
// endian, then every value in little-endian order) written and read directly: the archive
// over a string stream cost more than the rest of opening a visit (the aggregator reads and
// writes one per visit). test_record holds these bytes equal to cereal's own.
class Writer {
public:
    // `start`: a new record, which begins with the endianness byte.
    explicit Writer(std::string& out, bool start = true) : m_out(out) {
        if (start) u8(1);
    }
    void u8(uint8_t v) { m_out.push_back(char(v)); }
    void u32(uint32_t v) { little(v); }
    void u64(uint64_t v) { little(v); }
    void i64(int64_t v) { little(uint64_t(v)); }
    void f64(double v) {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        little(bits);
    }
    void str(const std::string& s) {
        u64(s.size());
        m_out.append(s);
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
    template <typename T>
    void little(T v) {
        char b[sizeof(T)];
        for (size_t i = 0; i < sizeof(T); ++i) b[i] = char(uint8_t(v >> (8 * i)));
        m_out.append(b, sizeof b);
    }
    std::string& m_out;
};

// Reads with every length checked against the bytes that are left, so corrupt input can
// neither allocate without bound nor read past the end. As cereal does, an endianness byte
// other than 1 means the values were written big endian.
class Reader {
public:
    explicit Reader(std::string_view bytes) : m_p(bytes.data()), m_end(bytes.data() + bytes.size()) {
        m_bigEndian = u8() != 1;
    }
    uint8_t u8() {
        need(1);
        return uint8_t(*m_p++);
    }
    uint32_t u32() { return number<uint32_t>(); }
    uint64_t u64() { return number<uint64_t>(); }
    int64_t i64() { return int64_t(number<uint64_t>()); }
    double f64() {
        uint64_t bits = number<uint64_t>();
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    size_t count(size_t minBytesEach) {
        uint64_t n = u64();
        if (n > remaining() / std::max<size_t>(minBytesEach, 1)) throw std::runtime_error("a length runs past the end of the data");
        return size_t(n);
    }
    std::string str() {
        size_t n = count(1);
        std::string s(m_p, n);
        m_p += n;
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
    // The id is read in place: it stays valid while the bytes do.
    std::string_view view() {
        size_t n = count(1);
        std::string_view s(m_p, n);
        m_p += n;
        return s;
    }
    void answers(RecordAnswerSink& sink, bool nested) {
        size_t n = count(10);
        for (size_t k = 0; k < n; ++k) {
            std::string_view id = view();
            Value v = value();
            if (u8() == 0) {
                sink.answer(id, std::move(v));
                continue;
            }
            if (nested) throw std::runtime_error("a repeat inside a repeat");
            size_t instances = count(8);
            sink.beginRepeat(id, instances);
            for (size_t i = 0; i < instances; ++i) {
                sink.beginInstance();
                answers(sink, true);
            }
            sink.endRepeat();
        }
    }
    size_t remaining() const { return size_t(m_end - m_p); }

private:
    void need(size_t n) const {
        if (remaining() < n)
            throw std::runtime_error("failed to read " + std::to_string(n) + " bytes: " + std::to_string(remaining()) +
                                     " left");
    }
    template <typename T>
    T number() {
        need(sizeof(T));
        T v = 0;
        for (size_t i = 0; i < sizeof(T); ++i) {
            size_t shift = 8 * (m_bigEndian ? sizeof(T) - 1 - i : i);
            v |= T(uint8_t(m_p[i])) << shift;
        }
        m_p += sizeof(T);
        return v;
    }
    const char* m_p;
    const char* m_end;
    bool m_bigEndian = false;
};

}  // namespace

namespace {

void writeHeader(Writer& w, const Record& r) {
    w.u32(kMagic);
    w.u32(r.assignment.empty() ? kRecordFormat : kRecordFormatWithAssignment);
    w.str(r.id);
    w.str(r.templateId);
    w.str(r.templateVersion);
    w.i64(r.createdAt);
    w.i64(r.updatedAt);
    w.str(r.parentId);
    if (!r.assignment.empty()) w.str(r.assignment);
}

}  // namespace

RecordWriter::RecordWriter(const Record& header, size_t expectedBytes) {
    m_out.reserve(expectedBytes);
    Writer w(m_out);
    writeHeader(w, header);
    m_topAt = m_out.size();
    w.u64(0);  // the number of answers, known at finish()
}

void RecordWriter::putCount(size_t at, uint64_t n) {
    for (size_t i = 0; i < 8; ++i) m_out[at + i] = char(uint8_t(n >> (8 * i)));
}

void RecordWriter::answer(const std::string& questionId, const Value& value) {
    Writer w(m_out, false);
    w.str(questionId);
    w.value(value);
    w.u8(0);
    ++(m_inInstance ? m_instanceCount : m_topCount);
}

void RecordWriter::beginRepeat(const std::string& questionId, size_t instances) {
    if (m_inInstance) throw std::logic_error("a repeat inside a repeat cannot be serialised");
    Writer w(m_out, false);
    w.str(questionId);
    w.value(Value());
    w.u8(1);
    w.u64(instances);
    ++m_topCount;
}

void RecordWriter::beginInstance() {
    m_inInstance = true;
    m_instanceCount = 0;
    m_instanceAt = m_out.size();
    Writer(m_out, false).u64(0);
}

void RecordWriter::endInstance() {
    putCount(m_instanceAt, m_instanceCount);
    m_inInstance = false;
}

void RecordWriter::endRepeat() {}

std::string RecordWriter::finish() {
    putCount(m_topAt, m_topCount);
    return std::move(m_out);
}

std::string serializeRecord(const Record& r) {
    std::string out;
    out.reserve(256);
    Writer w(out);
    writeHeader(w, r);
    w.answers(r.answers, false);
    return out;
}

namespace {

// Builds Record::answers from readRecord()'s calls.
class AnswerList final : public RecordAnswerSink {
public:
    explicit AnswerList(std::vector<Answer>& top) : m_top(top), m_current(&top) {}
    void answer(std::string_view questionId, Value&& value) override {
        m_current->push_back(Answer{std::string(questionId), std::move(value), false, {}});
    }
    void beginRepeat(std::string_view questionId, size_t instances) override {
        m_top.push_back(Answer{std::string(questionId), Value(), true, {}});
        m_top.back().instances.reserve(instances);
    }
    void beginInstance() override { m_current = &m_top.back().instances.emplace_back(); }
    void endRepeat() override { m_current = &m_top; }

private:
    std::vector<Answer>& m_top;
    std::vector<Answer>* m_current;
};

}  // namespace

std::string readRecord(std::string_view bytes, Record& r, RecordAnswerSink* sink) {
    if (bytes.size() > kMaxRecordBytes)
        return "the record is " + std::to_string(bytes.size()) + " bytes; the limit is " + std::to_string(kMaxRecordBytes);
    try {
        Reader rd(bytes);
        if (rd.u32() != kMagic) return "not a ClusterKit record";
        uint32_t format = rd.u32();
        if (format != kRecordFormat && format != kRecordFormatWithAssignment) {
            return "record format " + std::to_string(format) + " is not known to this version (it reads formats " +
                   std::to_string(kRecordFormat) + " and " + std::to_string(kRecordFormatWithAssignment) + ")";
        }
        r.id = rd.str();
        r.templateId = rd.str();
        r.templateVersion = rd.str();
        r.createdAt = rd.i64();
        r.updatedAt = rd.i64();
        r.parentId = rd.str();
        r.assignment.clear();
        if (format == kRecordFormatWithAssignment) {
            r.assignment = rd.str();
            // Written only when there is one: an empty token in format 2 is not what a writer makes.
            if (r.assignment.empty()) throw std::runtime_error("an empty assignment token");
        }
        if (!sink) return "";
        rd.answers(*sink, false);
        if (rd.remaining() != 0) return "the record has " + std::to_string(rd.remaining()) + " unexpected bytes at its end";
    } catch (const std::exception& e) {
        return std::string("the record is truncated or corrupt: ") + e.what();
    }
    return "";
}

RecordDecode deserializeRecord(std::string_view bytes) {
    RecordDecode out;
    Record r;
    AnswerList answers(r.answers);
    out.error = readRecord(bytes, r, &answers);
    if (out.error.empty()) out.record = std::move(r);
    return out;
}

}  // namespace ck
