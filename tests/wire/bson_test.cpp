#include "wire/bson.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "support/expect_error.hpp"
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

// Each type a user can store, appended, read back through its accessor, and compared with the
// bytes libbson's parser makes from the canonical extended JSON of the same value.
TEST(BsonBuilder, AppendsEveryStorableType) {
  const std::uint8_t bytes[] = {0x00, 0x01, 0xff};
  auto scope = Builder{}.append("x", 1).build();
  bson_decimal128_t decimal;
  ASSERT_TRUE(bson_decimal128_from_string("1.5E+3", &decimal));
  Document doc = Builder{}
                     .append_binary("bin", 0x00, bytes)
                     .append_binary("uuid", 0x04, std::span<const std::uint8_t>(bytes, 1))
                     .append_binary("old", 0x02, bytes)
                     .append_binary("user", 0x80, {})
                     .append_regex("re", "^a.*", "xi")
                     .append_regex("re_plain", "b")
                     .append_code("code", "function() { return 1; }")
                     .append_code_with_scope("cws", "f(x)", scope)
                     .append_code_with_scope("cws_empty", "", Document())
                     .append_timestamp("ts", {4294967295u, 1})
                     .append_decimal128("dec", decimal)
                     .append_min_key("min")
                     .append_max_key("max")
                     .build();
  ASSERT_FALSE(validate(doc.view().bytes()));

  Binary bin = doc["bin"].get_binary();
  EXPECT_EQ(bin.subtype, 0x00);
  EXPECT_EQ(std::vector<std::uint8_t>(bin.bytes.begin(), bin.bytes.end()),
            (std::vector<std::uint8_t>{0x00, 0x01, 0xff}));
  EXPECT_EQ(doc["uuid"].get_binary().subtype, 0x04);
  EXPECT_EQ(doc["uuid"].get_binary().bytes.size(), 1u);
  Binary old = doc["old"].get_binary();  // the inner length is not part of the bytes
  EXPECT_EQ(old.subtype, 0x02);
  EXPECT_EQ(std::vector<std::uint8_t>(old.bytes.begin(), old.bytes.end()),
            (std::vector<std::uint8_t>{0x00, 0x01, 0xff}));
  EXPECT_EQ(doc["user"].get_binary().subtype, 0x80);
  EXPECT_TRUE(doc["user"].get_binary().bytes.empty());
  EXPECT_EQ(doc["re"].get_regex().pattern, "^a.*");
  EXPECT_EQ(doc["re"].get_regex().options, "ix");  // sorted
  EXPECT_EQ(doc["re_plain"].get_regex().options, "");
  EXPECT_EQ(doc["code"].get_code(), "function() { return 1; }");
  CodeWithScope cws = doc["cws"].get_code_with_scope();
  EXPECT_EQ(cws.code, "f(x)");
  EXPECT_EQ(cws.scope, scope.view());
  EXPECT_EQ(doc["cws_empty"].get_code_with_scope().code, "");
  EXPECT_TRUE(doc["cws_empty"].get_code_with_scope().scope.empty());
  EXPECT_EQ(doc["ts"].get_timestamp(), (Timestamp{4294967295u, 1}));
  bson_decimal128_t read = doc["dec"].get_decimal128();
  EXPECT_EQ(read.high, decimal.high);
  EXPECT_EQ(read.low, decimal.low);
  EXPECT_EQ(doc["min"].type(), Type::kMinKey);
  EXPECT_EQ(doc["max"].type(), Type::kMaxKey);

  EXPECT_EQ(doc, Document::from_json(R"json({
      "bin": {"$binary": {"base64": "AAH/", "subType": "00"}},
      "uuid": {"$binary": {"base64": "AA==", "subType": "04"}},
      "old": {"$binary": {"base64": "AAH/", "subType": "02"}},
      "user": {"$binary": {"base64": "", "subType": "80"}},
      "re": {"$regularExpression": {"pattern": "^a.*", "options": "ix"}},
      "re_plain": {"$regularExpression": {"pattern": "b", "options": ""}},
      "code": {"$code": "function() { return 1; }"},
      "cws": {"$code": "f(x)", "$scope": {"x": 1}},
      "cws_empty": {"$code": "", "$scope": {}},
      "ts": {"$timestamp": {"t": 4294967295, "i": 1}},
      "dec": {"$numberDecimal": "1.5E+3"},
      "min": {"$minKey": 1}, "max": {"$maxKey": 1}})json"))
      << doc.to_json();
}

