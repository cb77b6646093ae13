// Process exit with a leaked client whose monitor is blocked in I/O (DESIGN.md invariant 5).
//
// The parent listens on a loopback port and never reads: the kernel completes each TCP handshake
// (the connection waits in the listen backlog), so the client's monitor connects, sends its
// hello and blocks reading a reply that never comes. The child (this binary re-executed with a
// filter, as in tests/monitor/executor_exit_fork_test.cpp) leaks a client of that server and
// calls std::exit(0). The exit handler must interrupt the monitor's read: a static object whose
// destructor runs right after the handler checks that no executor thread runs any more, then
// sleeps 2 s, giving any thread left running the time to touch destroyed statics.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "driver/mongo_client.hpp"
#include "monitor/executor_registry.hpp"
#include "support/child_process.hpp"

namespace mongoslice {
namespace {

using testing::wait_bounded;
using namespace std::chrono_literals;

constexpr const char* kChildEnv = "MONGOSLICE_CLIENT_EXIT_CHILD";  // the marker file's path
constexpr const char* kPortEnv = "MONGOSLICE_CLIENT_EXIT_PORT";
constexpr int kThreadRanDuringStaticDestruction = 3;

std::int64_t monotonic_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

std::int64_t g_exit_called_ns = 0;
// The leaked client, kept reachable through a global so LeakSanitizer does not report the
// deliberate leak (a function-local static the optimizer may drop would not do).
MongoClient* volatile g_leaked_client = nullptr;

// Constructed before the client, so destroyed right after the exit handler ran.
struct SlowStatic {
  std::string marker_path;
  ~SlowStatic() {
    const std::int64_t handler_done_ns = monotonic_ns();
    if (executor_registry::running_count() != 0) _exit(kThreadRanDuringStaticDestruction);
    timespec pause{2, 0};
    nanosleep(&pause, nullptr);
    if (executor_registry::running_count() != 0) _exit(kThreadRanDuringStaticDestruction);
    // The marker: the exit handler's time in ms, so the parent can report it.
    if (FILE* marker = std::fopen(marker_path.c_str(), "w")) {
      std::fprintf(marker, "%lld\n",
                   static_cast<long long>((handler_done_ns - g_exit_called_ns) / 1'000'000));
      std::fclose(marker);
    }
  }
};

TEST(ExecutorExitChild, LeakedClientWithAMonitorBlockedInARead) {
  if (std::getenv(kChildEnv) == nullptr) GTEST_SKIP() << "runs only as ClientExit's child";
  static SlowStatic slow{std::getenv(kChildEnv)};
  const std::string uri = std::string("mongodb://localhost:") + std::getenv(kPortEnv) +
                          "/?serverSelectionTimeoutMS=60000";
  g_leaked_client = new MongoClient(uri);  // leaked on purpose
  std::this_thread::sleep_for(500ms);      // the monitor has connected and sent hello by now
  g_exit_called_ns = monotonic_ns();
  std::exit(0);
}

TEST(ClientExit, LeakedClientBlockedInAReadLetsTheProcessExit) {
  // A server that accepts (in the kernel) and never answers.
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 16), 0);
  socklen_t length = sizeof address;
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length), 0);
  const std::string port = std::to_string(ntohs(address.sin_port));

  const std::string marker = "/tmp/mongoslice-client-exit-" + std::to_string(getpid());
  std::remove(marker.c_str());
  const auto started = std::chrono::steady_clock::now();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setenv(kChildEnv, marker.c_str(), 1);
    setenv(kPortEnv, port.c_str(), 1);
    execl("/proc/self/exe", "client-exit-child",
          "--gtest_filter=ExecutorExitChild.LeakedClientWithAMonitorBlockedInARead", nullptr);
    _exit(127);
  }
  int status = wait_bounded(pid, 20s);
  const auto took = std::chrono::steady_clock::now() - started;
  ::close(listener);
  ASSERT_NE(status, -1) << "the child did not exit within 20 s";
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  ASSERT_NE(WEXITSTATUS(status), kThreadRanDuringStaticDestruction)
      << "an executor thread still ran after the exit handler";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  std::ifstream in(marker);
  long long handler_ms = -1;
  ASSERT_TRUE(in >> handler_ms) << "the child's static destruction did not run to the end";
  std::remove(marker.c_str());
  // Loose bounds only (no timing is asserted tightly): the 2 s sleep is part of the total.
  EXPECT_LT(handler_ms, 1'500);
  EXPECT_LT(took, 10s);
  std::cout << "[ exit handler " << handler_ms << " ms; child total "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms including start-up and the 2 s static destructor ]\n";
}

}  // namespace
}  // namespace mongoslice
