// BaselineService on real SQLite storage with realistic generated visits: the incremental
// path (visitStored after each stored visit) gives the same rollup as a full rebuild, a
// correction retires the record it names, and what cannot be built says why.
#include <catch2/catch.hpp>

#include "sync/aggregator/report/baseline_service.h"
#include "tests/support/postgres_cluster.h"
#include "tests/sync/aggregator/report/report_test_support.h"

using namespace ck;
using namespace ck::agg;

TEST_CASE("baseline service: visits ingested one at a time equal a full rebuild", "[report][service]") {
    auto folder = test::reportScratch("incremental");
    auto storage = openStorage(folder.string());
    test::Flagship f = test::loadFlagship();
    test::publishDirectly(*storage, f);
    auto units = test::testRegister(2, 2, 40, 7);
    storage->putRegister(test::registerRows(units), AuditEvent{1795000001, "register", "operator", "register.csv", ""});
    // More than 64 visits, so the rebuild decodes on several threads.
    auto visits = test::generatedVisits(f, units, 150, 11);

    BaselineOptions options;
    options.threads = 3;
    BaselineService live(*storage, options);
    CHECK(live.visitsCounted() == 0);
    for (const StoredVisit& v : visits) {
        auto outcome = storage->putVisits({v});
        REQUIRE(outcome == std::vector<PutOutcome>{PutOutcome::Stored});
        live.visitStored(v);
    }
    CHECK(live.visitsCounted() == visits.size());

    BaselineService rebuilt(*storage, options);
    CHECK(rebuilt.visitsCounted() == visits.size());
    report::BaselineRollup a = live.rollupSnapshot(), b = rebuilt.rollupSnapshot();
    CHECK(a.visits() == visits.size());
    CHECK_FALSE(a.strata().empty());
    CHECK(a == b);

    // Single-threaded rebuild: the same sums again (the add order is the storage order).
    BaselineOptions one = options;
    one.threads = 1;
    BaselineService single(*storage, one);
    CHECK(single.rollupSnapshot() == a);

    // Visits of another template are not counted; a duplicate notice changes nothing.
    StoredVisit other = visits.front();
    other.recordId = newRecordId();
    other.templateId = "another-survey";
    live.visitStored(other);
    CHECK(live.visitsCounted() == visits.size());
    CHECK(live.rollupSnapshot() == b);

    // The known scopes name every cluster of the register, its states and sectors.
    auto known = live.knownScopes();
    CHECK(known.front() == "nation");
    CHECK(std::find(known.begin(), known.end(), "cluster:" + units.front().cluster) != known.end());
    CHECK(std::find(known.begin(), known.end(), "state:" + units.front().state) != known.end());
    // Clusters the template's list does not name count under their own code, not "other".
    CHECK(std::find(known.begin(), known.end(), "cluster:other") == known.end());
    for (const auto& [key, acc] : a.strata()) {
        INFO(key.cluster);
        CHECK(std::any_of(units.begin(), units.end(), [&](const UnitProfile& u) { return u.cluster == key.cluster; }));
    }
}

TEST_CASE("baseline service: a correction supersedes the record it names", "[report][service]") {
    test::Flagship f = test::loadFlagship();
    auto units = test::testRegister(1, 2, 30, 3);
    auto visits = test::generatedVisits(f, units, 40, 5);

    // The parent is visits[3]; its correction is a later visit naming it, with other answers.
    auto fresh = deserializeRecord(std::string_view(reinterpret_cast<const char*>(visits[10].record.data()),
                                                    visits[10].record.size()));
    REQUIRE(fresh.record);
    Record corrected = *fresh.record;
    corrected.id = newRecordId();
    corrected.parentId = visits[3].recordId;
    StoredVisit correction = test::storedVisit(corrected, *f.survey, visits[3].cluster, 1795200000);

    auto folder = test::reportScratch("correction");
    auto storage = openStorage(folder.string());
    test::publishDirectly(*storage, f);
    storage->putRegister(test::registerRows(units), AuditEvent{1795000001, "register", "operator", "register.csv", ""});
    storage->putVisits(visits);
    BaselineService service(*storage);
    REQUIRE(service.visitsCounted() == visits.size());
    report::BaselineRollup before = service.rollupSnapshot();

    storage->putVisits({correction});
    service.visitStored(correction);
    // Still 40 visits: the correction took its parent's place.
    CHECK(service.visitsCounted() == visits.size());
    report::BaselineRollup after = service.rollupSnapshot();
    CHECK_FALSE(after == before);

    // The same figures as a storage that never held the parent.
    auto refFolder = test::reportScratch("correction-ref");
    auto ref = openStorage(refFolder.string());
    test::publishDirectly(*ref, f);
    ref->putRegister(test::registerRows(units), AuditEvent{1795000001, "register", "operator", "register.csv", ""});
    std::vector<StoredVisit> without = visits;
    without.erase(without.begin() + 3);
    ref->putVisits(without);
    ref->putVisits({correction});
    BaselineService reference(*ref);
    CHECK(reference.visitsCounted() == visits.size());
    CHECK(after == reference.rollupSnapshot());

    // A rebuild of the first storage agrees as well.
    BaselineService again(*storage);
    CHECK(again.rollupSnapshot() == after);
}

