#include "driver/uri_redact.hpp"

#include "driver/uri_text.hpp"

namespace mongoslice {
namespace {

constexpr std::string_view kMask = "****";

constexpr std::string_view kSecretOptions[] = {
    "tlscertificatekeyfilepassword",
    "proxypassword",
    "authmechanismproperties",
};

bool is_secret(std::string_view key) {
  // Keys are compared decoded and lower-cased, as the parser reads them; a key that does not
  // decode is treated as a secret rather than risk printing one.
  std::string lower;
  try {
    lower = uri_detail::ascii_lower(uri_detail::percent_decode(key, "an option name"));
  } catch (...) {
    return true;
  }
  for (std::string_view name : kSecretOptions) {
    if (name == lower) return true;
  }
  return false;
}

std::string redact_query(std::string_view query) {
  std::string out;
  while (true) {
    std::size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && is_secret(pair.substr(0, eq))) {
      out += pair.substr(0, eq + 1);
      out += kMask;
    } else {
      out += pair;
    }
    if (amp == std::string_view::npos) return out;
    out += '&';
    query = query.substr(amp + 1);
  }
}

}  // namespace

std::string redact_uri(std::string_view uri) {
  std::size_t scheme_end = uri.find("://");
  std::size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  std::string_view rest = uri.substr(start);
  std::size_t question = rest.find('?');
  std::string_view before_query = rest.substr(0, question);

  std::string out(uri.substr(0, start));
  // The last '@' before the query ends the user info, even where a '/' in it makes the URI
  // malformed ("alice/x:pw@host"): better to mask too much than to print a password.
  std::size_t at = before_query.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = before_query.substr(0, at);
    std::size_t colon = userinfo.find(':');
    out += userinfo.substr(0, colon);
    if (colon != std::string_view::npos) {
      out += ':';
      out += kMask;
    }
    out += before_query.substr(at);
  } else {
    out += before_query;
  }
  if (question != std::string_view::npos) {
    out += '?';
    out += redact_query(rest.substr(question + 1));
  }
  return out;
}

}  // namespace mongoslice
