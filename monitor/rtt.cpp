#include "monitor/rtt.hpp"

#include <algorithm>
#include <cmath>

namespace mongoslice {

void RttTracker::add_sample(std::chrono::nanoseconds rtt) noexcept {
  rtt = std::max(rtt, std::chrono::nanoseconds(0));
  if (!average_) {
    average_ = rtt;
  } else {
    double blended = kAlpha * static_cast<double>(rtt.count()) +
                     (1.0 - kAlpha) * static_cast<double>(average_->count());
    average_ = std::chrono::nanoseconds(std::llround(blended));
  }
  recent_[next_] = rtt;
  next_ = (next_ + 1) % kMinWindow;
  ++count_;
}

std::chrono::nanoseconds RttTracker::min() const noexcept {
  if (count_ < 2) return std::chrono::nanoseconds(0);
  std::size_t filled = std::min(count_, kMinWindow);
  return *std::min_element(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(filled));
}

}  // namespace mongoslice
