// Collection::drop() of a collection that does not exist succeeds, however the server says so:
// with NamespaceNotFound (26), or only with the message "ns not found" (older servers,
// mongo-java-server). Any other error still reaches the caller. A scripted loopback server
// answers the drop.

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>

#include "driver/mongo_client.hpp"
#include "support/expect_error.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using testing::LoopbackServer;
using testing::PeerStream;

// A standalone server that answers `drop` with `drop_reply` and everything else with ok: 1.
LoopbackServer::Script answering_drop_with(bson::Document drop_reply, std::atomic<int>& drops) {
  return [drop_reply = std::move(drop_reply), &drops](PeerStream& s, int) {
    for (;;) {
      auto request = s.read_message();
      const auto name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
      } else if (name == "drop") {
        ++drops;
        s.write(testing::reply_to(request, drop_reply));
      } else {
        s.write(testing::reply_to(request, bson::Builder{}.append("ok", 1.0).build()));
      }
    }
  };
}

void drop_against(const bson::Document& reply, std::atomic<int>& drops) {
  LoopbackServer server(answering_drop_with(reply, drops));
  MongoClient client("mongodb://" + server.address().to_string() +
                     "/?serverSelectionTimeoutMS=10000&connectTimeoutMS=10000");
  client["app"]["missing"].drop();
}

TEST(CollectionDrop, CarriesTheHandlesWriteConcern) {
  // drop is a write-concern command (read-write-concern spec): the URI's w reaches it, and a
  // handle's override replaces it.
  std::mutex mutex;
  std::vector<bson::Document> drops;
  LoopbackServer server([&](PeerStream& s, int) {
    for (;;) {
      auto request = s.read_message();
      const auto name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
        continue;
      }
      if (name == "drop") {
        std::lock_guard lock(mutex);
        drops.push_back(testing::body_of(request));
      }
      s.write(testing::reply_to(request, bson::Builder{}.append("ok", 1.0).build()));
    }
  });
  MongoClient client("mongodb://" + server.address().to_string() +
                     "/?w=majority&serverSelectionTimeoutMS=10000&connectTimeoutMS=10000");
  client["app"]["c"].drop();
  WriteConcern acknowledged_by_two;
  acknowledged_by_two.w = std::int32_t{2};
  client["app"]["c"].with_options({.write_concern = acknowledged_by_two}).drop();
  std::lock_guard lock(mutex);
  ASSERT_EQ(drops.size(), 2u);
  EXPECT_EQ(drops[0]["writeConcern"].get_document().to_json(),
            bson::Document::from_json(R"({"w": "majority"})").to_json());
  EXPECT_EQ(drops[1]["writeConcern"].get_document().to_json(),
            bson::Document::from_json(R"({"w": 2})").to_json());
}

TEST(CollectionDrop, MissingCollectionByCodeSucceeds) {
  std::atomic<int> drops{0};
  drop_against(bson::Document::from_json(R"({"ok": 0, "errmsg": "ns not found", "code": 26,
                                             "codeName": "NamespaceNotFound"})"),
               drops);
  EXPECT_EQ(drops.load(), 1);
}

TEST(CollectionDrop, MissingCollectionByMessageOnlySucceeds) {
  std::atomic<int> drops{0};
  drop_against(bson::Document::from_json(R"({"ok": 0, "errmsg": "ns not found"})"), drops);
  EXPECT_EQ(drops.load(), 1);
}

TEST(CollectionDrop, MissingCollectionByAMessageThatNamesItSucceeds) {
  std::atomic<int> drops{0};
  drop_against(bson::Document::from_json(R"({"ok": 0, "errmsg": "ns not found: app.missing"})"),
               drops);
  EXPECT_EQ(drops.load(), 1);
}

TEST(CollectionDrop, OtherErrorsReachTheCaller) {
  std::atomic<int> drops{0};
  auto error = testing::expect_error([&] {
    drop_against(bson::Document::from_json(R"({"ok": 0, "errmsg": "not authorized on app",
                                               "code": 13, "codeName": "Unauthorized"})"),
                 drops);
  });
  EXPECT_EQ(error.code(), std::error_code(13, server_category())) << error.what();
  EXPECT_EQ(drops.load(), 1);
}

}  // namespace
}  // namespace mongoslice
