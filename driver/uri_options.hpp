#pragma once
// The query part of a connection string ("?replicaSet=rs0&readPreference=secondary"), read as
// the URI-options specification says. Internal to driver/; ConnectionString::parse uses it.

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "driver/connection_string.hpp"

namespace mongoslice::uri_detail {

class UriOptionReader {
 public:
  explicit UriOptionReader(ConnectionString& out) : out_(out) {}

  // Applies every "key=value" of `query` (the text after '?', '&'-separated) in order, so the
  // last of repeated options wins. Throws Error(errc::invalid_uri) for a malformed pair, a
  // refused option or a value whose neglect would weaken what the user asked for (a tls value
  // that is not a boolean, w < 0, ...); pushes a warning for unknown or unimplemented options
  // and for other values it cannot use.
  void read(std::string_view query);

  // Rules about several options together or options and hosts, checked once all are read.
  void validate() const;

 private:
  void apply(std::string_view pair);
  // tls, ssl and the tls* options (see ConnectionString::parse): recorded here, judged in
  // validate().
  void apply_tls(const std::string& key, const std::string& lower, std::string_view raw_value);

  ConnectionString& out_;
  std::set<std::string> seen_;  // lower-cased names, to warn about repeats
  bool read_preference_tags_given_ = false;
  std::optional<bool> tls_;               // the value of tls / ssl, once given
  std::string tls_key_;                   // the key that gave it, as written
  std::vector<std::string> tls_options_;  // the other TLS options given, as written
};

}  // namespace mongoslice::uri_detail
