// Write concern and read concern from the connection string and from with_options(), against
// each real server the ctest fixtures start (FerretDB, or MONGODB_URI's mongod in its place, and
// mongo-java-server): the writes succeed, and the commands carry the concern (read from their
// CommandStartedEvent bodies), or nothing where the server's default applies.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

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

// `uri` with `options` added to its query.
std::string with_uri_options(const std::string& uri, std::string_view options) {
  if (uri.find('?') != std::string::npos) return uri + "&" + std::string(options);
  const auto hosts = uri.find("://") + 3;
  const bool has_slash = uri.find('/', hosts) != std::string::npos;
  return uri + (has_slash ? "?" : "/?") + std::string(options);
}

class ClientConcerns : public ::testing::TestWithParam<RealServer> {
 protected:
  void SetUp() override { MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES(); }
  void TearDown() override {
    if (coll_) coll_->drop();
  }

  // A client on the server with `options` in its URI, and this test's collection, emptied.
  Collection& connect(std::string_view options) {
    events_ = std::make_shared<EventRecorder>();
    client_.emplace(with_uri_options(GetParam().uri(), options), ClientOptions{{events_}});
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    coll_.emplace((*client_)["client_concerns_it"][name.substr(0, name.find('/'))]);
    coll_->drop();
    events_->clear();
    return *coll_;
  }

  // Inserts, updates and deletes one document through `coll`, checking that each write took.
  void write_through(const Collection& coll) {
    coll.insert_one(json(R"({"_id": 1, "x": 1})"));
    EXPECT_EQ(coll.update_one(json(R"({"_id": 1})"), json(R"({"$set": {"x": 2}})")).modified_count,
              1);
    EXPECT_EQ(coll.delete_one(json(R"({"_id": 1})")).deleted_count, 1);
  }

  // The writeConcern (or readConcern) of every `name` command started, as JSON ("" for none).
  std::vector<std::string> sent(const std::string& name, std::string_view field) const {
    std::vector<std::string> out;
    for (const auto& command : events_->commands(name, "started")) {
      auto value = command.document.view().find(field);
      out.push_back(value ? value->get_document().to_json() : "");
    }
    return out;
  }

  std::shared_ptr<EventRecorder> events_;
  std::optional<MongoClient> client_;
  std::optional<Collection> coll_;
};

std::string compact(std::string_view text) {
  return json(text).to_json();
}

TEST_P(ClientConcerns, MajorityJournalAndTimeoutFromTheUri) {
  Collection& coll = connect("w=majority&journal=true&wTimeoutMS=5000");
  write_through(coll);
  const std::string expected = compact(R"({"w": "majority", "j": true, "wtimeout": 5000})");
  for (const char* name : {"insert", "update", "delete"}) {
    EXPECT_EQ(sent(name, "writeConcern"), std::vector<std::string>{expected}) << name;
  }
}

TEST_P(ClientConcerns, WOneFromTheUriAndOverriddenOnTheCollection) {
  Collection& coll = connect("w=1");
  write_through(coll);
  for (const char* name : {"insert", "update", "delete"}) {
    EXPECT_EQ(sent(name, "writeConcern"), std::vector<std::string>{compact(R"({"w": 1})")}) << name;
  }
  events_->clear();
  WriteConcern journaled;
  journaled.w = std::string("majority");
  journaled.journal = true;
  write_through(coll.with_options({.write_concern = journaled}));
  const std::string expected = compact(R"({"w": "majority", "j": true})");
  for (const char* name : {"insert", "update", "delete"}) {
    EXPECT_EQ(sent(name, "writeConcern"), std::vector<std::string>{expected}) << name;
  }
}

TEST_P(ClientConcerns, NothingIsSentForTheServerDefault) {
  Collection& coll = connect("appName=concerns");
  write_through(coll);
  (void)coll.find_one(json("{}"));
  EXPECT_EQ(coll.count_documents(json("{}")), 0);
  for (const char* name : {"insert", "update", "delete"}) {
    EXPECT_EQ(sent(name, "writeConcern"), std::vector<std::string>{""}) << name;
  }
  EXPECT_EQ(sent("find", "readConcern"), std::vector<std::string>{""});
  EXPECT_EQ(sent("aggregate", "readConcern"), std::vector<std::string>{""});
}

TEST_P(ClientConcerns, ReadConcernFromTheUriAndFromTheDatabase) {
  Collection& coll = connect("readConcernLevel=local");
  coll.insert_one(json(R"({"_id": 1})"));
  EXPECT_EQ(coll.count_documents(json("{}")), 1);
  EXPECT_TRUE(coll.find_one(json(R"({"_id": 1})")));
  const std::string local = compact(R"({"level": "local"})");
  EXPECT_EQ(sent("find", "readConcern"), std::vector<std::string>{local});
  EXPECT_EQ(sent("aggregate", "readConcern"), std::vector<std::string>{local});
  EXPECT_EQ(sent("insert", "readConcern"), std::vector<std::string>{""});  // reads only

  events_->clear();
  Database db =
      (*client_)["client_concerns_it"].with_options({.read_concern = ReadConcern{"majority"}});
  Collection through_db = db[coll.name()];
  EXPECT_EQ(through_db.count_documents(json("{}")), 1);
  EXPECT_EQ(sent("aggregate", "readConcern"),
            std::vector<std::string>{compact(R"({"level": "majority"})")});
}

INSTANTIATE_TEST_SUITE_P(, ClientConcerns, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
