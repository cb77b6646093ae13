// Topology and monitors against real peers: FerretDB (standalone) and scripted mockupdb replica
// sets and mongos pairs (integration/mock/topology_members.py) whose roles change at runtime.
// Timings are printed; only generous bounds are asserted.

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "driver/topology.hpp"
#include "support/test_servers.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// topology_members.py: N mock servers whose roles the test changes through stdin.
class Members {
 public:
  Members(int count, const std::string& kind)
      : process_("topology_members.py", {std::to_string(count), kind}) {
    std::istringstream ports(process_.read_line());
    for (int port; ports >> port;) {
      addresses_.push_back({"127.0.0.1", static_cast<std::uint16_t>(port)});
    }
    if (static_cast<int>(addresses_.size()) != count) {
      throw std::runtime_error("topology_members.py did not print its ports");
    }
  }

  const HostAndPort& operator[](int i) const { return addresses_.at(i); }
  std::string seed_list() const {
    std::string s;
    for (const auto& a : addresses_) s += (s.empty() ? "" : ",") + a.to_string();
    return s;
  }
  // Sends "verb i" and waits for the script's acknowledgement.
  void command(const std::string& line) {
    process_.write_line(line);
    std::string ack = process_.read_line();
    if (ack != "ok " + line) throw std::runtime_error("unexpected answer: " + ack);
  }

 private:
  integration::MockProcess process_;
  std::vector<HostAndPort> addresses_;
};

// Counts heartbeats per server.
class Heartbeats : public EventListener {
 public:
  void on(const ServerHeartbeatSucceededEvent& e) override {
    std::lock_guard lock(mutex_);
    ++succeeded_[e.address];
  }
  void on(const ServerHeartbeatFailedEvent& e) override {
    std::lock_guard lock(mutex_);
    ++failed_[e.address];
  }
  int succeeded(const HostAndPort& a) {
    std::lock_guard lock(mutex_);
    return succeeded_[a];
  }

 private:
  std::mutex mutex_;
  std::map<HostAndPort, int> succeeded_, failed_;
};

std::shared_ptr<Topology> make(const std::string& uri,
                               std::shared_ptr<EventListener> listener = {}) {
  std::vector<std::shared_ptr<EventListener>> listeners;
  if (listener) listeners.push_back(std::move(listener));
  auto topology = Topology::create(ConnectionString::parse(uri),
                                   std::make_shared<const EventDispatcher>(std::move(listeners)));
  topology->open();
  return topology;
}

// Waits (bounded by `timeout`) until the snapshot satisfies `predicate`; the time it took.
std::optional<double> wait_until(Topology& topology,
                                 const std::function<bool(const TopologyDescription&)>& predicate,
                                 std::chrono::milliseconds timeout = 10s) {
  const auto start = Clock::now();
  while (Clock::now() - start < timeout) {
    if (predicate(*topology.description())) return ms_since(start);
    std::this_thread::sleep_for(2ms);
  }
  return std::nullopt;
}

ServerType type_of(const TopologyDescription& d, const HostAndPort& a) {
  auto* s = d.find(a);
  return s ? s->type : ServerType::kUnknown;
}

// Threads of this process whose name starts with "mon:" (the monitors).
int monitor_threads() {
  int count = 0;
  DIR* dir = ::opendir("/proc/self/task");
  if (!dir) return -1;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + entry->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    if (name.rfind("mon:", 0) == 0) ++count;
  }
  ::closedir(dir);
  return count;
}

