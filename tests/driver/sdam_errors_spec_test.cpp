// Runs the SDAM spec's errors/ folder (server-discovery-and-monitoring/tests/errors) through the
// path operations take. Each applicationError is a real operation's error: a scripted server on
// loopback stands in for every member, and
//   - "afterHandshakeCompletes": a command runs on a pooled connection (ClientCore::run_on_lease,
//     the engine's own step) and the server answers it with the test's response, closes the
//     connection ("network") or stays silent until the read's deadline ("timeout");
//   - "beforeHandshakeCompletes": the pool establishes a connection (ClientCore::run_on, or an
//     attempt started earlier) and the server does the same to its handshake.
// An error's "generation" is that of the connection it happens on: connections of older
// generations are made while that generation was current and kept aside (checked out, or with
// their handshake held by the server) until the error they are for. Hello "responses" are
// applied as a monitor's checks are (Topology::apply_check_result); the monitors themselves
// block for the whole test, so nothing else changes the topology.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "driver/client_core.hpp"
#include "driver/connection_string.hpp"
#include "driver/topology.hpp"
#include "support/loopback_peer.hpp"
#include "support/scripted_topology.hpp"
#include "support/sdam_outcome.hpp"
#include "support/spec_test_files.hpp"
#include "wire/bson.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using test::SpecFile;

// A handshake held from one phase to a later one must not time out on its own before its
// error is due: the phases between take milliseconds, far below this. (Were it to time out
// early, the error would be ignored as stale anyway, as those files expect.) The two "timeout
// before the handshake" files wait it out once each.
constexpr auto kConnectTimeout = 2000ms;
// The read deadline of an operation whose reply never comes ("timeout" after the handshake);
// the other operations get a long one, so that a loaded machine cannot turn their scripted
// error into a timeout.
constexpr auto kTimeoutDeadline = 300ms;
constexpr auto kOperationDeadline = 10'000ms;

std::vector<SpecFile> error_files() {
  static const std::vector<SpecFile> files =
      test::spec_files(test::spec_folders("MONGOSLICE_SDAM_ERRORS_SPEC_DIRS",
                                          {"server-discovery-and-monitoring/tests/errors"}),
                       {});
  return files;
}

[[maybe_unused]] auto* const kCounts =
    ::testing::AddGlobalTestEnvironment(new test::SpecCountsPrinter("sdam-errors", error_files()));

// What the scripted server does with one message.
struct Action {
  enum class Kind { kAnswer, kReply, kClose, kSilence, kHold } kind = Kind::kAnswer;
  bson::Document reply;  // kReply
  int hold = 0;          // kHold: released by Members::release(hold, action)

  static Action of(std::string_view type, const std::optional<bson::Document>& response) {
    if (type == "network") return {Kind::kClose};
    if (type == "timeout") return {Kind::kSilence};
    if (type == "command") return {Kind::kReply, *response};
    throw std::runtime_error("unknown applicationError type " + std::string(type));
  }
};

