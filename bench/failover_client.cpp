// mongoslice side of the failover comparison (bench/failover_compare.py): the application of
// the workload, one insert_one every 2 ms on a replica set while it fails over.
//
//   bench_failover_client URI [idle]
//
// Writes {_id: n} for n = 0, 1, ... into bench.failover, one write started every 2 ms on a fixed
// schedule (a write that takes longer delays the next, which then starts at once: no burst to
// catch up). Prints "ready" once the first write succeeded, runs until its stdin closes, then
// prints one JSON line: {"writes": attempted, "errors": writes that raised, "messages": [the
// first 5 error messages]}. The same program as bench/failover_client_pymongo.py. With "idle":
// one write, "ready", then nothing but the client's own background work until stdin closes
// (the idle-cost figure of bench/failover_compare.py --idle).

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "mongoslice.hpp"

namespace {

// The JSON string literal of `text` (error messages may hold quotes and backslashes).
std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 3 && std::string(argv[2]) == "idle")) {
    std::fprintf(stderr, "usage: %s URI [idle]\n", argv[0]);
    return 2;
  }
  using namespace mongoslice;
  using namespace std::chrono;
  std::atomic<bool> stop{false};
  // The orchestrator ends the run by closing our stdin.
  std::thread watch_stdin([&stop] {
    char buffer[64];
    while (::read(STDIN_FILENO, buffer, sizeof buffer) > 0) {
    }
    stop.store(true);
  });

  MongoClient client(argv[1]);
  Collection coll = client["bench"]["failover"];
  long writes = 0, errors = 0;
  std::vector<std::string> messages;
  bool ready = false;
  if (argc == 3) {  // idle: one write, then only the client's own threads run
    coll.insert_one(bson::Builder{}.append("_id", std::int64_t{-1}).build());
    std::printf("ready\n");
    std::fflush(stdout);
    watch_stdin.join();
    std::printf("{\"writes\": 1, \"errors\": 0, \"messages\": []}\n");
    return 0;
  }
  auto next = steady_clock::now();
  while (!stop.load()) {
    const auto id = static_cast<std::int64_t>(writes++);
    try {
      coll.insert_one(bson::Builder{}.append("_id", id).build());
      if (!ready) {
        ready = true;
        std::printf("ready\n");
        std::fflush(stdout);
      }
    } catch (const std::exception& e) {
      if (ready) {  // before the set is found, a failure is start-up, not failover
        ++errors;
        if (messages.size() < 5) messages.emplace_back(e.what());
      }
    }
    next += 2ms;
    const auto now = steady_clock::now();
    if (next < now) next = now;
    std::this_thread::sleep_until(next);
  }
  watch_stdin.join();
  std::string out = "{\"writes\": " + std::to_string(writes) +
                    ", \"errors\": " + std::to_string(errors) + ", \"messages\": [";
  for (std::size_t i = 0; i < messages.size(); ++i)
    out += (i ? ", " : "") + json_string(messages[i]);
  std::printf("%s]}\n", out.c_str());
  return 0;
}
