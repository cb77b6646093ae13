// The client at the edges of its life, against each real server (FerretDB, mongo-java-server)
// and the scripted cursor server (integration/mock/cursor_server.py): fork() with a host name,
// close() while a server hangs, listeners that close the client, cursors that outlive it, and an
// idle client.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dirent.h>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "client_test_support.hpp"
#include "driver/client_core.hpp"
#include "mongoslice.hpp"
#include "monitor/periodic_executor.hpp"
#include "server_deviations.hpp"
#include "support/child_process.hpp"
#include "support/test_servers.hpp"
#include "wire/log.hpp"

namespace mongoslice {
namespace {

using testing::wait_bounded;
using namespace std::chrono_literals;
using integration::MockServer;
using testing::RealServer;
using testing::wait_until;

bson::Document json(std::string_view text) {
  return bson::Document::from_json(text);
}

// The fixture's server under its host name: "localhost" instead of the IP literal, so that every
// connection resolves a name.
std::string localhost_uri(const RealServer& server, const std::string& options) {
  return "mongodb://localhost:" + std::to_string(server.port()) + "/?" + options;
}

// The tests below run once per real server (names ending in /FerretDB, /JavaServer).
class OnARealServer : public ::testing::TestWithParam<RealServer> {
 protected:
  void SetUp() override { MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES(); }
};

// Counts what the parent must not see after its child acted.
struct HealthListener : EventListener {
  std::atomic<int> heartbeats_succeeded{0};
  std::atomic<int> heartbeats_failed{0};
  std::atomic<int> became_unknown{0};
  std::mutex mutex;
  std::string last_failure;
  void on(const ServerHeartbeatSucceededEvent&) override { ++heartbeats_succeeded; }
  void on(const ServerHeartbeatFailedEvent& e) override {
    ++heartbeats_failed;
    std::lock_guard lock(mutex);
    last_failure = std::string(e.error);
  }
  void on(const ServerDescriptionChangedEvent& e) override {
    if (e.previous.is_known() && !e.current.is_known()) ++became_unknown;
  }
};

enum class ChildAction { close, destroy, ignore };

// The parent's client (a host name, a live cursor, a pooled connection and a monitor connection)
// survives whatever its child does with the copy it inherited.
void fork_and_check_the_parent(const RealServer& server, ChildAction action) {
  auto health = std::make_shared<HealthListener>();
  std::optional<MongoClient> client;
  client.emplace(localhost_uri(server, "heartbeatFrequencyMS=500&serverSelectionTimeoutMS=10000"),
                 ClientOptions{{health}});
  // One collection per variant: ctest runs the variants in parallel, and a drop would kill
  // another variant's cursor.
  auto coll =
      (*client)["mongoslice_fork"]["parent_cursor_" + std::to_string(static_cast<int>(action))];
  coll.drop();
  std::vector<bson::Document> docs;
  for (int i = 0; i < 20; ++i) docs.push_back(bson::Builder{}.append("i", i).build());
  coll.insert_many(docs);
  Cursor cursor = coll.find(json("{}"), {.batch_size = 2});
  auto it = cursor.begin();
  ASSERT_NE(cursor.id(), 0) << "the cursor must be live on the server";
  ASSERT_TRUE(wait_until([&] { return health->heartbeats_succeeded.load() >= 2; }, 10s));

  const auto forked = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    switch (action) {
      case ChildAction::close:
        client->close();
        _exit(0);
      case ChildAction::destroy:
        client.reset();
        _exit(0);
      case ChildAction::ignore:
        std::exit(0);  // the exit handler and static destructors run with the client inherited
    }
  }
  const int status = wait_bounded(pid, 10s);
  const auto child_took = std::chrono::steady_clock::now() - forked;
  ASSERT_NE(status, -1) << "the child did not exit within 10 s";
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_LT(child_took, 5s);  // loose; the figure is printed
  std::cout << "[ child exited after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(child_took).count()
            << " ms ]\n";

