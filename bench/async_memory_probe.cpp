// Where the memory of mongoslice's async find_ones in flight goes: the load of
// bench/async_find_one_mongoslice_async.cpp (IN_FLIGHT coroutines on one io_context, each
// looping co_await coll.async_find_one(...)), with every heap block tracked.
//
//   bench_async_memory_probe URI TOTAL IN_FLIGHT
//
// The program replaces malloc, calloc, realloc, free, memalign, aligned_alloc and
// posix_memalign (calling glibc's __libc_* functions), so it sees every block: operator new's,
// libbson's and Asio's (Asio's awaitable frames and handler memory come from std::aligned_alloc
// through its recycling allocator, not operator new). Each live block is kept in a table with its
// usable size and its allocation site (the call stack, from backtrace()). Two snapshots: before
// the load starts (after a first find_one connected the client) and in the middle of the load
// (IN_FLIGHT operations in flight). It prints, per in-flight operation, the difference of live
// heap bytes (tracked and mallinfo2's uordblks), the live blocks by usable size, and the
// allocation sites by live bytes, each with its stack as module+offset lines that
// bench/async_memory_probe.sh turns into function names with addr2line.
//
// A measuring tool, not a benchmark: the backtrace per allocation makes it slow.

#include <dlfcn.h>
#include <execinfo.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <vector>

#include "measurement.hpp"
#include "mongoslice.hpp"

extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {

// ---- the tracker ---------------------------------------------------------------------------

constexpr int kDepth = 12;
constexpr std::size_t kSites = 1 << 14;
constexpr std::size_t kSlots = 1 << 21;  // live blocks (open addressing, linear probing)

struct Site {
  std::uint64_t hash;
  void* frames[kDepth];
  int depth;
  long live_count;
  long live_bytes;
};
struct Slot {
  void* ptr;
  std::uint32_t size;
  std::uint32_t site;
};

Site sites[kSites];
Slot slots[kSlots];
std::atomic_flag lock_flag = ATOMIC_FLAG_INIT;
bool tracking = false;
thread_local bool in_hook = false;

struct Guard {
  Guard() {
    while (lock_flag.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~Guard() { lock_flag.clear(std::memory_order_release); }
};

std::size_t slot_of(void* p) {
  auto x = reinterpret_cast<std::uintptr_t>(p);
  x ^= x >> 17;
  x *= 0x9E3779B97F4A7C15ull;
  return (x >> 20) & (kSlots - 1);
}

std::uint32_t site_of(void** frames, int depth) {
  std::uint64_t h = 1469598103934665603ull;
  for (int i = 0; i < depth; ++i) {
    h ^= reinterpret_cast<std::uintptr_t>(frames[i]);
    h *= 1099511628211ull;
  }
  if (h == 0) h = 1;
  for (std::size_t i = h & (kSites - 1);; i = (i + 1) & (kSites - 1)) {
    if (sites[i].hash == h) return static_cast<std::uint32_t>(i);
    if (sites[i].hash == 0) {
      sites[i].hash = h;
      std::memcpy(sites[i].frames, frames, sizeof(void*) * depth);
      sites[i].depth = depth;
      return static_cast<std::uint32_t>(i);
    }
  }
}

void track(void* p) {
  if (!p || !tracking || in_hook) return;
  in_hook = true;
  void* frames[kDepth + 2];
  const int got = backtrace(frames, kDepth + 2);
  const std::size_t size = malloc_usable_size(p);
  {
    Guard guard;
    // frames[0] is track(), frames[1] the replaced function.
    const std::uint32_t site = site_of(frames + 2, std::max(0, got - 2));
    sites[site].live_count += 1;
    sites[site].live_bytes += static_cast<long>(size);
    for (std::size_t i = slot_of(p);; i = (i + 1) & (kSlots - 1)) {
      if (!slots[i].ptr) {
        slots[i] = {p, static_cast<std::uint32_t>(size), site};
        break;
      }
    }
  }
  in_hook = false;
}

void untrack(void* p) {
  // Blocks freed from inside the hook were allocated there, untracked (and the lock may be
  // held: the snapshot frees its own vectors).
  if (!p || in_hook) return;
  Guard guard;
  std::size_t i = slot_of(p);
  for (;; i = (i + 1) & (kSlots - 1)) {
    if (!slots[i].ptr) return;  // allocated before tracking began, or from inside the hook
    if (slots[i].ptr == p) break;
  }
  Site& site = sites[slots[i].site];
  site.live_count -= 1;
  site.live_bytes -= slots[i].size;
  // Backward-shift deletion keeps every probe sequence unbroken.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & (kSlots - 1); slots[j].ptr; j = (j + 1) & (kSlots - 1)) {
    const std::size_t home = slot_of(slots[j].ptr);
    const bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
    if (movable) {
      slots[hole] = slots[j];
      hole = j;
    }
  }
  slots[hole] = {};
}

struct Snapshot {
  std::vector<std::pair<long, long>> sites;  // live count, bytes per site
  std::map<std::uint32_t, long> by_size;     // usable size -> live blocks
  long bytes = 0;
  long blocks = 0;
  std::size_t mallinfo_bytes = 0;
  double rss = 0;
};

Snapshot snapshot() {
  Snapshot s;
  s.mallinfo_bytes = mallinfo2().uordblks;
  s.rss = bench::rss_kib();
  in_hook = true;  // the snapshot's own vectors are not counted
  s.sites.resize(kSites);
  {
    Guard guard;
    for (std::size_t i = 0; i < kSites; ++i)
      s.sites[i] = {sites[i].live_count, sites[i].live_bytes};
    std::vector<std::uint32_t> sizes;
    sizes.reserve(1 << 16);
    for (const Slot& slot : slots) {
      if (slot.ptr) sizes.push_back(slot.size);
    }
    for (std::uint32_t size : sizes) {
      s.by_size[size] += 1;
      s.bytes += size;
      s.blocks += 1;
    }
  }
  in_hook = false;
  return s;
}

void print_frame(void* address) {
  Dl_info info;
  if (dladdr(address, &info) && info.dli_fname) {
    // -1: the return address is past the call.
    std::printf("    frame %s 0x%lx\n", info.dli_fname,
                static_cast<unsigned long>(reinterpret_cast<std::uintptr_t>(address) -
                                           reinterpret_cast<std::uintptr_t>(info.dli_fbase) - 1));
  } else {
    std::printf("    frame ? %p\n", address);
  }
}

void report(const Snapshot& before, const Snapshot& during, long n) {
  const double per = 1.0 / static_cast<double>(n);
  std::printf(
      "in_flight=%ld rss_kib_per_op=%.3f mallinfo_bytes_per_op=%.1f "
      "tracked_bytes_per_op=%.1f tracked_blocks_per_op=%.2f\n",
      n, (during.rss - before.rss) * per,
      (static_cast<double>(during.mallinfo_bytes) - before.mallinfo_bytes) * per,
      static_cast<double>(during.bytes - before.bytes) * per,
      static_cast<double>(during.blocks - before.blocks) * per);
  std::printf("live blocks by usable size (blocks/op, bytes/op), >= 0.5 blocks/op:\n");
  std::map<std::uint32_t, long> sizes = during.by_size;
  for (const auto& [size, count] : before.by_size) sizes[size] -= count;
  for (const auto& [size, count] : sizes) {
    if (count * 2 >= n) {
      std::printf("  size %6u  %6.2f blocks/op  %8.1f bytes/op\n", size, count * per,
                  static_cast<double>(count) * size * per);
    }
  }
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < kSites; ++i) {
    if (during.sites[i].second - before.sites[i].second > n / 4) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return during.sites[a].second - before.sites[a].second >
           during.sites[b].second - before.sites[b].second;
  });
  std::printf("allocation sites by live bytes/op (> 0.25):\n");
  for (std::size_t i : order) {
    const long count = during.sites[i].first - before.sites[i].first;
    const long bytes = during.sites[i].second - before.sites[i].second;
    std::printf("site %zu: %.2f blocks/op %.1f bytes/op (%.0f bytes each)\n", i, count * per,
                bytes * per, count ? static_cast<double>(bytes) / count : 0.0);
    for (int f = 0; f < sites[i].depth; ++f) print_frame(sites[i].frames[f]);
  }
}

}  // namespace

