#pragma once
// What the client knows about one server, from its latest hello reply or check error (the
// ServerDescription of the Server Discovery and Monitoring spec). A plain value: the monitor
// builds a new one after each check and the topology replaces the old one with it.

#include <bson/bson.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/address.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

enum class ServerType {
  kUnknown,
  kStandalone,
  kMongos,
  kPossiblePrimary,  // not checked yet, but a member named it as primary
  kRSPrimary,
  kRSSecondary,
  kRSArbiter,
  kRSOther,  // hidden, starting up or recovering
  kRSGhost,  // isreplicaset: true (uninitiated, removed, or starting)
  kLoadBalancer,
};

// The spec's names: "RSPrimary", "Unknown", ...
std::string_view to_string(ServerType type) noexcept;
std::optional<ServerType> parse_server_type(std::string_view name) noexcept;

// {processId, counter} from hello and state-change errors (MongoDB 4.4+): orders the replies
// of one server process.
struct TopologyVersion {
  bson_oid_t process_id{};
  std::int64_t counter = 0;

  friend bool operator==(const TopologyVersion& a, const TopologyVersion& b) noexcept {
    return bson_oid_equal(&a.process_id, &b.process_id) && a.counter == b.counter;
  }
};

// True when `incoming` is older than `current`, so a reply carrying it must be ignored. Per the
// spec, a missing version on either side, or another process id, counts as newer.
bool is_older_topology_version(const std::optional<TopologyVersion>& current,
                               const std::optional<TopologyVersion>& incoming) noexcept;

// "host:port", "host" (port 27017) or "[v6]:port", host lower-cased, as hello lists members.
// Nothing for text that is not an address (empty host, bad port, unclosed bracket).
std::optional<HostAndPort> parse_host_and_port(std::string_view text);

using Tags = std::map<std::string, std::string, std::less<>>;

// A value type with public fields (declared `class`, as other headers forward-declare it).
class ServerDescription {
 public:
  HostAndPort address;  // the address the client connects to (not `me`)
  ServerType type = ServerType::kUnknown;
  std::string error;  // why the server is Unknown; empty when there is no error

  // Client-measured, not part of equality. Absent while the server is Unknown.
  std::optional<std::chrono::nanoseconds> round_trip_time;  // moving average
  std::chrono::nanoseconds min_round_trip_time{0};          // over recent samples
  std::chrono::steady_clock::time_point last_update_time{};
  std::optional<std::chrono::system_clock::time_point> last_write_date;

  std::int32_t min_wire_version = 0;
  std::int32_t max_wire_version = 0;
  std::optional<HostAndPort> me;
  // The server's view of the set's members; sorted, without duplicates.
  std::vector<HostAndPort> hosts;
  std::vector<HostAndPort> passives;
  std::vector<HostAndPort> arbiters;
  Tags tags;
  std::optional<std::string> set_name;
  std::optional<std::int64_t> set_version;
  std::optional<bson_oid_t> election_id;
  std::optional<HostAndPort> primary;
  std::optional<std::int64_t> logical_session_timeout_minutes;
  std::optional<TopologyVersion> topology_version;

  // A server never checked (or whose last check failed without details): type Unknown.
  static ServerDescription unknown(HostAndPort address);
  // After a failed check or an application error. `topology_version` comes from a state-change
  // error reply, if it had one.
  static ServerDescription from_error(HostAndPort address, std::string error,
                                      std::optional<TopologyVersion> topology_version = {});
  // From a hello (or legacy hello) reply. `round_trip_time` is the average including this check.
  // A reply with ok: 0 gives Unknown with the server's message; a reply whose fields have the
  // wrong types gives Unknown with an error naming the field, never an exception.
  static ServerDescription from_hello(
      HostAndPort address, bson::View reply,
      std::optional<std::chrono::nanoseconds> round_trip_time,
      std::chrono::nanoseconds min_round_trip_time = std::chrono::nanoseconds(0),
      std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // Mongos, RSPrimary, RSSecondary, Standalone, LoadBalancer: servers that hold application data.
  bool is_data_bearing() const noexcept;
  // A server that may run reads at all (data-bearing; a secondary needs a read preference).
  bool is_readable() const noexcept { return is_data_bearing(); }
  bool is_writable() const noexcept;
  bool is_known() const noexcept { return type != ServerType::kUnknown; }
  // Whether `address` is in hosts, passives or arbiters.
  bool lists_member(const HostAndPort& address) const noexcept;
  // Whether the server carries every tag of `tag_set` ({} matches every server). Non-string tag
  // values never match (servers only report strings).
  bool matches_tag_set(bson::View tag_set) const;

  // The spec's "server description equality", used to decide whether to publish a change event:
  // compares the address and the fields marked (=) in the spec, so RTT, last update time and
  // last write date are left out.
  friend bool operator==(const ServerDescription& a, const ServerDescription& b) noexcept;
};

}  // namespace mongoslice
