// ops::BulkWrite driven by hand, as an engine would: which commands it sends for which
// statements and limits, and how it reads their replies.
#include "ops/bulk_write_op.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "support/ops_expectations.hpp"
#include "wire/error.hpp"
#include "wire/op_msg.hpp"

namespace mongoslice::ops {
namespace {

using bson::Document;
using testing::error_code_of;
using testing::json;
// One command the operation sent, copied out of its Send.
struct Sent {
  std::string name;  // the body's first key
  Document body;
  std::string identifier;
  std::vector<Document> statements;
  std::size_t message_size = 0;  // the OP_MSG it encodes to
};

// Runs `op` to its end: each command is recorded and answered by `answer` (given the command's
// number and the command).
using Answer = std::function<Document(std::size_t, const Sent&)>;
std::vector<Sent> run(BulkWrite& op, const ServerLimits& limits, const Answer& answer) {
  std::vector<Sent> sent;
  Step step = op.start(limits);
  while (const auto* send = std::get_if<Send>(&step)) {
    Sent s;
    s.body = Document(send->command.body);
    s.name = std::string((*s.body.view().begin()).key());
    EXPECT_EQ(send->command.db, "db");
    EXPECT_EQ(send->command.sequences.size(), 1u);
    s.identifier = std::string(send->command.sequences[0].identifier);
    for (bson::View v : send->command.sequences[0].documents) s.statements.emplace_back(v);
    s.message_size = wire::encode_op_msg(1, send->command.body, 0, send->command.sequences).size();
    sent.push_back(std::move(s));
    step = op.on_reply(answer(sent.size() - 1, sent.back()));
  }
  return sent;
}

// {ok: 1, n: <statements>} (and nModified for updates): every statement succeeded.
Document all_ok(std::size_t, const Sent& s) {
  bson::Builder b;
  b.append("n", static_cast<std::int32_t>(s.statements.size()));
  if (s.name == "update") b.append("nModified", static_cast<std::int32_t>(s.statements.size()));
  return b.append("ok", 1.0).build();
}

Document doc_with_id(int id, std::size_t filler = 0) {
  return bson::Builder{}.append("_id", id).append("s", std::string(filler, 'x')).build();
}

// Statements viewing `owned`, which must outlive the operation.
struct Statements {
  std::vector<Document> owned;
  std::vector<WriteStatement> list;
  void add(StatementKind kind, Document d) {
    owned.push_back(std::move(d));
    kinds.push_back(kind);
  }
  std::vector<WriteStatement> take() {
    list.clear();
    for (std::size_t i = 0; i < owned.size(); ++i) list.push_back({kinds[i], owned[i].view()});
    return list;
  }
  std::vector<StatementKind> kinds;
};

Statements inserts(int n, std::size_t filler = 0) {
  Statements s;
  for (int i = 0; i < n; ++i) s.add(StatementKind::kInsert, doc_with_id(i, filler));
  return s;
}

wire::WriteCommandOptions unordered() {
  wire::WriteCommandOptions o;
  o.ordered = false;
  return o;
}

TEST(BulkWriteOp, ConsecutiveStatementsOfOneCommandShareIt) {
  Statements s;
  s.add(StatementKind::kInsert, doc_with_id(1));
  s.add(StatementKind::kInsert, doc_with_id(2));
  s.add(StatementKind::kUpdate, json(R"({"q": {"_id": 1}, "u": {"$set": {"a": 1}}})"));
  s.add(StatementKind::kReplace, json(R"({"q": {"_id": 2}, "u": {"a": 2}})"));
  s.add(StatementKind::kDelete, json(R"({"q": {"_id": 1}, "limit": 1})"));
  s.add(StatementKind::kDelete, json(R"({"q": {}, "limit": 0})"));
  s.add(StatementKind::kInsert, doc_with_id(3));
  BulkWrite op("db", "c", s.take(), {});
  auto sent = run(op, {}, all_ok);
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].name, "insert");
  EXPECT_EQ(sent[0].identifier, "documents");
  EXPECT_EQ(sent[0].statements.size(), 2u);
  EXPECT_EQ(sent[1].name, "update");
  EXPECT_EQ(sent[1].identifier, "updates");
  ASSERT_EQ(sent[1].statements.size(), 2u);
  EXPECT_EQ(sent[1].statements[1], s.owned[3]);
  EXPECT_EQ(sent[2].name, "delete");
  EXPECT_EQ(sent[2].identifier, "deletes");
  EXPECT_EQ(sent[2].statements.size(), 2u);
  EXPECT_EQ(sent[3].name, "insert");
  EXPECT_EQ(sent[3].statements[0], s.owned[6]);
  EXPECT_EQ(sent[0].body, json(R"({"insert": "c", "ordered": true, "$db": "db"})"));

