// Measures mongoslice's PeriodicExecutor for bench/executor_compare.sh, which runs
// bench/pymongo_executor.py (PyMongo's own PeriodicExecutor) with the same modes:
//
//   idle  N INTERVAL_S IDLE_S  context switches per executor thread per second while idle
//   close TRIALS               close() until join() returns, p50/p99 (microseconds)
//   wake  TRIALS               wake() until the target starts, p50/p99 (microseconds)
//   rss   N                    resident memory added per open executor (KiB)
//   exit  N                    opens N executors (half asleep, half inside a 100 ms target),
//                              prints "ready <CLOCK_MONOTONIC ns>" and returns from main; the
//                              runner measures the time until the process has ended
//
// Output: "metric value" lines. This program has its own main (no Google Benchmark loop): the
// quantities are latencies of single events and whole-process counters, not loop throughput.

#include <dirent.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "monitor/periodic_executor.hpp"

namespace {

using mongoslice::PeriodicExecutor;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kHour = std::chrono::milliseconds(std::chrono::hours(1));

long status_field(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + key.size(), nullptr, 10);
  }
  return 0;
}

// Voluntary + involuntary context switches of every thread but the main one.
long executor_thread_switches() {
  long total = 0;
  const std::string main_tid = std::to_string(getpid());
  DIR* dir = opendir("/proc/self/task");
  while (dirent* entry = readdir(dir)) {
    std::string tid = entry->d_name;
    if (tid == "." || tid == ".." || tid == main_tid) continue;
    const std::string status = "/proc/self/task/" + tid + "/status";
    total += status_field(status, "voluntary_ctxt_switches:");
    total += status_field(status, "nonvoluntary_ctxt_switches:");
  }
  closedir(dir);
  return total;
}

long rss_kib() {
  return status_field("/proc/self/status", "VmRSS:");
}

// Waits (futex, C++20 atomic wait) until `counter` exceeds `seen`.
void wait_above(const std::atomic<long>& counter, long seen) {
  for (long now = counter.load(); now <= seen; now = counter.load()) counter.wait(now);
}

void print_percentiles(const char* name, std::vector<double> micros) {
  std::sort(micros.begin(), micros.end());
  auto at = [&](double q) {
    return micros[std::min(micros.size() - 1, size_t(q * micros.size()))];
  };
  std::printf("%s_trials %zu\n%s_p50_us %.1f\n%s_p99_us %.1f\n%s_max_us %.1f\n", name,
              micros.size(), name, at(0.50), name, at(0.99), name, micros.back());
}

double micros_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

int idle(int n, int interval_s, int idle_s) {
  std::atomic<long> runs{0};
  std::vector<std::unique_ptr<PeriodicExecutor>> executors;
  for (int i = 0; i < n; ++i) {
    executors.push_back(std::make_unique<PeriodicExecutor>(
        "idle-" + std::to_string(i), std::chrono::seconds(interval_s), 500ms, [&runs] {
          runs.fetch_add(1);
          runs.notify_all();
          return true;
        }));
    executors.back()->open();
  }
  wait_above(runs, n - 1);  // every first run done
  std::this_thread::sleep_for(100ms);
  const long before = executor_thread_switches();
  const auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(idle_s));
  const long after = executor_thread_switches();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("idle_executors %d\nidle_seconds %.1f\nidle_runs %ld\n", n, seconds, runs.load());
  std::printf("idle_switches_per_executor_per_s %.4f\n", double(after - before) / n / seconds);
  return 0;
}

int close_latency(int trials) {
  std::vector<double> micros;
  std::mt19937 random(42);
  std::uniform_int_distribution<int> phase_us(1000, 3000);
  for (int i = 0; i < trials; ++i) {
    std::atomic<long> runs{0};
    PeriodicExecutor executor("close-bench", kHour, 0ms, [&runs] {
      runs.fetch_add(1);
      runs.notify_all();
      return true;
    });
    executor.open();
    wait_above(runs, 0);
    std::this_thread::sleep_for(std::chrono::microseconds(phase_us(random)));  // fall asleep
    const auto start = Clock::now();
    executor.close();
    if (!executor.join(1s)) {
      std::fprintf(stderr, "join timed out\n");
      return 1;
    }
    micros.push_back(micros_between(start, Clock::now()));
  }
  print_percentiles("close", micros);
  return 0;
}

int wake_latency(int trials) {
  std::vector<double> micros;
  std::mt19937 random(7);
  std::uniform_int_distribution<int> phase_us(1000, 3000);
  std::atomic<long> runs{0};
  std::atomic<Clock::rep> target_start{0};
  PeriodicExecutor executor("wake-bench", kHour, 0ms, [&] {
    target_start.store(Clock::now().time_since_epoch().count());
    runs.fetch_add(1);
    runs.notify_all();
    return true;
  });
  executor.open();
  wait_above(runs, 0);
  for (int i = 0; i < trials; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(phase_us(random)));  // fall asleep
    const long seen = runs.load();
    const auto start = Clock::now();
    executor.wake();
    wait_above(runs, seen);
    micros.push_back(
        micros_between(start, Clock::time_point(Clock::duration(target_start.load()))));
  }
  executor.close();
  executor.join(1s);
  print_percentiles("wake", micros);
  return 0;
}

int rss(int n) {
  std::atomic<long> runs{0};
  const long before = rss_kib();
  std::vector<std::unique_ptr<PeriodicExecutor>> executors;
  for (int i = 0; i < n; ++i) {
    executors.push_back(
        std::make_unique<PeriodicExecutor>("rss-" + std::to_string(i), kHour, 500ms, [&runs] {
          runs.fetch_add(1);
          runs.notify_all();
          return true;
        }));
    executors.back()->open();
  }
  wait_above(runs, n - 1);
  std::this_thread::sleep_for(200ms);
  const long after = rss_kib();
  std::printf("rss_executors %d\nrss_kib_per_executor %.1f\n", n, double(after - before) / n);
  return 0;
}

int exit_with_executors(int n) {
  std::atomic<long> runs{0};
  for (int i = 0; i < n; ++i) {
    const bool busy = i % 2 == 1;
    // Never destroyed: only the exit handler stops them.
    auto* executor =
        new PeriodicExecutor("exit-" + std::to_string(i), busy ? 0ms : kHour, 0ms, [&runs, busy] {
          runs.fetch_add(1);
          runs.notify_all();
          if (busy) std::this_thread::sleep_for(100ms);
          return true;
        });
    executor->open();
  }
  wait_above(runs, n - 1);
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  std::printf("ready %lld\n", now.tv_sec * 1'000'000'000LL + now.tv_nsec);
  std::fflush(stdout);
  return 0;  // returns from main with every executor still running
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  auto arg = [&](int i, int fallback) { return argc > i ? std::atoi(argv[i]) : fallback; };
  if (mode == "idle") return idle(arg(2, 100), arg(3, 10), arg(4, 20));
  if (mode == "close") return close_latency(arg(2, 1000));
  if (mode == "wake") return wake_latency(arg(2, 1000));
  if (mode == "rss") return rss(arg(2, 1000));
  if (mode == "exit") return exit_with_executors(arg(2, 50));
  std::fprintf(stderr, "usage: %s idle|close|wake|rss|exit [args]\n", argv[0]);
  return 2;
}
