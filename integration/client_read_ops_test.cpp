// Collection's read operations (find's options, aggregate, distinct, the counts) and
// findAndModify (find_one_and_update / _replace / _delete), and Database::aggregate, against
// each real server the ctest fixtures start (FerretDB, or MONGODB_URI's mongod in its place,
// and mongo-java-server).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "real_server_fixture.hpp"
#include "server_deviations.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::RealServer;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

class ClientReadOps : public testing::RealServerCollectionTest {
 protected:
  ClientReadOps() : RealServerCollectionTest("client_read_ops_it") {}

  // {_id: i, g: i % 5, v: i} for i in [0, n).
  void insert(int n) {
    std::vector<bson::Document> docs;
    for (int i = 0; i < n; ++i)
      docs.push_back(bson::Builder{}.append("_id", i).append("g", i % 5).append("v", i).build());
    coll_->insert_many(docs);
    ASSERT_EQ(coll_->count_documents(json("{}")), n);
  }
  bson::Document get(const bson::Document& filter) {
    auto doc = coll_->find_one(filter);
    return doc ? *doc : bson::Document();
  }
  std::vector<bson::Document> all(Cursor cursor) {
    std::vector<bson::Document> out;
    for (bson::View doc : cursor) out.emplace_back(doc);
    return out;
  }
  // The one command of `name` started since the last clear().
  bson::Document sent(const std::string& name) {
    auto started = events_->commands(name, "started");
    EXPECT_EQ(started.size(), 1u) << name;
    return started.empty() ? bson::Document() : started.back().document;
  }
};

// ---- aggregate ---------------------------------------------------------------------------------

TEST_P(ClientReadOps, AggregateMatchesGroupsAndSorts) {
  insert(10);
  Cursor cursor = coll_->aggregate(json(R"([{"$match": {"v": {"$gte": 2}}},
      {"$group": {"_id": "$g", "total": {"$sum": "$v"}}}, {"$sort": {"_id": -1}}])"));
  // v >= 2 leaves g = 0: {5}, 1: {6}, 2: {2, 7}, 3: {3, 8}, 4: {4, 9}.
  EXPECT_EQ(all(std::move(cursor)),
            (std::vector<bson::Document>{
                json(R"({"_id": 4, "total": 13})"), json(R"({"_id": 3, "total": 11})"),
                json(R"({"_id": 2, "total": 9})"), json(R"({"_id": 1, "total": 6})"),
                json(R"({"_id": 0, "total": 5})")}));
}

TEST_P(ClientReadOps, AggregateIteratesAcrossBatches) {
  insert(5);
  events_->clear();
  // The stages as documents (the other overload).
  std::vector<bson::Document> pipeline = {json(R"({"$match": {}})"),
                                          json(R"({"$group": {"_id": "$v", "n": {"$sum": 1}}})"),
                                          json(R"({"$sort": {"_id": 1}})")};
  std::vector<std::int64_t> ids;
  for (bson::View doc : coll_->aggregate(pipeline, {.batch_size = 2})) {
    ids.push_back(doc["_id"].as_int64());
    EXPECT_EQ(doc["n"].as_int64(), 1);
  }
  EXPECT_EQ(ids, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  bson::Document aggregate = sent("aggregate");
  EXPECT_EQ(aggregate["cursor"].get_document()["batchSize"].get_int32(), 2);
  EXPECT_EQ(aggregate["pipeline"].type(), bson::Type::kArray);
  // Five results in batches of two: the first batch, then getMore for the rest.
  auto get_mores = events_->commands("getMore", "started");
  ASSERT_EQ(get_mores.size(), 2u);
  EXPECT_EQ(get_mores[0].document["collection"].get_string(), coll_->name());
  EXPECT_EQ(get_mores[0].document["batchSize"].get_int32(), 2);
}

TEST_P(ClientReadOps, AbandonedAggregateCursorIsKilled) {
  insert(5);
  std::int64_t id = 0;
  {
    Cursor cursor = coll_->aggregate(json(R"([{"$sort": {"_id": 1}}])"), {.batch_size = 2});
    auto it = cursor.begin();
    ASSERT_FALSE(it == cursor.end());
    id = cursor.id();
    ASSERT_NE(id, 0);
  }  // destroyed with a live server cursor: its id goes through the kill-cursors queue
  ASSERT_TRUE(testing::wait_until([&] { return events_->count("killCursors", "succeeded") > 0; },
                                  std::chrono::seconds(5)));
  EXPECT_EQ(events_->killed_ids(), std::vector<std::int64_t>{id});
  auto sent = events_->commands("killCursors", "started");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].document["killCursors"].get_string(), coll_->name());
}

