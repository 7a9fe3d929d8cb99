#pragma once
// The storage contract (sync/aggregator/storage.h) as Catch2 SECTIONs, run by every backend's
// test file from inside its own TEST_CASE:
//
//   TEST_CASE("SQLite storage meets the storage contract", "[sync][storage]") {
//       runStorageContract([&] { return openFreshOne(); }, [&](std::string_view sql) { ... });
//   }
//
// `freshStorage` returns an EMPTY storage each time it is called (Catch re-enters the test
// case once per leaf SECTION, and each pass calls it once or twice).
// `rawSql` runs one statement on the database behind the storage freshStorage returned LAST,
// bypassing the storage: the audit tests tamper through it. The statements it receives use
// only these names, which every backend's schema must therefore share:
//   audit (seq, detail)            the audit log, one row per entry
//   visits (record_id, content_hash, cluster)
#include <functional>
#include <memory>
#include <string_view>

#include "sync/aggregator/storage.h"

using FreshStorage = std::function<std::unique_ptr<ck::agg::AggregatorStorage>()>;
using RawSql = std::function<void(std::string_view sql)>;

void runStorageContract(const FreshStorage& freshStorage, const RawSql& rawSql);
