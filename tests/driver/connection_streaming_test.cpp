// Connection's side of the streaming protocol: run_exhaust_command sets exhaustAllowed,
// receive_more reads without sending, the stream's bytes are never taken for another command's
// reply, and moreToCome is still refused on ordinary commands.

#include <gtest/gtest.h>

#include "net/connection.hpp"
#include "support/expect_error.hpp"
#include "support/loopback_peer.hpp"
#include "support/streaming_replies.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using testing::LoopbackPeer;
using testing::PeerStream;
using testing::RequestLog;

bson::Document hello_command() {
  return bson::Builder{}.append("hello", 1).build();
}

bson::Document numbered(int n) {
  return bson::Builder{}.append("n", n).append("ok", 1.0).build();
}

TEST(ConnectionStreaming, ExhaustCommandThenStreamedRepliesWithoutRequests) {
  RequestLog log;
  LoopbackPeer peer([&](PeerStream& s) {
    auto handshake = s.read_message();
    s.write(testing::reply_to(handshake, testing::standard_hello_reply()));
    const std::int32_t request = log.record(s.read_message());
    s.write(testing::op_msg_reply(900, request, numbered(1).view(), wire::kMoreToCome));
    s.write(testing::op_msg_reply(901, 900, numbered(2).view(), wire::kMoreToCome));
    s.write(testing::op_msg_reply(902, 901, numbered(3).view()));  // the stream ends
    const std::int32_t next = log.record(s.read_message());
    s.write(testing::op_msg_reply(903, next, numbered(4).view()));
    s.wait_for_close();
  });
  Connection conn(peer.address());
  conn.connect();
  const auto command = hello_command();
  auto first = conn.run_exhaust_command("admin", command.view(), Deadline::none());
  EXPECT_EQ(first.view().find("n")->as_int64(), 1);
  ASSERT_TRUE(conn.more_to_come());
  // The next bytes belong to the stream: another command is refused before anything is sent.
  EXPECT_EQ(testing::expect_error([&] { conn.run_command("admin", command.view()); }).code(),
            errc::invalid_argument);
  EXPECT_TRUE(conn.is_open());
  EXPECT_EQ(conn.receive_more(Deadline::none()).view().find("n")->as_int64(), 2);
  EXPECT_EQ(conn.receive_more(Deadline::none()).view().find("n")->as_int64(), 3);
  EXPECT_FALSE(conn.more_to_come());
  EXPECT_EQ(testing::expect_error([&] { conn.receive_more(Deadline::none()); }).code(),
            errc::invalid_argument);
  EXPECT_EQ(conn.run_command("admin", command.view()).view().find("n")->as_int64(), 4);

  ASSERT_EQ(log.size(), 2u) << "the streamed replies came without requests";
  EXPECT_NE(log.at(0).flags & wire::kExhaustAllowed, 0u);
  EXPECT_EQ(log.at(1).flags & wire::kExhaustAllowed, 0u);
}

TEST(ConnectionStreaming, MoreToComeOnAnOrdinaryCommandClosesTheConnection) {
  LoopbackPeer peer([&](PeerStream& s) {
    auto handshake = s.read_message();
    s.write(testing::reply_to(handshake, testing::standard_hello_reply()));
    auto request = s.read_message();
    s.write(testing::op_msg_reply(900, testing::request_id_of(request), numbered(1).view(),
                                  wire::kMoreToCome));
    s.wait_for_close();
  });
  Connection conn(peer.address());
  conn.connect();
  const auto command = hello_command();
  EXPECT_EQ(testing::expect_error([&] { conn.run_command("admin", command.view()); }).code(),
            errc::unexpected_more_to_come);
  EXPECT_FALSE(conn.is_open());
  EXPECT_FALSE(conn.more_to_come());
}

}  // namespace
}  // namespace mongoslice
