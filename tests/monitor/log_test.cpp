// wire/log: the sink receives what is emitted; a throwing sink does not escape.
// (Tested here because tests/wire belongs to the wire engineer; log.hpp is in wire/.)

#include "wire/log.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace mongoslice {
namespace {

TEST(Log, CustomSinkReceivesComponentLevelAndMessage) {
  std::vector<std::string> lines;
  log::set_sink([&](std::string_view component, log::Level level, std::string_view message) {
    lines.push_back(std::string(component) + "/" + std::string(log::to_string(level)) + "/" +
                    std::string(message));
  });
  EXPECT_TRUE(log::enabled(log::component::cursor));
  log::emit(log::component::cursor, log::Level::warning, "dropped 3 ids");
  log::emit(log::component::monitor, log::Level::debug, "hello");
  log::set_sink(nullptr);
  log::emit(log::component::cursor, log::Level::error, "not captured");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "cursor/warning/dropped 3 ids");
  EXPECT_EQ(lines[1], "monitor/debug/hello");
}

TEST(Log, ThrowingSinkIsContained) {
  int calls = 0;
  log::set_sink([&](std::string_view, log::Level, std::string_view) {
    ++calls;
    throw std::runtime_error("sink failed");
  });
  EXPECT_NO_THROW(log::emit(log::component::executor, log::Level::error, "x"));
  log::set_sink(nullptr);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace mongoslice
