#include "app/ui/task_runner.h"

#include <exception>

namespace ck {

TaskRunner::TaskRunner() : m_thread([this] { run(); }) {}

TaskRunner::~TaskRunner() {
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void TaskRunner::post(std::string label, Job job) {
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back({std::move(label), std::move(job)});
    }
    m_wake.notify_one();
}

void TaskRunner::applyFinished() {
    std::deque<Apply> done;
    {
        std::lock_guard lock(m_mutex);
        done.swap(m_done);
    }
    for (auto& apply : done)
        if (apply) apply();
}

bool TaskRunner::busy() const {
    std::lock_guard lock(m_mutex);
    return m_active || !m_queue.empty() || !m_done.empty();
}

std::string TaskRunner::label() const {
    std::lock_guard lock(m_mutex);
    if (m_active) return m_running;
    return m_queue.empty() ? std::string() : m_queue.front().label;
}

void TaskRunner::waitIdle() {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return !m_active && m_queue.empty(); });
}

void TaskRunner::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
        if (m_queue.empty()) return;  // stopping, nothing left to do
        Entry entry = std::move(m_queue.front());
        m_queue.pop_front();
        m_active = true;
        m_running = entry.label;
        lock.unlock();
        Apply apply;
        // A job that throws (disk I/O, a damaged file) must not take the worker down; the
        // job's own code reports expected failures through its Apply closure.
        try {
            apply = entry.job();
        } catch (const std::exception&) {
            apply = nullptr;
        }
        lock.lock();
        m_done.push_back(std::move(apply));
        m_active = false;
        m_running.clear();
        m_idle.notify_all();
    }
}

}  // namespace ck
