#pragma once
// Events the driver publishes: command monitoring, SDAM (topology, server, heartbeat), CMAP
// (connection pools and their connections) and the kill-cursors outcome. Users subclass
// EventListener and override what they want; the client holds its listeners for its whole life.
//
// Delivery: synchronous, on the thread where the event happens (an operation's thread, a
// monitor's thread, the kill-cursors executor's thread), never while the driver holds one of
// its mutexes (CMAP events included: the pools publish after unlocking), so a listener may call
// back into the driver, client.close() included (that call returns at once; the close already under
// way finishes after the listener returns). Views and references inside an event are valid only
// during the call: copy what you keep. A listener that throws is reported in the log and otherwise
// ignored. After the client's close() returns, no listener of that client is called again.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "net/pool_events.hpp"
#include "net/pool_options.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

struct ServerDescription;
class TopologyDescription;

// ---- Command monitoring ----------------------------------------------------------------------
struct CommandStartedEvent {
  std::string_view command_name;
  std::string_view database;
  std::int32_t request_id;
  const HostAndPort& address;
  // The command as sent: the body with $db, and each OP_MSG document sequence (insert's
  // documents, update's updates, delete's deletes) as an array field of it.
  bson::View command;
};

struct CommandSucceededEvent {
  std::string_view command_name;
  std::string_view database;
  std::int32_t request_id;
  const HostAndPort& address;
  std::chrono::nanoseconds duration;
  bson::View reply;
};

struct CommandFailedEvent {
  std::string_view command_name;
  std::string_view database;
  std::int32_t request_id;
  const HostAndPort& address;
  std::chrono::nanoseconds duration;
  std::error_code code;
  std::string_view message;
};

// ---- SDAM -----------------------------------------------------------------------------------
struct TopologyOpeningEvent {};
struct TopologyClosedEvent {};
struct TopologyDescriptionChangedEvent {
  const TopologyDescription& previous;
  const TopologyDescription& current;
};
struct ServerOpeningEvent {
  const HostAndPort& address;
};
struct ServerClosedEvent {
  const HostAndPort& address;
};
struct ServerDescriptionChangedEvent {
  const HostAndPort& address;
  const ServerDescription& previous;
  const ServerDescription& current;
};
// `awaited`: the check is one of the streaming protocol (an awaitable hello, or a reply the
// server streamed), whose duration is the server's wait, not a round trip.
struct ServerHeartbeatStartedEvent {
  const HostAndPort& address;
  bool awaited = false;
};
struct ServerHeartbeatSucceededEvent {
  const HostAndPort& address;
  std::chrono::nanoseconds duration;
  bson::View reply;
  bool awaited = false;
};
struct ServerHeartbeatFailedEvent {
  const HostAndPort& address;
  std::chrono::nanoseconds duration;
  std::string_view error;
  bool awaited = false;
};

// ---- Connection pools (CMAP) ----------------------------------------------------------------
// One pool per server. Connection ids count from 1 in each pool; durations are measured from
// the connection's creation (ConnectionReady) or the checkout's start (CheckedOut,
// CheckOutFailed).
struct PoolCreatedEvent {
  const HostAndPort& address;
  const PoolOptions& options;
};
struct PoolReadyEvent {
  const HostAndPort& address;
};
struct PoolClearedEvent {
  const HostAndPort& address;
  bool interrupt_in_use_connections;
};
struct PoolClosedEvent {
  const HostAndPort& address;
};
struct ConnectionCreatedEvent {
  const HostAndPort& address;
  std::uint64_t connection_id;
};
struct ConnectionReadyEvent {
  const HostAndPort& address;
  std::uint64_t connection_id;
  std::chrono::nanoseconds duration;
};
struct ConnectionClosedEvent {
  const HostAndPort& address;
  std::uint64_t connection_id;
  ConnectionClosedReason reason;
};
struct ConnectionCheckOutStartedEvent {
  const HostAndPort& address;
};
struct ConnectionCheckOutFailedEvent {
  const HostAndPort& address;
  CheckOutFailedReason reason;
  std::chrono::nanoseconds duration;
};
struct ConnectionCheckedOutEvent {
  const HostAndPort& address;
  std::uint64_t connection_id;
  std::chrono::nanoseconds duration;
};
struct ConnectionCheckedInEvent {
  const HostAndPort& address;
  std::uint64_t connection_id;
};

