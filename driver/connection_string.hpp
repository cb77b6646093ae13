#pragma once
// The MongoDB connection string (the "URI"):
//   mongodb://[user:pass@]host1[:port1][,host2[:port2]...]/[defaultauthdb][?options]
//   mongodb+srv://[user:pass@]host/[defaultauthdb][?options]
// parsed as the connection-string, URI-options, auth and initial-DNS-seedlist specifications
// say.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "auth/credential.hpp"
#include "net/tls_options.hpp"
#include "ops/concerns.hpp"
#include "ops/read_preference.hpp"
#include "wire/address.hpp"
#include "wire/op_compressed.hpp"

namespace mongoslice {

enum class ServerMonitoringMode { automatic, stream, poll };

struct ConnectionString {
  // The seed list. Empty for mongodb+srv:// until the SRV lookup of srv_host fills it.
  std::vector<HostAndPort> hosts;
  // The user info and the path as written (percent-decoded). A secret: `password` (and
  // credential->password) never appear in an error message or a warning; print a URI through
  // redact_uri (driver/uri_redact.hpp).
  std::optional<std::string> username;       // engaged when the URI has user info ("user@")
  std::optional<std::string> password;       // engaged when it has "user:password@" ("" allowed)
  std::optional<std::string> auth_database;  // the path segment, percent-decoded
  std::optional<std::string> auth_source;    // the authSource option, as given (never empty)

  // Who to authenticate as: engaged when the URI gives user info or an authMechanism (the auth
  // spec: a database or an authSource alone asks for no authentication). Complete as the auth
  // spec's rules demand (a user name and a password for SCRAM and PLAIN, source defaulted: the
  // URI's database, else "admin" for SCRAM and negotiation, "$external" for PLAIN). Mechanisms
  // mongoslice does not build (GSSAPI, MONGODB-X509, MONGODB-AWS, MONGODB-OIDC, MONGODB-CR) are
  // refused by parse() with an error naming them, never recorded and ignored.
  std::optional<auth::Credential> credential;

  // Engaged when TLS is on: tls=true / ssl=true; any other tls* option without tls=false (TLS
  // is then on implicitly, as the URI-options spec allows: a CA file or tlsInsecure means the
  // user expects TLS); mongodb+srv:// unless tls=false or ssl=false is given. tlsInsecure=true
  // sets both allow_invalid_* flags.
  std::optional<TlsOptions> tls;
  // tlsDisableOCSPEndpointCheck / tlsDisableCertificateRevocationCheck as given. Recorded only:
  // mongoslice checks no revocation status (neither OCSP nor CRLs), whatever they say.
  std::optional<bool> tls_disable_ocsp_endpoint_check;
  std::optional<bool> tls_disable_certificate_revocation_check;

  // mongodb+srv://: the one host name to look up as _<srv_service_name>._tcp.<srv_host>
  // (lower-cased, no port). `hosts` stays empty until it is resolved.
  std::optional<std::string> srv_host;
  std::string srv_service_name = "mongodb";    // srvServiceName
  std::optional<std::uint32_t> srv_max_hosts;  // srvMaxHosts; none or 0: no limit
  bool load_balanced = false;                  // loadBalanced
  // How often the SRV records are looked up again (ClientOptions::srv_rescan_interval, which
  // the client copies here; not read from the URI).
  std::chrono::milliseconds srv_rescan_interval{60'000};

  std::optional<std::string> replica_set;
  std::optional<bool> direct_connection;
  std::chrono::milliseconds heartbeat_frequency{10'000};  // minimum 500
  // serverMonitoringMode (the server-monitoring spec): stream uses the streaming protocol where
  // a server offers it; poll never does (one hello per heartbeat); automatic streams except in
  // a FaaS environment (net/client_environment.hpp), where a frozen process must not hold an
  // awaited hello open.
  ServerMonitoringMode server_monitoring_mode = ServerMonitoringMode::automatic;
  std::chrono::milliseconds server_selection_timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};        // 0: no timeout (as the spec says)
  std::optional<std::chrono::milliseconds> socket_timeout;  // none: no timeout
  std::chrono::milliseconds local_threshold{15};
  std::uint32_t max_pool_size = 100;  // 0 means no limit
  // minPoolSize: connections each pool keeps established in the background (0: none, and no
  // background work unless maxIdleTimeMS is set).
  std::uint32_t min_pool_size = 0;
  std::uint32_t max_connecting = 2;  // connections each pool establishes at once; above 0
  std::optional<std::chrono::milliseconds> max_idle_time;  // maxIdleTimeMS; none (0): no limit
  ReadPreference read_preference;
  // retryWrites and retryReads: one retry of a failed retryable write / read (the retryable
  // writes and reads specs).
  bool retry_writes = true;
  bool retry_reads = true;
  // w, wTimeoutMS, journal and readConcernLevel. Left empty (the server's default) when the URI
  // does not give them; a MongoClient's Databases and Collections inherit them.
  WriteConcern write_concern;
  ReadConcern read_concern;
  std::optional<std::string> app_name;
  std::chrono::milliseconds kill_cursors_interval{1'000};  // mongoslice's own option
  // compressors=zstd,snappy,zlib: offered in this order in every handshake (names mongoslice
  // does not know are warned about and left out); empty: no compression.
  std::vector<wire::Compressor> compressors;
  int zlib_compression_level = wire::kDefaultZlibLevel;  // zlibCompressionLevel, -1..9

  // Unknown options, options mongoslice does not implement, invalid values and repeated
  // options: the URI-options spec makes these warnings (the option is ignored), not failures.
  // Option values are not quoted for options that may hold secrets.
  std::vector<std::string> warnings;

  // Lower-case names of the options the URI itself gave: a TXT record's options never override
  // them (apply_txt_options).
  std::set<std::string> uri_options_given;

  // Parses `uri`. Throws mongoslice::Error (errc::invalid_uri) naming the offending part; the
  // message never contains the password. Refused as unsupported: UNIX domain socket paths and
  // the authentication mechanisms mongoslice does not build. Errors, not warnings, because
  // ignoring them would weaken what the user asked for: a tls or ssl value other than true or
  // false, tls and ssl given different values, tls=false with other TLS options, the TLS
  // conflicts of the URI-options spec (tlsInsecure with tlsAllowInvalidCertificates, ...), a
  // credential the auth spec calls incomplete, w below 0, a negative wTimeoutMS, w=0 with
  // journal=true. parse() accepts what the driver cannot use yet (TLS, a credential, SRV);
  // refuse_unimplemented (driver/uri_support.hpp) refuses those at client construction.
  static ConnectionString parse(std::string_view uri);

  // Applies the options of a mongodb+srv:// host's TXT record ("replicaSet=rs0&authSource=db"),
  // as the seedlist spec says: only authSource, replicaSet and loadBalanced are allowed (any
  // other option, ssl and tls included, is an error); an option the URI itself gave wins over
  // the record's; then the rules about several options together are checked again (srvMaxHosts
  // with replicaSet, loadBalanced with replicaSet, ...). Throws Error(errc::invalid_uri).
  void apply_txt_options(std::string_view txt);

  // The rules about several options together, and about options and hosts (directConnection=
  // true or loadBalanced=true with several hosts, ...). parse() runs them; run them again once
  // the SRV lookup has filled `hosts`. Throws Error(errc::invalid_uri).
  void validate() const;
};

}  // namespace mongoslice
