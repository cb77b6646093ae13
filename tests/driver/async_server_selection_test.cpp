// Topology::co_select_server and co_select_server_for_writes: the asynchronous selection waits
// without a thread for a snapshot with a suitable server, and ends with the sync selection's
// timeout (same code, same text), with ECANCELED when its operation is cancelled, and with
// client_closed when the topology closes or is destroyed. A pending selection whose io_context
// is destroyed is freed with it, and later publishes do not touch it. Last, many publishing
// threads against many selecting coroutines (run it under TSan).
//
// The monitors' checks block (until close) so that only the test publishes snapshots. Most
// tests drive the io_context from the test thread: poll() runs the coroutine until it waits,
// which makes "the selection is waiting" a fact rather than a timing.

#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "driver/selection_waiters.hpp"
#include "driver/topology.hpp"
#include "support/fake_server_checker.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

const HostAndPort kServer{"127.0.0.1", 1};

// Every server's checker blocks until the monitor closes: no check result is ever published.
CheckerFactory blocking_checkers() {
  return [](const HostAndPort&) -> std::unique_ptr<ServerChecker> {
    auto script = std::make_shared<testing::Script>();
    script->push(testing::Step::block());
    return std::make_unique<testing::FakeChecker>(script);
  };
}

std::shared_ptr<Topology> make_topology(const std::string& options = "") {
  auto topology = Topology::create(
      ConnectionString::parse("mongodb://" + kServer.to_string() + "/" + options), nullptr,
      blocking_checkers(), {.heartbeat_frequency = 1h, .min_heartbeat_frequency = 1ms});
  topology->open();
  return topology;
}

ServerDescription standalone() {
  ServerDescription sd = ServerDescription::unknown(kServer);
  sd.type = ServerType::kStandalone;
  sd.round_trip_time = 1ms;
  sd.max_wire_version = 21;
  return sd;
}

// What a spawned selection ended with.
struct Outcome {
  bool done = false;
  std::exception_ptr error;
  SelectedServer selected;

  std::error_code code() const {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::system_error& e) {
      return e.code();
    }
    return {};
  }
  std::string what() const {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return e.what();
    }
    return {};
  }
};

auto record(Outcome& outcome) {
  return [&outcome](std::exception_ptr error, SelectedServer selected) {
    outcome.done = true;
    outcome.error = error;
    outcome.selected = std::move(selected);
  };
}

TEST(SelectionWaiters, TakeMovesEveryRegistrationOutAndRemoveDropsOne) {
  SelectionWaiters waiters;
  int woken = 0;
  const auto a = waiters.add([&] { woken += 1; });
  const auto b = waiters.add([&] { woken += 10; });
  waiters.add([&] { woken += 100; });
  EXPECT_NE(a, b);
  waiters.remove(b);
  waiters.remove(b);  // twice: nothing
  EXPECT_EQ(waiters.size(), 2u);
  SelectionWaiters::Taken taken = waiters.take();
  EXPECT_EQ(waiters.size(), 0u);
  EXPECT_EQ(woken, 0);  // taking calls nothing
  waiters.remove(a);    // already taken: nothing
  SelectionWaiters::wake_all(taken);
  EXPECT_EQ(woken, 101);
  EXPECT_TRUE(taken.empty());
}

TEST(AsyncServerSelection, ASuitableServerIsSelectedAtOnce) {
  auto topology = make_topology();
  topology->apply_check_result(standalone());
  asio::io_context io;
  Outcome writes, reads;
  asio::co_spawn(io, topology->co_select_server_for_writes(), record(writes));
  asio::co_spawn(io, topology->co_select_server(ReadPreference{}), record(reads));
  io.run();
  for (Outcome* outcome : {&writes, &reads}) {
    ASSERT_TRUE(outcome->done);
    ASSERT_FALSE(outcome->error) << outcome->what();
    EXPECT_EQ(outcome->selected.address, kServer);
    EXPECT_EQ(outcome->selected.type, ServerType::kStandalone);
    EXPECT_EQ(outcome->selected.topology, TopologyType::kSingle);
    EXPECT_EQ(outcome->selected.pool, topology->pool(kServer));
  }
  // Each selection counts in the pool's operationCount while it is held, as the sync one does.
  EXPECT_EQ(topology->pool(kServer)->operation_count(), 2u);
}

