// ServerDescription: parsing hello replies (including malformed ones), addresses, tag matching,
// topologyVersion ordering and the spec's equality rule. The spec's JSON tests cover the
// ordinary replies; these cover what they do not.

#include "monitor/server_description.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "wire/bson.hpp"

namespace mongoslice {
namespace {

using std::chrono::milliseconds;
const HostAndPort kA{"a", 27017};

ServerDescription hello(std::string_view json) {
  return ServerDescription::from_hello(kA, bson::Document::from_json(json), milliseconds(3),
                                       milliseconds(2));
}

TEST(ParseHostAndPort, AcceptsTheFormsHelloUses) {
  EXPECT_EQ(parse_host_and_port("Example.COM:27018"), (HostAndPort{"example.com", 27018}));
  EXPECT_EQ(parse_host_and_port("a"), (HostAndPort{"a", 27017}));
  EXPECT_EQ(parse_host_and_port("[::1]:27019"), (HostAndPort{"::1", 27019}));
  EXPECT_EQ(parse_host_and_port("[FE80::1]"), (HostAndPort{"fe80::1", 27017}));
}

TEST(ParseHostAndPort, RefusesWhatIsNotAnAddress) {
  for (const char* bad : {"", ":27017", "a:", "a:0", "a:65536", "a:12x", "[::1", "[::1]x", "[]:1",
                          "::1:27017", "a:-1"}) {
    EXPECT_FALSE(parse_host_and_port(bad).has_value()) << bad;
  }
}

TEST(FromHello, ReadsEveryField) {
  auto sd = hello(R"({"ok": 1, "isWritablePrimary": true, "setName": "rs", "setVersion": 3,
      "electionId": {"$oid": "000000000000000000000007"}, "me": "A:27017",
      "hosts": ["c:27017", "A:27017", "b:27017", "a:27017"], "passives": ["p:1"],
      "arbiters": ["x:2"], "primary": "a:27017", "tags": {"dc": "ny", "n": 1},
      "minWireVersion": 8, "maxWireVersion": 21, "logicalSessionTimeoutMinutes": 30,
      "lastWrite": {"lastWriteDate": {"$date": {"$numberLong": "1000"}}},
      "topologyVersion": {"processId": {"$oid": "000000000000000000000001"},
                          "counter": {"$numberLong": "4"}}})");
  EXPECT_EQ(sd.type, ServerType::kRSPrimary);
  EXPECT_TRUE(sd.error.empty()) << sd.error;
  EXPECT_EQ(sd.set_name, "rs");
  EXPECT_EQ(sd.set_version, 3);
  ASSERT_TRUE(sd.election_id.has_value());
  EXPECT_EQ(sd.election_id->bytes[11], 7);
  EXPECT_EQ(sd.me, kA);
  // Lower-cased, sorted, without the duplicate.
  EXPECT_EQ(sd.hosts, (std::vector<HostAndPort>{{"a", 27017}, {"b", 27017}, {"c", 27017}}));
  EXPECT_EQ(sd.passives, (std::vector<HostAndPort>{{"p", 1}}));
  EXPECT_EQ(sd.arbiters, (std::vector<HostAndPort>{{"x", 2}}));
  EXPECT_EQ(sd.primary, kA);
  EXPECT_EQ(sd.tags, (Tags{{"dc", "ny"}}));  // the non-string tag is not a tag
  EXPECT_EQ(sd.min_wire_version, 8);
  EXPECT_EQ(sd.max_wire_version, 21);
  EXPECT_EQ(sd.logical_session_timeout_minutes, 30);
  ASSERT_TRUE(sd.last_write_date.has_value());
  EXPECT_EQ(sd.last_write_date->time_since_epoch(), std::chrono::seconds(1));
  ASSERT_TRUE(sd.topology_version.has_value());
  EXPECT_EQ(sd.topology_version->counter, 4);
  EXPECT_EQ(sd.round_trip_time, milliseconds(3));
  EXPECT_EQ(sd.min_round_trip_time, milliseconds(2));
  EXPECT_TRUE(sd.lists_member({"b", 27017}));
  EXPECT_TRUE(sd.lists_member({"p", 1}));
  EXPECT_FALSE(sd.lists_member({"z", 27017}));
}

TEST(FromHello, ServerTypes) {
  EXPECT_EQ(hello(R"({"ok": 1, "isWritablePrimary": true})").type, ServerType::kStandalone);
  EXPECT_EQ(hello(R"({"ok": 1, "msg": "isdbgrid"})").type, ServerType::kMongos);
  EXPECT_EQ(hello(R"({"ok": 1, "isreplicaset": true})").type, ServerType::kRSGhost);
  EXPECT_EQ(hello(R"({"ok": 1, "setName": "s", "secondary": true})").type,
            ServerType::kRSSecondary);
  EXPECT_EQ(hello(R"({"ok": 1, "setName": "s", "arbiterOnly": true})").type,
            ServerType::kRSArbiter);
  EXPECT_EQ(hello(R"({"ok": 1, "setName": "s"})").type, ServerType::kRSOther);
  // A hidden member is RSOther even when it is a secondary.
  EXPECT_EQ(hello(R"({"ok": 1, "setName": "s", "secondary": true, "hidden": true})").type,
            ServerType::kRSOther);
  // Legacy hello: ismaster, read only when isWritablePrimary is absent.
  EXPECT_EQ(hello(R"({"ok": 1, "setName": "s", "ismaster": true})").type, ServerType::kRSPrimary);
  EXPECT_EQ(
      hello(R"({"ok": 1, "setName": "s", "isWritablePrimary": false, "ismaster": true})").type,
      ServerType::kRSOther);
}

TEST(FromHello, FailedReplyIsUnknownWithTheServersMessage) {
  auto sd = hello(R"({"ok": 0, "errmsg": "auth failed", "code": 18})");
  EXPECT_EQ(sd.type, ServerType::kUnknown);
  EXPECT_NE(sd.error.find("auth failed"), std::string::npos) << sd.error;
  EXPECT_FALSE(sd.round_trip_time.has_value());
}

TEST(FromHello, MalformedFieldsGiveUnknownNamingTheField) {
  struct Case {
    const char* reply;
    const char* field;
  } cases[] = {
      {R"({"ok": 1, "setName": 5})", "setName"},
      {R"({"ok": 1, "hosts": "a:1"})", "hosts"},
      {R"({"ok": 1, "hosts": ["a:1", 7]})", "hosts"},
      {R"({"ok": 1, "hosts": ["a:notaport"]})", "hosts"},
      {R"({"ok": 1, "me": ""})", "me"},
      {R"({"ok": 1, "maxWireVersion": "21"})", "maxWireVersion"},
      {R"({"ok": 1, "maxWireVersion": {"$numberLong": "99999999999"}})", "maxWireVersion"},
      {R"({"ok": 1, "setName": "s", "setVersion": "1"})", "setVersion"},
      {R"({"ok": 1, "setName": "s", "electionId": 1})", "electionId"},
      {R"({"ok": 1, "topologyVersion": {"counter": 1}})", "topologyVersion"},
      {R"({"ok": 1, "tags": [1]})", "tags"},
  };
  for (const Case& c : cases) {
    auto sd = hello(c.reply);
    EXPECT_EQ(sd.type, ServerType::kUnknown) << c.reply;
    EXPECT_NE(sd.error.find(c.field), std::string::npos) << c.reply << " -> " << sd.error;
    EXPECT_FALSE(sd.round_trip_time.has_value()) << c.reply;
  }
}

TEST(ServerTypeNames, RoundTrip) {
  for (ServerType t : {ServerType::kUnknown, ServerType::kStandalone, ServerType::kMongos,
                       ServerType::kPossiblePrimary, ServerType::kRSPrimary,
                       ServerType::kRSSecondary, ServerType::kRSArbiter, ServerType::kRSOther,
                       ServerType::kRSGhost, ServerType::kLoadBalancer}) {
    EXPECT_EQ(parse_server_type(to_string(t)), t) << to_string(t);
  }
  EXPECT_FALSE(parse_server_type("Primary").has_value());
}

TEST(MatchesTagSet, EveryTagMustMatch) {
  ServerDescription sd = ServerDescription::unknown(kA);
  sd.tags = {{"dc", "ny"}, {"rack", "1"}};
  EXPECT_TRUE(sd.matches_tag_set(bson::Document::from_json("{}")));
  EXPECT_TRUE(sd.matches_tag_set(bson::Document::from_json(R"({"dc": "ny"})")));
  EXPECT_TRUE(sd.matches_tag_set(bson::Document::from_json(R"({"dc": "ny", "rack": "1"})")));
  EXPECT_FALSE(sd.matches_tag_set(bson::Document::from_json(R"({"dc": "sf"})")));
  EXPECT_FALSE(sd.matches_tag_set(bson::Document::from_json(R"({"dc": "ny", "os": "x"})")));
  EXPECT_FALSE(sd.matches_tag_set(bson::Document::from_json(R"({"rack": 1})")));
}

TEST(TopologyVersionOrder, OnlyALowerCounterOfTheSameProcessIsOlder) {
  bson_oid_t p1{}, p2{};
  p2.bytes[11] = 1;
  TopologyVersion v5{p1, 5}, v4{p1, 4}, other{p2, 1};
  EXPECT_TRUE(is_older_topology_version(v5, v4));
  EXPECT_FALSE(is_older_topology_version(v5, v5));
  EXPECT_FALSE(is_older_topology_version(v4, v5));
  EXPECT_FALSE(is_older_topology_version(v5, other));  // a restarted server is newer
  EXPECT_FALSE(is_older_topology_version(std::nullopt, v4));
  EXPECT_FALSE(is_older_topology_version(v5, std::nullopt));
}

TEST(ServerDescriptionEquality, IgnoresMeasurementsButNotReportedFields) {
  const char* reply = R"({"ok": 1, "setName": "rs", "secondary": true,
      "hosts": ["a:27017", "b:27017"], "tags": {"dc": "ny"}})";
  ServerDescription x = hello(reply);
  ServerDescription y = ServerDescription::from_hello(kA, bson::Document::from_json(reply),
                                                      milliseconds(90), milliseconds(80));
  EXPECT_EQ(x, y);  // RTT and update time differ

  ServerDescription reordered = hello(R"({"ok": 1, "setName": "rs", "secondary": true,
      "hosts": ["b:27017", "a:27017"], "tags": {"dc": "ny"}})");
  EXPECT_EQ(x, reordered);  // hosts are a set

  ServerDescription changed = x;
  changed.tags["dc"] = "sf";
  EXPECT_NE(x, changed);
  changed = x;
  changed.election_id = bson_oid_t{};
  EXPECT_NE(x, changed);
  changed = x;
  changed.error = "boom";
  EXPECT_NE(x, changed);
  changed = x;
  changed.topology_version = TopologyVersion{};
  EXPECT_NE(x, changed);
  changed = x;
  changed.address = {"b", 27017};
  EXPECT_NE(x, changed);
}

}  // namespace
}  // namespace mongoslice
