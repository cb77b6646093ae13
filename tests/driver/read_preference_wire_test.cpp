// $readPreference on the wire, against the server-selection spec's rules for OP_MSG ("Passing
// read preference to mongos and load balancers", "Topology type: Single", "Topology types:
// ReplicaSetWithPrimary or ReplicaSetNoPrimary") and the cases of the run-command and
// load-balancers unified tests. Each expectation below is written out from the spec's text.

#include "driver/read_preference_wire.hpp"

#include <gtest/gtest.h>

#include <string>

#include "wire/bson.hpp"

namespace mongoslice {
namespace {

using Mode = ReadPreference::Mode;
using std::chrono::seconds;

ReadPreference mode(Mode m) {
  ReadPreference rp;
  rp.mode = m;
  return rp;
}

// The $readPreference as JSON, or "none".
std::string sent(const ReadPreference& rp, ServerType server, TopologyType topology) {
  auto doc = wire_read_preference(rp, server, topology);
  return doc ? doc->to_json() : "none";
}

std::string json(std::string_view text) {
  return bson::Document::from_json(text).to_json();
}

struct Case {
  ServerType server;
  TopologyType topology;
  Mode mode;
  const char* expected;  // JSON of $readPreference, or "none"
};

// Spec: to mongos and load balancers, "For mode 'primary', drivers MUST NOT set $readPreference;
// for all other read preference modes, drivers MUST set $readPreference" (OP_MSG: no exception
// for a bare secondaryPreferred). Replica-set members: the same. Standalone: never. Single to
// a non-mongos, non-standalone server: primary becomes primaryPreferred.
const Case kCases[] = {
    // mongos in a sharded cluster
    {ServerType::kMongos, TopologyType::kSharded, Mode::kPrimary, "none"},
    {ServerType::kMongos, TopologyType::kSharded, Mode::kPrimaryPreferred,
     R"({"mode": "primaryPreferred"})"},
    {ServerType::kMongos, TopologyType::kSharded, Mode::kSecondary, R"({"mode": "secondary"})"},
    {ServerType::kMongos, TopologyType::kSharded, Mode::kSecondaryPreferred,
     R"({"mode": "secondaryPreferred"})"},
    {ServerType::kMongos, TopologyType::kSharded, Mode::kNearest, R"({"mode": "nearest"})"},
    // a direct connection to a mongos follows the mongos rules, not primaryPreferred
    {ServerType::kMongos, TopologyType::kSingle, Mode::kPrimary, "none"},
    {ServerType::kMongos, TopologyType::kSingle, Mode::kSecondary, R"({"mode": "secondary"})"},
    // load balancer (the load-balancers unified test: secondaryPreferred is sent)
    {ServerType::kLoadBalancer, TopologyType::kLoadBalanced, Mode::kPrimary, "none"},
    {ServerType::kLoadBalancer, TopologyType::kLoadBalanced, Mode::kSecondaryPreferred,
     R"({"mode": "secondaryPreferred"})"},
    // standalone: never (run-command "does not attach $readPreference ... on standalone")
    {ServerType::kStandalone, TopologyType::kSingle, Mode::kPrimary, "none"},
    {ServerType::kStandalone, TopologyType::kSingle, Mode::kNearest, "none"},
    {ServerType::kStandalone, TopologyType::kSingle, Mode::kSecondary, "none"},
    // a direct connection to a replica-set member
    {ServerType::kRSSecondary, TopologyType::kSingle, Mode::kPrimary,
     R"({"mode": "primaryPreferred"})"},
    {ServerType::kRSPrimary, TopologyType::kSingle, Mode::kPrimary,
     R"({"mode": "primaryPreferred"})"},
    {ServerType::kRSArbiter, TopologyType::kSingle, Mode::kPrimary,
     R"({"mode": "primaryPreferred"})"},
    {ServerType::kRSOther, TopologyType::kSingle, Mode::kPrimary,
     R"({"mode": "primaryPreferred"})"},
    {ServerType::kRSSecondary, TopologyType::kSingle, Mode::kSecondary, R"({"mode": "secondary"})"},
    {ServerType::kRSSecondary, TopologyType::kSingle, Mode::kNearest, R"({"mode": "nearest"})"},
    // replica-set members in a replica set
    {ServerType::kRSPrimary, TopologyType::kReplicaSetWithPrimary, Mode::kPrimary, "none"},
    {ServerType::kRSPrimary, TopologyType::kReplicaSetWithPrimary, Mode::kPrimaryPreferred,
     R"({"mode": "primaryPreferred"})"},
    {ServerType::kRSPrimary, TopologyType::kReplicaSetWithPrimary, Mode::kNearest,
     R"({"mode": "nearest"})"},
    {ServerType::kRSSecondary, TopologyType::kReplicaSetWithPrimary, Mode::kSecondary,
     R"({"mode": "secondary"})"},
    {ServerType::kRSSecondary, TopologyType::kReplicaSetNoPrimary, Mode::kSecondaryPreferred,
     R"({"mode": "secondaryPreferred"})"},
    {ServerType::kRSSecondary, TopologyType::kReplicaSetNoPrimary, Mode::kPrimaryPreferred,
     R"({"mode": "primaryPreferred"})"},
};

TEST(WireReadPreference, FollowsTheSpecTable) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(std::string(to_string(c.server)) + " in " + std::string(to_string(c.topology)) +
                 ", mode " + std::string(to_string(c.mode)));
    std::string expected = std::string(c.expected) == "none" ? "none" : json(c.expected);
    EXPECT_EQ(sent(mode(c.mode), c.server, c.topology), expected);
  }
}

