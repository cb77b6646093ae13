// TopologyDescription beyond the spec's JSON scenarios: construction rules, ignored outcomes,
// stale errors, compatibility messages, the logical session timeout, and the record of removed
// servers with the rule that removed each.

#include "monitor/topology_description.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

const HostAndPort kA{"a", 27017};
const HostAndPort kB{"b", 27017};

ServerDescription hello(const HostAndPort& address, std::string_view json) {
  return ServerDescription::from_hello(address, bson::Document::from_json(json),
                                       std::chrono::milliseconds(1));
}

TopologyVersion version(std::int64_t counter) {
  bson_oid_t pid{};
  pid.bytes[0] = 9;
  return TopologyVersion{pid, counter};
}

TEST(TopologyDescriptionInit, InitialTypeFollowsTheOptions) {
  EXPECT_EQ(TopologyDescription({kA}).type(), TopologyType::kUnknown);
  EXPECT_EQ(TopologyDescription({kA}, {.direct_connection = true}).type(), TopologyType::kSingle);
  TopologyDescription rs({kA, kB}, {.replica_set_name = "rs"});
  EXPECT_EQ(rs.type(), TopologyType::kReplicaSetNoPrimary);
  EXPECT_EQ(rs.set_name(), "rs");
  TopologyDescription lb({kA}, {.load_balanced = true});
  EXPECT_EQ(lb.type(), TopologyType::kLoadBalanced);
  ASSERT_NE(lb.find(kA), nullptr);
  EXPECT_EQ(lb.find(kA)->type, ServerType::kLoadBalancer);
}

TEST(TopologyDescriptionInit, DuplicateSeedsAreOneServer) {
  TopologyDescription td({kA, kA, kB});
  EXPECT_EQ(td.servers().size(), 2u);
}

TEST(TopologyDescriptionInit, RefusesForbiddenCombinations) {
  auto refuses = [](std::vector<HostAndPort> seeds, TopologyOptions options) {
    try {
      TopologyDescription td(seeds, options);
    } catch (const Error& e) {
      return e.code() == make_error_code(errc::invalid_argument);
    }
    return false;
  };
  EXPECT_TRUE(refuses({}, {}));
  EXPECT_TRUE(refuses({kA, kB}, {.direct_connection = true}));
  EXPECT_TRUE(refuses({kA, kB}, {.load_balanced = true}));
  EXPECT_TRUE(refuses({kA}, {.replica_set_name = "rs", .load_balanced = true}));
  EXPECT_TRUE(refuses({kA}, {.direct_connection = true, .load_balanced = true}));
  EXPECT_FALSE(refuses({kA}, {.replica_set_name = "rs", .direct_connection = true}));
}

TEST(TopologyDescriptionApply, IgnoresServersNotInTheTopology) {
  TopologyDescription td({kA});
  EXPECT_FALSE(td.apply(hello(kB, R"({"ok": 1, "msg": "isdbgrid"})")));
  EXPECT_EQ(td.type(), TopologyType::kUnknown);
  EXPECT_EQ(td.find(kB), nullptr);
}

TEST(TopologyDescriptionApply, IgnoresAnOlderTopologyVersion) {
  TopologyDescription td({kA}, {.replica_set_name = "rs"});
  ServerDescription primary = hello(kA, R"({"ok": 1, "isWritablePrimary": true,
      "setName": "rs", "hosts": ["a:27017"], "maxWireVersion": 21})");
  primary.topology_version = version(5);
  ASSERT_TRUE(td.apply(primary));
  EXPECT_EQ(td.type(), TopologyType::kReplicaSetWithPrimary);

  EXPECT_FALSE(td.apply(ServerDescription::from_error(kA, "not primary", version(4))));
  EXPECT_EQ(td.find(kA)->type, ServerType::kRSPrimary);

  // A network error carries no version: it always applies.
  EXPECT_TRUE(td.apply(ServerDescription::from_error(kA, "connection reset")));
  EXPECT_EQ(td.find(kA)->type, ServerType::kUnknown);
  EXPECT_EQ(td.find(kA)->error, "connection reset");
  EXPECT_EQ(td.type(), TopologyType::kReplicaSetNoPrimary);
}

