#include "driver/sensitive_commands.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace mongoslice {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::array<std::string_view, 9> kSensitive = {
    "authenticate", "saslStart",      "saslContinue",    "getnonce", "createUser",
    "updateUser",   "copydbgetnonce", "copydbsaslstart", "copydb"};

}  // namespace

bool is_sensitive_command(std::string_view name, bson::View command) {
  for (std::string_view s : kSensitive) {
    if (equals_ignoring_case(name, s)) return true;
  }
  if (equals_ignoring_case(name, "hello") || equals_ignoring_case(name, "isMaster")) {
    return command.contains("speculativeAuthenticate");
  }
  return false;
}

}  // namespace mongoslice