TEST_CASE("baseline service: no published template is a clear refusal", "[report][service]") {
    auto folder = test::reportScratch("no-template");
    auto storage = openStorage(folder.string());
    try {
        BaselineService service(*storage);
        FAIL("built without a template");
    } catch (const BaselineUnavailable& e) {
        CHECK_THAT(e.what(), Catch::Contains("cluster-diagnostic") && Catch::Contains("templates publish"));
    }
    test::Flagship f = test::loadFlagship();
    test::publishDirectly(*storage, f);
    BaselineOptions o;
    o.templateVersion = "0.0.0-never";
    CHECK_THROWS_AS(BaselineService(*storage, o), BaselineUnavailable);
    BaselineService fine(*storage);
    CHECK(fine.visitsCounted() == 0);
}

TEST_CASE("baseline service: scopes parse, bad ones say what is accepted", "[report][service]") {
    std::string error;
    auto nation = parseReportScope("nation", &error);
    REQUIRE(nation);
    CHECK(nation->level == report::ScopeLevel::Nation);
    auto cluster = parseReportScope("cluster:tiruppur_knitwear", &error);
    REQUIRE(cluster);
    CHECK(cluster->level == report::ScopeLevel::Cluster);
    CHECK(cluster->name == "tiruppur_knitwear");
    auto state = parseReportScope("state:Tamil Nadu", &error);
    REQUIRE(state);
    CHECK(state->level == report::ScopeLevel::State);
    CHECK(state->name == "Tamil Nadu");
    CHECK(parseReportScope("sector:knitwear", &error)->level == report::ScopeLevel::Sector);
    CHECK(parseReportScope("district:Tiruppur", &error)->level == report::ScopeLevel::District);
    for (const char* bad : {"", "world", "cluster:", "village:x", "Nation"}) {
        error.clear();
        CHECK_FALSE(parseReportScope(bad, &error));
        CHECK_FALSE(error.empty());
    }
}

TEST_CASE("baseline service: reports carry an inputs hash that follows the visits", "[report][service]") {
    auto folder = test::reportScratch("hash");
    auto storage = openStorage(folder.string());
    test::Flagship f = test::loadFlagship();
    test::publishDirectly(*storage, f);
    auto units = test::testRegister(1, 1, 40, 9);
    storage->putRegister(test::registerRows(units), AuditEvent{1795000001, "register", "operator", "register.csv", ""});
    auto visits = test::generatedVisits(f, units, 30, 13);
    storage->putVisits(std::vector<StoredVisit>(visits.begin(), visits.end() - 1));
    BaselineService service(*storage);

    report::ReportRequest request;
    request.builtAt = 1795300000;
    report::BaselineReport first = service.report(request);
    CHECK(first.builtAt == 1795300000);
    CHECK(first.inputsHash.size() == 64);
    CHECK(first.visits == visits.size() - 1);
    CHECK(service.report(request).inputsHash == first.inputsHash);

    storage->putVisits({visits.back()});
    service.visitStored(visits.back());
    report::BaselineReport second = service.report(request);
    CHECK(second.inputsHash != first.inputsHash);
    CHECK(second.visits == visits.size());
    // A rebuild from storage hashes the same inputs.
    BaselineService rebuilt(*storage);
    CHECK(rebuilt.report(request).inputsHash == second.inputsHash);

    report::ReportRequest unknown;
    unknown.scope = report::ReportScope{report::ScopeLevel::Cluster, "no_such_cluster"};
    CHECK_THROWS_AS(service.report(unknown), std::invalid_argument);
}

