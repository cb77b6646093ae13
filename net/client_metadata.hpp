#pragma once
// The `client` document of the connection handshake (MongoDB handshake specification): who we
// are, on which OS and platform, and the application's name. Servers log it with every new
// connection, which is how an operator finds out which program opened a connection.

#include <optional>
#include <string_view>

#include "net/client_environment.hpp"
#include "wire/bson.hpp"

namespace mongoslice {

inline constexpr std::string_view kDriverName = "mongoslice";
inline constexpr std::string_view kDriverVersion = "0.1.0";

// The server refuses a larger `client` document.
inline constexpr std::size_t kMaxClientMetadataBytes = 512;

//   {application: {name}?, driver: {name, version}, os: {type, name, architecture, version},
//    platform: "C++20 / g++ 12.2.0 / Boost 1.81",
//    env: {name?, timeout_sec?, memory_mb?, region?, container: {runtime?, orchestrator?}?}?}
// The OS facts come from uname(2) and /etc/os-release, read once per process; `env` (left out
// when empty) from `env`, by default the process's environment read on each call. An app name
// is cut to 128 bytes (the URI options spec's limit). A document above 512 bytes (a long
// region, say) loses, in the handshake spec's order until it fits: env's fields but its name,
// os's fields but its type, env, the end of platform.
bson::Document client_metadata(std::optional<std::string_view> app_name);
bson::Document client_metadata(std::optional<std::string_view> app_name,
                               const ClientEnvironment& env);

}  // namespace mongoslice
