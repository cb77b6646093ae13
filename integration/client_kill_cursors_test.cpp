// Kill-cursors end to end: against integration/mock/cursor_server.py, a small OP_MSG server that
// hands out cursors cheaply and counts every killCursors id it receives, and against each real
// server (FerretDB, mongo-java-server), whose own request log must show every kill.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "monitor/periodic_executor.hpp"
#include "server_deviations.hpp"
#include "support/test_servers.hpp"

namespace mongoslice {
namespace {

using integration::MockServer;
using testing::EventRecorder;
using testing::RealServer;
using namespace std::chrono_literals;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

bson::Document stats(const MongoClient& client) {
  return client["admin"].run_command(json(R"({"mockStats": 1})"));
}
std::int64_t stat(const MongoClient& client, std::string_view key) {
  return stats(client)[key].as_int64();
}

// A client of one or more mock servers (given as "host:port").
MongoClient connect(const std::vector<std::string>& servers, std::shared_ptr<EventRecorder> events,
                    std::string extra = "") {
  std::string uri = "mongodb://";
  for (std::size_t i = 0; i < servers.size(); ++i) uri += (i ? "," : "") + servers[i];
  uri += "/?serverSelectionTimeoutMS=5000&heartbeatFrequencyMS=500" + extra;
  return MongoClient(uri, ClientOptions{{std::move(events)}});
}

TEST(ClientIntegrationKillCursors, SendsTheExactCommand) {
  MockServer server("cursor_server.py");
  auto events = std::make_shared<EventRecorder>();
  MongoClient client = connect({server.address().to_string()}, events);
  std::int64_t id = 0;
  {
    Cursor cursor = client["mdb"]["c1"].find(json("{}"));
    id = cursor.id();
    ASSERT_NE(id, 0);
  }
  ASSERT_TRUE(testing::wait_until([&] { return stat(client, "killCommands") == 1; }, 5s));
  const bson::Document reply_of_mock = client["admin"].run_command(json(R"({"mockKills": 1})"));
  auto kills = reply_of_mock["kills"].get_array();
  ASSERT_NE(kills.begin(), kills.end());
  auto first = (*kills.begin()).get_document();
  auto expected = bson::Builder{}
                      .append("killCursors", "c1")
                      .open_array("cursors")
                      .append_value(id)
                      .close()
                      .append("$db", "mdb")
                      .build();
  EXPECT_EQ(bson::Document(first["command"].get_document()).to_json(), expected.to_json());
  // The command events saw it too, with the server's answer.
  ASSERT_TRUE(
      testing::wait_until([&] { return events->count("killCursors", "succeeded") == 1; }, 5s));
  auto reply = events->commands("killCursors", "succeeded")[0].document;
  EXPECT_EQ((*reply["cursorsKilled"].get_array().begin()).as_int64(), id);
}

TEST(ClientIntegrationKillCursors, ABurstOfAbandonedCursorsSharesAFewCommands) {
  MockServer server("cursor_server.py");
  auto events = std::make_shared<EventRecorder>();
  MongoClient client = connect({server.address().to_string()}, events);
  auto coll = client["mdb"]["burst"];
  std::vector<Cursor> cursors;
  for (int i = 0; i < 1000; ++i) cursors.push_back(coll.find(json("{}")));
  cursors.clear();  // all abandoned at once
  ASSERT_TRUE(testing::wait_until([&] { return stat(client, "killedIds") == 1000; }, 10s));
  auto s = stats(client);
  EXPECT_EQ(s["duplicates"].as_int64(), 0);
  EXPECT_EQ(s["missing"].as_int64(), 0);
  EXPECT_LE(s["killCommands"].as_int64(), 5) << s.to_json();
}

// Two mongoses (so one client has two servers) and two namespaces: every killCursors names one
// namespace on the server that owns its cursors.
TEST(ClientIntegrationKillCursors, NeverMixesServersOrNamespaces) {
  MockServer a("cursor_server.py", {"--mongos", "--id-base", "1000000"});
  MockServer b("cursor_server.py", {"--mongos", "--id-base", "5000000"});
  auto events = std::make_shared<EventRecorder>();
  MongoClient client =
      connect({a.address().to_string(), b.address().to_string()}, events, "&localThresholdMS=1000");
  std::set<std::string> servers_used;
  std::vector<Cursor> cursors;
  for (int i = 0; i < 400 && (servers_used.size() < 2 || i < 200); ++i) {
    cursors.push_back(client["mdb"][i % 2 ? "odd" : "even"].find(json("{}")));
    servers_used.insert(cursors.back().server().to_string());
  }
  ASSERT_EQ(servers_used.size(), 2u) << "selection never used both mongoses";
  const auto total = static_cast<std::int64_t>(cursors.size());
  cursors.clear();
  MongoClient probe_a = connect({a.address().to_string()}, nullptr, "&directConnection=true");
  MongoClient probe_b = connect({b.address().to_string()}, nullptr, "&directConnection=true");
  ASSERT_TRUE(testing::wait_until(
      [&] { return stat(probe_a, "killedIds") + stat(probe_b, "killedIds") == total; }, 10s));
  for (auto* probe : {&probe_a, &probe_b}) {
    auto s = stats(*probe);
    EXPECT_EQ(s["unknown"].as_int64(), 0) << "ids of the other server: " << s.to_json();
    EXPECT_EQ(s["mixed"].as_int64(), 0) << "ids of the other namespace: " << s.to_json();
    EXPECT_EQ(s["duplicates"].as_int64(), 0) << s.to_json();
    EXPECT_EQ(s["missing"].as_int64(), 0) << s.to_json();
  }
}

TEST(ClientIntegrationKillCursors, ServerDownReportsDroppedAndTheExecutorGoesOn) {
  MockServer a("cursor_server.py", {"--mongos", "--id-base", "1000000"});
  auto b = std::make_unique<MockServer>(
      "cursor_server.py", std::vector<std::string>{"--mongos", "--id-base", "5000000"});
  const std::string b_address = b->address().to_string();
  auto events = std::make_shared<EventRecorder>();
  MongoClient client =
      connect({a.address().to_string(), b_address}, events, "&localThresholdMS=1000");
  std::vector<Cursor> on_b;
  for (int i = 0; i < 300 && on_b.size() < 3; ++i) {
    Cursor c = client["mdb"]["c"].find(json("{}"));
    if (c.server().to_string() == b_address) on_b.push_back(std::move(c));
  }
  ASSERT_FALSE(on_b.empty()) << "selection never used the second mongos";
  std::set<std::int64_t> b_ids;
  for (auto& c : on_b) b_ids.insert(c.id());

  b.reset();     // the server goes down while its cursors live
  on_b.clear();  // the kills are due now
  ASSERT_TRUE(testing::wait_until([&] { return events->dropped().size() >= b_ids.size(); }, 15s));
  auto dropped = events->dropped();
  EXPECT_EQ(std::set<std::int64_t>(dropped.begin(), dropped.end()), b_ids);
  EXPECT_TRUE(client.kill_cursors_executor().is_running());

  // A later kill to the live server still goes out.
  std::int64_t id = 0;
  for (int attempt = 0; attempt < 50 && id == 0; ++attempt) {
    try {
      Cursor c = client["mdb"]["c"].find(json("{}"));
      if (c.server().to_string() == a.address().to_string())
        id = c.id();
      else
        c.close();
    } catch (const Error&) {
      // The down server may still be selected until its monitor notices.
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_NE(id, 0);
  ASSERT_TRUE(testing::wait_until(
      [&] {
        auto ids = events->killed_ids();
        return std::find(ids.begin(), ids.end(), id) != ids.end() &&
               events->count("killCursors", "succeeded") > 0;
      },
      5s));
}

// Bounded stress through the real client and sockets: 8 threads abandon cursors concurrently;
// every id reaches the server in exactly one killCursors.
TEST(ClientIntegrationKillCursors, EightThreadsAbandoningCursorsKillEachIdOnce) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20'000;
  MockServer server("cursor_server.py");
  MongoClient client = connect({server.address().to_string()}, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto coll = client["mdb"]["stress" + std::to_string(t % 3)];
      for (int i = 0; i < kPerThread; ++i) {
        Cursor c = coll.find(json("{}"));  // destroyed live at the end of the iteration
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::int64_t total = kThreads * kPerThread;
  ASSERT_TRUE(testing::wait_until([&] { return stat(client, "killedIds") == total; }, 60s));
  auto s = stats(client);
  EXPECT_EQ(s["cursors"].as_int64(), total);
  EXPECT_EQ(s["duplicates"].as_int64(), 0);
  EXPECT_EQ(s["missing"].as_int64(), 0);
  EXPECT_EQ(s["unknown"].as_int64(), 0);
  EXPECT_EQ(s["mixed"].as_int64(), 0);
}

// After fork(), a cursor destroyed in the child never kills the parent's server cursor: the
// child reports it dropped (after_fork); the parent still kills it, once.
TEST(ClientIntegrationKillCursors, ACursorDestroyedInAForkedChildIsNotKilled) {
  MockServer server("cursor_server.py");
  auto events = std::make_shared<EventRecorder>();
  MongoClient client = connect({server.address().to_string()}, events);
  std::optional<Cursor> cursor = client["mdb"]["forked"].find(json("{}"));
  const std::int64_t id = cursor->id();
  ASSERT_NE(id, 0);

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    cursor.reset();  // pushed with the parent's fork generation
    client.close();  // the final kill run reports it instead of sending it
    auto dropped = events->dropped();
    bool ok = dropped.size() == 1 && dropped[0] == id && events->count("killCursors") == 0;
    ::_exit(ok ? 0 : 1);
  }
  int status = -1;
  bool ended =
      testing::wait_until([&] { return ::waitpid(child, &status, WNOHANG) == child; }, 20s);
  if (!ended) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
  }
  ASSERT_TRUE(ended) << "the child hung";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_EQ(stat(client, "killedIds"), 0) << "the child killed the parent's cursor";

  cursor.reset();  // the parent's own kill goes out
  ASSERT_TRUE(testing::wait_until([&] { return stat(client, "killedIds") == 1; }, 5s));
  EXPECT_EQ(stat(client, "duplicates"), 0);
}

// ---- against the real servers, as their logs show --------------------------------------------

class ClientIntegrationKillsInTheServerLog : public ::testing::TestWithParam<RealServer> {
 protected:
  void SetUp() override {
    MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES();
    events_ = std::make_shared<EventRecorder>();
    client_.emplace(GetParam().uri(), ClientOptions{{events_}});
  }
  // A fresh collection of `n` documents, named after the test (so that the log's entries of
  // another test, or another run against FerretDB's same log, are not counted).
  Collection filled(const std::string& suffix, int n) {
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    Collection coll = (*client_)["client_kill_it"][test.substr(0, test.find('/')) + "_" + suffix];
    coll.drop();
    std::vector<bson::Document> docs;
    for (int i = 0; i < n; ++i) docs.push_back(bson::Builder{}.append("_id", i).build());
    coll.insert_many(docs);
    return coll;
  }
  bool server_forgot(Collection& coll, std::int64_t id) {
    try {
      (*client_)["client_kill_it"].run_command(
          bson::Builder{}.append("getMore", id).append("collection", coll.name()).build());
      return false;
    } catch (const ServerError& e) {
      return e.server_code() == server_code::kCursorNotFound;
    }
  }

  std::shared_ptr<EventRecorder> events_;
  std::optional<MongoClient> client_;
};

// Cursors of two collections abandoned at once: the server's log shows each id killed once,
// under its own collection, and the server has forgotten every one.
TEST_P(ClientIntegrationKillsInTheServerLog, ABurstOnTwoCollectionsKillsEachIdOnceInItsNamespace) {
  const RealServer& server = GetParam();
  Collection left = filled("left", 30);
  Collection right = filled("right", 30);
  std::map<std::string, std::set<std::int64_t>> ids;
  {
    std::vector<Cursor> cursors;
    for (int i = 0; i < 20; ++i) {
      Collection& coll = i % 2 ? right : left;
      cursors.push_back(coll.find(json("{}"), {.batch_size = 2}));
      ASSERT_NE(cursors.back().id(), 0);
      ids[coll.name()].insert(cursors.back().id());
    }
  }  // all abandoned live
  ASSERT_EQ(ids[left.name()].size() + ids[right.name()].size(), 20u) << "cursor ids repeat";
  ASSERT_TRUE(testing::wait_until([&] { return events_->killed_ids().size() >= 20; }, 10s))
      << events_->killed_ids().size() << " of 20 ids sent";
  ASSERT_TRUE(testing::wait_until(
      [&] { return events_->count("killCursors", "succeeded") == events_->count("killCursors"); },
      10s));

  if (!server.log_is_readable()) {
    std::cout << "[ MONGODB_URI is set: the server's log is not checked ]\n";
  } else {
    // (Only this run's ids count: a log may hold earlier runs' kills of the same collections.)
    for (auto* coll : {&left, &right}) {
      const auto& mine = ids[coll->name()];
      const auto& theirs = ids[(coll == &left ? right : left).name()];
      std::multiset<std::int64_t> logged;
      auto all_mine_logged = [&] {
        auto in_log = server.killed_in_log(coll->name());
        logged = std::multiset<std::int64_t>(in_log.begin(), in_log.end());
        return std::all_of(mine.begin(), mine.end(), [&](auto id) { return logged.count(id); });
      };
      EXPECT_TRUE(testing::wait_until(all_mine_logged, 5s))
          << server.log_path() << " lacks kills on " << coll->name();
      for (std::int64_t id : mine) {
        EXPECT_EQ(logged.count(id), 1u) << "kills of cursor " << id << " on " << coll->name();
      }
      for (std::int64_t id : theirs) {
        EXPECT_EQ(logged.count(id), 0u) << "cursor " << id << " killed on " << coll->name();
      }
    }
  }
  for (auto* coll : {&left, &right}) {
    for (std::int64_t id : ids[coll->name()]) {
      EXPECT_TRUE(server_forgot(*coll, id)) << "cursor " << id << " is still open";
    }
  }
}

// Cursor::close() kills synchronously: the reply has come back before it returns.
TEST_P(ClientIntegrationKillsInTheServerLog, CloseKillsBeforeItReturns) {
  const RealServer& server = GetParam();
  Collection coll = filled("closed", 10);
  Cursor cursor = coll.find(json("{}"), {.batch_size = 2});
  const std::int64_t id = cursor.id();
  ASSERT_NE(id, 0);
  cursor.close();
  EXPECT_EQ(events_->count("killCursors", "succeeded"), 1u);
  EXPECT_EQ(events_->killed_ids(), std::vector<std::int64_t>{id});
  EXPECT_TRUE(server_forgot(coll, id));
  if (server.log_is_readable()) {
    EXPECT_TRUE(testing::wait_until([&] { return server.log_shows_kill(coll.name(), id); }, 5s))
        << "no killCursors of " << id << " in " << server.log_path();
  }
}

INSTANTIATE_TEST_SUITE_P(, ClientIntegrationKillsInTheServerLog,
                         ::testing::ValuesIn(testing::real_servers()), testing::server_name);

}  // namespace
}  // namespace mongoslice
