#pragma once
// One connection to one server: a TCP socket (with TLS over it when the options ask for it), the
// handshake, and synchronous command round trips over OP_MSG.
//
// The handshake (MongoDB handshake spec) is the legacy hello: `isMaster` with helloOk: true and
// the client metadata, over OP_QUERY on admin.$cmd, answered by an OP_REPLY (wire/op_query.hpp),
// so that servers with and without `hello` both answer it. Every later message is OP_MSG; the
// handshake's helloOk says whether later hellos on this connection may be `hello` (hello_ok()).
//
//   Connection conn({"127.0.0.1", 27017}, {.socket_timeout = 5s});
//   conn.connect();                                   // TCP connect + legacy hello handshake
//   auto reply = conn.run_command("admin", ping);     // the reply's body; throws on failure
//
// Every blocking step has a deadline: resolve + connect + TLS handshake + hello use
// connect_timeout, a command round trip uses socket_timeout (none: wait as long as it takes)
// unless the caller passes its own deadline. Failures throw mongoslice::Error:
//   network_error, timeout, connection_closed, interrupted (net/deadline_socket.hpp; TLS
//   failures among them, their messages saying what failed);
//   invalid_argument for TLS options whose files cannot be used (net/tls_context.hpp), before
//   any socket is opened;
//   the wire errcs (wire/error.hpp) for a reply that does not decode;
//   incompatible_server when the handshake shows a server older than MongoDB 4.2;
//   ServerError for a reply with ok: 0.
// Any failure but ServerError closes the connection for good (is_open() turns false): after a
// half-read or undecodable message the byte stream cannot be trusted. An ok: 0 reply is a
// complete, well-formed answer, so the connection stays usable after a ServerError.
//
// Thread-safety: one thread at a time uses a Connection; interrupt() may be called from any
// thread while it lives (hence it is neither copyable nor movable).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "auth/credential.hpp"
#include "auth/scram.hpp"
#include "net/deadline.hpp"
#include "net/deadline_socket.hpp"
#include "net/dns_resolver.hpp"
#include "net/handshake.hpp"
#include "net/tls_context.hpp"
#include "net/tls_options.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"
#include "wire/op_compressed.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice {

struct ConnectionOptions {
  std::chrono::milliseconds connect_timeout{10'000};        // connectTimeoutMS; 0: no limit
  std::optional<std::chrono::milliseconds> socket_timeout;  // socketTimeoutMS; none: no limit
  std::optional<std::string> app_name;                      // appName, sent in the handshake
  // Replies larger than this are refused before they are read. The handshake replaces it with
  // the server's maxMessageSizeBytes.
  std::size_t max_message_size = wire::kDefaultMaxMessageSize;
  DnsOptions dns;  // which DNS servers resolve host names (default: /etc/resolv.conf's)
  // Who to authenticate as, in the handshake (pooled connections; monitors have none, as the
  // auth spec says). Its password is never logged or put in a message.
  std::optional<auth::Credential> credential;
  // The client's cache of SCRAM keys, so that a new connection does not rerun PBKDF2.
  std::shared_ptr<auth::KeyCache> key_cache;
  // TLS over the TCP connection, verified as these options say; none: plaintext. Connections
  // with equal options share one OpenSSL context (TlsContext::shared).
  std::optional<TlsOptions> tls;
  // The compressors URI option: offered in the handshake's `compression`, in this order; the
  // first the server also names compresses every request but hello and the authentication
  // commands. Empty: nothing is offered (replies in OP_COMPRESSED are accepted all the same).
  std::vector<wire::Compressor> compressors;
  int zlib_compression_level = wire::kDefaultZlibLevel;  // zlibCompressionLevel, -1..9
};

class Connection {
 public:
  explicit Connection(HostAndPort address, ConnectionOptions options = {});
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Resolves, connects and runs the handshake (see above), all within connectTimeoutMS or
  // `limit`, whichever ends first. Throws as the header says; an ok: 0 handshake reply is a
  // ServerError that closes the connection.
  void connect(std::optional<Deadline> limit = std::nullopt);

  // Runs `command` against database `db` and returns the reply's body. $db is added unless the
  // command already names `db` (the wire builders do); naming another database is
  // Error(errc::invalid_argument), and nothing is sent.
  bson::Document run_command(std::string_view db, bson::View command);
  // The same, with kind-1 document sequences (e.g. "documents" for insert) and, when given, a
  // deadline that replaces socket_timeout for this round trip.
  bson::Document run_command(std::string_view db, bson::View command,
                             std::span<const wire::DocumentSequence> sequences,
                             std::optional<Deadline> deadline = std::nullopt);

