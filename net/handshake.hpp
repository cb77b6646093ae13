#pragma once
// The sans-I/O half of a connection, shared by the blocking Connection (net/connection.hpp) and
// the asynchronous AsyncConnection (net/async_connection.hpp): the handshake's request and how
// its reply is read, and one OP_MSG command's request and how its reply is read. Each engine only
// moves the bytes; what they mean is decided here, once.
//
// Errors are thrown as mongoslice::Error naming the server. A caller must close its socket after
// any of them except the ServerError of check_command_reply (an ok: 0 reply is a well-formed
// answer; the stream is still in step).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/mechanism.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"
#include "wire/op_compressed.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice {

// MongoDB 4.2. Older servers are refused at the handshake.
inline constexpr std::int32_t kMinWireVersion = 8;
// MongoDB 8.0. A server whose minWireVersion is above this needs a newer driver.
inline constexpr std::int32_t kMaxWireVersion = 25;

// Process-wide, so that a request id names one request in a server log even across
// connections. Wraps around after 2^31 requests; only the pairing with responseTo matters.
std::int32_t next_request_id() noexcept;

// What a handshake's reply says about the server.
struct HelloFacts {
  bson::Document reply;
  std::int32_t max_wire_version = 0;
  std::int32_t max_bson_object_size = 16 * 1024 * 1024;
  std::int32_t max_message_size_bytes = static_cast<std::int32_t>(wire::kDefaultMaxMessageSize);
  std::int32_t max_write_batch_size = 100'000;
  // helloOk: true, i.e. later hellos on this connection may be `hello`.
  bool hello_ok = false;
};

// The legacy hello over OP_QUERY on admin.$cmd (handshake spec): every server answers it,
// whether or not it knows OP_MSG's `hello`; helloOk: true asks it to say whether it does.
struct HandshakeRequest {
  std::int32_t request_id;
  std::vector<std::uint8_t> message;
};
// With an authenticator (pooled connections of a client with a credential; never monitors),
// the hello also carries what it asks for: saslSupportedMechs and speculativeAuthenticate.
// With `compressors` (the compressors URI option), the hello offers them as `compression`.
HandshakeRequest make_handshake_request(const std::optional<std::string>& app_name,
                                        auth::Authenticator* authenticator = nullptr,
                                        std::span<const wire::Compressor> compressors = {});

// The compressor this connection's requests use: the first of `offered` that the hello reply's
// `compression` array also names (the compression spec). None when the reply has no such array
// (FerretDB, or a server built without them) or shares none; a malformed array compresses nothing.
std::optional<wire::Compressor> negotiated_compressor(bson::View hello_reply,
                                                      std::span<const wire::Compressor> offered);

// The handshake's OP_REPLY (whole message, header included) read into HelloFacts. Throws Error
// for a reply that does not decode or whose wire versions do not overlap ours, and the
// ServerError of an ok: 0 reply (the handshake failed: the connection is of no use).
HelloFacts read_handshake_reply(std::vector<std::uint8_t> message, std::int32_t request_id,
                                std::size_t max_message_size, const HostAndPort& server);

// One command as an OP_MSG. $db is added unless the command already names `db` (the wire
// builders do); naming another database, or a message over `max_message_size`, is
// Error(errc::invalid_argument) and nothing is to be sent (the connection stays good). With
// `compression`, the OP_MSG goes out in an OP_COMPRESSED unless the command is one the spec never
// compresses (wire::may_compress_command: hello and the authentication commands); the size limit
// applies to the uncompressed message, as the server applies it. `flags` are OP_MSG's flagBits
// (wire::kExhaustAllowed for a monitor's awaitable hello).
std::vector<std::uint8_t> encode_command(std::int32_t request_id, std::string_view db,
                                         bson::View command,
                                         std::span<const wire::DocumentSequence> sequences,
                                         std::size_t max_message_size, const HostAndPort& server,
                                         const std::optional<wire::Compression>& compression = {},
                                         std::uint32_t flags = 0);

// An OP_MSG reply (whole message) to `request_id`, or an OP_COMPRESSED holding one (accepted
// whether or not the request was compressed: wire::decode_op_compressed's checks, then the
// OP_MSG's). Throws Error when it does not decode (the stream cannot be trusted: close it).
// moreToCome is refused unless `more_to_come` allows it, i.e. unless the request set
// exhaustAllowed (or the reply follows one that had moreToCome).
wire::OpMsg decode_command_reply(std::vector<std::uint8_t> message, std::int32_t request_id,
                                 std::size_t max_message_size, const HostAndPort& server,
                                 wire::MoreToCome more_to_come = wire::MoreToCome::kRefused);

// Throws the ServerError an ok: 0 `reply` stands for (the stream stays good), or a plain Error
// for an error reply whose fields cannot be read (the peer is not to be trusted: close it).
void check_command_reply(bson::View reply, const HostAndPort& server);

// Where a message's reply buffer starts and how it grows: a header only announces a length,
// which the peer need not honour, so the buffer doubles as the bytes actually arrive and a peer
// that announces 2 GiB and then sends nothing costs kFirstReplyStep, not 2 GiB.
inline constexpr std::size_t kFirstReplyStep = 64 * 1024;
std::size_t next_reply_size(std::size_t have, std::size_t length) noexcept;

}  // namespace mongoslice
