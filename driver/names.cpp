#include "driver/names.hpp"

#include <bson/bson.h>

#include "wire/error.hpp"

namespace mongoslice {
namespace {

bool is_utf8(std::string_view name) {
  return bson_utf8_validate(name.data(), name.size(), /*allow_null=*/false);
}

// The checks both kinds of names share; `kind` is "database" or "collection".
void check_common(std::string_view kind, std::string_view name) {
  const std::string prefix = std::string(kind) + " name ";
  if (name.empty()) throw Error(errc::invalid_argument, "the " + prefix + "is empty");
  if (name.find('\0') != std::string_view::npos) {
    throw Error(errc::invalid_argument, "the " + prefix + escaped_name(name) + " holds a NUL byte");
  }
  if (!is_utf8(name)) {
    throw Error(errc::invalid_argument,
                "the " + prefix + escaped_name(name) + " is not valid UTF-8");
  }
}

}  // namespace

std::string escaped_name(std::string_view name) {
  static constexpr char kHex[] = "0123456789abcdef";
  const bool utf8 = is_utf8(name);
  std::string out = "'";
  out.reserve(name.size() + 2);
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte == 0x7f || (byte >= 0x80 && !utf8)) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

void check_database_name(std::string_view name) {
  check_common("database", name);
  for (char c : std::string_view("/\\.\"$ ")) {
    if (name.find(c) != std::string_view::npos) {
      throw Error(errc::invalid_argument,
                  "the database name " + escaped_name(name) + " contains " +
                      (c == ' ' ? std::string("a space") : "'" + std::string(1, c) + "'") +
                      ", which database names cannot contain (any of / \\ . \" $ and space)");
    }
  }
  if (name.size() > kMaxDatabaseNameBytes) {
    throw Error(errc::invalid_argument, "the database name " + escaped_name(name) + " is " +
                                            std::to_string(name.size()) +
                                            " bytes long; database names have at most " +
                                            std::to_string(kMaxDatabaseNameBytes));
  }
}

void check_collection_name(std::string_view name) {
  check_common("collection", name);
  if (name.find('$') != std::string_view::npos) {
    throw Error(errc::invalid_argument, "the collection name " + escaped_name(name) +
                                            " contains '$', which collection names cannot contain");
  }
}

}  // namespace mongoslice
