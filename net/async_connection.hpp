#pragma once
// One connection to one server for the asynchronous engine: an Asio TCP socket on the executor
// it was opened for (with a TLS stream over it when ConnectionOptions::tls asks, as
// net/tls_context.hpp sets up; the handshake authenticates when ConnectionOptions::credential
// is set), the same handshake and OP_MSG round trips as the blocking Connection
// (net/handshake.hpp decides what the bytes mean; this file only moves them), each step a
// coroutine step that suspends instead of blocking a thread.
//
//   auto conn = std::make_shared<AsyncConnection>(executor, address, options);
//   co_await conn->connect();                              // TCP connect + legacy hello
//   bson::Document reply = co_await conn->run_command("admin", ping);
//
// or, without the coroutine frame run_command adds, in the caller's own frame:
//
//   AsyncConnection::Exchange exchange = conn->prepare_command("admin", ping, {});
//   co_await conn->async_exchange(exchange, boost::asio::deferred);
//   bson::Document reply = conn->finish_command(exchange);
//
// Deadlines: connect + handshake within connectTimeoutMS (or an earlier `limit`), each round trip
// within socketTimeoutMS unless the caller passes its own deadline; a step that outlives its
// deadline fails with errc::timeout. Per-operation cancellation: every step honours the awaiting
// coroutine's cancellation slot; a cancelled step throws
// cancelled_error(): ECANCELED in the system category (== boost::asio::error::operation_aborted).
//
// Any failure but a ServerError closes the connection for good (is_open() turns false): a
// message cut off halfway (cancelled, timed out, broken) leaves a stream that cannot be trusted,
// so such a connection is never used again. An ok: 0 reply leaves it usable.
//
// Thread-safety: like any Asio I/O object, one coroutine uses it at a time, on its executor.
// Host names are resolved by c-ares on this executor (net/async_dns_resolver.hpp), through
// ConnectionOptions::dns's servers, within the connect deadline; numeric addresses skip it.

#include <array>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "net/connection.hpp"
#include "net/deadline.hpp"
#include "net/handshake.hpp"
#include "net/tls_context.hpp"
#include "wire/address.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice {

// The error a cancelled asynchronous step throws (what() names the step).
Error cancelled_error(std::string_view what);

class AsyncConnection : public std::enable_shared_from_this<AsyncConnection> {
 public:
  using executor_type = boost::asio::any_io_executor;

  // `options` is shared by the pool's connections (one copy per pool, not per connection).
  AsyncConnection(const executor_type& executor, HostAndPort address,
                  std::shared_ptr<const ConnectionOptions> options);
  AsyncConnection(const AsyncConnection&) = delete;
  AsyncConnection& operator=(const AsyncConnection&) = delete;

  // Resolves, connects and runs the handshake, within connectTimeoutMS or `limit`, whichever
  // ends first. Throws as net/connection.hpp says, and the cancellation error.
  boost::asio::awaitable<void> connect(std::optional<Deadline> limit = std::nullopt);

  // One command round trip (see Connection::run_command). The views must stay valid until it
  // completes (the caller's co_await keeps them). prepare_command + async_exchange +
  // finish_command in one coroutine.
  boost::asio::awaitable<bson::Document> run_command(
      std::string_view db, bson::View command, std::span<const wire::DocumentSequence> sequences,
      std::optional<Deadline> deadline = std::nullopt);

  // Checks a reply header's length and opcode (as Connection's).
  using HeaderCheck = std::error_code (*)(std::span<const std::uint8_t, wire::kHeaderSize>,
                                          std::size_t, wire::MessageHeader&,
                                          wire::DecodeDiagnostics*) noexcept;

