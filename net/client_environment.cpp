#include "net/client_environment.hpp"

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <string_view>

namespace mongoslice {
namespace {

bool is_set(const EnvironmentSources& s, const char* name) {
  const char* value = s.variables(name);
  return value != nullptr && *value != '\0';
}

std::optional<std::string> text_of(const EnvironmentSources& s, const char* name) {
  const char* value = s.variables(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::optional<std::int32_t> int32_of(const EnvironmentSources& s, const char* name) {
  const char* value = s.variables(name);
  if (value == nullptr) return std::nullopt;
  const std::string_view text(value);
  std::int32_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return number;
}

}  // namespace

ClientEnvironment detect_client_environment(const EnvironmentSources& s) {
  ClientEnvironment env;
  const char* aws_execution = s.variables("AWS_EXECUTION_ENV");
  const bool aws =
      (aws_execution != nullptr && std::string_view(aws_execution).starts_with("AWS_Lambda_")) ||
      is_set(s, "AWS_LAMBDA_RUNTIME_API");
  const bool azure = is_set(s, "FUNCTIONS_WORKER_RUNTIME");
  const bool gcp = is_set(s, "K_SERVICE") || is_set(s, "FUNCTION_NAME");
  const bool vercel = is_set(s, "VERCEL");
  const int platforms = int{aws} + int{azure} + int{gcp} + int{vercel};
  if (vercel && platforms == 1 + int{aws}) {
    env.faas_name = "vercel";
    env.region = text_of(s, "VERCEL_REGION");
  } else if (platforms == 1 && aws) {
    env.faas_name = "aws.lambda";
    env.region = text_of(s, "AWS_REGION");
    env.memory_mb = int32_of(s, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
  } else if (platforms == 1 && azure) {
    env.faas_name = "azure.func";
  } else if (platforms == 1 && gcp) {
    env.faas_name = "gcp.func";
    env.region = text_of(s, "FUNCTION_REGION");
    env.memory_mb = int32_of(s, "FUNCTION_MEMORY_MB");
    env.timeout_sec = int32_of(s, "FUNCTION_TIMEOUT_SEC");
  }
  if (s.dockerenv_exists) env.container_runtime = "docker";
  if (is_set(s, "KUBERNETES_SERVICE_HOST")) env.container_orchestrator = "kubernetes";
  return env;
}

ClientEnvironment detect_client_environment() {
  return detect_client_environment(
      {.variables = [](const char* name) -> const char* { return std::getenv(name); },
       .dockerenv_exists = ::access("/.dockerenv", F_OK) == 0});
}

}  // namespace mongoslice
