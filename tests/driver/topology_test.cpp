// Topology over scripted checkers: discovery of members, removal, selection waiting and its
// timeout message, operation errors, and destruction (also while a check blocks, and on a
// monitor's own thread).

#include "driver/topology.hpp"
#include "driver/application_error_of.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "support/fake_server_checker.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::Script;
using testing::Step;

HostAndPort host(std::uint16_t port) {
  return {"127.0.0.1", port};
}

std::string member_hello(bool primary, std::string_view hosts_json, std::string_view extra = "") {
  std::string json = R"({"ok": 1, "maxWireVersion": 21, "minWireVersion": 0, "setName": "rs",)";
  json += primary ? R"("isWritablePrimary": true, "secondary": false,)"
                  : R"("isWritablePrimary": false, "secondary": true,)";
  if (primary) json += R"("setVersion": 1, "electionId": {"$oid": "7fffffff0000000000000001"},)";
  json += extra;
  json += R"("hosts": )" + std::string(hosts_json) + "}";
  return json;
}

// Scripts per address; an address without a script is unreachable.
class Checkers {
 public:
  std::shared_ptr<Script> script(const HostAndPort& address) {
    std::lock_guard lock(mutex_);
    auto& s = scripts_[address];
    if (!s) s = std::make_shared<Script>();
    return s;
  }
  CheckerFactory factory() {
    return [this](const HostAndPort& address) -> std::unique_ptr<ServerChecker> {
      auto s = script(address);
      {
        std::lock_guard lock(mutex_);
        created_.push_back(address);
      }
      return std::make_unique<testing::FakeChecker>(s);
    };
  }

 private:
  std::mutex mutex_;
  std::map<HostAndPort, std::shared_ptr<Script>> scripts_;
  std::vector<HostAndPort> created_;
};

// Records SDAM events (copies of what it needs).
class Recorder : public EventListener {
 public:
  void on(const ServerOpeningEvent& e) override { add("open " + e.address.to_string()); }
  void on(const ServerClosedEvent& e) override { add("close " + e.address.to_string()); }
  void on(const TopologyClosedEvent&) override { add("topology closed"); }
  void on(const ServerDescriptionChangedEvent& e) override {
    add("changed " + e.address.to_string() + " " + std::string(to_string(e.current.type)));
  }
  void on(const ServerHeartbeatSucceededEvent& e) override {
    if (block_heartbeat_of && e.address == *block_heartbeat_of) {
      std::unique_lock lock(mutex);
      in_blocked_callback = true;
      cv.notify_all();
      cv.wait(lock, [&] { return release; });
      block_heartbeat_of.reset();
    }
  }

  bool wait_for(const std::string& event) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, 10s, [&] { return has_locked(event); });
  }
  bool has(const std::string& event) {
    std::lock_guard lock(mutex);
    return has_locked(event);
  }

  std::mutex mutex;
  std::condition_variable cv;
  std::vector<std::string> events;
  std::optional<HostAndPort> block_heartbeat_of;  // set before open()
  bool in_blocked_callback = false;
  bool release = false;

 private:
  bool has_locked(const std::string& e) const {
    return std::find(events.begin(), events.end(), e) != events.end();
  }
  void add(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
    cv.notify_all();
  }
};

struct TopologyFixture : ::testing::Test {
  Checkers checkers;
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();

