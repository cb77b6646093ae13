// Runs the SDAM spec's JSON tests (server-discovery-and-monitoring/tests/{single,rs,sharded}):
// each file gives a URI, then phases of hello replies per address and the topology expected
// after each phase. The folders can be replaced through $MONGOSLICE_SDAM_SPEC_DIRS (a
// ':'-separated list).

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/server_description.hpp"
#include "monitor/topology_description.hpp"
#include "support/spec_test_files.hpp"
#include "wire/bson.hpp"

namespace mongoslice {
namespace {

using test::SpecFile;

// No file of these folders is out of scope today; add "file.json" -> "reason" here if needed.
const std::map<std::string, std::string> kExclusions = {};

std::vector<SpecFile> sdam_files() {
  static const std::vector<SpecFile> files =
      test::spec_files(test::spec_folders("MONGOSLICE_SDAM_SPEC_DIRS",
                                          {"server-discovery-and-monitoring/tests/single",
                                           "server-discovery-and-monitoring/tests/rs",
                                           "server-discovery-and-monitoring/tests/sharded"}),
                       kExclusions);
  return files;
}

[[maybe_unused]] auto* const kCounts =
    ::testing::AddGlobalTestEnvironment(new test::SpecCountsPrinter("sdam", sdam_files()));

// The part of a connection string these tests use: "mongodb://h1,h2/?replicaSet=x&
// directConnection=true". The real parser lives in driver/, above this layer.
struct SeedsAndOptions {
  std::vector<HostAndPort> seeds;
  TopologyOptions options;
};

SeedsAndOptions parse_test_uri(std::string_view uri) {
  constexpr std::string_view kScheme = "mongodb://";
  if (uri.substr(0, kScheme.size()) != kScheme) throw std::runtime_error("not a mongodb:// URI");
  uri.remove_prefix(kScheme.size());
  auto slash = uri.find('/');
  std::string_view hosts = uri.substr(0, slash);
  std::string_view query;
  if (slash != std::string_view::npos) {
    auto q = uri.find('?', slash);
    if (q != std::string_view::npos) query = uri.substr(q + 1);
  }
  SeedsAndOptions out;
  while (!hosts.empty()) {
    auto comma = hosts.find(',');
    auto host = parse_host_and_port(hosts.substr(0, comma));
    if (!host) throw std::runtime_error("bad host in " + std::string(uri));
    out.seeds.push_back(*host);
    hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
  }
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    auto eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
    if (key == "replicaSet") {
      out.options.replica_set_name = std::string(value);
    } else if (key == "directConnection") {
      out.options.direct_connection = value == "true";
    } else {
      throw std::runtime_error("option not handled by this runner: " + std::string(key));
    }
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return out;
}

bool is_null(const bson::Element& e) {
  return e.type() == bson::Type::kNull;
}

std::string oid_text(const bson_oid_t& oid) {
  char text[25];
  bson_oid_to_string(&oid, text);
  return text;
}

std::string oid_text(const std::optional<bson_oid_t>& oid) {
  return oid ? oid_text(*oid) : "null";
}

void expect_optional_int(const char* what, const bson::Element& expected,
                         const std::optional<std::int64_t>& actual) {
  if (is_null(expected)) {
    EXPECT_FALSE(actual.has_value()) << what << " should be null, is " << *actual;
  } else {
    ASSERT_TRUE(actual.has_value()) << what << " should be " << expected.as_int64();
    EXPECT_EQ(*actual, expected.as_int64()) << what;
  }
}

void expect_optional_string(const char* what, const bson::Element& expected,
                            const std::optional<std::string>& actual) {
  if (is_null(expected)) {
    EXPECT_FALSE(actual.has_value()) << what << " should be null, is " << *actual;
  } else {
    EXPECT_EQ(actual.value_or("<null>"), expected.get_string()) << what;
  }
}

void expect_optional_oid(const char* what, const bson::Element& expected,
                         const std::optional<bson_oid_t>& actual) {
  std::string want = is_null(expected) ? "null" : oid_text(expected.get_oid());
  EXPECT_EQ(oid_text(actual), want) << what;
}

void check_server(const ServerDescription& sd, bson::View expected) {
  SCOPED_TRACE("server " + sd.address.to_string());
  for (const bson::Element& field : expected) {
    std::string_view key = field.key();
    if (key == "type") {
      EXPECT_EQ(to_string(sd.type), field.get_string());
    } else if (key == "setName") {
      expect_optional_string("setName", field, sd.set_name);
    } else if (key == "setVersion") {
      expect_optional_int("setVersion", field, sd.set_version);
    } else if (key == "electionId") {
      expect_optional_oid("electionId", field, sd.election_id);
    } else if (key == "logicalSessionTimeoutMinutes") {
      expect_optional_int("logicalSessionTimeoutMinutes", field,
                          sd.logical_session_timeout_minutes);
    } else if (key == "minWireVersion") {
      EXPECT_EQ(sd.min_wire_version, field.as_int64());
    } else if (key == "maxWireVersion") {
      EXPECT_EQ(sd.max_wire_version, field.as_int64());
    } else if (key == "topologyVersion") {
      if (is_null(field)) {
        EXPECT_FALSE(sd.topology_version.has_value());
      } else {
        ASSERT_TRUE(sd.topology_version.has_value());
        bson::View tv = field.get_document();
        EXPECT_EQ(oid_text(sd.topology_version->process_id), oid_text(tv["processId"].get_oid()));
        EXPECT_EQ(sd.topology_version->counter, tv["counter"].as_int64());
      }
    } else if (key == "error") {
      // The spec asks for messages that contain the given text.
      EXPECT_NE(sd.error.find(field.get_string()), std::string::npos)
          << "error '" << sd.error << "' lacks '" << field.get_string() << "'";
    } else {
      ADD_FAILURE() << "outcome field not checked by this runner: " << key;
    }
  }
}

void check_outcome(const TopologyDescription& td, bson::View outcome) {
  for (const bson::Element& field : outcome) {
    std::string_view key = field.key();
    if (key == "servers") {
      bson::View servers = field.get_document();
      std::size_t expected_count = 0;
      for (const bson::Element& server : servers) {
        ++expected_count;
        auto address = parse_host_and_port(server.key());
        ASSERT_TRUE(address.has_value()) << server.key();
        const ServerDescription* sd = td.find(*address);
        ASSERT_NE(sd, nullptr) << "missing server " << server.key();
        check_server(*sd, server.get_document());
      }
      std::string actual;
      for (const auto& [address, sd] : td.servers()) actual += address.to_string() + " ";
      EXPECT_EQ(td.servers().size(), expected_count) << "servers: " << actual;
    } else if (key == "topologyType") {
      EXPECT_EQ(to_string(td.type()), field.get_string());
    } else if (key == "setName") {
      expect_optional_string("topology setName", field, td.set_name());
    } else if (key == "logicalSessionTimeoutMinutes") {
      expect_optional_int("topology logicalSessionTimeoutMinutes", field,
                          td.logical_session_timeout_minutes());
    } else if (key == "compatible") {
      EXPECT_EQ(td.compatible(), field.get_bool()) << td.compatibility_error();
      if (!td.compatible()) EXPECT_FALSE(td.compatibility_error().empty());
    } else if (key == "maxSetVersion") {
      expect_optional_int("maxSetVersion", field, td.max_set_version());
    } else if (key == "maxElectionId") {
      expect_optional_oid("maxElectionId", field, td.max_election_id());
    } else {
      ADD_FAILURE() << "outcome field not checked by this runner: " << key;
    }
  }
}

class SdamSpec : public ::testing::TestWithParam<SpecFile> {};

TEST_P(SdamSpec, Phases) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  ASSERT_TRUE(std::filesystem::exists(file.path)) << "no spec files at " << file.path;
  bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));
  SCOPED_TRACE(std::string(spec["description"].get_string()));

  SeedsAndOptions setup = parse_test_uri(spec["uri"].get_string());
  TopologyDescription td(setup.seeds, setup.options);

  int phase_number = 0;
  for (const bson::Element& phase : spec["phases"].get_array()) {
    SCOPED_TRACE("phase " + std::to_string(phase_number++));
    bson::View p = phase.get_document();
    for (const bson::Element& key : p) {
      std::string_view k = key.key();
      if (k != "responses" && k != "outcome" && k != "description") {
        FAIL() << "phase field not handled by this runner: " << k;
      }
    }
    if (auto responses = p.find("responses")) {
      for (const bson::Element& response : responses->get_array()) {
        bson::View pair = response.get_array();
        auto address = parse_host_and_port(pair["0"].get_string());
        ASSERT_TRUE(address.has_value());
        bson::View reply = pair["1"].get_document();
        // An empty reply stands for a network error during the check.
        ServerDescription sd =
            reply.empty()
                ? ServerDescription::from_error(*address, "network error (test)")
                : ServerDescription::from_hello(*address, reply, std::chrono::milliseconds(1));
        td.apply(std::move(sd));
      }
    }
    check_outcome(td, p["outcome"].get_document());
  }
}

INSTANTIATE_TEST_SUITE_P(Files, SdamSpec, ::testing::ValuesIn(sdam_files()), test::SpecFileName{});

}  // namespace
}  // namespace mongoslice
