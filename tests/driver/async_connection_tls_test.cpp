// AsyncConnection's TLS handshake against a peer that accepts TCP and never speaks TLS: the
// handshake ends at connectTimeoutMS with a timeout that says so, and a cancellation (Asio's
// per-operation cancellation, here `connect() || timer`) ends it at once. Both close the
// connection.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "net/async_connection.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using ::testing::HasSubstr;

// Accepts TCP connections on 127.0.0.1 and never sends a byte (keeps them open until it goes).
class MuteTcpServer {
 public:
  MuteTcpServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    // The kernel completes the TCP handshake from the backlog: no accept() is needed for the
    // client to connect and then wait for a ServerHello that never comes.
  }
  ~MuteTcpServer() { ::close(fd_); }
  HostAndPort address() const { return {"127.0.0.1", port_}; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::shared_ptr<AsyncConnection> tls_connection(asio::io_context& io, const HostAndPort& address,
                                                std::chrono::milliseconds connect_timeout) {
  auto options = std::make_shared<ConnectionOptions>();
  options->connect_timeout = connect_timeout;
  options->tls = TlsOptions{};
  options->tls->allow_invalid_certificates = true;  // nothing to verify: no certificate comes
  return std::make_shared<AsyncConnection>(io.get_executor(), address, options);
}

template <typename T>
T run(asio::io_context& io, asio::awaitable<T> work) {
  auto future = asio::co_spawn(io, std::move(work), asio::use_future);
  io.run();
  return future.get();
}

asio::awaitable<void> connect(std::shared_ptr<AsyncConnection> conn) {
  co_await conn->connect();
}

TEST(AsyncConnectionTls, APeerThatNeverSpeaksTlsIsATimeoutAtConnectTimeout) {
  MuteTcpServer server;
  asio::io_context io;
  auto conn = tls_connection(io, server.address(), 300ms);
  try {
    run(io, connect(conn));
    ADD_FAILURE() << "the handshake completed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::timeout)) << e.what();
    EXPECT_THAT(e.what(), HasSubstr("TLS handshake with 127.0.0.1:"));
    EXPECT_THAT(e.what(), HasSubstr("connectTimeoutMS"));
    EXPECT_THAT(e.what(), HasSubstr("did not answer in TLS"));
  }
  EXPECT_FALSE(conn->is_open());
}

asio::awaitable<bool> connect_or_timer(std::shared_ptr<AsyncConnection> conn) {
  asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
  // Whichever finishes first cancels the other: the timer, since the handshake never ends.
  auto winner = co_await (conn->connect() || timer.async_wait(asio::use_awaitable));
  co_return winner.index() == 1;
}

TEST(AsyncConnectionTls, CancellationEndsAHandshakeInProgress) {
  MuteTcpServer server;
  asio::io_context io;
  // connectTimeoutMS is a minute away: only the cancellation can end the handshake.
  auto conn = tls_connection(io, server.address(), 60'000ms);
  EXPECT_TRUE(run(io, connect_or_timer(conn))) << "the timer did not win";
  EXPECT_FALSE(conn->is_open()) << "a connection cancelled mid-handshake must be closed";
}

}  // namespace
}  // namespace mongoslice
