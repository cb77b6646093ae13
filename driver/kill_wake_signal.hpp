#pragma once
// The KillQueue's wake function for the client's kill-cursors executor (internal to driver/).
//
// A Cursor destructor calls it (through KillQueue::push) on the first push onto an empty queue,
// so it must be lock-free, allocation-free and noexcept, and it must never call into an
// executor that is being destroyed. The queue co-owns this signal (a Cursor can outlive its
// client), but the signal does NOT own the executor: if it did, the last Cursor's destructor
// could end up destroying (joining) the executor. Instead the client detaches the executor
// before destroying it, and detach() waits out a wake that is already inside wake() — a few
// instructions long, since PeriodicExecutor::wake is itself lock-free.

#include <atomic>
#include <thread>

#include "monitor/periodic_executor.hpp"

namespace mongoslice {

class KillWakeSignal {
 public:
  explicit KillWakeSignal(PeriodicExecutor* executor) noexcept : executor_(executor) {}

  // KillQueue::WakeFn.
  static void wake_fn(void* self) noexcept { static_cast<KillWakeSignal*>(self)->wake(); }

  void wake() noexcept {
    // seq_cst on both sides: either detach() sees us counted, or we see the null pointer.
    in_flight_.fetch_add(1);
    if (PeriodicExecutor* executor = executor_.load()) executor->wake();
    in_flight_.fetch_sub(1);
  }

  // After this returns no wake() touches the executor any more.
  void detach() noexcept {
    executor_.store(nullptr);
    while (in_flight_.load() != 0) std::this_thread::yield();
  }

 private:
  std::atomic<PeriodicExecutor*> executor_;
  std::atomic<int> in_flight_{0};
};

}  // namespace mongoslice