TEST(AsyncServerSelection, AServerAppearingLaterWakesTheWaitingSelection) {
  auto topology = make_topology();
  asio::io_context io;
  Outcome outcome;
  asio::co_spawn(io, topology->co_select_server_for_writes(), record(outcome));
  io.poll();  // runs until the selection waits
  ASSERT_FALSE(outcome.done) << outcome.what();
  // A monitor's thread, as far as the topology can tell.
  std::thread publisher([&] { topology->apply_check_result(standalone()); });
  publisher.join();
  io.run();  // serverSelectionTimeoutMS is 30 s: only the wake ends this soon
  ASSERT_TRUE(outcome.done);
  ASSERT_FALSE(outcome.error) << outcome.what();
  EXPECT_EQ(outcome.selected.address, kServer);
}

TEST(AsyncServerSelection, AnUnsuitableSnapshotWakesTheSelectionWhichWaitsOn) {
  auto topology = make_topology("?serverSelectionTimeoutMS=30000");
  asio::io_context io;
  Outcome outcome;
  asio::co_spawn(io, topology->co_select_server_for_writes(), record(outcome));
  io.poll();
  ASSERT_FALSE(outcome.done);
  // Still no server (an Unknown with another error): it looks, finds none, waits again.
  topology->apply_check_result(ServerDescription::from_error(kServer, "still down", {}));
  io.poll();
  ASSERT_FALSE(outcome.done) << outcome.what();
  topology->apply_check_result(standalone());
  io.run();
  ASSERT_TRUE(outcome.done);
  ASSERT_FALSE(outcome.error) << outcome.what();
}

TEST(AsyncServerSelection, TimeoutIsTheSyncSelectionsErrorWithTheSameText) {
  auto topology = make_topology("?serverSelectionTimeoutMS=50");
  std::optional<Error> sync_error;
  try {
    topology->select_server_for_writes();
  } catch (const Error& e) {
    sync_error = e;
  }
  ASSERT_TRUE(sync_error);
  ASSERT_EQ(sync_error->code(), make_error_code(errc::server_selection_timeout));

  asio::io_context io;
  Outcome writes, reads;
  asio::co_spawn(io, topology->co_select_server_for_writes(), record(writes));
  asio::co_spawn(io, topology->co_select_server({ReadPreference::Mode::kPrimary, {}, {}}),
                 record(reads));
  io.run();
  ASSERT_TRUE(writes.done);
  EXPECT_EQ(writes.code(), make_error_code(errc::server_selection_timeout));
  EXPECT_EQ(writes.what(), std::string(sync_error->what()));
  ASSERT_TRUE(reads.done);
  EXPECT_EQ(reads.code(), make_error_code(errc::server_selection_timeout));
  EXPECT_NE(reads.what().find("no suitable server for primary within 50 ms"), std::string::npos)
      << reads.what();
}

TEST(AsyncServerSelection, OtherErrorsAreTheSyncSelections) {
  auto topology = make_topology();
  ServerDescription old = standalone();
  old.max_wire_version = 2;
  topology->apply_check_result(old);
  std::optional<Error> sync_error;
  try {
    topology->select_server_for_writes();
  } catch (const Error& e) {
    sync_error = e;
  }
  ASSERT_TRUE(sync_error);
  ASSERT_EQ(sync_error->code(), make_error_code(errc::incompatible_server));
  asio::io_context io;
  Outcome outcome;
  asio::co_spawn(io, topology->co_select_server_for_writes(), record(outcome));
  io.run();
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(outcome.code(), make_error_code(errc::incompatible_server));
  EXPECT_EQ(outcome.what(), std::string(sync_error->what()));
}

const std::error_code kCancelled(ECANCELED, std::system_category());

