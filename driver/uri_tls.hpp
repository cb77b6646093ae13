#pragma once
// The TLS options of a connection string (tls, ssl and the tls* options of the URI-options
// spec): read one by one, then judged together. Internal to driver/.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "driver/connection_string.hpp"

namespace mongoslice::uri_detail {

class TlsOptionState {
 public:
  // Whether `lower` (a lower-cased option name) is tls, ssl or one of the tls* options.
  static bool is_tls_option(std::string_view lower);

  // Records one option. `key` is as written (for messages), `lower` lower-cased, `value`
  // percent-decoded. A tls or ssl value other than true or false, and tls and ssl given
  // different values, are errors; another boolean option with a value that is not a boolean
  // is a warning (the option is ignored, so nothing is relaxed). Values of the string options
  // are never quoted in messages (tlsCertificateKeyFilePassword is a secret).
  void record(ConnectionString& out, const std::string& key, const std::string& lower,
              const std::string& value);

  // Judges them together and fills out.tls and out.tls_disable_*: the URI-options spec's
  // conflicts (tlsInsecure with tlsAllowInvalidCertificates, tlsAllowInvalidHostnames or either
  // revocation option; tlsAllowInvalidCertificates with either revocation option; the two
  // revocation options together: errors whatever their values), tls=false with other TLS
  // options (an error), then whether TLS is on (tls/ssl if given, else on for mongodb+srv://
  // or when another TLS option is present).
  void finish(ConnectionString& out, bool srv) const;

 private:
  bool given(std::string_view lower) const;
  const std::string& written(std::string_view lower) const;

  std::optional<bool> tls_;  // tls / ssl
  std::string tls_key_;      // the key that gave it, as written, and its value
  std::string tls_value_;
  std::vector<std::pair<std::string, std::string>> given_;  // (lower, as written), others
  std::optional<std::string> ca_file_, certificate_key_file_, certificate_key_password_;
  std::optional<bool> allow_invalid_certificates_, allow_invalid_hostnames_, insecure_;
  std::optional<bool> disable_ocsp_endpoint_check_, disable_revocation_check_;
};

}  // namespace mongoslice::uri_detail
