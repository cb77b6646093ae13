// RttMonitor on its own: samples into the shared tracker, a failed check only resets its
// connection, and close() is final even against a later open().

#include "monitor/rtt_monitor.hpp"

#include <gtest/gtest.h>

#include "support/fake_server_checker.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::Script;
using testing::Step;

const HostAndPort kAddress{"127.0.0.1", 1};

TEST(MonitorRtt, SamplesReachTheSharedTrackerAndAFailureOnlyResetsTheConnection) {
  auto script = std::make_shared<Script>();
  script->push(Step::fail("refused by fake"));
  Step sample = Step::reply_json(testing::standalone_hello());
  sample.rtt = 5ms;
  script->push(sample);
  script->push(Step::block());
  auto rtt = std::make_shared<SharedRtt>();
  RttMonitor monitor(kAddress, std::make_unique<testing::FakeChecker>(script), rtt, 1ms);
  monitor.open();
  ASSERT_TRUE(script->wait_for([&] { return script->blocked(); }));
  EXPECT_EQ(script->resets(), 1) << "the failed check dropped its connection";
  const auto snapshot = rtt->snapshot();
  EXPECT_EQ(snapshot.samples, 1u) << "a failure is no sample";
  EXPECT_EQ(snapshot.average, std::chrono::nanoseconds(5ms));
  monitor.close();
  EXPECT_TRUE(monitor.join(10s));
  EXPECT_EQ(script->interrupts(), 1);
}

TEST(MonitorRtt, OpenAfterCloseRunsNoCheck) {
  auto script = std::make_shared<Script>();
  script->push(Step::reply_json(testing::standalone_hello()));
  RttMonitor monitor(kAddress, std::make_unique<testing::FakeChecker>(script),
                     std::make_shared<SharedRtt>(), 1ms);
  monitor.close();
  monitor.open();  // what a Monitor closed while its thread starts streaming may do
  EXPECT_TRUE(monitor.join(10s));
  EXPECT_EQ(script->checks(), 0);
}

}  // namespace
}  // namespace mongoslice
