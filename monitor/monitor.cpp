#include "monitor/monitor.hpp"

#include <exception>
#include <string>
#include <utility>

#include "wire/error.hpp"
#include "wire/log.hpp"

namespace mongoslice {

namespace {

std::string thread_name(const HostAndPort& address) {
  // Threads show up as "mon:host:port" in top -H (the kernel keeps 15 characters).
  return "mon:" + address.to_string();
}

// The errors the spec's immediate retry is for: "a network error (including a network
// timeout)" on a server that was known, which a glitch or a restart since the last check
// explains ("retry hello calls once"). An ok: 0 reply (a ServerError) is the server's own answer;
// it, like any other failure, waits for the next heartbeat.
bool is_network_error(const Error& error) noexcept {
  return error.code() == errc::network_error || error.code() == errc::connection_closed ||
         error.code() == errc::timeout;
}

}  // namespace

Monitor::Monitor(HostAndPort address, std::unique_ptr<ServerChecker> checker,
                 std::weak_ptr<MonitorListener> listener, MonitorOptions options,
                 std::unique_ptr<ServerChecker> rtt_checker)
    : state_(std::make_shared<State>()),
      executor_(thread_name(address), options.heartbeat_frequency, options.min_heartbeat_frequency,
                [state = state_] { return run_check(*state); }) {
  state_->address = std::move(address);
  state_->checker = std::move(checker);
  state_->listener = std::move(listener);
  state_->executor = &executor_;
  if (rtt_checker) {
    rtt_monitor_ = std::make_unique<RttMonitor>(state_->address, std::move(rtt_checker),
                                                state_->rtt, options.heartbeat_frequency);
    state_->rtt_monitor = rtt_monitor_.get();
  }
  // The exit handler (and interrupt()) break a check blocked in connect or read. The hook
  // co-owns the state, which lives as long as the executor's own state (its target holds it).
  executor_.set_interrupt_hook([state = state_]() noexcept {
    state->closed.store(true);
    state->checker->interrupt();
  });
}

Monitor::~Monitor() {
  close();
}

void Monitor::open() {
  executor_.open();
}

void Monitor::close() noexcept {
  executor_.interrupt();  // close, then the hook above
  if (rtt_monitor_) rtt_monitor_->close();
}

void Monitor::start_rtt_monitor(State& state) {
  if (!state.rtt_monitor || state.rtt_started) return;
  state.rtt_started = true;
  try {
    state.rtt_monitor->open();  // a close() racing with it wins (see RttMonitor::open)
  } catch (const std::exception& e) {
    // No thread: the RTT stays what the monitor's own handshakes measure.
    log::emit(log::component::monitor, log::Level::warning,
              "cannot start the RTT monitor of " + state.address.to_string() + ": " + e.what());
  }
}

void Monitor::request_check() noexcept {
  if (state_->checking.load()) return;  // the spec: ignore a request during a check
  executor_.wake();
}

void Monitor::cancel_check() noexcept {
  // Counted first: the check the break ends then finds the count changed and is dropped as
  // cancelled, not reported as an interrupted check.
  state_->cancels.fetch_add(1);
  state_->checker->cancel_check();
}

bool Monitor::run_check(State& state) {
  if (state.closed.load()) return false;
  // Asked before any reset below: a cancelled connection's next check is a handshake, not
  // awaited, and the checker says so once it has dropped the connection.
  if (const auto cancels = state.cancels.load(); cancels != state.seen_cancels) {
    state.seen_cancels = cancels;
    state.checker->reset();
  }
  const bool awaited = state.checker->next_check_awaited();
  {
    auto listener = state.listener.lock();
    if (!listener) return false;  // the topology is gone
    listener->on_heartbeat_started(state.address, awaited);
  }  // never hold the topology during the check: dropping it must not wait for the network

  state.checking.store(true);
  const auto started = std::chrono::steady_clock::now();
  std::optional<CheckResult> result;
  std::string error;
  bool network_error = false;
  try {
    result = state.checker->check();
  } catch (const Error& e) {
    error = e.what();
    // interrupted without close(): a cancel_check() whose break reached this check after the
    // check had taken the cancel's count (the count and the break are two steps). It counts as
    // a network error for the retry rule below, which also needs the server to have been known.
    network_error = is_network_error(e) || e.code() == errc::interrupted;
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown error";
  }
  const auto duration = std::chrono::steady_clock::now() - started;
  state.checking.store(false);
  if (state.closed.load()) return false;  // interrupted by close(): report nothing

  const bool was_known = state.previous_known;
  bool cancelled = false;
  {
    auto listener = state.listener.lock();
    if (!listener) return false;
    if (const auto cancels = state.cancels.load(); cancels != state.seen_cancels) {
      // Cancelled while it ran: its reply may predate the failure an operation saw, so it must
      // not overwrite the Unknown. Dropped, with its connection.
      state.seen_cancels = cancels;
      state.checker->reset();
      state.rtt->reset();
      state.previous_known = false;
      listener->on_heartbeat_failed(state.address, duration,
                                    "check cancelled: an operation on this server failed", awaited);
      cancelled = true;
    } else if (result) {
      // The server held an awaited reply as long as it liked: no measure of the network.
      if (!result->awaited) state.rtt->add_sample(result->round_trip);
      listener->on_heartbeat_succeeded(state.address, duration, result->reply.view(), awaited);
      const auto rtt = state.rtt->snapshot();
      auto description =
          ServerDescription::from_hello(state.address, result->reply.view(), rtt.average, rtt.min);
      state.previous_known = description.is_known();
      listener->on_server_description(std::move(description));
    } else {
      state.checker->reset();
      state.rtt->reset();
      state.previous_known = false;
      if (log::enabled(log::component::monitor)) {
        log::emit(log::component::monitor, log::Level::info,
                  "check of " + state.address.to_string() + " failed: " + error);
      }
      listener->on_heartbeat_failed(state.address, duration, error, awaited);
      listener->on_server_description(ServerDescription::from_error(state.address, error));
    }
  }  // the last reference may drop here: ~Topology then runs on this thread and closes us

  // A listener may have closed this monitor (and destroyed the Monitor object) meanwhile; the
  // executor pointer is valid only while not closed (see State).
  if (state.closed.load()) return false;
  if (cancelled) {
    // An operation's network error marked the server Unknown and broke this check; the
    // selections now waiting asked for a check while this one ran, and those requests were
    // ignored (the spec's rule). So, as after a network error of our own on a known server, the
    // next check starts at once, on a new connection, instead of a heartbeat later.
    if (was_known) state.executor->skip_sleep();
    return true;
  }
  if (!result && network_error && was_known) state.executor->skip_sleep();  // retry once, at once
  // Streaming: the next check waits for the server, not for the heartbeat. (After a failure the
  // checker has dropped its connection, so this is false and the rules above apply.)
  if (result && state.checker->next_check_awaited()) {
    start_rtt_monitor(state);
    state.executor->skip_sleep();
  }
  return true;
}

}  // namespace mongoslice
