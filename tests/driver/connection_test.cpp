// Connection against a loopback peer the test scripts byte by byte: the handshake, command round
// trips, and a failure injected at every byte of an exchange, timeouts, interrupts, garbage and
// error replies.

#include "driver/connection.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "support/expect_error.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::LoopbackPeer;
using testing::PeerStream;
using testing::reply_to;

bson::Document ping() {
  return bson::Builder{}.append("ping", 1).build();
}

// Options that can never hang a test: every step is bounded.
ConnectionOptions bounded(std::chrono::milliseconds socket_timeout = 10s) {
  ConnectionOptions options;
  options.connect_timeout = 10s;
  options.socket_timeout = socket_timeout;
  return options;
}

using testing::expect_error;

bool is_wire_error(const std::error_code& code) {
  return code.category() == client_category() && code.value() < 100;
}

TEST(Connection, HandshakeSendsHelloWithMetadataAndRecordsTheReply) {
  std::vector<bson::Document> requests;
  LoopbackPeer peer([&](PeerStream& s) {
    auto hello = s.read_message();
    requests.push_back(testing::body_of(hello));
    s.write(reply_to(hello, testing::standard_hello_reply(17)));
    auto command = s.read_message();
    requests.push_back(testing::body_of(command));
    s.write(reply_to(command, bson::Document::from_json(R"({"ok": 1, "pong": "yes"})")));
    s.wait_for_close();
  });
  {
    ConnectionOptions options = bounded();
    options.app_name = "connection_test";
    Connection conn(peer.address(), options);
    conn.connect();
    EXPECT_TRUE(conn.is_open());
    EXPECT_EQ(conn.max_wire_version(), 17);
    EXPECT_EQ(conn.max_bson_object_size(), 16 * 1024 * 1024);
    EXPECT_EQ(conn.max_message_size_bytes(), 48'000'000);
    EXPECT_EQ(conn.max_write_batch_size(), 100'000);
    EXPECT_TRUE(conn.hello_reply()["isWritablePrimary"].get_bool());
    EXPECT_GT(conn.handshake_rtt().count(), 0);

    auto reply = conn.run_command("admin", ping());
    EXPECT_EQ(reply["pong"].get_string(), "yes");
    EXPECT_TRUE(conn.is_open());
  }
  peer.join();
  EXPECT_EQ(peer.script_error(), "");
  ASSERT_EQ(requests.size(), 2u);

  const auto& hello = requests[0];
  EXPECT_EQ(hello["hello"].as_int64(), 1);
  EXPECT_TRUE(hello["helloOk"].get_bool());
  EXPECT_EQ(hello["$db"].get_string(), "admin");
  auto client = hello["client"].get_document();
  EXPECT_EQ(client["application"].get_document()["name"].get_string(), "connection_test");
  EXPECT_EQ(client["driver"].get_document()["name"].get_string(), "mongoslice");
  EXPECT_EQ(client["driver"].get_document()["version"].get_string(), "0.1.0");
  EXPECT_EQ(client["os"].get_document()["type"].get_string(), "Linux");
  EXPECT_FALSE(client["os"].get_document()["architecture"].get_string().empty());
  EXPECT_THAT(std::string(client["platform"].get_string()), HasSubstr("C++20"));
  EXPECT_THAT(std::string(client["platform"].get_string()), HasSubstr("Boost 1.81"));
  EXPECT_LT(client.size(), 512u);

  EXPECT_EQ(requests[1]["ping"].as_int64(), 1);
  EXPECT_EQ(requests[1]["$db"].get_string(), "admin");
}

TEST(Connection, DocumentSequencesReachThePeer) {
  std::vector<bson::Document> documents;
  std::string identifier;
  LoopbackPeer peer([&](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply()));
    auto insert = s.read_message();
    wire::OpMsg message;
    if (!wire::decode_op_msg(insert, 0, wire::kDefaultMaxMessageSize, message)) {
      for (const auto& seq : message.sequences()) {
        identifier = seq.identifier;
        for (auto doc : seq.documents) documents.emplace_back(doc);
      }
    }
    s.write(reply_to(insert, bson::Document::from_json(R"({"n": 2, "ok": 1})")));
    s.wait_for_close();
  });
  {
    Connection conn(peer.address(), bounded());
    conn.connect();
    auto a = bson::Document::from_json(R"({"_id": 1})");
    auto b = bson::Document::from_json(R"({"_id": 2, "x": "y"})");
    bson::View docs[] = {a, b};
    wire::DocumentSequence sequence{"documents", docs};
    auto reply = conn.run_command("test", bson::Builder{}.append("insert", "c").build(),
                                  std::span(&sequence, 1));
    EXPECT_EQ(reply["n"].as_int64(), 2);
  }
  peer.join();
  EXPECT_EQ(identifier, "documents");
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[1]["x"].get_string(), "y");
}

