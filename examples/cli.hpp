#pragma once
// Command-line parsing shared by the example programs: --name value pairs, nothing fancy.

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace examples {

class Args {
 public:
  // Accepts "--name value" and "--name=value" for the names listed in `known`; anything else
  // is a usage error.
  Args(int argc, char** argv, std::initializer_list<std::string_view> known) {
    for (int i = 1; i < argc; ++i) {
      std::string_view arg = argv[i];
      if (!arg.starts_with("--"))
        throw std::invalid_argument("unexpected argument '" + std::string(arg) + "'");
      arg.remove_prefix(2);
      std::string name, value;
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        value = arg.substr(eq + 1);
      } else {
        name = arg;
        if (name == "help") throw std::invalid_argument("");
        if (i + 1 >= argc) throw std::invalid_argument("--" + name + " needs a value");
        value = argv[++i];
      }
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        throw std::invalid_argument("unknown option --" + name);
      }
      values_[name] = value;
    }
  }

  std::string get(const std::string& name, std::string fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
  }

  long long get_int(const std::string& name, long long fallback, long long minimum) const {
    auto it = values_.find(name);
    if (it == values_.end()) return fallback;
    long long value = 0;
    const auto& text = it->second;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value < minimum) {
      throw std::invalid_argument("--" + name + " needs a whole number >= " +
                                  std::to_string(minimum) + ", not '" + text + "'");
    }
    return value;
  }

 private:
  std::map<std::string, std::string> values_;
};

// The URI: --uri, else MONGODB_URI, else the usage error.
inline std::string uri_from(const Args& args) {
  std::string uri = args.get("uri", "");
  if (uri.empty()) {
    if (const char* env = std::getenv("MONGODB_URI")) uri = env;
  }
  if (uri.empty()) throw std::invalid_argument("--uri is required (or set MONGODB_URI)");
  return uri;
}

// Adds serverSelectionTimeoutMS to a URI when the user gave --server-selection-timeout-ms.
inline std::string with_selection_timeout(std::string uri, const Args& args) {
  long long ms = args.get_int("server-selection-timeout-ms", -1, 1);
  if (ms < 0) return uri;
  auto query = uri.find('?');
  if (query == std::string::npos) {
    // mongodb://host/ needs the slash before the options.
    auto hosts_start = uri.find("://");
    auto slash = uri.find('/', hosts_start == std::string::npos ? 0 : hosts_start + 3);
    if (slash == std::string::npos) uri += '/';
    uri += '?';
  } else if (query + 1 != uri.size()) {
    uri += '&';
  }
  return uri + "serverSelectionTimeoutMS=" + std::to_string(ms);
}

// Error messages are printed on one line: a multi-line message (a server-selection timeout lists
// every server) is joined with "; ".
inline std::string one_line(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      if (!out.empty() && out.back() != ' ') out += "; ";
    } else {
      out += c;
    }
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == ';')) out.pop_back();
  return out;
}

}  // namespace examples
