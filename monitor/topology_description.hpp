#pragma once
// What the client knows about the whole deployment, and the pure rules of the Server Discovery
// and Monitoring spec that update it from one server's new description. No threads, no I/O:
// the Topology (driver/) holds one of these under its lock, applies each monitor's result, and
// starts or stops monitors for the servers that appear or disappear.

#include <bson/bson.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/server_description.hpp"
#include "wire/address.hpp"

namespace mongoslice {

// The wire protocol versions this driver speaks: MongoDB 4.2 (8) to 8.1 (25).
inline constexpr std::int32_t kMinSupportedWireVersion = 8;
inline constexpr std::int32_t kMaxSupportedWireVersion = 25;
// The MongoDB release that introduced kMinSupportedWireVersion, for the compatibility message.
inline constexpr std::string_view kMinSupportedServerVersion = "4.2";

enum class TopologyType {
  kUnknown,
  kSingle,
  kReplicaSetNoPrimary,
  kReplicaSetWithPrimary,
  kSharded,
  kLoadBalanced,
};

// The spec's names: "ReplicaSetWithPrimary", ...
std::string_view to_string(TopologyType type) noexcept;
std::optional<TopologyType> parse_topology_type(std::string_view name) noexcept;

// The connection-string options that shape discovery.
struct TopologyOptions {
  std::optional<std::string> replica_set_name;  // replicaSet
  bool direct_connection = false;               // directConnection
  bool load_balanced = false;                   // loadBalanced
  std::chrono::milliseconds heartbeat_frequency{10'000};
  std::chrono::milliseconds local_threshold{15};  // localThresholdMS
};

// A server the SDAM rules took out of the topology, and the rule that did, in words
// ("its hello reports set name 'x', not 'rs' (the replicaSet option)"). For error messages:
// a seed that vanished would otherwise leave no trace of why.
struct RemovedServer {
  HostAndPort address;
  std::string reason;

  friend bool operator==(const RemovedServer&, const RemovedServer&) = default;
};

class TopologyDescription {
 public:
  using Servers = std::map<HostAndPort, ServerDescription>;
  // removed() keeps at most this many (the newest); a server removed again replaces its entry.
  static constexpr std::size_t kMaxRemovedRecorded = 16;

  // The initial description: one Unknown server per seed (duplicates merged), and the initial
  // type of the spec's table (directConnection: Single; replicaSet: ReplicaSetNoPrimary;
  // loadBalanced: LoadBalanced with the seed as a LoadBalancer; else Unknown). Throws
  // mongoslice::Error (errc::invalid_argument) for combinations the spec forbids: no seed,
  // directConnection or loadBalanced with several seeds, loadBalanced with directConnection or
  // replicaSet.
  TopologyDescription(const std::vector<HostAndPort>& seeds, TopologyOptions options = {});

  // A description given whole (type and servers as they are), for server selection tests and
  // tools. No rules run.
  static TopologyDescription from_servers(TopologyType type, std::vector<ServerDescription> servers,
                                          TopologyOptions options = {});

  // Applies one check's (or one application error's) outcome with all the SDAM rules. Returns
  // false when the outcome is ignored: its server is no longer in the topology, or its
  // topologyVersion is older than the one already known. Afterwards compatibility and the
  // logical session timeout are recomputed.
  bool apply(ServerDescription description);

  // A mongodb+srv:// rescan's result (the polling-SRV spec), for an Unknown or Sharded topology
  // only (any other type keeps its servers and returns false): servers no longer among `hosts`
  // leave; new ones join as Unknown, all of them when `max_hosts` is 0, else chosen at random
  // with `random` until the topology holds max_hosts (the ones kept count first). An empty
  // `hosts` changes nothing (a failed or empty lookup keeps the servers known). Returns whether
  // the set of servers changed.
  bool apply_srv_hosts(const std::vector<HostAndPort>& hosts, std::uint32_t max_hosts,
                       std::mt19937_64& random);

  // Whether an error reply with `topology_version` from `address` is stale (older than or equal
  // to what the current description of the server already reflects), so it must not mark the
  // server Unknown. An absent version is never stale; an unknown address always is.
  bool is_stale_error(const HostAndPort& address,
                      const std::optional<TopologyVersion>& topology_version) const;

  TopologyType type() const noexcept { return type_; }
  const std::optional<std::string>& set_name() const noexcept { return set_name_; }
  const std::optional<std::int64_t>& max_set_version() const noexcept { return max_set_version_; }
  const std::optional<bson_oid_t>& max_election_id() const noexcept { return max_election_id_; }
  const Servers& servers() const noexcept { return servers_; }
  // The servers removed by the rules and not part of the topology again since, oldest first.
  // Not part of a description's equality (nothing about the deployment changes with it).
  const std::deque<RemovedServer>& removed() const noexcept { return removed_; }
  const ServerDescription* find(const HostAndPort& address) const noexcept;
  bool has_primary() const noexcept;

  // False when some known server's wire versions do not overlap the driver's; then every
  // operation must fail with compatibility_error().
  bool compatible() const noexcept { return compatibility_error_.empty(); }
  const std::string& compatibility_error() const noexcept { return compatibility_error_; }
  // The smallest timeout of the data-bearing servers; nothing when any of them (or none at all)
  // reports one, meaning sessions are not supported.
  const std::optional<std::int64_t>& logical_session_timeout_minutes() const noexcept {
    return logical_session_timeout_minutes_;
  }

  const TopologyOptions& options() const noexcept { return options_; }
  std::chrono::milliseconds heartbeat_frequency() const noexcept {
    return options_.heartbeat_frequency;
  }
  std::chrono::milliseconds local_threshold() const noexcept { return options_.local_threshold; }

 private:
  TopologyDescription() = default;

  void update_unknown_with_standalone(const ServerDescription& sd);
  void update_rs_from_primary(const ServerDescription& sd);
  void update_rs_without_primary(const ServerDescription& sd);
  void update_rs_with_primary_from_member(const ServerDescription& sd);
  // Whether a primary reporting (electionId, setVersion) is older than the newest seen; if not,
  // records its values as the newest.
  bool is_stale_primary(const ServerDescription& sd);
  void check_if_has_primary();
  void add_missing_members(const ServerDescription& sd);
  void mark_possible_primary(const std::optional<HostAndPort>& primary);
  void remove(const HostAndPort& address, std::string reason);
  // The reason for removing a replica-set member whose set name is not ours.
  std::string set_name_mismatch(const ServerDescription& sd) const;
  void recompute_compatibility();
  void recompute_logical_session_timeout();

  TopologyType type_ = TopologyType::kUnknown;
  std::optional<std::string> set_name_;
  std::optional<std::int64_t> max_set_version_;
  std::optional<bson_oid_t> max_election_id_;
  Servers servers_;
  std::deque<RemovedServer> removed_;
  std::string compatibility_error_;
  std::optional<std::int64_t> logical_session_timeout_minutes_;
  std::size_t seed_count_ = 0;
  TopologyOptions options_;
};

}  // namespace mongoslice