  auto outcome = std::move(op).result();
  EXPECT_FALSE(outcome.has_errors());
  EXPECT_EQ(outcome.commands_sent, 4);
  EXPECT_EQ(outcome.result.inserted_count, 3);
  EXPECT_EQ(outcome.result.matched_count, 2);
  EXPECT_EQ(outcome.result.modified_count, 2);
  EXPECT_EQ(outcome.result.deleted_count, 2);
  ASSERT_EQ(outcome.result.inserted_ids.size(), 3u);
  EXPECT_EQ(outcome.result.inserted_ids.at(6), json(R"({"_id": 3})"));
  EXPECT_TRUE(outcome.result.acknowledged);
}

TEST(BulkWriteOp, CommandOptionsAndWriteConcernAreInEveryBody) {
  Statements s;
  s.add(StatementKind::kInsert, doc_with_id(1));
  s.add(StatementKind::kDelete, json(R"({"q": {}, "limit": 0})"));
  const Document let = json(R"({"v": 1})");
  wire::WriteCommandOptions o = unordered();
  o.let = let.view();
  o.comment = std::string_view("c1");
  o.write_concern.w = std::string("majority");
  BulkWrite op("db", "c", s.take(), o);
  auto sent = run(op, {}, all_ok);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].body, json(R"({"insert": "c", "ordered": false, "comment": "c1",
                                   "writeConcern": {"w": "majority"}, "$db": "db"})"));
  EXPECT_EQ(sent[1].body, json(R"({"delete": "c", "ordered": false, "let": {"v": 1},
                                   "comment": "c1", "writeConcern": {"w": "majority"},
                                   "$db": "db"})"));
}

TEST(BulkWriteOp, NoStatementsOrAForbiddenWriteConcernAreRefusedAtConstruction) {
  EXPECT_EQ(error_code_of([] { BulkWrite("db", "c", {}, {}); }), errc::invalid_argument);
  Statements s = inserts(1);
  wire::WriteCommandOptions o;
  o.write_concern.w = std::int32_t{0};
  o.write_concern.journal = true;
  EXPECT_EQ(error_code_of([&] { BulkWrite("db", "c", s.take(), o); }), errc::invalid_argument);
}

TEST(BulkWriteOp, BatchesHoldAtMostMaxWriteBatchSizeStatements) {
  Statements s = inserts(7);
  BulkWrite op("db", "c", s.take(), {});
  ServerLimits limits;
  limits.max_write_batch_size = 3;
  auto sent = run(op, limits, all_ok);
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].statements.size(), 3u);
  EXPECT_EQ(sent[1].statements.size(), 3u);
  EXPECT_EQ(sent[2].statements.size(), 1u);
  EXPECT_EQ(sent[1].statements[0], s.owned[3]);
  EXPECT_EQ(sent[2].statements[0], s.owned[6]);
  EXPECT_EQ(std::move(op).result().result.inserted_count, 7);
}

