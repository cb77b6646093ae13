#include "driver/server_selection.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "wire/error.hpp"

namespace mongoslice {
namespace {

using Servers = std::vector<const ServerDescription*>;
using Mode = ReadPreference::Mode;

Servers of_type(const Servers& candidates, ServerType type) {
  Servers out;
  for (const ServerDescription* sd : candidates) {
    if (sd->type == type) out.push_back(sd);
  }
  return out;
}

// The servers matching the first tag set that any server matches (no tag sets: all of them).
Servers matching_tags(const Servers& servers, const std::vector<bson::Document>& tag_sets) {
  if (tag_sets.empty()) return servers;
  for (const bson::Document& tag_set : tag_sets) {
    Servers out;
    for (const ServerDescription* sd : servers) {
      if (sd->matches_tag_set(tag_set)) out.push_back(sd);
    }
    if (!out.empty()) return out;
  }
  return {};
}

// Everything the staleness estimate needs from the topology: the primary (ReplicaSetWithPrimary)
// or else the greatest lastWriteDate among the secondaries (ReplicaSetNoPrimary).
struct StalenessReference {
  const ServerDescription* primary = nullptr;
  std::optional<std::chrono::system_clock::time_point> newest_secondary_write;
  std::chrono::nanoseconds heartbeat_frequency{0};
};

StalenessReference staleness_reference(const TopologyDescription& topology) {
  StalenessReference ref;
  ref.heartbeat_frequency = topology.heartbeat_frequency();
  for (const auto& [address, sd] : topology.servers()) {
    if (sd.type == ServerType::kRSPrimary) ref.primary = &sd;
    if (sd.type == ServerType::kRSSecondary && sd.last_write_date &&
        (!ref.newest_secondary_write || *sd.last_write_date > *ref.newest_secondary_write)) {
      ref.newest_secondary_write = sd.last_write_date;
    }
  }
  return ref;
}

// The max-staleness spec's estimate of how far a secondary lags, or nothing when it cannot be
// estimated (a lastWriteDate missing from its hello, or from the primary's). Two clocks are
// involved: lastUpdateTime is ours (steady), lastWriteDate the servers' (wall), so each
// difference is taken within one clock.
std::optional<std::chrono::nanoseconds> staleness_of(const ServerDescription& secondary,
                                                     const StalenessReference& ref) {
  if (!secondary.last_write_date) return std::nullopt;
  if (ref.primary) {
    //   (S.lastUpdateTime - S.lastWriteDate) - (P.lastUpdateTime - P.lastWriteDate) + heartbeat
    if (!ref.primary->last_write_date) return std::nullopt;
    return (secondary.last_update_time - ref.primary->last_update_time) +
           (*ref.primary->last_write_date - *secondary.last_write_date) + ref.heartbeat_frequency;
  }
  //   SMax.lastWriteDate - S.lastWriteDate + heartbeat
  if (!ref.newest_secondary_write) return std::nullopt;
  return (*ref.newest_secondary_write - *secondary.last_write_date) + ref.heartbeat_frequency;
}

// The secondaries no staler than maxStalenessSeconds (all of them when it is not set). Only
// secondaries are filtered: other servers count as not stale at all.
Servers fresh_enough(const TopologyDescription& topology, const Servers& servers,
                     const ReadPreference& rp) {
  if (!rp.max_staleness) return servers;
  const StalenessReference ref = staleness_reference(topology);
  Servers out;
  for (const ServerDescription* sd : servers) {
    if (sd->type != ServerType::kRSSecondary) {
      out.push_back(sd);
      continue;
    }
    auto staleness = staleness_of(*sd, ref);
    if (staleness && *staleness <= *rp.max_staleness) out.push_back(sd);
  }
  return out;
}

Servers replica_set_reads(const TopologyDescription& topology, const Servers& candidates,
                          const ReadPreference& rp) {
  Servers primary = of_type(candidates, ServerType::kRSPrimary);
  // The spec's order: mode, then staleness, then tag sets.
  auto secondaries = [&] {
    return matching_tags(fresh_enough(topology, of_type(candidates, ServerType::kRSSecondary), rp),
                         rp.tag_sets);
  };
  switch (rp.mode) {
    case Mode::kPrimary:
      return primary;
    case Mode::kPrimaryPreferred:
      return primary.empty() ? secondaries() : primary;
    case Mode::kSecondary:
      return secondaries();
    case Mode::kSecondaryPreferred: {
      Servers found = secondaries();
      return found.empty() ? primary : found;
    }
    case Mode::kNearest: {
      Servers members = primary;
      Servers s = of_type(candidates, ServerType::kRSSecondary);
      members.insert(members.end(), s.begin(), s.end());
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->address < b->address; });
      return matching_tags(fresh_enough(topology, members, rp), rp.tag_sets);
    }
  }
  return {};
}

