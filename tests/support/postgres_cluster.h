#pragma once
// A real PostgreSQL server for the tests. With CK_TEST_POSTGRES_URL set (scripts/test starts
// one throwaway server for the whole run), that server is used; otherwise the first call
// starts one for this process with scripts/postgres-throwaway (a fresh cluster in a temporary
// folder, 127.0.0.1 only, a free port) and stops it and deletes the folder at exit, or, if
// the process is killed, shortly after.
#include <string>
#include <vector>

namespace ck::test {

class PostgresCluster {
public:
    // The process's server, started on first use. Throws std::runtime_error with the
    // server's own words when it cannot start.
    static PostgresCluster& shared();

    // A new, empty database with a unique name; returns its URL
    // ("postgresql://postgres@127.0.0.1:PORT/NAME") so that each test starts from nothing.
    std::string freshDatabase();
    // The URL of the maintenance database ("postgres") of the server.
    const std::string& adminUrl() const { return m_adminUrl; }
    // `url` with its database name replaced by `database`.
    static std::string withDatabase(const std::string& url, const std::string& database);

    ~PostgresCluster();
    PostgresCluster(const PostgresCluster&) = delete;
    PostgresCluster& operator=(const PostgresCluster&) = delete;

private:
    PostgresCluster();
    std::string m_adminUrl;
    std::string m_folder;                   // empty: a server someone else started
    int m_ownerPid = 0;                     // a forked child must not stop its parent's server
    std::vector<std::string> m_databases;   // dropped at exit on a server we did not start
};

}  // namespace ck::test
