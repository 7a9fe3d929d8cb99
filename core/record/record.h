#pragma once
// A finished or draft visit as data: what the field app stores, seals and sends, and what
// the aggregator ingests. Knows nothing of templates or sessions, so the aggregator can hold
// records of template versions it no longer loads.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/expr/value.h"

namespace ck {

// One answer (or calculated value) by question id. A repeat group holds its instances,
// each a list of answers, instead of a value.
struct Answer {
    std::string questionId;
    Value value;
    bool isRepeat = false;
    std::vector<std::vector<Answer>> instances;
    bool operator==(const Answer&) const = default;
};

struct Record {
    std::string id;  // random UUID (version 4), made when the visit starts
    std::string templateId;
    std::string templateVersion;
    int64_t createdAt = 0;  // Unix seconds, UTC
    int64_t updatedAt = 0;
    std::string parentId;  // for a correction: the record it replaces; empty otherwise
    // The opaque token the aggregator sent with the unit's assignment (it names the register
    // unit only to the aggregator); empty for a unit found in the field. Not personal: it is
    // sealed with the rest of the record, never to the custodian alone.
    std::string assignment;
    std::vector<Answer> answers;  // in template order; not-relevant questions are absent

    const Answer* find(std::string_view questionId) const;
    bool operator==(const Record&) const = default;
};

// A new random UUID v4 as text (libsodium's CSPRNG).
std::string newRecordId();
// Unix seconds now, UTC.
int64_t unixNow();
// "2026-11-23T10:15:00Z"
std::string formatUtc(int64_t unixSeconds);

// cereal's portable binary layout, prefixed with a format version so later readers can migrate
// (format 1; format 2 when the record carries an assignment token).
std::string serializeRecord(const Record& record);

// Writes the bytes serializeRecord() makes, answer by answer, so a record can be written
// straight from where its answers live (the aggregator writes what it stores from the session
// that checked the visit) without making a Record first. Calls mirror Record::answers: an
// answer, or a repeat with its instances, each instance a list of answers.
class RecordWriter {
public:
    // `header`: every field but the answers; `expectedBytes`: room made at once (a writer that
    // knows the size of records like this one saves growing the buffer on the way).
    explicit RecordWriter(const Record& header, size_t expectedBytes = 4096);
    void answer(const std::string& questionId, const Value& value);
    void beginRepeat(const std::string& questionId, size_t instances);
    void beginInstance();
    void endInstance();
    void endRepeat();
    std::string finish();  // the bytes; the writer is spent

private:
    void putCount(size_t at, uint64_t n);
    std::string m_out;
    size_t m_topCount = 0, m_instanceCount = 0;  // answers so far at each level
    size_t m_topAt = 0, m_instanceAt = 0;        // where each level's count goes
    bool m_inInstance = false;
};

struct RecordDecode {
    std::optional<Record> record;
    std::string error;  // why the bytes are not a record; empty on success
};
// Never throws and never trusts the bytes: truncated, oversized or corrupt input is an error.
RecordDecode deserializeRecord(std::string_view bytes);

// Where readRecord() puts a record's answers, one at a time in the order they were written,
// so a reader can take them without a Record being built (the aggregator restores every visit
// it receives straight from its bytes). Calls mirror Record::answers, as RecordWriter's do.
class RecordAnswerSink {
public:
    virtual ~RecordAnswerSink() = default;
    virtual void answer(std::string_view questionId, Value&& value) = 0;
    virtual void beginRepeat(std::string_view questionId, size_t instances) = 0;
    virtual void beginInstance() = 0;
    virtual void endRepeat() = 0;
};
// The header of `bytes` into `header` (its answers left as they are), then, with a `sink`, every
// answer into it, checked as deserializeRecord() checks them; without one, the answers are not
// read at all. Empty when the bytes read, else why not (the sink may have had some answers).
std::string readRecord(std::string_view bytes, Record& header, RecordAnswerSink* sink);

// Largest serialised record accepted (photos travel as attachments, not inside records).
inline constexpr size_t kMaxRecordBytes = 16 * 1024 * 1024;

}  // namespace ck
