#pragma once
// The query part of a connection string ("?replicaSet=rs0&readPreference=secondary"), read as
// the URI-options specification says. Internal to driver/; ConnectionString::parse uses it.

#include <set>
#include <string>
#include <string_view>

#include "driver/connection_string.hpp"

namespace mongoslice::uri_detail {

class UriOptionReader {
 public:
  explicit UriOptionReader(ConnectionString& out) : out_(out) {}

  // Applies every "key=value" of `query` (the text after '?', '&'-separated) in order, so the
  // last of repeated options wins. Throws for a malformed pair or a refused option; pushes a
  // warning for unknown or unimplemented options and for values it cannot use.
  void read(std::string_view query);

  // Rules about several options together or options and hosts, checked once all are read.
  void validate() const;

 private:
  void apply(std::string_view pair);

  ConnectionString& out_;
  std::set<std::string> seen_;  // lower-cased names, to warn about repeats
  bool read_preference_tags_given_ = false;
};

}  // namespace mongoslice::uri_detail
