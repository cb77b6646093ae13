// TopologyDescription::apply_srv_hosts: what a mongodb+srv:// rescan does to the servers (the
// polling-SRV spec's rules on adding, removing and srvMaxHosts).

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <set>

#include "monitor/topology_description.hpp"
#include "wire/bson.hpp"

namespace mongoslice {
namespace {

// Longer than any small-string buffer, as SRV targets are.
HostAndPort host(int i) {
  return {"shard-" + std::to_string(i) + ".cluster0.a-rather-long-domain-name.example", 27017};
}

std::set<HostAndPort> addresses(const TopologyDescription& td) {
  std::set<HostAndPort> out;
  for (const auto& [address, sd] : td.servers()) out.insert(address);
  return out;
}

ServerDescription mongos(const HostAndPort& address) {
  return ServerDescription::from_hello(
      address,
      bson::Document::from_json(
          R"({"ok": 1, "isWritablePrimary": true, "msg": "isdbgrid", "maxWireVersion": 21})"),
      std::chrono::milliseconds(1));
}

TEST(SrvHosts, AddsNewHostsAndRemovesVanishedOnes) {
  TopologyDescription td({host(1), host(2)});
  td.apply(mongos(host(1)));
  ASSERT_EQ(td.type(), TopologyType::kSharded);
  std::mt19937_64 random(1);
  EXPECT_TRUE(td.apply_srv_hosts({host(1), host(3)}, 0, random));
  EXPECT_EQ(addresses(td), (std::set<HostAndPort>{host(1), host(3)}));
  // The kept server keeps what its monitor learned; the new one starts Unknown.
  EXPECT_EQ(td.find(host(1))->type, ServerType::kMongos);
  EXPECT_EQ(td.find(host(3))->type, ServerType::kUnknown);
  ASSERT_FALSE(td.removed().empty());
  EXPECT_EQ(td.removed().back().address, host(2));
  EXPECT_NE(td.removed().back().reason.find("SRV"), std::string::npos);
}

TEST(SrvHosts, TheSameHostsChangeNothing) {
  TopologyDescription td({host(1), host(2)});
  std::mt19937_64 random(1);
  EXPECT_FALSE(td.apply_srv_hosts({host(2), host(1)}, 0, random));
  EXPECT_EQ(addresses(td), (std::set<HostAndPort>{host(1), host(2)}));
}

TEST(SrvHosts, AnEmptyAnswerKeepsTheServers) {
  TopologyDescription td({host(1), host(2)});
  std::mt19937_64 random(1);
  EXPECT_FALSE(td.apply_srv_hosts({}, 0, random));
  EXPECT_EQ(addresses(td).size(), 2u);
}

TEST(SrvHosts, SrvMaxHostsKeepsTheRemainingAndFillsUpAtRandom) {
  TopologyDescription td({host(1), host(2)});
  std::mt19937_64 random(7);
  // host(2) vanished; host(1) stays; one of the three new ones fills the second place.
  EXPECT_TRUE(td.apply_srv_hosts({host(1), host(3), host(4), host(5)}, 2, random));
  const auto now = addresses(td);
  EXPECT_EQ(now.size(), 2u);
  EXPECT_TRUE(now.count(host(1)));
  EXPECT_FALSE(now.count(host(2)));
  // Over many seeds, each new host gets picked sometimes: the choice is random, not the first.
  std::set<HostAndPort> picked;
  for (int seed = 0; seed < 64; ++seed) {
    TopologyDescription t({host(1), host(2)});
    std::mt19937_64 r(seed);
    t.apply_srv_hosts({host(1), host(3), host(4), host(5)}, 2, r);
    for (const auto& a : addresses(t)) picked.insert(a);
  }
  EXPECT_EQ(picked, (std::set<HostAndPort>{host(1), host(3), host(4), host(5)}));
}

TEST(SrvHosts, SrvMaxHostsNeverRemovesAKeptHostToMakeRoom) {
  TopologyDescription td({host(1), host(2), host(3)});
  std::mt19937_64 random(1);
  // Already at the limit (3 > 2 cannot happen from the seedlist, but a lowered limit may): no
  // new host joins, and the kept ones stay.
  EXPECT_FALSE(td.apply_srv_hosts({host(1), host(2), host(3), host(4)}, 2, random));
  EXPECT_EQ(addresses(td).size(), 3u);
}

TEST(SrvHosts, OnlyUnknownAndShardedTopologiesFollowTheRecords) {
  TopologyDescription td({host(1)});
  td.apply(ServerDescription::from_hello(
      host(1),
      bson::Document::from_json(
          R"({"ok": 1, "isWritablePrimary": true, "setName": "rs", "hosts": ["shard-1.cluster0.a-rather-long-domain-name.example:27017"], "maxWireVersion": 21})"),
      std::chrono::milliseconds(1)));
  ASSERT_EQ(td.type(), TopologyType::kReplicaSetWithPrimary);
  std::mt19937_64 random(1);
  EXPECT_FALSE(td.apply_srv_hosts({host(2)}, 0, random));
  EXPECT_EQ(addresses(td), (std::set<HostAndPort>{host(1)}));
}

}  // namespace
}  // namespace mongoslice
