// Collection's index management (create_index, create_indexes, list_indexes, drop_index,
// drop_indexes) and rename against each real server the ctest fixtures start (FerretDB, or
// MONGODB_URI's mongod in its place, and mongo-java-server).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "real_server_fixture.hpp"
#include "server_deviations.hpp"

namespace mongoslice {
namespace {

using testing::RealServer;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

class ClientIndex : public testing::RealServerCollectionTest {
 protected:
  ClientIndex() : RealServerCollectionTest("client_index_it") {}

  void TearDown() override {
    for (const auto& name : extra_collections_) (*client_)["client_index_it"][name].drop();
    RealServerCollectionTest::TearDown();
  }

  // A second collection of this test's own (dropped now and after the test).
  Collection other(const std::string& suffix) {
    std::string name = coll_->name() + suffix;
    extra_collections_.push_back(name);
    Collection c = (*client_)["client_index_it"][name];
    c.drop();
    return c;
  }

  // The collection's indexes by name.
  static std::map<std::string, bson::Document> indexes_of(const Collection& c) {
    std::map<std::string, bson::Document> out;
    for (bson::View entry : c.list_indexes()) {
      out.emplace(std::string(entry["name"].get_string()), bson::Document(entry));
    }
    return out;
  }
  static std::vector<std::string> names_of(const std::map<std::string, bson::Document>& m) {
    std::vector<std::string> names;
    for (const auto& [name, entry] : m) names.push_back(name);
    return names;
  }

  void insert(int n) {
    std::vector<bson::Document> docs;
    for (int i = 0; i < n; ++i)
      docs.push_back(bson::Builder{}.append("_id", i).append("x", i).build());
    coll_->insert_many(docs);
  }

