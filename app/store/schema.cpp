#include "app/store/schema.h"

namespace ck::store_schema {

namespace {

// Version 1: the first shipped schema. Never edit a released step: add a new one.
constexpr std::string_view kV1 = R"sql(
PRAGMA application_id = 1129010004;
CREATE TABLE meta (
    key      TEXT PRIMARY KEY,
    version  INTEGER NOT NULL,
    value    BLOB NOT NULL
);
-- id: BLAKE2b of the template's JSON text (opaque; id, version and title are in the payload).
CREATE TABLE templates (
    id           TEXT PRIMARY KEY,
    imported_at  INTEGER NOT NULL,
    payload      BLOB NOT NULL
);
-- id: the record's random UUID. version: bumped by every save and used in the payload's
-- associated data. parent_id: the record a correction replaces (an opaque UUID too).
CREATE TABLE visits (
    id            TEXT PRIMARY KEY,
    status        TEXT NOT NULL CHECK (status IN ('draft', 'finished')),
    template_ref  TEXT NOT NULL REFERENCES templates(id),
    parent_id     TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    payload       BLOB NOT NULL
);
CREATE INDEX visits_by_status ON visits(status, updated_at);
-- A finished record on its way to the aggregator. 'awaiting_key': finished before the
-- aggregator's key was known, sealed as soon as it is. version: bumped when re-sealed.
CREATE TABLE outbox (
    record_id     TEXT PRIMARY KEY REFERENCES visits(id) ON DELETE CASCADE,
    state         TEXT NOT NULL CHECK (state IN
                    ('awaiting_key', 'queued', 'sent', 'acknowledged', 'duplicate', 'refused')),
    content_hash  TEXT NOT NULL,
    version       INTEGER NOT NULL,
    envelope      BLOB,
    reason        BLOB,
    queued_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
)sql";

// Version 2: photos and other attachments, assignments (units to visit), and the moment a
// record was acknowledged, which the purge policy counts from (v1 files take updated_at).
constexpr std::string_view kV2 = R"sql(
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    visit_id    TEXT NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    payload     BLOB NOT NULL
);
CREATE INDEX attachments_by_visit ON attachments(visit_id);
CREATE TABLE assignments (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    payload     BLOB NOT NULL
);
ALTER TABLE outbox ADD COLUMN acknowledged_at INTEGER;
UPDATE outbox SET acknowledged_at = updated_at WHERE state IN ('acknowledged', 'duplicate');
)sql";

// Version 3: sync. Review comments the aggregator sends on a device's records (a random id;
// the text is in the payload), and the moment an attachment reached the aggregator, so that
// a photo goes up once however many syncs follow.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE review_comments (
    id           TEXT PRIMARY KEY,
    record_id    TEXT NOT NULL,
    at           INTEGER NOT NULL,
    received_at  INTEGER NOT NULL,
    payload      BLOB NOT NULL
);
CREATE INDEX review_comments_by_record ON review_comments(record_id, at);
ALTER TABLE attachments ADD COLUMN uploaded_at INTEGER;
)sql";

}  // namespace

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> steps{{1, kV1}, {2, kV2}, {3, kV3}};
    return steps;
}

}  // namespace ck::store_schema
