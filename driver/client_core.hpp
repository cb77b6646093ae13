#pragma once
// The shared state of one MongoClient (internal to driver/): the topology, the event
// dispatcher, the kill queue and the kill-cursors executor. MongoClient owns it through a
// shared_ptr; Database and Collection share it; cursors reach it only weakly (through their
// ServerCursorChannel), and the kill-cursors executor holds only a weak_ptr to it, so nothing
// that runs in the background keeps a closed client alive (DESIGN.md, ownership graph).
//
// Commands: run_on() runs one command on one server's pool with command monitoring (started,
// then succeeded with the duration and the reply, or failed with the error). A network error
// discards the connection and tells the topology (mark the server Unknown, clear its pool).
//
// Kill-cursors: the executor sleeps until the first cursor pushed onto an empty queue wakes it
// (KillWakeSignal, lock-free): an idle client's kill executor never wakes. A burst of abandoned
// cursors still shares a command (the executor's min_interval). Each killCursors round trip is
// bounded by min(socketTimeoutMS, 10 s), and close() or the exit handler interrupts it wherever
// it waits (pool, DNS, connect, handshake, read) through its OperationInterrupt.
//
// close() (MongoClient's destructor calls it) returns within about kCloseBound whatever the
// servers do (provided event listeners return promptly):
//   1. new operations fail with errc::client_closed; the kill executor is closed and given
//      kKillRunGrace to finish a run in progress, then interrupted;
//   2. every pool is closed: operations in flight are interrupted and fail with
//      errc::client_closed, waiters are woken;
//   3. the kill executor's thread is joined (prompt: nothing it waits on is left unbroken);
//   4. the final kill run retires the queue and sends what it holds on fresh connections, all
//      within kFinalKillBudget; what cannot be sent by then is reported dropped;
//   5. the topology closes (monitors interrupted and joined);
//   6. the event dispatcher closes: it waits for listener calls in progress on other threads,
//      and no listener of this client is called after close() returns.
// In a fork() child, close() discards what it inherited without disturbing the parent: no
// socket is shut down or written to, no kill is sent for the parent's cursors (each is reported
// dropped, after_fork), and nothing waits for the parent's threads.
// A close() called from inside one of this client's event listeners (or again on the closing
// thread) returns at once; other concurrent calls wait for the first to finish. See
// driver/mongo_client.hpp for what happens to cursors that outlive the client.

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <thread>

#include "cursor/cursor.hpp"
#include "cursor/kill_cursors_task.hpp"
#include "cursor/kill_queue.hpp"
#include "driver/client_options.hpp"
#include "driver/cluster_clock.hpp"
#include "driver/connection_string.hpp"
#include "driver/events.hpp"
#include "driver/server_session_pool.hpp"
#include "driver/topology.hpp"
#include "monitor/periodic_executor.hpp"
#include "net/async_connection_pool.hpp"
#include "net/deadline.hpp"
#include "net/operation_interrupt.hpp"
#include "net/tls_context.hpp"
#include "wire/error.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice {

