// select_server beyond the spec's files: incompatible topologies, the choice by operation
// count, tag set fallback, no suitable server, and max staleness where a lastWriteDate is
// missing. Then the same through a Topology (the path operations take): the operation counts of
// its real pools, the server and topology types it reports, and a timeout message that names the
// seeds SDAM removed.

#include "driver/server_selection.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include "driver/topology.hpp"
#include "support/fake_server_checker.hpp"
#include "support/loopback_peer.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using Mode = ReadPreference::Mode;

ServerDescription server(std::string host, ServerType type, int rtt_ms, Tags tags = {}) {
  ServerDescription sd = ServerDescription::unknown({std::move(host), 27017});
  sd.type = type;
  sd.round_trip_time = milliseconds(rtt_ms);
  sd.tags = std::move(tags);
  sd.max_wire_version = 21;
  return sd;
}

TEST(SelectServer, IncompatibleTopologyThrows) {
  ServerDescription old = server("a", ServerType::kStandalone, 1);
  old.max_wire_version = 2;
  auto td = TopologyDescription::from_servers(TopologyType::kSingle, {old});
  std::mt19937_64 random(1);
  try {
    select_server(td, OperationKind::kRead, {}, random);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::incompatible_server));
    EXPECT_NE(std::string(e.what()).find("wire version 2"), std::string::npos) << e.what();
  }
}

TEST(SelectServer, NoSuitableServerGivesNull) {
  auto td = TopologyDescription::from_servers(TopologyType::kReplicaSetNoPrimary,
                                              {server("a", ServerType::kRSSecondary, 1)});
  std::mt19937_64 random(1);
  EXPECT_EQ(select_server(td, OperationKind::kWrite, {}, random), nullptr);
  EXPECT_EQ(select_server(td, OperationKind::kRead, {}, random), nullptr);  // mode primary
  EXPECT_NE(select_server(td, OperationKind::kRead, {Mode::kSecondary, {}, {}}, random), nullptr);
}

TEST(SelectServer, OfTwoServersTheIdlerAlwaysWins) {
  auto td = TopologyDescription::from_servers(
      TopologyType::kSharded,
      {server("a", ServerType::kMongos, 5), server("b", ServerType::kMongos, 6)});
  std::map<HostAndPort, std::uint64_t> counts{{{"a", 27017}, 3}, {{"b", 27017}, 1}};
  OperationCount count = [&](const HostAndPort& h) { return counts.at(h); };
  std::mt19937_64 random(7);
  for (int i = 0; i < 50; ++i) {
    const ServerDescription* sd = select_server(td, OperationKind::kWrite, {}, random, count);
    ASSERT_NE(sd, nullptr);
    EXPECT_EQ(sd->address.host, "b");
  }
}

TEST(SelectServer, WithoutCountsEveryServerInTheWindowIsChosen) {
  auto td = TopologyDescription::from_servers(
      TopologyType::kSharded,
      {server("a", ServerType::kMongos, 5), server("b", ServerType::kMongos, 10),
       server("c", ServerType::kMongos, 21)});  // c is 16 ms slower than a: out of the window
  std::mt19937_64 random(3);
  std::map<std::string, int> chosen;
  for (int i = 0; i < 200; ++i) {
    ++chosen[select_server(td, OperationKind::kRead, {}, random)->address.host];
  }
  EXPECT_GT(chosen["a"], 0);
  EXPECT_GT(chosen["b"], 0);
  EXPECT_EQ(chosen.count("c"), 0u);
}

TEST(SuitableServers, TagSetsAreTriedInOrder) {
  auto td = TopologyDescription::from_servers(
      TopologyType::kReplicaSetWithPrimary,
      {server("p", ServerType::kRSPrimary, 1, {{"dc", "ny"}}),
       server("s1", ServerType::kRSSecondary, 1, {{"dc", "sf"}}),
       server("s2", ServerType::kRSSecondary, 1, {{"dc", "ny"}})});
  ReadPreference rp{
      Mode::kSecondary,
      {bson::Document::from_json(R"({"dc": "la"})"), bson::Document::from_json(R"({"dc": "ny"})")},
      {}};
  auto found = suitable_servers(td, OperationKind::kRead, rp);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->address.host, "s2");

  rp.tag_sets = {bson::Document::from_json(R"({"dc": "la"})")};
  EXPECT_TRUE(suitable_servers(td, OperationKind::kRead, rp).empty());
  rp.mode = Mode::kSecondaryPreferred;  // falls back to the primary, whatever its tags
  found = suitable_servers(td, OperationKind::kRead, rp);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->address.host, "p");
}

