#include "ops/find_and_modify.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "support/ops_expectations.hpp"
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

using bson::Document;
using testing::error_code_of;
using testing::json;
TEST(FindAndModify, DeleteIsRemoveTrue) {
  auto query = json(R"({"x": 1})");
  FindAndModifyCommand command;
  command.query = query.view();
  EXPECT_EQ(make_find_and_modify("db", "c", command),
            json(R"({"findAndModify": "c", "query": {"x": 1}, "remove": true, "$db": "db"})"));
}

TEST(FindAndModify, UpdateWithEveryOption) {
  auto query = json(R"({"x": 1})");
  auto update = json(R"({"$inc": {"x": 1}})");
  auto fields = json(R"({"_id": 0})");
  auto sort = json(R"({"x": -1})");
  auto filter = json(R"({"e.k": 1})");
  auto collation = json(R"({"locale": "en"})");
  auto let = json(R"({"v": 1})");
  std::vector<bson::View> array_filters = {filter.view()};
  FindAndModifyCommand command;
  command.kind = FindAndModifyKind::kUpdate;
  command.query = query.view();
  command.update = update.view();
  command.return_new = true;
  command.fields = fields.view();
  command.sort = sort.view();
  command.upsert = true;
  command.array_filters = array_filters;
  command.bypass_document_validation = true;
  command.collation = collation.view();
  command.hint = std::string_view("x_1");
  command.let = let.view();
  command.comment = let.view();
  command.max_time_ms = 100;
  command.write_concern.w = std::int32_t{1};
  command.write_concern.journal = true;
  EXPECT_EQ(make_find_and_modify("db", "c", command),
            json(R"({"findAndModify": "c", "query": {"x": 1}, "update": {"$inc": {"x": 1}},
                     "new": true, "fields": {"_id": 0}, "sort": {"x": -1}, "upsert": true,
                     "arrayFilters": [{"e.k": 1}], "bypassDocumentValidation": true,
                     "collation": {"locale": "en"}, "hint": "x_1", "let": {"v": 1},
                     "comment": {"v": 1}, "maxTimeMS": {"$numberLong": "100"},
                     "writeConcern": {"w": 1, "j": true}, "$db": "db"})"))
      << make_find_and_modify("db", "c", command).to_json();
}

TEST(FindAndModify, APipelineUpdateIsSentAsAnArray) {
  auto query = json("{}");
  auto pipeline = json(R"([{"$set": {"y": "$x"}}])");
  FindAndModifyCommand command;
  command.kind = FindAndModifyKind::kUpdate;
  command.query = query.view();
  command.update = pipeline.view();
  Document body = make_find_and_modify("db", "c", command);
  EXPECT_EQ(body["update"].type(), bson::Type::kArray);
  EXPECT_EQ(body, json(R"({"findAndModify": "c", "query": {}, "update": [{"$set": {"y": "$x"}}],
                           "$db": "db"})"));
}

TEST(FindAndModify, ReplaceSendsTheReplacement) {
  auto query = json(R"({"_id": 1})");
  auto replacement = json(R"({"x": 9})");
  FindAndModifyCommand command;
  command.kind = FindAndModifyKind::kReplace;
  command.query = query.view();
  command.update = replacement.view();
  command.hint = query.view();
  EXPECT_EQ(make_find_and_modify("db", "c", command),
            json(R"({"findAndModify": "c", "query": {"_id": 1}, "update": {"x": 9},
                     "hint": {"_id": 1}, "$db": "db"})"));
}

TEST(FindAndModify, RefusesBadInputBeforeBuilding) {
  auto empty = json("{}");
  auto update = json(R"({"$set": {"x": 1}})");
  auto replacement = json(R"({"x": 1})");
  auto filter = json(R"({"e": 1})");
  const bson::View filters[] = {filter.view()};
  std::vector<std::function<void(FindAndModifyCommand&)>> bad = {
      // An update without operators, a replacement with them, an empty pipeline stage.
      [&](auto& c) { c.kind = FindAndModifyKind::kUpdate, c.update = replacement.view(); },
      [&](auto& c) { c.kind = FindAndModifyKind::kUpdate, c.update = empty.view(); },
      [&](auto& c) { c.kind = FindAndModifyKind::kReplace, c.update = update.view(); },
      [&](auto& c) {
        static const Document stages = json(R"([{"$set": {"x": 1}}, {}])");
        c.kind = FindAndModifyKind::kUpdate, c.update = stages.view();
      },
      // What a delete cannot take.
      [&](auto& c) { c.return_new = true; },
      [&](auto& c) { c.upsert = true; },
      [&](auto& c) { c.array_filters = filters; },
      [&](auto& c) { c.bypass_document_validation = false; },
      // A replacement takes no array filters.
      [&](auto& c) {
        c.kind = FindAndModifyKind::kReplace, c.update = replacement.view(),
        c.array_filters = filters;
      },
      [&](auto& c) { c.max_time_ms = -1; },
      [&](auto& c) { c.write_concern.w = std::int32_t{-1}; },
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    FindAndModifyCommand command;
    command.query = empty.view();
    bad[i](command);
    EXPECT_EQ(error_code_of([&] { make_find_and_modify("db", "c", command); }),
              errc::invalid_argument)
        << "case " << i;
  }
  // w: 0 without a hint is fine.
  FindAndModifyCommand unacknowledged;
  unacknowledged.query = empty.view();
  unacknowledged.write_concern.w = std::int32_t{0};
  EXPECT_NO_THROW(make_find_and_modify("db", "c", unacknowledged));
}

