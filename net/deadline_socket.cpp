#include "net/deadline_socket.hpp"

#include <unistd.h>

#include <atomic>
#include <exception>
#include <optional>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "wire/error.hpp"
#include "wire/fork_generation.hpp"

namespace mongoslice {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct DeadlineSocket::Engine {
  asio::io_context io{1};
  tcp::socket socket{io};
  // TLS over `socket`, after start_tls() (destroyed before it: declared after it).
  std::optional<asio::ssl::stream<tcp::socket&>> tls;
  const std::uint64_t generation = current_fork_generation();
  int fd = -1;  // the socket's descriptor while it is open
  Engine* next_abandoned = nullptr;

  bool inherited() const noexcept { return generation != current_fork_generation(); }
};

// A lock-free stack, never freed: destroying an inherited engine would run Asio code (see
// close()). Pushing allocates nothing, so close() stays noexcept.
void DeadlineSocket::abandon(std::unique_ptr<Engine> engine) noexcept {
  static std::atomic<Engine*> abandoned{nullptr};
  Engine* top = engine.release();
  top->next_abandoned = abandoned.load();
  while (!abandoned.compare_exchange_weak(top->next_abandoned, top)) {
  }
}

DeadlineSocket::DeadlineSocket(HostAndPort peer, DnsOptions dns)
    : peer_(std::move(peer)), resolver_(std::move(dns)) {
}

DeadlineSocket::~DeadlineSocket() {
  close();
}

bool DeadlineSocket::is_open() const noexcept {
  return engine_ && engine_->fd >= 0;
}

// run_one_until() waits in steps of at most this (Asio's), so it wakes no more for waits this
// short; longer ones wait on a timer instead.
constexpr std::chrono::seconds kLongestUntimedWait{1};

// Starts one operation, then runs the io_context until it completes or the deadline passes; on
// the deadline (or an interrupt) the operation is cancelled and run to its (aborted) completion,
// so no handler outlives this call. `start` receives a `done(error_code)` to call on completion.
template <typename Start, typename Cancel>
boost::system::error_code DeadlineSocket::run(Start&& start, Cancel&& cancel,
                                              const Deadline& deadline, bool& timed_out,
                                              std::size_t* transferred) {
  asio::io_context& io = engine_->io;
  std::optional<boost::system::error_code> result;
  start([&result, transferred](const boost::system::error_code& ec, std::size_t n) {
    result = ec;
    if (transferred) *transferred = n;
  });
  // An interrupt() that came before the operation reached the kernel may have found no socket
  // to shut down (or one not yet connecting); its flag is visible now, so cancel ourselves.
  if (interrupt_.interrupted()) cancel();

  io.restart();
  if (deadline.at && *deadline.at - SteadyClock::now() > kLongestUntimedWait) {
    // A long wait (a monitor's awaited hello: heartbeatFrequencyMS + connectTimeoutMS) waits on
    // a timer: run_one_until() wakes the thread at least once a second (Asio's wait_one steps
    // are at most 1 s), which made every idle streaming monitor wake once a second.
    bool timer_done = false;
    asio::steady_timer timer(io, *deadline.at);
    timer.async_wait([&](const boost::system::error_code& ec) {
      timer_done = true;
      if (!ec && !result) cancel();
    });
    while (!(result && timer_done) && io.run_one() != 0) {
      if (result && !timer_done) timer.cancel();
    }
  } else if (deadline.at) {
    // A short one: one wait, without the timer's system calls on every read and write.
    while (!result && io.run_one_until(*deadline.at) != 0) {
    }
  } else {
    while (!result && io.run_one() != 0) {
    }
  }
  if (!result) {
    cancel();
    io.restart();
    while (!result && io.run_one() != 0) {
    }
  }
  if (!result) result = asio::error::operation_aborted;  // cannot happen: cancel completes it
  timed_out = static_cast<bool>(*result) && deadline.at && SteadyClock::now() >= *deadline.at;
  return *result;
}

void DeadlineSocket::fail(std::error_code code, const std::string& detail) {
  close();
  throw Error(code, detail);
}

void DeadlineSocket::fail_step(const boost::system::error_code& ec, bool timed_out,
                               const Deadline& deadline, std::string_view doing) {
  std::string where = std::string(doing) + " " + peer_name();
  if (interrupted()) fail(errc::interrupted, where + ": interrupted by another thread");
  if (timed_out) {
    fail(errc::timeout, where + " timed out after " + std::to_string(deadline.budget.count()) +
                            " ms (" + std::string(deadline.source) + ")");
  }
  if (tls_context_ && is_tls_error(ec)) {
    const SSL* ssl = engine_ && engine_->tls ? engine_->tls->native_handle() : nullptr;
    fail(tls_failure_code(ec), describe_tls_failure(ec, ssl, *tls_context_, peer_, doing));
  }
  if (ec == asio::error::eof) {
    fail(errc::connection_closed, where + ": the server closed the connection");
  }
  fail(errc::network_error, where + ": " + ec.message());
}

// A write or read needs an open socket of this process: after fork() the child must not write
// to or read from its parent's connection (invariant 8), whose bytes would interleave with the
// parent's.
bool DeadlineSocket::usable() const noexcept {
  return !interrupted() && is_open() && !engine_->inherited();
}

void DeadlineSocket::check_usable(std::string_view doing_view) {
  if (usable()) return;  // the common case builds no string
  const std::string doing(doing_view);
  if (interrupted()) {
    fail(errc::interrupted, doing + " " + peer_name() + ": the connection is closed");
  }
  if (!is_open()) {
    fail(errc::connection_closed, doing + " " + peer_name() + ": the connection is closed");
  }
  if (engine_->inherited()) {
    fail(errc::connection_closed, doing + " " + peer_name() +
                                      ": the connection belongs to the parent process (opened "
                                      "before fork())");
  }
}

std::vector<tcp::endpoint> DeadlineSocket::resolve(const Deadline& deadline) {
  std::vector<tcp::endpoint> endpoints;
  for (const auto& address : resolver_.resolve(peer_, deadline, interrupt_)) {
    endpoints.emplace_back(address, peer_.port);
  }
  return endpoints;
}

void DeadlineSocket::connect_one(const tcp::endpoint& endpoint, const Deadline& deadline) {
  if (!engine_) {
    try {
      engine_ = std::make_unique<Engine>();
    } catch (const std::exception& e) {  // no descriptors left for epoll, eventfd or timerfd
      fail(errc::network_error, "connecting to " + peer_name() + ": " + e.what());
    }
  }
  Engine& engine = *engine_;
  boost::system::error_code ec;
  engine.socket.open(endpoint.protocol(), ec);
  if (ec) fail(errc::network_error, "opening a socket for " + peer_name() + ": " + ec.message());
  engine.fd = engine.socket.native_handle();
  // Publish the descriptor, then look at the flag (see InterruptSlot for the protocol).
  interrupt_.publish(engine.fd);
  if (interrupted()) fail(errc::interrupted, "connecting to " + peer_name() + ": interrupted");

  bool timed_out = false;
  ec = run(
      [&](auto done) {
        engine.socket.async_connect(endpoint,
                                    [done](const boost::system::error_code& ec) { done(ec, 0); });
      },
      [&] { engine.socket.cancel(ec); }, deadline, timed_out);
  if (ec || interrupted()) fail_step(ec, timed_out, deadline, "connecting to");

  engine.socket.set_option(tcp::no_delay(true), ec);
  if (ec) fail(errc::network_error, "setting TCP_NODELAY for " + peer_name() + ": " + ec.message());
}

void DeadlineSocket::connect(const Deadline& deadline) {
  if (interrupted()) fail(errc::interrupted, "connecting to " + peer_name() + ": interrupted");
  close();
  auto endpoints = resolve(deadline);
  // Try each address in turn (e.g. "localhost" may give ::1 and 127.0.0.1); a timeout or an
  // interrupt ends the attempt, other failures move on to the next address.
  std::optional<Error> last;
  for (const auto& endpoint : endpoints) {
    try {
      connect_one(endpoint, deadline);
      return;
    } catch (const Error& e) {
      if (e.code() == errc::timeout || e.code() == errc::interrupted) throw;
      last = e;
    }
  }
  throw *last;
}

void DeadlineSocket::write_all(std::span<const std::uint8_t> bytes, const Deadline& deadline) {
  check_usable("writing to");
  tcp::socket& socket = engine_->socket;
  bool timed_out = false;
  boost::system::error_code ignored;
  auto ec = run(
      [&](auto done) {
        const auto buffer = asio::buffer(bytes.data(), bytes.size());
        if (engine_->tls) {
          asio::async_write(*engine_->tls, buffer, done);
        } else {
          asio::async_write(socket, buffer, done);
        }
      },
      [&] { socket.cancel(ignored); }, deadline, timed_out);
  if (ec && !interrupted() && !timed_out && engine_->tls && !is_tls_error(ec)) {
    // A TLS server that refuses us after our side of the handshake is done (TLS 1.3: a client
    // certificate missing or refused) sends an alert and closes; our next write then fails with
    // a reset. The alert, already received, says why: read it. A reset connection answers the
    // read at once (the alert, or the socket's error); the read is bounded anyway, by 1 s.
    std::uint8_t byte;
    bool drain_timed_out = false;
    const Deadline drain = Deadline::earlier(
        deadline, Deadline::after(std::chrono::milliseconds(1000), "reading a TLS alert"));
    const auto alert =
        run([&](auto done) { engine_->tls->async_read_some(asio::buffer(&byte, 1), done); },
            [&] { socket.cancel(ignored); }, drain, drain_timed_out);
    if (is_tls_error(alert) && alert != asio::ssl::error::stream_truncated) ec = alert;
  }
  if (ec || interrupted()) fail_step(ec, timed_out, deadline, "writing to");
}

void DeadlineSocket::read_exact(std::span<std::uint8_t> into, const Deadline& deadline,
                                std::string_view what) {
  // Built only when a step fails: every reply passes here.
  auto doing = [what] { return "reading " + std::string(what) + " from"; };
  if (!usable()) check_usable(doing());
  tcp::socket& socket = engine_->socket;
  bool timed_out = false;
  std::size_t got = 0;
  boost::system::error_code ignored;
  auto ec = run(
      [&](auto done) {
        const auto buffer = asio::buffer(into.data(), into.size());
        if (engine_->tls) {
          asio::async_read(*engine_->tls, buffer, done);
        } else {
          asio::async_read(socket, buffer, done);
        }
      },
      [&] { socket.cancel(ignored); }, deadline, timed_out, &got);
  // Over TLS, a server that closes without a close_notify alert (most do) is stream_truncated.
  if ((ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) && !interrupted()) {
    fail(errc::connection_closed,
         doing() + " " + peer_name() + ": the server closed the connection after " +
             std::to_string(got) + " of " + std::to_string(into.size()) + " bytes");
  }
  if (ec || interrupted()) fail_step(ec, timed_out, deadline, doing());
}

bool DeadlineSocket::tls() const noexcept {
  return engine_ && engine_->tls.has_value();
}

void DeadlineSocket::start_tls(std::shared_ptr<TlsContext> context, const Deadline& deadline) {
  check_usable("starting TLS with");
  Engine& engine = *engine_;
  tls_context_ = std::move(context);
  try {
    engine.tls.emplace(engine.socket, tls_context_->native());
    prepare_client_stream(engine.tls->native_handle(), *tls_context_, peer_);
  } catch (const Error&) {
    close();
    throw;
  } catch (const std::exception& e) {  // OpenSSL could not make the stream (no memory)
    fail(errc::network_error, "TLS with " + peer_name() + ": " + e.what());
  }
  bool timed_out = false;
  boost::system::error_code ignored;
  auto ec = run(
      [&](auto done) {
        engine.tls->async_handshake(asio::ssl::stream_base::client,
                                    [done](const boost::system::error_code& ec) { done(ec, 0); });
      },
      [&] { engine.socket.cancel(ignored); }, deadline, timed_out);
  if (!ec && !interrupted()) return;
  const std::string where = "TLS handshake with " + peer_name();
  // The usual signs of a server without TLS on this port: it waits for more bytes, or closes.
  if (timed_out && !interrupted()) {
    fail(errc::timeout, where + " timed out after " + std::to_string(deadline.budget.count()) +
                            " ms (" + std::string(deadline.source) +
                            "): the server accepted the TCP connection but did not answer in "
                            "TLS (is TLS enabled on it?)");
  }
  if ((ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
       ec == asio::error::connection_reset) &&
      !interrupted()) {
    fail(errc::connection_closed,
         where + ": the server closed the connection during the handshake" +
             (ec == asio::error::connection_reset ? " (reset)" : "") + " (is TLS enabled on it?)");
  }
  fail_step(ec, timed_out, deadline, "TLS handshake with");
}

void DeadlineSocket::close() noexcept {
  if (!engine_) return;
  // Withdraw first: once withdraw() returns, no interrupt() will shut the descriptor down.
  interrupt_.withdraw();
  if (engine_->inherited()) {
    // A fork() child with its parent's engine: close(2) drops only the child's reference to the
    // connection (no FIN: the parent still holds it). Asio's close would also run the reactor's
    // code (its locks, the epoll instance the parent shares), so the engine is abandoned.
    if (engine_->fd >= 0) ::close(engine_->fd);
    abandon(std::move(engine_));
    return;
  }
  engine_->fd = -1;
  boost::system::error_code ignored;
  engine_->socket.close(ignored);
  // A TLS session never outlives its socket: the next connect() starts a new one. No
  // close_notify is sent (that would be one more blocking step); the server sees the TCP close.
  engine_->tls.reset();
  tls_context_.reset();
}

}  // namespace mongoslice
