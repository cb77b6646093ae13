#pragma once
// The asynchronous engine: runs an ops::Operation as a coroutine on the awaiting coroutine's
// executor, with the same steps as the blocking engine (driver/operation_engine.hpp): select a
// server (waiting without a thread, Topology::co_select_server), check out one connection of that
// server's async pool for the whole operation, read the server's limits from its handshake, send
// each command the operation asks for and feed it the reply, until it is done. Every command goes
// through ClientCore::co_run_on_lease: command monitoring, and the server's errors handed to SDAM
// with the connection's generation. A read carries $readPreference as the sync engine's do.
//
// Throws what the blocking engine throws; a cancelled operation throws the cancellation error
// (net/async_connection.hpp: ECANCELED, i.e. operation_aborted), and one the client's close()
// broke throws Error(errc::client_closed).

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/this_coro.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <variant>

#include "driver/client_core.hpp"
#include "driver/operation_engine.hpp"
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
    const ReadPreference& read_preference) {
  return core.co_lease_for(executor, read, read_preference);
}

inline boost::asio::awaitable<AsyncConnectionPool::Lease> checkout(
    AsyncConnectionPool& pool, const boost::asio::any_io_executor& executor) {
  return pool.checkout(executor);
}

// The command a step sends, with $readPreference added for a read (`with` keeps that copy).
inline ClientCore::AsyncCommand begin_command(ClientCore& core, ClientCore::AsyncLeased& leased,
                                              const ops::CommandToSend& command, bool read,
                                              const ReadPreference& read_preference,
                                              std::optional<bson::Document>& with) {
  if (read) {
    with = with_wire_read_preference(command.body, read_preference, leased.selected.type,
                                     leased.selected.topology);
  }
  return core.begin_async_command(leased.selected.address, leased.lease, command.db,
                                  with ? with->view() : command.body, command.sequences);
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
template <ops::Operation Op>
boost::asio::awaitable<Executed<typename Op::Result>> co_execute(std::shared_ptr<ClientCore> core,
                                                                 Op& op,
                                                                 ReadPreference read_preference) {
  const bool read = op.kind() == ops::OperationKind::kRead;
  auto executor = co_await boost::asio::this_coro::executor;
  async_engine_detail::throw_if_cancelled(co_await boost::asio::this_coro::cancellation_state);
  ClientCore::AsyncLeased leased;
  std::shared_ptr<AsyncConnectionPool> pool;
  const ClientCore::FastLease fast =
      core->try_lease_for(executor, read, read_preference, leased, pool);
  if (fast == ClientCore::FastLease::kCheckout) {
    std::exception_ptr failure;
    try {
      leased.lease = co_await async_engine_detail::checkout(*pool, executor);
    } catch (...) {
      failure = std::current_exception();
    }
    pool.reset();
    if (failure) core->rethrow_checkout_failure(std::move(failure), leased.selected.address);
  } else if (fast == ClientCore::FastLease::kSelect) {
    leased = co_await async_engine_detail::lease_for(*core, executor, read, read_preference);
  }
  ops::Step step = op.start(limits_of(*leased.lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    std::optional<bson::Document> with_preference;
    ClientCore::AsyncCommand command = async_engine_detail::begin_command(
        *core, leased, send->command, read, read_preference, with_preference);
    std::exception_ptr failure;
    try {
      co_await leased.lease->async_exchange(command.exchange, boost::asio::deferred);
    } catch (...) {
      failure = std::current_exception();
    }
    step = op.on_reply(core->finish_async_command(command, leased.lease, std::move(failure)));
  }
  // A named result: GCC 12 destroys the members of an aggregate built in a co_return twice.
  Executed<typename Op::Result> executed{std::move(op).result(),
                                         std::move(leased.selected.address)};
  co_return executed;
}

// Runs `op` on one given server (a cursor's getMore).
template <ops::Operation Op>
boost::asio::awaitable<Executed<typename Op::Result>> co_execute_on(
    std::shared_ptr<ClientCore> core, HostAndPort server, Op& op) {
  auto executor = co_await boost::asio::this_coro::executor;
  AsyncConnectionPool::Lease lease = co_await core->co_lease_on(executor, server);
  ops::Step step = op.start(limits_of(*lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    const ops::CommandToSend& command = send->command;
    bson::Document reply =
        co_await core->co_run_on_lease(server, lease, command.db, command.body, command.sequences);
    step = op.on_reply(std::move(reply));
  }
  Executed<typename Op::Result> executed{std::move(op).result(), std::move(server)};
  co_return executed;
}

}  // namespace mongoslice
