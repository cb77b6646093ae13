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
// Kill-cursors: the executor runs every killCursorsIntervalMS, and the first cursor pushed onto
// an empty queue wakes it (KillWakeSignal, lock-free), so a kill leaves within milliseconds
// while a burst of abandoned cursors still shares a command (the executor's min_interval). Each
// killCursors round trip is bounded by min(socketTimeoutMS, 10 s).
//
// close() (MongoClient's destructor calls it): stop the kill-cursors executor, send the kills
// still queued (each bounded as above), then close the topology (monitors, pools). Afterwards
// every operation throws Error(errc::client_closed). See driver/mongo_client.hpp for what
// happens to cursors that outlive the client.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>

#include "cursor/cursor.hpp"
#include "cursor/kill_cursors_task.hpp"
#include "cursor/kill_queue.hpp"
#include "driver/client_options.hpp"
#include "driver/connection_string.hpp"
#include "driver/deadline.hpp"
#include "driver/events.hpp"
#include "driver/topology.hpp"
#include "monitor/periodic_executor.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice {

class KillWakeSignal;
class ServerCursorChannel;

// The connection a kill-cursors round trip is using right now, so that close() can interrupt
// it (DESIGN.md invariant 2: the owner interrupts blocking I/O next to executor.close()).
class InFlightConnection {
 public:
  void set(Connection* connection) noexcept;
  void clear() noexcept { set(nullptr); }
  void interrupt() noexcept;

 private:
  std::mutex mutex_;
  Connection* connection_ = nullptr;
};

class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  // The longest a killCursors round trip may take, whatever socketTimeoutMS says.
  static constexpr std::chrono::milliseconds kMaxKillTimeout{10'000};
  // Kills woken early are never closer together than this, so a burst of abandoned cursors
  // shares one killCursors command instead of one each.
  static constexpr std::chrono::milliseconds kKillMinInterval{2};

  // Creates the topology and starts it and the kill-cursors executor.
  static std::shared_ptr<ClientCore> create(ConnectionString uri, ClientOptions options);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  // Idempotent; see above. Never throws.
  void close() noexcept;
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  const ConnectionString& uri() const noexcept { return uri_; }
  const EventDispatcher& events() const noexcept { return *events_; }
  const std::shared_ptr<KillQueue>& kill_queue() const noexcept { return kill_queue_; }

  // Selects a server (primary read preference / writable) and runs the command there. Throws
  // Error(errc::client_closed) after close().
  struct Ran {
    bson::Document reply;
    HostAndPort server;
  };
  Ran run_read(std::string_view db, bson::View command);
  Ran run_write(std::string_view db, bson::View command,
                std::span<const wire::DocumentSequence> sequences = {});

  // Runs the command on `server` (cursor commands go to the cursor's own server). Throws
  // Error(errc::network_error) when the topology no longer knows the server.
  bson::Document run_on(const HostAndPort& server, std::string_view db, bson::View command,
                        std::span<const wire::DocumentSequence> sequences = {},
                        std::optional<Deadline> deadline = std::nullopt,
                        InFlightConnection* in_flight = nullptr);

  // A Cursor over a find/aggregate reply from `server`, wired to this client's channel and
  // kill queue.
  Cursor make_cursor(bson::Document first_reply, CursorOptions options, const HostAndPort& server);

  // The deadline of one killCursors round trip: min(socketTimeoutMS, kMaxKillTimeout).
  Deadline kill_deadline() const;
  // One run of the kill-cursors task (the executor's target; close() runs a last one).
  KillCursorsTaskResult run_kill_cursors();

  // For tests: the executor that sends killCursors.
  PeriodicExecutor& kill_cursors_executor() noexcept { return *kill_executor_; }

 private:
  ClientCore(ConnectionString uri, ClientOptions options);
  void start();
  void check_open() const;
  bson::Document run_with_pool(const HostAndPort& server, ConnectionPool& pool, std::string_view db,
                               bson::View command,
                               std::span<const wire::DocumentSequence> sequences,
                               std::optional<Deadline> deadline, InFlightConnection* in_flight);

  ConnectionString uri_;
  std::shared_ptr<const EventDispatcher> events_;
  std::shared_ptr<Topology> topology_;
  std::shared_ptr<KillWakeSignal> wake_signal_;
  std::shared_ptr<KillQueue> kill_queue_;
  std::unique_ptr<PeriodicExecutor> kill_executor_;
  InFlightConnection kill_in_flight_;
  // One cursor channel per server, shared by that server's cursors: a cursor's destructor then
  // only drops a reference (never the last), instead of freeing a channel of its own.
  std::mutex channels_mutex_;
  std::map<HostAndPort, std::shared_ptr<ServerCursorChannel>> channels_;
  std::atomic<bool> closed_{false};
  std::once_flag close_once_;
};

}  // namespace mongoslice
