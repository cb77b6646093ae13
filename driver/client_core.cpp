#include "driver/client_core.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "driver/application_error_of.hpp"
#include "driver/command_log_listener.hpp"
#include "driver/kill_cursors_wiring.hpp"
#include "driver/kill_wake_signal.hpp"
#include "driver/seedlist.hpp"
#include "driver/sensitive_commands.hpp"
#include "driver/server_cursor_channel.hpp"
#include "driver/uri_support.hpp"
#include "net/connection.hpp"
#include "net/dns_resolver.hpp"
#include "wire/error.hpp"
#include "wire/fork_generation.hpp"
#include "wire/log.hpp"

namespace mongoslice {
namespace {

// How long close() waits for the kill executor's thread once everything it could wait on has
// been interrupted. Reached only if something blocks that nothing can interrupt (a listener
// that does not return): close() then logs an error and goes on.
constexpr std::chrono::milliseconds kKillJoinLimit{5'000};

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

std::shared_ptr<EventDispatcher> make_dispatcher(ClientOptions& options) {
  std::vector<std::shared_ptr<EventListener>> listeners;
  for (auto& listener : options.listeners) {
    if (listener) listeners.push_back(std::move(listener));  // a null listener is ignored
  }
  if (log::enabled(log::component::commands)) {
    listeners.push_back(std::make_shared<CommandLogListener>());
  }
  return std::make_shared<EventDispatcher>(std::move(listeners));
}

}  // namespace

ClientCore::ClientCore(ConnectionString uri, ClientOptions options)
    : uri_(std::move(uri)),
      async_executor_(std::move(options.executor)),
      events_(make_dispatcher(options)),
      dns_(std::move(options.dns)),
      fork_generation_(current_fork_generation()) {
  if (options.srv_rescan_interval.count() <= 0) {
    throw Error(errc::invalid_argument,
                "ClientOptions::srv_rescan_interval must be above 0 (an SRV rescan every " +
                    std::to_string(options.srv_rescan_interval.count()) + " ms would never rest)");
  }
  uri_.srv_rescan_interval = options.srv_rescan_interval;
  if (options.compressors) uri_.compressors = *options.compressors;
  if (options.zlib_compression_level) {
    if (*options.zlib_compression_level < -1 || *options.zlib_compression_level > 9) {
      throw Error(errc::invalid_argument,
                  "ClientOptions::zlib_compression_level must be from -1 to 9, not " +
                      std::to_string(*options.zlib_compression_level));
    }
    uri_.zlib_compression_level = *options.zlib_compression_level;
  }
}

std::shared_ptr<ClientCore> ClientCore::create(ConnectionString uri, ClientOptions options) {
  return create(std::move(uri), std::move(options), {});
}

std::shared_ptr<ClientCore> ClientCore::create(ConnectionString uri, ClientOptions options,
                                               TopologyFactory make_topology) {
  std::shared_ptr<ClientCore> core(new ClientCore(std::move(uri), std::move(options)));
  core->start(make_topology);
  return core;
}

void ClientCore::start(const TopologyFactory& make_topology) {
  refuse_unimplemented(uri_);
  if (uri_.tls) tls_context_ = TlsContext::shared(*uri_.tls);  // throws naming the bad file
  if (uri_.srv_host) {
    // mongodb+srv://: the seed list comes from DNS before any server is known, within
    // connectTimeoutMS (0: no limit), through the same resolver and DNS servers as host names.
    const Deadline deadline =
        uri_.connect_timeout.count() > 0
            ? Deadline::after(uri_.connect_timeout, "connectTimeoutMS, the SRV and TXT lookups")
            : Deadline::none();
    resolve_seedlist(uri_, DnsResolver(dns_), deadline);
    refuse_unimplemented(uri_);  // the TXT record may have asked for loadBalanced
  }
  for (const auto& warning : uri_.warnings) {
    log::emit(log::component::topology, log::Level::warning, "connection string: " + warning);
  }
  topology_ = make_topology ? make_topology(uri_, events_) : Topology::create(uri_, events_, dns_);

  // The executor holds only a weak reference: it never keeps the client alive. It has no timer:
  // it runs when a cursor pushed onto the empty queue wakes it (invariant 3).
  std::weak_ptr<ClientCore> weak = weak_from_this();
  kill_executor_ = std::make_unique<PeriodicExecutor>(
      "mongoslice-kill", PeriodicExecutor::kUntilWoken, kKillMinInterval, [weak] {
        auto core = weak.lock();
        if (!core || core->closed()) return false;
        core->run_kill_cursors();
        return true;
      });
  kill_executor_->set_interrupt_hook(
      [interrupt = kill_interrupt_]() noexcept { interrupt->interrupt(); });
  // A leaked client is never closed: at process exit its queued kills are reported dropped.
  kill_executor_->set_exit_hook([weak] {
    if (auto core = weak.lock()) core->drop_queued_at_exit();
  });
  wake_signal_ = std::make_shared<KillWakeSignal>(kill_executor_.get());
  kill_queue_ = std::make_shared<KillQueue>(&KillWakeSignal::wake_fn, wake_signal_);

  topology_->set_cluster_clock(cluster_clock_);  // the monitors' hellos gossip too
  topology_->open();
  kill_executor_->open();
}

ClientCore::~ClientCore() {
  close();
}

void ClientCore::close() noexcept {
  std::uint32_t state = kOpen;
  if (close_state_.compare_exchange_strong(state, kClosing)) {
    closing_thread_.store(std::this_thread::get_id());
    close_now();
    close_state_.store(kClosed);
    close_state_.notify_all();
    return;
  }
  // Closing already. From the closing thread itself, or from inside a listener (which the close
  // in progress may be waiting for), return at once; otherwise wait until the close is done.
  if (closing_thread_.load() == std::this_thread::get_id() || EventDispatcher::in_listener()) {
    return;
  }
  while ((state = close_state_.load()) != kClosed) close_state_.wait(state);
}

void ClientCore::close_now() noexcept {
  if (kill_executor_) {
    // 1. No more runs; one in progress may finish (its kills are real), else it is broken.
    kill_executor_->close();
    if (!kill_executor_->join(kKillRunGrace)) kill_executor_->interrupt();
  }
  // 2. Operations in flight (and the kill executor, if it waits for a connection) fail now.
  if (topology_) topology_->close_pools();
  close_async_pools();
  if (kill_executor_) {
    // 3. Nothing the kill thread waits on is left unbroken, so it ends at once.
    if (!kill_executor_->join(kKillJoinLimit)) {
      log::emit(log::component::cursor, log::Level::error,
                "the kill-cursors thread did not end within 5 s of being interrupted");
    }
    wake_signal_->detach();
    // 4. The final kill run, on fresh connections, within its budget.
    final_kill_run(SteadyClock::now() + kFinalKillBudget);
  }
  // 5. Monitors (interrupted, joined) and what is left of the pools.
  if (topology_) topology_->close();
  // 6. No listener is called after we return (in a fork() child, a listener call the parent
  // had in progress at fork time never ends here: do not wait for it).
  events_->close(/*wait=*/fork_generation_ == current_fork_generation());
}

void ClientCore::final_kill_run(SteadyClock::time_point deadline) noexcept {
  try {
    DirectKillCursorsSender sender(*this, deadline);
    EventKillCursorsObserver observer(*events_);
    send_kill_list(kill_queue_->retire(), sender, observer);
    end_sessions(sender);
  } catch (const std::exception& e) {
    log::emit(log::component::cursor, log::Level::error,
              std::string("final kill-cursors run failed: ") + e.what());
  }
}

template <typename Sender>
void ClientCore::end_sessions(Sender& sender) noexcept {
  try {
    std::vector<bson::Document> lsids = sessions_->take_all();
    if (lsids.empty()) return;
    // Any server that knows sessions will do; a primary first (the sessions spec).
    ReadPreference preference;
    preference.mode = ReadPreference::Mode::kPrimaryPreferred;
    std::optional<SelectedServer> server = topology_->try_select_server(preference);
    if (!server) return;  // none is reachable now: the server expires them on its own
    for (std::size_t first = 0; first < lsids.size(); first += kEndSessionsBatch) {
      bson::Builder command;
      command.open_array("endSessions");
      const std::size_t end = std::min(lsids.size(), first + kEndSessionsBatch);
      for (std::size_t i = first; i < end; ++i) command.append_value(lsids[i].view());
      command.close().append("$db", "admin");
      sender.send(server->address, "admin", command.build().view());
    }
  } catch (const std::exception& e) {
    log::emit(log::component::connection, log::Level::info,
              std::string("endSessions at close() failed (the server expires the sessions on "
                          "its own): ") +
                  e.what());
  }
}

void ClientCore::advance_cluster_time(bson::View reply) {
  cluster_clock_->advance(reply);
}

std::shared_ptr<const bson::Document> ClientCore::cluster_time() const {
  return cluster_clock_->current();
}

void ClientCore::drop_queued_at_exit() noexcept {
  // The exit handler runs this once the kill thread has ended, so we are the only consumer.
  try {
    EventKillCursorsObserver observer(*events_);
    drop_pending_kills(*kill_queue_, observer, KillDropReason::client_closed,
                       "the process exited with the client still open");
  } catch (...) {  // reporting failed (no memory): nothing more can be done at exit
  }
}

std::optional<ConnectionOptions> ClientCore::connection_options(const HostAndPort& server) const {
  auto pool = topology_->pool(server);
  if (!pool) return std::nullopt;
  return pool->options().connection;
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
  PoolKillCursorsSender sender(*this, kill_interrupt_.get());
  EventKillCursorsObserver observer(*events_);
  return ::mongoslice::run_kill_cursors(*kill_queue_, sender, observer);
}

ClientCore::Leased ClientCore::lease_for(bool read, const ReadPreference& read_preference,
                                         std::span<const HostAndPort> deprioritized) {
  check_open();
  Leased leased{read ? topology_->select_server(read_preference, deprioritized)
                     : topology_->select_server_for_writes(deprioritized),
                {}};
  try {
    leased.lease = leased.selected.pool->acquire(nullptr, std::nullopt);
  } catch (const Error& e) {
    throw_if_closed_instead(e, bson::View(), leased.selected.address);
    throw;
  }
  return leased;
}

ConnectionPool::Lease ClientCore::lease_on(const HostAndPort& server,
                                           std::optional<Deadline> deadline) {
  check_open();
  auto pool = topology_->pool(server);
  if (!pool) {
    if (closed()) throw Error(errc::client_closed, "the client was closed");
    throw Error(errc::network_error,
                "server " + server.to_string() + " is no longer part of the topology");
  }
  try {
    return pool->acquire(nullptr, deadline);
  } catch (const Error& e) {
    throw_if_closed_instead(e, bson::View(), server);
    throw;
  }
}

bson::Document ClientCore::run_on(const HostAndPort& server, std::string_view db,
                                  bson::View command,
                                  std::span<const wire::DocumentSequence> sequences,
                                  std::optional<Deadline> deadline, OperationInterrupt* interrupt) {
  auto pool = topology_->pool(server);
  if (!pool) {
    if (closed()) throw Error(errc::client_closed, "the client was closed");
    throw Error(errc::network_error,
                "server " + server.to_string() + " is no longer part of the topology");
  }
  return run_with_pool(server, *pool, db, command, sequences, deadline, interrupt);
}

ClientCore::CommandInFlight ClientCore::command_started(
    const HostAndPort& server, std::string_view db, bson::View command,
    std::span<const wire::DocumentSequence> sequences) {
  CommandInFlight in_flight{command_name(command), db, next_command_id(), !events_->empty(), {}};
  if (in_flight.monitored && is_sensitive_command(in_flight.name, command)) {
    in_flight.sensitive = true;
    const bson::Document empty;
    events_->emit(CommandStartedEvent{in_flight.name, db, in_flight.id, server, empty.view()});
  } else if (in_flight.monitored) {
    // The command as the server receives it (the command-monitoring spec): with $db, and each
    // OP_MSG document sequence as an array field of the body. Built only for listeners.
    std::optional<bson::Document> as_sent;
    if (!sequences.empty() || !command.contains("$db")) {
      bson::Builder builder;
      builder.concat(command);
      if (!command.contains("$db")) builder.append("$db", db);
      for (const auto& sequence : sequences) {
        builder.open_array(sequence.identifier);
        for (bson::View document : sequence.documents) builder.append_value(document);
        builder.close();
      }
      as_sent = builder.build();
    }
    events_->emit(CommandStartedEvent{in_flight.name, db, in_flight.id, server,
                                      as_sent ? as_sent->view() : command});
  }
  in_flight.started = SteadyClock::now();
  return in_flight;
}

void ClientCore::command_succeeded(const CommandInFlight& command, const HostAndPort& server,
                                   const bson::Document& reply) {
  if (!command.monitored) return;
  const bson::Document empty;
  events_->emit(CommandSucceededEvent{command.name, command.db, command.id, server,
                                      SteadyClock::now() - command.started,
                                      command.sensitive ? empty.view() : reply.view()});
}

void ClientCore::command_failed(const CommandInFlight& command, const HostAndPort& server,
                                const Error& e) {
  if (!command.monitored) return;
  // A sensitive command's failure keeps its code, not the server's message about it.
  events_->emit(CommandFailedEvent{
      command.name, command.db, command.id, server, SteadyClock::now() - command.started, e.code(),
      command.sensitive ? "(redacted: a security-sensitive command)" : e.what()});
}

bson::Document ClientCore::run_monitored(Connection& connection, std::string_view db,
                                         bson::View command,
                                         std::span<const wire::DocumentSequence> sequences,
                                         std::optional<Deadline> deadline) {
  const HostAndPort& server = connection.address();
  const CommandInFlight in_flight = command_started(server, db, command, sequences);
  try {
    bson::Document reply = connection.run_command(db, command, sequences, deadline);
    command_succeeded(in_flight, server, reply);
    return reply;
  } catch (const Error& e) {
    command_failed(in_flight, server, e);
    throw;
  }
}

void ClientCore::tell_sdam(const HostAndPort& server, std::uint64_t generation,
                           std::int32_t wire_version, const std::exception& e) {
  topology_->handle_application_error(
      application_error_of(server, generation, wire_version, ConnectionPhase::kEstablished, e));
}

void ClientCore::tell_sdam_of_reply(const HostAndPort& server, std::uint64_t generation,
                                    std::int32_t wire_version, const bson::Document& reply) {
  auto concern = reply.view().find("writeConcernError");
  if (!concern || concern->type() != bson::Type::kDocument) return;
  std::string message = "writeConcernError";
  if (auto errmsg = concern->get_document().find("errmsg");
      errmsg && errmsg->type() == bson::Type::kString) {
    message += ": " + std::string(errmsg->get_string());
  }
  tell_sdam(server, generation, wire_version, ServerError(0, {}, std::move(message), {}, reply));
}

bson::Document ClientCore::run_with_pool(const HostAndPort& server, ConnectionPool& pool,
                                         std::string_view db, bson::View command,
                                         std::span<const wire::DocumentSequence> sequences,
                                         std::optional<Deadline> deadline,
                                         OperationInterrupt* interrupt) {
  ConnectionPool::Lease lease;
  try {
    // A failure to establish a connection reaches SDAM through the pool's establishment
    // handler, with the generation the attempt began in.
    lease = pool.acquire(interrupt, deadline);
  } catch (const Error& e) {
    throw_if_closed_instead(e, command, server);
    throw;
  }
  return run_on_lease(server, lease, db, command, sequences, deadline, interrupt);
}

bson::Document ClientCore::run_on_lease(const HostAndPort& server, ConnectionPool::Lease& lease,
                                        std::string_view db, bson::View command,
                                        std::span<const wire::DocumentSequence> sequences,
                                        std::optional<Deadline> deadline,
                                        OperationInterrupt* interrupt) {
  const std::uint64_t generation = lease.generation();
  const std::int32_t wire_version = lease->max_wire_version();
  try {
    bson::Document reply;
    {
      // Published only inside the try: unwinding withdraws it before the lease can be discarded.
      PublishedFor published(interrupt, &*lease);
      reply = run_monitored(*lease, db, command, sequences, deadline);
    }
    tell_sdam_of_reply(server, generation, wire_version, reply);
    return reply;
  } catch (const ServerError& e) {
    tell_sdam(server, generation, wire_version, e);  // a well-formed answer: the connection stays
    throw;
  } catch (const Error& e) {
    lease.discard();
    throw_if_closed_instead(e, command, server);
    tell_sdam(server, generation, wire_version, e);
    throw;
  } catch (...) {
    lease.discard();
    throw;
  }
}

void ClientCore::throw_if_closed_instead(const Error& e, bson::View command,
                                         const HostAndPort& server) const {
  // close() interrupts what is in flight; the caller then learns why.
  if (e.code() == errc::interrupted && closed()) {
    throw Error(errc::client_closed, std::string(command_name(command)) + " on " +
                                         server.to_string() + ": the client was closed");
  }
}

Cursor ClientCore::make_cursor(bson::Document first_reply, CursorOptions options,
                               const HostAndPort& server, bool async_only,
                               CursorSessionPtr session) {
  std::shared_ptr<ServerCursorChannel> channel;
  {
    std::lock_guard lock(channels_mutex_);
    auto& shared = channels_[server];
    if (!shared) shared = std::make_shared<ServerCursorChannel>(weak_from_this(), server);
    channel = shared;
  }
  options.async_only = async_only;
  return Cursor(std::move(first_reply), options, std::move(channel), kill_queue_, server,
                std::move(session));
}

}  // namespace mongoslice