// A NUL inside code is kept (the builder writes code itself: libbson's bson_append_code, and
// its JSON parser for "$code", stop at the first NUL).
TEST(BsonBuilder, CodeKeepsEmbeddedNul) {
  const std::string code("f(\"\0\")", 6);
  auto scope = Builder{}.append("x", 1).build();
  auto doc = Builder{}.append_code("c", code).append_code_with_scope("s", code, scope).build();
  ASSERT_FALSE(validate(doc.view().bytes()));
  EXPECT_EQ(doc["c"].get_code(), code);
  EXPECT_EQ(doc["s"].get_code_with_scope().code, code);
  EXPECT_EQ(doc["s"].get_code_with_scope().scope, scope.view());
  // The exact bytes: type 0x0D, "c", then int32 7, the 6 bytes and a NUL.
  const std::uint8_t expected_code[] = {0x0D, 'c', 0, 7, 0, 0, 0, 'f', '(', '"', 0, '"', ')', 0};
  ASSERT_GE(doc.size(), 4 + sizeof expected_code);
  EXPECT_EQ(std::memcmp(doc.data() + 4, expected_code, sizeof expected_code), 0);
}

TEST(BsonElement, NewAccessorsRefuseOtherTypes) {
  auto doc = Builder{}.append("n", 1).build();
  for (auto read : std::vector<void (*)(const Element&)>{
           [](const Element& e) { (void)e.get_binary(); },
           [](const Element& e) { (void)e.get_regex(); },
           [](const Element& e) { (void)e.get_code(); },
           [](const Element& e) { (void)e.get_code_with_scope(); },
           [](const Element& e) { (void)e.get_timestamp(); },
           [](const Element& e) { (void)e.get_decimal128(); },
       }) {
    Error e = mongoslice::testing::expect_error([&] { read(doc["n"]); });
    EXPECT_EQ(e.code(), errc::bson_type_mismatch);
    EXPECT_NE(std::string(e.what()).find("'n' is int, expected"), std::string::npos) << e.what();
  }
}

