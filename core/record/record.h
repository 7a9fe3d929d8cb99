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

// cereal portable binary, prefixed with a format version so later readers can migrate.
std::string serializeRecord(const Record& record);

struct RecordDecode {
    std::optional<Record> record;
    std::string error;  // why the bytes are not a record; empty on success
};
// Never throws and never trusts the bytes: truncated, oversized or corrupt input is an error.
RecordDecode deserializeRecord(std::string_view bytes);

// Largest serialised record accepted (photos travel as attachments, not inside records).
inline constexpr size_t kMaxRecordBytes = 16 * 1024 * 1024;

}  // namespace ck
