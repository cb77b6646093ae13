// bench/run_async.sh, mongoslice's asynchronous API: one thread runs one boost::asio::io_context
// and IN_FLIGHT coroutines on it, each looping
//
//   co_await coll.async_find_one(filter, boost::asio::use_awaitable)
//
// over one shared MongoClient (the URI's maxPoolSize must be >= IN_FLIGHT: each operation in
// flight holds a connection). Phases and the output line: as
// bench/async_find_one_mongoslice_sync.cpp (see there), with kind=mongoslice_async; the
// coroutines take the place of the threads, and the last one to finish its warm-up starts the
// clocks.
//
//   bench_async_find_one_mongoslice_async URI TOTAL IN_FLIGHT

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "measurement.hpp"
#include "mongoslice.hpp"

namespace asio = boost::asio;

namespace {

using bench::cpu_s;
using bench::now_s;
using bench::open_fds;
using bench::peak_rss_kib;
using bench::rss_kib;

// Everything the coroutines share; one thread touches it, so nothing is atomic.
struct Run {
  Run(mongoslice::Collection c, long t, long n, asio::io_context& io)
      : coll(std::move(c)), total(t), in_flight(n), running(n), go(io) {
    go.expires_at(asio::steady_timer::time_point::max());
  }
  mongoslice::Collection coll;
  long total, in_flight;
  long ready = 0, next = 0, running, failures = 0, warmup_failures = 0;
  double t0 = 0, cpu0 = 0, t1 = 0, cpu1 = 0, rss_mid = 0, rss_peak = 0;
  long fds_mid = 0;
  asio::steady_timer go;  // never expires: cancelled when every coroutine has warmed up
};

// Whether the reply is the document {_id: k}.
bool holds(const std::optional<mongoslice::bson::Document>& doc, std::int32_t k) {
  return doc && (*doc)["_id"].get_int32() == k;
}

// The untimed find_ones (the first and the warm-up): whether the reply held {_id: k}. Here and
// in worker each co_await stands alone in its statement and no handler holds a co_return: GCC 12
// has miscompiled co_await inside larger expressions (a ?: of two co_awaits).
asio::awaitable<bool> find_one(Run& run, std::int32_t k) {
  bool found = false;
  try {
    auto filter = mongoslice::bson::Builder{}.append("_id", k).build();
    std::optional<mongoslice::bson::Document> doc =
        co_await run.coll.async_find_one(filter, asio::use_awaitable);
    found = holds(doc, k);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "async_find_one: %s\n", e.what());
  }
  co_return found;
}

asio::awaitable<void> worker(Run& run, long w) {
  for (int i = 0; i < 2; ++i) {
    const bool ok = co_await find_one(run, static_cast<int>(-2 - w));
    if (!ok) ++run.failures;
  }
  if (++run.ready == run.in_flight) {
    run.warmup_failures = run.failures;
    run.failures = 0;
    run.t0 = now_s();
    run.cpu0 = cpu_s();
    run.go.cancel();
  } else {
    boost::system::error_code ignored;
    co_await run.go.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  for (long k; (k = run.next++) < run.total;) {
    if (k == run.total / 2) {
      run.rss_mid = rss_kib();
      run.fds_mid = open_fds();
    }
    // Awaited here, as a program's own loop would, not through find_one: what an operation in
    // flight keeps is this frame and the driver's.
    const auto id = static_cast<std::int32_t>(k);
    bool ok = false;
    try {
      auto filter = mongoslice::bson::Builder{}.append("_id", id).build();
      std::optional<mongoslice::bson::Document> doc =
          co_await run.coll.async_find_one(filter, asio::use_awaitable);
      ok = holds(doc, id);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "async_find_one: %s\n", e.what());
    }
    if (!ok) ++run.failures;
  }
  if (--run.running == 0) {
    run.t1 = now_s();
    run.cpu1 = cpu_s();
    run.rss_peak = peak_rss_kib();
  }
}

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
  asio::io_context io(1);
  mongoslice::MongoClient client(argv[1]);
  Run run(client["bench"]["c"], total, in_flight, io);

  // The first operation connects the client; then the baseline, then the load.
  bool first_ok = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const bool ok = co_await find_one(run, -1);
        first_ok = ok;
      },
      asio::detached);
  io.run();
  if (!first_ok) return 1;
  io.restart();
  const double rss_base = rss_kib();
  for (long w = 0; w < in_flight; ++w) asio::co_spawn(io, worker(run, w), asio::detached);
  io.run();

  const double seconds = run.t1 - run.t0, cpu = run.cpu1 - run.cpu0;
  const long failures = run.failures + run.warmup_failures;
  std::printf(
      "kind=mongoslice_async in_flight=%ld ops=%ld seconds=%.4f ops_per_s=%.1f "
      "cpu_us_per_op=%.2f rss_base_kib=%.0f rss_steady_kib_per_op=%.3f "
      "rss_peak_kib_per_op=%.3f fds_mid=%ld failures=%ld\n",
      in_flight, total, seconds, static_cast<double>(total) / seconds, cpu * 1e6 / total, rss_base,
      (run.rss_mid - rss_base) / in_flight, (run.rss_peak - rss_base) / in_flight, run.fds_mid,
      failures);
  return failures == 0 ? 0 : 1;
}
