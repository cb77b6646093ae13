#pragma once
// The SRV poller of a mongodb+srv:// client (the polling-SRV spec): one more PeriodicExecutor,
// owned by the Topology and closed and joined with its monitors, that looks up the SRV records
// again every rescanSRVIntervalMS and hands the hosts found to the topology, which adds and
// removes servers (TopologyDescription::apply_srv_hosts). A lookup that fails or finds nothing
// changes nothing and is retried after heartbeatFrequencyMS instead. The poller stops for good
// once the topology is neither Unknown nor Sharded (a replica set is discovered through its
// members, not DNS).
//
// Its lookups are bounded by connectTimeoutMS (when it is not 0: then by c-ares's own retries)
// and interruptible: close() ends one in progress at once (the lookup's wake-up socket is shut
// down, DnsResolver's InterruptSlot). The hooks may destroy the poller (a listener closing the
// client on the poller's thread): poll() touches nothing of it after handing hosts over.

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "driver/connection_string.hpp"
#include "monitor/periodic_executor.hpp"
#include "net/dns_resolver.hpp"
#include "wire/address.hpp"

namespace mongoslice {

class SrvPoller {
 public:
  struct Hooks {
    // Whether the topology still follows DNS (its type is Unknown or Sharded).
    std::function<bool()> wanted;
    // Hands over the hosts of a successful lookup (not empty).
    std::function<void(std::vector<HostAndPort>)> apply;
  };

  SrvPoller(ConnectionString uri, DnsOptions dns, std::chrono::milliseconds rescan_interval,
            Hooks hooks);
  ~SrvPoller();
  SrvPoller(const SrvPoller&) = delete;
  SrvPoller& operator=(const SrvPoller&) = delete;

  // Starts the executor; the first lookup is one rescan interval after the initial seedlist's.
  void open();
  // Ends the executor (and a lookup in progress) at once; the destructor joins it.
  void close() noexcept;
  bool join(std::chrono::milliseconds timeout) { return executor_.join(timeout); }

  // How many lookups have run (tests).
  std::uint64_t lookups() const noexcept { return executor_.runs(); }

 private:
  bool poll();

  ConnectionString uri_;
  DnsResolver resolver_;
  std::chrono::milliseconds rescan_interval_;
  Hooks hooks_;
  // Shared with the interrupt hook, which may run while the poller is being destroyed.
  std::shared_ptr<InterruptSlot> interrupt_ = std::make_shared<InterruptSlot>();
  bool first_run_ = true;
  PeriodicExecutor executor_;
};

}  // namespace mongoslice
