// Database::run_command and run_cursor_command against each real server the ctest fixtures
// start: what goes on the wire (the command as given with $db, nothing of the handle's
// concerns), getMore with run_cursor_command's options, the kill of an abandoned or closed
// cursor, a reply without a cursor; and find_one_and_* with a hint and an unacknowledged write
// concern, which goes out from MongoDB 4.4 (wire version 9) on and is refused before.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "server_deviations.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::EventRecorder;
using testing::RealServer;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

class RunCursorCommand : public ::testing::TestWithParam<RealServer> {
 protected:
  void SetUp() override {
    MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES();
    events_ = std::make_shared<EventRecorder>();
    client_.emplace(GetParam().uri(), ClientOptions{{events_}});
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    db_.emplace((*client_)["run_cursor_command_it"]);
    coll_name_ = name.substr(0, name.find('/'));
    Collection coll = db_->collection(coll_name_);
    coll.drop();
    std::vector<bson::Document> docs;
    for (int i = 1; i <= 5; ++i) docs.push_back(bson::Builder{}.append("_id", i).build());
    coll.insert_many(docs);
    events_->clear();
  }
  void TearDown() override {
    if (db_) db_->collection(coll_name_).drop();
  }

  bson::Document find_command(std::int32_t batch_size) const {
    return bson::Builder{}
        .append("find", coll_name_)
        .append("filter", bson::Document().view())
        .append("batchSize", batch_size)
        .build();
  }
  std::int32_t max_wire_version() const {
    return static_cast<std::int32_t>(
        db_->run_command(json(R"({"isMaster": 1})"))["maxWireVersion"].as_int64());
  }

  std::shared_ptr<EventRecorder> events_;
  std::optional<MongoClient> client_;
  std::optional<Database> db_;
  std::string coll_name_;
};

std::vector<std::int64_t> ids_of(Cursor& cursor) {
  std::vector<std::int64_t> ids;
  for (bson::View doc : cursor) ids.push_back(doc["_id"].as_int64());
  return ids;
}

TEST_P(RunCursorCommand, RunCommandSendsTheCommandAsGiven) {
  const Database concerned = db_->with_options(
      {.write_concern = WriteConcern{.w = std::int32_t{1}}, .read_concern = ReadConcern{"local"}});
  const bson::Document reply = concerned.run_command(
      bson::Builder{}.append("count", coll_name_).append("query", json("{}").view()).build());
  EXPECT_EQ(reply["n"].as_int64(), 5);
  auto sent = events_->commands("count", "started");
  ASSERT_EQ(sent.size(), 1u);
  // As given, with $db and, where the server supports sessions, the implicit session's lsid
  // (the run-command spec: "always attaches $db and implicit lsid to given command").
  bson::Builder expected;
  expected.append("count", coll_name_)
      .append("query", json("{}").view())
      .append("$db", "run_cursor_command_it");
  if (auto lsid = sent[0].document.view().find("lsid")) {
    EXPECT_EQ(lsid->type(), bson::Type::kDocument);
    expected.append("lsid", lsid->get_document());
  }
  EXPECT_EQ(sent[0].document, expected.build()) << sent[0].document.to_json();
}

TEST_P(RunCursorCommand, IteratesEveryBatchWithTheGetMoreOptions) {
  RunCursorCommandOptions options;
  options.batch_size = 2;
  options.comment = json(R"({"hello": "getMore"})");
  Cursor cursor = db_->run_cursor_command(find_command(2), options);
  EXPECT_EQ(ids_of(cursor), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(cursor.id(), 0);
  auto finds = events_->commands("find", "started");
  ASSERT_EQ(finds.size(), 1u);
  EXPECT_FALSE(finds[0].document.view().find("readConcern"));
  auto get_mores = events_->commands("getMore", "started");
  ASSERT_EQ(get_mores.size(), 2u);  // 2 + 2 + 1
  const bool comment_taken = max_wire_version() >= 9;
  for (const auto& g : get_mores) {
    EXPECT_EQ(g.document["collection"].get_string(), coll_name_);
    EXPECT_EQ(g.document["batchSize"].as_int64(), 2);
    EXPECT_EQ(g.document.view().find("comment").has_value(), comment_taken) << g.document.to_json();
    if (comment_taken)
      EXPECT_EQ(g.document["comment"].get_document(), json(R"({"hello": "getMore"})"));
  }
}

TEST_P(RunCursorCommand, AClosedCursorIsKilledAtOnceAndAnAbandonedOneThroughTheQueue) {
  {
    Cursor cursor = db_->run_cursor_command(find_command(2), {.batch_size = 2});
    ASSERT_FALSE(cursor.begin() == cursor.end());
    const std::int64_t id = cursor.id();
    ASSERT_NE(id, 0);
    cursor.close();
    auto kills = events_->commands("killCursors", "started");
    ASSERT_EQ(kills.size(), 1u);
    EXPECT_EQ(kills[0].document["killCursors"].get_string(), coll_name_);
    EXPECT_EQ(kills[0].document["cursors"].get_array()["0"].as_int64(), id);
  }
  events_->clear();
  {
    Cursor cursor = db_->run_cursor_command(find_command(2), {.batch_size = 2});
    ASSERT_FALSE(cursor.begin() == cursor.end());
    ASSERT_NE(cursor.id(), 0);
  }  // abandoned
  EXPECT_TRUE(
      testing::wait_until([&] { return events_->count("killCursors", "succeeded") == 1; }, 5s));
}

TEST_P(RunCursorCommand, AReplyWithoutACursorIsACursorError) {
  try {
    (void)db_->run_cursor_command(json(R"({"ping": 1})"));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::cursor_error)) << e.what();
  }
  EXPECT_EQ(events_->count("ping", "started"), 1u);
}

TEST_P(RunCursorCommand, AServerErrorIsAServerError) {
  EXPECT_THROW(db_->run_cursor_command(json(R"({"find": 5})")), ServerError);
}

TEST_P(RunCursorCommand, AnUnacknowledgedHintGoesOutFromMongoDB44) {
  Collection unacknowledged =
      db_->collection(coll_name_)
          .with_options({.write_concern = WriteConcern{.w = std::int32_t{0}}});
  const bool allowed = max_wire_version() >= 9;
  events_->clear();
  if (allowed) {
    // An unacknowledged write reports no document.
    EXPECT_FALSE(unacknowledged.find_one_and_update(
        json(R"({"_id": 1})"), json(R"({"$set": {"x": 1}})"), {.hint = std::string("_id_")}));
    auto sent = events_->commands("findAndModify", "started");
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].document["hint"].get_string(), "_id_");
    EXPECT_EQ(sent[0].document["writeConcern"].get_document()["w"].as_int64(), 0);
  } else {
    try {
      (void)unacknowledged.find_one_and_delete(json("{}"), {.hint = std::string("_id_")});
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
    }
    EXPECT_EQ(events_->count("findAndModify"), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(, RunCursorCommand, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
