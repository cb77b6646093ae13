#pragma once
// Runs one test of a unified test file against one server: the file's and the test's
// runOnRequirements (against the server's buildInfo version and hello), the skip tables
// (skips.hpp), initialData, createEntities, the operations with expectResult / expectError /
// saveResultAsEntity, expectEvents (command started / succeeded / failed) and outcome.
//
// The setup and outcome reads go through a client of the runner's own, without listeners, so
// that only the test's operations reach the entities' event logs.

#include <memory>
#include <string>
#include <vector>

#include "unified/value.hpp"
#include "wire/bson.hpp"

namespace mongoslice::unified {

// A server the tests run against.
struct ServerTarget {
  std::string name;  // FerretDB, JavaServer, MongoDB
  std::string uri;
};

// One test of a file.
struct TestCase {
  std::string file_key;  // "crud/tests/unified/find.json": for the skip list and messages
  std::shared_ptr<const bson::Document> file;
  std::size_t index = 0;  // in the file's tests array
  std::string description;
};

// Runs the test. Returns when it passed, with the reasons of the entities it defined but that
// are not built (a valid-fail test that passes with such entities was not really evaluated);
// throws TestFailure (with what did not match) when it failed, Unsupported (with the reason)
// when it is not run.
std::vector<std::string> run_test(const TestCase& test, const ServerTarget& server);

}  // namespace mongoslice::unified
