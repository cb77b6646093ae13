#pragma once
// The MongoDB connection string (the "URI"):
//   mongodb://[user:pass@]host1[:port1][,host2[:port2]...]/[defaultauthdb][?options]
// parsed as the connection-string and URI-options specifications say.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/concerns.hpp"
#include "ops/read_preference.hpp"
#include "wire/address.hpp"

namespace mongoslice {

struct ConnectionString {
  std::vector<HostAndPort> hosts;
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::optional<std::string> auth_database;  // the path segment, percent-decoded

  std::optional<std::string> replica_set;
  std::optional<bool> direct_connection;
  std::chrono::milliseconds heartbeat_frequency{10'000};  // minimum 500
  std::chrono::milliseconds server_selection_timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};        // 0: no timeout (as the spec says)
  std::optional<std::chrono::milliseconds> socket_timeout;  // none: no timeout
  std::chrono::milliseconds local_threshold{15};
  std::uint32_t max_pool_size = 100;  // 0 means no limit
  ReadPreference read_preference;
  // w, wTimeoutMS, journal and readConcernLevel. Left empty (the server's default) when the URI
  // does not give them; a MongoClient's Databases and Collections inherit them.
  WriteConcern write_concern;
  ReadConcern read_concern;
  std::optional<std::string> app_name;
  std::chrono::milliseconds kill_cursors_interval{1'000};  // mongoslice's own option

  // Unknown options, options mongoslice does not implement, invalid values and repeated
  // options: the URI-options spec makes these warnings (the option is ignored), not failures.
  // Option values are not quoted for options that may hold secrets.
  std::vector<std::string> warnings;

  // Parses `uri`. Throws mongoslice::Error (errc::invalid_uri) naming the offending part; the
  // message never contains the password. Refused as unsupported (with an error saying so):
  // mongodb+srv://, UNIX domain socket paths, tls=true / ssl=true and every other TLS option
  // (tlsCAFile, tlsInsecure, ...: ignoring one would connect in plaintext where the user asked
  // for TLS). Also errors, not warnings, because ignoring them would weaken what the user asked
  // for: a tls or ssl value other than true or false, tls and ssl given different values, w
  // below 0, a negative wTimeoutMS, w=0 with journal=true.
  static ConnectionString parse(std::string_view uri);
};

}  // namespace mongoslice
