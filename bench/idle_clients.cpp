// mongoslice side of the idle-clients comparison (bench/idle_clients_compare.sh; PyMongo's side is
// bench/pymongo_idle_clients.py): N whole MongoClients (monitors, connection pools and the
// kill-cursors executor), each with one server, idle. Client i uses the i-th host given (cycling).
//
// Usage: bench_idle_clients CLIENTS SECONDS WARMUP_SECONDS HEARTBEAT_MS host:port ...
//
// Warm-up: every client runs {ping: 1} (server selection, a pooled connection), then the
// program sleeps WARMUP_SECONDS. Then it reads voluntary + involuntary context switches of each
// of its threads (/proc/self/task/*/status), idles SECONDS, reads them again and prints one JSON
// line: the switches in the window summed by thread kind ("monitor": threads named "mon:...",
// "kill": "mongoslice-kill", "other": the rest, i.e. this main thread and any helper), the
// successful heartbeats seen in the window, and threads that started or ended in it (a thread
// that ended loses its counts; one that started counts from zero). bench/idle_clients_compare.sh
// turns that into per-client, per-server rates.

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mongoslice.hpp"

namespace {

class HeartbeatCounter : public mongoslice::EventListener {
 public:
  void on(const mongoslice::ServerHeartbeatSucceededEvent&) override {
    count.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<long> count{0};
};

struct ThreadSample {
  std::string name;
  long voluntary = 0;
  long involuntary = 0;
};

// tid -> name and switch counts, for every thread of this process.
std::map<std::string, ThreadSample> sample_threads() {
  std::map<std::string, ThreadSample> threads;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    ThreadSample s;
    std::ifstream comm(entry.path() / "comm");
    if (!std::getline(comm, s.name)) continue;  // the thread just ended
    std::ifstream status(entry.path() / "status");
    bool complete = false;
    for (std::string line; std::getline(status, line);) {
      std::istringstream fields(line);
      std::string key;
      fields >> key;
      if (key == "voluntary_ctxt_switches:") fields >> s.voluntary;
      if (key == "nonvoluntary_ctxt_switches:") {
        fields >> s.involuntary;
        complete = true;
      }
    }
    if (complete) threads.emplace(entry.path().filename().string(), std::move(s));
  }
  return threads;
}

std::string kind_of(const std::string& name) {
  if (name.rfind("mon:", 0) == 0) return "monitor";
  if (name == "mongoslice-kill") return "kill";
  return "other";
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono;
  if (argc < 6) {
    std::fprintf(stderr, "usage: %s CLIENTS SECONDS WARMUP_SECONDS HEARTBEAT_MS host:port ...\n",
                 argv[0]);
    return 2;
  }
  const int clients = std::stoi(argv[1]);
  const double seconds = std::stod(argv[2]);
  const double warmup = std::stod(argv[3]);
  const std::string heartbeat_ms = argv[4];
  std::vector<std::string> hosts(argv + 5, argv + argc);

  auto counter = std::make_shared<HeartbeatCounter>();
  std::vector<mongoslice::MongoClient> pool;
  pool.reserve(clients);
  try {
    for (int i = 0; i < clients; ++i) {
      mongoslice::ClientOptions options;
      options.listeners.push_back(counter);
      pool.emplace_back(
          "mongodb://" + hosts[i % hosts.size()] + "/?heartbeatFrequencyMS=" + heartbeat_ms,
          std::move(options));
    }
    const auto ping = mongoslice::bson::Document::from_json(R"({"ping": 1})");
    for (auto& client : pool) client["admin"].run_command(ping);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warm-up failed: %s\n", e.what());
    return 1;
  }
  std::this_thread::sleep_for(duration<double>(warmup));

  const long beats_before = counter->count.load();
  const auto before = sample_threads();
  const auto t0 = steady_clock::now();
  std::this_thread::sleep_for(duration<double>(seconds));
  const auto after = sample_threads();
  const double elapsed = duration<double>(steady_clock::now() - t0).count();
  const long beats = counter->count.load() - beats_before;

  struct Totals {
    long threads = 0, voluntary = 0, involuntary = 0;
  };
  std::map<std::string, Totals> kinds{{"monitor", {}}, {"kill", {}}, {"other", {}}};
  std::map<std::string, int> other_names;
  int started = 0;
  for (const auto& [tid, s] : after) {
    auto& k = kinds[kind_of(s.name)];
    auto it = before.find(tid);
    const ThreadSample zero;
    const ThreadSample& b = it == before.end() ? zero : it->second;
    started += it == before.end();
    ++k.threads;
    k.voluntary += s.voluntary - b.voluntary;
    k.involuntary += s.involuntary - b.involuntary;
    if (kind_of(s.name) == "other") ++other_names[s.name];
  }
  int ended = 0;
  for (const auto& [tid, s] : before) ended += after.count(tid) == 0;

  std::string out = "{\"side\": \"mongoslice\", \"clients\": " + std::to_string(clients) +
                    ", \"servers_per_client\": 1, \"heartbeat_ms\": " + heartbeat_ms +
                    ", \"seconds\": " + std::to_string(elapsed) +
                    ", \"heartbeats\": " + std::to_string(beats) + ", \"kinds\": {";
  const char* sep = "";
  for (const auto& [kind, t] : kinds) {
    out += sep + json_string(kind) + ": {\"threads\": " + std::to_string(t.threads) +
           ", \"voluntary\": " + std::to_string(t.voluntary) +
           ", \"involuntary\": " + std::to_string(t.involuntary) + "}";
    sep = ", ";
  }
  out += "}, \"other_threads\": {";
  sep = "";
  for (const auto& [name, n] : other_names) {
    out += sep + json_string(name) + ": " + std::to_string(n);
    sep = ", ";
  }
  out += "}, \"threads_started_in_window\": " + std::to_string(started) +
         ", \"threads_ended_in_window\": " + std::to_string(ended) + "}";
  std::printf("%s\n", out.c_str());
  std::fflush(stdout);
  pool.clear();  // closes every client: kill executors, monitors, pools
  return 0;
}
