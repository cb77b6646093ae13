#include "ops/catalog_ops.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ops/commands.hpp"
#include "support/ops_expectations.hpp"
#include "wire/error.hpp"

namespace mongoslice::wire {
namespace {

using bson::Document;
using testing::expect_malformed;
using testing::json;
TEST(CatalogCommands, ListCollectionsDefaultsSendAnEmptyCursor) {
  EXPECT_EQ(make_list_collections("db"),
            json(R"({"listCollections": 1, "cursor": {}, "$db": "db"})"));
}

TEST(CatalogCommands, ListCollectionsWithEveryOption) {
  auto filter = json(R"({"name": {"$regex": "^a"}})");
  auto comment = json(R"({"comment": {"who": "test"}})");
  ListCollectionsCommand options;
  options.filter = filter.view();
  options.name_only = true;
  options.authorized_collections = true;
  options.batch_size = 5;
  options.comment = comment["comment"];
  EXPECT_EQ(make_list_collections("db", options),
            json(R"({"listCollections": 1, "filter": {"name": {"$regex": "^a"}},
                     "nameOnly": true, "authorizedCollections": true,
                     "cursor": {"batchSize": 5}, "comment": {"who": "test"}, "$db": "db"})"));
}

TEST(CatalogCommands, CreateWithoutAndWithOptions) {
  EXPECT_EQ(make_create("db", "c"), json(R"({"create": "c", "$db": "db"})"));
  auto validator = json(R"({"x": {"$type": "int"}})");
  auto collation = json(R"({"locale": "fr"})");
  auto comment = json(R"({"comment": "why"})");
  CreateCommand options;
  options.capped = true;
  options.size = 4096;
  options.max = 10;
  options.validator = validator.view();
  options.validation_level = "moderate";
  options.validation_action = "warn";
  options.collation = collation.view();
  options.comment = comment["comment"];
  EXPECT_EQ(make_create("db", "c", options),
            json(R"({"create": "c", "capped": true, "size": {"$numberLong": "4096"},
                     "max": {"$numberLong": "10"}, "validator": {"x": {"$type": "int"}},
                     "validationLevel": "moderate", "validationAction": "warn",
                     "collation": {"locale": "fr"}, "comment": "why", "$db": "db"})"));
  // capped: false is an explicit choice, and is sent.
  CreateCommand not_capped;
  not_capped.capped = false;
  EXPECT_EQ(make_create("db", "c", not_capped),
            json(R"({"create": "c", "capped": false, "$db": "db"})"));
}

TEST(CatalogCommands, DropDatabase) {
  EXPECT_EQ(make_drop_database("db"), json(R"({"dropDatabase": 1, "$db": "db"})"));
}

TEST(CatalogCommands, ListDatabasesGoesToAdmin) {
  EXPECT_EQ(make_list_databases(), json(R"({"listDatabases": 1, "$db": "admin"})"));
  auto filter = json(R"({"name": "x"})");
  auto comment = json(R"({"comment": 7})");
  ListDatabasesCommand options;
  options.filter = filter.view();
  options.name_only = true;
  options.authorized_databases = true;
  options.comment = comment["comment"];
  EXPECT_EQ(make_list_databases(options),
            json(R"({"listDatabases": 1, "filter": {"name": "x"}, "nameOnly": true,
                     "authorizedDatabases": true, "comment": 7, "$db": "admin"})"));
}

// ---- Reply parsers ----------------------------------------------------------------------------

TEST(CatalogReplies, ListCollectionsReplyIsACursorWithNames) {
  auto reply = json(R"({"cursor": {"id": 0, "ns": "db.$cmd.listCollections", "firstBatch": [
      {"name": "a", "type": "collection", "options": {}},
      {"name": "v", "type": "view"}]}, "ok": 1})");
  CursorReply cursor = parse_cursor_reply(reply);
  EXPECT_EQ(cursor.collection(), "$cmd.listCollections");
  std::vector<std::string> names;
  for (auto entry : cursor.batch) names.emplace_back(collection_name_of(entry.get_document()));
  EXPECT_EQ(names, (std::vector<std::string>{"a", "v"}));
}

TEST(CatalogReplies, ListCollectionsEntryWithoutAStringName) {
  auto parse = [](const Document& entry) { collection_name_of(entry); };
  expect_malformed(parse, {{R"({"type": "collection"})", "name"}}, errc::bson_key_missing);
  expect_malformed(parse, {{R"({"name": 3})", "name"}, {R"({"name": null})", "name"}},
                   errc::bson_type_mismatch);
}

TEST(CatalogReplies, OkReplies) {
  EXPECT_NO_THROW(parse_ok_reply(json(R"({"ok": 1})")));
  EXPECT_NO_THROW(parse_ok_reply(json(R"({"dropped": "db", "ok": 1.0})")));
  try {
    parse_ok_reply(json(R"({"ok": 0, "code": 48, "codeName": "NamespaceExists",
                            "errmsg": "Collection db.c already exists."})"));
    FAIL() << "expected a ServerError";
  } catch (const ServerError& e) {
    EXPECT_EQ(e.server_code(), 48);
    EXPECT_NE(e.errmsg().find("already exists"), std::string::npos);
  }
  EXPECT_THROW(parse_ok_reply(json(R"({"dropped": "db"})")), ServerError);
}

TEST(CatalogReplies, ListDatabases) {
  auto reply = json(R"({"databases": [
      {"name": "admin", "sizeOnDisk": {"$numberLong": "8192"}, "empty": false},
      {"name": "app", "sizeOnDisk": 4096.0, "empty": false}],
      "totalSize": {"$numberLong": "12288"}, "ok": 1})");
  auto parsed = parse_list_databases_reply(reply);
  ASSERT_EQ(parsed.databases.size(), 2u);
  EXPECT_EQ(parsed.databases[1]["name"].get_string(), "app");
  EXPECT_EQ(parsed.total_size, 12288);

  auto names_only = parse_list_databases_reply(json(R"({"databases": [{"name": "a"}], "ok": 1})"));
  ASSERT_EQ(names_only.databases.size(), 1u);
  EXPECT_FALSE(names_only.total_size);
  EXPECT_EQ(parse_list_databases_reply(json(R"({"databases": [], "totalSize": 0.0, "ok": 1})"))
                .total_size,
            0);
}

TEST(CatalogReplies, MalformedListDatabasesReplies) {
  auto parse = [](const Document& reply) { parse_list_databases_reply(reply); };
  expect_malformed(parse,
                   {{R"({"ok": 1})", "databases"},
                    {R"({"databases": [{"sizeOnDisk": 1}], "ok": 1})", "databases.0.name"}},
                   errc::bson_key_missing);
  expect_malformed(parse,
                   {{R"({"databases": {"name": "a"}, "ok": 1})", "databases"},
                    {R"({"databases": ["a"], "ok": 1})", "databases.0"},
                    {R"({"databases": [{"name": "a"}, {"name": 1}], "ok": 1})", "databases.1.name"},
                    {R"({"databases": [], "totalSize": "big", "ok": 1})", "totalSize"}},
                   errc::bson_type_mismatch);
  EXPECT_THROW(parse_list_databases_reply(
                   json(R"({"ok": 0, "code": 13, "codeName": "Unauthorized", "errmsg": "no"})")),
               ServerError);
}

}  // namespace
}  // namespace mongoslice::wire