TEST_P(ClientReadOps, AggregateCarriesTheReadConcern) {
  insert(3);
  events_->clear();
  Collection local = coll_->with_options({.read_concern = ReadConcern{"local"}});
  auto docs = all(local.aggregate(json(R"([{"$match": {"_id": {"$lt": 2}}},
      {"$sort": {"_id": 1}}])"),
                                  {.comment = "read-ops-it"}));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[1]["_id"].as_int64(), 1);
  bson::Document aggregate = sent("aggregate");
  EXPECT_EQ(aggregate["readConcern"].get_document()["level"].get_string(), "local");
  EXPECT_EQ(aggregate["comment"].get_string(), "read-ops-it");
  EXPECT_FALSE(aggregate.view().contains("writeConcern"));
}

TEST_P(ClientReadOps, AggregateWithOutIsAWrite) {
  insert(10);
  const std::string out = coll_->name() + "_out";
  Collection target = (*client_)["client_read_ops_it"][out];
  target.drop();
  events_->clear();
  Collection handle = coll_->with_options(
      {.write_concern = WriteConcern{.w = std::int32_t{1}}, .read_concern = ReadConcern{"local"}});
  std::vector<bson::Document> results =
      all(handle.aggregate(bson::Builder{}
                               .open_document("0")
                               .append("$match", json(R"({"g": 1})"))
                               .close()
                               .open_document("1")
                               .append("$out", out)
                               .close()
                               .build(),
                           {.batch_size = 2}));
  EXPECT_TRUE(results.empty());  // $out returns nothing
  bson::Document aggregate = sent("aggregate");
  EXPECT_EQ(aggregate["writeConcern"].get_document()["w"].get_int32(), 1);
  // Both servers say MongoDB 4.2+ (wire version >= 8), so the write carries the read concern
  // too (the read-write-concern spec); older servers get none (tests/ops/read_ops_test.cpp).
  EXPECT_EQ(aggregate["readConcern"].get_document()["level"].get_string(), "local");
  EXPECT_TRUE(aggregate["cursor"].get_document().empty()) << "no batchSize for a write";
  // g == 1: _id 1 and 6.
  EXPECT_EQ(target.count_documents(json("{}")), 2);
  EXPECT_EQ(target.count_documents(json(R"({"_id": 6})")), 1);
  target.drop();
}

TEST_P(ClientReadOps, AggregateRefusesAMalformedPipelineBeforeSending) {
  events_->clear();
  for (const char* bad : {R"([{"$match": {}}, {}])", R"([{"match": {}}])", R"({"$match": {}})"}) {
    try {
      coll_->aggregate(json(bad));
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << bad;
    }
  }
  EXPECT_THROW(coll_->aggregate(json("[]"), {.batch_size = -1}), Error);
  EXPECT_THROW(coll_->aggregate(json("[]"), {.max_await_time = 10ms}), Error);
  EXPECT_EQ(events_->count("aggregate"), 0u);
}

TEST_P(ClientReadOps, DatabaseAggregateRunsAggregateOne) {
  Database db = (*client_)["client_read_ops_it"];
  auto docs = all(db.aggregate(json(R"([{"$documents": [{"a": 1}, {"a": 2}]},
      {"$match": {"a": {"$gt": 1}}}])")));
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["a"].as_int64(), 2);
  bson::Document aggregate = sent("aggregate");
  EXPECT_EQ(aggregate["aggregate"].get_int32(), 1);
  EXPECT_EQ(aggregate["$db"].get_string(), "client_read_ops_it");
}