 private:
  std::vector<std::string> extra_collections_;
};

TEST_P(ClientIndex, CreateIndexThenListIndexesShowsIt) {
  EXPECT_EQ(coll_->create_index(json(R"({"a": 1})"), {.unique = true}), "a_1");
  EXPECT_EQ(coll_->create_index(json(R"({"b": -1, "c.d": 1})"), {.name = "by_b"}), "by_b");
  auto indexes = indexes_of(*coll_);
  EXPECT_EQ(names_of(indexes), (std::vector<std::string>{"_id_", "a_1", "by_b"}));
  ASSERT_TRUE(indexes.count("a_1"));
  EXPECT_EQ(bson::Document(indexes["a_1"]["key"].get_document()), json(R"({"a": 1})"));
  ASSERT_TRUE(indexes["a_1"].find("unique")) << indexes["a_1"].to_json();
  EXPECT_TRUE(indexes["a_1"]["unique"].as_bool());
  ASSERT_TRUE(indexes.count("by_b"));
  EXPECT_EQ(bson::Document(indexes["by_b"]["key"].get_document()), json(R"({"b": -1, "c.d": 1})"));
  EXPECT_FALSE(indexes["by_b"].find("unique")) << indexes["by_b"].to_json();
  // The generated name travelled in the command, beside the key.
  auto started = events_->commands("createIndexes", "started");
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(
      started[0].document.view()["indexes"].get_array()["0"].get_document()["name"].get_string(),
      "a_1");
  EXPECT_FALSE(started[0].document.view().contains("writeConcern"));
}

TEST_P(ClientIndex, ASparseIndexIsListedAsSparse) {
  EXPECT_EQ(coll_->create_index(json(R"({"s": 1})"), {.sparse = true}), "s_1");
  auto indexes = indexes_of(*coll_);
  ASSERT_TRUE(indexes.count("s_1")) << ::testing::PrintToString(names_of(indexes));
  ASSERT_TRUE(indexes["s_1"].find("sparse")) << indexes["s_1"].to_json();
  EXPECT_TRUE(indexes["s_1"]["sparse"].as_bool());
}

TEST_P(ClientIndex, SpecialIndexTypesGetTheNamesServersGive) {
  auto names = coll_->create_indexes(
      {{json(R"({"h": "hashed"})"), {}}, {json(R"({"loc": "2dsphere"})"), {}}});
  EXPECT_EQ(names, (std::vector<std::string>{"h_hashed", "loc_2dsphere"}));
  EXPECT_EQ(coll_->create_index(json(R"({"t": "text"})")), "t_text");
  auto indexes = indexes_of(*coll_);
  EXPECT_EQ(names_of(indexes),
            (std::vector<std::string>{"_id_", "h_hashed", "loc_2dsphere", "t_text"}));
  ASSERT_TRUE(indexes.count("h_hashed"));
  EXPECT_EQ(bson::Document(indexes["h_hashed"]["key"].get_document()), json(R"({"h": "hashed"})"));
}

TEST_P(ClientIndex, AUniqueIndexRefusesADuplicate) {
  coll_->create_index(json(R"({"k": 1})"), {.unique = true});
  coll_->insert_one(json(R"({"_id": 1, "k": "same"})"));
  try {
    coll_->insert_one(json(R"({"_id": 2, "k": "same"})"));
    ADD_FAILURE() << "a duplicate key was inserted";
  } catch (const BulkWriteError& e) {
    ASSERT_EQ(e.write_errors().size(), 1u);
    EXPECT_EQ(e.server_code(), 11000) << e.errmsg();
  }
  EXPECT_EQ(coll_->count_documents(json("{}")), 1);
}

TEST_P(ClientIndex, CreateIndexesOfTwo) {
  auto names = coll_->create_indexes(
      {{json(R"({"a": 1, "b": -1})"), {}}, {json(R"({"c": 1})"), {.name = "c_custom"}}},
      {.comment = "two at once"});
  EXPECT_EQ(names, (std::vector<std::string>{"a_1_b_-1", "c_custom"}));
  EXPECT_EQ(names_of(indexes_of(*coll_)),
            (std::vector<std::string>{"_id_", "a_1_b_-1", "c_custom"}));
  auto started = events_->commands("createIndexes", "started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].document["comment"].get_string(), "two at once");
  // Listed one per batch (where the server honours batchSize): every index still comes.
  std::vector<std::string> listed;
  for (bson::View entry : coll_->list_indexes({.batch_size = 1, .comment = "listing"})) {
    listed.emplace_back(entry["name"].get_string());
  }
  std::sort(listed.begin(), listed.end());
  EXPECT_EQ(listed, (std::vector<std::string>{"_id_", "a_1_b_-1", "c_custom"}));
  auto list = events_->commands("listIndexes", "started");
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(bson::Document(list[1].document["cursor"].get_document()), json(R"({"batchSize": 1})"));
  EXPECT_EQ(list[1].document["comment"].get_string(), "listing");
}

TEST_P(ClientIndex, ARefusedIndexIsAServerError) {
  coll_->create_index(json(R"({"a": 1})"), {.name = "taken"});
  // The same name for other keys: MongoDB answers IndexKeySpecsConflict (86).
  try {
    coll_->create_index(json(R"({"b": 1})"), {.name = "taken"});
    ADD_FAILURE() << "a second index named 'taken' was created";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 86) << e.what();
  }
  EXPECT_EQ(names_of(indexes_of(*coll_)), (std::vector<std::string>{"_id_", "taken"}));
}

TEST_P(ClientIndex, DroppingAMissingIndexIsAServerError) {
  coll_->create_index(json(R"({"a": 1})"));
  try {
    coll_->drop_index("no_such_index");
    ADD_FAILURE() << "dropping a missing index succeeded";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 27) << e.what();  // IndexNotFound
  }
  EXPECT_EQ(names_of(indexes_of(*coll_)), (std::vector<std::string>{"_id_", "a_1"}));
}

TEST_P(ClientIndex, DropIndexByNameAndByKeys) {
  coll_->create_indexes({{json(R"({"a": 1})"), {}}, {json(R"({"b": -1})"), {}}});
  coll_->drop_index("a_1", {.max_time = std::chrono::seconds(5), .comment = "by name"});
  EXPECT_EQ(names_of(indexes_of(*coll_)), (std::vector<std::string>{"_id_", "b_-1"}));
  coll_->drop_index(json(R"({"b": -1})"));
  EXPECT_EQ(names_of(indexes_of(*coll_)), (std::vector<std::string>{"_id_"}));
  auto started = events_->commands("dropIndexes", "started");
  ASSERT_EQ(started.size(), 2u);
  EXPECT_EQ(started[0].document["index"].get_string(), "a_1");
  EXPECT_EQ(started[0].document["maxTimeMS"].as_int64(), 5000);
  EXPECT_EQ(started[0].document["comment"].get_string(), "by name");
  EXPECT_EQ(bson::Document(started[1].document["index"].get_document()), json(R"({"b": -1})"));
}

TEST_P(ClientIndex, DropIndexesLeavesOnlyId) {
  insert(3);
  coll_->create_indexes({{json(R"({"a": 1})"), {}}, {json(R"({"x": -1})"), {}}});
  ASSERT_EQ(indexes_of(*coll_).size(), 3u);
  coll_->drop_indexes();
  EXPECT_EQ(names_of(indexes_of(*coll_)), (std::vector<std::string>{"_id_"}));
  EXPECT_EQ(coll_->count_documents(json("{}")), 3);
}

TEST_P(ClientIndex, BadInputIsRefusedBeforeSending) {
  coll_->create_index(json(R"({"a": 1})"));
  events_->clear();
  auto expect_refused = [](auto&& call, std::string_view what) {
    try {
      call();
      ADD_FAILURE() << what << " was accepted";
    } catch (const ServerError& e) {
      ADD_FAILURE() << what << " reached the server: " << e.what();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument) << what << ": " << e.what();
    }
  };
  expect_refused([&] { coll_->drop_index("*"); }, "drop_index(\"*\")");
  expect_refused([&] { coll_->drop_index(""); }, "drop_index(\"\")");
  expect_refused([&] { coll_->drop_index(bson::Document()); }, "drop_index({})");
  expect_refused([&] { coll_->create_index(bson::Document()); }, "create_index({})");
  expect_refused([&] { coll_->create_indexes({}); }, "create_indexes([])");
  expect_refused([&] { coll_->create_index(json(R"({"a": true})")); }, "an unnameable key");
  expect_refused([&] { coll_->list_indexes({.batch_size = -1}); }, "batch_size -1");
  expect_refused([&] { coll_->rename(""); }, "rename to \"\"");
  expect_refused([&] { coll_->rename("bad$name"); }, "rename to a name with '$'");
  expect_refused([&] { coll_->rename("x", {.to_database = ""}); }, "rename to database \"\"");
  for (const char* command : {"dropIndexes", "createIndexes", "listIndexes", "renameCollection"}) {
    EXPECT_TRUE(events_->commands(command, "started").empty()) << command << " was sent";
  }
  EXPECT_EQ(names_of(indexes_of(*coll_)), (std::vector<std::string>{"_id_", "a_1"}));
}

