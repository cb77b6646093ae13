// A fork() child never disturbs its parent's sockets (DESIGN.md invariant 8): a child that
// interrupts, closes and destroys the DeadlineSocket it inherited leaves the parent's connection
// working, and a child can destroy a socket that resolved a host name (no resolver thread to
// join).

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "net/deadline_socket.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::LoopbackPeer;
using testing::PeerStream;

// Waits for `pid` at most `bound`; kills it when it takes longer. Returns the wait status, or
// -1 on timeout.
int wait_bounded(pid_t pid, std::chrono::seconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 || std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(10ms);
  }
}

Deadline bounded() {
  return Deadline::after(std::chrono::milliseconds(5000), "test");
}

// Sends every length-prefixed message back as it came.
void echo(PeerStream& s) {
  for (;;) s.write(s.read_message());
}

// A length-prefixed message of `size` bytes whose payload is `fill`.
std::vector<std::uint8_t> message(std::int32_t size, std::uint8_t fill) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size), fill);
  std::memcpy(bytes.data(), &size, 4);
  return bytes;
}

void round_trip(DeadlineSocket& socket, std::uint8_t fill) {
  auto sent = message(64, fill);
  socket.write_all(sent, bounded());
  std::vector<std::uint8_t> back(sent.size());
  socket.read_exact(back, bounded(), "the echo");
  EXPECT_EQ(back, sent);
}

// The child's part: interrupt (with and without close) and destroy; exits without running
// anything of the parent's (no atexit handlers, no gtest).
[[noreturn]] void run_child(std::unique_ptr<DeadlineSocket>& socket, bool interrupt_first) {
  if (interrupt_first) socket->interrupt();
  socket->close();
  socket.reset();
  ::_exit(0);
}

void expect_parent_unharmed(bool interrupt_first) {
  LoopbackPeer peer(echo);
  auto socket = std::make_unique<DeadlineSocket>(peer.address());
  socket->connect(bounded());
  round_trip(*socket, 1);

  pid_t pid = ::fork();
  ASSERT_NE(pid, -1) << "fork failed";
  if (pid == 0) run_child(socket, interrupt_first);

  int status = wait_bounded(pid, 10s);
  ASSERT_NE(status, -1) << "the child did not exit within 10 s";
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;

  // The parent's connection still works both ways: the child shut nothing down and removed
  // nothing from the parent's event loop.
  try {
    round_trip(*socket, 2);
    round_trip(*socket, 3);
  } catch (const Error& e) {
    ADD_FAILURE() << "the parent's connection broke after the child closed its copy: " << e.what();
  }
  socket.reset();
}

TEST(DeadlineSocketFork, ChildThatInterruptsAndClosesItsCopyLeavesTheParentsConnectionWorking) {
  expect_parent_unharmed(/*interrupt_first=*/true);
}

TEST(DeadlineSocketFork, ChildThatDestroysItsCopyLeavesTheParentsConnectionWorking) {
  expect_parent_unharmed(/*interrupt_first=*/false);
}

// A child that tries to talk on the inherited connection is refused (its bytes would interleave
// with the parent's), and the parent's exchange stays intact.
TEST(DeadlineSocketFork, ChildCannotWriteOrReadOnTheParentsConnection) {
  LoopbackPeer peer(echo);
  auto socket = std::make_unique<DeadlineSocket>(peer.address());
  socket->connect(bounded());

  pid_t pid = ::fork();
  ASSERT_NE(pid, -1) << "fork failed";
  if (pid == 0) {
    int code = 0;
    try {
      socket->write_all(message(64, 9), bounded());
      code = 1;  // written: the parent's stream is corrupted
    } catch (const Error& e) {
      if (e.code() != errc::connection_closed) code = 2;
    }
    try {
      std::vector<std::uint8_t> into(4);
      socket->read_exact(into, bounded(), "anything");
      code = 3;
    } catch (const Error& e) {
      if (e.code() != errc::connection_closed) code = 4;
    }
    socket.reset();
    ::_exit(code);
  }
  int status = wait_bounded(pid, 10s);
  ASSERT_NE(status, -1) << "the child did not exit within 10 s";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  try {
    round_trip(*socket, 2);
  } catch (const Error& e) {
    ADD_FAILURE() << "the parent's connection broke: " << e.what();
  }
}

// A socket that resolved a name (not a literal) can be destroyed in a child: the lookup left no
// thread behind whose join would wait forever there.
TEST(DeadlineSocketFork, ChildDestroysASocketThatResolvedLocalhost) {
  LoopbackPeer peer([](PeerStream& s) { s.wait_for_close(); });
  auto socket = std::make_unique<DeadlineSocket>(HostAndPort{"localhost", peer.address().port});
  socket->connect(bounded());

  pid_t pid = ::fork();
  ASSERT_NE(pid, -1) << "fork failed";
  if (pid == 0) run_child(socket, /*interrupt_first=*/false);

  int status = wait_bounded(pid, 5s);
  ASSERT_NE(status, -1) << "the child hung destroying the socket (killed after 5 s)";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  socket.reset();
}

}  // namespace
}  // namespace mongoslice
