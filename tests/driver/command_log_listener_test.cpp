#include "driver/command_log_listener.hpp"

#include <gtest/gtest.h>

#include "driver/write_error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;

TEST(CommandLogListener, KillCursorsLinesNameTheIds) {
  HostAndPort server{"127.0.0.1", 27017};
  auto command = bson::Document::from_json(R"({"killCursors": "c", "cursors": [7, 9]})");
  auto started =
      CommandLogListener::format(CommandStartedEvent{"killCursors", "db", 12, server, command});
  EXPECT_EQ(started, "started killCursors id=12 server=127.0.0.1:27017 db=db cursors=[7, 9]");

  auto reply = bson::Document::from_json(
      R"({"cursorsKilled": [7], "cursorsNotFound": [9], "cursorsAlive": [], "ok": 1})");
  auto succeeded = CommandLogListener::format(
      CommandSucceededEvent{"killCursors", "db", 12, server, 1'500'000ns, reply});
  EXPECT_EQ(succeeded,
            "succeeded killCursors id=12 server=127.0.0.1:27017 duration=1.500ms "
            "cursorsKilled=[7] cursorsNotFound=[9] cursorsAlive=[]");

  std::int64_t ids[] = {5, 6};
  auto dropped = CommandLogListener::format(
      CursorsDroppedEvent{server, "db.c", ids, "send_failed: connection refused"});
  EXPECT_EQ(dropped,
            "dropped cursors server=127.0.0.1:27017 ns=db.c reason=\"send_failed: connection "
            "refused\" cursors=[5, 6]");
}

TEST(CommandLogListener, FailedLineCarriesTheError) {
  HostAndPort server{"h", 1};
  auto line = CommandLogListener::format(CommandFailedEvent{
      "getMore", "db", 3, server, 2ms, std::error_code(43, server_category()), "cursor not found"});
  EXPECT_EQ(line,
            "failed getMore id=3 server=h:1 duration=2.000ms error=\"cursor not found\" "
            "(mongodb-server:43)");
}

TEST(BulkWriteErrorTest, CarriesIndexCodeMessageAndCounts) {
  BulkWriteError e({{3, 11000, "E11000 duplicate key"}}, std::nullopt, 3, 0);
  EXPECT_EQ(e.index(), 3);
  EXPECT_EQ(e.server_code(), 11000);
  EXPECT_EQ(e.errmsg(), "E11000 duplicate key");
  EXPECT_EQ(e.inserted_count(), 3);
  EXPECT_EQ(e.code().category(), server_category());
  EXPECT_NE(std::string(e.what()).find("index 3"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace mongoslice