// ---- Kill-cursors ---------------------------------------------------------------------------
// Cursor ids that were queued for killCursors but will not be sent (client closed, server gone
// or unreachable, or the cursor belongs to the parent of a fork()). DESIGN.md invariant 6.
struct CursorsDroppedEvent {
  const HostAndPort& address;
  std::string_view ns;
  std::span<const std::int64_t> cursor_ids;
  std::string_view reason;
};

class EventListener {
 public:
  virtual ~EventListener() = default;
  virtual void on(const CommandStartedEvent&) {}
  virtual void on(const CommandSucceededEvent&) {}
  virtual void on(const CommandFailedEvent&) {}
  virtual void on(const TopologyOpeningEvent&) {}
  virtual void on(const TopologyClosedEvent&) {}
  virtual void on(const TopologyDescriptionChangedEvent&) {}
  virtual void on(const ServerOpeningEvent&) {}
  virtual void on(const ServerClosedEvent&) {}
  virtual void on(const ServerDescriptionChangedEvent&) {}
  virtual void on(const ServerHeartbeatStartedEvent&) {}
  virtual void on(const ServerHeartbeatSucceededEvent&) {}
  virtual void on(const ServerHeartbeatFailedEvent&) {}
  virtual void on(const PoolCreatedEvent&) {}
  virtual void on(const PoolReadyEvent&) {}
  virtual void on(const PoolClearedEvent&) {}
  virtual void on(const PoolClosedEvent&) {}
  virtual void on(const ConnectionCreatedEvent&) {}
  virtual void on(const ConnectionReadyEvent&) {}
  virtual void on(const ConnectionClosedEvent&) {}
  virtual void on(const ConnectionCheckOutStartedEvent&) {}
  virtual void on(const ConnectionCheckOutFailedEvent&) {}
  virtual void on(const ConnectionCheckedOutEvent&) {}
  virtual void on(const ConnectionCheckedInEvent&) {}
  virtual void on(const CursorsDroppedEvent&) {}
};

// The client's listeners, fixed at construction (so emitting takes no lock).
class EventDispatcher {
 public:
  EventDispatcher() = default;
  // Null entries are dropped (a caller passing "no listener" as nullptr must not crash emit).
  explicit EventDispatcher(std::vector<std::shared_ptr<EventListener>> listeners)
      : listeners_(std::move(listeners)) {
    std::erase(listeners_, nullptr);
  }

  bool empty() const noexcept { return listeners_.empty(); }

  // Calls every listener; a listener's exception is logged and swallowed. Nothing after close().
  template <typename Event>
  void emit(const Event& event) const noexcept {
    if (listeners_.empty()) return;
    Delivery delivery(*this);
    if (!delivery.open()) return;
    for (const auto& listener : listeners_) {
      try {
        listener->on(event);
      } catch (const std::exception& e) {
        report_listener_error(e.what());
      } catch (...) {
        report_listener_error("unknown exception");
      }
    }
  }

  // From now on emit() calls nobody. With `wait`, returns once the calls in progress on other
  // threads have returned (a call in progress on this thread, which is calling close() from a
  // listener, is not waited for). Idempotent.
  void close(bool wait = true) const noexcept;

  // True while this thread is inside a listener call of any dispatcher.
  static bool in_listener() noexcept;

 private:
  // Counts one emit() in progress (the gate close() waits on).
  class Delivery {
   public:
    explicit Delivery(const EventDispatcher& dispatcher) noexcept;
    ~Delivery();
    bool open() const noexcept { return open_; }

   private:
    const EventDispatcher& dispatcher_;
    bool open_;
  };

  static void report_listener_error(const char* what) noexcept;
  std::vector<std::shared_ptr<EventListener>> listeners_;
  mutable std::atomic<bool> closed_{false};
  mutable std::atomic<std::uint32_t> active_{0};  // emit() calls past the gate
};

// The pools' listener (net/pool_events.hpp) that hands their events to `dispatcher`'s listeners
// as the events above; null when the dispatcher has no listener (the pools then build none).
std::shared_ptr<PoolEventListener> pool_event_listener_for(
    std::shared_ptr<const EventDispatcher> dispatcher);

}  // namespace mongoslice
