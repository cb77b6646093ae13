#pragma once
// The I/O engine under a Connection: one TCP socket on a private io_context, where every blocking
// step (resolve, connect, TLS handshake, write, read) has a deadline, and another thread may
// interrupt it.
//
// It moves bytes and knows nothing of the protocol (net/connection.cpp speaks OP_MSG over
// it). Each step starts one asynchronous operation and runs the io_context until that
// operation completes or the deadline passes; so a step blocks its caller exactly like a
// synchronous call would, but can be bounded in time and broken from outside. Host names are
// resolved by DnsResolver (net/dns_resolver.hpp) on the calling thread: no step starts a
// thread.
//
// TLS: start_tls() after connect() runs the TLS handshake over the connected socket (an Asio
// ssl::stream on it, net/tls_context.hpp); every later write and read goes through TLS. The
// handshake is one more step with the same deadline and interrupt: interrupt() shuts the TCP
// socket down whether or not TLS runs over it.
//
// Errors are thrown as mongoslice::Error and always name the peer's address:
//   errc::network_error      the OS refused (the OS error's text is in the message), or the
//                            lookup failed (c-ares's message)
//   errc::timeout            the deadline passed (the limit and its option are in the message)
//   errc::connection_closed  the peer closed the connection (how far the read got is said), or
//                            the socket was opened by the parent of this fork() child
//   errc::interrupted        interrupt() was called
//   TLS failures             network_error, or connection_closed when the server closed the
//                            connection without a TLS alert; the message says what failed (the
//                            server's certificate not trusted, expired or not naming the host,
//                            a client certificate required or refused, ...: see
//                            describe_tls_failure)
// After any error the socket is closed and stays closed: a stream that failed halfway through a
// message can never be trusted again.
//
// fork() (DESIGN.md invariant 8): the socket remembers the fork generation it was opened in. In a
// child, a socket the parent opened is the parent's: interrupt() does not shut it down, a write
// or read refuses it (connection_closed), and close() or the destructor only closes the child's
// descriptor and runs no Asio code for it (see close()).
//
// Thread-safety: one thread uses the socket; interrupt() may be called from any thread at any
// time while the object lives.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "net/deadline.hpp"
#include "net/dns_resolver.hpp"
#include "net/tls_context.hpp"
#include "wire/address.hpp"

namespace mongoslice {

class DeadlineSocket {
 public:
  explicit DeadlineSocket(HostAndPort peer, DnsOptions dns = {});
  ~DeadlineSocket();
  DeadlineSocket(const DeadlineSocket&) = delete;
  DeadlineSocket& operator=(const DeadlineSocket&) = delete;

  // Resolves the peer's host (numeric addresses skip the resolver, /etc/hosts comes before DNS)
  // and connects to the first address that accepts, all before `deadline`. Sets TCP_NODELAY:
  // commands are small and latency matters more than packet count.
  void connect(const Deadline& deadline);

  // After connect(): the TLS handshake as a client of `context`, before `deadline`. SNI and the
  // certificate's host check use the peer's host as given (net/tls_context.hpp). Throws as the
  // header says; a server that accepts TCP and never answers in TLS is errc::timeout. The
  // context is kept as long as the stream (until the next connect() or close()).
  void start_tls(std::shared_ptr<TlsContext> context, const Deadline& deadline);
  bool tls() const noexcept;

  // Writes all of `bytes`, or throws.
  void write_all(std::span<const std::uint8_t> bytes, const Deadline& deadline);

  // Fills all of `into`, or throws. `what` names the bytes in messages ("the reply header").
  void read_exact(std::span<std::uint8_t> into, const Deadline& deadline, std::string_view what);

  // Breaks the current or next blocking step at once; that step, and every later one, throws
  // errc::interrupted. Lock-free and allocation-free: it sets a flag and calls shutdown(2) on
  // the socket the step waits on (the TCP socket, or a lookup's wake-up socket), which wakes it
  // in the kernel. Sticky: an interrupted socket is closed for good. In a fork() child it never
  // shuts down a socket the parent opened (see InterruptSlot).
  void interrupt() noexcept { interrupt_.interrupt(); }
  bool interrupted() const noexcept { return interrupt_.interrupted(); }

  // Closes the socket (idempotent). Safe against a concurrent interrupt(). In a fork() child,
  // on a socket the parent opened: closes the child's descriptor with close(2) only (the parent
  // keeps its connection) and abandons the io_context without destroying it: Asio's locks may
  // have been held by a parent thread at fork time, and its epoll instance is shared with the
  // parent. The abandoned io_context stays reachable, for LeakSanitizer, from a list that is
  // never freed; its own descriptors (epoll, eventfd, timerfd: close-on-exec) stay open in the
  // child.
  void close() noexcept;
  bool is_open() const noexcept;

  const HostAndPort& peer() const noexcept { return peer_; }
  std::string peer_name() const { return peer_.to_string(); }

 private:
  // The io_context and socket of one fork generation (defined in the .cpp).
  struct Engine;
  static void abandon(std::unique_ptr<Engine> engine) noexcept;

  template <typename Start, typename Cancel>
  boost::system::error_code run(Start&& start, Cancel&& cancel, const Deadline& deadline,
                                bool& timed_out, std::size_t* transferred = nullptr);
  void connect_one(const boost::asio::ip::tcp::endpoint& endpoint, const Deadline& deadline);
  std::vector<boost::asio::ip::tcp::endpoint> resolve(const Deadline& deadline);
  bool usable() const noexcept;               // open, not interrupted, opened by this process
  void check_usable(std::string_view doing);  // throws (naming `doing`) unless usable()
  [[noreturn]] void fail(std::error_code code, const std::string& detail);
  [[noreturn]] void fail_step(const boost::system::error_code& ec, bool timed_out,
                              const Deadline& deadline, std::string_view doing);

  HostAndPort peer_;
  DnsResolver resolver_;
  // The context of the TLS stream in engine_, while there is one.
  std::shared_ptr<TlsContext> tls_context_;
  // Created by the first connect of each fork generation; null in a child once close() has
  // abandoned the parent's.
  std::unique_ptr<Engine> engine_;
  // The interrupt flag and the socket it shuts down (see InterruptSlot for the protocol). The
  // owner publishes each new socket, then re-checks the flag; close() withdraws it before
  // closing, so an interrupt never shuts down a recycled descriptor that belongs to someone else.
  InterruptSlot interrupt_;
};

}  // namespace mongoslice
