#include "driver/server_selection.hpp"

#include <algorithm>

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

Servers replica_set_reads(const Servers& candidates, const ReadPreference& rp) {
  Servers primary = of_type(candidates, ServerType::kRSPrimary);
  auto secondaries = [&] {
    return matching_tags(of_type(candidates, ServerType::kRSSecondary), rp.tag_sets);
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
      return matching_tags(members, rp.tag_sets);
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
                                           : replica_set_reads(candidates, rp);
  }
  return {};
}

}  // namespace

std::vector<const ServerDescription*> suitable_servers(const TopologyDescription& topology,
                                                       OperationKind kind,
                                                       const ReadPreference& read_preference,
                                                       std::span<const HostAndPort> deprioritized) {
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
