#pragma once
// The authentication FerretDB of the integration suite (ctest fixture ferretdb_auth,
// integration/ferretdb.sh start-auth): its URI and its one user's name and password, read from
// the fixture's STATE_DIR, and URIs carrying a credential (percent-encoded, as the password
// holds URI-reserved and non-ASCII characters). Shared by auth_test.cpp and
// async_tls_auth_test.cpp.

#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace mongoslice::testing {

inline std::string read_fixture_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error("cannot read " + path + ": run through ctest (fixture ferretdb_auth)");
  std::stringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

inline std::string percent_encoded(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

struct AuthServer {
  std::string state = MONGOSLICE_FERRETDB_AUTH_STATE;
  std::string user() const { return read_fixture_file(state + "/user"); }
  std::string password() const { return read_fixture_file(state + "/password"); }
  // mongodb://127.0.0.1:PORT/
  std::string base() const { return read_fixture_file(state + "/uri"); }
  // The server's URI with `userinfo@` inserted and `query` appended.
  std::string uri(const std::string& userinfo, const std::string& query) const {
    std::string u = base();
    const std::string scheme = "mongodb://";
    u.insert(scheme.size(), userinfo.empty() ? "" : userinfo + "@");
    return u + query;
  }
  std::string uri_as(const std::string& password, const std::string& query) const {
    return uri(percent_encoded(user()) + ":" + percent_encoded(password), query);
  }
};

}  // namespace mongoslice::testing
