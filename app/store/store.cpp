#include "app/store/store.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <system_error>

#include <nlohmann/json.hpp>
#include <sodium.h>

#include "app/store/schema.h"
#include "core/crypto/sealed_box.h"

namespace ck {

namespace fs = std::filesystem;
namespace schema = store_schema;

// --- names ---

const char* visitStatusName(VisitStatus status) {
    return status == VisitStatus::Draft ? "draft" : "finished";
}

namespace {

constexpr std::array<const char*, 6> kOutboxStateNames{"awaiting_key", "queued", "sent",
                                                       "acknowledged", "duplicate", "refused"};

}  // namespace

const char* outboxStateName(OutboxState state) { return kOutboxStateNames[size_t(state)]; }

std::optional<OutboxState> outboxStateFromName(std::string_view name) {
    for (size_t i = 0; i < kOutboxStateNames.size(); ++i)
        if (name == kOutboxStateNames[i]) return OutboxState(i);
    return std::nullopt;
}

std::string visitTitle(const Record& record, std::string_view titleQuestion) {
    if (const Answer* a = record.find(titleQuestion); a && !a->isRepeat && a->value.kind() == ValueKind::Text)
        return a->value.asText();
    // An XLSForm's settings instance_name arrives as the calculation 'instance_name' (core/xlsform).
    if (const Answer* a = record.find("instance_name"); a && !a->isRepeat && a->value.kind() == ValueKind::Text)
        return a->value.asText();
    for (const Answer& a : record.answers)
        if (!a.isRepeat && a.value.kind() == ValueKind::Text) return a.value.asText();
    return {};
}

namespace {

StoreFailure failure(StoreError error, std::string message) { return StoreFailure{error, std::move(message), {}, {}}; }

StoreFailure fromVault(const VaultFailure& f) {
    switch (f.error) {
        case VaultError::PassphrasesDiffer: return failure(StoreError::PassphrasesDiffer, f.message);
        case VaultError::WeakPassphrase: {
            StoreFailure weak = failure(StoreError::WeakPassphrase, f.message);
            weak.weakness = f.weakness;
            return weak;
        }
        case VaultError::WrongPassphrase: return failure(StoreError::WrongPassphrase, f.message);
        case VaultError::Corrupt: return failure(StoreError::VaultDamaged, f.message);
        case VaultError::OutOfMemory: break;
    }
    // Argon2id could not get its memory: the whole operation ends, as for any allocation.
    throw std::bad_alloc();
}

std::string integrityMessage(std::string_view what, std::string_view id) {
    return std::string(what) + " " + std::string(id) + ": stored data fails its integrity check";
}

std::string inQuotes(std::string_view s) { return "'" + std::string(s) + "'"; }

std::vector<uint8_t> bytesOf(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// Every connection: WAL so that a save appends and a reader never blocks a writer;
// synchronous=FULL so that a commit that has returned is on the disk (a flat battery must not
// lose it); foreign keys so that purging a visit takes its outbox entry and attachments along.
void configure(sql::Database& db) {
    db.exec("PRAGMA busy_timeout = 5000");
    std::string mode = db.queryText("PRAGMA journal_mode = WAL");
    if (mode != "wal")
        throw StorageError(StorageFault::Io, 0, "the store cannot use write-ahead logging on this storage (journal mode " + mode + ")");
    db.exec("PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF");
}

void migrate(sql::Database& db, int from) {
    sql::Transaction t(db);
    for (const auto& step : schema::migrations()) {
        if (step.toVersion <= from) continue;
        db.exec(step.sql);
        db.exec("PRAGMA user_version = " + std::to_string(step.toVersion));
    }
    t.commit();
}

void removeStoreFiles(const fs::path& file) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(fs::path(file.string() + suffix), ec);
}

}  // namespace

// --- opening ---

Store::Store(fs::path file, sql::Database db, VaultRecord vault)
    : m_file(std::move(file)), m_db(std::move(db)), m_vault(std::move(vault)) {}

Store::~Store() = default;

StoreResult<Store> Store::create(const fs::path& file, std::string_view passphrase, std::string_view confirmation,
                                 KdfParams kdf) {
    std::error_code ec;
    if (fs::exists(file, ec)) return failure(StoreError::AlreadyExists, file.string() + ": a store already exists there");
    auto made = createVault(passphrase, confirmation, kdf);
    if (auto* f = std::get_if<VaultFailure>(&made)) return fromVault(*f);
    NewVault& vault = std::get<NewVault>(made);
    try {
        sql::Database db = sql::Database::open(file, true);
        configure(db);
        migrate(db, 0);
        {
            sql::Transaction t(db);
            {
                auto ins = db.cached("INSERT INTO meta (key, version, value) VALUES (?, 1, ?)");
                ins->bind(1, schema::kMetaVault).bindBlob(2, encodeVaultRecord(vault.record)).run();
            }
            t.commit();
        }
        Store store(file, std::move(db), std::move(vault.record));
        store.m_keys = std::make_unique<UnlockedVault>(std::move(vault.keys));
        return store;
    } catch (...) {
        removeStoreFiles(file);  // half a store is worse than none: the officer simply retries
        throw;
    }
}

StoreResult<Store> Store::open(const fs::path& file) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return failure(StoreError::NoStore, file.string() + ": no store here");
    {
        std::ifstream in(file, std::ios::binary);
        char header[16] = {};
        in.read(header, sizeof header);
        if (in.gcount() == 0)
            return failure(StoreError::Damaged, file.string() + ": the store file is empty (truncated?)");
        if (in.gcount() < 16 || std::memcmp(header, "SQLite format 3", 16) != 0)
            return failure(StoreError::NotAStore, file.string() + ": not a ClusterKit store");
    }
    try {
        return openDatabase(file);
    } catch (const StorageError& e) {
        if (e.fault() != StorageFault::Corrupt) throw;
        return failure(StoreError::Damaged, file.string() + ": the store file is damaged (truncated or overwritten): " + e.what());
    }
}

