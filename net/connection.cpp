#include "net/connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <utility>
#include <vector>

#include "net/handshake.hpp"
#include "wire/error.hpp"
#include "wire/op_query.hpp"

namespace mongoslice {

Connection::Connection(HostAndPort address, ConnectionOptions options)
    : address_(std::move(address)), options_(std::move(options)), socket_(address_, options_.dns) {
}

Connection::~Connection() = default;

void Connection::fail(std::error_code code, const std::string& detail) {
  socket_.close();
  throw Error(code, detail);
}

void Connection::connect(std::optional<Deadline> limit) {
  // connectTimeoutMS bounds the whole of it: resolve, TCP connect and handshake.
  // connectTimeoutMS=0 means "no limit" (URI options spec), not "give up at once".
  auto deadline = options_.connect_timeout.count() > 0
                      ? Deadline::after(options_.connect_timeout, "connectTimeoutMS")
                      : Deadline::none();
  if (limit) deadline = Deadline::earlier(deadline, *limit);
  if (options_.tls && !tls_context_) {
    try {
      tls_context_ = TlsContext::shared(*options_.tls);
    } catch (const Error& e) {
      // what() ends with the code's own message, which the new Error appends again.
      std::string detail = e.what();
      const std::string suffix = ": " + e.code().message();
      if (detail.ends_with(suffix)) detail.resize(detail.size() - suffix.size());
      throw Error(e.code(), "connecting to " + address_.to_string() + ": " + detail);
    }
  }
  socket_.connect(deadline);
  if (tls_context_) socket_.start_tls(tls_context_, deadline);
  handshake(deadline);
}

void Connection::handshake(const Deadline& deadline) {
  std::optional<auth::Authenticator> authenticator;
  if (options_.credential) {
    authenticator.emplace(*options_.credential, auth::AuthOptions{{}, options_.key_cache});
  }
  const HandshakeRequest request = make_handshake_request(
      options_.app_name, authenticator ? &*authenticator : nullptr, options_.compressors);
  const auto started = SteadyClock::now();
  socket_.write_all(request.message, deadline);
  auto bytes = read_message(&wire::parse_op_reply_header, deadline);
  HelloFacts facts;
  try {
    facts = read_handshake_reply(std::move(bytes), request.request_id, options_.max_message_size,
                                 address_);
  } catch (...) {
    socket_.close();  // a connection whose handshake failed is of no use
    throw;
  }
  handshake_rtt_ = SteadyClock::now() - started;
  record_hello(std::move(facts));
  if (authenticator) authenticate(*authenticator, deadline);
}

void Connection::authenticate(auth::Authenticator& authenticator, const Deadline& deadline) {
  // The conversation's commands are round trips of the handshake: within its deadline
  // (connectTimeoutMS), and a failure leaves the connection of no use.
  try {
    auth::Step step = authenticator.on_hello_reply(hello_reply_.view());
    while (auto* command = std::get_if<auth::Command>(&step)) {
      const bson::Document reply = round_trip(command->db, command->body.view(), {}, deadline);
      step = authenticator.feed(reply.view());
    }
  } catch (Error& e) {
    socket_.close();
    e.mark_during_authentication();
    throw;
  } catch (...) {
    socket_.close();
    throw;
  }
}

void Connection::record_hello(HelloFacts facts) {
  hello_reply_ = std::move(facts.reply);
  max_wire_version_ = facts.max_wire_version;
  max_bson_object_size_ = facts.max_bson_object_size;
  max_message_size_bytes_ = facts.max_message_size_bytes;
  max_write_batch_size_ = facts.max_write_batch_size;
  hello_ok_ = facts.hello_ok;
  compression_.reset();
  if (auto chosen = negotiated_compressor(hello_reply_.view(), options_.compressors)) {
    compression_ = wire::Compression{*chosen, options_.zlib_compression_level};
  }
  if (max_message_size_bytes_ > 0) options_.max_message_size = max_message_size_bytes_;
}

bson::Document Connection::run_command(std::string_view db, bson::View command) {
  return run_command(db, command, {}, std::nullopt);
}

bson::Document Connection::run_command(std::string_view db, bson::View command,
                                       std::span<const wire::DocumentSequence> sequences,
                                       std::optional<Deadline> deadline) {
  refuse_during_stream("run a command");
  return round_trip(
      db, command, sequences,
      deadline ? *deadline : Deadline::after(options_.socket_timeout, "socketTimeoutMS"));
}

bson::Document Connection::round_trip(std::string_view db, bson::View command,
                                      std::span<const wire::DocumentSequence> sequences,
                                      const Deadline& deadline) {
  const std::int32_t request_id = next_request_id();
  // Throws before anything is sent: the connection is still good.
  auto message = encode_command(request_id, db, command, sequences, options_.max_message_size,
                                address_, compression_);
  socket_.write_all(message, deadline);
  wire::OpMsg reply = read_reply(request_id, deadline);
  bson::Document result(reply.body());
  if (auto bytes = std::move(reply).take_bytes(); bytes.capacity() <= kKeptReplyCapacity) {
    reply_buffer_ = std::move(bytes);
  }
  try {
    check_command_reply(result.view(), address_);
  } catch (const ServerError&) {
    throw;  // a well-formed answer: the connection stays usable
  } catch (const Error& e) {
    fail(e.code(), e.what());
  }
  return result;
}

void Connection::refuse_during_stream(std::string_view doing) const {
  if (!more_to_come()) return;
  throw Error(errc::invalid_argument, "cannot " + std::string(doing) + " on the connection to " +
                                          address_.to_string() +
                                          ": the server is still streaming replies");
}

bson::Document Connection::run_exhaust_command(std::string_view db, bson::View command,
                                               const Deadline& deadline) {
  refuse_during_stream("start a stream");
  const std::int32_t request_id = next_request_id();
  auto message = encode_command(request_id, db, command, {}, options_.max_message_size, address_,
                                compression_, wire::kExhaustAllowed);
  socket_.write_all(message, deadline);
  return read_streamed(request_id, deadline);
}

bson::Document Connection::receive_more(const Deadline& deadline) {
  if (!more_to_come()) {
    throw Error(errc::invalid_argument,
                "no streamed reply is to come on the connection to " + address_.to_string());
  }
  return read_streamed(*stream_reply_to_, deadline);
}

bson::Document Connection::read_streamed(std::int32_t response_to, const Deadline& deadline) {
  stream_reply_to_.reset();  // a failed read closes the connection: no stream survives it
  wire::OpMsg reply = read_reply(response_to, deadline, wire::MoreToCome::kAllowed);
  bson::Document result(reply.body());
  const bool more = reply.more_to_come();
  const std::int32_t reply_id = reply.header().request_id;
  try {
    check_command_reply(result.view(), address_);
  } catch (const ServerError&) {
    // Well formed, but a stream that answers ok: 0 is not one to keep reading: the caller
    // (a monitor) drops the connection.
    throw;
  } catch (const Error& e) {
    fail(e.code(), e.what());
  }
  if (more) stream_reply_to_ = reply_id;
  return result;
}

std::vector<std::uint8_t> Connection::read_message(HeaderCheck check_header,
                                                   const Deadline& deadline) {
  std::array<std::uint8_t, wire::kHeaderSize> header_bytes;
  socket_.read_exact(header_bytes, deadline, "the reply header");
  wire::MessageHeader header;
  wire::DecodeDiagnostics diagnostics;
  if (auto ec = check_header(header_bytes, options_.max_message_size, header, &diagnostics)) {
    fail(ec, "the reply header from " + address_.to_string() + ": " + diagnostics.describe());
  }
  const auto length = static_cast<std::size_t>(header.message_length);
  // The last reply's buffer, when kept (its capacity is at most kKeptReplyCapacity): a lying
  // header then costs that kept buffer plus what has actually arrived.
  std::vector<std::uint8_t> message = std::move(reply_buffer_);
  message.clear();
  message.reserve(next_reply_size(0, length));
  message.assign(header_bytes.begin(), header_bytes.end());
  while (message.size() < length) {
    const std::size_t have = message.size();
    message.resize(next_reply_size(have, length));
    // Most replies arrive in one step; only a longer one names the byte range it was at.
    if (have == wire::kHeaderSize && message.size() == length) {
      socket_.read_exact(std::span(message).subspan(have), deadline, "the reply");
    } else {
      socket_.read_exact(std::span(message).subspan(have), deadline,
                         "the reply (bytes " + std::to_string(have) + " to " +
                             std::to_string(message.size()) + " of " + std::to_string(length) +
                             ")");
    }
  }
  return message;
}

wire::OpMsg Connection::read_reply(std::int32_t request_id, const Deadline& deadline,
                                   wire::MoreToCome more_to_come) {
  auto message = read_message(&wire::parse_reply_header, deadline);
  try {
    return decode_command_reply(std::move(message), request_id, options_.max_message_size, address_,
                                more_to_come);
  } catch (const Error& e) {
    fail(e.code(), e.what());
  }
}

}  // namespace mongoslice