TEST(BulkWriteOp, EveryMessageFitsMaxMessageSizeBytesAndNoBatchCouldHoldOneMore) {
  Statements s = inserts(40, 900);  // about 925 bytes each
  BulkWrite op("db", "c", s.take(), {});
  ServerLimits limits;
  limits.max_message_size_bytes = 6000;
  auto sent = run(op, limits, all_ok);
  ASSERT_GT(sent.size(), 5u);
  std::size_t total = 0;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_LE(sent[i].message_size + BulkWrite::kMessageReserve, 6000u) << "command " << i;
    total += sent[i].statements.size();
    if (i + 1 < sent.size()) {  // the next statement would not have fit
      EXPECT_GT(sent[i].message_size + BulkWrite::kMessageReserve + s.owned[total].size(), 6000u)
          << "command " << i;
    }
  }
  EXPECT_EQ(total, 40u);
}

TEST(BulkWriteOp, DocumentsOverMaxBsonObjectSizeAreRefusedBeforeAnythingIsSent) {
  for (std::size_t size : {16u * 1024 * 1024 + 1024, 17u * 1024 * 1024}) {
    Statements s;
    s.add(StatementKind::kInsert, doc_with_id(0));
    s.add(StatementKind::kInsert, doc_with_id(1, size));
    BulkWrite op("db", "c", s.take(), {});
    std::string what;
    EXPECT_EQ(error_code_of([&] { op.start({}); }, &what), errc::invalid_argument);
    EXPECT_NE(what.find("write 1"), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(s.owned[1].size())), std::string::npos) << what;
    EXPECT_NE(what.find(std::to_string(16 * 1024 * 1024)), std::string::npos) << what;
  }
  // A replacement too; an update's statement is not a stored document.
  Statements r;
  r.add(StatementKind::kReplace,
        bson::Builder{}.append("q", json("{}")).append("u", doc_with_id(1, 2000)).build());
  BulkWrite replace("db", "c", r.take(), {});
  ServerLimits small;
  small.max_bson_object_size = 1000;
  std::string what;
  EXPECT_EQ(error_code_of([&] { replace.start(small); }, &what), errc::invalid_argument);
  EXPECT_NE(what.find("write 0: the replacement"), std::string::npos) << what;
  // At the limit exactly is allowed.
  Statements exact;
  Document probe = doc_with_id(1, 0);
  exact.add(StatementKind::kInsert, doc_with_id(1, 1000 - probe.size()));
  ASSERT_EQ(exact.owned[0].size(), 1000u);
  BulkWrite at_limit("db", "c", exact.take(), {});
  EXPECT_EQ(run(at_limit, small, all_ok).size(), 1u);
}

TEST(BulkWriteOp, AStatementThatCannotFitInAnyMessageIsRefusedBeforeSending) {
  Statements s;
  s.add(StatementKind::kInsert, doc_with_id(0));
  s.add(StatementKind::kUpdate, bson::Builder{}
                                    .append("q", doc_with_id(1, 3000))
                                    .append("u", json(R"({"$set": {"a": 1}})"))
                                    .build());
  BulkWrite op("db", "c", s.take(), {});
  ServerLimits limits;
  limits.max_message_size_bytes = 3000;
  std::string what;
  EXPECT_EQ(error_code_of([&] { op.start(limits); }, &what), errc::invalid_argument);
  EXPECT_NE(what.find("write 1: the update statement"), std::string::npos) << what;
  EXPECT_NE(what.find("maxMessageSizeBytes"), std::string::npos) << what;
}

