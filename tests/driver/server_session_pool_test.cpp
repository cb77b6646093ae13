// The server session pool (driver/server_session_pool.hpp): most recently used first, dirty and
// nearly expired sessions dropped, a fork() child never reusing its parent's lsids, and a
// release (what a Cursor's destructor does) that neither allocates nor frees.

#include "driver/server_session_pool.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/counting_operator_new.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;

std::string id_of(bson::View lsid) {
  auto id = lsid["id"].get_binary();
  return std::string(id.bytes.begin(), id.bytes.end());
}

TEST(ServerSessionPool, AnLsidIsARandomVersion4Uuid) {
  auto pool = ServerSessionPool::create();
  auto a = pool->acquire(30min);
  auto b = pool->acquire(30min);
  auto id = a->lsid()["id"].get_binary();
  EXPECT_EQ(id.subtype, 4);
  ASSERT_EQ(id.bytes.size(), 16u);
  EXPECT_EQ(id.bytes[6] >> 4, 4);       // version 4
  EXPECT_EQ(id.bytes[8] & 0xc0, 0x80);  // RFC 4122 variant
  EXPECT_NE(id_of(a->lsid()), id_of(b->lsid()));
}

TEST(ServerSessionPool, TheMostRecentlyReturnedSessionIsHandedOutFirst) {
  auto pool = ServerSessionPool::create();
  auto a = pool->acquire(30min);
  auto b = pool->acquire(30min);
  const std::string ida = id_of(a->lsid()), idb = id_of(b->lsid());
  a.reset();  // returned first
  b.reset();  // returned last
  EXPECT_EQ(pool->size(), 2u);
  auto first = pool->acquire(30min);
  auto second = pool->acquire(30min);
  EXPECT_EQ(id_of(first->lsid()), idb);
  EXPECT_EQ(id_of(second->lsid()), ida);
}

TEST(ServerSessionPool, ADirtySessionIsDropped) {
  auto pool = ServerSessionPool::create();
  auto a = pool->acquire(30min);
  const std::string ida = id_of(a->lsid());
  a->mark_dirty();
  a.reset();
  EXPECT_EQ(pool->size(), 0u);
  EXPECT_NE(id_of(pool->acquire(30min)->lsid()), ida);
}

TEST(ServerSessionPool, ASessionWithLessThanAMinuteLeftIsNeverHandedOut) {
  auto pool = ServerSessionPool::create();
  auto a = pool->acquire(30min);
  const std::string ida = id_of(a->lsid());
  a.reset();
  // With a timeout of one minute, a session just used has less than a minute left.
  EXPECT_NE(id_of(pool->acquire(1min)->lsid()), ida);
  EXPECT_EQ(pool->size(), 1u);  // the new one, given back; the stale one is gone
}

TEST(ServerSessionPool, TxnNumbersIncreasePerSessionAndSurviveTheRoundTrip) {
  auto pool = ServerSessionPool::create();
  auto a = pool->acquire(30min);
  EXPECT_EQ(a->next_txn_number(), 1);
  EXPECT_EQ(a->next_txn_number(), 2);
  a.reset();
  EXPECT_EQ(pool->acquire(30min)->next_txn_number(), 3);  // never reused within the session
}

TEST(ServerSessionPool, TakeAllEmptiesThePool) {
  auto pool = ServerSessionPool::create();
  auto a = pool->acquire(30min);
  auto b = pool->acquire(30min);
  std::set<std::string> ids{id_of(a->lsid()), id_of(b->lsid())};
  a.reset();
  b.reset();
  std::set<std::string> taken;
  for (const auto& lsid : pool->take_all()) taken.insert(id_of(lsid.view()));
  EXPECT_EQ(taken, ids);
  EXPECT_EQ(pool->size(), 0u);
}

TEST(ServerSessionPool, ASessionOutlivingItsPoolsOwnerStillReturnsSafely) {
  auto pool = ServerSessionPool::create();
  auto a = pool->acquire(30min);
  std::weak_ptr<ServerSessionPool> watch = pool;
  pool.reset();  // the client is gone; the session keeps the pool alive
  EXPECT_FALSE(watch.expired());
  a.reset();  // released into it, then the pool (and the session) are freed: ASan checks
  EXPECT_TRUE(watch.expired()) << "a pooled session must not keep its pool alive";
}

TEST(ServerSessionPool, AReleaseNeitherAllocatesNorFrees) {
  auto pool = ServerSessionPool::create();
  auto warm = pool->acquire(30min);
  warm.reset();
  auto a = pool->acquire(30min);  // the warm one again
  std::size_t freed = 0;
  const std::size_t allocated =
      allocations_during([&] { freed = deallocations_during([&] { a.reset(); }); });
  EXPECT_EQ(allocated, 0u);
  EXPECT_EQ(freed, 0u);
  EXPECT_EQ(pool->size(), 1u);  // it did come back
}

TEST(ServerSessionPool, AForkChildNeverReusesItsParentsSessions) {
  auto pool = ServerSessionPool::create();
  auto a = pool->acquire(30min);
  auto held = pool->acquire(30min);  // in use by the parent at fork time
  const std::string ida = id_of(a->lsid()), idheld = id_of(held->lsid());
  a.reset();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    held.reset();  // the parent's session comes back in the child too: it must be dropped
    auto mine = pool->acquire(30min);
    const std::string id = id_of(mine->lsid());
    const bool fresh = id != ida && id != idheld;
    mine.reset();
    const bool only_mine = pool->size() == 1;
    _exit(fresh && only_mine ? 0 : 1);
  }
  const int status = testing::wait_bounded(pid, 10s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The parent is undisturbed: its pooled session is still handed out first.
  EXPECT_EQ(id_of(pool->acquire(30min)->lsid()), ida);
}

TEST(ServerSessionPool, ConcurrentAcquiresAndReleasesLoseNothing) {
  auto pool = ServerSessionPool::create();
  constexpr int kThreads = 4, kRounds = 2'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto s = pool->acquire(30min);
        s->next_txn_number();
      }
    });
  }
  for (auto& t : threads) t.join();
  // Never more sessions than were in use at once.
  EXPECT_GE(pool->size(), 1u);
  EXPECT_LE(pool->size(), static_cast<std::size_t>(kThreads));
}

}  // namespace
}  // namespace mongoslice
