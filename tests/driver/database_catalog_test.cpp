// Database::list_collections over a server that does batch a listCollections cursor (the real
// servers of the integration suite ignore its batchSize): every batch is read through getMore on
// "$cmd.listCollections", and an abandoned cursor is killed through the kill-cursors queue. Also
// what MongoClient::list_databases makes of a malformed reply, and the generic commands
// (run_command, run_cursor_command: what they send, getMore's options, the kill of an abandoned
// cursor). A scripted loopback server
// answers, and records what it was sent.

#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "driver/mongo_client.hpp"
#include "support/expect_error.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using testing::LoopbackServer;
using testing::PeerStream;

constexpr std::int64_t kCursorId = 4242;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

// Commands other than the handshake, as the server received them (thread-safe).
struct Received {
  std::mutex mutex;
  std::vector<bson::Document> commands;
  void add(bson::Document command) {
    std::lock_guard lock(mutex);
    commands.push_back(std::move(command));
  }
  std::vector<bson::Document> named(std::string_view name) {
    std::lock_guard lock(mutex);
    std::vector<bson::Document> out;
    for (const auto& c : commands) {
      if (c.view().begin() != c.view().end() && (*c.view().begin()).key() == name) out.push_back(c);
    }
    return out;
  }
};

// listCollections gives a live cursor with entry "a"; getMore gives "b" and closes it;
// find gives a live cursor on app.c with {_id: 1}, its getMore {_id: 2} and closes it;
// listDatabases answers `list_databases_reply`; anything else {ok: 1}. The handshake reports
// `max_wire_version`.
LoopbackServer::Script catalog_server(Received& received, bson::Document list_databases_reply,
                                      std::int32_t max_wire_version = 21) {
  return [&received, list_databases_reply = std::move(list_databases_reply), max_wire_version](
             PeerStream& s, int) {
    for (;;) {
      auto request = s.read_message();
      auto body = testing::body_of(request);
      const auto name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello") {
        s.write(testing::reply_to(request, testing::standard_hello_reply(max_wire_version)));
        continue;
      }
      received.add(body);
      bson::Document reply;
      if (name == "find") {
        reply = bson::Builder{}
                    .open_document("cursor")
                    .append("id", kCursorId)
                    .append("ns", "app.c")
                    .open_array("firstBatch")
                    .append_value(json(R"({"_id": 1})"))
                    .close()
                    .close()
                    .append("ok", 1.0)
                    .build();
      } else if (name == "getMore" && body["collection"].get_string() == "c") {
        reply = json(R"({"cursor": {"id": 0, "ns": "app.c", "nextBatch": [{"_id": 2}]}, "ok": 1})");
      } else if (name == "listCollections") {
        reply = bson::Builder{}
                    .open_document("cursor")
                    .append("id", kCursorId)
                    .append("ns", "app.$cmd.listCollections")
                    .open_array("firstBatch")
                    .append_value(json(R"({"name": "a", "type": "collection"})"))
                    .close()
                    .close()
                    .append("ok", 1.0)
                    .build();
      } else if (name == "getMore") {
        reply = json(R"({"cursor": {"id": 0, "ns": "app.$cmd.listCollections",
                         "nextBatch": [{"name": "b", "type": "view"}]}, "ok": 1})");
      } else if (name == "listDatabases") {
        reply = list_databases_reply;
      } else {
        reply = json(R"({"ok": 1})");
      }
      s.write(testing::reply_to(request, reply));
    }
  };
}

std::string uri_of(const LoopbackServer& server) {
  return "mongodb://" + server.address().to_string() +
         "/?serverSelectionTimeoutMS=10000&connectTimeoutMS=10000";
}

TEST(DatabaseCatalog, ListCollectionNamesReadsEveryBatch) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  EXPECT_EQ(client["app"].list_collection_names(), (std::vector<std::string>{"a", "b"}));
  auto lists = received.named("listCollections");
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0], json(R"({"listCollections": 1, "nameOnly": true, "cursor": {},
                               "$db": "app"})"))
      << lists[0].to_json();
  auto get_mores = received.named("getMore");
  ASSERT_EQ(get_mores.size(), 1u);
  EXPECT_EQ(get_mores[0]["getMore"].as_int64(), kCursorId);
  EXPECT_EQ(get_mores[0]["collection"].get_string(), "$cmd.listCollections");
  EXPECT_EQ(get_mores[0]["$db"].get_string(), "app");
}