TEST(TopologyDescriptionApply, StaleErrorsByTopologyVersion) {
  TopologyDescription td({kA});
  ServerDescription standalone = hello(kA, R"({"ok": 1, "maxWireVersion": 21})");
  standalone.topology_version = version(5);
  td.apply(standalone);
  EXPECT_TRUE(td.is_stale_error(kA, version(5)));
  EXPECT_TRUE(td.is_stale_error(kA, version(4)));
  EXPECT_FALSE(td.is_stale_error(kA, version(6)));
  EXPECT_FALSE(td.is_stale_error(kA, std::nullopt));
  EXPECT_TRUE(td.is_stale_error(kB, version(6)));  // not in the topology
}

TEST(TopologyDescriptionApply, CompatibilityMessagesNameServerAndVersions) {
  TopologyDescription td({kA});
  td.apply(hello(kA, R"({"ok": 1, "minWireVersion": 0, "maxWireVersion": 6})"));
  EXPECT_FALSE(td.compatible());
  EXPECT_EQ(td.compatibility_error(),
            "Server at a:27017 reports wire version 6, but this version of mongoslice requires at "
            "least 8 (MongoDB 4.2).");

  td.apply(hello(kA, R"({"ok": 1, "minWireVersion": 30, "maxWireVersion": 31})"));
  EXPECT_EQ(td.compatibility_error(),
            "Server at a:27017 requires wire version 30, but this version of mongoslice only "
            "supports up to 25.");

  td.apply(hello(kA, R"({"ok": 1, "minWireVersion": 0, "maxWireVersion": 21})"));
  EXPECT_TRUE(td.compatible());
  EXPECT_TRUE(td.compatibility_error().empty());

  // An Unknown server is never incompatible.
  td.apply(ServerDescription::from_error(kA, "down"));
  EXPECT_TRUE(td.compatible());
}

TEST(TopologyDescriptionApply, LogicalSessionTimeoutIsTheSmallestOfDataBearingServers) {
  TopologyDescription td({kA, kB});
  td.apply(hello(kA, R"({"ok": 1, "msg": "isdbgrid", "logicalSessionTimeoutMinutes": 30,
      "maxWireVersion": 21})"));
  EXPECT_EQ(td.logical_session_timeout_minutes(), 30);  // b is Unknown, not data-bearing
  td.apply(hello(kB, R"({"ok": 1, "msg": "isdbgrid", "logicalSessionTimeoutMinutes": 10,
      "maxWireVersion": 21})"));
  EXPECT_EQ(td.logical_session_timeout_minutes(), 10);
  td.apply(hello(kB, R"({"ok": 1, "msg": "isdbgrid", "maxWireVersion": 21})"));
  EXPECT_FALSE(td.logical_session_timeout_minutes().has_value());  // one lacks sessions
}

TEST(TopologyDescriptionApply, SingleWithSetNameRefusesAnotherSet) {
  TopologyDescription td({kA}, {.replica_set_name = "rs", .direct_connection = true});
  td.apply(hello(kA, R"({"ok": 1, "setName": "other", "secondary": true, "maxWireVersion": 21})"));
  EXPECT_EQ(td.type(), TopologyType::kSingle);
  EXPECT_EQ(td.find(kA)->type, ServerType::kUnknown);
  EXPECT_NE(td.find(kA)->error.find("other"), std::string::npos) << td.find(kA)->error;
}

TEST(TopologyDescriptionApply, FromServersTakesTheDescriptionAsGiven) {
  ServerDescription a = ServerDescription::unknown(kA);
  a.type = ServerType::kRSSecondary;
  a.max_wire_version = 21;
  TopologyDescription td =
      TopologyDescription::from_servers(TopologyType::kReplicaSetNoPrimary, {a});
  EXPECT_EQ(td.type(), TopologyType::kReplicaSetNoPrimary);
  EXPECT_EQ(td.find(kA)->type, ServerType::kRSSecondary);
  EXPECT_TRUE(td.compatible());
}

// What removed() says for each rule that takes a server out.
std::string removal_of(const TopologyDescription& td, const HostAndPort& address) {
  for (const RemovedServer& r : td.removed()) {
    if (r.address == address) return r.reason;
  }
  return "(not recorded)";
}

