#include "driver/topology.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <utility>

#include "driver/application_error_of.hpp"
#include "driver/connection_checker.hpp"
#include "driver/server_selection.hpp"
#include "net/client_environment.hpp"
#include "net/fork_safe_lock.hpp"
#include "wire/error.hpp"
#include "wire/log.hpp"

namespace mongoslice {

// ---- helpers ----------------------------------------------------------------------------------

namespace {

TopologyOptions topology_options(const ConnectionString& uri) {
  TopologyOptions options;
  options.replica_set_name = uri.replica_set;
  options.direct_connection = uri.direct_connection.value_or(false);
  options.heartbeat_frequency = uri.heartbeat_frequency;
  options.local_threshold = uri.local_threshold;
  return options;
}

bool same_description(const TopologyDescription& a, const TopologyDescription& b) {
  if (a.type() != b.type() || a.set_name() != b.set_name()) return false;
  return std::equal(
      a.servers().begin(), a.servers().end(), b.servers().begin(), b.servers().end(),
      [](const auto& x, const auto& y) { return x.first == y.first && x.second == y.second; });
}

}  // namespace

// ---- the listener face ------------------------------------------------------------------------

class Topology::Listener final : public MonitorListener {
 public:
  explicit Listener(Topology& topology) : topology_(topology) {}

  void on_heartbeat_started(const HostAndPort& address, bool awaited) override {
    topology_.events_->emit(ServerHeartbeatStartedEvent{address, awaited});
  }
  void on_heartbeat_succeeded(const HostAndPort& address, std::chrono::nanoseconds duration,
                              bson::View reply, bool awaited) override {
    if (topology_.cluster_clock_) topology_.cluster_clock_->advance(reply);
    topology_.events_->emit(ServerHeartbeatSucceededEvent{address, duration, reply, awaited});
  }
  void on_heartbeat_failed(const HostAndPort& address, std::chrono::nanoseconds duration,
                           std::string_view error, bool awaited) override {
    topology_.events_->emit(ServerHeartbeatFailedEvent{address, duration, error, awaited});
  }
  void on_server_description(ServerDescription description) override {
    topology_.apply(std::move(description), /*from_monitor=*/true);
  }

