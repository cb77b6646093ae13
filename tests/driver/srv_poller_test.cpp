// The SRV poller of mongodb+srv:// clients (driver/srv_poller.hpp): a client whose mongos hosts
// come and go in DNS follows them (servers opened and closed as the records change), and
// closing a client whose rescan is blocked on a silent name server ends at once.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "driver/mongo_client.hpp"
#include "driver/srv_poller.hpp"
#include "monitor/topology_description.hpp"
#include "support/dns_zone_server.hpp"
#include "support/loopback_peer.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kCluster = "cluster0.srv-poll.mongoslice.example";
// One host name for every mongos (they differ by port), longer than a small-string buffer.
constexpr const char* kMongosHost = "mongos-router-host.cluster0.srv-poll.mongoslice.example";

// A mongos: answers every hello (the monitors' checks) as a router.
testing::LoopbackServer::Script mongos_script() {
  return [](testing::PeerStream& s, int) {
    try {
      for (;;) {
        auto request = s.read_message();
        auto reply = testing::standard_hello_reply();
        bson::Builder b;
        b.concat(reply.view());
        b.append("msg", "isdbgrid");
        s.write(testing::reply_to(request, b.build()));
      }
    } catch (...) {  // the client hung up
    }
  };
}

testing::DnsZone zone_with(const std::vector<std::uint16_t>& ports) {
  testing::DnsZone zone;
  auto& records = zone.srv[std::string("_mongodb._tcp.") + kCluster];
  for (auto port : ports) records.push_back({port, std::string(kMongosHost) + "."});
  zone.a[kMongosHost] = {"127.0.0.1"};
  return zone;
}

// The servers the topology holds, from its description events.
class ServerSet : public EventListener {
 public:
  void on(const TopologyDescriptionChangedEvent& e) override {
    std::lock_guard lock(mutex_);
    ports_.clear();
    for (const auto& [address, sd] : e.current.servers()) ports_.insert(address.port);
  }
  std::set<std::uint16_t> ports() const {
    std::lock_guard lock(mutex_);
    return ports_;
  }
  bool wait_for(const std::set<std::uint16_t>& want, std::chrono::milliseconds timeout) const {
    const auto until = Clock::now() + timeout;
    while (Clock::now() < until) {
      if (ports() == want) return true;
      std::this_thread::sleep_for(10ms);
    }
    return ports() == want;
  }

 private:
  mutable std::mutex mutex_;
  std::set<std::uint16_t> ports_;
};

TEST(SrvPolling, AClientFollowsMongosHostsAddedAndRemovedInDns) {
  testing::LoopbackServer m1(mongos_script()), m2(mongos_script()), m3(mongos_script());
  const auto p1 = m1.address().port, p2 = m2.address().port, p3 = m3.address().port;
  testing::DnsZoneServer dns(zone_with({p1, p2}));
  auto servers = std::make_shared<ServerSet>();
  ClientOptions options;
  options.dns.servers = {dns.server()};
  options.srv_rescan_interval = 100ms;
  options.listeners.push_back(servers);
  // A failed rescan is retried after heartbeatFrequencyMS (500 ms, its minimum), not the
  // rescan interval.
  MongoClient client(
      std::string("mongodb+srv://") + kCluster + "/?tls=false&heartbeatFrequencyMS=500", options);
  // The first operation opens the topology; ping through the routers.
  client.database("admin").run_command(bson::Builder{}.append("ping", 1).build());
  ASSERT_TRUE(servers->wait_for({p1, p2}, 5s)) << "initial servers";

  dns.set_zone(zone_with({p1, p3}));  // p2 leaves, p3 joins
  EXPECT_TRUE(servers->wait_for({p1, p3}, 10s)) << "after the records changed";
  EXPECT_EQ(client.uri().hosts.size(), 2u) << "the initial seed list is what the URI resolved";

  dns.set_zone(testing::DnsZone{});  // the name vanishes: the servers stay
  const int queries_before = dns.queries();
  const auto until = Clock::now() + 10s;
  while (dns.queries() < queries_before + 2 && Clock::now() < until) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_GE(dns.queries(), queries_before + 2) << "the poller stopped looking after a failure";
  EXPECT_EQ(servers->ports(), (std::set<std::uint16_t>{p1, p3}));
}

// Closes the client from its own SRV poller's thread, in the event that the poller's rescan
// causes: the poller is destroyed under its own running target.
class CloseOnThePollerThread : public EventListener {
 public:
  std::atomic<MongoClient*> client{nullptr};
  std::atomic<bool> closed_there{false};
  void on(const TopologyDescriptionChangedEvent& e) override {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    MongoClient* c = client.load();
    if (c && std::string(name) == "mongoslice-srv" && e.current.servers().size() == 2) {
      c->close();
      closed_there = true;
    }
  }
};

TEST(SrvPolling, AListenerMayCloseTheClientOnThePollersThread) {
  testing::LoopbackServer m1(mongos_script()), m2(mongos_script());
  const auto p1 = m1.address().port, p2 = m2.address().port;
  testing::DnsZoneServer dns(zone_with({p1}));
  auto closer = std::make_shared<CloseOnThePollerThread>();
  ClientOptions options;
  options.dns.servers = {dns.server()};
  options.srv_rescan_interval = 50ms;
  options.listeners.push_back(closer);
  MongoClient client(std::string("mongodb+srv://") + kCluster + "/?tls=false", options);
  client.database("admin").run_command(bson::Builder{}.append("ping", 1).build());
  closer->client = &client;
  dns.set_zone(zone_with({p1, p2}));  // the rescan adds p2: its event closes the client
  const auto until = Clock::now() + 10s;
  while (!closer->closed_there && Clock::now() < until) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(closer->closed_there) << "the rescan's event never came on the poller's thread";
  // The client is closed: operations fail as closed, and destroying it must not touch the
  // poller again (ASan runs this test).
  EXPECT_THROW(client.database("admin").run_command(bson::Builder{}.append("ping", 1).build()),
               Error);
}

TEST(SrvPolling, CloseEndsARescanBlockedOnASilentNameServer) {
  testing::SilentDnsServer silent;
  ConnectionString uri = ConnectionString::parse(std::string("mongodb+srv://") + kCluster +
                                                 "/?tls=false&connectTimeoutMS=60000");
  std::atomic<int> applied{0};
  SrvPoller poller(uri, DnsOptions{{silent.server()}}, 10ms,
                   {[] { return true; }, [&](std::vector<HostAndPort>) { ++applied; }});
  poller.open();
  // The first run is skipped; the second is the lookup that waits on the silent server (for up
  // to connectTimeoutMS, 60 s).
  const auto until = Clock::now() + 5s;
  while (poller.lookups() < 2 && Clock::now() < until) std::this_thread::sleep_for(5ms);
  ASSERT_GE(poller.lookups(), 2u);
  std::this_thread::sleep_for(50ms);  // well inside the lookup's wait
  poller.close();
  // The lookup's own deadline is 60 s away: ending within 5 s means close() interrupted it.
  EXPECT_TRUE(poller.join(5s)) << "the rescan was not interrupted";
  EXPECT_EQ(applied.load(), 0);
}

}  // namespace
}  // namespace mongoslice
