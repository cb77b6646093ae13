#include "net/handshake.hpp"

#include <algorithm>
#include <atomic>

#include "net/client_metadata.hpp"
#include "wire/error.hpp"
#include "wire/op_query.hpp"

namespace mongoslice {
namespace {

std::int32_t int32_field(bson::View doc, std::string_view key, std::int32_t fallback) {
  auto element = doc.find(key);
  if (!element || !element->is_number()) return fallback;
  auto value = element->as_int64();
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(value, 0, INT32_MAX));
}

HelloFacts facts_of(bson::Document reply, const HostAndPort& server) {
  HelloFacts facts;
  facts.reply = std::move(reply);
  const bson::View hello = facts.reply.view();
  facts.max_wire_version = int32_field(hello, "maxWireVersion", 0);
  facts.max_bson_object_size = int32_field(hello, "maxBsonObjectSize", facts.max_bson_object_size);
  facts.max_message_size_bytes =
      int32_field(hello, "maxMessageSizeBytes", facts.max_message_size_bytes);
  facts.max_write_batch_size = int32_field(hello, "maxWriteBatchSize", facts.max_write_batch_size);
  auto hello_ok = hello.find("helloOk");
  // A helloOk of another type is no promise: treated as false (isMaster keeps working).
  facts.hello_ok = hello_ok && hello_ok->type() == bson::Type::kBool && hello_ok->get_bool();

  if (facts.max_wire_version < kMinWireVersion) {
    throw Error(errc::incompatible_server, "server at " + server.to_string() +
                                               " reports maxWireVersion " +
                                               std::to_string(facts.max_wire_version) +
                                               "; mongoslice needs 8 (MongoDB 4.2) or newer");
  }
  if (auto min = int32_field(hello, "minWireVersion", 0); min > kMaxWireVersion) {
    throw Error(errc::incompatible_server, "server at " + server.to_string() +
                                               " requires minWireVersion " + std::to_string(min) +
                                               "; mongoslice speaks up to " +
                                               std::to_string(kMaxWireVersion) + " (MongoDB 8.0)");
  }
  return facts;
}

}  // namespace

std::int32_t next_request_id() noexcept {
  static std::atomic<std::int32_t> counter{0};
  return (counter.fetch_add(1, std::memory_order_relaxed) & 0x7fffffff) + 1;
}

std::size_t next_reply_size(std::size_t have, std::size_t length) noexcept {
  return std::min(length, std::max(kFirstReplyStep, have * 2));
}

HandshakeRequest make_handshake_request(const std::optional<std::string>& app_name,
                                        auth::Authenticator* authenticator,
                                        std::span<const wire::Compressor> compressors) {
  bson::Builder builder;
  builder.append("isMaster", 1).append("helloOk", true).append("client", client_metadata(app_name));
  if (!compressors.empty()) {
    builder.open_array("compression");
    for (const wire::Compressor c : compressors) builder.append_value(wire::name_of(c));
    builder.close();
  }
  if (authenticator) authenticator->add_to_hello(builder);
  const auto command = builder.build();
  HandshakeRequest request{next_request_id(), {}};
  request.message = wire::encode_op_query_command(request.request_id, "admin", command.view());
  return request;
}

HelloFacts read_handshake_reply(std::vector<std::uint8_t> message, std::int32_t request_id,
                                std::size_t max_message_size, const HostAndPort& server) {
  wire::OpReply reply;
  wire::DecodeDiagnostics diagnostics;
  if (auto ec = wire::decode_op_reply(std::move(message), request_id, max_message_size, reply,
                                      &diagnostics)) {
    throw Error(ec, "the handshake reply from " + server.to_string() + " to request " +
                        std::to_string(request_id) + ": " + diagnostics.describe());
  }
  bson::Document result(reply.document());
  std::optional<ServerError> error;
  try {
    error = ServerError::from_reply(result);
  } catch (const Error& e) {
    throw Error(e.code(), "the handshake reply from " + server.to_string() + ": " + e.what());
  }
  if (error) throw *error;
  return facts_of(std::move(result), server);
}

std::optional<wire::Compressor> negotiated_compressor(bson::View hello_reply,
                                                      std::span<const wire::Compressor> offered) {
  auto field = hello_reply.find("compression");
  if (offered.empty() || !field || field->type() != bson::Type::kArray) return std::nullopt;
  std::vector<std::string_view> names;
  for (const auto& name : field->get_array()) {
    if (name.type() != bson::Type::kString) return std::nullopt;
    names.push_back(name.get_string());
  }
  return wire::choose_compressor(offered, names);
}

std::vector<std::uint8_t> encode_command(std::int32_t request_id, std::string_view db,
                                         bson::View command,
                                         std::span<const wire::DocumentSequence> sequences,
                                         std::size_t max_message_size, const HostAndPort& server,
                                         const std::optional<wire::Compression>& compression,
                                         std::uint32_t flags) {
  // The wire builders already name the database; only a command without $db is copied to add
  // it. A $db that names another database than `db` is the caller's mistake.
  std::optional<bson::Document> with_db;
  if (auto named = command.find("$db")) {
    if (named->type() != bson::Type::kString || named->get_string() != db) {
      throw Error(errc::invalid_argument, "command's $db does not match the database '" +
                                              std::string(db) + "' it is run on");
    }
  } else {
    with_db = bson::Builder{}.concat(command).append("$db", db).build();
  }
  auto message =
      wire::encode_op_msg(request_id, with_db ? with_db->view() : command, flags, sequences);
  if (message.size() > max_message_size) {
    throw Error(errc::invalid_argument, "command of " + std::to_string(message.size()) +
                                            " bytes exceeds the " +
                                            std::to_string(max_message_size) +
                                            "-byte maxMessageSizeBytes of " + server.to_string());
  }
  if (compression) {
    auto first = command.begin();
    if (first != command.end() && wire::may_compress_command((*first).key())) {
      return wire::encode_op_compressed(message, compression->compressor, compression->zlib_level);
    }
  }
  return message;
}

wire::OpMsg decode_command_reply(std::vector<std::uint8_t> message, std::int32_t request_id,
                                 std::size_t max_message_size, const HostAndPort& server,
                                 wire::MoreToCome more_to_come) {
  wire::DecodeDiagnostics diagnostics;
  if (message.size() >= wire::kHeaderSize && message[12] == (wire::kOpCompressed & 0xff) &&
      message[13] == (wire::kOpCompressed >> 8) && message[14] == 0 && message[15] == 0) {
    std::vector<std::uint8_t> original;
    if (auto ec = wire::decode_op_compressed(message, wire::kOpMsg, max_message_size, original,
                                             &diagnostics)) {
      throw Error(ec, "the compressed reply from " + server.to_string() + " to request " +
                          std::to_string(request_id) + ": " + diagnostics.describe());
    }
    message = std::move(original);
  }
  wire::OpMsg reply;
  if (auto ec = wire::decode_op_msg(std::move(message), request_id, max_message_size, reply,
                                    &diagnostics, more_to_come)) {
    throw Error(ec, "the reply from " + server.to_string() + " to request " +
                        std::to_string(request_id) + ": " + diagnostics.describe());
  }
  return reply;
}

void check_command_reply(bson::View reply, const HostAndPort& server) {
  std::optional<ServerError> error;
  try {
    error = ServerError::from_reply(reply);
  } catch (const Error& e) {
    // ok: 0 with fields we cannot read (e.g. a code out of range): the peer is not trusted.
    throw Error(e.code(), "the reply from " + server.to_string() + ": " + e.what());
  }
  if (error) throw *error;
}

}  // namespace mongoslice
