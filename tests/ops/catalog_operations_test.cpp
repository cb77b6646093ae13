// The catalog and generic-command operations (ops/catalog_operations.hpp), getMore with its
// optional fields (ops/cursor_operations.hpp, wire::make_get_more with GetMoreCommand), and
// findAndModify's hint with an unacknowledged write concern by server version
// (ops/find_and_modify.hpp): what each sends, how it reads the reply, what it refuses.

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "ops/catalog_operations.hpp"
#include "ops/cursor_operations.hpp"
#include "ops/find_and_modify.hpp"
#include "support/expect_error.hpp"
#include "wire/error.hpp"

namespace mongoslice::ops {
namespace {

using bson::Document;
using testing::expect_error;

Document json(std::string_view text) {
  return Document::from_json(text);
}

ServerLimits wire_version(std::int32_t version) {
  ServerLimits limits;
  limits.max_wire_version = version;
  return limits;
}

// The body `op` sends first on a server of `limits`.
template <typename Op>
Document first_body(Op& op, const ServerLimits& limits = wire_version(17)) {
  Step step = op.start(limits);
  const auto* send = std::get_if<Send>(&step);
  if (send == nullptr) {
    ADD_FAILURE() << "the operation sent nothing";
    return {};
  }
  return Document(send->command.body);
}

// ---- runCommand ----------------------------------------------------------------------------

TEST(RunCommandOperation, SendsTheCommandAsGivenWithDbAndNothingElse) {
  const Document command = json(R"({"find": "c", "filter": {"x": 1}, "batchSize": 2,
                                    "readConcern": {"level": "local"}})");
  auto op = run_command_operation("app", command.view());
  EXPECT_EQ(op.kind(), OperationKind::kRead);  // runCommand is a read for server selection
  EXPECT_FALSE(op.retryable());                // and never retried
  EXPECT_EQ(first_body(op), json(R"({"find": "c", "filter": {"x": 1}, "batchSize": 2,
                                      "readConcern": {"level": "local"}, "$db": "app"})"));
  // The reply is the result, whole.
  const Document reply = json(R"({"cursor": {"id": 0, "ns": "app.c", "firstBatch": []}, "ok": 1})");
  EXPECT_TRUE(std::holds_alternative<Done>(op.on_reply(reply)));
  EXPECT_EQ(std::move(op).result(), reply);
}

TEST(RunCommandOperation, RefusesAnEmptyCommand) {
  const Error error = expect_error([] { (void)make_run_command("app", Document().view()); });
  EXPECT_EQ(error.code(), errc::invalid_argument);
  EXPECT_NE(std::string(error.what()).find("empty"), std::string::npos) << error.what();
}

TEST(RunCommandOperation, KeepsEveryBsonTypeOfTheCommand) {
  const Document command =
      json(R"({"ping": 1, "a": [1, "x", {"y": null}], "t": {"$timestamp": {"t": 1, "i": 2}},
               "l": {"$numberLong": "9007199254740993"}})");
  const Document sent = make_run_command("admin", command.view());
  std::vector<std::string> keys;
  for (bson::Element e : sent.view()) keys.emplace_back(e.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"ping", "a", "t", "l", "$db"}));
  EXPECT_EQ(sent.view()["l"].type(), bson::Type::kInt64);
  EXPECT_EQ(sent.view()["l"].as_int64(), 9007199254740993);
  EXPECT_EQ(sent.view()["t"].type(), command.view()["t"].type());
}

// ---- catalog operations ----------------------------------------------------------------------

TEST(CatalogOperations, KindsRetryabilityAndBodies) {
  wire::ListCollectionsCommand list;
  list.name_only = true;
  auto collections = list_collections_operation("app", list);
  EXPECT_EQ(collections.kind(), OperationKind::kRead);
  EXPECT_TRUE(collections.retryable());
  EXPECT_EQ(first_body(collections), wire::make_list_collections("app", list));

  auto create = create_collection_operation("app", "c", {});
  EXPECT_EQ(create.kind(), OperationKind::kWrite);
  EXPECT_FALSE(create.retryable());
  EXPECT_EQ(first_body(create), json(R"({"create": "c", "$db": "app"})"));

  auto drop = drop_database_operation("app");
  EXPECT_EQ(drop.kind(), OperationKind::kWrite);
  EXPECT_FALSE(drop.retryable());
  EXPECT_EQ(first_body(drop), json(R"({"dropDatabase": 1, "$db": "app"})"));

  auto drop_collection = drop_collection_operation("app", "c");
  EXPECT_EQ(drop_collection.kind(), OperationKind::kWrite);
  EXPECT_FALSE(drop_collection.retryable());
  EXPECT_EQ(first_body(drop_collection), json(R"({"drop": "c", "$db": "app"})"));

  auto databases = list_databases_operation({});
  EXPECT_EQ(databases.kind(), OperationKind::kRead);
  EXPECT_TRUE(databases.retryable());
  Step step = databases.start(wire_version(17));
  ASSERT_TRUE(std::holds_alternative<Send>(step));
  EXPECT_EQ(std::get<Send>(step).command.db, "admin");
}

