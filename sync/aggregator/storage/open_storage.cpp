#include "sync/aggregator/storage.h"

#include "sync/aggregator/storage/postgres_storage.h"
#include "sync/aggregator/storage/sqlite_storage.h"

namespace ck::agg {

std::unique_ptr<AggregatorStorage> openStorage(std::string_view url) {
    if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return openPostgresStorage(url);
    std::string_view path = url;
    if (path.starts_with("sqlite:")) path.remove_prefix(7);
    if (path.empty()) {
        throw StorageFailure("no storage given: name a data folder (or sqlite:FOLDER), or a postgresql:// URL");
    }
    return openSqliteStorage(std::filesystem::path(std::string(path)));
}

}  // namespace ck::agg
