#pragma once
// What a Database or Collection handle carries for its operations: write concern, read concern
// and read preference. A client's come from its URI; a Database inherits the client's, a
// Collection its Database's, and with_options() overrides any of them on a copy of the handle.
// A field left empty means "inherit" (and, at the client, the server's default).

#include <optional>

#include "ops/concerns.hpp"
#include "ops/read_preference.hpp"

namespace mongoslice {

// The options a Database or Collection handle may override (with_options): each left empty
// is inherited from the handle it was made from, and in the end from the client's URI.
struct HandleOptions {
  std::optional<WriteConcern> write_concern;
  std::optional<ReadConcern> read_concern;
  std::optional<ReadPreference> read_preference;

  // `overrides` applied over this: each field set there replaces this one's.
  HandleOptions merged_with(const HandleOptions& overrides) const {
    HandleOptions out = *this;
    if (overrides.write_concern) out.write_concern = overrides.write_concern;
    if (overrides.read_concern) out.read_concern = overrides.read_concern;
    if (overrides.read_preference) out.read_preference = overrides.read_preference;
    return out;
  }
};

}  // namespace mongoslice
