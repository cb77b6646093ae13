#include "monitor/executor_registry.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "monitor/periodic_executor_state.hpp"
#include "wire/log.hpp"

namespace mongoslice::executor_registry {
namespace {

using detail::ExecutorState;
using States = std::vector<std::shared_ptr<ExecutorState>>;

// Created on first use and never destroyed: executors owned by static objects unregister
// during static destruction, in an order we do not control.
struct Registry {
  std::mutex mutex;
  std::unordered_map<const ExecutorState*, std::weak_ptr<ExecutorState>> entries;
  // The executors whose mutex the fork handlers hold across fork().
  States held_for_fork;
};

Registry& registry() {
  static Registry* instance = new Registry();
  return *instance;
}

std::atomic<bool> exit_started{false};

// Strong references to every live executor; taken under the lock, used without it (dropping
// the last reference destroys a state, which unregisters and so takes the lock).
States live_states() {
  States states;
  std::lock_guard lock(registry().mutex);
  states.reserve(registry().entries.size());
  for (auto& [key, weak] : registry().entries) {
    if (auto state = weak.lock()) states.push_back(std::move(state));
  }
  return states;
}

void on_exit() {
  exit_started.store(true);
  States states = live_states();
  // Close and interrupt all first, so that they end in parallel (an executor blocked in I/O
  // ends only through its owner's interrupt hook), then wait with one deadline for all.
  for (auto& state : states) state->interrupt();
  const auto deadline = ExecutorState::Clock::now() + kExitJoinTimeout;
  std::size_t still_running = 0;
  for (auto& state : states) {
    if (state->join_until(deadline)) {
      state->run_exit_hook();
    } else {
      ++still_running;
    }
  }
  if (still_running > 0) {
    log::emit(
        log::component::executor, log::Level::warning,
        std::to_string(still_running) + " executor thread(s) did not end within the exit timeout");
  }
}

void prepare_fork() {
  Registry& r = registry();
  r.mutex.lock();
  // Allocation here is fine: we are before fork(), in the forking thread.
  r.held_for_fork.clear();
  for (auto& [key, weak] : r.entries) {
    if (auto state = weak.lock()) r.held_for_fork.push_back(std::move(state));
  }
  for (auto& state : r.held_for_fork) state->lock_for_fork();
}

void after_fork_in_parent() {
  Registry& r = registry();
  States held;
  held.swap(r.held_for_fork);
  for (auto& state : held) state->unlock_in_parent();
  r.mutex.unlock();
  // `held` is released here, without the lock (a last reference unregisters).
}

void after_fork_in_child() {
  Registry& r = registry();
  States held;
  held.swap(r.held_for_fork);
  for (auto& state : held) state->reset_in_child();
  r.mutex.unlock();
}

void install_handlers_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(on_exit);
    pthread_atfork(prepare_fork, after_fork_in_parent, after_fork_in_child);
  });
}

}  // namespace

void add(const std::shared_ptr<ExecutorState>& state) {
  install_handlers_once();
  std::lock_guard lock(registry().mutex);
  registry().entries.try_emplace(state.get(), state);
}

void remove(const ExecutorState* state) noexcept {
  std::lock_guard lock(registry().mutex);
  registry().entries.erase(state);
}

std::size_t live_count() {
  std::lock_guard lock(registry().mutex);
  std::size_t count = 0;
  for (auto& [key, weak] : registry().entries) count += weak.expired() ? 0 : 1;
  return count;
}

std::size_t running_count() {
  std::size_t count = 0;
  for (auto& state : live_states()) count += state->is_running() ? 1 : 0;
  return count;
}

std::size_t close_and_join_all(std::chrono::milliseconds total_timeout) {
  States states = live_states();
  // Close all first, so that they end in parallel, then wait with one deadline for all.
  for (auto& state : states) state->close();
  const auto deadline = ExecutorState::Clock::now() + total_timeout;
  std::size_t still_running = 0;
  for (auto& state : states) still_running += state->join_until(deadline) ? 0 : 1;
  return still_running;
}

bool exiting() noexcept {
  return exit_started.load();
}

}  // namespace mongoslice::executor_registry
