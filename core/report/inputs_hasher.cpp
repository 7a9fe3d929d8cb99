// The hash a published baseline carries so that anyone holding the same template, register
// and visits can check it was built from exactly those. The encoding is canonical: every
// field is an 8-byte little-endian length followed by its bytes, every part starts with a
// tag naming it, so no two different inputs can encode to the same bytes ("ab"+"c" is not
// "a"+"bc"). Visits arrive in whatever order storage or sync gives them; they are sorted
// before hashing so the order never changes the hash. Register rows are sorted the same way:
// a register is a set of units, and re-saving the spreadsheet in another order is the same
// register.
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <sodium.h>

#include "core/report/baseline_report.h"

namespace ck::report {

namespace {

void appendField(std::string& out, std::string_view field) {
    uint64_t n = field.size();
    for (int i = 0; i < 8; ++i) out.push_back(char((n >> (8 * i)) & 0xff));
    out.append(field);
}

}  // namespace

void InputsHasher::templateText(std::string_view id, std::string_view version, std::string_view jsonText) {
    appendField(m_head, "template");
    appendField(m_head, id);
    appendField(m_head, version);
    appendField(m_head, jsonText);
}

void InputsHasher::registerUnits(const std::vector<RegisterUnit>& units) {
    std::vector<std::string> rows;
    rows.reserve(units.size());
    for (const RegisterUnit& u : units) {
        std::string row;
        for (const std::string* f : {&u.unitId, &u.name, &u.cluster, &u.district, &u.state, &u.stratum, &u.sector})
            appendField(row, *f);
        rows.push_back(std::move(row));
    }
    std::sort(rows.begin(), rows.end());
    appendField(m_head, "register");
    appendField(m_head, std::to_string(rows.size()));
    for (const std::string& r : rows) appendField(m_head, r);
}

void InputsHasher::scope(const ReportScope& s) {
    appendField(m_head, "scope");
    appendField(m_head, scopeLevelName(s.level));
    appendField(m_head, s.name);
}

void InputsHasher::part(std::string_view name, std::string_view hexDigest) {
    appendField(m_head, "part");
    appendField(m_head, name);
    appendField(m_head, hexDigest);
}

void InputsHasher::visit(std::string_view recordId, std::string_view contentHash) {
    std::string v;
    appendField(v, recordId);
    appendField(v, contentHash);
    m_visits.push_back(std::move(v));
}

std::string InputsHasher::hexDigest() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
    std::sort(m_visits.begin(), m_visits.end());
    crypto_generichash_state state;
    unsigned char digest[crypto_generichash_BYTES];  // 32 bytes: BLAKE2b-256
    crypto_generichash_init(&state, nullptr, 0, sizeof digest);
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(m_head.data()), m_head.size());
    std::string tail;
    appendField(tail, "visits");
    appendField(tail, std::to_string(m_visits.size()));
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(tail.data()), tail.size());
    for (const std::string& v : m_visits) {
        std::string field;
        appendField(field, v);
        crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(field.data()), field.size());
    }
    crypto_generichash_final(&state, digest, sizeof digest);
    char hex[2 * sizeof digest + 1];
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    return std::string(hex, 2 * sizeof digest);
}

}  // namespace ck::report