// The scripted server's plan, shared by its connections: what the next handshake and the next
// command get (by default a healthy answer).
class Members {
 public:
  void set_wire_version(std::int32_t v) {
    std::lock_guard lock(mutex_);
    wire_version_ = v;
  }
  void next_handshake(Action a) {
    std::lock_guard lock(mutex_);
    handshakes_.push_back(std::move(a));
  }
  void next_command(Action a) {
    std::lock_guard lock(mutex_);
    commands_.push_back(std::move(a));
  }
  // Waits (bounded) until a connection took hold `id`.
  bool wait_held(int id) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return held_.count(id) > 0; });
  }
  void release(int id, Action a) {
    std::lock_guard lock(mutex_);
    released_.emplace(id, std::move(a));
    changed_.notify_all();
  }

  // One connection's script.
  void serve(testing::PeerStream& s) {
    auto hello = s.read_message();
    if (!perform(s, hello, take(handshakes_), /*handshake=*/true)) return;
    for (;;) {
      auto command = s.read_message();
      if (!perform(s, command, take(commands_), /*handshake=*/false)) return;
    }
  }

 private:
  Action take(std::deque<Action>& queue) {
    std::lock_guard lock(mutex_);
    if (queue.empty()) return {};
    Action a = std::move(queue.front());
    queue.pop_front();
    return a;
  }

  bool perform(testing::PeerStream& s, const std::vector<std::uint8_t>& request, Action a,
               bool handshake) {
    if (a.kind == Action::Kind::kHold) {
      std::unique_lock lock(mutex_);
      held_.insert(a.hold);
      changed_.notify_all();
      if (!changed_.wait_for(lock, 10s, [&] { return released_.count(a.hold) > 0; })) return false;
      Action released = std::move(released_.at(a.hold));
      lock.unlock();
      a = std::move(released);
    }
    switch (a.kind) {
      case Action::Kind::kAnswer: {
        std::int32_t wire;
        {
          std::lock_guard lock(mutex_);
          wire = wire_version_;
        }
        s.write(testing::reply_to(request, handshake ? testing::standard_hello_reply(wire)
                                                     : bson::Builder{}.append("ok", 1.0).build()));
        return true;
      }
      case Action::Kind::kReply:
        s.write(testing::reply_to(request, a.reply));
        return true;
      case Action::Kind::kClose:
        return false;  // the server hangs up: the client's read fails
      case Action::Kind::kSilence:
        s.wait_for_close();  // until the client gives up
        return false;
      case Action::Kind::kHold:
        break;
    }
    return false;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  std::int32_t wire_version_ = 9;
  std::deque<Action> handshakes_, commands_;
  std::set<int> held_;
  std::map<int, Action> released_;
};

// A connection attempt started while some generation was current, its handshake held by the
// server until the error it stands for.
struct HeldAttempt {
  int hold = 0;
  std::thread thread;
};

std::string with_test_options(std::string uri) {
  if (uri.find('?') == std::string::npos)
    uri += uri.back() == '/' ? "?" : "/?";
  else
    uri += "&";
  return uri + "connectTimeoutMS=" + std::to_string(kConnectTimeout.count());
}

class SdamErrorsSpec : public ::testing::TestWithParam<SpecFile> {};

