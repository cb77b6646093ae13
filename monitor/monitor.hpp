#pragma once
// Monitor: keeps one server's description up to date (the Server Monitoring spec, polling and
// streaming protocols). It runs on its own PeriodicExecutor: a check through a ServerChecker,
// RTT folded into an RttTracker, and the resulting ServerDescription handed to a MonitorListener
// (the driver's Topology).
//
// Polling: a hello every heartbeatFrequencyMS. Streaming (the checker decides, from the replies:
// ServerChecker::next_check_awaited): once the server gave a topologyVersion, each check waits
// for the server's next announcement (an awaitable hello, or a reply the server streams), and
// the next check starts as soon as one is published, without sleeping; the thread still never
// polls: it is blocked in a read the server or close() ends. Awaited checks are marked so in the
// heartbeat callbacks and are no RTT samples (the server chose when to answer): given an RTT
// checker, the monitor opens an RttMonitor (monitor/rtt_monitor.hpp) on its own connection when
// streaming first begins, and the descriptions carry the RTT both feed (SharedRtt).
//
// Ownership (DESIGN.md invariant 4): the monitor holds its listener only as a weak_ptr and
// holds it strongly only during a callback, never during a check. So dropping the topology
// while a check blocks destroys it at once (the destructor closes the monitors), and once the
// listener is gone the monitor's target returns false and its thread ends.
//
// A failed check (a network error, a timeout, an ok: 0 reply, which the checker throws as a
// ServerError, or any other exception): the checker's connection is reset, a failed heartbeat
// and the server Unknown with the error are reported (the topology clears the server's pool on
// that). Only after a network error (errc::network_error, connection_closed or timeout: the
// spec's "network error (including a network timeout)"; not a command error; also
// errc::interrupted without close(), a cancel_check() break, see run_check), and only when the
// server was known before, is it checked again at once (once), then the normal interval
// resumes: the spec's "If this was a network error and the server was in a known state before
// the error, the client MUST NOT sleep".
//
// request_check(): the spec says "if a check is in progress, ignore the request" (so, while
// streaming, where a check is nearly always in progress, it does nothing). We do: a
// request during a check is dropped (the check in progress will publish a fresh description
// anyway, which is what the requester waits for). Otherwise the monitor wakes, but never sooner
// than minHeartbeatFrequencyMS (500 ms) after the previous check started.
//
// close() ends a check at once, an awaited one included (its read is interrupted by the
// checker: the socket is shut down from the closing thread), and the thread then ends.
//
// Thread-safety: request_check and close are noexcept and lock-free, callable from any thread,
// from a listener callback and from destructors. open/join from the owner.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string_view>

#include "monitor/periodic_executor.hpp"
#include "monitor/rtt.hpp"
#include "monitor/rtt_monitor.hpp"
#include "monitor/server_checker.hpp"
#include "monitor/server_description.hpp"
#include "wire/address.hpp"

namespace mongoslice {

// Receives a monitor's results, on the monitor's thread. Implementations must not call the
// monitor's owner-only functions (join, destructor) of that same monitor from here.
class MonitorListener {
 public:
  virtual ~MonitorListener() = default;
  // `awaited`: the check is one of the streaming protocol (see above).
  virtual void on_heartbeat_started(const HostAndPort& address, bool awaited) = 0;
  virtual void on_heartbeat_succeeded(const HostAndPort& address, std::chrono::nanoseconds duration,
                                      bson::View reply, bool awaited) = 0;
  virtual void on_heartbeat_failed(const HostAndPort& address, std::chrono::nanoseconds duration,
                                   std::string_view error, bool awaited) = 0;
  // The server's new description (after every check, changed or not).
  virtual void on_server_description(ServerDescription description) = 0;
};

struct MonitorOptions {
  std::chrono::milliseconds heartbeat_frequency{10'000};  // heartbeatFrequencyMS
  // The spec's minHeartbeatFrequencyMS (500 ms, not configurable by users); tests shorten it.
  std::chrono::milliseconds min_heartbeat_frequency{500};
};

class Monitor {
 public:
  // `rtt_checker`: what the RttMonitor checks through once the server streams (none: no RTT
  // monitor; a streaming server's RTT is then its monitoring handshake's).
  Monitor(HostAndPort address, std::unique_ptr<ServerChecker> checker,
          std::weak_ptr<MonitorListener> listener, MonitorOptions options = {},
          std::unique_ptr<ServerChecker> rtt_checker = nullptr);
  // Closes, then joins the thread (the executor detaches instead when this runs on the
  // monitor's own thread, e.g. when the topology's last reference drops in a callback).
  ~Monitor();
  Monitor(const Monitor&) = delete;
  Monitor& operator=(const Monitor&) = delete;

  // Starts the thread; the first check runs at once. Throws std::system_error without a thread.
  void open();
  // Stops for good: closes the executor and interrupts the check in progress, so the thread
  // ends at once; the same for the RTT monitor. noexcept, lock-free.
  void close() noexcept;
  // Asks for a check soon (see above). noexcept, lock-free.
  void request_check() noexcept;
  // The server-monitoring spec's check cancellation, after an operation's network error marked
  // the server Unknown: a check in progress is dropped when it returns (its result is not
  // published; a failed heartbeat says why) and the monitoring connection is closed, so the
  // next check connects afresh. The check's connection is shut down at once (a streaming
  // check may otherwise wait maxAwaitTimeMS for the server), when the checker has one to break
  // (ServerChecker::cancel_check). noexcept, lock-free, from any thread.
  void cancel_check() noexcept;
  // Waits at most `timeout` (each) for the thread and the RTT monitor's to end; true when they
  // have.
  bool join(std::chrono::milliseconds timeout) {
    const bool ended = executor_.join(timeout);
    return (!rtt_monitor_ || rtt_monitor_->join(timeout)) && ended;
  }
  bool is_running() const noexcept { return executor_.is_running(); }
  bool rtt_monitor_running() const noexcept { return rtt_monitor_ && rtt_monitor_->is_running(); }

  const HostAndPort& address() const noexcept { return state_->address; }

 private:
  // Everything the thread uses. The executor's target co-owns it, so a Monitor destroyed on its
  // own thread (inside a callback) leaves the running target with valid state.
  struct State {
    HostAndPort address;
    std::unique_ptr<ServerChecker> checker;
    std::weak_ptr<MonitorListener> listener;
    std::shared_ptr<SharedRtt> rtt = std::make_shared<SharedRtt>();  // shared with rtt_monitor
    RttMonitor* rtt_monitor = nullptr;      // valid while !closed (as executor); null: none
    bool rtt_started = false;               // monitor thread only
    bool previous_known = false;            // monitor thread only
    std::atomic<bool> checking{false};      // a check is in progress
    std::atomic<std::uint64_t> cancels{0};  // cancel_check() calls
    std::uint64_t seen_cancels = 0;         // monitor thread only
    std::atomic<bool> closed{false};
    PeriodicExecutor* executor = nullptr;  // valid while !closed (see run_check)
  };

  // One check and its reports; false stops the executor.
  static bool run_check(State& state);
  static void start_rtt_monitor(State& state);

  std::shared_ptr<State> state_;
  // Before executor_: destroyed after it, so the monitor thread (joined by executor_'s
  // destructor) never sees it gone.
  std::unique_ptr<RttMonitor> rtt_monitor_;
  PeriodicExecutor executor_;
};

}  // namespace mongoslice
