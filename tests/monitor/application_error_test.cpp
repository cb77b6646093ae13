// The classification half of SDAM's error handling (monitor/application_error.hpp): which
// replies are state-change errors. The rules' other half runs through the errors/ spec folder
// (tests/driver/sdam_errors_spec_test.cpp).

#include "monitor/application_error.hpp"

#include <gtest/gtest.h>

#include "wire/bson.hpp"

namespace mongoslice {
namespace {

std::optional<StateChangeError> judge(std::string_view json) {
  return state_change_error(bson::Document::from_json(json).view());
}

TEST(ApplicationError, CodesOfBothSetsAreStateChangesAndOnlyTwoAreShutdowns) {
  for (int code : {10107, 13435, 10058, 11602, 13436, 189}) {
    auto e = judge(R"({"ok": 0, "code": )" + std::to_string(code) + "}");
    ASSERT_TRUE(e) << code;
    EXPECT_FALSE(e->shutdown) << code;
  }
  for (int code : {11600, 91}) {
    auto e = judge(R"({"ok": 0, "code": )" + std::to_string(code) + "}");
    ASSERT_TRUE(e) << code;
    EXPECT_TRUE(e->shutdown) << code;
  }
  EXPECT_FALSE(judge(R"({"ok": 0, "code": 11000, "errmsg": "not master"})"))
      << "a code that is in neither set wins over the message";
}

TEST(ApplicationError, WithoutACodeTheMessageDecides) {
  EXPECT_TRUE(judge(R"({"ok": 0, "errmsg": "not master"})"));
  EXPECT_TRUE(judge(R"({"ok": 0, "errmsg": "node is recovering"})"));
  EXPECT_TRUE(judge(R"({"ok": 0, "errmsg": "not master or secondary; cannot read"})"));
  EXPECT_FALSE(judge(R"({"ok": 0, "errmsg": "something else"})"));
}

TEST(ApplicationError, AWriteConcernErrorCountsAndWriteErrorsDoNot) {
  auto e = judge(R"({"ok": 1, "n": 1, "writeConcernError": {"code": 91, "errmsg": "shutdown"}})");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->shutdown);
  EXPECT_FALSE(judge(R"({"ok": 1, "writeErrors": [{"index": 0, "code": 10107}]})"));
  EXPECT_FALSE(judge(R"({"ok": 1})"));
}

TEST(ApplicationError, TheTopologyVersionComesAlongAndMalformedFieldsAreNoStateChange) {
  auto e = judge(R"({"ok": 0, "code": 10107, "topologyVersion":
                     {"processId": {"$oid": "000000000000000000000001"},
                      "counter": {"$numberLong": "7"}}})");
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->topology_version);
  EXPECT_EQ(e->topology_version->counter, 7);
  EXPECT_FALSE(judge(R"({"ok": 0, "code": "10107"})")) << "a code that is not a number";
  EXPECT_FALSE(judge(R"({"ok": 0, "code": 1e300})")) << "a code no int32 holds";
  auto bad_version = judge(R"({"ok": 0, "code": 10107, "topologyVersion": {"counter": 1}})");
  ASSERT_TRUE(bad_version);
  EXPECT_FALSE(bad_version->topology_version) << "a topologyVersion without processId";
}

}  // namespace
}  // namespace mongoslice

namespace mongoslice {
namespace {

// The authentication phase (after the hello): whatever broke the conversation marks the server
// Unknown and clears its pool, where the same network error or timeout before the hello
// (kEstablishing, the backpressure rule) changes nothing.
TEST(ApplicationErrorAuthentication, EveryKindOfFailureMarksUnknownAndClearsThePool) {
  const HostAndPort a{"auth-server.example", 27017};
  TopologyDescription topology({a});
  for (auto kind : {ApplicationErrorKind::kNetwork, ApplicationErrorKind::kTimeout,
                    ApplicationErrorKind::kCommand}) {
    SCOPED_TRACE(static_cast<int>(kind));
    ApplicationError error;
    error.address = a;
    error.kind = kind;
    error.phase = ConnectionPhase::kAuthenticating;
    const ErrorResponse response = respond_to_application_error(error, topology, 0);
    EXPECT_TRUE(response.mark_unknown);
    EXPECT_TRUE(response.clear_pool);
    if (kind != ApplicationErrorKind::kCommand) {
      error.phase = ConnectionPhase::kEstablishing;
      const ErrorResponse before_hello = respond_to_application_error(error, topology, 0);
      EXPECT_FALSE(before_hello.mark_unknown);
      EXPECT_FALSE(before_hello.clear_pool);
    }
  }
  ApplicationError ours;  // interrupted, client closed: nothing to do with the server
  ours.address = a;
  ours.kind = ApplicationErrorKind::kIgnored;
  ours.phase = ConnectionPhase::kAuthenticating;
  EXPECT_FALSE(respond_to_application_error(ours, topology, 0).mark_unknown);
  // An error of a connection from before the last clear changes nothing either.
  ApplicationError stale = ours;
  stale.kind = ApplicationErrorKind::kNetwork;
  stale.pool_generation = 0;
  EXPECT_FALSE(respond_to_application_error(stale, topology, 1).mark_unknown);
}

}  // namespace
}  // namespace mongoslice