TEST(TopologyDescriptionRemoved, SetNameMismatchNamesBothNamesAndWhereOursCameFrom) {
  TopologyDescription td({kA, kB}, {.replica_set_name = "rs"});
  td.apply(hello(kB, R"({"ok": 1, "setName": "wrong", "secondary": true, "hosts": ["b:27017"],
      "maxWireVersion": 21})"));
  EXPECT_EQ(td.find(kB), nullptr);
  EXPECT_EQ(removal_of(td, kB),
            "its hello reports set name 'wrong', not 'rs' (the replicaSet option)");

  // Without replicaSet, the name comes from the first member that answered.
  TopologyDescription learnt({kA, kB});
  learnt.apply(hello(kA, R"({"ok": 1, "setName": "rs", "secondary": true,
      "hosts": ["a:27017", "b:27017"], "maxWireVersion": 21})"));
  learnt.apply(hello(kB, R"({"ok": 1, "setName": "other", "isWritablePrimary": true,
      "hosts": ["b:27017"], "maxWireVersion": 21})"));
  EXPECT_EQ(learnt.find(kB), nullptr);
  EXPECT_EQ(removal_of(learnt, kB),
            "its hello reports set name 'other', not 'rs' (the set name the first member "
            "reported)");
}

TEST(TopologyDescriptionRemoved, NotInThePrimarysHostList) {
  TopologyDescription td({kA, kB}, {.replica_set_name = "rs"});
  td.apply(hello(kA, R"({"ok": 1, "setName": "rs", "isWritablePrimary": true,
      "hosts": ["a:27017"], "maxWireVersion": 21})"));
  EXPECT_EQ(td.find(kB), nullptr);
  EXPECT_EQ(removal_of(td, kB), "not in the host list of the primary a:27017");
}

TEST(TopologyDescriptionRemoved, WrongTypeMeMismatchAndStrayStandalone) {
  TopologyDescription sharded({kA, kB});
  sharded.apply(hello(kA, R"({"ok": 1, "msg": "isdbgrid", "maxWireVersion": 21})"));
  sharded.apply(hello(kB, R"({"ok": 1, "setName": "rs", "isWritablePrimary": true,
      "hosts": ["b:27017"], "maxWireVersion": 21})"));
  EXPECT_EQ(removal_of(sharded, kB), "it is a RSPrimary, which a Sharded topology cannot contain");

  TopologyDescription me({kA, kB}, {.replica_set_name = "rs"});
  me.apply(hello(kB, R"({"ok": 1, "setName": "rs", "secondary": true, "me": "c:27017",
      "hosts": ["a:27017", "c:27017"], "maxWireVersion": 21})"));
  EXPECT_EQ(removal_of(me, kB),
            "its hello says it is c:27017 ('me'), not the address it was reached at");

  TopologyDescription stray({kA, kB});
  stray.apply(hello(kA, R"({"ok": 1, "maxWireVersion": 21})"));
  EXPECT_EQ(removal_of(stray, kA),
            "it is a Standalone, and a standalone is used only as the one seed");
}

TEST(TopologyDescriptionRemoved, ForgottenWhenTheServerIsBackAndBounded) {
  TopologyDescription td({kA, kB}, {.replica_set_name = "rs"});
  td.apply(hello(kA, R"({"ok": 1, "setName": "rs", "isWritablePrimary": true,
      "hosts": ["a:27017"], "maxWireVersion": 21})"));
  ASSERT_EQ(td.removed().size(), 1u);
  // The primary lists b again: b is a member, so no removal is reported for it.
  td.apply(hello(kA, R"({"ok": 1, "setName": "rs", "isWritablePrimary": true,
      "hosts": ["a:27017", "b:27017"], "maxWireVersion": 21})"));
  ASSERT_NE(td.find(kB), nullptr);
  EXPECT_TRUE(td.removed().empty());

  // Many removals keep only the newest kMaxRemovedRecorded.
  std::vector<HostAndPort> seeds;
  for (std::uint16_t port = 1; port <= 40; ++port) seeds.push_back({"h", port});
  TopologyDescription many(seeds, {.replica_set_name = "rs"});
  many.apply(hello({"h", 40}, R"({"ok": 1, "setName": "rs", "isWritablePrimary": true,
      "hosts": ["h:40"], "maxWireVersion": 21})"));
  ASSERT_EQ(many.removed().size(), TopologyDescription::kMaxRemovedRecorded);
  EXPECT_EQ(many.removed().back().address, (HostAndPort{"h", 39}));
}

TEST(TopologyTypeNames, RoundTrip) {
  for (TopologyType t : {TopologyType::kUnknown, TopologyType::kSingle,
                         TopologyType::kReplicaSetNoPrimary, TopologyType::kReplicaSetWithPrimary,
                         TopologyType::kSharded, TopologyType::kLoadBalanced}) {
    EXPECT_EQ(parse_topology_type(to_string(t)), t);
  }
  EXPECT_FALSE(parse_topology_type("Replicaset").has_value());
}

}  // namespace
}  // namespace mongoslice
