#pragma once
// What bench/run_async.sh's load programs measure of their own process, shared by the three of
// them (and bench/async_memory_probe.cpp): wall clock, CPU, resident memory and open fds.

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace bench {

// CLOCK_MONOTONIC, in seconds.
inline double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// User + system CPU of the whole process (every thread), in seconds.
inline double cpu_s() {
  rusage u;
  getrusage(RUSAGE_SELF, &u);
  auto s = [](timeval t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Resident set size now (/proc/self/statm's second field), in KiB.
inline double rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1024.0;
}

// The highest resident set size so far (VmHWM in /proc/self/status), in KiB.
inline double peak_rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string word;
  while (status >> word) {
    if (word == "VmHWM:") {
      double kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

// Entries in /proc/self/fd (the directory iterator's own fd included).
inline long open_fds() {
  long n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

}  // namespace bench
