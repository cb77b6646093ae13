#pragma once
// A server's address, as the connection string, the topology and the kill-cursors task name it.

#include <compare>
#include <cstdint>
#include <functional>
#include <string>

namespace mongoslice {

struct HostAndPort {
  std::string host;  // lower-cased name, IPv4 literal, or IPv6 literal without brackets
  std::uint16_t port = 27017;

  // "host:port", with brackets around IPv6 literals: "[::1]:27017".
  std::string to_string() const {
    bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
  friend auto operator<=>(const HostAndPort&, const HostAndPort&) = default;
};

}  // namespace mongoslice

template <>
struct std::hash<mongoslice::HostAndPort> {
  std::size_t operator()(const mongoslice::HostAndPort& a) const noexcept {
    return std::hash<std::string>{}(a.host) * 31 + a.port;
  }
};
