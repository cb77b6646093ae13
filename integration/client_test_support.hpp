#pragma once
// Helpers of the client integration suites (integration/client_*_test.cpp): the real servers the
// ctest fixtures started (FerretDB and mongo-java-server) and what their logs say, a recording
// event listener and a bounded wait.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "driver/events.hpp"

namespace mongoslice::testing {

inline std::string read_text_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A real server of the integration suite, started by a ctest fixture that writes its URI to
// STATE/uri. The client suites run once per server (value-parameterized tests named
// ".../FerretDB" and ".../JavaServer"; integration/CMakeLists.txt gives each the fixture it needs).
struct RealServer {
  std::string name;      // the test-name suffix: FerretDB, JavaServer
  std::string state;     // the fixture's STATE_DIR
  std::string log_file;  // the server's request log, in `state`
  // Matches one killCursors request in the log, from the "killCursors" key on: group 1 is the
  // collection, group 2 the text of the cursors array (ids separated by commas).
  std::string kill_pattern;
  // FerretDB's place is taken by a mongod when MONGODB_URI is set (ferretdb.sh writes that URI),
  // and a mongod's log is not ours to read.
  bool replaced_by_mongodb_uri = false;

  bool log_is_readable() const {
    return !(replaced_by_mongodb_uri && std::getenv("MONGODB_URI") != nullptr);
  }
  std::string log_path() const { return state + "/" + log_file; }

  // The URI the fixture wrote. Throws (failing the test) when the fixture did not run.
  std::string uri() const {
    const std::string path = state + "/uri";
    std::string uri;
    std::ifstream in(path);
    std::getline(in, uri);
    while (!uri.empty() && (uri.back() == '\r' || uri.back() == ' ')) uri.pop_back();
    if (uri.empty()) {
      throw std::runtime_error("no " + name + " URI in " + path +
                               ": run the suite through ctest (its fixtures start the servers), "
                               "e.g. `ctest --test-dir <build> -L integration`; if a server is "
                               "missing, run scripts/setup.sh first");
    }
    return uri;
  }
  // "127.0.0.1:PORT" of the URI (both fixtures write mongodb://127.0.0.1:PORT/).
  std::string host_and_port() const {
    const std::string u = uri();
    const std::string scheme = "mongodb://";
    const auto begin = u.rfind(scheme, 0) == 0 ? scheme.size() : 0;
    return u.substr(begin, u.find_first_of("/?", begin) - begin);
  }
  std::uint16_t port() const {
    const std::string hp = host_and_port();
    return static_cast<std::uint16_t>(std::stoi(hp.substr(hp.rfind(':') + 1)));
  }

  // Every cursor id the log shows in a killCursors request on `collection`.
  std::vector<std::int64_t> killed_in_log(const std::string& collection) const {
    const std::string log = read_text_file(log_path());
    const std::regex request(kill_pattern);
    const std::regex number(R"((^|[^\w])(-?\d+))");  // skips the 64 of FerretDB's "int64(...)"
    std::vector<std::int64_t> ids;
    // std::regex on a whole log of megabytes is slow and deeply recursive: match a window after
    // each "killCursors" instead.
    for (auto at = log.find("\"killCursors\""); at != std::string::npos;
         at = log.find("\"killCursors\"", at + 1)) {
      const std::string window = log.substr(at, 8192);
      std::smatch m;
      if (!std::regex_search(window, m, request, std::regex_constants::match_continuous) ||
          m[1] != collection) {
        continue;
      }
      const std::string list = m[2];
      for (std::sregex_iterator it(list.begin(), list.end(), number), end; it != end; ++it) {
        ids.push_back(std::stoll((*it)[2]));
      }
    }
    return ids;
  }
  bool log_shows_kill(const std::string& collection, std::int64_t id) const {
    const auto ids = killed_in_log(collection);
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }
};

// How gtest prints a parameter (test listings, failure messages): by its name.
inline void PrintTo(const RealServer& server, std::ostream* out) {
  *out << server.name;
}

// FerretDB's debug log prints a request's document over several lines:
//   "killCursors": "cursors",
//   "cursors": [int64(271646675)],
inline RealServer ferretdb() {
  return {"FerretDB", MONGOSLICE_FERRETDB_STATE, "ferretdb.log",
          R"re("killCursors": "([^"]*)",\s*"cursors": \[([^\]]*)\])re", true};
}
// mongo-java-server's MongoWireProtocolHandler logs each OP_MSG on one line:
//   ... document: {"killCursors" : "cursors", "cursors" : [ 3, 4 ], "$db" : "d"}
inline RealServer java_server() {
  return {"JavaServer", MONGOSLICE_JAVASERVER_STATE, "javaserver.log",
          R"re("killCursors" : "([^"]*)", "cursors" : \[([^\]]*)\])re", false};
}
inline std::vector<RealServer> real_servers() {
  return {ferretdb(), java_server()};
}
// The test-name suffix: ClientIntegration.LimitSkipSortProjection/JavaServer.
inline std::string server_name(const ::testing::TestParamInfo<RealServer>& info) {
  return info.param.name;
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
