#include "ops/write_ops.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "support/ops_expectations.hpp"
#include "wire/error.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice::wire {
namespace {

using bson::Document;
using testing::error_code_of;
using testing::json;
// ---- Command bodies ---------------------------------------------------------------------------

TEST(UpdateCommand, BodyWithDefaultsAndWithEveryOption) {
  EXPECT_EQ(make_update("db", "c"), json(R"({"update": "c", "ordered": true, "$db": "db"})"));
  auto let = json(R"({"v": 1})");
  WriteCommandOptions options;
  options.ordered = false;
  options.let = let.view();
  options.comment = std::string_view("why");
  options.bypass_document_validation = true;
  EXPECT_EQ(make_update("db", "c", options),
            json(R"({"update": "c", "ordered": false, "let": {"v": 1}, "comment": "why",
                     "bypassDocumentValidation": true, "$db": "db"})"));
  auto comment = json(R"({"job": 7})");
  options = {};
  options.comment = comment.view();
  options.bypass_document_validation = false;
  EXPECT_EQ(make_update("db", "c", options),
            json(R"({"update": "c", "ordered": true, "comment": {"job": 7},
                     "bypassDocumentValidation": false, "$db": "db"})"));
}

TEST(DeleteCommand, BodyWithDefaultsAndWithEveryOption) {
  EXPECT_EQ(make_delete("db", "c"), json(R"({"delete": "c", "ordered": true, "$db": "db"})"));
  auto let = json(R"({"v": 1})");
  WriteCommandOptions options;
  options.ordered = false;
  options.let = let.view();
  options.comment = std::string_view("why");
  options.bypass_document_validation = true;  // not a delete option: not sent
  EXPECT_EQ(make_delete("db", "c", options),
            json(R"({"delete": "c", "ordered": false, "let": {"v": 1}, "comment": "why",
                     "$db": "db"})"));
}

// ---- Update statements ------------------------------------------------------------------------

TEST(InsertCommand, BodyWithDefaultsAndWithEveryOption) {
  EXPECT_EQ(make_insert_command("db", "c"),
            json(R"({"insert": "c", "ordered": true, "$db": "db"})"));
  const Document let = json(R"({"v": 1})");
  WriteCommandOptions options;
  options.ordered = false;
  options.let = let.view();  // insert takes no let: not sent
  options.comment = std::string_view("nightly");
  options.bypass_document_validation = true;
  options.write_concern.w = std::int32_t{2};
  options.write_concern.journal = true;
  EXPECT_EQ(make_insert_command("db", "c", options),
            json(R"({"insert": "c", "ordered": false, "comment": "nightly",
                     "bypassDocumentValidation": true, "writeConcern": {"w": 2, "j": true},
                     "$db": "db"})"));
}

TEST(WriteCommands, WriteConcernIsSentUnlessItIsTheServerDefault) {
  WriteCommandOptions options;
  options.write_concern.w = std::string("majority");
  options.write_concern.wtimeout = std::chrono::milliseconds(50);
  EXPECT_EQ(make_update("db", "c", options), json(R"({"update": "c", "ordered": true,
                     "writeConcern": {"w": "majority", "wtimeout": {"$numberLong": "50"}}, "$db": "db"})"));
  EXPECT_EQ(make_delete("db", "c", options), json(R"({"delete": "c", "ordered": true,
                     "writeConcern": {"w": "majority", "wtimeout": {"$numberLong": "50"}}, "$db": "db"})"));
  options.write_concern = {};
  EXPECT_FALSE(make_update("db", "c", options).view().contains("writeConcern"));
  // w: 0 with j: true is what the spec forbids: refused before anything is sent.
  options.write_concern.w = std::int32_t{0};
  options.write_concern.journal = true;
  EXPECT_EQ(error_code_of([&] { make_insert_command("db", "c", options); }),
            errc::invalid_argument);
  EXPECT_EQ(error_code_of([&] { make_update("db", "c", options); }), errc::invalid_argument);
  EXPECT_EQ(error_code_of([&] { make_delete("db", "c", options); }), errc::invalid_argument);
}

TEST(UpdateStatement, OperatorsWithDefaults) {
  auto q = json(R"({"x": 1})");
  auto u = json(R"({"$set": {"y": 2}})");
  UpdateStatement s{q.view(), u.view()};
  EXPECT_EQ(make_update_statement(s, UpdateKind::kUpdate),
            json(R"({"q": {"x": 1}, "u": {"$set": {"y": 2}}})"));
}

TEST(UpdateStatement, EveryOption) {
  auto q = json(R"({"x": 1})");
  auto u = json(R"({"$set": {"a.$[e]": 0}})");
  auto f1 = json(R"({"e": {"$gt": 5}})");
  auto f2 = json(R"({"g.k": 1})");
  std::vector<bson::View> filters{f1.view(), f2.view()};
  auto collation = json(R"({"locale": "fr", "strength": 2})");
  UpdateStatement s{q.view(), u.view()};
  s.upsert = true;
  s.multi = true;
  s.array_filters = filters;
  s.collation = collation.view();
  s.hint = std::string_view("x_1");
  EXPECT_EQ(make_update_statement(s, UpdateKind::kUpdate),
            json(R"({"q": {"x": 1}, "u": {"$set": {"a.$[e]": 0}}, "upsert": true, "multi": true,
                     "arrayFilters": [{"e": {"$gt": 5}}, {"g.k": 1}],
                     "collation": {"locale": "fr", "strength": 2}, "hint": "x_1"})"));
  auto key_pattern = json(R"({"x": 1, "_id": -1})");
  s = {q.view(), u.view()};
  s.hint = key_pattern.view();
  EXPECT_EQ(make_update_statement(s, UpdateKind::kUpdate),
            json(R"({"q": {"x": 1}, "u": {"$set": {"a.$[e]": 0}}, "hint": {"x": 1, "_id": -1}})"));
}

TEST(UpdateStatement, PipelineTravelsAsAnArray) {
  auto q = json("{}");
  auto pipeline = json(R"([{"$set": {"y": "$x"}}, {"$unset": "z"}])");
  UpdateStatement s{q.view(), pipeline.view()};
  auto statement = make_update_statement(s, UpdateKind::kUpdate);
  EXPECT_EQ(statement["u"].type(), bson::Type::kArray);
  EXPECT_EQ(statement["u"].get_array(), pipeline.view());
  EXPECT_TRUE(check_update(pipeline.view(), UpdateKind::kUpdate));
  EXPECT_FALSE(check_update(json(R"({"$inc": {"n": 1}})").view(), UpdateKind::kUpdate));
}

TEST(UpdateStatement, Replacement) {
  auto q = json(R"({"_id": 3})");
  auto r = json(R"({"name": "ada", "nested": {"$not_checked": 1}})");
  UpdateStatement s{q.view(), r.view()};
  s.upsert = true;
  EXPECT_EQ(make_update_statement(s, UpdateKind::kReplacement),
            json(R"({"q": {"_id": 3}, "u": {"name": "ada", "nested": {"$not_checked": 1}},
                     "upsert": true})"));
  // An empty replacement is a document with only its _id: allowed.
  auto empty = json("{}");
  s = {q.view(), empty.view()};
  EXPECT_EQ(make_update_statement(s, UpdateKind::kReplacement),
            json(R"({"q": {"_id": 3}, "u": {}})"));
}

TEST(UpdateStatement, WrongShapesAreRefusedNamingTheProblem) {
  auto q = json("{}");
  auto refuse = [&](std::string_view update, UpdateKind kind, std::string_view needle,
                    bool multi = false) {
    auto u = json(update);
    UpdateStatement s{q.view(), u.view()};
    s.multi = multi;
    std::string what;
    EXPECT_EQ(error_code_of([&] { make_update_statement(s, kind); }, &what), errc::invalid_argument)
        << update;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  };
  refuse(R"({"x": 1})", UpdateKind::kUpdate, "first key 'x'");
  refuse(R"({"x": 1, "$set": {"y": 1}})", UpdateKind::kUpdate, "first key 'x'");
  refuse("{}", UpdateKind::kUpdate, "empty");
  refuse(R"([{"$set": {"y": 1}}, {}])", UpdateKind::kUpdate, "stage 1 is empty");
  refuse(R"([{"$set": {"y": 1}}, 5])", UpdateKind::kUpdate, "stage 1 is a");
  refuse(R"([{"set": {"y": 1}}])", UpdateKind::kUpdate, "stage 0 begins with 'set'");
  refuse(R"({"$set": {"y": 1}})", UpdateKind::kReplacement, "'$set'");
  refuse(R"({"a": 1, "$inc": {"n": 1}})", UpdateKind::kReplacement, "'$inc'");
  refuse(R"({"a": 1})", UpdateKind::kReplacement, "multi", /*multi=*/true);
}

// ---- Delete statements ------------------------------------------------------------------------

TEST(DeleteStatement, LimitAndOptions) {
  auto q = json(R"({"x": 1})");
  EXPECT_EQ(make_delete_statement({q.view()}), json(R"({"q": {"x": 1}, "limit": 0})"));
  DeleteStatement s{q.view(), true};
  EXPECT_EQ(make_delete_statement(s), json(R"({"q": {"x": 1}, "limit": 1})"));
  auto collation = json(R"({"locale": "en"})");
  auto key_pattern = json(R"({"x": 1})");
  s.collation = collation.view();
  s.hint = key_pattern.view();
  EXPECT_EQ(make_delete_statement(s),
            json(R"({"q": {"x": 1}, "limit": 1, "collation": {"locale": "en"},
                     "hint": {"x": 1}})"));
  s.hint = std::string_view("x_1");
  EXPECT_EQ(make_delete_statement(s)["hint"].get_string(), "x_1");
}

TEST(WriteCommands, StatementsTravelAsDocumentSequences) {
  auto q = json(R"({"x": 1})");
  auto u = json(R"({"$set": {"y": 2}})");
  auto update = make_update_statement({q.view(), u.view()}, UpdateKind::kUpdate);
  auto del = make_delete_statement({q.view(), true});
  for (auto [body, statement, id] :
       {std::tuple{make_update("db", "c"), update.view(), kUpdateStatements},
        std::tuple{make_delete("db", "c"), del.view(), kDeleteStatements}}) {
    DocumentSequence sequence{id, {&statement, 1}};
    OpMsg decoded;
    ASSERT_FALSE(decode_op_msg(encode_op_msg(7, body, 0, {&sequence, 1}), 0, kDefaultMaxMessageSize,
                               decoded));
    EXPECT_EQ(decoded.body(), body.view());
    ASSERT_EQ(decoded.sequences().size(), 1u);
    EXPECT_EQ(decoded.sequences()[0].identifier, id);
    ASSERT_EQ(decoded.sequences()[0].documents.size(), 1u);
    EXPECT_EQ(decoded.sequences()[0].documents[0], statement);
  }
  EXPECT_EQ(kUpdateStatements, "updates");
  EXPECT_EQ(kDeleteStatements, "deletes");
}

// ---- Reply parsers ----------------------------------------------------------------------------

TEST(UpdateReplyParser, MatchedAndModified) {
  auto reply = parse_update_reply(json(R"({"n": 3, "nModified": 2, "ok": 1})"));
  EXPECT_EQ(reply.result.matched_count, 3);
  EXPECT_EQ(reply.result.modified_count, 2);
  EXPECT_EQ(reply.result.upserted_count, 0);
  EXPECT_FALSE(reply.result.upserted_id);
  EXPECT_TRUE(reply.write_errors.empty());
  EXPECT_FALSE(reply.write_concern_error);
  auto longs = parse_update_reply(
      json(R"({"n": {"$numberLong": "5"}, "nModified": {"$numberLong": "4"}, "ok": 1.0})"));
  EXPECT_EQ(longs.result.matched_count, 5);
  EXPECT_EQ(longs.result.modified_count, 4);
}

TEST(UpdateReplyParser, UpsertedIdIsTheDocumentIdAndNotAMatch) {
  auto reply = parse_update_reply(json(R"({"n": 1, "nModified": 0,
      "upserted": [{"index": 0, "_id": {"$oid": "0123456789abcdef01234567"}}], "ok": 1})"));
  EXPECT_EQ(reply.result.matched_count, 0);
  EXPECT_EQ(reply.result.modified_count, 0);
  EXPECT_EQ(reply.result.upserted_count, 1);
  ASSERT_TRUE(reply.result.upserted_id);
  EXPECT_EQ(*reply.result.upserted_id, json(R"({"_id": {"$oid": "0123456789abcdef01234567"}})"));
  auto scalar = parse_update_reply(
      json(R"({"n": 1, "nModified": 0, "upserted": [{"index": 0, "_id": "k"}], "ok": 1})"));
  EXPECT_EQ(*scalar.result.upserted_id, json(R"({"_id": "k"})"));
}

TEST(UpdateReplyParser, EveryUpsertKeepsItsStatementIndex) {
  auto reply = parse_update_reply(json(R"({"n": 3, "nModified": 1,
      "upserted": [{"index": 1, "_id": "a"}, {"index": {"$numberLong": "4"}, "_id": 7}],
      "ok": 1})"));
  EXPECT_EQ(reply.result.upserted_count, 2);
  EXPECT_EQ(reply.result.matched_count, 1);
  ASSERT_EQ(reply.upserted.size(), 2u);
  EXPECT_EQ(reply.upserted[0].index, 1);
  EXPECT_EQ(reply.upserted[0].id, json(R"({"_id": "a"})"));
  EXPECT_EQ(reply.upserted[1].index, 4);
  EXPECT_EQ(reply.upserted[1].id, json(R"({"_id": 7})"));
  EXPECT_EQ(*reply.result.upserted_id, json(R"({"_id": "a"})"));
  std::string what;
  EXPECT_EQ(error_code_of(
                [] {
                  parse_update_reply(json(R"({"n": 1, "nModified": 0,
                             "upserted": [{"index": -1, "_id": 1}], "ok": 1})"));
                },
                &what),
            errc::bson_type_mismatch);
  EXPECT_NE(what.find("-1"), std::string::npos) << what;
}

TEST(UpdateReplyParser, WriteErrorsAndWriteConcernErrorAreData) {
  auto reply = parse_update_reply(json(R"({"n": 0, "nModified": 0,
      "writeErrors": [{"index": 0, "code": 66, "errmsg": "immutable _id"}],
      "writeConcernError": {"code": 64, "errmsg": "waiting timed out"}, "ok": 1})"));
  ASSERT_EQ(reply.write_errors.size(), 1u);
  EXPECT_EQ(reply.write_errors[0].index, 0);
  EXPECT_EQ(reply.write_errors[0].code, 66);
  EXPECT_EQ(reply.write_errors[0].errmsg, "immutable _id");
  ASSERT_TRUE(reply.write_concern_error);
  EXPECT_EQ(reply.write_concern_error->code, 64);
  EXPECT_EQ(reply.write_concern_error->errmsg, "waiting timed out");
}

TEST(UpdateReplyParser, CountsBesideWriteErrorsMayBeMissing) {
  // FerretDB's reply to an update that would change _id.
  auto reply = parse_update_reply(json(R"({"ok": 1,
      "writeErrors": [{"index": 0, "code": 66, "errmsg": "immutable _id"}]})"));
  EXPECT_EQ(reply.result.matched_count, 0);
  EXPECT_EQ(reply.result.modified_count, 0);
  ASSERT_EQ(reply.write_errors.size(), 1u);
  EXPECT_EQ(reply.write_errors[0].code, 66);
  // Present, they must still be integers.
  EXPECT_THROW(parse_update_reply(json(R"({"ok": 1, "n": 0, "nModified": "0",
      "writeErrors": [{"index": 0, "code": 66}]})")),
               Error);
  auto deleted = parse_delete_reply(json(R"({"ok": 1,
      "writeErrors": [{"index": 0, "code": 2, "errmsg": "bad hint"}]})"));
  EXPECT_EQ(deleted.result.deleted_count, 0);
  EXPECT_EQ(deleted.write_errors.size(), 1u);
}

TEST(UpdateReplyParser, MalformedReplies) {
  auto parse = [](std::string_view text) { return [text] { parse_update_reply(json(text)); }; };
  EXPECT_EQ(error_code_of(parse(R"({"nModified": 0, "ok": 1})")), errc::bson_key_missing);
  EXPECT_EQ(error_code_of(parse(R"({"n": 1, "ok": 1})")), errc::bson_key_missing);
  EXPECT_EQ(error_code_of(parse(R"({"n": "1", "nModified": 0, "ok": 1})")),
            errc::bson_type_mismatch);
  EXPECT_EQ(error_code_of(parse(R"({"n": 1, "nModified": 1.5, "ok": 1})")),
            errc::bson_type_mismatch);
  EXPECT_EQ(error_code_of(parse(R"({"n": 1, "nModified": 0, "upserted": {"index": 0}, "ok": 1})")),
            errc::bson_type_mismatch);
  EXPECT_EQ(error_code_of(parse(R"({"n": 1, "nModified": 0, "upserted": [7], "ok": 1})")),
            errc::bson_type_mismatch);
  EXPECT_EQ(
      error_code_of(parse(R"({"n": 1, "nModified": 0, "upserted": [{"index": 0}], "ok": 1})")),
      errc::bson_key_missing);
  EXPECT_EQ(error_code_of(parse(
                R"({"n": 1, "nModified": 0, "upserted": [{"index": "0", "_id": 1}], "ok": 1})")),
            errc::bson_type_mismatch);
  EXPECT_EQ(error_code_of(parse(R"({"n": 0, "nModified": 0, "upserted": [{"index": 0, "_id": 1}],
                              "ok": 1})")),
            errc::bson_type_mismatch);
  EXPECT_EQ(
      error_code_of(parse(R"({"n": 0, "nModified": 0, "writeErrors": [{"code": 2}], "ok": 1})")),
      errc::bson_key_missing);
  EXPECT_EQ(error_code_of(parse(R"({"n": 0, "nModified": 0, "writeErrors": 1, "ok": 1})")),
            errc::bson_type_mismatch);
  EXPECT_THROW(parse_update_reply(json(R"({"ok": 0, "errmsg": "not primary", "code": 10107})")),
               ServerError);
}

TEST(DeleteReplyParser, CountsErrorsAndMalformedReplies) {
  auto reply = parse_delete_reply(json(R"({"n": 4, "ok": 1})"));
  EXPECT_EQ(reply.result.deleted_count, 4);
  EXPECT_TRUE(reply.write_errors.empty());
  auto failed = parse_delete_reply(json(R"({"n": 0,
      "writeErrors": [{"index": 0, "code": 2, "errmsg": "bad hint"}],
      "writeConcernError": {"code": 100, "errmsg": "unsatisfiable"}, "ok": 1})"));
  EXPECT_EQ(failed.result.deleted_count, 0);
  ASSERT_EQ(failed.write_errors.size(), 1u);
  EXPECT_EQ(failed.write_errors[0].code, 2);
  EXPECT_EQ(failed.write_errors[0].errmsg, "bad hint");
  ASSERT_TRUE(failed.write_concern_error);
  EXPECT_EQ(failed.write_concern_error->code, 100);
  auto parse = [](std::string_view text) { return [text] { parse_delete_reply(json(text)); }; };
  EXPECT_EQ(error_code_of(parse(R"({"ok": 1})")), errc::bson_key_missing);
  EXPECT_EQ(error_code_of(parse(R"({"n": true, "ok": 1})")), errc::bson_type_mismatch);
  EXPECT_EQ(
      error_code_of(parse(R"({"n": 0, "writeErrors": [{"index": 0, "code": "x"}], "ok": 1})")),
      errc::bson_type_mismatch);
  EXPECT_THROW(parse_delete_reply(json(R"({"ok": 0, "errmsg": "unauthorized", "code": 13})")),
               ServerError);
}

}  // namespace
}  // namespace mongoslice::wire
