// ClientCore's part in the async engine: the async pools, leases and monitored round trips
// (driver/client_core.hpp, driver/async_engine.hpp).

#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>
#include <cerrno>

#include "driver/application_error_of.hpp"
#include "driver/async_engine.hpp"
#include "driver/client_core.hpp"

namespace mongoslice {
namespace asio = boost::asio;

namespace {

std::string_view first_key(bson::View command) {
  auto it = command.begin();
  return it == command.end() ? std::string_view("an operation") : (*it).key();
}

}  // namespace

void ClientCore::rethrow_async(std::exception_ptr failure, bson::View command,
                               const HostAndPort& server) const {
  rethrow_async_named(std::move(failure), first_key(command), server);
}

void ClientCore::rethrow_async_named(std::exception_ptr failure, std::string_view name,
                                     const HostAndPort& server) const {
  const std::string what = std::string(name) + " on " + server.to_string();
  try {
    std::rethrow_exception(failure);
  } catch (const ServerError&) {
    throw;
  } catch (const Error& e) {
    // close() closes the sockets in use: what then fails, fails because of it.
    if (closed() && e.code() != errc::client_closed) {
      throw Error(errc::client_closed, what + ": the client was closed");
    }
    throw;
  } catch (const boost::system::system_error& e) {
    if (closed()) throw Error(errc::client_closed, what + ": the client was closed");
    if (e.code() == asio::error::operation_aborted) throw cancelled_error(what);
    throw Error(errc::network_error, what + ": " + e.what());
  }
}

std::shared_ptr<AsyncConnectionPool> ClientCore::async_pool(
    const std::shared_ptr<ConnectionPool>& twin) {
  std::lock_guard lock(async_pools_mutex_);
  if (async_pools_closed_) throw Error(errc::client_closed, "the client was closed");
  auto& pool = async_pools_[twin->address()];
  // A server SDAM removed and found again has a new blocking pool: its async twin is new too.
  if (!pool || !pool->serves(twin)) {
    if (pool) pool->close();
    pool = AsyncConnectionPool::create(twin);
  }
  return pool;
}

void ClientCore::close_async_pools() noexcept {
  std::map<HostAndPort, std::shared_ptr<AsyncConnectionPool>> pools;
  {
    std::lock_guard lock(async_pools_mutex_);
    async_pools_closed_ = true;
    pools.swap(async_pools_);
  }
  for (auto& [address, pool] : pools) pool->close();
}

asio::awaitable<ClientCore::AsyncLeased> ClientCore::co_lease_for(
    asio::any_io_executor executor, bool read, ReadPreference read_preference,
    std::vector<HostAndPort> deprioritized) {
  check_open();
  std::exception_ptr failure;
  HostAndPort server;
  try {
    // Not `read ? co_await a : co_await b`: GCC 12 miscompiles co_await in a conditional.
    SelectedServer selected;
    if (read) {
      selected = co_await topology_->co_select_server(read_preference, std::move(deprioritized));
    } else {
      selected = co_await topology_->co_select_server_for_writes(std::move(deprioritized));
    }
    server = selected.address;
    auto pool = async_pool(selected.pool);
    AsyncConnectionPool::Lease lease = co_await pool->checkout(executor);
    AsyncLeased leased{std::move(selected), std::move(lease)};
    co_return leased;
  } catch (...) {
    failure = std::current_exception();
  }
  rethrow_async(failure, bson::View(), server);
}

asio::awaitable<AsyncConnectionPool::Lease> ClientCore::co_lease_on(asio::any_io_executor executor,
                                                                    HostAndPort server) {
  check_open();
  auto twin = topology_->pool(server);
  if (!twin) {
    if (closed()) throw Error(errc::client_closed, "the client was closed");
    throw Error(errc::network_error,
                "server " + server.to_string() + " is no longer part of the topology");
  }
  std::exception_ptr failure;
  try {
    co_return co_await async_pool(twin)->checkout(executor);
  } catch (...) {
    failure = std::current_exception();
  }
  rethrow_async(failure, bson::View(), server);
}

ClientCore::FastLease ClientCore::try_lease_for(const asio::any_io_executor& executor, bool read,
                                                const ReadPreference& read_preference,
                                                AsyncLeased& leased,
                                                std::shared_ptr<AsyncConnectionPool>& pool) {
  check_open();
  HostAndPort server;
  try {
    std::optional<SelectedServer> selected = read ? topology_->try_select_server(read_preference)
                                                  : topology_->try_select_server_for_writes();
    if (!selected) return FastLease::kSelect;
    server = selected->address;
    pool = async_pool(selected->pool);
    std::optional<AsyncConnectionPool::Lease> lease = pool->try_checkout(executor);
    leased.selected = std::move(*selected);
    if (!lease) return FastLease::kCheckout;
    pool.reset();
    leased.lease = std::move(*lease);
    return FastLease::kLeased;
  } catch (...) {
    rethrow_async(std::current_exception(), bson::View(), server);
  }
}

ClientCore::AsyncCommand ClientCore::begin_async_command(
    const HostAndPort& server, AsyncConnectionPool::Lease& lease, std::string_view db,
    bson::View command, std::span<const wire::DocumentSequence> sequences) {
  AsyncCommand started{{},
                       command_started(server, db, command, sequences),
                       &server,
                       lease.generation(),
                       lease->max_wire_version()};
  try {
    started.exchange = lease->prepare_command(db, command, sequences);
  } catch (...) {
    // The started event is out: the failed one follows, as for a failed round trip.
    finish_async_command(started, lease, std::current_exception());
  }
  return started;
}

bson::Document ClientCore::finish_async_command(AsyncCommand& command,
                                                AsyncConnectionPool::Lease& lease,
                                                std::exception_ptr failure) {
  const HostAndPort& server = *command.server;
  try {
    if (failure) std::rethrow_exception(failure);
    bson::Document reply = lease->finish_command(command.exchange);
    command_succeeded(command.in_flight, server, reply);
    tell_sdam_of_reply(server, command.generation, command.wire_version, reply);
    return reply;
  } catch (...) {
    failure = std::current_exception();
  }
  // Only a ServerError leaves the connection in step; anything else (a cancellation mid-message
  // included) closes it, and it is not returned to the pool.
  try {
    rethrow_async_named(failure, command.in_flight.name, server);
  } catch (const ServerError& e) {
    command_failed(command.in_flight, server, e);
    tell_sdam(server, command.generation, command.wire_version, e);
    throw;
  } catch (const Error& e) {
    lease.discard();
    command_failed(command.in_flight, server, e);
    const bool ours = e.code() == errc::client_closed || e.code().value() == ECANCELED;
    if (!ours) tell_sdam(server, command.generation, command.wire_version, e);
    throw;
  } catch (...) {
    lease.discard();
    throw;
  }
}

asio::awaitable<bson::Document> ClientCore::co_run_on_lease(
    const HostAndPort& server, AsyncConnectionPool::Lease& lease, std::string_view db,
    bson::View command, std::span<const wire::DocumentSequence> sequences) {
  AsyncCommand started = begin_async_command(server, lease, db, command, sequences);
  std::exception_ptr failure;
  try {
    co_await lease->async_exchange(started.exchange, asio::deferred);
  } catch (...) {
    failure = std::current_exception();
  }
  co_return finish_async_command(started, lease, std::move(failure));
}

void async_engine_detail::throw_if_cancelled(const asio::cancellation_state& state) {
  if (state.cancelled() != asio::cancellation_type::none) {
    throw cancelled_error("the operation, before it started");
  }
}

}  // namespace mongoslice
