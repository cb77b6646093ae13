// Database and collection names (driver/names.hpp): what is refused, that the error quotes the
// whole name escaped, and that nothing reaches the server (a scripted loopback server records
// every command other than the handshake; today's failure mode was the server echoing a NUL back
// and the driver reporting "reply is not valid BSON").

#include "driver/names.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <vector>

#include "driver/mongo_client.hpp"
#include "support/expect_error.hpp"
#include "support/loopback_peer.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using namespace std::string_view_literals;
using testing::LoopbackServer;
using testing::PeerStream;

std::string message_of(const Error& e) {
  return e.what();
}

void expect_invalid(const Error& e, std::string_view quoted_name, std::string_view reason) {
  EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
  EXPECT_NE(message_of(e).find(quoted_name), std::string::npos) << e.what();
  EXPECT_NE(message_of(e).find(reason), std::string::npos) << e.what();
}

TEST(Names, DatabaseNamesTheServerRefusesAreRefused) {
  expect_invalid(testing::expect_error([] { check_database_name(""); }), "database name", "empty");
  expect_invalid(testing::expect_error([] { check_database_name("a\0b"sv); }), "'a\\x00b'", "NUL");
  for (std::string_view bad : {"a/b", "a\\b", "a.b", "a\"b", "a$b", "a b"}) {
    SCOPED_TRACE(std::string(bad));
    Error e = testing::expect_error([&] { check_database_name(bad); });
    expect_invalid(e, "cannot contain", "database name");
  }
  expect_invalid(testing::expect_error([] { check_database_name("a b"); }), "'a b'", "a space");
  expect_invalid(testing::expect_error([] { check_database_name("a\\b"); }), "'a\\\\b'", "'\\'");
  // 63 bytes is the longest the server takes; 64 is refused, and quoted whole.
  EXPECT_NO_THROW(check_database_name(std::string(kMaxDatabaseNameBytes, 'd')));
  const std::string too_long(kMaxDatabaseNameBytes + 1, 'd');
  expect_invalid(testing::expect_error([&] { check_database_name(too_long); }),
                 "'" + too_long + "'", "64 bytes");
  EXPECT_NO_THROW(check_database_name("caf\xc3\xa9_2024-01"));  // UTF-8 and '-', '_' are fine
}

TEST(Names, CollectionNamesTheServerRefusesAreRefused) {
  expect_invalid(testing::expect_error([] { check_collection_name(""); }), "collection name",
                 "empty");
  expect_invalid(testing::expect_error([] { check_collection_name("a\0b"sv); }), "'a\\x00b'",
                 "NUL");
  expect_invalid(testing::expect_error([] { check_collection_name("$cmd"); }), "'$cmd'", "'$'");
  expect_invalid(testing::expect_error([] { check_collection_name("oplog.$main"); }),
                 "'oplog.$main'", "'$'");
  // What the server accepts in collection names (and databases do not) is accepted.
  for (std::string_view good : {"a.b", "a b", "system.views", "a/b", "caf\xc3\xa9"}) {
    EXPECT_NO_THROW(check_collection_name(good)) << good;
  }
}

// A long name (past any small-string buffer) that breaks a rule near its end is quoted whole.
TEST(Names, LongNamesAreQuotedWhole) {
  const std::string base(100, 'c');
  EXPECT_NO_THROW(check_collection_name(base));
  const std::string with_nul = base + std::string("\0tail", 5);
  Error e = testing::expect_error([&] { check_collection_name(with_nul); });
  expect_invalid(e, "'" + base + "\\x00tail'", "NUL");
}

TEST(Names, InvalidUtf8IsRefusedAndEveryHighByteEscaped) {
  // A lone continuation byte, a truncated two-byte sequence, an overlong '/' (0xc0 0xaf).
  Error lone = testing::expect_error([] { check_collection_name("ab\x80"); });
  expect_invalid(lone, "'ab\\x80'", "not valid UTF-8");
  Error truncated = testing::expect_error([] { check_database_name("caf\xc3"); });
  expect_invalid(truncated, "'caf\\xc3'", "not valid UTF-8");
  Error overlong = testing::expect_error([] { check_collection_name("x\xc0\xafy"); });
  expect_invalid(overlong, "'x\\xc0\\xafy'", "not valid UTF-8");
}

TEST(Names, EscapedNameKeepsValidUtf8AndEscapesQuotesAndControls) {
  EXPECT_EQ(escaped_name("caf\xc3\xa9"), "'caf\xc3\xa9'");
  EXPECT_EQ(escaped_name("it's\\\t\x7f"), "'it\\'s\\\\\\x09\\x7f'");
  EXPECT_EQ(escaped_name("\xc3\xa9\xff"), "'\\xc3\\xa9\\xff'");  // not UTF-8: all escaped
}

// ---- through the handles: refused before anything is sent -----------------------------------

// Commands other than the handshake and heartbeats, as the server received them.
struct Received {
  std::mutex mutex;
  std::vector<std::string> names;
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex);
    return names;
  }
};

LoopbackServer::Script recording_server(Received& received) {
  return [&received](PeerStream& s, int) {
    for (;;) {
      auto request = s.read_message();
      const auto name = testing::command_name_of(request);
      if (name == "isMaster" || name == "hello") {
        s.write(testing::reply_to(request, testing::standard_hello_reply()));
        continue;
      }
      {
        std::lock_guard lock(received.mutex);
        received.names.push_back(name);
      }
      s.write(testing::reply_to(request, bson::Document::from_json(R"({"ok": 1, "n": 0})")));
    }
  };
}

TEST(Names, BadNamesThroughTheHandlesAreRefusedBeforeSending) {
  Received received;
  LoopbackServer server(recording_server(received));
  MongoClient client("mongodb://" + server.address().to_string() +
                     "/?serverSelectionTimeoutMS=10000");
  Database app = client["app"];

  Error nul = testing::expect_error([&] { app.collection("a\0b"sv); });
  expect_invalid(nul, "'a\\x00b'", "NUL");
  expect_invalid(testing::expect_error([&] { app.create_collection("a\0b"sv); }), "'a\\x00b'",
                 "NUL");
  expect_invalid(testing::expect_error([&] { app.create_collection("x$y"); }), "'x$y'", "'$'");
  expect_invalid(testing::expect_error([&] { client.database("a.b"); }), "'a.b'", "'.'");
  expect_invalid(testing::expect_error([&] { client["bad\xff"]; }), "'bad\\xff'", "UTF-8");
  expect_invalid(testing::expect_error([&] { Collection(nullptr, "", "c"); }), "database name",
                 "empty");

  // A good name goes out, so the server does record what it is sent.
  app["ok"].insert_one(bson::Document::from_json(R"({"_id": 1})"));
  EXPECT_EQ(received.snapshot(), std::vector<std::string>{"insert"});
}

}  // namespace
}  // namespace mongoslice
