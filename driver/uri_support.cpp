#include "driver/uri_support.hpp"

#include <string>
#include <vector>

#include "driver/uri_text.hpp"

namespace mongoslice {

void refuse_unimplemented(const ConnectionString& uri) {
  std::vector<std::string> missing;
  if (!uri_support::kTls && uri.tls) {
    missing.push_back(
        "TLS (tls=true, another tls* option, or mongodb+srv:// without tls=false): TLS "
        "connections are not supported by mongoslice yet, and it will not connect in plaintext "
        "instead");
  }
  if (!uri_support::kCredential && uri.credential) {
    missing.push_back("authentication (user " + uri_detail::quoted(uri.credential->username) +
                      "): authentication is not supported by mongoslice yet, and it will not "
                      "connect unauthenticated instead");
  }
  if (!uri_support::kSrv && uri.srv_host) {
    missing.push_back(
        "mongodb+srv:// (DNS SRV seed lists): not supported by mongoslice yet; "
        "list the hosts in a mongodb://host1,host2/ connection string instead");
  }
  if (!uri_support::kLoadBalanced && uri.load_balanced) {
    missing.push_back("loadBalanced=true: load-balanced mode is not supported by mongoslice");
  }
  if (missing.empty()) return;
  std::string message = "the connection string asks for ";
  for (std::size_t i = 0; i < missing.size(); ++i) {
    message += (i == 0 ? "" : "; and for ") + missing[i];
  }
  uri_detail::throw_invalid_uri(message);
}

}  // namespace mongoslice
