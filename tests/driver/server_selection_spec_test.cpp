// Runs the server-selection spec's JSON tests:
//   server_selection/<TopologyType>/{read,write}: a topology, an operation and a read preference
//     give the suitable servers and those within the latency window
//     (folders replaceable through $MONGOSLICE_SERVER_SELECTION_SPEC_DIRS);
//   in_window: servers with operation counts; many selections must pick each server at the
//     expected frequency, within the file's tolerance ($MONGOSLICE_IN_WINDOW_SPEC_DIRS);
//   max-staleness/<TopologyType>: the same as server_selection with lastWriteDate,
//     lastUpdateTime, heartbeatFrequencyMS and maxStalenessSeconds, or an expected error
//     ($MONGOSLICE_MAX_STALENESS_SPEC_DIRS).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "driver/connection_string.hpp"
#include "driver/server_selection.hpp"
#include "driver/topology.hpp"
#include "monitor/server_description.hpp"
#include "monitor/topology_description.hpp"
#include "ops/read_preference.hpp"
#include "support/scripted_topology.hpp"
#include "support/spec_test_files.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using test::SpecFile;

// No file is out of scope today; list "file.json" -> "reason" here when one is.
const std::map<std::string, std::string> kExclusions = {};

std::vector<SpecFile> selection_files() {
  std::vector<std::string> defaults;
  for (const char* type : {"Single", "Unknown", "Sharded", "ReplicaSetNoPrimary",
                           "ReplicaSetWithPrimary", "LoadBalanced"}) {
    for (const char* op : {"read", "write"}) {
      defaults.push_back(std::string("server-selection/tests/server_selection/") + type + "/" + op);
    }
  }
  static const std::vector<SpecFile> files = test::spec_files(
      test::spec_folders("MONGOSLICE_SERVER_SELECTION_SPEC_DIRS", defaults), kExclusions, 2);
  return files;
}

std::vector<SpecFile> in_window_files() {
  static const std::vector<SpecFile> files = test::spec_files(
      test::spec_folders("MONGOSLICE_IN_WINDOW_SPEC_DIRS", {"server-selection/tests/in_window"}),
      kExclusions);
  return files;
}

std::vector<SpecFile> max_staleness_files() {
  std::vector<std::string> defaults;
  for (const char* type :
       {"ReplicaSetNoPrimary", "ReplicaSetWithPrimary", "Sharded", "Single", "Unknown"}) {
    defaults.push_back(std::string("max-staleness/tests/") + type);
  }
  static const std::vector<SpecFile> files = test::spec_files(
      test::spec_folders("MONGOSLICE_MAX_STALENESS_SPEC_DIRS", defaults), kExclusions);
  return files;
}

[[maybe_unused]] auto* const kSelectionCounts = ::testing::AddGlobalTestEnvironment(
    new test::SpecCountsPrinter("server_selection", selection_files()));
[[maybe_unused]] auto* const kInWindowCounts = ::testing::AddGlobalTestEnvironment(
    new test::SpecCountsPrinter("in_window", in_window_files()));
[[maybe_unused]] auto* const kMaxStalenessCounts = ::testing::AddGlobalTestEnvironment(
    new test::SpecCountsPrinter("max_staleness", max_staleness_files()));

// The spec files spell modes in PascalCase; the connection string's parser is not needed here.
ReadPreference::Mode mode_named(std::string_view name) {
  using Mode = ReadPreference::Mode;
  if (name == "Primary") return Mode::kPrimary;
  if (name == "PrimaryPreferred") return Mode::kPrimaryPreferred;
  if (name == "Secondary") return Mode::kSecondary;
  if (name == "SecondaryPreferred") return Mode::kSecondaryPreferred;
  if (name == "Nearest") return Mode::kNearest;
  throw std::runtime_error("unknown read preference mode " + std::string(name));
}

ReadPreference read_preference_of(bson::View doc) {
  ReadPreference rp;
  if (auto mode = doc.find("mode")) rp.mode = mode_named(mode->get_string());
  if (auto sets = doc.find("tag_sets")) {
    for (const bson::Element& set : sets->get_array()) {
      rp.tag_sets.emplace_back(set.get_document());
    }
  }
  if (auto max = doc.find("maxStalenessSeconds")) {
    rp.max_staleness = std::chrono::seconds(max->as_int64());
  }
  for (const bson::Element& field : doc) {
    if (field.key() != "mode" && field.key() != "tag_sets" &&
        field.key() != "maxStalenessSeconds") {
      throw std::runtime_error("read preference field not handled: " + std::string(field.key()));
    }
  }
  return rp;
}

HostAndPort address_of(std::string_view text) {
  auto address = parse_host_and_port(text);
  if (!address) throw std::runtime_error("bad address " + std::string(text));
  return *address;
}

