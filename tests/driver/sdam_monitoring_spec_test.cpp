// Runs the SDAM spec's monitoring/ folder (server-discovery-and-monitoring/tests/monitoring): a
// Topology is opened on the file's URI, each phase's hello replies are applied as the monitors'
// checks are (Topology::apply_check_result; the real monitors block for the whole test), and the
// SDAM events the topology emitted must be exactly the phase's events, in order, with the
// fields the file gives.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "driver/connection_string.hpp"
#include "driver/events.hpp"
#include "driver/topology.hpp"
#include "support/scripted_topology.hpp"
#include "support/spec_test_files.hpp"
#include "wire/bson.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using test::SpecFile;

const std::map<std::string, std::string> kExclusions = {
    {"load_balancer.json", "load-balanced mode (loadBalanced=true) is not implemented"},
};

std::vector<SpecFile> monitoring_files() {
  static const std::vector<SpecFile> files =
      test::spec_files(test::spec_folders("MONGOSLICE_SDAM_MONITORING_SPEC_DIRS",
                                          {"server-discovery-and-monitoring/tests/monitoring"}),
                       kExclusions);
  return files;
}

[[maybe_unused]] auto* const kCounts = ::testing::AddGlobalTestEnvironment(
    new test::SpecCountsPrinter("sdam-monitoring", monitoring_files()));

// A server description in the spec's event shape.
void append_server(bson::Builder& b, const ServerDescription& sd) {
  b.append("address", sd.address.to_string());
  auto list = [&](std::string_view key, const std::vector<HostAndPort>& hosts) {
    b.open_array(key);
    for (const auto& h : hosts) b.append_value(h.to_string());
    b.close();
  };
  list("arbiters", sd.arbiters);
  list("hosts", sd.hosts);
  list("passives", sd.passives);
  if (sd.primary) b.append("primary", sd.primary->to_string());
  if (sd.set_name) b.append("setName", *sd.set_name);
  b.append("type", to_string(sd.type));
}

bson::Document server_document(const ServerDescription& sd) {
  bson::Builder b;
  append_server(b, sd);
  return b.build();
}

bson::Document topology_document(const TopologyDescription& td) {
  bson::Builder b;
  b.append("topologyType", to_string(td.type()));
  if (td.set_name()) b.append("setName", *td.set_name());
  b.open_array("servers");
  int index = 0;
  for (const auto& [address, sd] : td.servers()) {
    b.open_document(std::to_string(index++));
    append_server(b, sd);
    b.close();
  }
  b.close();
  return b.build();
}

// Every SDAM event, as {"<spec name>": {fields}}.
class SdamRecorder final : public EventListener {
 public:
  void on(const TopologyOpeningEvent&) override { add("topology_opening_event", {}); }
  void on(const TopologyClosedEvent&) override { add("topology_closed_event", {}); }
  void on(const ServerOpeningEvent& e) override {
    add("server_opening_event", bson::Builder{}.append("address", e.address.to_string()).build());
  }
  void on(const ServerClosedEvent& e) override {
    add("server_closed_event", bson::Builder{}.append("address", e.address.to_string()).build());
  }
  void on(const ServerDescriptionChangedEvent& e) override {
    add("server_description_changed_event",
        bson::Builder{}
            .append("address", e.address.to_string())
            .append("previousDescription", server_document(e.previous))
            .append("newDescription", server_document(e.current))
            .build());
  }
  void on(const TopologyDescriptionChangedEvent& e) override {
    add("topology_description_changed_event",
        bson::Builder{}
            .append("previousDescription", topology_document(e.previous))
            .append("newDescription", topology_document(e.current))
            .build());
  }

  std::vector<bson::Document> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(events_, {});
  }

 private:
  void add(std::string_view name, bson::Document fields) {
    std::lock_guard lock(mutex_);
    events_.push_back(bson::Builder{}.append(name, fields).build());
  }
  std::mutex mutex_;
  std::vector<bson::Document> events_;
};

