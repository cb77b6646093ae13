#pragma once
// SelectionWaiters: the asynchronous server selections (Topology::co_select_server) waiting for
// the topology's next snapshot. Each registration is a one-shot wake. The topology adds one under
// its mutex in the same critical section in which it found that the snapshot the selection tried
// is still the current one, so a snapshot published in between cannot be missed; it moves them
// all out under that mutex when it publishes a snapshot or closes, and calls them after
// unlocking, so no wake ever runs with the topology's mutex held.
//
// Not thread-safe by itself: the owner's mutex guards every member call; wake_all() runs
// unlocked on what take() moved out.

#include <cstdint>
#include <functional>
#include <map>

namespace mongoslice {

class SelectionWaiters {
 public:
  using Id = std::uint64_t;
  // Called once, from whichever thread published (a monitor's, usually); must not throw and
  // must not block: it only hands the news to the waiter's executor.
  using Wake = std::function<void()>;
  using Taken = std::map<Id, Wake>;

  // Throws std::bad_alloc.
  Id add(Wake wake);
  // A waiter that stopped waiting (deadline, cancellation); nothing when it was already taken.
  void remove(Id id) noexcept;
  // Every registration, moved out; the list is empty afterwards.
  Taken take() noexcept;
  std::size_t size() const noexcept { return waiters_.size(); }

  static void wake_all(Taken& taken) noexcept;

 private:
  Id next_id_ = 0;
  Taken waiters_;
};

}  // namespace mongoslice
