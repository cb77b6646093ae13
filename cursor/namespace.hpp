#pragma once
// A MongoDB namespace: a database and a collection, as a cursor reply names it ("db.coll").

#include <compare>
#include <string>
#include <string_view>

namespace mongoslice {

struct Namespace {
  std::string db;
  std::string collection;

  // Splits "db.coll" at the first dot (collection names may contain dots, database names may
  // not). Throws mongoslice::Error (errc::cursor_error) when either part is empty.
  static Namespace parse(std::string_view full);

  std::string to_string() const { return db + "." + collection; }
  friend auto operator<=>(const Namespace&, const Namespace&) = default;
};

}  // namespace mongoslice
