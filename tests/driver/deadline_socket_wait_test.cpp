// A DeadlineSocket read with a deadline far off (a streaming monitor's awaited hello waits up
// to heartbeatFrequencyMS + connectTimeoutMS) blocks until the reply or the deadline, without
// waking in between: Asio's run_one_until() wakes its thread at least once a second, which made
// every idle streaming monitor wake once a second. The waking thread is counted by its own
// voluntary context switches (/proc/thread-self/status), not timed. Also: such a read still
// fails at its deadline as a timeout, and a near deadline still works.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
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

long voluntary_switches_of_this_thread() {
  std::ifstream status("/proc/thread-self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("voluntary_ctxt_switches:", 0) == 0) return std::stol(line.substr(24));
  }
  return -1;
}

std::vector<std::uint8_t> message(std::int32_t size, std::uint8_t fill) {
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size), fill);
  std::memcpy(bytes.data(), &size, 4);
  return bytes;
}

TEST(DeadlineSocketWait, ALongReadWakesOnlyForItsReply) {
  // The peer answers 5.5 s after the request: five whole seconds in which the reader must not
  // wake.
  LoopbackPeer peer([](PeerStream& s) {
    auto request = s.read_message();
    std::this_thread::sleep_for(5500ms);
    s.write(request);
  });
  DeadlineSocket socket(peer.address());
  socket.connect(Deadline::after(5000ms, "test"));
  const auto sent = message(64, 7);
  socket.write_all(sent, Deadline::after(5000ms, "test"));
  std::vector<std::uint8_t> back(sent.size());
  const long before = voluntary_switches_of_this_thread();
  ASSERT_GE(before, 0) << "no /proc/thread-self/status";
  socket.read_exact(back, Deadline::after(20'000ms, "test"), "the reply");
  const long woke = voluntary_switches_of_this_thread() - before;
  EXPECT_EQ(back, sent);
  // One wake-up for the reply (a sanitizer's own locks may add one or two); a wait in
  // one-second steps shows at least six.
  EXPECT_LE(woke, 3) << "the blocked read woke " << woke << " times";
}

TEST(DeadlineSocketWait, ALongReadStillTimesOutAtItsDeadline) {
  LoopbackPeer peer([](PeerStream& s) {
    (void)s.read_message();
    std::this_thread::sleep_for(2500ms);  // never answers in time
  });
  DeadlineSocket socket(peer.address());
  socket.connect(Deadline::after(5000ms, "test"));
  const auto sent = message(64, 1);
  socket.write_all(sent, Deadline::after(5000ms, "test"));
  std::vector<std::uint8_t> back(sent.size());
  try {
    socket.read_exact(back, Deadline::after(1500ms, "socketTimeoutMS"), "the reply");
    ADD_FAILURE() << "the read did not time out";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::timeout)) << e.what();
    EXPECT_NE(std::string(e.what()).find("socketTimeoutMS"), std::string::npos) << e.what();
  }
}

TEST(DeadlineSocketWait, AShortDeadlineReadSucceedsAndTimesOut) {
  LoopbackPeer peer([](PeerStream& s) {
    s.write(s.read_message());  // the first at once
    (void)s.read_message();
    std::this_thread::sleep_for(1s);  // the second never in time
  });
  DeadlineSocket socket(peer.address());
  socket.connect(Deadline::after(5000ms, "test"));
  const auto sent = message(32, 2);
  std::vector<std::uint8_t> back(sent.size());
  socket.write_all(sent, Deadline::after(900ms, "test"));
  socket.read_exact(back, Deadline::after(900ms, "test"), "the reply");
  EXPECT_EQ(back, sent);
  socket.write_all(sent, Deadline::after(900ms, "test"));
  try {
    socket.read_exact(back, Deadline::after(300ms, "test"), "the reply");
    ADD_FAILURE() << "the read did not time out";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::timeout)) << e.what();
  }
}

}  // namespace
}  // namespace mongoslice