TEST(DatabaseCatalog, AbandonedListCollectionsCursorIsKilled) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  {
    Cursor cursor = client["app"].list_collections({.batch_size = 1});
    auto it = cursor.begin();
    ASSERT_FALSE(it == cursor.end());
    EXPECT_EQ((*it)["name"].get_string(), "a");
    EXPECT_EQ(cursor.id(), kCursorId);
  }  // abandoned with a live server cursor
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (received.named("killCursors").empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto kills = received.named("killCursors");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0]["killCursors"].get_string(), "$cmd.listCollections");
  EXPECT_EQ(kills[0]["$db"].get_string(), "app");
  std::vector<std::int64_t> ids;
  for (auto id : kills[0]["cursors"].get_array()) ids.push_back(id.as_int64());
  EXPECT_EQ(ids, std::vector<std::int64_t>{kCursorId});
  EXPECT_TRUE(received.named("getMore").empty());
  auto lists = received.named("listCollections");
  ASSERT_EQ(lists.size(), 1u);
  EXPECT_EQ(lists[0]["cursor"].get_document()["batchSize"].get_int32(), 1);
}

TEST(DatabaseCatalog, NegativeBatchSizeIsRefusedBeforeSending) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  auto error = testing::expect_error([&] { client["app"].list_collections({.batch_size = -1}); });
  EXPECT_EQ(error.code(), make_error_code(errc::invalid_argument)) << error.what();
  EXPECT_TRUE(received.named("listCollections").empty());
}

TEST(DatabaseCatalog, ListDatabasesCopiesTheEntriesAndRefusesAMalformedReply) {
  {
    Received received;
    LoopbackServer server(catalog_server(
        received, json(R"({"databases": [{"name": "x", "sizeOnDisk": 1}, {"name": "y"}],
                           "totalSize": 1, "ok": 1})")));
    MongoClient client(uri_of(server));
    auto databases = client.list_databases();
    ASSERT_EQ(databases.size(), 2u);
    EXPECT_EQ(databases[0], json(R"({"name": "x", "sizeOnDisk": 1})"));
    EXPECT_EQ(client.list_database_names(), (std::vector<std::string>{"x", "y"}));
    auto sent = received.named("listDatabases");
    ASSERT_EQ(sent.size(), 2u);
    EXPECT_EQ(sent[0], json(R"({"listDatabases": 1, "$db": "admin"})")) << sent[0].to_json();
    EXPECT_EQ(sent[1], json(R"({"listDatabases": 1, "nameOnly": true, "$db": "admin"})"));
  }
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"databases": [{"name": 5}], "ok": 1})")));
  MongoClient client(uri_of(server));
  auto error = testing::expect_error([&] { client.list_database_names(); });
  EXPECT_EQ(error.code(), make_error_code(errc::bson_type_mismatch)) << error.what();
  EXPECT_NE(std::string(error.what()).find("databases.0.name"), std::string::npos) << error.what();
}

TEST(DatabaseCatalog, CreateAndDropCarryTheHandlesWriteConcern) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  HandleOptions options;
  options.write_concern = WriteConcern{std::string("majority"), std::nullopt, std::nullopt};
  Database db = client["app"].with_options(options);
  db.create_collection("made");
  db.drop();
  client["plain"].drop();
  auto creates = received.named("create");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(creates[0], json(R"({"create": "made", "writeConcern": {"w": "majority"},
                                 "$db": "app"})"))
      << creates[0].to_json();
  auto drops = received.named("dropDatabase");
  ASSERT_EQ(drops.size(), 2u);
  EXPECT_EQ(drops[0], json(R"({"dropDatabase": 1, "writeConcern": {"w": "majority"},
                               "$db": "app"})"))
      << drops[0].to_json();
  EXPECT_EQ(drops[1], json(R"({"dropDatabase": 1, "$db": "plain"})")) << drops[1].to_json();
}

// ---- run_command and run_cursor_command -----------------------------------------------------

// A handle whose options the generic commands must not apply.
Database with_concerns(const MongoClient& client) {
  HandleOptions options;
  options.read_concern = ReadConcern{"majority"};
  options.write_concern = WriteConcern{std::int32_t{1}, true, std::nullopt};
  return client["app"].with_options(options);
}

std::vector<std::int64_t> ids_of(Cursor& cursor) {
  std::vector<std::int64_t> ids;
  for (bson::View doc : cursor) ids.push_back(doc["_id"].as_int64());
  return ids;
}

