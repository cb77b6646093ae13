#pragma once
// The SDAM spec's "Error handling" rules for errors that application operations meet (as
// opposed to a monitor's check): which errors say the server's state changed, and what the
// topology must then do. Pure functions of the error, the connection it came from and the
// current description; the driver's Topology applies the outcome (driver/topology.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "monitor/server_description.hpp"
#include "monitor/topology_description.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

// How far the connection got when the error happened: errors while a connection is being
// established (TCP connect, the hello handshake) are treated apart from errors on a connection
// that completed its handshake. Authentication, after the hello, is a phase of its own: its
// errors, network ones and timeouts included, mark the server Unknown and clear the pool (the
// SDAM spec's rule for a failed authentication handshake).
enum class ConnectionPhase { kEstablishing, kAuthenticating, kEstablished };

// What went wrong, as the rules distinguish it.
enum class ApplicationErrorKind {
  kNetwork,  // the connection broke (reset, closed, a reply that does not decode)
  kTimeout,  // a read, write or connect ran out of time
  kCommand,  // the server answered: ok: 0, or ok: 1 with a writeConcernError
  kIgnored,  // ours, not the server's: interrupted, client closed, pool wait, bad argument
};

// One error of one operation, with what SDAM needs to judge it.
struct ApplicationError {
  HostAndPort address;
  std::uint64_t pool_generation = 0;  // the generation of the connection it happened on
  std::int32_t max_wire_version = 0;  // that connection's (0 when the handshake did not finish)
  ConnectionPhase phase = ConnectionPhase::kEstablished;
  ApplicationErrorKind kind = ApplicationErrorKind::kIgnored;
  std::optional<bson::Document> reply;  // kCommand: the server's reply
  std::string message;                  // for the server description's error field
};

// The server's state-change error in `reply`, if it has one: a top-level error (ok: 0) or a
// writeConcernError whose code is one of the "not writable primary" or "node is recovering"
// codes, or, without a code, whose message says "not master" or "node is recovering" (servers
// before 3.6 send only messages). writeErrors never count.
struct StateChangeError {
  bool shutdown = false;  // InterruptedAtShutdown (11600) or ShutdownInProgress (91)
  std::optional<TopologyVersion> topology_version;
};
std::optional<StateChangeError> state_change_error(bson::View reply);

// The topologyVersion of a reply, if it carries a well-formed one.
std::optional<TopologyVersion> topology_version_of(bson::View reply);

// What the topology does about an application error.
struct ErrorResponse {
  bool mark_unknown = false;
  bool clear_pool = false;
  bool request_check = false;  // ask the server's monitor for an immediate check
  bool cancel_check = false;   // drop the monitor's check in progress (Monitor::cancel_check)
  std::optional<TopologyVersion> topology_version;  // for the Unknown description
};

// The spec's rules, in its order: an error from a connection of an older pool generation than
// `pool_generation` changes nothing; before the handshake completes a command error (not stale
// by its topologyVersion) marks the server Unknown, clears the pool and requests a check,
// while a network error or timeout changes nothing (the
// client-backpressure amendment of 2025: an overloaded server refusing connections is not a
// server in doubt); afterwards a network error marks the server Unknown and clears the pool, a
// timeout changes nothing, and a state-change error whose topologyVersion is not older than the
// server's marks it Unknown and requests a check, clearing the pool too for a shutdown error or
// a server older than 4.2 (wire version < 8). In the authentication phase every error but ours
// (kIgnored) marks the server Unknown, clears the pool and requests a check.
ErrorResponse respond_to_application_error(const ApplicationError& error,
                                           const TopologyDescription& topology,
                                           std::uint64_t pool_generation);

}  // namespace mongoslice
