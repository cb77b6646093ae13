#pragma once
// The asynchronous engine: runs an ops::Operation as a coroutine on the awaiting coroutine's
// executor, with the same steps as the blocking engine (driver/operation_engine.hpp): select a
// server (waiting without a thread, Topology::co_select_server), check out one connection of that
// server's async pool for the whole operation, read the server's limits from its handshake, send
// each command the operation asks for and feed it the reply, until it is done. Every command goes
// through ClientCore's command steps: command monitoring, and the server's errors handed to SDAM
// with the connection's generation. An OperationRun (driver/operation_run.hpp) decides what each
// command carries (lsid, txnNumber, $clusterTime, $readPreference) and whether it is retried,
// exactly as for the blocking engine.
//
// Throws what the blocking engine throws; a cancelled operation throws the cancellation error
// (net/async_connection.hpp: ECANCELED, i.e. operation_aborted), and one the client's close()
// broke throws Error(errc::client_closed).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "driver/client_core.hpp"
#include "driver/operation_engine.hpp"
#include "driver/operation_run.hpp"
#include "driver/read_preference_wire.hpp"
#include "net/async_connection.hpp"
#include "ops/operation.hpp"

namespace mongoslice {

inline ops::ServerLimits limits_of(const AsyncConnection& connection) noexcept {
  return {connection.max_wire_version(), connection.max_bson_object_size(),
          connection.max_message_size_bytes(), connection.max_write_batch_size()};
}

namespace async_engine_detail {

// The calls co_execute awaits, made in plain functions: a by-value argument of a call inside a
// co_await expression (an executor, a ReadPreference, views and spans) would otherwise get a
// slot of its own in co_execute's coroutine frame for the whole operation; here it lives on the
// stack only while the callee's frame is made, and co_execute keeps only the awaitable.
inline boost::asio::awaitable<ClientCore::AsyncLeased> lease_for(
    ClientCore& core, const boost::asio::any_io_executor& executor, bool read,
    const ReadPreference& read_preference, std::span<const HostAndPort> deprioritized = {}) {
  return core.co_lease_for(executor, read, read_preference,
                           std::vector<HostAndPort>(deprioritized.begin(), deprioritized.end()));
}

// Awaited with deferred: a checkout that waits in the queue is no coroutine frame. As a tuple:
// Boost 1.81 cannot co_await a deferred (std::exception_ptr, T) completion (awaitable.hpp tests
// its result struct as a pointer).
inline auto checkout(AsyncConnectionPool& pool, const boost::asio::any_io_executor& executor) {
  return pool.async_checkout(executor, boost::asio::as_tuple(boost::asio::deferred));
}

// The command a step sends, as `run` prepares it for the leased server.
inline ClientCore::AsyncCommand begin_command(ClientCore& core, OperationRun& run,
                                              ClientCore::AsyncLeased& leased,
                                              const ops::CommandToSend& command, bool read,
                                              const ReadPreference& read_preference) {
  bson::View body = run.prepare(command, leased.selected, read ? &read_preference : nullptr);
  return core.begin_async_command(leased.selected.address, leased.lease, command.db, body,
                                  command.sequences);
}

// What co_execute returns, made outside its frame (a named local there would take a slot in the
// frame for the whole operation).
template <typename Result>
Executed<Result> executed_of(Result&& result, HostAndPort& server, OperationRun& run) {
  return Executed<Result>{std::move(result), std::move(server), run.take_session()};
}

// Throws the cancellation error when the awaiting operation was cancelled before it started
// (the fast path below never reaches the waits that would see it).
void throw_if_cancelled(const boost::asio::cancellation_state& state);

}  // namespace async_engine_detail

// One frame per operation in flight: selection and checkout are awaited only when they must
// wait (try_lease_for finds a server and an idle connection at once otherwise; a selected
// server's checkout is awaited here, without co_lease_for's frame), and each round trip is
// awaited here (ClientCore::begin_async_command / finish_async_command), not through a
// co_run_on_lease frame.
//
// `read_preference` is a reference: the caller's co_await expression (AsyncEngine::execute's)
// keeps it, and a copy would take a slot in the frame.
// `session`: the explicit session the operation runs in, if any; the caller's frame (the body's
// AsyncEngine) keeps it alive.
template <ops::Operation Op>
boost::asio::awaitable<Executed<typename Op::Result>> co_execute(
    std::shared_ptr<ClientCore> core, Op& op, const ReadPreference& read_preference,
    ClientSessionState* session = nullptr) {
  const bool read = op.kind() == ops::OperationKind::kRead;
  auto executor = co_await boost::asio::this_coro::executor;
  async_engine_detail::throw_if_cancelled(co_await boost::asio::this_coro::cancellation_state);
  OperationRun run(*core, op.kind(), op.retryable(), /*implicit_session=*/true, session);
  ClientCore::AsyncLeased leased;
  std::exception_ptr failure;
  try {
    std::shared_ptr<AsyncConnectionPool> pool;
    const ClientCore::FastLease fast =
        core->try_lease_for(executor, read, read_preference, leased, pool);
    if (fast == ClientCore::FastLease::kCheckout) {
      std::tuple<std::exception_ptr, AsyncConnectionPool::Lease> checked =
          co_await async_engine_detail::checkout(*pool, executor);
      leased.lease = std::move(std::get<1>(checked));
      if (std::get<0>(checked)) {
        core->rethrow_checkout_failure(std::move(std::get<0>(checked)), leased.selected.address);
      }
    } else if (fast == ClientCore::FastLease::kSelect) {
      leased = co_await async_engine_detail::lease_for(*core, executor, read, read_preference);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // A checkout that failed retryably is retried once, as the blocking engine does.
    if (!run.should_retry(failure, 0)) std::rethrow_exception(failure);
    failure = nullptr;
    try {
      leased = co_await async_engine_detail::lease_for(*core, executor, read, read_preference);
    } catch (...) {
      failure = std::current_exception();
    }
    if (failure) run.give_up(nullptr);  // throws the first failure
  }
  ops::Step step = op.start(limits_of(*leased.lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    bson::Document reply;
    for (;;) {
      const std::int32_t wire_version = leased.lease->max_wire_version();
      failure = nullptr;
      bool outcome = false;
      try {
        ClientCore::AsyncCommand command = async_engine_detail::begin_command(
            *core, run, leased, send->command, read, read_preference);
        std::exception_ptr exchange_failure;
        try {
          co_await leased.lease->async_exchange(command.exchange, boost::asio::deferred);
        } catch (...) {
          exchange_failure = std::current_exception();
        }
        reply = core->finish_async_command(command, leased.lease, std::move(exchange_failure));
        outcome = run.accept(reply, wire_version);
      } catch (...) {
        failure = std::current_exception();
      }
      if (outcome) break;
      if (failure && !run.should_retry(failure, wire_version)) {
        reply = run.give_up(std::move(failure));
        break;
      }
      // The retry, on a server selected anew (SDAM has heard of the failure by now). A failed
      // selection leaves `leased` as it was.
      bool selected = false;
      try {
        leased = co_await async_engine_detail::lease_for(*core, executor, read, read_preference,
                                                         run.deprioritized());
        selected = true;
      } catch (...) {  // no server for the retry: the first attempt's outcome stands
      }
      if (!selected || !run.can_retry_on(leased.selected)) {
        reply = run.give_up(nullptr);
        break;
      }
    }
    step = op.on_reply(std::move(reply));
  }
  // Not an aggregate built in the co_return: GCC 12 destroys its members twice.
  co_return async_engine_detail::executed_of(std::move(op).result(), leased.selected.address, run);
}

// Runs `op` on one given server (a cursor's getMore): no implicit session, no retry,
// $clusterTime gossiped, as the blocking engine's execute_on.
template <ops::Operation Op>
boost::asio::awaitable<Executed<typename Op::Result>> co_execute_on(
    std::shared_ptr<ClientCore> core, HostAndPort server, Op& op) {
  auto executor = co_await boost::asio::this_coro::executor;
  AsyncConnectionPool::Lease lease = co_await core->co_lease_on(executor, server);
  OperationRun run(*core, op.kind(), /*retryable_operation=*/false, /*implicit_session=*/false);
  const SelectedServer target{server, {}, ServerType::kUnknown, TopologyType::kUnknown, {}, {}};
  ops::Step step = op.start(limits_of(*lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    const ops::CommandToSend& command = send->command;
    bson::View body = run.prepare(command, target, nullptr);
    bson::Document reply =
        co_await core->co_run_on_lease(server, lease, command.db, body, command.sequences);
    run.accept(reply, lease->max_wire_version());
    step = op.on_reply(std::move(reply));
  }
  co_return async_engine_detail::executed_of(std::move(op).result(), server, run);
}

}  // namespace mongoslice
