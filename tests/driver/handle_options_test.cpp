// Handle options (driver/handle_options.hpp): the URI's write concern, read concern and read
// preference reach a client's Databases and their Collections, with_options() overrides them
// on a copy, and the commands a scripted loopback server receives carry what the handle says.
// The server says it is a mongos, so reads carry $readPreference (never sent to a standalone).

#include "driver/handle_options.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "driver/mongo_client.hpp"
#include "support/loopback_peer.hpp"

namespace mongoslice {
namespace {

using testing::LoopbackServer;
using testing::PeerStream;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

// Commands other than the handshake and heartbeats, as the server received them.
struct Received {
  std::mutex mutex;
  std::vector<bson::Document> commands;
  std::vector<bson::Document> named(std::string_view name) {
    std::lock_guard lock(mutex);
    std::vector<bson::Document> out;
    for (const auto& c : commands) {
      if (!c.view().empty() && (*c.view().begin()).key() == name) out.push_back(c);
    }
    return out;
  }
};

bson::Document mongos_hello() {
  bson::Builder hello;
  for (const auto& element : testing::standard_hello_reply()) hello.append(element.key(), element);
  return hello.append("msg", "isdbgrid").build();
}

// A mongos that answers count aggregations with n: 7, find with an empty batch, writes with
// n: 1, anything else {ok: 1}.
LoopbackServer::Script mongos(Received& received) {
  return [&received](PeerStream& s, int) {
    for (;;) {
      auto request = s.read_message();
      const auto name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello" || name == "ismaster") {
        s.write(testing::reply_to(request, mongos_hello()));
        continue;
      }
      {
        std::lock_guard lock(received.mutex);
        received.commands.push_back(testing::body_of(request));
      }
      bson::Document reply = json(R"({"ok": 1})");
      if (name == "aggregate") {
        reply = json(R"({"cursor": {"id": 0, "ns": "app.c", "firstBatch": [{"n": 7}]}, "ok": 1})");
      } else if (name == "find") {
        reply = json(R"({"cursor": {"id": 0, "ns": "app.c", "firstBatch": []}, "ok": 1})");
      } else if (name == "insert" || name == "update" || name == "delete") {
        reply = json(R"({"n": 1, "ok": 1})");
      }
      s.write(testing::reply_to(request, reply));
    }
  };
}

std::string uri_of(const LoopbackServer& server, std::string_view options) {
  return "mongodb://" + server.address().to_string() + "/?serverSelectionTimeoutMS=10000&" +
         std::string(options);
}

WriteConcern w(std::variant<std::int32_t, std::string> value) {
  WriteConcern concern;
  concern.w = std::move(value);
  return concern;
}

ReadPreference mode(ReadPreference::Mode m) {
  ReadPreference preference;
  preference.mode = m;
  return preference;
}

TEST(HandleOptions, MergedWithReplacesOnlyTheFieldsGiven) {
  HandleOptions base{w("majority"), ReadConcern{"local"}, mode(ReadPreference::Mode::kNearest)};
  HandleOptions merged = base.merged_with({.read_concern = ReadConcern{"majority"}});
  EXPECT_EQ(merged.write_concern, w("majority"));
  EXPECT_EQ(merged.read_concern, ReadConcern{"majority"});
  ASSERT_TRUE(merged.read_preference);
  EXPECT_EQ(merged.read_preference->mode, ReadPreference::Mode::kNearest);
  // A write concern is replaced whole, not field by field (the read-write-concern spec).
  WriteConcern journaled;
  journaled.journal = true;
  EXPECT_EQ(base.merged_with({.write_concern = journaled}).write_concern, journaled);
}

TEST(HandleOptions, TheUriConcernsReachDatabasesAndCollections) {
  Received received;
  LoopbackServer server(mongos(received));
  MongoClient client(uri_of(server,
                            "w=majority&wTimeoutMS=1500&journal=true&readConcernLevel=majority&"
                            "readPreference=nearest"));
  Database app = client["app"];
  WriteConcern expected = w("majority");
  expected.wtimeout = std::chrono::milliseconds(1500);
  expected.journal = true;
  EXPECT_EQ(app.options().write_concern, expected);
  EXPECT_EQ(app.options().read_concern, ReadConcern{"majority"});
  ASSERT_TRUE(app.options().read_preference);
  EXPECT_EQ(app.options().read_preference->mode, ReadPreference::Mode::kNearest);

  Collection c = app["c"];
  EXPECT_EQ(c.options().write_concern, expected);
  EXPECT_EQ(c.options().read_concern, ReadConcern{"majority"});
  ASSERT_TRUE(c.options().read_preference);
  EXPECT_EQ(c.options().read_preference->mode, ReadPreference::Mode::kNearest);

  // On the wire: the count aggregation goes with the URI's read preference.
  EXPECT_EQ(c.count_documents(json("{}")), 7);
  auto counts = received.named("aggregate");
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts[0]["$readPreference"].get_document(), json(R"({"mode": "nearest"})"))
      << counts[0].to_json();
}

