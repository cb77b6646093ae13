#pragma once
// What a Monitor needs from the layer above to check one server: run one hello round trip and
// say how long it took, or (the streaming protocol) wait for the server's next announcement. The
// driver implements it over a Connection (driver/connection_checker.hpp); unit tests script it.
// Keeping it an interface lets monitor/ know nothing of sockets.

#include <chrono>

#include "wire/bson.hpp"

namespace mongoslice {

struct CheckResult {
  bson::Document reply;                 // the hello reply (ok: 1; ok: 0 is thrown instead)
  std::chrono::nanoseconds round_trip;  // one hello round trip, connect time excluded
  // The reply of an awaited check (an awaitable hello, or a reply the server streamed): the
  // server chose when to send it, so round_trip is no RTT sample.
  bool awaited = false;
};

class ServerChecker {
 public:
  virtual ~ServerChecker() = default;

  // Connects and handshakes when there is no open connection, else sends hello. Returns the
  // reply; throws (any std::exception) when the check failed: the server could not be reached,
  // the connection broke or timed out (mongoslice::Error, whose code the monitor's retry rule
  // reads), or it answered ok: 0 (mongoslice::ServerError). Called from the monitor's thread
  // only.
  virtual CheckResult check() = 0;

  // Whether the next check() is an awaited one (the streaming protocol: the last reply carried
  // a topologyVersion, or the server is streaming replies). The monitor then starts it at once
  // instead of sleeping, and marks its heartbeat events awaited. From the monitor's thread.
  virtual bool next_check_awaited() const noexcept { return false; }

  // Breaks a check in progress at once and makes every later check() fail at once: the monitor
  // calls it only when it is closing for good. From any thread; noexcept and lock-free.
  virtual void interrupt() noexcept = 0;

  // Breaks the connection published now, if there is one (the check in progress, or the idle
  // connection between checks), by shutting it down, without interrupt()'s lasting effect: the
  // monitor then drops it (reset()). A call that comes late may break the next check's new
  // connection instead; that check then fails and is retried (Monitor::run_check). From any
  // thread; noexcept and lock-free. A checker without a connection to break does nothing.
  virtual void cancel_check() noexcept {}

  // Drops the connection after a failed check, so the next check() connects afresh.
  virtual void reset() noexcept = 0;
};

}  // namespace mongoslice
