// Explicit sessions (driver/client_session.hpp) against the scripted replica set, whose log shows
// each command's lsid, txnNumber and readConcern (integration/mock/replica_set.py), and against
// every real server: one lsid on every command of the session (getMores included, after the
// session ended too), causal consistency's afterClusterTime, a retried write inside a session,
// the server session reused from the pool, the refusals (ended, another client's, w: 0,
// transactions, a deployment without sessions), and the async engine in a session.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "client_test_support.hpp"
#include "driver/mongo_client.hpp"
#include "replica_set_mock.hpp"
#include "run_awaitable.hpp"
#include "wire/error.hpp"

namespace mongoslice {
namespace {

using integration::ReplicaSetMock;

std::string hex_of(bson::View lsid) {
  std::string out;
  char digits[3];
  for (std::uint8_t byte : lsid["id"].get_binary().bytes) {
    std::snprintf(digits, sizeof digits, "%02x", byte);
    out += digits;
  }
  return out;
}

bson::Document doc(const char* json) {
  return bson::Document::from_json(json);
}

// The log's entries for the data commands (no hellos, no endSessions).
std::vector<bson::Document> commands_of(const std::vector<bson::Document>& log) {
  std::vector<bson::Document> out;
  for (const auto& e : log) {
    const auto cmd = e.view()["cmd"].get_string();
    if (cmd == "hello" || cmd == "isMaster" || cmd == "ismaster" || cmd == "endSessions") {
      continue;
    }
    out.push_back(e);
  }
  return out;
}

std::string lsid_of(const bson::Document& entry) {
  auto id = entry.view().find("lsidId");
  return id ? std::string(id->get_string()) : "";
}

template <typename F>
void expect_invalid_argument(F&& f, std::string_view words) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::invalid_argument)) << e.what();
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(ExplicitSessions, EveryCommandOfTheSessionCarriesItsLsidAndNoOtherDoes) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["sessions"];
  ClientSession session = client.start_session();
  const std::string lsid = hex_of(session.id());
  (void)rs.log();
  c.insert_one(session, doc(R"({"_id": 1, "x": 1})"));
  c.update_one(session, doc(R"({"_id": 1})"), doc(R"({"$set": {"x": 2}})"));
  EXPECT_TRUE(c.find_one(session, doc(R"({"_id": 1})")));
  c.delete_many(session, doc(R"({"_id": 99})"));
  c.with_session(session).insert_one(doc(R"({"_id": 2})"));
  client["db"].with_session(session)["sessions"].insert_one(doc(R"({"_id": 3})"));
  const auto in_session = commands_of(rs.log());
  ASSERT_EQ(in_session.size(), 6u);
  for (const auto& e : in_session) EXPECT_EQ(lsid_of(e), lsid) << e.to_json();
  // An operation without the session gets an implicit one: another lsid.
  c.insert_one(doc(R"({"_id": 4})"));
  const auto implicit = commands_of(rs.log());
  ASSERT_EQ(implicit.size(), 1u);
  EXPECT_NE(lsid_of(implicit[0]), "");
  EXPECT_NE(lsid_of(implicit[0]), lsid);
}

TEST(ExplicitSessions, ACausallyConsistentReadWaitsForTheSessionsLastOperation) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri("&readPreference=secondary"));
  Collection c = client["db"]["causal"];
  ClientSession session = client.start_session();
  ASSERT_TRUE(session.causal_consistency());
  (void)rs.log();
  // The first operation of the session: no operationTime to wait for.
  EXPECT_FALSE(c.find_one(session, doc(R"({"_id": 1})")));
  c.insert_one(session, doc(R"({"_id": 1})"));
  const auto after_write = session.operation_time();
  ASSERT_TRUE(after_write);
  EXPECT_TRUE(c.find_one(session, doc(R"({"_id": 1})")));
  const auto log = commands_of(rs.log());
  ASSERT_EQ(log.size(), 3u);
  EXPECT_FALSE(log[0].view().find("readConcern")) << log[0].to_json();
  EXPECT_FALSE(log[1].view().find("readConcern")) << "a write carries no afterClusterTime";
  // On a secondary (the read preference): the read must not see an older state than the write.
  auto concern = log[2].view().find("readConcern");
  ASSERT_TRUE(concern) << log[2].to_json();
  EXPECT_EQ(concern->get_document()["afterClusterTime"].get_timestamp(), *after_write)
      << log[2].to_json();
  EXPECT_NE(log[2].view()["member"].as_int64(), log[1].view()["member"].as_int64())
      << "the read went to the primary: the test would not show causal consistency";
}

