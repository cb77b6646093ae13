#pragma once
// Helpers for the driver's spec runners that drive a real Topology with scripted monitors.

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "driver/topology.hpp"
#include "support/fake_server_checker.hpp"
#include "wire/bson.hpp"

namespace mongoslice::testing {

// Monitors whose checks block until closed, so every description comes from the test.
inline CheckerFactory silent_checkers() {
  return [](const HostAndPort&) {
    auto script = std::make_shared<Script>();
    script->push(Step::block());
    return std::make_unique<FakeChecker>(script);
  };
}

// Applies an SDAM spec phase's "responses" ([[address, hello reply], ...]; an empty reply is a
// network error) as the monitors' checks would.
inline void apply_responses(Topology& topology, bson::View responses) {
  for (const bson::Element& response : responses) {
    bson::View pair = response.get_array();
    auto address = parse_host_and_port(pair["0"].get_string());
    if (!address) throw std::runtime_error("bad address in responses");
    bson::View reply = pair["1"].get_document();
    topology.apply_check_result(
        reply.empty()
            ? ServerDescription::from_error(*address, "network error (test)")
            : ServerDescription::from_hello(*address, reply, std::chrono::milliseconds(1)));
  }
}

}  // namespace mongoslice::testing
