#pragma once
// Read preference: which members of a replica set (or which mongoses) an operation may use.

#include <chrono>
#include <optional>
#include <string_view>
#include <vector>

#include "wire/bson.hpp"

namespace mongoslice {

struct ReadPreference {
  enum class Mode { kPrimary, kPrimaryPreferred, kSecondary, kSecondaryPreferred, kNearest };

  Mode mode = Mode::kPrimary;
  // Tag sets in order of preference; a server matches a set when it has every tag in it. An
  // empty document matches any server. No tag sets means "any server".
  std::vector<bson::Document> tag_sets;
  // maxStalenessSeconds; absent means no maximum. Selection leaves out secondaries estimated to
  // lag more (driver/server_selection.hpp, which also says which values are refused), and it is
  // sent along with the mode (driver/read_preference_wire.hpp).
  std::optional<std::chrono::seconds> max_staleness;
};

// "primary", "primaryPreferred", ... (as in the connection string; parsing is case-insensitive).
std::string_view to_string(ReadPreference::Mode mode) noexcept;
std::optional<ReadPreference::Mode> parse_read_preference_mode(std::string_view text) noexcept;

}  // namespace mongoslice
