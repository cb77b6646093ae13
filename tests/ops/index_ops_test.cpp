// ops/index_ops.hpp: the createIndexes, listIndexes, dropIndexes and renameCollection commands,
// index name generation, and the reply parsers (well-formed, failed and malformed replies).
#include "ops/index_ops.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "ops/commands.hpp"
#include "support/ops_expectations.hpp"
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

using bson::Document;
using testing::expect_invalid;
using testing::expect_malformed;
using testing::json;
// ---- index names -------------------------------------------------------------------------------

TEST(IndexNames, KeysAndValuesJoinedByUnderscores) {
  EXPECT_EQ(make_index_name(json(R"({"a": 1})")), "a_1");
  EXPECT_EQ(make_index_name(json(R"({"a": 1, "b": -1})")), "a_1_b_-1");
  EXPECT_EQ(make_index_name(json(R"({"t": "text"})")), "t_text");
  EXPECT_EQ(make_index_name(json(R"({"loc": "2dsphere"})")), "loc_2dsphere");
  EXPECT_EQ(make_index_name(json(R"({"pos": "2d"})")), "pos_2d");
  EXPECT_EQ(make_index_name(json(R"({"user": "hashed"})")), "user_hashed");
  EXPECT_EQ(make_index_name(json(R"({"$**": 1})")), "$**_1");
  // Nested fields keep their dots; keys keep their order, not sorted.
  EXPECT_EQ(make_index_name(json(R"({"a.b.c": -1, "z": 1, "a": "text"})")), "a.b.c_-1_z_1_a_text");
}

TEST(IndexNames, NumbersOfEveryType) {
  EXPECT_EQ(make_index_name(json(R"({"a": {"$numberLong": "-1"}})")), "a_-1");
  EXPECT_EQ(make_index_name(json(R"({"a": {"$numberLong": "1234567890123"}})")), "a_1234567890123");
  // A double holding a whole number is written as that number, as the shell writes it.
  EXPECT_EQ(make_index_name(json(R"({"a": 1.0, "b": -1.0})")), "a_1_b_-1");
  EXPECT_EQ(make_index_name(json(R"({"a": 0.5})")), "a_0.5");
  EXPECT_EQ(make_index_name(json(R"({"a": -2.25})")), "a_-2.25");
}

TEST(IndexNames, RefusesWhatItCannotName) {
  expect_invalid([] { make_index_name(Document()); }, "empty");
  expect_invalid([] { make_index_name(json(R"({"a": 1, "flag": true})")); }, "'flag'");
  expect_invalid([] { make_index_name(json(R"({"a": {"b": 1}})")); }, "give a name");
  expect_invalid([] { make_index_name(json(R"({"a": null})")); }, "'a'");
}

// ---- createIndexes -----------------------------------------------------------------------------

TEST(IndexCommands, EntryWithAGeneratedName) {
  EXPECT_EQ(make_index_entry(json(R"({"a": 1, "b": -1})")),
            json(R"({"key": {"a": 1, "b": -1}, "name": "a_1_b_-1"})"));
  IndexEntryOptions named;
  named.name = "by_a";
  EXPECT_EQ(make_index_entry(json(R"({"a": {"b": 1}})"), named),
            json(R"({"key": {"a": {"b": 1}}, "name": "by_a"})"));
}

