// mongodb+srv:// against each real server: the only way to the server is a name that a loopback
// name server (tests/support/dns_zone_server.hpp) knows, through an SRV record whose target is
// itself a host name, and a TXT record that gives an option. The client resolves both, connects
// by host name and runs CRUD; the seed list and the TXT option are checked where they show.

#include <gtest/gtest.h>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "support/dns_zone_server.hpp"

namespace mongoslice {
namespace {

using testing::RealServer;

class ClientSrv : public ::testing::TestWithParam<RealServer> {};

testing::DnsZone zone_for(std::uint16_t port) {
  testing::DnsZone zone;
  // The target is a name of the zone, longer than any small-string buffer, inside the SRV
  // host's domain as the seedlist spec requires.
  const std::string target = "a-long-shard-host-name-000.cluster0.mongoslice-srv-test.example";
  zone.srv["_mongodb._tcp.cluster0.mongoslice-srv-test.example"] = {{port, target + "."}};
  zone.a[target] = {"127.0.0.1"};
  zone.txt["cluster0.mongoslice-srv-test.example"] = {{"authSource=admin"}};
  return zone;
}

TEST_P(ClientSrv, ResolvesTheSeedListAndRunsCrudThroughIt) {
  const RealServer& server = GetParam();
  testing::DnsZoneServer dns(zone_for(server.port()));
  ClientOptions options;
  options.dns.servers = {dns.server()};
  // The real servers here have no TLS on their plain port; mongodb+srv:// turns TLS on unless
  // the URI says otherwise.
  MongoClient client("mongodb+srv://cluster0.mongoslice-srv-test.example/?tls=false", options);
  EXPECT_GE(dns.queries(), 2) << "the SRV and TXT lookups go to the zone's server";
  ASSERT_EQ(client.uri().hosts.size(), 1u);
  EXPECT_EQ(client.uri().hosts[0].host,
            "a-long-shard-host-name-000.cluster0.mongoslice-srv-test.example");
  EXPECT_EQ(client.uri().hosts[0].port, server.port());
  EXPECT_EQ(client.uri().auth_source, std::optional<std::string>("admin"));  // from the TXT record

  Collection coll = client.database("client_srv_it").collection("docs");
  coll.drop();
  coll.insert_one(bson::Builder{}.append("_id", 1).append("via", "srv").build());
  auto doc = coll.find_one(bson::Builder{}.append("_id", 1).build());
  ASSERT_TRUE(doc.has_value());
  EXPECT_EQ((*doc)["via"].get_string(), "srv");
  coll.drop();
}

TEST_P(ClientSrv, ATargetOutsideTheDomainIsRefusedAtConstruction) {
  const RealServer& server = GetParam();
  testing::DnsZone zone;
  zone.srv["_mongodb._tcp.cluster0.mongoslice-srv-test.example"] = {
      {server.port(), "localhost.evil.example."}};
  testing::DnsZoneServer dns(std::move(zone));
  ClientOptions options;
  options.dns.servers = {dns.server()};
  try {
    MongoClient client("mongodb+srv://cluster0.mongoslice-srv-test.example/?tls=false", options);
    ADD_FAILURE() << "a client was made";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_uri)) << e.what();
    EXPECT_NE(std::string(e.what()).find("localhost.evil.example"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(, ClientSrv, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
