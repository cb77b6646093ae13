#pragma once
// Topology: the client's live view of the deployment. It owns one Monitor (monitor/monitor.hpp)
// and one ConnectionPool per server, applies each monitor's result with the SDAM rules
// (monitor/topology_description.hpp), starts monitors for servers it learns of and closes those
// removed, publishes immutable description snapshots, and selects servers.
//
//   auto topology = Topology::create(ConnectionString::parse(uri), events);
//   topology->open();
//   SelectedServer selected = topology->select_server(read_preference);
//
// Snapshots: description() copies a shared_ptr under a short lock; readers never wait for a
// monitor, and a snapshot never changes. Each new snapshot wakes the threads waiting in server
// selection, and the asynchronous selections (co_select_server) waiting for one: those wait
// without a thread, registered in a SelectionWaiters list (driver/selection_waiters.hpp) that is
// moved out under the lock and woken after unlocking.
//
// Events (driver/events.hpp) are collected under the lock and emitted after releasing it, on
// the thread that caused them (usually a monitor's).
//
// Lifetime (DESIGN.md invariant 4): monitors hold the topology only weakly. close() and the
// destructor close every monitor (which interrupts its check), then join their threads; a
// monitor's own thread is never joined from itself (the executor detaches instead), so the last
// reference may drop anywhere, a monitor's callback included.
//
// Thread-safety: every member may be called from any thread.

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "driver/cluster_clock.hpp"
#include "driver/connection_string.hpp"
#include "driver/event_turns.hpp"
#include "driver/events.hpp"
#include "driver/pool_maintainer.hpp"
#include "driver/selection_waiters.hpp"
#include "driver/server_selection.hpp"
#include "driver/srv_poller.hpp"
#include "monitor/application_error.hpp"
#include "monitor/monitor.hpp"
#include "monitor/topology_description.hpp"
#include "net/connection_pool.hpp"
#include "wire/error.hpp"

namespace mongoslice {

struct SelectedServer {
  HostAndPort address;
  std::shared_ptr<ConnectionPool> pool;
  // What the description said when it was selected: how a read must pass its read preference
  // (driver/read_preference_wire.hpp) depends on both.
  ServerType type = ServerType::kUnknown;
  TopologyType topology = TopologyType::kUnknown;
  // Counts the operation in the server's operationCount until it is destroyed: keep it for
  // the whole operation.
  ConnectionPool::OperationToken operation;
  // The topology's logicalSessionTimeoutMinutes when it was selected: none means the deployment
  // does not support sessions (the sessions spec), so commands carry no lsid.
  std::optional<std::int64_t> session_timeout_minutes;
};

// What the topology builds per server; tests replace the checker with a scripted one.
using CheckerFactory = std::function<std::unique_ptr<ServerChecker>(const HostAndPort&)>;

class Topology {
 public:
  static std::shared_ptr<Topology> create(const ConnectionString& uri,
                                          std::shared_ptr<const EventDispatcher> events,
                                          DnsOptions dns = {});
  // The same with another checker per server (tests), and monitor timing (tests shorten
  // minHeartbeatFrequencyMS). `connect_to`, when given, is where every pool connects instead of
  // its server's address (tests: one scripted server stands in for every member).
  static std::shared_ptr<Topology> create(const ConnectionString& uri,
                                          std::shared_ptr<const EventDispatcher> events,
                                          CheckerFactory checkers, MonitorOptions monitor_options,
                                          std::optional<HostAndPort> connect_to = std::nullopt);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  // Where the monitors' hello replies send their $clusterTime (the client's clock); before
  // open() only (the monitors' threads read it without a lock).
  void set_cluster_clock(std::shared_ptr<ClusterClock> clock) { cluster_clock_ = std::move(clock); }

  // Starts a monitor per seed (once). Throws std::system_error when no thread can be created.
  void open();
  // Closes every monitor and pool; selection fails with errc::client_closed afterwards. Joins
  // the monitors' threads, except the calling thread's own. Idempotent. In a fork() child the
  // inherited monitors have no thread and their sockets are the parent's: they are discarded
  // without shutdown(2); if a parent thread held the topology's mutex at fork time, everything
  // is left as it is (leaked) rather than waited for.
  void close() noexcept;

