#include "auth/mechanism.hpp"

#include <memory>
#include <utility>

#include "auth/plain.hpp"
#include "wire/error.hpp"

namespace mongoslice::auth {
namespace {

std::string context_of(const Credential& credential) {
  return "user \"" + escaped_for_message(credential.username, '"') + "\" on \"" +
         escaped_for_message(credential.source, '"') + "\"";
}

}  // namespace

std::string_view mechanism_name(Mechanism mechanism) noexcept {
  switch (mechanism) {
    case Mechanism::kScramSha1:
      return "SCRAM-SHA-1";
    case Mechanism::kScramSha256:
      return "SCRAM-SHA-256";
    case Mechanism::kPlain:
      return "PLAIN";
    case Mechanism::kNegotiate:
      break;
  }
  return "DEFAULT";
}

std::optional<Mechanism> parse_mechanism(std::string_view name) noexcept {
  if (name == "SCRAM-SHA-1") return Mechanism::kScramSha1;
  if (name == "SCRAM-SHA-256") return Mechanism::kScramSha256;
  if (name == "PLAIN") return Mechanism::kPlain;
  if (name == "DEFAULT") return Mechanism::kNegotiate;
  return std::nullopt;
}

void validate_credential(const Credential& credential) {
  const std::string mechanism(mechanism_name(credential.mechanism));
  if (credential.username.empty()) {
    throw Error(errc::invalid_credential, mechanism + " needs a user name");
  }
  if (!credential.password) {
    throw Error(errc::invalid_credential,
                mechanism + " needs a password (" + context_of(credential) + ")");
  }
  if (!credential.mechanism_properties.empty()) {
    throw Error(errc::invalid_credential,
                mechanism + " takes no authMechanismProperties (" + context_of(credential) + ")");
  }
}

std::string sasl_supported_mechs_request(const Credential& credential) {
  return credential.source + "." + credential.username;
}

Mechanism select_mechanism(const Credential& credential, bson::View hello_reply) {
  if (credential.mechanism != Mechanism::kNegotiate) return credential.mechanism;
  auto mechs = hello_reply.find("saslSupportedMechs");
  if (mechs && mechs->type() == bson::Type::kArray) {
    for (auto mech : mechs->get_array()) {
      if (mech.type() == bson::Type::kString && mech.get_string() == "SCRAM-SHA-256") {
        return Mechanism::kScramSha256;
      }
    }
  }
  return Mechanism::kScramSha1;
}

Conversation make_conversation(const Credential& credential, Mechanism mechanism,
                               const AuthOptions& options) {
  validate_credential(credential);
  std::unique_ptr<SaslClient> client;
  switch (mechanism) {
    case Mechanism::kScramSha1:
    case Mechanism::kScramSha256:
      client = std::make_unique<ScramClient>(mechanism, credential.username, *credential.password,
                                             options);
      break;
    case Mechanism::kPlain:
      client = std::make_unique<PlainClient>(credential.username, *credential.password);
      break;
    case Mechanism::kNegotiate:
      throw Error(errc::invalid_argument, "make_conversation: the mechanism is not chosen yet");
  }
  return Conversation(credential.source, std::move(client), context_of(credential));
}

Authenticator::Authenticator(Credential credential, AuthOptions options)
    : credential_(std::move(credential)), options_(std::move(options)) {
  validate_credential(credential_);
}

void Authenticator::add_to_hello(bson::Builder& hello) {
  if (credential_.mechanism == Mechanism::kNegotiate) {
    hello.append("saslSupportedMechs", sasl_supported_mechs_request(credential_));
  }
  // The speculative auth spec: a negotiated mechanism speculates with SCRAM-SHA-256 (servers
  // old enough to lack it do not know speculativeAuthenticate either).
  const Mechanism speculative = credential_.mechanism == Mechanism::kNegotiate
                                    ? Mechanism::kScramSha256
                                    : credential_.mechanism;
  speculated_ = false;
  conversation_.reset();
  try {
    conversation_.emplace(make_conversation(credential_, speculative, options_));
  } catch (const Error& e) {
    // A password SASLprep refuses may still do for SCRAM-SHA-1, which the server may pick: no
    // speculation then, and on_hello_reply() decides.
    if (credential_.mechanism != Mechanism::kNegotiate ||
        e.code() != make_error_code(errc::invalid_credential)) {
      throw;
    }
    return;
  }
  if (auto document = conversation_->speculative_document()) {
    hello.append("speculativeAuthenticate", *document);
    speculated_ = true;
  }
}

Step Authenticator::on_hello_reply(bson::View hello_reply) {
  if (speculated_) {
    auto answer = hello_reply.find("speculativeAuthenticate");
    if (answer && answer->type() == bson::Type::kDocument) {
      return conversation_->resume(answer->get_document());
    }
  }
  // No speculative answer (an older server, another mechanism, or it refused): the mechanism
  // the reply negotiates, from a fresh start (a new nonce).
  const Mechanism mechanism = select_mechanism(credential_, hello_reply);
  if (!conversation_ || conversation_->mechanism() != mechanism) {
    conversation_.emplace(make_conversation(credential_, mechanism, options_));
  }
  speculated_ = false;
  return conversation_->first_command();
}

Step Authenticator::feed(bson::View reply) {
  if (!conversation_) {
    throw Error(errc::authentication_failed, "authentication: a reply before the hello's");
  }
  return conversation_->feed(reply);
}

Mechanism Authenticator::mechanism() const noexcept {
  return conversation_ ? conversation_->mechanism() : credential_.mechanism;
}

}  // namespace mongoslice::auth
