#pragma once
// Runs one coroutine to completion on an io_context the test owns, for the integration suites
// that drive the async API from a test body: returns its result or rethrows its exception.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <utility>

namespace mongoslice::testing {

// The io_context is restarted first, so that one context serves several calls in a row.
template <typename T>
T run(boost::asio::io_context& io, boost::asio::awaitable<T> work) {
  auto future = boost::asio::co_spawn(io, std::move(work), boost::asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

}  // namespace mongoslice::testing