TEST(BulkWriteOp, UnorderedGoesOnAndMapsErrorIndexesToTheCallersPositions) {
  Statements s = inserts(7);
  BulkWrite op("db", "c", s.take(), unordered());
  ServerLimits limits;
  limits.max_write_batch_size = 3;
  auto sent = run(op, limits, [](std::size_t i, const Sent& c) {
    if (i == 1) {  // statements 3, 4, 5: the second fails
      return json(R"({"n": 2, "writeErrors": [{"index": 1, "code": 11000, "errmsg": "dup"}],
                      "ok": 1})");
    }
    if (i == 2) {  // statement 6
      return json(R"({"n": 0, "writeErrors": [{"index": 0, "code": 121, "errmsg": "invalid"}],
                      "ok": 1})");
    }
    return all_ok(i, c);
  });
  EXPECT_EQ(sent.size(), 3u);
  auto outcome = std::move(op).result();
  ASSERT_EQ(outcome.write_errors.size(), 2u);
  EXPECT_EQ(outcome.write_errors[0].index, 4);
  EXPECT_EQ(outcome.write_errors[0].code, 11000);
  EXPECT_EQ(outcome.write_errors[0].errmsg, "dup");
  EXPECT_EQ(outcome.write_errors[1].index, 6);
  EXPECT_EQ(outcome.write_errors[1].code, 121);
  EXPECT_EQ(outcome.result.inserted_count, 5);
  std::vector<std::int64_t> ids;
  for (const auto& [index, id] : outcome.result.inserted_ids) ids.push_back(index);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{0, 1, 2, 3, 5}));
}

TEST(BulkWriteOp, OrderedStopsAfterTheBatchWithTheFirstError) {
  Statements s = inserts(7);
  s.add(StatementKind::kDelete, json(R"({"q": {}, "limit": 0})"));
  BulkWrite op("db", "c", s.take(), {});
  ServerLimits limits;
  limits.max_write_batch_size = 3;
  auto sent = run(op, limits, [](std::size_t i, const Sent& c) {
    if (i == 1) {  // 3, 4, 5: the server stops at 4
      return json(R"({"n": 1, "writeErrors": [{"index": 1, "code": 11000, "errmsg": "dup"}],
                      "ok": 1})");
    }
    return all_ok(i, c);
  });
  EXPECT_EQ(sent.size(), 2u);
  auto outcome = std::move(op).result();
  ASSERT_EQ(outcome.write_errors.size(), 1u);
  EXPECT_EQ(outcome.write_errors[0].index, 4);
  EXPECT_EQ(outcome.result.inserted_count, 4);
  EXPECT_EQ(outcome.result.deleted_count, 0);
  std::vector<std::int64_t> ids;
  for (const auto& [index, id] : outcome.result.inserted_ids) ids.push_back(index);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{0, 1, 2, 3}));
}

TEST(BulkWriteOp, UpsertedIdsAreKeyedByTheCallersIndexAcrossBatches) {
  Statements s;
  s.add(StatementKind::kInsert, doc_with_id(0));
  for (int i = 0; i < 3; ++i) {
    s.add(StatementKind::kUpdate,
          json(R"({"q": {"k": 1}, "u": {"$set": {"a": 1}}, "upsert": true})"));
  }
  BulkWrite op("db", "c", s.take(), {});
  ServerLimits limits;
  limits.max_write_batch_size = 2;
  auto sent = run(op, limits, [](std::size_t i, const Sent& c) {
    if (i == 1) {  // statements 1, 2
      return json(R"({"n": 2, "nModified": 0, "upserted": [{"index": 1, "_id": "u2"}], "ok": 1})");
    }
    if (i == 2) {  // statement 3
      return json(R"({"n": 1, "nModified": 0, "upserted": [{"index": 0, "_id": "u3"}], "ok": 1})");
    }
    return all_ok(i, c);
  });
  ASSERT_EQ(sent.size(), 3u);
  auto outcome = std::move(op).result();
  EXPECT_EQ(outcome.result.upserted_count, 2);
  EXPECT_EQ(outcome.result.matched_count, 1);
  ASSERT_EQ(outcome.result.upserted_ids.size(), 2u);
  EXPECT_EQ(outcome.result.upserted_ids.at(2), json(R"({"_id": "u2"})"));
  EXPECT_EQ(outcome.result.upserted_ids.at(3), json(R"({"_id": "u3"})"));
}