TEST_P(ClientIndex, CommitQuorumNeedsAServerOf44) {
  const bson::Document hello = (*client_)["admin"].run_command(json(R"({"isMaster": 1})"));
  const std::int64_t wire_version = hello["maxWireVersion"].as_int64();
  events_->clear();
  try {
    coll_->create_indexes({{json(R"({"a": 1})"), {}}}, {.commit_quorum = "votingMembers"});
    EXPECT_GE(wire_version, 9) << "commitQuorum was sent to a server before MongoDB 4.4";
  } catch (const ServerError& e) {
    // A 4.4+ server may still refuse it (a standalone has no members to wait for).
    EXPECT_GE(wire_version, 9) << e.what();
  } catch (const Error& e) {
    EXPECT_LT(wire_version, 9) << e.what();
    EXPECT_EQ(e.code(), errc::invalid_argument) << e.what();
  }
  auto started = events_->commands("createIndexes", "started");
  if (wire_version < 9) {
    EXPECT_TRUE(started.empty()) << "createIndexes was sent";
  } else {
    ASSERT_EQ(started.size(), 1u);
    EXPECT_EQ(started[0].document["commitQuorum"].get_string(), "votingMembers");
  }
}

TEST_P(ClientIndex, ListIndexesOfAMissingCollectionIsEmpty) {
  // SetUp dropped the collection: it does not exist. MongoDB (and FerretDB) answer listIndexes
  // with NamespaceNotFound (26), mongo-java-server with an empty cursor; both are no indexes.
  int entries = 0;
  for (bson::View entry : coll_->list_indexes()) {
    ADD_FAILURE() << "an index of a missing collection: " << entry.to_json();
    ++entries;
  }
  EXPECT_EQ(entries, 0);
  EXPECT_EQ(events_->commands("listIndexes", "started").size(), 1u);
  // Which answer this server gave: where it is NamespaceNotFound, list_indexes saw the failed
  // command and still returned an empty cursor.
  bool namespace_not_found = false;
  try {
    (*client_)["client_index_it"].run_command(
        bson::Builder{}.append("listIndexes", coll_->name()).build());
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), server_code::kNamespaceNotFound) << e.what();
    namespace_not_found = true;
  }
  EXPECT_EQ(events_->commands("listIndexes", "failed").size(), namespace_not_found ? 2u : 0u);
}

