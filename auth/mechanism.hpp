#pragma once
// Choosing and starting a mechanism for a Credential, and the handshake's part in it
// (saslSupportedMechs negotiation, speculative authentication).
//
// For the connection handshake, Authenticator does all of it:
//
//   auth::Authenticator auth(credential, {.key_cache = client_cache});
//   bson::Builder hello; ...; auth.add_to_hello(hello);   // before build()
//   auth::Step step = auth.on_hello_reply(round_trip(hello));
//   while (auto* command = std::get_if<auth::Command>(&step))
//     step = auth.feed(round_trip(command->db, command->body));
//
// Monitors' connections do not authenticate (the auth spec): they use none of this.

#include <optional>
#include <string>
#include <string_view>

#include "auth/credential.hpp"
#include "auth/sasl.hpp"
#include "auth/scram.hpp"
#include "wire/bson.hpp"

namespace mongoslice::auth {

// The options every mechanism takes: SCRAM's nonce generator and key cache (PLAIN uses none).
using AuthOptions = ScramOptions;

// "SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"; "DEFAULT" for kNegotiate.
std::string_view mechanism_name(Mechanism mechanism) noexcept;
// The mechanism an authMechanism value names (case as the spec writes it); nothing for one not
// built here (GSSAPI, MONGODB-X509, MONGODB-AWS, MONGODB-OIDC, MONGODB-CR, any other).
std::optional<Mechanism> parse_mechanism(std::string_view name) noexcept;

// Throws Error(errc::invalid_credential) for a credential these mechanisms cannot use: an empty
// user name, no password, or mechanism properties (none of these mechanisms takes any). For
// client construction, so that a bad credential fails before any connection.
void validate_credential(const Credential& credential);

// The hello's saslSupportedMechs value: "<source>.<user>", the user name as given (the spec:
// not SASLprep'd).
std::string sasl_supported_mechs_request(const Credential& credential);

// The mechanism to run: the credential's own when it names one; for kNegotiate, SCRAM-SHA-256
// when the hello reply's saslSupportedMechs lists it, else SCRAM-SHA-1 (also when the reply has
// no saslSupportedMechs: the rule for servers from 3.0 on).
Mechanism select_mechanism(const Credential& credential, bson::View hello_reply);

// A conversation of `mechanism` (not kNegotiate) for `credential`, sent to its source. Throws
// Error(errc::invalid_credential) as validate_credential() does, or when SASLprep refuses the
// password.
Conversation make_conversation(const Credential& credential, Mechanism mechanism,
                               const AuthOptions& options = {});

// The authentication part of one connection's handshake.
class Authenticator {
 public:
  // Throws as validate_credential() does.
  explicit Authenticator(Credential credential, AuthOptions options = {});

  // Adds to the handshake's hello: saslSupportedMechs when the mechanism is negotiated, and
  // speculativeAuthenticate for SCRAM (SCRAM-SHA-256 when negotiated, as the spec says).
  void add_to_hello(bson::Builder& hello);
  // The hello's reply: continues the speculative conversation when the server answered it,
  // otherwise starts the (negotiated) mechanism. Returns the first command, or Done.
  Step on_hello_reply(bson::View hello_reply);
  // The reply to the last command.
  Step feed(bson::View reply);

  // The mechanism in use (after on_hello_reply: the one negotiated).
  Mechanism mechanism() const noexcept;
  bool done() const noexcept { return conversation_ && conversation_->done(); }

 private:
  Credential credential_;
  AuthOptions options_;
  std::optional<Conversation> conversation_;
  bool speculated_ = false;
};

}  // namespace mongoslice::auth