TEST(WireReadPreference, CarriesTagsAndMaxStaleness) {
  ReadPreference rp = mode(Mode::kSecondary);
  rp.tag_sets.push_back(bson::Document::from_json(R"({"dc": "ny", "rack": "2"})"));
  rp.tag_sets.push_back(bson::Document::from_json("{}"));
  rp.max_staleness = seconds(120);
  const std::string expected =
      json(R"({"mode": "secondary", "tags": [{"dc": "ny", "rack": "2"}, {}],
               "maxStalenessSeconds": 120})");
  EXPECT_EQ(sent(rp, ServerType::kMongos, TopologyType::kSharded), expected);
  EXPECT_EQ(sent(rp, ServerType::kRSSecondary, TopologyType::kReplicaSetWithPrimary), expected);
  EXPECT_EQ(sent(rp, ServerType::kRSSecondary, TopologyType::kSingle), expected);
  EXPECT_EQ(sent(rp, ServerType::kStandalone, TopologyType::kSingle), "none");

  // maxStalenessSeconds is an integer (the spec's document structure), not a double.
  auto doc = wire_read_preference(rp, ServerType::kMongos, TopologyType::kSharded);
  ASSERT_TRUE(doc);
  EXPECT_EQ((*doc)["maxStalenessSeconds"].type(), bson::Type::kInt32);
}

TEST(WireReadPreference, SecondaryPreferredWithTagsToMongos) {
  ReadPreference rp = mode(Mode::kSecondaryPreferred);
  rp.tag_sets.push_back(bson::Document::from_json(R"({"dc": "ny"})"));
  EXPECT_EQ(sent(rp, ServerType::kMongos, TopologyType::kSharded),
            json(R"({"mode": "secondaryPreferred", "tags": [{"dc": "ny"}]})"));
}

TEST(WireReadPreference, CommandGainsTheFieldAndKeepsItsOwn) {
  bson::Document find = bson::Document::from_json(R"({"find": "c", "filter": {"x": 1}})");
  auto sent_command = with_wire_read_preference(
      find, mode(Mode::kSecondary), ServerType::kRSSecondary, TopologyType::kReplicaSetNoPrimary);
  ASSERT_TRUE(sent_command);
  EXPECT_EQ(sent_command->to_json(),
            json(R"({"find": "c", "filter": {"x": 1}, "$readPreference": {"mode": "secondary"}})"));
  // The command's name stays first (the server reads the command from the first key).
  EXPECT_EQ((*sent_command->begin()).key(), "find");

  EXPECT_FALSE(with_wire_read_preference(find, mode(Mode::kPrimary), ServerType::kRSPrimary,
                                         TopologyType::kReplicaSetWithPrimary));

  bson::Document own =
      bson::Document::from_json(R"({"ping": 1, "$readPreference": {"mode": "nearest"}})");
  EXPECT_FALSE(with_wire_read_preference(own, mode(Mode::kSecondary), ServerType::kMongos,
                                         TopologyType::kSharded));
}

}  // namespace
}  // namespace mongoslice
