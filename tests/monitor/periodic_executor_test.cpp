// PeriodicExecutor: close, wake, skip_sleep, update_interval, stop by the target, exceptions,
// lifetime corner cases. Counts and latches only; waits are bounded to fail instead of hang.

#include "monitor/periodic_executor.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "monitor/executor_registry.hpp"
#include "monitor/executor_test_support.hpp"
#include "wire/log.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::Counter;
using testing::Gate;
using testing::settle;

constexpr auto kHour = std::chrono::milliseconds(std::chrono::hours(1));

TEST(PeriodicExecutor, FirstRunHappensAtOpen) {
  Counter runs;
  PeriodicExecutor executor("first-run", kHour, 0ms, [&] {
    runs.increment();
    return true;
  });
  EXPECT_FALSE(executor.is_running());
  EXPECT_TRUE(executor.closed());
  executor.open();
  EXPECT_TRUE(executor.is_running());
  EXPECT_FALSE(executor.closed());
  ASSERT_TRUE(runs.wait_for_at_least(1));
  executor.close();
  EXPECT_TRUE(executor.join(5s));
  EXPECT_FALSE(executor.is_running());
}

TEST(PeriodicExecutor, CloseWhileSleepingEndsTheThread) {
  Counter runs;
  PeriodicExecutor executor("close-asleep", kHour, kHour, [&] {
    runs.increment();
    return true;
  });
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  executor.close();
  ASSERT_TRUE(executor.join(5s));
  EXPECT_EQ(runs.value(), 1);
}

TEST(PeriodicExecutor, CloseWhileTargetRunsEndsAfterTheRun) {
  Counter entered;
  Gate gate;
  PeriodicExecutor executor("close-running", 0ms, 0ms, [&] {
    entered.increment();
    gate.wait();
    return true;
  });
  executor.open();
  ASSERT_TRUE(entered.wait_for_at_least(1));
  executor.close();
  EXPECT_FALSE(executor.join(0ms));  // still inside the target
  gate.open();
  ASSERT_TRUE(executor.join(5s));
  EXPECT_EQ(entered.value(), 1);  // interval 0, yet no second run after close
}

TEST(PeriodicExecutor, CloseFromInsideTheTarget) {
  Counter runs;
  PeriodicExecutor* self = nullptr;
  PeriodicExecutor executor("close-inside", 0ms, 0ms, [&] {
    runs.increment();
    self->close();
    return true;
  });
  self = &executor;
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  ASSERT_TRUE(executor.join(5s));
  EXPECT_EQ(runs.value(), 1);
}

TEST(PeriodicExecutor, CloseFromAnotherExecutorsTarget) {
  Counter sleeper_runs;
  PeriodicExecutor sleeper("sleeper", kHour, kHour, [&] {
    sleeper_runs.increment();
    return true;
  });
  sleeper.open();
  ASSERT_TRUE(sleeper_runs.wait_for_at_least(1));
  PeriodicExecutor closer("closer", kHour, 0ms, [&] {
    sleeper.close();
    return false;
  });
  closer.open();
  ASSERT_TRUE(closer.join(5s));
  ASSERT_TRUE(sleeper.join(5s));
  EXPECT_EQ(sleeper_runs.value(), 1);
}

// An owner whose destructor holds the mutex the target needs while it closes the executor:
// close() must not wait for the target (which waits for the mutex).
TEST(PeriodicExecutor, CloseFromDestructorHoldingTheTargetsMutexDoesNotDeadlock) {
  std::mutex shared_mutex;
  Counter about_to_lock;
  Counter runs;
  struct Owner {
    std::mutex& mutex;
    Counter& about_to_lock;
    PeriodicExecutor executor;
    Owner(std::mutex& m, Counter& c, std::function<bool()> target)
        : mutex(m), about_to_lock(c), executor("dtor-mutex", kHour, 0ms, std::move(target)) {}
    ~Owner() {
      std::lock_guard lock(mutex);
      executor.wake();
      // The target is now blocked on `mutex`, which we hold.
      EXPECT_TRUE(about_to_lock.wait_for_at_least(2));
      executor.close();
    }  // the lock is released here; then `executor` is destroyed and joins.
  };
  auto owner = std::make_unique<Owner>(shared_mutex, about_to_lock, [&] {
    about_to_lock.increment();
    std::lock_guard lock(shared_mutex);
    runs.increment();
    return true;
  });
  owner->executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  owner.reset();
  EXPECT_EQ(runs.value(), 2);  // the run that waited for the mutex finished, no more followed
}

std::atomic<PeriodicExecutor*> signal_target{nullptr};
std::atomic<int> signal_handled{0};

void close_from_signal_handler(int) {
  if (auto* executor = signal_target.load()) executor->close();
  signal_handled.fetch_add(1);
}

