// The client's kill-cursors wiring without a network: KillQueue -> KillWakeSignal ->
// PeriodicExecutor -> run_kill_cursors -> a counting sender. Named KillCursors* so that the
// ThreadSanitizer phase of scripts/test.sh runs it.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "cursor/kill_cursors_task.hpp"
#include "cursor/kill_queue.hpp"
#include "driver/kill_wake_signal.hpp"
#include "monitor/periodic_executor.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;

// Counts every id of every killCursors it is asked to send (thread-safe reads).
class CountingSender : public KillCursorsSender {
 public:
  bson::Document send(const HostAndPort&, std::string_view, bson::View command) override {
    std::lock_guard lock(mutex_);
    ++commands_;
    for (bson::Element id : command["cursors"].get_array()) ++times_sent_[id.as_int64()];
    return bson::Document::from_json(R"({"ok": 1})");
  }
  std::size_t distinct() const {
    std::lock_guard lock(mutex_);
    return times_sent_.size();
  }
  std::map<std::int64_t, int> times_sent() const {
    std::lock_guard lock(mutex_);
    return times_sent_;
  }
  std::size_t commands() const {
    std::lock_guard lock(mutex_);
    return commands_;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::int64_t, int> times_sent_;
  std::size_t commands_ = 0;
};

class NullObserver : public KillCursorsObserver {
 public:
  void on_sent(const HostAndPort&, const Namespace&, std::span<const std::int64_t>,
               bson::View) noexcept override {}
  void on_dropped(const HostAndPort&, const Namespace&, std::span<const std::int64_t> ids,
                  KillDropReason, std::string_view) noexcept override {
    dropped += ids.size();
  }
  std::atomic<std::size_t> dropped{0};
};

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(1ms);
  return done();
}

// Producers on many threads; only wakes drive the executor (its interval is an hour), so every
// id arriving proves the lock-free wake path, and each id is sent exactly once.
TEST(KillCursorsExecutorWiring, ConcurrentAbandonsAreEachSentOnce) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 2'000;
  CountingSender sender;
  NullObserver observer;
  std::shared_ptr<KillQueue> queue;
  PeriodicExecutor executor("test-kill", std::chrono::hours(1), 1ms, [&] {
    run_kill_cursors(*queue, sender, observer);
    return true;
  });
  auto signal = std::make_shared<KillWakeSignal>(&executor);
  queue = std::make_shared<KillQueue>(&KillWakeSignal::wake_fn, signal);
  executor.open();
  // The first run (at open) finds nothing; afterwards only wakes run it.
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Namespace ns{"db", "c" + std::to_string(t % 3)};
      for (int i = 0; i < kPerThread; ++i) {
        queue->push(KillRecord::make(std::int64_t{t} * kPerThread + i + 1, ns, {"h", 1}));
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::size_t total = kThreads * kPerThread;
  EXPECT_TRUE(wait_for([&] { return sender.distinct() == total; }, 30s))
      << sender.distinct() << " of " << total << " ids sent";
  executor.close();
  EXPECT_TRUE(executor.join(10s));
  signal->detach();

  auto times = sender.times_sent();
  ASSERT_EQ(times.size(), total);
  for (auto [id, n] : times) ASSERT_EQ(n, 1) << "id " << id << " sent " << n << " times";
  EXPECT_EQ(observer.dropped.load(), 0u);
  EXPECT_LE(sender.commands(), total);  // batched: usually far fewer
}

TEST(KillCursorsExecutorWiring, DetachedSignalNoLongerWakes) {
  std::atomic<int> runs{0};
  PeriodicExecutor executor("test-detach", std::chrono::hours(1), 0ms, [&] {
    ++runs;
    return true;
  });
  KillWakeSignal signal(&executor);
  executor.open();
  ASSERT_TRUE(wait_for([&] { return runs.load() >= 1; }, 10s));  // the run at open
  signal.wake();
  ASSERT_TRUE(wait_for([&] { return runs.load() >= 2; }, 10s)) << "wake did not run the target";
  signal.detach();
  executor.close();
  ASSERT_TRUE(executor.join(10s));
  signal.wake();  // must not touch the executor any more (ASan/TSan would see a use)
  EXPECT_EQ(runs.load(), 2);
}

}  // namespace
}  // namespace mongoslice
