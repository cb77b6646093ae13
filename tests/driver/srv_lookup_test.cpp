// DnsResolver's SRV and TXT lookups (mongodb+srv:// seed lists) against a loopback name server
// holding a zone in memory (tests/support/dns_zone_server.hpp), and against one that never
// answers (deadline, interrupt).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "net/dns_resolver.hpp"
#include "support/dns_zone_server.hpp"
#include "support/expect_error.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

testing::DnsZone seedlist_zone() {
  testing::DnsZone zone;
  zone.srv["_mongodb._tcp.cluster0.example.com"] = {{27017, "shard-00.cluster0.example.com."},
                                                    {27018, "shard-01.cluster0.example.com."}};
  zone.txt["cluster0.example.com"] = {{"replicaS", "et=rep", "l0"}};
  zone.txt["two.example.com"] = {{"authSource=a"}, {"replicaSet=b"}};
  zone.srv["_mongodb._tcp.two.example.com"] = {{27017, "x.two.example.com"}};
  return zone;
}

template <typename Body>
void expect_failure(Body&& body, errc code, const std::string& in_message) {
  Error e = testing::expect_error(std::forward<Body>(body));
  EXPECT_EQ(e.code(), make_error_code(code)) << e.what();
  EXPECT_THAT(e.what(), HasSubstr(in_message));
}

Deadline bounded() {
  return Deadline::after(std::chrono::milliseconds(10s), "test");
}

TEST(SrvLookup, ReturnsEveryRecordsTargetAndPort) {
  testing::DnsZoneServer dns(seedlist_zone());
  DnsResolver resolver({{dns.server()}});
  auto records = resolver.lookup_srv("_mongodb._tcp.cluster0.example.com", bounded());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].target, "shard-00.cluster0.example.com");
  EXPECT_EQ(records[0].port, 27017);
  EXPECT_EQ(records[1].target, "shard-01.cluster0.example.com");
  EXPECT_EQ(records[1].port, 27018);
}

TEST(SrvLookup, AnUnknownNameIsANetworkErrorNamingIt) {
  testing::DnsZoneServer dns(seedlist_zone());
  DnsResolver resolver({{dns.server()}});
  expect_failure([&] { resolver.lookup_srv("_mongodb._tcp.nowhere.example.com", bounded()); },
                 errc::network_error, "_mongodb._tcp.nowhere.example.com");
}

TEST(SrvLookup, ANameWithoutSrvRecordsIsAnError) {
  testing::DnsZoneServer dns(seedlist_zone());
  DnsResolver resolver({{dns.server()}});
  // cluster0.example.com has a TXT record only.
  expect_failure([&] { resolver.lookup_srv("cluster0.example.com", bounded()); },
                 errc::network_error, "cluster0.example.com");
}

TEST(TxtLookup, ConcatenatesTheStringsOfOneRecord) {
  testing::DnsZoneServer dns(seedlist_zone());
  DnsResolver resolver({{dns.server()}});
  EXPECT_THAT(resolver.lookup_txt("cluster0.example.com", bounded()),
              ElementsAre("replicaSet=repl0"));
}

TEST(TxtLookup, KeepsRecordsApart) {
  testing::DnsZoneServer dns(seedlist_zone());
  DnsResolver resolver({{dns.server()}});
  auto records = resolver.lookup_txt("two.example.com", bounded());
  EXPECT_EQ(records.size(), 2u);
  EXPECT_THAT(records, ::testing::UnorderedElementsAre("authSource=a", "replicaSet=b"));
}

TEST(TxtLookup, NoRecordIsAnEmptyList) {
  testing::DnsZoneServer dns(seedlist_zone());
  DnsResolver resolver({{dns.server()}});
  EXPECT_TRUE(resolver.lookup_txt("nowhere.example.com", bounded()).empty());  // NXDOMAIN
  // A known name without TXT records.
  EXPECT_TRUE(resolver.lookup_txt("_mongodb._tcp.two.example.com", bounded()).empty());
}

TEST(SrvLookup, ASilentServerIsATimeoutAtTheDeadline) {
  testing::SilentDnsServer silent;
  DnsResolver resolver({{silent.server()}});
  expect_failure(
      [&] {
        resolver.lookup_srv("_mongodb._tcp.cluster0.example.com",
                            Deadline::after(std::chrono::milliseconds(200), "connectTimeoutMS"));
      },
      errc::timeout, "connectTimeoutMS");
  expect_failure(
      [&] {
        resolver.lookup_txt("cluster0.example.com",
                            Deadline::after(std::chrono::milliseconds(200), "connectTimeoutMS"));
      },
      errc::timeout, "connectTimeoutMS");
}

TEST(SrvLookup, InterruptEndsAWaitingLookup) {
  testing::SilentDnsServer silent;
  DnsResolver resolver({{silent.server()}});
  InterruptSlot interrupt;
  std::thread other([&] {
    std::this_thread::sleep_for(100ms);
    interrupt.interrupt();
  });
  expect_failure(
      [&] {
        resolver.lookup_srv("_mongodb._tcp.cluster0.example.com",
                            Deadline::after(std::chrono::milliseconds(60s), "test"), interrupt);
      },
      errc::interrupted, "_mongodb._tcp.cluster0.example.com");
  other.join();
}

}  // namespace
}  // namespace mongoslice
