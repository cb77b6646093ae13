// Runs the CMAP spec's cmap-format folder (connection-monitoring-and-pooling/tests/cmap-format)
// against ConnectionPool: each file's operations run on the main thread or on the named threads
// it starts, and the CMAP events the pool publishes are matched against the file's (the spec's
// MATCH: a subset, 42 and "42" standing for "any value"), minus the types it ignores.
//
// The connections are real: a scripted server on loopback answers their handshakes. The
// "integration" files name a failCommand fail point on the handshake (block it for blockTimeMS,
// or answer it with errorCode, for connections of the file's appName, alwaysOn or a number of
// times); the scripted server plays that fail point itself, since no server here has one.
//
// The minPoolSize and maxIdleTimeMS files run with the client's background work
// (driver/pool_maintainer.hpp), made and wired as the Topology makes it.
//
// Errors are matched by type (PoolClosedError, WaitQueueTimeoutError, PoolClearedError), not by
// message: the messages are each driver's own.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "driver/pool_maintainer.hpp"
#include "net/connection_pool.hpp"
#include "net/pool_events.hpp"
#include "support/loopback_peer.hpp"
#include "support/spec_test_files.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using test::SpecFile;

constexpr auto kDefaultEventWait = 10s;  // waitForEvent without a timeout
constexpr auto kThreadWait = 10s;        // waitForThread, and a thread's end at teardown

std::vector<SpecFile> cmap_files() {
  static const std::vector<SpecFile> files =
      test::spec_files(test::spec_folders("MONGOSLICE_CMAP_SPEC_DIRS",
                                          {"connection-monitoring-and-pooling/tests/cmap-format"}),
                       {});
  return files;
}

[[maybe_unused]] auto* const kCounts =
    ::testing::AddGlobalTestEnvironment(new test::SpecCountsPrinter("cmap", cmap_files()));

// ---- events --------------------------------------------------------------------------------

class EventRecorder final : public PoolEventListener {
 public:
  void on_pool_event(const PoolEvent& e) noexcept override {
    try {
      bson::Builder b;
      b.append("type", to_string(e.kind)).append("address", e.address.to_string());
      switch (e.kind) {
        case PoolEventKind::kPoolCreated: {
          b.open_document("options")
              .append("maxPoolSize", static_cast<std::int64_t>(e.options.max_size))
              .append("maxConnecting", static_cast<std::int64_t>(e.options.max_connecting))
              .append("waitQueueTimeoutMS",
                      static_cast<std::int64_t>(e.options.wait_timeout.count()));
          if (e.options.min_size > 0) {
            b.append("minPoolSize", static_cast<std::int64_t>(e.options.min_size));
          }
          if (e.options.max_idle_time) {
            b.append("maxIdleTimeMS", static_cast<std::int64_t>(e.options.max_idle_time->count()));
          }
          b.close();
          break;
        }
        case PoolEventKind::kPoolCleared:
          b.append("interruptInUseConnections", e.interrupt_in_use_connections);
          break;
        case PoolEventKind::kConnectionCreated:
        case PoolEventKind::kCheckedIn:
          b.append("connectionId", static_cast<std::int64_t>(e.connection_id));
          break;
        case PoolEventKind::kConnectionReady:
        case PoolEventKind::kCheckedOut:
          b.append("connectionId", static_cast<std::int64_t>(e.connection_id))
              .append("duration", milliseconds(e.duration));
          break;
        case PoolEventKind::kConnectionClosed:
          b.append("connectionId", static_cast<std::int64_t>(e.connection_id))
              .append("reason", to_string(e.closed_reason));
          break;
        case PoolEventKind::kCheckOutFailed:
          b.append("reason", to_string(e.failed_reason))
              .append("duration", milliseconds(e.duration));
          break;
        default:
          break;
      }
      std::lock_guard lock(mutex_);
      events_.push_back(b.build());
      changed_.notify_all();
    } catch (...) {
      std::lock_guard lock(mutex_);
      lost_ = true;
    }
  }

  // Waits until `type` occurred `count` times (ignored types count too, as the spec says).
  bool wait_for(const std::string& type, std::int64_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      std::int64_t seen = 0;
      for (const auto& e : events_) seen += e["type"].get_string() == type;
      return seen >= count;
    });
  }

  std::vector<bson::Document> snapshot() const {
    std::lock_guard lock(mutex_);
    return events_;
  }
  bool lost() const {
    std::lock_guard lock(mutex_);
    return lost_;
  }

 private:
  static double milliseconds(std::chrono::nanoseconds d) {
    return std::chrono::duration<double, std::milli>(d).count();
  }
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<bson::Document> events_;
  bool lost_ = false;
};

