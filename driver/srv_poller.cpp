#include "driver/srv_poller.hpp"

#include <string>
#include <utility>

#include "driver/seedlist.hpp"
#include "wire/error.hpp"
#include "wire/log.hpp"

namespace mongoslice {

SrvPoller::SrvPoller(ConnectionString uri, DnsOptions dns,
                     std::chrono::milliseconds rescan_interval, Hooks hooks)
    : uri_(std::move(uri)),
      resolver_(std::move(dns)),
      rescan_interval_(rescan_interval),
      hooks_(std::move(hooks)),
      executor_("mongoslice-srv", rescan_interval, std::chrono::milliseconds(0),
                [this] { return poll(); }) {
  executor_.set_interrupt_hook([slot = interrupt_]() noexcept { slot->interrupt(); });
}

SrvPoller::~SrvPoller() {
  close();
}

void SrvPoller::open() {
  executor_.open();
}

void SrvPoller::close() noexcept {
  executor_.interrupt();
}

bool SrvPoller::poll() {
  // PeriodicExecutor runs its target as soon as it opens; the client has just looked the
  // records up, so the first real lookup waits one interval.
  if (first_run_) {
    first_run_ = false;
    return true;
  }
  // Copies: apply() may end in a listener that closes the client, which destroys this poller
  // on its own thread (its executor then detaches); nothing of *this is touched after it.
  const auto wanted = hooks_.wanted;
  const auto apply = hooks_.apply;
  if (!wanted()) return false;
  const Deadline deadline =
      uri_.connect_timeout.count() > 0
          ? Deadline::after(uri_.connect_timeout, "connectTimeoutMS, an SRV rescan")
          : Deadline::none();
  std::vector<HostAndPort> hosts;
  try {
    hosts = lookup_srv_hosts(uri_, resolver_, deadline, *interrupt_);
  } catch (const std::exception& e) {
    if (const auto* error = dynamic_cast<const Error*>(&e);
        error && error->code() == make_error_code(errc::interrupted)) {
      return false;  // close()
    }
    // The spec: keep the servers known and look again sooner, after heartbeatFrequencyMS.
    log::emit(log::component::topology, log::Level::warning,
              std::string("SRV rescan failed, the servers stay as they are: ") + e.what());
    executor_.update_interval(uri_.heartbeat_frequency);
    return wanted();
  }
  executor_.update_interval(rescan_interval_);
  try {
    apply(std::move(hosts));  // *this may be gone from here on
  } catch (const std::exception& e) {
    // A monitor thread that cannot start, no memory: the next rescan tries again.
    log::emit(log::component::topology, log::Level::warning,
              std::string("SRV rescan's hosts not applied: ") + e.what());
  }
  return wanted();
}

}  // namespace mongoslice
