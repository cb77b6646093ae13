// Failover against a replica set that fails over on cue (integration/mock/replica_set.py: three
// members on loopback that stream their hellos, step down, die and lose replies when told):
// a workload of writes and reads runs through lost replies, a stepdown and a killed primary, on
// the blocking and the async engine. With retryable writes and reads on, the application sees
// no error and every write lands exactly once (the member recognises a retried lsid/txnNumber
// and does not apply it again); with them off, the same faults surface as errors, and only the
// faulted commands fail. A cursor left on the old primary is killed there, or reported dropped
// when that member died; the SDAM, CMAP and command events of a killed primary come in order.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "driver/mongo_client.hpp"
#include "monitor/server_description.hpp"
#include "replica_set_mock.hpp"
#include "run_awaitable.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using integration::ReplicaSetMock;

// Counts the entries of `log` for `command` whose outcome is `outcome`.
int count_of(const std::vector<bson::Document>& log, std::string_view command,
             std::string_view outcome) {
  int n = 0;
  for (const auto& entry : log) {
    if (entry.view()["cmd"].get_string() == command &&
        entry.view()["outcome"].get_string() == outcome) {
      ++n;
    }
  }
  return n;
}

bson::Document id_doc(int id) {
  return bson::Builder{}.append("_id", id).build();
}

struct Workload {
  int errors = 0;
  std::vector<std::string> messages;
};

// One write and one read of what it wrote, `i`-th of the workload.
void step(Collection& c, int i, Workload& w) {
  try {
    c.insert_one(id_doc(i));
    auto found = c.find_one(id_doc(i));
    if (!found) throw std::runtime_error("document " + std::to_string(i) + " not found");
  } catch (const std::exception& e) {
    ++w.errors;
    w.messages.push_back(std::to_string(i) + ": " + e.what());
  }
}

// After a workload of `steps` steps through the faults: each write landed exactly once (the
// retried insert whose reply was lost was recognised, not applied twice, which would be a
// duplicate key error, and none is missing), and the mock saw the retry and the lost find.
void expect_every_write_landed_once(const ReplicaSetMock& rs, Collection& c, int steps) {
  std::int64_t documents = 0;
  for (bson::View doc : c.find(bson::Document::from_json("{}"))) {
    (void)doc;
    ++documents;
  }
  EXPECT_EQ(documents, steps);
  const auto log = rs.log();
  EXPECT_GE(count_of(log, "insert", "retried"), 1) << "no write was retried";
  EXPECT_GE(count_of(log, "find", "network"), 1);
}

TEST(Failover, WithRetriesOnTheApplicationSeesNoErrorAndEveryWriteLandsOnce) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["failover"];
  constexpr int kSteps = 120;
  Workload w;
  const int first_primary = rs.primary();
  for (int i = 0; i < kSteps; ++i) {
    if (i == 20) rs.control("fail insert 1 network");  // applied, its reply lost
    if (i == 40) rs.control("fail find 1 network");
    if (i == 60) rs.control("stepdown");
    if (i == 90) rs.control("kill " + std::to_string(rs.primary()));
    step(c, i, w);
  }
  EXPECT_EQ(w.errors, 0) << (w.messages.empty() ? "" : w.messages.front());
  EXPECT_NE(rs.primary(), first_primary);
  expect_every_write_landed_once(rs, c, kSteps);
}

// The async engine through the same faults: each step is async_insert_one then async_find_one,
// co_await-ed on the test's io_context.
boost::asio::awaitable<void> async_step(Collection c, int i, Workload& w) {
  std::string failure;
  try {
    co_await c.async_insert_one(id_doc(i), boost::asio::use_awaitable);
    auto found = co_await c.async_find_one(id_doc(i), boost::asio::use_awaitable);
    if (!found) failure = "document " + std::to_string(i) + " not found";
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!failure.empty()) {
    ++w.errors;
    w.messages.push_back(std::to_string(i) + ": " + failure);
  }
}

TEST(Failover, TheAsyncEngineWithRetriesSeesNoErrorAndEveryWriteLandsOnce) {
  ReplicaSetMock rs;
  boost::asio::io_context io;
  MongoClient client(rs.uri());
  Collection c = client["db"]["failover"];
  constexpr int kSteps = 120;
  Workload w;
  const int first_primary = rs.primary();
  for (int i = 0; i < kSteps; ++i) {
    if (i == 20) rs.control("fail insert 1 network");
    if (i == 40) rs.control("fail find 1 network");
    if (i == 60) rs.control("stepdown");
    if (i == 90) rs.control("kill " + std::to_string(rs.primary()));
    testing::run(io, async_step(c, i, w));
  }
  EXPECT_EQ(w.errors, 0) << (w.messages.empty() ? "" : w.messages.front());
  EXPECT_NE(rs.primary(), first_primary);
  expect_every_write_landed_once(rs, c, kSteps);
}

