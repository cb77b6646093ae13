#include "monitor/application_error.hpp"

#include "wire/error.hpp"

namespace mongoslice {
namespace {

bool is_not_writable_primary_code(std::int32_t code) {
  return code == 10107 || code == 13435 || code == 10058;
}
bool is_node_recovering_code(std::int32_t code) {
  return code == 11600 || code == 11602 || code == 13436 || code == 189 || code == 91;
}
bool is_shutdown_code(std::int32_t code) {
  return code == 11600 || code == 91;
}

// An error document's code (0: none) and message; nothing when the fields are malformed.
struct CodeAndMessage {
  std::int32_t code = 0;
  std::string_view message;
};
std::optional<CodeAndMessage> code_and_message(bson::View error) {
  CodeAndMessage out;
  if (auto code = error.find("code")) {
    if (!code->is_number()) return std::nullopt;
    try {
      out.code = code->as_int32();
    } catch (const Error&) {
      return std::nullopt;  // out of range: not a code any rule names
    }
  }
  if (auto message = error.find("errmsg"); message && message->type() == bson::Type::kString) {
    out.message = message->get_string();
  }
  return out;
}

std::optional<StateChangeError> judge(bson::View error, bson::View reply) {
  auto fields = code_and_message(error);
  if (!fields) return std::nullopt;
  bool state_change = false;
  if (fields->code != 0) {
    state_change =
        is_not_writable_primary_code(fields->code) || is_node_recovering_code(fields->code);
  } else {
    // Old servers: the message alone. "not master or secondary" is a recovering message that
    // also contains "not master"; both are state changes, so one search covers them.
    state_change = fields->message.find("not master") != std::string_view::npos ||
                   fields->message.find("node is recovering") != std::string_view::npos;
  }
  if (!state_change) return std::nullopt;
  StateChangeError out;
  out.shutdown = is_shutdown_code(fields->code);
  out.topology_version = topology_version_of(reply);
  return out;
}

}  // namespace

std::optional<TopologyVersion> topology_version_of(bson::View reply) {
  try {
    auto element = reply.find("topologyVersion");
    if (!element || element->type() != bson::Type::kDocument) return std::nullopt;
    auto doc = element->get_document();
    TopologyVersion version;
    version.process_id = doc["processId"].get_oid();
    version.counter = doc["counter"].as_int64();
    return version;
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<StateChangeError> state_change_error(bson::View reply) {
  try {
    auto ok = reply.find("ok");
    if (!ok || !ok->as_bool()) return judge(reply, reply);
    auto concern = reply.find("writeConcernError");
    if (concern && concern->type() == bson::Type::kDocument) {
      return judge(concern->get_document(), reply);
    }
  } catch (const Error&) {  // an 'ok' of a type as_bool cannot read: not an answer we judge
  }
  return std::nullopt;
}

ErrorResponse respond_to_application_error(const ApplicationError& error,
                                           const TopologyDescription& topology,
                                           std::uint64_t pool_generation) {
  ErrorResponse response;
  if (error.kind == ApplicationErrorKind::kIgnored) return response;
  if (error.pool_generation < pool_generation) return response;  // the pool was cleared since
  if (!topology.find(error.address)) return response;

  if (error.phase == ConnectionPhase::kAuthenticating) {
    // Whatever broke the conversation (refused, reset, timed out, a proof that did not verify):
    // the pool's connections cannot be trusted to authenticate either.
    if (error.kind == ApplicationErrorKind::kIgnored) return response;
    if (error.reply) {
      response.topology_version = topology_version_of(error.reply->view());
      if (topology.is_stale_error(error.address, response.topology_version)) return {};
    }
    response.mark_unknown = response.clear_pool = response.request_check = true;
    return response;
  }
  if (error.phase == ConnectionPhase::kEstablishing) {
    // A network error or timeout while connecting or in the hello is the server shedding load
    // (the client-backpressure rule: such errors carry SystemOverloadedError and must not mark
    // the server Unknown or clear its pool); a command error in the handshake does both.
    if (error.kind != ApplicationErrorKind::kCommand) return response;
    // The spec's handleError runs the topologyVersion check for every error with a reply, and
    // asks for a check after it marks a server Unknown.
    if (error.reply) {
      response.topology_version = topology_version_of(error.reply->view());
      if (topology.is_stale_error(error.address, response.topology_version)) return {};
    }
    response.mark_unknown = response.clear_pool = response.request_check = true;
    return response;
  }
  switch (error.kind) {
    case ApplicationErrorKind::kNetwork:
      // The server-monitoring spec: a server marked Unknown by a network error when reading or
      // writing also has its check in progress cancelled.
      response.mark_unknown = response.clear_pool = response.cancel_check = true;
      return response;
    case ApplicationErrorKind::kTimeout:
    case ApplicationErrorKind::kIgnored:
      return response;
    case ApplicationErrorKind::kCommand:
      break;
  }
  if (!error.reply) return response;
  auto state_change = state_change_error(error.reply->view());
  if (!state_change) return response;
  if (topology.is_stale_error(error.address, state_change->topology_version)) return response;
  response.mark_unknown = response.request_check = true;
  response.clear_pool = state_change->shutdown || error.max_wire_version < 8;
  response.topology_version = state_change->topology_version;
  return response;
}

}  // namespace mongoslice
