// PeriodicExecutor's interrupt and exit hooks, its run counter, and executors without a timer
// (kUntilWoken), which must sleep until they are woken (DESIGN.md invariants 2 and 3).

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "monitor/executor_test_support.hpp"
#include "monitor/periodic_executor.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::Counter;

TEST(ExecutorUntilWoken, RunsOnceThenOnlyWhenWoken) {
  Counter runs;
  PeriodicExecutor executor("until-woken", PeriodicExecutor::kUntilWoken, 0ms, [&runs] {
    runs.increment();
    return true;
  });
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  testing::settle();
  EXPECT_EQ(executor.runs(), 1u) << "an executor without a timer ran without being woken";
  executor.wake();
  ASSERT_TRUE(runs.wait_for_at_least(2));
  executor.skip_sleep();
  ASSERT_TRUE(runs.wait_for_at_least(3));
  testing::settle();
  EXPECT_EQ(executor.runs(), 3u);
  executor.close();
  EXPECT_TRUE(executor.join(5s));
}

TEST(ExecutorUntilWoken, AWakeDuringARunIsKept) {
  Counter runs;
  testing::Gate gate;
  PeriodicExecutor* self = nullptr;
  PeriodicExecutor executor("until-woken", PeriodicExecutor::kUntilWoken, 0ms, [&] {
    runs.increment();
    if (runs.value() == 1) {
      self->wake();  // arrives while this run is in progress
      gate.wait();
    }
    return true;
  });
  self = &executor;
  executor.open();
  gate.open();
  EXPECT_TRUE(runs.wait_for_at_least(2));
  executor.close();
  EXPECT_TRUE(executor.join(5s));
}

// A target blocked in a read that close() alone cannot end; the interrupt hook (here: shutdown
// of the socket, as a monitor does) ends it.
TEST(ExecutorInterruptHook, InterruptEndsATargetBlockedInARead) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::atomic<bool> inside{false};
  PeriodicExecutor executor("blocked-read", 1h, 0ms, [&] {
    inside.store(true);
    char byte;
    (void)::read(fds[0], &byte, 1);  // the peer never writes
    return true;
  });
  executor.set_interrupt_hook([fd = fds[0]]() noexcept { ::shutdown(fd, SHUT_RDWR); });
  executor.open();
  while (!inside.load()) std::this_thread::yield();
  std::this_thread::sleep_for(50ms);  // let it block in read(2)

  executor.close();
  EXPECT_FALSE(executor.join(300ms)) << "close() alone should not end a blocked read";
  executor.interrupt();
  EXPECT_TRUE(executor.join(5s)) << "the interrupt hook did not end the blocked target";
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(ExecutorInterruptHook, InterruptWithoutHookStillCloses) {
  PeriodicExecutor executor("no-hook", 1h, 0ms, [] { return true; });
  executor.open();
  executor.interrupt();
  EXPECT_TRUE(executor.closed());
  EXPECT_TRUE(executor.join(5s));
}

TEST(ExecutorRuns, CountsEveryRun) {
  Counter runs;
  PeriodicExecutor executor("counted", 1h, 0ms, [&runs] {
    runs.increment();
    return runs.value() < 3;
  });
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  executor.wake();
  ASSERT_TRUE(runs.wait_for_at_least(2));
  executor.wake();
  ASSERT_TRUE(executor.join(5s));  // the third run returned false
  EXPECT_EQ(executor.runs(), 3u);
}

// open() and close() from two threads at once, many times: whatever the interleaving, the
// executor ends up in a consistent state (closed and joinable, or running its target), and a
// close() that comes after open() has returned always stops it.
TEST(ExecutorOpenClose, RacingOpenAndCloseLeaveAConsistentExecutor) {
  for (int i = 0; i < 200; ++i) {
    Counter runs;
    PeriodicExecutor executor("race", 1h, 0ms, [&runs] {
      runs.increment();
      return true;
    });
    std::atomic<bool> go{false};
    std::thread closer([&] {
      while (!go.load()) {
      }
      executor.close();
    });
    go.store(true);
    executor.open();
    closer.join();
    if (!executor.closed()) {
      ASSERT_TRUE(executor.is_running());
      ASSERT_TRUE(runs.wait_for_at_least(1));
    }
    executor.close();
    ASSERT_TRUE(executor.join(5s));
    ASSERT_FALSE(executor.is_running());
  }
}

}  // namespace
}  // namespace mongoslice
