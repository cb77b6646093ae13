// Implicit sessions, $clusterTime gossip and retryable writes and reads, through a MongoClient
// and both engines, against a scripted replica-set primary on loopback (one member, reached
// directly: SDAM's Single topology with an RSPrimary, where retryable writes apply). The server
// records every command it is sent, so each test checks the wire itself: which commands carry
// an lsid and a txnNumber, and how often a command was sent.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "driver/mongo_client.hpp"
#include "monitor/server_description.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;

// What the scripted primary does with the next command of a name: answer with `reply` instead
// of the normal answer, or hang up (no reply: a network error, as if the reply were lost).
struct Fault {
  std::optional<bson::Document> reply;  // none: hang up
};

class ScriptedPrimary {
 public:
  // `sessions`: whether hello says logicalSessionTimeoutMinutes; `replica_set`: an RSPrimary
  // (else a standalone, or with `mongos` a mongos).
  explicit ScriptedPrimary(bool sessions = true, bool replica_set = true, bool mongos = false)
      : sessions_(sessions),
        replica_set_(replica_set),
        mongos_(mongos),
        server_([this](testing::PeerStream& s, int) { serve(s); }) {}

  std::string host() const { return server_.address().to_string(); }

  std::string uri(const std::string& options = "") const {
    return "mongodb://" + server_.address().to_string() +
           "/?directConnection=true&serverSelectionTimeoutMS=5000&heartbeatFrequencyMS=60000" +
           options;
  }

  void fail_next(const std::string& command, Fault fault) {
    std::lock_guard lock(mutex_);
    faults_[command].push_back(std::move(fault));
  }
  // Every command received but the monitors' and handshakes' hellos, in order.
  std::vector<bson::Document> received(const std::string& name) {
    std::lock_guard lock(mutex_);
    std::vector<bson::Document> out;
    for (const auto& c : commands_) {
      if ((*c.view().begin()).key() == name) out.push_back(c);
    }
    return out;
  }