TEST(IndexCommands, EntryWithEveryOption) {
  auto partial = json(R"({"x": {"$gt": 5}})");
  auto collation = json(R"({"locale": "fr"})");
  auto wildcard = json(R"({"a": 1})");
  auto engine = json(R"({"wiredTiger": {}})");
  auto weights = json(R"({"t": 10})");
  auto extra = json(R"({"prepareUnique": true})");
  IndexEntryOptions o;
  o.name = "i";
  o.unique = true;
  o.sparse = false;
  o.hidden = true;
  o.background = false;
  o.expire_after_seconds = 3600;
  o.partial_filter_expression = partial.view();
  o.collation = collation.view();
  o.wildcard_projection = wildcard.view();
  o.storage_engine = engine.view();
  o.version = 2;
  o.weights = weights.view();
  o.default_language = "fr";
  o.language_override = "lang";
  o.text_index_version = 3;
  o.sphere_index_version = 3;
  o.bits = 26;
  o.min = -180.0;
  o.max = 180.5;
  o.extra = extra.view();
  EXPECT_EQ(make_index_entry(json(R"({"t": "text"})"), o),
            json(R"({"key": {"t": "text"}, "name": "i", "unique": true, "sparse": false,
                     "hidden": true, "background": false, "expireAfterSeconds": 3600,
                     "partialFilterExpression": {"x": {"$gt": 5}}, "collation": {"locale": "fr"},
                     "wildcardProjection": {"a": 1}, "storageEngine": {"wiredTiger": {}},
                     "v": 2, "weights": {"t": 10}, "default_language": "fr",
                     "language_override": "lang", "textIndexVersion": 3,
                     "2dsphereIndexVersion": 3, "bits": 26, "min": -180.0, "max": 180.5,
                     "prepareUnique": true})"));
}

TEST(IndexCommands, ExpireAfterSecondsBeyondInt32IsAnInt64) {
  IndexEntryOptions o;
  o.expire_after_seconds = std::int64_t{1} << 33;
  auto entry = make_index_entry(json(R"({"at": 1})"), o);
  EXPECT_EQ(entry["expireAfterSeconds"].type(), bson::Type::kInt64);
  EXPECT_EQ(entry["expireAfterSeconds"].get_int64(), std::int64_t{1} << 33);
  o.expire_after_seconds = 0;
  EXPECT_EQ(make_index_entry(json(R"({"at": 1})"), o)["expireAfterSeconds"].type(),
            bson::Type::kInt32);
}

TEST(IndexCommands, EntryRefusesEmptyKeysAndEmptyNames) {
  expect_invalid([] { make_index_entry(Document()); }, "empty");
  IndexEntryOptions named;
  named.name = "named";
  expect_invalid([&] { make_index_entry(Document(), named); }, "keys are empty");
  IndexEntryOptions empty_name;
  empty_name.name = "";
  expect_invalid([&] { make_index_entry(json(R"({"a": 1})"), empty_name); }, "name is empty");
  // Keys a generated name cannot take are fine with a name of their own.
  expect_invalid([] { make_index_entry(json(R"({"a": true})")); }, "'a'");
  EXPECT_NO_THROW(make_index_entry(json(R"({"a": true})"), named));
}

TEST(IndexCommands, CreateIndexesWithoutOptions) {
  auto a = make_index_entry(json(R"({"a": 1})"));
  auto b = make_index_entry(json(R"({"b": -1})"));
  std::vector<bson::View> entries{a.view(), b.view()};
  EXPECT_EQ(make_create_indexes("db", "c", entries),
            json(R"({"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"},
                     {"key": {"b": -1}, "name": "b_-1"}], "$db": "db"})"));
}

TEST(IndexCommands, CreateIndexesWithEveryOption) {
  auto a = make_index_entry(json(R"({"a": 1})"));
  std::vector<bson::View> entries{a.view()};
  CreateIndexesCommand options;
  options.max_time_ms = 500;
  options.commit_quorum = std::string_view("majority");
  options.comment = std::string_view("why");
  WriteConcern concern;
  concern.w = std::string("majority");
  concern.journal = true;
  EXPECT_EQ(make_create_indexes("db", "c", entries, options, concern),
            json(R"({"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"}],
                     "maxTimeMS": {"$numberLong": "500"}, "commitQuorum": "majority",
                     "comment": "why", "writeConcern": {"w": "majority", "j": true},
                     "$db": "db"})"));
  auto comment = json(R"({"who": "me"})");
  options.commit_quorum = std::int32_t{2};
  options.comment = comment.view();
  options.max_time_ms.reset();
  EXPECT_EQ(make_create_indexes("db", "c", entries, options),
            json(R"({"createIndexes": "c", "indexes": [{"key": {"a": 1}, "name": "a_1"}],
                     "commitQuorum": 2, "comment": {"who": "me"}, "$db": "db"})"));
}