TEST(AsyncServerSelection, TerminalCancellationEndsTheWaitAtOnce) {
  auto topology = make_topology();
  asio::io_context io;
  asio::cancellation_signal signal;
  Outcome outcome;
  asio::co_spawn(io, topology->co_select_server_for_writes(),
                 asio::bind_cancellation_slot(signal.slot(), record(outcome)));
  io.poll();
  ASSERT_FALSE(outcome.done);
  signal.emit(asio::cancellation_type::terminal);
  io.run();  // 30 s of serverSelectionTimeoutMS left: only the cancellation ends it now
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(outcome.code(), kCancelled);
  // What asio's own operations complete with when cancelled, on this platform.
  EXPECT_EQ(outcome.code().value(), static_cast<int>(asio::error::operation_aborted));
  EXPECT_NE(outcome.what().find("server selection cancelled"), std::string::npos) << outcome.what();
  // The topology goes on: a later selection succeeds.
  topology->apply_check_result(standalone());
  EXPECT_EQ(topology->select_server_for_writes().address, kServer);
}

TEST(AsyncServerSelection, PartialAndTotalCancellationCountWhenTheCallerLetsThemThrough) {
  for (auto type : {asio::cancellation_type::partial, asio::cancellation_type::total}) {
    auto topology = make_topology();
    asio::io_context io;
    asio::cancellation_signal signal;
    Outcome outcome;
    auto caller = [](std::shared_ptr<Topology> t) -> asio::awaitable<SelectedServer> {
      co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
      co_return co_await t->co_select_server(ReadPreference{});
    };
    asio::co_spawn(io, caller(topology),
                   asio::bind_cancellation_slot(signal.slot(), record(outcome)));
    io.poll();
    ASSERT_FALSE(outcome.done);
    signal.emit(type);
    io.run();
    ASSERT_TRUE(outcome.done);
    EXPECT_EQ(outcome.code(), kCancelled) << outcome.what();
  }
}

TEST(AsyncServerSelection, ACancellationBeforeTheWaitEndsItToo) {
  auto topology = make_topology();
  asio::io_context io;
  asio::cancellation_signal signal;
  Outcome outcome;
  // The caller's own wait is cancelled first; it then selects, with the cancellation recorded.
  auto caller = [](std::shared_ptr<Topology> t) -> asio::awaitable<SelectedServer> {
    asio::steady_timer timer(co_await asio::this_coro::executor, 1h);
    co_await asio::this_coro::throw_if_cancelled(false);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return co_await t->co_select_server_for_writes();
  };
  asio::co_spawn(io, caller(topology),
                 asio::bind_cancellation_slot(signal.slot(), record(outcome)));
  io.poll();
  ASSERT_FALSE(outcome.done);
  signal.emit(asio::cancellation_type::terminal);
  io.run();
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(outcome.code(), kCancelled) << outcome.what();
}

TEST(AsyncServerSelection, CloseWakesTheWaitingSelectionWithClientClosed) {
  auto topology = make_topology();
  asio::io_context io;
  Outcome outcome;
  asio::co_spawn(io, topology->co_select_server_for_writes(), record(outcome));
  io.poll();
  ASSERT_FALSE(outcome.done);
  std::thread closer([&] { topology->close(); });
  closer.join();
  io.run();
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(outcome.code(), make_error_code(errc::client_closed)) << outcome.what();
  // And after close, at once.
  Outcome late;
  asio::co_spawn(io, topology->co_select_server({}), record(late));
  io.restart();
  io.run();
  ASSERT_TRUE(late.done);
  EXPECT_EQ(late.code(), make_error_code(errc::client_closed)) << late.what();
}

TEST(AsyncServerSelection, DestroyingTheTopologyEndsTheSelectionWithClientClosed) {
  auto topology = make_topology();
  std::weak_ptr<Topology> weak = topology;
  asio::io_context io;
  Outcome outcome;
  asio::co_spawn(io, topology->co_select_server_for_writes(), record(outcome));
  io.poll();
  ASSERT_FALSE(outcome.done);
  topology.reset();  // the pending selection holds it only weakly
  EXPECT_TRUE(weak.expired());
  io.run();
  ASSERT_TRUE(outcome.done);
  EXPECT_EQ(outcome.code(), make_error_code(errc::client_closed)) << outcome.what();
}

