#include "ops/operation.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "support/expect_error.hpp"
#include "wire/error.hpp"

namespace mongoslice::ops {
namespace {

using bson::Document;
using testing::expect_error;

// Runs `op` the way an engine does, answering each command with the next of `replies`, and
// returns the bodies it sent.
template <typename Op>
std::vector<Document> drive(Op& op, const ServerLimits& limits, std::vector<Document> replies) {
  std::vector<Document> sent;
  Step step = op.start(limits);
  std::size_t next = 0;
  while (const auto* send = std::get_if<Send>(&step)) {
    sent.emplace_back(send->command.body);
    if (next == replies.size()) {
      ADD_FAILURE() << "the operation sent more commands than there are replies";
      break;
    }
    step = op.on_reply(std::move(replies[next++]));
  }
  EXPECT_EQ(next, replies.size()) << "replies left unread";
  return sent;
}

TEST(SingleCommand, SendsItsBodyOnceAndParsesTheReply) {
  auto op = single_command<std::int64_t>(
      OperationKind::kRead, "app", Document::from_json(R"({"count": "c", "$db": "app"})"),
      [](const Document& reply) { return reply.view()["n"].as_int64(); });
  EXPECT_EQ(op.kind(), OperationKind::kRead);
  EXPECT_FALSE(op.retryable());
  auto sent = drive(op, {}, {Document::from_json(R"({"n": 7, "ok": 1})")});
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].view()["count"].get_string(), "c");
  EXPECT_EQ(std::move(op).result(), 7);
}

TEST(SingleCommand, TheCommandNamesItsDatabase) {
  auto op = single_command<Document>(OperationKind::kWrite, "other",
                                     Document::from_json(R"({"drop": "c", "$db": "other"})"),
                                     KeepReply{}, /*retryable=*/true);
  Step step = op.start({});
  const auto* send = std::get_if<Send>(&step);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->command.db, "other");
  EXPECT_TRUE(send->command.sequences.empty());
  EXPECT_TRUE(op.retryable());
}

TEST(SingleCommand, AParserThatThrowsReachesTheEngine) {
  auto op = single_command<int>(
      OperationKind::kRead, "app", Document::from_json(R"({"ping": 1, "$db": "app"})"),
      [](const Document&) -> int { throw Error(errc::bson_key_missing, "no n in the reply"); });
  op.start({});
  auto e = expect_error([&] { op.on_reply(Document::from_json(R"({"ok": 1})")); });
  EXPECT_EQ(e.code(), errc::bson_key_missing);
}

TEST(SingleCommand, AServerTooOldForAnOptionIsRefusedBeforeSending) {
  auto op = single_command<Document>(OperationKind::kWrite, "app",
                                     Document::from_json(R"({"delete": "c", "$db": "app"})"),
                                     KeepReply{});
  op.require_wire_version(9, "a delete's hint").require_wire_version(8, "something older");
  ServerLimits old_server;
  old_server.max_wire_version = 8;
  auto e = expect_error([&] { op.start(old_server); });
  EXPECT_EQ(e.code(), errc::invalid_argument);
  EXPECT_NE(std::string(e.what()).find("a delete's hint needs a server of wire version 9"),
            std::string::npos)
      << e.what();

  ServerLimits new_server;
  new_server.max_wire_version = 9;
  EXPECT_TRUE(std::holds_alternative<Send>(op.start(new_server)));
}

}  // namespace
}  // namespace mongoslice::ops