Servers suitable_among(const TopologyDescription& topology, const Servers& candidates,
                       OperationKind kind, const ReadPreference& rp) {
  switch (topology.type()) {
    case TopologyType::kUnknown:
      return {};
    case TopologyType::kSingle: {
      // A direct connection: the read preference is ignored, any known server will do.
      Servers out;
      for (const ServerDescription* sd : candidates) {
        if (sd->type != ServerType::kUnknown) out.push_back(sd);
      }
      return out;
    }
    case TopologyType::kLoadBalanced:
      return of_type(candidates, ServerType::kLoadBalancer);
    case TopologyType::kSharded:
      // mongos applies the read preference itself.
      return of_type(candidates, ServerType::kMongos);
    case TopologyType::kReplicaSetNoPrimary:
    case TopologyType::kReplicaSetWithPrimary:
      return kind == OperationKind::kWrite ? of_type(candidates, ServerType::kRSPrimary)
                                           : replica_set_reads(topology, candidates, rp);
  }
  return {};
}

}  // namespace

void check_max_staleness(const TopologyDescription& topology, const ReadPreference& rp) {
  if (!rp.max_staleness) return;
  const auto seconds = rp.max_staleness->count();
  if (rp.mode == Mode::kPrimary) {
    throw Error(errc::invalid_argument, "maxStalenessSeconds (" + std::to_string(seconds) +
                                            ") cannot be used with read preference mode primary");
  }
  if (seconds <= 0) {
    throw Error(errc::invalid_argument,
                "maxStalenessSeconds must be positive, not " + std::to_string(seconds));
  }
  if (topology.type() != TopologyType::kReplicaSetWithPrimary &&
      topology.type() != TopologyType::kReplicaSetNoPrimary) {
    return;  // mongos applies it (and checks it) itself
  }
  // A secondary's lastWriteDate advances at least every idleWritePeriodMS, and we learn it once a
  // heartbeat: a smaller bound would exclude secondaries that are not behind at all.
  const auto heartbeat = topology.heartbeat_frequency();
  const auto smallest =
      std::max<std::chrono::milliseconds>(kSmallestMaxStaleness, heartbeat + kIdleWritePeriod);
  if (*rp.max_staleness < smallest) {
    throw Error(errc::invalid_argument,
                "maxStalenessSeconds " + std::to_string(seconds) +
                    " is too small: for a replica set it must be at least max(90 s, "
                    "heartbeatFrequencyMS " +
                    std::to_string(heartbeat.count()) + " ms + idleWritePeriodMS " +
                    std::to_string(kIdleWritePeriod.count()) + " ms), here " +
                    std::to_string(std::chrono::ceil<std::chrono::seconds>(smallest).count()) +
                    " s");
  }
}

std::vector<const ServerDescription*> suitable_servers(const TopologyDescription& topology,
                                                       OperationKind kind,
                                                       const ReadPreference& read_preference,
                                                       std::span<const HostAndPort> deprioritized) {
  if (kind == OperationKind::kRead) check_max_staleness(topology, read_preference);
  Servers all;
  Servers preferred;
  for (const auto& [address, sd] : topology.servers()) {
    all.push_back(&sd);
    if (std::find(deprioritized.begin(), deprioritized.end(), address) == deprioritized.end()) {
      preferred.push_back(&sd);
    }
  }
  Servers found = suitable_among(topology, preferred, kind, read_preference);
  if (found.empty() && preferred.size() != all.size()) {
    found = suitable_among(topology, all, kind, read_preference);
  }
  return found;
}

std::vector<const ServerDescription*> in_latency_window(
    std::span<const ServerDescription* const> suitable, std::chrono::nanoseconds local_threshold) {
  // A server without an average yet (just discovered) counts as fast: it has answered one check.
  auto rtt = [](const ServerDescription* sd) {
    return sd->round_trip_time.value_or(std::chrono::nanoseconds(0));
  };
  Servers out;
  if (suitable.empty()) return out;
  std::chrono::nanoseconds fastest = rtt(suitable.front());
  for (const ServerDescription* sd : suitable) fastest = std::min(fastest, rtt(sd));
  for (const ServerDescription* sd : suitable) {
    if (rtt(sd) <= fastest + local_threshold) out.push_back(sd);
  }
  return out;
}

const ServerDescription* select_server(const TopologyDescription& topology, OperationKind kind,
                                       const ReadPreference& read_preference,
                                       std::mt19937_64& random,
                                       const OperationCount& operation_count,
                                       std::span<const HostAndPort> deprioritized) {
  if (!topology.compatible()) {
    throw Error(errc::incompatible_server, topology.compatibility_error());
  }
  Servers suitable = suitable_servers(topology, kind, read_preference, deprioritized);
  Servers window = in_latency_window(suitable, topology.local_threshold());
  if (window.empty()) return nullptr;
  if (window.size() == 1) return window.front();

  // "Power of two random choices": spreads load by operation count without scanning every
  // server's count, and without herding onto the single idlest server.
  std::uniform_int_distribution<std::size_t> first(0, window.size() - 1);
  std::uniform_int_distribution<std::size_t> second(0, window.size() - 2);
  std::size_t i = first(random);
  std::size_t j = second(random);
  if (j >= i) ++j;
  const ServerDescription* a = window[i];
  const ServerDescription* b = window[j];
  if (!operation_count) return a;  // i was uniformly random already
  std::uint64_t count_a = operation_count(a->address);
  std::uint64_t count_b = operation_count(b->address);
  if (count_a != count_b) return count_a < count_b ? a : b;
  return a;  // a tie: a and b are both uniformly random picks, so either is fair
}

}  // namespace mongoslice
