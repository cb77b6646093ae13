// Database's and MongoClient's catalog operations (listCollections, create, dropDatabase,
// listDatabases) against each real server the ctest fixtures start. Every test uses a database
// of its own (tests run in parallel) and drops it at the end.

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "server_deviations.hpp"

namespace mongoslice {
namespace {

using testing::EventRecorder;
using testing::RealServer;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

class ClientCatalog : public ::testing::TestWithParam<RealServer> {
 protected:
  void SetUp() override {
    MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES();
    events_ = std::make_shared<EventRecorder>();
    client_.emplace(GetParam().uri(), ClientOptions{{events_}});
    // The test's name without the "/Server" suffix, as the database's.
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    db_name_ = "catalog_" + name.substr(0, name.find('/'));
    db_.emplace((*client_)[db_name_]);
    db_->drop();
    events_->clear();
  }
  void TearDown() override {
    if (db_) db_->drop();
  }

  std::shared_ptr<EventRecorder> events_;
  std::optional<MongoClient> client_;
  std::string db_name_;
  std::optional<Database> db_;
};

TEST_P(ClientCatalog, CreateCollectionThenListCollectionNamesContainsIt) {
  EXPECT_FALSE(contains(db_->list_collection_names(), "made"));
  Collection made = db_->create_collection("made");
  EXPECT_EQ(made.name(), "made");
  EXPECT_EQ(made.database_name(), db_name_);
  EXPECT_TRUE(contains(db_->list_collection_names(), "made"));
  // The command as sent: nameOnly, and no filter when none was given.
  auto sent = events_->commands("listCollections", "started");
  ASSERT_FALSE(sent.empty());
  EXPECT_TRUE(sent.back().document["nameOnly"].get_bool());
  EXPECT_FALSE(sent.back().document.view().contains("filter"));
}

TEST_P(ClientCatalog, ListCollectionNamesAppliesTheFilter) {
  db_->create_collection("made");
  db_->create_collection("other");
  EXPECT_EQ(db_->list_collection_names(json(R"({"name": "other"})")),
            std::vector<std::string>{"other"});
  auto sent = events_->commands("listCollections", "started");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].document["filter"].get_document(), json(R"({"name": "other"})").view());
}

TEST_P(ClientCatalog, ListCollectionsReturnsDocumentsWithNameAndType) {
  db_->create_collection("first");
  db_->collection("second").insert_one(json(R"({"x": 1})"));  // created implicitly
  std::vector<std::string> names;
  for (bson::View entry : db_->list_collections()) {
    ASSERT_EQ(entry["name"].type(), bson::Type::kString) << entry.to_json();
    EXPECT_EQ(entry["type"].get_string(), "collection") << entry.to_json();
    names.emplace_back(entry["name"].get_string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"first", "second"}));
}

TEST_P(ClientCatalog, ListCollectionsIteratesAcrossBatches) {
  for (int i = 0; i < 5; ++i) db_->create_collection("c" + std::to_string(i));
  std::vector<std::string> names;
  {
    Cursor cursor = db_->list_collections({.batch_size = 2});
    for (bson::View entry : cursor) names.emplace_back(entry["name"].get_string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4"}));
  auto sent = events_->commands("listCollections", "started");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].document["cursor"].get_document()["batchSize"].get_int32(), 2);
  // Five entries in batches of two: the first batch, then getMore for the rest.
  EXPECT_GE(events_->count("getMore"), 2u);
}

TEST_P(ClientCatalog, AbandonedListCollectionsCursorIsKilled) {
  for (int i = 0; i < 5; ++i) db_->create_collection("c" + std::to_string(i));
  std::int64_t id = 0;
  {
    Cursor cursor = db_->list_collections({.batch_size = 2});
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
  EXPECT_EQ(sent[0].document["killCursors"].get_string(), "$cmd.listCollections");
  EXPECT_EQ(sent[0].document["$db"].get_string(), db_name_);
}

TEST_P(ClientCatalog, ListDatabaseNamesContainsADatabaseAfterAWrite) {
  EXPECT_FALSE(contains(client_->list_database_names(), db_name_));
  db_->collection("c").insert_one(json(R"({"x": 1})"));
  EXPECT_TRUE(contains(client_->list_database_names(), db_name_));
  // The full entries name the database too.
  bool found = false;
  for (const auto& database : client_->list_databases()) {
    if (database["name"].get_string() == db_name_) found = true;
  }
  EXPECT_TRUE(found);
  auto sent = events_->commands("listDatabases", "started");
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].document["$db"].get_string(), "admin");
  EXPECT_TRUE(sent[0].document["nameOnly"].get_bool());
  EXPECT_FALSE(sent[2].document.view().contains("nameOnly"));
}

TEST_P(ClientCatalog, DropRemovesTheDatabase) {
  db_->collection("c").insert_one(json(R"({"x": 1})"));
  ASSERT_TRUE(contains(client_->list_database_names(), db_name_));
  db_->drop();
  EXPECT_FALSE(contains(client_->list_database_names(), db_name_));
  EXPECT_TRUE(db_->list_collection_names().empty());
  EXPECT_NO_THROW(db_->drop()) << "dropping a database that does not exist is not an error";
}

TEST_P(ClientCatalog, CreateCollectionOfAnExistingNameIsTheServersError) {
  db_->create_collection("twice");
  try {
    db_->create_collection("twice");
    FAIL() << "a second create of the same name succeeded";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 48) << e.what();  // NamespaceExists
  }
  EXPECT_EQ(db_->list_collection_names(), std::vector<std::string>{"twice"});
}

INSTANTIATE_TEST_SUITE_P(, ClientCatalog, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
