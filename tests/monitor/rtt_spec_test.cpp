// Runs the server-selection spec's RTT tests (server-selection/tests/rtt): a previous average
// ("NULL" when there is none) and one new sample give the new average. The folder can be
// replaced through $MONGOSLICE_RTT_SPEC_DIRS.

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>

#include "monitor/rtt.hpp"
#include "support/spec_test_files.hpp"
#include "wire/bson.hpp"

namespace mongoslice {
namespace {

using test::SpecFile;
using Millis = std::chrono::duration<double, std::milli>;

const std::map<std::string, std::string> kExclusions = {};

std::vector<SpecFile> rtt_files() {
  static const std::vector<SpecFile> files = test::spec_files(
      test::spec_folders("MONGOSLICE_RTT_SPEC_DIRS", {"server-selection/tests/rtt"}), kExclusions);
  return files;
}

[[maybe_unused]] auto* const kCounts =
    ::testing::AddGlobalTestEnvironment(new test::SpecCountsPrinter("rtt", rtt_files()));

std::chrono::nanoseconds from_millis(double ms) {
  return std::chrono::round<std::chrono::nanoseconds>(Millis(ms));
}

class RttSpec : public ::testing::TestWithParam<SpecFile> {};

TEST_P(RttSpec, NewAverage) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  ASSERT_TRUE(std::filesystem::exists(file.path)) << "no spec files at " << file.path;
  bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));

  bson::Element previous = spec["avg_rtt_ms"];
  RttTracker tracker = previous.type() == bson::Type::kString  // "NULL": no average yet
                           ? RttTracker()
                           : RttTracker(from_millis(previous.as_double()));
  tracker.add_sample(from_millis(spec["new_rtt_ms"].as_double()));

  ASSERT_TRUE(tracker.average().has_value());
  // Nanosecond resolution: allow one nanosecond of rounding.
  EXPECT_NEAR(Millis(*tracker.average()).count(), spec["new_avg_rtt"].as_double(), 1e-6);
}

INSTANTIATE_TEST_SUITE_P(Files, RttSpec, ::testing::ValuesIn(rtt_files()), test::SpecFileName{});

}  // namespace
}  // namespace mongoslice