TEST_P(SdamErrorsSpec, Phases) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  ASSERT_TRUE(std::filesystem::exists(file.path)) << "no spec files at " << file.path;
  bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));
  SCOPED_TRACE(std::string(spec["description"].get_string()));

  // Which generations some later error needs a connection of, per phase of connecting.
  std::set<std::pair<std::string, std::uint64_t>> needs_lease, needs_attempt;
  for (const bson::Element& phase : spec["phases"].get_array()) {
    if (auto errors = phase.get_document().find("applicationErrors")) {
      for (const bson::Element& e : errors->get_array()) {
        bson::View error = e.get_document();
        auto generation = error.find("generation");
        if (!generation) continue;
        auto key = std::pair{std::string(error["address"].get_string()),
                             static_cast<std::uint64_t>(generation->as_int64())};
        (error["when"].get_string() == "afterHandshakeCompletes" ? needs_lease : needs_attempt)
            .insert(key);
      }
    }
  }

  auto members = std::make_shared<Members>();
  testing::LoopbackServer server([members](testing::PeerStream& s, int) { members->serve(s); });
  const CheckerFactory checkers = testing::silent_checkers();  // monitors that never report
  auto core = ClientCore::create(
      ConnectionString::parse(with_test_options(std::string(spec["uri"].get_string()))), {},
      [&](const ConnectionString& uri, std::shared_ptr<const EventDispatcher> events) {
        return Topology::create(uri, std::move(events), checkers, {}, server.address());
      });
  const auto& topology = core->topology();

  // Connections are kept checked out: the pool then has no idle one, so every acquire makes a
  // new connection (and runs a handshake the server can fail).
  std::vector<ConnectionPool::Lease> kept;
  std::map<std::pair<std::string, std::uint64_t>, ConnectionPool::Lease> old_leases;
  std::map<std::pair<std::string, std::uint64_t>, HeldAttempt> held;
  int next_hold = 1;
  const bson::Document ping = bson::Builder{}.append("ping", 1).build();

  // A paused pool (its server not known yet, or Unknown after an error) makes no connection: the
  // connections of a generation are made once a check readied it (CMAP).
  auto prepare_old_connections = [&] {
    for (const auto& key : needs_lease) {
      auto pool = topology->pool(*parse_host_and_port(key.first));
      if (!pool || pool->paused() || pool->generation() != key.second || old_leases.count(key))
        continue;
      old_leases.emplace(key, pool->acquire());
    }
    for (const auto& key : needs_attempt) {
      auto pool = topology->pool(*parse_host_and_port(key.first));
      if (!pool || pool->paused() || pool->generation() != key.second || held.count(key)) continue;
      HeldAttempt attempt;
      attempt.hold = next_hold++;
      members->next_handshake({Action::Kind::kHold, {}, attempt.hold});
      attempt.thread = std::thread([pool] {
        try {
          auto lease = pool->acquire();
        } catch (const std::exception&) {  // expected: the error is the point
        }
      });
      ASSERT_TRUE(members->wait_held(attempt.hold)) << "the held handshake never arrived";
      held.emplace(key, std::move(attempt));
    }
  };

  auto run_error = [&](bson::View error) {
    const auto address = *parse_host_and_port(error["address"].get_string());
    const std::string address_text = address.to_string();
    auto pool = topology->pool(address);
    ASSERT_NE(pool, nullptr) << "no pool for " << address_text;
    const bool after = error["when"].get_string() == "afterHandshakeCompletes";
    std::optional<bson::Document> response;
    if (auto r = error.find("response")) response = bson::Document(r->get_document());
    const Action action = Action::of(error["type"].get_string(), response);
    members->set_wire_version(static_cast<std::int32_t>(error["maxWireVersion"].as_int64()));
    std::optional<std::uint64_t> generation;
    if (auto g = error.find("generation")) generation = static_cast<std::uint64_t>(g->as_int64());
    const bool current = !generation || *generation == pool->generation();

    if (after) {
      ConnectionPool::Lease* lease = nullptr;
      if (current) {
        kept.push_back(pool->acquire());
        lease = &kept.back();
      } else {
        auto it = old_leases.find({address_text, *generation});
        ASSERT_NE(it, old_leases.end()) << "no connection of generation " << *generation;
        lease = &it->second;
      }
      ASSERT_TRUE(*lease) << "the connection of this error was already discarded";
      members->next_command(action);
      try {
        const bool timeout = action.kind == Action::Kind::kSilence;
        core->run_on_lease(address, *lease, "admin", ping.view(), {},
                           Deadline::after(timeout ? kTimeoutDeadline : kOperationDeadline,
                                           "the test's operation deadline"));
      } catch (const std::exception&) {  // the error under test
      }
    } else if (current) {
      members->next_handshake(action);
      try {
        core->run_on(address, "admin", ping.view());
      } catch (const std::exception&) {
      }
    } else {
      auto it = held.find({address_text, *generation});
      ASSERT_NE(it, held.end()) << "no connection attempt of generation " << *generation;
      members->release(it->second.hold, action);
      it->second.thread.join();
      held.erase(it);
    }
  };

  auto check_pool = [&](const HostAndPort& address, bson::View expected) {
    auto pool = topology->pool(address);
    ASSERT_NE(pool, nullptr);
    EXPECT_EQ(pool->generation(), static_cast<std::uint64_t>(expected["generation"].as_int64()))
        << "pool generation of " << address.to_string();
  };

  int phase_number = 0;
  for (const bson::Element& phase : spec["phases"].get_array()) {
    SCOPED_TRACE("phase " + std::to_string(phase_number++));
    bson::View p = phase.get_document();
    for (const bson::Element& key : p) {
      std::string_view k = key.key();
      if (k != "responses" && k != "applicationErrors" && k != "outcome" && k != "description") {
        FAIL() << "phase field not handled by this runner: " << k;
      }
    }
    prepare_old_connections();
    if (auto responses = p.find("responses")) {
      testing::apply_responses(*topology, responses->get_array());
    }
    prepare_old_connections();
    if (auto errors = p.find("applicationErrors")) {
      for (const bson::Element& error : errors->get_array()) run_error(error.get_document());
    }
    test::check_outcome(*topology->description(), p["outcome"].get_document(), check_pool);
  }
  for (auto& [key, attempt] : held) {  // a file that never used one: end it
    members->release(attempt.hold, {Action::Kind::kClose});
    attempt.thread.join();
  }
  EXPECT_TRUE(server.script_errors().empty());
}

INSTANTIATE_TEST_SUITE_P(Files, SdamErrorsSpec, ::testing::ValuesIn(error_files()),
                         test::SpecFileName{});

}  // namespace
}  // namespace mongoslice
