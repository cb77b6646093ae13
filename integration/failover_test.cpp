// Failover against a replica set that fails over on cue (integration/mock/replica_set.py: three
// members on loopback that stream their hellos, step down, die and lose replies when told):
// a workload of writes and reads runs through lost replies, a stepdown and a killed primary.
// With retryable writes and reads on, the application sees no error and every write lands
// exactly once (the member recognises a retried lsid/txnNumber and does not apply it again);
// with them off, the same faults surface as errors, and only the faulted commands fail.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "driver/mongo_client.hpp"
#include "support/test_servers.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;

class ReplicaSetMock {
 public:
  ReplicaSetMock() : process_("replica_set.py", {}) {
    std::istringstream line(process_.read_line());
    std::vector<int> ports;
    for (int port; line >> port;) ports.push_back(port);
    if (ports.size() != 4) throw std::runtime_error("replica_set.py printed no ports");
    control_port_ = ports.back();
    ports.pop_back();
    members_ = ports;
  }

  std::string uri(const std::string& options = "") const {
    std::string hosts;
    for (int port : members_)
      hosts += (hosts.empty() ? "" : ",") + ("127.0.0.1:" + std::to_string(port));
    return "mongodb://" + hosts + "/?replicaSet=rs0&serverSelectionTimeoutMS=10000" + options;
  }

  // One control command (replica_set.py's docstring); returns its JSON reply line.
  std::string control(const std::string& command) const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(control_port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (fd >= 0) ::close(fd);
      throw std::runtime_error("cannot reach the mock's control port");
    }
    timeval timeout{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const std::string text = command + "\n";
    (void)::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
    std::string reply;
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, n);
    ::close(fd);
    if (reply.find("\"ok\": true") == std::string::npos &&
        reply.find("\"ok\":true") == std::string::npos) {
      throw std::runtime_error("control '" + command + "' failed: " + reply);
    }
    return reply;
  }

  // The log's entries since the last call, as JSON documents.
  std::vector<bson::Document> log() const {
    bson::Document reply = bson::Document::from_json(control("log"));
    std::vector<bson::Document> entries;
    for (const bson::Element& e : reply.view()["log"].get_array()) {
      entries.emplace_back(e.get_document());
    }
    return entries;
  }

  int primary() const {
    bson::Document state = bson::Document::from_json(control("state"));
    return static_cast<int>(state.view()["primary"].as_int64());
  }

 private:
  integration::MockProcess process_;
  std::vector<int> members_;
  int control_port_ = 0;
};

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
