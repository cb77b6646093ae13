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
#include <boost/asio/this_coro.hpp>
#include <memory>
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

inline boost::asio::awaitable<bson::Document> run_on_lease(
    ClientCore& core, ClientCore::AsyncLeased& leased, const ops::CommandToSend& command,
    const std::optional<bson::Document>& with) {
  return core.co_run_on_lease(leased.selected.address, leased.lease, command.db,
                              with ? with->view() : command.body, command.sequences);
}

}  // namespace async_engine_detail

template <ops::Operation Op>
boost::asio::awaitable<Executed<typename Op::Result>> co_execute(std::shared_ptr<ClientCore> core,
                                                                 Op& op,
                                                                 ReadPreference read_preference) {
  const bool read = op.kind() == ops::OperationKind::kRead;
  auto executor = co_await boost::asio::this_coro::executor;
  ClientCore::AsyncLeased leased =
      co_await async_engine_detail::lease_for(*core, executor, read, read_preference);
  ops::Step step = op.start(limits_of(*leased.lease));
  while (const auto* send = std::get_if<ops::Send>(&step)) {
    std::optional<bson::Document> with_preference;
    if (read) {
      with_preference = with_wire_read_preference(send->command.body, read_preference,
                                                  leased.selected.type, leased.selected.topology);
    }
    bson::Document reply =
        co_await async_engine_detail::run_on_lease(*core, leased, send->command, with_preference);
    step = op.on_reply(std::move(reply));
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
