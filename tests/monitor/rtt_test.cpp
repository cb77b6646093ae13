// RttTracker beyond the spec's average tests: the minimum over recent samples, and reset.

#include "monitor/rtt.hpp"

#include <gtest/gtest.h>

namespace mongoslice {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

TEST(RttTracker, NothingBeforeTheFirstSample) {
  RttTracker t;
  EXPECT_FALSE(t.average().has_value());
  EXPECT_EQ(t.min(), nanoseconds(0));
}

TEST(RttTracker, MinimumNeedsTwoSamples) {
  RttTracker t;
  t.add_sample(milliseconds(7));
  EXPECT_EQ(t.average(), milliseconds(7));
  EXPECT_EQ(t.min(), nanoseconds(0));
  t.add_sample(milliseconds(9));
  EXPECT_EQ(t.min(), milliseconds(7));
}

TEST(RttTracker, MinimumForgetsSamplesOlderThanTen) {
  RttTracker t;
  t.add_sample(milliseconds(1));
  for (int i = 0; i < 9; ++i) t.add_sample(milliseconds(50 + i));
  EXPECT_EQ(t.min(), milliseconds(1));  // still one of the last ten
  t.add_sample(milliseconds(60));
  EXPECT_EQ(t.min(), milliseconds(50));  // 1 ms has left the window
  t.add_sample(milliseconds(60));
  EXPECT_EQ(t.min(), milliseconds(51));  // and now 50 ms
}

TEST(RttTracker, AverageMovesByAFifth) {
  RttTracker t;
  t.add_sample(milliseconds(10));
  t.add_sample(milliseconds(20));
  EXPECT_EQ(t.average(), milliseconds(12));
}

TEST(RttTracker, NegativeSamplesCountAsZero) {
  RttTracker t;
  t.add_sample(milliseconds(-5));
  EXPECT_EQ(t.average(), nanoseconds(0));
}

TEST(RttTracker, ResetStartsOver) {
  RttTracker t;
  t.add_sample(milliseconds(10));
  t.add_sample(milliseconds(20));
  t.reset();
  EXPECT_FALSE(t.average().has_value());
  EXPECT_EQ(t.sample_count(), 0u);
  EXPECT_EQ(t.min(), nanoseconds(0));
  t.add_sample(milliseconds(30));
  EXPECT_EQ(t.average(), milliseconds(30));  // taken as is, not blended with the old average
}

}  // namespace
}  // namespace mongoslice
