// co_resolve (net/async_dns_resolver.hpp) against a DNS server the test runs on loopback: a name
// only that server knows, /etc/hosts, NXDOMAIN, a server that never answers (the deadline, a
// cancellation, the io_context destroyed mid-lookup), and a client whose async operation reaches
// a server by a name only that DNS server knows.

#include "net/async_dns_resolver.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "driver/mongo_client.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A DNS server on 127.0.0.1 (a free UDP port): an A query for a name in `answered` gets
// 127.0.0.1 and an AAAA query no records; a name in `silent` is never answered; any other name
// gets NXDOMAIN.
class LoopbackDns {
 public:
  LoopbackDns(std::set<std::string> answered, std::set<std::string> silent = {})
      : answered_(std::move(answered)), silent_(std::move(silent)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        ::pipe2(stop_, O_CLOEXEC) != 0) {
      throw std::runtime_error("dns: cannot bind 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~LoopbackDns() {
    char byte = 0;
    (void)!::write(stop_[1], &byte, 1);
    thread_.join();
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  LoopbackDns(const LoopbackDns&) = delete;
  LoopbackDns& operator=(const LoopbackDns&) = delete;

  DnsOptions options() const { return DnsOptions{{"127.0.0.1:" + std::to_string(port_)}}; }
  int queries() const { return queries_.load(); }

 private:
  void serve() {
    for (;;) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      if (fds[0].revents & POLLIN) answer();
    }
  }

  void answer() {
    std::uint8_t query[512];
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n =
        ::recvfrom(fd_, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12) return;
    std::size_t at = 12;
    std::string name;
    while (at < static_cast<std::size_t>(n) && query[at] != 0) {
      std::size_t length = query[at++];
      if (length > 63 || at + length > static_cast<std::size_t>(n)) return;
      if (!name.empty()) name += '.';
      for (std::size_t i = 0; i < length; ++i) {
        name += static_cast<char>(std::tolower(query[at + i]));
      }
      at += length;
    }
    if (at + 5 > static_cast<std::size_t>(n)) return;
    const std::size_t question_end = at + 5;
    const std::uint16_t type = static_cast<std::uint16_t>(query[at + 1] << 8 | query[at + 2]);
    ++queries_;
    if (silent_.count(name)) return;
    const bool nxdomain = !answered_.count(name);
    const bool answer_a = !nxdomain && type == 1;
    const std::uint8_t rcode = nxdomain ? 3 : 0;
    std::vector<std::uint8_t> reply = {
        query[0], query[1], 0x85, static_cast<std::uint8_t>(0x80 | rcode),
        0,        1,        0,    static_cast<std::uint8_t>(answer_a ? 1 : 0),
        0,        0,        0,    0};
    reply.insert(reply.end(), query + 12, query + question_end);
    if (answer_a) {
      const std::uint8_t record[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
      reply.insert(reply.end(), std::begin(record), std::end(record));
    }
    ::sendto(fd_, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&from),
             sizeof from);
  }

  std::set<std::string> answered_;
  std::set<std::string> silent_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> queries_{0};
  std::thread thread_;
};

struct Outcome {
  std::vector<std::string> addresses;
  std::optional<Error> error;
};

// Runs one co_resolve on `io` to its end. `cancel_after`: a terminal cancellation is emitted
// that long after the start.
Outcome run_lookup(asio::io_context& io, const std::string& host, const DnsOptions& options,
                   const Deadline& deadline,
                   std::optional<std::chrono::milliseconds> cancel_after = std::nullopt) {
  Outcome outcome;
  const HostAndPort peer{host, 27017};
  asio::cancellation_signal cancel;
  asio::steady_timer canceller(io);
  bool finished = false;
  asio::co_spawn(io, co_resolve(io.get_executor(), peer, options, deadline),
                 asio::bind_cancellation_slot(
                     cancel.slot(), [&](std::exception_ptr e, std::vector<asio::ip::address> got) {
                       finished = true;
                       canceller.cancel();
                       if (e) {
                         try {
                           std::rethrow_exception(e);
                         } catch (const Error& error) {
                           outcome.error = error;
                         }
                         return;
                       }
                       for (const auto& a : got) outcome.addresses.push_back(a.to_string());
                     }));
  if (cancel_after) {
    canceller.expires_after(*cancel_after);
    canceller.async_wait([&](boost::system::error_code ec) {
      if (!ec && !finished) cancel.emit(asio::cancellation_type::terminal);
    });
  }
  io.run();
  io.restart();
  EXPECT_TRUE(finished);
  return outcome;
}

Deadline bounded() {
  return Deadline::after(std::chrono::milliseconds(10s), "test");
}

TEST(AsyncDnsResolver, ANameOnlyTheGivenServerKnowsResolves) {
  LoopbackDns dns({"db.async.mongoslice.test"});
  asio::io_context io;
  auto outcome = run_lookup(io, "db.async.mongoslice.test", dns.options(), bounded());
  ASSERT_FALSE(outcome.error) << outcome.error->what();
  EXPECT_EQ(outcome.addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_GE(dns.queries(), 1);
}

TEST(AsyncDnsResolver, LocalhostComesFromEtcHostsWithoutAServer) {
  LoopbackDns dns({});
  asio::io_context io;
  auto outcome = run_lookup(io, "localhost", dns.options(), bounded());
  ASSERT_FALSE(outcome.error) << outcome.error->what();
  ASSERT_FALSE(outcome.addresses.empty());
  for (const auto& a : outcome.addresses) {
    EXPECT_TRUE(a == "127.0.0.1" || a == "::1") << a;
  }
  EXPECT_EQ(dns.queries(), 0);
}

TEST(AsyncDnsResolver, AnIpLiteralNeedsNoLookup) {
  asio::io_context io;
  DnsOptions unusable{{"not a server"}};  // would be invalid_argument if a channel were made
  auto outcome = run_lookup(io, "10.1.2.3", unusable, bounded());
  ASSERT_FALSE(outcome.error) << outcome.error->what();
  EXPECT_EQ(outcome.addresses, std::vector<std::string>{"10.1.2.3"});
}

TEST(AsyncDnsResolver, AnUnknownNameIsANetworkErrorNamingTheHost) {
  LoopbackDns dns({});
  asio::io_context io;
  auto outcome = run_lookup(io, "nowhere.async.mongoslice.test", dns.options(), bounded());
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code(), errc::network_error);
  EXPECT_NE(std::string(outcome.error->what()).find("resolving nowhere.async.mongoslice.test"),
            std::string::npos)
      << outcome.error->what();
}

TEST(AsyncDnsResolver, ABadServerEntryIsAnInvalidArgument) {
  asio::io_context io;
  auto outcome =
      run_lookup(io, "db.async.mongoslice.test", DnsOptions{{"not a server"}}, bounded());
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code(), errc::invalid_argument);
}