  std::shared_ptr<Topology> make(std::string_view uri) {
    auto events = std::make_shared<const EventDispatcher>(
        std::vector<std::shared_ptr<EventListener>>{recorder});
    return Topology::create(ConnectionString::parse(uri), events, checkers.factory(),
                            {.heartbeat_frequency = 1h, .min_heartbeat_frequency = 1ms});
  }
  // Waits (bounded) until the topology's snapshot satisfies `predicate`.
  static bool wait_description(Topology& topology,
                               const std::function<bool(const TopologyDescription&)>& predicate) {
    for (int i = 0; i < 10'000; ++i) {
      if (predicate(*topology.description())) return true;
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }
};

const char* kThree = R"(["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"])";

TEST_F(TopologyFixture, TopologyDiscoversMembersFromPrimaryAndMonitorsThem) {
  checkers.script(host(1))->push(Step::reply_json(member_hello(true, kThree)));
  checkers.script(host(2))->push(Step::reply_json(member_hello(false, kThree)));
  checkers.script(host(3))->push(Step::reply_json(member_hello(false, kThree)));
  auto topology = make("mongodb://127.0.0.1:1/?replicaSet=rs");
  topology->open();
  ASSERT_TRUE(wait_description(*topology, [](const TopologyDescription& d) {
    auto* b = d.find(host(2));
    auto* c = d.find(host(3));
    return b && c && b->type == ServerType::kRSSecondary && c->type == ServerType::kRSSecondary;
  }));
  auto d = topology->description();
  EXPECT_EQ(d->type(), TopologyType::kReplicaSetWithPrimary);
  EXPECT_EQ(d->find(host(1))->type, ServerType::kRSPrimary);
  EXPECT_TRUE(recorder->has("open 127.0.0.1:2"));
  EXPECT_TRUE(recorder->has("open 127.0.0.1:3"));
  EXPECT_GE(checkers.script(host(2))->checks(), 1) << "a monitor runs for a discovered member";
  EXPECT_NE(topology->pool(host(3)), nullptr);
  auto selected = topology->select_server({.mode = ReadPreference::Mode::kSecondary});
  EXPECT_TRUE(selected.address == host(2) || selected.address == host(3));
  EXPECT_EQ(topology->select_server_for_writes().address, host(1));
}

TEST_F(TopologyFixture, TopologyClosesMonitorOfRemovedMember) {
  const char* two = R"(["127.0.0.1:1", "127.0.0.1:2"])";
  checkers.script(host(1))->push(Step::gate(member_hello(true, two)));
  checkers.script(host(2))->push(Step::reply_json(member_hello(false, two)));
  auto removed = checkers.script(host(3));
  removed->push(Step::block());  // a hanging member: removal must interrupt it
  auto topology = make("mongodb://127.0.0.1:1,127.0.0.1:2,127.0.0.1:3/?replicaSet=rs");
  topology->open();
  ASSERT_TRUE(removed->wait_for([&] { return removed->blocked(); }));
  checkers.script(host(1))->open_gate();  // the primary's hosts leave 127.0.0.1:3 out
  ASSERT_TRUE(recorder->wait_for("close 127.0.0.1:3"));
  EXPECT_GE(removed->interrupts(), 1);
  // ServerClosedEvent comes before the topology's change (the SDAM spec's order); the
  // monitor's thread is joined after the events.
  EXPECT_TRUE(removed->wait_for([&] { return removed->checker_destroyed(); }))
      << "the removed monitor was closed and joined";
  EXPECT_EQ(topology->pool(host(3)), nullptr);
  EXPECT_EQ(topology->description()->find(host(3)), nullptr);
}

TEST_F(TopologyFixture, TopologySelectionWaitsForADescription) {
  auto script = checkers.script(host(1));
  script->push(Step::gate(testing::standalone_hello()));
  auto topology = make("mongodb://127.0.0.1:1/?directConnection=true");
  topology->open();
  auto selected =
      std::async(std::launch::async, [&] { return topology->select_server({}).address; });
  ASSERT_TRUE(script->wait_for([&] { return script->blocked(); }));
  EXPECT_EQ(selected.wait_for(0s), std::future_status::timeout)
      << "nothing is selectable before the first check";
  script->open_gate();
  ASSERT_EQ(selected.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(selected.get(), host(1));
}

TEST_F(TopologyFixture, TopologySelectionTimeoutListsEveryServerAndError) {
  checkers.script(host(1))->push(Step::fail("connection refused by fake 1"));
  checkers.script(host(2))->push(Step::fail("connection refused by fake 2"));
  auto topology = make("mongodb://127.0.0.1:1,127.0.0.1:2/?serverSelectionTimeoutMS=200");
  topology->open();
  try {
    topology->select_server({});
    FAIL() << "selection should time out";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::server_selection_timeout));
    std::string what = e.what();
    EXPECT_NE(what.find("127.0.0.1:1 Unknown (connection refused by fake 1"), std::string::npos)
        << what;
    EXPECT_NE(what.find("127.0.0.1:2 Unknown (connection refused by fake 2"), std::string::npos)
        << what;
    EXPECT_NE(what.find("serverSelectionTimeoutMS"), std::string::npos) << what;
  }
  // Selection asked the monitors for checks while it waited.
  EXPECT_GE(checkers.script(host(1))->checks(), 2);
}

