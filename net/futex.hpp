#pragma once
// A sleep on a 32-bit atomic word with a timeout, woken without a lock (Linux futex). Used where
// a std::condition_variable will not do because the waker may not take a mutex (it runs in an
// interrupt hook or the exit handler): the waiter reads the word, drops its lock, sleeps while
// the word still holds that value; the waker changes the word, then wakes.

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdint>
#include <ctime>

namespace mongoslice::futex {

// Sleeps while `word` holds `expected`, until `deadline` (steady clock) at the latest. Returns
// early on a wake, a signal, or spuriously: callers re-check their condition.
inline void wait_until(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       std::chrono::steady_clock::time_point deadline) noexcept {
  const auto now = std::chrono::steady_clock::now();
  if (now >= deadline) return;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now).count();
  const timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                         static_cast<long>(ns % 1'000'000'000)};
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected,
          &timeout, nullptr, 0);
}

// Changes the word and wakes every sleeper. Lock-free, allocation-free, keeps errno.
inline void bump_and_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  const int saved_errno = errno;
  word.fetch_add(1);
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
  errno = saved_errno;
}

}  // namespace mongoslice::futex