  // The streaming protocol (Server Monitoring spec), for a monitor's own connection only: sends
  // `command` with OP_MSG's exhaustAllowed flag and returns the first reply's body. While
  // more_to_come() (that reply had the moreToCome flag) the server sends further replies without
  // being asked, each answering the one before it (its responseTo is the previous reply's
  // requestID): receive_more() reads the next one and sends nothing. Until the stream ends
  // (a reply without moreToCome), run_command() and run_exhaust_command() refuse
  // (errc::invalid_argument, nothing sent): the next bytes on the wire belong to the stream.
  // Fails as run_command() does.
  bson::Document run_exhaust_command(std::string_view db, bson::View command,
                                     const Deadline& deadline);
  bson::Document receive_more(const Deadline& deadline);
  bool more_to_come() const noexcept { return stream_reply_to_.has_value(); }

  // Breaks a blocking connect, read or write at once, from any thread; that call throws
  // errc::interrupted and the connection is closed for good. noexcept, lock-free and
  // allocation-free: an atomic flag and a shutdown(2) of the socket (see DeadlineSocket).
  void interrupt() noexcept { socket_.interrupt(); }

  void close() noexcept {
    stream_reply_to_.reset();
    socket_.close();
  }
  bool is_open() const noexcept { return socket_.is_open(); }

  const HostAndPort& address() const noexcept { return address_; }
  const ConnectionOptions& options() const noexcept { return options_; }

  // What the handshake learned (meaningful after connect()).
  const bson::Document& hello_reply() const noexcept { return hello_reply_; }
  std::int32_t max_wire_version() const noexcept { return max_wire_version_; }
  std::int32_t max_bson_object_size() const noexcept { return max_bson_object_size_; }
  std::int32_t max_message_size_bytes() const noexcept { return max_message_size_bytes_; }
  std::int32_t max_write_batch_size() const noexcept { return max_write_batch_size_; }
  // Whether the handshake reply said helloOk: true, i.e. the server knows `hello`. Later hellos
  // on this connection must be `isMaster` when it did not (MongoDB 4.2 and 4.4.0-4.4.1 answer
  // `hello` with CommandNotFound).
  bool hello_ok() const noexcept { return hello_ok_; }
  // The time the handshake's hello round trip took (not the TCP connect): the first RTT sample
  // a Monitor records for the server.
  SteadyClock::duration handshake_rtt() const noexcept { return handshake_rtt_; }
  // What the handshake chose from options().compressors (none: requests go uncompressed).
  std::optional<wire::Compressor> compressor() const noexcept {
    return compression_ ? std::optional(compression_->compressor) : std::nullopt;
  }

 private:
  bson::Document round_trip(std::string_view db, bson::View command,
                            std::span<const wire::DocumentSequence> sequences,
                            const Deadline& deadline);
  // Checks a reply header's length and opcode (wire::parse_reply_header for OP_MSG or
  // OP_COMPRESSED, wire::parse_op_reply_header for the handshake's OP_REPLY).
  using HeaderCheck = std::error_code (*)(std::span<const std::uint8_t, wire::kHeaderSize>,
                                          std::size_t, wire::MessageHeader&,
                                          wire::DecodeDiagnostics*) noexcept;
  // One whole message, its header accepted by `check_header`; the connection closes on failure.
  std::vector<std::uint8_t> read_message(HeaderCheck check_header, const Deadline& deadline);
  wire::OpMsg read_reply(std::int32_t request_id, const Deadline& deadline,
                         wire::MoreToCome more_to_come = wire::MoreToCome::kRefused);
  // One reply of a stream (answering `response_to`); records whether another follows.
  bson::Document read_streamed(std::int32_t response_to, const Deadline& deadline);
  void refuse_during_stream(std::string_view doing) const;
  void handshake(const Deadline& deadline);
  // The credential's conversation after the hello (SCRAM's round trips, resumed from a
  // speculative reply when the server answered one). Closes the connection on failure.
  void authenticate(auth::Authenticator& authenticator, const Deadline& deadline);
  void record_hello(HelloFacts facts);
  [[noreturn]] void fail(std::error_code code, const std::string& detail);

  HostAndPort address_;
  ConnectionOptions options_;
  DeadlineSocket socket_;
  // Built by the first connect() when options_.tls is set, shared with other connections.
  std::shared_ptr<TlsContext> tls_context_;

  // The buffer of the last reply, kept for the next read when it is at most
  // kKeptReplyCapacity bytes: a cursor's getMore replies then reuse one allocation instead of
  // growing (and page-faulting in) a new one each time.
  static constexpr std::size_t kKeptReplyCapacity = 4 * 1024 * 1024;
  std::vector<std::uint8_t> reply_buffer_;

  bson::Document hello_reply_;
  std::int32_t max_wire_version_ = 0;
  std::int32_t max_bson_object_size_ = 16 * 1024 * 1024;
  std::int32_t max_message_size_bytes_ = static_cast<std::int32_t>(wire::kDefaultMaxMessageSize);
  std::int32_t max_write_batch_size_ = 100'000;
  bool hello_ok_ = false;
  SteadyClock::duration handshake_rtt_{0};
  std::optional<wire::Compression> compression_;
  // While a stream runs: the requestID of its last reply, which the next one answers.
  std::optional<std::int32_t> stream_reply_to_;
};

}  // namespace mongoslice
