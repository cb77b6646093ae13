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
