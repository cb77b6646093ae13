#include "net/client_metadata.hpp"

#include <sys/utsname.h>

#include <algorithm>
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

// How much of the full document one attempt keeps: the handshake spec's order of what goes
// first when the document is too large.
struct Kept {
  bool env_facts = true;  // env's fields besides its name (region, memory, container, ...)
  bool os_facts = true;   // os's fields besides its type
  bool env = true;
  std::size_t platform = 96;
};

bson::Document build(std::optional<std::string_view> app_name, const ClientEnvironment& env,
                     const Kept& kept) {
  const OsFacts& os = os_facts();
  bson::Builder b;
  if (app_name) b.open_document("application").append("name", cut(*app_name, 128)).close();
  b.open_document("driver").append("name", kDriverName).append("version", kDriverVersion).close();
  b.open_document("os").append("type", "Linux");
  if (kept.os_facts) {
    b.append("name", cut(os.name, 64))
        .append("architecture", cut(os.architecture, 32))
        .append("version", cut(os.version, 64));
  }
  b.close();
  b.append("platform", cut(platform(), kept.platform));
  if (kept.env && !env.empty()) {
    b.open_document("env");
    if (env.faas_name) b.append("name", *env.faas_name);
    if (kept.env_facts) {
      if (env.timeout_sec) b.append("timeout_sec", *env.timeout_sec);
      if (env.memory_mb) b.append("memory_mb", *env.memory_mb);
      if (env.region) b.append("region", *env.region);
      if (env.container_runtime || env.container_orchestrator) {
        b.open_document("container");
        if (env.container_runtime) b.append("runtime", *env.container_runtime);
        if (env.container_orchestrator) b.append("orchestrator", *env.container_orchestrator);
        b.close();
      }
    }
    b.close();
  }
  return b.build();
}

}  // namespace

bson::Document client_metadata(std::optional<std::string_view> app_name,
                               const ClientEnvironment& env) {
  Kept kept;
  bson::Document doc = build(app_name, env, kept);
  // Each step drops more, in the spec's order, until the document fits.
  for (int step = 0; doc.view().size() > kMaxClientMetadataBytes && step < 4; ++step) {
    if (step == 0) kept.env_facts = false;
    if (step == 1) kept.os_facts = false;
    if (step == 2) kept.env = false;
    if (step == 3) {
      const std::size_t over = doc.view().size() - kMaxClientMetadataBytes;
      const std::size_t length = std::min(kept.platform, platform().size());
      kept.platform = length > over ? length - over : 0;
    }
    doc = build(app_name, env, kept);
  }
  return doc;
}

bson::Document client_metadata(std::optional<std::string_view> app_name) {
  return client_metadata(app_name, detect_client_environment());
}

}  // namespace mongoslice