// BSON ends keys and regex parts at a NUL, so the builder refuses one there, quoting the whole
// key (escaped) and appending nothing.
TEST(BsonBuilder, NulInKeysAndRegexIsRefusedWithTheWholeKey) {
  Builder builder;
  builder.append("before", 1);
  Error key_error =
      mongoslice::testing::expect_error([&] { builder.append(std::string_view("a\0b", 3), 1); });
  EXPECT_EQ(key_error.code(), errc::invalid_argument);
  EXPECT_NE(std::string(key_error.what()).find("'a\\x00b'"), std::string::npos) << key_error.what();
  EXPECT_NE(std::string(key_error.what()).find("NUL"), std::string::npos) << key_error.what();
  Error code_key = mongoslice::testing::expect_error(
      [&] { builder.append_code(std::string_view("c\0", 2), "f()"); });
  EXPECT_EQ(code_key.code(), errc::invalid_argument);
  Error regex_error = mongoslice::testing::expect_error(
      [&] { builder.append_regex("r", std::string_view("a\0b", 3), "i"); });
  EXPECT_EQ(regex_error.code(), errc::invalid_argument);
  EXPECT_NE(std::string(regex_error.what()).find("'a\\x00b'"), std::string::npos)
      << regex_error.what();
  EXPECT_THROW(builder.append_regex("r", "a", std::string_view("i\0", 2)), Error);
  EXPECT_EQ(builder.build(), Builder{}.append("before", 1).build());
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

// A peer's double is converted only when its truncation fits; a cast of any other double to an
// integer would be undefined behaviour.
TEST(BsonElement, AsInt64RefusesDoublesOutOfRange) {
  constexpr double kTwoTo63 = 9223372036854775808.0;
  auto doc = Builder{}
                 .append("big", 1e300)
                 .append("two_to_63", kTwoTo63)
                 .append("below_2_63", 9223372036854774784.0)  // the largest double below 2^63
                 .append("minus_2_63", -kTwoTo63)
                 .append("nan", std::numeric_limits<double>::quiet_NaN())
                 .append("inf", std::numeric_limits<double>::infinity())
                 .append("minus_inf", -std::numeric_limits<double>::infinity())
                 .append("fraction", -1.9)
                 .build();
  for (const char* key : {"big", "two_to_63", "nan", "inf", "minus_inf"}) {
    auto error = testing::expect_error([&] { (void)doc[key].as_int64(); });
    EXPECT_EQ(error.code(), errc::bson_type_mismatch) << key;
    EXPECT_NE(std::string(error.what()).find("'" + std::string(key) + "'"), std::string::npos)
        << error.what();
  }
  EXPECT_NE(std::string(testing::expect_error([&] { (void)doc["big"].as_int64(); }).what())
                .find("1e+300"),
            std::string::npos);
  EXPECT_NE(
      std::string(testing::expect_error([&] { (void)doc["nan"].as_int64(); }).what()).find("nan"),
      std::string::npos);
  EXPECT_EQ(doc["below_2_63"].as_int64(), 9223372036854774784);
  EXPECT_EQ(doc["minus_2_63"].as_int64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(doc["fraction"].as_int64(), -1);  // truncated toward zero, as before
}

TEST(BsonElement, AsInt32ConvertsOnlyWhatFits) {
  auto doc = Builder{}
                 .append("int32", std::int32_t{-7})
                 .append("int64_max", std::int64_t{INT32_MAX})
                 .append("int64_over", std::int64_t{INT32_MAX} + 1)
                 .append("int64_under", std::int64_t{INT32_MIN} - 1)
                 .append("double_max", 2147483647.9)
                 .append("double_min", -2147483648.9)
                 .append("double_over", 2147483648.0)
                 .append("double_under", -2147483649.0)
                 .append("nan", std::numeric_limits<double>::quiet_NaN())
                 .append("text", "7")
                 .build();
  EXPECT_EQ(doc["int32"].as_int32(), -7);
  EXPECT_EQ(doc["int64_max"].as_int32(), INT32_MAX);
  EXPECT_EQ(doc["double_max"].as_int32(), INT32_MAX);
  EXPECT_EQ(doc["double_min"].as_int32(), INT32_MIN);
  for (const char* key :
       {"int64_over", "int64_under", "double_over", "double_under", "nan", "text"}) {
    auto error = testing::expect_error([&] { (void)doc[key].as_int32(); });
    EXPECT_EQ(error.code(), errc::bson_type_mismatch) << key;
    EXPECT_NE(std::string(error.what()).find("'" + std::string(key) + "'"), std::string::npos)
        << error.what();
  }
  EXPECT_NE(std::string(testing::expect_error([&] { (void)doc["int64_over"].as_int32(); }).what())
                .find("2147483648"),
            std::string::npos);
}

// system_clock counts nanoseconds here: a date of more than about 292 years from 1970 in
// milliseconds would overflow the conversion.
TEST(BsonElement, DateTimeOutsideTheClockIsAnError) {
  auto doc = Document::from_json(R"({"max": {"$date": {"$numberLong": "9223372036854775807"}},
      "min": {"$date": {"$numberLong": "-9223372036854775808"}},
      "epoch": {"$date": {"$numberLong": "0"}},
      "year_2200": {"$date": {"$numberLong": "7258118400000"}}})");
  for (const char* key : {"max", "min"}) {
    auto error = testing::expect_error([&] { (void)doc[key].get_date_time(); });
    EXPECT_EQ(error.code(), errc::bson_type_mismatch) << key;
    EXPECT_NE(std::string(error.what()).find("'" + std::string(key) + "'"), std::string::npos)
        << error.what();
  }
  EXPECT_EQ(doc["epoch"].get_date_time().time_since_epoch().count(), 0);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(
                doc["year_2200"].get_date_time().time_since_epoch())
                .count(),
            7258118400000);
}

