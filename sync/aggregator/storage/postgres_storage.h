#pragma once
// PostgresStorage: AggregatorStorage on a PostgreSQL database through libpq. Several
// stateless `serve` processes may share one database: the schema is created under an
// advisory lock, and audit appends are serialised across processes by another one.
#include <memory>
#include <string>
#include <string_view>

#include "sync/aggregator/storage.h"

namespace ck::agg {

// `url`: a libpq connection URI ("postgresql://user:password@host:port/db?..."). Connects,
// creates the schema when the database is empty, and refuses a database whose schema is
// newer than this build. Throws StorageFailure (the message never contains the password).
std::unique_ptr<AggregatorStorage> openPostgresStorage(std::string_view url);

// `url` with any password removed, fit for a log line or an error message.
std::string redactPostgresUrl(std::string_view url);

}  // namespace ck::agg
