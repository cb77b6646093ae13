#pragma once
// The I/O engine under a Connection: one TCP socket on a private io_context, where every blocking
// step (resolve, connect, write, read) has a deadline, and another thread may interrupt it.
//
// It moves bytes and knows nothing of the protocol (driver/connection.cpp speaks OP_MSG over
// it). Each step starts one asynchronous operation and runs the io_context until that
// operation completes or the deadline passes; so a step blocks its caller exactly like a
// synchronous call would, but can be bounded in time and broken from outside.
//
// Errors are thrown as mongoslice::Error and always name the peer's address:
//   errc::network_error      the OS refused (the OS error's text is in the message)
//   errc::timeout            the deadline passed (the limit and its option are in the message)
//   errc::connection_closed  the peer closed the connection (how far the read got is said)
//   errc::interrupted        interrupt() was called
// After any error the socket is closed and stays closed: a stream that failed halfway through a
// message can never be trusted again.
//
// Thread-safety: one thread uses the socket; interrupt() may be called from any thread at any
// time while the object lives.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "driver/deadline.hpp"
#include "wire/address.hpp"

namespace mongoslice {

class DeadlineSocket {
 public:
  explicit DeadlineSocket(HostAndPort peer);
  ~DeadlineSocket();
  DeadlineSocket(const DeadlineSocket&) = delete;
  DeadlineSocket& operator=(const DeadlineSocket&) = delete;

  // Resolves the peer's host (numeric addresses skip the resolver) and connects to the first
  // address that accepts, all before `deadline`. Sets TCP_NODELAY: commands are small and
  // latency matters more than packet count.
  void connect(const Deadline& deadline);

  // Writes all of `bytes`, or throws.
  void write_all(std::span<const std::uint8_t> bytes, const Deadline& deadline);

  // Fills all of `into`, or throws. `what` names the bytes in messages ("the reply header").
  void read_exact(std::span<std::uint8_t> into, const Deadline& deadline, std::string_view what);

  // Breaks the current or next blocking step at once; that step, and every later one, throws
  // errc::interrupted. Lock-free and allocation-free: it sets a flag and calls shutdown(2) on
  // the socket, which wakes a blocked connect, read or write in the kernel. A resolver lookup
  // in progress is not woken (getaddrinfo cannot be); its result is then discarded. Sticky: an
  // interrupted socket is closed for good.
  void interrupt() noexcept;
  bool interrupted() const noexcept { return interrupted_.load(); }

  // Closes the socket (idempotent). Safe against a concurrent interrupt().
  void close() noexcept;
  bool is_open() const noexcept { return socket_.is_open(); }

  const HostAndPort& peer() const noexcept { return peer_; }
  std::string peer_name() const { return peer_.to_string(); }

 private:
  template <typename Start, typename Cancel>
  boost::system::error_code run(Start&& start, Cancel&& cancel, const Deadline& deadline,
                                bool& timed_out, std::size_t* transferred = nullptr);
  void connect_one(const boost::asio::ip::tcp::endpoint& endpoint, const Deadline& deadline);
  std::vector<boost::asio::ip::tcp::endpoint> resolve(const Deadline& deadline);
  [[noreturn]] void fail(std::error_code code, const std::string& detail);
  [[noreturn]] void fail_step(const boost::system::error_code& ec, bool timed_out,
                              const Deadline& deadline, std::string_view doing);

  HostAndPort peer_;
  boost::asio::io_context io_{1};
  boost::asio::ip::tcp::socket socket_{io_};

  // interrupt() protocol: the flag is set first, then the socket published in native_fd_ is
  // shut down. The owner publishes a new socket's fd first and then re-checks the flag, so one
  // of the two sides always sees the other. interrupters_ counts interrupt() calls in progress;
  // close() withdraws the fd and waits for that count to drop to zero before closing, so an
  // interrupt never shuts down a recycled descriptor that belongs to someone else.
  std::atomic<bool> interrupted_{false};
  std::atomic<int> native_fd_{-1};
  std::atomic<int> interrupters_{0};
};

}  // namespace mongoslice
