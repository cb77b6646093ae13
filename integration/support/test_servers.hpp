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
#include <sys/prctl.h>
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

// The address of the mongo-java-server that the `javaserver` fixture started (tests whose name
// ends in /JavaServer require that fixture). Throws when the fixture did not run.
inline HostAndPort javaserver_address() {
  const std::string path = std::string(MONGOSLICE_JAVASERVER_STATE) + "/uri";
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  if (text.empty()) {
    throw std::runtime_error("no server URI in " + path +
                             ": run the test through ctest (its javaserver.start fixture starts "
                             "mongo-java-server); if it is missing, run scripts/setup.sh first");
  }
  auto uri = ConnectionString::parse(text);
  if (uri.hosts.empty()) throw std::runtime_error("the javaserver fixture's URI names no host");
  return uri.hosts.front();
}

// A mock server script (integration/mock/<script>.py) run by the venv's Python, with pipes to
// its stdin and stdout for line-based talk. On destruction its stdin is closed (the scripts exit
// on that) and its process group is killed if it has not exited soon after, so no mock outlives
// its test, not even a test that crashes.
class MockProcess {
 public:
  MockProcess(const std::string& script, const std::vector<std::string>& args) {
    if (::access(MONGOSLICE_PYTHON, X_OK) != 0) {
      throw std::runtime_error(std::string("MockProcess: cannot run ") + MONGOSLICE_PYTHON +
                               " (run scripts/setup.sh to create the venv)");
    }
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
      throw std::runtime_error("MockProcess: pipe2 failed");
    }
    std::vector<std::string> argv_strings{MONGOSLICE_PYTHON,
                                          std::string(MONGOSLICE_MOCK_DIR) + "/" + script};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;  // built before fork: the child may only make async-signal-safe calls
    for (auto& a : argv_strings) argv.push_back(a.data());
    argv.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ == 0) {
      // Its own process group (stop() kills the script and anything it started), and killed
      // with the test if the test crashes (PR_SET_PDEATHSIG: when the creating thread ends, so
      // make mocks on the test's own thread).
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    if (pid_ < 0) {
      stop();
      throw std::runtime_error("MockProcess: fork failed");
    }
  }
  ~MockProcess() { stop(); }
  MockProcess(const MockProcess&) = delete;
  MockProcess& operator=(const MockProcess&) = delete;

  // One line from the script's stdout, without the newline ("" at end of file).
  std::string read_line() {
    std::string line;
    char c;
    while (stdout_ >= 0 && ::read(stdout_, &c, 1) == 1 && c != '\n') line += c;
    return line;
  }
  // Sends `sig` to the script's process group (SIGSTOP freezes a server, SIGCONT thaws it).
  void signal(int sig) noexcept {
    if (pid_ > 0) ::kill(-pid_, sig);
  }
  void write_line(const std::string& line) {
    std::string text = line + "\n";
    if (stdin_ < 0 ||
        ::write(stdin_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      throw std::runtime_error("MockProcess: writing to the script failed");
    }
  }

  void stop() noexcept {
    if (pid_ > 0) ::kill(-pid_, SIGCONT);  // a frozen script must run to see its stdin close
    for (int* fd : {&stdin_, &stdout_}) {
      if (*fd >= 0) ::close(*fd);
      *fd = -1;
    }
    if (pid_ <= 0) return;
    // Give the script a moment to exit on its own (stdin closed), then make sure.
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) != 0) {  // reaped (or gone): nothing left to kill
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(-pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
};

// A mock server whose script prints its port on its first stdout line.
class MockServer {
 public:
  explicit MockServer(const std::string& script, const std::vector<std::string>& args = {})
      : process_(script, args) {
    std::string line = process_.read_line();
    try {
      port_ = static_cast<std::uint16_t>(std::stoi(line));
    } catch (const std::exception&) {
      throw std::runtime_error("MockServer: " + script + " did not print its port (got '" + line +
                               "')");
    }
  }

  HostAndPort address() const { return {"127.0.0.1", port_}; }
  void stop() noexcept { process_.stop(); }
  // Freezes the server: connections stay open (and new ones complete in the kernel's backlog),
  // but nothing is answered until thaw().
  void freeze() noexcept { process_.signal(SIGSTOP); }
  void thaw() noexcept { process_.signal(SIGCONT); }

 private:
  MockProcess process_;
  std::uint16_t port_ = 0;
};

}  // namespace mongoslice::integration
