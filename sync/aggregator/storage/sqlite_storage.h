#pragma once
// SqliteStorage: AggregatorStorage in one SQLite file, <folder>/aggregator.db (the default
// backend: a data folder, nothing to install).
//
// WAL with synchronous=FULL: a batch acknowledged is on disk. One connection per object,
// guarded by a mutex (batches keep it fast); several processes on one folder are safe too:
// every write is BEGIN IMMEDIATE and waits on the lock (busy timeout) instead of failing.
#include <filesystem>
#include <memory>

#include "sync/aggregator/storage.h"

namespace ck::agg {

// The schema this build writes and reads; a database with a newer one is refused.
inline constexpr int kSqliteSchemaVersion = 3;  // 2: visits and attachments keyed by (device, id); 3: register stratum, review
inline constexpr const char* kSqliteFileName = "aggregator.db";

// Opens the data folder (created when missing, with aggregator.db inside). Throws
// StorageFailure naming the folder when it cannot be created or opened, when the file is not
// a ClusterKit aggregator database, or when its schema is newer than this build.
std::unique_ptr<AggregatorStorage> openSqliteStorage(const std::filesystem::path& folder);

}  // namespace ck::agg
