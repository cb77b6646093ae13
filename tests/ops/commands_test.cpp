#include "ops/commands.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/ops_expectations.hpp"
#include "wire/error.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice::wire {
namespace {

using bson::Document;
using testing::json;
TEST(Commands, Hello) {
  EXPECT_EQ(make_hello(), json(R"({"hello": 1, "helloOk": true, "$db": "admin"})"));
  auto client = json(R"({"driver": {"name": "mongoslice", "version": "0.1"}})");
  auto topology_version = json(R"({"processId": {"$oid": "0123456789abcdef01234567"},
                                   "counter": {"$numberLong": "3"}})");
  HelloOptions options;
  options.db = "test";
  options.client = client.view();
  options.topology_version = topology_version.view();
  options.max_await_time_ms = 10000;
  auto expected = bson::Builder{}
                      .append("hello", 1)
                      .append("helloOk", true)
                      .append("client", client)
                      .append("topologyVersion", topology_version)
                      .append("maxAwaitTimeMS", std::int64_t{10000})
                      .append("$db", "test")
                      .build();
  EXPECT_EQ(make_hello(options), expected) << make_hello(options).to_json();
}

TEST(Commands, PingAndDrop) {
  EXPECT_EQ(make_ping(), json(R"({"ping": 1, "$db": "admin"})"));
  EXPECT_EQ(make_drop("db", "c"), json(R"({"drop": "c", "$db": "db"})"));
}

TEST(Commands, Find) {
  EXPECT_EQ(make_find("db", "c"), json(R"({"find": "c", "$db": "db"})"));
  auto filter = json(R"({"x": {"$gt": 1}})");
  auto projection = json(R"({"_id": 0})");
  auto sort = json(R"({"x": -1})");
  FindOptions options;
  options.filter = filter.view();
  options.projection = projection.view();
  options.sort = sort.view();
  options.skip = 5;
  options.limit = 10;
  options.batch_size = 2;
  options.single_batch = true;
  EXPECT_EQ(make_find("db", "c", options),
            json(R"({"find": "c", "filter": {"x": {"$gt": 1}}, "projection": {"_id": 0},
                     "sort": {"x": -1}, "skip": {"$numberLong": "5"},
                     "limit": {"$numberLong": "10"}, "batchSize": 2, "singleBatch": true,
                     "$db": "db"})"));
}

TEST(Commands, FindWithTheCrudSpecOptions) {
  auto filter = json(R"({"x": 1})");
  auto collation = json(R"({"locale": "fr"})");
  auto let = json(R"({"v": 1})");
  auto min = json(R"({"x": 0})");
  auto max = json(R"({"x": 9})");
  FindOptions options;
  options.filter = filter.view();
  options.hint = std::string_view("x_1");
  options.comment = let.view();
  options.max_time_ms = 250;
  options.collation = collation.view();
  options.allow_disk_use = true;
  options.let = let.view();
  options.min = min.view();
  options.max = max.view();
  options.return_key = false;
  options.show_record_id = true;
  options.no_cursor_timeout = true;
  options.allow_partial_results = false;
  options.read_concern.level = "majority";
  EXPECT_EQ(make_find("db", "c", options),
            json(R"({"find": "c", "filter": {"x": 1}, "hint": "x_1", "comment": {"v": 1},
                     "maxTimeMS": {"$numberLong": "250"}, "collation": {"locale": "fr"},
                     "allowDiskUse": true, "let": {"v": 1}, "min": {"x": 0}, "max": {"x": 9},
                     "returnKey": false, "showRecordId": true, "noCursorTimeout": true,
                     "allowPartialResults": false, "readConcern": {"level": "majority"},
                     "$db": "db"})"))
      << make_find("db", "c", options).to_json();
  // A hint given as a key pattern and a string comment.
  FindOptions by_keys;
  by_keys.hint = min.view();
  by_keys.comment = std::string_view("note");
  EXPECT_EQ(make_find("db", "c", by_keys),
            json(R"({"find": "c", "hint": {"x": 0}, "comment": "note", "$db": "db"})"));
  FindOptions negative;
  negative.max_time_ms = -1;
  try {
    make_find("db", "c", negative);
    FAIL() << "a negative maxTimeMS was built";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::invalid_argument);
  }
}

