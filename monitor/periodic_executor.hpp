#pragma once
// PeriodicExecutor: runs a target on its own thread every `interval`, earlier when woken, until
// closed. The C++ rendering of PyMongo's periodic executor, without its polling: the thread
// sleeps on a futex until its deadline or until close/wake/update_interval changes the state
// word, so an idle executor costs no wake-ups and close/wake take effect at once.
//
// Guarantees (DESIGN.md, invariants 2, 3, 5):
// - close() and wake() are noexcept, lock-free and allocation-free (one atomic read-modify-write
//   and at most one futex wake syscall). They may be called from any destructor, any thread, the
//   target itself, and a signal handler.
// - After close() the thread ends as soon as the target returns; while asleep it ends at once.
//   close() does not interrupt a target blocked in I/O: interrupt() does, through a hook the
//   owner registers before open() (e.g. the socket's shutdown(2)). The hook must obey close()'s
//   rules (noexcept, no lock, no allocation), because the exit handler calls it too. A close()
//   that races with open() wins: the executor stays closed and no thread starts.
// - Every opened executor is registered (weakly) in the process-wide registry
//   (monitor/executor_registry.hpp); at exit, all are closed and joined within ~1 s in total.
//
// Timing: the next run starts `interval` after the previous run ended (kUntilWoken: only when
// woken; such an executor has no timer at all). wake() brings it
// forward, but never sooner than `min_interval` after the previous run started. A wake that
// arrives while the target runs is kept: one more run follows. skip_sleep() makes the next run
// follow immediately (also ending a sleep in progress).
//
// The target runs on the executor's thread; it returns false to stop the executor. An
// exception it throws stops the executor and is logged (component "executor", level error).
//
// Lifetime: all state shared with the thread lives in an internal object the thread co-owns,
// so the thread never touches a destroyed PeriodicExecutor. The destructor closes and then
// joins the thread (unbounded: the owner must have interrupted blocking I/O and must not hold a
// lock the target needs), except on the executor's own thread, or after the exit handler ran,
// where it detaches instead.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace mongoslice {

namespace detail {
class ExecutorState;
}

class PeriodicExecutor {
 public:
  // An interval that never elapses: the executor runs only when woken (or skip_sleep()).
  static constexpr std::chrono::milliseconds kUntilWoken = std::chrono::milliseconds::max();

  // `name` names the thread (first 15 characters, as `top -H` shows).
  PeriodicExecutor(std::string name, std::chrono::milliseconds interval,
                   std::chrono::milliseconds min_interval, std::function<bool()> target);
  ~PeriodicExecutor();

  PeriodicExecutor(PeriodicExecutor&&) noexcept = default;
  PeriodicExecutor& operator=(PeriodicExecutor&&) = delete;
  PeriodicExecutor(const PeriodicExecutor&) = delete;
  PeriodicExecutor& operator=(const PeriodicExecutor&) = delete;

  // Starts the thread; the target runs at once. A no-op while running and not closed. After
  // close() (or after the target stopped, or after fork() in the child) it starts a fresh thread
  // once the old one has ended (it waits for that); called from the target after close(), it
  // simply cancels the close. After the exit handler has run it does nothing. Throws
  // std::system_error when no thread can be created.
  void open();

  // Asks the thread to end; see the guarantees above.
  void close() noexcept;

  // close(), then the interrupt hook: the thread ends even if its target is blocked in I/O.
  // noexcept and lock-free when the hook is.
  void interrupt() noexcept;

  // Before the first open() only (not thread-safe against a running executor).
  // The interrupt hook breaks whatever the target blocks on; interrupt() and the process's exit
  // handler call it. It must be noexcept, lock-free and allocation-free.
  void set_interrupt_hook(std::function<void()> hook);
  // The exit hook runs in the exit handler after the thread has ended (not if it failed to end
  // within the exit timeout): the owner's last word, e.g. reporting work left undone. It may
  // lock and allocate; it must not block for long.
  void set_exit_hook(std::function<void()> hook);

  // Runs the target soon (see Timing). Lock-free, signal-safe.
  void wake() noexcept;

  // The sleep after the current (or next) run is skipped once.
  void skip_sleep() noexcept;

  // Changes the interval; a sleep in progress is recomputed with it.
  void update_interval(std::chrono::milliseconds interval) noexcept;

  // Waits at most `timeout` for the thread to end. True when no thread runs any more; false on
  // timeout, and at once (without joining) when called from the executor's own thread.
  bool join(std::chrono::milliseconds timeout);

  // True from open() until the thread has ended.
  bool is_running() const noexcept;
  // How many times the target has started running (tests and benchmarks count wake-ups).
  std::uint64_t runs() const noexcept;
  // True after close(), after the target stopped the executor, and before the first open().
  bool closed() const noexcept;

  const std::string& name() const noexcept;

 private:
  std::shared_ptr<detail::ExecutorState> state_;
};

}  // namespace mongoslice