 private:
  Topology& topology_;
};

struct Topology::Changes {
  std::shared_ptr<const TopologyDescription> previous;
  std::shared_ptr<const TopologyDescription> current;
  bool description_changed = false;
  std::uint64_t turn = 0;                    // for the events (EventTurns)
  bool opening = false;                      // open(): TopologyOpeningEvent first
  std::optional<HostAndPort> subject;        // the server whose description was applied
  std::vector<HostAndPort> changed_servers;  // the subject, if described before and after
  std::vector<Monitor*> to_open;             // owned by servers_; opened after unlocking
  std::vector<HostAndPort> opened;
  std::vector<std::pair<HostAndPort, Server>> removed;
  std::shared_ptr<ConnectionPool> to_clear;
  // Pools this update readied (under our lock, so that no operation selects a known server whose
  // pool is still paused); their PoolReady events go out after unlocking.
  std::vector<std::shared_ptr<ConnectionPool>> readied;
  std::vector<std::shared_ptr<ConnectionPool>> created;  // PoolCreated after unlocking
  // An application error's clear, made under our lock; its events go out after unlocking.
  ConnectionPool::PendingClear cleared;
  SelectionWaiters::Taken woken;  // the async selections to wake, after unlocking
};

// ---- construction -----------------------------------------------------------------------------

std::shared_ptr<Topology> Topology::create(const ConnectionString& uri,
                                           std::shared_ptr<const EventDispatcher> events,
                                           DnsOptions dns) {
  ConnectionOptions connection;
  connection.connect_timeout = uri.connect_timeout;
  connection.app_name = uri.app_name;
  connection.dns = dns;
  connection.tls = uri.tls;  // monitors speak TLS as pooled connections do
  // Monitors may compress (the spec allows it); their hellos never are (may_compress_command).
  connection.compressors = uri.compressors;
  connection.zlib_compression_level = uri.zlib_compression_level;
  // The streaming protocol wherever the server offers it (a topologyVersion in its hello),
  // unless serverMonitoringMode says poll, or says auto in a FaaS environment.
  const bool streaming = uri.server_monitoring_mode == ServerMonitoringMode::stream ||
                         (uri.server_monitoring_mode == ServerMonitoringMode::automatic &&
                          !detect_client_environment().in_faas());
  const CheckerOptions checker_options{.streaming = streaming,
                                       .heartbeat_frequency = uri.heartbeat_frequency};
  CheckerFactory checkers = [connection, checker_options](const HostAndPort& address) {
    return std::make_unique<ConnectionChecker>(address, connection, checker_options);
  };
  MonitorOptions monitor_options;
  monitor_options.heartbeat_frequency = uri.heartbeat_frequency;
  auto topology = create(uri, std::move(events), std::move(checkers), monitor_options);
  // Each RTT monitor: plain hellos on a connection of its own (before open(): no monitor yet).
  topology->rtt_checkers_ = [connection, checker_options](const HostAndPort& address) {
    return std::make_unique<ConnectionChecker>(
        address, connection,
        CheckerOptions{.streaming = false,
                       .heartbeat_frequency = checker_options.heartbeat_frequency});
  };
  if (uri.srv_host) topology->srv_dns_ = dns;               // before open(): no poller exists yet
  topology->pool_options_.connection.dns = std::move(dns);  // before open(): no pool exists yet
  return topology;
}

std::shared_ptr<Topology> Topology::create(const ConnectionString& uri,
                                           std::shared_ptr<const EventDispatcher> events,
                                           CheckerFactory checkers, MonitorOptions monitor_options,
                                           std::optional<HostAndPort> connect_to) {
  if (!events) events = std::make_shared<const EventDispatcher>();
  auto topology = std::make_shared<Topology>(Token{}, uri, std::move(events), std::move(checkers),
                                             monitor_options);
  topology->self_ = topology;
  topology->pool_options_.connect_to = std::move(connect_to);  // before open(): no pool yet
  return topology;
}

Topology::Topology(Token, const ConnectionString& uri,
                   std::shared_ptr<const EventDispatcher> events, CheckerFactory checkers,
                   MonitorOptions monitor_options)
    : uri_(uri),
      events_(std::move(events)),
      checkers_(std::move(checkers)),
      monitor_options_(monitor_options),
      listener_(std::make_unique<Listener>(*this)),
      description_(std::make_shared<const TopologyDescription>(uri.hosts, topology_options(uri))),
      fork_generation_(current_fork_generation()) {
  pool_options_.max_size = uri.max_pool_size;
  pool_options_.max_connecting = uri.max_connecting;
  pool_options_.max_idle_time = uri.max_idle_time;
  pool_options_.min_size = uri.min_pool_size;
  if (uri.min_pool_size > 0 || uri.max_idle_time) {
    pool_maintainer_ = PoolMaintainer::create();  // no thread, no timer without them
    pool_options_.maintenance = pool_maintainer_;
  }
  pool_options_.events = pool_event_listener_for(events_);  // null without listeners
  pool_options_.wait_timeout = uri.server_selection_timeout;
  pool_options_.connection.connect_timeout = uri.connect_timeout;
  pool_options_.connection.socket_timeout = uri.socket_timeout;
  pool_options_.connection.app_name = uri.app_name;
  pool_options_.connection.tls = uri.tls;
  pool_options_.connection.compressors = uri.compressors;
  pool_options_.connection.zlib_compression_level = uri.zlib_compression_level;
  // Pooled connections authenticate in their handshake; monitors never do (the auth spec).
  pool_options_.connection.credential = uri.credential;
  if (uri.credential) pool_options_.connection.key_cache = std::make_shared<auth::KeyCache>();
}

Topology::~Topology() {
  close();
}

void Topology::open() {
  Changes changes;
  {
    std::lock_guard lock(mutex_);
    if (opened_ || closed_) return;
    opened_ = true;
    if (pool_maintainer_) pool_maintainer_->open();  // before the first pool exists
    // The spec's first TopologyDescriptionChangedEvent goes from "nothing known" (Unknown, no
    // servers) to the seeds.
    changes.previous = std::make_shared<const TopologyDescription>(
        TopologyDescription::from_servers(TopologyType::kUnknown, {}, description_->options()));
    changes.opening = true;
    publish_locked(description_, changes);  // starts a server per seed
  }
  finish(changes);
  start_srv_poller();
}

void Topology::start_srv_poller() {
  // The polling-SRV spec: a mongodb+srv:// client follows its records unless it is load
  // balanced (one host, the balancer's) or told its replica set (members are found through
  // them, not DNS).
  if (!srv_dns_ || uri_.load_balanced || uri_.replica_set) return;
  std::weak_ptr<Topology> weak = self_;
  SrvPoller::Hooks hooks{[weak] {
                           auto topology = weak.lock();
                           return topology && topology->follows_srv_records();
                         },
                         [weak](std::vector<HostAndPort> hosts) {
                           if (auto topology = weak.lock()) topology->apply_srv_hosts(hosts);
                         }};
  auto poller =
      std::make_unique<SrvPoller>(uri_, *srv_dns_, uri_.srv_rescan_interval, std::move(hooks));
  std::lock_guard lock(mutex_);
  if (closed_) return;  // closed meanwhile: the poller is destroyed unopened
  // Opened under the lock, so that close() (which takes it to swap the poller out) finds it
  // either not there or running, never half-started. A fresh executor's open() only starts its
  // thread, whose first run returns at once without the lock.
  poller->open();
  srv_poller_ = std::move(poller);
}

bool Topology::follows_srv_records() const {
  const auto snapshot = description();
  return snapshot->type() == TopologyType::kUnknown || snapshot->type() == TopologyType::kSharded;
}

void Topology::apply_srv_hosts(const std::vector<HostAndPort>& hosts) {
  Changes changes;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    TopologyDescription next = *description_;
    if (!next.apply_srv_hosts(hosts, uri_.srv_max_hosts.value_or(0), srv_random_)) return;
    changes.previous = description_;
    publish_locked(std::make_shared<const TopologyDescription>(std::move(next)), changes);
  }
  finish(changes);
}

