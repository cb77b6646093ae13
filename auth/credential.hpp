#pragma once
// Who the driver authenticates as, as the connection string gives it (user:password@,
// authSource, authMechanism, authMechanismProperties) and the auth spec's defaults fill it.

#include <map>
#include <optional>
#include <string>

namespace mongoslice::auth {

enum class Mechanism {
  kNegotiate,  // none named: SCRAM-SHA-256 or SCRAM-SHA-1, from the hello's saslSupportedMechs
  kScramSha1,
  kScramSha256,
  kPlain,
};

struct Credential {
  Mechanism mechanism = Mechanism::kNegotiate;
  std::string username;
  // A secret: never logged, printed or put in an error message.
  std::optional<std::string> password;
  // authSource; for SCRAM the default is the URI's database, else "admin"; PLAIN: "$external".
  std::string source = "admin";
  std::map<std::string, std::string> mechanism_properties;  // authMechanismProperties
};

}  // namespace mongoslice::auth