TEST(IndexCommands, CreateIndexesRefusesBadInput) {
  auto a = make_index_entry(json(R"({"a": 1})"));
  std::vector<bson::View> entries{a.view()};
  expect_invalid([] { make_create_indexes("db", "c", {}); }, "no indexes");
  Document empty;
  std::vector<bson::View> with_empty{a.view(), empty.view()};
  expect_invalid([&] { make_create_indexes("db", "c", with_empty); }, "empty");
  expect_invalid([&] { make_create_indexes("db", "", entries); }, "collection name is empty");
  expect_invalid([&] { make_create_indexes("", "c", entries); }, "database name is empty");
  CreateIndexesCommand negative;
  negative.max_time_ms = -1;
  expect_invalid([&] { make_create_indexes("db", "c", entries, negative); }, "maxTimeMS");
  CreateIndexesCommand quorum;
  quorum.commit_quorum = std::int32_t{-1};
  expect_invalid([&] { make_create_indexes("db", "c", entries, quorum); }, "commitQuorum");
  WriteConcern refused;
  refused.w = std::int32_t{0};
  refused.journal = true;
  expect_invalid([&] { make_create_indexes("db", "c", entries, {}, refused); }, "w: 0");
}

TEST(IndexReplies, CreateIndexesReply) {
  auto parsed = parse_create_indexes_reply(
      json(R"({"createdCollectionAutomatically": true, "numIndexesBefore": 1,
               "numIndexesAfter": {"$numberLong": "3"}, "commitQuorum": "votingMembers",
               "ok": 1})"));
  EXPECT_EQ(parsed.created_collection_automatically, true);
  EXPECT_EQ(parsed.num_indexes_before, 1);
  EXPECT_EQ(parsed.num_indexes_after, 3);
  EXPECT_FALSE(parsed.note);
  auto exists = parse_create_indexes_reply(json(R"({"numIndexesBefore": 2.0, "numIndexesAfter": 2.0,
               "note": "all indexes already exist", "ok": 1.0})"));
  EXPECT_EQ(exists.note, "all indexes already exist");
  EXPECT_EQ(exists.num_indexes_after, 2);
  auto bare = parse_create_indexes_reply(json(R"({"ok": 1})"));
  EXPECT_FALSE(bare.created_collection_automatically);
  EXPECT_FALSE(bare.num_indexes_before);
}

TEST(IndexReplies, CreateIndexesFailures) {
  try {
    parse_create_indexes_reply(json(R"({"ok": 0, "code": 86, "codeName": "IndexKeySpecsConflict",
                                         "errmsg": "An existing index has the same name"})"));
    FAIL() << "expected a ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 86);
    EXPECT_EQ(e.code_name(), "IndexKeySpecsConflict");
  }
  EXPECT_THROW(parse_create_indexes_reply(json(R"({"numIndexesAfter": 2})")), ServerError);
  // ok: 1 with a writeConcernError: the index exists, the concern was not met.
  try {
    parse_create_indexes_reply(json(R"({"numIndexesAfter": 2, "ok": 1,
        "writeConcernError": {"code": 64, "codeName": "WriteConcernFailed",
                              "errmsg": "waiting for replication timed out"},
        "errorLabels": ["RetryableWriteError"]})"));
    FAIL() << "expected a ServerError for the writeConcernError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 64);
    EXPECT_EQ(e.code_name(), "WriteConcernFailed");
    EXPECT_NE(e.errmsg().find("replication timed out"), std::string::npos);
    EXPECT_TRUE(e.has_error_label("RetryableWriteError"));
  }
}