// ---- the replaced allocation functions -----------------------------------------------------

extern "C" {
void* malloc(std::size_t size) {
  void* p = __libc_malloc(size);
  track(p);
  return p;
}
void free(void* p) {
  untrack(p);
  __libc_free(p);
}
void* calloc(std::size_t n, std::size_t size) {
  void* p = __libc_calloc(n, size);
  track(p);
  return p;
}
void* realloc(void* old, std::size_t size) {
  untrack(old);
  void* p = __libc_realloc(old, size);
  track(p);
  return p;
}
void* memalign(std::size_t align, std::size_t size) {
  void* p = __libc_memalign(align, size);
  track(p);
  return p;
}
void* aligned_alloc(std::size_t align, std::size_t size) {
  void* p = __libc_memalign(align, size);
  track(p);
  return p;
}
int posix_memalign(void** out, std::size_t align, std::size_t size) {
  void* p = __libc_memalign(align, size);
  if (!p) return ENOMEM;
  track(p);
  *out = p;
  return 0;
}
}

// ---- the load (as bench/async_find_one_mongoslice_async.cpp) -------------------------------

namespace asio = boost::asio;
namespace {

struct Run {
  Run(mongoslice::Collection c, long t, long n, asio::io_context& io)
      : coll(std::move(c)), total(t), in_flight(n), go(io) {
    go.expires_at(asio::steady_timer::time_point::max());
  }
  mongoslice::Collection coll;
  long total, in_flight;
  long ready = 0, next = 0, failures = 0;
  std::optional<Snapshot> during;
  asio::steady_timer go;
};

// Whether the reply is the document {_id: k}.
bool holds(const std::optional<mongoslice::bson::Document>& doc, std::int32_t k) {
  return doc && (*doc)["_id"].get_int32() == k;
}

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
    run.go.cancel();
  } else {
    boost::system::error_code ignored;
    co_await run.go.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
  for (long k; (k = run.next++) < run.total;) {
    if (k == run.total / 2) run.during = snapshot();
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
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s URI TOTAL IN_FLIGHT\n", argv[0]);
    return 2;
  }
  const long total = std::strtol(argv[2], nullptr, 10);
  const long in_flight = std::strtol(argv[3], nullptr, 10);
  if (total < 1 || in_flight < 1 || in_flight > 10'000) {
    std::fprintf(stderr, "TOTAL must be >= 1, IN_FLIGHT in 1..10000\n");
    return 2;
  }
  {
    void* warm[4];
    backtrace(warm, 4);  // loads the unwinder before any hook calls it
  }
  tracking = true;
  asio::io_context io(1);
  mongoslice::MongoClient client(argv[1]);
  Run run(client["bench"]["c"], total, in_flight, io);
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
  const Snapshot before = snapshot();
  for (long w = 0; w < in_flight; ++w) asio::co_spawn(io, worker(run, w), asio::detached);
  io.run();
  if (!run.during) return 1;
  report(before, *run.during, in_flight);
  std::printf("failures=%ld\n", run.failures);
  return run.failures == 0 ? 0 : 1;
}
