// The client against the FerretDB the ctest fixture starts (or MONGODB_URI's mongod): CRUD,
// cursor iteration by batches, and an abandoned cursor killed on the server.

#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "support/test_servers.hpp"

namespace mongoslice {
namespace {

using testing::EventRecorder;
using namespace std::chrono_literals;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

class ClientIntegrationFerretDB : public ::testing::Test {
 protected:
  void SetUp() override {
    events_ = std::make_shared<EventRecorder>();
    client_.emplace(integration::ferretdb_uri(), ClientOptions{{events_}});
    coll_.emplace(
        (*client_)["client_it"][::testing::UnitTest::GetInstance()->current_test_info()->name()]);
    coll_->drop();
  }
  void TearDown() override {
    if (coll_) coll_->drop();
  }

  // Inserts {_id: i, x: i % 10, s: "..."} for i in [0, n).
  void insert_numbers(int n) {
    std::vector<bson::Document> docs;
    for (int i = 0; i < n; ++i) {
      docs.push_back(
          bson::Builder{}.append("_id", i).append("x", i % 10).append("s", "filler").build());
    }
    ASSERT_EQ(coll_->insert_many(docs), n);
  }

  std::shared_ptr<EventRecorder> events_;
  std::optional<MongoClient> client_;
  std::optional<Collection> coll_;
};

TEST_F(ClientIntegrationFerretDB, InsertsTenThousandAndIteratesInOneHundredBatches) {
  insert_numbers(10'000);
  EXPECT_EQ(coll_->count_documents(json("{}")), 10'000);
  events_->clear();

  std::int64_t seen = 0, sum = 0;
  {
    Cursor cursor = coll_->find(json("{}"), {.batch_size = 100});
    for (bson::View doc : cursor) {
      ++seen;
      sum += doc["_id"].as_int64();
    }
    EXPECT_EQ(cursor.id(), 0);
  }
  EXPECT_EQ(seen, 10'000);
  EXPECT_EQ(sum, 10'000LL * 9'999 / 2);
  EXPECT_EQ(events_->count("find"), 1u);
  // 100 batches: the first from find, 99 from getMore. A server that cannot tell that the 99th
  // getMore emptied the cursor (FerretDB) answers one more getMore with an empty final batch.
  auto get_mores = events_->commands("getMore", "succeeded");
  std::size_t with_documents = 0, empty = 0;
  for (const auto& reply : get_mores) {
    auto batch = reply.document["cursor"].get_document()["nextBatch"].get_array();
    (batch.empty() ? empty : with_documents) += 1;
  }
  EXPECT_EQ(with_documents, 99u);
  EXPECT_LE(empty, 1u);
  if (empty == 1) {
    EXPECT_EQ(get_mores.back().document["cursor"].get_document()["nextBatch"].get_array().empty(),
              true)
        << "only the last getMore may come back empty";
  }
  // An exhausted cursor has nothing to kill.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(events_->count("killCursors"), 0u);
}

TEST_F(ClientIntegrationFerretDB, AbandonedCursorIsKilledOnTheServer) {
  insert_numbers(50);
  std::int64_t id = 0;
  {
    Cursor cursor = coll_->find(json("{}"), {.batch_size = 2});
    auto it = cursor.begin();
    ASSERT_FALSE(it == cursor.end());
    id = cursor.id();
    ASSERT_NE(id, 0);
  }  // destroyed with a live server cursor

  ASSERT_TRUE(
      testing::wait_until([&] { return events_->count("killCursors", "succeeded") > 0; }, 5s));
  EXPECT_EQ(events_->killed_ids(), std::vector<std::int64_t>{id});
  auto replies = events_->commands("killCursors", "succeeded");
  ASSERT_EQ(replies.size(), 1u);
  auto killed = replies[0].document["cursorsKilled"].get_array();
  ASSERT_NE(killed.begin(), killed.end());
  EXPECT_EQ((*killed.begin()).as_int64(), id);

  // The server's own log shows killCursors for exactly that id (FerretDB only; a mongod's log
  // is not ours to read).
  if (std::getenv("MONGODB_URI") == nullptr) {
    const std::regex kill_of_id("\"killCursors\": \"[^\"]*\",\\s*\"cursors\": \\[int64\\(" +
                                std::to_string(id) + "\\)\\]");
    bool found = testing::wait_until(
        [&] {
          return std::regex_search(testing::read_text_file(testing::ferretdb_log_path()),
                                   kill_of_id);
        },
        5s);
    EXPECT_TRUE(found) << "no killCursors of " << id << " in " << testing::ferretdb_log_path();
  }

  // The server no longer has the cursor.
  try {
    (*client_)["client_it"].run_command(
        bson::Builder{}.append("getMore", id).append("collection", coll_->name()).build());
    FAIL() << "getMore on a killed cursor succeeded";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), server_code::kCursorNotFound) << e.what();
  }
}

TEST_F(ClientIntegrationFerretDB, LimitSkipSortProjection) {
  insert_numbers(30);
  std::vector<std::int64_t> ids;
  FindOptions options{.projection = json(R"({"x": 1})"),
                      .sort = json(R"({"_id": -1})"),
                      .skip = 3,
                      .limit = 5,
                      .batch_size = 2};
  for (bson::View doc : coll_->find(json(R"({"x": {"$gte": 5}})"), options)) {
    ids.push_back(doc["_id"].as_int64());
    EXPECT_TRUE(doc.contains("x"));
    EXPECT_FALSE(doc.contains("s")) << doc.to_json();
    EXPECT_GE(doc["x"].as_int64(), 5);
  }
  // x >= 5: _id % 10 >= 5, descending: 29..25, 19..15, 9..5; skip 3 -> 26, 25, 19, 18, 17.
  EXPECT_EQ(ids, (std::vector<std::int64_t>{26, 25, 19, 18, 17}));

  // A single batch (negative limit).
  std::int64_t n = 0;
  for (bson::View doc : coll_->find(json("{}"), {.limit = -4})) {
    (void)doc;
    ++n;
  }
  EXPECT_EQ(n, 4);

  auto one = coll_->find_one(json(R"({"_id": 7})"));
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ((*one)["x"].as_int64(), 7);
  EXPECT_FALSE(coll_->find_one(json(R"({"_id": 1000})")).has_value());
}

TEST_F(ClientIntegrationFerretDB, InsertManyReportsTheFailingIndex) {
  std::vector<bson::Document> docs;
  for (int i : {1, 2, 3, 2, 5}) docs.push_back(bson::Builder{}.append("_id", i).build());
  try {
    coll_->insert_many(docs);
    FAIL() << "duplicate _id accepted";
  } catch (const BulkWriteError& e) {
    EXPECT_EQ(e.index(), 3);
    EXPECT_EQ(e.server_code(), 11000) << e.what();
    EXPECT_EQ(e.inserted_count(), 3);
    EXPECT_FALSE(e.errmsg().empty());
  }
  EXPECT_EQ(coll_->count_documents(json("{}")), 3);
}

TEST_F(ClientIntegrationFerretDB, InsertOneDeleteManyCountAndRunCommand) {
  auto id = coll_->insert_one(json(R"({"a": 1})"));
  EXPECT_EQ(id["_id"].type(), bson::Type::kOid);
  coll_->insert_one(json(R"({"_id": "k", "a": 2})"));
  coll_->insert_one(json(R"({"_id": "m", "a": 2})"));
  EXPECT_EQ(coll_->count_documents(json(R"({"a": 2})")), 2);
  EXPECT_EQ(coll_->delete_many(json(R"({"a": 2})")), 2);
  EXPECT_EQ(coll_->count_documents(json("{}")), 1);

  auto reply = (*client_)["admin"].run_command(json(R"({"ping": 1})"));
  EXPECT_TRUE(reply["ok"].as_bool());
  try {
    (*client_)["admin"].run_command(json(R"({"noSuchCommand": 1})"));
    FAIL() << "unknown command accepted";
  } catch (const ServerError& e) {
    EXPECT_NE(e.server_code(), 0);
    EXPECT_FALSE(e.errmsg().empty());
  }
  // Dropping twice: the second finds no namespace, which is not an error.
  coll_->drop();
  EXPECT_NO_THROW(coll_->drop());
}

TEST_F(ClientIntegrationFerretDB, CursorOutlivingItsClientFailsCleanly) {
  insert_numbers(10);
  Cursor cursor = coll_->find(json("{}"), {.batch_size = 2});
  auto it = cursor.begin();
  ASSERT_NE(cursor.id(), 0);
  coll_.reset();
  client_.reset();  // closes the client
  try {
    for (int i = 0; i < 5; ++i) ++it;
    FAIL() << "getMore after the client closed succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::client_closed)) << e.what();
  }
  // Destroying it now must not crash (the queue it pushes into is the closed one).
}

}  // namespace
}  // namespace mongoslice
