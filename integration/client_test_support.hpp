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

}  // namespace mongoslice::testing
