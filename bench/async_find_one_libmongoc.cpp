// bench/run_async.sh, libmongoc as mongocxx users run it: one mongoc_client_pool_t (the URI's
// maxPoolSize must be >= IN_FLIGHT) and IN_FLIGHT threads, each popping its own client and
// running find {_id: k} with {limit: 1, singleBatch: true} and one mongoc_cursor_next in a loop
// (libmongoc has no find_one; this is what mongocxx's find_one does). Phases and the output line:
// as bench/async_find_one_mongoslice_sync.cpp, with kind=libmongoc.
//
//   bench_async_find_one_libmongoc URI TOTAL IN_FLIGHT

#include <mongoc/mongoc.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "measurement.hpp"

namespace {

using bench::cpu_s;
using bench::now_s;
using bench::open_fds;
using bench::peak_rss_kib;
using bench::rss_kib;

// Returns whether the reply held the document {_id: k}.
bool find_one(mongoc_collection_t* coll, const bson_t* opts, std::int32_t k) {
  bson_t filter;
  bson_init(&filter);
  BSON_APPEND_INT32(&filter, "_id", k);
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(coll, &filter, opts, nullptr);
  const bson_t* doc;
  bson_error_t error;
  bool found = mongoc_cursor_next(cursor, &doc);
  bson_iter_t id;
  found = found && bson_iter_init_find(&id, doc, "_id") && BSON_ITER_HOLDS_INT32(&id) &&
          bson_iter_int32(&id) == k;
  if (!found && mongoc_cursor_error(cursor, &error)) {
    std::fprintf(stderr, "find: %s\n", error.message);
  }
  mongoc_cursor_destroy(cursor);
  bson_destroy(&filter);
  return found;
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
  mongoc_init();
  bson_error_t error;
  mongoc_uri_t* uri = mongoc_uri_new_with_error(argv[1], &error);
  if (!uri) {
    std::fprintf(stderr, "invalid URI %s: %s\n", argv[1], error.message);
    return 2;
  }
  mongoc_client_pool_t* pool = mongoc_client_pool_new(uri);
  mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2);
  bson_t opts;
  bson_init(&opts);
  BSON_APPEND_INT64(&opts, "limit", 1);
  BSON_APPEND_BOOL(&opts, "singleBatch", true);

  {
    mongoc_client_t* client = mongoc_client_pool_pop(pool);
    mongoc_collection_t* coll = mongoc_client_get_collection(client, "bench", "c");
    bool ok = find_one(coll, &opts, -1);
    mongoc_collection_destroy(coll);
    mongoc_client_pool_push(pool, client);
    if (!ok) return 1;
  }
  const double rss_base = rss_kib();

  std::atomic<long> ready{0}, next{0}, running{in_flight}, failures{0};
  std::atomic<bool> go{false};
  std::atomic<double> rss_mid{0};
  std::atomic<long> fds_mid{0};
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(in_flight));
  for (long w = 0; w < in_flight; ++w) {
    workers.emplace_back([&, w] {
      mongoc_client_t* client = mongoc_client_pool_pop(pool);
      mongoc_collection_t* coll = mongoc_client_get_collection(client, "bench", "c");
      for (int i = 0; i < 2; ++i) failures += !find_one(coll, &opts, static_cast<int>(-2 - w));
      if (++ready == in_flight) ready.notify_one();
      go.wait(false);
      for (long k; (k = next++) < total;) {
        if (k == total / 2) {
          rss_mid = rss_kib();
          fds_mid = open_fds();
        }
        failures += !find_one(coll, &opts, static_cast<std::int32_t>(k));
      }
      if (--running == 0) running.notify_one();
      mongoc_collection_destroy(coll);
      mongoc_client_pool_push(pool, client);
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
      "kind=libmongoc in_flight=%ld ops=%ld seconds=%.4f ops_per_s=%.1f cpu_us_per_op=%.2f "
      "rss_base_kib=%.0f rss_steady_kib_per_op=%.3f rss_peak_kib_per_op=%.3f fds_mid=%ld "
      "failures=%ld\n",
      in_flight, total, seconds, static_cast<double>(total) / seconds, cpu * 1e6 / total, rss_base,
      (rss_mid.load() - rss_base) / in_flight, (rss_peak - rss_base) / in_flight, fds_mid.load(),
      failures.load() + warmup_failures);
  bson_destroy(&opts);
  mongoc_client_pool_destroy(pool);
  mongoc_uri_destroy(uri);
  mongoc_cleanup();
  return failures.load() + warmup_failures == 0 ? 0 : 1;
}
