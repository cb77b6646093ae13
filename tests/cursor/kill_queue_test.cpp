// The lock-free kill queue: order, wake-ups, close, and exactly-once delivery under contention.

#include "cursor/kill_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace mongoslice {
namespace {

std::unique_ptr<KillRecord> record(std::int64_t id, std::string coll = "c") {
  return KillRecord::make(id, Namespace{"db", std::move(coll)}, HostAndPort{"h", 27017});
}

std::vector<std::int64_t> ids_of(const KillList& list) {
  std::vector<std::int64_t> ids;
  for (const KillRecord& r : list) ids.push_back(r.cursor_id);
  return ids;
}

struct WakeCounter {
  std::atomic<int> wakes{0};
  static void wake(void* self) noexcept {
    static_cast<WakeCounter*>(self)->wakes.fetch_add(1, std::memory_order_relaxed);
  }
};

TEST(KillQueue, DrainsInPushOrder) {
  KillQueue queue;
  EXPECT_TRUE(queue.empty());
  for (std::int64_t id = 1; id <= 5; ++id) queue.push(record(id));
  EXPECT_FALSE(queue.empty());
  KillList list = queue.drain();
  EXPECT_EQ(ids_of(list), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(list.size(), 5u);
  EXPECT_TRUE(queue.empty());
  EXPECT_TRUE(queue.drain().empty());
}

TEST(KillQueue, RecordKeepsItsFields) {
  KillQueue queue;
  queue.push(KillRecord::make(42, Namespace{"app", "users.archive"}, HostAndPort{"db1", 27018}));
  KillList list = queue.drain();
  auto first = list.pop_front();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->cursor_id, 42);
  EXPECT_EQ(first->ns.db, "app");
  EXPECT_EQ(first->ns.collection, "users.archive");
  EXPECT_EQ(first->server.to_string(), "db1:27018");
  EXPECT_FALSE(first->pushed_after_close);
  EXPECT_EQ(first->next, nullptr);
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.pop_front(), nullptr);
}

TEST(KillQueue, PushReportsTheEmptyToNonEmptyTransition) {
  KillQueue queue;
  EXPECT_TRUE(queue.push(record(1)));
  EXPECT_FALSE(queue.push(record(2)));
  KillList first = queue.drain();
  EXPECT_TRUE(queue.push(record(3)));
  EXPECT_EQ(ids_of(queue.drain()), std::vector<std::int64_t>{3});
}

TEST(KillQueue, WakesOnlyWhenItBecomesNonEmpty) {
  auto counter = std::make_shared<WakeCounter>();
  KillQueue queue(&WakeCounter::wake, counter);
  queue.push(record(1));
  queue.push(record(2));
  queue.push(record(3));
  EXPECT_EQ(counter->wakes.load(), 1);
  KillList drained = queue.drain();
  queue.push(record(4));
  EXPECT_EQ(counter->wakes.load(), 2);
  queue.push(record(5));
  EXPECT_EQ(counter->wakes.load(), 2);
}

TEST(KillQueue, KeepsTheWakeContextAlive) {
  auto counter = std::make_shared<WakeCounter>();
  std::weak_ptr<WakeCounter> weak = counter;
  auto queue = std::make_shared<KillQueue>(&WakeCounter::wake, counter);
  counter.reset();  // the owner is gone; a late push must still find its context
  EXPECT_FALSE(weak.expired());
  queue->push(record(1));
  EXPECT_EQ(weak.lock()->wakes.load(), 1);
  queue.reset();
  EXPECT_TRUE(weak.expired());
}

TEST(KillQueue, AfterCloseLinksCountsAndDoesNotWake) {
  auto counter = std::make_shared<WakeCounter>();
  KillQueue queue(&WakeCounter::wake, counter);
  queue.push(record(1));
  EXPECT_FALSE(queue.closed());
  queue.close();
  queue.close();  // idempotent
  EXPECT_TRUE(queue.closed());
  KillList before = queue.drain();
  EXPECT_EQ(ids_of(before), std::vector<std::int64_t>{1});
  EXPECT_FALSE(before.begin()->pushed_after_close);

  EXPECT_TRUE(queue.push(record(2)));
  EXPECT_FALSE(queue.push(record(3)));
  EXPECT_EQ(counter->wakes.load(), 1);  // only the push before close
  EXPECT_EQ(queue.dropped_after_close(), 2u);
  EXPECT_TRUE(queue.closed());  // draining keeps the queue closed
  KillList after = queue.drain();
  EXPECT_EQ(ids_of(after), (std::vector<std::int64_t>{2, 3}));
  for (const KillRecord& r : after) EXPECT_TRUE(r.pushed_after_close);
  EXPECT_TRUE(queue.closed());
}

TEST(KillQueue, DestructorFreesWhatIsLeft) {
  // Run under ASan/LSan this proves no record leaks; here it must at least not crash.
  auto queue = std::make_unique<KillQueue>();
  for (int i = 0; i < 100; ++i) queue->push(record(i));
  queue->close();
  queue->push(record(100));
  queue.reset();
  SUCCEED();
}

