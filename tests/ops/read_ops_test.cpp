#include "ops/read_ops.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/ops_expectations.hpp"
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

using bson::Document;
using testing::error_code_of;
using testing::json;
// ---- Pipelines ---------------------------------------------------------------------------------

TEST(Pipeline, CheckAcceptsStagesAndRefusesWhatIsNotOne) {
  EXPECT_NO_THROW(check_pipeline(json("[]")));
  EXPECT_NO_THROW(check_pipeline(json(R"([{"$match": {"x": 1}}, {"$sort": {"x": 1}}])")));
  for (const char* bad : {
           R"({"$match": {}})",                 // a document, not an array
           R"([{}])",                           // an empty stage
           R"([{"$match": {}}, 3])",            // a stage that is no document
           R"([{"match": {}}])",                // no '$'
           R"([{"$match": {}, "$sort": {}}])",  // two fields in one stage
       }) {
    EXPECT_EQ(error_code_of([&] { check_pipeline(json(bad)); }), errc::invalid_argument) << bad;
  }
}

TEST(Pipeline, WriteStagesAreOutAndMergeLast) {
  EXPECT_FALSE(is_write_pipeline(json("[]")));
  EXPECT_FALSE(is_write_pipeline(json(R"([{"$match": {}}])")));
  EXPECT_TRUE(is_write_pipeline(json(R"([{"$match": {}}, {"$out": "other"}])")));
  EXPECT_TRUE(is_write_pipeline(json(R"([{"$merge": {"into": "other"}}])")));
  // Only the last stage decides.
  EXPECT_FALSE(is_write_pipeline(json(R"([{"$out": "other"}, {"$match": {}}])")));
}

TEST(Pipeline, FromDocumentsIsAnArray) {
  std::vector<Document> stages = {json(R"({"$match": {"x": 1}})"), json(R"({"$limit": 2})")};
  Document pipeline = pipeline_of(stages);
  EXPECT_EQ(pipeline, json(R"([{"$match": {"x": 1}}, {"$limit": 2}])"));
  EXPECT_NO_THROW(check_pipeline(pipeline));
  EXPECT_EQ(pipeline_of({}), json("{}"));
}

// ---- aggregate ---------------------------------------------------------------------------------

TEST(Aggregate, Minimal) {
  auto pipeline = json(R"([{"$match": {"x": 1}}])");
  AggregateCommand command;
  command.pipeline = pipeline.view();
  EXPECT_EQ(make_aggregate("db", "c", command),
            json(R"({"aggregate": "c", "pipeline": [{"$match": {"x": 1}}], "cursor": {},
                     "$db": "db"})"));
  EXPECT_EQ(make_database_aggregate("db", command),
            json(R"({"aggregate": 1, "pipeline": [{"$match": {"x": 1}}], "cursor": {},
                     "$db": "db"})"));
}

TEST(Aggregate, EveryOptionOfARead) {
  auto pipeline = json(R"([{"$match": {"x": 1}}])");
  auto collation = json(R"({"locale": "en"})");
  auto let = json(R"({"v": 2})");
  AggregateCommand command;
  command.pipeline = pipeline.view();
  command.allow_disk_use = true;
  command.batch_size = 2;
  command.bypass_document_validation = false;
  command.collation = collation.view();
  command.max_time_ms = 500;
  command.hint = std::string_view("x_1");
  command.let = let.view();
  command.comment = std::string_view("agg");
  command.read_concern.level = "majority";
  command.write_concern.w = std::int32_t{2};  // a read pipeline carries no write concern
  EXPECT_EQ(make_aggregate("db", "c", command),
            json(R"({"aggregate": "c", "pipeline": [{"$match": {"x": 1}}],
                     "cursor": {"batchSize": 2}, "allowDiskUse": true,
                     "bypassDocumentValidation": false, "collation": {"locale": "en"},
                     "maxTimeMS": {"$numberLong": "500"}, "hint": "x_1", "let": {"v": 2},
                     "comment": "agg", "readConcern": {"level": "majority"}, "$db": "db"})"))
      << make_aggregate("db", "c", command).to_json();
}

