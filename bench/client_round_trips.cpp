// mongoslice's side of bench/round_trips_compare.sh (libmongoc: libmongoc_round_trips.c,
// PyMongo: pymongo_round_trips.py). One round trip per operation against a server whose
// collection holds documents {_id: 0 .. KEYS-1, n: <int>} (the script seeds them):
//
//   update_one  filter {_id: k}, update {$inc: {n: 1}}   (each must match one document)
//   find_one    filter {_id: k}                          (each must find one)
//
// k runs over 0 .. KEYS-1 in turn. Each kind first runs WARMUP untimed operations, then OPS
// timed ones, and prints "metric value" lines:
//
//   <kind>_cpu_ns_per_op         user+sys CPU of the whole process (getrusage RUSAGE_SELF: every
//                                thread of the driver) per operation
//   <kind>_thread_cpu_ns_per_op  CPU of the calling thread alone (CLOCK_THREAD_CPUTIME_ID)
//   <kind>_wall_ns_per_op        wall-clock time per operation (the server's time included)
//   <kind>_ops                   operations timed
//
//   bench_client_round_trips URI DB COLL OPS KEYS [WARMUP]
//
// Exits with status 1 when an operation does not match (or find) its document.

#include <sys/resource.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mongoslice.hpp"

namespace {

std::int64_t ns_of(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t process_cpu_ns() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  auto ns = [](timeval t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_usec * 1000; };
  return ns(usage.ru_utime) + ns(usage.ru_stime);
}

struct Clocks {
  std::int64_t process, thread, wall;
  static Clocks now() {
    return {process_cpu_ns(), ns_of(CLOCK_THREAD_CPUTIME_ID), ns_of(CLOCK_MONOTONIC)};
  }
};

// Runs `op(k)` warmup times untimed, then ops times timed, and prints the figures of `kind`.
// `op` returns false when the operation did not find its document.
template <typename Op>
bool measure(const char* kind, long ops, long keys, long warmup, Op op) {
  long failures = 0;
  for (long i = 0; i < warmup; ++i) failures += !op(i % keys);
  Clocks before = Clocks::now();
  for (long i = 0; i < ops; ++i) failures += !op(i % keys);
  Clocks after = Clocks::now();
  auto per_op = [&](std::int64_t a, std::int64_t b) { return static_cast<double>(b - a) / ops; };
  std::printf("%s_cpu_ns_per_op %.1f\n", kind, per_op(before.process, after.process));
  std::printf("%s_thread_cpu_ns_per_op %.1f\n", kind, per_op(before.thread, after.thread));
  std::printf("%s_wall_ns_per_op %.1f\n", kind, per_op(before.wall, after.wall));
  std::printf("%s_ops %ld\n", kind, ops);
  if (failures) std::fprintf(stderr, "%s: %ld operations missed their document\n", kind, failures);
  return failures == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: %s URI DB COLL OPS KEYS [WARMUP]\n", argv[0]);
    return 2;
  }
  const long ops = std::strtol(argv[4], nullptr, 10);
  const long keys = std::strtol(argv[5], nullptr, 10);
  const long warmup = argc == 7 ? std::strtol(argv[6], nullptr, 10) : 100;
  if (ops <= 0 || ops > 1'000'000 || keys <= 0 || warmup < 0) {
    std::fprintf(stderr, "OPS must be in 1..1000000, KEYS > 0, WARMUP >= 0\n");
    return 2;
  }
  using namespace mongoslice;
  MongoClient client(argv[1]);
  auto coll = client[argv[2]][argv[3]];
  // The update is the same document every time; the filter is built per operation (as a user
  // would, and as the other two sides do).
  const auto inc = bson::Builder{}.open_document("$inc").append("n", 1).close().build();

  bool ok = measure("update_one", ops, keys, warmup, [&](long k) {
    auto filter = bson::Builder{}.append("_id", static_cast<std::int32_t>(k)).build();
    return coll.update_one(filter, inc).matched_count == 1;
  });
  ok &= measure("find_one", ops, keys, warmup, [&](long k) {
    auto filter = bson::Builder{}.append("_id", static_cast<std::int32_t>(k)).build();
    return coll.find_one(filter).has_value();
  });
  return ok ? 0 : 1;
}