TEST(CatalogOperations, CreateAndDropDatabaseCarryTheWriteConcern) {
  WriteConcern majority;
  majority.w = std::string("majority");
  wire::CreateCommand command;
  command.write_concern = majority;
  auto create = create_collection_operation("app", "c", command);
  EXPECT_EQ(first_body(create),
            json(R"({"create": "c", "writeConcern": {"w": "majority"}, "$db": "app"})"));
  auto drop = drop_database_operation("app", majority);
  EXPECT_EQ(first_body(drop),
            json(R"({"dropDatabase": 1, "writeConcern": {"w": "majority"}, "$db": "app"})"));
  // A concern the spec forbids is refused before anything is built.
  WriteConcern bad;
  bad.w = std::int32_t{0};
  bad.journal = true;
  EXPECT_EQ(expect_error([&] { (void)drop_database_operation("app", bad); }).code(),
            errc::invalid_argument);
  auto drop_collection = drop_collection_operation("app", "c", majority);
  EXPECT_EQ(first_body(drop_collection),
            json(R"({"drop": "c", "writeConcern": {"w": "majority"}, "$db": "app"})"));
  EXPECT_EQ(expect_error([&] { (void)drop_collection_operation("app", "c", bad); }).code(),
            errc::invalid_argument);
}

TEST(CatalogOperations, OkRepliesAndServerErrors) {
  auto create = create_collection_operation("app", "c", {});
  (void)create.start(wire_version(17));
  EXPECT_TRUE(std::holds_alternative<Done>(create.on_reply(json(R"({"ok": 1})"))));

  auto refused = create_collection_operation("app", "c", {});
  (void)refused.start(wire_version(17));
  try {
    refused.on_reply(json(R"({"ok": 0, "code": 48, "codeName": "NamespaceExists",
                              "errmsg": "exists"})"));
    ADD_FAILURE() << "no ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 48);
  }
  auto no_ok = drop_database_operation("app");
  (void)no_ok.start(wire_version(17));
  EXPECT_THROW(no_ok.on_reply(json(R"({"dropped": "app"})")), ServerError);
}

TEST(CatalogOperations, ListDatabasesChecksTheReply) {
  auto good = list_databases_operation({});
  (void)good.start(wire_version(17));
  const Document reply = json(R"({"databases": [{"name": "a"}], "totalSize": 1, "ok": 1})");
  good.on_reply(reply);
  EXPECT_EQ(std::move(good).result(), reply);

  for (const char* malformed : {R"({"ok": 1})", R"({"databases": [{"name": 1}], "ok": 1})",
                                R"({"databases": {"name": "a"}, "ok": 1})"}) {
    auto op = list_databases_operation({});
    (void)op.start(wire_version(17));
    const Error error = expect_error([&] { op.on_reply(json(malformed)); });
    EXPECT_TRUE(error.code() == errc::bson_key_missing || error.code() == errc::bson_type_mismatch)
        << malformed << ": " << error.what();
  }
}

// ---- getMore ---------------------------------------------------------------------------------

TEST(GetMoreCommand, SendsEachFieldGivenAndNothingElse) {
  EXPECT_EQ(wire::make_get_more("db", "c", 7, wire::GetMoreCommand{}),
            json(R"({"getMore": {"$numberLong": "7"}, "collection": "c", "$db": "db"})"));
  const Document comment = json(R"({"comment": {"hello": "getMore"}})");
  wire::GetMoreCommand all{5, 300, comment.view()["comment"]};
  const Document body = wire::make_get_more("db", "c", 7, all);
  EXPECT_EQ(body, json(R"({"getMore": {"$numberLong": "7"}, "collection": "c", "batchSize": 5,
                           "maxTimeMS": {"$numberLong": "300"}, "comment": {"hello": "getMore"},
                           "$db": "db"})"));
  EXPECT_EQ(body.view()["getMore"].type(), bson::Type::kInt64);
}

