// Connection against a loopback peer the test scripts byte by byte: the handshake (the legacy
// hello over OP_QUERY, its OP_REPLY decoded strictly), command round trips, and a failure
// injected at every byte of an exchange, timeouts, interrupts, garbage and error replies.

#include "net/connection.hpp"

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

TEST(Connection, HandshakeIsLegacyHelloOverOpQueryWithMetadata) {
  std::vector<bson::Document> requests;
  std::vector<std::int32_t> opcodes;
  testing::Query query;
  LoopbackPeer peer([&](PeerStream& s) {
    auto hello = s.read_message();
    opcodes.push_back(testing::opcode_of(hello));
    query = testing::query_of(hello);
    requests.push_back(testing::body_of(hello));
    s.write(reply_to(hello, testing::standard_hello_reply(17)));
    auto command = s.read_message();
    opcodes.push_back(testing::opcode_of(command));
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
    EXPECT_TRUE(conn.hello_ok());
    EXPECT_GT(conn.handshake_rtt().count(), 0);

    auto reply = conn.run_command("admin", ping());
    EXPECT_EQ(reply["pong"].get_string(), "yes");
    EXPECT_TRUE(conn.is_open());
  }
  peer.join();
  EXPECT_EQ(peer.script_error(), "");
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(opcodes, (std::vector<std::int32_t>{wire::kOpQuery, wire::kOpMsg}));
  EXPECT_EQ(query.full_collection_name, "admin.$cmd");
  EXPECT_EQ(query.flags, 0);
  EXPECT_EQ(query.number_to_skip, 0);
  EXPECT_EQ(query.number_to_return, -1);
  EXPECT_EQ(query.trailing_bytes, 0u);

  const auto& hello = requests[0];
  EXPECT_EQ((*hello.begin()).key(), "isMaster");
  EXPECT_EQ(hello["isMaster"].as_int64(), 1);
  EXPECT_TRUE(hello["helloOk"].get_bool());
  EXPECT_FALSE(hello.find("$db")) << "OP_QUERY names its database in fullCollectionName";
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

// A server without `hello` (MongoDB 4.2) answers the one legacy hello without helloOk: the
// connection records that, and the handshake is that one message (no `hello` first).
TEST(Connection, HandshakeReplyWithoutHelloOkMeansNoHello) {
  int handshake_messages = 0;
  std::string after_handshake;
  LoopbackPeer peer([&](PeerStream& s) {
    auto hello = s.read_message();
    ++handshake_messages;
    auto reply = bson::Document::from_json(
        R"({"ismaster": true, "maxWireVersion": 8, "minWireVersion": 0, "ok": 1})");
    s.write(reply_to(hello, reply));
    auto next = s.read_message();
    after_handshake = testing::command_name_of(next);
    s.write(reply_to(next, bson::Builder{}.append("ok", 1.0).build()));
    s.wait_for_close();
  });
  {
    Connection conn(peer.address(), bounded());
    conn.connect();
    EXPECT_EQ(conn.max_wire_version(), 8);
    EXPECT_FALSE(conn.hello_ok());
    conn.run_command("admin", ping());
  }
  peer.join();
  EXPECT_EQ(peer.script_error(), "");
  EXPECT_EQ(handshake_messages, 1);
  EXPECT_EQ(after_handshake, "ping") << "the handshake took more than one message";
}

// helloOk: false is not helloOk.
TEST(Connection, HandshakeReplyWithHelloOkFalseMeansNoHello) {
  LoopbackPeer peer([](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(
        hello, bson::Document::from_json(R"({"helloOk": false, "maxWireVersion": 21, "ok": 1})")));
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded());
  conn.connect();
  EXPECT_FALSE(conn.hello_ok());
}

TEST(Connection, HandshakeOkZeroIsServerErrorAndClosesTheConnection) {
  LoopbackPeer peer([](PeerStream& s) {
    auto hello = s.read_message();
    s.write(reply_to(hello, bson::Document::from_json(
                                R"({"ok": 0, "code": 18, "codeName": "AuthenticationFailed",
                                    "errmsg": "not today"})")));
    s.wait_for_close();
  });
  Connection conn(peer.address(), bounded());
  try {
    conn.connect();
    ADD_FAILURE() << "no ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 18);
    EXPECT_EQ(e.errmsg(), "not today");
  }
  EXPECT_FALSE(conn.is_open());
}

// A handshake reply that is not one well-formed OP_REPLY answering our OP_QUERY: a wire error
// naming the server, and a closed connection (DESIGN.md invariant 7).
TEST(Connection, GarbageHandshakeRepliesGiveWireErrorsAndCloseTheConnection) {
  const auto hello = testing::standard_hello_reply();
  const GarbageCase cases[] = {
      {"OP_MSG answering the OP_QUERY",
       [&](const auto& request) {
         auto b = wire::encode_op_msg(5, hello);
         put_i32(b, 8, testing::request_id_of(request));
         return b;
       },
       errc::unexpected_opcode},
      {"responseTo of another request",
       [&](const auto& request) {
         auto b = testing::op_reply_to(request, hello);
         put_i32(b, 8, testing::request_id_of(request) + 1);
         return b;
       },
       errc::response_to_mismatch},
      {"QueryFailure",
       [&](const auto& request) {
         return testing::op_reply_to(request,
                                     bson::Document::from_json(R"({"$err": "no", "code": 2})"),
                                     wire::kReplyQueryFailure);
       },
       errc::op_reply_error_flags},
      {"CursorNotFound",
       [&](const auto& request) {
         return testing::op_reply_to(request, hello, wire::kReplyCursorNotFound);
       },
       errc::op_reply_error_flags},
      {"a cursor id",
       [&](const auto& request) {
         auto b = testing::op_reply_to(request, hello);
         put_i32(b, 20, 99);
         return b;
       },
       errc::op_reply_malformed},
      {"startingFrom",
       [&](const auto& request) {
         auto b = testing::op_reply_to(request, hello);
         put_i32(b, 28, 1);
         return b;
       },
       errc::op_reply_malformed},
      {"numberReturned 2",
       [&](const auto& request) {
         auto b = testing::op_reply_to(request, hello);
         put_i32(b, 32, 2);
         return b;
       },
       errc::op_reply_malformed},
      {"a document that is not BSON",
       [&](const auto& request) {
         auto b = testing::op_reply_to(request, hello);
         for (std::size_t i = 36 + 4; i < b.size(); ++i) b[i] = 0xEE;
         return b;
       },
       errc::invalid_bson},
      {"length below the OP_REPLY minimum",
       [](const auto&) {
         std::vector<std::uint8_t> b(16, 0);
         put_i32(b, 0, 30);
         return b;
       },
       errc::message_too_short},
      {"a field the driver cannot read",
       [&](const auto& request) {
         return testing::op_reply_to(
             request, bson::Document::from_json(R"({"ok": 0, "code": 1e30, "errmsg": "x"})"));
       },
       errc::bson_type_mismatch},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    LoopbackPeer peer([&](PeerStream& s) {
      auto request = s.read_message();
      s.write(c.reply(request));
      s.wait_for_close();
    });
    Connection conn(peer.address(), bounded());
    auto error = expect_error([&] { conn.connect(); });
    EXPECT_EQ(error.code(), c.expected) << error.what();
    EXPECT_THAT(error.what(), HasSubstr(peer.address().to_string()));
    EXPECT_FALSE(conn.is_open());
  }
}

}  // namespace
}  // namespace mongoslice
