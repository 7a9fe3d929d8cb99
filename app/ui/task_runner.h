#pragma once
// One worker thread running the app's long work (key derivation, finalise, later sync and
// bundle export) in order. A job runs on the worker and returns the closure that applies its
// result; those closures run on the UI thread at the start of the next frame
// (applyFinished()), so screens never see state change in the middle of a frame.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ck {

class TaskRunner {
public:
    using Apply = std::function<void()>;
    using Job = std::function<Apply()>;

    TaskRunner();
    ~TaskRunner();  // finishes the queued jobs, then joins; their results are dropped
    TaskRunner(const TaskRunner&) = delete;
    TaskRunner& operator=(const TaskRunner&) = delete;

    // `label` is what the spinner says ("Unlocking...").
    void post(std::string label, Job job);
    // UI thread: runs the results of finished jobs, in the order the jobs were posted.
    void applyFinished();
    // A job queued or running, or a result not yet applied.
    bool busy() const;
    std::string label() const;  // of the running job, "" when idle
    // Blocks until every queued job has run (results still wait for applyFinished()).
    void waitIdle();

private:
    struct Entry {
        std::string label;
        Job job;
    };
    void run();

    mutable std::mutex m_mutex;
    std::condition_variable m_wake, m_idle;
    std::deque<Entry> m_queue;
    std::deque<Apply> m_done;
    std::string m_running;
    bool m_active = false;
    bool m_stop = false;
    std::thread m_thread;
};

}  // namespace ck