// The peer hangs up after n bytes, for every n from 0 to the whole exchange (handshake + ping).
// Each n short of the whole gives a clear connection error and a closed connection; the whole
// exchange succeeds.
TEST(Connection, FailureAtEveryByteOfHandshakeAndPingIsAClearError) {
  std::size_t total = 0;
  {
    LoopbackPeer peer(testing::healthy_server());
    {
      Connection conn(peer.address(), bounded());
      conn.connect();
      conn.run_command("admin", ping());
    }
    peer.join();
    total = peer.transferred();
  }
  ASSERT_GT(total, 100u);

  std::size_t closed = 0, network = 0;
  for (std::size_t n = 0; n <= total; ++n) {
    LoopbackPeer peer(testing::healthy_server(), n);
    Connection conn(peer.address(), bounded());
    try {
      conn.connect();
      conn.run_command("admin", ping());
      EXPECT_EQ(n, total) << "the exchange succeeded with only " << n << " bytes";
    } catch (const Error& e) {
      ASSERT_LT(n, total) << e.what();
      if (e.code() == errc::connection_closed) {
        ++closed;
      } else {
        ASSERT_EQ(e.code(), errc::network_error) << "n = " << n << ": " << e.what();
        ++network;
      }
      EXPECT_THAT(e.what(), HasSubstr(peer.address().to_string()));
      EXPECT_FALSE(conn.is_open()) << "n = " << n;
    }
  }
  EXPECT_EQ(closed + network, total);
}

TEST(Connection, PeerThatNeverAnswersGivesTimeoutNamingAddressAndLimit) {
  LoopbackPeer peer([](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply()));
    s.read_message();
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded(50ms));
  conn.connect();
  auto error = expect_error([&] { conn.run_command("admin", ping()); });
  EXPECT_EQ(error.code(), errc::timeout) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(peer.address().to_string()));
  EXPECT_THAT(error.what(), HasSubstr("50 ms (socketTimeoutMS)"));
  EXPECT_FALSE(conn.is_open());
  // Never reused: the next command fails at once.
  EXPECT_EQ(expect_error([&] { conn.run_command("admin", ping()); }).code(),
            errc::connection_closed);
}

TEST(Connection, HandshakeThatNeverAnswersGivesConnectTimeout) {
  LoopbackPeer peer([](PeerStream& s) {
    s.read_message();
    s.wait_for_close();
  });
  ConnectionOptions options = bounded();
  options.connect_timeout = 50ms;
  Connection conn(peer.address(), options);
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::timeout) << error.what();
  EXPECT_THAT(error.what(), HasSubstr("connectTimeoutMS"));
  EXPECT_FALSE(conn.is_open());
}