void Topology::close() noexcept {
  std::unique_ptr<SrvPoller> poller;
  std::map<HostAndPort, Server> servers;
  std::shared_ptr<const TopologyDescription> last;
  bool was_open = false;
  SelectionWaiters::Taken woken;
  {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!lock_unless_inherited(lock, fork_generation_)) return;  // a fork() child: leave it all
    if (closed_) return;
    closed_ = true;
    was_open = opened_;
    servers.swap(servers_);
    last = description_;
    woken = waiters_.take();
    poller.swap(srv_poller_);
  }
  // Interrupts a lookup in progress; joined when `poller` goes, after the monitors.
  if (poller) poller->close();
  changed_.notify_all();
  // Each wakes to find the topology closed (or gone) and fails with client_closed.
  SelectionWaiters::wake_all(woken);
  // Updates waiting for their turn to publish go ahead now: one of them may be a monitor we are
  // about to join, and close() may run inside a listener that holds the current turn.
  turns_.release_all();
  // Close everything first (each close interrupts a check at once), then join: the threads end
  // in parallel rather than one after the other.
  for (auto& [address, server] : servers) {
    server.monitor->close();
    server.pool->close();
  }
  if (pool_maintainer_) pool_maintainer_->close();  // also ends an establishment in progress
  for (auto& [address, server] : servers) {
    server.monitor.reset();  // joins, unless this is that monitor's own thread
    events_->emit(ServerClosedEvent{address});
  }
  // Joined after the monitors, for the same reason (false at once on its own thread).
  if (pool_maintainer_) pool_maintainer_->join(std::chrono::milliseconds::max());
  if (!was_open) return;
  // The spec's closing description: the topology changes to Unknown with no servers, then
  // closes.
  try {
    const auto closed =
        TopologyDescription::from_servers(TopologyType::kUnknown, {}, last->options());
    events_->emit(TopologyDescriptionChangedEvent{*last, closed});
  } catch (...) {  // no memory for the closing description: the closed event still goes out
  }
  events_->emit(TopologyClosedEvent{});
}

