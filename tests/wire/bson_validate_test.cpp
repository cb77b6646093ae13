#include "wire/bson_validate.hpp"

#include <bson/bson.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "wire/bson.hpp"
#include "wire/error.hpp"
#include "wire/op_msg.hpp"
#include "wire/utf8.hpp"

namespace mongoslice::bson {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Writes documents byte by byte; end() closes the innermost one and fills in its length.
class Raw {
 public:
  Raw() { begin(); }
  Raw& begin() {
    starts_.push_back(bytes_.size());
    return int32(0);
  }
  Raw& end() {
    bytes_.push_back(0);
    patch(starts_.back(), static_cast<std::int32_t>(bytes_.size() - starts_.back()));
    starts_.pop_back();
    return *this;
  }
  Raw& int32(std::int32_t value) {
    for (int i = 0; i < 4; ++i)
      bytes_.push_back(static_cast<std::uint8_t>(static_cast<std::uint32_t>(value) >> (8 * i)));
    return *this;
  }
  Raw& byte(std::uint8_t value) {
    bytes_.push_back(value);
    return *this;
  }
  Raw& bytes(std::string_view raw) {
    bytes_.insert(bytes_.end(), raw.begin(), raw.end());
    return *this;
  }
  Raw& cstring(std::string_view text) { return bytes(text).byte(0); }
  Raw& key(Type type, std::string_view name) {
    return byte(static_cast<std::uint8_t>(type)).cstring(name);
  }
  // A string value: int32 length (text + NUL), text, NUL.
  Raw& string(std::string_view text) {
    return int32(static_cast<std::int32_t>(text.size() + 1)).cstring(text);
  }
  Bytes done() {
    while (!starts_.empty()) end();
    return bytes_;
  }

 private:
  void patch(std::size_t at, std::int32_t value) {
    for (int i = 0; i < 4; ++i)
      bytes_[at + i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(value) >> (8 * i));
  }
  Bytes bytes_;
  std::vector<std::size_t> starts_;
};

std::string reason_of(const Bytes& bytes) {
  ValidationError error;
  if (!validate(bytes, error)) return "valid";
  return error.reason;
}

Bytes with_string(std::string_view text) {
  return Raw().key(Type::kString, "s").string(text).done();
}

TEST(BsonValidator, AcceptsEveryType) {
  auto doc = Document::from_json(R"json({
      "double": 1.5, "string": "text", "document": {"a": {"b": [1, 2]}}, "array": [1, "x", {}],
      "binary": {"$binary": {"base64": "AAEC", "subType": "00"}},
      "undefined": {"$undefined": true}, "oid": {"$oid": "0123456789abcdef01234567"},
      "bool": true, "date": {"$date": {"$numberLong": "1"}}, "null": null,
      "regex": {"$regularExpression": {"pattern": "^a.*", "options": "i"}},
      "dbpointer": {"$dbPointer": {"$ref": "db.c", "$id": {"$oid": "0123456789abcdef01234567"}}},
      "code": {"$code": "function() {}"}, "symbol": {"$symbol": "sym"},
      "codews": {"$code": "f(x)", "$scope": {"x": 1}}, "int32": 1,
      "timestamp": {"$timestamp": {"t": 1, "i": 2}}, "int64": {"$numberLong": "5"},
      "decimal": {"$numberDecimal": "1.5"}, "max": {"$maxKey": 1}, "min": {"$minKey": 1}})json");
  ValidationError error;
  EXPECT_FALSE(validate(doc.view().bytes(), error)) << error.describe();
  EXPECT_FALSE(validate(Document().view().bytes()));
  // Old binary (subtype 2) with its inner length.
  auto old_binary = Raw().key(Type::kBinary, "b").int32(6).byte(2).int32(2).bytes("xy").done();
  EXPECT_EQ(reason_of(old_binary), "valid");
}

TEST(BsonValidator, DocumentFrame) {
  EXPECT_EQ(reason_of({}), "document shorter than 5 bytes");
  EXPECT_EQ(reason_of({4, 0, 0, 0, 0}), "document length below 5");
  EXPECT_EQ(reason_of({6, 0, 0, 0, 0}), "document length runs past the end");
  EXPECT_EQ(reason_of({5, 0, 0, 0, 1}), "document not terminated by a zero byte");
  EXPECT_EQ(reason_of({5, 0, 0, 0, 0, 0}), "bytes left after the document");
  EXPECT_EQ(reason_of({0xff, 0xff, 0xff, 0xff, 0}), "document length runs past the end");
}