TEST(GetMoreCommand, RefusesABadBatchSizeOrMaxTime) {
  for (const wire::GetMoreCommand& bad : {wire::GetMoreCommand{0, std::nullopt, std::nullopt},
                                          wire::GetMoreCommand{-1, std::nullopt, std::nullopt},
                                          wire::GetMoreCommand{std::nullopt, -1, std::nullopt}}) {
    EXPECT_EQ(expect_error([&] { (void)wire::make_get_more("db", "c", 7, bad); }).code(),
              errc::invalid_argument);
  }
}

TEST(GetMoreOperation, SendsTheCommentFromMongoDB44Only) {
  const Document comment = json(R"({"comment": "note"})");
  const wire::GetMoreCommand command{2, 100, comment.view()["comment"]};
  GetMoreOperation op("db", "c", 9, command);
  EXPECT_EQ(op.kind(), OperationKind::kRead);
  EXPECT_FALSE(op.retryable());
  const Document on_44 = first_body(op, wire_version(GetMoreOperation::kCommentMinWireVersion));
  ASSERT_TRUE(on_44.view().find("comment"));
  EXPECT_EQ(on_44.view()["comment"].get_string(), "note");
  EXPECT_EQ(on_44.view()["maxTimeMS"].as_int64(), 100);

  GetMoreOperation old("db", "c", 9, command);
  const Document on_42 = first_body(old, wire_version(8));
  EXPECT_FALSE(on_42.view().find("comment"));
  EXPECT_EQ(on_42.view()["batchSize"].as_int64(), 2);  // the other fields still go
  EXPECT_EQ(on_42.view()["maxTimeMS"].as_int64(), 100);

  const Document reply = json(R"({"cursor": {"id": 0, "ns": "db.c", "nextBatch": []}, "ok": 1})");
  EXPECT_TRUE(std::holds_alternative<Done>(old.on_reply(reply)));
  EXPECT_EQ(std::move(old).result(), reply);
}

}  // namespace
}  // namespace mongoslice::ops

// ---- findAndModify: hint with w: 0 -------------------------------------------------------------

namespace mongoslice::wire {
namespace {

TEST(FindAndModifyOperation, AnUnacknowledgedHintNeedsMongoDB44) {
  const auto query = bson::Document::from_json("{}");
  const auto update = bson::Document::from_json(R"({"$inc": {"x": 1}})");
  FindAndModifyCommand command;
  command.kind = FindAndModifyKind::kUpdate;
  command.query = query.view();
  command.update = update.view();
  command.hint = std::string_view("_id_");
  command.write_concern.w = std::int32_t{0};
  ops::ServerLimits server_42;
  server_42.max_wire_version = 8;
  FindAndModify refused("db", "c", command);  // building is fine: the server decides
  const Error error = testing::expect_error([&] { refused.start(server_42); });
  EXPECT_EQ(error.code(), errc::invalid_argument);
  EXPECT_NE(std::string(error.what()).find("4.4"), std::string::npos) << error.what();

  ops::ServerLimits server_44;
  server_44.max_wire_version = FindAndModify::kUnacknowledgedHintMinWireVersion;
  FindAndModify sent("db", "c", command);
  ops::Step step = sent.start(server_44);
  ASSERT_TRUE(std::holds_alternative<ops::Send>(step));
  const bson::View body = std::get<ops::Send>(step).command.body;
  EXPECT_EQ(body["hint"].get_string(), "_id_");
  EXPECT_EQ(body["writeConcern"].get_document()["w"].as_int64(), 0);
  // Whatever the server answers, an unacknowledged write reports no document.
  sent.on_reply(bson::Document::from_json(R"({"value": {"_id": 2, "x": 22}, "ok": 1})"));
  EXPECT_FALSE(std::move(sent).result().value.has_value());

  // Acknowledged, a hint only needs 4.2, and the document is returned.
  command.write_concern.w = std::int32_t{1};
  FindAndModify acknowledged("db", "c", command);
  EXPECT_TRUE(std::holds_alternative<ops::Send>(acknowledged.start(server_42)));
  acknowledged.on_reply(bson::Document::from_json(R"({"value": {"_id": 2}, "ok": 1})"));
  EXPECT_TRUE(std::move(acknowledged).result().value.has_value());
}

}  // namespace
}  // namespace mongoslice::wire