 private:
  bson::Document hello_reply() {
    bson::Builder b;
    b.append("isWritablePrimary", true).append("helloOk", true);
    if (replica_set_) {
      b.append("setName", "rs0").append("setVersion", 1);
      b.open_array("hosts").append_value(server_.address().to_string()).close();
      b.append("primary", server_.address().to_string());
      b.append("me", server_.address().to_string());
    }
    if (mongos_) b.append("msg", "isdbgrid");
    if (sessions_) b.append("logicalSessionTimeoutMinutes", 30);
    b.append("maxBsonObjectSize", 16 * 1024 * 1024)
        .append("maxMessageSizeBytes", 48'000'000)
        .append("maxWriteBatchSize", 100'000)
        .append("minWireVersion", 0)
        .append("maxWireVersion", 21)
        .append("ok", 1.0);
    return b.build();
  }

  // Each reply carries a cluster time one tick later than the last.
  void add_cluster_time(bson::Builder& b) {
    const auto tick = static_cast<std::uint32_t>(++cluster_ticks_);
    b.open_document("$clusterTime")
        .append_timestamp("clusterTime", bson::Timestamp{1'700'000'000, tick})
        .open_document("signature")
        .append_binary("hash", 0, std::vector<std::uint8_t>(20, 0))
        .append("keyId", std::int64_t{0})
        .close()
        .close();
  }

  bson::Document normal_reply(const std::string& name, bson::View command) {
    bson::Builder b;
    if (name == "find" || name == "aggregate") {
      // A cursor that needs one getMore.
      b.open_document("cursor")
          .append("id", std::int64_t{77})
          .append("ns", "db.c")
          .open_array("firstBatch")
          .append_value(bson::Document::from_json(R"({"_id": 1})").view())
          .close()
          .close();
    } else if (name == "getMore") {
      b.open_document("cursor")
          .append("id", std::int64_t{0})
          .append("ns", "db.c")
          .open_array("nextBatch")
          .append_value(bson::Document::from_json(R"({"_id": 2})").view())
          .close()
          .close();
    } else if (name == "insert" || name == "delete") {
      b.append("n", 1);
    } else if (name == "update") {
      b.append("n", 1).append("nModified", 1);
    }
    (void)command;
    b.append("ok", 1.0);
    add_cluster_time(b);
    return b.build();
  }

  void serve(testing::PeerStream& s) {
    for (;;) {
      auto request = s.read_message();
      bson::Document body = testing::body_of(request);
      const std::string name((*body.view().begin()).key());
      if (name == "hello" || name == "isMaster" || name == "ismaster") {
        s.write(testing::reply_to(request, hello_reply()));
        continue;
      }
      std::optional<Fault> fault;
      {
        std::lock_guard lock(mutex_);
        commands_.push_back(body);
        if (auto it = faults_.find(name); it != faults_.end() && !it->second.empty()) {
          fault = std::move(it->second.front());
          it->second.pop_front();
        }
      }
      if (fault && !fault->reply) return;  // hang up
      s.write(testing::reply_to(
          request, fault ? fault->reply->view() : normal_reply(name, body.view()).view()));
    }
  }

  bool sessions_;
  bool replica_set_;
  bool mongos_;
  std::atomic<int> cluster_ticks_{0};
  std::mutex mutex_;
  std::map<std::string, std::deque<Fault>> faults_;
  std::vector<bson::Document> commands_;
  testing::LoopbackServer server_;
};

bson::Document json(const char* text) {
  return bson::Document::from_json(text);
}

// The lsid's bytes, or "" when the command has none.
std::string lsid_of(const bson::Document& command) {
  auto lsid = command.view().find("lsid");
  if (!lsid) return "";
  auto id = lsid->get_document()["id"].get_binary();
  EXPECT_EQ(id.subtype, 4);
  EXPECT_EQ(id.bytes.size(), 16u);
  return std::string(id.bytes.begin(), id.bytes.end());
}

std::optional<std::int64_t> txn_number_of(const bson::Document& command) {
  auto txn = command.view().find("txnNumber");
  if (!txn) return std::nullopt;
  return txn->get_int64();
}

// Runs `body` as a coroutine on a fresh io_context to its end, rethrowing what it threw.
template <typename Body>
void run_async(Body body) {
  boost::asio::io_context io;
  auto done = boost::asio::co_spawn(io, body, boost::asio::use_future);
  io.run();
  done.get();
}

// ---- implicit sessions --------------------------------------------------------------------------

TEST(ImplicitSessions, EveryCommandCarriesAnLsidAndTheCursorsGetMoreCarriesItsOwn) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  auto c = client["db"]["c"];
  c.insert_one(json(R"({"_id": 1})"));
  std::vector<std::int64_t> ids;
  for (bson::View doc : c.find(json("{}"))) ids.push_back(doc["_id"].as_int64());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2}));
  client["db"].run_command(json(R"({"ping": 1})"));

  const auto inserts = server.received("insert");
  const auto finds = server.received("find");
  const auto get_mores = server.received("getMore");
  const auto pings = server.received("ping");
  ASSERT_EQ(inserts.size(), 1u);
  ASSERT_EQ(finds.size(), 1u);
  ASSERT_EQ(get_mores.size(), 1u);
  ASSERT_EQ(pings.size(), 1u);
  const std::string lsid = lsid_of(inserts[0]);
  ASSERT_FALSE(lsid.empty());
  // One operation at a time: the pool hands the same session back each time (LIFO).
  EXPECT_EQ(lsid_of(finds[0]), lsid);
  EXPECT_EQ(lsid_of(get_mores[0]), lsid_of(finds[0]));
  EXPECT_EQ(lsid_of(pings[0]), lsid);
  // Only the retryable write takes a transaction number.
  EXPECT_EQ(txn_number_of(inserts[0]), 1);
  EXPECT_FALSE(txn_number_of(finds[0]));
  EXPECT_FALSE(txn_number_of(get_mores[0]));
}