ServerDescription server_of(bson::View doc) {
  ServerDescription sd = ServerDescription::unknown(address_of(doc["address"].get_string()));
  auto type = parse_server_type(doc["type"].get_string());
  if (!type) throw std::runtime_error("unknown server type " + doc.to_json());
  sd.type = *type;
  if (auto rtt = doc.find("avg_rtt_ms")) {
    sd.round_trip_time = std::chrono::round<std::chrono::nanoseconds>(
        std::chrono::duration<double, std::milli>(rtt->as_double()));
  }
  if (auto tags = doc.find("tags")) {
    for (const bson::Element& tag : tags->get_document()) {
      sd.tags.emplace(std::string(tag.key()), std::string(tag.get_string()));
    }
  }
  // Both in milliseconds: lastUpdateTime on our clock, lastWriteDate on the server's.
  if (auto updated = doc.find("lastUpdateTime")) {
    sd.last_update_time =
        std::chrono::steady_clock::time_point(std::chrono::milliseconds(updated->as_int64()));
  }
  if (auto last_write = doc.find("lastWrite")) {
    sd.last_write_date = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(last_write->get_document()["lastWriteDate"].as_int64()));
  }
  // Tests describe known servers in a supported release.
  sd.min_wire_version = 0;
  sd.max_wire_version = kMaxSupportedWireVersion;
  return sd;
}

// `heartbeat_ms`: the file's heartbeatFrequencyMS, if it gives one (else the default).
TopologyDescription topology_of(bson::View doc, std::optional<std::int64_t> heartbeat_ms = {}) {
  auto type = parse_topology_type(doc["type"].get_string());
  if (!type) throw std::runtime_error("unknown topology type " + doc.to_json());
  std::vector<ServerDescription> servers;
  for (const bson::Element& s : doc["servers"].get_array()) {
    servers.push_back(server_of(s.get_document()));
  }
  TopologyOptions options;
  if (heartbeat_ms) options.heartbeat_frequency = std::chrono::milliseconds(*heartbeat_ms);
  return TopologyDescription::from_servers(*type, std::move(servers), options);
}

std::vector<std::string> addresses_in(bson::View list) {
  std::vector<std::string> out;
  for (const bson::Element& s : list) {
    out.push_back(address_of(s.get_document()["address"].get_string()).to_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> addresses_of(const std::vector<const ServerDescription*>& servers) {
  std::vector<std::string> out;
  for (const ServerDescription* sd : servers) out.push_back(sd->address.to_string());
  std::sort(out.begin(), out.end());
  return out;
}

class ServerSelectionSpec : public ::testing::TestWithParam<SpecFile> {};

TEST_P(ServerSelectionSpec, SuitableAndLatencyWindow) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  ASSERT_TRUE(std::filesystem::exists(file.path)) << "no spec files at " << file.path;
  bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));

  TopologyDescription topology = topology_of(spec["topology_description"].get_document());
  std::string_view operation = spec["operation"].get_string();
  ASSERT_TRUE(operation == "read" || operation == "write") << operation;
  OperationKind kind = operation == "read" ? OperationKind::kRead : OperationKind::kWrite;
  ReadPreference rp = read_preference_of(spec["read_preference"].get_document());
  std::vector<HostAndPort> deprioritized;
  if (auto list = spec.find("deprioritized_servers")) {
    for (const bson::Element& s : list->get_array()) {
      deprioritized.push_back(address_of(s.get_document()["address"].get_string()));
    }
  }

  auto suitable = suitable_servers(topology, kind, rp, deprioritized);
  EXPECT_EQ(addresses_of(suitable), addresses_in(spec["suitable_servers"].get_array()));
  auto window = in_latency_window(suitable, topology.local_threshold());
  EXPECT_EQ(addresses_of(window), addresses_in(spec["in_latency_window"].get_array()));

  // select_server agrees: it returns one of the window's servers, or none.
  std::mt19937_64 random(42);
  const ServerDescription* chosen = select_server(topology, kind, rp, random, {}, deprioritized);
  if (window.empty()) {
    EXPECT_EQ(chosen, nullptr);
  } else {
    ASSERT_NE(chosen, nullptr);
    EXPECT_NE(std::find(window.begin(), window.end(), chosen), window.end());
  }
}

INSTANTIATE_TEST_SUITE_P(Files, ServerSelectionSpec, ::testing::ValuesIn(selection_files()),
                         test::SpecFileName{});

class InWindowSpec : public ::testing::TestWithParam<SpecFile> {};

