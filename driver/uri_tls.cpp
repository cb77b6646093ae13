#include "driver/uri_tls.hpp"

#include <algorithm>

#include "driver/uri_text.hpp"

namespace mongoslice::uri_detail {
namespace {

constexpr std::string_view kInsecure = "tlsinsecure";
constexpr std::string_view kAllowInvalidCertificates = "tlsallowinvalidcertificates";
constexpr std::string_view kAllowInvalidHostnames = "tlsallowinvalidhostnames";
constexpr std::string_view kCaFile = "tlscafile";
constexpr std::string_view kCertificateKeyFile = "tlscertificatekeyfile";
constexpr std::string_view kCertificateKeyFilePassword = "tlscertificatekeyfilepassword";
constexpr std::string_view kDisableRevocationCheck = "tlsdisablecertificaterevocationcheck";
constexpr std::string_view kDisableOcspEndpointCheck = "tlsdisableocspendpointcheck";

constexpr std::string_view kTlsOptions[] = {
    kAllowInvalidCertificates,
    kAllowInvalidHostnames,
    kCaFile,
    kCertificateKeyFile,
    kCertificateKeyFilePassword,
    kDisableRevocationCheck,
    kDisableOcspEndpointCheck,
    kInsecure,
};

// The URI-options spec's pairs that may not appear together, whatever their values: each one
// relaxes (or says how to relax) the same check another of the pair already governs.
constexpr std::pair<std::string_view, std::string_view> kConflicts[] = {
    {kInsecure, kAllowInvalidCertificates},
    {kInsecure, kAllowInvalidHostnames},
    {kInsecure, kDisableOcspEndpointCheck},
    {kInsecure, kDisableRevocationCheck},
    {kAllowInvalidCertificates, kDisableOcspEndpointCheck},
    {kAllowInvalidCertificates, kDisableRevocationCheck},
    {kDisableOcspEndpointCheck, kDisableRevocationCheck},
};

}  // namespace

bool TlsOptionState::is_tls_option(std::string_view lower) {
  return lower == "tls" || lower == "ssl" ||
         std::find(std::begin(kTlsOptions), std::end(kTlsOptions), lower) != std::end(kTlsOptions);
}

bool TlsOptionState::given(std::string_view lower) const {
  return std::any_of(given_.begin(), given_.end(), [&](const auto& g) { return g.first == lower; });
}

const std::string& TlsOptionState::written(std::string_view lower) const {
  for (const auto& g : given_) {
    if (g.first == lower) return g.second;
  }
  return given_.front().second;  // only called for a name given() found
}

void TlsOptionState::record(ConnectionString& out, const std::string& key, const std::string& lower,
                            const std::string& value) {
  std::string lower_value = ascii_lower(value);
  if (lower == "tls" || lower == "ssl") {
    // A value that is not a boolean is an error, not a warning: read as "not true" it would
    // mean plaintext where the user may have meant TLS ("tls=yes").
    if (lower_value != "true" && lower_value != "false") {
      throw_invalid_uri(printable(key) + "=" + printable(value) +
                        ": expected true or false (a value that is neither is refused rather "
                        "than read as false, which would mean a plaintext connection)");
    }
    bool on = lower_value == "true";
    if (tls_ && *tls_ != on) {
      throw_invalid_uri(printable(tls_key_) + "=" + tls_value_ + " and " + printable(key) + "=" +
                        lower_value + " contradict each other (tls and ssl are one option)");
    }
    tls_ = on;
    tls_key_ = key;
    tls_value_ = lower_value;
    return;
  }
  if (!given(lower)) given_.emplace_back(lower, key);

  auto boolean = [&](std::optional<bool>& field) {
    if (lower_value != "true" && lower_value != "false") {
      // Ignored, so the check it would relax stays on.
      out.warnings.push_back("option " + printable(key) + "=" + printable(value) +
                             " ignored: expected true or false");
      return;
    }
    bool v = lower_value == "true";
    if (field && *field != v) {
      throw_invalid_uri("option " + printable(key) +
                        " is given more than once with different values; say once whether "
                        "this TLS check is relaxed");
    }
    field = v;
  };
  auto path = [&](std::optional<std::string>& field) {
    if (value.empty()) {
      out.warnings.push_back("option " + printable(key) + " ignored: its value is empty");
      return;
    }
    field = value;  // the value is never quoted: it may be a password
  };

  if (lower == kInsecure) return boolean(insecure_);
  if (lower == kAllowInvalidCertificates) return boolean(allow_invalid_certificates_);
  if (lower == kAllowInvalidHostnames) return boolean(allow_invalid_hostnames_);
  if (lower == kDisableOcspEndpointCheck) return boolean(disable_ocsp_endpoint_check_);
  if (lower == kDisableRevocationCheck) return boolean(disable_revocation_check_);
  if (lower == kCaFile) return path(ca_file_);
  if (lower == kCertificateKeyFile) return path(certificate_key_file_);
  if (lower == kCertificateKeyFilePassword) return path(certificate_key_password_);
}

void TlsOptionState::finish(ConnectionString& out, bool srv) const {
  for (const auto& [a, b] : kConflicts) {
    if (given(a) && given(b)) {
      throw_invalid_uri("options " + printable(written(a)) + " and " + printable(written(b)) +
                        " cannot be combined (the URI-options spec: they govern the same "
                        "certificate checks; give only one)");
    }
  }
  if (tls_ == false && !given_.empty()) {
    std::string names;
    for (const auto& g : given_) names += (names.empty() ? "" : ", ") + printable(g.second);
    throw_invalid_uri(printable(tls_key_) + "=false contradicts the TLS option(s) " + names +
                      " (remove them for a plaintext connection, or drop " + printable(tls_key_) +
                      "=false for TLS)");
  }
  out.tls_disable_ocsp_endpoint_check = disable_ocsp_endpoint_check_;
  out.tls_disable_certificate_revocation_check = disable_revocation_check_;
  bool on = tls_.value_or(srv || !given_.empty());
  if (!on) {
    out.tls.reset();
    return;
  }
  TlsOptions tls;
  tls.ca_file = ca_file_;
  tls.certificate_key_file = certificate_key_file_;
  tls.certificate_key_password = certificate_key_password_;
  tls.allow_invalid_certificates = allow_invalid_certificates_.value_or(false);
  tls.allow_invalid_hostnames = allow_invalid_hostnames_.value_or(false);
  if (insecure_.value_or(false)) {
    tls.allow_invalid_certificates = true;
    tls.allow_invalid_hostnames = true;
  }
  out.tls = std::move(tls);
}

}  // namespace mongoslice::uri_detail