TEST(Aggregate, AWritePipelineCarriesTheWriteConcernAndNoBatchSize) {
  auto pipeline = json(R"([{"$match": {}}, {"$out": "other"}])");
  auto hint = json(R"({"x": 1})");
  AggregateCommand command;
  command.pipeline = pipeline.view();
  command.batch_size = 2;
  command.hint = hint.view();
  command.comment = hint.view();
  command.read_concern.level = "majority";
  command.write_concern.w = std::string("majority");
  EXPECT_EQ(make_aggregate("db", "c", command),
            json(R"({"aggregate": "c", "pipeline": [{"$match": {}}, {"$out": "other"}],
                     "cursor": {}, "hint": {"x": 1}, "comment": {"x": 1},
                     "writeConcern": {"w": "majority"}, "$db": "db"})"))
      << make_aggregate("db", "c", command).to_json();
}

TEST(Aggregate, RefusesBadInputBeforeBuilding) {
  auto bad_pipeline = json(R"([{"$match": {}}, {}])");
  auto pipeline = json("[]");
  AggregateCommand command;
  command.pipeline = bad_pipeline.view();
  EXPECT_EQ(error_code_of([&] { make_aggregate("db", "c", command); }), errc::invalid_argument);
  EXPECT_EQ(error_code_of([&] { make_database_aggregate("db", command); }), errc::invalid_argument);
  command.pipeline = pipeline.view();
  command.batch_size = -1;
  EXPECT_EQ(error_code_of([&] { make_aggregate("db", "c", command); }), errc::invalid_argument);
  command.batch_size.reset();
  command.max_time_ms = -5;
  EXPECT_EQ(error_code_of([&] { make_aggregate("db", "c", command); }), errc::invalid_argument);
}

TEST(AggregateOperation, AReadIsRetryableAndCarriesTheReadConcernOnEveryServer) {
  static_assert(ops::Operation<Aggregate>);
  auto pipeline = json(R"([{"$match": {}}])");
  AggregateCommand command;
  command.pipeline = pipeline.view();
  command.read_concern.level = "majority";
  Aggregate op("db", "c", command);
  EXPECT_EQ(op.kind(), ops::OperationKind::kRead);
  EXPECT_TRUE(op.retryable());
  ops::ServerLimits old_server;
  old_server.max_wire_version = 6;
  ops::Step step = op.start(old_server);
  const auto* send = std::get_if<ops::Send>(&step);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->command.db, "db");
  EXPECT_EQ(send->command.body, make_aggregate("db", "c", command));
  auto reply = json(R"({"cursor": {"id": 0, "ns": "db.c", "firstBatch": []}, "ok": 1})");
  EXPECT_TRUE(std::holds_alternative<ops::Done>(op.on_reply(reply)));
  EXPECT_EQ(std::move(op).result(), reply);
  // The database-level one.
  Aggregate database("db", std::nullopt, command);
  step = database.start(old_server);
  EXPECT_EQ(std::get<ops::Send>(step).command.body, make_database_aggregate("db", command));
}

TEST(AggregateOperation, AWriteCarriesTheReadConcernFromMongoDB42On) {
  auto pipeline = json(R"([{"$match": {}}, {"$merge": {"into": "other"}}])");
  AggregateCommand command;
  command.pipeline = pipeline.view();
  command.read_concern.level = "majority";
  command.write_concern.w = std::int32_t{1};
  ops::ServerLimits server_40;
  server_40.max_wire_version = 7;
  ops::ServerLimits server_42;
  server_42.max_wire_version = 8;

  Aggregate old_server("db", "c", command);
  EXPECT_EQ(old_server.kind(), ops::OperationKind::kWrite);
  EXPECT_FALSE(old_server.retryable());
  ops::Step step = old_server.start(server_40);
  EXPECT_EQ(std::get<ops::Send>(step).command.body,
            json(R"({"aggregate": "c", "pipeline": [{"$match": {}}, {"$merge": {"into": "other"}}],
                     "cursor": {}, "writeConcern": {"w": 1}, "$db": "db"})"));

  Aggregate new_server("db", "c", command);
  step = new_server.start(server_42);
  EXPECT_EQ(std::get<ops::Send>(step).command.body,
            json(R"({"aggregate": "c", "pipeline": [{"$match": {}}, {"$merge": {"into": "other"}}],
                     "cursor": {}, "writeConcern": {"w": 1}, "readConcern": {"level": "majority"},
                     "$db": "db"})"))
      << std::get<ops::Send>(step).command.body.to_json();

  // The server's default read concern is not sent at all.
  command.read_concern = ReadConcern{};
  Aggregate no_concern("db", "c", command);
  step = no_concern.start(server_42);
  EXPECT_FALSE(std::get<ops::Send>(step).command.body.contains("readConcern"));
}

