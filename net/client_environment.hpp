#pragma once
// Where the process runs, as the handshake's `client.env` tells the server (the MongoDB
// handshake specification): a FaaS platform (AWS Lambda, Azure Functions, Google Cloud
// Functions, Vercel), known from the environment variables each sets, and a container (Docker:
// /.dockerenv exists; Kubernetes: KUBERNETES_SERVICE_HOST is set). serverMonitoringMode=auto
// also reads it: a FaaS process is frozen between invocations, so its monitors poll instead of
// holding an awaited hello open (driver/topology.cpp).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace mongoslice {

struct ClientEnvironment {
  // "aws.lambda", "azure.func", "gcp.func" or "vercel"; none outside FaaS, and none when the
  // variables of two platforms are set (the spec's rule: such an environment is unknown), except
  // Vercel's with AWS's (Vercel runs on Lambda).
  std::optional<std::string> faas_name;
  // The platform's own facts. A variable that is not a whole decimal number in int32's range is
  // left out, never guessed at ("big" as the memory size).
  std::optional<std::string> region;
  std::optional<std::int32_t> memory_mb;
  std::optional<std::int32_t> timeout_sec;
  std::optional<std::string> container_runtime;       // "docker"
  std::optional<std::string> container_orchestrator;  // "kubernetes"

  bool in_faas() const noexcept { return faas_name.has_value(); }
  bool empty() const noexcept {
    return !faas_name && !container_runtime && !container_orchestrator;
  }
};

// Reads one environment variable: nullptr when it is unset. Tests give their own.
using EnvironmentVariables = std::function<const char*(const char* name)>;

struct EnvironmentSources {
  EnvironmentVariables variables;
  bool dockerenv_exists = false;  // /.dockerenv
};

ClientEnvironment detect_client_environment(const EnvironmentSources& sources);
// The process's own environment (getenv, and /.dockerenv), read on every call: cheap, and a
// program that sets a variable before connecting is believed.
ClientEnvironment detect_client_environment();

}  // namespace mongoslice
