#pragma once
// RttMonitor: measures one server's round-trip time while its Monitor streams (the Server
// Monitoring spec's "Measuring RTT"). An awaited hello returns when the server chooses, so it
// says nothing of the network; this runs a plain hello every heartbeatFrequencyMS on a
// connection of its own (its own ServerChecker) and feeds each round trip into the server's
// SharedRtt, which the Monitor reads when it publishes a description.
//
// It never publishes anything itself: no description, no heartbeat event. A failed check only
// drops its connection (the next one connects afresh, the handshake's round trip being that
// check's sample); whether the server is reachable is the Monitor's business.
//
// Lifetime: the Monitor owns it, opens it from its own thread when streaming begins, and closes
// it with itself. close() is noexcept and lock-free (it interrupts the check in progress) and is
// final: an open() after it starts nothing that keeps running (see open()).

#include <atomic>
#include <chrono>
#include <memory>

#include "monitor/periodic_executor.hpp"
#include "monitor/rtt.hpp"
#include "monitor/server_checker.hpp"
#include "wire/address.hpp"

namespace mongoslice {

class RttMonitor {
 public:
  RttMonitor(HostAndPort address, std::unique_ptr<ServerChecker> checker,
             std::shared_ptr<SharedRtt> rtt, std::chrono::milliseconds interval);
  ~RttMonitor();  // closes, then joins (see PeriodicExecutor)
  RttMonitor(const RttMonitor&) = delete;
  RttMonitor& operator=(const RttMonitor&) = delete;

  // Starts the thread (the first check runs at once). From any thread, also racing close():
  // when close() has been called, before or meanwhile, the thread is interrupted and ends.
  // Throws std::system_error when no thread can be created.
  void open();
  // Stops for good, interrupting a check in progress. noexcept, lock-free.
  void close() noexcept;
  bool join(std::chrono::milliseconds timeout) { return executor_.join(timeout); }
  bool is_running() const noexcept { return executor_.is_running(); }

 private:
  struct State {
    std::unique_ptr<ServerChecker> checker;
    std::shared_ptr<SharedRtt> rtt;
    std::atomic<bool> closed{false};
  };
  static bool run_check(State& state);

  std::shared_ptr<State> state_;
  PeriodicExecutor executor_;
};

}  // namespace mongoslice
