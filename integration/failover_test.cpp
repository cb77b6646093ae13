// Failover against a replica set that fails over on cue (integration/mock/replica_set.py: three
// members on loopback that stream their hellos, step down, die and lose replies when told):
// a workload of writes and reads runs through lost replies, a stepdown and a killed primary.
// With retryable writes and reads on, the application sees no error and every write lands
// exactly once (the member recognises a retried lsid/txnNumber and does not apply it again);
// with them off, the same faults surface as errors, and only the faulted commands fail.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "driver/mongo_client.hpp"
#include "replica_set_mock.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using integration::ReplicaSetMock;

// Counts the entries of `log` for `command` whose outcome is `outcome`.
int count_of(const std::vector<bson::Document>& log, std::string_view command,
             std::string_view outcome) {
  int n = 0;
  for (const auto& entry : log) {
    if (entry.view()["cmd"].get_string() == command &&
        entry.view()["outcome"].get_string() == outcome) {
      ++n;
    }
  }
  return n;
}

bson::Document id_doc(int id) {
  return bson::Builder{}.append("_id", id).build();
}

struct Workload {
  int errors = 0;
  std::vector<std::string> messages;
};

// One write and one read of what it wrote, `i`-th of the workload.
void step(Collection& c, int i, Workload& w) {
  try {
    c.insert_one(id_doc(i));
    auto found = c.find_one(id_doc(i));
    if (!found) throw std::runtime_error("document " + std::to_string(i) + " not found");
  } catch (const std::exception& e) {
    ++w.errors;
    w.messages.push_back(std::to_string(i) + ": " + e.what());
  }
}

TEST(Failover, WithRetriesOnTheApplicationSeesNoErrorAndEveryWriteLandsOnce) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["failover"];
  constexpr int kSteps = 120;
  Workload w;
  const int first_primary = rs.primary();
  for (int i = 0; i < kSteps; ++i) {
    if (i == 20) rs.control("fail insert 1 network");  // applied, its reply lost
    if (i == 40) rs.control("fail find 1 network");
    if (i == 60) rs.control("stepdown");
    if (i == 90) rs.control("kill " + std::to_string(rs.primary()));
    step(c, i, w);
  }
  EXPECT_EQ(w.errors, 0) << (w.messages.empty() ? "" : w.messages.front());
  EXPECT_NE(rs.primary(), first_primary);
  // Each write exactly once: the retried insert whose reply was lost was recognised, not
  // applied twice (that would be a duplicate key error), and none is missing.
  std::int64_t documents = 0;
  for (bson::View doc : c.find(bson::Document::from_json("{}"))) {
    (void)doc;
    ++documents;
  }
  EXPECT_EQ(documents, kSteps);
  const auto log = rs.log();
  EXPECT_GE(count_of(log, "insert", "retried"), 1) << "no write was retried";
  EXPECT_GE(count_of(log, "find", "network"), 1);
}

TEST(Failover, WithRetriesOffOnlyTheFaultedCommandsFail) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri("&retryWrites=false&retryReads=false"));
  Collection c = client["db"]["failover"];
  constexpr int kSteps = 60;
  Workload w;
  for (int i = 0; i < kSteps; ++i) {
    if (i == 20) rs.control("fail insert 1 network");
    if (i == 40) rs.control("fail find 1 network");
    step(c, i, w);
  }
  // Exactly the two faulted commands fail: nothing retried them, and the client recovered at
  // once from each (the next step succeeded).
  ASSERT_EQ(w.errors, 2);
  EXPECT_EQ(w.messages[0].rfind("20: ", 0), 0u) << w.messages[0];
  EXPECT_EQ(w.messages[1].rfind("40: ", 0), 0u) << w.messages[1];
  const auto log = rs.log();
  EXPECT_EQ(count_of(log, "insert", "retried"), 0);
}

}  // namespace
}  // namespace mongoslice