TEST(KillList, MoveAssignFreesAndTakes) {
  KillQueue queue;
  queue.push(record(1));
  KillList a = queue.drain();
  queue.push(record(2));
  queue.push(record(3));
  KillList b = queue.drain();
  a = std::move(b);
  EXPECT_EQ(ids_of(a), (std::vector<std::int64_t>{2, 3}));
  EXPECT_TRUE(b.empty());  // NOLINT: checking the moved-from state on purpose
}

// 8 producers push 20,000 records each while one consumer drains concurrently; every id must
// come out exactly once, and each producer's ids in its own push order. Bounded in count.
TEST(KillQueue, ConcurrentPushesAreDrainedExactlyOnce) {
  constexpr int kProducers = 8;
  constexpr std::int64_t kPerProducer = 20'000;
  constexpr std::int64_t kTotal = kProducers * kPerProducer;
  auto counter = std::make_shared<WakeCounter>();
  KillQueue queue(&WakeCounter::wake, counter);

  // Records are made before the start so that producers only push.
  std::vector<std::vector<std::unique_ptr<KillRecord>>> prepared(kProducers);
  for (int p = 0; p < kProducers; ++p) {
    for (std::int64_t i = 0; i < kPerProducer; ++i)
      prepared[p].push_back(record(p * kPerProducer + i));
  }

  std::atomic<int> finished{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> producers;
  std::atomic<std::int64_t> empty_transitions{0};
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (auto& r : prepared[p]) {
        if (queue.push(std::move(r))) empty_transitions.fetch_add(1, std::memory_order_relaxed);
      }
      finished.fetch_add(1, std::memory_order_release);
    });
  }

  std::vector<int> seen(kTotal, 0);
  std::vector<std::int64_t> last_of_producer(kProducers, -1);
  std::int64_t drained = 0;
  bool in_order = true;
  int drains = 0;
  auto consume = [&](const KillList& list) {
    for (const KillRecord& r : list) {
      ASSERT_GE(r.cursor_id, 0);
      ASSERT_LT(r.cursor_id, kTotal);
      ++seen[r.cursor_id];
      int p = static_cast<int>(r.cursor_id / kPerProducer);
      if (r.cursor_id <= last_of_producer[p]) in_order = false;
      last_of_producer[p] = r.cursor_id;
      ++drained;
    }
  };
  go.store(true, std::memory_order_release);
  while (finished.load(std::memory_order_acquire) < kProducers) {
    consume(queue.drain());
    ++drains;
    std::this_thread::yield();
  }
  for (auto& t : producers) t.join();
  consume(queue.drain());

  EXPECT_EQ(drained, kTotal);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), kTotal);
  EXPECT_TRUE(in_order);
  // Every wake-up answers exactly one empty -> non-empty transition.
  EXPECT_EQ(counter->wakes.load(), empty_transitions.load());
  EXPECT_GE(counter->wakes.load(), 1);
  EXPECT_TRUE(queue.empty());
  RecordProperty("drains", drains);
}

// retire() is the owner's last drain: it takes what is queued and closes, atomically, so every
// later push is orphaned (reported by the pusher) and none slips between a drain and the close.
TEST(KillQueue, RetireTakesTheRestAndOrphansLaterPushes) {
  KillQueue queue;
  queue.push(KillRecord::make(1, Namespace{"db", "c"}, HostAndPort{"h", 1}));
  bool orphaned = true;
  queue.push(KillRecord::make(2, Namespace{"db", "c"}, HostAndPort{"h", 1}), &orphaned);
  EXPECT_FALSE(orphaned);
  KillList rest = queue.retire();
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_TRUE(queue.closed());
  queue.push(KillRecord::make(3, Namespace{"db", "c"}, HostAndPort{"h", 1}), &orphaned);
  EXPECT_TRUE(orphaned);
  EXPECT_EQ(queue.orphaned(), 1u);
  EXPECT_EQ(queue.dropped_after_close(), 1u);
}

TEST(KillQueue, ConcurrentPushesDuringRetireAreTakenOrOrphanedExactlyOnce) {
  KillQueue queue;
  constexpr int kThreads = 4, kPerThread = 2000;
  std::atomic<int> orphaned_count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        bool orphaned = false;
        queue.push(
            KillRecord::make(t * kPerThread + i + 1, Namespace{"db", "c"}, HostAndPort{"h", 1}),
            &orphaned);
        if (orphaned) ++orphaned_count;
      }
    });
  }
  std::size_t taken = queue.drain().size();
  taken += queue.retire().size();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(taken + static_cast<std::size_t>(orphaned_count.load()),
            static_cast<std::size_t>(kThreads * kPerThread));
  EXPECT_EQ(queue.orphaned(), static_cast<std::uint64_t>(orphaned_count.load()));
}

}  // namespace
}  // namespace mongoslice