// Reports the cursors the kill-cursors executor could not kill.
class DroppedCursors : public EventListener {
 public:
  void on(const CursorsDroppedEvent& e) override {
    std::lock_guard lock(mutex_);
    for (std::int64_t id : e.cursor_ids) ids_.push_back(id);
  }
  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return ids_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::int64_t> ids_;
};

// Waits (at most 10 s) until `done` holds for the mock's log entries gathered so far.
template <typename Done>
std::vector<bson::Document> wait_for_log(const ReplicaSetMock& rs, Done done) {
  std::vector<bson::Document> seen;
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!done(seen) && std::chrono::steady_clock::now() < give_up) {
    for (auto& e : rs.log()) seen.push_back(std::move(e));
    std::this_thread::sleep_for(20ms);
  }
  return seen;
}

TEST(Failover, ACursorLeftOnTheOldPrimaryIsKilledThere) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["cursors"];
  for (int i = 0; i < 10; ++i) c.insert_one(id_doc(i));
  const int old_primary = rs.primary();
  std::optional<Cursor> cursor = c.find(bson::Document::from_json("{}"), {.batch_size = 2});
  ASSERT_TRUE(cursor->next());
  rs.control("stepdown");
  c.insert_one(id_doc(100));  // the client follows the election
  (void)rs.log();
  cursor.reset();  // abandoned: its killCursors must go to the member that holds it
  auto log = wait_for_log(rs, [](const std::vector<bson::Document>& seen) {
    return count_of(seen, "killCursors", "ok") > 0;
  });
  ASSERT_EQ(count_of(log, "killCursors", "ok"), 1);
  for (const auto& e : log) {
    if (e.view()["cmd"].get_string() == "killCursors") {
      EXPECT_EQ(e.view()["member"].as_int64(), old_primary) << e.to_json();
    }
  }
}

