#pragma once
// What a parsed connection string asks for that the driver cannot do yet. ConnectionString::
// parse accepts TLS, credentials and mongodb+srv:// as the specs say; until the connection and
// topology layers do them, a client must refuse such a URI rather than connect in plaintext,
// unauthenticated, or to nothing. Each flag below is flipped (to true) by the change that makes
// the driver do that thing.

#include "driver/connection_string.hpp"

namespace mongoslice {

namespace uri_support {
inline constexpr bool kTls = true;            // TLS connections (uri.tls)
inline constexpr bool kCredential = true;     // authentication in the handshake (uri.credential)
inline constexpr bool kSrv = true;            // mongodb+srv:// lookups (uri.srv_host)
inline constexpr bool kLoadBalanced = false;  // load-balanced mode (uri.load_balanced)
}  // namespace uri_support

// Throws Error(errc::invalid_uri) naming each thing `uri` asks for whose flag above is false
// (never quoting a password); returns when there is none. Meant for client construction, before
// any connection is made.
void refuse_unimplemented(const ConnectionString& uri);

}  // namespace mongoslice