class KillWakeSignal;
class ServerCursorChannel;

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  // The longest a killCursors round trip may take, whatever socketTimeoutMS says.
  static constexpr std::chrono::milliseconds kMaxKillTimeout{10'000};
  // Kills woken early are never closer together than this, so a burst of abandoned cursors
  // shares one killCursors command instead of one each.
  static constexpr std::chrono::milliseconds kKillMinInterval{2};
  // close(): how long a kill run in progress may go on before it is interrupted, and how long
  // the final kill run may take in all (connects, handshakes and round trips together).
  static constexpr std::chrono::milliseconds kKillRunGrace{200};
  static constexpr std::chrono::milliseconds kFinalKillBudget{1'000};
  // What close() is built to stay within; the rest (interrupting, joining) takes milliseconds.
  static constexpr std::chrono::milliseconds kCloseBound = kKillRunGrace + kFinalKillBudget;
  // The most lsids one endSessions command carries (the sessions spec's limit).
  static constexpr std::size_t kEndSessionsBatch = 10'000;

  // Creates the topology and starts it and the kill-cursors executor.
  static std::shared_ptr<ClientCore> create(ConnectionString uri, ClientOptions options);
  // The same with a topology made by `make_topology` (tests: scripted monitors, pools that
  // dial a scripted server).
  using TopologyFactory = std::function<std::shared_ptr<Topology>(
      const ConnectionString&, std::shared_ptr<const EventDispatcher>)>;
  static std::shared_ptr<ClientCore> create(ConnectionString uri, ClientOptions options,
                                            TopologyFactory make_topology);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // Idempotent; see above. Never throws.
  void close() noexcept;
  // Kill records pushed after the final kill run (each also logged by the cursor).
  std::uint64_t orphaned_kills() const noexcept { return kill_queue_->orphaned(); }
  bool closed() const noexcept { return close_state_.load() != kOpen; }

  const ConnectionString& uri() const noexcept { return uri_; }
  const EventDispatcher& events() const noexcept { return *events_; }
  const std::shared_ptr<KillQueue>& kill_queue() const noexcept { return kill_queue_; }

  // A selected server and one connection of its pool, leased for a whole operation
  // (driver/operation_engine.hpp). A read is selected by `read_preference`, a write by
  // writability. Throws Error(errc::client_closed) after close(), and what selection and the pool
  // throw; a failure to connect reaches SDAM through the pool's establishment handler.
  struct Leased {
    SelectedServer selected;
    ConnectionPool::Lease lease;
  };
  // `deprioritized`: servers an earlier attempt failed on (a retry in a sharded cluster).
  Leased lease_for(bool read, const ReadPreference& read_preference,
                   std::span<const HostAndPort> deprioritized = {});
  // A connection of `server`'s pool, waiting at most until `deadline`. Throws
  // Error(errc::network_error) when the topology no longer knows the server, and
  // Error(errc::client_closed) after close().
  ConnectionPool::Lease lease_on(const HostAndPort& server, std::optional<Deadline> deadline);

  // Runs the command on `server` (cursor commands go to the cursor's own server). Throws
  // Error(errc::network_error) when the topology no longer knows the server.
  bson::Document run_on(const HostAndPort& server, std::string_view db, bson::View command,
                        std::span<const wire::DocumentSequence> sequences = {},
                        std::optional<Deadline> deadline = std::nullopt,
                        OperationInterrupt* interrupt = nullptr);
  // One command on a leased connection of `server`'s pool: command monitoring, and the
  // command's error handed to SDAM with the lease's generation and wire version (run_on() is
  // acquire + this). The lease is discarded after an error that broke the connection.
  bson::Document run_on_lease(const HostAndPort& server, ConnectionPool::Lease& lease,
                              std::string_view db, bson::View command,
                              std::span<const wire::DocumentSequence> sequences = {},
                              std::optional<Deadline> deadline = std::nullopt,
                              OperationInterrupt* interrupt = nullptr);
  // One command on a connection the caller holds, with command monitoring.
  bson::Document run_monitored(Connection& connection, std::string_view db, bson::View command,
                               std::span<const wire::DocumentSequence> sequences,
                               std::optional<Deadline> deadline);

  // A Cursor over a find/aggregate reply from `server`, wired to this client's channel and
  // kill queue. An `async_only` cursor (made by an async_ operation) iterates only with
  // Cursor::async_next.
  // `session`: the session the command ran in (a live cursor keeps it for its getMores).
  Cursor make_cursor(bson::Document first_reply, CursorOptions options, const HostAndPort& server,
                     bool async_only = false, CursorSessionPtr session = nullptr);

  // The async engine's twins of lease_for, lease_on and run_on_lease (driver/async_engine.hpp).
  // Connections come from the server's AsyncConnectionPool (one per server, made on first use,
  // closed by close()), opened on `executor`'s context.
  struct AsyncLeased {
    SelectedServer selected;
    AsyncConnectionPool::Lease lease;
  };
  // `deprioritized`: as lease_for's (the retry's selection).
  boost::asio::awaitable<AsyncLeased> co_lease_for(boost::asio::any_io_executor executor, bool read,
                                                   ReadPreference read_preference,
                                                   std::vector<HostAndPort> deprioritized = {});
  boost::asio::awaitable<AsyncConnectionPool::Lease> co_lease_on(
      boost::asio::any_io_executor executor, HostAndPort server);
  boost::asio::awaitable<bson::Document> co_run_on_lease(
      const HostAndPort& server, AsyncConnectionPool::Lease& lease, std::string_view db,
      bson::View command, std::span<const wire::DocumentSequence> sequences = {});

  // The engine's fast paths, so that an operation which finds a server and an idle connection
  // at once allocates no selection or checkout frame: co_lease_for's work as far as it goes
  // without waiting. Throws what co_lease_for throws.
  //   kLeased: `leased` is set;
  //   kCheckout: a server is selected (leased.selected) but its pool has no idle connection for
  //     `executor`: the caller awaits `pool`->async_checkout() itself (no co_lease_for frame),
  //     mapping its failure with rethrow_checkout_failure;
  //   kSelect: no server suits now: the caller awaits co_lease_for.
  enum class FastLease { kLeased, kCheckout, kSelect };
  FastLease try_lease_for(const boost::asio::any_io_executor& executor, bool read,
                          const ReadPreference& read_preference, AsyncLeased& leased,
                          std::shared_ptr<AsyncConnectionPool>& pool);
  // What a failed checkout on `server` throws (as co_lease_for would).
  [[noreturn]] void rethrow_checkout_failure(std::exception_ptr failure,
                                             const HostAndPort& server) const {
    rethrow_async(std::move(failure), bson::View(), server);
  }
  // What command monitoring's started step hands to the other two (see command_started).
  struct CommandInFlight {
    std::string_view name;
    std::string_view db;
    std::int32_t id;
    bool monitored;
    SteadyClock::time_point started;
    // A security-sensitive command (driver/sensitive_commands.hpp): its events are redacted.
    bool sensitive = false;
  };
  // co_run_on_lease in three steps, for a caller that awaits the exchange in its own frame
  // (driver/async_engine.hpp: one coroutine frame fewer per operation in flight):
  //   AsyncCommand command = core.begin_async_command(server, lease, db, body, sequences);
  //   co_await lease->async_exchange(command.exchange, deferred)   // failure caught
  //   bson::Document reply = core.finish_async_command(command, lease, failure);
  // begin_ emits the started event (a command that cannot be encoded fails there, its failed
  // event emitted); finish_ reports the command's events and SDAM's errors exactly as
  // co_run_on_lease, discards the lease on any failure but a ServerError, and throws what
  // co_run_on_lease throws.
  struct AsyncCommand {
    AsyncConnection::Exchange exchange;
    CommandInFlight in_flight;
    const HostAndPort* server;
    std::uint64_t generation;
    std::int32_t wire_version;
  };
  AsyncCommand begin_async_command(const HostAndPort& server, AsyncConnectionPool::Lease& lease,
                                   std::string_view db, bson::View command,
                                   std::span<const wire::DocumentSequence> sequences);
  bson::Document finish_async_command(AsyncCommand& command, AsyncConnectionPool::Lease& lease,
                                      std::exception_ptr failure);
  // ClientOptions::executor.
  const std::optional<boost::asio::any_io_executor>& async_executor() const noexcept {
    return async_executor_;
  }
  // The async pool of `twin`'s server (made on first use). For the engine and tests.
  std::shared_ptr<AsyncConnectionPool> async_pool(const std::shared_ptr<ConnectionPool>& twin);

  // The server session pool (implicit sessions; driver/operation_run.hpp).
  ServerSessionPool& sessions() noexcept { return *sessions_; }
  // Shared with explicit sessions, which may outlive the client (a leftover ClientSession).
  const std::shared_ptr<ServerSessionPool>& session_pool() const noexcept { return sessions_; }
  // $clusterTime gossip (the sessions spec): the greatest cluster time any reply carried, sent
  // with every later command. advance_cluster_time reads `reply`'s $clusterTime, if any.
  void advance_cluster_time(bson::View reply);
  std::shared_ptr<const bson::Document> cluster_time() const;

  // The deadline of one killCursors round trip: min(socketTimeoutMS, kMaxKillTimeout).
  Deadline kill_deadline() const;
  // One run of the kill-cursors task (the executor's target).
  KillCursorsTaskResult run_kill_cursors();
  // The connection options the pool of `server` uses (for the final kill run), if it is known.
  std::optional<ConnectionOptions> connection_options(const HostAndPort& server) const;

  // For tests: the executor that sends killCursors, and the topology.
  PeriodicExecutor& kill_cursors_executor() noexcept { return *kill_executor_; }
  const std::shared_ptr<Topology>& topology() const noexcept { return topology_; }

 private:
  ClientCore(ConnectionString uri, ClientOptions options);
  void start(const TopologyFactory& make_topology);
  void check_open() const;
  void close_now() noexcept;
  void final_kill_run(SteadyClock::time_point deadline) noexcept;
  // endSessions for the pooled sessions, in batches of kEndSessionsBatch, through `send`
  // (close()'s final run); failures are only logged.
  template <typename Sender>
  void end_sessions(Sender& sender) noexcept;
  void drop_queued_at_exit() noexcept;
  // After close() an interrupted operation fails with client_closed, naming the command.
  void throw_if_closed_instead(const Error& e, bson::View command, const HostAndPort& server) const;
  bson::Document run_with_pool(const HostAndPort& server, ConnectionPool& pool, std::string_view db,
                               bson::View command,
                               std::span<const wire::DocumentSequence> sequences,
                               std::optional<Deadline> deadline, OperationInterrupt* interrupt);

  // Command monitoring's three steps, shared by both engines: started (returns what the other
  // two need: CommandInFlight, above), succeeded, failed.
  CommandInFlight command_started(const HostAndPort& server, std::string_view db,
                                  bson::View command,
                                  std::span<const wire::DocumentSequence> sequences);
  void command_succeeded(const CommandInFlight& command, const HostAndPort& server,
                         const bson::Document& reply);
  void command_failed(const CommandInFlight& command, const HostAndPort& server, const Error& e);
  // An ok: 1 reply with a writeConcernError can still say the server stepped down: SDAM hears
  // of it. And an operation's error, with the connection it happened on.
  void tell_sdam_of_reply(const HostAndPort& server, std::uint64_t generation,
                          std::int32_t wire_version, const bson::Document& reply);
  void tell_sdam(const HostAndPort& server, std::uint64_t generation, std::int32_t wire_version,
                 const std::exception& e);
  // The error an async step's failure becomes: client_closed after close(), the cancellation
  // error for Asio's operation_aborted, else `failure` itself. Never returns normally.
  [[noreturn]] void rethrow_async(std::exception_ptr failure, bson::View command,
                                  const HostAndPort& server) const;
  // The same, naming the command (`name`: its first key).
  [[noreturn]] void rethrow_async_named(std::exception_ptr failure, std::string_view name,
                                        const HostAndPort& server) const;
  void close_async_pools() noexcept;

  ConnectionString uri_;
  std::optional<boost::asio::any_io_executor> async_executor_;
  std::mutex async_pools_mutex_;
  std::map<HostAndPort, std::shared_ptr<AsyncConnectionPool>> async_pools_;
  bool async_pools_closed_ = false;  // under async_pools_mutex_
  std::shared_ptr<EventDispatcher> events_;
  DnsOptions dns_;
  // The TLS context of the URI's options, made at construction so that an unreadable file or a
  // wrong key password fails there, and held so that every connection shares it.
  std::shared_ptr<TlsContext> tls_context_;
  std::shared_ptr<Topology> topology_;
  std::shared_ptr<KillWakeSignal> wake_signal_;
  std::shared_ptr<KillQueue> kill_queue_;
  std::unique_ptr<PeriodicExecutor> kill_executor_;
  // Breaks whatever the kill executor waits on; shared with its interrupt hook, which may run
  // in the exit handler.
  std::shared_ptr<OperationInterrupt> kill_interrupt_ = std::make_shared<OperationInterrupt>();
  // One cursor channel per server, shared by that server's cursors: a cursor's destructor then
  // only drops a reference (never the last), instead of freeing a channel of its own.
  std::mutex channels_mutex_;
  std::map<HostAndPort, std::shared_ptr<ServerCursorChannel>> channels_;
  // close(): kOpen -> kClosing (one caller does the work) -> kClosed (waiters released).
  static constexpr std::uint32_t kOpen = 0, kClosing = 1, kClosed = 2;
  std::atomic<std::uint32_t> close_state_{kOpen};
  std::atomic<std::thread::id> closing_thread_{};
  // The fork generation the client was made in (a child's close() discards, see close_now()).
  std::uint64_t fork_generation_ = 0;
  std::shared_ptr<ServerSessionPool> sessions_ = ServerSessionPool::create();
  std::shared_ptr<ClusterClock> cluster_clock_ = std::make_shared<ClusterClock>();
};

}  // namespace mongoslice