TEST(TopologyIntegration, FerretDbIsDiscoveredAsStandaloneWithRttAndHeartbeats) {
  auto heartbeats = std::make_shared<Heartbeats>();
  const std::string base = integration::ferretdb_uri();
  const std::string uri =
      base + (base.find('?') == std::string::npos ? "?" : "&") + "heartbeatFrequencyMS=500";
  auto topology = make(uri, heartbeats);
  const HostAndPort address = ConnectionString::parse(uri).hosts.at(0);
  auto selected = topology->select_server({});
  EXPECT_EQ(selected.address, address);
  auto d = topology->description();
  EXPECT_EQ(d->type(), TopologyType::kSingle);
  ASSERT_NE(d->find(address), nullptr);
  EXPECT_EQ(d->find(address)->type, ServerType::kStandalone);
  ASSERT_TRUE(d->find(address)->round_trip_time.has_value());
  std::printf(
      "[ figure ] FerretDB RTT (average): %.3f ms\n",
      std::chrono::duration<double, std::milli>(*d->find(address)->round_trip_time).count());

  const int before = heartbeats->succeeded(address);
  std::this_thread::sleep_for(2200ms);
  const int during = heartbeats->succeeded(address) - before;
  std::printf("[ figure ] heartbeats in 2.2 s at heartbeatFrequencyMS=500: %d (expected ~4)\n",
              during);
  EXPECT_GE(during, 2);
  EXPECT_LE(during, 10) << "far more heartbeats than the interval allows";
}

TEST(TopologyIntegration, ReplicaSetDiscoveryFailoverAndLostMembers) {
  Members rs(3, "replset");
  auto heartbeats = std::make_shared<Heartbeats>();
  // Only member 0 is seeded; the others come from its hosts list.
  auto topology = make("mongodb://" + rs[0].to_string() +
                           "/?replicaSet=rs&heartbeatFrequencyMS=500&connectTimeoutMS=1000"
                           "&serverSelectionTimeoutMS=5000",
                       heartbeats);
  auto discovered = wait_until(*topology, [&](const TopologyDescription& d) {
    return type_of(d, rs[0]) == ServerType::kRSPrimary &&
           type_of(d, rs[1]) == ServerType::kRSSecondary &&
           type_of(d, rs[2]) == ServerType::kRSSecondary;
  });
  ASSERT_TRUE(discovered) << "members not discovered from the seed";
  std::printf("[ figure ] replica set discovered from one seed in %.1f ms\n", *discovered);
  EXPECT_EQ(topology->description()->type(), TopologyType::kReplicaSetWithPrimary);
  EXPECT_EQ(topology->select_server_for_writes().address, rs[0]);

  // Change of primary: 0 steps down, 1 is elected with a higher electionId. An operation
  // that fails on the old primary would request checks; request them here.
  rs.command("primary 1");
  const auto failover_start = Clock::now();
  topology->request_checks();
  auto failed_over = wait_until(*topology, [&](const TopologyDescription& d) {
    return type_of(d, rs[1]) == ServerType::kRSPrimary &&
           type_of(d, rs[0]) == ServerType::kRSSecondary;
  });
  ASSERT_TRUE(failed_over);
  std::printf("[ figure ] new primary seen %.1f ms after the change (requested checks)\n",
              ms_since(failover_start));
  EXPECT_EQ(topology->select_server_for_writes().address, rs[1]);

  // Member 2 stops answering: it turns Unknown (after connectTimeoutMS) while the others stay.
  rs.command("hang 2");
  const int primary_beats = heartbeats->succeeded(rs[1]);
  auto lost = wait_until(*topology, [&](const TopologyDescription& d) {
    return type_of(d, rs[2]) == ServerType::kUnknown;
  });
  ASSERT_TRUE(lost);
  std::printf("[ figure ] hanging member Unknown after %.1f ms (connectTimeoutMS=1000)\n", *lost);
  auto d = topology->description();
  EXPECT_EQ(type_of(*d, rs[1]), ServerType::kRSPrimary);
  EXPECT_EQ(type_of(*d, rs[0]), ServerType::kRSSecondary);
  EXPECT_FALSE(d->find(rs[2])->error.empty());
  EXPECT_GT(heartbeats->succeeded(rs[1]), primary_beats) << "the primary's monitor kept going";

  // Member 0 is stopped: its connection closes, it turns Unknown; the primary stays.
  rs.command("stop 0");
  ASSERT_TRUE(wait_until(*topology, [&](const TopologyDescription& d) {
    return type_of(d, rs[0]) == ServerType::kUnknown;
  }));
  EXPECT_EQ(type_of(*topology->description(), rs[1]), ServerType::kRSPrimary);
}

