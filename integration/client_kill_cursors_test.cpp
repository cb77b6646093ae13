// Kill-cursors end to end against integration/mock/cursor_server.py, a small OP_MSG server that
// hands out cursors cheaply and counts every killCursors id it receives.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "monitor/periodic_executor.hpp"
#include "support/test_servers.hpp"

namespace mongoslice {
namespace {

using integration::MockServer;
using testing::EventRecorder;
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

}  // namespace
}  // namespace mongoslice