// ---- MATCH -----------------------------------------------------------------------------------

bool is_placeholder(const bson::Element& e) {
  if (e.type() == bson::Type::kString) return e.get_string() == "42";
  return e.is_number() && e.as_double() == 42.0;
}

// Empty when `actual` MATCHES `expected`, else what differs (at `path`).
std::string mismatch(const std::optional<bson::Element>& actual, const bson::Element& expected,
                     const std::string& path) {
  if (!actual || actual->type() == bson::Type::kNull) {
    return is_placeholder(expected) || expected.type() != bson::Type::kNull ? path + " is missing"
                                                                            : "";
  }
  if (is_placeholder(expected)) return "";
  if (expected.is_number()) {
    if (!actual->is_number()) return path + " is not a number";
    return actual->as_double() == expected.as_double()
               ? ""
               : path + ": " + std::to_string(actual->as_double()) + " instead of " +
                     std::to_string(expected.as_double());
  }
  if (expected.type() != actual->type()) return path + " has another type";
  switch (expected.type()) {
    case bson::Type::kString:
      return actual->get_string() == expected.get_string()
                 ? ""
                 : path + ": \"" + std::string(actual->get_string()) + "\" instead of \"" +
                       std::string(expected.get_string()) + "\"";
    case bson::Type::kBool:
      return actual->get_bool() == expected.get_bool() ? "" : path + " differs";
    case bson::Type::kDocument:
    case bson::Type::kArray: {
      const bson::View want =
          expected.type() == bson::Type::kDocument ? expected.get_document() : expected.get_array();
      const bson::View have =
          actual->type() == bson::Type::kDocument ? actual->get_document() : actual->get_array();
      for (const bson::Element& field : want) {
        std::string m =
            mismatch(have.find(field.key()), field, path + "." + std::string(field.key()));
        if (!m.empty()) return m;
      }
      return "";
    }
    default:
      return path + ": a type this runner does not compare";
  }
}

// ---- the scripted server and its fail point ---------------------------------------------------

class HandshakeFailPoint {
 public:
  explicit HandshakeFailPoint(std::optional<bson::Document> spec) {
    if (!spec) return;
    const bson::View fp = spec->view();
    auto mode = fp["mode"];
    if (mode.type() == bson::Type::kString) {
      if (mode.get_string() != "alwaysOn") return;  // "off"
    } else {
      times_ = mode.get_document()["times"].as_int64();
    }
    const bson::View data = fp["data"].get_document();
    bool on_hello = false;
    for (const bson::Element& name : data["failCommands"].get_array()) {
      on_hello |= name.get_string() == "hello" || name.get_string() == "isMaster";
    }
    if (!on_hello) return;
    active_ = true;
    if (auto b = data.find("blockConnection"); b && b->as_bool()) {
      block_ = std::chrono::milliseconds(data["blockTimeMS"].as_int64());
    }
    if (auto c = data.find("errorCode")) error_code_ = c->as_int32();
    if (auto c = data.find("closeConnection")) close_ = c->as_bool();
    if (auto a = data.find("appName")) app_name_ = std::string(a->get_string());
  }

  // Ends every block at once (the test is over).
  void stop() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }

  // One connection's script.
  void serve(testing::PeerStream& s) {
    auto hello = s.read_message();
    const bson::Document body = testing::body_of(hello);
    if (applies(body)) {
      if (block_) {
        std::unique_lock lock(mutex_);
        if (changed_.wait_for(lock, *block_, [&] { return stopping_; })) return;
      }
      if (close_) return;
      if (error_code_) {
        s.write(testing::reply_to(hello, bson::Builder{}
                                             .append("ok", 0.0)
                                             .append("code", *error_code_)
                                             .append("errmsg", "failCommand fail point")
                                             .build()));
        s.wait_for_close();
        return;
      }
    }
    s.write(testing::reply_to(hello, testing::standard_hello_reply()));
    for (;;) {
      auto command = s.read_message();
      s.write(testing::reply_to(command, bson::Builder{}.append("ok", 1.0).build()));
    }
  }

 private:
  bool applies(const bson::Document& hello) {
    std::lock_guard lock(mutex_);
    if (!active_) return false;
    if (app_name_) {
      auto client = hello.find("client");
      if (!client) return false;
      auto application = client->get_document().find("application");
      if (!application || application->get_document()["name"].get_string() != *app_name_) {
        return false;
      }
    }
    if (times_) {
      if (*times_ <= 0) return false;
      --*times_;
    }
    return true;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool active_ = false;
  std::optional<std::int64_t> times_;
  std::optional<std::chrono::milliseconds> block_;
  std::optional<std::int32_t> error_code_;
  bool close_ = false;
  std::optional<std::string> app_name_;
};