TEST(ImplicitSessions, ACursorKeepsItsSessionSoAConcurrentOperationGetsAnother) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  auto c = client["db"]["c"];
  Cursor cursor = c.find(json("{}"));  // live: its session stays with it
  c.insert_one(json(R"({"_id": 3})"));
  for (bson::View doc : cursor) (void)doc;
  const auto finds = server.received("find");
  const auto inserts = server.received("insert");
  const auto get_mores = server.received("getMore");
  ASSERT_EQ(finds.size(), 1u);
  ASSERT_EQ(inserts.size(), 1u);
  ASSERT_EQ(get_mores.size(), 1u);
  EXPECT_NE(lsid_of(inserts[0]), lsid_of(finds[0]));
  EXPECT_EQ(lsid_of(get_mores[0]), lsid_of(finds[0]));
}

TEST(ImplicitSessions, AnAbandonedCursorsKillCarriesNoLsidAndItsSessionIsReused) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  auto c = client["db"]["c"];
  {
    Cursor cursor = c.find(json("{}"));
    (void)cursor.begin();
  }  // abandoned: killCursors goes through the kill executor
  for (int i = 0; i < 200 && server.received("killCursors").empty(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  c.insert_one(json(R"({"_id": 4})"));
  const auto kills = server.received("killCursors");
  ASSERT_EQ(kills.size(), 1u);
  EXPECT_EQ(lsid_of(kills[0]), "");
  // The cursor's destructor gave its session back (lock-free); the insert took it again.
  EXPECT_EQ(lsid_of(server.received("insert").at(0)), lsid_of(server.received("find").at(0)));
}

TEST(ImplicitSessions, AnUnacknowledgedWriteCarriesNoSession) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  WriteConcern unacknowledged;
  unacknowledged.w = std::int32_t{0};
  auto c = client["db"]["c"].with_options({.write_concern = unacknowledged});
  c.insert_one(json(R"({"_id": 5})"));
  const auto inserts = server.received("insert");
  ASSERT_EQ(inserts.size(), 1u);
  EXPECT_EQ(lsid_of(inserts[0]), "");
  EXPECT_FALSE(txn_number_of(inserts[0]));
}

TEST(ImplicitSessions, ADeploymentWithoutSessionsGetsNoLsid) {
  ScriptedPrimary server(/*sessions=*/false);
  MongoClient client(server.uri());
  client["db"]["c"].insert_one(json(R"({"_id": 6})"));
  const auto inserts = server.received("insert");
  ASSERT_EQ(inserts.size(), 1u);
  EXPECT_EQ(lsid_of(inserts[0]), "");
  EXPECT_FALSE(txn_number_of(inserts[0]));
}

TEST(ImplicitSessions, AStandaloneGetsAnLsidButNoTxnNumber) {
  ScriptedPrimary server(/*sessions=*/true, /*replica_set=*/false);
  MongoClient client(server.uri());
  client["db"]["c"].insert_one(json(R"({"_id": 7})"));
  const auto inserts = server.received("insert");
  ASSERT_EQ(inserts.size(), 1u);
  EXPECT_NE(lsid_of(inserts[0]), "");
  EXPECT_FALSE(txn_number_of(inserts[0]));
}

TEST(ImplicitSessions, CloseEndsThePooledSessions) {
  ScriptedPrimary server;
  std::string lsid;
  {
    MongoClient client(server.uri());
    client["db"]["c"].insert_one(json(R"({"_id": 8})"));
    lsid = lsid_of(server.received("insert").at(0));
  }
  const auto ends = server.received("endSessions");
  ASSERT_EQ(ends.size(), 1u);
  std::vector<std::string> ended;
  for (const bson::Element& e : ends[0].view()["endSessions"].get_array()) {
    auto id = e.get_document()["id"].get_binary();
    ended.emplace_back(id.bytes.begin(), id.bytes.end());
  }
  EXPECT_EQ(ended, std::vector<std::string>{lsid});
}

