#pragma once
// The query part of a connection string ("?replicaSet=rs0&readPreference=secondary"), read as
// the URI-options specification says. Internal to driver/; ConnectionString::parse uses it.

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "driver/connection_string.hpp"
#include "driver/uri_tls.hpp"

namespace mongoslice::uri_detail {

class UriOptionReader {
 public:
  // `srv`: the URI is mongodb+srv:// (TLS on by default; srvServiceName and srvMaxHosts allowed).
  UriOptionReader(ConnectionString& out, bool srv) : out_(out), srv_(srv) {}

  // Applies every "key=value" of `query` (the text after '?', '&'-separated) in order, so the
  // last of repeated options wins. Throws Error(errc::invalid_uri) for a malformed pair, a
  // refused option or a value whose neglect would weaken what the user asked for (a tls value
  // that is not a boolean, w < 0, ...); pushes a warning for unknown or unimplemented options
  // and for other values it cannot use.
  void read(std::string_view query);

  // Once all are read: fills out.tls and out.credential from what was given, then checks the
  // rules about several options together (ConnectionString::validate).
  void finish();

 private:
  void apply(std::string_view pair);

  ConnectionString& out_;
  bool srv_;
  std::set<std::string> seen_;  // lower-cased names, to warn about repeats
  TlsOptionState tls_;
  std::optional<std::string> auth_mechanism_;             // as given, percent-decoded
  std::optional<std::string> auth_mechanism_properties_;  // as given, not decoded
};

}  // namespace mongoslice::uri_detail