TEST(IndexReplies, MalformedCreateIndexesReplies) {
  auto parse = [](const Document& reply) { parse_create_indexes_reply(reply); };
  expect_malformed(
      parse,
      {{R"({"createdCollectionAutomatically": 1, "ok": 1})", "createdCollectionAutomatically"},
       {R"({"numIndexesBefore": "1", "ok": 1})", "numIndexesBefore"},
       {R"({"numIndexesAfter": null, "ok": 1})", "numIndexesAfter"},
       {R"({"note": 5, "ok": 1})", "note"},
       {R"({"ok": 1, "writeConcernError": "timeout"})", "writeConcernError"},
       {R"({"ok": 1, "writeConcernError": {"code": "64"}})", "writeConcernError.code"},
       {R"({"ok": 1, "writeConcernError": {"code": 64, "errmsg": 1}})", "writeConcernError.errmsg"},
       {R"({"ok": 1, "writeConcernError": {"code": 64, "codeName": []}})",
        "writeConcernError.codeName"}},
      errc::bson_type_mismatch);
}

TEST(IndexOperation, CreateIndexesIsAnOperationOfOneWrite) {
  static_assert(ops::Operation<ops::CreateIndexesOperation>);
  auto a = make_index_entry(json(R"({"a": 1})"));
  std::vector<bson::View> entries{a.view()};
  const Document command = make_create_indexes("db", "c", entries);
  ops::CreateIndexesOperation op("db", command);
  EXPECT_EQ(op.kind(), ops::OperationKind::kWrite);
  EXPECT_FALSE(op.retryable());
  // Without commitQuorum any server takes it, even one before 4.4.
  ops::ServerLimits old_server;
  old_server.max_wire_version = 8;
  ops::Step step = op.start(old_server);
  const auto* send = std::get_if<ops::Send>(&step);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->command.db, "db");
  EXPECT_EQ(Document(send->command.body), command);
  EXPECT_TRUE(send->command.sequences.empty());
  step = op.on_reply(json(R"({"numIndexesBefore": 1, "numIndexesAfter": 2, "ok": 1})"));
  EXPECT_TRUE(std::holds_alternative<ops::Done>(step));
  EXPECT_EQ(std::move(op).result().num_indexes_after, 2);
}

TEST(IndexOperation, CommitQuorumNeedsMongoDB44) {
  auto a = make_index_entry(json(R"({"a": 1})"));
  std::vector<bson::View> entries{a.view()};
  CreateIndexesCommand options;
  options.commit_quorum = std::string_view("votingMembers");
  const Document command = make_create_indexes("db", "c", entries, options);
  ops::ServerLimits limits;
  limits.max_wire_version = 8;
  ops::CreateIndexesOperation refused("db", command);
  expect_invalid([&] { refused.start(limits); }, "commitQuorum needs MongoDB 4.4");
  limits.max_wire_version = 9;
  ops::CreateIndexesOperation accepted("db", command);
  ops::Step step = accepted.start(limits);
  ASSERT_TRUE(std::holds_alternative<ops::Send>(step));
  EXPECT_EQ(std::get<ops::Send>(step).command.body["commitQuorum"].get_string(), "votingMembers");
}

TEST(IndexOperation, AFailedReplyIsAServerError) {
  auto a = make_index_entry(json(R"({"a": 1})"));
  std::vector<bson::View> entries{a.view()};
  ops::CreateIndexesOperation op("db", make_create_indexes("db", "c", entries));
  op.start({});
  EXPECT_THROW(op.on_reply(json(R"({"ok": 0, "code": 67, "codeName": "CannotCreateIndex",
                                    "errmsg": "no"})")),
               ServerError);
  ops::CreateIndexesOperation malformed("db", make_create_indexes("db", "c", entries));
  malformed.start({});
  expect_malformed([&](const Document& reply) { malformed.on_reply(reply); },
                   {{R"({"numIndexesAfter": "2", "ok": 1})", "numIndexesAfter"}},
                   errc::bson_type_mismatch);
}