TEST(DatabaseRunCommand, SendsTheCommandAsGivenWithOnlyDb) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  const bson::Document reply = with_concerns(client).run_command(json(R"({"ping": 1, "x": [1]})"));
  EXPECT_EQ(reply, json(R"({"ok": 1})"));
  auto pings = received.named("ping");
  ASSERT_EQ(pings.size(), 1u);
  // No readConcern, no writeConcern, and no $readPreference to a standalone.
  EXPECT_EQ(pings[0], json(R"({"ping": 1, "x": [1], "$db": "app"})")) << pings[0].to_json();
  auto error = testing::expect_error([&] { client["app"].run_command(bson::Document()); });
  EXPECT_EQ(error.code(), make_error_code(errc::invalid_argument)) << error.what();
}

TEST(DatabaseRunCursorCommand, IteratesWithGetMoreOptionsAndAddsNothingToTheCommand) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  RunCursorCommandOptions options;
  options.batch_size = 5;
  options.max_time = std::chrono::milliseconds(300);
  options.comment = json(R"({"hello": "getMore"})");
  Cursor cursor =
      with_concerns(client).run_cursor_command(json(R"({"find": "c", "batchSize": 1})"), options);
  EXPECT_EQ(ids_of(cursor), (std::vector<std::int64_t>{1, 2}));
  auto finds = received.named("find");
  ASSERT_EQ(finds.size(), 1u);
  EXPECT_EQ(finds[0], json(R"({"find": "c", "batchSize": 1, "$db": "app"})")) << finds[0].to_json();
  auto get_mores = received.named("getMore");
  ASSERT_EQ(get_mores.size(), 1u);
  EXPECT_EQ(get_mores[0], bson::Builder{}
                              .append("getMore", kCursorId)
                              .append("collection", "c")
                              .append("batchSize", std::int32_t{5})
                              .append("maxTimeMS", std::int64_t{300})
                              .append("comment", json(R"({"hello": "getMore"})").view())
                              .append("$db", "app")
                              .build())
      << get_mores[0].to_json();
}

TEST(DatabaseRunCursorCommand, LeavesTheCommentOutOfGetMoreBeforeMongoDB44) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})"), /*max_wire_version=*/8));
  MongoClient client(uri_of(server));
  RunCursorCommandOptions options;
  options.comment = std::string("note");
  Cursor cursor = client["app"].run_cursor_command(json(R"({"find": "c"})"), options);
  EXPECT_EQ(ids_of(cursor), (std::vector<std::int64_t>{1, 2}));
  auto get_mores = received.named("getMore");
  ASSERT_EQ(get_mores.size(), 1u);
  EXPECT_FALSE(get_mores[0].view().find("comment")) << get_mores[0].to_json();
}

TEST(DatabaseRunCursorCommand, AReplyWithoutACursorIsAnError) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  auto error =
      testing::expect_error([&] { client["app"].run_cursor_command(json(R"({"ping": 1})")); });
  EXPECT_EQ(error.code(), make_error_code(errc::cursor_error)) << error.what();
  EXPECT_EQ(received.named("ping").size(), 1u);
}

TEST(DatabaseRunCursorCommand, AnAbandonedCursorIsKilledThroughTheQueue) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  {
    Cursor cursor = client["app"].run_cursor_command(json(R"({"find": "c", "batchSize": 1})"));
    auto it = cursor.begin();
    ASSERT_FALSE(it == cursor.end());
    EXPECT_EQ(cursor.id(), kCursorId);
  }
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (received.named("killCursors").empty() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto kills = received.named("killCursors");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(kills[0]["killCursors"].get_string(), "c");
  EXPECT_EQ(kills[0]["cursors"].get_array()["0"].as_int64(), kCursorId);
  EXPECT_TRUE(received.named("getMore").empty());
}

TEST(DatabaseRunCursorCommand, RefusesBadOptionsBeforeSending) {
  Received received;
  LoopbackServer server(catalog_server(received, json(R"({"ok": 1})")));
  MongoClient client(uri_of(server));
  const bson::Document find = json(R"({"find": "c"})");
  std::vector<RunCursorCommandOptions> bad(3);
  bad[0].batch_size = -1;
  bad[1].max_time = std::chrono::milliseconds(-1);
  bad[2].cursor_type = CursorType::kTailable;
  for (const auto& options : bad) {
    auto error = testing::expect_error([&] { client["app"].run_cursor_command(find, options); });
    EXPECT_EQ(error.code(), make_error_code(errc::invalid_argument)) << error.what();
  }
  auto error = testing::expect_error([&] { client["app"].run_cursor_command(bson::Document()); });
  EXPECT_EQ(error.code(), make_error_code(errc::invalid_argument)) << error.what();
  EXPECT_TRUE(received.named("find").empty());
}

}  // namespace
}  // namespace mongoslice
