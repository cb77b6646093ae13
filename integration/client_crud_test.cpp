// Collection's update, replace and delete operations against each real server the ctest
// fixtures start (FerretDB, or MONGODB_URI's mongod in its place, and mongo-java-server).

#include <gtest/gtest.h>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "real_server_fixture.hpp"
#include "server_deviations.hpp"

namespace mongoslice {
namespace {

using testing::EventRecorder;
using testing::RealServer;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

class ClientCrud : public testing::RealServerCollectionTest {
 protected:
  ClientCrud() : RealServerCollectionTest("client_crud_it") {}

  // {_id: i, x: i % 2} for i in [0, n).
  void insert(int n) {
    std::vector<bson::Document> docs;
    for (int i = 0; i < n; ++i)
      docs.push_back(bson::Builder{}.append("_id", i).append("x", i % 2).build());
    ASSERT_EQ(coll_->insert_many(docs).inserted_count, n);
  }
  bson::Document get(int id) {
    auto doc = coll_->find_one(bson::Builder{}.append("_id", id).build());
    return doc ? *doc : bson::Document();
  }
};

TEST_P(ClientCrud, UpdateOneSetsOneDocument) {
  insert(4);
  auto result = coll_->update_one(json(R"({"x": 1})"), json(R"({"$set": {"y": 7}})"));
  EXPECT_EQ(result.matched_count, 1);
  EXPECT_EQ(result.modified_count, 1);
  EXPECT_EQ(result.upserted_count, 0);
  EXPECT_FALSE(result.upserted_id);
  EXPECT_EQ(coll_->count_documents(json(R"({"y": 7})")), 1);
  // Setting the value it already has matches and modifies nothing.
  auto again = coll_->update_one(json(R"({"y": 7})"), json(R"({"$set": {"y": 7}})"));
  EXPECT_EQ(again.matched_count, 1);
  EXPECT_EQ(again.modified_count, 0);
  auto none = coll_->update_one(json(R"({"x": 5})"), json(R"({"$set": {"y": 1}})"));
  EXPECT_EQ(none.matched_count, 0);
  EXPECT_EQ(none.modified_count, 0);
  // The statements travel in a document sequence beside the body; the started event shows the
  // command as the server reads it, the sequence as the array `updates` (command monitoring).
  auto started = events_->commands("update", "started");
  ASSERT_EQ(started.size(), 3u);
  const bson::View updates = started[0].document["updates"].get_array();
  EXPECT_EQ(bson::View((*updates.begin()).get_document())["q"].get_document(),
            json(R"({"x": 1})").view())
      << started[0].document.to_json();
  EXPECT_TRUE(started[0].document["ordered"].get_bool());
}

TEST_P(ClientCrud, CommandLevelOptionsAreSentAndAccepted) {
  insert(2);
  events_->clear();
  auto updated = coll_->update_many(json("{}"), json(R"({"$set": {"z": 1}})"),
                                    {.bypass_document_validation = true, .comment = "crud-it"});
  EXPECT_EQ(updated.matched_count, 2);
  auto deleted = coll_->delete_one(json(R"({"_id": 0})"), {.comment = "crud-it"});
  EXPECT_EQ(deleted.deleted_count, 1);
  auto update = events_->commands("update", "started");
  auto del = events_->commands("delete", "started");
  ASSERT_EQ(update.size(), 1u);
  ASSERT_EQ(del.size(), 1u);
  EXPECT_EQ(update[0].document["comment"].get_string(), "crud-it");
  EXPECT_TRUE(update[0].document["bypassDocumentValidation"].get_bool());
  EXPECT_EQ(del[0].document["comment"].get_string(), "crud-it");
}

TEST_P(ClientCrud, UpsertReturnsTheUpsertedId) {
  auto result = coll_->update_one(json(R"({"_id": "ada"})"), json(R"({"$set": {"age": 37}})"),
                                  {.upsert = true});
  EXPECT_EQ(result.matched_count, 0);
  EXPECT_EQ(result.modified_count, 0);
  EXPECT_EQ(result.upserted_count, 1);
  ASSERT_TRUE(result.upserted_id);
  EXPECT_EQ(*result.upserted_id, json(R"({"_id": "ada"})"));
  EXPECT_EQ(coll_->find_one(json(R"({"_id": "ada"})")), json(R"({"_id": "ada", "age": 37})"));
  // The filter has no _id: the server makes one, and the result names it.
  auto generated = coll_->update_one(json(R"({"name": "bob"})"), json(R"({"$set": {"age": 5}})"),
                                     {.upsert = true});
  ASSERT_TRUE(generated.upserted_id);
  auto doc = coll_->find_one(json(R"({"name": "bob"})"));
  ASSERT_TRUE(doc);
  EXPECT_EQ(bson::Builder{}.append("_id", (*doc)["_id"]).build(), *generated.upserted_id);
  // An upsert that matches updates and upserts nothing.
  auto matched = coll_->update_one(json(R"({"_id": "ada"})"), json(R"({"$set": {"age": 38}})"),
                                   {.upsert = true});
  EXPECT_EQ(matched.matched_count, 1);
  EXPECT_EQ(matched.modified_count, 1);
  EXPECT_EQ(matched.upserted_count, 0);
  EXPECT_FALSE(matched.upserted_id);
}

TEST_P(ClientCrud, UpdateManyUpdatesEveryMatch) {
  insert(6);
  auto result = coll_->update_many(json(R"({"x": 0})"), json(R"({"$inc": {"n": 2}})"));
  EXPECT_EQ(result.matched_count, 3);
  EXPECT_EQ(result.modified_count, 3);
  EXPECT_EQ(coll_->count_documents(json(R"({"n": 2})")), 3);
  EXPECT_EQ(coll_->count_documents(json(R"({"n": {"$exists": false}})")), 3);
}

TEST_P(ClientCrud, ReplaceOneKeepsTheId) {
  insert(3);
  auto result = coll_->replace_one(json(R"({"_id": 1})"), json(R"({"name": "ada"})"));
  EXPECT_EQ(result.matched_count, 1);
  EXPECT_EQ(result.modified_count, 1);
  EXPECT_EQ(get(1), json(R"({"_id": 1, "name": "ada"})"));
  auto upserted =
      coll_->replace_one(json(R"({"_id": 9})"), json(R"({"name": "bob"})"), {.upsert = true});
  EXPECT_EQ(upserted.upserted_count, 1);
  ASSERT_TRUE(upserted.upserted_id);
  EXPECT_EQ(*upserted.upserted_id, json(R"({"_id": 9})"));
  EXPECT_EQ(get(9), json(R"({"_id": 9, "name": "bob"})"));
}

TEST_P(ClientCrud, WrongUpdateShapesAreRefusedBeforeSending) {
  insert(2);
  events_->clear();
  auto expect_refused = [](auto operation) {
    try {
      operation();
      ADD_FAILURE() << "nothing thrown";
    } catch (const ServerError& e) {
      ADD_FAILURE() << "sent to the server: " << e.what();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << e.what();
    }
  };
  expect_refused([&] { coll_->replace_one(json("{}"), json(R"({"$set": {"x": 1}})")); });
  expect_refused([&] { coll_->replace_one(json("{}"), json(R"({"a": 1, "$inc": {"x": 1}})")); });
  expect_refused([&] { coll_->update_one(json("{}"), json(R"({"x": 1})")); });
  expect_refused([&] { coll_->update_many(json("{}"), json(R"({"x": 1})")); });
  expect_refused([&] { coll_->update_one(json("{}"), json("{}")); });
  EXPECT_EQ(events_->count("update"), 0u);
  EXPECT_EQ(get(0), json(R"({"_id": 0, "x": 0})"));
}

TEST_P(ClientCrud, DeleteOneAndDeleteManyCount) {
  insert(6);
  EXPECT_EQ(coll_->delete_one(json(R"({"x": 1})")).deleted_count, 1);
  EXPECT_EQ(coll_->count_documents(json(R"({"x": 1})")), 2);
  EXPECT_EQ(coll_->delete_one(json(R"({"x": 7})")).deleted_count, 0);
  EXPECT_EQ(coll_->delete_many(json(R"({"x": 1})")).deleted_count, 2);
  EXPECT_EQ(coll_->delete_many(json(R"({"x": 1})")).deleted_count, 0);
  EXPECT_EQ(coll_->delete_many(json("{}")).deleted_count, 3);
  EXPECT_EQ(coll_->count_documents(json("{}")), 0);
}

TEST_P(ClientCrud, ArrayFiltersChooseTheElements) {
  ASSERT_NO_THROW(coll_->insert_one(json(R"({"_id": 1, "a": [1, 6, 3, 8]})")));
  UpdateOptions options;
  options.array_filters.push_back(json(R"({"e": {"$gt": 5}})"));
  auto result =
      coll_->update_one(json(R"({"_id": 1})"), json(R"({"$set": {"a.$[e]": 0}})"), options);
  EXPECT_EQ(result.matched_count, 1);
  EXPECT_EQ(result.modified_count, 1);
  EXPECT_EQ(get(1), json(R"({"_id": 1, "a": [1, 0, 3, 0]})"));
}

TEST_P(ClientCrud, UpdateWithAPipeline) {
  insert(3);
  auto result = coll_->update_many(json(R"({"x": 0})"),
                                   json(R"([{"$set": {"copy": "$_id"}}, {"$unset": "x"}])"));
  EXPECT_EQ(result.matched_count, 2);
  EXPECT_EQ(result.modified_count, 2);
  EXPECT_EQ(get(2), json(R"({"_id": 2, "copy": 2})"));
  EXPECT_EQ(get(1), json(R"({"_id": 1, "x": 1})"));
}

TEST_P(ClientCrud, AWriteErrorIsABulkWriteError) {
  insert(2);
  try {
    coll_->update_one(json(R"({"_id": 0})"), json(R"({"$set": {"_id": 5}})"));
    ADD_FAILURE() << "changing _id was accepted";
  } catch (const BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.index(), 0);
    EXPECT_NE(e.server_code(), 0);
    EXPECT_FALSE(e.errmsg().empty());
  }
  EXPECT_EQ(get(0), json(R"({"_id": 0, "x": 0})"));
}

INSTANTIATE_TEST_SUITE_P(, ClientCrud, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
