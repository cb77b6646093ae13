#pragma once
// The two engines an operation body runs on, so that each public operation is written once
// (DESIGN.md invariant 10). A body is a coroutine template over the engine:
//
//   template <typename Engine>
//   typename Engine::template Task<DeleteResult> delete_body(Engine engine, ...) {
//     ops::BulkWrite op(...);                          // the sans-I/O operation
//     auto outcome = co_await engine.execute(op);      // runs it
//     co_return to_delete_result(outcome.result);
//   }
//
// SyncEngine runs `op` on the calling thread (driver/operation_engine.hpp) and its Task is an
// eager coroutine that has finished when the call returns: run_now() takes its result. AsyncEngine
// runs `op` on the async engine (driver/async_engine.hpp) and its Task is
// boost::asio::awaitable: nothing blocks, the coroutine suspends at each co_await.

#include <boost/asio/awaitable.hpp>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "driver/async_engine.hpp"
#include "driver/operation_engine.hpp"

namespace mongoslice {

// What a body without a result returns (EagerTask needs a value).
struct Unit {};

// A coroutine that runs to its end before the call that made it returns (every co_await in it
// is on an already-finished SyncEngine step), and keeps its result or exception until taken.
template <typename T>
class EagerTask {
 public:
  struct promise_type {
    std::optional<T> value;
    std::exception_ptr failure;
    EagerTask get_return_object() {
      return EagerTask(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_never initial_suspend() noexcept { return {}; }
    std::suspend_always final_suspend() noexcept { return {}; }
    template <typename U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
    void unhandled_exception() noexcept { failure = std::current_exception(); }
  };
  EagerTask(EagerTask&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  EagerTask(const EagerTask&) = delete;
  ~EagerTask() {
    if (handle_) handle_.destroy();
  }
  // A body may co_await another body's task: it has finished already.
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() { return std::move(*this).run_now(); }

  // The result, or the exception the body threw.
  T run_now() && {
    auto& promise = handle_.promise();
    if (promise.failure) std::rethrow_exception(promise.failure);
    return std::move(*promise.value);
  }

 private:
  explicit EagerTask(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
  std::coroutine_handle<promise_type> handle_;
};

// An awaitable that is ready at once and yields `value` (SyncEngine's steps).
template <typename T>
struct Finished {
  T value;
  bool await_ready() const noexcept { return true; }
  void await_suspend(std::coroutine_handle<>) const noexcept {}
  T await_resume() { return std::move(value); }
};

// Both engines have constructors on purpose: GCC 12 destroys an aggregate prvalue passed to a
// coroutine's by-value parameter twice (a body's `Engine engine`), which would drop a reference
// to the client's state that was never taken.
struct SyncEngine {
  template <typename T>
  using Task = EagerTask<T>;

  // How a body takes what it works on (a handle, options): the sync engine by reference (the
  // caller's), the async one by value, so that the body's frame owns it and the public async_
  // function can return the body itself instead of wrapping it in one more coroutine frame.
  template <typename T>
  using Hold = const T&;

  // `s`: the explicit session the body's operations run in (none: implicit sessions); the
  // caller's handle holds it.
  explicit SyncEngine(ClientCore& c, ClientSessionState* s = nullptr) noexcept
      : core(c), session(s) {}
  ClientCore& core;
  ClientSessionState* session;

  template <ops::Operation Op>
  Finished<Executed<typename Op::Result>> execute(Op& op,
                                                  const ReadPreference& read_preference = {}) {
    return {mongoslice::execute(core, op, read_preference, session)};
  }
  template <ops::Operation Op>
  Finished<Executed<typename Op::Result>> execute_on(const HostAndPort& server, Op& op) {
    return {mongoslice::execute_on(core, server, op)};
  }
  // `session`: Executed::session of the operation whose reply this is.
  Cursor make_cursor(bson::Document reply, CursorOptions options, const HostAndPort& server,
                     CursorSessionPtr session) {
    return core.make_cursor(std::move(reply), std::move(options), server, false,
                            std::move(session));
  }
  // The cursor's next document.
  static Finished<std::optional<bson::View>> next(Cursor& cursor) { return {cursor.next()}; }
};

struct AsyncEngine {
  template <typename T>
  using Task = boost::asio::awaitable<T>;

  template <typename T>
  using Hold = T;

  explicit AsyncEngine(std::shared_ptr<ClientCore> c,
                       std::shared_ptr<ClientSessionState> s = nullptr) noexcept
      : core(std::move(c)), session(std::move(s)) {}
  // Shared: the pending operation keeps the client's state alive until it completes (close()
  // reaches it through the async pools and the topology's selection waiters).
  std::shared_ptr<ClientCore> core;
  // The explicit session the body's operations run in, kept alive while the body runs.
  std::shared_ptr<ClientSessionState> session;

  template <ops::Operation Op>
  boost::asio::awaitable<Executed<typename Op::Result>> execute(
      Op& op, const ReadPreference& read_preference = {}) {
    return co_execute(core, op, read_preference, session.get());
  }
  template <ops::Operation Op>
  boost::asio::awaitable<Executed<typename Op::Result>> execute_on(const HostAndPort& server,
                                                                   Op& op) {
    return co_execute_on(core, server, op);
  }
  Cursor make_cursor(bson::Document reply, CursorOptions options, const HostAndPort& server,
                     CursorSessionPtr session) {
    return core->make_cursor(std::move(reply), std::move(options), server, /*async_only=*/true,
                             std::move(session));
  }
  static boost::asio::awaitable<std::optional<bson::View>> next(Cursor& cursor) {
    return cursor.co_next();
  }
};

}  // namespace mongoslice