TEST(ClusterTime, EachCommandCarriesTheGreatestClusterTimeSeen) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  auto c = client["db"]["c"];
  c.insert_one(json(R"({"_id": 1})"));
  c.insert_one(json(R"({"_id": 2})"));
  c.insert_one(json(R"({"_id": 3})"));
  const auto inserts = server.received("insert");
  ASSERT_EQ(inserts.size(), 3u);
  EXPECT_FALSE(inserts[0].view().contains("$clusterTime"));  // nothing seen yet
  const auto t1 = inserts[1].view()["$clusterTime"].get_document()["clusterTime"].get_timestamp();
  const auto t2 = inserts[2].view()["$clusterTime"].get_document()["clusterTime"].get_timestamp();
  EXPECT_LT(t1.i, t2.i);  // the newer reply's time, not the first one's
}

// ---- retryable writes -------------------------------------------------------------------------

TEST(RetryableWrites, AWriteWhoseReplyWasLostIsSentOnceMoreWithTheSameTxnNumber) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  client["db"]["c"].insert_one(json(R"({"_id": 0})"));  // txnNumber 1
  server.fail_next("insert", Fault{});
  EXPECT_NO_THROW(client["db"]["c"].insert_one(json(R"({"_id": 1})")));
  const auto inserts = server.received("insert");
  ASSERT_EQ(inserts.size(), 3u);
  EXPECT_EQ(txn_number_of(inserts[1]), 2);
  EXPECT_EQ(txn_number_of(inserts[2]), 2);
  EXPECT_EQ(lsid_of(inserts[1]), lsid_of(inserts[2]));
}

TEST(RetryableWrites, AsyncAWriteWhoseReplyWasLostIsSentOnceMore) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("insert", Fault{});
  run_async([&]() -> boost::asio::awaitable<void> {
    const auto doc = json(R"({"_id": 1})");
    co_await client["db"]["c"].async_insert_one(doc.view(), boost::asio::use_awaitable);
  });
  const auto inserts = server.received("insert");
  ASSERT_EQ(inserts.size(), 2u);
  EXPECT_EQ(txn_number_of(inserts[0]), txn_number_of(inserts[1]));
  EXPECT_TRUE(txn_number_of(inserts[0]));
  EXPECT_EQ(lsid_of(inserts[0]), lsid_of(inserts[1]));
}

// A retry in a sharded cluster avoids the mongos that failed (the retryable writes spec's
// deprioritized servers): two scripted mongoses that each refuse every insert with a retryable
// error (SocketException with the RetryableWriteError label: no error SDAM acts on, so both
// stay selectable), 8 inserts. Each insert's first attempt fails on one mongos and its retry on
// the other, so each gets 8; a retry that could go to the same mongos again would leave them
// uneven (all even by chance in 1 of 2^8 runs).
// Counts the servers described as mongoses, and waits (at most 10 s) for a number of them.
class KnownMongoses : public EventListener {
 public:
  void on(const ServerDescriptionChangedEvent& e) override {
    std::lock_guard lock(mutex_);
    if (e.current.type == ServerType::kMongos) hosts_.insert(e.address.to_string());
    changed_.notify_all();
  }
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return hosts_.size() >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> hosts_;
};

