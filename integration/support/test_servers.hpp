#pragma once
// The servers the integration suite talks to:
//   - the FerretDB (or MONGODB_URI's mongod) that the ctest fixture `ferretdb.start` started; its
//     URI is in MONGOSLICE_FERRETDB_STATE/uri;
//   - scripted mock servers: `MONGOSLICE_PYTHON MONGOSLICE_MOCK_DIR/<script>.py [args]`, each
//     listening on 127.0.0.1 and printing its port on the first line of stdout.
// A server that is missing fails the test with a message that says what to do; nothing is
// skipped.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "driver/connection_string.hpp"
#include "wire/address.hpp"

extern char** environ;

namespace mongoslice::integration {

// The URI of the fixture's server. Throws (failing the test) when the fixture did not run.
inline std::string ferretdb_uri() {
  const std::string path = std::string(MONGOSLICE_FERRETDB_STATE) + "/uri";
  std::ifstream in(path);
  std::string uri;
  std::getline(in, uri);
  while (!uri.empty() && (uri.back() == '\r' || uri.back() == ' ')) uri.pop_back();
  if (uri.empty()) {
    throw std::runtime_error(
        "no server URI in " + path +
        ": run the suite through ctest (its ferretdb.start fixture starts FerretDB), e.g. "
        "`ctest --test-dir <build> -L integration`; if FerretDB is missing, run "
        "scripts/setup.sh first");
  }
  return uri;
}

// The first host of the fixture's URI.
inline HostAndPort ferretdb_address() {
  auto uri = ConnectionString::parse(ferretdb_uri());
  if (uri.hosts.empty()) throw std::runtime_error("the fixture's URI names no host");
  return uri.hosts.front();
}

// A mock server process: started with posix_spawn, its port read from its first stdout line.
// On destruction its stdin is closed (the scripts exit on that) and it is killed, so no mock
// outlives its test even if the script hangs.
class MockServer {
 public:
  explicit MockServer(const std::string& script, const std::vector<std::string>& args = {}) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      throw std::runtime_error("MockServer: pipe2 failed");
    }
    std::vector<std::string> argv_strings{MONGOSLICE_PYTHON,
                                          std::string(MONGOSLICE_MOCK_DIR) + "/" + script};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    int rc = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    if (rc != 0) {
      ::close(out[0]);
      pid_ = -1;
      throw std::runtime_error("MockServer: cannot start " + argv_strings[0] + " " +
                               argv_strings[1] + " (run scripts/setup.sh to create the venv)");
    }
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    try {
      port_ = static_cast<std::uint16_t>(std::stoi(line));
    } catch (const std::exception&) {
      stop();
      throw std::runtime_error("MockServer: " + script + " did not print its port (got '" + line +
                               "')");
    }
  }
  ~MockServer() { stop(); }
  MockServer(const MockServer&) = delete;
  MockServer& operator=(const MockServer&) = delete;

  HostAndPort address() const { return {"127.0.0.1", port_}; }

  void stop() noexcept {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
    if (pid_ <= 0) return;
    // Give the script a moment to exit on its own (stdin closed), then make sure.
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) != 0) {  // reaped (or gone): nothing left to kill
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace mongoslice::integration