// Every field of `expected` (but topologyId, which this driver does not have) is in `actual`
// with the same value; sub-documents and arrays are compared the same way, element by element.
void expect_subset(bson::View expected, bson::View actual, const std::string& path,
                   bool is_array = false) {
  std::size_t expected_count = 0;
  for (const bson::Element& field : expected) {
    ++expected_count;
    const std::string key(field.key());
    if (key == "topologyId") continue;
    const std::string where = path + "." + key;
    auto got = actual.find(key);
    if (!got) {
      ADD_FAILURE() << where << " missing; actual " << actual.to_json();
      continue;
    }
    if (field.type() == bson::Type::kDocument || field.type() == bson::Type::kArray) {
      ASSERT_EQ(got->type(), field.type()) << where;
      const bool array = field.type() == bson::Type::kArray;
      expect_subset(array ? field.get_array() : field.get_document(),
                    array ? got->get_array() : got->get_document(), where, array);
    } else {
      EXPECT_EQ(bson::Builder{}.append("v", *got).build().to_json(),
                bson::Builder{}.append("v", field).build().to_json())
          << where;
    }
  }
  if (is_array) {
    std::size_t actual_count = 0;
    for (auto it = actual.begin(); it != actual.end(); ++it) ++actual_count;
    EXPECT_EQ(actual_count, expected_count) << path << " has another number of elements";
  }
}

class SdamMonitoringSpec : public ::testing::TestWithParam<SpecFile> {};

TEST_P(SdamMonitoringSpec, Events) {
  const SpecFile& file = GetParam();
  if (!file.excluded_because.empty()) GTEST_SKIP() << file.excluded_because;
  ASSERT_TRUE(std::filesystem::exists(file.path)) << "no spec files at " << file.path;
  bson::Document spec = bson::Document::from_json(test::read_text_file(file.path));
  SCOPED_TRACE(std::string(spec["description"].get_string()));

  auto recorder = std::make_shared<SdamRecorder>();
  auto events = std::make_shared<const EventDispatcher>(
      std::vector<std::shared_ptr<EventListener>>{recorder});
  const CheckerFactory checkers = testing::silent_checkers();  // monitors that never report
  auto topology =
      Topology::create(ConnectionString::parse(spec["uri"].get_string()), events, checkers, {});
  topology->open();

  int phase_number = 0;
  for (const bson::Element& phase : spec["phases"].get_array()) {
    SCOPED_TRACE("phase " + std::to_string(phase_number++));
    bson::View p = phase.get_document();
    if (auto responses = p.find("responses")) {
      testing::apply_responses(*topology, responses->get_array());
    }
    const std::vector<bson::Document> actual = recorder->take();
    bson::View expected = p["outcome"].get_document()["events"].get_array();
    std::size_t i = 0;
    std::string actual_names;
    for (const auto& e : actual) actual_names += std::string((*e.begin()).key()) + " ";
    for (const bson::Element& want : expected) {
      ASSERT_LT(i, actual.size()) << "fewer events than expected; actual: " << actual_names;
      bson::View want_doc = want.get_document();
      const std::string name((*want_doc.begin()).key());
      const std::string got((*actual[i].begin()).key());
      ASSERT_EQ(got, name) << "event " << i << "; actual: " << actual_names;
      expect_subset(want_doc[name].get_document(), actual[i][name].get_document(),
                    "event " + std::to_string(i) + " " + name);
      ++i;
    }
    EXPECT_EQ(i, actual.size()) << "more events than expected; actual: " << actual_names;
  }
  // Closing (the spec's "Closing Topology Description"): each server closed, the topology
  // changed to Unknown with no servers, then closed.
  const std::size_t servers = topology->description()->servers().size();
  topology->close();
  const std::vector<bson::Document> closing = recorder->take();
  ASSERT_EQ(closing.size(), servers + 2);
  for (std::size_t k = 0; k < servers; ++k) {
    EXPECT_TRUE(closing[k].find("server_closed_event")) << closing[k].to_json();
  }
  auto change = closing[servers].find("topology_description_changed_event");
  ASSERT_TRUE(change) << closing[servers].to_json();
  expect_subset(bson::Document::from_json(R"({"topologyType": "Unknown", "servers": []})"),
                change->get_document()["newDescription"].get_document(), "closing change");
  EXPECT_TRUE(closing[servers + 1].find("topology_closed_event")) << closing.back().to_json();
}

INSTANTIATE_TEST_SUITE_P(Files, SdamMonitoringSpec, ::testing::ValuesIn(monitoring_files()),
                         test::SpecFileName{});

}  // namespace
}  // namespace mongoslice