void expect_retries_go_to_the_other_mongos(bool async) {
  ScriptedPrimary a(true, false, true), b(true, false, true);
  constexpr int kInserts = 8;
  const auto refusal = json(
      R"({"ok": 0, "code": 9001, "codeName": "SocketException", "errmsg": "scripted",
          "errorLabels": ["RetryableWriteError"]})");
  for (int i = 0; i < kInserts; ++i) {
    a.fail_next("insert", Fault{refusal});
    b.fail_next("insert", Fault{refusal});
  }
  // A wide latency window: both mongoses are always suitable, once both are known.
  auto mongoses = std::make_shared<KnownMongoses>();
  MongoClient client("mongodb://" + a.host() + "," + b.host() +
                         "/?serverSelectionTimeoutMS=5000&heartbeatFrequencyMS=60000"
                         "&localThresholdMS=10000",
                     ClientOptions{{mongoses}});
  if (!mongoses->wait_for(2)) FAIL() << "the two mongoses were not both discovered";
  Collection c = client["db"]["c"];
  int failures = 0;
  for (int i = 0; i < kInserts; ++i) {
    const auto doc = bson::Builder{}.append("_id", i).build();
    try {
      if (async) {
        run_async([&]() -> boost::asio::awaitable<void> {
          co_await c.async_insert_one(doc.view(), boost::asio::use_awaitable);
        });
      } else {
        c.insert_one(doc);
      }
    } catch (const Error&) {
      ++failures;
    }
  }
  EXPECT_EQ(failures, kInserts);
  EXPECT_EQ(a.received("insert").size(), static_cast<std::size_t>(kInserts));
  EXPECT_EQ(b.received("insert").size(), static_cast<std::size_t>(kInserts));
}

TEST(RetryableWrites, ARetryInAShardedClusterGoesToAnotherMongos) {
  expect_retries_go_to_the_other_mongos(false);
}

TEST(RetryableWrites, AsyncARetryInAShardedClusterGoesToAnotherMongos) {
  expect_retries_go_to_the_other_mongos(true);
}

TEST(RetryableWrites, WithRetryWritesOffTheNetworkErrorSurfaces) {
  ScriptedPrimary server;
  MongoClient client(server.uri("&retryWrites=false"));
  server.fail_next("insert", Fault{});
  try {
    client["db"]["c"].insert_one(json(R"({"_id": 1})"));
    ADD_FAILURE() << "the insert succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(dynamic_cast<const ServerError*>(&e), nullptr);  // the network error itself
  }
  const auto inserts = server.received("insert");
  ASSERT_EQ(inserts.size(), 1u);
  EXPECT_FALSE(txn_number_of(inserts[0]));
}

TEST(RetryableWrites, AMultiDocumentUpdateIsNeverRetried) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("update", Fault{});
  EXPECT_THROW(client["db"]["c"].update_many(json("{}"), json(R"({"$set": {"a": 1}})")), Error);
  const auto updates = server.received("update");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_FALSE(txn_number_of(updates[0]));
}

TEST(RetryableWrites, ASingleDocumentUpdateIsRetried) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("update", Fault{});
  EXPECT_NO_THROW(client["db"]["c"].update_one(json("{}"), json(R"({"$set": {"a": 1}})")));
  EXPECT_EQ(server.received("update").size(), 2u);
}

TEST(RetryableWrites, ALabelledServerErrorIsRetriedAndAnUnlabelledOneIsNot) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("insert", Fault{json(R"({"ok": 0, "code": 91, "codeName": "ShutdownInProgress",
      "errmsg": "shutting down", "errorLabels": ["RetryableWriteError"]})")});
  EXPECT_NO_THROW(client["db"]["c"].insert_one(json(R"({"_id": 1})")));
  EXPECT_EQ(server.received("insert").size(), 2u);

  // The same code without the label (a 4.4+ server decided it is not retryable).
  server.fail_next("insert", Fault{json(R"({"ok": 0, "code": 91, "codeName": "ShutdownInProgress",
      "errmsg": "shutting down"})")});
  try {
    client["db"]["c"].insert_one(json(R"({"_id": 2})"));
    ADD_FAILURE() << "the insert succeeded";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 91);
  }
  EXPECT_EQ(server.received("insert").size(), 3u);
}

