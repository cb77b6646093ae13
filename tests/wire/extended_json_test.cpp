#include "wire/extended_json.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "support/expect_error.hpp"
#include "wire/bson.hpp"
#include "wire/error.hpp"

namespace mongoslice::bson {
namespace {

using mongoslice::testing::expect_error;

// The message of the error parsing `json` throws; fails the test when it throws none, or
// another code than invalid_bson.
std::string rejection(const std::string& json) {
  const Error e = expect_error([&] { (void)parse_extended_json(json); });
  EXPECT_EQ(e.code(), errc::invalid_bson) << json;
  return e.what();
}

void expect_rejected(const std::string& json, const std::string& message_part) {
  const std::string message = rejection(json);
  EXPECT_NE(message.find(message_part), std::string::npos)
      << json << "\nmessage: " << message << "\nexpected it to hold: " << message_part;
}

std::vector<std::string> keys_of(View view) {
  std::vector<std::string> keys;
  for (const auto& element : view) keys.emplace_back(element.key());
  return keys;
}

std::int64_t date_millis(const Element& e) {
  EXPECT_EQ(e.type(), Type::kDateTime);
  bson_iter_t iter = e.iter();
  return bson_iter_date_time(&iter);
}

TEST(ExtendedJson, CanonicalWrappersGiveTheirTypes) {
  const Document doc = parse_extended_json(R"({
      "oid": {"$oid": "56e1fc72e0c917e9c4714161"},
      "int": {"$numberInt": "-2147483648"},
      "long": {"$numberLong": "9223372036854775807"},
      "double": {"$numberDouble": "-1.5E+3"},
      "inf": {"$numberDouble": "-Infinity"},
      "nan": {"$numberDouble": "NaN"},
      "decimal": {"$numberDecimal": "1.5E+3"},
      "binary": {"$binary": {"base64": "AQID", "subType": "80"}},
      "code": {"$code": "x = 1"},
      "scoped": {"$code": "x", "$scope": {"x": {"$numberLong": "1"}}},
      "ts": {"$timestamp": {"t": 4294967295, "i": 7}},
      "regex": {"$regularExpression": {"pattern": "^a", "options": "xi"}},
      "date": {"$date": {"$numberLong": "-9223372036854775808"}},
      "min": {"$minKey": 1},
      "max": {"$maxKey": 1}
  })");
  char hex[25];
  bson_oid_to_string(&doc["oid"].get_oid(), hex);
  EXPECT_STREQ(hex, "56e1fc72e0c917e9c4714161");
  EXPECT_EQ(doc["int"].get_int32(), std::numeric_limits<std::int32_t>::min());
  EXPECT_EQ(doc["long"].get_int64(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(doc["double"].get_double(), -1500.0);
  EXPECT_EQ(doc["inf"].get_double(), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(doc["nan"].get_double()));
  bson_decimal128_t decimal = doc["decimal"].get_decimal128();
  char decimal_text[BSON_DECIMAL128_STRING];
  bson_decimal128_to_string(&decimal, decimal_text);
  EXPECT_STREQ(decimal_text, "1.5E+3");
  const Binary binary = doc["binary"].get_binary();
  EXPECT_EQ(binary.subtype, 0x80);
  EXPECT_EQ(std::vector<std::uint8_t>(binary.bytes.begin(), binary.bytes.end()),
            (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(doc["code"].get_code(), "x = 1");
  const CodeWithScope scoped = doc["scoped"].get_code_with_scope();
  EXPECT_EQ(scoped.code, "x");
  EXPECT_EQ(scoped.scope["x"].get_int64(), 1);
  EXPECT_EQ(doc["ts"].get_timestamp(), (Timestamp{4294967295u, 7}));
  EXPECT_EQ(doc["regex"].get_regex().pattern, "^a");
  EXPECT_EQ(doc["regex"].get_regex().options, "ix");  // sorted, as BSON asks
  EXPECT_EQ(date_millis(doc["date"]), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(doc["min"].type(), Type::kMinKey);
  EXPECT_EQ(doc["max"].type(), Type::kMaxKey);
}

TEST(ExtendedJson, DeprecatedTypes) {
  const Document doc = parse_extended_json(R"({
      "symbol": {"$symbol": "s\u0000t"},
      "undefined": {"$undefined": true},
      "pointer": {"$dbPointer": {"$id": {"$oid": "56e1fc72e0c917e9c4714161"}, "$ref": "b"}}
  })");
  EXPECT_EQ(doc["symbol"].type(), Type::kSymbol);
  bson_iter_t iter = doc["symbol"].iter();
  std::uint32_t length = 0;
  const char* symbol = bson_iter_symbol(&iter, &length);
  EXPECT_EQ(std::string(symbol, length), std::string("s\0t", 3));
  EXPECT_EQ(doc["undefined"].type(), Type::kUndefined);
  EXPECT_EQ(doc["pointer"].type(), Type::kDbPointer);
  iter = doc["pointer"].iter();
  const char* collection = nullptr;
  const bson_oid_t* oid = nullptr;
  bson_iter_dbpointer(&iter, &length, &collection, &oid);
  EXPECT_EQ(std::string(collection, length), "b");
  char hex[25];
  bson_oid_to_string(oid, hex);
  EXPECT_STREQ(hex, "56e1fc72e0c917e9c4714161");
}

TEST(ExtendedJson, RelaxedNumbersTakeTheSmallestTypeThatHoldsThem) {
  const Document doc = parse_extended_json(R"({"a": 2147483647, "b": -2147483649,
      "c": 9223372036854775807, "d": 9223372036854775808, "e": 1.5, "f": 1e2, "g": -0.0,
      "h": -9223372036854775808, "i": 0.1, "j": 1.7976931348623157e308})");
  EXPECT_EQ(doc["a"].type(), Type::kInt32);
  EXPECT_EQ(doc["b"].get_int64(), -2147483649LL);
  EXPECT_EQ(doc["c"].get_int64(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(doc["d"].get_double(), 9223372036854775808.0);
  EXPECT_EQ(doc["e"].get_double(), 1.5);
  EXPECT_EQ(doc["f"].get_double(), 100.0);
  EXPECT_EQ(doc["g"].type(), Type::kDouble);
  EXPECT_TRUE(std::signbit(doc["g"].get_double()));
  EXPECT_EQ(doc["h"].get_int64(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(doc["i"].get_double(), 0.1);  // read exactly: the nearest double
  EXPECT_EQ(doc["j"].get_double(), std::numeric_limits<double>::max());
  expect_rejected(R"({"x": 1e400})", "beyond the range of a double");
}

TEST(ExtendedJson, RelaxedDatesAreIso8601) {
  auto millis = [](const std::string& text) {
    return date_millis(parse_extended_json(R"({"d": {"$date": ")" + text + R"("}})")["d"]);
  };
  EXPECT_EQ(millis("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(millis("2012-12-24T12:15:30.501Z"), 1356351330501);
  EXPECT_EQ(millis("2012-12-24T12:15:30.5Z"), 1356351330500);
  EXPECT_EQ(millis("2012-12-24T12:15:30.501999Z"), 1356351330501);  // past milliseconds: dropped
  EXPECT_EQ(millis("2012-12-24T13:15:30.501+01:00"), 1356351330501);
  EXPECT_EQ(millis("2012-12-24T11:45:30.501-0030"), 1356351330501);
  EXPECT_EQ(millis("1960-02-29T00:00:00Z"), (-3653 + 31 + 28) * 86400000LL);  // 1960: leap
  for (const char* bad : {"2012-12-24T12:15:30", "2012-13-01T00:00:00Z", "2011-02-29T00:00:00Z",
                          "2012-12-24 12:15:30Z", "2012-12-24T24:00:00Z", "2012-12-24T12:15:30.Z",
                          "12-12-24T12:15:30Z", "2012-12-24T12:15:30Zjunk"}) {
    expect_rejected(std::string(R"({"d": {"$date": ")") + bad + R"("}})", "ISO-8601");
  }
  expect_rejected(R"({"d": {"$date": 42}})", "$date must be {\"$numberLong\"");
  expect_rejected(R"({"d": {"$date": {"$numberLong": 42}}})", "must be a string");
  expect_rejected(R"({"d": {"$date": {"$numberInt": "42"}}})", "unexpected key \"$numberInt\"");
}

TEST(ExtendedJson, LegacyFormsAreAccepted) {
  const Document doc = parse_extended_json(R"({
      "binary": {"$type": "5", "$binary": "AQ=="},
      "uuid": {"$uuid": "73ffd264-44b3-4c69-90e8-e7d1dfc035d4"},
      "regex": {"$regex": "^a", "$options": "mi"}
  })");
  EXPECT_EQ(doc["binary"].get_binary().subtype, 5);
  EXPECT_EQ(doc["binary"].get_binary().bytes.size(), 1u);
  const Binary uuid = doc["uuid"].get_binary();
  EXPECT_EQ(uuid.subtype, 4);
  ASSERT_EQ(uuid.bytes.size(), 16u);
  EXPECT_EQ(uuid.bytes[0], 0x73);
  EXPECT_EQ(uuid.bytes[15], 0xd4);
  EXPECT_EQ(doc["regex"].get_regex().pattern, "^a");
  EXPECT_EQ(doc["regex"].get_regex().options, "im");
}

TEST(ExtendedJson, QueryOperatorsSharingAWrapperNameStayDocuments) {
  const Document doc = parse_extended_json(R"({
      "a": {"$regex": {"$regularExpression": {"pattern": "x", "options": ""}}, "$options": "i"},
      "b": {"$regex": "^x"},
      "c": {"$type": "string"},
      "d": {"$type": {"$numberInt": "2"}},
      "e": {"$set": {"x": 1}, "$gt": 3, "$$exists": true, "$ref": "c", "$id": 1}
  })");
  const View a = doc["a"].get_document();
  EXPECT_EQ(keys_of(a), (std::vector<std::string>{"$regex", "$options"}));
  EXPECT_EQ(a["$regex"].get_regex().pattern, "x");
  EXPECT_EQ(doc["b"].get_document()["$regex"].get_string(), "^x");
  EXPECT_EQ(doc["c"].get_document()["$type"].get_string(), "string");
  EXPECT_EQ(doc["d"].get_document()["$type"].get_int32(), 2);
  EXPECT_EQ(keys_of(doc["e"].get_document()),
            (std::vector<std::string>{"$set", "$gt", "$$exists", "$ref", "$id"}));
}

TEST(ExtendedJson, KeepsKeyOrderAndTopLevelArrays) {
  const Document doc = parse_extended_json(R"({"z": 1, "a": 2, "m": {"y": 1, "b": 2}})");
  EXPECT_EQ(keys_of(doc), (std::vector<std::string>{"z", "a", "m"}));
  EXPECT_EQ(keys_of(doc["m"].get_document()), (std::vector<std::string>{"y", "b"}));
  const Document array = parse_extended_json(R"([{"$match": {}}, 2, "x"])");
  EXPECT_EQ(keys_of(array), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(array["2"].get_string(), "x");
  EXPECT_EQ(parse_extended_json("{}"), Document());
}

TEST(ExtendedJson, LongKeysAndStringsAndEscapes) {
  const std::string long_key(100000, 'k');
  const std::string long_value(300000, 'v');
  const Document doc = parse_extended_json(R"({")" + long_key + R"(": ")" + long_value +
                                           R"(", "\u00e9\ud83d\ude00\"": "a\u0000b\n"})");
  EXPECT_EQ(doc[long_key].get_string(), long_value);
  EXPECT_EQ(doc["\xc3\xa9\xf0\x9f\x98\x80\""].get_string(), std::string("a\0b\n", 4));
}

TEST(ExtendedJson, NulBytesAreAllowedInValuesOnly) {
  const Document doc = parse_extended_json(R"({"s": "a\u0000b", "c": {"$code": "x\u0000y"}})");
  EXPECT_EQ(doc["s"].get_string(), std::string("a\0b", 3));
  EXPECT_EQ(doc["c"].get_code(), std::string("x\0y", 3));
  expect_rejected(R"({"a\u0000": 1})", R"("a\x00" holds a NUL byte)");
  expect_rejected(R"({"a": {"b\u0000c": 1}})", R"("a.b\x00c": the key)");
  expect_rejected(R"({"r": {"$regularExpression": {"pattern": "a\u0000", "options": ""}}})",
                  "pattern cannot hold a NUL byte");
  expect_rejected(R"({"r": {"$regex": "a", "$options": "i\u0000"}})",
                  "options cannot hold a NUL byte");
}

TEST(ExtendedJson, RepeatedKeysAreRefused) {
  expect_rejected(R"({"a": 1, "b": 2, "a": 3})", R"("a": the key is repeated)");
  std::string many = "{";
  for (int i = 0; i < 20; ++i) many += "\"k" + std::to_string(i) + "\": 1, ";
  many += R"("k7": 2})";
  expect_rejected(many, R"("k7": the key is repeated)");
  expect_rejected(
      R"({"x": {"$oid": "56e1fc72e0c917e9c4714161", "$oid": "56e1fc72e0c917e9c4714161"}})",
      "$oid repeats the key");
}

TEST(ExtendedJson, ErrorsNameTheKeyPath) {
  expect_rejected(R"({"a": {"b": {"$numberInt": "x"}}})",
                  R"(extended JSON "a.b": $numberInt must be a string holding a 32-bit integer)");
  expect_rejected(R"({"a": [1, {"$oid": 1}]})", R"("a.1": $oid must be a string, not a number)");
  expect_rejected(R"({"c": {"$code": "", "$scope": {"v": {"$minKey": 2}}}})",
                  R"("c.$scope.v": $minKey must be the number 1)");
}

TEST(ExtendedJson, WrappersMustBeExact) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"x": {"$oid": "56e1fc72e0c917e9c471416"}})", "24 hexadecimal digits"},
      {R"({"x": {"$oid": "56e1fc72e0c917e9c471416g"}})", "24 hexadecimal digits"},
      {R"({"x": {"$oid": "56e1fc72e0c917e9c4714161", "y": 1}})", "unexpected key \"y\""},
      {R"({"x": {"$numberInt": "2147483648"}})", "32-bit integer"},
      {R"({"x": {"$numberInt": "+1"}})", "32-bit integer"},
      {R"({"x": {"$numberInt": "1.0"}})", "32-bit integer"},
      {R"({"x": {"$numberInt": 1}})", "must be a string"},
      {R"({"x": {"$numberLong": "9223372036854775808"}})", "64-bit integer"},
      {R"({"x": {"$numberLong": ""}})", "64-bit integer"},
      {R"({"x": {"$numberDouble": "inf"}})", "$numberDouble must be"},
      {R"({"x": {"$numberDouble": "1e400"}})", "$numberDouble must be"},
      {R"({"x": {"$numberDouble": "0x10"}})", "$numberDouble must be"},
      {R"({"x": {"$numberDecimal": "1.5x"}})", "$numberDecimal must be"},
      {R"({"x": {"$binary": {"base64": "AQI", "subType": "00"}}})", "not valid base64"},
      {R"({"x": {"$binary": {"base64": "A===", "subType": "00"}}})", "not valid base64"},
      {R"({"x": {"$binary": {"base64": "AQ!=", "subType": "00"}}})", "not valid base64"},
      {R"({"x": {"$binary": {"base64": "AQ==", "subType": "100"}}})", "hexadecimal digits"},
      {R"({"x": {"$binary": {"base64": "AQ==", "subType": "0g"}}})", "hexadecimal digits"},
      {R"({"x": {"$binary": {"base64": "AQ=="}}})", "lacks the key \"subType\""},
      {R"({"x": {"$binary": {"base64": "AQ==", "subType": "00"}, "$type": "00"}})",
       "unexpected key \"$type\""},
      {R"({"x": {"$binary": "AQ=="}})", "lacks the key \"$type\""},
      {R"({"x": {"$binary": 5}})", "$binary must be an object"},
      {R"({"x": {"$uuid": "73ffd26444b34c6990e8e7d1dfc035d4"}})", "8-4-4-4-12"},
      {R"({"x": {"$uuid": "73ffd264-44b3-4c69-90e8-e7d1dfc035dg"}})", "8-4-4-4-12"},
      {R"({"x": {"$scope": {}}})", "lacks the key \"$code\""},
      {R"({"x": {"$code": "", "$scope": []}})", "$scope must be a document, not an array"},
      {R"({"x": {"$code": "", "$scope": {"$oid": "56e1fc72e0c917e9c4714161"}}})",
       "$scope must be a document, not a type wrapper"},
      {R"({"x": {"$timestamp": {"t": 4294967296, "i": 1}}})", "from 0 to 4294967295"},
      {R"({"x": {"$timestamp": {"t": -1, "i": 1}}})", "from 0 to 4294967295"},
      {R"({"x": {"$timestamp": {"t": 1.5, "i": 1}}})", "from 0 to 4294967295"},
      {R"({"x": {"$timestamp": {"t": 1}}})", "lacks the key \"i\""},
      {R"({"x": {"$regularExpression": {"pattern": "a", "options": "", "flags": ""}}})",
       "unexpected key \"flags\""},
      {R"({"x": {"$regularExpression": "a"}})", "must be an object"},
      {R"({"x": {"$regex": "a", "$options": 1}})", "$options must be a string"},
      {R"({"x": {"$dbPointer": {"$ref": "b", "$id": "56e1fc72e0c917e9c4714161"}}})",
       "must be an {\"$oid\": ...} object"},
      {R"({"x": {"$dbPointer": {"$ref": "b"}}})", "lacks the key \"$id\""},
      {R"({"x": {"$minKey": true}})", "$minKey must be the number 1"},
      {R"({"x": {"$maxKey": 1.0}})", "$maxKey must be the number 1"},
      {R"({"x": {"$undefined": false}})", "$undefined must be true"},
      {R"({"x": {"$symbol": 1}})", "$symbol must be a string"},
      {R"({"x": {"$oid": "56e1fc72e0c917e9c4714161", "$date": "1970-01-01T00:00:00Z"}})",
       "unexpected key \"$date\""},
  };
  for (const auto& [json, message] : cases) expect_rejected(json, message);
}

TEST(ExtendedJson, JsonSyntaxErrorsGiveTheOffset) {
  for (const char* bad : {R"({"a": 1,})", R"({"a": 1} // c)", R"({"a": 1)", "", R"({"a": 01})",
                          "{\"a\": \"\xff\"}", R"({"a": 1} {"b": 2})", R"({'a': 1})", "{} x"}) {
    expect_rejected(bad, "invalid JSON at byte");
  }
  expect_rejected("42", "the top level must be an object or an array, not a number");
  expect_rejected(R"({"$numberInt": "1"})", "the top level must be a document, not a $numberInt");
  expect_rejected(R"({"$regex": "a", "$options": ""})", "not a $regex value");
}

TEST(ExtendedJson, NestingDepth) {
  auto nested = [](int depth) {
    return std::string(static_cast<std::size_t>(depth - 1), '[') + "{}" +
           std::string(static_cast<std::size_t>(depth - 1), ']');
  };
  const Document deep = parse_extended_json(nested(900));
  EXPECT_EQ(keys_of(deep), (std::vector<std::string>{"0"}));
  expect_rejected(nested(1001), "invalid JSON at byte");
}

TEST(ExtendedJson, FromJsonIsThisParser) {
  EXPECT_EQ(Document::from_json(R"({"a": {"$numberLong": "1"}})"),
            parse_extended_json(R"({"a": {"$numberLong": "1"}})"));
  const Error e = expect_error([] { (void)Document::from_json(R"({"a": {"$date": 42}})"); });
  EXPECT_EQ(e.code(), errc::invalid_bson);
}

}  // namespace
}  // namespace mongoslice::bson