  // Closes every pool (operations in flight on them are interrupted, waiters woken) but keeps
  // monitoring; close() follows. For the client's close().
  void close_pools() noexcept;

  // Waits up to serverSelectionTimeoutMS for a suitable server, asking the monitors for
  // immediate checks; throws Error(errc::server_selection_timeout, <every server, its type and
  // its last error, then the servers SDAM removed and why>), Error(errc::incompatible_server)
  // when a server's wire versions do not overlap ours, Error(errc::invalid_argument) for a
  // maxStalenessSeconds the topology refuses (driver/server_selection.hpp), or
  // Error(errc::client_closed).
  // Of two servers in the latency window, the one whose pool has fewer connections checked out
  // (ConnectionPool::operation_count()) wins. `deprioritized`: servers an earlier attempt of the
  // same operation failed on, used only when nothing else suits.
  SelectedServer select_server(const ReadPreference& read_preference,
                               std::span<const HostAndPort> deprioritized = {});
  SelectedServer select_server_for_writes(std::span<const HostAndPort> deprioritized = {});

  // The same selections for coroutines (driver/topology_async.cpp): they wait without a thread
  // until a snapshot the monitors publish has a suitable server, serverSelectionTimeoutMS
  // passes, the awaiting operation is cancelled, or the topology closes (or is destroyed).
  // They throw what select_server throws, with the same texts (one attempt's code serves both),
  // and, once cancelled through the awaiting coroutine's cancellation slot,
  // Error(std::error_code(ECANCELED, std::system_category()), "server selection cancelled")
  // at once. The coroutine's own cancellation state filters what reaches the wait: by default
  // only terminal cancellation; partial and total count too when the caller lets them through
  // (this_coro::reset_cancellation_state). They run on the awaiting coroutine's executor and
  // resume there; the wait holds the topology only weakly, so it never keeps it alive nor
  // delays close().
  // `deprioritized`: as select_server's (a retry avoids the server that failed, when another
  // suits).
  boost::asio::awaitable<SelectedServer> co_select_server(
      ReadPreference read_preference, std::vector<HostAndPort> deprioritized = {});
  boost::asio::awaitable<SelectedServer> co_select_server_for_writes(
      std::vector<HostAndPort> deprioritized = {});
  // One attempt of those selections, made at once and without a coroutine: the selected server,
  // or an empty optional when none suits now (the caller then awaits co_select_server*, which
  // asks the monitors for checks and waits). Throws what one attempt throws (client_closed,
  // incompatible_server, invalid_argument). The async engine's fast path.
  std::optional<SelectedServer> try_select_server(const ReadPreference& read_preference);
  std::optional<SelectedServer> try_select_server_for_writes();

  // The pool of a known server (getMore and killCursors go to the cursor's own server), or
  // nullptr when the topology no longer has it.
  std::shared_ptr<ConnectionPool> pool(const HostAndPort& address) const;

  // An operation's error (SDAM's "application errors"), with the connection it happened on:
  // marks the server Unknown, requests a check and clears its pool as the SDAM spec's error
  // handling says (monitor/application_error.hpp). Errors from connections of an older pool
  // generation, stale topologyVersions and errors of our own (interrupted, timeouts after the
  // handshake) change nothing. Errors while a pool establishes a connection reach it through the
  // pool's establishment handler, which the topology sets on every pool it makes.
  void handle_application_error(const ApplicationError& error);

  // What a monitor's check produced, applied as the monitor's own result is (tests script
  // the results of checks through it).
  void apply_check_result(ServerDescription description);
  // Replaces the whole description, no rules run (the server-selection spec's files give
  // descriptions whole; their runner selects through this topology). Servers are started and
  // stopped to match, as after any update.
  void install_description(TopologyDescription description);

  // A mongodb+srv:// rescan's hosts (the SRV poller's): servers added and removed as
  // TopologyDescription::apply_srv_hosts says, with srvMaxHosts; their monitors start or stop.
  void apply_srv_hosts(const std::vector<HostAndPort>& hosts);
  // Whether the topology still follows its SRV records (Unknown or Sharded).
  bool follows_srv_records() const;

  // The current snapshot.
  std::shared_ptr<const TopologyDescription> description() const;

  // Asks every monitor for a check soon (rate-limited per monitor).
  void request_checks() const noexcept;