StoreResult<Store> Store::openDatabase(const fs::path& file) {
    sql::Database db = sql::Database::open(file, false);
    configure(db);
    // A truncated file must be named at open, not found page by page later. The header
    // records how many pages the file holds; with no WAL beside it, the file must hold them.
    {
        std::error_code ec;
        bool walPresent = fs::exists(fs::path(file.string() + "-wal"), ec) &&
                          fs::file_size(fs::path(file.string() + "-wal"), ec) > 0;
        uint64_t expected = uint64_t(db.queryInt("PRAGMA page_count")) * uint64_t(db.queryInt("PRAGMA page_size"));
        uint64_t actual = fs::file_size(file, ec);
        if (!walPresent && !ec && actual < expected)
            return failure(StoreError::Damaged, file.string() + ": the store file is damaged: it is truncated (" +
                                                    std::to_string(actual) + " of " + std::to_string(expected) + " bytes)");
    }
    // An overwritten page is found by quick_check.
    // quick_check reads every page once: a few milliseconds for a season of visits.
    {
        sql::Statement s = db.prepare("PRAGMA quick_check(5)");
        std::string first;
        if (s.step()) first = s.text(0);
        if (first != "ok")
            return failure(StoreError::Damaged, file.string() + ": the store file is damaged (truncated or overwritten): " + first);
    }
    if (db.queryInt("PRAGMA application_id") != schema::kApplicationId)
        return failure(StoreError::NotAStore, file.string() + ": not a ClusterKit store");
    int version = int(db.queryInt("PRAGMA user_version"));
    if (version > schema::kCurrentVersion)
        return failure(StoreError::NewerSchema, file.string() + ": written by a newer ClusterKit (store version " +
                                                    std::to_string(version) + "; this one reads up to " +
                                                    std::to_string(schema::kCurrentVersion) + ")");
    if (version < schema::kCurrentVersion) migrate(db, version);

    std::optional<VaultRecord> vault;
    {
        auto q = db.cached("SELECT value FROM meta WHERE key = ?");
        q->bind(1, schema::kMetaVault);
        if (q->step()) vault = decodeVaultRecord(q->blob(0));
    }
    if (!vault) return failure(StoreError::VaultDamaged, file.string() + ": the store's vault record is missing or damaged");
    return Store(file, std::move(db), std::move(*vault));
}

// --- vault ---

StoreStatus Store::unlock(std::string_view passphrase) {
    auto r = unlockVault(m_vault, passphrase);
    if (auto* f = std::get_if<VaultFailure>(&r)) return fromVault(*f);
    m_keys = std::make_unique<UnlockedVault>(std::move(std::get<UnlockedVault>(r)));
    loadTemplateIndex();
    return Done{};
}

void Store::lock() {
    m_keys.reset();
    m_templates.clear();
}

StoreStatus Store::changePassphrase(std::string_view oldPassphrase, std::string_view newPassphrase,
                                    std::string_view confirmation) {
    auto r = ck::changePassphrase(m_vault, oldPassphrase, newPassphrase, confirmation);
    if (auto* f = std::get_if<VaultFailure>(&r)) return fromVault(*f);
    VaultRecord& rewrapped = std::get<VaultRecord>(r);
    sql::Transaction t(m_db);
    {
        auto u = m_db.cached("UPDATE meta SET value = ?, version = version + 1 WHERE key = ?");
        u->bindBlob(1, encodeVaultRecord(rewrapped)).bind(2, schema::kMetaVault).run();
    }
    t.commit();
    m_vault = std::move(rewrapped);
    return Done{};
}

void Store::setMaxFileBytes(uint64_t bytes) {
    int64_t pageSize = m_db.queryInt("PRAGMA page_size");
    m_db.exec("PRAGMA max_page_count = " + std::to_string(std::max<uint64_t>(1, bytes / uint64_t(pageSize))));
}