TEST(AsyncDnsResolver, AServerThatNeverAnswersTimesOutAtTheDeadline) {
  LoopbackDns dns({}, {"silent.async.mongoslice.test"});
  asio::io_context io;
  auto outcome = run_lookup(io, "silent.async.mongoslice.test", dns.options(),
                            Deadline::after(std::chrono::milliseconds(200), "connectTimeoutMS"));
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code(), errc::timeout);
  EXPECT_NE(std::string(outcome.error->what())
                .find("resolving silent.async.mongoslice.test:27017 timed out after 200 ms "
                      "(connectTimeoutMS)"),
            std::string::npos)
      << outcome.error->what();
}

TEST(AsyncDnsResolver, CancellationMidLookupIsECANCELED) {
  LoopbackDns dns({}, {"silent.async.mongoslice.test"});
  asio::io_context io;
  auto outcome = run_lookup(io, "silent.async.mongoslice.test", dns.options(), bounded(), 100ms);
  ASSERT_TRUE(outcome.error);
  EXPECT_EQ(outcome.error->code(), std::error_code(ECANCELED, std::system_category()));
  EXPECT_NE(std::string(outcome.error->what())
                .find("resolving silent.async.mongoslice.test:27017: cancelled"),
            std::string::npos)
      << outcome.error->what();
  EXPECT_GE(dns.queries(), 1);  // it was cancelled mid-lookup, not before asking
}

// The frame, its channel and the waits on c-ares's sockets all go with the io_context (ASan
// and LeakSanitizer check that nothing is touched after it is freed or left behind).
TEST(AsyncDnsResolver, DestroyingTheIoContextMidLookupIsClean) {
  LoopbackDns dns({}, {"silent.async.mongoslice.test"});
  const HostAndPort peer{"silent.async.mongoslice.test", 27017};
  const DnsOptions options = dns.options();
  const Deadline deadline = bounded();
  bool completed = false;
  {
    asio::io_context io;
    asio::co_spawn(io, co_resolve(io.get_executor(), peer, options, deadline),
                   [&](std::exception_ptr, std::vector<asio::ip::address>) { completed = true; });
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (dns.queries() == 0 && std::chrono::steady_clock::now() < until) io.run_for(10ms);
    ASSERT_GE(dns.queries(), 1);
  }
  EXPECT_FALSE(completed);
}

// Through the client: the async pool's AsyncConnection resolves the URI's name through
// ClientOptions::dns (the monitor, blocking, through the same server).
TEST(AsyncDnsResolver, AClientReachesAServerByANameOnlyItsDnsServerKnows) {
  LoopbackDns dns({"primary.async.mongoslice.test"});
  testing::LoopbackServer server([](testing::PeerStream& s, int) {
    for (;;) {
      auto request = s.read_message();
      const std::string name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
      } else {
        s.write(testing::reply_to(request, bson::Builder{}.append("ok", 1.0).build()));
      }
    }
  });
  asio::io_context io;
  ClientOptions options;
  options.dns = dns.options();
  options.executor = io.get_executor();
  MongoClient client(
      "mongodb://primary.async.mongoslice.test:" + std::to_string(server.address().port) +
          "/?serverSelectionTimeoutMS=10000&connectTimeoutMS=10000",
      std::move(options));
  const auto ping = bson::Document::from_json(R"({"ping": 1})");
  std::optional<double> ok;
  std::optional<std::string> failure;
  client["app"].async_run_command(ping.view(),
                                  [&](boost::system::error_code ec, bson::Document reply) {
                                    if (ec) {
                                      failure = ec.message();
                                      return;
                                    }
                                    ok = reply["ok"].as_double();
                                  });
  io.run();
  ASSERT_FALSE(failure) << *failure;
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 1.0);
  EXPECT_GE(dns.queries(), 1);
}

}  // namespace
}  // namespace mongoslice