// ---- listIndexes -------------------------------------------------------------------------------

TEST(IndexCommands, ListIndexes) {
  EXPECT_EQ(make_list_indexes("db", "c"),
            json(R"({"listIndexes": "c", "cursor": {}, "$db": "db"})"));
  ListIndexesCommand options;
  options.batch_size = 2;
  options.comment = std::string_view("list");
  EXPECT_EQ(make_list_indexes("db", "c", options),
            json(R"({"listIndexes": "c", "cursor": {"batchSize": 2}, "comment": "list",
                     "$db": "db"})"));
  ListIndexesCommand negative;
  negative.batch_size = -1;
  expect_invalid([&] { make_list_indexes("db", "c", negative); }, "batchSize");
  expect_invalid([] { make_list_indexes("db", ""); }, "collection name is empty");
}

TEST(IndexReplies, ListIndexesReplyIsACursorOfNamedEntries) {
  auto reply = json(R"({"cursor": {"id": 0, "ns": "db.c", "firstBatch": [
      {"v": 2, "key": {"_id": 1}, "name": "_id_"},
      {"v": 2, "key": {"a": 1}, "name": "a_1", "unique": true}]}, "ok": 1})");
  CursorReply cursor = parse_cursor_reply(reply);
  std::vector<std::string> names;
  for (auto entry : cursor.batch) names.emplace_back(index_name_of(entry.get_document()));
  EXPECT_EQ(names, (std::vector<std::string>{"_id_", "a_1"}));
  auto parse = [](const Document& entry) { index_name_of(entry); };
  expect_malformed(parse, {{R"({"key": {"a": 1}})", "name"}}, errc::bson_key_missing);
  expect_malformed(parse, {{R"({"key": {"a": 1}, "name": 1})", "name"}}, errc::bson_type_mismatch);
  // The answer for a collection that does not exist, which the driver turns into no indexes.
  try {
    parse_cursor_reply(json(R"({"ok": 0, "code": 26, "codeName": "NamespaceNotFound",
                                "errmsg": "ns does not exist: db.c"})"));
    FAIL() << "expected a ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), server_code::kNamespaceNotFound);
  }
}

// ---- dropIndexes -------------------------------------------------------------------------------

TEST(IndexCommands, DropIndexByNameKeysOrAll) {
  EXPECT_EQ(make_drop_index("db", "c", std::string_view("a_1")),
            json(R"({"dropIndexes": "c", "index": "a_1", "$db": "db"})"));
  EXPECT_EQ(make_drop_index("db", "c", json(R"({"a": 1, "b": -1})").view()),
            json(R"({"dropIndexes": "c", "index": {"a": 1, "b": -1}, "$db": "db"})"));
  EXPECT_EQ(make_drop_all_indexes("db", "c"),
            json(R"({"dropIndexes": "c", "index": "*", "$db": "db"})"));
  DropIndexesCommand options;
  options.max_time_ms = 20;
  options.comment = std::string_view("cleanup");
  WriteConcern concern;
  concern.w = std::int32_t{1};
  concern.wtimeout = std::chrono::milliseconds(100);
  EXPECT_EQ(make_drop_all_indexes("db", "c", options, concern),
            json(R"({"dropIndexes": "c", "index": "*", "maxTimeMS": {"$numberLong": "20"},
                     "comment": "cleanup",
                     "writeConcern": {"w": 1, "wtimeout": {"$numberLong": "100"}},
                     "$db": "db"})"));
}

