// EventTurns (driver/event_turns.hpp): changes processed in one order publish in that order,
// whichever thread gets to publish first.

#include "driver/event_turns.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

namespace mongoslice {
namespace {

TEST(EventTurns, LaterTurnsWaitForEarlierOnesWhateverTheThreadsDo) {
  EventTurns turns;
  std::vector<std::uint64_t> order;
  std::mutex mutex;
  std::vector<std::uint64_t> taken;
  for (int i = 0; i < 8; ++i) taken.push_back(turns.take());
  auto publish = [&](std::uint64_t turn) {
    turns.wait(turn);
    {
      std::lock_guard lock(mutex);
      order.push_back(turn);
    }
    turns.done(turn);
  };
  // Start them last turn first: each must still wait for every earlier one.
  std::vector<std::thread> threads;
  for (auto it = taken.rbegin(); it != taken.rend(); ++it) threads.emplace_back(publish, *it);
  for (auto& t : threads) t.join();
  EXPECT_EQ(order, taken);
}

TEST(EventTurns, ReleaseAllLetsEveryWaiterGo) {
  EventTurns turns;
  const auto first = turns.take();
  const auto second = turns.take();
  std::thread waiter([&] {
    turns.wait(second);  // `first` is never done: only release_all() ends this wait
    turns.done(second);
  });
  turns.release_all();
  waiter.join();
  turns.done(first);
  const auto third = turns.take();
  turns.wait(third);  // released: returns at once
}

}  // namespace
}  // namespace mongoslice