TEST(BsonValidator, ElementTypesAndKeys) {
  EXPECT_EQ(reason_of(Raw().byte(0x14).cstring("x").done()), "unknown element type");
  EXPECT_EQ(reason_of(Raw().byte(0x00).byte(0x00).done()),
            "zero type byte before the end of the document");
  // A key whose NUL is the document's own terminator.
  EXPECT_EQ(reason_of(Raw().byte(0x0A).bytes("abc").done()),
            "key runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kNull, "\xc3\x28").done()), "key is not valid UTF-8");
  EXPECT_EQ(reason_of(Raw().key(Type::kNull, "caf\xc3\xa9").done()), "valid");
}

// Keys are scanned 16 and 8 bytes a step while the step ends within the document: every key
// length, as the last element (the steps meet the document's end) and before another element,
// with one bad byte at each position, and bytes with their high bit set right after the key's
// NUL (the value's, which must not count as the key's).
TEST(BsonValidator, KeysOfEveryLengthAndPosition) {
  for (std::size_t length = 0; length <= 40; ++length) {
    const std::string plain(length, 'k');
    for (bool last : {true, false}) {
      auto doc = [&](const std::string& key) {
        Raw raw;
        raw.key(Type::kInt32, key).int32(-1);  // 0xFF bytes right after the NUL
        if (!last) raw.key(Type::kString, "next").string("\xc3\xa9 and more text after it");
        return raw.done();
      };
      EXPECT_EQ(reason_of(doc(plain)), "valid") << length;
      for (std::size_t at = 0; at < length; ++at) {
        std::string bad = plain;
        bad[at] = '\xff';
        EXPECT_EQ(reason_of(doc(bad)), "key is not valid UTF-8") << length << " at " << at;
        if (at + 1 < length) {
          std::string two_bytes = plain;
          two_bytes[at] = '\xc3';
          two_bytes[at + 1] = '\xa9';
          EXPECT_EQ(reason_of(doc(two_bytes)), "valid") << length << " at " << at;
        }
      }
    }
    // No NUL before the document's terminator: the scan must stop there, not read past it.
    auto unterminated = Raw().byte(0x10).bytes(plain + "\xc3\xa9").done();
    EXPECT_EQ(reason_of(unterminated), "key runs past the end of the document") << length;
  }
}

TEST(BsonValidator, FixedSizeValuesMustFit) {
  EXPECT_EQ(reason_of(Raw().key(Type::kInt32, "i").bytes("\x01\x02\x03").done()),
            "value runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kDouble, "d").int32(0).done()),
            "value runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kDecimal128, "d").int32(0).int32(0).int32(0).done()),
            "value runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kOid, "o").int32(0).int32(0).done()),
            "value runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kBool, "b").byte(2).done()), "boolean other than 0 or 1");
  EXPECT_EQ(reason_of(Raw().key(Type::kBool, "b").done()),
            "value runs past the end of the document");
}

TEST(BsonValidator, StringLengths) {
  EXPECT_EQ(reason_of(with_string("hello")), "valid");
  EXPECT_EQ(reason_of(with_string("")), "valid");
  EXPECT_EQ(reason_of(Raw().key(Type::kString, "s").int32(0).byte(0).done()),
            "string length below 1");
  EXPECT_EQ(reason_of(Raw().key(Type::kString, "s").int32(10).cstring("abc").done()),
            "string runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kString, "s").int32(-1).cstring("abc").done()),
            "string runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kString, "s").int32(3).bytes("abc").done()),
            "string not terminated by NUL");
  EXPECT_EQ(reason_of(Raw().key(Type::kString, "s").bytes("\x01\x00").done()),
            "string length runs past the end of the document");
  // Code and symbol are strings too.
  EXPECT_EQ(reason_of(Raw().key(Type::kCode, "c").int32(3).bytes("abc").done()),
            "string not terminated by NUL");
  EXPECT_EQ(reason_of(Raw().key(Type::kSymbol, "c").string("\xff").done()),
            "string is not valid UTF-8");
}

TEST(BsonValidator, StringUtf8) {
  const std::string invalid[] = {
      "\x80",              // lone continuation byte
      "\xc0\x80",          // overlong NUL
      "\xc1\xbf",          // overlong 2-byte
      "\xe0\x80\xaf",      // overlong 3-byte
      "\xed\xa0\x80",      // UTF-16 surrogate U+D800
      "\xf0\x80\x80\xaf",  // overlong 4-byte
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xf5\x80\x80\x80",  // lead byte F5
      "\xc3",              // truncated 2-byte
      "\xe2\x82",          // truncated 3-byte
      "\xf0\x9f\x98",      // truncated 4-byte
      "\xc3\x28",          // bad continuation
      "\xff",              // never valid
  };
  const std::string valid[] = {"caf\xc3\xa9",
                               "\xe2\x82\xac",
                               "\xf0\x9f\x98\x80",
                               "\xed\x9f\xbf",
                               "\xee\x80\x80",
                               "\xf4\x8f\xbf\xbf",
                               "\x7f",
                               std::string("a\0b", 3),  // length-prefixed: a NUL is allowed
                               std::string("\0", 1),
                               std::string("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 17)};
  // Each case alone and at every position of a long ASCII string, so it falls inside, across
  // and after the 16-byte fast path.
  for (std::size_t pad = 0; pad < 40; pad += 1) {
    const std::string before(pad, 'x'), after(pad % 17, 'y');
    for (const auto& text : invalid) {
      EXPECT_EQ(reason_of(with_string(before + text + after)), "string is not valid UTF-8")
          << "pad " << pad << " case " << testing::PrintToString(text);
    }
    for (const auto& text : valid) {
      EXPECT_EQ(reason_of(with_string(before + text + after)), "valid")
          << "pad " << pad << " case " << testing::PrintToString(text);
    }
  }
}

// Strings are length-prefixed, so a NUL inside one is valid BSON (the corpus's "Embedded
// nulls"); keys and regex parts are NUL-terminated, so a NUL ends them early and what follows
// no longer parses.
TEST(BsonValidator, NulInValuesButNotInKeysOrCStrings) {
  const std::string nul_text("a\0b", 3);
  EXPECT_EQ(reason_of(with_string(nul_text)), "valid");
  EXPECT_EQ(reason_of(Raw().key(Type::kCode, "c").string(nul_text).done()), "valid");
  EXPECT_EQ(reason_of(Raw().key(Type::kSymbol, "c").string(nul_text).done()), "valid");
  auto cws = Raw().key(Type::kCodeWithScope, "c").int32(4 + 4 + 4 + 5).string(nul_text);
  EXPECT_EQ(reason_of(cws.begin().end().done()), "valid");
  // The NUL still has to be inside valid UTF-8 around it.
  EXPECT_EQ(reason_of(with_string(std::string("\xc3\0", 2))), "string is not valid UTF-8");

  // Key "a\0b" with a null value: the key reads "a", then 'b' (0x62) is taken as a type.
  EXPECT_EQ(reason_of(Raw().byte(0x0A).bytes(std::string_view("a\0b\0", 4)).done()),
            "unknown element type");
  // Regex pattern "a\0b", options "i": the pattern reads "a", the options "b", and "i" is
  // then read as a type byte.
  EXPECT_EQ(reason_of(Raw()
                          .key(Type::kRegex, "r")
                          .bytes(std::string_view("a\0b", 3))
                          .cstring("")
                          .cstring("i")
                          .done()),
            "unknown element type");
  // Options "i\0x": the stray "x" is read as a type byte, and its key runs into the
  // document's terminator.
  EXPECT_EQ(
      reason_of(
          Raw().key(Type::kRegex, "r").cstring("a").bytes(std::string_view("i\0x", 3)).done()),
      "key runs past the end of the document");
}

// What a user inserts comes back: a find reply whose document holds "a\0b" decodes (the
// cursor used to fail with "invalid BSON" and drop the connection) and reads back whole.
TEST(BsonValidator, ReplyWithNulInAStringDecodes) {
  const std::string nul_text("a\0b", 3);
  auto stored = Builder{}.append("s", nul_text).build();
  auto reply = Builder{}
                   .open_document("cursor")
                   .open_array("firstBatch")
                   .append_value(stored)
                   .close()
                   .append("id", std::int64_t{0})
                   .append("ns", "db.c")
                   .close()
                   .append("ok", 1.0)
                   .build();
  const bson::View sequence_documents[] = {stored.view()};
  const wire::DocumentSequence sequence{"documents", sequence_documents};
  Bytes message = wire::encode_op_msg(7, reply, 0, {&sequence, 1});
  message[8] = 9;  // responseTo 9
  wire::OpMsg out;
  wire::DecodeDiagnostics diagnostics;
  ASSERT_FALSE(wire::decode_op_msg(message, 9, wire::kDefaultMaxMessageSize, out, &diagnostics))
      << diagnostics.describe();
  View first = out.body()["cursor"].get_document()["firstBatch"].get_array()["0"].get_document();
  EXPECT_EQ(first["s"].get_string(), nul_text);
  ASSERT_EQ(out.sequences().size(), 1u);
  EXPECT_EQ(out.sequences()[0].documents.at(0)["s"].get_string(), nul_text);
  // And through extended JSON, where the NUL is escaped.
  EXPECT_EQ(stored.to_json(), R"({ "s" : "a\u0000b" })");
  EXPECT_EQ(Document::from_json(stored.to_json()), stored);
}

TEST(BsonValidator, NestedDocuments) {
  auto nested_overrun = Raw().key(Type::kDocument, "d").int32(100).byte(0).done();
  EXPECT_EQ(reason_of(nested_overrun), "document length runs past the end");
  // A child that takes the parent's terminator as its own.
  auto child_eats_terminator = Raw().key(Type::kDocument, "d").int32(5).done();
  EXPECT_EQ(reason_of(child_eats_terminator), "document shorter than 5 bytes");
  auto bad_inside =
      Raw().key(Type::kArray, "a").begin().key(Type::kString, "0").string("\xff").done();
  ValidationError error;
  EXPECT_EQ(validate(bad_inside, error), errc::invalid_bson);
  EXPECT_STREQ(error.reason, "string is not valid UTF-8");
  EXPECT_EQ(error.offset, bad_inside.size() - 4);  // the text, before its NUL and 2 terminators
}

TEST(BsonValidator, DepthIsBounded) {
  auto nest = [](int depth) {
    Raw raw;
    for (int i = 1; i < depth; ++i) raw.key(Type::kDocument, "d").begin();
    return raw.done();
  };
  EXPECT_EQ(reason_of(nest(kMaxBsonDepth)), "valid");
  EXPECT_EQ(reason_of(nest(kMaxBsonDepth + 1)), "documents nested too deeply");
  // Deep enough to overflow a naive recursive validator's stack.
  EXPECT_EQ(reason_of(nest(100000)), "documents nested too deeply");
}

TEST(BsonValidator, Binary) {
  EXPECT_EQ(reason_of(Raw().key(Type::kBinary, "b").int32(3).byte(0).bytes("abc").done()), "valid");
  EXPECT_EQ(reason_of(Raw().key(Type::kBinary, "b").int32(4).byte(0).bytes("abc").done()),
            "binary length runs past the end");
  EXPECT_EQ(reason_of(Raw().key(Type::kBinary, "b").int32(-1).byte(0).bytes("abc").done()),
            "binary length runs past the end");
  EXPECT_EQ(reason_of(Raw().key(Type::kBinary, "b").int32(0).done()),
            "binary runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kBinary, "b").int32(6).byte(2).int32(3).bytes("xy").done()),
            "old binary (subtype 2) with a wrong inner length");
  EXPECT_EQ(reason_of(Raw().key(Type::kBinary, "b").int32(2).byte(2).bytes("xy").done()),
            "old binary (subtype 2) with a wrong inner length");
}

TEST(BsonValidator, RegexDbPointerCodeWithScope) {
  EXPECT_EQ(reason_of(Raw().key(Type::kRegex, "r").cstring("a.*").cstring("i").done()), "valid");
  EXPECT_EQ(reason_of(Raw().key(Type::kRegex, "r").cstring("a.*").bytes("i").done()),
            "regex options run past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kRegex, "r").bytes("a.*").done()),
            "regex pattern runs past the end of the document");
  EXPECT_EQ(reason_of(Raw().key(Type::kRegex, "r").cstring("\xff").cstring("").done()),
            "regex is not valid UTF-8");

  EXPECT_EQ(reason_of(Raw().key(Type::kDbPointer, "p").string("db.c").bytes("0123456789ab").done()),
            "valid");
  EXPECT_EQ(reason_of(Raw().key(Type::kDbPointer, "p").string("db.c").bytes("0123").done()),
            "value runs past the end of the document");

  auto cws = [](std::int32_t total) {
    return Raw()
        .key(Type::kCodeWithScope, "c")
        .int32(total)
        .string("f")
        .begin()
        .key(Type::kInt32, "x")
        .int32(1)
        .end()
        .done();
  };
  // total = 4 + (4 + 2) + 12
  EXPECT_EQ(reason_of(cws(22)), "valid");
  EXPECT_EQ(reason_of(cws(21)), "document length runs past the end");
  EXPECT_EQ(reason_of(cws(13)), "code with scope shorter than 14 bytes");
  EXPECT_EQ(reason_of(cws(1000)), "code with scope runs past the end of the document");
  auto slack = Raw()
                   .key(Type::kCodeWithScope, "c")
                   .int32(20)  // 4 + 6 + 5 + 5 slack bytes
                   .string("f")
                   .begin()
                   .end()
                   .int32(0)
                   .byte(0)
                   .done();
  EXPECT_EQ(reason_of(slack), "code with scope length does not match its parts");
}

// What our validator accepts, libbson must be able to walk to the end: otherwise iterating a
// bson::View would stop early without a word. Mutate every byte of a rich document and compare.
TEST(BsonValidator, AcceptsNothingLibbsonCannotIterate) {
  auto doc = Document::from_json(R"json({"s": "héllo wörld, long enough for the fast path",
      "d": {"x": 1.5, "a": [1, {"$numberLong": "2"}, "three"]}, "b": true,
      "bin": {"$binary": {"base64": "AAEC", "subType": "00"}},
      "r": {"$regularExpression": {"pattern": "^a", "options": "i"}},
      "c": {"$code": "f(x)", "$scope": {"x": 1}}, "n": null})json");
  const Bytes original(doc.data(), doc.data() + doc.size());
  std::size_t accepted = 0;
  for (std::size_t i = 0; i < original.size(); ++i) {
    for (std::uint8_t value : {0x00, 0x01, 0x02, 0x05, 0x7f, 0x80, 0xc3, 0xff}) {
      Bytes mutated = original;
      mutated[i] = value;
      if (validate(mutated)) continue;
      ++accepted;
      bson_t b;
      ASSERT_TRUE(bson_init_static(&b, mutated.data(), mutated.size())) << "byte " << i;
      std::size_t offset = 0;
      EXPECT_TRUE(bson_validate(
          &b,
          static_cast<bson_validate_flags_t>(BSON_VALIDATE_UTF8 | BSON_VALIDATE_UTF8_ALLOW_NULL),
          &offset))
          << "byte " << i << " = " << int(value) << " accepted by us, refused by libbson at "
          << offset;
    }
  }
  EXPECT_GT(accepted, 0u);  // some mutations (inside values) stay valid
}

TEST(Utf8, DirectChecks) {
  auto check = [](std::string_view text) {
    return wire::valid_utf8_without_nul(reinterpret_cast<const std::uint8_t*>(text.data()),
                                        text.size());
  };
  EXPECT_TRUE(check(""));
  EXPECT_TRUE(check("plain ascii that is longer than sixteen bytes"));
  EXPECT_TRUE(check("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"));
  EXPECT_FALSE(check(std::string_view("sixteen bytes...\0", 17)));
  EXPECT_FALSE(check("sixteen bytes..\xed\xbf\xbf"));  // surrogate straddling the fast path

  auto check_allowing_nul = [](std::string_view text) {
    return wire::valid_utf8(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  };
  EXPECT_TRUE(check_allowing_nul(std::string_view("sixteen bytes...\0", 17)));
  EXPECT_TRUE(check_allowing_nul(std::string_view("\0\0\0\0\0\0\0\0\0", 9)));
  EXPECT_FALSE(check_allowing_nul(std::string_view("\0\xc3", 2)));
  EXPECT_FALSE(check_allowing_nul("sixteen bytes..\xed\xbf\xbf"));
}

}  // namespace
}  // namespace mongoslice::bson
