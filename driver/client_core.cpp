#include "driver/client_core.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "driver/command_log_listener.hpp"
#include "driver/kill_cursors_wiring.hpp"
#include "driver/kill_wake_signal.hpp"
#include "driver/server_cursor_channel.hpp"
#include "wire/error.hpp"
#include "wire/log.hpp"

namespace mongoslice {
namespace {

// How long close() waits for a kill-cursors run in progress before interrupting its socket.
constexpr std::chrono::milliseconds kKillJoinGrace{2'000};

// The id command events carry. Connection does not expose the wire requestID of its round trip,
// so the client numbers its commands itself (process-wide, like requestIDs).
std::int32_t next_command_id() noexcept {
  static std::atomic<std::int32_t> counter{0};
  return (counter.fetch_add(1, std::memory_order_relaxed) & 0x7fffffff) + 1;
}

std::string_view command_name(bson::View command) {
  auto it = command.begin();
  return it == command.end() ? std::string_view("(empty)") : (*it).key();
}

// Errors after which the server's state is in doubt (SDAM: mark it Unknown, clear the pool).
// A timeout or our own interrupt says nothing about the server.
bool is_state_change_error(const std::error_code& code) {
  if (code.category() != client_category()) return false;
  auto e = static_cast<errc>(code.value());
  return e == errc::network_error || e == errc::connection_closed ||
         (code.value() >= static_cast<int>(errc::message_too_short) &&
          code.value() <= static_cast<int>(errc::checksum_mismatch));
}

std::shared_ptr<const EventDispatcher> make_dispatcher(ClientOptions& options) {
  std::vector<std::shared_ptr<EventListener>> listeners;
  for (auto& listener : options.listeners) {
    if (listener) listeners.push_back(std::move(listener));  // a null listener is ignored
  }
  if (log::enabled(log::component::commands)) {
    listeners.push_back(std::make_shared<CommandLogListener>());
  }
  return std::make_shared<const EventDispatcher>(std::move(listeners));
}

}  // namespace

void InFlightConnection::set(Connection* connection) noexcept {
  std::lock_guard lock(mutex_);
  connection_ = connection;
}

void InFlightConnection::interrupt() noexcept {
  std::lock_guard lock(mutex_);
  if (connection_ != nullptr) connection_->interrupt();
}

ClientCore::ClientCore(ConnectionString uri, ClientOptions options)
    : uri_(std::move(uri)), events_(make_dispatcher(options)) {
}

std::shared_ptr<ClientCore> ClientCore::create(ConnectionString uri, ClientOptions options) {
  std::shared_ptr<ClientCore> core(new ClientCore(std::move(uri), std::move(options)));
  core->start();
  return core;
}

void ClientCore::start() {
  for (const auto& warning : uri_.warnings) {
    log::emit(log::component::topology, log::Level::warning, "connection string: " + warning);
  }
  topology_ = Topology::create(uri_, events_);

  // The executor holds only a weak reference: it never keeps the client alive.
  std::weak_ptr<ClientCore> weak = weak_from_this();
  kill_executor_ = std::make_unique<PeriodicExecutor>("mongoslice-kill", uri_.kill_cursors_interval,
                                                      kKillMinInterval, [weak] {
                                                        auto core = weak.lock();
                                                        if (!core || core->closed()) return false;
                                                        core->run_kill_cursors();
                                                        return true;
                                                      });
  wake_signal_ = std::make_shared<KillWakeSignal>(kill_executor_.get());
  kill_queue_ = std::make_shared<KillQueue>(&KillWakeSignal::wake_fn, wake_signal_);

  topology_->open();
  kill_executor_->open();
}

ClientCore::~ClientCore() {
  close();
}

void ClientCore::close() noexcept {
  std::call_once(close_once_, [this] {
    closed_.store(true, std::memory_order_release);
    if (kill_executor_) {
      // 1. Stop the executor; a kill in progress may finish (it is bounded), else interrupt it.
      kill_executor_->close();
      if (!kill_executor_->join(kKillJoinGrace)) {
        kill_in_flight_.interrupt();
        kill_executor_->join(kKillJoinGrace);
      }
      // 2. From now on pushes neither wake nor get sent; they are counted as dropped.
      kill_queue_->close();
      wake_signal_->detach();
      // 3. Send what was queued before the close, each round trip bounded.
      try {
        run_kill_cursors();
      } catch (const std::exception& e) {
        log::emit(log::component::cursor, log::Level::error,
                  std::string("final kill-cursors run failed: ") + e.what());
      }
    }
    // 4. Monitors and pools.
    if (topology_) topology_->close();
  });
}

void ClientCore::check_open() const {
  if (closed()) throw Error(errc::client_closed, "the client was closed");
}

Deadline ClientCore::kill_deadline() const {
  auto budget =
      uri_.socket_timeout ? std::min(*uri_.socket_timeout, kMaxKillTimeout) : kMaxKillTimeout;
  return Deadline::after(budget, "killCursors timeout, min(socketTimeoutMS, 10 s)");
}

KillCursorsTaskResult ClientCore::run_kill_cursors() {
  PoolKillCursorsSender sender(*this, &kill_in_flight_);
  EventKillCursorsObserver observer(*events_);
  return ::mongoslice::run_kill_cursors(*kill_queue_, sender, observer);
}

ClientCore::Ran ClientCore::run_read(std::string_view db, bson::View command) {
  check_open();
  SelectedServer selected = topology_->select_server(uri_.read_preference);
  auto reply = run_with_pool(selected.address, *selected.pool, db, command, {}, {}, nullptr);
  return {std::move(reply), std::move(selected.address)};
}

ClientCore::Ran ClientCore::run_write(std::string_view db, bson::View command,
                                      std::span<const wire::DocumentSequence> sequences) {
  check_open();
  SelectedServer selected = topology_->select_server_for_writes();
  auto reply = run_with_pool(selected.address, *selected.pool, db, command, sequences, {}, nullptr);
  return {std::move(reply), std::move(selected.address)};
}

bson::Document ClientCore::run_on(const HostAndPort& server, std::string_view db,
                                  bson::View command,
                                  std::span<const wire::DocumentSequence> sequences,
                                  std::optional<Deadline> deadline, InFlightConnection* in_flight) {
  auto pool = topology_->pool(server);
  if (!pool) {
    throw Error(errc::network_error,
                "server " + server.to_string() + " is no longer part of the topology");
  }
  return run_with_pool(server, *pool, db, command, sequences, deadline, in_flight);
}

bson::Document ClientCore::run_with_pool(const HostAndPort& server, ConnectionPool& pool,
                                         std::string_view db, bson::View command,
                                         std::span<const wire::DocumentSequence> sequences,
                                         std::optional<Deadline> deadline,
                                         InFlightConnection* in_flight) {
  const bson::View body = command;
  std::optional<ConnectionPool::Lease> lease;
  try {
    lease.emplace(pool.acquire());
  } catch (const ServerError&) {
    throw;
  } catch (const Error& e) {
    if (is_state_change_error(e.code())) topology_->handle_operation_error(server, e);
    throw;
  }

  const std::string_view name = command_name(body);
  const std::int32_t id = next_command_id();
  const bool monitored = !events_->empty();
  if (monitored) events_->emit(CommandStartedEvent{name, db, id, server, body});
  const auto started = SteadyClock::now();
  if (in_flight) in_flight->set(&**lease);
  try {
    bson::Document reply = (*lease)->run_command(db, body, sequences, deadline);
    if (in_flight) in_flight->clear();
    if (monitored) {
      events_->emit(
          CommandSucceededEvent{name, db, id, server, SteadyClock::now() - started, reply});
    }
    return reply;
  } catch (const Error& e) {
    if (in_flight) in_flight->clear();
    const bool server_error = dynamic_cast<const ServerError*>(&e) != nullptr;
    if (!server_error) lease->discard();
    if (monitored) {
      events_->emit(CommandFailedEvent{name, db, id, server, SteadyClock::now() - started, e.code(),
                                       e.what()});
    }
    if (!server_error && is_state_change_error(e.code())) {
      topology_->handle_operation_error(server, e);
    }
    throw;
  } catch (...) {
    if (in_flight) in_flight->clear();
    lease->discard();
    throw;
  }
}

Cursor ClientCore::make_cursor(bson::Document first_reply, CursorOptions options,
                               const HostAndPort& server) {
  std::shared_ptr<ServerCursorChannel> channel;
  {
    std::lock_guard lock(channels_mutex_);
    auto& shared = channels_[server];
    if (!shared) shared = std::make_shared<ServerCursorChannel>(weak_from_this(), server);
    channel = shared;
  }
  return Cursor(std::move(first_reply), options, std::move(channel), kill_queue_, server);
}

}  // namespace mongoslice
