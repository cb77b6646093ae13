#include "net/client_metadata.hpp"

#include <sys/utsname.h>

#include <fstream>
#include <string>

#include <boost/version.hpp>

namespace mongoslice {
namespace {

struct OsFacts {
  std::string name;  // the distribution's pretty name when known, else the kernel's name
  std::string architecture;
  std::string version;
};

// PRETTY_NAME="Debian GNU/Linux 12 (bookworm)" -> Debian GNU/Linux 12 (bookworm)
std::string os_release_pretty_name() {
  std::ifstream in("/etc/os-release");
  std::string line;
  constexpr std::string_view kKey = "PRETTY_NAME=";
  while (std::getline(in, line)) {
    if (line.compare(0, kKey.size(), kKey) != 0) continue;
    std::string value = line.substr(kKey.size());
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return {};
}

const OsFacts& os_facts() {
  // Immortal (never destroyed): monitor threads run the handshake, and at process exit one may
  // still be finishing a handshake while static destructors run.
  static const OsFacts& facts = *new OsFacts([] {
    OsFacts f;
    utsname u{};
    if (::uname(&u) == 0) {
      f.name = u.sysname;
      f.architecture = u.machine;
      f.version = u.release;
    }
    if (auto pretty = os_release_pretty_name(); !pretty.empty()) f.name = pretty;
    return f;
  }());
  return facts;
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "g++ " __VERSION__;
#else
  return "unknown compiler";
#endif
}

std::string platform() {
  std::string boost = "Boost " + std::to_string(BOOST_VERSION / 100000) + "." +
                      std::to_string(BOOST_VERSION / 100 % 1000);
  return "C++20 / " + compiler() + " / " + boost;
}

// Keeps a field short enough that the whole document stays below the server's 512-byte limit.
std::string_view cut(std::string_view text, std::size_t max) {
  return text.substr(0, std::min(text.size(), max));
}

}  // namespace

bson::Document client_metadata(std::optional<std::string_view> app_name) {
  const OsFacts& os = os_facts();
  bson::Builder b;
  if (app_name) b.open_document("application").append("name", cut(*app_name, 128)).close();
  b.open_document("driver").append("name", kDriverName).append("version", kDriverVersion).close();
  b.open_document("os")
      .append("type", "Linux")
      .append("name", cut(os.name, 64))
      .append("architecture", cut(os.architecture, 32))
      .append("version", cut(os.version, 64))
      .close();
  b.append("platform", cut(platform(), 96));
  return b.build();
}

}  // namespace mongoslice
