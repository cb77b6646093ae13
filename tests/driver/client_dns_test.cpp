// A client whose host name resolves slowly (DESIGN.md invariant 2): the lookup is bounded by
// connectTimeoutMS, the error names that cause and limit, and destroying the client during the
// lookup returns at once. The name server is a UDP socket on loopback that takes every query
// and never answers (the slowest DNS server there is); the client is pointed at it through
// ClientOptions::dns, and the name is not in /etc/hosts.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "driver/mongo_client.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;

class SilentNameServer {
 public:
  SilentNameServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      throw std::runtime_error("cannot bind a UDP socket on 127.0.0.1");
    }
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~SilentNameServer() { ::close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

struct HeartbeatFailures : EventListener {
  std::mutex mutex;
  std::optional<std::string> first_error;
  std::optional<std::chrono::nanoseconds> first_duration;
  std::atomic<bool> failed{false};
  void on(const ServerHeartbeatFailedEvent& e) override {
    std::lock_guard lock(mutex);
    if (!first_error) {
      first_error = std::string(e.error);
      first_duration = e.duration;
    }
    failed.store(true);
  }
};

TEST(ClientDns, ASlowLookupFailsTheHeartbeatAtConnectTimeoutNamingIt) {
  SilentNameServer dns;
  auto failures = std::make_shared<HeartbeatFailures>();
  ClientOptions options{{failures}};
  options.dns.servers = {dns.address()};
  MongoClient client("mongodb://slow.mongoslice.test:27017/?connectTimeoutMS=200", options);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (!failures->failed.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(5ms);
  }
  std::lock_guard lock(failures->mutex);
  ASSERT_TRUE(failures->first_error) << "no heartbeat failed within 10 s";
  EXPECT_NE(failures->first_error->find("resolving"), std::string::npos) << *failures->first_error;
  EXPECT_NE(failures->first_error->find("200 ms"), std::string::npos) << *failures->first_error;
  EXPECT_NE(failures->first_error->find("connectTimeoutMS"), std::string::npos)
      << *failures->first_error;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*failures->first_duration);
  EXPECT_LT(ms, 1500ms) << "the lookup was not bounded by connectTimeoutMS";  // loose
  std::cout << "[ first heartbeat failed after " << ms.count() << " ms: " << *failures->first_error
            << " ]\n";
}

TEST(ClientDns, DestroyingTheClientDuringALookupReturnsAtOnce) {
  SilentNameServer dns;
  ClientOptions options;
  options.dns.servers = {dns.address()};
  std::optional<MongoClient> client;
  client.emplace("mongodb://slow.mongoslice.test:27017/?connectTimeoutMS=10000", options);
  std::this_thread::sleep_for(200ms);  // the monitor is inside its lookup now
  const auto started = std::chrono::steady_clock::now();
  client.reset();
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  EXPECT_LT(took, 1s);  // loose; the goal is under 100 ms
  std::cout << "[ ~MongoClient during a lookup took " << took.count() / 1000.0 << " ms ]\n";
}

}  // namespace
}  // namespace mongoslice
