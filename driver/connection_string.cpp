#include "driver/connection_string.hpp"

#include <charconv>

#include "driver/uri_options.hpp"
#include "driver/uri_text.hpp"

namespace mongoslice {
namespace {

using uri_detail::ascii_lower;
using uri_detail::percent_decode;
using uri_detail::quoted;
using uri_detail::throw_invalid_uri;

constexpr std::string_view kScheme = "mongodb://";
constexpr std::string_view kSrvScheme = "mongodb+srv://";

// The length of the scheme: mongodb:// or mongodb+srv://.
std::size_t check_scheme(std::string_view uri) {
  if (uri.starts_with(kScheme)) return kScheme.size();
  if (uri.starts_with(kSrvScheme)) return kSrvScheme.size();
  if (uri.empty()) throw_invalid_uri("the connection string is empty; expected mongodb://host");
  std::size_t end = uri.find("://");
  std::string scheme = end == std::string_view::npos ? "" : " " + quoted(uri.substr(0, end));
  throw_invalid_uri("the scheme" + scheme +
                    " is not supported; expected mongodb:// or mongodb+srv://");
}

// "alice:secret" (before the last '@' of the authority). The password is never quoted in an
// error message.
void parse_userinfo(std::string_view userinfo, ConnectionString& out) {
  if (userinfo.find('@') != std::string_view::npos) {
    throw_invalid_uri("the user name or password contains an unescaped '@' (write it as %40)");
  }
  std::size_t colon = userinfo.find(':');
  std::string user = percent_decode(userinfo.substr(0, colon), "the user name");
  if (user.empty()) throw_invalid_uri("the user name before '@' is empty");
  out.username = std::move(user);
  if (colon == std::string_view::npos) return;
  std::string_view password = userinfo.substr(colon + 1);
  if (password.find(':') != std::string_view::npos) {
    throw_invalid_uri("the password contains an unescaped ':' (write it as %3A)");
  }
  out.password = percent_decode(password, "the password");
}

std::uint16_t parse_port(std::string_view text, std::string_view host) {
  unsigned value = 0;
  const char* end = text.data() + text.size();
  bool digits_only = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (!digits_only || ec != std::errc{} || stop != end || value < 1 || value > 65535) {
    throw_invalid_uri("the port " + quoted(text) + " of host " + quoted(host) +
                      " is not a number from 1 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

// "[::1]", "[fe80::1%25eth0]": hex digits, ':' and '.', then an optional zone after '%'.
std::string parse_ipv6_literal(std::string_view text, std::string_view host) {
  std::string literal = ascii_lower(percent_decode(text, "the host " + quoted(host)));
  std::size_t percent = literal.find('%');
  std::string_view address = std::string_view(literal).substr(0, percent);
  bool valid = address.find(':') != std::string_view::npos &&
               address.find_first_not_of("0123456789abcdef:.") == std::string_view::npos;
  if (percent != std::string::npos) {
    std::string_view zone = std::string_view(literal).substr(percent + 1);
    valid =
        valid && !zone.empty() &&
        zone.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.-") == std::string_view::npos;
  }
  if (!valid) throw_invalid_uri("the host " + quoted(host) + " is not a valid IPv6 literal");
  return literal;
}

std::string parse_host_name(std::string_view text, std::string_view host) {
  std::string name = percent_decode(text, "the host " + quoted(host));
  if (name.find('/') != std::string::npos) {
    throw_invalid_uri("the host " + quoted(name) +
                      " is a UNIX domain socket path; UNIX domain sockets are not supported by "
                      "mongoslice");
  }
  if (name.empty()) throw_invalid_uri("the host " + quoted(host) + " has an empty name");
  for (char c : name) {
    auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f ||
        std::string_view("@?#[]\\%,").find(c) != std::string::npos) {
      throw_invalid_uri("the host " + quoted(host) + " contains the character " +
                        (byte <= 0x20 || byte == 0x7f ? "code " + std::to_string(byte)
                                                      : quoted(std::string(1, c))) +
                        ", which host names cannot contain");
    }
  }
  return ascii_lower(name);  // host names are case-insensitive; UTF-8 bytes are kept as is
}

HostAndPort parse_host(std::string_view text) {
  HostAndPort result;
  if (text.starts_with('[')) {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) {
      throw_invalid_uri("the IPv6 literal " + quoted(text) + " has no closing ']'");
    }
    result.host = parse_ipv6_literal(text.substr(1, close - 1), text);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return result;
    if (!rest.starts_with(':')) {
      throw_invalid_uri("unexpected " + quoted(rest) + " after ']' in the host " + quoted(text) +
                        " (expected :port)");
    }
    result.port = parse_port(rest.substr(1), text);
    return result;
  }
  std::size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
    throw_invalid_uri("the host " + quoted(text) +
                      " has more than one ':' (IPv6 literals go in brackets: [::1]:27017)");
  }
  result.host = parse_host_name(text.substr(0, colon), text);
  if (colon != std::string_view::npos) result.port = parse_port(text.substr(colon + 1), text);
  return result;
}

void parse_hosts(std::string_view text, ConnectionString& out) {
  if (text.empty()) throw_invalid_uri("no host is given; expected mongodb://host[:port]");
  std::size_t index = 1;
  while (true) {
    std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    if (item.empty()) {
      throw_invalid_uri("host #" + std::to_string(index) +
                        " in the host list is empty (two commas, or a comma at an end?)");
    }
    out.hosts.push_back(parse_host(item));
    if (comma == std::string_view::npos) return;
    text = text.substr(comma + 1);
    ++index;
  }
}

// mongodb+srv://: one host name, no port (the seedlist spec: parse errors, before any lookup).
void parse_srv_host(std::string_view text, ConnectionString& out) {
  if (text.empty()) throw_invalid_uri("no host is given; expected mongodb+srv://host");
  if (text.find(',') != std::string_view::npos) {
    throw_invalid_uri(
        "mongodb+srv:// takes exactly one host name (its SRV records list the "
        "servers), but " +
        quoted(text) + " gives several");
  }
  if (text.starts_with('[')) {
    throw_invalid_uri("mongodb+srv:// takes a host name to look up, not the IP literal " +
                      quoted(text));
  }
  std::size_t colon = text.find(':');
  if (colon != std::string_view::npos) {
    throw_invalid_uri("mongodb+srv:// takes no port (" + quoted(text) +
                      "): the SRV records give the servers' ports");
  }
  out.srv_host = parse_host_name(text, text);
}

// The path segment: the default authentication database, percent-decoded.
void parse_database(std::string_view path, ConnectionString& out) {
  if (path.empty()) return;
  std::string db = percent_decode(path, "the database name");
  for (char c : db) {
    if (c == '\0' || std::string_view("/\\ \"$").find(c) != std::string_view::npos) {
      throw_invalid_uri("the database name " + quoted(db) + " contains " +
                        (c == '\0' ? std::string("a NUL byte") : quoted(std::string(1, c))) +
                        ", which database names cannot contain");
    }
  }
  out.auth_database = std::move(db);
}

}  // namespace

ConnectionString ConnectionString::parse(std::string_view uri) {
  std::size_t scheme = check_scheme(uri);
  bool srv = uri.starts_with(kSrvScheme);
  std::string_view rest = uri.substr(scheme);

  // The options start at the first '?', so '@' and '/' inside option values are harmless.
  std::size_t question = rest.find('?');
  std::string_view query =
      question == std::string_view::npos ? std::string_view{} : rest.substr(question + 1);
  rest = rest.substr(0, question);
  if (std::size_t at = query.find('@'); at != std::string_view::npos && at < query.find('=')) {
    // "mongodb://alice:pa?ss@host": the '?' ended the user info early. Nothing of it is quoted:
    // the part before the '?' would be read as host and port, and is part of a password.
    throw_invalid_uri(
        "an unescaped '@' follows the first '?' before any option's '=': write '?' in a user "
        "name or password as %3F");
  }

  // User info may not contain an unescaped '/', so the first '/' ends the host list.
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path =
      slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);

  if (path.find('@') != std::string_view::npos) {
    // A '/' in the user info ends the host list early: "mongodb://alice/x:pw@host/db".
    throw_invalid_uri(
        "an unescaped '@' follows the first '/': write '/' in a user name or password as %2F, "
        "and '@' in a database name as %40");
  }

  ConnectionString result;
  std::size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    parse_userinfo(authority.substr(0, at), result);
    authority = authority.substr(at + 1);
  }
  if (authority.empty() && !path.empty()) {
    throw_invalid_uri(
        "no host before the first '/' (a UNIX domain socket path would have to be "
        "percent-encoded, and mongoslice does not support UNIX domain sockets)");
  }
  if (srv) {
    parse_srv_host(authority, result);
  } else {
    parse_hosts(authority, result);
  }
  parse_database(path, result);

  uri_detail::UriOptionReader options(result, srv);
  options.read(query);
  options.finish();
  return result;
}

}  // namespace mongoslice
