// select_server beyond the spec's files: incompatible topologies, the choice by operation
// count, tag set fallback, and no suitable server.

#include "driver/server_selection.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

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

}  // namespace
}  // namespace mongoslice
