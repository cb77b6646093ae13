#include "auth/sasl.hpp"

#include <utility>

#include "auth/mechanism.hpp"
#include "wire/error.hpp"

namespace mongoslice::auth {

Conversation::Conversation(std::string source, std::unique_ptr<SaslClient> client,
                           std::string context)
    : source_(std::move(source)), client_(std::move(client)), context_(std::move(context)) {
}
Conversation::Conversation(Conversation&&) noexcept = default;
Conversation& Conversation::operator=(Conversation&&) noexcept = default;
Conversation::~Conversation() = default;

Mechanism Conversation::mechanism() const noexcept {
  return client_->mechanism();
}

void Conversation::fail(const std::string& why) const {
  throw Error(errc::authentication_failed, std::string(mechanism_name(mechanism())) +
                                               " authentication of " + context_ +
                                               " failed: " + why);
}

bson::Document Conversation::start_body() {
  conversation_id_.reset();
  replies_ = 0;
  done_ = false;
  started_ = true;
  const auto payload = client_->start();
  bson::Builder body;
  body.append("saslStart", 1)
      .append("mechanism", mechanism_name(mechanism()))
      .append_binary("payload", 0, payload)
      .append("autoAuthorize", 1);
  // The auth spec asks SCRAM to skip the empty third round trip where the server can.
  if (client_->speculative())
    body.open_document("options").append("skipEmptyExchange", true).close();
  return body.build();
}

Command Conversation::first_command() {
  return Command{source_, start_body()};
}

std::optional<bson::Document> Conversation::speculative_document() {
  if (!client_->speculative()) return std::nullopt;
  const auto body = start_body();
  return bson::Builder{}.concat(body).append("db", source_).build();
}

Step Conversation::resume(bson::View speculative_reply) {
  if (!started_ || conversation_id_) fail("a speculative reply without a speculative start");
  return on_payload(speculative_reply);
}

Step Conversation::feed(bson::View reply) {
  if (!started_ || done_) fail("a reply with no command outstanding");
  if (auto error = ServerError::from_reply(reply)) {
    // The server's refusal keeps its code (18 AuthenticationFailed, ...) for SDAM and the pool;
    // its message gains who tried, with which mechanism.
    std::string errmsg =
        error->errmsg().empty() ? std::string("authentication failed") : error->errmsg();
    errmsg += " (" + std::string(mechanism_name(mechanism())) + ", " + context_ + ")";
    throw ServerError(error->server_code(), error->code_name(), std::move(errmsg),
                      error->error_labels(), error->reply());
  }
  return on_payload(reply);
}

Step Conversation::on_payload(bson::View reply) {
  if (++replies_ > kMaxReplies) fail("the server did not end the conversation");
  auto id = reply.find("conversationId");
  auto done = reply.find("done");
  auto payload = reply.find("payload");
  if (!id || !id->is_number()) fail("the server's reply has no numeric conversationId");
  if (!done || done->type() != bson::Type::kBool) fail("the server's reply has no boolean done");
  if (!payload || payload->type() != bson::Type::kBinary) {
    fail("the server's reply has no binary payload");
  }
  const std::int32_t conversation_id = id->as_int32();
  if (conversation_id_ && *conversation_id_ != conversation_id) {
    fail("the server's reply belongs to another conversation");
  }
  conversation_id_ = conversation_id;
  const auto server_payload = payload->get_binary().bytes;

  std::vector<std::uint8_t> next;
  if (done->get_bool() && !client_->complete() && server_payload.empty()) {
    // A server that says done before proving itself (SCRAM's server signature) is refused: the
    // client does not take the server's word for it.
    fail("the server ended the conversation before proving itself");
  }
  if (!client_->complete()) {
    next = client_->step(server_payload);
  } else if (!server_payload.empty()) {
    fail("the server sent a payload after the conversation was complete");
  }
  if (done->get_bool()) {
    if (!client_->complete()) fail("the server ended the conversation before proving itself");
    done_ = true;
    return Done{};
  }
  bson::Builder body;
  body.append("saslContinue", 1)
      .append("conversationId", conversation_id)
      .append_binary("payload", 0, next);
  return Command{source_, body.build()};
}

}  // namespace mongoslice::auth