TEST(Failover, ACursorWhoseServerDiedIsReportedDropped) {
  ReplicaSetMock rs;
  auto dropped = std::make_shared<DroppedCursors>();
  MongoClient client(rs.uri(), ClientOptions{{dropped}});
  Collection c = client["db"]["cursors"];
  for (int i = 0; i < 10; ++i) c.insert_one(id_doc(i));
  std::optional<Cursor> cursor = c.find(bson::Document::from_json("{}"), {.batch_size = 2});
  ASSERT_TRUE(cursor->next());
  rs.control("kill " + std::to_string(rs.primary()));
  c.insert_one(id_doc(100));  // retried on the new primary
  cursor.reset();
  const auto give_up = std::chrono::steady_clock::now() + 15s;
  while (dropped->count() == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(dropped->count(), 1u) << "the cursor was neither killed nor reported dropped";
}

// The SDAM, CMAP and command events in the order the listener got them, as lines:
// "server <host> <type>", "cleared <host>", "<command> <phase> <host>".
class Story : public EventListener {
 public:
  void on(const ServerDescriptionChangedEvent& e) override {
    add("server " + e.address.to_string() + " " + std::string(to_string(e.current.type)));
  }
  void on(const PoolClearedEvent& e) override { add("cleared " + e.address.to_string()); }
  void on(const CommandSucceededEvent& e) override {
    add(std::string(e.command_name) + " succeeded " + e.address.to_string());
  }
  void on(const CommandFailedEvent& e) override {
    add(std::string(e.command_name) + " failed " + e.address.to_string());
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // The index of the first line from `from` on that starts with `prefix`; -1 if none.
  static int find(const std::vector<std::string>& lines, const std::string& prefix, int from = 0) {
    for (int i = from; i < static_cast<int>(lines.size()); ++i) {
      if (lines[i].rfind(prefix, 0) == 0) return i;
    }
    return -1;
  }

 private:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    lines_.push_back(std::move(line));
  }
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

TEST(Failover, TheEventsTellAKilledPrimarysStoryInOrder) {
  ReplicaSetMock rs;
  auto story = std::make_shared<Story>();
  MongoClient client(rs.uri(), ClientOptions{{story}});
  Collection c = client["db"]["story"];
  c.insert_one(id_doc(0));
  const int old_primary = rs.primary();
  const std::string old_host = rs.host(old_primary);
  rs.control("kill " + std::to_string(old_primary));
  const std::string new_host = rs.host(rs.primary());
  c.insert_one(id_doc(1));  // fails on the dead member, retried on the new primary
  const auto lines = story->lines();
  std::string all;
  for (const auto& l : lines) all += l + "\n";
  // The dead member: known as the primary, then Unknown, then its pool cleared.
  const int was_primary = Story::find(lines, "server " + old_host + " RSPrimary");
  ASSERT_GE(was_primary, 0) << all;
  const int unknown = Story::find(lines, "server " + old_host + " Unknown", was_primary);
  ASSERT_GT(unknown, was_primary) << all;
  const int cleared = Story::find(lines, "cleared " + old_host, was_primary);
  ASSERT_GT(cleared, was_primary) << all;
  // The new primary known as such before the write succeeded there, and that write is the
  // last thing of the story's operation: the insert retried after the kill.
  const int elected = Story::find(lines, "server " + new_host + " RSPrimary");
  ASSERT_GE(elected, 0) << all;
  const int landed = Story::find(lines, "insert succeeded " + new_host);
  ASSERT_GT(landed, elected) << all;
  EXPECT_GT(landed, unknown) << all;
  EXPECT_EQ(Story::find(lines, "insert succeeded " + old_host, unknown), -1) << all;
}

// $clusterTime gossip from the monitors: client A has run one command; client B's writes then
// advance the set's cluster time, and a stepdown makes every member stream a hello carrying it.
// A's next command must send that time, which only its monitors can have seen.
TEST(ClusterTimeGossip, MonitorsHellosAdvanceTheTimeCommandsSend) {
  ReplicaSetMock rs;
  auto story = std::make_shared<Story>();
  MongoClient a(rs.uri(), ClientOptions{{story}});
  MongoClient b(rs.uri());
  a["admin"].run_command(bson::Document::from_json(R"({"ping": 1})"));
  for (int i = 0; i < 3; ++i) b["db"]["gossip"].insert_one(id_doc(i));
  const bson::Document state = bson::Document::from_json(rs.control("state"));
  const std::int64_t seconds = state.view()["clusterTime"].get_array()["0"].as_int64();
  const std::int64_t increment = state.view()["clusterTime"].get_array()["1"].as_int64();
  rs.control("stepdown");
  const std::string new_host = rs.host(rs.primary());
  // Bounded wait for A's monitors to learn of the election (their streamed hellos).
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (Story::find(story->lines(), "server " + new_host + " RSPrimary") < 0 &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  (void)rs.log();
  a["admin"].run_command(bson::Document::from_json(R"({"ping": 1})"));
  int pings = 0;
  for (const auto& e : rs.log()) {
    if (e.view()["cmd"].get_string() != "ping") continue;
    ++pings;
    auto sent = e.view().find("sentClusterTime");
    ASSERT_TRUE(sent) << e.to_json();
    const std::int64_t t = sent->get_array()["0"].as_int64();
    const std::int64_t i = sent->get_array()["1"].as_int64();
    EXPECT_TRUE(t > seconds || (t == seconds && i >= increment))
        << "sent " << t << "," << i << "; the set was at " << seconds << "," << increment;
  }
  EXPECT_EQ(pings, 1);
}

TEST(Failover, WithRetriesOffOnlyTheFaultedCommandsFail) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri("&retryWrites=false&retryReads=false"));
  Collection c = client["db"]["failover"];
  constexpr int kSteps = 60;
  Workload w;
  for (int i = 0; i < kSteps; ++i) {
    if (i == 20) rs.control("fail insert 1 network");
    if (i == 40) rs.control("fail find 1 network");
    step(c, i, w);
  }
  // Exactly the two faulted commands fail: nothing retried them, and the client recovered at
  // once from each (the next step succeeded).
  ASSERT_EQ(w.errors, 2);
  EXPECT_EQ(w.messages[0].rfind("20: ", 0), 0u) << w.messages[0];
  EXPECT_EQ(w.messages[1].rfind("40: ", 0), 0u) << w.messages[1];
  const auto log = rs.log();
  EXPECT_EQ(count_of(log, "insert", "retried"), 0);
}

}  // namespace
}  // namespace mongoslice