TEST(Commands, GetMoreAndKillCursors) {
  EXPECT_EQ(make_get_more("db", "c", 1234567890123, 50),
            json(R"({"getMore": {"$numberLong": "1234567890123"}, "collection": "c",
                     "batchSize": 50, "$db": "db"})"));
  EXPECT_EQ(make_get_more("db", "c", 7),
            json(R"({"getMore": {"$numberLong": "7"}, "collection": "c", "$db": "db"})"));
  const std::int64_t ids[] = {1, 2, 9000000000};
  EXPECT_EQ(make_kill_cursors("db", "c", ids),
            json(R"({"killCursors": "c", "cursors": [{"$numberLong": "1"},
                     {"$numberLong": "2"}, {"$numberLong": "9000000000"}], "$db": "db"})"));
}

TEST(Commands, InsertTravelsAsADocumentSequence) {
  auto body = make_insert("db", "c", false);
  EXPECT_EQ(body, json(R"({"insert": "c", "ordered": false, "$db": "db"})"));
  auto d1 = json(R"({"_id": 1})");
  auto d2 = json(R"({"_id": 2})");
  const bson::View docs[] = {d1, d2};
  const DocumentSequence sequence{kInsertDocuments, docs};
  OpMsg decoded;
  ASSERT_FALSE(
      decode_op_msg(encode_op_msg(1, body, 0, {&sequence, 1}), 0, kDefaultMaxMessageSize, decoded));
  ASSERT_EQ(decoded.sequences().size(), 1u);
  EXPECT_EQ(decoded.sequences()[0].identifier, "documents");
  EXPECT_EQ(decoded.sequences()[0].documents[1], d2.view());
}

// ---- Reply parsers ----------------------------------------------------------------------------

TEST(CursorReplyParser, FirstAndNextBatch) {
  auto reply = json(R"({"cursor": {"id": {"$numberLong": "42"}, "ns": "db.coll.sub",
                        "firstBatch": [{"a": 1}, {"a": 2}]}, "ok": 1})");
  CursorReply cursor = parse_cursor_reply(reply);
  EXPECT_EQ(cursor.id, 42);
  EXPECT_EQ(cursor.ns, "db.coll.sub");
  EXPECT_EQ(cursor.database(), "db");
  EXPECT_EQ(cursor.collection(), "coll.sub");
  EXPECT_TRUE(cursor.first_batch);
  std::vector<int> values;
  for (auto document : cursor.batch) values.push_back(document.get_document()["a"].get_int32());
  EXPECT_EQ(values, (std::vector<int>{1, 2}));

  auto next = json(R"({"cursor": {"id": 0, "ns": "db.c", "nextBatch": []}, "ok": 1.0})");
  CursorReply last = parse_cursor_reply(next);
  EXPECT_EQ(last.id, 0);
  EXPECT_FALSE(last.first_batch);
  EXPECT_TRUE(last.batch.empty());
}

TEST(CursorReplyParser, MalformedRepliesAreCursorErrors) {
  const char* malformed[] = {
      R"({"ok": 1})",
      R"({"cursor": 5, "ok": 1})",
      R"({"cursor": {"ns": "db.c", "firstBatch": []}, "ok": 1})",
      R"({"cursor": {"id": "7", "ns": "db.c", "firstBatch": []}, "ok": 1})",
      R"({"cursor": {"id": 1.5, "ns": "db.c", "firstBatch": []}, "ok": 1})",
      R"({"cursor": {"id": 1, "firstBatch": []}, "ok": 1})",
      R"({"cursor": {"id": 1, "ns": 3, "firstBatch": []}, "ok": 1})",
      R"({"cursor": {"id": 1, "ns": "nodot", "firstBatch": []}, "ok": 1})",
      R"({"cursor": {"id": 1, "ns": "db.c"}, "ok": 1})",
      R"({"cursor": {"id": 1, "ns": "db.c", "firstBatch": {}}, "ok": 1})",
      R"({"cursor": {"id": 1, "ns": "db.c", "firstBatch": [1]}, "ok": 1})",
      R"({"cursor": {"id": 1, "ns": "db.c", "firstBatch": [], "nextBatch": []}, "ok": 1})",
  };
  for (const char* text : malformed) {
    try {
      parse_cursor_reply(json(text));
      ADD_FAILURE() << "accepted " << text;
    } catch (const ServerError& e) {
      ADD_FAILURE() << "server error for " << text << ": " << e.what();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::cursor_error) << text;
    }
  }
}