TEST(FindAndModifyReplyParser, ValueOrNull) {
  auto found = parse_find_and_modify_reply(json(R"({"lastErrorObject": {"n": 1,
      "updatedExisting": true}, "value": {"_id": 1, "x": 2}, "ok": 1})"));
  ASSERT_TRUE(found.value);
  EXPECT_EQ(*found.value, json(R"({"_id": 1, "x": 2})"));
  EXPECT_FALSE(found.write_concern_error);

  auto none =
      parse_find_and_modify_reply(json(R"({"lastErrorObject": {"n": 0}, "value": null, "ok": 1})"));
  EXPECT_FALSE(none.value);
}

TEST(FindAndModifyReplyParser, WriteConcernErrorIsData) {
  auto reply = parse_find_and_modify_reply(json(R"({"value": {"_id": 1}, "writeConcernError":
      {"code": 64, "errmsg": "waiting for replication timed out"}, "ok": 1})"));
  ASSERT_TRUE(reply.value);
  ASSERT_TRUE(reply.write_concern_error);
  EXPECT_EQ(reply.write_concern_error->code, 64);
  EXPECT_EQ(reply.write_concern_error->errmsg, "waiting for replication timed out");
}

TEST(FindAndModifyReplyParser, MalformedReplies) {
  EXPECT_EQ(error_code_of([] { parse_find_and_modify_reply(json(R"({"ok": 1})")); }),
            errc::bson_key_missing);
  for (const char* bad : {
           R"({"value": 3, "ok": 1})",
           R"({"value": [{"_id": 1}], "ok": 1})",
           R"({"value": "doc", "ok": 1})",
           R"({"value": null, "lastErrorObject": 1, "ok": 1})",
           R"({"value": null, "writeConcernError": "timeout", "ok": 1})",
           R"({"value": null, "writeConcernError": {"code": "64"}, "ok": 1})",
       }) {
    EXPECT_EQ(error_code_of([&] { parse_find_and_modify_reply(json(bad)); }),
              errc::bson_type_mismatch)
        << bad;
  }
  EXPECT_THROW(parse_find_and_modify_reply(json(R"({"ok": 0, "errmsg": "no", "code": 2})")),
               ServerError);
}

TEST(FindAndModifyOperation, SendsTheCommandAndReadsTheReply) {
  static_assert(ops::Operation<FindAndModify>);
  auto query = json(R"({"_id": 1})");
  FindAndModifyCommand command;
  command.query = query.view();
  FindAndModify op("db", "c", command);
  EXPECT_EQ(op.kind(), ops::OperationKind::kWrite);
  EXPECT_TRUE(op.retryable());
  ops::Step step = op.start(ops::ServerLimits{});
  const auto* send = std::get_if<ops::Send>(&step);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->command.db, "db");
  EXPECT_EQ(send->command.body, make_find_and_modify("db", "c", command));
  EXPECT_TRUE(send->command.sequences.empty());
  step = op.on_reply(json(R"({"value": {"_id": 1}, "ok": 1})"));
  EXPECT_TRUE(std::holds_alternative<ops::Done>(step));
  FindAndModifyReply reply = std::move(op).result();
  ASSERT_TRUE(reply.value);
  EXPECT_EQ(*reply.value, json(R"({"_id": 1})"));
}

TEST(FindAndModifyOperation, AHintNeedsMongoDB42) {
  auto query = json("{}");
  FindAndModifyCommand command;
  command.query = query.view();
  command.hint = std::string_view("x_1");
  ops::ServerLimits old_server;
  old_server.max_wire_version = 7;  // MongoDB 4.0
  FindAndModify refused("db", "c", command);
  EXPECT_EQ(error_code_of([&] { refused.start(old_server); }), errc::invalid_argument);
  ops::ServerLimits server_42;
  server_42.max_wire_version = 8;
  FindAndModify sent("db", "c", command);
  EXPECT_TRUE(std::holds_alternative<ops::Send>(sent.start(server_42)));
  // Without a hint an old server is fine.
  command.hint = std::monostate{};
  FindAndModify plain("db", "c", command);
  EXPECT_TRUE(std::holds_alternative<ops::Send>(plain.start(old_server)));
}

}  // namespace
}  // namespace mongoslice::wire
