#pragma once
// The `client` document of the connection handshake (MongoDB handshake specification): who we
// are, on which OS and platform, and the application's name. Servers log it with every new
// connection, which is how an operator finds out which program opened a connection.

#include <optional>
#include <string_view>

#include "wire/bson.hpp"

namespace mongoslice {

inline constexpr std::string_view kDriverName = "mongoslice";
inline constexpr std::string_view kDriverVersion = "0.1.0";

//   {application: {name}?, driver: {name, version}, os: {type, name, architecture, version},
//    platform: "C++20 / g++ 12.2.0 / Boost 1.81"}
// The OS facts come from uname(2) and /etc/os-release, read once per process. The server
// refuses a document above 512 bytes; ours stays far below (an app name is at most 128 bytes
// by the URI options specification, and a longer one is cut).
bson::Document client_metadata(std::optional<std::string_view> app_name);

}  // namespace mongoslice
