#pragma once
// Checks a TopologyDescription against an SDAM spec test's "outcome" document (the fields the
// spec's runners compare). Shared by the monitor layer's SDAM runner and the driver's errors/
// and monitoring/ runners.

#include <gtest/gtest.h>

#include <bson/bson.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "monitor/server_description.hpp"
#include "monitor/topology_description.hpp"
#include "wire/bson.hpp"

namespace mongoslice::test {

inline bool is_null(const bson::Element& e) {
  return e.type() == bson::Type::kNull;
}

inline std::string oid_text(const bson_oid_t& oid) {
  char text[25];
  bson_oid_to_string(&oid, text);
  return text;
}

inline std::string oid_text(const std::optional<bson_oid_t>& oid) {
  return oid ? oid_text(*oid) : "null";
}

inline void expect_optional_int(const char* what, const bson::Element& expected,
                                const std::optional<std::int64_t>& actual) {
  if (is_null(expected)) {
    EXPECT_FALSE(actual.has_value()) << what << " should be null, is " << *actual;
  } else {
    ASSERT_TRUE(actual.has_value()) << what << " should be " << expected.as_int64();
    EXPECT_EQ(*actual, expected.as_int64()) << what;
  }
}

inline void expect_optional_string(const char* what, const bson::Element& expected,
                                   const std::optional<std::string>& actual) {
  if (is_null(expected)) {
    EXPECT_FALSE(actual.has_value()) << what << " should be null, is " << *actual;
  } else {
    EXPECT_EQ(actual.value_or("<null>"), expected.get_string()) << what;
  }
}

inline void expect_optional_oid(const char* what, const bson::Element& expected,
                                const std::optional<bson_oid_t>& actual) {
  std::string want = is_null(expected) ? "null" : oid_text(expected.get_oid());
  EXPECT_EQ(oid_text(actual), want) << what;
}

// `check_pool`, when given, checks a server's "pool" field (the errors/ runner has pools).
using PoolCheck = std::function<void(const HostAndPort&, bson::View expected_pool)>;

inline void check_server(const ServerDescription& sd, bson::View expected,
                         const PoolCheck& check_pool = {}) {
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
    } else if (key == "pool" && check_pool) {
      check_pool(sd.address, field.get_document());
    } else {
      ADD_FAILURE() << "outcome field not checked by this runner: " << key;
    }
  }
}

inline void check_outcome(const TopologyDescription& td, bson::View outcome,
                          const PoolCheck& check_pool = {}) {
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
        check_server(*sd, server.get_document(), check_pool);
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

}  // namespace mongoslice::test