TEST(BulkWriteOp, WriteConcernErrorsAreCollectedAndDoNotStopAnOrderedWrite) {
  Statements s = inserts(4);
  BulkWrite op("db", "c", s.take(), {});
  ServerLimits limits;
  limits.max_write_batch_size = 2;
  auto sent = run(op, limits, [](std::size_t, const Sent&) {
    return json(R"({"n": 2, "writeConcernError": {"code": 64, "errmsg": "timed out"}, "ok": 1})");
  });
  EXPECT_EQ(sent.size(), 2u);
  auto outcome = std::move(op).result();
  EXPECT_TRUE(outcome.has_errors());
  EXPECT_TRUE(outcome.write_errors.empty());
  ASSERT_EQ(outcome.write_concern_errors.size(), 2u);
  EXPECT_EQ(outcome.write_concern_errors[1].code, 64);
  EXPECT_EQ(outcome.result.inserted_count, 4);
}

TEST(BulkWriteOp, IndexesOutsideTheBatchAndMalformedRepliesAreErrors) {
  auto failing = [](const char* reply, StatementKind kind) {
    Statements s;
    s.add(kind, kind == StatementKind::kInsert ? doc_with_id(1)
                                               : json(R"({"q": {}, "u": {"$set": {"a": 1}}})"));
    s.add(kind, kind == StatementKind::kInsert ? doc_with_id(2)
                                               : json(R"({"q": {}, "u": {"$set": {"a": 1}}})"));
    BulkWrite op("db", "c", s.take(), {});
    std::string what;
    auto code = error_code_of(
        [&] { run(op, {}, [&](std::size_t, const Sent&) { return json(reply); }); }, &what);
    return std::pair{code, what};
  };
  auto [code, what] =
      failing(R"({"n": 1, "writeErrors": [{"index": 2, "code": 1, "errmsg": "x"}], "ok": 1})",
              StatementKind::kInsert);
  EXPECT_EQ(code, errc::bson_type_mismatch);
  EXPECT_NE(what.find("writeErrors index 2"), std::string::npos) << what;
  auto [code2, what2] =
      failing(R"({"n": 2, "nModified": 0, "upserted": [{"index": 5, "_id": 1}], "ok": 1})",
              StatementKind::kUpdate);
  EXPECT_EQ(code2, errc::bson_type_mismatch);
  EXPECT_NE(what2.find("upserted index 5"), std::string::npos) << what2;
  EXPECT_EQ(failing(R"({"ok": 1})", StatementKind::kInsert).first, errc::bson_key_missing);
  Statements s = inserts(1);
  BulkWrite op("db", "c", s.take(), {});
  op.start({});
  EXPECT_THROW(op.on_reply(json(R"({"ok": 0, "code": 13, "errmsg": "unauthorized"})")),
               ServerError);
}

TEST(BulkWriteOp, UnacknowledgedWritesAreSentButTheirCountsAreNotRead) {
  Statements s = inserts(5);
  s.add(StatementKind::kDelete, json(R"({"q": {}, "limit": 0})"));
  wire::WriteCommandOptions o;
  o.write_concern.w = std::int32_t{0};
  BulkWrite op("db", "c", s.take(), o);
  ServerLimits limits;
  limits.max_write_batch_size = 2;
  // A reply without n (or with write errors) is not read.
  auto sent = run(op, limits, [](std::size_t i, const Sent&) {
    return i == 0 ? json(R"({"ok": 1, "writeErrors": [{"index": 0, "code": 1}]})")
                  : json(R"({"ok": 1})");
  });
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].body, json(R"({"insert": "c", "ordered": true, "writeConcern": {"w": 0},
                                   "$db": "db"})"));
  auto outcome = std::move(op).result();
  EXPECT_FALSE(outcome.result.acknowledged);
  EXPECT_FALSE(outcome.has_errors());
  EXPECT_EQ(outcome.result.inserted_count, 0);
  EXPECT_TRUE(outcome.result.inserted_ids.empty());
  // {ok: 0} is still an error.
  Statements t = inserts(1);
  BulkWrite failing("db", "c", t.take(), o);
  failing.start({});
  EXPECT_THROW(failing.on_reply(json(R"({"ok": 0, "code": 13, "errmsg": "no"})")), ServerError);
}

}  // namespace
}  // namespace mongoslice::ops