// ---- distinct ----------------------------------------------------------------------------------

TEST(Distinct, CommandShape) {
  DistinctCommand minimal;
  minimal.key = "a.b";
  EXPECT_EQ(make_distinct("db", "c", minimal),
            json(R"({"distinct": "c", "key": "a.b", "$db": "db"})"));
  auto query = json(R"({"x": {"$gt": 1}})");
  auto collation = json(R"({"locale": "fr", "strength": 1})");
  DistinctCommand full;
  full.key = "x";
  full.query = query.view();
  full.collation = collation.view();
  full.max_time_ms = 10;
  full.hint = collation.view();
  full.comment = std::string_view("d");
  full.read_concern.level = "local";
  EXPECT_EQ(make_distinct("db", "c", full),
            json(R"({"distinct": "c", "key": "x", "query": {"x": {"$gt": 1}},
                     "collation": {"locale": "fr", "strength": 1},
                     "maxTimeMS": {"$numberLong": "10"},
                     "hint": {"locale": "fr", "strength": 1}, "comment": "d",
                     "readConcern": {"level": "local"}, "$db": "db"})"));
}

TEST(Distinct, RefusesAnEmptyOrNulKeyAndANegativeMaxTime) {
  DistinctCommand command;
  EXPECT_EQ(error_code_of([&] { make_distinct("db", "c", command); }), errc::invalid_argument);
  command.key = std::string_view("a\0b", 3);
  EXPECT_EQ(error_code_of([&] { make_distinct("db", "c", command); }), errc::invalid_argument);
  command.key = "a";
  command.max_time_ms = -1;
  EXPECT_EQ(error_code_of([&] { make_distinct("db", "c", command); }), errc::invalid_argument);
}

TEST(DistinctReplyParser, ValuesAndMalformedReplies) {
  EXPECT_EQ(parse_distinct_reply(json(R"({"values": [1, "two", {"three": 3}], "ok": 1})")),
            json(R"({"0": 1, "1": "two", "2": {"three": 3}})"));
  EXPECT_EQ(parse_distinct_reply(json(R"({"values": [], "ok": 1})")), json("{}"));
  EXPECT_EQ(error_code_of([] { parse_distinct_reply(json(R"({"ok": 1})")); }),
            errc::bson_key_missing);
  EXPECT_EQ(error_code_of([] { parse_distinct_reply(json(R"({"values": {"0": 1}, "ok": 1})")); }),
            errc::bson_type_mismatch);
  EXPECT_EQ(error_code_of([] { parse_distinct_reply(json(R"({"values": 1, "ok": 1})")); }),
            errc::bson_type_mismatch);
  EXPECT_THROW(parse_distinct_reply(json(R"({"ok": 0, "errmsg": "no", "code": 2})")), ServerError);
}

// ---- count -------------------------------------------------------------------------------------

TEST(Count, CommandShape) {
  EXPECT_EQ(make_count("db", "c"), json(R"({"count": "c", "$db": "db"})"));
  auto query = json(R"({"x": 1})");
  CountCommand command;
  command.query = query.view();
  command.skip = 1;
  command.limit = 2;
  command.collation = query.view();
  command.max_time_ms = 3;
  command.hint = std::string_view("x_1");
  command.comment = query.view();
  command.read_concern.level = "available";
  EXPECT_EQ(make_count("db", "c", command),
            json(R"({"count": "c", "query": {"x": 1}, "skip": {"$numberLong": "1"},
                     "limit": {"$numberLong": "2"}, "collation": {"x": 1},
                     "maxTimeMS": {"$numberLong": "3"}, "hint": "x_1", "comment": {"x": 1},
                     "readConcern": {"level": "available"}, "$db": "db"})"));
  for (auto set : {+[](CountCommand& c) { c.skip = -1; }, +[](CountCommand& c) { c.limit = -1; },
                   +[](CountCommand& c) { c.max_time_ms = -1; }}) {
    CountCommand bad;
    set(bad);
    EXPECT_EQ(error_code_of([&] { make_count("db", "c", bad); }), errc::invalid_argument);
  }
}

