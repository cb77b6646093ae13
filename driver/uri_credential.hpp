#pragma once
// The credential a connection string gives (user info, authSource, authMechanism,
// authMechanismProperties), completed and checked as the auth specification says. Internal to
// driver/; ConnectionString::parse uses it.

#include <optional>
#include <string>
#include <string_view>

#include "driver/connection_string.hpp"

namespace mongoslice::uri_detail {

// Fills out.credential from out.username, out.password, out.auth_database, out.auth_source and
// the authMechanism / authMechanismProperties values as given (`mechanism` percent-decoded,
// `properties` not yet decoded). Throws Error(errc::invalid_uri), never quoting the password:
//  - a mechanism mongoslice does not build (GSSAPI, MONGODB-X509, MONGODB-AWS, MONGODB-OIDC,
//    MONGODB-CR): "mechanism X is not supported by mongoslice"; an unknown one;
//  - SCRAM-SHA-1, SCRAM-SHA-256, PLAIN or none named (negotiation) without a user name or
//    without a password (the auth spec: both MUST be specified; "user:@" is an empty password,
//    which is given);
//  - authMechanismProperties that are malformed, or given at all: none of those mechanisms
//    takes properties (the auth spec: they MUST NOT be specified).
// No user info and no mechanism: no credential (an authSource alone asks for no
// authentication).
void build_credential(ConnectionString& out, const std::optional<std::string>& mechanism,
                      const std::optional<std::string>& properties);

}  // namespace mongoslice::uri_detail
