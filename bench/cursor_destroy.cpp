// Cost of destroying a live Cursor (DESIGN.md, invariant 1): the destructor only links its
// pre-allocated kill record into the lock-free queue (and wakes the consumer on the first push).
//
// Each iteration builds a batch of live cursors (untimed), destroys them (timed, manual time)
// and drains the queue (untimed). Reported: ns_per_destroy and allocs_per_destroy (counted with a
// replaced global operator new while the timed loop runs). Goal: <= 50 ns and 0 allocations.
//
//   ninja -C build bench_cursor_destroy && build/bench/bench_cursor_destroy

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>
#include <optional>
#include <vector>

#include "cursor/cursor.hpp"
#include "tests/support/cursor_fakes.hpp"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  if (g_counting.load(std::memory_order_relaxed)) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
  }
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace mongoslice;

struct WakeCounter {
  std::atomic<std::uint64_t> wakes{0};
  static void wake(void* self) noexcept {
    static_cast<WakeCounter*>(self)->wakes.fetch_add(1, std::memory_order_relaxed);
  }
};

// range(0): cursors per batch; range(1): 1 for live cursors (the kill path), 0 for exhausted ones
// (the same members freed, no kill record: the baseline that isolates the kill path's cost).
void BM_DestroyCursor(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  const bool live = state.range(1) != 0;
  auto wakes = std::make_shared<WakeCounter>();
  auto queue = std::make_shared<KillQueue>(&WakeCounter::wake, wakes);
  auto channel = std::make_shared<testing::FakeServerChannel>(123456789, "bench.items", 1'000'000);
  bson::Document first_reply = channel->first_reply(10);  // a live cursor, 10 documents
  if (!live) first_reply = testing::cursor_reply(0, "bench.items", "firstBatch", 0, 10);
  const HostAndPort server{"db1.example", 27017};

  std::vector<std::optional<Cursor>> cursors(batch);
  double total_ns = 0;
  std::size_t destroyed = 0;
  std::size_t allocations = 0;
  for (auto _ : state) {
    for (auto& cursor : cursors) {
      cursor.emplace(first_reply, CursorOptions{}, channel, queue, server);
      cursor->begin();  // started, as a loop abandoned after its first document
    }
    g_allocations.store(0);
    g_counting.store(true);
    auto start = std::chrono::steady_clock::now();
    for (auto& cursor : cursors) cursor.reset();
    auto stop = std::chrono::steady_clock::now();
    g_counting.store(false);
    allocations += g_allocations.load();

    double ns = std::chrono::duration<double, std::nano>(stop - start).count();
    state.SetIterationTime(ns * 1e-9);
    total_ns += ns;
    destroyed += batch;
    KillList killed = queue->drain();  // the consumer, outside timing
    if (killed.size() != (live ? batch : 0)) state.SkipWithError("a destroyed cursor was lost");
  }
  state.counters["ns_per_destroy"] = total_ns / static_cast<double>(destroyed);
  state.counters["allocs_per_destroy"] =
      static_cast<double>(allocations) / static_cast<double>(destroyed);
  state.SetItemsProcessed(static_cast<std::int64_t>(destroyed));
}
BENCHMARK(BM_DestroyCursor)
    ->ArgNames({"batch", "live"})
    ->Args({1000, 1})
    ->Args({1000, 0})
    ->UseManualTime()
    ->Repetitions(10)
    ->ReportAggregatesOnly(true);

// The queue alone: one push of a prepared record.
void BM_KillQueuePush(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  KillQueue queue;
  std::vector<std::unique_ptr<KillRecord>> records(batch);
  double total_ns = 0;
  std::size_t pushed = 0;
  for (auto _ : state) {
    for (auto& r : records) r = KillRecord::make(1, Namespace{"bench", "items"}, HostAndPort{"h"});
    auto start = std::chrono::steady_clock::now();
    for (auto& r : records) queue.push(std::move(r));
    auto stop = std::chrono::steady_clock::now();
    double ns = std::chrono::duration<double, std::nano>(stop - start).count();
    state.SetIterationTime(ns * 1e-9);
    total_ns += ns;
    pushed += batch;
    KillList drained = queue.drain();
  }
  state.counters["ns_per_push"] = total_ns / static_cast<double>(pushed);
}
BENCHMARK(BM_KillQueuePush)
    ->Arg(1000)
    ->UseManualTime()
    ->Repetitions(10)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
