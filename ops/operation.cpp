#include "ops/operation.hpp"

#include <string>

#include "wire/error.hpp"

namespace mongoslice::ops {

void check_wire_version(const ServerLimits& limits, std::int32_t required, std::string_view what) {
  if (limits.max_wire_version >= required) return;
  throw Error(errc::invalid_argument, std::string(what) + " needs a server of wire version " +
                                          std::to_string(required) + " or later; this one has " +
                                          std::to_string(limits.max_wire_version) +
                                          " (nothing was sent)");
}

}  // namespace mongoslice::ops
