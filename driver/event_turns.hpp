#pragma once
// Numbered turns for publishing SDAM events in the order the topology processed its changes
// (the SDAM spec: events "MUST be published in the order that their corresponding changes are
// processed" and never concurrently for one topology), without holding the topology's lock
// while listeners run.
//
//   under the topology's lock:   changes.turn = turns.take();
//   after unlocking:             turns.wait(turn); emit...; turns.done(turn);
//
// Exceptions to the order, so that nothing can deadlock on it: a thread that is inside a
// listener already (its listener caused another change) does not wait; after release_all()
// (the topology is closing, possibly from a listener) nobody waits.
//
// Thread-safety: take() under the owner's lock; the rest from any thread.

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

#include "driver/events.hpp"

namespace mongoslice {

class EventTurns {
 public:
  std::uint64_t take() noexcept { return next_++; }

  void wait(std::uint64_t turn) noexcept {
    if (EventDispatcher::in_listener()) return;
    std::unique_lock lock(mutex_);
    turned_.wait(lock, [&] { return released_ || first_not_done_ == turn; });
  }

  void done(std::uint64_t turn) noexcept {
    {
      std::lock_guard lock(mutex_);
      if (turn != first_not_done_) {
        try {
          done_early_.insert(turn);
        } catch (...) {  // no memory: give up the order rather than stall every later turn
          released_ = true;
        }
      } else {
        ++first_not_done_;
        while (!done_early_.empty() && *done_early_.begin() == first_not_done_) {
          done_early_.erase(done_early_.begin());
          ++first_not_done_;
        }
      }
    }
    turned_.notify_all();
  }

  void release_all() noexcept {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    turned_.notify_all();
  }

 private:
  std::uint64_t next_ = 0;  // guarded by the owner's lock
  std::mutex mutex_;
  std::condition_variable turned_;
  std::uint64_t first_not_done_ = 0;
  std::set<std::uint64_t> done_early_;  // turns done before an earlier one (nested in a listener)
  bool released_ = false;
};

}  // namespace mongoslice
