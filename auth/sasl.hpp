#pragma once
// A SASL conversation with the server (the auth spec's saslStart / saslContinue), sans-I/O: it
// says which command to send and reads each reply, like the operations in ops/. The engine
// that runs it does the I/O:
//
//   auth::Step step = conversation.first_command();
//   while (auto* command = std::get_if<auth::Command>(&step))
//     step = conversation.feed(round_trip(command->db, command->body));
//   // auth::Done: authenticated, and (SCRAM) the server proved it knows the password.
//
// A mechanism (SCRAM, PLAIN) only turns payloads into payloads (SaslClient); Conversation wraps
// them in the commands and reads conversationId, done and payload from the replies.
//
// Errors: feed() throws ServerError for {ok: 0} (the server's code, e.g. 18 AuthenticationFailed;
// its message gains the user and the mechanism), and Error(errc::authentication_failed) for a
// reply that breaks the protocol or a server that does not prove itself. No message holds the
// password or a payload.
//
// Thread-safety: one conversation is run by one connection at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "auth/credential.hpp"
#include "wire/bson.hpp"

namespace mongoslice::auth {

// One command to send to `db` (the credential's source); the engine adds $db.
struct Command {
  std::string db;
  bson::Document body;
};
// The conversation has ended and the client is authenticated.
struct Done {};
using Step = std::variant<Command, Done>;

// The client side of one SASL mechanism, payload by payload.
class SaslClient {
 public:
  virtual ~SaslClient() = default;
  virtual Mechanism mechanism() const noexcept = 0;
  // The first payload. Calling it again starts the mechanism over (SCRAM: a new nonce).
  virtual std::vector<std::uint8_t> start() = 0;
  // The payload answering the server's; throws Error(errc::authentication_failed) for one the
  // mechanism refuses.
  virtual std::vector<std::uint8_t> step(std::span<const std::uint8_t> server_payload) = 0;
  // Whether the client has all it needs from the server (SCRAM: the server signature verified).
  virtual bool complete() const noexcept = 0;
  // Whether the mechanism may go in the handshake's speculativeAuthenticate (SCRAM: yes).
  virtual bool speculative() const noexcept = 0;
};

class Conversation {
 public:
  // A conversation gives up after this many replies (a server answering done: false forever).
  static constexpr int kMaxReplies = 10;

  // `context` names who authenticates, for messages: e.g. user "alice" on "admin".
  Conversation(std::string source, std::unique_ptr<SaslClient> client, std::string context);
  Conversation(Conversation&&) noexcept;
  Conversation& operator=(Conversation&&) noexcept;
  ~Conversation();

  Mechanism mechanism() const noexcept;
  const std::string& source() const noexcept { return source_; }
  bool done() const noexcept { return done_; }

  // {saslStart: 1, mechanism, payload, autoAuthorize: 1[, options: {skipEmptyExchange: true}]}
  // for the credential's source. Starts (or starts over) the conversation.
  Command first_command();
  // The handshake's speculativeAuthenticate value: first_command()'s body with db: <source>.
  // Nothing for a mechanism that does not speculate (PLAIN). Starts (over) the conversation.
  std::optional<bson::Document> speculative_document();
  // The hello reply's speculativeAuthenticate document ({conversationId, done, payload}): the
  // server's answer to speculative_document(). Returns the next command, or Done.
  Step resume(bson::View speculative_reply);
  // The reply to the last command.
  Step feed(bson::View reply);

 private:
  bson::Document start_body();
  Step on_payload(bson::View reply);
  [[noreturn]] void fail(const std::string& why) const;

  std::string source_;
  std::unique_ptr<SaslClient> client_;
  std::string context_;
  std::optional<std::int32_t> conversation_id_;
  int replies_ = 0;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace mongoslice::auth
