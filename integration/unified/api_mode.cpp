#include "unified/api_mode.hpp"

#include <cstdlib>
#include <string_view>

namespace mongoslice::unified {

bool async_api() {
  static const bool on = [] {
    const char* value = std::getenv("MONGOSLICE_UNIFIED_ASYNC");
    return value != nullptr && std::string_view(value) == "1";
  }();
  return on;
}

boost::asio::io_context& runner_io_context() {
  static boost::asio::io_context io;
  return io;
}

}  // namespace mongoslice::unified
