#pragma once
// One connection to one server for the asynchronous engine: an Asio TCP socket on the executor
// it was opened for, the same handshake and OP_MSG round trips as the blocking Connection
// (net/handshake.hpp decides what the bytes mean; this file only moves them), each step a
// coroutine step that suspends instead of blocking a thread.
//
//   auto conn = AsyncConnection::create(executor, {"127.0.0.1", 27017}, options);
//   co_await conn->connect();                              // TCP connect + legacy hello
//   bson::Document reply = co_await conn->run_command("admin", ping);
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

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "net/connection.hpp"
#include "net/deadline.hpp"
#include "net/handshake.hpp"
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

  AsyncConnection(executor_type executor, HostAndPort address, ConnectionOptions options);
  AsyncConnection(const AsyncConnection&) = delete;
  AsyncConnection& operator=(const AsyncConnection&) = delete;

  // Resolves, connects and runs the handshake, within connectTimeoutMS or `limit`, whichever
  // ends first. Throws as net/connection.hpp says, and the cancellation error.
  boost::asio::awaitable<void> connect(std::optional<Deadline> limit = std::nullopt);

  // One command round trip (see Connection::run_command). The views must stay valid until it
  // completes (the caller's co_await keeps them).
  boost::asio::awaitable<bson::Document> run_command(
      std::string_view db, bson::View command, std::span<const wire::DocumentSequence> sequences,
      std::optional<Deadline> deadline = std::nullopt);

  void close() noexcept;
  bool is_open() const noexcept { return socket_.is_open(); }

  const executor_type& executor() const noexcept { return executor_; }
  const HostAndPort& address() const noexcept { return address_; }
  const ConnectionOptions& options() const noexcept { return options_; }

  // What the handshake learned (meaningful after connect()). The hello reply itself is not
  // kept: an idle connection costs its socket and these few numbers.
  std::int32_t max_wire_version() const noexcept { return max_wire_version_; }
  std::int32_t max_bson_object_size() const noexcept { return max_bson_object_size_; }
  std::int32_t max_message_size_bytes() const noexcept { return max_message_size_bytes_; }
  std::int32_t max_write_batch_size() const noexcept { return max_write_batch_size_; }

 private:
  friend class AsyncConnectionPool;
  // Its pool's list of connections checked out (an intrusive list: a checkout and a check-in
  // cost O(1) and allocate nothing). Touched only under the pool's lock.
  AsyncConnection* busy_prev_ = nullptr;
  AsyncConnection* busy_next_ = nullptr;
  bool busy_ = false;

  // Checks a reply header's length and opcode (as Connection's).
  using HeaderCheck = std::error_code (*)(std::span<const std::uint8_t, wire::kHeaderSize>,
                                          std::size_t, wire::MessageHeader&,
                                          wire::DecodeDiagnostics*) noexcept;
  boost::asio::awaitable<std::vector<boost::asio::ip::tcp::endpoint>> resolve(
      const Deadline& deadline);
  boost::asio::awaitable<void> connect_one(const boost::asio::ip::tcp::endpoint& endpoint,
                                           const Deadline& deadline);
  boost::asio::awaitable<void> write_all(std::span<const std::uint8_t> bytes,
                                         const Deadline& deadline);
  boost::asio::awaitable<std::vector<std::uint8_t>> read_message(HeaderCheck check,
                                                                 const Deadline& deadline);
  // Turns a step's outcome into the error the header promises, closing the connection.
  [[noreturn]] void fail_step(const boost::system::error_code& ec, bool timed_out,
                              const Deadline& deadline, std::string_view doing);
  [[noreturn]] void fail(std::error_code code, const std::string& detail);

  executor_type executor_;
  HostAndPort address_;
  ConnectionOptions options_;
  boost::asio::ip::tcp::socket socket_;
  // Races each step that has a deadline (created on the first such step).
  std::optional<boost::asio::steady_timer> timer_;
  std::vector<std::uint8_t> reply_buffer_;  // the last reply's, reused when small

  std::int32_t max_wire_version_ = 0;
  std::int32_t max_bson_object_size_ = 16 * 1024 * 1024;
  std::int32_t max_message_size_bytes_ = static_cast<std::int32_t>(wire::kDefaultMaxMessageSize);
  std::int32_t max_write_batch_size_ = 100'000;
};

}  // namespace mongoslice