TEST_F(TopologyFixture, TopologyOperationNetworkErrorMarksUnknownAndClearsPool) {
  checkers.script(host(1))->push(Step::reply_json(testing::standalone_hello()));
  auto topology = make("mongodb://127.0.0.1:1/?directConnection=true");
  topology->open();
  ASSERT_TRUE(wait_description(*topology, [](const TopologyDescription& d) {
    return d.find(host(1))->type == ServerType::kStandalone;
  }));
  auto pool = topology->pool(host(1));
  const auto generation = pool->generation();
  auto error_on = [&](std::uint64_t g, const Error& e) {
    topology->handle_application_error(
        application_error_of(host(1), g, 21, ConnectionPhase::kEstablished, e));
  };
  error_on(generation, Error(errc::network_error, "reset by peer"));
  EXPECT_EQ(pool->generation(), generation + 1);
  ASSERT_TRUE(recorder->wait_for("changed 127.0.0.1:1 Unknown"));
  // A second error on a connection of the old generation changes nothing more.
  error_on(generation, Error(errc::network_error, "reset by peer"));
  EXPECT_EQ(pool->generation(), generation + 1);
  // A network error requests no check (the SDAM spec); the next check finds the server again.
  topology->request_checks();
  ASSERT_TRUE(wait_description(*topology, [](const TopologyDescription& d) {
    return d.find(host(1))->type == ServerType::kStandalone;
  }));
  // A timeout changes nothing.
  const auto after = pool->generation();
  error_on(after, Error(errc::timeout, "socketTimeoutMS"));
  EXPECT_EQ(pool->generation(), after);
}

TEST_F(TopologyFixture, TopologyDestroyedWhileAMonitorBlocksFinishes) {
  auto hanging = checkers.script(host(2));
  hanging->push(Step::block());
  checkers.script(host(1))->push(Step::reply_json(testing::standalone_hello()));
  auto topology = make("mongodb://127.0.0.1:1,127.0.0.1:2/");
  topology->open();
  ASSERT_TRUE(hanging->wait_for([&] { return hanging->blocked(); }));
  auto destroyed = std::async(std::launch::async, [&] { topology.reset(); });
  ASSERT_EQ(destroyed.wait_for(10s), std::future_status::ready);
  // The last reference may have been a monitor's (host 1's callback removes the standalone from
  // a two-seed topology and holds the topology while it does), so the destruction, and the
  // hanging checker's with it, can finish on that thread just after reset() returned here.
  EXPECT_TRUE(hanging->wait_for([&] { return hanging->checker_destroyed(); }));
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!recorder->has("topology closed") && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(recorder->has("topology closed"));
}

TEST_F(TopologyFixture, TopologyLastReferenceDroppedOnAMonitorThread) {
  recorder->block_heartbeat_of = host(1);
  checkers.script(host(1))->push(Step::reply_json(testing::standalone_hello()));
  auto topology = make("mongodb://127.0.0.1:1/?directConnection=true");
  topology->open();
  {
    std::unique_lock lock(recorder->mutex);
    ASSERT_TRUE(recorder->cv.wait_for(lock, 10s, [&] { return recorder->in_blocked_callback; }));
  }
  std::weak_ptr<Topology> weak = topology;
  topology.reset();  // the monitor's callback now holds the only reference
  EXPECT_FALSE(weak.expired());
  {
    std::lock_guard lock(recorder->mutex);
    recorder->release = true;
    recorder->cv.notify_all();
  }
  // The topology is destroyed on the monitor's thread, which must not join itself.
  ASSERT_TRUE(recorder->wait_for("topology closed"));
  EXPECT_TRUE(checkers.script(host(1))->wait_for(
      [&] { return checkers.script(host(1))->checker_destroyed(); }));
  EXPECT_TRUE(weak.expired());
}

TEST_F(TopologyFixture, TopologySelectionAfterCloseFails) {
  auto topology = make("mongodb://127.0.0.1:1/");
  topology->open();
  topology->close();
  try {
    topology->select_server({});
    FAIL() << "selection after close must fail";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::client_closed));
  }
}

TEST(PoolTest, PoolConnectFailureFreesTheSlotAndCloseRefuses) {
  // Port 1 on loopback: nothing listens there, so connect fails at once.
  auto pool = ConnectionPool::create(host(1), {.max_size = 1, .wait_timeout = 100ms});
  pool->ready();  // a pool starts paused (CMAP); its monitor would ready it
  EXPECT_THROW(pool->acquire(), Error);
  EXPECT_EQ(pool->total_count(), 0u) << "a failed connect gives its slot back";
  EXPECT_THROW(pool->acquire(), Error) << "and the next acquire may try again";
  const auto generation = pool->generation();
  pool->clear();
  EXPECT_EQ(pool->generation(), generation + 1);
  pool->close();
  try {
    pool->acquire();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::client_closed));
  }
}

}  // namespace
}  // namespace mongoslice
