#pragma once
// A ServerChecker scripted per call, for Monitor and Topology unit tests. The test keeps the
// Script (shared) and hands the checker to the monitor; each check() takes the next step:
// a hello reply, a network error, a timeout, an ok: 0 reply (thrown as the ServerError the real
// checker throws), a check that blocks until interrupted, or one that blocks until the test
// opens a gate. When the script runs out, the last step repeats. A step marked awaited stands
// for a check of the streaming protocol: next_check_awaited() says whether the next step is one.
// (Which replies lead to awaited checks is the real checker's business, tested over a loopback
// peer in tests/driver/streaming_monitor_test.cpp.)

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "monitor/server_checker.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice::testing {

struct Step {
  enum class Kind {
    kReply,
    kFail,
    kTimeout,
    kServerError,
    kBlockUntilInterrupted,
    kGate
  } kind = Kind::kReply;
  bson::Document reply;
  std::string error;
  std::chrono::nanoseconds rtt{std::chrono::milliseconds(1)};
  bool awaited = false;

  // The same step as an awaited check (its reply, if any, is CheckResult::awaited).
  Step as_awaited() && {
    awaited = true;
    return std::move(*this);
  }

  static Step reply_json(std::string_view json) {
    return {Kind::kReply, bson::Document::from_json(json), {}};
  }
  static Step fail(std::string error) { return {Kind::kFail, {}, std::move(error)}; }
  static Step timeout(std::string error) { return {Kind::kTimeout, {}, std::move(error)}; }
  // An ok: 0 reply, e.g. {"ok": 0, "code": 91, "errmsg": "shutting down"}.
  static Step server_error(std::string_view json) {
    return {Kind::kServerError, bson::Document::from_json(json), {}};
  }
  static Step block() { return {Kind::kBlockUntilInterrupted, {}, {}}; }
  // Blocks until Script::open_gate(); then replies with `json`.
  static Step gate(std::string_view json) { return {Kind::kGate, bson::Document::from_json(json)}; }
};

class Script {
  template <typename F>
  auto locked(F f) const -> decltype(f()) {
    std::lock_guard lock(mutex_);
    return f();
  }

 public:
  void push(Step step) {
    std::lock_guard lock(mutex_);
    steps_.push_back(std::move(step));
  }
  void open_gate() {
    std::lock_guard lock(mutex_);
    gate_open_ = true;
    changed_.notify_all();
  }

  int checks() const {
    return locked([&] { return checks_; });
  }
  int resets() const {
    return locked([&] { return resets_; });
  }
  int interrupts() const {
    return locked([&] { return interrupts_; });
  }
  bool blocked() const {
    return locked([&] { return blocked_; });
  }
  bool next_awaited() const {
    return locked([&] { return !steps_.empty() && steps_.front().awaited; });
  }
  bool checker_destroyed() const {
    return locked([&] { return destroyed_; });
  }

  // Waits (bounded) until `predicate` holds; true when it did.
  bool wait_for(const std::function<bool()>& predicate,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      lock.unlock();  // the predicate may call the locked getters
      bool done = predicate();
      lock.lock();
      return done;
    });
  }

  // ---- the checker's side ----
  CheckResult run() {
    std::unique_lock lock(mutex_);
    ++checks_;
    changed_.notify_all();
    if (interrupted_) throw Error(errc::interrupted, "fake checker interrupted");
    Step step = steps_.empty() ? Step::fail("script empty") : steps_.front();
    if (steps_.size() > 1) steps_.pop_front();
    switch (step.kind) {
      case Step::Kind::kReply:
        return {step.reply, step.rtt, step.awaited};
      case Step::Kind::kFail:
        throw Error(errc::network_error, step.error);
      case Step::Kind::kTimeout:
        throw Error(errc::timeout, step.error);
      case Step::Kind::kServerError:
        throw *ServerError::from_reply(step.reply);
      case Step::Kind::kBlockUntilInterrupted:
        blocked_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return interrupted_; });
        blocked_ = false;
        throw Error(errc::interrupted, "fake check interrupted");
      case Step::Kind::kGate:
        blocked_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return gate_open_ || interrupted_; });
        blocked_ = false;
        gate_open_ = false;  // one gate step per opening
        if (interrupted_) throw Error(errc::interrupted, "fake check interrupted");
        return {step.reply, step.rtt, step.awaited};
    }
    return {};
  }
  void interrupt() noexcept {
    std::lock_guard lock(mutex_);  // fine in a test double; the real one is lock-free
    interrupted_ = true;
    ++interrupts_;
    changed_.notify_all();
  }
  void reset() noexcept {
    std::lock_guard lock(mutex_);
    ++resets_;
    changed_.notify_all();
  }
  void destroyed() noexcept {
    std::lock_guard lock(mutex_);
    destroyed_ = true;
    changed_.notify_all();
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::deque<Step> steps_;
  int checks_ = 0, resets_ = 0, interrupts_ = 0;
  bool interrupted_ = false, gate_open_ = false, blocked_ = false, destroyed_ = false;
};

class FakeChecker final : public ServerChecker {
 public:
  explicit FakeChecker(std::shared_ptr<Script> script) : script_(std::move(script)) {}
  ~FakeChecker() override { script_->destroyed(); }
  CheckResult check() override { return script_->run(); }
  bool next_check_awaited() const noexcept override { return script_->next_awaited(); }
  void interrupt() noexcept override { script_->interrupt(); }
  void reset() noexcept override { script_->reset(); }

 private:
  std::shared_ptr<Script> script_;
};

// hello replies.
inline std::string standalone_hello() {
  return R"({"ok": 1, "isWritablePrimary": true, "maxWireVersion": 21, "minWireVersion": 0})";
}

}  // namespace mongoslice::testing
