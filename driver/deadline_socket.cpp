#include "driver/deadline_socket.hpp"

#include <sys/socket.h>

#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "wire/error.hpp"

namespace mongoslice {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

DeadlineSocket::DeadlineSocket(HostAndPort peer) : peer_(std::move(peer)) {
}

DeadlineSocket::~DeadlineSocket() {
  close();
}

// Starts one operation, then runs the io_context until it completes or the deadline passes; on
// the deadline (or an interrupt) the operation is cancelled and run to its (aborted) completion,
// so no handler outlives this call. `start` receives a `done(error_code)` to call on completion.
template <typename Start, typename Cancel>
boost::system::error_code DeadlineSocket::run(Start&& start, Cancel&& cancel,
                                              const Deadline& deadline, bool& timed_out,
                                              std::size_t* transferred) {
  std::optional<boost::system::error_code> result;
  start([&result, transferred](const boost::system::error_code& ec, std::size_t n) {
    result = ec;
    if (transferred) *transferred = n;
  });
  // An interrupt() that came before the operation reached the kernel may have found no socket
  // to shut down (or one not yet connecting); its flag is visible now, so cancel ourselves.
  if (interrupted_.load()) cancel();

  io_.restart();
  if (deadline.at) {
    while (!result && io_.run_one_until(*deadline.at) != 0) {
    }
  } else {
    while (!result && io_.run_one() != 0) {
    }
  }
  if (!result) {
    cancel();
    io_.restart();
    while (!result && io_.run_one() != 0) {
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
  if (interrupted_.load()) fail(errc::interrupted, where + ": interrupted by another thread");
  if (timed_out) {
    fail(errc::timeout, where + " timed out after " + std::to_string(deadline.budget.count()) +
                            " ms (" + std::string(deadline.source) + ")");
  }
  if (ec == asio::error::eof) {
    fail(errc::connection_closed, where + ": the server closed the connection");
  }
  fail(errc::network_error, where + ": " + ec.message());
}

std::vector<tcp::endpoint> DeadlineSocket::resolve(const Deadline& deadline) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(peer_.host, ec);
  if (!ec) return {tcp::endpoint(address, peer_.port)};

  tcp::resolver resolver(io_);
  tcp::resolver::results_type results;
  bool timed_out = false;
  ec = run(
      [&](auto done) {
        resolver.async_resolve(peer_.host, std::to_string(peer_.port),
                               [&results, done](const boost::system::error_code& ec,
                                                tcp::resolver::results_type found) {
                                 results = std::move(found);
                                 done(ec, 0);
                               });
      },
      [&] { resolver.cancel(); }, deadline, timed_out);
  if (ec || interrupted_.load()) fail_step(ec, timed_out, deadline, "resolving");
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  if (endpoints.empty()) fail(errc::network_error, "resolving " + peer_name() + ": no addresses");
  return endpoints;
}

void DeadlineSocket::connect_one(const tcp::endpoint& endpoint, const Deadline& deadline) {
  boost::system::error_code ec;
  socket_.open(endpoint.protocol(), ec);
  if (ec) fail(errc::network_error, "opening a socket for " + peer_name() + ": " + ec.message());
  // Publish the descriptor, then look at the flag (see the header for the protocol).
  native_fd_.store(socket_.native_handle());
  if (interrupted_.load())
    fail(errc::interrupted, "connecting to " + peer_name() + ": interrupted");

  bool timed_out = false;
  ec = run(
      [&](auto done) {
        socket_.async_connect(endpoint,
                              [done](const boost::system::error_code& ec) { done(ec, 0); });
      },
      [&] { socket_.cancel(ec); }, deadline, timed_out);
  if (ec || interrupted_.load()) fail_step(ec, timed_out, deadline, "connecting to");

  socket_.set_option(tcp::no_delay(true), ec);
  if (ec) fail(errc::network_error, "setting TCP_NODELAY for " + peer_name() + ": " + ec.message());
}

void DeadlineSocket::connect(const Deadline& deadline) {
  if (interrupted_.load())
    fail(errc::interrupted, "connecting to " + peer_name() + ": interrupted");
  close();
  auto endpoints = resolve(deadline);
  // Try each address in turn (e.g. "localhost" gives ::1 and 127.0.0.1); a timeout or an
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
  if (!is_open() || interrupted_.load()) {
    fail(interrupted_.load() ? errc::interrupted : errc::connection_closed,
         "writing to " + peer_name() + ": the connection is closed");
  }
  bool timed_out = false;
  boost::system::error_code ignored;
  auto ec = run(
      [&](auto done) {
        asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()), done);
      },
      [&] { socket_.cancel(ignored); }, deadline, timed_out);
  if (ec || interrupted_.load()) fail_step(ec, timed_out, deadline, "writing to");
}

void DeadlineSocket::read_exact(std::span<std::uint8_t> into, const Deadline& deadline,
                                std::string_view what) {
  std::string doing = "reading " + std::string(what) + " from";
  if (!is_open() || interrupted_.load()) {
    fail(interrupted_.load() ? errc::interrupted : errc::connection_closed,
         doing + " " + peer_name() + ": the connection is closed");
  }
  bool timed_out = false;
  std::size_t got = 0;
  boost::system::error_code ignored;
  auto ec = run(
      [&](auto done) { asio::async_read(socket_, asio::buffer(into.data(), into.size()), done); },
      [&] { socket_.cancel(ignored); }, deadline, timed_out, &got);
  if (ec == asio::error::eof && !interrupted_.load()) {
    fail(errc::connection_closed,
         doing + " " + peer_name() + ": the server closed the connection after " +
             std::to_string(got) + " of " + std::to_string(into.size()) + " bytes");
  }
  if (ec || interrupted_.load()) fail_step(ec, timed_out, deadline, doing);
}

void DeadlineSocket::interrupt() noexcept {
  interrupted_.store(true);
  interrupters_.fetch_add(1);
  int fd = native_fd_.load();
  if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  interrupters_.fetch_sub(1);
}

void DeadlineSocket::close() noexcept {
  native_fd_.store(-1);
  // An interrupt() that loaded the old fd is between its load and its shutdown(2): one
  // system call. Let it finish before the fd number can be reused.
  while (interrupters_.load() != 0) std::this_thread::yield();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace mongoslice
