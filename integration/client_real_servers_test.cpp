// The client against each real server the ctest fixtures start, FerretDB (or MONGODB_URI's
// mongod in its place) and mongo-java-server: CRUD, cursor iteration by batches, and an abandoned
// cursor killed on the server, as the server's own log shows.

#include <gtest/gtest.h>

#include <algorithm>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "real_server_fixture.hpp"
#include "server_deviations.hpp"

namespace mongoslice {
namespace {

using testing::EventRecorder;
using testing::RealServer;
using namespace std::chrono_literals;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

class ClientIntegration : public testing::RealServerCollectionTest {
 protected:
  ClientIntegration() : RealServerCollectionTest("client_it") {}

  // Inserts {_id: i, x: i % 10, s: "..."} for i in [0, n).
  void insert_numbers(int n) {
    std::vector<bson::Document> docs;
    for (int i = 0; i < n; ++i) {
      docs.push_back(
          bson::Builder{}.append("_id", i).append("x", i % 10).append("s", "filler").build());
    }
    ASSERT_EQ(coll_->insert_many(docs).inserted_count, n);
  }
};

TEST_P(ClientIntegration, InsertsTenThousandAndIteratesInOneHundredBatches) {
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

TEST_P(ClientIntegration, AbandonedCursorIsKilledOnTheServer) {
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

  // The server's own log shows killCursors for exactly that id (a mongod's log in FerretDB's
  // place is not ours to read).
  const RealServer& server = GetParam();
  if (server.log_is_readable()) {
    bool found = testing::wait_until([&] { return server.log_shows_kill(coll_->name(), id); }, 5s);
    EXPECT_TRUE(found) << "no killCursors of " << id << " on " << coll_->name() << " in "
                       << server.log_path();
  } else {
    std::cout << "[ MONGODB_URI is set: the server's log is not checked ]\n";
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

TEST_P(ClientIntegration, LimitSkipSortProjection) {
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

  auto one = coll_->find_one(json(R"({"_id": 7})"));
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ((*one)["x"].as_int64(), 7);
  EXPECT_FALSE(coll_->find_one(json(R"({"_id": 1000})")).has_value());
}

// A negative limit asks for one batch of at most that many documents, and no cursor left open.
TEST_P(ClientIntegration, NegativeLimitReturnsOneBatch) {
  insert_numbers(30);
  std::int64_t n = 0;
  Cursor cursor = coll_->find(json("{}"), {.limit = -4});
  for (bson::View doc : cursor) {
    (void)doc;
    ++n;
  }
  EXPECT_EQ(n, 4);
  EXPECT_EQ(events_->count("getMore"), 0u);
}

// Ordered insert_many stops at the first duplicate _id and says which document it was.
TEST_P(ClientIntegration, InsertManyReportsTheFailingIndex) {
  std::vector<bson::Document> docs;
  for (int i : {1, 2, 3, 2, 5}) docs.push_back(bson::Builder{}.append("_id", i).build());
  try {
    coll_->insert_many(docs);
    FAIL() << "duplicate _id accepted";
  } catch (const BulkWriteError& e) {
    EXPECT_EQ(e.index(), 3);
    EXPECT_EQ(e.server_code(), 11000) << e.what();
    EXPECT_FALSE(e.errmsg().empty());
  }
  EXPECT_EQ(coll_->count_documents(json("{}")), 3);
}

// The error's count of inserted documents is the server's `n`: the three before the duplicate.
TEST_P(ClientIntegration, InsertManyErrorCountsTheDocumentsInsertedBeforeIt) {
  std::vector<bson::Document> docs;
  for (int i : {1, 2, 3, 2, 5}) docs.push_back(bson::Builder{}.append("_id", i).build());
  try {
    coll_->insert_many(docs);
    FAIL() << "duplicate _id accepted";
  } catch (const BulkWriteError& e) {
    EXPECT_EQ(e.inserted_count(), 3);
  }
}

TEST_P(ClientIntegration, InsertOneDeleteManyCountAndRunCommand) {
  auto id = coll_->insert_one(json(R"({"a": 1})")).inserted_id;
  EXPECT_EQ(id["_id"].type(), bson::Type::kOid);
  coll_->insert_one(json(R"({"_id": "k", "a": 2})"));
  coll_->insert_one(json(R"({"_id": "m", "a": 2})"));
  EXPECT_EQ(coll_->count_documents(json(R"({"a": 2})")), 2);
  EXPECT_EQ(coll_->delete_many(json(R"({"a": 2})")).deleted_count, 2);
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

TEST_P(ClientIntegration, CursorOutlivingItsClientFailsCleanly) {
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

INSTANTIATE_TEST_SUITE_P(, ClientIntegration, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