  // One message out and its reply in. The caller keeps it (in its coroutine frame) until the
  // exchange completes: the pending socket operation holds only pointers to it and to the
  // connection, so a round trip in flight costs this and one Asio operation, not a stack of
  // coroutine frames.
  struct Exchange {
    std::vector<std::uint8_t> message;  // freed once written
    std::vector<std::uint8_t> reply;    // sized from the reply's header (see next_reply_size)
    std::array<std::uint8_t, wire::kHeaderSize> header{};
    std::size_t length = 0;  // the reply's, from its header
    std::int32_t request_id = 0;
    HeaderCheck check = nullptr;
    Deadline deadline;
  };
  // The OP_MSG of a command, with socketTimeoutMS's deadline unless `deadline` is given.
  // Throws before anything is sent: the connection is still good, or it was closed already.
  Exchange prepare_command(std::string_view db, bson::View command,
                           std::span<const wire::DocumentSequence> sequences,
                           std::optional<Deadline> deadline = std::nullopt);
  // Writes exchange.message and reads the whole reply into exchange.reply, within
  // exchange.deadline; honours the token's cancellation slot. Completes with
  // void(std::exception_ptr): the error the header promises (a failure closes the connection).
  template <typename Token>
  auto async_exchange(Exchange& exchange, Token&& token) {
    // No I/O object for async_compose to keep working: the socket's own pending operation does,
    // and leaving it out keeps an executor work guard (~64 bytes) out of every pending read.
    return boost::asio::async_compose<Token, void(std::exception_ptr)>(ExchangeOp{this, &exchange},
                                                                       token);
  }
  // The reply of a command exchange, checked as Connection's. A ServerError (ok: 0) leaves the
  // connection usable; any other failure closes it.
  bson::Document finish_command(Exchange& exchange);

  void close() noexcept;
  bool is_open() const noexcept { return socket_.is_open(); }

  // The socket's (Asio's accessor is not const, though it changes nothing).
  const executor_type& executor() const noexcept {
    return const_cast<boost::asio::ip::tcp::socket&>(socket_).get_executor();
  }
  const HostAndPort& address() const noexcept { return address_; }
  const ConnectionOptions& options() const noexcept { return *options_; }

  // What the handshake learned (meaningful after connect()). The hello reply itself is not
  // kept: an idle connection costs its socket and these few numbers.
  std::int32_t max_wire_version() const noexcept { return max_wire_version_; }
  std::int32_t max_bson_object_size() const noexcept { return max_bson_object_size_; }
  std::int32_t max_message_size_bytes() const noexcept { return max_message_size_bytes_; }
  std::int32_t max_write_batch_size() const noexcept { return max_write_batch_size_; }
  // What the handshake chose from options().compressors (none: requests go uncompressed).
  std::optional<wire::Compressor> compressor() const noexcept {
    return compression_ ? std::optional(compression_->compressor) : std::nullopt;
  }

 private:
  friend class AsyncConnectionPool;
  // Its pool's list of connections checked out (an intrusive list: a checkout and a check-in
  // cost O(1) and allocate nothing). Touched only under the pool's lock.
  AsyncConnection* busy_prev_ = nullptr;
  AsyncConnection* busy_next_ = nullptr;

  // The steps of async_exchange: write, read the header, read the rest (as many reads as
  // next_reply_size's growth needs; most replies: one). The socket is read and written only
  // here and in connect_one; begin_exchange's deadline and close() cancel or close it.
  struct ExchangeOp {
    AsyncConnection* connection;
    Exchange* exchange;
    enum : std::uint8_t { kStart, kWriting, kHeader, kBody } stage = kStart;