void Store::checkpoint() { m_db.exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

int Store::schemaVersion() { return int(m_db.queryInt("PRAGMA user_version")); }

void Store::requireUnlocked() const {
    assert(m_keys && "the store is locked: call unlock() (or create()) before touching its data");
}

const SecretBytes& Store::dataKey() const {
    assert(m_keys && "the store is locked: call unlock() (or create()) before touching its data");
    return m_keys->dataKey;
}

std::vector<uint8_t> Store::seal(std::string_view plaintext, std::string_view kind, std::string_view id,
                                 int64_t version) const {
    return sealPayload(dataKey(), plaintext, payloadContext(kind, id, version));
}

std::optional<std::string> Store::unseal(const std::vector<uint8_t>& sealed, std::string_view kind,
                                         std::string_view id, int64_t version) const {
    return openPayload(dataKey(), sealed, payloadContext(kind, id, version));
}

// --- meta: settings and keys ---

std::optional<std::vector<uint8_t>> Store::readMetaSealed(std::string_view key) {
    std::vector<uint8_t> sealed;
    int64_t version = 0;
    {
        auto q = m_db.cached("SELECT version, value FROM meta WHERE key = ?");
        q->bind(1, key);
        if (!q->step()) return std::nullopt;
        version = q->int64(0);
        sealed = q->blob(1);
    }
    auto plain = unseal(sealed, schema::kKindMeta, key, version);
    if (!plain)
        throw StorageError(StorageFault::Corrupt, 0, "the store's " + std::string(key) + " setting fails its integrity check");
    return bytesOf(*plain);
}

void Store::writeMetaSealed(std::string_view key, std::string_view plaintext) {
    int64_t version = 1;
    {
        auto q = m_db.cached("SELECT version FROM meta WHERE key = ?");
        q->bind(1, key);
        if (q->step()) version = q->int64(0) + 1;
    }
    auto u = m_db.cached(
        "INSERT INTO meta (key, version, value) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (key) DO UPDATE SET version = ?2, value = ?3");
    u->bind(1, key).bind(2, version).bindBlob(3, seal(plaintext, schema::kKindMeta, key, version)).run();
}

Settings Store::settings() {
    Settings s;
    auto bytes = readMetaSealed(schema::kMetaSettings);
    if (!bytes) return s;
    auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    if (j.is_object()) {
        s.purgeAfterDays = j.value("purge_after_days", s.purgeAfterDays);
        s.titleQuestion = j.value("title_question", s.titleQuestion);
    }
    return s;
}

void Store::setSettings(const Settings& settings) {
    assert(settings.purgeAfterDays >= 0 && "purgeAfterDays counts days from acknowledgement; it cannot be negative");
    nlohmann::json j{{"purge_after_days", settings.purgeAfterDays}, {"title_question", settings.titleQuestion}};
    sql::Transaction t(m_db);
    writeMetaSealed(schema::kMetaSettings, j.dump());
    t.commit();
}

namespace {

std::optional<StoreFailure> checkPublicKey(const std::vector<uint8_t>& key, std::string_view whose) {
    if (key.size() != 32)
        return failure(StoreError::BadKey, "the " + std::string(whose) + " key must be 32 bytes (64 hex digits), not " +
                                               std::to_string(key.size()));
    // A low-order point (all zeros among them) would make every seal fail at finalise time;
    // find out now, while the officer is still looking at the key they typed.
    uint8_t probe[crypto_box_SEALBYTES + 1] = {};
    const uint8_t message = 0;
    if (crypto_box_seal(probe, &message, 1, key.data()) != 0)
        return failure(StoreError::BadKey, "the " + std::string(whose) + " key is not a usable X25519 public key");
    return std::nullopt;
}

std::string asText(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

}  // namespace

StoreResult<int> Store::setAggregatorKey(const std::vector<uint8_t>& publicKey) {
    if (auto bad = checkPublicKey(publicKey, "aggregator")) return *bad;
    auto previous = aggregatorKey();
    sql::Transaction t(m_db);
    writeMetaSealed(schema::kMetaAggregatorKey, asText(publicKey));
    // A queued record sealed to a key the officer has since replaced could never be opened;
    // it has not left the device, so seal it again to the key now in force.
    int sealed = sealWaiting(previous && *previous != publicKey);
    t.commit();
    return sealed;
}

std::optional<std::vector<uint8_t>> Store::aggregatorKey() { return readMetaSealed(schema::kMetaAggregatorKey); }

StoreStatus Store::setCustodianKey(const std::vector<uint8_t>& publicKey) {
    if (auto bad = checkPublicKey(publicKey, "custodian")) return *bad;
    sql::Transaction t(m_db);
    writeMetaSealed(schema::kMetaCustodianKey, asText(publicKey));
    t.commit();
    return Done{};
}

std::optional<std::vector<uint8_t>> Store::custodianKey() { return readMetaSealed(schema::kMetaCustodianKey); }

// --- sync settings and the device key ---

namespace {

std::optional<std::vector<uint8_t>> fromHex(std::string_view hex) {
    if (hex.size() % 2 != 0) return std::nullopt;
    std::vector<uint8_t> out(hex.size() / 2);
    size_t len = 0;
    if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 || len != out.size())
        return std::nullopt;
    return out;
}

}  // namespace

std::optional<SyncSettings> Store::syncSettings() {
    requireUnlocked();
    auto bytes = readMetaSealed(schema::kMetaSync);
    if (!bytes) return std::nullopt;
    auto j = nlohmann::json::parse(bytes->begin(), bytes->end(), nullptr, false);
    // The bytes passed their MAC, so a parse failure is our own bug or a damaged device.
    if (!j.is_object()) throw StorageError(StorageFault::Corrupt, 0, "the store's sync settings cannot be read");
    SyncSettings s;
    s.serverUrl = j.value("server_url", "");
    s.publicKeyPin = j.value("public_key_pin", "");
    s.deviceId = j.value("device_id", "");
    s.officer = j.value("officer", "");
    s.cluster = j.value("cluster", "");
    s.aggregatorName = j.value("aggregator_name", "");
    s.templateSigningKey = fromHex(j.value("template_signing_key", "")).value_or(std::vector<uint8_t>{});
    s.cursor = j.value("cursor", uint64_t(0));
    return s;
}

void Store::setSyncSettings(const SyncSettings& settings) {
    requireUnlocked();
    nlohmann::json j{{"server_url", settings.serverUrl},
                     {"public_key_pin", settings.publicKeyPin},
                     {"device_id", settings.deviceId},
                     {"officer", settings.officer},
                     {"cluster", settings.cluster},
                     {"aggregator_name", settings.aggregatorName},
                     {"template_signing_key", toHex(settings.templateSigningKey.data(), settings.templateSigningKey.size())},
                     {"cursor", settings.cursor}};
    sql::Transaction t(m_db);
    writeMetaSealed(schema::kMetaSync, j.dump());
    t.commit();
}

void Store::setSyncCursor(uint64_t cursor) {
    auto s = syncSettings();
    assert(s && "setSyncCursor before enrolment: there is no feed to read yet");
    s->cursor = cursor;
    setSyncSettings(*s);
}

std::vector<uint8_t> Store::signAsDevice(const std::vector<uint8_t>& bytes) {
    requireUnlocked();
    std::vector<uint8_t> signature(crypto_sign_BYTES);
    crypto_sign_detached(signature.data(), nullptr, bytes.data(), bytes.size(), m_keys->signingSecretKey.data());
    return signature;
}

// --- templates ---

void Store::loadTemplateIndex() {
    m_templates.clear();
    auto q = m_db.cached("SELECT id, imported_at, payload FROM templates ORDER BY imported_at, id");
    while (q->step()) {
        auto entry = std::make_unique<TemplateEntry>();
        entry->info.storeId = q->text(0);
        entry->info.importedAt = q->int64(1);
        auto plain = unseal(q->blob(2), schema::kKindTemplate, entry->info.storeId, 1);
        size_t nl = plain ? plain->find('\n') : std::string::npos;
        nlohmann::json header;
        if (nl != std::string::npos) header = nlohmann::json::parse(plain->substr(0, nl), nullptr, false);
        if (!header.is_object() || !header.contains("id") || !header.contains("version")) {
            entry->info.error = integrityMessage("template", entry->info.storeId);
        } else {
            entry->info.id = header.value("id", "");
            entry->info.version = header.value("version", "");
            entry->info.title = header.value("title", "");
            entry->jsonText = plain->substr(nl + 1);
            // Templates stored before the header named their languages: read them from the text.
            nlohmann::json languages = header.contains("languages")
                                           ? header["languages"]
                                           : nlohmann::json::parse(entry->jsonText, nullptr, false).value("languages", nlohmann::json());
            if (languages.is_array())
                for (const auto& l : languages)
                    if (l.is_string()) entry->info.languages.push_back(l.get<std::string>());
        }
        m_templates.push_back(std::move(entry));
    }
}

Store::TemplateEntry* Store::templateEntry(std::string_view id, std::string_view version) {
    TemplateEntry* best = nullptr;
    for (auto& e : m_templates) {
        if (!e->info.error.empty() || e->info.id != id) continue;
        if (!version.empty()) {
            if (e->info.version == version) return e.get();
            continue;
        }
        // The latest import wins: a newer version reaches a device after the older one.
        if (!best || e->info.importedAt >= best->info.importedAt) best = e.get();
    }
    return best;
}

Store::TemplateEntry* Store::templateByStoreId(std::string_view storeId) {
    for (auto& e : m_templates)
        if (e->info.storeId == storeId && e->info.error.empty()) return e.get();
    return nullptr;
}

StoreResult<std::shared_ptr<const Template>> Store::ensureLoaded(TemplateEntry& entry) {
    if (!entry.survey) {
        auto r = loadTemplateJson(entry.jsonText, entry.info.id + ".json");
        if (!r.ok()) {
            StoreFailure f = failure(StoreError::TemplateInvalid, "the stored template " + inQuotes(entry.info.id) +
                                                                      " no longer loads");
            f.templateErrors = std::move(r.errors);
            return f;
        }
        entry.survey = std::move(r.survey);
    }
    return entry.survey;
}

StoreResult<TemplateInfo> Store::importTemplate(std::string_view jsonText, std::string_view fileName) {
    auto r = loadTemplateJson(jsonText, fileName);
    if (!r.ok()) {
        StoreFailure f = failure(StoreError::TemplateInvalid,
                                 std::string(fileName) + ": " + std::to_string(r.errors.size()) +
                                     (r.errors.size() == 1 ? " error" : " errors") + "; the template was not imported" +
                                     (r.errors.empty() ? "" : ": " + r.errors.front().toString()));
        f.templateErrors = std::move(r.errors);
        return f;
    }
    const Template& t = *r.survey;
    std::string storeId = contentHash(jsonText);
    if (TemplateEntry* existing = templateEntry(t.id, t.version)) {
        if (existing->info.storeId == storeId) return existing->info;
        return failure(StoreError::TemplateConflict,
                       "template " + inQuotes(t.id) + " version " + t.version +
                           " is already on this device with different content; a changed template needs a new version");
    }
    auto entry = std::make_unique<TemplateEntry>();
    entry->info = TemplateInfo{storeId, t.id, t.version, t.title.in(0), unixNow(), {}, t.languages};
    entry->jsonText = std::string(jsonText);
    entry->survey = r.survey;
    std::string header =
        nlohmann::json{{"id", t.id}, {"version", t.version}, {"title", entry->info.title}, {"languages", t.languages}}.dump();
    sql::Transaction tx(m_db);
    {
        auto ins = m_db.cached("INSERT OR IGNORE INTO templates (id, imported_at, payload) VALUES (?, ?, ?)");
        ins->bind(1, storeId).bind(2, entry->info.importedAt)
            .bindBlob(3, seal(header + "\n" + entry->jsonText, schema::kKindTemplate, storeId, 1)).run();
    }
    tx.commit();
    m_templates.push_back(std::move(entry));
    return m_templates.back()->info;
}

std::vector<TemplateInfo> Store::listTemplates() {
    requireUnlocked();
    std::vector<TemplateInfo> out;
    for (auto& e : m_templates) out.push_back(e->info);
    return out;
}

StoreResult<std::shared_ptr<const Template>> Store::findTemplate(std::string_view id, std::string_view version) {
    requireUnlocked();
    TemplateEntry* e = templateEntry(id, version);
    if (!e)
        return failure(StoreError::UnknownTemplate, "no template " + inQuotes(id) +
                                                        (version.empty() ? "" : " version " + std::string(version)) +
                                                        " has been imported");
    return ensureLoaded(*e);
}

// --- visits ---

namespace {
// The columns every visit query selects, in the order visitRowAt() reads them.
constexpr const char* kVisitColumns = "id, status, template_ref, parent_id, created_at, updated_at, version, payload";
}  // namespace

Store::VisitRow Store::visitRowAt(sql::StatementUse& q) {
    VisitRow row;
    row.id = q->text(0);
    row.status = q->text(1) == "finished" ? VisitStatus::Finished : VisitStatus::Draft;
    row.templateRef = q->text(2);
    row.parentId = q->isNull(3) ? std::string() : q->text(3);
    row.createdAt = q->int64(4);
    row.updatedAt = q->int64(5);
    row.version = q->int64(6);
    row.payload = q->blob(7);
    return row;
}

std::optional<Store::VisitRow> Store::readVisit(std::string_view id) {
    static const std::string sql = std::string("SELECT ") + kVisitColumns + " FROM visits WHERE id = ?";
    auto q = m_db.cached(sql.c_str());
    q->bind(1, id);
    if (!q->step()) return std::nullopt;
    return visitRowAt(q);
}

StoreResult<Record> Store::decodeVisit(const VisitRow& row) const {
    auto plain = unseal(row.payload, schema::kKindVisit, row.id, row.version);
    if (!plain) return failure(StoreError::IntegrityFailure, integrityMessage("visit", row.id));
    RecordDecode d = deserializeRecord(*plain);
    // Authentic bytes that do not decode, or a record of another id, mean a bug or a
    // damaged device rather than tampering; the officer needs to know either way.
    if (!d.record || d.record->id != row.id)
        return failure(StoreError::IntegrityFailure, "visit " + row.id + ": stored record cannot be read" +
                                                         (d.error.empty() ? std::string() : ": " + d.error));
    return std::move(*d.record);
}

void Store::insertDraft(const FormSession& session, const std::string& templateRef, const std::string& parentId) {
    Record record = session.toDraftRecord();
    record.parentId = parentId;
    int64_t now = unixNow();
    sql::Transaction t(m_db);
    {
        auto ins = m_db.cached(
            "INSERT INTO visits (id, status, template_ref, parent_id, created_at, updated_at, version, payload) "
            "VALUES (?, 'draft', ?, ?, ?, ?, 1, ?)");
        ins->bind(1, record.id).bind(2, templateRef);
        if (parentId.empty()) ins->bindNull(3);
        else ins->bind(3, parentId);
        ins->bind(4, record.createdAt).bind(5, now)
            .bindBlob(6, seal(serializeRecord(record), schema::kKindVisit, record.id, 1)).run();
    }
    t.commit();
}

StoreResult<FormSession> Store::startVisit(std::string_view templateId, std::string_view version) {
    // newVisit, stored at once as a draft (the app stores it with its first answer instead).
    auto started = newVisit(templateId, version);
    if (!started) return started;
    insertDraft(started.value(), templateEntry(templateId, version)->info.storeId, {});
    return started;
}

StoreResult<FormSession> Store::newVisit(std::string_view templateId, std::string_view version) {
    requireUnlocked();
    TemplateEntry* e = templateEntry(templateId, version);
    if (!e)
        return failure(StoreError::UnknownTemplate, "no template " + inQuotes(templateId) +
                                                        (version.empty() ? "" : " version " + std::string(version)) +
                                                        " has been imported");
    auto survey = ensureLoaded(*e);
    if (!survey) return survey.failure();
    return FormSession(survey.value());
}

StoreStatus Store::addDraft(const FormSession& session) {
    requireUnlocked();
    TemplateEntry* e = templateEntry(session.survey().id, session.survey().version);
    if (!e)
        return failure(StoreError::UnknownTemplate, "no template " + inQuotes(session.survey().id) + " version " +
                                                        session.survey().version + " has been imported");
    if (readVisit(session.recordId()))
        return failure(StoreError::WrongStatus, "visit " + session.recordId() + " is stored already");
    insertDraft(session, e->info.storeId, {});
    return Done{};
}

StoreStatus Store::saveDraft(const FormSession& session) {
    requireUnlocked();
    const std::string& id = session.recordId();
    sql::Transaction t(m_db);
    std::string templateRef, parentId;
    int64_t version = 0;
    {
        auto q = m_db.cached("SELECT status, template_ref, parent_id, version FROM visits WHERE id = ?");
        q->bind(1, id);
        if (!q->step())
            return failure(StoreError::UnknownVisit, "visit " + id + " is not in this store (start it with startVisit)");
        if (q->text(0) != "draft")
            return failure(StoreError::WrongStatus,
                           "visit " + id + " is finished and cannot change; a change needs a correction");
        templateRef = q->text(1);
        parentId = q->isNull(2) ? std::string() : q->text(2);
        version = q->int64(3) + 1;
    }
    if (TemplateEntry* e = templateByStoreId(templateRef);
        e && (e->info.id != session.survey().id || e->info.version != session.survey().version))
        return failure(StoreError::SessionMismatch, "visit " + id + " was started with template " + inQuotes(e->info.id) +
                                                        " version " + e->info.version + ", not " +
                                                        inQuotes(session.survey().id) + " version " +
                                                        session.survey().version);
    Record record = session.toDraftRecord();
    record.parentId = parentId;
    {
        auto u = m_db.cached("UPDATE visits SET payload = ?, version = ?, updated_at = ? WHERE id = ?");
        u->bindBlob(1, seal(serializeRecord(record), schema::kKindVisit, id, version))
            .bind(2, version).bind(3, unixNow()).bind(4, id).run();
    }
    t.commit();
    return Done{};
}

StoreResult<Record> Store::loadVisit(std::string_view visitId) {
    requireUnlocked();
    auto row = readVisit(visitId);
    if (!row) return failure(StoreError::UnknownVisit, "visit " + std::string(visitId) + " is not in this store");
    return decodeVisit(*row);
}

StoreResult<std::shared_ptr<const Template>> Store::templateOfVisit(const VisitRow& row) {
    TemplateEntry* e = templateByStoreId(row.templateRef);
    if (!e)
        return failure(StoreError::UnknownTemplate, "visit " + row.id + ": its template is missing or fails its integrity check");
    return ensureLoaded(*e);
}

StoreResult<ResumedVisit> Store::resumeVisit(std::string_view visitId) {
    requireUnlocked();
    auto row = readVisit(visitId);
    if (!row) return failure(StoreError::UnknownVisit, "visit " + std::string(visitId) + " is not in this store");
    auto record = decodeVisit(*row);
    if (!record) return record.failure();
    auto survey = templateOfVisit(*row);
    if (!survey) return survey.failure();
    FormSession session(survey.value(), record.value().id, record.value().createdAt);
    std::vector<std::string> notes = session.restore(record.value());
    return ResumedVisit{std::move(session), std::move(notes)};
}

std::vector<VisitSummary> Store::listVisits() {
    requireUnlocked();
    std::string titleQuestion = settings().titleQuestion;
    std::vector<VisitSummary> out;
    static const std::string sql = std::string("SELECT ") + kVisitColumns + " FROM visits ORDER BY updated_at DESC, id";
    auto q = m_db.cached(sql.c_str());
    while (q->step()) {
        VisitRow row = visitRowAt(q);
        VisitSummary s{row.id, row.status, row.createdAt, row.updatedAt, row.parentId, {}, {}, {}, 0, {}};
        auto record = decodeVisit(row);
        if (record) {
            s.templateId = record.value().templateId;
            s.templateVersion = record.value().templateVersion;
            s.title = visitTitle(record.value(), titleQuestion);
            s.answerCount = record.value().answers.size();
        } else {
            s.error = record.failure().message;
        }
        out.push_back(std::move(s));
    }
    return out;
}

namespace {

std::vector<std::string> personalFieldsOf(const Template& t) {
    std::vector<std::string> ids;
    for (const Question& q : t.questions)
        if (q.pii) ids.push_back(q.id);
    return ids;
}

}  // namespace

StoreResult<FinaliseReceipt> Store::finalise(std::string_view visitId, const FormSession& session, size_t language) {
    requireUnlocked();
    const std::string id(visitId);
    if (session.recordId() != id)
        return failure(StoreError::SessionMismatch, "the session is for visit " + session.recordId() + ", not " + id);
    auto row = readVisit(id);
    if (!row) return failure(StoreError::UnknownVisit, "visit " + id + " is not in this store");
    if (row->status != VisitStatus::Draft)
        return failure(StoreError::WrongStatus, "visit " + id + " is already finished; a change needs a correction");
    std::vector<Problem> problems = session.validate(language);
    if (!problems.empty()) {
        StoreFailure f = failure(StoreError::VisitInvalid, "visit " + id + " has " + std::to_string(problems.size()) +
                                                               (problems.size() == 1 ? " problem" : " problems") +
                                                               "; it stays a draft");
        f.problems = std::move(problems);
        return f;
    }

    Record record = session.toRecord();
    record.parentId = row->parentId;
    record.createdAt = row->createdAt;
    record.updatedAt = unixNow();
    std::string bytes = serializeRecord(record);

    FinaliseReceipt receipt{id, OutboxState::AwaitingKey, contentHash(bytes), false};
    std::vector<uint8_t> envelopeBytes;
    if (auto aggregator = aggregatorKey()) {
        SealInput in;
        in.record = &record;
        in.aggregatorPublicKey = *aggregator;
        if (auto custodian = custodianKey()) {
            in.custodianPublicKey = *custodian;
            in.personalFields = personalFieldsOf(session.survey());
        }
        in.signingSecretKey = &m_keys->signingSecretKey;
        in.signingPublicKey = m_keys->signingPublicKey;
        const std::string dictionary = recordDictionary(session.survey());
        in.dictionary = dictionary;
        SealedEnvelope env = sealEnvelope(in);
        // A visit with no personal answers has nothing to seal apart, custodian or not.
        receipt.personalSealedApart = !env.sealedPersonal.empty();
        receipt.contentHash = env.contentHash;
        receipt.state = OutboxState::Queued;
        envelopeBytes = encodeEnvelope(env);
    }

    int64_t now = record.updatedAt;
    int64_t version = row->version + 1;
    sql::Transaction t(m_db);
    {
        auto u = m_db.cached(
            "UPDATE visits SET status = 'finished', payload = ?, version = ?, updated_at = ? "
            "WHERE id = ? AND status = 'draft' AND version = ?");
        u->bindBlob(1, seal(bytes, schema::kKindVisit, id, version)).bind(2, version).bind(3, now).bind(4, id)
            .bind(5, row->version).run();
    }
    if (m_db.changes() != 1)  // another process saved or finalised it since we read it
        return failure(StoreError::WrongStatus, "visit " + id + " changed while it was being finalised; try again");
    {
        auto ins = m_db.cached(
            "INSERT INTO outbox (record_id, state, content_hash, version, envelope, queued_at, updated_at) "
            "VALUES (?, ?, ?, 1, ?, ?, ?)");
        ins->bind(1, id).bind(2, outboxStateName(receipt.state)).bind(3, receipt.contentHash);
        if (envelopeBytes.empty()) ins->bindNull(4);
        else ins->bindBlob(4, seal(asText(envelopeBytes), schema::kKindEnvelope, id, 1));
        ins->bind(5, now).bind(6, now).run();
    }
    t.commit();
    return receipt;
}

int Store::sealWaiting(bool resealQueued) {
    assert(m_db.inTransaction() && "sealWaiting runs inside the caller's transaction");
    auto aggregator = aggregatorKey();
    if (!aggregator) return 0;
    auto custodian = custodianKey();
    struct Waiting {
        std::string id;
        std::string state;
        int64_t version;
    };
    std::vector<Waiting> waiting;
    {
        auto q = m_db.cached(
            "SELECT record_id, state, version FROM outbox WHERE state = 'awaiting_key' OR (state = 'queued' AND ?)");
        q->bind(1, int64_t(resealQueued ? 1 : 0));
        while (q->step()) waiting.push_back({q->text(0), q->text(1), q->int64(2)});
    }
    int sealed = 0;
    for (const Waiting& w : waiting) {
        auto row = readVisit(w.id);
        if (!row) continue;
        auto record = decodeVisit(*row);
        // A record that fails its check stays where it is; listVisits() reports it.
        if (!record) continue;
        SealInput in;
        in.record = &record.value();
        in.aggregatorPublicKey = *aggregator;
        TemplateEntry* e = templateByStoreId(row->templateRef);
        auto survey = e ? ensureLoaded(*e) : StoreResult<std::shared_ptr<const Template>>(
                                                 failure(StoreError::UnknownTemplate, ""));
        if (custodian) {
            // Without its template we cannot tell which fields are personal; sealing it all to
            // the aggregator would break the custodian promise, so it waits.
            if (!survey) continue;
            in.custodianPublicKey = *custodian;
            in.personalFields = personalFieldsOf(*survey.value());
        }
        // Without its template the record is sealed without the dictionary: larger, same content.
        const std::string dictionary = survey ? recordDictionary(*survey.value()) : std::string();
        in.dictionary = dictionary;
        in.signingSecretKey = &m_keys->signingSecretKey;
        in.signingPublicKey = m_keys->signingPublicKey;
        SealedEnvelope env = sealEnvelope(in);
        int64_t version = w.version + 1;
        auto u = m_db.cached(
            "UPDATE outbox SET state = 'queued', version = ?, envelope = ?, content_hash = ?, updated_at = ? "
            "WHERE record_id = ? AND state = ?");
        u->bind(1, version).bindBlob(2, seal(asText(encodeEnvelope(env)), schema::kKindEnvelope, w.id, version))
            .bind(3, env.contentHash).bind(4, unixNow()).bind(5, w.id).bind(6, w.state).run();
        ++sealed;
    }
    return sealed;
}

StoreResult<FormSession> Store::startCorrection(std::string_view finishedVisitId) {
    requireUnlocked();
    auto row = readVisit(finishedVisitId);
    if (!row) return failure(StoreError::UnknownVisit, "visit " + std::string(finishedVisitId) + " is not in this store");
    if (row->status != VisitStatus::Finished)
        return failure(StoreError::WrongStatus, "visit " + row->id + " is still a draft: edit it instead of correcting it");
    auto record = decodeVisit(*row);
    if (!record) return record.failure();
    auto survey = templateOfVisit(*row);
    if (!survey) return survey.failure();
    // A correction is a new record (new id, new creation time) carrying the parent's answers;
    // the parent stays as it was sent.
    Record answers = std::move(record.value());
    answers.id = newRecordId();
    answers.createdAt = unixNow();
    FormSession session(survey.value(), answers.id, answers.createdAt);
    (void)session.restore(answers);  // same template version: every answer is taken
    insertDraft(session, row->templateRef, row->id);
    return session;
}

StoreStatus Store::discardDraft(std::string_view visitId) {
    requireUnlocked();
    sql::Transaction t(m_db);
    {
        auto d = m_db.cached("DELETE FROM visits WHERE id = ? AND status = 'draft'");
        d->bind(1, visitId).run();
    }
    if (m_db.changes() != 1) {
        bool exists = readVisit(visitId).has_value();
        return failure(exists ? StoreError::WrongStatus : StoreError::UnknownVisit,
                       "visit " + std::string(visitId) +
                           (exists ? " is finished: finished records leave only through the outbox" : " is not in this store"));
    }
    t.commit();
    return Done{};
}

// --- attachments and assignments ---

namespace {

// An attachment's payload is bound to its visit as well as its own id, so moving it under
// another visit fails to open.
std::string attachmentContextId(std::string_view visitId, std::string_view attachmentId) {
    return std::string(visitId) + "/" + std::string(attachmentId);
}

}  // namespace

StoreResult<std::string> Store::addAttachment(std::string_view visitId, std::string_view bytes,
                                              std::string_view mediaType) {
    requireUnlocked();
    auto row = readVisit(visitId);
    if (!row) return failure(StoreError::UnknownVisit, "visit " + std::string(visitId) + " is not in this store");
    if (row->status != VisitStatus::Draft)
        return failure(StoreError::WrongStatus, "visit " + row->id + " is finished; attachments go with a correction");
    std::string id = newRecordId();
    std::string plain = std::string(mediaType) + "\n" + std::string(bytes);
    sql::Transaction t(m_db);
    {
        auto ins = m_db.cached("INSERT INTO attachments (id, visit_id, created_at, payload) VALUES (?, ?, ?, ?)");
        ins->bind(1, id).bind(2, visitId).bind(3, unixNow())
            .bindBlob(4, seal(plain, schema::kKindAttachment, attachmentContextId(visitId, id), 1)).run();
    }
    t.commit();
    return id;
}

StoreResult<Attachment> Store::readAttachment(std::string_view attachmentId) {
    requireUnlocked();
    auto q = m_db.cached("SELECT visit_id, created_at, payload FROM attachments WHERE id = ?");
    q->bind(1, attachmentId);
    if (!q->step())
        return failure(StoreError::UnknownAttachment, "attachment " + std::string(attachmentId) + " is not in this store");
    Attachment a;
    a.id = std::string(attachmentId);
    a.visitId = q->text(0);
    a.createdAt = q->int64(1);
    auto plain = unseal(q->blob(2), schema::kKindAttachment, attachmentContextId(a.visitId, a.id), 1);
    size_t nl = plain ? plain->find('\n') : std::string::npos;
    if (nl == std::string::npos) return failure(StoreError::IntegrityFailure, integrityMessage("attachment", a.id));
    a.mediaType = plain->substr(0, nl);
    a.bytes = plain->substr(nl + 1);
    return a;
}

std::vector<std::string> Store::listAttachments(std::string_view visitId) {
    std::vector<std::string> ids;
    auto q = m_db.cached("SELECT id FROM attachments WHERE visit_id = ? ORDER BY created_at, id");
    q->bind(1, visitId);
    while (q->step()) ids.push_back(q->text(0));
    return ids;
}

void Store::putAssignment(std::string_view id, std::string_view json) {
    requireUnlocked();
    sql::Transaction t(m_db);
    int64_t version = 1;
    {
        auto q = m_db.cached("SELECT version FROM assignments WHERE id = ?");
        q->bind(1, id);
        if (q->step()) version = q->int64(0) + 1;
    }
    int64_t now = unixNow();
    {
        auto u = m_db.cached(
            "INSERT INTO assignments (id, created_at, updated_at, version, payload) VALUES (?1, ?2, ?2, ?3, ?4) "
            "ON CONFLICT (id) DO UPDATE SET updated_at = ?2, version = ?3, payload = ?4");
        u->bind(1, id).bind(2, now).bind(3, version).bindBlob(4, seal(json, schema::kKindAssignment, id, version)).run();
    }
    t.commit();
}

std::vector<AssignmentEntry> Store::listAssignments() {
    requireUnlocked();
    std::vector<AssignmentEntry> out;
    auto q = m_db.cached("SELECT id, updated_at, version, payload FROM assignments ORDER BY id");
    while (q->step()) {
        AssignmentEntry e;
        e.id = q->text(0);
        e.updatedAt = q->int64(1);
        auto plain = unseal(q->blob(3), schema::kKindAssignment, e.id, q->int64(2));
        if (plain) e.json = std::move(*plain);
        else e.error = integrityMessage("assignment", e.id);
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<PendingAttachment> Store::attachmentsToUpload() {
    requireUnlocked();
    std::vector<PendingAttachment> out;
    // Only once the record itself is acknowledged: the aggregator files an attachment under a
    // record it holds, and a refused record's photos have nowhere to go.
    auto q = m_db.cached(
        "SELECT a.id, a.visit_id FROM attachments a JOIN visits v ON v.id = a.visit_id "
        "JOIN outbox o ON o.record_id = a.visit_id "
        "WHERE v.status = 'finished' AND o.state IN ('acknowledged', 'duplicate') AND a.uploaded_at IS NULL "
        "ORDER BY a.created_at, a.id");
    while (q->step()) out.push_back({q->text(0), q->text(1)});
    return out;
}

StoreStatus Store::markAttachmentUploaded(std::string_view attachmentId) {
    requireUnlocked();
    sql::Transaction t(m_db);
    {
        auto u = m_db.cached("UPDATE attachments SET uploaded_at = COALESCE(uploaded_at, ?) WHERE id = ?");
        u->bind(1, unixNow()).bind(2, attachmentId).run();
    }
    if (m_db.changes() != 1)
        return failure(StoreError::UnknownAttachment, "attachment " + std::string(attachmentId) + " is not in this store");
    t.commit();
    return Done{};
}

// --- review comments ---

bool Store::putReviewComment(std::string_view recordId, std::string_view text, int64_t at) {
    requireUnlocked();
    // Comments come back whenever the feed is read again from an older cursor (a cut before
    // the cursor was saved); the text is encrypted, so duplicates are found by opening them.
    for (const ReviewCommentEntry& e : reviewComments(recordId))
        if (e.at == at && e.error.empty() && e.text == text) return false;
    std::string id = newRecordId();
    sql::Transaction t(m_db);
    {
        auto ins = m_db.cached(
            "INSERT INTO review_comments (id, record_id, at, received_at, payload) VALUES (?, ?, ?, ?, ?)");
        ins->bind(1, id).bind(2, recordId).bind(3, at).bind(4, unixNow())
            .bindBlob(5, seal(text, schema::kKindReviewComment, std::string(recordId) + "/" + id, 1)).run();
    }
    t.commit();
    return true;
}

std::vector<ReviewCommentEntry> Store::reviewComments(std::string_view recordId) {
    requireUnlocked();
    std::vector<ReviewCommentEntry> out;
    auto q = m_db.cached(
        "SELECT id, record_id, at, payload FROM review_comments WHERE ?1 = '' OR record_id = ?1 "
        "ORDER BY at, received_at, id");
    q->bind(1, std::string(recordId));  // "" rather than NULL for the default: every comment
    while (q->step()) {
        ReviewCommentEntry e;
        e.id = q->text(0);
        e.recordId = q->text(1);
        e.at = q->int64(2);
        // Bound to its record as well as its own id: a comment moved under another record fails.
        auto plain = unseal(q->blob(3), schema::kKindReviewComment, e.recordId + "/" + e.id, 1);
        if (plain) e.text = std::move(*plain);
        else e.error = "review comment on " + e.recordId + ": stored data fails its integrity check";
        out.push_back(std::move(e));
    }
    return out;
}

// --- outbox ---

std::vector<OutboxEntry> Store::listOutbox() {
    requireUnlocked();
    std::vector<OutboxEntry> out;
    auto q = m_db.cached(
        "SELECT record_id, state, content_hash, reason, queued_at, updated_at, acknowledged_at FROM outbox "
        "ORDER BY queued_at, record_id");
    while (q->step()) {
        OutboxEntry e;
        e.recordId = q->text(0);
        e.state = outboxStateFromName(q->text(1)).value_or(OutboxState::Queued);
        e.contentHash = q->text(2);
        if (!q->isNull(3)) {
            auto reason = unseal(q->blob(3), schema::kKindOutboxReason, e.recordId, 1);
            if (reason) {
                // {"refusal": code, "message": words}; an entry refused before codes were kept
                // holds the words alone.
                auto j = nlohmann::json::parse(*reason, nullptr, false);
                if (j.is_object() && j.contains("refusal") && j["refusal"].is_string() && j.contains("message") &&
                    j["message"].is_string()) {
                    e.refusalCode = j["refusal"].get<std::string>();
                    e.reason = j["message"].get<std::string>();
                } else {
                    e.reason = std::move(*reason);
                }
            } else e.error = "outbox entry " + e.recordId + ": the refusal reason fails its integrity check";
        }
        e.queuedAt = q->int64(4);
        e.updatedAt = q->int64(5);
        e.acknowledgedAt = q->isNull(6) ? 0 : q->int64(6);
        out.push_back(std::move(e));
    }
    return out;
}

StoreResult<SealedEnvelope> Store::envelope(std::string_view recordId) {
    requireUnlocked();
    auto q = m_db.cached("SELECT state, version, envelope FROM outbox WHERE record_id = ?");
    q->bind(1, recordId);
    if (!q->step()) return failure(StoreError::NotInOutbox, "record " + std::string(recordId) + " is not in the outbox");
    if (q->isNull(2))
        return failure(StoreError::IllegalTransition,
                       "record " + std::string(recordId) + " is not sealed yet: set the aggregator's key first");
    auto plain = unseal(q->blob(2), schema::kKindEnvelope, recordId, q->int64(1));
    std::optional<SealedEnvelope> env;
    if (plain) env = decodeEnvelope(bytesOf(*plain));
    if (!env || env->recordId != recordId)
        return failure(StoreError::IntegrityFailure, integrityMessage("outbox entry", recordId));
    return std::move(*env);
}

StoreStatus Store::moveOutbox(std::string_view recordId, OutboxState to, std::string_view reason) {
    requireUnlocked();
    const std::string id(recordId);
    sql::Transaction t(m_db);
    OutboxState from;
    {
        auto q = m_db.cached("SELECT state FROM outbox WHERE record_id = ?");
        q->bind(1, id);
        if (!q->step()) return failure(StoreError::NotInOutbox, "record " + id + " is not in the outbox");
        from = outboxStateFromName(q->text(0)).value_or(OutboxState::Queued);
    }
    bool allowed = false;
    if (to == OutboxState::Sent) allowed = from == OutboxState::Queued || from == OutboxState::Sent;
    else allowed = from == OutboxState::Sent || from == to;  // an answer heard twice is still one answer
    if (!allowed) {
        std::string hint = from == OutboxState::AwaitingKey ? ": it is not sealed yet (set the aggregator's key)"
                           : from == OutboxState::Queued    ? ": it has not been sent"
                                                            : ": the aggregator has already answered for it";
        return failure(StoreError::IllegalTransition, "record " + id + " is " + outboxStateName(from) +
                                                           " and cannot become " + outboxStateName(to) + hint);
    }
    if (from == to && to != OutboxState::Sent) return Done{};
    int64_t now = unixNow();
    {
        auto u = m_db.cached(
            "UPDATE outbox SET state = ?1, updated_at = ?2, reason = ?3, "
            "acknowledged_at = CASE WHEN ?1 IN ('acknowledged', 'duplicate') THEN ?2 ELSE acknowledged_at END "
            "WHERE record_id = ?4");
        u->bind(1, outboxStateName(to)).bind(2, now);
        if (to == OutboxState::Refused) u->bindBlob(3, seal(reason, schema::kKindOutboxReason, id, 1));
        else u->bindNull(3);
        u->bind(4, id).run();
    }
    t.commit();
    return Done{};
}

StoreStatus Store::markSent(std::string_view recordId) { return moveOutbox(recordId, OutboxState::Sent, {}); }
StoreStatus Store::markAcknowledged(std::string_view recordId) {
    return moveOutbox(recordId, OutboxState::Acknowledged, {});
}
StoreStatus Store::markDuplicate(std::string_view recordId) { return moveOutbox(recordId, OutboxState::Duplicate, {}); }
StoreStatus Store::markRefused(std::string_view recordId, std::string_view reason, std::string_view refusalCode) {
    const std::string kept = nlohmann::json{{"refusal", refusalCode}, {"message", reason}}.dump();
    return moveOutbox(recordId, OutboxState::Refused, kept);
}

int Store::purge(int64_t now) {
    int64_t cutoff = now - settings().purgeAfterDays * 86400;
    sql::Transaction t(m_db);
    {
        // status = 'finished' is checked here as well as through the outbox, so that no
        // state of the outbox table, however it came about, can reach a draft.
        auto d = m_db.cached(
            "DELETE FROM visits WHERE status = 'finished' AND id IN ("
            "  SELECT record_id FROM outbox WHERE state IN ('acknowledged', 'duplicate')"
            "  AND acknowledged_at IS NOT NULL AND acknowledged_at <= ?)");
        d->bind(1, cutoff).run();
    }
    int purged = int(m_db.changes());
    // Review comments follow their record out (they have no foreign key: a comment may name a
    // record by id only).
    if (purged) m_db.exec("DELETE FROM review_comments WHERE record_id NOT IN (SELECT id FROM visits)");
    t.commit();
    return purged;
}

}  // namespace ck