// ---- distinct and the counts -------------------------------------------------------------------

TEST_P(ClientReadOps, DistinctReturnsTheValuesOfTheMatchingDocuments) {
  insert(10);
  events_->clear();
  bson::Document values =
      coll_->distinct("g", json(R"({"v": {"$lt": 3}})"), {.comment = "read-ops-it"});
  std::vector<std::int64_t> got;
  std::size_t index = 0;
  for (bson::Element value : values.view()) {
    EXPECT_EQ(value.key(), std::to_string(index++));  // an array
    got.push_back(value.as_int64());
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::int64_t>{0, 1, 2}));
  bson::Document distinct = sent("distinct");
  EXPECT_EQ(distinct["key"].get_string(), "g");
  EXPECT_EQ(distinct["comment"].get_string(), "read-ops-it");
  // Without a filter: every value.
  bson::Document every = coll_->distinct("g");
  EXPECT_EQ(std::distance(every.begin(), every.end()), 5);
  EXPECT_THROW(coll_->distinct(""), Error);
}

TEST_P(ClientReadOps, EstimatedDocumentCountIsTheCountCommand) {
  EXPECT_EQ(coll_->estimated_document_count(), 0);
  insert(7);
  events_->clear();
  EXPECT_EQ(coll_->estimated_document_count({.max_time = 5s, .comment = "read-ops-it"}), 7);
  bson::Document count = sent("count");
  EXPECT_EQ(count["count"].get_string(), coll_->name());
  EXPECT_FALSE(count.view().contains("query"));
  EXPECT_EQ(count["maxTimeMS"].as_int64(), 5000);
  EXPECT_EQ(count["comment"].get_string(), "read-ops-it");
}

TEST_P(ClientReadOps, CountDocumentsWithSkipAndLimit) {
  insert(10);
  const bson::Document filter = json(R"({"g": {"$lt": 3}})");  // 6 documents
  EXPECT_EQ(coll_->count_documents(filter), 6);
  EXPECT_EQ(coll_->count_documents(filter, {.limit = 3, .skip = 2}), 3);
  EXPECT_EQ(coll_->count_documents(filter, {.limit = 3, .skip = 5}), 1);
  EXPECT_EQ(coll_->count_documents(filter, {.skip = 4}), 2);
  EXPECT_EQ(coll_->count_documents(filter, {.limit = 0}), 6);  // 0: no limit
  events_->clear();
  EXPECT_EQ(
      coll_->count_documents(
          filter,
          {.hint = std::string("_id_"), .limit = 4, .max_time = 5s, .comment = "read-ops-it"}),
      4);
  bson::Document aggregate = sent("aggregate");
  EXPECT_EQ(aggregate["hint"].get_string(), "_id_");
  EXPECT_EQ(aggregate["maxTimeMS"].as_int64(), 5000);
  EXPECT_EQ(aggregate["comment"].get_string(), "read-ops-it");
  events_->clear();
  EXPECT_THROW(coll_->count_documents(filter, {.skip = -1}), Error);
  EXPECT_THROW(coll_->count_documents(filter, {.limit = -1}), Error);
  EXPECT_EQ(events_->count("aggregate"), 0u);
}

// ---- findAndModify ------------------------------------------------------------------------------

TEST_P(ClientReadOps, FindOneAndUpdateReturnsTheDocumentBeforeOrAfter) {
  insert(3);
  events_->clear();
  Collection acknowledged =
      coll_->with_options({.write_concern = WriteConcern{.w = std::int32_t{1}}});
  auto before =
      acknowledged.find_one_and_update(json(R"({"_id": 1})"), json(R"({"$inc": {"v": 10}})"));
  ASSERT_TRUE(before);
  EXPECT_EQ(*before, json(R"({"_id": 1, "g": 1, "v": 1})"));
  bson::Document command = sent("findAndModify");
  EXPECT_EQ(command["writeConcern"].get_document()["w"].get_int32(), 1);
  EXPECT_FALSE(command.view().contains("new"));
  auto after = coll_->find_one_and_update(json(R"({"_id": 1})"), json(R"({"$inc": {"v": 10}})"),
                                          {.return_document = ReturnDocument::kAfter});
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, json(R"({"_id": 1, "g": 1, "v": 21})"));
  EXPECT_EQ(get(json(R"({"_id": 1})")), json(R"({"_id": 1, "g": 1, "v": 21})"));
}