TEST(ExplicitSessions, ALevelGivenIsKeptBesideAfterClusterTime) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri("&readConcernLevel=majority"));
  Collection c = client["db"]["causal"];
  ClientSession session = client.start_session();
  c.insert_one(session, doc(R"({"_id": 1})"));
  (void)rs.log();
  EXPECT_TRUE(c.find_one(session, doc(R"({"_id": 1})")));
  const auto log = commands_of(rs.log());
  ASSERT_EQ(log.size(), 1u);
  bson::View concern = log[0].view()["readConcern"].get_document();
  EXPECT_EQ(concern["level"].get_string(), "majority");
  EXPECT_TRUE(concern.find("afterClusterTime")) << log[0].to_json();
}

TEST(ExplicitSessions, ACommandRunInTheSessionGetsItsLsidButNoReadConcern) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["causal"];
  ClientSession session = client.start_session();
  c.insert_one(session, doc(R"({"_id": 1})"));  // the session has an operationTime now
  (void)rs.log();
  client["db"].run_command(session, doc(R"({"ping": 1})"));
  const auto log = commands_of(rs.log());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(lsid_of(log[0]), hex_of(session.id()));
  EXPECT_FALSE(log[0].view().find("readConcern")) << "ping takes no read concern";
}

TEST(ExplicitSessions, WithoutCausalConsistencyNoAfterClusterTime) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["causal"];
  ClientSession session = client.start_session({.causal_consistency = false});
  c.insert_one(session, doc(R"({"_id": 1})"));
  (void)rs.log();
  EXPECT_TRUE(c.find_one(session, doc(R"({"_id": 1})")));
  const auto log = commands_of(rs.log());
  ASSERT_EQ(log.size(), 1u);
  EXPECT_FALSE(log[0].view().find("readConcern")) << log[0].to_json();
}

TEST(ExplicitSessions, ACursorKeepsTheSessionsLsidAfterTheSessionEnded) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["cursor"];
  for (int i = 0; i < 7; ++i) c.insert_one(bson::Builder{}.append("_id", i).build());
  std::optional<ClientSession> session = client.start_session();
  const std::string lsid = hex_of(session->id());
  (void)rs.log();
  Cursor cursor = c.find(*session, doc("{}"), {.batch_size = 2});
  session.reset();  // ends it: the cursor still holds its server session
  // An implicit operation now must not get that server session from the pool: the cursor's
  // getMores still use its lsid.
  c.insert_one(doc(R"({"_id": 100})"));
  int seen = 0;
  for (bson::View d : cursor) {
    (void)d;
    ++seen;
  }
  EXPECT_EQ(seen, 7);
  const auto log = commands_of(rs.log());
  int get_mores = 0;
  for (const auto& e : log) {
    if (e.view()["cmd"].get_string() == "insert") {
      EXPECT_NE(lsid_of(e), lsid) << "the implicit insert got the session's server session";
      continue;
    }
    EXPECT_EQ(lsid_of(e), lsid) << e.to_json();
    if (e.view()["cmd"].get_string() == "getMore") ++get_mores;
  }
  EXPECT_EQ(get_mores, 3);
  // Once the cursor is done, the server session goes back to the pool: the next implicit
  // operation takes it (the pool hands out its most recently used session).
  c.insert_one(doc(R"({"_id": 101})"));
  const auto after = commands_of(rs.log());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(lsid_of(after[0]), lsid);
}

TEST(ExplicitSessions, AnEndedSessionsServerSessionIsReused) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["reuse"];
  std::string first;
  {
    ClientSession session = client.start_session();
    c.insert_one(session, doc(R"({"_id": 1})"));
    first = hex_of(session.id());
  }
  ClientSession next = client.start_session();
  c.insert_one(next, doc(R"({"_id": 2})"));
  EXPECT_EQ(hex_of(next.id()), first) << "the pool hands out its most recently used session";
}

