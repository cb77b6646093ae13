#pragma once
// Helpers of the client integration suites (integration/client_*_test.cpp): the FerretDB the
// ctest fixture started, a recording event listener, a bounded wait, and a mock server process.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "driver/events.hpp"

namespace mongoslice::testing {

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string ferretdb_state() {
  return MONGOSLICE_FERRETDB_STATE;
}
inline std::string ferretdb_log_path() {
  return ferretdb_state() + "/ferretdb.log";
}

// The URI the fixture wrote (FerretDB's, or MONGODB_URI's).
inline std::string ferretdb_uri() {
  std::string uri = read_text_file(ferretdb_state() + "/uri");
  while (!uri.empty() && (uri.back() == '\n' || uri.back() == ' ')) uri.pop_back();
  if (uri.empty()) throw std::runtime_error("no URI in " + ferretdb_state() + "/uri: fixture?");
  return uri;
}

// Polls `done` every 5 ms until it holds or `timeout` passes; returns its last value.
template <typename Pred>
bool wait_until(Pred done, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return done();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Records command and kill-cursors events (thread-safe).
class EventRecorder : public EventListener {
 public:
  struct Command {
    std::string name;
    std::string server;
    std::string phase;        // started / succeeded / failed
    bson::Document document;  // command or reply
  };

  void on(const CommandStartedEvent& e) override {
    std::lock_guard lock(mutex_);
    commands_.push_back(
        {std::string(e.command_name), e.address.to_string(), "started", bson::Document(e.command)});
  }
  void on(const CommandSucceededEvent& e) override {
    std::lock_guard lock(mutex_);
    commands_.push_back(
        {std::string(e.command_name), e.address.to_string(), "succeeded", bson::Document(e.reply)});
  }
  void on(const CommandFailedEvent& e) override {
    std::lock_guard lock(mutex_);
    commands_.push_back(
        {std::string(e.command_name), e.address.to_string(), "failed", bson::Document()});
  }
  void on(const CursorsDroppedEvent& e) override {
    std::lock_guard lock(mutex_);
    dropped_.insert(dropped_.end(), e.cursor_ids.begin(), e.cursor_ids.end());
  }

  std::vector<Command> commands(const std::string& name, const std::string& phase) const {
    std::lock_guard lock(mutex_);
    std::vector<Command> out;
    for (const auto& c : commands_) {
      if (c.name == name && c.phase == phase) out.push_back(c);
    }
    return out;
  }
  std::size_t count(const std::string& name, const std::string& phase = "started") const {
    return commands(name, phase).size();
  }
  // Every id in the cursors arrays of killCursors commands started so far.
  std::vector<std::int64_t> killed_ids() const {
    std::vector<std::int64_t> ids;
    for (const auto& c : commands("killCursors", "started")) {
      for (bson::Element id : c.document["cursors"].get_array()) ids.push_back(id.as_int64());
    }
    return ids;
  }
  std::vector<std::int64_t> dropped() const {
    std::lock_guard lock(mutex_);
    return dropped_;
  }
  void clear() {
    std::lock_guard lock(mutex_);
    commands_.clear();
    dropped_.clear();
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Command> commands_;
  std::vector<std::int64_t> dropped_;
};

// A mock server: `python script args...` started in its own process group; the script prints
// its port on the first line of stdout. Killed (SIGKILL to the group) on destruction.
class MockProcess {
 public:
  explicit MockProcess(const std::vector<std::string>& args) {
    int out[2];
    if (::pipe(out) != 0) throw std::runtime_error("pipe failed");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a crashed test leaves no server behind
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      std::vector<std::string> full{MONGOSLICE_PYTHON};
      full.insert(full.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    out_ = ::fdopen(out[0], "r");
    port_ = line.empty() ? 0 : std::stoi(line);
    if (port_ == 0) throw std::runtime_error("mock server did not print its port");
  }
  ~MockProcess() { stop(); }
  MockProcess(const MockProcess&) = delete;
  MockProcess& operator=(const MockProcess&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void stop() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (out_) {
      ::fclose(out_);
      out_ = nullptr;
    }
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  FILE* out_ = nullptr;
};

inline std::string mock_script(const std::string& name) {
  return std::string(MONGOSLICE_MOCK_DIR) + "/" + name;
}

}  // namespace mongoslice::testing
