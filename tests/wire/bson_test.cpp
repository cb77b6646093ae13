#include "wire/bson.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "wire/error.hpp"

namespace mongoslice::bson {
namespace {

TEST(BsonBuilder, BuildsNestedDocumentsAndArrays) {
  Builder builder;
  builder.append("find", "users")
      .open_document("filter")
      .append("age", 42)
      .close()
      .open_array("tags")
      .append_value("a")
      .append_value(std::int64_t{7})
      .close()
      .append("batchSize", 100)
      .append("ratio", 0.5)
      .append("flag", true)
      .append("nothing", nullptr);
  Document doc = builder.build();

  EXPECT_EQ(doc["find"].get_string(), "users");
  EXPECT_EQ(doc["filter"].get_document()["age"].get_int32(), 42);
  View tags = doc["tags"].get_array();
  std::vector<std::string> keys;
  for (auto element : tags) keys.emplace_back(element.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(tags["1"].get_int64(), 7);
  EXPECT_EQ(doc["batchSize"].as_int64(), 100);
  EXPECT_DOUBLE_EQ(doc["ratio"].as_double(), 0.5);
  EXPECT_TRUE(doc["flag"].get_bool());
  EXPECT_EQ(doc["nothing"].type(), Type::kNull);
  EXPECT_EQ(doc, Document::from_json(R"({"find": "users", "filter": {"age": 42},
      "tags": ["a", {"$numberLong": "7"}], "batchSize": 100, "ratio": 0.5, "flag": true,
      "nothing": null})"));
}

TEST(BsonBuilder, MisuseIsALogicError) {
  Builder builder;
  EXPECT_THROW(builder.close(), std::logic_error);
  EXPECT_THROW(builder.append_value(1), std::logic_error);
  builder.open_document("x");
  EXPECT_THROW(builder.build(), std::logic_error);
}

TEST(BsonView, TypeMismatchNamesKeyAndTypes) {
  auto doc = Document::from_json(R"({"n": "text"})");
  try {
    (void)doc["n"].get_int32();
    FAIL() << "expected a type mismatch";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), errc::bson_type_mismatch);
    EXPECT_NE(std::string(e.what()).find("'n' is string, expected int"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW((void)doc["missing"], Error);
  EXPECT_FALSE(doc.find("missing").has_value());
}

TEST(BsonView, EmptyDocumentIteratesNothing) {
  View empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.begin(), empty.end());
  EXPECT_EQ(Document().view(), empty);
  EXPECT_EQ(empty.to_json(), "{ }");
}

TEST(BsonValidate, RejectsMalformedBytes) {
  auto doc = Document::from_json(R"({"a": "hello", "b": {"c": 1}})");
  std::vector<std::uint8_t> bytes(doc.data(), doc.data() + doc.size());
  EXPECT_FALSE(validate(bytes));

  auto truncated = bytes;
  truncated.pop_back();
  EXPECT_EQ(validate(truncated), errc::invalid_bson);

  auto wrong_length = bytes;
  wrong_length[0] += 1;
  EXPECT_EQ(validate(wrong_length), errc::invalid_bson);

  auto bad_utf8 = bytes;
  auto pos = std::string(bytes.begin(), bytes.end()).find("hello");
  bad_utf8[pos] = 0xff;
  EXPECT_EQ(validate(bad_utf8), errc::invalid_bson);

  EXPECT_THROW(Document::from_bytes(truncated), Error);
  EXPECT_EQ(validate(std::span<const std::uint8_t>{}), errc::invalid_bson);
}

TEST(ServerErrorTest, ParsesOkZeroReplies) {
  auto reply = Document::from_json(R"({"ok": 0, "errmsg": "cursor id 7 not found",
      "code": 43, "codeName": "CursorNotFound", "errorLabels": ["ResumableChangeStreamError"]})");
  auto error = ServerError::from_reply(reply);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->server_code(), 43);
  EXPECT_EQ(error->code(), std::error_code(43, server_category()));
  EXPECT_EQ(error->code_name(), "CursorNotFound");
  EXPECT_TRUE(error->has_error_label("ResumableChangeStreamError"));
  EXPECT_TRUE(
      std::string(error->what()).starts_with("cursor id 7 not found (code 43, CursorNotFound)"))
      << error->what();
  EXPECT_FALSE(ServerError::from_reply(Document::from_json(R"({"ok": 1.0})")).has_value());
  EXPECT_TRUE(ServerError::from_reply(Document::from_json(R"({"n": 1})")).has_value());
}

}  // namespace
}  // namespace mongoslice::bson