TEST(RetryableWrites, ARetryThatPerformedNoWritesReportsTheFirstError) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("insert", Fault{json(R"({"ok": 0, "code": 91, "errmsg": "first",
      "errorLabels": ["RetryableWriteError"]})")});
  server.fail_next("insert", Fault{json(R"({"ok": 0, "code": 10107, "errmsg": "second",
      "errorLabels": ["RetryableWriteError", "NoWritesPerformed"]})")});
  try {
    client["db"]["c"].insert_one(json(R"({"_id": 1})"));
    ADD_FAILURE() << "the insert succeeded";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 91);
  }
  EXPECT_EQ(server.received("insert").size(), 2u);  // one retry, never two
}

TEST(RetryableWrites, OtherwiseTheRetrysErrorIsReported) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("insert", Fault{json(R"({"ok": 0, "code": 91, "errmsg": "first",
      "errorLabels": ["RetryableWriteError"]})")});
  server.fail_next("insert", Fault{json(R"({"ok": 0, "code": 11600, "errmsg": "second",
      "errorLabels": ["RetryableWriteError"]})")});
  try {
    client["db"]["c"].insert_one(json(R"({"_id": 1})"));
    ADD_FAILURE() << "the insert succeeded";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 11600);
  }
  EXPECT_EQ(server.received("insert").size(), 2u);
}

TEST(RetryableWrites, ARetryableWriteConcernErrorIsRetried) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("insert", Fault{json(R"({"ok": 1, "n": 1,
      "writeConcernError": {"code": 91, "errmsg": "shutting down"},
      "errorLabels": ["RetryableWriteError"]})")});
  EXPECT_NO_THROW(client["db"]["c"].insert_one(json(R"({"_id": 1})")));
  const auto inserts = server.received("insert");
  ASSERT_EQ(inserts.size(), 2u);
  EXPECT_EQ(txn_number_of(inserts[0]), txn_number_of(inserts[1]));
}

// ---- retryable reads --------------------------------------------------------------------------

TEST(RetryableReads, AFindThatMetANetworkErrorIsSentOnceMore) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("find", Fault{});
  std::optional<bson::Document> found;
  EXPECT_NO_THROW(found = client["db"]["c"].find_one(json("{}")));
  EXPECT_TRUE(found);
  EXPECT_EQ(server.received("find").size(), 2u);
}

TEST(RetryableReads, AsyncAFindThatMetARetryableErrorIsSentOnceMore) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("find", Fault{json(R"({"ok": 0, "code": 11602, "errmsg": "stepping down"})")});
  std::optional<bson::Document> found;
  run_async([&]() -> boost::asio::awaitable<void> {
    const auto filter = json("{}");
    found = co_await client["db"]["c"].async_find_one(filter.view(), boost::asio::use_awaitable);
  });
  EXPECT_TRUE(found);
  EXPECT_EQ(server.received("find").size(), 2u);
}

TEST(RetryableReads, WithRetryReadsOffTheErrorSurfaces) {
  ScriptedPrimary server;
  MongoClient client(server.uri("&retryReads=false"));
  server.fail_next("find", Fault{});
  EXPECT_THROW(client["db"]["c"].find_one(json("{}")), Error);
  EXPECT_EQ(server.received("find").size(), 1u);
}

TEST(RetryableReads, AGetMoreIsNeverRetried) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("getMore", Fault{});
  Cursor cursor = client["db"]["c"].find(json("{}"));
  EXPECT_THROW(
      {
        for (bson::View doc : cursor) (void)doc;
      },
      Error);
  EXPECT_EQ(server.received("getMore").size(), 1u);
}

TEST(RetryableReads, AnErrorThatIsNotRetryableIsNotRetried) {
  ScriptedPrimary server;
  MongoClient client(server.uri());
  server.fail_next("find", Fault{json(R"({"ok": 0, "code": 2, "errmsg": "bad value"})")});
  EXPECT_THROW(client["db"]["c"].find_one(json("{}")), ServerError);
  EXPECT_EQ(server.received("find").size(), 1u);
}

}  // namespace
}  // namespace mongoslice