    template <typename Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t = 0) {
      AsyncConnection& c = *connection;
      Exchange& x = *exchange;
      // A cancellation that came while no socket operation was pending (its completion queued)
      // reached none: it fails the step all the same.
      if (!ec && stage != kStart && self.cancelled() != boost::asio::cancellation_type::none) {
        ec = boost::asio::error::operation_aborted;
      }
      try {
        switch (stage) {
          case kStart:
            c.begin_exchange(x);
            stage = kWriting;
            if (c.tls_) {
              boost::asio::async_write(*c.tls_, boost::asio::buffer(x.message), std::move(self));
            } else {
              boost::asio::async_write(c.socket_, boost::asio::buffer(x.message), std::move(self));
            }
            return;
          case kWriting:
            c.check_step(ec, x, "writing to");
            std::vector<std::uint8_t>().swap(x.message);  // its memory, not only its size
            stage = kHeader;
            if (c.tls_) {
              boost::asio::async_read(*c.tls_, boost::asio::buffer(x.header), std::move(self));
            } else {
              boost::asio::async_read(c.socket_, boost::asio::buffer(x.header), std::move(self));
            }
            return;
          case kHeader:
            c.check_step(ec, x, "reading the reply header from");
            c.on_reply_header(x);
            break;
          case kBody:
            c.check_step(ec, x, "reading the reply from");
            break;
        }
        if (auto into = c.next_reply_chunk(x); !into.empty()) {
          stage = kBody;
          if (c.tls_) {
            boost::asio::async_read(*c.tls_, boost::asio::buffer(into.data(), into.size()),
                                    std::move(self));
          } else {
            boost::asio::async_read(c.socket_, boost::asio::buffer(into.data(), into.size()),
                                    std::move(self));
          }
          return;
        }
        c.end_exchange();
      } catch (...) {
        c.end_exchange();
        self.complete(std::current_exception());
        return;
      }
      self.complete(std::exception_ptr());
    }
  };
  // Arms the deadline's timer (if any).
  void begin_exchange(const Exchange& exchange);
  // Throws the step's error (the deadline's if it fired), closing the connection.
  void check_step(const boost::system::error_code& ec, const Exchange& exchange,
                  std::string_view doing);
  // Checks the header, sizes exchange.reply and copies the header in.
  void on_reply_header(Exchange& exchange);
  // The part of exchange.reply still to read (empty: the reply is complete).
  std::span<std::uint8_t> next_reply_chunk(Exchange& exchange);
  // Disarms the deadline's timer.
  void end_exchange() noexcept;

  boost::asio::awaitable<std::vector<boost::asio::ip::tcp::endpoint>> resolve(
      const Deadline& deadline);
  boost::asio::awaitable<void> connect_one(const boost::asio::ip::tcp::endpoint& endpoint,
                                           const Deadline& deadline);
  // The TLS handshake over the connected socket, within `deadline` (ConnectionOptions::tls).
  boost::asio::awaitable<void> start_tls(const Deadline& deadline);
  // The credential's conversation after the hello (see Connection::authenticate).
  boost::asio::awaitable<void> authenticate(auth::Authenticator& authenticator,
                                            bson::View hello_reply, const Deadline& deadline);
  // Turns a step's outcome into the error the header promises, closing the connection.
  [[noreturn]] void fail_step(const boost::system::error_code& ec, bool timed_out,
                              const Deadline& deadline, std::string_view doing);
  [[noreturn]] void fail(std::error_code code, const std::string& detail);

  HostAndPort address_;
  std::shared_ptr<const ConnectionOptions> options_;
  boost::asio::ip::tcp::socket socket_;
  // With ConnectionOptions::tls: the TLS stream over socket_ (made in connect(), after TCP
  // connects), through which every exchange then reads and writes; socket_ stays what deadlines
  // cancel and close() closes. Its context is shared with the client's other connections.
  std::shared_ptr<TlsContext> tls_context_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  // Cancels the socket's operation when a step's deadline passes (made on the first step that
  // has one). `armed_` counts exchanges, so that a late expiry of an earlier one is ignored.
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::uint32_t armed_ = 0;
  bool timed_out_ = false;
  bool busy_ = false;

  std::int32_t max_wire_version_ = 0;
  std::int32_t max_bson_object_size_ = 16 * 1024 * 1024;
  std::int32_t max_message_size_bytes_ = static_cast<std::int32_t>(wire::kDefaultMaxMessageSize);
  std::int32_t max_write_batch_size_ = 100'000;
  // ConnectionOptions::max_message_size, or the server's maxMessageSizeBytes once known.
  std::size_t max_message_size_ = 0;
  std::optional<wire::Compression> compression_;
};

}  // namespace mongoslice