// ---- threads ---------------------------------------------------------------------------------

// A named thread of a test: runs the operations posted to it, in order; keeps its first error.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      changed_.notify_all();
    }
    thread_.join();
  }
  void post(std::function<void()> op) {
    std::lock_guard lock(mutex_);
    ops_.push_back(std::move(op));
    changed_.notify_all();
  }
  // True once everything posted has run.
  bool wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return ops_.empty() && !busy_; });
  }
  std::exception_ptr error() {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [&] { return stop_ || !ops_.empty(); });
      if (ops_.empty()) return;
      auto op = std::move(ops_.front());
      ops_.pop_front();
      busy_ = true;
      lock.unlock();
      std::exception_ptr error;
      try {
        op();
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      if (error && !error_) error_ = error;
      busy_ = false;
      changed_.notify_all();
    }
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> ops_;
  bool busy_ = false;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once the rest exists
};

std::string error_type_of(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const Error& e) {
    if (e.code() == make_error_code(errc::client_closed)) return "PoolClosedError";
    if (e.code() == make_error_code(errc::pool_timeout)) return "WaitQueueTimeoutError";
    if (e.code() == make_error_code(errc::pool_cleared)) return "PoolClearedError";
    return std::string("Error: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  }
}

PoolOptions pool_options_of(const std::optional<bson::Document>& spec) {
  PoolOptions options;
  options.wait_timeout = 30s;  // the spec's default (0) waits for ever; no file relies on that
  if (!spec) return options;
  for (const bson::Element& o : spec->view()) {
    const std::string_view key = o.key();
    if (key == "maxPoolSize") {
      options.max_size = static_cast<std::uint32_t>(o.as_int64());
    } else if (key == "maxConnecting") {
      options.max_connecting = static_cast<std::uint32_t>(o.as_int64());
    } else if (key == "waitQueueTimeoutMS") {
      options.wait_timeout = std::chrono::milliseconds(o.as_int64());
    } else if (key == "maxIdleTimeMS") {
      options.max_idle_time = std::chrono::milliseconds(o.as_int64());
    } else if (key == "appName") {
      options.connection.app_name = std::string(o.get_string());
    } else if (key == "minPoolSize") {
      options.min_size = static_cast<std::uint32_t>(o.as_int64());
    } else if (key == "backgroundThreadIntervalMS") {
      // The maintenance sleeps until a pool wakes it or an idle deadline: it has no interval.
    } else {
      throw std::runtime_error("pool option not handled by this runner: " + std::string(key));
    }
  }
  return options;
}

// ---- the runner ------------------------------------------------------------------------------

class CmapSpec : public ::testing::TestWithParam<SpecFile> {};

TEST_P(CmapSpec, Run) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  const bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));
  auto optional_document = [&](std::string_view key) -> std::optional<bson::Document> {
    if (auto e = spec.find(key)) return bson::Document(e->get_document());
    return std::nullopt;
  };

  HandshakeFailPoint fail_point(optional_document("failPoint"));
  testing::LoopbackServer server([&](testing::PeerStream& s, int) { fail_point.serve(s); });
  auto recorder = std::make_shared<EventRecorder>();
  PoolOptions options = pool_options_of(optional_document("poolOptions"));
  options.events = recorder;
  // The client's background work, made as the Topology makes it: only for these two options.
  std::shared_ptr<PoolMaintainer> maintainer;
  if (options.min_size > 0 || options.max_idle_time) {
    maintainer = PoolMaintainer::create();
    options.maintenance = maintainer;
  }
  auto pool = ConnectionPool::create(server.address(), options);
  // What SDAM does with a failed handshake (the files' fail points): it clears the pool of the
  // generation the attempt began in (pool-create-min-size-error.json relies on it).
  pool->set_establishment_error_handler(
      [weak = std::weak_ptr(pool)](std::uint64_t generation, const std::exception&) {
        if (auto p = weak.lock()) p->clear_if_generation(generation);
      });
  if (maintainer) {
    maintainer->add(pool);
    maintainer->open();
  }

  std::mutex leases_mutex;
  std::map<std::string, ConnectionPool::Lease> labelled;
  std::vector<ConnectionPool::Lease> unlabelled;  // checked out, never checked in by the file
  std::map<std::string, std::unique_ptr<Worker>> workers;

  // One operation, on whichever thread runs it.
  auto perform = [&](bson::View op) {
    const std::string_view name = op["name"].get_string();
    if (name == "checkOut") {
      ConnectionPool::Lease lease = pool->acquire();
      std::lock_guard lock(leases_mutex);
      if (auto label = op.find("label")) {
        labelled[std::string(label->get_string())] = std::move(lease);
      } else {
        unlabelled.push_back(std::move(lease));
      }
    } else if (name == "checkIn") {
      ConnectionPool::Lease lease;
      {
        std::lock_guard lock(leases_mutex);
        auto it = labelled.find(std::string(op["connection"].get_string()));
        if (it == labelled.end()) throw std::runtime_error("checkIn of an unknown connection");
        lease = std::move(it->second);
        labelled.erase(it);
      }
      // The lease's destruction checks it in.
    } else if (name == "clear") {
      const auto interrupt = op.find("interruptInUseConnections");
      pool->clear(interrupt && interrupt->as_bool());
    } else if (name == "close") {
      pool->close();
    } else if (name == "ready") {
      pool->ready();
    } else if (name == "wait") {
      std::this_thread::sleep_for(std::chrono::milliseconds(op["ms"].as_int64()));
    } else if (name == "waitForEvent") {
      const auto timeout = op.find("timeout");
      const std::string event(op["event"].get_string());
      if (!recorder->wait_for(event, op["count"].as_int64(),
                              timeout ? std::chrono::milliseconds(timeout->as_int64())
                                      : std::chrono::milliseconds(kDefaultEventWait))) {
        throw std::runtime_error("waitForEvent: " + event + " did not occur " +
                                 std::to_string(op["count"].as_int64()) + " times");
      }
    } else {
      throw std::runtime_error("operation not handled by this runner: " + std::string(name));
    }
  };

  std::exception_ptr main_error;
  for (const bson::Element& element : spec["operations"].get_array()) {
    const bson::View op = element.get_document();
    const std::string_view name = op["name"].get_string();
    try {
      if (name == "start") {
        workers[std::string(op["target"].get_string())] = std::make_unique<Worker>();
      } else if (name == "waitForThread") {
        auto& worker = workers.at(std::string(op["target"].get_string()));
        if (!worker->wait_idle(kThreadWait)) throw std::runtime_error("the thread never finished");
        if (auto error = worker->error()) std::rethrow_exception(error);
      } else if (auto thread = op.find("thread")) {
        const bson::Document copy(op);  // the worker runs it later
        workers.at(std::string(thread->get_string()))->post([&perform, copy] {
          perform(copy.view());
        });
      } else {
        perform(op);
      }
    } catch (...) {
      main_error = std::current_exception();
      break;
    }
  }
  const std::vector<bson::Document> events = recorder->snapshot();

  // Teardown first, so that a failed expectation below leaves no thread blocked.
  pool->close();
  if (maintainer) {
    maintainer->close();
    EXPECT_TRUE(maintainer->join(kThreadWait)) << "the pool maintenance thread did not end";
  }
  fail_point.stop();
  for (auto& [name, worker] : workers) EXPECT_TRUE(worker->wait_idle(kThreadWait)) << name;
  workers.clear();
  labelled.clear();
  unlabelled.clear();
  server.stop();
  EXPECT_FALSE(recorder->lost()) << "an event could not be recorded";

  if (auto expected = spec.find("error")) {
    ASSERT_TRUE(main_error) << "the main thread did not fail";
    const std::string type = error_type_of(main_error);
    EXPECT_EQ(type, expected->get_document()["type"].get_string());
  } else if (main_error) {
    FAIL() << "the main thread failed: " << error_type_of(main_error);
  }

  std::set<std::string> ignored;
  if (auto ignore = spec.find("ignore")) {
    for (const bson::Element& type : ignore->get_array()) ignored.emplace(type.get_string());
  }
  std::vector<bson::Document> actual;
  std::string seen;
  for (const auto& e : events) {
    if (ignored.count(std::string(e["type"].get_string()))) continue;
    actual.push_back(e);
    seen += "\n  " + e.to_json();
  }
  std::size_t index = 0;
  for (const bson::Element& expected : spec["events"].get_array()) {
    SCOPED_TRACE("event " + std::to_string(index) + ", events seen:" + seen);
    ASSERT_LT(index, actual.size()) << "missing: " << bson::View(expected.get_document()).to_json();
    bson::Builder holder;
    holder.append("event", bson::View(actual[index]));
    const bson::Document wrapped = holder.build();
    EXPECT_EQ(mismatch(wrapped.find("event"), expected, "event"), "");
    ++index;
  }
  EXPECT_TRUE(server.script_errors().empty());
}

INSTANTIATE_TEST_SUITE_P(Files, CmapSpec, ::testing::ValuesIn(cmap_files()), test::SpecFileName{});

}  // namespace
}  // namespace mongoslice
