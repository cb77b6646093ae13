// Connection::read_reply against peers that lie: a header announcing a huge reply that never
// comes must not make the client allocate what it announced, and a reply with moreToCome to a
// request that did not allow it closes the connection.

#include <sys/resource.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "net/connection.hpp"
#include "support/expect_error.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using testing::expect_error;
using ::testing::HasSubstr;
using testing::LoopbackPeer;
using testing::PeerStream;
using testing::reply_to;

bson::Document ping() {
  return bson::Builder{}.append("ping", 1).build();
}

ConnectionOptions bounded() {
  ConnectionOptions options;
  options.connect_timeout = 10s;
  options.socket_timeout = 10s;
  return options;
}

// A hello reply that allows messages up to INT32_MAX bytes, as a server may advertise.
bson::Document hello_allowing_2_gib() {
  return bson::Builder{}
      .append("isWritablePrimary", true)
      .append("maxBsonObjectSize", 16 * 1024 * 1024)
      .append("maxMessageSizeBytes", INT32_MAX)
      .append("maxWireVersion", 21)
      .append("ok", 1.0)
      .build();
}

// The peak resident set size of this process so far, in bytes.
std::size_t peak_rss() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::size_t>(usage.ru_maxrss) * 1024;  // Linux reports kilobytes
}

TEST(ConnectionReplyLimits, AnnouncedLengthIsNotAllocatedBeforeTheBytesArrive) {
  static constexpr std::int32_t kAnnounced = 1'900'000'000;
  LoopbackPeer peer([](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, hello_allowing_2_gib()));
    auto command = s.read_message();
    // A header announcing ~1.9 GB, then nothing: the script ends and the peer hangs up.
    auto header = reply_to(command, bson::Builder{}.append("ok", 1.0).build());
    header.resize(wire::kHeaderSize);
    std::memcpy(header.data(), &kAnnounced, 4);
    s.write(header);
  });
  Connection conn(peer.address(), bounded());
  conn.connect();
  ASSERT_EQ(conn.max_message_size_bytes(), INT32_MAX);

  const std::size_t before = peak_rss();
  auto error = expect_error([&] { conn.run_command("admin", ping()); });
  const std::size_t after = peak_rss();
  EXPECT_EQ(error.code(), errc::connection_closed) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(std::to_string(kAnnounced)));
  EXPECT_FALSE(conn.is_open());
  EXPECT_LT(after - before, std::size_t{64} << 20)
      << "peak RSS grew from " << before << " to " << after << " bytes";
}

// The buffer grows in steps while the bytes come: a reply of several steps arrives whole.
TEST(ConnectionReplyLimits, RepliesLargerThanTheFirstStepArriveWhole) {
  const std::string big(300'000, 'x');
  LoopbackPeer peer([&](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply()));
    for (std::size_t size : {std::size_t{0}, std::size_t{65'000}, big.size()}) {
      auto command = s.read_message();
      s.write(reply_to(command,
                       bson::Builder{}.append("s", big.substr(0, size)).append("ok", 1.0).build()));
    }
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded());
  conn.connect();
  for (std::size_t size : {std::size_t{0}, std::size_t{65'000}, big.size()}) {
    auto reply = conn.run_command("admin", ping());
    EXPECT_EQ(reply["s"].get_string(), big.substr(0, size));
  }
  EXPECT_TRUE(conn.is_open());
}

// We never set exhaustAllowed, so no reply may say moreToCome: the replies that would follow
// answer no request of ours, and the byte stream can no longer be trusted.
TEST(ConnectionReplyLimits, MoreToComeOnAReplyClosesTheConnection) {
  LoopbackPeer peer([](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply()));
    auto command = s.read_message();
    auto reply = reply_to(command, bson::Builder{}.append("ok", 1.0).build());
    const std::uint32_t flags = wire::kMoreToCome;
    std::memcpy(reply.data() + wire::kHeaderSize, &flags, 4);
    s.write(reply);
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded());
  conn.connect();
  auto error = expect_error([&] { conn.run_command("admin", ping()); });
  EXPECT_EQ(error.code(), errc::unexpected_more_to_come) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(peer.address().to_string()));
  EXPECT_FALSE(conn.is_open());
}

}  // namespace
}  // namespace mongoslice