TEST_P(ClientReadOps, FindOneAndUpdateUpserts) {
  insert(2);
  // Before: there was nothing; after: the upserted document.
  auto before = coll_->find_one_and_update(json(R"({"_id": "a"})"), json(R"({"$set": {"v": 1}})"),
                                           {.upsert = true});
  EXPECT_FALSE(before) << before->to_json();
  EXPECT_EQ(get(json(R"({"_id": "a"})")), json(R"({"_id": "a", "v": 1})"));
  auto after =
      coll_->find_one_and_update(json(R"({"_id": "b"})"), json(R"({"$set": {"v": 2}})"),
                                 {.return_document = ReturnDocument::kAfter, .upsert = true});
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, json(R"({"_id": "b", "v": 2})"));
  EXPECT_EQ(coll_->count_documents(json("{}")), 4);
}

TEST_P(ClientReadOps, SortChoosesWhichDocument) {
  insert(10);  // g == 1: _id 1 and 6
  auto highest = coll_->find_one_and_update(json(R"({"g": 1})"), json(R"({"$set": {"hit": 1}})"),
                                            {.sort = json(R"({"v": -1})")});
  ASSERT_TRUE(highest);
  EXPECT_EQ((*highest)["_id"].as_int64(), 6);
  EXPECT_EQ(coll_->count_documents(json(R"({"hit": 1, "_id": 6})")), 1);
  auto replaced = coll_->find_one_and_replace(json(R"({"g": 2})"), json(R"({"r": 1})"),
                                              {.sort = json(R"({"v": 1})")});
  ASSERT_TRUE(replaced);
  EXPECT_EQ((*replaced)["_id"].as_int64(), 2);
  auto deleted = coll_->find_one_and_delete(json(R"({"g": 3})"), {.sort = json(R"({"v": -1})")});
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, json(R"({"_id": 8, "g": 3, "v": 8})"));
  EXPECT_EQ(coll_->count_documents(json(R"({"_id": 8})")), 0);
  EXPECT_EQ(coll_->count_documents(json(R"({"_id": 3})")), 1);
}

TEST_P(ClientReadOps, ProjectionShapesTheReturnedDocument) {
  insert(3);
  auto updated = coll_->find_one_and_update(
      json(R"({"_id": 0})"), json(R"({"$set": {"w": 5}})"),
      {.projection = json(R"({"w": 1, "_id": 0})"), .return_document = ReturnDocument::kAfter});
  ASSERT_TRUE(updated);
  EXPECT_EQ(*updated, json(R"({"w": 5})"));
  auto replaced = coll_->find_one_and_replace(
      json(R"({"_id": 1})"), json(R"({"r": 1, "s": 2})"),
      {.projection = json(R"({"s": 1})"), .return_document = ReturnDocument::kAfter});
  ASSERT_TRUE(replaced);
  EXPECT_EQ(*replaced, json(R"({"_id": 1, "s": 2})"));
  auto deleted =
      coll_->find_one_and_delete(json(R"({"_id": 2})"), {.projection = json(R"({"_id": 0})")});
  ASSERT_TRUE(deleted);
  EXPECT_EQ(*deleted, json(R"({"g": 2, "v": 2})"));
}

TEST_P(ClientReadOps, FindOneAndReplaceReturnsBeforeOrAfterAndUpserts) {
  insert(2);
  auto before = coll_->find_one_and_replace(json(R"({"_id": 0})"), json(R"({"r": 1})"));
  ASSERT_TRUE(before);
  EXPECT_EQ(*before, json(R"({"_id": 0, "g": 0, "v": 0})"));
  auto after = coll_->find_one_and_replace(json(R"({"_id": 0})"), json(R"({"r": 2})"),
                                           {.return_document = ReturnDocument::kAfter});
  ASSERT_TRUE(after);
  EXPECT_EQ(*after, json(R"({"_id": 0, "r": 2})"));
  auto upserted =
      coll_->find_one_and_replace(json(R"({"_id": "u"})"), json(R"({"r": 3})"),
                                  {.return_document = ReturnDocument::kAfter, .upsert = true});
  ASSERT_TRUE(upserted);
  EXPECT_EQ(*upserted, json(R"({"_id": "u", "r": 3})"));
}

