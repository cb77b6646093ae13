#pragma once
// The fixture of the client suites that run once per real server (the test's parameter): a
// client whose events an EventRecorder keeps, and a collection of the test's own (named after
// the test, without the "/Server" suffix) in `database`, dropped before and after the test.
// A test a server's listed deviation keeps from passing is skipped in SetUp, with the reason.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "client_test_support.hpp"
#include "mongoslice.hpp"
#include "server_deviations.hpp"

namespace mongoslice::testing {

class RealServerCollectionTest : public ::testing::TestWithParam<RealServer> {
 protected:
  explicit RealServerCollectionTest(std::string database) : database_(std::move(database)) {}

  void SetUp() override {
    MONGOSLICE_SKIP_IF_THE_SERVER_DEVIATES();
    events_ = std::make_shared<EventRecorder>();
    client_.emplace(GetParam().uri(), ClientOptions{{events_}});
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    coll_.emplace((*client_)[database_][name.substr(0, name.find('/'))]);
    coll_->drop();
  }
  void TearDown() override {
    if (coll_) coll_->drop();
  }

  std::shared_ptr<EventRecorder> events_;
  std::optional<MongoClient> client_;
  std::optional<Collection> coll_;

 private:
  std::string database_;
};

}  // namespace mongoslice::testing