  // The parent's next three heartbeats, and its cursor.
  const int failed_before = health->heartbeats_failed.load();
  const int unknown_before = health->became_unknown.load();
  const int succeeded_before = health->heartbeats_succeeded.load();
  ASSERT_TRUE(
      wait_until([&] { return health->heartbeats_succeeded.load() >= succeeded_before + 3; }, 10s));
  EXPECT_EQ(health->heartbeats_failed.load(), failed_before) << health->last_failure;
  EXPECT_EQ(health->became_unknown.load(), unknown_before);
  int seen = 1;
  for (++it; it != cursor.end(); ++it) ++seen;
  EXPECT_EQ(seen, 20) << "the parent's cursor broke";
  EXPECT_EQ(coll.count_documents({}), 20);  // and its pooled connection works
}

class ClientFork : public OnARealServer {};
TEST_P(ClientFork, ChildClosesAnInheritedLocalhostClient) {
  fork_and_check_the_parent(GetParam(), ChildAction::close);
}
TEST_P(ClientFork, ChildDestroysAnInheritedLocalhostClient) {
  fork_and_check_the_parent(GetParam(), ChildAction::destroy);
}
TEST_P(ClientFork, ChildIgnoresAnInheritedLocalhostClient) {
  fork_and_check_the_parent(GetParam(), ChildAction::ignore);
}
INSTANTIATE_TEST_SUITE_P(, ClientFork, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

// ---- idle ------------------------------------------------------------------------------------

// Voluntary context switches of this process's threads whose name starts with `prefix`.
long voluntary_switches(const std::string& prefix) {
  long total = 0;
  DIR* tasks = ::opendir("/proc/self/task");
  if (!tasks) return -1;
  while (dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const std::string dir = std::string("/proc/self/task/") + entry->d_name;
    std::string name;
    std::getline(std::ifstream(dir + "/comm") >> std::ws, name);
    if (name.rfind(prefix, 0) != 0) continue;
    std::ifstream status(dir + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) total += std::stol(line.substr(24));
    }
  }
  ::closedir(tasks);
  return total;
}

class ClientIdle : public OnARealServer {};
TEST_P(ClientIdle, KillExecutorNeverWakesAndMonitorsWakeOnlyForHeartbeats) {
  auto health = std::make_shared<HealthListener>();
  MongoClient client(GetParam().uri() + "?heartbeatFrequencyMS=60000", ClientOptions{{health}});
  client["admin"].run_command(json(R"({"ping": 1})"));
  ASSERT_TRUE(wait_until([&] { return health->heartbeats_succeeded.load() >= 1; }, 10s));
  std::this_thread::sleep_for(200ms);  // let the first check's thread settle into its sleep

  const std::uint64_t kill_runs = client.kill_cursors_executor().runs();
  const long kill_switches = voluntary_switches("mongoslice-kill");
  const long monitor_switches = voluntary_switches("mon:");
  const int heartbeats = health->heartbeats_succeeded.load() + health->heartbeats_failed.load();
  std::this_thread::sleep_for(5s);
  const std::uint64_t kill_runs_after = client.kill_cursors_executor().runs();
  const long kill_switches_after = voluntary_switches("mongoslice-kill");
  const long monitor_switches_after = voluntary_switches("mon:");
  const int heartbeats_after =
      health->heartbeats_succeeded.load() + health->heartbeats_failed.load();

  EXPECT_EQ(kill_runs_after, kill_runs) << "the kill executor ran with nothing to kill";
  EXPECT_EQ(kill_switches_after, kill_switches) << "the kill executor's thread woke";
  EXPECT_LE(heartbeats_after - heartbeats, 1);
  // A heartbeat costs a couple of blocking waits (its timer, the reply): at most one heartbeat
  // falls in the window, so at most a handful of switches; polling would show dozens.
  EXPECT_LE(monitor_switches_after - monitor_switches, 4);
  std::cout << "[ over 5 s idle: kill executor " << (kill_runs_after - kill_runs) << " runs, "
            << (kill_switches_after - kill_switches) << " switches; monitor "
            << (monitor_switches_after - monitor_switches) << " switches ]\n";
}
INSTANTIATE_TEST_SUITE_P(, ClientIdle, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

// ---- close() ---------------------------------------------------------------------------------

// Records every killCursors id's fate and every event delivered after a point in time.
struct CloseListener : EventListener {
  std::mutex mutex;
  std::set<std::int64_t> dropped;
  std::atomic<bool> closed_returned{false};
  std::atomic<int> events_after_close{0};
  void after_close() {
    if (closed_returned.load()) ++events_after_close;
  }
  void on(const CursorsDroppedEvent& e) override {
    after_close();
    std::lock_guard lock(mutex);
    dropped.insert(e.cursor_ids.begin(), e.cursor_ids.end());
  }
  void on(const CommandStartedEvent&) override { after_close(); }
  void on(const CommandSucceededEvent&) override { after_close(); }
  void on(const CommandFailedEvent&) override { after_close(); }
  void on(const ServerHeartbeatStartedEvent&) override { after_close(); }
  void on(const ServerHeartbeatFailedEvent&) override { after_close(); }
  void on(const ServerDescriptionChangedEvent&) override { after_close(); }
};

// maxPoolSize=1, the one connection held by an operation hung on a frozen server, kills queued
// for four namespaces: close() must still return within its bound, fail the hung operation with
// client_closed, report every kill dropped, and leave no thread calling the listener.
TEST(ClientClose, BoundedWhileTheServerIsFrozenAndThePoolExhausted) {
  MockServer server("cursor_server.py");
  auto listener = std::make_shared<CloseListener>();
  std::optional<MongoClient> client;
  client.emplace("mongodb://" + server.address().to_string() +
                     "/?maxPoolSize=1&heartbeatFrequencyMS=500&serverSelectionTimeoutMS=5000",
                 ClientOptions{{listener}});
  std::vector<Cursor> cursors;
  std::vector<std::int64_t> ids;
  for (const char* name : {"a", "b", "c", "d"}) {
    for (int i = 0; i < 3; ++i) {
      cursors.push_back((*client)["mdb"][name].find(json("{}")));
      ids.push_back(cursors.back().id());
    }
  }
  server.freeze();
  // An operation that takes the only pooled connection and hangs on it.
  auto hung = std::async(std::launch::async, [&] {
    try {
      (*client)["mdb"]["a"].count_documents({});
      return std::string("returned");
    } catch (const Error& e) {
      return std::string(e.code() == errc::client_closed ? "client_closed: " : "other: ") +
             e.what();
    }
  });
  std::this_thread::sleep_for(300ms);
  cursors.clear();                     // 12 kills queued for four namespaces
  std::this_thread::sleep_for(300ms);  // the kill executor now waits for the pool's connection

  const auto started = std::chrono::steady_clock::now();
  client.reset();  // the destructor closes
  const auto took = std::chrono::steady_clock::now() - started;
  listener->closed_returned.store(true);
  std::cout << "[ ~MongoClient took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms (bound "
            << ClientCore::kCloseBound.count() << " ms) ]\n";
  EXPECT_LT(took, 5s);  // loose: the bound is ~1.2 s

  ASSERT_EQ(hung.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(hung.get().rfind("client_closed", 0), 0u);
  {
    std::lock_guard lock(listener->mutex);
    for (std::int64_t id : ids) EXPECT_EQ(listener->dropped.count(id), 1u) << id;
  }
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(listener->events_after_close.load(), 0) << "a listener was called after close()";
  server.thaw();
}

// A listener that closes the client from inside an event close() itself emits.
struct ClosingListener : EventListener {
  MongoClient* client = nullptr;
  std::atomic<int> closed_events{0};
  void on(const TopologyClosedEvent&) override {
    ++closed_events;
    client->close();
  }
};

// (Its own suite: a suite's tests share one fixture, and ClientClose's others use mocks.)
class ClientCloseOnARealServer : public OnARealServer {};
TEST_P(ClientCloseOnARealServer, AListenerMayCloseTheClientFromTopologyClosed) {
  auto listener = std::make_shared<ClosingListener>();
  MongoClient client(GetParam().uri(), ClientOptions{{listener}});
  listener->client = &client;
  client["admin"].run_command(json(R"({"ping": 1})"));
  auto closing = std::async(std::launch::async, [&] { client.close(); });
  ASSERT_EQ(closing.wait_for(10s), std::future_status::ready) << "close() deadlocked";
  EXPECT_EQ(listener->closed_events.load(), 1);
  EXPECT_THROW(client["admin"].run_command(json(R"({"ping": 1})")), Error);
}
INSTANTIATE_TEST_SUITE_P(, ClientCloseOnARealServer, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

// A cursor destroyed after its client's final kill run is reported: a warning with its id,
// namespace and server, and a count.
TEST(ClientClose, ACursorThatOutlivesItsClientIsReported) {
  std::mutex mutex;
  std::vector<std::string> warnings;
  log::set_sink([&](std::string_view component, log::Level level, std::string_view message) {
    if (component == log::component::cursor && level == log::Level::warning) {
      std::lock_guard lock(mutex);
      warnings.emplace_back(message);
    }
  });
  MockServer server("cursor_server.py");
  std::optional<MongoClient> client;
  client.emplace("mongodb://" + server.address().to_string() + "/?serverSelectionTimeoutMS=5000");
  const std::string ns_collection = "warehouse_stock_levels_of_every_depot";
  std::optional<Cursor> cursor = (*client)["inventory"][ns_collection].find(json("{}"));
  const std::int64_t id = cursor->id();
  ASSERT_NE(id, 0);
  client->close();
  cursor.reset();
  log::set_sink({});
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(std::to_string(id)), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("inventory." + ns_collection), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find(server.address().to_string()), std::string::npos) << warnings[0];
  EXPECT_EQ(client->orphaned_kills(), 1u);
}

// ---- exit with kills queued ------------------------------------------------------------------

// The child's report, written after the exit handler ran (this object is built before the
// client, so it is destroyed after the handler).
struct ExitReport {
  std::string path;
  std::atomic<int> dropped{0};
  ~ExitReport() {
    if (FILE* out = std::fopen(path.c_str(), "w")) {
      std::fprintf(out, "%d\n", dropped.load());
      std::fclose(out);
    }
  }
};
ExitReport* g_exit_report = nullptr;
MongoClient* volatile g_leaked_client =
    nullptr;  // a global keeps the deliberate leak reachable (LSan)

struct DropCounter : EventListener {
  void on(const CursorsDroppedEvent& e) override {
    g_exit_report->dropped += static_cast<int>(e.cursor_ids.size());
  }
};

// A leaked client whose kill executor is blocked on a frozen server, with more kills queued
// behind it: at exit every one of them is reported dropped (none lost silently), and the process
// still exits promptly.
TEST(ClientExit, ALeakedClientsQueuedKillsAreReportedAtExit) {
  MockServer server("cursor_server.py");
  const std::string marker = "/tmp/mongoslice-exit-kills-" + std::to_string(getpid());
  std::remove(marker.c_str());
  const auto started = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    static ExitReport report{marker};
    g_exit_report = &report;
    auto* client = new MongoClient("mongodb://" + server.address().to_string() +
                                       "/?serverSelectionTimeoutMS=5000&socketTimeoutMS=60000",
                                   ClientOptions{{std::make_shared<DropCounter>()}});
    g_leaked_client = client;
    std::vector<Cursor> first, second;
    for (int i = 0; i < 3; ++i) first.push_back((*client)["mdb"]["one"].find(json("{}")));
    for (int i = 0; i < 3; ++i) second.push_back((*client)["mdb"]["two"].find(json("{}")));
    server.freeze();
    first.clear();  // the kill executor sends these and blocks on the reply
    std::this_thread::sleep_for(200ms);
    second.clear();  // queued behind it
    std::this_thread::sleep_for(100ms);
    std::exit(0);
  }
  const int status = wait_bounded(pid, 20s);
  const auto took = std::chrono::steady_clock::now() - started;
  server.thaw();
  ASSERT_NE(status, -1) << "the child did not exit within 20 s";
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream in(marker);
  int dropped = -1;
  ASSERT_TRUE(in >> dropped) << "the child wrote no report";
  std::remove(marker.c_str());
  EXPECT_EQ(dropped, 6) << "every queued kill must be reported dropped";
  EXPECT_LT(took, 10s);
  std::cout << "[ child with 6 kills pending exited after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms ]\n";
}

}  // namespace
}  // namespace mongoslice
