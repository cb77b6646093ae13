// DnsResolver and DeadlineSocket's lookups against a DNS server the test runs on loopback: an
// answer, an answer later than the deadline, no answer at all (interrupted), NXDOMAIN, /etc/hosts
// and IP literals without any server, and no thread created by a lookup.

#include "net/dns_resolver.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/deadline_socket.hpp"
#include "support/expect_error.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using ::testing::Contains;
using testing::expect_error;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// A DNS server on 127.0.0.1 (a free UDP port). For a name it knows it answers an A query with
// 127.0.0.1 after that name's delay (or never, for a name without one) and an AAAA query with no
// records at the same time; any other name gets NXDOMAIN at once.
class DnsResponder {
 public:
  // name -> delay of its answers; std::nullopt: never answered.
  using Names = std::map<std::string, std::optional<std::chrono::milliseconds>>;

  explicit DnsResponder(Names names) : names_(std::move(names)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
        ::pipe2(stop_, O_CLOEXEC) != 0) {
      throw std::runtime_error("responder: cannot bind 127.0.0.1");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~DnsResponder() {
    char byte = 0;
    (void)!::write(stop_[1], &byte, 1);
    thread_.join();
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  DnsResponder(const DnsResponder&) = delete;
  DnsResponder& operator=(const DnsResponder&) = delete;

  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }
  DnsOptions options() const { return DnsOptions{{server()}}; }
  int queries() const { return queries_.load(); }

 private:
  struct Pending {
    Clock::time_point due;
    std::vector<std::uint8_t> reply;
    sockaddr_in to;
  };

  void serve() {
    std::vector<Pending> pending;
    for (;;) {
      int timeout = -1;
      if (!pending.empty()) {
        auto next = std::min_element(pending.begin(), pending.end(),
                                     [](auto& a, auto& b) { return a.due < b.due; });
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(next->due - Clock::now());
        timeout = static_cast<int>(std::max<long long>(ms.count(), 0));
      }
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (::poll(fds, 2, timeout) < 0) continue;
      if (fds[1].revents) return;
      if (fds[0].revents & POLLIN) receive(pending);
      auto now = Clock::now();
      for (auto it = pending.begin(); it != pending.end();) {
        if (it->due > now) {
          ++it;
          continue;
        }
        ::sendto(fd_, it->reply.data(), it->reply.size(), 0,
                 reinterpret_cast<const sockaddr*>(&it->to), sizeof it->to);
        it = pending.erase(it);
      }
    }
  }

  void receive(std::vector<Pending>& pending) {
    std::uint8_t query[512];
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n =
        ::recvfrom(fd_, query, sizeof query, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    if (n < 12) return;
    // The question: labels up to the root label, then type and class.
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

    auto known = names_.find(name);
    if (known != names_.end() && !known->second) return;  // never answered
    const bool nxdomain = known == names_.end();
    const bool answer_a = !nxdomain && type == 1;

    // Header: the query's id; QR, AA, RD, RA and the rcode (3: NXDOMAIN); one question, the
    // answer count, no authority or additional records.
    const std::uint8_t rcode = nxdomain ? 3 : 0;
    const std::uint8_t answers = answer_a ? 1 : 0;
    std::vector<std::uint8_t> reply = {
        query[0], query[1], 0x85, static_cast<std::uint8_t>(0x80 | rcode), 0, 1, 0, answers, 0,
        0,        0,        0};
    reply.insert(reply.end(), query + 12, query + question_end);
    if (answer_a) {
      // The name by pointer to the question, type A, class IN, TTL 60, 4 bytes: 127.0.0.1.
      const std::uint8_t record[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1};
      reply.insert(reply.end(), std::begin(record), std::end(record));
    }
    auto delay = nxdomain ? 0ms : *known->second;
    pending.push_back({Clock::now() + delay, std::move(reply), from});
  }

  Names names_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  std::uint16_t port_ = 0;
  std::atomic<int> queries_{0};
  std::thread thread_;
};

int entries_in(const char* directory) {
  int n = 0;
  DIR* dir = ::opendir(directory);
  if (!dir) return -1;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n;
}

int thread_count() {
  return entries_in("/proc/self/task");
}
// Counted while no other thread opens or closes descriptors (the responder's are open already).
int open_descriptors() {
  return entries_in("/proc/self/fd") - 1;  // without opendir's own
}

std::vector<std::string> strings(const std::vector<boost::asio::ip::address>& addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses) out.push_back(a.to_string());
  return out;
}

Deadline bounded() {
  return Deadline::after(std::chrono::milliseconds(10s), "test");
}

long long ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

TEST(DnsResolver, ANameAnsweredAtOnceResolvesToItsAddress) {
  DnsResponder dns({{"fast.mongoslice.test", 0ms}});
  DnsResolver resolver(dns.options());
  auto addresses = resolver.resolve({"fast.mongoslice.test", 27017}, bounded());
  EXPECT_EQ(strings(addresses), std::vector<std::string>{"127.0.0.1"});
  EXPECT_GE(dns.queries(), 1);
}

TEST(DnsResolver, ALookupPastTheDeadlineTimesOutAtTheDeadline) {
  DnsResponder dns({{"slow.mongoslice.test", 3s}});
  DnsResolver resolver(dns.options());
  auto start = Clock::now();
  Error e = expect_error([&] {
    resolver.resolve({"slow.mongoslice.test", 27017},
                     Deadline::after(std::chrono::milliseconds(200), "connectTimeoutMS"));
  });
  auto elapsed = ms_since(start);
  std::cout << "[ measured ] a 3 s lookup with a 200 ms deadline failed after " << elapsed
            << " ms\n";
  EXPECT_EQ(e.code(), errc::timeout);
  EXPECT_THAT(e.what(), HasSubstr("resolving slow.mongoslice.test:27017 timed out after 200 ms "
                                  "(connectTimeoutMS)"));
  EXPECT_GE(elapsed, 200);
  EXPECT_LT(elapsed, 1500);
}

TEST(DnsResolver, InterruptFromAnotherThreadEndsANeverAnsweredLookup) {
  DnsResponder dns({{"silent.mongoslice.test", std::nullopt}});
  DnsResolver resolver(dns.options());
  InterruptSlot interrupt;
  std::atomic<long long> interrupted_at_ns{0};
  std::thread interrupter([&] {
    std::this_thread::sleep_for(100ms);
    interrupted_at_ns = Clock::now().time_since_epoch().count();
    interrupt.interrupt();
  });
  auto start = Clock::now();
  Error e = expect_error([&] {
    resolver.resolve({"silent.mongoslice.test", 27017}, bounded(), interrupt);
  });
  auto ended = Clock::now();
  interrupter.join();
  auto latency = std::chrono::duration<double, std::milli>(
      ended - Clock::time_point(Clock::duration(interrupted_at_ns.load())));
  std::cout << "[ measured ] interrupt() to errc::interrupted: " << latency.count()
            << " ms (lookup ran " << ms_since(start) << " ms)\n";
  EXPECT_EQ(e.code(), errc::interrupted);
  EXPECT_THAT(e.what(), HasSubstr("resolving silent.mongoslice.test:27017: interrupted"));
  EXPECT_LT(latency.count(), 500.0);
  EXPECT_GE(dns.queries(), 1);  // the lookup really was waiting for the server
}

TEST(DnsResolver, AnInterruptBeforeTheLookupEndsItAtOnce) {
  DnsResponder dns({{"silent.mongoslice.test", std::nullopt}});
  DnsResolver resolver(dns.options());
  InterruptSlot interrupt;
  interrupt.interrupt();
  Error e = expect_error([&] {
    resolver.resolve({"silent.mongoslice.test", 27017}, bounded(), interrupt);
  });
  EXPECT_EQ(e.code(), errc::interrupted);
  EXPECT_EQ(dns.queries(), 0);
}

TEST(DnsResolver, NxdomainIsANetworkErrorWithCaresMessage) {
  DnsResponder dns({});
  DnsResolver resolver(dns.options());
  Error e = expect_error([&] { resolver.resolve({"missing.mongoslice.test", 27017}, bounded()); });
  EXPECT_EQ(e.code(), errc::network_error);
  EXPECT_THAT(e.what(),
              HasSubstr("resolving missing.mongoslice.test:27017: Domain name not found"));
}

TEST(DnsResolver, LocalhostComesFromEtcHostsAndLiteralsSkipTheResolver) {
  DnsResponder dns({});
  DnsResolver resolver(dns.options());
  EXPECT_THAT(strings(resolver.resolve({"localhost", 27017}, bounded())), Contains("127.0.0.1"));
  EXPECT_EQ(strings(resolver.resolve({"127.0.0.1", 27017}, bounded())),
            std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(strings(resolver.resolve({"::1", 27017}, bounded())), std::vector<std::string>{"::1"});
  EXPECT_EQ(dns.queries(), 0);

  // A literal does not even read the configuration: servers c-ares would refuse do not matter.
  DnsResolver misconfigured(DnsOptions{{"not an address"}});
  EXPECT_EQ(strings(misconfigured.resolve({"10.1.2.3", 27017}, bounded())),
            std::vector<std::string>{"10.1.2.3"});
  Error e = expect_error([&] {
    misconfigured.resolve({"fast.mongoslice.test", 27017}, bounded());
  });
  EXPECT_EQ(e.code(), errc::invalid_argument);
  EXPECT_THAT(e.what(), HasSubstr("not an address"));
}

TEST(DnsResolver, ALookupLeavesNoDescriptorOpen) {
  DnsResponder dns({{"fast.mongoslice.test", 0ms}, {"slow.mongoslice.test", 3s}});
  DnsResolver resolver(dns.options());
  const int before = open_descriptors();
  resolver.resolve({"fast.mongoslice.test", 27017}, bounded());
  EXPECT_EQ(open_descriptors(), before) << "after an answered lookup";
  expect_error([&] {
    resolver.resolve({"slow.mongoslice.test", 27017},
                     Deadline::after(std::chrono::milliseconds(50), "test"));
  });
  EXPECT_EQ(open_descriptors(), before) << "after a lookup that timed out";
}

TEST(DnsResolver, LookupsOnManyThreadsAtOnce) {
  DnsResponder dns({{"fast.mongoslice.test", 0ms}, {"later.mongoslice.test", 20ms}});
  DnsResolver resolver(dns.options());
  std::atomic<int> resolved{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        HostAndPort host{(t + i) % 2 ? "fast.mongoslice.test" : "later.mongoslice.test", 27017};
        if (strings(resolver.resolve(host, bounded())) == std::vector<std::string>{"127.0.0.1"}) {
          ++resolved;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(resolved.load(), 40);
}

// ---- through DeadlineSocket -------------------------------------------------------------------

TEST(DnsDeadlineSocket, ConnectsToANameTheServerResolves) {
  testing::LoopbackPeer peer([](testing::PeerStream& s) { s.wait_for_close(); });
  DnsResponder dns({{"fast.mongoslice.test", 0ms}});
  DeadlineSocket socket({"fast.mongoslice.test", peer.address().port}, dns.options());
  socket.connect(bounded());
  EXPECT_TRUE(socket.is_open());
}

TEST(DnsDeadlineSocket, ASlowLookupFailsTheConnectAtConnectTimeoutMS) {
  DnsResponder dns({{"slow.mongoslice.test", 3s}});
  DeadlineSocket socket({"slow.mongoslice.test", 27017}, dns.options());
  auto start = Clock::now();
  Error e = expect_error(
      [&] { socket.connect(Deadline::after(std::chrono::milliseconds(200), "connectTimeoutMS")); });
  auto elapsed = ms_since(start);
  std::cout
      << "[ measured ] DeadlineSocket::connect, 3 s lookup, connectTimeoutMS=200: failed after "
      << elapsed << " ms\n";
  EXPECT_EQ(e.code(), errc::timeout);
  EXPECT_THAT(e.what(), HasSubstr("resolving slow.mongoslice.test:27017 timed out after 200 ms "
                                  "(connectTimeoutMS)"));
  EXPECT_LT(elapsed, 1500);
  EXPECT_FALSE(socket.is_open());
}

TEST(DnsDeadlineSocket, InterruptEndsALookupInProgress) {
  DnsResponder dns({{"silent.mongoslice.test", std::nullopt}});
  DeadlineSocket socket({"silent.mongoslice.test", 27017}, dns.options());
  Clock::time_point interrupted_at;
  std::thread interrupter([&] {
    std::this_thread::sleep_for(100ms);
    interrupted_at = Clock::now();
    socket.interrupt();
  });
  Error e = expect_error([&] { socket.connect(bounded()); });
  auto ended = Clock::now();
  interrupter.join();
  auto latency = std::chrono::duration<double, std::milli>(ended - interrupted_at);
  std::cout << "[ measured ] DeadlineSocket::interrupt() during a lookup to errc::interrupted: "
            << latency.count() << " ms\n";
  EXPECT_EQ(e.code(), errc::interrupted);
  EXPECT_LT(latency.count(), 500.0);
  // Sticky: the socket stays interrupted.
  EXPECT_EQ(expect_error([&] { socket.connect(bounded()); }).code(), errc::interrupted);
}

// Interrupts landing at every moment of a lookup (before, during, after): each connect ends in
// an interrupt or a connection, never hangs, and (under ThreadSanitizer) races with nothing.
TEST(DnsDeadlineSocket, InterruptsAtRandomMomentsOfALookup) {
  DnsResponder dns({{"fast.mongoslice.test", 0ms}, {"later.mongoslice.test", 2ms}});
  for (int i = 0; i < 40; ++i) {
    testing::LoopbackPeer peer([](testing::PeerStream& s) { s.wait_for_close(); });
    DeadlineSocket socket(
        {i % 2 ? "fast.mongoslice.test" : "later.mongoslice.test", peer.address().port},
        dns.options());
    std::thread interrupter([&] {
      std::this_thread::sleep_for(std::chrono::microseconds(i * 100));
      socket.interrupt();
    });
    try {
      socket.connect(bounded());
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::interrupted) << e.what();
    }
    interrupter.join();
  }
}

TEST(DnsDeadlineSocket, ConnectingToLocalhostCreatesNoThread) {
  std::vector<std::unique_ptr<testing::LoopbackPeer>> peers;
  for (int i = 0; i < 8; ++i) {
    peers.push_back(std::make_unique<testing::LoopbackPeer>(
        [](testing::PeerStream& s) { s.wait_for_close(); }));
  }
  const int before = thread_count();
  std::vector<std::unique_ptr<DeadlineSocket>> sockets;
  for (auto& peer : peers) {
    sockets.push_back(
        std::make_unique<DeadlineSocket>(HostAndPort{"localhost", peer->address().port}));
    sockets.back()->connect(bounded());
  }
  EXPECT_EQ(thread_count(), before) << "threads before 8 connects to localhost: " << before;
  sockets.clear();
}

}  // namespace
}  // namespace mongoslice