TEST(AsyncServerSelection, AnIoContextDestroyedWithASelectionPendingFreesIt) {
  auto topology = make_topology();
  auto sentinel = std::make_shared<int>(0);
  std::weak_ptr<int> frame_alive = sentinel;
  Outcome outcome;
  {
    asio::io_context io;
    auto caller = [](std::shared_ptr<Topology> t,
                     std::shared_ptr<int> held) -> asio::awaitable<SelectedServer> {
      co_return co_await t->co_select_server_for_writes();
    };
    asio::co_spawn(io, caller(topology, std::move(sentinel)), record(outcome));
    io.poll();
    ASSERT_FALSE(outcome.done);
  }
  // The coroutine's frames went with the io_context (nothing keeps them alive), and the
  // completion never ran.
  EXPECT_TRUE(frame_alive.expired());
  EXPECT_FALSE(outcome.done);
  // A publish and the close wake nothing that is gone (ASan: no use after free).
  topology->apply_check_result(standalone());
  EXPECT_EQ(topology->select_server_for_writes().address, kServer);
  topology->close();
}

TEST(AsyncServerSelection, ManyPublishersAgainstManySelections) {
  auto topology = make_topology();
  asio::io_context io;
  constexpr int kCoroutines = 64, kSelectionsEach = 20, kIoThreads = 3, kPublishers = 3;
  std::atomic<int> selected{0}, failed{0};
  std::mutex errors_mutex;
  std::vector<std::string> errors;
  auto selector = [&](int n) -> asio::awaitable<void> {
    for (int i = 0; i < kSelectionsEach; ++i) {
      try {
        // (Not one co_await per branch of a ?: expression: GCC 12 miscompiles that.)
        auto selection = (n + i) % 2 ? topology->co_select_server_for_writes()
                                     : topology->co_select_server(ReadPreference{});
        SelectedServer s = co_await std::move(selection);
        if (s.address == kServer) ++selected;
      } catch (const std::exception& e) {
        ++failed;
        std::lock_guard lock(errors_mutex);
        errors.push_back(e.what());
      }
    }
  };
  for (int n = 0; n < kCoroutines; ++n) asio::co_spawn(io, selector(n), asio::detached);
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int p = 0; p < kPublishers; ++p) {
    threads.emplace_back([&, p] {
      // Down and up again, so that selections keep finding none and waiting.
      for (int i = 0; !stop; ++i) {
        if ((i + p) % 2) {
          topology->apply_check_result(standalone());
        } else {
          topology->apply_check_result(
              ServerDescription::from_error(kServer, "down " + std::to_string(i), {}));
        }
      }
    });
  }
  std::vector<std::thread> runners;
  for (int r = 0; r < kIoThreads; ++r) runners.emplace_back([&] { io.run(); });
  for (auto& t : runners) t.join();  // run() returns once every selector is done
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0) << (errors.empty() ? "" : errors.front());
  EXPECT_EQ(selected.load(), kCoroutines * kSelectionsEach);

  // Then selections still waiting when another thread closes the topology: each ends, either
  // selected or client_closed.
  topology->apply_check_result(ServerDescription::from_error(kServer, "down for good", {}));
  std::atomic<int> closed{0};
  auto waiter = [&]() -> asio::awaitable<void> {
    try {
      co_await topology->co_select_server_for_writes();
    } catch (const Error& e) {
      if (e.code() == make_error_code(errc::client_closed)) ++closed;
    }
  };
  io.restart();
  for (int n = 0; n < kCoroutines; ++n) asio::co_spawn(io, waiter(), asio::detached);
  runners.clear();
  for (int r = 0; r < kIoThreads; ++r) runners.emplace_back([&] { io.run(); });
  std::thread closer([&] { topology->close(); });
  closer.join();
  for (auto& t : runners) t.join();
  EXPECT_EQ(closed.load(), kCoroutines);
}

}  // namespace
}  // namespace mongoslice
