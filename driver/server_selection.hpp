#pragma once
// Server selection (the server-selection spec), as pure functions of a TopologyDescription: which
// servers suit an operation, which of those are within the latency window, and the pick among
// them (two at random, the less busy wins). Waiting for the topology to change is the Topology's
// job; these functions never block.

#include <chrono>
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <vector>

#include "monitor/server_description.hpp"
#include "monitor/topology_description.hpp"
#include "ops/read_preference.hpp"
#include "wire/address.hpp"

namespace mongoslice {

enum class OperationKind { kRead, kWrite };

// The servers that may run the operation, before the latency window, in address order:
//   Unknown topology: none.  Single: its server, if known.  LoadBalanced: the load balancer.
//   Sharded: every mongos.  Replica set: writes go to the primary; reads follow the read
//   preference's mode, then maxStalenessSeconds (secondaries whose estimated lag is larger, or
//   cannot be estimated because a lastWriteDate is missing, are left out), then its tag sets.
// For reads, check_max_staleness() runs first and may throw.
// Deprioritized servers (those an operation's earlier attempt failed on) are left out, unless
// that leaves nothing, in which case they count again.
std::vector<const ServerDescription*> suitable_servers(
    const TopologyDescription& topology, OperationKind kind, const ReadPreference& read_preference,
    std::span<const HostAndPort> deprioritized = {});

// maxStalenessSeconds of the max-staleness and server-selection specs, for reads. Throws
// mongoslice::Error (errc::invalid_argument) when it is set with mode primary, when it is not
// positive, or, in a replica set, when it is below max(kSmallestMaxStaleness,
// heartbeatFrequencyMS + kIdleWritePeriod). Other topologies take any positive value (mongos
// judges it).
inline constexpr std::chrono::seconds kSmallestMaxStaleness{90};
inline constexpr std::chrono::milliseconds kIdleWritePeriod{10'000};
void check_max_staleness(const TopologyDescription& topology,
                         const ReadPreference& read_preference);

// The servers whose average RTT is at most `local_threshold` more than the fastest one's.
std::vector<const ServerDescription*> in_latency_window(
    std::span<const ServerDescription* const> suitable, std::chrono::nanoseconds local_threshold);

// How many operations a server is running now (its operationCount); used to prefer the idler of
// two candidates.
using OperationCount = std::function<std::uint64_t(const HostAndPort&)>;

// Selects a server: suitable servers, latency window of topology.local_threshold(), then two
// distinct servers at random, of which the one with the lower operation count (ties: either at
// random). nullptr when no server suits, so the caller waits for a topology change. Throws
// mongoslice::Error (errc::incompatible_server) when the topology is not compatible, and what
// check_max_staleness() throws. An empty
// `operation_count` counts every server as idle. The result points into `topology`.
const ServerDescription* select_server(const TopologyDescription& topology, OperationKind kind,
                                       const ReadPreference& read_preference,
                                       std::mt19937_64& random,
                                       const OperationCount& operation_count = {},
                                       std::span<const HostAndPort> deprioritized = {});

}  // namespace mongoslice