TEST_P(ClientReadOps, NothingFoundIsNullopt) {
  insert(2);
  const bson::Document none = json(R"({"_id": "missing"})");
  EXPECT_FALSE(coll_->find_one_and_update(none, json(R"({"$set": {"x": 1}})")));
  EXPECT_FALSE(coll_->find_one_and_update(none, json(R"({"$set": {"x": 1}})"),
                                          {.return_document = ReturnDocument::kAfter}));
  EXPECT_FALSE(coll_->find_one_and_replace(none, json(R"({"x": 1})")));
  EXPECT_FALSE(coll_->find_one_and_delete(none));
  EXPECT_EQ(coll_->count_documents(json("{}")), 2);  // nothing was written
}

TEST_P(ClientReadOps, FindAndModifyRefusesBadInputBeforeSending) {
  insert(1);
  events_->clear();
  EXPECT_THROW(coll_->find_one_and_update(json("{}"), json(R"({"x": 1})")), Error);
  EXPECT_THROW(coll_->find_one_and_update(json("{}"), json("{}")), Error);
  EXPECT_THROW(coll_->find_one_and_replace(json("{}"), json(R"({"$set": {"x": 1}})")), Error);
  // (A hint with w: 0 is refused only before MongoDB 4.4: integration/run_cursor_command_test.cpp
  // checks it by the server's wire version.)
  EXPECT_EQ(events_->count("findAndModify"), 0u);
  EXPECT_EQ(get(json(R"({"_id": 0})")), json(R"({"_id": 0, "g": 0, "v": 0})"));
}

// ---- find ---------------------------------------------------------------------------------------

TEST_P(ClientReadOps, FindCarriesItsOptionsAndTheReadConcern) {
  insert(5);
  events_->clear();
  Collection local = coll_->with_options({.read_concern = ReadConcern{"local"}});
  auto docs = all(local.find(json(R"({"_id": {"$lt": 3}})"), {.sort = json(R"({"_id": -1})"),
                                                              .hint = std::string("_id_"),
                                                              .comment = "read-ops-it",
                                                              .max_time = 5s,
                                                              .allow_disk_use = true,
                                                              .return_key = false,
                                                              .show_record_id = false,
                                                              .no_cursor_timeout = false,
                                                              .allow_partial_results = false}));
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0]["_id"].as_int64(), 2);
  bson::Document find = sent("find");
  EXPECT_EQ(find["readConcern"].get_document()["level"].get_string(), "local");
  EXPECT_EQ(find["hint"].get_string(), "_id_");
  EXPECT_EQ(find["comment"].get_string(), "read-ops-it");
  EXPECT_EQ(find["maxTimeMS"].as_int64(), 5000);
  EXPECT_TRUE(find["allowDiskUse"].get_bool());
  EXPECT_FALSE(find["returnKey"].get_bool());
  EXPECT_FALSE(find["noCursorTimeout"].get_bool());
}

TEST_P(ClientReadOps, FindRefusesTheLimitThatCannotBeNegated) {
  insert(1);
  events_->clear();
  try {
    coll_->find(json("{}"), {.limit = std::numeric_limits<std::int64_t>::min()});
    FAIL() << "limit INT64_MIN was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
  }
  EXPECT_EQ(events_->count("find"), 0u);
  // The most negative limit that can be negated is one batch.
  auto docs = all(coll_->find(json("{}"), {.limit = std::numeric_limits<std::int64_t>::min() + 1}));
  EXPECT_EQ(docs.size(), 1u);
  EXPECT_TRUE(sent("find")["singleBatch"].get_bool());
}

INSTANTIATE_TEST_SUITE_P(, ClientReadOps, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
