#pragma once
// The security-sensitive commands of the command-monitoring spec: their events carry an empty
// command and an empty reply, and a failure without the server's message, so that no listener
// and no log line (MONGOSLICE_LOG=commands) ever sees a password, a nonce or a proof.

#include <string_view>

#include "wire/bson.hpp"

namespace mongoslice {

// authenticate, saslStart, saslContinue, getnonce, createUser, updateUser, copydbgetnonce,
// copydbsaslstart, copydb (case-insensitive), and hello / isMaster when `command` carries
// speculativeAuthenticate.
bool is_sensitive_command(std::string_view name, bson::View command);

}  // namespace mongoslice
