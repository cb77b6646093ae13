#pragma once
// Which API the unified runner drives: the blocking one, or (MONGOSLICE_UNIFIED_ASYNC=1 in the
// environment) the async_ twins. In async mode each operation under test is its async_ twin,
// co_await-ed with use_awaitable in a coroutine on the runner's own io_context, which this
// thread runs until the operation completes: a failure then throws the very exception the sync
// call throws (ServerError, BulkWriteError, Error), so expectError checks the same thing in both
// modes. Cursors made in async mode iterate only with async_next, on that same io_context.
//
// The runner's set-up and outcome checks (initialData, outcome, testRunner operations) stay
// blocking: they are the test's frame, not the API under test.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <type_traits>
#include <utility>

namespace mongoslice::unified {

// Whether MONGOSLICE_UNIFIED_ASYNC is set to 1 (read once).
bool async_api();

// The io_context async-mode operations run on: one per process, so that a cursor entity's
// getMores and the connections they lease stay on the context that made them.
boost::asio::io_context& runner_io_context();

// Runs start(use_awaitable), an async_ call that returns an awaitable, to completion on
// runner_io_context() and returns its result or rethrows its exception.
template <typename Start>
auto run_async(Start start) {
  using Awaitable = decltype(start(boost::asio::use_awaitable));
  using Result = typename Awaitable::value_type;
  auto& io = runner_io_context();
  // co_spawn's use_future completion default-constructs the result on failure, which not every
  // result type allows (Collection): the value travels in an optional.
  using Carried = std::conditional_t<std::is_void_v<Result>, void, std::optional<Result>>;
  auto body = [&start]() -> boost::asio::awaitable<Carried> {
    if constexpr (std::is_void_v<Result>) {
      co_await start(boost::asio::use_awaitable);
    } else {
      co_return Carried(co_await start(boost::asio::use_awaitable));
    }
  };
  auto done = boost::asio::co_spawn(io, body, boost::asio::use_future);
  // run_one until the operation has completed, not run(): idle connections parked on the
  // context may keep it busy after the operation is done.
  io.restart();
  while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
  if constexpr (std::is_void_v<Result>) {
    done.get();
  } else {
    return std::move(*done.get());
  }
}

}  // namespace mongoslice::unified

// target.name(args...) in sync mode, target.async_name(args..., use_awaitable) run to completion
// in async mode: one line per call site, so each operation's arguments are written once.
#define MONGOSLICE_UNIFIED_CALL(target, name, ...)                                         \
  (::mongoslice::unified::async_api() ? ::mongoslice::unified::run_async([&](auto token) { \
    return (target).async_##name(__VA_ARGS__ __VA_OPT__(, ) std::move(token));             \
  })                                                                                       \
                                      : (target).name(__VA_ARGS__))