TEST(SuitableServers, SingleIgnoresTheReadPreferenceButNeedsAKnownServer) {
  auto known = TopologyDescription::from_servers(TopologyType::kSingle,
                                                 {server("a", ServerType::kRSSecondary, 1)});
  EXPECT_EQ(suitable_servers(known, OperationKind::kWrite, {}).size(), 1u);
  auto unknown = TopologyDescription::from_servers(TopologyType::kSingle,
                                                   {server("a", ServerType::kUnknown, 1)});
  EXPECT_TRUE(suitable_servers(unknown, OperationKind::kRead, {}).empty());
}

// ---- max staleness beyond the spec's files -----------------------------------------------------

ServerDescription member(std::string host, ServerType type,
                         std::optional<std::int64_t> last_write_ms) {
  ServerDescription sd = server(std::move(host), type, 1);
  sd.last_update_time = std::chrono::steady_clock::time_point(100'000ms);
  if (last_write_ms) {
    sd.last_write_date = std::chrono::system_clock::time_point(milliseconds(*last_write_ms));
  }
  return sd;
}

TEST(MaxStaleness, ASecondaryWhoseLagCannotBeEstimatedIsLeftOut) {
  ReadPreference rp{Mode::kSecondary, {}, std::chrono::seconds(90)};
  // With a primary: b reports no lastWriteDate; c is 1 s behind the primary.
  auto with_primary = TopologyDescription::from_servers(
      TopologyType::kReplicaSetWithPrimary,
      {member("a", ServerType::kRSPrimary, 50'000), member("b", ServerType::kRSSecondary, {}),
       member("c", ServerType::kRSSecondary, 49'000)});
  auto found = suitable_servers(with_primary, OperationKind::kRead, rp);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->address.host, "c");
  // Without max staleness, b is as good as c.
  EXPECT_EQ(suitable_servers(with_primary, OperationKind::kRead, {Mode::kSecondary, {}, {}}).size(),
            2u);

  // A primary without lastWriteDate leaves nothing to measure the secondaries against.
  auto primary_unknown_write = TopologyDescription::from_servers(
      TopologyType::kReplicaSetWithPrimary,
      {member("a", ServerType::kRSPrimary, {}), member("c", ServerType::kRSSecondary, 49'000)});
  EXPECT_TRUE(suitable_servers(primary_unknown_write, OperationKind::kRead, rp).empty());
  rp.mode = Mode::kSecondaryPreferred;  // which falls back to the primary
  found = suitable_servers(primary_unknown_write, OperationKind::kRead, rp);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]->address.host, "a");
}

TEST(MaxStaleness, RefusalsSayWhatTheBoundIs) {
  auto rs = TopologyDescription::from_servers(TopologyType::kReplicaSetNoPrimary,
                                              {member("b", ServerType::kRSSecondary, 1)},
                                              {.heartbeat_frequency = 95'000ms});
  auto message_of = [&](ReadPreference rp) -> std::string {
    try {
      check_max_staleness(rs, rp);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument));
      return e.what();
    }
    return "(accepted)";
  };
  // heartbeatFrequencyMS 95 s + idleWritePeriodMS 10 s = 105 s, more than 90 s.
  EXPECT_NE(message_of({Mode::kNearest, {}, std::chrono::seconds(104)}).find("here 105 s"),
            std::string::npos)
      << message_of({Mode::kNearest, {}, std::chrono::seconds(104)});
  EXPECT_EQ(message_of({Mode::kNearest, {}, std::chrono::seconds(105)}), "(accepted)");
  EXPECT_NE(message_of({Mode::kPrimary, {}, std::chrono::seconds(200)}).find("mode primary"),
            std::string::npos);
  // Writes ignore the read preference, so they are never refused for it.
  EXPECT_NO_THROW(
      suitable_servers(rs, OperationKind::kWrite, {Mode::kNearest, {}, std::chrono::seconds(1)}));
}

// ---- through a Topology -------------------------------------------------------------------------

// A scripted checker per address; an address without a script is unreachable.
class Checkers {
 public:
  std::shared_ptr<testing::Script> script(const HostAndPort& address) {
    std::lock_guard lock(mutex_);
    auto& s = scripts_[address];
    if (!s) {
      s = std::make_shared<testing::Script>();
      s->push(testing::Step::fail("unreachable in this test"));
    }
    return s;
  }
  void reply(const HostAndPort& address, std::string_view hello_json) {
    auto s = std::make_shared<testing::Script>();
    s->push(testing::Step::reply_json(hello_json));
    std::lock_guard lock(mutex_);
    scripts_[address] = std::move(s);
  }
  CheckerFactory factory() {
    return [this](const HostAndPort& address) -> std::unique_ptr<ServerChecker> {
      return std::make_unique<testing::FakeChecker>(script(address));
    };
  }

 private:
  std::mutex mutex_;
  std::map<HostAndPort, std::shared_ptr<testing::Script>> scripts_;
};

std::shared_ptr<Topology> make_topology(const std::string& uri, Checkers& checkers) {
  auto topology = Topology::create(ConnectionString::parse(uri), nullptr, checkers.factory(),
                                   {.heartbeat_frequency = 1h, .min_heartbeat_frequency = 1ms});
  topology->open();
  return topology;
}

// Waits (bounded) until the topology's snapshot satisfies `predicate`.
bool wait_description(Topology& topology,
                      const std::function<bool(const TopologyDescription&)>& predicate) {
  for (int i = 0; i < 10'000; ++i) {
    if (predicate(*topology.description())) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

constexpr std::string_view kMongosHello =
    R"({"ok": 1, "msg": "isdbgrid", "isWritablePrimary": true, "maxWireVersion": 21,
        "minWireVersion": 0})";

// Two mongoses alike in every way (same RTT, both in the window), except that one pool has a
// connection checked out. "Two at random" then always draws both, so the idle one must win every
// time; selection without the pools' counts picks either with probability 1/2 each time.
TEST(TopologySelection, TheServerWhosePoolIsBusierLosesEveryTime) {
  testing::LoopbackPeer peer_a(testing::healthy_server(0));
  testing::LoopbackPeer peer_b(testing::healthy_server(0));
  const HostAndPort a = peer_a.address(), b = peer_b.address();
  Checkers checkers;
  checkers.reply(a, kMongosHello);
  checkers.reply(b, kMongosHello);
  auto topology = make_topology("mongodb://" + a.to_string() + "," + b.to_string(), checkers);
  ASSERT_TRUE(wait_description(*topology, [&](const TopologyDescription& d) {
    return d.find(a) && d.find(a)->type == ServerType::kMongos && d.find(b) &&
           d.find(b)->type == ServerType::kMongos;
  }));

  {
    // One operation in progress on a (it may still be waiting for a connection: it counts from
    // its selection on).
    auto operation = topology->pool(a)->begin_operation();
    ASSERT_EQ(topology->pool(a)->operation_count(), 1u);
    for (int i = 0; i < 100; ++i) {
      SelectedServer selected = topology->select_server({});
      ASSERT_EQ(selected.address, b) << "selection " << i;
      EXPECT_EQ(selected.type, ServerType::kMongos);
      EXPECT_EQ(selected.topology, TopologyType::kSharded);
    }
  }
  // That operation ended: now b is the busy one, and a selection counts while it is held.
  EXPECT_EQ(topology->pool(a)->operation_count(), 0u);
  SelectedServer on_b = topology->select_server({}, std::vector<HostAndPort>{a});
  ASSERT_EQ(on_b.address, b);
  EXPECT_EQ(topology->pool(b)->operation_count(), 1u);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(topology->select_server_for_writes().address, a) << "selection " << i;
  }
}

TEST(TopologySelection, DeprioritizedServersAreUsedOnlyWhenNothingElseSuits) {
  const HostAndPort a{"127.0.0.1", 1}, b{"127.0.0.1", 2};
  Checkers checkers;
  checkers.reply(a, kMongosHello);
  checkers.reply(b, kMongosHello);
  auto topology = make_topology("mongodb://127.0.0.1:1,127.0.0.1:2", checkers);
  ASSERT_TRUE(wait_description(*topology, [&](const TopologyDescription& d) {
    return d.type() == TopologyType::kSharded && d.find(a)->type == ServerType::kMongos &&
           d.find(b)->type == ServerType::kMongos;
  }));
  const std::vector<HostAndPort> failed_on_a{a}, failed_on_both{a, b};
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(topology->select_server({}, failed_on_a).address, b);
    ASSERT_EQ(topology->select_server_for_writes(failed_on_a).address, b);
  }
  const HostAndPort any = topology->select_server({}, failed_on_both).address;
  EXPECT_TRUE(any == a || any == b);
}

TEST(TopologySelection, TimeoutNamesTheSeedsSdamRemovedAndWhy) {
  const HostAndPort a{"127.0.0.1", 1}, b{"127.0.0.1", 2};
  Checkers checkers;  // a is unreachable; b is a member of another set
  checkers.reply(b, R"({"ok": 1, "setName": "wrong", "secondary": true, "maxWireVersion": 21,
                        "minWireVersion": 0, "hosts": ["127.0.0.1:2"]})");
  auto topology = make_topology(
      "mongodb://127.0.0.1:1,127.0.0.1:2/?replicaSet=rs&serverSelectionTimeoutMS=100", checkers);
  ASSERT_TRUE(wait_description(*topology,
                               [&](const TopologyDescription& d) { return d.find(b) == nullptr; }));
  try {
    topology->select_server({});
    FAIL() << "selection should time out";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::server_selection_timeout));
    const std::string what = e.what();
    EXPECT_NE(what.find("topology ReplicaSetNoPrimary: 127.0.0.1:1 Unknown (unreachable in this "
                        "test"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("; removed from the topology: 127.0.0.1:2 (its hello reports set name "
                        "'wrong', not 'rs' (the replicaSet option))"),
              std::string::npos)
        << what;
  }
}

}  // namespace
}  // namespace mongoslice
