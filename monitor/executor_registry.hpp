#pragma once
// The process-wide registry of periodic executors, and the exit and fork handlers.
//
// Every executor registers (weakly) when first opened and leaves when destroyed. On the first
// registration the registry installs:
// - an std::atexit handler that closes and interrupts every live executor (interrupt(): the
//   owner's hook breaks blocking I/O, e.g. a monitor's socket read), then joins them all within
//   ONE bounded total timeout (1 s), so that no executor thread runs during static destruction,
//   and finally runs the exit hook of each executor that ended (e.g. the kill-cursors executor
//   of a leaked client reports the kills it can no longer send).
//   Ordering: atexit handlers and static destructors run in reverse order of registration /
//   construction. Statics constructed before the first open() are destroyed after the handler
//   ran (their destructors see no executor thread); statics constructed later are destroyed
//   before it, so a target must not use such statics. The registry and the log facility keep
//   their own state in never-destroyed heap objects, so they work at any point of exit.
//   After the handler ran, open() no longer starts threads and ~PeriodicExecutor detaches a
//   thread that failed to end instead of joining it (which could hang the exit).
// - pthread_atfork handlers: the registry's mutex and every executor's mutex are held across
//   fork(), so they are usable in the child; in the child no executor thread is believed
//   running (the parent's thread handles are forgotten) and open() starts fresh threads.

#include <chrono>
#include <cstddef>
#include <memory>

namespace mongoslice {
namespace detail {
class ExecutorState;
}

namespace executor_registry {

// Called by the executor; thread-safe. add is idempotent.
void add(const std::shared_ptr<detail::ExecutorState>& state);
void remove(const detail::ExecutorState* state) noexcept;

// Executors registered and not yet destroyed.
std::size_t live_count();
// Registered executors whose thread has not ended.
std::size_t running_count();

// Closes every live executor, then waits until all threads ended or `total_timeout` passed
// (one deadline for all). Returns how many still run. The exit handler calls it with 1 s.
std::size_t close_and_join_all(std::chrono::milliseconds total_timeout);

// True once the exit handler has started.
bool exiting() noexcept;

inline constexpr std::chrono::milliseconds kExitJoinTimeout{1000};

}  // namespace executor_registry
}  // namespace mongoslice
