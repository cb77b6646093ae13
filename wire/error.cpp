#include "wire/error.hpp"

#include <algorithm>
#include <new>

namespace mongoslice {
namespace {

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mongoslice"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::message_too_short:
        return "message length below the minimum";
      case errc::message_too_large:
        return "message length above maxMessageSizeBytes";
      case errc::unexpected_opcode:
        return "unexpected opcode";
      case errc::response_to_mismatch:
        return "responseTo does not match the request";
      case errc::unknown_required_flags:
        return "unknown required OP_MSG flag bits";
      case errc::unknown_section_kind:
        return "unknown OP_MSG section kind";
      case errc::missing_body_section:
        return "OP_MSG without a body section";
      case errc::duplicate_body_section:
        return "OP_MSG with more than one body section";
      case errc::section_overrun:
        return "OP_MSG section runs past the end of the message";
      case errc::invalid_bson:
        return "invalid BSON";
      case errc::checksum_mismatch:
        return "OP_MSG checksum mismatch";
      case errc::unexpected_more_to_come:
        return "OP_MSG moreToCome on a reply to a request that did not allow it";
      case errc::op_reply_error_flags:
        return "OP_REPLY with QueryFailure or CursorNotFound set";
      case errc::op_reply_malformed:
        return "OP_REPLY that is not a single command reply";
      case errc::unknown_compressor:
        return "OP_COMPRESSED with an unknown compressor id";
      case errc::nested_compression:
        return "OP_COMPRESSED inside an OP_COMPRESSED";
      case errc::uncompressed_size_mismatch:
        return "OP_COMPRESSED whose uncompressedSize does not match its data";
      case errc::decompression_failed:
        return "OP_COMPRESSED whose compressed data is corrupt or truncated";
      case errc::network_error:
        return "network error";
      case errc::timeout:
        return "operation timed out";
      case errc::connection_closed:
        return "connection closed by peer";
      case errc::interrupted:
        return "operation interrupted";
      case errc::incompatible_server:
        return "incompatible server";
      case errc::invalid_uri:
        return "invalid connection string";
      case errc::invalid_argument:
        return "invalid argument";
      case errc::server_selection_timeout:
        return "server selection timed out";
      case errc::client_closed:
        return "client closed";
      case errc::bson_type_mismatch:
        return "BSON type mismatch";
      case errc::bson_key_missing:
        return "BSON key missing";
      case errc::cursor_error:
        return "invalid cursor reply";
      case errc::pool_timeout:
        return "timed out waiting for a pooled connection";
      case errc::pool_cleared:
        return "the connection pool was cleared";
      case errc::authentication_failed:
        return "authentication failed";
      case errc::invalid_credential:
        return "invalid credential";
    }
    return "unknown mongoslice error";
  }
};

class ServerCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "mongodb-server"; }
  std::string message(int value) const override { return "server error " + std::to_string(value); }
};

std::string describe(std::int32_t code, const std::string& code_name, const std::string& errmsg) {
  std::string text = errmsg.empty() ? std::string("command failed") : errmsg;
  text += " (code ";
  text += std::to_string(code);
  if (!code_name.empty()) {
    text += ", ";
    text += code_name;
  }
  text += ")";
  return text;
}

// The category of type C, constructed on first use in static storage and never destroyed.
// A std::error_code holds only a pointer to its category, and an error may be built, printed
// or compared during static destruction (the destructor of a client held in a static, an exit
// handler), and a function-local static category may be destroyed by then: statics die in the
// reverse order of their construction, interleaved with the exit handlers. The pointer is
// trivially destructible, so nothing is registered to run at exit; the categories hold no
// state, so never running their destructors loses nothing.
template <typename C>
const std::error_category& immortal() noexcept {
  alignas(C) static unsigned char storage[sizeof(C)];
  static const C* const category = ::new (static_cast<void*>(storage)) C();
  return *category;
}

}  // namespace

const std::error_category& client_category() noexcept {
  return immortal<ClientCategory>();
}

const std::error_category& server_category() noexcept {
  return immortal<ServerCategory>();
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

ServerError::ServerError(std::int32_t code, std::string code_name, std::string errmsg,
                         std::vector<std::string> labels, bson::Document reply)
    : Error(std::error_code(code, server_category()), describe(code, code_name, errmsg)),
      code_name_(std::move(code_name)),
      errmsg_(std::move(errmsg)),
      labels_(std::move(labels)),
      reply_(std::move(reply)) {
}

std::optional<ServerError> ServerError::from_reply(bson::View reply) {
  auto ok = reply.find("ok");
  if (ok && ok->as_bool()) return std::nullopt;

  std::int32_t code = 0;
  std::string code_name, errmsg;
  std::vector<std::string> labels;
  for (auto element : reply) {
    auto key = element.key();
    if (key == "code" && element.is_number()) {
      // Throws for a code no int32 holds (1e300, NaN, 2^40): the reply is malformed.
      code = element.as_int32();
    } else if (key == "codeName" && element.type() == bson::Type::kString) {
      code_name = element.get_string();
    } else if (key == "errmsg" && element.type() == bson::Type::kString) {
      errmsg = element.get_string();
    } else if (key == "errorLabels" && element.type() == bson::Type::kArray) {
      for (auto label : element.get_array()) {
        if (label.type() == bson::Type::kString) labels.emplace_back(label.get_string());
      }
    }
  }
  if (!ok && errmsg.empty()) errmsg = "reply has no 'ok' field";
  return ServerError(code, std::move(code_name), std::move(errmsg), std::move(labels),
                     bson::Document(reply));
}

bool ServerError::has_error_label(std::string_view label) const noexcept {
  return std::find(labels_.begin(), labels_.end(), label) != labels_.end();
}

std::string escaped_for_message(std::string_view text, char quote) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    }
  }
  return out;
}

}  // namespace mongoslice
