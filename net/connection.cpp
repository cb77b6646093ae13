#include "net/connection.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <utility>
#include <vector>

#include "net/client_metadata.hpp"
#include "wire/error.hpp"
#include "wire/op_query.hpp"

namespace mongoslice {
namespace {

// Process-wide, so that a request id names one request in a server log even across
// connections. Wraps around after 2^31 requests; only the pairing with responseTo matters.
std::int32_t next_request_id() noexcept {
  static std::atomic<std::int32_t> counter{0};
  return (counter.fetch_add(1, std::memory_order_relaxed) & 0x7fffffff) + 1;
}

std::int32_t int32_field(bson::View doc, std::string_view key, std::int32_t fallback) {
  auto element = doc.find(key);
  if (!element || !element->is_number()) return fallback;
  auto value = element->as_int64();
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(value, 0, INT32_MAX));
}

}  // namespace

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
  socket_.connect(deadline);
  handshake(deadline);
}

void Connection::handshake(const Deadline& deadline) {
  // The legacy hello over OP_QUERY (the handshake spec): every server answers it, whether or not
  // it knows OP_MSG's `hello`; helloOk: true asks it to say whether it does (see hello_ok()).
  const auto command = bson::Builder{}
                           .append("isMaster", 1)
                           .append("helloOk", true)
                           .append("client", client_metadata(options_.app_name))
                           .build();
  const std::int32_t request_id = next_request_id();
  const auto message = wire::encode_op_query_command(request_id, "admin", command.view());
  const auto started = SteadyClock::now();
  socket_.write_all(message, deadline);
  auto bytes = read_message(&wire::parse_op_reply_header, deadline);
  wire::OpReply reply;
  wire::DecodeDiagnostics diagnostics;
  if (auto ec = wire::decode_op_reply(std::move(bytes), request_id, options_.max_message_size,
                                      reply, &diagnostics)) {
    fail(ec, "the handshake reply from " + address_.to_string() + " to request " +
                 std::to_string(request_id) + ": " + diagnostics.describe());
  }
  handshake_rtt_ = SteadyClock::now() - started;
  bson::Document result(reply.document());
  std::optional<ServerError> error;
  try {
    error = ServerError::from_reply(result);
  } catch (const Error& e) {
    fail(e.code(), "the handshake reply from " + address_.to_string() + ": " + e.what());
  }
  if (error) {
    socket_.close();  // a connection whose handshake failed is of no use
    throw *error;
  }
  try {
    record_hello(std::move(result));
  } catch (...) {
    socket_.close();  // a hello we cannot read (a field out of range) leaves nothing usable
    throw;
  }
}

void Connection::record_hello(bson::Document reply) {
  hello_reply_ = std::move(reply);
  const bson::View hello = hello_reply_.view();
  max_wire_version_ = int32_field(hello, "maxWireVersion", 0);
  max_bson_object_size_ = int32_field(hello, "maxBsonObjectSize", 16 * 1024 * 1024);
  max_message_size_bytes_ = int32_field(hello, "maxMessageSizeBytes",
                                        static_cast<std::int32_t>(wire::kDefaultMaxMessageSize));
  max_write_batch_size_ = int32_field(hello, "maxWriteBatchSize", 100'000);
  auto hello_ok = hello.find("helloOk");
  // A helloOk of another type is no promise: treated as false (isMaster keeps working).
  hello_ok_ = hello_ok && hello_ok->type() == bson::Type::kBool && hello_ok->get_bool();

  if (max_wire_version_ < kMinWireVersion) {
    fail(errc::incompatible_server,
         "server at " + address_.to_string() + " reports maxWireVersion " +
             std::to_string(max_wire_version_) + "; mongoslice needs 8 (MongoDB 4.2) or newer");
  }
  if (auto min = int32_field(hello, "minWireVersion", 0); min > kMaxWireVersion) {
    fail(errc::incompatible_server,
         "server at " + address_.to_string() + " requires minWireVersion " + std::to_string(min) +
             "; mongoslice speaks up to " + std::to_string(kMaxWireVersion) + " (MongoDB 8.0)");
  }
  if (max_message_size_bytes_ > 0) options_.max_message_size = max_message_size_bytes_;
}

bson::Document Connection::run_command(std::string_view db, bson::View command) {
  return run_command(db, command, {}, std::nullopt);
}

bson::Document Connection::run_command(std::string_view db, bson::View command,
                                       std::span<const wire::DocumentSequence> sequences,
                                       std::optional<Deadline> deadline) {
  return round_trip(
      db, command, sequences,
      deadline ? *deadline : Deadline::after(options_.socket_timeout, "socketTimeoutMS"));
}

bson::Document Connection::round_trip(std::string_view db, bson::View command,
                                      std::span<const wire::DocumentSequence> sequences,
                                      const Deadline& deadline) {
  const std::int32_t request_id = next_request_id();
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
  auto message = wire::encode_op_msg(request_id, with_db ? with_db->view() : command, 0, sequences);
  if (message.size() > options_.max_message_size) {
    // Nothing was sent: the connection is still good.
    throw Error(errc::invalid_argument, "command of " + std::to_string(message.size()) +
                                            " bytes exceeds the " +
                                            std::to_string(options_.max_message_size) +
                                            "-byte maxMessageSizeBytes of " + address_.to_string());
  }
  socket_.write_all(message, deadline);
  wire::OpMsg reply = read_reply(request_id, deadline);
  bson::Document result(reply.body());
  if (auto bytes = std::move(reply).take_bytes(); bytes.capacity() <= kKeptReplyCapacity) {
    reply_buffer_ = std::move(bytes);
  }
  std::optional<ServerError> error;
  try {
    error = ServerError::from_reply(result);
  } catch (const Error& e) {
    // ok: 0 with fields we cannot read (e.g. a code out of range): the peer is not to be trusted.
    fail(e.code(), "the reply from " + address_.to_string() + ": " + e.what());
  }
  if (error) throw *error;
  return result;
}

namespace {

// A header only announces a length, which the peer need not honour: the reply buffer starts at
// this size and doubles as the bytes actually arrive, so a peer that announces 2 GiB and then
// sends nothing costs 64 KiB, not 2 GiB.
constexpr std::size_t kFirstReplyStep = 64 * 1024;

// The size the reply buffer grows to next, from `have` bytes read toward `length`.
std::size_t next_reply_size(std::size_t have, std::size_t length) noexcept {
  return std::min(length, std::max(kFirstReplyStep, have * 2));
}

}  // namespace

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

wire::OpMsg Connection::read_reply(std::int32_t request_id, const Deadline& deadline) {
  auto message = read_message(&wire::parse_header, deadline);
  wire::DecodeDiagnostics diagnostics;

  // No request of ours sets exhaustAllowed, so a reply with moreToCome is refused.
  wire::OpMsg reply;
  if (auto ec = wire::decode_op_msg(std::move(message), request_id, options_.max_message_size,
                                    reply, &diagnostics, wire::MoreToCome::kRefused)) {
    fail(ec, "the reply from " + address_.to_string() + " to request " +
                 std::to_string(request_id) + ": " + diagnostics.describe());
  }
  return reply;
}

}  // namespace mongoslice
