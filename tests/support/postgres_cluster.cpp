#include "tests/support/postgres_cluster.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <random>
#include <stdexcept>

#include "tests/support/command_run.h"

namespace ck::test {

namespace {

std::mutex g_mutex;  // guards m_databases and the name counter

// Runs one statement on the server's maintenance database. `sql15` replaces it on a
// PostgreSQL 15 or later server, when given.
void adminExec(const std::string& adminUrl, const std::string& sqlAny, const std::string& sql15 = "") {
    PGconn* conn = PQconnectdb(adminUrl.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
        std::string why = PQerrorMessage(conn);
        PQfinish(conn);
        throw std::runtime_error("cannot reach the test PostgreSQL server: " + why);
    }
    const std::string& sql = !sql15.empty() && PQserverVersion(conn) >= 150000 ? sql15 : sqlAny;
    PGresult* r = PQexec(conn, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    std::string why = ok ? "" : PQresultErrorMessage(r);
    PQclear(r);
    PQfinish(conn);
    if (!ok) throw std::runtime_error("test PostgreSQL server: `" + sql + "` failed: " + why);
}

}  // namespace

PostgresCluster& PostgresCluster::shared() {
    static PostgresCluster cluster;
    return cluster;
}

PostgresCluster::PostgresCluster() : m_ownerPid(getpid()) {
    if (const char* url = getenv("CK_TEST_POSTGRES_URL"); url && *url) {
        m_adminUrl = url;
        return;
    }
    std::string pattern = (std::filesystem::temp_directory_path() / "ck-postgres.XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("cannot create a folder for the test PostgreSQL server");
    m_folder = pattern;
    std::string script = std::string(CK_SOURCE_DIR) + "/scripts/postgres-throwaway";
    CommandRun run = runCommand(shellQuote(script) + " start " + shellQuote(m_folder) + " " +
                                std::to_string(getpid()));
    if (run.status != 0) {
        std::filesystem::remove_all(m_folder);
        throw std::runtime_error("could not start a throwaway PostgreSQL server: " + run.all());
    }
    m_adminUrl = run.out;
    while (!m_adminUrl.empty() && (m_adminUrl.back() == '\n' || m_adminUrl.back() == '\r')) m_adminUrl.pop_back();
}

PostgresCluster::~PostgresCluster() {
    if (getpid() != m_ownerPid) return;  // a forked child leaving through exit()
    if (!m_folder.empty()) {
        std::string script = std::string(CK_SOURCE_DIR) + "/scripts/postgres-throwaway";
        runCommand(shellQuote(script) + " stop " + shellQuote(m_folder));
        return;
    }
    // Someone else's server outlives us: leave it as we found it.
    for (const std::string& name : m_databases) {
        try {
            adminExec(m_adminUrl, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        } catch (const std::exception&) {
            // Best effort at exit: the server's owner drops what is left.
        }
    }
}

std::string PostgresCluster::withDatabase(const std::string& url, const std::string& database) {
    size_t scheme = url.find("://");
    size_t hostStart = scheme == std::string::npos ? 0 : scheme + 3;
    size_t query = url.find('?', hostStart);
    size_t slash = url.find('/', hostStart);
    if (slash != std::string::npos && (query == std::string::npos || slash < query)) {
        return url.substr(0, slash + 1) + database + (query == std::string::npos ? "" : url.substr(query));
    }
    if (query != std::string::npos) return url.substr(0, query) + "/" + database + url.substr(query);
    return url + "/" + database;
}

std::string PostgresCluster::freshDatabase() {
    static std::atomic<unsigned> counter{0};
    // The random part keeps names unique on a server that outlives many test runs.
    char random[9];
    snprintf(random, sizeof random, "%08x", static_cast<unsigned>(std::random_device{}()));
    std::string name = "ck_test_" + std::to_string(getpid()) + "_" + std::to_string(++counter) + "_" + random;
    // FILE_COPY copies the small template's files instead of logging every page: about
    // twice as fast, and tests create many databases.
    adminExec(m_adminUrl, "CREATE DATABASE " + name, "CREATE DATABASE " + name + " STRATEGY = FILE_COPY");
    {
        std::lock_guard lock(g_mutex);
        m_databases.push_back(name);
    }
    return withDatabase(m_adminUrl, name);
}

}  // namespace ck::test
