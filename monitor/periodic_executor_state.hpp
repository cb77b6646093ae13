#pragma once
// Internal: the state a PeriodicExecutor shares with its thread and with the registry.
// Only monitor/periodic_executor.cpp and monitor/executor_registry.cpp include this.
//
// All coordination goes through one 32-bit atomic word, on which the thread (and joiners)
// sleep with FUTEX_WAIT. Any change of the word that matters (close, wake, skip, interval
// update, thread end) is followed by FUTEX_WAKE, so sleepers never need to poll.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace mongoslice::detail {

class ExecutorState : public std::enable_shared_from_this<ExecutorState> {
 public:
  using Clock = std::chrono::steady_clock;

  ExecutorState(std::string name, std::chrono::milliseconds interval,
                std::chrono::milliseconds min_interval, std::function<bool()> target);
  ~ExecutorState();

  void open();
  void close() noexcept;
  // close(), then the owner's interrupt hook (if any), which breaks blocking I/O of the target.
  void interrupt() noexcept;
  // Set by the owner before the first open(); see PeriodicExecutor::set_interrupt_hook.
  void set_interrupt_hook(std::function<void()> hook);
  void set_exit_hook(std::function<void()> hook);
  // The registry's exit handler: runs the exit hook once the thread has ended.
  void run_exit_hook() noexcept;
  void wake() noexcept;
  void skip_sleep() noexcept;
  void update_interval(std::chrono::milliseconds interval) noexcept;
  // True when the thread has ended before `deadline` (and is joined).
  bool join_until(Clock::time_point deadline);
  // For ~PeriodicExecutor: join (unbounded), or detach on the executor's own thread or once the
  // process is exiting.
  void release_from_owner();

  bool is_running() const noexcept { return (word_.load() & kRunning) != 0; }
  std::uint64_t runs() const noexcept { return runs_.load(std::memory_order_relaxed); }
  bool closed() const noexcept { return (word_.load() & kClosed) != 0; }
  const std::string& name() const noexcept { return name_; }

  // fork() support, called by the registry's pthread_atfork handlers with its own lock held.
  void lock_for_fork() { mutex_.lock(); }
  void unlock_in_parent() { mutex_.unlock(); }
  // In the child, the parent's thread does not exist: forget it and mark the executor closed,
  // so that open() starts a fresh thread.
  void reset_in_child();

 private:
  // Bits of word_.
  static constexpr std::uint32_t kClosed = 1u << 0;   // close() asked, or the target stopped
  static constexpr std::uint32_t kWake = 1u << 1;     // wake() since the last run started
  static constexpr std::uint32_t kSkip = 1u << 2;     // skip_sleep() not yet consumed
  static constexpr std::uint32_t kRunning = 1u << 3;  // a thread was started and has not ended
  // open() is between seeing kClosed and starting the thread; a close() clears it, so that a
  // close racing with open() wins (open then starts nothing).
  static constexpr std::uint32_t kOpening = 1u << 4;
  // Bits 8..31 count interval updates, so that an update always changes the word and ends a
  // FUTEX_WAIT in progress.
  static constexpr std::uint32_t kGenerationOne = 1u << 8;

  static void run(std::shared_ptr<ExecutorState> self);
  // Sleeps until the next run is due. False when closed.
  bool sleep_until_next_run(Clock::time_point run_start, Clock::time_point run_end);
  // Waits until kRunning is clear or the deadline passes (time_point::max(): no deadline).
  bool wait_for_thread_end(Clock::time_point deadline);
  bool on_own_thread() const noexcept;
  void wake_all_waiters() noexcept;

  std::atomic<std::uint32_t> word_{kClosed};
  std::atomic<std::int64_t> interval_ms_;  // kUntilWoken: sleep until close/wake/skip
  std::atomic<std::uint64_t> runs_{0};     // target runs started
  const std::chrono::milliseconds min_interval_;
  const std::string name_;
  const std::string thread_name_;  // name_ cut to the 15 characters Linux keeps
  const std::function<bool()> target_;
  // Written before the first open() (which publishes them through the registry's lock), then
  // only read.
  std::function<void()> interrupt_hook_;
  std::function<void()> exit_hook_;

  // Guards thread_ (open, join, detach, fork). Never taken by close/wake or by the thread, and
  // never held while waiting for the thread to end.
  std::mutex mutex_;
  std::unique_ptr<std::thread> thread_;
  // Counts threads started, so that a join can tell whether open() replaced the thread it
  // waited for.
  std::uint64_t thread_serial_ = 0;
};

}  // namespace mongoslice::detail
