#include "monitor/rtt_monitor.hpp"

#include <exception>
#include <string>
#include <utility>

#include "wire/log.hpp"

namespace mongoslice {

RttMonitor::RttMonitor(HostAndPort address, std::unique_ptr<ServerChecker> checker,
                       std::shared_ptr<SharedRtt> rtt, std::chrono::milliseconds interval)
    : state_(std::make_shared<State>()),
      // "rtt:host:port" in top -H (the kernel keeps 15 characters).
      executor_("rtt:" + address.to_string(), interval, interval,
                [state = state_] { return run_check(*state); }) {
  state_->checker = std::move(checker);
  state_->rtt = std::move(rtt);
  executor_.set_interrupt_hook([state = state_]() noexcept {
    state->closed.store(true);
    state->checker->interrupt();  // sticky: every later check fails at once
  });
}

RttMonitor::~RttMonitor() {
  close();
}

void RttMonitor::open() {
  executor_.open();
  // A close() that came first (or meanwhile) has set `closed` before interrupting, so either it
  // interrupted after this open() or this load sees it.
  if (state_->closed.load()) executor_.interrupt();
}

void RttMonitor::close() noexcept {
  state_->closed.store(true);
  executor_.interrupt();
}

bool RttMonitor::run_check(State& state) {
  if (state.closed.load()) return false;
  try {
    CheckResult result = state.checker->check();
    if (state.closed.load()) return false;
    state.rtt->add_sample(result.round_trip);
  } catch (const std::exception& e) {
    if (state.closed.load()) return false;
    state.checker->reset();
    if (log::enabled(log::component::monitor)) {
      log::emit(log::component::monitor, log::Level::debug,
                std::string("RTT check failed: ") + e.what());
    }
  }
  return !state.closed.load();
}

}  // namespace mongoslice
