#pragma once
// The store's schema and its forward migrations. `PRAGMA user_version` holds the version a
// file is at; opening a file at an older version runs every later step, in one transaction.
//
// Only opaque ids, states and timestamps are in clear. Every `payload`, `value` (but the
// vault's), `envelope` and `reason` column holds sealPayload() output under the data key,
// with associated data payloadContext(kind, id, version) naming the table's kind, the row's
// id and the row's version counter: a ciphertext moved to another row, or an older one put
// back into its own row, fails to open.
#include <cstdint>
#include <string_view>
#include <vector>

namespace ck::store_schema {

// 'CKST': marks a file as a ClusterKit store (PRAGMA application_id).
inline constexpr int32_t kApplicationId = 0x434B5354;
inline constexpr int kCurrentVersion = 3;

struct Migration {
    int toVersion;          // user_version after this step
    std::string_view sql;   // DDL (and data moves) from toVersion - 1
};
// Every step, oldest first: migrations()[i].toVersion == i + 1.
const std::vector<Migration>& migrations();

// Payload kinds: the `kind` in payloadContext().
inline constexpr std::string_view kKindMeta = "meta";
inline constexpr std::string_view kKindTemplate = "template";
inline constexpr std::string_view kKindVisit = "visit";
inline constexpr std::string_view kKindEnvelope = "envelope";
inline constexpr std::string_view kKindOutboxReason = "outbox-reason";
inline constexpr std::string_view kKindAttachment = "attachment";
inline constexpr std::string_view kKindAssignment = "assignment";
inline constexpr std::string_view kKindReviewComment = "review-comment";

// meta keys
inline constexpr std::string_view kMetaVault = "vault";  // encodeVaultRecord(), clear: holds no secret
inline constexpr std::string_view kMetaAggregatorKey = "aggregator_key";
inline constexpr std::string_view kMetaCustodianKey = "custodian_key";
inline constexpr std::string_view kMetaSettings = "settings";
inline constexpr std::string_view kMetaSync = "sync";  // SyncSettings as JSON

}  // namespace ck::store_schema
