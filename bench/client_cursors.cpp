// mongoslice's side of bench/cursor_compare.sh (libmongoc: libmongoc_cursors.c, PyMongo:
// pymongo_cursors.py). Prints "metric value" lines:
//
//   destroy_median_ns      destroying a live cursor of the real client (FerretDB), median
//   destroy_allocs         heap allocations on the destroying thread, per destruction
//   kill_latency_median_ms destruction -> the mock server receiving killCursors, median
//   iterate_cpu_ns_per_doc user+sys CPU of the whole process per document (FerretDB,
//                          100,000 documents, batch_size 1000)
//
//   bench_client_cursors FERRETDB_URI DB COLL MOCK_URI
//
// Not a Google Benchmark program: each figure needs its own setup (live cursors, a mock's
// clock), so it measures with plain clocks and prints medians.

#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>
#include <thread>
#include <vector>

#include "mongoslice.hpp"

namespace {

// Counts allocations on threads that opt in (the measuring thread, around one destruction).
thread_local bool g_counting = false;
thread_local std::uint64_t g_allocations = 0;

std::int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

double cpu_seconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto secs = [](timeval t) { return t.tv_sec + t.tv_usec / 1e6; };
  return secs(usage.ru_utime) + secs(usage.ru_stime);
}

template <typename T>
T median(std::vector<T> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? T{} : v[v.size() / 2];
}

using mongoslice::bson::Document;

}  // namespace

void* operator new(std::size_t size) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s FERRETDB_URI DB COLL MOCK_URI\n", argv[0]);
    return 2;
  }
  using namespace mongoslice;
  const auto empty = Document::from_json("{}");

  MongoClient client(argv[1]);
  auto coll = client[argv[2]][argv[3]];

  // (1) Destruction of live cursors through the real client. FerretDB's SQLite backend blocks
  // beyond ~100 open cursors, so they are made in rounds of kRound, and each round's kills are
  // given time to reach the server before the next. Two figures:
  //  - destroy_median_ns: each destruction timed alone, the median. It includes two clock
  //    reads (~35 ns on the development VM) and leaves out the one destruction per round that
  //    wakes the kill-cursors executor;
  //  - destroy_burst_ns: a whole round timed as one block, per destruction: the wake of the
  //    sleeping executor (a futex wake, microseconds on a VM) spread over the round, and the
  //    executor draining the queue while the rest of the round pushes onto it.
  {
    constexpr int kRounds = 40, kRound = 25;
    std::vector<std::int64_t> ns, burst_ns;
    ns.reserve(kRounds * kRound);  // no allocation of ours inside the counted region
    burst_ns.reserve(kRounds);
    std::uint64_t allocations = 0;
    auto destroy_round = [&](bool time_each) {
      std::vector<std::optional<Cursor>> cursors(kRound);
      for (auto& c : cursors) c.emplace(coll.find(empty, {.batch_size = 1}));
      g_allocations = 0;
      g_counting = true;
      auto block_start = std::chrono::steady_clock::now();
      for (auto& c : cursors) {
        if (!time_each) {
          c.reset();
          continue;
        }
        auto start = std::chrono::steady_clock::now();
        c.reset();
        auto end = std::chrono::steady_clock::now();
        ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
      }
      auto block_end = std::chrono::steady_clock::now();
      g_counting = false;
      allocations += g_allocations;
      if (!time_each) {
        burst_ns.push_back(
            std::chrono::duration_cast<std::chrono::nanoseconds>(block_end - block_start).count() /
            kRound);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    };
    for (int round = 0; round < kRounds; ++round) destroy_round(round % 2 == 0);
    std::printf("destroy_median_ns %lld\n", static_cast<long long>(median(ns)));
    std::printf("destroy_burst_ns %lld\n", static_cast<long long>(median(burst_ns)));
    std::printf("destroy_allocs %.3f\n",
                static_cast<double>(allocations) / (static_cast<double>(kRounds) * kRound));
  }

  // (2) Kill latency, measured at the mock server's clock (CLOCK_MONOTONIC, like ours).
  {
    MongoClient mock(argv[4]);
    auto mock_coll = mock["bench"]["latency"];
    mock["admin"].run_command(Document::from_json(R"({"mockReset": 1})"));
    constexpr int kTrials = 40;
    std::vector<std::pair<std::int64_t, std::int64_t>> destroyed;  // cursor id, time
    for (int i = 0; i < kTrials; ++i) {
      std::optional<Cursor> c(mock_coll.find(empty));
      std::int64_t id = c->id();
      std::int64_t t0 = monotonic_ns();
      c.reset();
      destroyed.emplace_back(id, t0);
      std::this_thread::sleep_for(std::chrono::milliseconds(25));  // one kill per trial
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    auto reply = mock["admin"].run_command(Document::from_json(R"({"mockKills": 1})"));
    std::vector<double> ms;
    for (bson::Element kill : reply["kills"].get_array()) {
      auto k = kill.get_document();
      for (bson::Element id : k["cursors"].get_array()) {
        for (auto& [cid, t0] : destroyed) {
          if (cid == id.as_int64()) ms.push_back((k["t"].as_int64() - t0) / 1e6);
        }
      }
    }
    std::printf("kill_latency_median_ms %.3f\n", median(ms));
    std::printf("kill_latency_samples %zu\n", ms.size());
  }

  // (3) Iteration CPU per document.
  {
    double before = cpu_seconds();
    std::int64_t docs = 0, bytes = 0;
    for (bson::View doc : coll.find(empty, {.batch_size = 1000})) {
      ++docs;
      bytes += static_cast<std::int64_t>(doc.size());
    }
    double cpu = cpu_seconds() - before;
    std::printf("iterate_docs %lld\n", static_cast<long long>(docs));
    std::printf("iterate_cpu_ns_per_doc %.1f\n", docs ? cpu * 1e9 / docs : 0.0);
  }
  return 0;
}