TEST_CASE("baseline service: a register loaded later (by another process) gives the weights", "[report][service]") {
    auto folder = test::reportScratch("register-later");
    auto storage = openStorage(folder.string());
    test::Flagship f = test::loadFlagship();
    test::publishDirectly(*storage, f);
    auto units = test::testRegister(1, 1, 30, 17);
    storage->putVisits(test::generatedVisits(f, units, 20, 18));
    BaselineOptions always;
    always.registerMaxAgeSeconds = 0;  // re-read the register for every report
    BaselineService service(*storage, always);
    BaselineService cached(*storage);  // the default: a copy younger than 5 minutes is kept
    report::ReportRequest request;
    request.builtAt = 1795300000;
    report::BaselineReport sampleOnly = service.report(request);
    CHECK_FALSE(sampleOnly.weighted);
    CHECK(service.geography().clusters.empty());

    // As `ck-aggregator assign` would, through the storage only: no registerChanged() call.
    storage->putRegister(test::registerRows(units), AuditEvent{1795000001, "register", "operator", "register.csv", ""});
    report::BaselineReport weighted = service.report(request);
    CHECK(weighted.weighted);
    CHECK(weighted.inputsHash != sampleOnly.inputsHash);
    CHECK(service.geography().clusters.count(units.front().cluster) == 1);

    // The default keeps its copy until it is old or it is told (registerChanged()).
    CHECK_FALSE(cached.report(request).weighted);
    cached.registerChanged();
    CHECK(cached.report(request).inputsHash == weighted.inputsHash);
}

TEST_CASE("baseline service: visits stored by another process are counted at the next report, and none twice",
          "[report][service]") {
    auto folder = test::reportScratch("other-process");
    auto storage = openStorage(folder.string());
    test::Flagship f = test::loadFlagship();
    test::publishDirectly(*storage, f);
    auto units = test::testRegister(1, 1, 40, 21);
    storage->putRegister(test::registerRows(units), AuditEvent{1795000001, "register", "operator", "register.csv", ""});
    auto visits = test::generatedVisits(f, units, 30, 22);
    storage->putVisits(std::vector<StoredVisit>(visits.begin(), visits.begin() + 20));
    BaselineService service(*storage);
    report::ReportRequest request;
    request.builtAt = 1795300000;
    CHECK(service.report(request).visits == 20);

    // `ck-aggregator import`, or a second `serve` on the same database: no hook here.
    storage->putVisits(std::vector<StoredVisit>(visits.begin() + 20, visits.begin() + 25));
    report::BaselineReport afterImport = service.report(request);
    CHECK(afterImport.visits == 25);

    // This process's own ingest: stored, then a report rebuilds before the hook runs.
    storage->putVisits(std::vector<StoredVisit>(visits.begin() + 25, visits.end()));
    CHECK(service.report(request).visits == visits.size());
    for (auto it = visits.begin() + 25; it != visits.end(); ++it) service.visitStored(*it);  // late hooks
    report::BaselineReport final = service.report(request);
    CHECK(final.visits == visits.size());
    BaselineService rebuilt(*storage);
    CHECK(rebuilt.report(request).inputsHash == final.inputsHash);
    CHECK(rebuilt.rollupSnapshot() == service.rollupSnapshot());
}

TEST_CASE("baseline service on PostgreSQL: the same visits give the same report as on SQLite", "[report][service][postgres]") {
    auto pg = openStorage(test::PostgresCluster::shared().freshDatabase());
    auto sqlite = openStorage(test::reportScratch("pg-twin").string());
    test::Flagship f = test::loadFlagship();
    auto units = test::testRegister(2, 2, 30, 31);
    auto visits = test::generatedVisits(f, units, 90, 32);
    for (auto* s : {pg.get(), sqlite.get()}) {
        test::publishDirectly(*s, f);
        s->putRegister(test::registerRows(units), AuditEvent{1795000001, "register", "operator", "register.csv", ""});
    }
    // PostgreSQL gets them one batch at a time through the ingest hook, SQLite all at once.
    BaselineService onPg(*pg);
    for (size_t i = 0; i < visits.size(); i += 30) {
        std::vector<StoredVisit> batch(visits.begin() + long(i), visits.begin() + long(std::min(i + 30, visits.size())));
        pg->putVisits(batch);
        for (const StoredVisit& v : batch) onPg.visitStored(v);
    }
    sqlite->putVisits(visits);
    BaselineService onSqlite(*sqlite);

    report::ReportRequest request;
    request.builtAt = 1795300000;
    request.scope = report::ReportScope{report::ScopeLevel::State, units.front().state};
    report::BaselineReport a = onPg.report(request), b = onSqlite.report(request);
    CHECK(a.visits > 0);
    CHECK(a.visits < visits.size());  // one state of two
    CHECK(a.visits == b.visits);
    CHECK(a.inputsHash == b.inputsHash);
    CHECK(onPg.rollupSnapshot() == onSqlite.rollupSnapshot());
    // A rebuild on PostgreSQL reads the same sums back.
    BaselineService rebuilt(*pg);
    CHECK(rebuilt.rollupSnapshot() == onPg.rollupSnapshot());
}
