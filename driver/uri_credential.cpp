#include "driver/uri_credential.hpp"

#include <map>

#include "driver/uri_text.hpp"

namespace mongoslice::uri_detail {
namespace {

using auth::Mechanism;

struct Named {
  std::string_view name;
  Mechanism mechanism;
};

constexpr Named kBuilt[] = {
    {"SCRAM-SHA-1", Mechanism::kScramSha1},
    {"SCRAM-SHA-256", Mechanism::kScramSha256},
    {"PLAIN", Mechanism::kPlain},
};

// Mechanisms of the auth spec that mongoslice does not build: refused by name, so that a URI
// asking for one never connects unauthenticated or with another mechanism.
constexpr std::string_view kNotBuilt[] = {
    "GSSAPI", "MONGODB-X509", "MONGODB-AWS", "MONGODB-OIDC", "MONGODB-CR",
};

constexpr std::string_view kBuiltList = "SCRAM-SHA-256, SCRAM-SHA-1 and PLAIN";

std::string_view name_of(Mechanism m) {
  for (const Named& n : kBuilt) {
    if (n.mechanism == m) return n.name;
  }
  return "the default mechanism (SCRAM-SHA-256 or SCRAM-SHA-1, negotiated)";
}

// Mechanism names are matched without regard to ASCII case ("scram-sha-256" is meant as
// SCRAM-SHA-256); messages use the canonical spelling.
Mechanism parse_mechanism(const std::string& given) {
  std::string lower = ascii_lower(given);
  for (const Named& n : kBuilt) {
    if (ascii_lower(n.name) == lower) return n.mechanism;
  }
  for (std::string_view name : kNotBuilt) {
    if (ascii_lower(name) == lower) {
      throw_invalid_uri("authMechanism=" + printable(given) + ": mechanism " + std::string(name) +
                        " is not supported by mongoslice (it implements " +
                        std::string(kBuiltList) + ")");
    }
  }
  if (given.empty())
    throw_invalid_uri("authMechanism is empty; expected " + std::string(kBuiltList));
  throw_invalid_uri("authMechanism=" + printable(given) +
                    " is not a known mechanism (mongoslice "
                    "implements " +
                    std::string(kBuiltList) + ")");
}

// "KEY:value,KEY2:value2": each key and value decoded after the split, so "%2C" and "%3A" may
// appear inside them; a value may hold further ':' ("TOKEN_RESOURCE:mongodb://host").
std::map<std::string, std::string> parse_properties(std::string_view raw) {
  std::map<std::string, std::string> out;
  while (true) {
    std::size_t comma = raw.find(',');
    std::string_view item = raw.substr(0, comma);
    std::size_t colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size()) {
      throw_invalid_uri(
          "authMechanismProperties: expected KEY:value pairs separated by ',' (a key or a value "
          "is missing)");
    }
    std::string key = percent_decode(item.substr(0, colon), "an authMechanismProperties key");
    std::string value = percent_decode(item.substr(colon + 1), "an authMechanismProperties value");
    if (!out.emplace(key, std::move(value)).second) {
      throw_invalid_uri("authMechanismProperties gives " + quoted(key) + " more than once");
    }
    if (comma == std::string_view::npos) return out;
    raw = raw.substr(comma + 1);
  }
}

}  // namespace

void build_credential(ConnectionString& out, const std::optional<std::string>& mechanism,
                      const std::optional<std::string>& properties) {
  out.credential.reset();
  std::optional<Mechanism> named;
  if (mechanism) named = parse_mechanism(*mechanism);
  std::map<std::string, std::string> props;
  if (properties) props = parse_properties(*properties);

  Mechanism m = named.value_or(Mechanism::kNegotiate);
  if (!props.empty()) {
    // None of the mechanisms built takes a property; one given was meant for another mechanism.
    throw_invalid_uri("authMechanismProperties do not apply to " + std::string(name_of(m)) +
                      " (the auth spec: they MUST NOT be given for it)");
  }
  if (!out.username && !named) return;  // nothing asks for authentication

  std::string_view mech = name_of(m);
  if (!out.username || out.username->empty()) {
    throw_invalid_uri("authMechanism=" + std::string(mech) +
                      " needs a user name: mongodb://user:password@host/");
  }
  if (!out.password) {
    throw_invalid_uri("user " + quoted(*out.username) + " has no password, which " +
                      std::string(mech) +
                      " needs (write user:password@host; an empty password is user:@host)");
  }
  auth::Credential c;
  c.mechanism = m;
  c.username = *out.username;
  c.password = out.password;
  if (out.auth_source) {
    c.source = *out.auth_source;
  } else if (out.auth_database) {
    c.source = *out.auth_database;
  } else {
    c.source = m == Mechanism::kPlain ? "$external" : "admin";
  }
  out.credential = std::move(c);
}

}  // namespace mongoslice::uri_detail
