#pragma once
// What a connection's TLS must be, as the URI options say (tls, tlsCAFile,
// tlsCertificateKeyFile, tlsCertificateKeyFilePassword, tlsAllowInvalidCertificates,
// tlsAllowInvalidHostnames; tlsInsecure sets both "allow" flags). ConnectionString fills it,
// net/ builds the OpenSSL context from it.

#include <optional>
#include <string>

namespace mongoslice {

struct TlsOptions {
  // PEM file of the certificate authorities to trust; none: the system trust store.
  std::optional<std::string> ca_file;
  // PEM file holding the client certificate and its private key, when the server asks for one.
  std::optional<std::string> certificate_key_file;
  // The password that decrypts that private key. A secret: never logged or printed.
  std::optional<std::string> certificate_key_password;
  bool allow_invalid_certificates = false;  // no chain verification (tests only)
  bool allow_invalid_hostnames = false;     // no host name / IP check against the certificate
};

}  // namespace mongoslice