TEST(PeriodicExecutor, CloseFromSignalHandler) {
  Counter runs;
  PeriodicExecutor executor("close-signal", kHour, kHour, [&] {
    runs.increment();
    return true;
  });
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));

  struct sigaction action {};
  struct sigaction previous {};
  action.sa_handler = close_from_signal_handler;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);
  signal_target.store(&executor);
  // Process-directed: the kernel may deliver it to the sleeping executor thread itself.
  ASSERT_EQ(kill(getpid(), SIGUSR1), 0);
  ASSERT_TRUE(executor.join(5s));
  signal_target.store(nullptr);
  sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_EQ(signal_handled.load(), 1);
  EXPECT_EQ(runs.value(), 1);
}

TEST(PeriodicExecutor, WakeBeforeMinIntervalDoesNotRunEarly) {
  Counter runs;
  PeriodicExecutor executor("wake-early", kHour, kHour, [&] {
    runs.increment();
    return true;
  });
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  executor.wake();
  settle();
  EXPECT_EQ(runs.value(), 1);  // the next run may not start before an hour after the first
  executor.close();
  EXPECT_TRUE(executor.join(5s));
}

TEST(PeriodicExecutor, WakeAfterMinIntervalRunsAgain) {
  Counter runs;
  PeriodicExecutor executor("wake-late", kHour, 0ms, [&] {
    runs.increment();
    return true;
  });
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  executor.wake();
  ASSERT_TRUE(runs.wait_for_at_least(2));
  executor.wake();
  ASSERT_TRUE(runs.wait_for_at_least(3));
  executor.close();
  EXPECT_TRUE(executor.join(5s));
}

TEST(PeriodicExecutor, WakesDuringARunCauseExactlyOneMoreRun) {
  Counter entered;
  Gate gate;
  PeriodicExecutor executor("wake-in-run", kHour, 0ms, [&] {
    entered.increment();
    if (entered.value() == 1) gate.wait();
    return true;
  });
  executor.open();
  ASSERT_TRUE(entered.wait_for_at_least(1));
  executor.wake();
  executor.wake();
  executor.wake();
  gate.open();
  ASSERT_TRUE(entered.wait_for_at_least(2));
  settle();
  EXPECT_EQ(entered.value(), 2);
  executor.close();
  EXPECT_TRUE(executor.join(5s));
}

TEST(PeriodicExecutor, TargetReturningFalseStopsTheExecutor) {
  Counter runs;
  PeriodicExecutor executor("returns-false", 0ms, 0ms, [&] {
    runs.increment();
    return false;
  });
  executor.open();
  ASSERT_TRUE(executor.join(5s));
  EXPECT_EQ(runs.value(), 1);
  EXPECT_TRUE(executor.closed());
  EXPECT_FALSE(executor.is_running());
}

TEST(PeriodicExecutor, TargetThrowingStopsTheExecutorAndIsLogged) {
  std::mutex log_mutex;
  std::vector<std::string> messages;
  log::set_sink([&](std::string_view component, log::Level level, std::string_view message) {
    std::lock_guard lock(log_mutex);
    if (component == log::component::executor && level == log::Level::error) {
      messages.emplace_back(message);
    }
  });
  Counter runs;
  PeriodicExecutor executor("thrower", 0ms, 0ms, [&]() -> bool {
    runs.increment();
    throw std::runtime_error("target exploded");
  });
  executor.open();
  ASSERT_TRUE(executor.join(5s));
  log::set_sink(nullptr);
  EXPECT_EQ(runs.value(), 1);
  EXPECT_TRUE(executor.closed());
  std::lock_guard lock(log_mutex);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("thrower"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("target exploded"), std::string::npos) << messages[0];
}

TEST(PeriodicExecutor, UpdateIntervalShortensTheSleepInProgress) {
  Counter runs;
  PeriodicExecutor executor("update-interval", kHour, 0ms, [&] {
    runs.increment();
    return true;
  });
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  settle();  // let it fall asleep on the hour-long deadline
  EXPECT_EQ(runs.value(), 1);
  executor.update_interval(1ms);
  ASSERT_TRUE(runs.wait_for_at_least(3));
  executor.update_interval(kHour);
  executor.close();
  EXPECT_TRUE(executor.join(5s));
}

TEST(PeriodicExecutor, SkipSleepFromTheTargetRunsAgainOnce) {
  Counter runs;
  PeriodicExecutor* self = nullptr;
  PeriodicExecutor executor("skip-sleep", kHour, kHour, [&] {
    runs.increment();
    if (runs.value() == 1) self->skip_sleep();
    return true;
  });
  self = &executor;
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(2));
  settle();
  EXPECT_EQ(runs.value(), 2);  // skipped once, then sleeps its hour
  executor.close();
  EXPECT_TRUE(executor.join(5s));
}