TEST(CountReplyParser, NIsANumber) {
  EXPECT_EQ(parse_count_reply(json(R"({"n": 12, "ok": 1})")), 12);
  EXPECT_EQ(parse_count_reply(json(R"({"n": {"$numberLong": "5000000000"}, "ok": 1})")),
            5000000000);
  EXPECT_EQ(parse_count_reply(json(R"({"n": 12.0, "ok": 1})")), 12);
  EXPECT_EQ(error_code_of([] { parse_count_reply(json(R"({"ok": 1})")); }), errc::bson_key_missing);
  EXPECT_EQ(error_code_of([] { parse_count_reply(json(R"({"n": "12", "ok": 1})")); }),
            errc::bson_type_mismatch);
  EXPECT_THROW(parse_count_reply(json(R"({"ok": 0, "errmsg": "ns missing", "code": 26})")),
               ServerError);
}

TEST(CountAggregate, ThePipelineOfTheCrudSpec) {
  auto filter = json(R"({"x": 1})");
  CountAggregateCommand minimal;
  minimal.filter = filter.view();
  EXPECT_EQ(make_count_aggregate("db", "c", minimal),
            json(R"({"aggregate": "c", "pipeline": [{"$match": {"x": 1}},
                     {"$group": {"_id": 1, "n": {"$sum": 1}}}], "cursor": {}, "$db": "db"})"));

  auto collation = json(R"({"locale": "en"})");
  CountAggregateCommand full;
  full.filter = filter.view();
  full.skip = 2;
  full.limit = 3;
  full.collation = collation.view();
  full.max_time_ms = 40;
  full.hint = std::string_view("x_1");
  full.comment = std::string_view("count");
  full.read_concern.level = "majority";
  EXPECT_EQ(make_count_aggregate("db", "c", full),
            json(R"({"aggregate": "c", "pipeline": [{"$match": {"x": 1}},
                     {"$skip": {"$numberLong": "2"}}, {"$limit": {"$numberLong": "3"}},
                     {"$group": {"_id": 1, "n": {"$sum": 1}}}], "cursor": {},
                     "collation": {"locale": "en"}, "maxTimeMS": {"$numberLong": "40"},
                     "hint": "x_1", "comment": "count", "readConcern": {"level": "majority"},
                     "$db": "db"})"))
      << make_count_aggregate("db", "c", full).to_json();

  // skip 0 and limit 0 (no limit) are not stages.
  CountAggregateCommand zeros;
  zeros.filter = filter.view();
  zeros.skip = 0;
  zeros.limit = 0;
  EXPECT_EQ(make_count_aggregate("db", "c", zeros), make_count_aggregate("db", "c", minimal));
}

TEST(CountAggregate, RefusesANegativeSkipLimitOrMaxTime) {
  auto filter = json("{}");
  for (auto set : {+[](CountAggregateCommand& c) { c.skip = -1; },
                   +[](CountAggregateCommand& c) { c.limit = -1; },
                   +[](CountAggregateCommand& c) { c.max_time_ms = -1; }}) {
    CountAggregateCommand bad;
    bad.filter = filter.view();
    set(bad);
    try {
      make_count_aggregate("db", "c", bad);
      ADD_FAILURE() << "built";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), errc::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("count_documents"), std::string::npos) << e.what();
    }
  }
}

TEST(CountAggregateReplyParser, GroupOrNothingAndMalformedReplies) {
  EXPECT_EQ(parse_count_aggregate_reply(json(R"({"cursor": {"id": 0, "ns": "db.c",
                "firstBatch": [{"_id": 1, "n": 7}]}, "ok": 1})")),
            7);
  EXPECT_EQ(parse_count_aggregate_reply(
                json(R"({"cursor": {"id": 0, "ns": "db.c", "firstBatch": []}, "ok": 1})")),
            0);
  EXPECT_EQ(error_code_of([] { parse_count_aggregate_reply(json(R"({"ok": 1})")); }),
            errc::cursor_error);
  EXPECT_EQ(error_code_of([] {
              parse_count_aggregate_reply(json(R"({"cursor": {"id": 0, "ns": "db.c",
                    "firstBatch": [{"_id": 1, "n": "7"}]}, "ok": 1})"));
            }),
            errc::bson_type_mismatch);
  EXPECT_EQ(error_code_of([] {
              parse_count_aggregate_reply(json(R"({"cursor": {"id": 0, "ns": "db.c",
                    "firstBatch": [{"_id": 1}]}, "ok": 1})"));
            }),
            errc::bson_key_missing);
  EXPECT_THROW(parse_count_aggregate_reply(json(R"({"ok": 0, "errmsg": "bad", "code": 2})")),
               ServerError);
}

}  // namespace
}  // namespace mongoslice::wire
