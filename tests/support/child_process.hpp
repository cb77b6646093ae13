#pragma once
// Waiting for a child process in tests, bounded so that a child that hangs fails the test
// instead of hanging the suite.

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

namespace mongoslice::testing {

// Waits for `pid` at most `bound`; kills it when it takes longer. Returns the wait status, or
// -1 on timeout.
inline int wait_bounded(pid_t pid, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 || std::chrono::steady_clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace mongoslice::testing