TEST_P(ClientIndex, WriteConcernOfTheHandleIsSent) {
  WriteConcern acknowledged;
  acknowledged.w = std::int32_t{1};
  Collection with_concern = coll_->with_options({.write_concern = acknowledged});
  EXPECT_EQ(with_concern.create_index(json(R"({"a": 1})")), "a_1");
  with_concern.drop_index("a_1");
  auto create = events_->commands("createIndexes", "started");
  auto drop = events_->commands("dropIndexes", "started");
  ASSERT_EQ(create.size(), 1u);
  ASSERT_EQ(drop.size(), 1u);
  EXPECT_EQ(bson::Document(create[0].document["writeConcern"].get_document()), json(R"({"w": 1})"));
  EXPECT_EQ(bson::Document(drop[0].document["writeConcern"].get_document()), json(R"({"w": 1})"));
}

TEST_P(ClientIndex, RenameMovesTheDocuments) {
  insert(3);
  Collection target = other("_renamed");
  Collection renamed = coll_->rename(target.name());
  EXPECT_EQ(renamed.name(), target.name());
  EXPECT_EQ(renamed.database_name(), "client_index_it");
  EXPECT_EQ(renamed.count_documents(json("{}")), 3);
  EXPECT_EQ(coll_->count_documents(json("{}")), 0);
  auto names = (*client_)["client_index_it"].list_collection_names();
  EXPECT_NE(std::find(names.begin(), names.end(), target.name()), names.end());
  EXPECT_EQ(std::find(names.begin(), names.end(), coll_->name()), names.end());
  auto started = events_->commands("renameCollection", "started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_EQ(started[0].document["$db"].get_string(), "admin");
  EXPECT_EQ(started[0].document["to"].get_string(), "client_index_it." + target.name());
}

TEST_P(ClientIndex, RenameOntoAnExistingTargetFails) {
  insert(2);
  Collection target = other("_target");
  target.insert_one(json(R"({"_id": "old"})"));
  try {
    coll_->rename(target.name());
    ADD_FAILURE() << "renamed onto an existing collection without drop_target";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 48) << e.what();  // NamespaceExists
  }
  // Nothing moved.
  EXPECT_EQ(coll_->count_documents(json("{}")), 2);
  EXPECT_EQ(target.count_documents(json("{}")), 1);
  auto started = events_->commands("renameCollection", "started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_FALSE(started[0].document.view().contains("dropTarget"));
}

TEST_P(ClientIndex, RenameWithDropTargetReplacesTheTarget) {
  insert(2);
  Collection target = other("_target");
  target.insert_one(json(R"({"_id": "old"})"));
  Collection renamed = coll_->rename(target.name(), {.drop_target = true});
  EXPECT_EQ(renamed.count_documents(json("{}")), 2);
  EXPECT_FALSE(renamed.find_one(json(R"({"_id": "old"})")));
  EXPECT_EQ(coll_->count_documents(json("{}")), 0);
  auto started = events_->commands("renameCollection", "started");
  ASSERT_EQ(started.size(), 1u);
  EXPECT_TRUE(started[0].document["dropTarget"].get_bool());
}

INSTANTIATE_TEST_SUITE_P(, ClientIndex, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