TEST(HandleOptions, WithoutUriOptionsNothingButThePrimaryIsInherited) {
  Received received;
  LoopbackServer server(mongos(received));
  MongoClient client(uri_of(server, "appName=plain"));
  Collection c = client["app"]["c"];
  EXPECT_FALSE(c.options().write_concern);  // the server's default: nothing is sent
  EXPECT_FALSE(c.options().read_concern);
  ASSERT_TRUE(c.options().read_preference);
  EXPECT_EQ(c.options().read_preference->mode, ReadPreference::Mode::kPrimary);
  EXPECT_EQ(c.count_documents(json("{}")), 7);
  auto counts = received.named("aggregate");
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_FALSE(counts[0].view().find("$readPreference")) << counts[0].to_json();  // primary
  EXPECT_FALSE(counts[0].view().find("writeConcern")) << counts[0].to_json();
}

TEST(HandleOptions, WithOptionsOverridesOnACopyAtEachLevel) {
  Received received;
  LoopbackServer server(mongos(received));
  MongoClient client(uri_of(server, "w=2&readConcernLevel=local&readPreference=nearest"));
  Database app = client["app"];
  Database secondary_db =
      app.with_options({.read_preference = mode(ReadPreference::Mode::kSecondary)});
  // The database's override reaches its collections; the URI's other options stay.
  Collection from_db = secondary_db["c"];
  ASSERT_TRUE(from_db.options().read_preference);
  EXPECT_EQ(from_db.options().read_preference->mode, ReadPreference::Mode::kSecondary);
  EXPECT_EQ(from_db.options().write_concern, w(2));
  EXPECT_EQ(from_db.options().read_concern, ReadConcern{"local"});

  // A collection's override on top of that; the original handles are unchanged.
  Collection overridden =
      from_db.with_options({.write_concern = w("majority"),
                            .read_concern = ReadConcern{"available"},
                            .read_preference = mode(ReadPreference::Mode::kPrimaryPreferred)});
  EXPECT_EQ(overridden.options().write_concern, w("majority"));
  EXPECT_EQ(overridden.options().read_concern, ReadConcern{"available"});
  EXPECT_EQ(from_db.options().write_concern, w(2));
  EXPECT_EQ(app["c"].options().read_preference->mode, ReadPreference::Mode::kNearest);

  EXPECT_EQ(app["c"].count_documents(json("{}")), 7);
  EXPECT_EQ(from_db.count_documents(json("{}")), 7);
  EXPECT_EQ(overridden.count_documents(json("{}")), 7);
  auto counts = received.named("aggregate");
  ASSERT_EQ(counts.size(), 3u);
  EXPECT_EQ(counts[0]["$readPreference"].get_document(), json(R"({"mode": "nearest"})"));
  EXPECT_EQ(counts[1]["$readPreference"].get_document(), json(R"({"mode": "secondary"})"));
  EXPECT_EQ(counts[2]["$readPreference"].get_document(), json(R"({"mode": "primaryPreferred"})"));
}

// Database::run_command sends the command as given: the handle's concerns are not added, and
// its read preference is not used (primary unless one is passed).
TEST(HandleOptions, RunCommandAppliesNoneOfTheHandleOptions) {
  Received received;
  LoopbackServer server(mongos(received));
  MongoClient client(uri_of(server, "w=majority&readConcernLevel=majority&readPreference=nearest"));
  client["app"].run_command(json(R"({"ping": 1})"));
  auto pings = received.named("ping");
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0], json(R"({"ping": 1, "$db": "app"})")) << pings[0].to_json();
}

}  // namespace
}  // namespace mongoslice
