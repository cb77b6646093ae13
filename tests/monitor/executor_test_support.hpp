#pragma once
// Helpers for the executor tests: a counter that tests can wait on, with a generous bound so
// that a failing test fails instead of hanging. No test asserts a duration.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace mongoslice::testing {

inline constexpr std::chrono::seconds kGenerousWait{5};

class Counter {
 public:
  void increment() {
    {
      std::lock_guard lock(mutex_);
      ++value_;
    }
    changed_.notify_all();
  }
  int value() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  // True once the value reaches `target`; false when kGenerousWait passes first.
  bool wait_for_at_least(int target) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kGenerousWait, [&] { return value_ >= target; });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  int value_ = 0;
};

// A gate a target waits at until the test opens it.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // True when opened; false after kGenerousWait (so a broken test cannot hang the target).
  bool wait() {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kGenerousWait, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

// Gives a background thread the chance to do something it must not do (a negative check on a
// count, never on a duration).
inline void settle() {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
}

}  // namespace mongoslice::testing