TEST(PeriodicExecutor, OpenWhileRunningIsANoOpAndOpenAfterCloseRestarts) {
  Counter runs;
  PeriodicExecutor executor("reopen", kHour, kHour, [&] {
    runs.increment();
    return true;
  });
  executor.open();
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(1));
  settle();
  EXPECT_EQ(runs.value(), 1);  // one thread only
  executor.close();
  executor.open();  // waits for the old thread, then starts a fresh one
  ASSERT_TRUE(runs.wait_for_at_least(2));
  EXPECT_TRUE(executor.is_running());
  executor.close();
  ASSERT_TRUE(executor.join(5s));
  executor.open();
  ASSERT_TRUE(runs.wait_for_at_least(3));
  executor.close();
  EXPECT_TRUE(executor.join(5s));
}

TEST(PeriodicExecutor, ReopenFromTheTargetAfterCloseKeepsRunning) {
  Counter runs;
  PeriodicExecutor* self = nullptr;
  PeriodicExecutor executor("reopen-inside", 1ms, 0ms, [&] {
    runs.increment();
    if (runs.value() == 1) {
      self->close();
      self->open();
    }
    return runs.value() < 3;
  });
  self = &executor;
  executor.open();
  ASSERT_TRUE(executor.join(5s));
  EXPECT_EQ(runs.value(), 3);
}

TEST(PeriodicExecutor, JoinFromItsOwnThreadReturnsFalseAtOnce) {
  std::atomic<int> join_result{-1};
  PeriodicExecutor* self = nullptr;
  PeriodicExecutor executor("self-join", kHour, 0ms, [&] {
    join_result.store(self->join(std::chrono::hours(1)) ? 1 : 0);
    return false;
  });
  self = &executor;
  executor.open();
  ASSERT_TRUE(executor.join(5s));
  EXPECT_EQ(join_result.load(), 0);
}

TEST(PeriodicExecutor, DestroyedInsideItsOwnTargetDetachesSafely) {
  const auto running_before = executor_registry::running_count();
  Counter destroyed;
  Gate opened;
  std::unique_ptr<PeriodicExecutor> executor;
  executor = std::make_unique<PeriodicExecutor>("self-destroy", kHour, 0ms, [&] {
    opened.wait();     // until open() has returned on the main thread
    executor.reset();  // runs ~PeriodicExecutor on the executor's own thread
    destroyed.increment();
    return true;
  });
  executor->open();
  opened.open();
  ASSERT_TRUE(destroyed.wait_for_at_least(1));
  // The detached thread ends by itself; the registry sees it go.
  for (int i = 0; i < 500 && executor_registry::running_count() > running_before; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(executor_registry::running_count(), running_before);
}

TEST(PeriodicExecutor, DestructorJoinsAndUnregisters) {
  const auto live_before = executor_registry::live_count();
  Counter runs;
  {
    PeriodicExecutor executor("dtor-joins", kHour, kHour, [&] {
      runs.increment();
      return true;
    });
    executor.open();
    ASSERT_TRUE(runs.wait_for_at_least(1));
    EXPECT_EQ(executor_registry::live_count(), live_before + 1);
  }
  EXPECT_EQ(executor_registry::live_count(), live_before);
}

TEST(PeriodicExecutor, AThousandExecutorsOpenedAndClosedFromFourThreads) {
  const auto live_before = executor_registry::live_count();
  std::atomic<int> runs{0};
  std::atomic<int> failed_joins{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<PeriodicExecutor>> executors;
      for (int i = 0; i < 250; ++i) {
        executors.push_back(std::make_unique<PeriodicExecutor>(
            "many-" + std::to_string(t) + "-" + std::to_string(i), kHour, 0ms, [&] {
              runs.fetch_add(1);
              return true;
            }));
        executors.back()->open();
      }
      for (auto& executor : executors) executor->wake();
      for (auto& executor : executors) executor->close();
      for (auto& executor : executors) {
        if (!executor->join(5s)) failed_joins.fetch_add(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed_joins.load(), 0);
  EXPECT_LE(runs.load(), 2000);  // at most the first run and one woken run each
  EXPECT_EQ(executor_registry::live_count(), live_before);
}

TEST(PeriodicExecutor, CloseAndJoinAllStopsEveryExecutor) {
  Counter runs;
  std::vector<std::unique_ptr<PeriodicExecutor>> executors;
  for (int i = 0; i < 10; ++i) {
    executors.push_back(
        std::make_unique<PeriodicExecutor>("all-" + std::to_string(i), kHour, kHour, [&] {
          runs.increment();
          return true;
        }));
    executors.back()->open();
  }
  ASSERT_TRUE(runs.wait_for_at_least(10));
  EXPECT_EQ(executor_registry::close_and_join_all(std::chrono::seconds(5)), 0u);
  for (auto& executor : executors) {
    EXPECT_TRUE(executor->closed());
    EXPECT_FALSE(executor->is_running());
  }
  EXPECT_EQ(executor_registry::running_count(), 0u);
}

}  // namespace
}  // namespace mongoslice