void Topology::close_pools() noexcept {
  std::vector<std::shared_ptr<ConnectionPool>> pools;
  {
    std::unique_lock lock(mutex_, std::defer_lock);
    if (!lock_unless_inherited(lock, fork_generation_)) return;  // see close()
    for (const auto& [address, server] : servers_) {
      try {
        pools.push_back(server.pool);
      } catch (...) {  // no memory: that pool is closed with the topology instead
      }
    }
  }
  for (auto& pool : pools) pool->close();
}

// ---- updates ----------------------------------------------------------------------------------

void Topology::apply(ServerDescription description, bool from_monitor) {
  Changes changes;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    const HostAndPort address = description.address;
    const bool failed = !description.is_known() && !description.error.empty();
    if (!apply_locked(std::move(description), changes)) return;  // stale or no longer a member
    if (from_monitor && failed) {
      // The monitor's connection broke: the pool's connections likely did too.
      if (auto it = servers_.find(address); it != servers_.end())
        changes.to_clear = it->second.pool;
    }
  }
  finish(changes);
}

bool Topology::apply_locked(ServerDescription description, Changes& changes) {
  auto next = std::make_shared<TopologyDescription>(*description_);
  const HostAndPort address = description.address;
  if (!next->apply(std::move(description))) return false;
  changes.previous = description_;
  changes.subject = address;
  publish_locked(std::move(next), changes);
  return true;
}

void Topology::publish_locked(std::shared_ptr<const TopologyDescription> next, Changes& changes) {
  changes.turn = turns_.take();
  changes.current = next;
  if (changes.previous != next) {
    changes.description_changed = !same_description(*changes.previous, *next);
    // Only the server the update is about: other servers the rules touched on the way (a
    // member marked PossiblePrimary) show in the topology's change, not in events of their own,
    // as the spec's monitoring tests have it.
    if (changes.subject) {
      const ServerDescription* before = changes.previous->find(*changes.subject);
      const ServerDescription* after = next->find(*changes.subject);
      if (before && after && !(*before == *after)) {
        changes.changed_servers.push_back(*changes.subject);
      }
    }
  }
  description_ = std::move(next);
  // Start a server for every address the description has, stop those it lost.
  for (const auto& [address, sd] : description_->servers()) {
    if (servers_.count(address)) continue;
    Server server;
    server.pool = ConnectionPool::create(address, pool_options_, /*announce=*/false);
    changes.created.push_back(server.pool);
    if (pool_maintainer_) pool_maintainer_->add(server.pool);
    server.pool->set_establishment_error_handler(
        [weak = self_, address](std::uint64_t generation, const std::exception& e) {
          if (auto topology = weak.lock()) {
            topology->handle_application_error(establishment_error(address, generation, e));
          }
        });
    std::shared_ptr<MonitorListener> alias(self_.lock(), listener_.get());
    server.monitor = std::make_unique<Monitor>(
        address, checkers_(address), std::weak_ptr<MonitorListener>(alias), monitor_options_,
        rtt_checkers_ ? rtt_checkers_(address) : nullptr);
    changes.to_open.push_back(server.monitor.get());
    changes.opened.push_back(address);
    servers_.emplace(address, std::move(server));
  }
  // CMAP: a server's pool is ready once the server is known (a check succeeded).
  for (const auto& [address, sd] : description_->servers()) {
    if (!sd.is_known()) continue;
    auto it = servers_.find(address);
    if (it != servers_.end() && it->second.pool->ready_later()) {
      try {
        changes.readied.push_back(it->second.pool);
      } catch (...) {  // no memory: the pool is ready, only its event is lost
      }
    }
  }
  for (auto it = servers_.begin(); it != servers_.end();) {
    if (description_->find(it->first)) {
      ++it;
      continue;
    }
    changes.removed.emplace_back(it->first, std::move(it->second));
    it = servers_.erase(it);
  }
  changed_.notify_all();
  changes.woken = waiters_.take();  // woken by finish(), unlocked
}