// $db goes on the wire exactly once, whether the command names it or the connection adds it; a
// command naming another database is refused before anything is sent.
TEST(Connection, DatabaseIsNamedExactlyOnce) {
  std::vector<bson::Document> received;
  LoopbackPeer peer([&](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply(17)));
    for (int i = 0; i < 2; ++i) {
      auto command = s.read_message();
      received.push_back(testing::body_of(command));
      s.write(reply_to(command, bson::Document::from_json(R"({"ok": 1})")));
    }
    s.wait_for_close();
  });
  {
    Connection conn(peer.address(), bounded());
    conn.connect();
    conn.run_command("app", ping());
    conn.run_command("app", bson::Builder{}.append("ping", 1).append("$db", "app").build());
    auto error = expect_error([&] {
      conn.run_command("app", bson::Builder{}.append("ping", 1).append("$db", "other").build());
    });
    EXPECT_EQ(error.code(), errc::invalid_argument) << error.what();
    EXPECT_TRUE(conn.is_open());
  }
  peer.join();
  ASSERT_EQ(received.size(), 2u);
  for (const auto& body : received) {
    int named = 0;
    for (auto element : body) named += element.key() == "$db";
    EXPECT_EQ(named, 1) << body.to_json();
    EXPECT_EQ(body["$db"].get_string(), "app");
  }
}

// connectTimeoutMS=0 means no limit (URI options spec), not a deadline that has already passed.
TEST(Connection, ZeroConnectTimeoutMeansNoLimit) {
  LoopbackPeer peer([](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply(17)));
    s.wait_for_close();
  });
  ConnectionOptions options = bounded();
  options.connect_timeout = 0ms;
  Connection conn(peer.address(), options);
  conn.connect();
  EXPECT_TRUE(conn.is_open());
}

TEST(Connection, ConnectionRefusedIsNetworkErrorNamingAddress) {
  HostAndPort address;
  {
    LoopbackPeer gone([](PeerStream&) {});
    address = gone.address();
  }  // the port is free again, so nothing listens there
  Connection conn(address, bounded());
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::network_error) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(address.to_string()));
  EXPECT_THAT(error.what(), HasSubstr("refused"));
}

// interrupt() from another thread breaks a read that would otherwise wait 30 s.
TEST(Connection, InterruptBreaksABlockingRead) {
  std::promise<void> command_arrived;
  LoopbackPeer peer([&](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply()));
    s.read_message();
    command_arrived.set_value();
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded(30s));
  conn.connect();
  std::thread interrupter([&] {
    command_arrived.get_future().wait();
    conn.interrupt();
  });
  auto error = expect_error([&] { conn.run_command("admin", ping()); });
  interrupter.join();
  EXPECT_EQ(error.code(), errc::interrupted) << error.what();
  EXPECT_THAT(error.what(), HasSubstr(peer.address().to_string()));
  EXPECT_FALSE(conn.is_open());
}

TEST(Connection, InterruptBreaksTheHandshake) {
  std::promise<void> hello_arrived;
  LoopbackPeer peer([&](PeerStream& s) {
    s.read_message();
    hello_arrived.set_value();
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded(30s));
  std::thread interrupter([&] {
    hello_arrived.get_future().wait();
    conn.interrupt();
  });
  auto error = expect_error([&] { conn.connect(); });
  interrupter.join();
  EXPECT_EQ(error.code(), errc::interrupted) << error.what();
  EXPECT_FALSE(conn.is_open());
}

TEST(Connection, InterruptBeforeConnectIsSticky) {
  LoopbackPeer peer(testing::healthy_server());
  Connection conn(peer.address(), bounded());
  conn.interrupt();
  EXPECT_EQ(expect_error([&] { conn.connect(); }).code(), errc::interrupted);
  EXPECT_EQ(expect_error([&] { conn.connect(); }).code(), errc::interrupted);
  EXPECT_FALSE(conn.is_open());
}

// A peer that answers the ping with `reply` (raw bytes, given the request).
LoopbackPeer::Script answers_ping_with(
    std::function<std::vector<std::uint8_t>(const std::vector<std::uint8_t>&)> reply) {
  return [reply](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply()));
    auto command = s.read_message();
    s.write(reply(command));
    s.wait_for_close();
  };
}

void put_i32(std::vector<std::uint8_t>& bytes, std::size_t at, std::int32_t value) {
  std::memcpy(bytes.data() + at, &value, 4);
}

struct GarbageCase {
  const char* name;
  std::function<std::vector<std::uint8_t>(const std::vector<std::uint8_t>&)> reply;
  errc expected;
};