 private:
  struct Token {};  // create() only, but make_shared needs a public constructor

 public:
  Topology(Token, const ConnectionString& uri, std::shared_ptr<const EventDispatcher> events,
           CheckerFactory checkers, MonitorOptions monitor_options);

 private:
  class Listener;  // the MonitorListener face, shares this object's lifetime
  struct Server {
    std::unique_ptr<Monitor> monitor;
    std::shared_ptr<ConnectionPool> pool;
  };
  struct Changes;  // what one update did, to act on after unlocking

  void apply(ServerDescription description, bool from_monitor);
  // Under the lock: `description` applied to a copy of the current description and published;
  // false (nothing changed) when the rules ignore it.
  bool apply_locked(ServerDescription description, Changes& changes);
  // Under the lock: installs `next`, starts/stops servers to match it, notes events.
  void publish_locked(std::shared_ptr<const TopologyDescription> next, Changes& changes);
  void finish(Changes& changes) noexcept;
  // open()'s last step for mongodb+srv:// (see srv_poller_).
  void start_srv_poller();
  std::string selection_failure(const TopologyDescription& snapshot, std::string_view what) const;
  SelectedServer select(OperationKind kind, const ReadPreference& read_preference,
                        std::string_view what, std::span<const HostAndPort> deprioritized);
  // The steps the sync and the async selection share. `lock` holds mutex_ on entry and on
  // return. ensure_open: open() unless it ran (it may unlock meanwhile).
  void ensure_open(std::unique_lock<std::mutex>& lock);
  // One selection against the current snapshot (again while a new one replaces it during the
  // attempt, which runs unlocked): the server, or nothing, with `tried` set to the snapshot
  // that had none and is still the current one. Throws Error(errc::client_closed) once closed,
  // and what mongoslice::select_server throws.
  std::optional<SelectedServer> attempt_locked(std::unique_lock<std::mutex>& lock,
                                               OperationKind kind,
                                               const ReadPreference& read_preference,
                                               std::span<const HostAndPort> deprioritized,
                                               std::shared_ptr<const TopologyDescription>& tried);
  void request_checks_locked() const noexcept;
  Error selection_timeout(const TopologyDescription& snapshot, std::string_view what) const;
  static boost::asio::awaitable<SelectedServer> co_select(std::weak_ptr<Topology> weak,
                                                          OperationKind kind,
                                                          ReadPreference read_preference,
                                                          std::string what,
                                                          std::vector<HostAndPort> deprioritized);

  const ConnectionString uri_;
  std::shared_ptr<ClusterClock> cluster_clock_;  // set_cluster_clock's; none: not gossiped
  const std::shared_ptr<const EventDispatcher> events_;
  const CheckerFactory checkers_;
  // The RTT monitors' checkers (create() with DnsOptions sets it, before open()); none: a
  // streaming server's RTT is its monitoring handshake's (the test topologies).
  CheckerFactory rtt_checkers_;
  const MonitorOptions monitor_options_;
  PoolOptions pool_options_;
  // minPoolSize / maxIdleTimeMS: the pools' background work; null without them.
  std::shared_ptr<PoolMaintainer> pool_maintainer_;
  std::unique_ptr<Listener> listener_;  // monitors see it through an aliasing weak_ptr

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // a new snapshot, or closed
  SelectionWaiters waiters_;         // the async selections, woken by the same
  std::shared_ptr<const TopologyDescription> description_;
  std::map<HostAndPort, Server> servers_;
  bool opened_ = false;
  bool closed_ = false;
  // Every change's events go out in the order of its turn (taken under mutex_).
  EventTurns turns_;

  // mongodb+srv://: the DNS servers the SRV poller asks (create() with DnsOptions sets it), the
  // poller once open() started it (under mutex_; closed and joined by close(), outside it), and
  // the randomness of srvMaxHosts's choices (under mutex_).
  std::optional<DnsOptions> srv_dns_;
  std::unique_ptr<SrvPoller> srv_poller_;
  std::mt19937_64 srv_random_{std::random_device{}()};

  std::weak_ptr<Topology> self_;
  // The fork generation the topology was made in: in a fork() child, close() must not block on
  // mutex_, which a parent thread may have held when the process forked (see close()).
  const std::uint64_t fork_generation_;
};

}  // namespace mongoslice