// A View's constructor takes any bytes; libbson refuses a length prefix that disagrees with the
// size, and what it leaves behind then must never be used.
TEST(BsonView, AsBsonTRefusesInconsistentBytes) {
  const std::uint8_t long_prefix[] = {6, 0, 0, 0, 0};    // says 6 bytes, has 5
  const std::uint8_t no_terminator[] = {5, 0, 0, 0, 1};  // the last byte is not 0
  const std::uint8_t too_short[] = {3, 0, 0};
  for (View view : {View(long_prefix, sizeof long_prefix),
                    View(no_terminator, sizeof no_terminator), View(too_short, sizeof too_short)}) {
    EXPECT_EQ(testing::expect_error([&] { (void)view.as_bson_t(); }).code(), errc::invalid_bson);
  }
}

TEST(BsonView, InconsistentBytesAreNeitherPrintedNorAppended) {
  const std::uint8_t long_prefix[] = {6, 0, 0, 0, 0};
  const View view(long_prefix, sizeof long_prefix);
  EXPECT_EQ(view.to_json(), "<invalid BSON>");
  Builder builder;
  EXPECT_EQ(testing::expect_error([&] { builder.append("doc", view); }).code(), errc::invalid_bson);
  EXPECT_EQ(testing::expect_error([&] { builder.append_array("array", view); }).code(),
            errc::invalid_bson);
  EXPECT_EQ(testing::expect_error([&] { builder.concat(view); }).code(), errc::invalid_bson);
  // Nothing was appended: the builder goes on as if the calls had not been made.
  EXPECT_EQ(builder.append("ok", 1).build(), Document::from_json(R"({"ok": 1})"));
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

// Server error codes are int32. A code that no int32 holds is a malformed reply, not a
// ServerError with a made-up code (and casting 1e300 to an integer would be undefined).
TEST(ServerErrorTest, CodeOutOfRangeIsAnError) {
  for (const char* json :
       {R"({"ok": 0, "code": 1e300})", R"({"ok": 0, "code": {"$numberDouble": "NaN"}})",
        R"({"ok": 0, "code": {"$numberDouble": "-Infinity"}})",
        R"({"ok": 0, "code": {"$numberLong": "1099511627776"}})"}) {
    auto error =
        testing::expect_error([&] { (void)ServerError::from_reply(Document::from_json(json)); });
    EXPECT_EQ(error.code(), errc::bson_type_mismatch) << json;
    EXPECT_NE(std::string(error.what()).find("'code'"), std::string::npos) << error.what();
  }
  auto as_double = ServerError::from_reply(Document::from_json(R"({"ok": 0, "code": 11000.0})"));
  ASSERT_TRUE(as_double.has_value());
  EXPECT_EQ(as_double->server_code(), 11000);
  auto as_long =
      ServerError::from_reply(Document::from_json(R"({"ok": 0, "code": {"$numberLong": "43"}})"));
  ASSERT_TRUE(as_long.has_value());
  EXPECT_EQ(as_long->server_code(), 43);
}

// Reading errors quote the key whole and escaped too: a missing key holding a NUL, a control
// byte in a stored key, a long key (past any small-string buffer).
TEST(BsonView, ReadErrorsQuoteTheWholeKeyEscaped) {
  const std::string long_key(80, 'k');
  Document doc = Builder{}.append("k\x01", 1).append(long_key + "'", 2).build();
  Error missing = testing::expect_error([&] { doc[std::string_view("a\0b", 3)]; });
  EXPECT_EQ(missing.code(), errc::bson_key_missing);
  EXPECT_NE(std::string(missing.what()).find("field 'a\\x00b' is missing"), std::string::npos)
      << missing.what();
  Error control = testing::expect_error([&] { doc["k\x01"].get_string(); });
  EXPECT_EQ(control.code(), errc::bson_type_mismatch);
  EXPECT_NE(std::string(control.what()).find("field 'k\\x01' is int"), std::string::npos)
      << control.what();
  Error long_one = testing::expect_error([&] { doc[long_key + "'"].get_bool(); });
  EXPECT_NE(std::string(long_one.what()).find("field '" + long_key + "\\'' is int"),
            std::string::npos)
      << long_one.what();
}

}  // namespace
}  // namespace mongoslice::bson
