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
#include "support/sdam_outcome.hpp"
#include "support/spec_test_files.hpp"
#include "wire/bson.hpp"

namespace mongoslice {
namespace {

using test::check_outcome;
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
