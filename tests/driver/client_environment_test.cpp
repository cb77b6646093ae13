// The handshake's `client.env` (net/client_environment.hpp, net/client_metadata.hpp): the nine
// environments of the handshake spec's prose test 1, each detected from its variables and
// written into a client document that stays within the server's 512 bytes. (The same
// environments reach a server in a real handshake in integration/server_monitoring_mode_test.)

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "net/client_environment.hpp"
#include "net/client_metadata.hpp"

namespace mongoslice {
namespace {

using Variables = std::map<std::string, std::string>;

ClientEnvironment detect(const Variables& variables, bool dockerenv = false) {
  return detect_client_environment({.variables = [&variables](const char* name) -> const char* {
                                      auto it = variables.find(name);
                                      return it == variables.end() ? nullptr : it->second.c_str();
                                    },
                                    .dockerenv_exists = dockerenv});
}

// client.env of the handshake document for `variables` ({} when it has none), checked to fit.
bson::Document env_of(const Variables& variables, bool dockerenv = false) {
  bson::Document doc = client_metadata(std::string_view("app"), detect(variables, dockerenv));
  EXPECT_LE(doc.view().size(), kMaxClientMetadataBytes) << doc.to_json();
  if (auto env = doc.view().find("env")) return bson::Document(env->get_document());
  return bson::Document::from_json("{}");
}

const Variables kValidAws = {{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"},
                             {"AWS_REGION", "us-east-2"},
                             {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024"}};

TEST(ClientEnvironment, ValidAws) {
  EXPECT_EQ(env_of(kValidAws).to_json(),
            bson::Document::from_json(
                R"({"name": "aws.lambda", "memory_mb": 1024, "region": "us-east-2"})")
                .to_json());
  EXPECT_TRUE(detect(kValidAws).in_faas());
}

TEST(ClientEnvironment, AwsKnownByItsRuntimeApiAlone) {
  EXPECT_EQ(detect({{"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"}}).faas_name, "aws.lambda");
}

TEST(ClientEnvironment, ValidAzure) {
  EXPECT_EQ(env_of({{"FUNCTIONS_WORKER_RUNTIME", "node"}}).to_json(),
            bson::Document::from_json(R"({"name": "azure.func"})").to_json());
}

TEST(ClientEnvironment, ValidGcp) {
  EXPECT_EQ(env_of({{"K_SERVICE", "servicename"},
                    {"FUNCTION_MEMORY_MB", "1024"},
                    {"FUNCTION_TIMEOUT_SEC", "60"},
                    {"FUNCTION_REGION", "us-central1"}})
                .to_json(),
            bson::Document::from_json(R"({"name": "gcp.func", "timeout_sec": 60,
                                          "memory_mb": 1024, "region": "us-central1"})")
                .to_json());
  EXPECT_EQ(detect({{"FUNCTION_NAME", "f"}}).faas_name, "gcp.func");
}

TEST(ClientEnvironment, ValidVercelEvenOnAwsLambda) {
  const std::string expected =
      bson::Document::from_json(R"({"name": "vercel", "region": "cdg1"})").to_json();
  EXPECT_EQ(env_of({{"VERCEL", "1"}, {"VERCEL_REGION", "cdg1"}}).to_json(), expected);
  // Vercel's functions run on Lambda, which sets its own variables too: still Vercel.
  EXPECT_EQ(env_of({{"VERCEL", "1"},
                    {"VERCEL_REGION", "cdg1"},
                    {"AWS_EXECUTION_ENV", "AWS_Lambda_nodejs18.x"},
                    {"AWS_REGION", "us-east-1"}})
                .to_json(),
            expected);
}

TEST(ClientEnvironment, TwoProvidersAreNoProvider) {
  const Variables both = {{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"},
                          {"FUNCTIONS_WORKER_RUNTIME", "node"}};
  EXPECT_FALSE(detect(both).in_faas());
  EXPECT_EQ(env_of(both).to_json(), "{ }");
}

TEST(ClientEnvironment, ALongRegionIsDroppedAndTheNameKeptWithinTheLimit) {
  const std::string region(512, 'a');
  const bson::Document env =
      env_of({{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"}, {"AWS_REGION", region}});
  EXPECT_EQ(env.to_json(), bson::Document::from_json(R"({"name": "aws.lambda"})").to_json());
  // Nothing else was given up for it: the OS facts are still there.
  bson::Document doc = client_metadata(
      std::nullopt, detect({{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"}, {"AWS_REGION", region}}));
  EXPECT_TRUE(doc.view()["os"].get_document().find("architecture"));
}

TEST(ClientEnvironment, AMemorySizeThatIsNoNumberIsLeftOut) {
  const Variables wrong = {{"AWS_EXECUTION_ENV", "AWS_Lambda_java8"},
                           {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "big"}};
  EXPECT_EQ(env_of(wrong).to_json(),
            bson::Document::from_json(R"({"name": "aws.lambda"})").to_json());
  EXPECT_FALSE(
      detect({{"FUNCTION_NAME", "f"}, {"FUNCTION_TIMEOUT_SEC", "99999999999"}}).timeout_sec);
  EXPECT_FALSE(detect({{"FUNCTION_NAME", "f"}, {"FUNCTION_MEMORY_MB", "12 "}}).memory_mb);
}

TEST(ClientEnvironment, AnExecutionEnvThatIsNotLambdaIsNoFaas) {
  EXPECT_FALSE(detect({{"AWS_EXECUTION_ENV", "EC2"}}).in_faas());
  EXPECT_EQ(env_of({{"AWS_EXECUTION_ENV", "EC2"}}).to_json(), "{ }");
}

TEST(ClientEnvironment, ContainerAndFaasTogether) {
  Variables variables = kValidAws;
  variables["KUBERNETES_SERVICE_HOST"] = "1";
  EXPECT_EQ(env_of(variables, /*dockerenv=*/true).to_json(),
            bson::Document::from_json(R"({"name": "aws.lambda", "memory_mb": 1024,
                                          "region": "us-east-2", "container":
                                          {"runtime": "docker", "orchestrator": "kubernetes"}})")
                .to_json());
  // A container alone is no FaaS: serverMonitoringMode=auto still streams there.
  EXPECT_FALSE(detect({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}, true).in_faas());
  EXPECT_EQ(
      env_of({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}}).to_json(),
      bson::Document::from_json(R"({"container": {"orchestrator": "kubernetes"}})").to_json());
}

TEST(ClientEnvironment, AnEmptyVariableSetsNothing) {
  EXPECT_FALSE(detect({{"FUNCTIONS_WORKER_RUNTIME", ""}, {"VERCEL", ""}}).in_faas());
  EXPECT_TRUE(detect({}).empty());
  EXPECT_FALSE(client_metadata(std::nullopt, detect({})).view().find("env"));
}

TEST(ClientEnvironment, TheLongestAppNameAndEnvironmentStillFit) {
  // A 128-byte app name (longer ones are cut) with every field of the largest environment.
  const std::string app(300, 'x');
  bson::Document doc =
      client_metadata(std::string_view(app), detect({{"K_SERVICE", "s"},
                                                     {"FUNCTION_MEMORY_MB", "1024"},
                                                     {"FUNCTION_TIMEOUT_SEC", "60"},
                                                     {"FUNCTION_REGION", std::string(200, 'r')},
                                                     {"KUBERNETES_SERVICE_HOST", "1"}},
                                                    true));
  EXPECT_LE(doc.view().size(), kMaxClientMetadataBytes);
  EXPECT_EQ(doc.view()["application"].get_document()["name"].get_string().size(), 128u);
  EXPECT_EQ(doc.view()["env"].get_document()["name"].get_string(), "gcp.func");
}

}  // namespace
}  // namespace mongoslice
