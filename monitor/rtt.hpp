#pragma once
// Round-trip time of a server's checks: the moving average that server selection's latency
// window uses, and the recent minimum that client-side operation timeouts use.
//
// Not thread-safe: one monitor feeds it; the descriptions it produces carry copies.

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>

namespace mongoslice {

class RttTracker {
 public:
  static constexpr double kAlpha = 0.2;          // weight of a new sample in the average
  static constexpr std::size_t kMinWindow = 10;  // samples the minimum looks back over

  RttTracker() = default;
  // Starts from a known average (no samples yet), as the spec's RTT tests do.
  explicit RttTracker(std::chrono::nanoseconds average) : average_(average) {}

  // Folds in one successful check's duration. The first sample becomes the average as is; later
  // ones move it by alpha * (sample - average). Negative durations count as 0.
  void add_sample(std::chrono::nanoseconds rtt) noexcept;

  // The moving average; nothing before the first sample (the server's RTT is "null").
  std::optional<std::chrono::nanoseconds> average() const noexcept { return average_; }
  // The smallest of the last kMinWindow samples; 0 until there are at least 2 samples, since one
  // sample (often a connection's first, slow, check) says little.
  std::chrono::nanoseconds min() const noexcept;
  std::size_t sample_count() const noexcept { return count_; }

  // Forgets everything: the server became Unknown, so its RTT starts from scratch.
  void reset() noexcept { *this = RttTracker(); }

 private:
  std::optional<std::chrono::nanoseconds> average_;
  std::array<std::chrono::nanoseconds, kMinWindow> recent_{};  // ring buffer
  std::size_t next_ = 0;
  std::size_t count_ = 0;  // samples since construction or reset()
};

}  // namespace mongoslice

#include <mutex>

namespace mongoslice {

// One server's RttTracker as two threads feed it: its Monitor (polled checks, and resets when
// the server turns Unknown) and, while the server streams, its RttMonitor. A plain mutex: it is
// held for a few instructions by those two threads only, never by close() or a destructor.
class SharedRtt {
 public:
  struct Snapshot {
    std::optional<std::chrono::nanoseconds> average;
    std::chrono::nanoseconds min{0};
    std::size_t samples = 0;
  };
  void add_sample(std::chrono::nanoseconds rtt) {
    std::lock_guard lock(mutex_);
    tracker_.add_sample(rtt);
  }
  void reset() {
    std::lock_guard lock(mutex_);
    tracker_.reset();
  }
  Snapshot snapshot() const {
    std::lock_guard lock(mutex_);
    return {tracker_.average(), tracker_.min(), tracker_.sample_count()};
  }

 private:
  mutable std::mutex mutex_;
  RttTracker tracker_;
};

}  // namespace mongoslice
