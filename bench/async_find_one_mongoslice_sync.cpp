// bench/run_async.sh, mongoslice's synchronous API: IN_FLIGHT std::threads share one MongoClient
// (the URI's maxPoolSize must be >= IN_FLIGHT) and each runs find_one({_id: k}) in a loop, so
// IN_FLIGHT operations are in flight at any time.
//
//   bench_async_find_one_mongoslice_sync URI TOTAL IN_FLIGHT
//
// The same phases and output line as the other async_find_one_* programs:
//   1. One find_one on the main thread (the client has connected), then the baseline RSS.
//   2. Each worker starts and runs 2 untimed find_ones (the pool grows toward IN_FLIGHT
//      connections), then waits at a barrier.
//   3. Timed: the workers claim operation numbers k = 0 .. TOTAL-1 from one atomic counter, so
//      exactly TOTAL find_ones run; the clocks stop when the last worker has seen the counter
//      run out. The worker that claims k = TOTAL/2 samples RSS (/proc/self/statm, resident
//      pages): every worker is then mid-loop.
// and prints one line of key=value fields:
//   kind in_flight ops seconds ops_per_s cpu_us_per_op (getrusage RUSAGE_SELF user+sys over
//   step 3: every thread of the process) rss_base_kib rss_steady_kib_per_op ((mid-run RSS -
//   baseline) / IN_FLIGHT) rss_peak_kib_per_op ((VmHWM after step 3 - baseline) / IN_FLIGHT)
//   fds_mid (open file descriptors at the mid-run sample: mostly the connections the client
//   really holds) failures (replies without the document, or with another _id).

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "measurement.hpp"
#include "mongoslice.hpp"

namespace {

using bench::cpu_s;
using bench::now_s;
using bench::open_fds;
using bench::peak_rss_kib;
using bench::rss_kib;

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s URI TOTAL IN_FLIGHT\n", argv[0]);
    return 2;
  }
  const long total = std::strtol(argv[2], nullptr, 10);
  const long in_flight = std::strtol(argv[3], nullptr, 10);
  if (total < 1 || total > 10'000'000 || in_flight < 1 || in_flight > 10'000) {
    std::fprintf(stderr, "TOTAL must be in 1..10000000, IN_FLIGHT in 1..10000\n");
    return 2;
  }
  using namespace mongoslice;
  MongoClient client(argv[1]);
  const auto coll = client["bench"]["c"];
  // Returns whether the reply held the document {_id: k}.
  auto find_one = [&coll](std::int32_t k) {
    try {
      auto filter = bson::Builder{}.append("_id", k).build();
      auto doc = coll.find_one(filter);
      return doc && (*doc)["_id"].get_int32() == k;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "find_one: %s\n", e.what());
      return false;
    }
  };
  if (!find_one(-1)) return 1;
  const double rss_base = rss_kib();

  std::atomic<long> ready{0}, next{0}, running{in_flight}, failures{0};
  std::atomic<bool> go{false};
  std::atomic<double> rss_mid{0};
  std::atomic<long> fds_mid{0};
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(in_flight));
  for (long w = 0; w < in_flight; ++w) {
    workers.emplace_back([&, w] {
      for (int i = 0; i < 2; ++i) failures += !find_one(static_cast<std::int32_t>(-2 - w));
      if (++ready == in_flight) ready.notify_one();
      go.wait(false);
      for (long k; (k = next++) < total;) {
        if (k == total / 2) {
          rss_mid = rss_kib();
          fds_mid = open_fds();
        }
        failures += !find_one(static_cast<std::int32_t>(k));
      }
      if (--running == 0) running.notify_one();
    });
  }
  for (long r; (r = ready.load()) < in_flight;) ready.wait(r);
  const long warmup_failures = failures.exchange(0);
  const double t0 = now_s(), cpu0 = cpu_s();
  go = true;
  go.notify_all();
  for (long r; (r = running.load()) > 0;) running.wait(r);
  const double seconds = now_s() - t0, cpu = cpu_s() - cpu0;
  const double rss_peak = peak_rss_kib();
  for (auto& t : workers) t.join();

  std::printf(
      "kind=mongoslice_sync in_flight=%ld ops=%ld seconds=%.4f ops_per_s=%.1f cpu_us_per_op=%.2f "
      "rss_base_kib=%.0f rss_steady_kib_per_op=%.3f rss_peak_kib_per_op=%.3f fds_mid=%ld "
      "failures=%ld\n",
      in_flight, total, seconds, static_cast<double>(total) / seconds, cpu * 1e6 / total, rss_base,
      (rss_mid.load() - rss_base) / in_flight, (rss_peak - rss_base) / in_flight, fds_mid.load(),
      failures.load() + warmup_failures);
  return failures.load() + warmup_failures == 0 ? 0 : 1;
}