void Topology::finish(Changes& changes) noexcept {
  // First: a wake only posts to the waiter's executor, and need not wait for the events' turn.
  SelectionWaiters::wake_all(changes.woken);
  if (changes.to_clear) changes.to_clear->clear();
  for (auto& pool : changes.created) pool->publish_created();
  changes.cleared.publish();
  for (auto& pool : changes.readied) pool->publish_ready();
  // The SDAM spec's order: each server's change, the servers removed (closed), the topology's
  // change, then the servers added; and changes one after the other, in the order processed.
  turns_.wait(changes.turn);
  if (changes.opening) events_->emit(TopologyOpeningEvent{});
  for (const auto& address : changes.changed_servers) {
    events_->emit(ServerDescriptionChangedEvent{address, *changes.previous->find(address),
                                                *changes.current->find(address)});
  }
  // Closing is lock-free and interrupts a check in progress; the threads are joined below,
  // after the events, so that no event waits for a monitor to end.
  for (auto& [address, server] : changes.removed) {
    server.monitor->close();
    server.pool->close();
    events_->emit(ServerClosedEvent{address});
  }
  if (changes.description_changed) {
    events_->emit(TopologyDescriptionChangedEvent{*changes.previous, *changes.current});
  }
  for (const auto& address : changes.opened) events_->emit(ServerOpeningEvent{address});
  turns_.done(changes.turn);
  // The monitors to open are owned by servers_; close() or a later update may have removed
  // (and destroyed) one since we unlocked, so look each up again under the lock.
  if (!changes.to_open.empty()) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < changes.to_open.size(); ++i) {
      auto it = servers_.find(changes.opened[i]);
      if (it == servers_.end() || it->second.monitor.get() != changes.to_open[i]) continue;
      try {
        it->second.monitor->open();
      } catch (const std::exception& e) {
        log::emit(log::component::topology, log::Level::error,
                  "cannot start the monitor of " + it->first.to_string() + ": " + e.what());
      }
    }
  }
  for (auto& [address, server] : changes.removed) {
    server.monitor.reset();  // joins a closed monitor (never this thread's own)
  }
}

void Topology::handle_application_error(const ApplicationError& error) {
  if (error.kind == ApplicationErrorKind::kIgnored) return;
  Changes changes;
  {
    // One critical section for the judgement, the pool's clear and the Unknown (the spec: the
    // clear "MUST be synchronized with the update to the corresponding ServerDescription"): a
    // monitor's result cannot land between them and then be overwritten by a stale Unknown.
    // The pool's lock nests inside ours; the pool never calls up while it holds its own.
    std::lock_guard lock(mutex_);
    if (closed_) return;
    auto it = servers_.find(error.address);
    if (it == servers_.end()) return;  // no longer a member
    const std::shared_ptr<ConnectionPool> pool = it->second.pool;
    const ErrorResponse response =
        respond_to_application_error(error, *description_, pool->generation());
    if (!response.mark_unknown) return;
    if (response.clear_pool) {
      changes.cleared = pool->clear_later(error.pool_generation, false);
      if (!changes.cleared) return;
    }
    // Unknown first, then the check: the other order could let the check's fresh result land
    // before the Unknown, leaving the server Unknown until the next heartbeat.
    if (!apply_locked(
            ServerDescription::from_error(error.address, error.message, response.topology_version),
            changes)) {
      return;
    }
    if (auto again = servers_.find(error.address); again != servers_.end()) {
      if (response.cancel_check) again->second.monitor->cancel_check();
      if (response.request_check) again->second.monitor->request_check();
    }
  }
  finish(changes);
}

void Topology::install_description(TopologyDescription description) {
  Changes changes;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    changes.previous = description_;
    publish_locked(std::make_shared<const TopologyDescription>(std::move(description)), changes);
  }
  finish(changes);
}

void Topology::apply_check_result(ServerDescription description) {
  apply(std::move(description), /*from_monitor=*/true);
}

// ---- reading and selecting --------------------------------------------------------------------

std::shared_ptr<const TopologyDescription> Topology::description() const {
  std::lock_guard lock(mutex_);
  return description_;
}

std::shared_ptr<ConnectionPool> Topology::pool(const HostAndPort& address) const {
  std::lock_guard lock(mutex_);
  auto it = servers_.find(address);
  return it == servers_.end() ? nullptr : it->second.pool;
}

void Topology::request_checks() const noexcept {
  std::lock_guard lock(mutex_);
  request_checks_locked();
}

void Topology::request_checks_locked() const noexcept {
  for (const auto& [address, server] : servers_) server.monitor->request_check();
}