TEST(ExplicitSessions, AWriteRetriedInTheSessionKeepsItsLsidAndTxnNumber) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  Collection c = client["db"]["retry"];
  ClientSession session = client.start_session();
  c.insert_one(session, doc(R"({"_id": 0})"));
  (void)rs.log();
  rs.control("fail insert 1 network");  // applied, its reply lost
  c.insert_one(session, doc(R"({"_id": 1})"));
  const auto log = commands_of(rs.log());
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].view()["outcome"].get_string(), "network");
  EXPECT_EQ(log[1].view()["outcome"].get_string(), "retried");
  EXPECT_EQ(lsid_of(log[0]), hex_of(session.id()));
  EXPECT_EQ(lsid_of(log[1]), hex_of(session.id()));
  EXPECT_EQ(log[0].view()["txnNumber"].as_int64(), log[1].view()["txnNumber"].as_int64());
  EXPECT_TRUE(c.find_one(session, doc(R"({"_id": 1})")));
}

TEST(ExplicitSessions, RefusalsSendNothing) {
  ReplicaSetMock rs;
  MongoClient client(rs.uri());
  MongoClient other(rs.uri());
  Collection c = client["db"]["refused"];
  ClientSession session = client.start_session();
  ClientSession others = other.start_session();
  (void)rs.log();
  expect_invalid_argument(
      [&] {
        c.with_options({.write_concern = WriteConcern{.w = 0}})
            .insert_one(session, doc(R"({"x": 1})"));
      },
      "unacknowledged");
  expect_invalid_argument([&] { c.insert_one(others, doc(R"({"x": 1})")); }, "another MongoClient");
  expect_invalid_argument([&] { session.start_transaction(); }, "transactions");
  session.end_session();
  EXPECT_TRUE(session.has_ended());
  expect_invalid_argument([&] { c.insert_one(session, doc(R"({"x": 1})")); }, "ended");
  expect_invalid_argument([&] { (void)session.id(); }, "ended");
  EXPECT_TRUE(commands_of(rs.log()).empty());
}

TEST(ExplicitSessions, TheAsyncEngineRunsInTheSessionToo) {
  ReplicaSetMock rs;
  boost::asio::io_context io;
  MongoClient client(rs.uri());
  Collection c = client["db"]["async"];
  ClientSession session = client.start_session();
  const std::string lsid = hex_of(session.id());
  (void)rs.log();
  Collection bound = c.with_session(session);
  auto found = testing::run(io, [&]() -> boost::asio::awaitable<std::optional<bson::Document>> {
    co_await bound.async_insert_one(doc(R"({"_id": 1})"), boost::asio::use_awaitable);
    co_return co_await bound.async_find_one(doc(R"({"_id": 1})"), boost::asio::use_awaitable);
  }());
  EXPECT_TRUE(found);
  const auto log = commands_of(rs.log());
  ASSERT_EQ(log.size(), 2u);
  for (const auto& e : log) EXPECT_EQ(lsid_of(e), lsid) << e.to_json();
  EXPECT_TRUE(log[1].view().find("readConcern")) << "causal consistency in the async engine";
}

// ---- real servers ------------------------------------------------------------------------

class ExplicitSessionsReal : public ::testing::TestWithParam<testing::RealServer> {};

TEST_P(ExplicitSessionsReal, RunOrAreRefusedAsTheServerSupportsSessions) {
  MongoClient client(GetParam().uri());
  const bson::Document hello =
      client["admin"].run_command(doc(R"({"isMaster": 1})"));  // mongo-java-server lacks hello
  const bool supports = hello.view().contains("logicalSessionTimeoutMinutes");
  Collection c = client["db"]["explicit_sessions"];
  c.drop();
  ClientSession session = client.start_session();
  if (!supports) {  // mongo-java-server: no sessions
    expect_invalid_argument([&] { c.insert_one(session, doc(R"({"_id": 1})")); },
                            "does not support sessions");
    return;
  }
  c.insert_one(session, doc(R"({"_id": 1})"));
  c.update_one(session, doc(R"({"_id": 1})"), doc(R"({"$set": {"x": 1}})"));
  auto found = c.find_one(session, doc(R"({"_id": 1})"));
  ASSERT_TRUE(found);
  EXPECT_EQ((*found)["x"].as_int64(), 1);
  EXPECT_EQ(c.count_documents(session, doc("{}")), 1);
  c.drop();
}

INSTANTIATE_TEST_SUITE_P(, ExplicitSessionsReal, ::testing::ValuesIn(testing::real_servers()),
                         testing::server_name);

}  // namespace
}  // namespace mongoslice
