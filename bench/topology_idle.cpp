// mongoslice side of the idle-topology comparison (bench/topology_compare.sh): a Topology
// monitoring the given servers (mongos responders: Sharded) with heartbeatFrequencyMS=10000.
//
// Usage: bench_topology_idle SECONDS host:port ...
// Prints "ready <pid> <discovery ms>" once every server is known, idles SECONDS while the
// script samples /proc/<pid>, prints "heartbeats <n>" (heartbeats during the idle window) and
// exits. Our monitors should wake only for their heartbeats: ~N/10 wake-ups per second.

#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "driver/topology.hpp"

namespace {

class HeartbeatCounter : public mongoslice::EventListener {
 public:
  void on(const mongoslice::ServerHeartbeatSucceededEvent&) override { count.fetch_add(1); }
  std::atomic<long> count{0};
};

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono;
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SECONDS host:port ...\n", argv[0]);
    return 2;
  }
  const double seconds = std::stod(argv[1]);
  std::string uri = "mongodb://";
  for (int i = 2; i < argc; ++i) uri += (i > 2 ? "," : "") + std::string(argv[i]);
  uri += "/?heartbeatFrequencyMS=10000";

  auto counter = std::make_shared<HeartbeatCounter>();
  const auto start = steady_clock::now();
  auto topology = mongoslice::Topology::create(
      mongoslice::ConnectionString::parse(uri),
      std::make_shared<const mongoslice::EventDispatcher>(
          std::vector<std::shared_ptr<mongoslice::EventListener>>{counter}));
  topology->open();
  const std::size_t expected = static_cast<std::size_t>(argc - 2);
  for (;;) {
    auto d = topology->description();
    std::size_t known = 0;
    for (const auto& [address, server] : d->servers()) known += server.is_known();
    if (known == expected) break;
    if (steady_clock::now() - start > 30s) {
      std::fprintf(stderr, "servers not discovered within 30 s (%zu of %zu)\n", known, expected);
      return 1;
    }
    std::this_thread::sleep_for(50ms);
  }
  std::printf("ready %d %.1f\n", static_cast<int>(::getpid()),
              duration<double, std::milli>(steady_clock::now() - start).count());
  std::fflush(stdout);
  const long before = counter->count.load();
  std::this_thread::sleep_for(duration<double>(seconds));
  std::printf("heartbeats %ld\n", counter->count.load() - before);
  std::fflush(stdout);
  topology.reset();
  return 0;
}
