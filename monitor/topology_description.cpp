#include "monitor/topology_description.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "wire/error.hpp"

namespace mongoslice {
namespace {

constexpr std::array<std::pair<TopologyType, std::string_view>, 6> kTopologyTypeNames{{
    {TopologyType::kUnknown, "Unknown"},
    {TopologyType::kSingle, "Single"},
    {TopologyType::kReplicaSetNoPrimary, "ReplicaSetNoPrimary"},
    {TopologyType::kReplicaSetWithPrimary, "ReplicaSetWithPrimary"},
    {TopologyType::kSharded, "Sharded"},
    {TopologyType::kLoadBalanced, "LoadBalanced"},
}};

// Error texts of the spec (its tests look for these substrings).
constexpr std::string_view kStalePrimaryError =
    "primary marked stale due to electionId/setVersion mismatch";
constexpr std::string_view kReplacedPrimaryError =
    "primary marked stale due to discovery of newer primary";

// Orders optional values with "absent" below every present value, as the spec's tuple
// comparison of (electionId, setVersion) does from MongoDB 6.0 on.
int compare_oid(const std::optional<bson_oid_t>& a, const std::optional<bson_oid_t>& b) {
  if (!a || !b) return static_cast<int>(a.has_value()) - static_cast<int>(b.has_value());
  int c = bson_oid_compare(&*a, &*b);
  return (c > 0) - (c < 0);
}

int compare_version(const std::optional<std::int64_t>& a, const std::optional<std::int64_t>& b) {
  if (!a || !b) return static_cast<int>(a.has_value()) - static_cast<int>(b.has_value());
  return (*a > *b) - (*a < *b);
}

std::string stale_error(const ServerDescription& sd, std::string_view why) {
  return std::string(why) + " (" + sd.address.to_string() + ")";
}

std::string cannot_contain(const ServerDescription& sd, TopologyType topology) {
  return "it is a " + std::string(to_string(sd.type)) + ", which a " +
         std::string(to_string(topology)) + " topology cannot contain";
}

std::string me_mismatch(const ServerDescription& sd) {
  return "its hello says it is " + sd.me->to_string() +
         " ('me'), not the address it was reached at";
}

}  // namespace

std::string_view to_string(TopologyType type) noexcept {
  for (const auto& [t, name] : kTopologyTypeNames) {
    if (t == type) return name;
  }
  return "Unknown";
}

std::optional<TopologyType> parse_topology_type(std::string_view name) noexcept {
  for (const auto& [t, n] : kTopologyTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

TopologyDescription::TopologyDescription(const std::vector<HostAndPort>& seeds,
                                         TopologyOptions options)
    : options_(std::move(options)) {
  if (seeds.empty()) throw Error(errc::invalid_argument, "the seed list is empty");
  for (const HostAndPort& seed : seeds) {
    servers_.try_emplace(seed, ServerDescription::unknown(seed));
  }
  seed_count_ = servers_.size();
  if (options_.load_balanced) {
    if (options_.direct_connection || options_.replica_set_name) {
      throw Error(errc::invalid_argument,
                  "loadBalanced=true cannot be used with directConnection=true or replicaSet");
    }
    if (seed_count_ != 1) {
      throw Error(errc::invalid_argument, "loadBalanced=true requires exactly one host");
    }
    type_ = TopologyType::kLoadBalanced;
    servers_.begin()->second.type = ServerType::kLoadBalancer;
  } else if (options_.direct_connection) {
    if (seed_count_ != 1) {
      throw Error(errc::invalid_argument, "directConnection=true requires exactly one host");
    }
    type_ = TopologyType::kSingle;
  } else if (options_.replica_set_name) {
    type_ = TopologyType::kReplicaSetNoPrimary;
  }
  set_name_ = options_.replica_set_name;
}

TopologyDescription TopologyDescription::from_servers(TopologyType type,
                                                      std::vector<ServerDescription> servers,
                                                      TopologyOptions options) {
  TopologyDescription td;
  td.type_ = type;
  td.set_name_ = options.replica_set_name;
  td.options_ = std::move(options);
  for (ServerDescription& sd : servers) {
    HostAndPort address = sd.address;
    td.servers_.insert_or_assign(std::move(address), std::move(sd));
  }
  td.seed_count_ = td.servers_.size();
  td.recompute_compatibility();
  td.recompute_logical_session_timeout();
  return td;
}

const ServerDescription* TopologyDescription::find(const HostAndPort& address) const noexcept {
  auto it = servers_.find(address);
  return it == servers_.end() ? nullptr : &it->second;
}

bool TopologyDescription::has_primary() const noexcept {
  return std::any_of(servers_.begin(), servers_.end(),
                     [](const auto& kv) { return kv.second.type == ServerType::kRSPrimary; });
}

bool TopologyDescription::is_stale_error(
    const HostAndPort& address, const std::optional<TopologyVersion>& topology_version) const {
  const ServerDescription* current = find(address);
  if (!current) return true;
  const auto& known = current->topology_version;
  if (!known || !topology_version) return false;
  if (!bson_oid_equal(&known->process_id, &topology_version->process_id)) return false;
  // The current description already reflects this state change (or a later one).
  return known->counter >= topology_version->counter;
}

bool TopologyDescription::apply(ServerDescription sd) {
  auto it = servers_.find(sd.address);
  if (it == servers_.end()) return false;  // removed while it was being checked
  if (is_older_topology_version(it->second.topology_version, sd.topology_version)) return false;

  switch (type_) {
    case TopologyType::kSingle:
      // A direct connection keeps its one server whatever it is, unless the user named a set
      // and the server is not in it.
      if (set_name_ && sd.type != ServerType::kUnknown && sd.set_name != set_name_) {
        sd = ServerDescription::from_error(sd.address, "replica set name mismatch: expected '" +
                                                           *set_name_ + "', server has '" +
                                                           sd.set_name.value_or("") + "'");
      }
      it->second = std::move(sd);
      break;

    case TopologyType::kLoadBalanced:
      // Load balancers are not monitored; an outcome only refreshes the entry.
      it->second = std::move(sd);
      it->second.type = ServerType::kLoadBalancer;
      break;

    case TopologyType::kUnknown: {
      it->second = sd;
      switch (sd.type) {
        case ServerType::kStandalone:
          update_unknown_with_standalone(sd);
          break;
        case ServerType::kMongos:
          type_ = TopologyType::kSharded;
          break;
        case ServerType::kRSPrimary:
          type_ = TopologyType::kReplicaSetWithPrimary;
          update_rs_from_primary(sd);
          break;
        case ServerType::kRSSecondary:
        case ServerType::kRSArbiter:
        case ServerType::kRSOther:
          type_ = TopologyType::kReplicaSetNoPrimary;
          update_rs_without_primary(sd);
          break;
        default:  // Unknown, and RSGhost (it tells no set name, so the type stays Unknown)
          break;
      }
      break;
    }

    case TopologyType::kSharded:
      if (sd.type == ServerType::kUnknown || sd.type == ServerType::kMongos) {
        it->second = std::move(sd);
      } else {
        remove(sd.address, cannot_contain(sd, type_));
      }
      break;

    case TopologyType::kReplicaSetNoPrimary:
      it->second = sd;
      switch (sd.type) {
        case ServerType::kStandalone:
        case ServerType::kMongos:
          remove(sd.address, cannot_contain(sd, type_));
          break;
        case ServerType::kRSPrimary:
          type_ = TopologyType::kReplicaSetWithPrimary;
          update_rs_from_primary(sd);
          break;
        case ServerType::kRSSecondary:
        case ServerType::kRSArbiter:
        case ServerType::kRSOther:
          update_rs_without_primary(sd);
          break;
        default:
          break;
      }
      break;

    case TopologyType::kReplicaSetWithPrimary:
      it->second = sd;
      switch (sd.type) {
        case ServerType::kStandalone:
        case ServerType::kMongos:
          remove(sd.address, cannot_contain(sd, type_));
          check_if_has_primary();
          break;
        case ServerType::kRSPrimary:
          update_rs_from_primary(sd);
          break;
        case ServerType::kRSSecondary:
        case ServerType::kRSArbiter:
        case ServerType::kRSOther:
          update_rs_with_primary_from_member(sd);
          break;
        default:  // Unknown or RSGhost: maybe the primary just went away
          check_if_has_primary();
          break;
      }
      break;
  }

  recompute_compatibility();
  recompute_logical_session_timeout();
  return true;
}

void TopologyDescription::update_unknown_with_standalone(const ServerDescription& sd) {
  if (seed_count_ == 1) {
    type_ = TopologyType::kSingle;
  } else {
    // Among several seeds a standalone is a stray: the user meant a set or mongoses.
    remove(sd.address, "it is a Standalone, and a standalone is used only as the one seed");
  }
}

void TopologyDescription::update_rs_without_primary(const ServerDescription& sd) {
  if (!set_name_) {
    set_name_ = sd.set_name;
  } else if (sd.set_name != set_name_) {
    remove(sd.address, set_name_mismatch(sd));
    return;
  }
  add_missing_members(sd);
  mark_possible_primary(sd.primary);
  if (sd.me && *sd.me != sd.address) remove(sd.address, me_mismatch(sd));
}

void TopologyDescription::update_rs_with_primary_from_member(const ServerDescription& sd) {
  if (sd.set_name != set_name_ || (sd.me && *sd.me != sd.address)) {
    remove(sd.address, sd.set_name != set_name_ ? set_name_mismatch(sd) : me_mismatch(sd));
    check_if_has_primary();
    return;
  }
  if (!has_primary()) {  // this member had been the primary
    type_ = TopologyType::kReplicaSetNoPrimary;
    mark_possible_primary(sd.primary);
  }
}

void TopologyDescription::update_rs_from_primary(const ServerDescription& sd) {
  if (!set_name_) {
    set_name_ = sd.set_name;
  } else if (sd.set_name != set_name_) {
    remove(sd.address, set_name_mismatch(sd));
    check_if_has_primary();
    return;
  }

  if (is_stale_primary(sd)) {
    // Probably a primary about to step down: forget it until a later check says what it is.
    servers_.insert_or_assign(
        sd.address, ServerDescription::from_error(sd.address, stale_error(sd, kStalePrimaryError)));
    check_if_has_primary();
    return;
  }

  for (auto& [address, other] : servers_) {
    if (address != sd.address && other.type == ServerType::kRSPrimary) {
      other = ServerDescription::from_error(address, stale_error(other, kReplacedPrimaryError));
    }
  }
  add_missing_members(sd);
  // The primary's member list is authoritative: drop whoever it does not list (itself
  // included, when we reached it under an address it does not know, such as an external IP).
  std::vector<HostAndPort> unlisted;
  for (const auto& [address, server] : servers_) {
    if (!sd.lists_member(address)) unlisted.push_back(address);
  }
  for (const HostAndPort& address : unlisted) {
    remove(address, address == sd.address
                        ? "it is the primary, but its own host list does not name this address"
                        : "not in the host list of the primary " + sd.address.to_string());
  }
  check_if_has_primary();
}

bool TopologyDescription::is_stale_primary(const ServerDescription& sd) {
  if (sd.max_wire_version >= 17) {
    // MongoDB 6.0+: electionId first, then setVersion, absent values lowest.
    int by_election = compare_oid(sd.election_id, max_election_id_);
    if (by_election < 0) return true;
    if (by_election == 0 && compare_version(sd.set_version, max_set_version_) < 0) return true;
    max_election_id_ = sd.election_id;
    max_set_version_ = sd.set_version;
    return false;
  }
  // Older servers: setVersion first, then electionId, compared only when all are known.
  if (sd.set_version && sd.election_id) {
    if (max_set_version_ && max_election_id_) {
      if (*max_set_version_ > *sd.set_version) return true;
      if (*max_set_version_ == *sd.set_version &&
          bson_oid_compare(&*max_election_id_, &*sd.election_id) > 0) {
        return true;
      }
    }
    max_election_id_ = sd.election_id;
  }
  if (sd.set_version && (!max_set_version_ || *sd.set_version > *max_set_version_)) {
    max_set_version_ = sd.set_version;
  }
  return false;
}

void TopologyDescription::add_missing_members(const ServerDescription& sd) {
  for (const auto* list : {&sd.hosts, &sd.passives, &sd.arbiters}) {
    for (const HostAndPort& member : *list) {
      if (servers_.try_emplace(member, ServerDescription::unknown(member)).second) {
        std::erase_if(removed_, [&](const RemovedServer& r) { return r.address == member; });
      }
    }
  }
}

bool TopologyDescription::apply_srv_hosts(const std::vector<HostAndPort>& hosts,
                                          std::uint32_t max_hosts, std::mt19937_64& random) {
  if (hosts.empty()) return false;
  if (type_ != TopologyType::kUnknown && type_ != TopologyType::kSharded) return false;
  bool changed = false;
  for (auto it = servers_.begin(); it != servers_.end();) {
    const HostAndPort address = it->first;
    ++it;
    if (std::find(hosts.begin(), hosts.end(), address) == hosts.end()) {
      remove(address, "its SRV record is gone (mongodb+srv:// rescan)");
      changed = true;
    }
  }
  std::vector<HostAndPort> candidates;
  for (const HostAndPort& host : hosts) {
    if (!servers_.count(host) &&
        std::find(candidates.begin(), candidates.end(), host) == candidates.end()) {
      candidates.push_back(host);
    }
  }
  std::shuffle(candidates.begin(), candidates.end(), random);
  for (const HostAndPort& host : candidates) {
    if (max_hosts > 0 && servers_.size() >= max_hosts) break;
    servers_.emplace(host, ServerDescription::unknown(host));
    std::erase_if(removed_, [&](const RemovedServer& r) { return r.address == host; });
    changed = true;
  }
  if (changed) {
    recompute_compatibility();
    recompute_logical_session_timeout();
  }
  return changed;
}

void TopologyDescription::remove(const HostAndPort& address, std::string reason) {
  servers_.erase(address);
  std::erase_if(removed_, [&](const RemovedServer& r) { return r.address == address; });
  if (removed_.size() == kMaxRemovedRecorded) removed_.pop_front();
  removed_.push_back({address, std::move(reason)});
}

std::string TopologyDescription::set_name_mismatch(const ServerDescription& sd) const {
  std::string reason = "its hello reports set name ";
  reason += sd.set_name ? "'" + *sd.set_name + "'" : "(none)";
  reason += ", not '" + set_name_.value_or("") + "'";
  reason += options_.replica_set_name ? " (the replicaSet option)"
                                      : " (the set name the first member reported)";
  return reason;
}

void TopologyDescription::mark_possible_primary(const std::optional<HostAndPort>& primary) {
  if (!primary) return;
  auto it = servers_.find(*primary);
  if (it != servers_.end() && it->second.type == ServerType::kUnknown) {
    it->second.type = ServerType::kPossiblePrimary;
  }
}

void TopologyDescription::check_if_has_primary() {
  type_ = has_primary() ? TopologyType::kReplicaSetWithPrimary : TopologyType::kReplicaSetNoPrimary;
}

void TopologyDescription::recompute_compatibility() {
  compatibility_error_.clear();
  for (const auto& [address, sd] : servers_) {
    if (sd.type == ServerType::kUnknown || sd.type == ServerType::kPossiblePrimary ||
        sd.type == ServerType::kLoadBalancer) {
      continue;
    }
    if (sd.min_wire_version > kMaxSupportedWireVersion) {
      compatibility_error_ = "Server at " + address.to_string() + " requires wire version " +
                             std::to_string(sd.min_wire_version) +
                             ", but this version of mongoslice only supports up to " +
                             std::to_string(kMaxSupportedWireVersion) + ".";
      return;
    }
    if (sd.max_wire_version < kMinSupportedWireVersion) {
      compatibility_error_ = "Server at " + address.to_string() + " reports wire version " +
                             std::to_string(sd.max_wire_version) +
                             ", but this version of mongoslice requires at least " +
                             std::to_string(kMinSupportedWireVersion) + " (MongoDB " +
                             std::string(kMinSupportedServerVersion) + ").";
      return;
    }
  }
}

void TopologyDescription::recompute_logical_session_timeout() {
  std::optional<std::int64_t> smallest;
  bool any = false;
  for (const auto& [address, sd] : servers_) {
    if (!sd.is_data_bearing() || sd.type == ServerType::kLoadBalancer) continue;
    if (!sd.logical_session_timeout_minutes) {
      logical_session_timeout_minutes_.reset();
      return;
    }
    smallest = any ? std::min(*smallest, *sd.logical_session_timeout_minutes)
                   : *sd.logical_session_timeout_minutes;
    any = true;
  }
  logical_session_timeout_minutes_ = smallest;
}

}  // namespace mongoslice