TEST(TopologyIntegration, HangingMemberDelaysNobodyAndDestructionEndsMonitorsPromptly) {
  Members rs(3, "replset");
  rs.command("hang 2");  // accepts connections, never answers
  const int threads_before = monitor_threads();
  const auto start = Clock::now();
  auto topology = make("mongodb://" + rs.seed_list() +
                       "/?replicaSet=rs&heartbeatFrequencyMS=500&connectTimeoutMS=20000");
  auto selected = topology->select_server_for_writes();
  const double selection_ms = ms_since(start);
  EXPECT_EQ(selected.address, rs[0]);
  ASSERT_TRUE(wait_until(*topology, [&](const TopologyDescription& d) {
    return type_of(d, rs[1]) == ServerType::kRSSecondary;
  }));
  EXPECT_EQ(type_of(*topology->description(), rs[2]), ServerType::kUnknown);
  std::printf("[ figure ] primary selected in %.1f ms while member 2 hangs\n", selection_ms);
  EXPECT_LT(selection_ms, 5000) << "the hanging member delayed selection";
  EXPECT_EQ(monitor_threads() - threads_before, 3);

  // Member 2's monitor is blocked in its handshake (connectTimeoutMS 20 s). Destroying the
  // topology closes and interrupts it.
  const auto destroy_start = Clock::now();
  topology.reset();
  // A monitor's callback may have held the last reference for a moment (it holds the topology
  // while it reports), so the destruction may finish on that monitor's thread, just after
  // reset() returned here: the figure is the time until every monitor thread has ended.
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (monitor_threads() != threads_before && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const double destroy_ms = ms_since(destroy_start);
  std::printf("[ figure ] topology destroyed with a blocked monitor in %.3f ms\n", destroy_ms);
  EXPECT_LT(destroy_ms, 5000);
  EXPECT_EQ(monitor_threads(), threads_before) << "every monitor thread has ended";
}

TEST(TopologyIntegration, MongosPairIsShardedAndBothAreSelected) {
  Members mongos(2, "mongos");
  auto topology =
      make("mongodb://" + mongos.seed_list() + "/?heartbeatFrequencyMS=500&localThresholdMS=1000");
  ASSERT_TRUE(wait_until(*topology, [&](const TopologyDescription& d) {
    return type_of(d, mongos[0]) == ServerType::kMongos &&
           type_of(d, mongos[1]) == ServerType::kMongos;
  }));
  EXPECT_EQ(topology->description()->type(), TopologyType::kSharded);
  std::set<HostAndPort> chosen;
  for (int i = 0; i < 100 && chosen.size() < 2; ++i)
    chosen.insert(topology->select_server({}).address);
  EXPECT_EQ(chosen.size(), 2u) << "selection should spread over both mongoses";
  EXPECT_NE(topology->select_server_for_writes().pool, nullptr);
}

TEST(PoolIntegration, PoolReusesClearsAndBoundsConnections) {
  const auto address = integration::ferretdb_address();
  auto pool = ConnectionPool::create(address, {.max_size = 1, .wait_timeout = 200ms});
  pool->ready();  // a pool starts paused (CMAP); its monitor would ready it
  const Connection* first = nullptr;
  {
    auto lease = pool->acquire();
    first = &*lease;
    EXPECT_TRUE(lease->is_open());
    // max_size 1: a second acquire waits, then times out.
    try {
      pool->acquire();
      ADD_FAILURE() << "acquire beyond maxPoolSize should time out";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::pool_timeout));
    }
  }
  EXPECT_EQ(pool->idle_count(), 1u);
  {
    auto lease = pool->acquire();
    EXPECT_EQ(&*lease, first) << "an idle connection is reused";
    pool->clear();  // the checked-out connection is now stale, the pool paused
  }
  EXPECT_EQ(pool->idle_count(), 0u) << "a stale connection is closed on return";
  EXPECT_EQ(pool->total_count(), 0u);
  EXPECT_THROW(pool->acquire(), Error) << "a paused pool hands out nothing";
  pool->ready();
  {
    auto lease = pool->acquire();
    lease.discard();
  }
  EXPECT_EQ(pool->total_count(), 0u);
}

}  // namespace
}  // namespace mongoslice