SelectedServer Topology::select_server(const ReadPreference& read_preference,
                                       std::span<const HostAndPort> deprioritized) {
  return select(OperationKind::kRead, read_preference, to_string(read_preference.mode),
                deprioritized);
}

SelectedServer Topology::select_server_for_writes(std::span<const HostAndPort> deprioritized) {
  return select(OperationKind::kWrite, ReadPreference{}, "writes", deprioritized);
}

SelectedServer Topology::select(OperationKind kind, const ReadPreference& read_preference,
                                std::string_view what, std::span<const HostAndPort> deprioritized) {
  const auto deadline = std::chrono::steady_clock::now() + uri_.server_selection_timeout;
  std::unique_lock lock(mutex_);
  ensure_open(lock);
  for (;;) {
    std::shared_ptr<const TopologyDescription> snapshot;
    if (auto selected = attempt_locked(lock, kind, read_preference, deprioritized, snapshot)) {
      return std::move(*selected);
    }
    // Ask each monitor for a check (each rate-limits itself), then wait for a new snapshot.
    request_checks_locked();
    if (!changed_.wait_until(lock, deadline, [&] { return description_ != snapshot || closed_; })) {
      throw selection_timeout(*snapshot, what);
    }
  }
}

void Topology::ensure_open(std::unique_lock<std::mutex>& lock) {
  if (opened_) return;
  lock.unlock();
  open();
  lock.lock();
}

std::optional<SelectedServer> Topology::attempt_locked(
    std::unique_lock<std::mutex>& lock, OperationKind kind, const ReadPreference& read_preference,
    std::span<const HostAndPort> deprioritized, std::shared_ptr<const TopologyDescription>& tried) {
  thread_local std::mt19937_64 random(std::random_device{}());
  // Called for at most two servers per attempt, while selection runs unlocked: the pool is
  // looked up under the lock, its count read outside it.
  const OperationCount operation_count = [this](const HostAndPort& address) -> std::uint64_t {
    std::shared_ptr<ConnectionPool> pool;
    {
      std::lock_guard guard(mutex_);
      if (auto it = servers_.find(address); it != servers_.end()) pool = it->second.pool;
    }
    return pool ? pool->operation_count() : 0;
  };
  for (;;) {
    if (closed_) throw Error(errc::client_closed, "the topology is closed");
    auto snapshot = description_;
    lock.unlock();  // selection reads only the immutable snapshot
    const ServerDescription* chosen = mongoslice::select_server(
        *snapshot, kind, read_preference, random, operation_count, deprioritized);
    lock.lock();
    if (chosen) {
      if (auto it = servers_.find(chosen->address); it != servers_.end()) {
        return SelectedServer{chosen->address,
                              it->second.pool,
                              chosen->type,
                              snapshot->type(),
                              it->second.pool->begin_operation(),
                              snapshot->logical_session_timeout_minutes()};
      }
    }
    if (description_ != snapshot) continue;  // changed while we looked: look again
    tried = std::move(snapshot);
    return std::nullopt;
  }
}

Error Topology::selection_timeout(const TopologyDescription& snapshot,
                                  std::string_view what) const {
  return Error(errc::server_selection_timeout, selection_failure(snapshot, what));
}

std::string Topology::selection_failure(const TopologyDescription& snapshot,
                                        std::string_view what) const {
  std::string message = "no suitable server for " + std::string(what) + " within " +
                        std::to_string(uri_.server_selection_timeout.count()) +
                        " ms (serverSelectionTimeoutMS); topology " +
                        std::string(to_string(snapshot.type())) + ":";
  const char* separator = " ";
  for (const auto& [address, server] : snapshot.servers()) {
    message += separator + address.to_string() + " " + std::string(to_string(server.type));
    if (!server.error.empty()) message += " (" + server.error + ")";
    separator = "; ";
  }
  if (snapshot.servers().empty()) message += " no servers";
  // Seeds (or members) the SDAM rules dropped: without them a seed list that named only the
  // wrong servers would end in "no servers" and nothing else.
  separator = "; removed from the topology: ";
  for (const RemovedServer& removed : snapshot.removed()) {
    message += separator + removed.address.to_string() + " (" + removed.reason + ")";
    separator = "; ";
  }
  return message;
}

}  // namespace mongoslice
