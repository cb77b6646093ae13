#include "ops/read_preference.hpp"

#include <array>
#include <cstddef>
#include <utility>

namespace mongoslice {
namespace {

using Mode = ReadPreference::Mode;

constexpr std::array<std::pair<Mode, std::string_view>, 5> kModeNames{{
    {Mode::kPrimary, "primary"},
    {Mode::kPrimaryPreferred, "primaryPreferred"},
    {Mode::kSecondary, "secondary"},
    {Mode::kSecondaryPreferred, "secondaryPreferred"},
    {Mode::kNearest, "nearest"},
}};

constexpr char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

bool equal_ignoring_ascii_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::string_view to_string(ReadPreference::Mode mode) noexcept {
  for (const auto& [m, name] : kModeNames) {
    if (m == mode) return name;
  }
  return "unknown";
}

std::optional<ReadPreference::Mode> parse_read_preference_mode(std::string_view text) noexcept {
  for (const auto& [m, name] : kModeNames) {
    if (equal_ignoring_ascii_case(text, name)) return m;
  }
  return std::nullopt;
}

}  // namespace mongoslice