TEST(CursorReplyParser, OkZeroIsAServerError) {
  auto reply = json(R"({"ok": 0, "code": 43, "codeName": "CursorNotFound", "errmsg": "gone"})");
  try {
    parse_cursor_reply(reply);
    FAIL() << "expected a ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), server_code::kCursorNotFound);
  }
}

TEST(KillCursorsReplyParser, ListsAndMissingLists) {
  auto reply = json(R"({"cursorsKilled": [{"$numberLong": "1"}, 2], "cursorsNotFound": [3],
                        "cursorsAlive": [], "cursorsUnknown": [], "ok": 1})");
  auto parsed = parse_kill_cursors_reply(reply);
  EXPECT_EQ(parsed.killed, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(parsed.not_found, (std::vector<std::int64_t>{3}));
  EXPECT_TRUE(parsed.alive.empty());
  auto sparse = parse_kill_cursors_reply(json(R"({"cursorsKilled": [5], "ok": 1})"));
  EXPECT_EQ(sparse.killed, (std::vector<std::int64_t>{5}));
  EXPECT_TRUE(sparse.unknown.empty());
  try {
    parse_kill_cursors_reply(json(R"({"cursorsKilled": ["x"], "ok": 1})"));
    FAIL() << "expected a type mismatch";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::bson_type_mismatch);
  }
  EXPECT_THROW(parse_kill_cursors_reply(json(R"({"cursorsKilled": 1, "ok": 1})")), Error);
}

TEST(WriteReplyParser, AWriteErrorWithoutACodeIsKeptWithCodeZero) {
  // mongo-java-server's answer to a replacement with a dotted top-level key.
  auto reply = parse_write_reply(json(R"({"n": 0, "writeErrors": [
      {"index": 0, "errmsg": "Document can't have '.' in field names"}], "ok": 1})"));
  ASSERT_EQ(reply.write_errors.size(), 1u);
  EXPECT_EQ(reply.write_errors[0].code, 0);
  EXPECT_EQ(reply.write_errors[0].errmsg, "Document can't have '.' in field names");
  // A code of the wrong type is still malformed.
  EXPECT_THROW(
      parse_write_reply(json(R"({"n": 0, "writeErrors": [{"index": 0, "code": "x"}], "ok": 1})")),
      Error);
}

TEST(WriteReplyParser, CountsAndErrors) {
  auto ok = parse_write_reply(json(R"({"n": 3, "ok": 1})"));
  EXPECT_EQ(ok.n, 3);
  EXPECT_TRUE(ok.write_errors.empty());
  EXPECT_FALSE(ok.write_concern_error);

  auto partial = parse_write_reply(json(R"({"n": 1, "writeErrors": [
      {"index": 1, "code": 11000, "errmsg": "E11000 duplicate key"}],
      "writeConcernError": {"code": 64, "errmsg": "waiting for replication timed out"},
      "ok": 1})"));
  EXPECT_EQ(partial.n, 1);
  ASSERT_EQ(partial.write_errors.size(), 1u);
  EXPECT_EQ(partial.write_errors[0].index, 1);
  EXPECT_EQ(partial.write_errors[0].code, 11000);
  EXPECT_EQ(partial.write_errors[0].errmsg, "E11000 duplicate key");
  ASSERT_TRUE(partial.write_concern_error);
  EXPECT_EQ(partial.write_concern_error->code, 64);

  try {
    parse_write_reply(json(R"({"ok": 1})"));
    FAIL() << "expected a missing key";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::bson_key_missing);
  }
  EXPECT_THROW(parse_write_reply(json(R"({"n": "3", "ok": 1})")), Error);
  EXPECT_THROW(parse_write_reply(json(R"({"n": 1, "writeErrors": [{"code": 1}], "ok": 1})")),
               Error);
  EXPECT_THROW(parse_write_reply(json(R"({"ok": 0, "errmsg": "not primary", "code": 10107})")),
               ServerError);
}

}  // namespace
}  // namespace mongoslice::wire
