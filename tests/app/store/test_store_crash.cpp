// Crash test: a child process autosaves answers in a loop and is killed with SIGKILL at a
// random moment, 200 times. After each kill the store opens, passes PRAGMA integrity_check,
// and holds every answer whose save had returned (reported to the parent through a pipe
// only after saveDraft() returned).
//
// Hidden ([.crash]) from the default run; CTest runs it as its own entry.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <sqlite3.h>

#include "app/store/store.h"

using namespace ck;
namespace fs = std::filesystem;

namespace {

constexpr const char* kPassphrase = "tiruppur-knits-2026";

std::string readText(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The child: autosave forever, reporting each save that returned. Never returns.
[[noreturn]] void autosaveLoop(const fs::path& file, const std::string& visitId, int writeFd) {
    auto store = Store::open(file);
    if (!store || !store.value().unlock(kPassphrase).ok()) _exit(3);
    auto resumed = store.value().resumeVisit(visitId);
    if (!resumed) _exit(4);
    FormSession& session = resumed.value().session;
    int question = session.survey().indexOf("workers_perm_men_30plus");
    int counter = int(session.value(question).isMissing() ? 0 : session.value(question).asNumber());
    // Ready: the parent times its kill from here, so that it lands among the saves and not
    // in the start-up (whose length depends on how busy the machine is).
    const int ready = -1;
    if (write(writeFd, &ready, sizeof ready) != sizeof ready) _exit(7);
    for (;;) {
        ++counter;
        if (!session.setAnswer(question, 0, Value::number(counter)).ok()) _exit(5);
        if (!store.value().saveDraft(session).ok()) _exit(6);
        // Only now is the save durable; tell the parent.
        if (write(writeFd, &counter, sizeof counter) != sizeof counter) _exit(7);
    }
}

std::string integrityCheck(const fs::path& file) {
    sqlite3* db = nullptr;
    std::string result = "cannot open";
    if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
            result = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return result;
}

}  // namespace

TEST_CASE("autosave survives SIGKILL at random moments, 200 times", "[.crash][store]") {
    fs::path dir = fs::path(CK_BINARY_DIR) / "test-scratch" / ("crash-" + std::to_string(getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::path file = dir / "officer.ckstore";

    std::string visitId;
    {
        auto store = Store::create(file, kPassphrase, kPassphrase, kFastKdf);
        REQUIRE(store.ok());
        auto imported = store.value().importTemplate(
            readText(fs::path(CK_SOURCE_DIR) / "survey-templates/cluster-diagnostic.json"), "cluster-diagnostic.json");
        REQUIRE(imported.ok());
        auto visit = store.value().startVisit("cluster-diagnostic");
        REQUIRE(visit.ok());
        FormSession& s = visit.value();
        REQUIRE(s.setAnswer("consent", Value::text("yes")).ok());
        REQUIRE(store.value().saveDraft(s).ok());
        visitId = s.recordId();
    }

    std::mt19937 rng(20261123);
    std::uniform_int_distribution<int> waitMicros(500, 30000);
    int lastAcknowledged = 0;
    int kills = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
    for (int round = 0; round < 200 && std::chrono::steady_clock::now() < deadline; ++round) {
        int fds[2];
        REQUIRE(pipe(fds) == 0);
        pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            close(fds[0]);
            autosaveLoop(file, visitId, fds[1]);
        }
        close(fds[1]);
        int first = 0;
        // Blocks until the child is ready; 0 bytes means it ended before that (status below).
        bool ready = read(fds[0], &first, sizeof first) == sizeof first && first == -1;
        if (ready) std::this_thread::sleep_for(std::chrono::microseconds(waitMicros(rng)));
        REQUIRE(kill(child, SIGKILL) == 0);
        int status = 0;
        REQUIRE(waitpid(child, &status, 0) == child);
        // A child that exited by itself failed a step (exit code says which) rather than being killed.
        INFO("round " << round << ": child status " << status);
        REQUIRE(ready);
        REQUIRE(WIFSIGNALED(status));
        ++kills;
        int value = 0;
        while (read(fds[0], &value, sizeof value) == sizeof value) lastAcknowledged = std::max(lastAcknowledged, value);
        close(fds[0]);

        REQUIRE(integrityCheck(file) == "ok");
        auto store = Store::open(file);
        REQUIRE(store.ok());
        REQUIRE(store.value().unlock(kPassphrase).ok());
        auto resumed = store.value().resumeVisit(visitId);
        INFO(resumed.message());
        REQUIRE(resumed.ok());
        const FormSession& s = resumed.value().session;
        const Value& stored = s.value(s.survey().indexOf("workers_perm_men_30plus"));
        int saved = stored.isMissing() ? 0 : int(stored.asNumber());
        // Every save that returned is there; at most the one in flight went further.
        CHECK(saved >= lastAcknowledged);
        CHECK(saved <= lastAcknowledged + 1);
        lastAcknowledged = saved;
    }
    CHECK(kills == 200);
    CHECK(lastAcknowledged > 200);  // the children really saved, many times over
    fs::remove_all(dir);
}
