#include "cursor/namespace.hpp"

#include "wire/error.hpp"

namespace mongoslice {

Namespace Namespace::parse(std::string_view full) {
  auto dot = full.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == full.size()) {
    throw Error(errc::cursor_error,
                "namespace '" + std::string(full) + "' is not of the form <db>.<collection>");
  }
  return Namespace{std::string(full.substr(0, dot)), std::string(full.substr(dot + 1))};
}

}  // namespace mongoslice
