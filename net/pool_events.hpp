#pragma once
// What a connection pool tells its listener (the CMAP spec's events), kept in net/ so that the
// pools need nothing from driver/: the driver turns these into the user-facing events of
// driver/events.hpp (pool_event_listener_for in driver/events.cpp).
//
// A pool calls its listener synchronously on the thread where the event happens (the acquiring
// thread, the thread returning a lease, the one calling clear(), ready() or close()), never
// while it holds its own mutex.

#include <chrono>
#include <cstdint>

#include "wire/address.hpp"

namespace mongoslice {

struct PoolOptions;

enum class PoolEventKind {
  kPoolCreated,
  kPoolReady,
  kPoolCleared,
  kPoolClosed,
  kConnectionCreated,
  kConnectionReady,
  kConnectionClosed,
  kCheckOutStarted,
  kCheckOutFailed,
  kCheckedOut,
  kCheckedIn,
};

// Why a connection was closed: made before a clear(), idle past maxIdleTimeMS, broken (or
// discarded after an error, or its establishment failed), or its pool was closed.
enum class ConnectionClosedReason { kStale, kIdle, kError, kPoolClosed };
// Why a checkout failed: no connection in time, the pool is paused (cleared) or a new connection
// could not be established, or the pool was closed.
enum class CheckOutFailedReason { kTimeout, kConnectionError, kPoolClosed };

struct PoolEvent {
  PoolEventKind kind;
  const HostAndPort& address;
  const PoolOptions& options;       // the pool's options (PoolCreated reports them)
  std::uint64_t connection_id = 0;  // the connection events', checked out and in: 1, 2, ...
  // ConnectionReady: since ConnectionCreated; CheckedOut and CheckOutFailed: since the checkout
  // started.
  std::chrono::nanoseconds duration{0};
  ConnectionClosedReason closed_reason = ConnectionClosedReason::kError;
  CheckOutFailedReason failed_reason = CheckOutFailedReason::kConnectionError;
  bool interrupt_in_use_connections = false;  // PoolCleared
};

class PoolEventListener {
 public:
  virtual ~PoolEventListener() = default;
  // Must not throw: a pool calls it from noexcept paths (returning a lease, clear(), close()).
  virtual void on_pool_event(const PoolEvent& event) noexcept = 0;
};

const char* to_string(PoolEventKind kind) noexcept;
const char* to_string(ConnectionClosedReason reason) noexcept;
const char* to_string(CheckOutFailedReason reason) noexcept;

}  // namespace mongoslice