TEST(IndexCommands, DropIndexRefusesStarEmptyNamesAndEmptyKeys) {
  expect_invalid([] { make_drop_index("db", "c", std::string_view("*")); }, "drop_indexes()");
  expect_invalid([] { make_drop_index("db", "c", std::string_view("")); }, "name is empty");
  expect_invalid([] { make_drop_index("db", "c", Document().view()); }, "keys are empty");
  DropIndexesCommand negative;
  negative.max_time_ms = -5;
  expect_invalid([&] { make_drop_all_indexes("db", "c", negative); }, "maxTimeMS");
  expect_invalid([] { make_drop_all_indexes("", "c"); }, "database name is empty");
}

TEST(IndexReplies, DropIndexesReplies) {
  EXPECT_EQ(parse_drop_indexes_reply(json(R"({"nIndexesWas": 3, "ok": 1})")).n_indexes_was, 3);
  EXPECT_EQ(parse_drop_indexes_reply(
                json(R"({"nIndexesWas": 2, "msg": "non-_id indexes dropped", "ok": 1.0})"))
                .n_indexes_was,
            2);
  EXPECT_FALSE(parse_drop_indexes_reply(json(R"({"ok": 1})")).n_indexes_was);
  try {
    parse_drop_indexes_reply(json(R"({"ok": 0, "code": 27, "codeName": "IndexNotFound",
                                       "errmsg": "index not found with name [x_1]"})"));
    FAIL() << "expected a ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 27);
  }
  EXPECT_THROW(parse_drop_indexes_reply(
                   json(R"({"ok": 1, "writeConcernError": {"code": 100, "errmsg": "no"}})")),
               ServerError);
  auto parse = [](const Document& reply) { parse_drop_indexes_reply(reply); };
  expect_malformed(parse,
                   {{R"({"nIndexesWas": "3", "ok": 1})", "nIndexesWas"},
                    {R"({"ok": 1, "writeConcernError": [1]})", "writeConcernError"}},
                   errc::bson_type_mismatch);
}

// ---- renameCollection --------------------------------------------------------------------------

TEST(IndexCommands, RenameCollectionGoesToAdmin) {
  EXPECT_EQ(make_rename_collection("db", "from", "db", "to"),
            json(R"({"renameCollection": "db.from", "to": "db.to", "$db": "admin"})"));
  RenameCollectionCommand options;
  options.drop_target = true;
  auto comment = json(R"({"why": "move"})");
  options.comment = comment.view();
  WriteConcern concern;
  concern.w = std::string("majority");
  EXPECT_EQ(make_rename_collection("db", "from", "other", "to.sub", options, concern),
            json(R"({"renameCollection": "db.from", "to": "other.to.sub", "dropTarget": true,
                     "comment": {"why": "move"}, "writeConcern": {"w": "majority"},
                     "$db": "admin"})"));
}

TEST(IndexCommands, RenameCollectionRefusesEmptyNames) {
  expect_invalid([] { make_rename_collection("db", "from", "db", ""); },
                 "collection name is empty");
  expect_invalid([] { make_rename_collection("db", "from", "", "to"); }, "database name is empty");
  expect_invalid([] { make_rename_collection("db", "", "db", "to"); }, "collection name is empty");
}

TEST(IndexReplies, RenameCollectionReplies) {
  EXPECT_NO_THROW(parse_rename_collection_reply(json(R"({"ok": 1})")));
  try {
    parse_rename_collection_reply(json(R"({"ok": 0, "code": 48, "codeName": "NamespaceExists",
                                            "errmsg": "target namespace exists"})"));
    FAIL() << "expected a ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 48);
  }
  EXPECT_THROW(parse_rename_collection_reply(json(R"({"code": 1})")), ServerError);
  EXPECT_THROW(parse_rename_collection_reply(
                   json(R"({"ok": 1, "writeConcernError": {"code": 64, "errmsg": "late"}})")),
               ServerError);
  expect_malformed(
      [](const Document& reply) { parse_rename_collection_reply(reply); },
      {{R"({"ok": 1, "writeConcernError": {"code": true}})", "writeConcernError.code"}},
      errc::bson_type_mismatch);
}

}  // namespace
}  // namespace mongoslice::wire
