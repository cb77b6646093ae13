// serverMonitoringMode (the server-monitoring spec) against the scripted replica set, whose
// members offer the streaming protocol (integration/mock/replica_set.py logs every hello with
// its maxAwaitTimeMS and the handshake's client document):
//   - stream: monitors send awaitable hellos;
//   - poll: never, one plain hello per heartbeat;
//   - auto: streams, except in a FaaS environment (here AWS Lambda's variables), where it polls
//     and the handshake's client.env says which platform.
// And the handshake spec's prose test 1: a client connects and runs a command in each of its
// nine environments, against the mock (which shows the env the server got) and every real
// server.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "client_test_support.hpp"
#include "driver/mongo_client.hpp"
#include "replica_set_mock.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using integration::ReplicaSetMock;

using Variables = std::map<std::string, std::string>;

// Sets environment variables for its lifetime (this test process is its own: ctest runs each
// test alone), restoring what was there.
class ScopedEnvironment {
 public:
  explicit ScopedEnvironment(const Variables& variables) {
    for (const auto& [name, value] : variables) {
      const char* old = ::getenv(name.c_str());
      saved_.emplace(name, old ? std::optional<std::string>(old) : std::nullopt);
      ::setenv(name.c_str(), value.c_str(), 1);
    }
  }
  ~ScopedEnvironment() {
    for (const auto& [name, old] : saved_) {
      if (old) {
        ::setenv(name.c_str(), old->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

// The kinds of FaaS variables any of these tests set, cleared for the test that needs none.
const Variables kNoFaas = {
    {"AWS_EXECUTION_ENV", ""}, {"AWS_LAMBDA_RUNTIME_API", ""}, {"FUNCTIONS_WORKER_RUNTIME", ""},
    {"K_SERVICE", ""},         {"FUNCTION_NAME", ""},          {"VERCEL", ""}};

struct Hellos {
  int plain = 0;                        // no maxAwaitTimeMS
  int awaitable = 0;                    // with maxAwaitTimeMS (the streaming protocol)
  std::vector<bson::Document> clients;  // each handshake's client document
};

// Reads the mock's log until `enough` says the hellos seen so far suffice (at most 15 s).
Hellos watch_hellos(const ReplicaSetMock& rs, const std::function<bool(const Hellos&)>& enough) {
  Hellos seen;
  const auto give_up = std::chrono::steady_clock::now() + 15s;
  while (!enough(seen) && std::chrono::steady_clock::now() < give_up) {
    for (const auto& entry : rs.log()) {
      const auto cmd = entry.view()["cmd"].get_string();
      if (cmd != "hello" && cmd != "isMaster" && cmd != "ismaster") continue;
      if (entry.view()["maxAwaitTimeMS"].type() == bson::Type::kNull) {
        ++seen.plain;
      } else {
        ++seen.awaitable;
      }
      if (auto client = entry.view().find("client")) {
        seen.clients.emplace_back(client->get_document());
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  return seen;
}

// Counts the heartbeat events, awaited or not.
class HeartbeatCounter : public EventListener {
 public:
  void on(const ServerHeartbeatStartedEvent& e) override { ++(e.awaited ? awaited : plain); }
  void on(const ServerHeartbeatSucceededEvent& e) override {
    ++(e.awaited ? awaited_succeeded : plain_succeeded);
  }
  std::atomic<int> awaited{0}, plain{0}, awaited_succeeded{0}, plain_succeeded{0};
};

std::string env_name_of(const bson::Document& client) {
  auto env = client.view().find("env");
  if (!env) return "";
  auto name = env->get_document().find("name");
  return name ? std::string(name->get_string()) : "";
}

TEST(ServerMonitoringMode, StreamSendsAwaitableHellos) {
  ReplicaSetMock rs;
  auto heartbeats = std::make_shared<HeartbeatCounter>();
  MongoClient client(rs.uri("&serverMonitoringMode=stream"), ClientOptions{{heartbeats}});
  client["admin"].run_command(bson::Document::from_json(R"({"ping": 1})"));
  const Hellos seen = watch_hellos(rs, [](const Hellos& h) { return h.awaitable >= 3; });
  EXPECT_GE(seen.awaitable, 3);
  // The public events say which checks were awaited: the handshakes were not, the awaitable
  // hellos now waiting on the members are.
  EXPECT_GE(heartbeats->awaited.load(), 3);
  EXPECT_GE(heartbeats->plain_succeeded.load(), 3);
}

TEST(ServerMonitoringMode, PollNeverSendsAnAwaitableHello) {
  ReplicaSetMock rs;
  // 500 ms: several heartbeats of each of the three monitors within the watch.
  auto heartbeats = std::make_shared<HeartbeatCounter>();
  MongoClient client(rs.uri("&serverMonitoringMode=poll&heartbeatFrequencyMS=500"),
                     ClientOptions{{heartbeats}});
  client["admin"].run_command(bson::Document::from_json(R"({"ping": 1})"));
  // Each monitor's handshake, then at least two polls each: a streaming monitor would have sent
  // its awaitable hello right after the handshake.
  const Hellos seen = watch_hellos(rs, [](const Hellos& h) { return h.plain >= 9; });
  EXPECT_GE(seen.plain, 9);
  EXPECT_EQ(seen.awaitable, 0);
  EXPECT_GE(heartbeats->plain.load(), 9);
  EXPECT_EQ(heartbeats->awaited.load() + heartbeats->awaited_succeeded.load(), 0);
}

TEST(ServerMonitoringMode, AutoStreamsOutsideFaas) {
  ScopedEnvironment no_faas(kNoFaas);
  ReplicaSetMock rs;
  MongoClient client(rs.uri("&serverMonitoringMode=auto"));
  client["admin"].run_command(bson::Document::from_json(R"({"ping": 1})"));
  const Hellos seen = watch_hellos(rs, [](const Hellos& h) { return h.awaitable >= 3; });
  EXPECT_GE(seen.awaitable, 3);
  ASSERT_FALSE(seen.clients.empty());
  for (const auto& c : seen.clients) EXPECT_EQ(env_name_of(c), "") << c.to_json();
}

TEST(ServerMonitoringMode, AutoPollsOnAwsLambdaAndTheHandshakeSaysSo) {
  ScopedEnvironment lambda({{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"},
                            {"AWS_REGION", "us-east-2"},
                            {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"}});
  ReplicaSetMock rs;
  MongoClient client(rs.uri("&heartbeatFrequencyMS=500"));  // auto is the default
  client["admin"].run_command(bson::Document::from_json(R"({"ping": 1})"));
  const Hellos seen = watch_hellos(rs, [](const Hellos& h) { return h.plain >= 9; });
  EXPECT_GE(seen.plain, 9);
  EXPECT_EQ(seen.awaitable, 0);
  // Every handshake, the monitors' and the pool's, told the server where it runs.
  ASSERT_GE(seen.clients.size(), 4u);
  for (const auto& c : seen.clients) {
    EXPECT_EQ(env_name_of(c), "aws.lambda") << c.to_json();
    EXPECT_EQ(c.view()["env"].get_document()["memory_mb"].as_int64(), 1024);
    EXPECT_EQ(c.view()["env"].get_document()["region"].get_string(), "us-east-2");
  }
}

// ---- the handshake spec's prose test 1 ----------------------------------------------------

struct NamedEnvironment {
  std::string name;
  Variables variables;
  std::string expected_env_name;  // "" when the handshake must carry none
};

std::vector<NamedEnvironment> prose_environments() {
  return {
      {"ValidAws",
       {{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"},
        {"AWS_REGION", "us-east-2"},
        {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"}},
       "aws.lambda"},
      {"ValidAzure", {{"FUNCTIONS_WORKER_RUNTIME", "node"}}, "azure.func"},
      {"ValidGcp",
       {{"K_SERVICE", "servicename"},
        {"FUNCTION_MEMORY_MB", "1024"},
        {"FUNCTION_TIMEOUT_SEC", "60"},
        {"FUNCTION_REGION", "us-central1"}},
       "gcp.func"},
      {"ValidVercel", {{"VERCEL", "1"}, {"VERCEL_REGION", "cdg1"}}, "vercel"},
      {"MultipleProviders",
       {{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"}, {"FUNCTIONS_WORKER_RUNTIME", "node"}},
       ""},
      {"LongString",
       {{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"}, {"AWS_REGION", std::string(512, 'a')}},
       "aws.lambda"},
      {"WrongTypes",
       {{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"}, {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "big"}},
       "aws.lambda"},
      {"NotLambda", {{"AWS_EXECUTION_ENV", "EC2"}}, ""},
      {"ContainerAndFaas",
       {{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"},
        {"AWS_REGION", "us-east-2"},
        {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"},
        {"KUBERNETES_SERVICE_HOST", "1"}},
       "aws.lambda"},
  };
}

TEST(HandshakeEnvironment, EachProseEnvironmentConnectsAndTheServerGetsItsEnv) {
  for (const NamedEnvironment& e : prose_environments()) {
    SCOPED_TRACE(e.name);
    ScopedEnvironment clear(kNoFaas);
    ScopedEnvironment set(e.variables);
    ReplicaSetMock rs;
    MongoClient client(rs.uri());
    EXPECT_NO_THROW(client["admin"].run_command(bson::Document::from_json(R"({"ping": 1})")));
    const Hellos seen = watch_hellos(rs, [](const Hellos& h) { return !h.clients.empty(); });
    ASSERT_FALSE(seen.clients.empty());
    for (const auto& c : seen.clients) {
      EXPECT_LE(c.view().size(), 512u);
      EXPECT_EQ(env_name_of(c), e.expected_env_name) << c.to_json();
    }
    if (e.name == "ContainerAndFaas") {
      EXPECT_EQ(seen.clients.front()
                    .view()["env"]
                    .get_document()["container"]
                    .get_document()["orchestrator"]
                    .get_string(),
                "kubernetes");
    }
  }
}

class HandshakeEnvironmentReal : public ::testing::TestWithParam<testing::RealServer> {};

TEST_P(HandshakeEnvironmentReal, EachProseEnvironmentConnectsAndRunsACommand) {
  for (const NamedEnvironment& e : prose_environments()) {
    SCOPED_TRACE(e.name);
    ScopedEnvironment clear(kNoFaas);
    ScopedEnvironment set(e.variables);
    MongoClient client(GetParam().uri());
    EXPECT_NO_THROW(client["admin"].run_command(bson::Document::from_json(R"({"ping": 1})")));
  }
}

INSTANTIATE_TEST_SUITE_P(, HandshakeEnvironmentReal, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