TEST(Connection, GarbageRepliesGiveWireErrorsAndCloseTheConnection) {
  auto ok = bson::Builder{}.append("ok", 1.0).build();
  const GarbageCase cases[] = {
      {"length above maxMessageSizeBytes",
       [](const auto&) {
         std::vector<std::uint8_t> b(16, 0xAB);
         put_i32(b, 0, 0x7ffffff0);
         return b;
       },
       errc::message_too_large},
      {"length below the minimum",
       [](const auto&) {
         std::vector<std::uint8_t> b(16, 0);
         put_i32(b, 0, 12);
         return b;
       },
       errc::message_too_short},
      {"OP_REPLY instead of OP_MSG",
       [&](const auto& request) {
         auto b = reply_to(request, ok);
         put_i32(b, 12, 1);
         return b;
       },
       errc::unexpected_opcode},
      {"responseTo of another request",
       [&](const auto& request) {
         auto b = reply_to(request, ok);
         put_i32(b, 8, testing::request_id_of(request) + 7);
         return b;
       },
       errc::response_to_mismatch},
      {"a body that is not BSON",
       [&](const auto& request) {
         auto b = reply_to(request, ok);
         for (std::size_t i = 21 + 4; i < b.size(); ++i) b[i] = 0xEE;  // past the doc length
         return b;
       },
       errc::invalid_bson},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    LoopbackPeer peer(answers_ping_with(c.reply));
    Connection conn(peer.address(), bounded());
    conn.connect();
    auto error = expect_error([&] { conn.run_command("admin", ping()); });
    EXPECT_EQ(error.code(), c.expected) << error.what();
    EXPECT_TRUE(is_wire_error(error.code()));
    EXPECT_THAT(error.what(), HasSubstr(peer.address().to_string()));
    EXPECT_FALSE(conn.is_open());
  }
}

TEST(Connection, OkZeroIsServerErrorAndTheConnectionStaysUsable) {
  LoopbackPeer peer([](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply()));
    auto command = s.read_message();
    s.write(reply_to(command, bson::Document::from_json(
                                  R"({"ok": 0, "code": 2, "codeName": "BadValue",
                                      "errmsg": "no such thing"})")));
    command = s.read_message();
    s.write(reply_to(command, bson::Builder{}.append("ok", 1.0).build()));
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded());
  conn.connect();
  try {
    conn.run_command("admin", ping());
    ADD_FAILURE() << "no ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 2);
    EXPECT_EQ(e.code_name(), "BadValue");
    EXPECT_EQ(e.errmsg(), "no such thing");
    EXPECT_EQ(e.reply()["ok"].as_int64(), 0);
  }
  EXPECT_TRUE(conn.is_open());
  EXPECT_EQ(conn.run_command("admin", ping())["ok"].as_int64(), 1);
}

TEST(Connection, ServerOlderThan42IsRefused) {
  LoopbackPeer peer([](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, testing::standard_hello_reply(7)));
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded());
  auto error = expect_error([&] { conn.connect(); });
  EXPECT_EQ(error.code(), errc::incompatible_server);
  EXPECT_THAT(error.what(),
              HasSubstr("server at " + peer.address().to_string() +
                        " reports maxWireVersion 7; mongoslice needs 8 (MongoDB 4.2) or newer"));
  EXPECT_FALSE(conn.is_open());
}

TEST(Connection, ServerWithoutHelloGetsIsMaster) {
  std::string second_command;
  LoopbackPeer peer([&](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, bson::Document::from_json(
                                R"({"ok": 0, "code": 59, "codeName": "CommandNotFound",
                                    "errmsg": "no such command: 'hello'"})")));
    auto is_master = s.read_message();
    second_command = testing::body_of(is_master).begin().operator*().key();
    s.write(reply_to(is_master, testing::standard_hello_reply(8)));
    s.wait_for_close();
  });
  {
    Connection conn(peer.address(), bounded());
    conn.connect();
    EXPECT_EQ(conn.max_wire_version(), 8);
  }
  peer.join();
  EXPECT_EQ(second_command, "isMaster");
}

}  // namespace
}  // namespace mongoslice