TEST_P(InWindowSpec, SelectionFrequencies) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  ASSERT_TRUE(std::filesystem::exists(file.path)) << "no spec files at " << file.path;
  bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));
  SCOPED_TRACE(std::string(spec["description"].get_string()));

  TopologyDescription topology = topology_of(spec["topology_description"].get_document());
  std::map<HostAndPort, std::uint64_t> counts;
  for (const bson::Element& s : spec["mocked_topology_state"].get_array()) {
    bson::View state = s.get_document();
    counts[address_of(state["address"].get_string())] =
        static_cast<std::uint64_t>(state["operation_count"].as_int64());
  }
  OperationCount operation_count = [&counts](const HostAndPort& a) { return counts.at(a); };

  std::int64_t iterations = spec["iterations"].as_int64();
  ASSERT_GT(iterations, 0);
  ReadPreference nearest{ReadPreference::Mode::kNearest, {}, {}};
  std::mt19937_64 random(20240613);  // fixed: the outcome is the same on every run
  std::map<std::string, std::int64_t> selected;
  for (std::int64_t i = 0; i < iterations; ++i) {
    const ServerDescription* sd =
        select_server(topology, OperationKind::kRead, nearest, random, operation_count);
    ASSERT_NE(sd, nullptr);
    ++selected[sd->address.to_string()];
  }

  bson::View outcome = spec["outcome"].get_document();
  double tolerance = outcome["tolerance"].as_double();
  for (const bson::Element& expected : outcome["expected_frequencies"].get_document()) {
    std::string address = address_of(expected.key()).to_string();
    double want = expected.as_double();
    double got = static_cast<double>(selected[address]) / static_cast<double>(iterations);
    if (want == 0.0 || want == 1.0) {
      EXPECT_EQ(got, want) << address;  // the spec asks for exactness at the extremes
    } else {
      EXPECT_NEAR(got, want, tolerance) << address;
    }
    selected.erase(address);
  }
  EXPECT_TRUE(selected.empty()) << "selected a server with no expected frequency: "
                                << selected.begin()->first;
}

INSTANTIATE_TEST_SUITE_P(Files, InWindowSpec, ::testing::ValuesIn(in_window_files()),
                         test::SpecFileName{});

class MaxStalenessSpec : public ::testing::TestWithParam<SpecFile> {};

TEST_P(MaxStalenessSpec, SuitableAndLatencyWindowOrError) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  ASSERT_TRUE(std::filesystem::exists(file.path)) << "no spec files at " << file.path;
  bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));

  std::optional<std::int64_t> heartbeat_ms;
  if (auto h = spec.find("heartbeatFrequencyMS")) heartbeat_ms = h->as_int64();
  TopologyDescription topology =
      topology_of(spec["topology_description"].get_document(), heartbeat_ms);
  ReadPreference rp = read_preference_of(spec["read_preference"].get_document());
  std::mt19937_64 random(42);

  if (auto error = spec.find("error"); error && error->as_bool()) {
    try {
      select_server(topology, OperationKind::kRead, rp, random);
      FAIL() << "selection succeeded; the file expects an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
      EXPECT_NE(std::string(e.what()).find("maxStalenessSeconds"), std::string::npos) << e.what();
    }
    return;
  }
  auto suitable = suitable_servers(topology, OperationKind::kRead, rp);
  EXPECT_EQ(addresses_of(suitable), addresses_in(spec["suitable_servers"].get_array()));
  auto window = in_latency_window(suitable, topology.local_threshold());
  EXPECT_EQ(addresses_of(window), addresses_in(spec["in_latency_window"].get_array()));
  const ServerDescription* chosen = select_server(topology, OperationKind::kRead, rp, random);
  if (window.empty()) {
    EXPECT_EQ(chosen, nullptr);
  } else {
    ASSERT_NE(chosen, nullptr);
    EXPECT_NE(std::find(window.begin(), window.end(), chosen), window.end());
  }
}

// The same files through the path operations take: a Topology holding the file's description
// selects (Topology::select: validation, operation counts, the wait and its timeout).
TEST_P(MaxStalenessSpec, ThroughTheTopology) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));
  std::optional<std::int64_t> heartbeat_ms;
  if (auto h = spec.find("heartbeatFrequencyMS")) heartbeat_ms = h->as_int64();
  TopologyDescription description =
      topology_of(spec["topology_description"].get_document(), heartbeat_ms);
  ReadPreference rp = read_preference_of(spec["read_preference"].get_document());

  std::string seeds;
  for (const auto& [address, sd] : description.servers()) {
    seeds += (seeds.empty() ? "" : ",") + address.to_string();
  }
  if (seeds.empty()) seeds = "a:27017";
  std::string uri = "mongodb://" + seeds + "/?serverSelectionTimeoutMS=50";
  if (heartbeat_ms) uri += "&heartbeatFrequencyMS=" + std::to_string(*heartbeat_ms);
  const CheckerFactory checkers = testing::silent_checkers();  // monitors that never report
  auto topology = Topology::create(ConnectionString::parse(uri), {}, checkers, {});
  topology->open();
  topology->install_description(description);

  const bool expects_error = spec.find("error") && spec["error"].as_bool();
  std::vector<std::string> window;  // error files have none
  if (auto w = spec.find("in_latency_window")) window = addresses_in(w->get_array());
  try {
    SelectedServer selected = topology->select_server(rp);
    EXPECT_FALSE(expects_error) << "selection succeeded; the file expects an error";
    EXPECT_NE(std::find(window.begin(), window.end(), selected.address.to_string()), window.end())
        << selected.address.to_string() << " is not in the latency window";
  } catch (const Error& e) {
    if (expects_error) {
      EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
    } else {
      EXPECT_TRUE(window.empty()) << "selection failed: " << e.what();
      EXPECT_EQ(e.code(), make_error_code(errc::server_selection_timeout)) << e.what();
    }
  }
  topology->close();
}

INSTANTIATE_TEST_SUITE_P(Files, MaxStalenessSpec, ::testing::ValuesIn(max_staleness_files()),
                         test::SpecFileName{});

}  // namespace
}  // namespace mongoslice
