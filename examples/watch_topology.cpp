// watch_topology: print, live, what the driver's monitors see.
//
//   watch_topology --uri URI [--seconds S] [--server-selection-timeout-ms T]
//
// Prints every heartbeat (server, duration, outcome) and every change of a server's or the
// topology's description (type, RTT, set name, primary), until S seconds pass (default: until
// Ctrl-C), then exits at once. It first pings the deployment, so a bad URI or an unreachable
// server is a one-line error and a non-zero exit (after serverSelectionTimeoutMS).

#include <signal.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "examples/cli.hpp"
#include "mongoslice.hpp"
#include "monitor/server_description.hpp"
#include "monitor/topology_description.hpp"

namespace {

using namespace mongoslice;

double ms(std::chrono::nanoseconds d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string describe(const ServerDescription& server) {
  std::string text = std::string(to_string(server.type));
  if (server.round_trip_time) {
    char rtt[32];
    std::snprintf(rtt, sizeof rtt, " rtt=%.2fms", ms(*server.round_trip_time));
    text += rtt;
  }
  if (server.set_name) text += " set=" + *server.set_name;
  if (server.primary) text += " primary=" + server.primary->to_string();
  if (!server.error.empty()) text += " error=\"" + server.error + "\"";
  return text;
}

// Prints events as they come, one line each, from the monitors' threads.
class Printer : public EventListener {
 public:
  void on(const ServerHeartbeatSucceededEvent& e) override {
    print("heartbeat %s ok in %.2f ms", e.address.to_string().c_str(), ms(e.duration));
  }
  void on(const ServerHeartbeatFailedEvent& e) override {
    print("heartbeat %s FAILED in %.2f ms: %.*s", e.address.to_string().c_str(), ms(e.duration),
          static_cast<int>(e.error.size()), e.error.data());
  }
  void on(const ServerDescriptionChangedEvent& e) override {
    print("server %s: %s -> %s", e.address.to_string().c_str(), describe(e.previous).c_str(),
          describe(e.current).c_str());
  }
  void on(const TopologyDescriptionChangedEvent& e) override {
    std::string set = e.current.set_name() ? " set=" + *e.current.set_name() : "";
    std::string primary;
    for (const auto& [address, server] : e.current.servers()) {
      if (server.type == ServerType::kRSPrimary) primary = " primary=" + address.to_string();
    }
    print("topology: %s -> %s%s%s (%zu servers)", std::string(to_string(e.previous.type())).c_str(),
          std::string(to_string(e.current.type())).c_str(), set.c_str(), primary.c_str(),
          e.current.servers().size());
  }

 private:
  template <typename... A>
  void print(const char* format, A... args) {
    std::lock_guard lock(mutex_);
    std::timespec now{};
    std::timespec_get(&now, TIME_UTC);
    std::tm utc{};
    gmtime_r(&now.tv_sec, &utc);
    std::printf("%02d:%02d:%02d.%03ld ", utc.tm_hour, utc.tm_min, utc.tm_sec,
                now.tv_nsec / 1'000'000);
    std::printf(format, args...);
    std::printf("\n");
    std::fflush(stdout);
  }
  std::mutex mutex_;
};

int run(const examples::Args& args) {
  std::string uri = examples::with_selection_timeout(examples::uri_from(args), args);
  long long seconds = args.get_int("seconds", 0, 0);

  // Ctrl-C and SIGTERM are taken by sigtimedwait below, not by a handler: block them before the
  // client starts its threads, which inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  MongoClient client(uri, ClientOptions{.listeners = {std::make_shared<Printer>()}});
  client["admin"].run_command(bson::Builder{}.append("ping", 1).build());

  timespec timeout{static_cast<time_t>(seconds), 0};
  int signal_number = sigtimedwait(&stop_signals, nullptr, seconds > 0 ? &timeout : nullptr);
  std::printf("%s, closing\n", signal_number > 0 ? "interrupted" : "time is up");
  return 0;  // the client's destructor closes the monitors at once
}

}  // namespace

int main(int argc, char** argv) {
  try {
    examples::Args args(argc, argv, {"uri", "seconds", "server-selection-timeout-ms"});
    return run(args);
  } catch (const std::invalid_argument& e) {
    if (*e.what()) std::fprintf(stderr, "watch_topology: %s\n", e.what());
    std::fprintf(
        stderr,
        "usage: watch_topology --uri URI [--seconds S] [--server-selection-timeout-ms T]\n");
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "watch_topology: error: %s\n", examples::one_line(e.what()).c_str());
    return 1;
  }
}
